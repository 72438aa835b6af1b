// A weighted sum of rewards whose every part is logged, with parts that may count only over a range of
// trainer steps or with a weight that changes with the step.
//
// score = sum_k weight_k(step) * child_k.score over the parts active at the sample's step (Sample::step).
// The components list each active child's unweighted score under its label, then the child's own components
// as "label/component", so metrics.jsonl shows what each part contributed. A part that is not active at the
// sample's step is not called at all (a reward model is not run for nothing), contributes exactly 0 and has
// no component in the score (absent, not 0: a mean over the step's samples then covers only the samples it
// judged). Children score whole batches (score_batch), so a child that batches naturally (an external
// process, a reward model) keeps doing so inside a composite; it gets the batch's samples at which it is
// active.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rewards/reward.h"

namespace r1::rewards {

// When a composite part counts, by trainer step (0-based, Sample::step). Active over [from_step, to_step)
// (an unset end is open). With weight points [(step, weight), ...] (sorted by step, each step once) the part's
// weight at a step is linear between the two points around it and the first / last point's weight before /
// after them; without points it is the part's base weight. At step -1 (unknown: outside training) every part
// is active at its base weight, whatever its schedule.
struct PartSchedule {
  std::optional<int64_t> from_step, to_step;
  std::vector<std::pair<int64_t, double>> weight_points;

  bool empty() const { return !from_step && !to_step && weight_points.empty(); }
  bool active(int64_t step) const;
  double weight(double base, int64_t step) const;
  // Errors (naming `where` and the key) for negative steps, to_step <= from_step, unsorted or repeated points,
  // weights that are not finite.
  void validate(const std::string& where) const;
};

struct CompositePart {
  std::string label;  // component name: the reward's name, "name#2" for a repeated one, or given
  double weight = 1.0;
  RewardPtr reward;
  PartSchedule schedule = {};
};

class CompositeReward : public Reward {
 public:
  explicit CompositeReward(std::vector<CompositePart> parts);
  std::string name() const override { return name_; }
  Score score(const Sample& sample) const override;
  std::vector<Score> score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const override;
  const std::vector<CompositePart>& parts() const { return parts_; }

 private:
  // One sample's score from its parts' scores (null: the part is not active at `step`).
  Score combine(const std::vector<const Score*>& child_scores, int64_t step) const;
  std::vector<CompositePart> parts_;
  std::string name_;
};

}  // namespace r1::rewards
