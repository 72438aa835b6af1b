// See progress.h.
#include "common/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace r1 {

ProgressBar::ProgressBar(std::string label, size_t total, bool quiet)
    : label_(std::move(label)), total_(total), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {
  start_ = std::chrono::steady_clock::now();
  last_draw_ = start_ - std::chrono::hours(1);
}

ProgressBar::~ProgressBar() {
  if (!finished_ && tty_ && !quiet_ && done_ > first_) std::fputc('\n', stderr);
}

void ProgressBar::start_at(size_t done) {
  done_ = first_ = done;
  start_ = std::chrono::steady_clock::now();
}

double ProgressBar::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%02ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

void ProgressBar::update(size_t done, const std::vector<std::pair<std::string, double>>& metrics) {
  done_ = done;
  if (!metrics.empty()) metrics_ = metrics;
  if (quiet_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  bool last = total_ > 0 && done_ >= total_;
  if (last || since >= (tty_ ? 0.1 : plain_every_s_)) {
    last_draw_ = now;
    draw(false);
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (quiet_) return;
  if (tty_) {
    draw(true);
  } else if (drawn_ != done_) {
    draw(true);  // plain logs: only when the last position was not printed yet
  }
}

void ProgressBar::draw(bool final_line) {
  drawn_ = done_;
  std::ostringstream line;
  line << label_;
  double elapsed = elapsed_s();
  if (total_ > 0) {
    const int width = 24;
    double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    int filled = static_cast<int>(frac * width);
    line << "  [" << std::string(filled, '#') << std::string(width - filled, '.') << "]  " << done_ << "/" << total_
         << "  " << static_cast<int>(frac * 100) << "%";
    size_t new_steps = done_ - first_;
    double eta = new_steps > 0 ? elapsed / new_steps * (total_ - done_) : NAN;
    line << "  " << format_duration(elapsed) << "<" << format_duration(eta);
  } else {
    line << "  " << done_ << "  " << format_duration(elapsed);
  }
  for (const auto& [name, value] : metrics_) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.4g", value);
    line << "  " << name << "=" << buf;
  }
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.str().c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.str().c_str());
  }
  std::fflush(stderr);
}

}  // namespace r1
