// See update.h.
#include "rl/grpo/update.h"

#include <ATen/core/grad_mode.h>  // at::NoGradGuard: not reached through ATen.h in every LibTorch 2.x

#include <algorithm>

#include "rl/train_common.h"

namespace r1::rl {
namespace {

// Adds one micro-batch's loss diagnostics (token means) to the step's sums.
void accumulate(const GrpoLossOutput& out, UpdateStats& s) {
  s.kl_sum += out.kl * out.tokens;
  s.clip_low += out.clip_frac_low * out.tokens;
  s.clip_high += out.clip_frac_high * out.tokens;
  s.dual += out.dual_clip_frac * out.tokens;
  s.ratio_sum += out.ratio_mean * out.tokens;
  s.pg_sum += out.pg_loss * out.tokens;
  s.ratio_max = std::max(s.ratio_max, out.ratio_max);
  s.tokens += out.tokens;
}

// Forward + backward of rows [r0, r1) of the minibatch [mb0, mb1); returns the rows' expert loads.
std::vector<at::Tensor> micro_batch_backward(const GrpoConfig& c, const GrpoObjective& objective,
                                             const model::CausalLM& model, const SequenceBatch& batch,
                                             const at::Tensor& advantages, const PolicyLogprobs& fixed,
                                             double temperature, int64_t r0, int64_t r1, double n_seq, double n_tok,
                                             bool first_pass, UpdateStats& s) {
  const bool balance = c.moe.seq_aux_alpha > 0;
  SeqLogprobs cur = sequence_logprobs(model, batch, r0, r1, temperature, c.logprob_chunk, first_pass, balance);
  GrpoLossInputs in;
  in.logp = cur.logp;
  in.old_logp = fixed.old_logp.defined() ? fixed.old_logp.slice(0, r0, r1) : cur.logp.detach();
  if (fixed.ref_logp.defined()) in.ref_logp = fixed.ref_logp.slice(0, r0, r1);
  in.advantages = advantages.slice(0, r0, r1);
  in.mask = batch.comp_mask.slice(0, r0, r1);
  in.n_seq = n_seq;
  in.n_tok = n_tok;
  GrpoLossOutput out = grpo_loss(in, objective);
  at::Tensor loss = out.loss;
  if (balance && cur.seq_balance_loss.defined()) {
    // Each micro-batch's share of the minibatch mean, like the policy loss.
    at::Tensor bal = cur.seq_balance_loss * (static_cast<double>(r1 - r0) / n_seq);
    s.balance_sum += bal.item<double>();
    loss = loss + c.moe.seq_aux_alpha * bal;
  }
  loss.backward();
  s.loss += out.loss.item<double>();
  accumulate(out, s);
  if (first_pass) {
    at::NoGradGuard no_grad;
    const at::Tensor sampler = batch.sampler_logp.slice(0, r0, r1);
    if (cur.entropy.defined()) s.entropy_sum += (cur.entropy * in.mask).sum().item<double>();
    // π_old as the trainer computes it (before any update of this step) against the sampler's log-probs.
    s.gap_sum += ((in.old_logp - sampler).abs() * in.mask).sum().item<double>();
    s.first_pass_tokens += in.mask.sum().item<double>();
  }
  return std::move(cur.expert_load);
}

}  // namespace

UpdateStats update_policy(const GrpoConfig& c, const GrpoObjective& objective, model::CausalLM& model, AdamW& optimizer,
                          GradientReducer& gradients, const ScheduleConfig& schedule, const SequenceBatch& batch,
                          const RowShare& share, const at::Tensor& advantages, const PolicyLogprobs& fixed,
                          double temperature) {
  UpdateStats s;
  const int64_t n = batch.input_ids.size(0);
  const int64_t minibatch = (n + c.minibatches - 1) / c.minibatches;
  const int64_t micro = c.micro_batch_size > 0 ? std::min(c.micro_batch_size, minibatch) : minibatch;
  const SequenceBatch mine = batch_rows(batch, share.first_row, share.end_row);  // local row k = row first_row + k
  for (int64_t epoch = 0; epoch < c.epochs; ++epoch) {
    for (int64_t mb0 = 0; mb0 < n; mb0 += minibatch) {
      const int64_t mb1 = std::min(n, mb0 + minibatch);
      const double n_seq = static_cast<double>(mb1 - mb0);
      const double n_tok = std::max(1.0, batch.comp_mask.slice(0, mb0, mb1).sum().item<double>());
      // This rank's rows of the minibatch, as local rows.
      const int64_t lo = std::max(mb0, share.first_row) - share.first_row;
      const int64_t hi = std::min(mb1, share.end_row) - share.first_row;
      std::vector<at::Tensor> loads;
      for (int64_t r0 = lo; r0 < hi; r0 += micro) {
        const int64_t r1 = std::min(hi, r0 + micro);
        if (r1 == hi) gradients.arm();  // the minibatch's last backward
        accumulate_expert_load(loads, micro_batch_backward(c, objective, model, mine, advantages, fixed, temperature,
                                                           r0, r1, n_seq, n_tok, epoch == 0, s));
      }
      s.allreduce_s += gradients.finish();
      s.early_buckets += static_cast<double>(gradients.buckets_sent_early());
      all_reduce_expert_loads(share.world, loads);
      std::tie(s.grad_norm, s.lr) = optimizer_update(optimizer, c.optim, schedule);
      ++s.updates;
      if (c.moe.bias_update_speed > 0 && !loads.empty()) model.update_expert_bias(loads, c.moe.bias_update_speed);
      if (epoch == 0 && mb0 == 0) s.first_minibatch_load = std::move(loads);
    }
  }
  s.reduce(share.world);
  return s;
}

void UpdateStats::reduce(const dist::World& world) {
  if (world.size() == 1) return;
  std::vector<double*> sums = {&loss,   &pg_sum,      &kl_sum,           &clip_low, &clip_high, &dual,       &ratio_sum,
                               &tokens, &entropy_sum, &first_pass_tokens, &gap_sum, &balance_sum};
  std::vector<double> values;
  for (double* v : sums) values.push_back(*v);
  std::vector<at::Tensor> t = {at::tensor(values, at::kDouble)};
  world.all_reduce_sum(t);
  for (size_t i = 0; i < sums.size(); ++i) *sums[i] = t[0][static_cast<int64_t>(i)].item<double>();
  ratio_max = world.max(ratio_max);
}

void UpdateStats::write(const GrpoConfig& c, Metrics& m) const {
  const double tok = std::max(1.0, tokens);
  const double first = std::max(1.0, first_pass_tokens);
  m.set("loss", loss / static_cast<double>(std::max<int64_t>(1, updates)));
  m.set("pg_loss", pg_sum / tok);
  m.set("kl", kl_sum / tok);
  m.set("clip_frac_low", clip_low / tok);
  m.set("clip_frac_high", clip_high / tok);
  if (c.grpo.dual_clip > 0) m.set("dual_clip_frac", dual / tok);
  m.set("ratio_mean", ratio_sum / tok);
  m.set("ratio_max", ratio_max);
  m.set("entropy", entropy_sum / first);
  m.set("logprob_gap", gap_sum / first);
  if (c.moe.seq_aux_alpha > 0) m.set("seq_balance_loss", balance_sum / static_cast<double>(std::max<int64_t>(1, updates)));
  m.set("grad_norm", grad_norm);
  m.set("lr", lr);
  if (allreduce_s > 0) {
    m.set("allreduce_s", allreduce_s);
    m.set("allreduce_early_buckets", early_buckets);
  }
  record_expert_load(first_minibatch_load, m);
}

}  // namespace r1::rl
