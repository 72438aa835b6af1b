// Elapsed wall time for metrics, progress lines and benchmarks: the steady clock (it never jumps with the
// system time), read as seconds in a double.
#pragma once

#include <chrono>

namespace r1 {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace r1
