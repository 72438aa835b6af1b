// See composite.h.
#include "rewards/composite.h"

#include <cmath>

#include "common/error.h"

namespace r1::rewards {

bool PartSchedule::active(int64_t step) const {
  if (step < 0) return true;
  if (from_step && step < *from_step) return false;
  return !(to_step && step >= *to_step);
}

double PartSchedule::weight(double base, int64_t step) const {
  if (step < 0 || weight_points.empty()) return base;
  if (step <= weight_points.front().first) return weight_points.front().second;
  if (step >= weight_points.back().first) return weight_points.back().second;
  size_t k = 1;
  while (weight_points[k].first <= step) ++k;  // points[k - 1].step <= step < points[k].step
  const auto& [s0, w0] = weight_points[k - 1];
  const auto& [s1, w1] = weight_points[k];
  const double t = static_cast<double>(step - s0) / static_cast<double>(s1 - s0);
  return w0 + t * (w1 - w0);
}

void PartSchedule::validate(const std::string& where) const {
  R1_CHECK(!from_step || *from_step >= 0, where, ": key 'from_step' must be a trainer step >= 0, got ", *from_step);
  R1_CHECK(!to_step || *to_step >= 1, where, ": key 'to_step' must be a trainer step >= 1, got ", *to_step);
  R1_CHECK(!to_step || *to_step > from_step.value_or(0), where, ": key 'to_step' (", to_step.value_or(0),
           ") must be greater than from_step (", from_step.value_or(0),
           "): the part is active over [from_step, to_step) and would never count");
  for (size_t k = 0; k < weight_points.size(); ++k) {
    const auto& [step, w] = weight_points[k];
    const std::string at = str_cat(where, ": key 'weight_schedule': point [", k, "]");
    R1_CHECK(step >= 0, at, ": the step must be >= 0, got ", step);
    R1_CHECK(std::isfinite(w), at, ": the weight must be a finite number");
    R1_CHECK(k == 0 || step > weight_points[k - 1].first, at, ": step ", step, " is not after the previous point's "
             "step ", k ? weight_points[k - 1].first : 0, " (list the points in increasing step order, each step once)");
  }
}

CompositeReward::CompositeReward(std::vector<CompositePart> parts) : parts_(std::move(parts)) {
  R1_CHECK(!parts_.empty(), "a composite reward needs at least one part");
  name_ = "composite(";
  for (size_t k = 0; k < parts_.size(); ++k) {
    R1_CHECK(parts_[k].reward != nullptr, "composite part '", parts_[k].label, "' has no reward");
    parts_[k].schedule.validate("composite part '" + parts_[k].label + "'");
    name_ += (k ? "," : "") + parts_[k].label;
  }
  name_ += ")";
}

Score CompositeReward::combine(const std::vector<const Score*>& child_scores, int64_t step) const {
  Score out;
  for (size_t k = 0; k < parts_.size(); ++k) {
    const Score* s = child_scores[k];
    if (s == nullptr) continue;  // not active at this step: no value, no component
    const CompositePart& part = parts_[k];
    out.value += part.schedule.weight(part.weight, step) * s->value;
    out.components.emplace_back(part.label, s->value);
    for (const auto& [name, value] : s->components) out.components.emplace_back(part.label + "/" + name, value);
    if (!s->reason.empty()) out.reason += (out.reason.empty() ? "" : "; ") + part.label + ": " + s->reason;
  }
  return out;
}

Score CompositeReward::score(const Sample& sample) const {
  std::vector<Score> scores(parts_.size());
  std::vector<const Score*> ptrs(parts_.size(), nullptr);
  for (size_t k = 0; k < parts_.size(); ++k) {
    if (!parts_[k].schedule.active(sample.step)) continue;
    scores[k] = parts_[k].reward->score(sample);
    ptrs[k] = &scores[k];
  }
  return combine(ptrs, sample.step);
}

// Each part scores, in one batch, the samples at which it is active (all of them when it has no step
// range, without copying); the per-sample combination then skips it where it did not score.
std::vector<Score> CompositeReward::score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const {
  std::vector<std::vector<Score>> per_part(parts_.size());
  std::vector<std::vector<const Score*>> at(samples.size(), std::vector<const Score*>(parts_.size(), nullptr));
  for (size_t k = 0; k < parts_.size(); ++k) {
    const CompositePart& part = parts_[k];
    std::vector<size_t> active;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (part.schedule.active(samples[i].step)) active.push_back(i);
    }
    if (active.empty()) continue;
    if (active.size() == samples.size()) {
      per_part[k] = part.reward->score_batch(samples, pool);
    } else {
      std::vector<Sample> subset;
      subset.reserve(active.size());
      for (size_t i : active) subset.push_back(samples[i]);
      per_part[k] = part.reward->score_batch(subset, pool);
    }
    R1_CHECK(per_part[k].size() == active.size(), "reward '", part.label, "' returned ", per_part[k].size(),
             " scores for ", active.size(), " samples");
    for (size_t j = 0; j < active.size(); ++j) at[active[j]][k] = &per_part[k][j];
  }
  std::vector<Score> out;
  out.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) out.push_back(combine(at[i], samples[i].step));
  return out;
}

}  // namespace r1::rewards
