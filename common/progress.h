// A console progress bar with ETA and a few key metrics, redrawn in place on a TTY (stderr) and printed
// as plain periodic lines otherwise (CI logs), e.g.
//   grpo  [#########.........]  45/100  45%  00:41<00:50  reward=0.62 acc=0.55 kl=0.0012
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace r1 {

class ProgressBar {
 public:
  // total == 0 means unknown (no bar, no ETA). quiet: print nothing at all.
  ProgressBar(std::string label, size_t total, bool quiet = false);
  ~ProgressBar();

  // Sets the position (absolute) and the metrics shown after the bar; redraws at most ~10×/s on a TTY
  // and every `plain_every_s` seconds otherwise (always on the last step).
  void update(size_t done, const std::vector<std::pair<std::string, double>>& metrics = {});
  void finish();

  // Seconds since construction (or since `start_at` when resuming).
  double elapsed_s() const;
  // Continue a resumed run: the bar starts at `done` and ETA counts only the new steps.
  void start_at(size_t done);

  static std::string format_duration(double seconds);  // "mm:ss" or "h:mm:ss"

 private:
  void draw(bool final_line);

  std::string label_;
  size_t total_, done_ = 0, first_ = 0, drawn_ = SIZE_MAX;  // drawn_: position of the last line drawn
  bool quiet_, tty_, finished_ = false;
  double plain_every_s_ = 10.0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::vector<std::pair<std::string, double>> metrics_;
};

}  // namespace r1
