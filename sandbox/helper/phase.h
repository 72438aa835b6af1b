// One phase of a sandbox run (the compile step or one run): fork, confine and exec the program, wait for
// it, kill and reap whatever it left behind, report start and end to the helper. Runs inside init (pid 1
// of the sandbox's PID namespace) or, in the unsafe rlimits-only mode, inside a plain "sub-init" process.
//
// Every phase writes into the same stdout and stderr pipes, so the helper tells the phases' bytes apart
// by time alone: init forks a phase's program only after the helper acknowledged its kPhaseStart (on the
// ack pipe), and reports kPhaseEnd only after every process of the phase was reaped. Whatever the helper
// reads between the two belongs to that phase (supervisor.h, "Output of each phase").
//
// The confinement happens in the forked child, in this order: default signal dispositions, its own
// process group, stdin/stdout/stderr (and fd 3) on fixed numbers with every other descriptor closed,
// chdir to the work dir, rlimits, capability bounding set dropped and securebits locked, uid/gid switch,
// empty capability sets, PDEATHSIG, no_new_privs + seccomp, execve. A failure at any step is reported
// through a close-on-exec pipe (step + errno), so "could not exec python3" is a sandbox_error with the
// reason, never a mysterious exit code 127.
//
// Killing: the helper asks for a kill with sigqueue(SIGUSR1, phase). The handler checks the phase number,
// so a late request for phase k can never kill phase k+1, and then kills everything: kill(-1) — safe only
// because we are pid 1 of a private PID namespace, where -1 means "every process of the sandbox" — or,
// in rlimits-only mode, the program's process group (seccomp forbids leaving it in that mode).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sandbox/helper/util.h"
#include "sandbox/sandbox.h"
#include "sandbox/wire.h"

namespace r1::sandbox::helper {

struct PhaseEnv {
  bool in_namespace = true;  // kill(-1) is safe; otherwise kill the process group
  Identity identity;
  const void* seccomp = nullptr;  // from build_seccomp_filter
  int ctl_fd = -1;          // messages to the helper
  int ack_fd = -1;          // the helper's acknowledgements of kPhaseStart (util.h)
  int out_fd = -1, err_fd = -1;
  std::string workdir;
  std::vector<std::string> env;  // "NAME=value"
  int cgroup_procs_fd = -1;      // the sandbox's memory cgroup (cgroup.h); phase children join it
  // Run Python in the inherited warm interpreter instead of exec (python_zygote.h); run_argv must be the
  // python language's.
  bool python_in_process = false;
  // Called in the confined child just before the program starts: wipes job data (stdin, fd-3 secret,
  // sources) from the child's copy of memory, which matters when no execve replaces it.
  std::function<void()> scrub;
};

// Wipes what the program must not find in its own memory when no execve replaces it (PhaseEnv::scrub).
void scrub_job(const Job& job);

// Installs the SIGUSR1 kill-request handler. helper_pid: the only sender accepted besides the parent
// namespace (0 inside a PID namespace, where the helper is invisible and signals from outside carry 0).
void install_kill_handler(bool in_namespace, pid_t helper_pid);

// Runs phase `phase` of argv with the given limits, stdin and fd-3 bytes; sends kPhaseStart and kPhaseEnd
// on env.ctl_fd and returns the end message. Exits the process (status 1) when the helper does not
// acknowledge the start: it is gone, or the protocol broke, and no output could be credited.
Msg run_phase(const PhaseEnv& env, int phase, const std::vector<std::string>& argv, const Limits& limits,
              const std::string& stdin_data, const std::string& fd3_data);

// The end message says the process exited with status 0.
bool phase_succeeded(const Msg& end);

// The phases of a job in order — compile (when there is a compile step; a failed compile ends the job),
// then one run per input (stopping at the first failed run when job.stop_on_failure) — then _exit(0).
// Called by the sandbox's init process in both isolation modes (jail.cpp, unsafe.cpp); env.scrub and
// env.python_in_process are set here from the job.
[[noreturn]] void run_job_phases(PhaseEnv& env, const Job& job);

}  // namespace r1::sandbox::helper
