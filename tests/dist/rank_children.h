// Tests on real processes over loopback: a test binary starts itself once per rank, each child running one
// DistRank.<role> test (told so by R1_DIST_ROLE) with torchrun's environment; the parent waits for them.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "dist/launcher.h"

namespace r1::dist {

// Starts this test binary as rank `rank` of `world` running the DistRank test `role`; returns its pid.
inline pid_t start_rank(const std::string& role, int rank, int world, int port) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("R1_DIST_ROLE", role.c_str(), 1);
    ::setenv("RANK", std::to_string(rank).c_str(), 1);
    ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
    ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
    ::setenv("MASTER_ADDR", "127.0.0.1", 1);
    ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    const std::string filter = "--gtest_filter=DistRank." + role;
    ::execl("/proc/self/exe", "world_test", filter.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits for every pid (at most `limit` in all); returns each one's exit status (-1: killed by a signal or
// still running at the limit, then killed).
inline std::vector<int> wait_all(const std::vector<pid_t>& pids, std::chrono::seconds limit) {
  std::vector<int> codes(pids.size(), -2);
  const auto end = std::chrono::steady_clock::now() + limit;
  size_t left = pids.size();
  while (left > 0 && std::chrono::steady_clock::now() < end) {
    for (size_t i = 0; i < pids.size(); ++i) {
      if (codes[i] != -2) continue;
      int status = 0;
      if (::waitpid(pids[i], &status, WNOHANG) == pids[i]) {
        codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        --left;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (size_t i = 0; i < pids.size(); ++i) {
    if (codes[i] != -2) continue;
    ::kill(pids[i], SIGKILL);
    ::waitpid(pids[i], nullptr, 0);
    codes[i] = -1;
  }
  return codes;
}

inline bool in_rank_child() { return std::getenv("R1_DIST_ROLE") != nullptr; }

// Runs the DistRank test `role` as both ranks of a 2-rank job on `port` and waits (at most `limit`); each
// rank's exit status, {0, 0} when both passed.
inline std::vector<int> run_two_ranks(const std::string& role, int port, std::chrono::seconds limit) {
  return wait_all({start_rank(role, 0, 2, port), start_rank(role, 1, 2, port)}, limit);
}

}  // namespace r1::dist
