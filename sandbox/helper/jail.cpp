// See jail.h. The helper clones init with every namespace flag at once (the new user namespace owns the
// others), writes init's uid/gid maps from outside (only the parent namespace may), and releases init
// through the "go" pipe with the mapping mode as the byte it sends. Init then talks to the helper over
// the ctl pipe (messages) and the ack pipe (acknowledgements of phase starts; supervisor.h).
#include "sandbox/helper/jail.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sandbox/helper/cgroup.h"
#include "sandbox/helper/phase.h"
#include "sandbox/helper/root_fs.h"
#include "sandbox/helper/seccomp_filter.h"
#include "sandbox/helper/supervisor.h"
#include "sandbox/helper/util.h"

namespace r1::sandbox::helper {

namespace {

constexpr int kNamespaceFlags =
    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
constexpr size_t kInitStackBytes = 1 << 20;
constexpr char kModeDedicatedIds = 'D';  // root helper: init and program get their own host ids
constexpr char kModeSelfMap = 'S';       // only the helper's own id is mapped (to 0 inside)

struct InitArgs {
  const Job* job;
  int go_read, ctl_write, out_write, err_write, ack_read;
  int cgroup_procs;
  int close_in_child[5];  // the helper's ends of the pipes
};

bool write_proc(pid_t pid, const char* file, const std::string& text) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  close(fd);
  errno = err;
  return ok;
}

// Writes init's id maps; returns the mode byte, or 0 with *error set.
char map_ids(pid_t pid, std::string* error) {
  if (geteuid() == 0) {
    const std::string map = "0 " + std::to_string(kHostIdInit) + " 1\n" + std::to_string(kInsideIdProgram) + " " +
                            std::to_string(kHostIdProgram) + " 1\n";
    if (write_proc(pid, "uid_map", map)) {
      if (write_proc(pid, "gid_map", map)) return kModeDedicatedIds;
      *error = "writing gid_map: " + errno_text(errno);
      return 0;
    }
    // Root of a rootless container: those host ids are not ours to map. Fall back to the self map.
  }
  const std::string uid_map = "0 " + std::to_string(geteuid()) + " 1\n";
  const std::string gid_map = "0 " + std::to_string(getegid()) + " 1\n";
  if (!write_proc(pid, "setgroups", "deny") && errno != ENOENT) {
    *error = "writing setgroups: " + errno_text(errno);
    return 0;
  }
  if (!write_proc(pid, "uid_map", uid_map)) {
    *error = "writing uid_map: " + errno_text(errno);
    return 0;
  }
  if (!write_proc(pid, "gid_map", gid_map)) {
    *error = "writing gid_map: " + errno_text(errno);
    return 0;
  }
  return kModeSelfMap;
}

[[noreturn]] void init_fail(int ctl, const std::string& what) {
  send_msg(ctl, make_msg(kSetupError, -1, what));
  _exit(1);
}

int init_main(void* raw) {
  const InitArgs& a = *static_cast<const InitArgs*>(raw);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  for (int fd : a.close_in_child) close(fd);
  char mode = 0;
  ssize_t got;
  do {
    got = read(a.go_read, &mode, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1) _exit(1);  // the helper gave up (or died) before releasing us
  close(a.go_read);
  // The helper's stdin/stdout are its socket to the caller: nothing in here may keep them.
  const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) {
    if (devnull >= 0) dup2(devnull, fd);
  }
  if (devnull > 2) close(devnull);

  const int ctl = a.ctl_write;
  if (mode == kModeDedicatedIds && setgroups(0, nullptr) != 0) init_fail(ctl, "setgroups: " + errno_text(errno));
  if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) init_fail(ctl, "becoming root of the user namespace: " + errno_text(errno));
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // no /proc here anyway, but keep init's memory unreadable
  (void)sethostname("sandbox", 7);

  Identity program;
  if (mode == kModeDedicatedIds) {
    program.switch_ids = true;
    program.uid = kInsideIdProgram;
    program.gid = kInsideIdProgram;
  }
  const Job& job = *a.job;
  const std::string fs_error = build_root_fs(job, program);
  if (!fs_error.empty()) init_fail(ctl, fs_error);

  std::string filter_error;
  const void* filter = build_seccomp_filter(false, &filter_error);
  if (filter == nullptr) init_fail(ctl, filter_error);
  install_kill_handler(true, 0);

  PhaseEnv env;
  env.in_namespace = true;
  env.identity = program;
  env.seccomp = filter;
  env.ctl_fd = ctl;
  env.ack_fd = a.ack_read;
  env.out_fd = a.out_write;
  env.err_fd = a.err_write;
  env.cgroup_procs_fd = a.cgroup_procs;
  env.workdir = "/work";
  env.env = job.env;
  run_job_phases(env, job);
}

Result sandbox_error(const std::string& message) {
  Result r;
  r.status = Status::sandbox_error;
  r.message = message;
  r.isolation = "namespaces";
  return r;
}

}  // namespace

Result run_in_namespaces(const Job& job) {
  int go[2], ctl[2], out[2], err[2], ack[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(ctl, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
      pipe2(err, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0) {
    return sandbox_error("pipe: " + errno_text(errno));
  }
  for (int fd : {ctl[0], out[0], err[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  SandboxCgroup cgroup;  // removed when this function returns, after init was reaped
  (void)cgroup.create(sandbox_memory_limit(job));
  InitArgs args{&job, go[0], ctl[1], out[1], err[1], ack[0], cgroup.procs_fd(),
                {go[1], ctl[0], out[0], err[0], ack[1]}};

  void* stack = mmap(nullptr, kInitStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return sandbox_error("mmap: " + errno_text(errno));
  const pid_t pid = clone(init_main, static_cast<char*>(stack) + kInitStackBytes, kNamespaceFlags | SIGCHLD, &args);
  const int clone_errno = errno;
  munmap(stack, kInitStackBytes);  // the child has its own copy of the mapping
  for (int fd : {go[0], ctl[1], out[1], err[1], ack[0]}) close(fd);
  if (pid < 0) {
    for (int fd : {go[1], ctl[0], out[0], err[0], ack[1]}) close(fd);
    return sandbox_error(
        "this host does not allow the Linux namespaces the sandbox needs (clone with new user, PID, mount, "
        "network, IPC, UTS and cgroup namespaces failed: " +
        errno_text(clone_errno) +
        "). Untrusted code is not run without them. Enable unprivileged user namespaces "
        "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0, or a container "
        "seccomp/AppArmor profile that allows clone(CLONE_NEWUSER)), or opt in to the UNSAFE rlimits-only "
        "mode (Isolation::rlimits_only, `--unsafe-rlimits-only`).");
  }
  std::string map_error;
  const char mode = map_ids(pid, &map_error);
  if (mode == 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    for (int fd : {go[1], ctl[0], out[0], err[0], ack[1]}) close(fd);
    return sandbox_error("user namespace id mapping failed: " + map_error);
  }
  (void)write_all(go[1], &mode, 1);
  close(go[1]);
  Result result = supervise(job, pid, {ctl[0], out[0], err[0], ack[1]}, &cgroup);
  for (int fd : {ctl[0], out[0], err[0], ack[1]}) close(fd);
  result.isolation = cgroup.active() ? "namespaces, memory cgroup" : "namespaces";
  return result;
}

}  // namespace r1::sandbox::helper
