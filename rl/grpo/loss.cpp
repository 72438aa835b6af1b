// See loss.h.
#include "rl/grpo/loss.h"

#include <ATen/core/grad_mode.h>

#include "common/error.h"

namespace r1::rl {

const std::vector<std::pair<KlEstimator, const char*>>& enum_names(KlEstimator) {
  static const std::vector<std::pair<KlEstimator, const char*>> names = {
      {KlEstimator::kK1, "k1"}, {KlEstimator::kK2, "k2"}, {KlEstimator::kK3, "k3"}};
  return names;
}

const std::vector<std::pair<LossAggregation, const char*>>& enum_names(LossAggregation) {
  static const std::vector<std::pair<LossAggregation, const char*>> names = {
      {LossAggregation::kSeqMeanTokenMean, "seq_mean_token_mean"},
      {LossAggregation::kTokenMean, "token_mean"},
      {LossAggregation::kSeqMeanTokenSum, "seq_mean_token_sum"}};
  return names;
}

void GrpoObjective::validate(const std::string& where) const {
  R1_CHECK(epsilon_low >= 0 && epsilon_low <= 1 && epsilon_high >= 0, where,
           ": grpo.epsilon_low must be in [0, 1] and epsilon_high >= 0");
  R1_CHECK(beta >= 0, where, ": grpo.beta must be >= 0");
  R1_CHECK(dual_clip == 0 || dual_clip > 1, where, ": grpo.dual_clip must be 0 (off) or > 1");
  R1_CHECK(constant_normalizer >= 0, where, ": grpo.constant_normalizer must be >= 0 (0: sampling.max_new_tokens)");
  R1_CHECK(advantage_eps >= 0, where, ": grpo.advantage_eps must be >= 0");
}

at::Tensor kl_per_token(const at::Tensor& logp, const at::Tensor& ref_logp, KlEstimator estimator) {
  switch (estimator) {
    case KlEstimator::kK1:
      return logp - ref_logp;
    case KlEstimator::kK2:
      return 0.5 * (logp - ref_logp).pow(2);
    case KlEstimator::kK3: {
      at::Tensor log_ratio = ref_logp - logp;  // log(π_ref / π_θ)
      return at::exp(log_ratio) - log_ratio - 1.0;
    }
  }
  return {};
}

GrpoLossOutput grpo_loss(const GrpoLossInputs& in, const GrpoObjective& config) {
  TORCH_CHECK(in.logp.dim() == 2 && in.logp.sizes() == in.old_logp.sizes() && in.logp.sizes() == in.mask.sizes(),
              "grpo_loss: logp ", in.logp.sizes(), ", old_logp ", in.old_logp.sizes(), " and mask ", in.mask.sizes(),
              " must all be [B, T]");
  TORCH_CHECK(in.advantages.dim() == 1 && in.advantages.size(0) == in.logp.size(0), "grpo_loss: advantages ",
              in.advantages.sizes(), " must be [B] with B = ", in.logp.size(0));
  TORCH_CHECK(config.beta == 0 || in.ref_logp.defined(), "grpo_loss: beta = ", config.beta,
              " needs reference log-probs");
  const at::Tensor logp = in.logp.to(at::kFloat);                       // [B, T]
  const at::Tensor mask = in.mask.to(at::kFloat);                       // [B, T]
  const at::Tensor adv = in.advantages.to(at::kFloat).unsqueeze(1);     // [B, 1]
  const at::Tensor ratio = at::exp(logp - in.old_logp.to(at::kFloat));  // [B, T]

  const at::Tensor surr_unclipped = ratio * adv;                                                          // [B, T]
  const at::Tensor surr_clipped = at::clamp(ratio, 1.0 - config.epsilon_low, 1.0 + config.epsilon_high) * adv;  // [B, T]
  at::Tensor pg = -at::min(surr_unclipped, surr_clipped);                                                  // [B, T]
  at::Tensor dual_clipped;
  if (config.dual_clip > 0) {
    TORCH_CHECK(config.dual_clip > 1.0, "grpo_loss: dual_clip must be > 1 (or 0 to disable), got ", config.dual_clip);
    at::Tensor cap = -config.dual_clip * adv;                        // [B, 1]; positive where adv < 0
    dual_clipped = (adv < 0) & (pg > cap);                           // [B, T]
    pg = at::where(adv < 0, at::min(pg, cap), pg);
  }
  at::Tensor per_token = pg;
  at::Tensor kl;
  if (config.beta != 0) {
    kl = kl_per_token(logp, in.ref_logp.to(at::kFloat), config.kl_estimator);  // [B, T]
    per_token = per_token + config.beta * kl;
  }

  const double micro_tokens = mask.sum().item<double>();
  const double n_seq = in.n_seq > 0 ? in.n_seq : static_cast<double>(logp.size(0));
  const double n_tok = in.n_tok > 0 ? in.n_tok : std::max(micro_tokens, 1.0);
  at::Tensor masked = per_token * mask;  // [B, T]
  GrpoLossOutput out;
  switch (config.aggregation) {
    case LossAggregation::kSeqMeanTokenMean: {
      at::Tensor seq_len = mask.sum(1).clamp_min(1.0);  // [B]
      out.loss = (masked.sum(1) / seq_len).sum() / n_seq;
      break;
    }
    case LossAggregation::kTokenMean:
      out.loss = masked.sum() / n_tok;
      break;
    case LossAggregation::kSeqMeanTokenSum:
      TORCH_CHECK(config.constant_normalizer > 0, "grpo_loss: constant_normalizer must be > 0");
      out.loss = masked.sum() / (n_seq * config.constant_normalizer);
      break;
  }

  // Diagnostics (token means over this micro-batch).
  at::NoGradGuard no_grad;
  const double denom = std::max(micro_tokens, 1.0);
  auto token_mean = [&](const at::Tensor& x) { return (x.detach().to(at::kFloat) * mask).sum().item<double>() / denom; };
  out.tokens = micro_tokens;
  out.pg_loss = token_mean(pg);
  out.kl = kl.defined() ? token_mean(kl) : 0.0;
  at::Tensor r = ratio.detach();
  out.ratio_mean = token_mean(r);
  out.ratio_max = micro_tokens > 0 ? r.masked_select(mask > 0).max().item<double>() : 0.0;
  out.clip_frac_high = token_mean(((adv > 0) & (r > 1.0 + config.epsilon_high)).to(at::kFloat));
  out.clip_frac_low = token_mean(((adv < 0) & (r < 1.0 - config.epsilon_low)).to(at::kFloat));
  out.dual_clip_frac = dual_clipped.defined() ? token_mean(dual_clipped.to(at::kFloat)) : 0.0;
  return out;
}

}  // namespace r1::rl
