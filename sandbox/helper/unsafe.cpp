// See unsafe.h. Same phase runner and supervisor as the namespace mode; the "init" here is a plain
// forked child that is a subreaper (orphans come back to it) and kills by process group, never kill(-1).
#include "sandbox/helper/unsafe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sandbox/helper/cgroup.h"
#include "sandbox/helper/phase.h"
#include "sandbox/helper/seccomp_filter.h"
#include "sandbox/helper/supervisor.h"
#include "sandbox/helper/util.h"

namespace r1::sandbox::helper {

namespace {

// Removes the tree under dirfd/name without following symlinks; directories the program made unreadable
// are opened up first.
void remove_tree_at(int dirfd, const char* name) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    (void)fchmodat(dirfd, name, 0700, 0);
    const int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      if (DIR* dir = fdopendir(fd)) {
        while (dirent* e = readdir(dir)) {
          if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) remove_tree_at(fd, e->d_name);
        }
        closedir(dir);  // closes fd
      } else {
        close(fd);
      }
    }
    (void)unlinkat(dirfd, name, AT_REMOVEDIR);
  } else {
    (void)unlinkat(dirfd, name, 0);
  }
}

bool write_job_files(const Job& job, const std::string& dir, const Identity& owner, std::string* error) {
  for (const File& f : job.files) {
    if (!valid_job_path(f.path)) {
      *error = "invalid file path '" + f.path + "'";
      return false;
    }
    size_t pos = 0;
    while ((pos = f.path.find('/', pos)) != std::string::npos) {
      const std::string sub = dir + "/" + f.path.substr(0, pos);
      if (mkdir(sub.c_str(), 0755) == 0) (void)chown(sub.c_str(), owner.uid, owner.gid);
      ++pos;
    }
    const std::string path = dir + "/" + f.path;
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || !write_all(fd, f.content.data(), f.content.size()) || fchmod(fd, f.executable ? 0755 : 0644) != 0 ||
        (owner.switch_ids && fchown(fd, owner.uid, owner.gid) != 0)) {
      *error = "writing " + path + ": " + errno_text(errno);
      if (fd >= 0) close(fd);
      return false;
    }
    close(fd);
  }
  return true;
}

}  // namespace

Result run_rlimits_only(const Job& job) {
  Result result;
  result.isolation = kUnsafeIsolation;
  auto finish = [&](Result r) {
    r.isolation = kUnsafeIsolation;
    r.message = std::string("[UNSAFE rlimits-only sandbox] ") + r.message;
    return r;
  };
  char dir_template[] = "/tmp/r1-sandbox-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    result.status = Status::sandbox_error;
    result.message = "mkdtemp: " + errno_text(errno);
    return finish(result);
  }
  const std::string dir = dir_template;
  Identity identity;
  if (geteuid() == 0) {
    identity.switch_ids = true;
    identity.uid = 65534;
    identity.gid = 65534;
  } else {
    identity.uid = geteuid();
    identity.gid = getegid();
  }
  std::string error;
  if ((identity.switch_ids && chown(dir.c_str(), identity.uid, identity.gid) != 0) ||
      !write_job_files(job, dir, identity, &error)) {
    remove_tree_at(AT_FDCWD, dir.c_str());
    result.status = Status::sandbox_error;
    result.message = error.empty() ? "chown " + dir + ": " + errno_text(errno) : error;
    return finish(result);
  }

  int ctl[2], out[2], err[2], ack[2];  // ack: the helper acknowledges phase starts (supervisor.h)
  if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      pipe2(ack, O_CLOEXEC) != 0) {
    remove_tree_at(AT_FDCWD, dir.c_str());
    result.status = Status::sandbox_error;
    result.message = "pipe: " + errno_text(errno);
    return finish(result);
  }
  for (int fd : {ctl[0], out[0], err[0]}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  SandboxCgroup cgroup;
  (void)cgroup.create(sandbox_memory_limit(job));
  const pid_t helper_pid = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != helper_pid) _exit(1);
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    for (int fd : {ctl[0], out[0], err[0], ack[1]}) close(fd);
    std::string filter_error;
    const void* filter = build_seccomp_filter(true, &filter_error);
    if (filter == nullptr) {
      send_msg(ctl[1], make_msg(kSetupError, -1, filter_error));
      _exit(1);
    }
    install_kill_handler(false, helper_pid);
    PhaseEnv env;
    env.in_namespace = false;
    env.identity = identity;
    env.seccomp = filter;
    env.ctl_fd = ctl[1];
    env.ack_fd = ack[0];
    env.out_fd = out[1];
    env.err_fd = err[1];
    env.cgroup_procs_fd = cgroup.procs_fd();
    env.workdir = dir;
    env.env = job.env;
    run_job_phases(env, job);
  }
  for (int fd : {ctl[1], out[1], err[1], ack[0]}) close(fd);
  if (pid < 0) {
    for (int fd : {ctl[0], out[0], err[0], ack[1]}) close(fd);
    remove_tree_at(AT_FDCWD, dir.c_str());
    result.status = Status::sandbox_error;
    result.message = "fork: " + errno_text(errno);
    return finish(result);
  }
  result = supervise(job, pid, {ctl[0], out[0], err[0], ack[1]}, &cgroup);
  for (int fd : {ctl[0], out[0], err[0], ack[1]}) close(fd);
  remove_tree_at(AT_FDCWD, dir.c_str());
  return finish(result);
}

}  // namespace r1::sandbox::helper
