// See phase.h. Everything between fork() and execve() in exec_child runs in a copy of a single-threaded
// process, so ordinary library calls are allowed there; they are still kept to plain syscalls.
#include "sandbox/helper/phase.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "sandbox/helper/cgroup.h"
#include "sandbox/helper/python_zygote.h"
#include "sandbox/helper/seccomp_filter.h"

namespace r1::sandbox::helper {

namespace {

volatile sig_atomic_t g_phase = -1;
volatile sig_atomic_t g_kill_requested = 0;
volatile pid_t g_group = 0;  // rlimits-only: the program's process group
bool g_in_namespace = true;
pid_t g_helper_pid = 0;

void kill_everything() {
  if (g_in_namespace) {
    kill(-1, SIGKILL);  // pid 1 of our own PID namespace: every other process of the sandbox
  } else if (g_group > 0) {
    kill(-g_group, SIGKILL);
  }
}

void on_kill_request(int, siginfo_t* info, void*) {
  if (info->si_code != SI_QUEUE) return;
  if (info->si_pid != 0 && info->si_pid != g_helper_pid) return;
  if (info->si_value.sival_int != g_phase) return;
  g_kill_requested = 1;
  kill_everything();
}

enum Step { kStepSignals = 1, kStepFds, kStepChdir, kStepRlimit, kStepCaps, kStepIds, kStepSeccomp, kStepExec, kStepCgroup };

const char* step_name(int step) {
  switch (step) {
    case kStepSignals: return "signal setup";
    case kStepFds: return "descriptor setup";
    case kStepChdir: return "chdir to the work dir";
    case kStepRlimit: return "setrlimit";
    case kStepCaps: return "dropping capabilities";
    case kStepIds: return "switching to the sandbox user";
    case kStepSeccomp: return "loading the seccomp filter";
    case kStepExec: return "execve";
    case kStepCgroup: return "joining the memory cgroup";
    default: return "setup";
  }
}

// A sealed, read-only in-memory file holding `data` (stdin or fd 3): no pipe to keep fed, no path.
int make_input_fd(const std::string& data) {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "r1-input", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd < 0) return -1;
  if (!write_all(fd, data.data(), data.size()) || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return -1;
  }
  (void)fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  return fd;
}

bool set_limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit rl{soft, hard};
  return setrlimit(resource, &rl) == 0;
}

bool set_rlimits(const Limits& limits) {
  const rlim_t cpu = static_cast<rlim_t>(std::max(1.0, std::ceil(limits.cpu_time_s)));
  const rlim_t mem = static_cast<rlim_t>(std::max<int64_t>(limits.memory_bytes, 16 << 20));
  const rlim_t stack = std::min<rlim_t>(mem, static_cast<rlim_t>(std::max<int64_t>(limits.stack_bytes, 1 << 20)));
  const rlim_t nproc = static_cast<rlim_t>(std::max<int64_t>(limits.max_processes, 1));
  const rlim_t fsize = static_cast<rlim_t>(std::max<int64_t>(limits.max_file_bytes, 0));
  const rlim_t nofile = static_cast<rlim_t>(std::max<int64_t>(limits.max_open_files, 8));
  return set_limit(RLIMIT_CPU, cpu, cpu + 1) && set_limit(RLIMIT_AS, mem, mem) &&
         set_limit(RLIMIT_STACK, stack, stack) && set_limit(RLIMIT_NPROC, nproc, nproc) &&
         set_limit(RLIMIT_FSIZE, fsize, fsize) && set_limit(RLIMIT_NOFILE, nofile, nofile) &&
         set_limit(RLIMIT_CORE, 0, 0) && set_limit(RLIMIT_MEMLOCK, 0, 0) && set_limit(RLIMIT_MSGQUEUE, 0, 0) &&
         set_limit(RLIMIT_RTPRIO, 0, 0) && set_limit(RLIMIT_NICE, 0, 0);
}

// Empties every capability set for good. With privileges in the sandbox's user namespace all steps must
// succeed; an unprivileged rlimits-only run has nothing to drop and may skip the privileged ones.
bool drop_capabilities(bool must_succeed) {
  bool ok = true;
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) ok = false;
  }
  const unsigned long bits = SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
                             SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                             SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) ok = false;
  (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  return ok || !must_succeed;
}

