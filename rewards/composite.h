// A weighted sum of rewards whose every part is logged.
//
// score = sum_k weight_k * child_k.score. The components list each child's unweighted score under its
// label, then the child's own components as "label/component", so metrics.jsonl shows what each part
// contributed. Children score whole batches (score_batch), so a child that batches naturally (an
// external process, a reward model) keeps doing so inside a composite.
#pragma once

#include <string>
#include <vector>

#include "rewards/reward.h"

namespace r1::rewards {

struct CompositePart {
  std::string label;  // component name: the reward's name, "name#2" for a repeated one, or given
  double weight = 1.0;
  RewardPtr reward;
};

class CompositeReward : public Reward {
 public:
  explicit CompositeReward(std::vector<CompositePart> parts);
  std::string name() const override { return name_; }
  Score score(const Sample& sample) const override;
  std::vector<Score> score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const override;
  const std::vector<CompositePart>& parts() const { return parts_; }

 private:
  Score combine(const std::vector<const Score*>& child_scores) const;
  std::vector<CompositePart> parts_;
  std::string name_;
};

}  // namespace r1::rewards
