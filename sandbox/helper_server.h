// Starting helper processes from the library, and the per-process helper *server*. Internal to
// sandbox/: run() in sandbox.cpp is the only user.
//
// The long-lived `helper --server` of this process (one per process, started on first use). Jobs reach
// it as one socket each, passed over the control socket; it forks a worker per job. When this process
// dies the control socket closes and the server and its workers go with it. Set R1_SANDBOX_SERVER=0 to
// spawn one helper per run instead.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

namespace r1::sandbox::internal {

// Spawns `helper ARGS` with an empty environment (plus `env`), `fd_for_child` as the descriptors listed in
// `targets`, and /dev/null elsewhere on 0-2. Returns the pid or -1 with *error.
pid_t spawn_helper(const std::string& helper, const std::vector<std::string>& args, int fd_for_child,
                   std::initializer_list<int> targets, std::vector<std::string> env, std::string* error);

class HelperServer {
 public:
  static HelperServer& instance();  // lives until exit; its socket closes with the process

  // A socket connected to a fresh worker, or -1 when no server can be used (then *error says why).
  int open_job(const std::string& helper, std::string* error);

 private:
  bool start(const std::string& helper, std::string* error);
  void stop();

  std::mutex mutex_;
  std::string helper_;
  pid_t pid_ = -1;
  int control_ = -1;
};

}  // namespace r1::sandbox::internal
