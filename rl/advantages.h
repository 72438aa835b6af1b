// GRPO advantages: each prompt's G completions form a group, and a completion's advantage is its reward
// relative to its group — no learned critic (DeepSeekMath §4.1, DeepSeek-R1 §2.2.1).
//
//   group      A_i = (r_i − mean_group) / (std_group + eps)        (GRPO; std is the population std)
//   no_std     A_i =  r_i − mean_group                             (Dr. GRPO: no std scaling)
//   batch      A_i = (r_i − mean_group) / (std_batch + eps)         (scale by the whole batch's std)
//
// Groups whose rewards are all equal get A = 0 in every mode (nothing to learn; DAPO's dynamic sampling
// drops them before this point). Letters: N = number of groups, G = group size.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace r1::rl {

enum class AdvantageMode { kGroup, kNoStd, kBatch };

AdvantageMode advantage_mode_from_string(const std::string& name, const std::string& where);
const char* to_string(AdvantageMode mode);

// rewards: [N*G] fp32 in group-major order (group 0's G rewards first). Returns [N*G] fp32 advantages.
at::Tensor group_advantages(const at::Tensor& rewards, int64_t group_size, AdvantageMode mode, double eps = 1e-4);

// Per-group flag [N] (bool): true where all G rewards are equal (zero-variance groups).
at::Tensor zero_variance_groups(const at::Tensor& rewards, int64_t group_size, double tol = 1e-9);

}  // namespace r1::rl
