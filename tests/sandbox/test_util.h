// Helpers shared by the sandbox tests: run a program in one call, and look at the host from outside the
// sandbox (processes by a marker in their command line, our mounts, our temp dirs).
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace r1::sandbox::testing {

inline Result run_program(const std::string& language, const std::string& source, Limits limits = {},
                          std::vector<std::string> inputs = {}, std::vector<std::string> args = {}) {
  Request r;
  r.language = language;
  r.source = source;
  r.limits = limits;
  r.inputs = std::move(inputs);
  r.args = std::move(args);
  return run(r);
}

inline Limits quick_limits(double wall_s = 5.0) {
  Limits l;
  l.wall_time_s = wall_s;
  l.cpu_time_s = wall_s;
  return l;
}

// A token unique to this test process and call, for markers and file names.
inline std::string unique_token(const std::string& prefix) {
  static std::mt19937_64 rng(std::random_device{}());
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(rng() % 1000000000ULL);
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Host processes whose command line contains `marker`.
inline std::vector<int> host_processes_with(const std::string& marker) {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text("/proc/" + name + "/cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(marker) != std::string::npos && std::stoi(name) != getpid()) pids.push_back(std::stoi(name));
  }
  closedir(proc);
  return pids;
}

// Lines of the host's mount table that came from a sandbox (its tmpfs mounts are named "r1-sandbox").
inline int host_sandbox_mounts() {
  std::istringstream in(read_text("/proc/self/mountinfo"));
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find("r1-sandbox") != std::string::npos;
  return n;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace r1::sandbox::testing
