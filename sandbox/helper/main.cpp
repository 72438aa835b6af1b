// r1-sandbox-helper: the process between the r1 library and a sandboxed program (see sandbox/sandbox.h).
//
//   r1-sandbox-helper PARENT_PID    one job: the Job on stdin, the worker pid (u32) and the Result on
//                                   stdout; dies with the thread that spawned it (PDEATHSIG, checked
//                                   against PARENT_PID for the race where the parent is already gone)
//   r1-sandbox-helper --server      a server: receives one socket per job over fd 3 (SCM_RIGHTS) and
//                                   forks a worker per job that speaks the same protocol on that socket.
//                                   It initialises the Python zygote first (python_zygote.h), so its
//                                   workers run Python programs in a warm interpreter. When fd 3 reaches
//                                   EOF (the library stops it, or its process is gone) it kills its
//                                   workers, reaps everything below it and exits.
//
// Reaping (docs/sandbox.md, "Process lifetime"): the server's finished workers are reaped by the kernel
// (SA_NOCLDWAIT), so no zombie waits for the next job; the server is a child subreaper, so what a killed
// worker leaves (its init, which dies by PDEATHSIG) comes back to it rather than to init. The process that
// started the server reaps the server.
//
// Either way nothing but the protocol is ever written to the caller's socket, so the library can tell
// "the sandbox reported X" from "the helper crashed".
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#include "sandbox/helper/cgroup.h"
#include "sandbox/helper/jail.h"
#include "sandbox/helper/python_zygote.h"
#include "sandbox/helper/seccomp_filter.h"
#include "sandbox/helper/unsafe.h"
#include "sandbox/helper/util.h"
#include "sandbox/wire.h"

namespace {

using namespace r1::sandbox;

// Reads one job from in_fd, runs it, writes the pid header and the result to out_fd.
int serve_job(int in_fd, int out_fd) {
  const uint32_t pid = static_cast<uint32_t>(getpid());
  if (!helper::write_all(out_fd, &pid, sizeof pid)) return 1;
  Result result;
  try {
    std::string input;
    if (!helper::read_all(in_fd, &input)) throw std::runtime_error("reading the job: " + helper::errno_text(errno));
    const Job job = decode_job(input);
    helper::scrub_bytes(input);  // the only other copy of the secret and the inputs is the job itself
    input.clear();
    input.shrink_to_fit();
    result = job.isolation == Isolation::namespaces ? helper::run_in_namespaces(job) : helper::run_rlimits_only(job);
  } catch (const std::exception& e) {
    result = Result();
    result.status = Status::sandbox_error;
    result.message = std::string("sandbox helper: ") + e.what();
  }
  const std::string encoded = encode_result(result);
  return helper::write_all(out_fd, encoded.data(), encoded.size()) ? 0 : 1;
}

int receive_fd(int socket_fd) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  for (;;) {
    const ssize_t n = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    break;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  return -2;  // a message without a descriptor: ignore it
}

// Ends every worker, and whatever came back to us from below, and reaps them all before exiting, so that
// nothing of ours is left to init. Automatic reaping stops first: from then on a child that exits stays a
// zombie until we wait for it, so a pid we listed and kill cannot have been reused by another process.
[[noreturn]] void shut_down_server() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  const bool pids_stay_ours = sigaction(SIGCHLD, &dfl, nullptr) == 0;  // else only wait for them to end
  for (;;) {
    if (pids_stay_ours) {
      for (const pid_t child : helper::child_pids()) kill(child, SIGKILL);
    }
    // A child hands its own children to us (their subreaper) before it can be waited for, so the listing
    // after each reaped child includes them.
    if (waitpid(-1, nullptr, 0) < 0 && errno != EINTR) break;  // ECHILD: nothing is left
  }
  _exit(0);
}

int server_main() {
  constexpr int kControl = 3;
  helper::close_fds_from(kControl + 1);
  const int devnull = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) dup2(devnull, fd);
  if (devnull > 2) close(devnull);
  signal(SIGPIPE, SIG_IGN);
  std::string error;
  if (helper::python_zygote_built() && !helper::python_zygote_init(&error)) {
    std::fprintf(stderr, "r1-sandbox-helper: %s; Python runs by exec\n", error.c_str());
  }
  helper::remove_stale_cgroups();
  for (bool rlimits_only : {false, true}) {  // compiled once here, inherited by every worker
    if (helper::build_seccomp_filter(rlimits_only, &error) == nullptr) {
      std::fprintf(stderr, "r1-sandbox-helper: %s\n", error.c_str());
    }
  }
  struct sigaction reap {};
  reap.sa_handler = SIG_IGN;
  reap.sa_flags = SA_NOCLDWAIT;  // workers are reaped by the kernel
  // Without either, zombies or orphans would be left to init: refuse to serve (the library then reports
  // its runs as sandbox errors) rather than leak.
  if (sigaction(SIGCHLD, &reap, nullptr) != 0) {
    std::fprintf(stderr, "r1-sandbox-helper: sigaction(SIGCHLD): %s\n", helper::errno_text(errno).c_str());
    return 1;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    std::fprintf(stderr, "r1-sandbox-helper: PR_SET_CHILD_SUBREAPER: %s\n", helper::errno_text(errno).c_str());
    return 1;
  }
  const pid_t server = getpid();
  for (;;) {
    const int job = receive_fd(kControl);
    if (job == -1) shut_down_server();  // EOF: the library stops us, or is gone
    if (job < 0) continue;
    const pid_t pid = fork();
    if (pid == 0) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      sigaction(SIGCHLD, &dfl, nullptr);  // the worker waits for its own children
      (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (getppid() != server) _exit(1);
      close(kControl);
      _exit(serve_job(job, job));
    }
    close(job);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--server") return server_main();
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PARENT_PID | --server (started by the r1 sandbox library)\n", argv[0]);
    return 2;
  }
  const long parent = std::strtol(argv[1], nullptr, 10);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != parent) return 3;
  helper::close_fds_from(3);
  signal(SIGPIPE, SIG_IGN);
  helper::remove_stale_cgroups();
  return serve_job(0, 1);
}
