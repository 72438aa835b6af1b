// The helper's side of a run: reads the phase messages of init, collects stdout/stderr with their caps,
// enforces each phase's wall clock, asks init to kill a phase that overruns (and kills init itself when
// it does not answer), then turns what it saw into a Result with one status per phase.
//
// The wall clock of a phase runs from init's kPhaseStart (sent just before the fork) to its kPhaseEnd
// (sent after the program and everything it left were reaped), as seen by the helper.
//
// Output of each phase. All phases share one stdout and one stderr pipe, so a byte's phase is decided
// by when it was written, and the protocol makes "when" unambiguous:
//   1. init sends kPhaseStart k and blocks until the helper acknowledges k on the ack pipe;
//   2. the helper, reading kPhaseStart k, makes k the current phase and then acknowledges;
//   3. init forks the program of phase k; every byte it or its descendants write follows step 2;
//   4. init reaps every process of the phase, then sends kPhaseEnd k: no writer of phase k is left, so
//      all of its bytes are in the pipes;
//   5. the helper, reading kPhaseEnd k, drains both pipes into phase k and then has no current phase.
// Phase k+1 cannot write before step 2 for k+1, which the helper reaches only after step 5 for k (the
// control pipe is read in order). Bytes read while no phase is current cannot come from the sandbox's
// programs and are dropped. Without step 1's wait, init would start phase k+1 while the helper had not
// yet drained phase k, and k+1's first bytes were credited to k.
#pragma once

#include <sys/types.h>

#include "sandbox/sandbox.h"
#include "sandbox/wire.h"

namespace r1::sandbox::helper {

// The descriptors supervise() works with: read ends of init's message pipe and of the programs' stdout
// and stderr (all non-blocking), and the write end of the ack pipe init waits on.
struct SupervisedPipes {
  int ctl = -1, out = -1, err = -1;
  int ack = -1;
};

// Supervises init (pid `init_pid`, already running) until it exits and returns the result.
// cgroup (may be null or inactive) tells OOM kills inside the sandbox apart. SIGPIPE must be ignored
// (the helper's main does): an acknowledgement to an init that died fails with EPIPE.
class SandboxCgroup;
Result supervise(const Job& job, pid_t init_pid, const SupervisedPipes& pipes, const SandboxCgroup* cgroup);

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