bool clear_capability_sets() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  return syscall(SYS_capset, &header, data) == 0;
}

[[noreturn]] void exec_child(const PhaseEnv& env, const Limits& limits, char* const* argv, char* const* envp,
                             int in_fd, int fd3, int report_fd) {
  auto fail = [&](int step) {
    const int info[2] = {step, errno};
    (void)write_all(report_fd, info, sizeof info);
    _exit(127);
  };
  // Dispositions and the mask survive execve: the program must start with the defaults. An in-process
  // Python keeps the interpreter's own (its SIGINT handler; SIGPIPE and SIGXFSZ ignored), as a fresh
  // python3 would have set them.
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(kStepSignals);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (env.python_in_process && sig == SIGINT) continue;
    if (env.python_in_process && (sig == SIGPIPE || sig == SIGXFSZ)) {
      signal(sig, SIG_IGN);
    } else {
      signal(sig, SIG_DFL);
    }
  }
  (void)setpgid(0, 0);
  if (!join_cgroup(env.cgroup_procs_fd)) fail(kStepCgroup);

  // Lift the four descriptors above everything we will dup onto, then place them.
  const int sources[4] = {in_fd, env.out_fd, env.err_fd, fd3};
  int lifted[4] = {-1, -1, -1, -1};
  report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 64);
  if (report_fd < 0) _exit(127);
  for (int i = 0; i < 4; ++i) {
    if (sources[i] < 0) continue;
    lifted[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 64);
    if (lifted[i] < 0) fail(kStepFds);
  }
  for (int i = 0; i < 4; ++i) {
    if (lifted[i] >= 0 && dup2(lifted[i], i) != i) fail(kStepFds);
  }
  const int first_free = fd3 >= 0 ? 4 : 3;
  // Close everything except the report pipe (close-on-exec, so it vanishes at execve).
  if (syscall(SYS_close_range, static_cast<unsigned>(first_free), static_cast<unsigned>(report_fd - 1), 0U) != 0 ||
      syscall(SYS_close_range, static_cast<unsigned>(report_fd + 1), ~0U, 0U) != 0) {
    for (int fd = first_free; fd < 4096; ++fd) {
      if (fd != report_fd) close(fd);
    }
  }

  if (chdir(env.workdir.c_str()) != 0) fail(kStepChdir);
  if (!set_rlimits(limits)) fail(kStepRlimit);
  const bool privileged = env.in_namespace || geteuid() == 0;
  if (!drop_capabilities(privileged)) fail(kStepCaps);
  if (env.identity.switch_ids) {
    if (setgroups(0, nullptr) != 0) fail(kStepIds);
    if (setresgid(env.identity.gid, env.identity.gid, env.identity.gid) != 0) fail(kStepIds);
    if (setresuid(env.identity.uid, env.identity.uid, env.identity.uid) != 0) fail(kStepIds);
  }
  if (!clear_capability_sets()) fail(kStepCaps);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // after the uid switch, which clears it
  const int rc = load_seccomp_filter(env.seccomp);
  if (rc != 0) {
    errno = -rc;
    fail(kStepSeccomp);
  }
  if (env.scrub) env.scrub();
  if (env.python_in_process) {
    // No execve will close the report pipe: close it now (init reads EOF = "started"), or the program
    // could write a fake setup failure into it.
    close(report_fd);
    (void)prctl(PR_SET_NAME, "python3", 0, 0, 0);
    python_zygote_run(argv, envp);  // does not return
  }
  execve(argv[0], argv, envp);
  fail(kStepExec);
  _exit(127);
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int64_t micros(const timeval& tv) { return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec; }

// Tells the helper that `phase` starts and waits for its acknowledgement, after which the helper credits
// the output pipes to this phase; the previous phase's bytes were all read before (they were in the
// pipes when its kPhaseEnd was sent, and the helper drains them when it reads that message). Without
// the acknowledgement nothing more can run correctly: leave, and let the helper report what it saw.
void start_phase(const PhaseEnv& env, int phase) {
  send_msg(env.ctl_fd, make_msg(kPhaseStart, phase));
  if (!wait_for_ack(env.ack_fd, phase)) _exit(1);
}

}  // namespace

