// See composite.h.
#include "rewards/composite.h"

#include "common/error.h"

namespace r1::rewards {

CompositeReward::CompositeReward(std::vector<CompositePart> parts) : parts_(std::move(parts)) {
  R1_CHECK(!parts_.empty(), "a composite reward needs at least one part");
  name_ = "composite(";
  for (size_t k = 0; k < parts_.size(); ++k) {
    R1_CHECK(parts_[k].reward != nullptr, "composite part '", parts_[k].label, "' has no reward");
    name_ += (k ? "," : "") + parts_[k].label;
  }
  name_ += ")";
}

Score CompositeReward::combine(const std::vector<const Score*>& child_scores) const {
  Score out;
  for (size_t k = 0; k < parts_.size(); ++k) {
    const CompositePart& part = parts_[k];
    const Score& s = *child_scores[k];
    out.value += part.weight * s.value;
    out.components.emplace_back(part.label, s.value);
    for (const auto& [name, value] : s.components) out.components.emplace_back(part.label + "/" + name, value);
    if (!s.reason.empty()) out.reason += (out.reason.empty() ? "" : "; ") + part.label + ": " + s.reason;
  }
  return out;
}

Score CompositeReward::score(const Sample& sample) const {
  std::vector<Score> scores;
  scores.reserve(parts_.size());
  for (const CompositePart& part : parts_) scores.push_back(part.reward->score(sample));
  std::vector<const Score*> ptrs;
  for (const Score& s : scores) ptrs.push_back(&s);
  return combine(ptrs);
}

std::vector<Score> CompositeReward::score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const {
  std::vector<std::vector<Score>> per_part;
  per_part.reserve(parts_.size());
  for (const CompositePart& part : parts_) {
    per_part.push_back(part.reward->score_batch(samples, pool));
    R1_CHECK(per_part.back().size() == samples.size(), "reward '", part.label, "' returned ",
             per_part.back().size(), " scores for ", samples.size(), " samples");
  }
  std::vector<Score> out;
  out.reserve(samples.size());
  std::vector<const Score*> ptrs(parts_.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    for (size_t k = 0; k < parts_.size(); ++k) ptrs[k] = &per_part[k][i];
    out.push_back(combine(ptrs));
  }
  return out;
}

}  // namespace r1::rewards
