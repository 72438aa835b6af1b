// See launcher.h.
#include "dist/launcher.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "common/error.h"

namespace r1::dist {
namespace {

std::atomic<int> g_forward_signal{0};  // the last SIGINT/SIGTERM the launcher received, not yet forwarded

void remember_signal(int sig) { g_forward_signal.store(sig); }

// The child's side of fork(): torchrun's variables, then exec. Only async-signal-safe calls until exec.
[[noreturn]] void exec_rank(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  const char msg[] = "r1 launcher: exec failed\n";
  (void)!::write(2, msg, sizeof(msg) - 1);
  ::_exit(127);
}

std::string describe(int status) {
  if (WIFEXITED(status)) return str_cat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return str_cat("was killed by signal ", WTERMSIG(status), " (", ::strsignal(WTERMSIG(status)), ")");
  return "ended";
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  R1_CHECK(fd >= 0, "launcher: socket(): ", std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  const int err = errno;
  ::close(fd);
  R1_CHECK(ok, "launcher: no free port on 127.0.0.1: ", std::strerror(err));
  return ntohs(a.sin_port);
}

LaunchResult launch_local(const std::vector<std::string>& argv, const LaunchOptions& o) {
  R1_CHECK(!argv.empty(), "launcher: no command");
  R1_CHECK(o.nproc >= 1 && o.nproc <= 1024, "--nproc-per-node must be between 1 and 1024, got ", o.nproc);
  const int port = o.master_port > 0 ? o.master_port : free_local_port();
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  ::sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  std::vector<pid_t> pids(static_cast<size_t>(o.nproc), -1);
  for (int r = 0; r < o.nproc; ++r) {
    const std::vector<std::string> env = {
        str_cat("RANK=", r), str_cat("LOCAL_RANK=", r), str_cat("WORLD_SIZE=", o.nproc),
        str_cat("LOCAL_WORLD_SIZE=", o.nproc), "MASTER_ADDR=" + o.master_addr, str_cat("MASTER_PORT=", port)};
    const pid_t pid = ::fork();
    if (pid == 0) exec_rank(argv, env);
    R1_CHECK(pid > 0, "launcher: fork() for rank ", r, ": ", std::strerror(errno));
    pids[static_cast<size_t>(r)] = pid;
  }
  std::fprintf(stderr, "r1: started %d ranks (pids", o.nproc);
  for (pid_t p : pids) std::fprintf(stderr, " %d", static_cast<int>(p));
  std::fprintf(stderr, "), store at %s:%d\n", o.master_addr.c_str(), port);

  LaunchResult result;
  int running = o.nproc;
  bool interrupted = false, stopping = false;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  auto signal_all = [&](int sig) {
    for (pid_t p : pids) {
      if (p > 0) ::kill(p, sig);
    }
  };
  while (running > 0) {
    if (const int sig = g_forward_signal.exchange(0); sig != 0) {
      interrupted = true;  // every rank checkpoints and stops, as one process does
      signal_all(sig);
    }
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      for (size_t r = 0; r < pids.size(); ++r) {
        if (pids[r] != done) continue;
        pids[r] = -1;
        --running;
        const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!failed || result.status != 0) continue;
        result.status = exit_code(status);
        if (interrupted) continue;
        result.failed_rank = static_cast<int>(r);
        result.message = str_cat("rank ", r, " ", describe(status));
        stopping = true;
        stop_deadline = std::chrono::steady_clock::now() + o.grace;
        std::fprintf(stderr, "r1: %s; stopping the other %d rank(s)\n", result.message.c_str(), running);
        signal_all(SIGTERM);
      }
      continue;
    }
    if (stopping && std::chrono::steady_clock::now() > stop_deadline) {
      std::fprintf(stderr, "r1: %d rank(s) still running %lld ms after SIGTERM: killing them\n", running,
                   static_cast<long long>(o.grace.count()));
      signal_all(SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return result;
}

}  // namespace r1::dist
