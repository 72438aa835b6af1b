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
#include <memory>
#include <thread>

#include <pthread.h>

#include "common/error.h"

extern char** environ;

namespace r1::dist {
namespace {

std::atomic<int> g_forward_signal{0};  // the last SIGINT/SIGTERM the launcher received, not yet forwarded

void remember_signal(int sig) { g_forward_signal.store(sig); }

// A rank's command line and environment, built in the parent: after fork() in a multi-threaded process the
// child may only make async-signal-safe calls, so it allocates nothing before execve.
struct RankExec {
  std::vector<std::string> args, env;  // env: this process's environment with torchrun's variables set
  std::vector<char*> argv, envp;       // null-terminated views of the above

  RankExec(const RankExec&) = delete;  // argv / envp point into args / env
  RankExec& operator=(const RankExec&) = delete;
  RankExec(const std::vector<std::string>& command, const std::vector<std::string>& overrides) : args(command) {
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      const std::string key = kv.substr(0, kv.find('='));
      bool overridden = false;
      for (const auto& o : overrides) overridden = overridden || o.compare(0, key.size() + 1, key + "=") == 0;
      if (!overridden) env.push_back(kv);
    }
    env.insert(env.end(), overrides.begin(), overrides.end());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// The child's side of fork(): default signal handling back, then exec. Async-signal-safe calls only.
[[noreturn]] void exec_rank(const RankExec& r, const sigset_t& unblock) {
  // A process group of its own: a terminal's Ctrl-C (sent to the foreground group) reaches the launcher alone,
  // which forwards it to each rank once — a rank that saw it twice would take the second as "stop at once".
  ::setpgid(0, 0);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &unblock, nullptr);
  ::execve(r.argv[0], r.argv.data(), r.envp.data());
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
  R1_CHECK(o.nproc >= 1 && o.nproc <= 1024, "launcher: the number of ranks must be between 1 and 1024, got ", o.nproc);
  const int port = o.master_port > 0 ? o.master_port : free_local_port();
  std::vector<std::unique_ptr<RankExec>> execs;
  for (int r = 0; r < o.nproc; ++r) {
    execs.push_back(std::make_unique<RankExec>(argv, std::vector<std::string>{
        str_cat("RANK=", r), str_cat("LOCAL_RANK=", r), str_cat("WORLD_SIZE=", o.nproc),
        str_cat("LOCAL_WORLD_SIZE=", o.nproc), "MASTER_ADDR=" + o.master_addr, str_cat("MASTER_PORT=", port)}));
  }

  // SIGINT/SIGTERM are remembered and forwarded; they are blocked around fork() so that no child runs the
  // launcher's handler before its exec.
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  ::sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  sigset_t stop_signals, old_mask;
  ::sigemptyset(&stop_signals);
  ::sigaddset(&stop_signals, SIGINT);
  ::sigaddset(&stop_signals, SIGTERM);

  std::vector<pid_t> pids(static_cast<size_t>(o.nproc), -1);
  auto signal_all = [&](int sig) {
    for (pid_t p : pids) {
      if (p > 0) ::kill(p, sig);
    }
  };
  auto restore_handlers = [&] {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
  };
  for (int r = 0; r < o.nproc; ++r) {
    ::pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
    const pid_t pid = ::fork();
    if (pid == 0) exec_rank(*execs[static_cast<size_t>(r)], old_mask);
    const int fork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (pid < 0) {  // no rank is left behind: the started ones are killed and reaped
      signal_all(SIGKILL);
      for (pid_t p : pids) {
        if (p > 0) ::waitpid(p, nullptr, 0);
      }
      restore_handlers();
      throw Error(str_cat("launcher: fork() for rank ", r, ": ", std::strerror(fork_errno)));
    }
    pids[static_cast<size_t>(r)] = pid;
  }
  std::fprintf(stderr, "r1: started %d ranks (pids", o.nproc);
  for (pid_t p : pids) std::fprintf(stderr, " %d", static_cast<int>(p));
  std::fprintf(stderr, "), store at %s:%d\n", o.master_addr.c_str(), port);

  LaunchResult result;
  int running = o.nproc;
  bool interrupted = false, stopping = false;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    if (const int sig = g_forward_signal.exchange(0); sig != 0) {
      interrupted = true;  // every rank checkpoints and stops, as one process does
      signal_all(sig);
    }
    for (size_t r = 0; r < pids.size(); ++r) {
      if (pids[r] <= 0) continue;
      int status = 0;
      const pid_t done = ::waitpid(pids[r], &status, WNOHANG);
      if (done == 0 || (done < 0 && errno == EINTR)) continue;
      if (done < 0) status = 0x7f00;  // reaped elsewhere (ECHILD): counted as exit status 127
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
    if (stopping && std::chrono::steady_clock::now() > stop_deadline) {
      std::fprintf(stderr, "r1: %d rank(s) still running %lld ms after SIGTERM: killing them\n", running,
                   static_cast<long long>(o.grace.count()));
      signal_all(SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  restore_handlers();
  return result;
}

}  // namespace r1::dist
