// See helper_server.h: spawning a helper, and the server's start, job hand-over (one socketpair per job,
// its far end passed over the control socket with SCM_RIGHTS) and stop (at exit, or to restart it).
#include "sandbox/helper_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace r1::sandbox::internal {

namespace {

// How long a stopping server may take to end its workers and exit before it is killed. Normally it needs
// milliseconds (SIGKILL and reaping); only a stuck server waits this long.
constexpr std::chrono::milliseconds kStopGrace{5000};

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

// Waits at most `grace` for the peer of the connected socket `fd` to close its end (the server never
// writes on the control socket, so readiness means hang-up or EOF). False on timeout or poll error.
bool wait_for_peer_close(int fd, std::chrono::milliseconds grace) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + grace;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) return true;
    char byte;
    const ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return false;
  }
}

// Reaps our child `pid` (EINTR retried). ECHILD means somebody reaped it already (a caller that set
// SIGCHLD to SIG_IGN): nothing is left either way.
void reap(pid_t pid) {
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
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
  // A process group of its own: a signal to the caller's group (Ctrl-C at a terminal, SIGTERM from a job
  // runner) must not kill the helper, its workers and their inits under a caller that handles it (a
  // trainer finishing its step): their runs would fail, and they would be left to init.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
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

HelperServer::HelperServer() {
  // atexit fails only without memory for the entry; the server then still ends at EOF when this process
  // is gone, it is only left to init to reap.
  (void)std::atexit(&HelperServer::stop_at_exit);
}

int HelperServer::open_job(const std::string& helper, std::string* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) {
    *error = "this process is exiting; the sandbox helper server was stopped";
    return -1;
  }
  if (owner_ != getpid()) forget_inherited();
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
    stop();  // the server died or stopped reading: start a new one and try once more
  }
  *error = "the sandbox helper server does not accept jobs";
  return -1;
}

bool HelperServer::closed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

void HelperServer::stop_at_exit() {
  HelperServer& server = instance();
  // A child forked from the owner runs this too when it exits. It must not stop its parent's server, and
  // must not take the mutex either: another thread of the parent may have held it at the fork.
  if (server.owner_ != getpid()) return;
  std::lock_guard<std::mutex> lock(server.mutex_);
  server.closed_ = true;
  server.stop();
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
  owner_ = getpid();
  return true;
}

void HelperServer::stop() {
  if (pid_ > 0) {
    // EOF on its control socket makes the server end its workers, reap everything below it and exit.
    const bool told = control_ >= 0 && shutdown(control_, SHUT_WR) == 0;
    if (!told || !wait_for_peer_close(control_, kStopGrace)) kill(pid_, SIGKILL);
    reap(pid_);
  }
  if (control_ >= 0) close(control_);
  control_ = -1;
  pid_ = -1;
}

void HelperServer::forget_inherited() {
  // The descriptor is our copy of the parent's socket: closing it leaves the parent's server running.
  if (control_ >= 0) close(control_);
  control_ = -1;
  pid_ = -1;
}

}  // namespace r1::sandbox::internal
