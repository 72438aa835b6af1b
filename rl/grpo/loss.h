// The GRPO policy loss (DeepSeekMath eq. 3 / DeepSeek-R1 eq. 1) with the known variants as options.
//
// Per completion token t of sequence i (mask m_it = 1 on completion tokens, 0 on prompt and padding):
//   ratio_it = exp(logp_it − old_logp_it)                        π_θ / π_old
//   pg_it    = −min(ratio·A_i, clip(ratio, 1−ε_low, 1+ε_high)·A_i)
//   dual clip (c > 1, optional, A_i < 0 only): pg_it = min(pg_it, −c·A_i)
//   kl_it    = k3: exp(ref−logp) − (ref−logp) − 1   (R1 / DeepSeekMath, unbiased, ≥ 0)
//              k1: logp − ref        k2: ½(logp − ref)²
//   loss_it  = pg_it + β·kl_it        (β = 0 → no reference forward is needed at all)
// Aggregation over tokens (the part the variants disagree on):
//   seq_mean_token_mean  Σ_i (Σ_t loss·m / Σ_t m) / n_seq                   GRPO (DeepSeekMath)
//   token_mean           Σ_it loss·m / n_tok                                DAPO
//   seq_mean_token_sum   Σ_it loss·m / (n_seq · L)  with a constant L       Dr. GRPO
// n_seq and n_tok are the counts of the whole optimizer minibatch, passed in, so that micro-batches
// (gradient accumulation) each return their share and the shares add up to the minibatch loss.
// Everything except `loss` in the output is detached and for logging.
// The objective's settings — these loss fields plus the advantage estimator (advantages.h) — are one
// struct, GrpoObjective: the "grpo" section of a grpo stage in a recipe.
// Letters: B = sequences in this micro-batch, T = padded completion length.
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

#include "rl/grpo/advantages.h"

namespace r1::rl {

enum class KlEstimator { kK1, kK2, kK3 };
enum class LossAggregation { kSeqMeanTokenMean, kTokenMean, kSeqMeanTokenSum };
// Recipe names (common/config_io.h reads and writes the enums by these).
const std::vector<std::pair<KlEstimator, const char*>>& enum_names(KlEstimator);
const std::vector<std::pair<LossAggregation, const char*>>& enum_names(LossAggregation);

// The GRPO objective: clipped ratio, KL to the reference, aggregation, and the group advantage.
struct GrpoObjective {
  double epsilon_low = 0.2;    // lower clip: ratio ≥ 1 − ε_low (R1 reasoning RL used ε = 10)
  double epsilon_high = 0.2;   // upper clip: ratio ≤ 1 + ε_high (DAPO: 0.28)
  double dual_clip = 0.0;      // c > 1 enables dual clipping for negative advantages; 0 = off
  double beta = 0.001;         // KL coefficient (R1: 0.001)
  KlEstimator kl_estimator = KlEstimator::kK3;
  LossAggregation aggregation = LossAggregation::kSeqMeanTokenMean;
  double constant_normalizer = 0.0;  // L for seq_mean_token_sum; 0 in a recipe = sampling.max_new_tokens
  AdvantageMode advantage = AdvantageMode::kGroup;
  AdvantageStd advantage_std = AdvantageStd::kPopulation;
  double advantage_eps = 1e-4;

  template <class V>
  void visit(V& v) {
    v("epsilon_low", epsilon_low, "ratio clip below: 1 - epsilon_low");
    v("epsilon_high", epsilon_high, "ratio clip above: 1 + epsilon_high (DAPO: 0.28)");
    v("dual_clip", dual_clip, "c > 1 caps the loss of negative-advantage tokens at c*|A| (0: off)");
    v("beta", beta, "KL coefficient (R1: 0.001; 0 skips the reference model)");
    v("kl_estimator", kl_estimator, "k1 | k2 | k3");
    v("aggregation", aggregation, "seq_mean_token_mean (GRPO) | token_mean (DAPO) | seq_mean_token_sum (Dr. GRPO)");
    v("constant_normalizer", constant_normalizer, "L for seq_mean_token_sum (0: sampling.max_new_tokens)");
    v("advantage", advantage, "group | no_std (Dr. GRPO) | batch");
    v("advantage_std", advantage_std,
      "population (divide by G; DeepSeekMath, verl) | sample (divide by G-1; TRL) for group and batch advantages");
    v("advantage_eps", advantage_eps, "added to the std before dividing");
  }
  void validate(const std::string& where) const;
};

struct GrpoLossInputs {
  at::Tensor logp;        // [B, T] log π_θ of the taken tokens (requires grad)
  at::Tensor old_logp;    // [B, T] log π_old (detached)
  at::Tensor ref_logp;    // [B, T] log π_ref (detached); undefined when beta == 0
  at::Tensor advantages;  // [B]
  at::Tensor mask;        // [B, T] 1 on completion tokens that count
  double n_seq = 0;       // sequences in the whole minibatch (0 → this micro-batch's B)
  double n_tok = 0;       // counted tokens in the whole minibatch (0 → this micro-batch's Σ mask)
};

struct GrpoLossOutput {
  at::Tensor loss;  // scalar, differentiable
  // Detached diagnostics, token means over this micro-batch's counted tokens.
  double pg_loss = 0, kl = 0, ratio_mean = 0, ratio_max = 0;
  double clip_frac_low = 0, clip_frac_high = 0, dual_clip_frac = 0;
  double tokens = 0;  // Σ mask of this micro-batch (to combine diagnostics across micro-batches)
};

// Per-token KL estimate [B, T] between the policy log-probs and the reference log-probs.
at::Tensor kl_per_token(const at::Tensor& logp, const at::Tensor& ref_logp, KlEstimator estimator);

// The loss of one micro-batch (the advantage fields of `objective` are not used here: the advantages come
// in `in`). seq_mean_token_sum needs constant_normalizer > 0.
GrpoLossOutput grpo_loss(const GrpoLossInputs& in, const GrpoObjective& objective);

}  // namespace r1::rl