void scrub_job(const Job& job) {
  scrub_bytes(job.fd3_data);
  for (const std::string& input : job.inputs) scrub_bytes(input);
  for (const File& f : job.files) scrub_bytes(f.content);
}

void install_kill_handler(bool in_namespace, pid_t helper_pid) {
  g_in_namespace = in_namespace;
  g_helper_pid = helper_pid;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_kill_request;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
}

bool phase_succeeded(const Msg& end) {
  return end.exec_errno == 0 && WIFEXITED(end.wait_status) && WEXITSTATUS(end.wait_status) == 0;
}

Msg run_phase(const PhaseEnv& env, int phase, const std::vector<std::string>& argv, const Limits& limits,
              const std::string& stdin_data, const std::string& fd3_data) {
  Msg end = make_msg(kPhaseEnd, phase);
  const int in_fd = make_input_fd(stdin_data);
  const int fd3 = fd3_data.empty() ? -1 : make_input_fd(fd3_data);
  int report[2];
  if (in_fd < 0 || (!fd3_data.empty() && fd3 < 0) || pipe2(report, O_CLOEXEC) != 0) {
    const int error = errno;
    start_phase(env, phase);
    end.exec_errno = error ? error : EIO;
    std::snprintf(end.text, sizeof end.text, "could not prepare stdin: %s", std::strerror(end.exec_errno));
    send_msg(env.ctl_fd, end);
    return end;
  }
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_envp = c_strings(env.env);

  g_kill_requested = 0;
  g_group = 0;
  g_phase = phase;  // before the start: a kill request may come as soon as the helper saw it
  start_phase(env, phase);
  const pid_t pid = fork();
  if (pid == 0) exec_child(env, limits, c_argv.data(), c_envp.data(), in_fd, fd3, report[1]);
  close(report[1]);
  close(in_fd);
  if (fd3 >= 0) close(fd3);
  if (pid < 0) {
    end.exec_errno = errno;
    std::snprintf(end.text, sizeof end.text, "fork failed: %s", std::strerror(errno));
    close(report[0]);
    g_phase = -1;
    send_msg(env.ctl_fd, end);
    return end;
  }
  if (!env.in_namespace) {
    (void)setpgid(pid, pid);  // also done by the child; whichever runs first wins the race
    g_group = pid;
  }
  if (g_kill_requested) kill_everything();

  int info[2] = {0, 0};
  ssize_t got;
  do {
    got = read(report[0], info, sizeof info);
  } while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == static_cast<ssize_t>(sizeof info)) {
    end.exec_errno = info[1] ? info[1] : EIO;
    std::snprintf(end.text, sizeof end.text, "%s failed for %s: %s", step_name(info[0]), argv[0].c_str(),
                  std::strerror(end.exec_errno));
  }

  bool main_done = false;
  for (;;) {
    int status = 0;
    rusage ru;
    const pid_t r = wait4(-1, &status, 0, &ru);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: everything reaped
    }
    end.utime_us += micros(ru.ru_utime);
    end.stime_us += micros(ru.ru_stime);
    end.maxrss_kb = std::max<int64_t>(end.maxrss_kb, ru.ru_maxrss);
    if (r == pid && !main_done) {
      main_done = true;
      end.wait_status = status;
      kill_everything();  // background processes the program left: none survives its phase
    }
  }
  g_phase = -1;
  g_group = 0;
  send_msg(env.ctl_fd, end);
  return end;
}

void run_job_phases(PhaseEnv& env, const Job& job) {
  env.scrub = [&job] { scrub_job(job); };
  if (!job.compile_argv.empty()) {
    const Msg end = run_phase(env, 0, job.compile_argv, job.compile_limits, std::string(), std::string());
    if (!phase_succeeded(end)) _exit(0);
  }
  env.python_in_process = job.python_zygote && python_zygote_ready();
  for (size_t i = 0; i < job.inputs.size(); ++i) {
    const Msg end = run_phase(env, static_cast<int>(i) + 1, job.run_argv, job.limits, job.inputs[i], job.fd3_data);
    if (job.stop_on_failure && !phase_succeeded(end)) break;
  }
  _exit(0);
}

}  // namespace r1::sandbox::helper
