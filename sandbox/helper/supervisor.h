// The helper's side of a run: reads the phase messages of init, collects stdout/stderr with their caps,
// enforces each phase's wall clock, asks init to kill a phase that overruns (and kills init itself when
// it does not answer), then turns what it saw into a Result with one status per phase.
//
// The wall clock of a phase runs from init's kPhaseStart (sent just before the fork) to its kPhaseEnd
// (sent after the program and everything it left were reaped), as seen by the helper.
#pragma once

#include <sys/types.h>

#include "sandbox/sandbox.h"
#include "sandbox/wire.h"

namespace r1::sandbox::helper {

// Supervises init (pid `init_pid`, already running) until it exits and returns the result. ctl_fd, out_fd,
// err_fd are the read ends of init's message pipe and of the programs' stdout and stderr.
// cgroup (may be null or inactive) tells OOM kills inside the sandbox apart.
class SandboxCgroup;
Result supervise(const Job& job, pid_t init_pid, int ctl_fd, int out_fd, int err_fd, const SandboxCgroup* cgroup);

// What the helper saw of a finished phase; classify() turns it into status, exit code/signal, message.
struct PhaseOutcome {
  bool exec_failed = false;     // the child could not be set up / exec'd
  bool output_exceeded = false;
  bool wall_timeout = false;    // the helper asked for the kill because of the wall clock
  bool oom_killed = false;      // the sandbox's memory cgroup killed a process during the phase
  bool ended = true;            // false: init died before reporting the end
  int wait_status = 0;
  double cpu_time_s = 0;
  int64_t peak_memory_bytes = 0;
};
void classify(const PhaseOutcome& outcome, const Limits& limits, Execution* execution);

}  // namespace r1::sandbox::helper
