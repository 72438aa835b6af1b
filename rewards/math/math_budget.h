// The work budget of one verification: a wall-clock deadline checked every 256 steps of evaluation
// or comparison. Every loop of the verifier is already bounded by input size caps; the budget is the
// second line of defence that turns an unexpectedly expensive pair into a clean "timed out" verdict
// (scored as wrong) instead of a stalled training step.
#pragma once

#include <chrono>
#include <cstdint>

namespace r1::rewards::math {

class Budget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit Budget(double milliseconds = 1000.0)
      : deadline_(Clock::now() + std::chrono::microseconds(static_cast<int64_t>(milliseconds * 1000.0))) {}

  // Counts one step; returns false once the deadline has passed (and keeps returning false).
  bool tick() {
    if (expired_) return false;
    if ((++steps_ & 255u) == 0 && Clock::now() > deadline_) expired_ = true;
    return !expired_;
  }
  bool expired() const { return expired_; }
  uint64_t steps() const { return steps_; }

 private:
  Clock::time_point deadline_;
  uint64_t steps_ = 0;
  bool expired_ = false;
};

}  // namespace r1::rewards::math
