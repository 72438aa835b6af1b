// Starting helper processes from the library, and the per-process helper *server* with its lifetime: the
// caller's half of "who reaps whom" (docs/sandbox.md, "Process lifetime"). Internal to sandbox/: run()
// in sandbox.cpp is the only user.
//
// The server (`r1-sandbox-helper --server`) is started on first use and kept: each job reaches it as one
// socket passed over the control socket, and it forks a worker per job. This process reaps the server, and
// only this process: a forked child that inherited the server's state forgets it and starts its own.
// The server is stopped at exit (an atexit handler; also when the helper path changes, or when it stopped
// accepting jobs): shutdown(SHUT_WR) on the control socket tells it to end its workers and reap everything
// below it; we wait, within kStopGrace (5 s), for its end of the socket to close, then reap it (SIGKILL first
// if it did not finish in time). shutdown() rather than close() because a process forked from ours holds
// a copy of the descriptor, and a close would not reach the server while that copy is open.
//
// Not covered: a caller that ends without exit() (killed by a signal, _exit, quick_exit) cannot reap;
// its server then sees EOF, ends its workers and exits on its own, and init reaps it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

namespace r1::sandbox::internal {

// Spawns `helper ARGS` in a new process group with an empty environment (plus `env`), `fd_for_child` as the
// descriptors listed in `targets`, and /dev/null elsewhere on 0-2. Returns the pid (the caller must reap
// it) or -1 with *error.
pid_t spawn_helper(const std::string& helper, const std::vector<std::string>& args, int fd_for_child,
                   std::initializer_list<int> targets, std::vector<std::string> env, std::string* error);

class HelperServer {
 public:
  // The server of this process; never destroyed (runs on pool threads may outlive static destructors).
  static HelperServer& instance();

  // A socket connected to a fresh worker, or -1 when no server can be used (then *error says why).
  int open_job(const std::string& helper, std::string* error);

  // True once the server was stopped for good because this process is exiting: a run must then not
  // start a helper of its own, which nobody would reap.
  bool closed();

 private:
  HelperServer();
  static void stop_at_exit();
  bool start(const std::string& helper, std::string* error);
  void stop();
  void forget_inherited();

  std::mutex mutex_;
  std::string helper_;
  std::atomic<pid_t> owner_{-1};  // the process that started the server, which alone may stop and reap it
  pid_t pid_ = -1;
  int control_ = -1;
  bool closed_ = false;
};

}  // namespace r1::sandbox::internal
