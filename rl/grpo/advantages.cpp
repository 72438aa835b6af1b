// See advantages.h.
#include "rl/grpo/advantages.h"

#include "common/error.h"

namespace r1::rl {

const std::vector<std::pair<AdvantageMode, const char*>>& enum_names(AdvantageMode) {
  static const std::vector<std::pair<AdvantageMode, const char*>> names = {
      {AdvantageMode::kGroup, "group"}, {AdvantageMode::kNoStd, "no_std"}, {AdvantageMode::kBatch, "batch"}};
  return names;
}

const std::vector<std::pair<AdvantageStd, const char*>>& enum_names(AdvantageStd) {
  static const std::vector<std::pair<AdvantageStd, const char*>> names = {{AdvantageStd::kPopulation, "population"},
                                                                          {AdvantageStd::kSample, "sample"}};
  return names;
}

at::Tensor group_advantages(const at::Tensor& rewards, int64_t group_size, AdvantageMode mode, double eps,
                            AdvantageStd std_kind) {
  TORCH_CHECK(rewards.dim() == 1, "group_advantages: rewards must be 1-D, got ", rewards.sizes());
  TORCH_CHECK(group_size > 0 && rewards.size(0) % group_size == 0, "group_advantages: ", rewards.size(0),
              " rewards do not split into groups of ", group_size);
  const bool unbiased = std_kind == AdvantageStd::kSample;
  at::Tensor r = rewards.to(at::kDouble).view({-1, group_size});  // [N, G]
  at::Tensor centered = r - r.mean(1, /*keepdim=*/true);           // [N, G]
  at::Tensor zero_var = zero_variance_groups(rewards, group_size).unsqueeze(1);  // [N, 1]
  at::Tensor adv;
  switch (mode) {
    case AdvantageMode::kGroup:
      adv = centered / (r.std(1, unbiased, /*keepdim=*/true) + eps);
      break;
    case AdvantageMode::kNoStd:
      adv = centered;
      break;
    case AdvantageMode::kBatch:
      adv = centered / (r.std(unbiased) + eps);
      break;
  }
  adv = adv.masked_fill(zero_var, 0.0);
  return adv.reshape({-1}).to(at::kFloat);  // [N*G]
}

at::Tensor zero_variance_groups(const at::Tensor& rewards, int64_t group_size, double tol) {
  at::Tensor r = rewards.to(at::kDouble).view({-1, group_size});  // [N, G]
  return (std::get<0>(r.max(1)) - std::get<0>(r.min(1))).abs() <= tol;  // [N]
}

}  // namespace r1::rl
