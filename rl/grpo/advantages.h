// GRPO advantages: each prompt's G completions form a group, and a completion's advantage is its reward
// relative to its group — no learned critic (DeepSeekMath §4.1, DeepSeek-R1 §2.2.1).
//
//   group      A_i = (r_i − mean_group) / (std_group + eps)        (GRPO)
//   no_std     A_i =  r_i − mean_group                             (Dr. GRPO: no std scaling)
//   batch      A_i = (r_i − mean_group) / (std_batch + eps)         (scale by the whole batch's std)
//
// Which std: the papers write std(r) without saying; DeepSeekMath's and verl's implementations divide by
// the group size (population std), TRL's GRPOTrainer uses torch.std (sample std, divide by G − 1). Both are
// offered (AdvantageStd); population is the default. For G = 8 the sample std is √(8/7) ≈ 1.07× larger,
// so advantages are ~7% smaller — the same as a 7% smaller learning rate for the policy-gradient term.
//
// Groups whose rewards are all equal get A = 0 in every mode (nothing to learn; DAPO's dynamic sampling
// drops them before this point). Letters: N = number of groups, G = group size.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

namespace r1::rl {

enum class AdvantageMode { kGroup, kNoStd, kBatch };
enum class AdvantageStd { kPopulation, kSample };
// Recipe names (common/config_io.h reads and writes the enums by these).
const std::vector<std::pair<AdvantageMode, const char*>>& enum_names(AdvantageMode);
const std::vector<std::pair<AdvantageStd, const char*>>& enum_names(AdvantageStd);

// rewards: [N*G] fp32 in group-major order (group 0's G rewards first). Returns [N*G] fp32 advantages on
// the rewards' device.
at::Tensor group_advantages(const at::Tensor& rewards, int64_t group_size, AdvantageMode mode, double eps = 1e-4,
                            AdvantageStd std_kind = AdvantageStd::kPopulation);

// Per-group flag [N] (bool): true where all G rewards are equal (zero-variance groups).
at::Tensor zero_variance_groups(const at::Tensor& rewards, int64_t group_size, double tol = 1e-9);

}  // namespace r1::rl
