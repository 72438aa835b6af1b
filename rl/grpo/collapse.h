// Collapse detection for GRPO: the ways a policy degenerates that users of RL toolkits meet, measured per
// step and (optionally) warned about once in the progress output.
//
//   distinct_completions   mean over the step's groups of (distinct completion texts / G): 1 when every
//                          sample differs, 1/G when a group repeats one completion — mode collapse
//                          (a group of identical completions also has no advantage to learn from);
//   reward_up_accuracy_down  the reward's moving average rose while the accuracy's fell over the last
//                          `window` steps: the policy found a way to score without being right (reward
//                          hacking, e.g. the format reward without answers);
//   entropy                the per-token entropy of the policy on its own samples (logged by the update);
//                          below `min_entropy` nats the policy has stopped exploring.
// Warnings are advisory: training goes on; each kind is printed once per stage (it stays in metrics.jsonl
// as collapse/* values every step). The thresholds are options of the grpo stage ("collapse" section).
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "rl/run_dir.h"

namespace r1::rl {

struct StepGroups;  // rl/grpo/collect.h (which includes the grpo config, which includes this file)

struct CollapseConfig {
  bool warn = true;              // print a warning line the first time each kind is detected
  int64_t window = 8;            // steps compared by reward_up_accuracy_down (moving averages over window/2)
  double min_distinct = 0.5;     // warn when distinct_completions falls below this
  double min_entropy = 0.05;     // warn when the token entropy falls below this (nats)
  double trend_margin = 0.05;    // reward up and accuracy down by at least this much (absolute)

  template <class V>
  void visit(V& v) {
    v("warn", warn, "print a warning the first time a kind of collapse is detected");
    v("window", window, "steps compared for 'reward up, accuracy down' (two halves of the window)");
    v("min_distinct", min_distinct, "warn below this share of distinct completions per group");
    v("min_entropy", min_entropy, "warn below this per-token entropy (nats)");
    v("trend_margin", trend_margin, "how much the reward must rise and the accuracy fall to warn");
  }
  void validate(const std::string& where) const;
};

// Mean over groups of distinct completion texts / G (kept groups, group-major as StepGroups::kept).
double distinct_completion_share(const StepGroups& groups);

class CollapseMonitor {
 public:
  explicit CollapseMonitor(CollapseConfig config) : config_(std::move(config)) {}
  // Adds the step's collapse/* metrics (reads reward, accuracy or accuracy_sampled, entropy from m) and
  // returns the warnings that fire for the first time at this step.
  std::vector<std::string> observe(const StepGroups& groups, Metrics& m);

 private:
  CollapseConfig config_;
  std::deque<double> rewards_, accuracies_;
  bool warned_distinct_ = false, warned_trend_ = false, warned_entropy_ = false;
};

}  // namespace r1::rl
