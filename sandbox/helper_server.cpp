// See helper_server.h: spawning a helper, and the server's start, job hand-over (one socketpair per job,
// its far end passed over the control socket with SCM_RIGHTS) and stop (to restart it).
#include "sandbox/helper_server.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace r1::sandbox::internal {

namespace {

bool send_fd(int socket_fd, int fd) {
  char byte = 'J';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  for (;;) {
    const ssize_t n = sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

pid_t spawn_helper(const std::string& helper, const std::vector<std::string>& args, int fd_for_child,
                   std::initializer_list<int> targets, std::vector<std::string> env, std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd < 3; ++fd) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  for (int target : targets) posix_spawn_file_actions_adddup2(&actions, fd_for_child, target);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = {const_cast<char*>(helper.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, helper.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *error = str_cat("cannot start the sandbox helper ", helper, ": ", std::strerror(rc));
    return -1;
  }
  return pid;
}

HelperServer& HelperServer::instance() {
  static HelperServer* server = new HelperServer;
  return *server;
}

int HelperServer::open_job(const std::string& helper, std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (control_ < 0 || helper != helper_) {
      if (!start(helper, error)) return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      *error = str_cat("socketpair: ", std::strerror(errno));
      return -1;
    }
    if (send_fd(control_, sv[1])) {
      close(sv[1]);
      return sv[0];
    }
    close(sv[0]);
    close(sv[1]);
    stop();  // the server died: start a new one and try once more
  }
  *error = "the sandbox helper server does not accept jobs";
  return -1;
}

bool HelperServer::start(const std::string& helper, std::string* error) {
  stop();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    *error = str_cat("socketpair: ", std::strerror(errno));
    return false;
  }
  pid_ = spawn_helper(helper, {"--server"}, sv[1], {3},
                      {"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin"}, error);
  close(sv[1]);
  if (pid_ < 0) {
    close(sv[0]);
    return false;
  }
  // A server that stopped reading must not block the caller: after 10 s a send fails and we restart it.
  timeval timeout{10, 0};
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  control_ = sv[0];
  helper_ = helper;
  return true;
}

void HelperServer::stop() {
  if (control_ >= 0) close(control_);
  control_ = -1;
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

}  // namespace r1::sandbox::internal
