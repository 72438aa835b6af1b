// See interrupt.h.
#include "common/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace r1 {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal flag must be lock-free to be set in a handler");

void on_signal(int signo) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, signo)) {
    // Second signal: stop now, as if no handler were installed.
    ::signal(signo, SIG_DFL);
    ::raise(signo);
    return;
  }
  static const char kMessage[] =
      "\nr1: interrupted: finishing the current step and saving a checkpoint (signal again to stop at once)\n";
  ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

void reset_interrupt() { g_signal.store(0); }

}  // namespace r1
