// Graceful interruption of long work by SIGINT (Ctrl-C) or SIGTERM (a scheduler's stop).
//
// The first signal only sets a flag: trainers poll it at the end of each step, write a checkpoint of the
// completed steps and throw Interrupted, which `r1` reports with the command that continues the run (exit
// status 128 + the signal, as a killed process would have). A second signal ends the process at once with
// the default action. Long work without checkpoints (evaluation, data generation) polls the flag too and
// stops; it starts again from its beginning on --resume.
// The handler is async-signal-safe: it stores the signal number in a lock-free atomic and writes one
// fixed line to stderr with write(2).
#pragma once

#include <string>

#include "common/error.h"

namespace r1 {

// Installs the SIGINT and SIGTERM handlers (idempotent).
void install_interrupt_handlers();

// True once SIGINT or SIGTERM was received (0 when none).
bool interrupt_requested();
int interrupt_signal();

// Forgets a received signal (tests that interrupt in-process).
void reset_interrupt();

// Thrown after a stage stopped for an interrupt (its state saved where it has one).
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal) : Error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace r1
