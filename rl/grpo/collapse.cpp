// See collapse.h.
#include "rl/grpo/collapse.h"

#include <cstdio>
#include <set>

#include "common/error.h"
#include "rl/grpo/collect.h"

namespace r1::rl {

void CollapseConfig::validate(const std::string& where) const {
  R1_CHECK(window >= 2, where, ": collapse.window must be >= 2");
  R1_CHECK(min_distinct >= 0 && min_distinct <= 1, where, ": collapse.min_distinct must be in [0, 1]");
  R1_CHECK(min_entropy >= 0 && trend_margin >= 0, where, ": collapse.min_entropy and trend_margin must be >= 0");
}

double distinct_completion_share(const StepGroups& groups) {
  const size_t g = static_cast<size_t>(groups.group_size);
  if (g == 0 || groups.kept.size() < g) return 1.0;
  double sum = 0;
  size_t n = 0;
  for (size_t first = 0; first + g <= groups.kept.size(); first += g, ++n) {
    std::set<std::string> texts;
    for (size_t k = 0; k < g; ++k) texts.insert(groups.kept[first + k]->text);
    sum += static_cast<double>(texts.size()) / static_cast<double>(g);
  }
  return n > 0 ? sum / static_cast<double>(n) : 1.0;
}

namespace {

double mean(std::deque<double>::const_iterator a, std::deque<double>::const_iterator b) {
  double s = 0;
  size_t n = 0;
  for (; a != b; ++a, ++n) s += *a;
  return n ? s / static_cast<double>(n) : 0.0;
}

}  // namespace

std::vector<std::string> CollapseMonitor::observe(const StepGroups& groups, Metrics& m) {
  std::vector<std::string> warnings;
  const double distinct = distinct_completion_share(groups);
  m.set("collapse/distinct_completions", distinct);
  if (config_.warn && !warned_distinct_ && !groups.kept.empty() && distinct < config_.min_distinct) {
    warned_distinct_ = true;
    warnings.push_back(str_cat("groups repeat their completions (", distinct,
                               " distinct per sample): the policy is collapsing onto a few outputs"));
  }
  if (m.has("entropy")) {
    const double entropy = m.get("entropy");
    if (config_.warn && !warned_entropy_ && entropy < config_.min_entropy) {
      warned_entropy_ = true;
      warnings.push_back(str_cat("token entropy ", entropy, " < ", config_.min_entropy,
                                 " nats: the policy has stopped exploring"));
    }
  }
  // Reward up, accuracy down: the first half of the window against the second half.
  const char* acc_key = m.has("accuracy_sampled") ? "accuracy_sampled" : "accuracy";
  if (m.has("reward") && m.has(acc_key)) {
    rewards_.push_back(m.get("reward"));
    accuracies_.push_back(m.get(acc_key));
    while (static_cast<int64_t>(rewards_.size()) > config_.window) {
      rewards_.pop_front();
      accuracies_.pop_front();
    }
    if (static_cast<int64_t>(rewards_.size()) == config_.window) {
      const auto half = static_cast<std::deque<double>::difference_type>(config_.window / 2);
      const double reward_rise = mean(rewards_.begin() + half, rewards_.end()) - mean(rewards_.begin(), rewards_.begin() + half);
      const double acc_fall = mean(accuracies_.begin(), accuracies_.begin() + half) -
                              mean(accuracies_.begin() + half, accuracies_.end());
      const bool hacking = reward_rise >= config_.trend_margin && acc_fall >= config_.trend_margin;
      m.set("collapse/reward_up_accuracy_down", hacking ? 1.0 : 0.0);
      if (config_.warn && !warned_trend_ && hacking) {
        warned_trend_ = true;
        warnings.push_back(str_cat("the reward rose by ", reward_rise, " while ", acc_key, " fell by ", acc_fall,
                                   " over the last ", config_.window,
                                   " steps: the policy scores without being right (reward hacking?)"));
      }
    }
  }
  return warnings;
}

}  // namespace r1::rl
