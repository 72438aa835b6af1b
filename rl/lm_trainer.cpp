// See lm_trainer.h.
// Letters: B rows of a packed batch, T max_len, H hidden size.
#include "rl/lm_trainer.h"

#include <ATen/Parallel.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/progress.h"
#include "datasets/sampler.h"
#include "rl/logprobs.h"
#include "rl/trainer.h"

namespace r1::rl {

model::ForwardOutput lm_forward(const model::CausalLM& model, const LmBatch& batch, int64_t r0, int64_t r1,
                                bool seq_balance_loss) {
  const at::Tensor segments = batch.segment_ids.slice(0, r0, r1);
  return model.forward(batch.input_ids.slice(0, r0, r1), packed_attention_bias(segments, at::kFloat),
                       batch.position_ids.slice(0, r0, r1), seq_balance_loss, segments);
}

LmTokenLosses lm_token_losses(const model::CausalLM& model, const LmBatch& batch, int64_t r0, int64_t r1, bool with_mtp,
                              bool seq_balance_loss) {
  const at::Tensor ids = batch.input_ids.slice(0, r0, r1);         // [b, T]
  const at::Tensor positions = batch.position_ids.slice(0, r0, r1);
  const at::Tensor segments = batch.segment_ids.slice(0, r0, r1);
  const at::Tensor loss_mask = batch.loss_mask.slice(0, r0, r1);
  const at::Tensor bias = packed_attention_bias(segments, at::kFloat);  // [b, 1, T, T]
  LmTokenLosses r;
  r.forward = model.forward(ids, bias, positions, seq_balance_loss, segments);
  r.mask = loss_mask.slice(1, 1) > 0;                                    // [b, T-1]
  at::Tensor h = r.forward.hidden.slice(1, 0, -1).index({r.mask});       // [n, H]
  at::Tensor targets = ids.slice(1, 1).index({r.mask});                  // [n]
  at::Tensor logp = chunked_token_logprobs(h, model.lm_head_weight(), targets, 1.0, 1024, false).logp;
  r.nll = at::zeros(r.mask.sizes(), logp.options()).masked_scatter(r.mask, -logp);
  if (with_mtp) {
    // Token t+2 predicted from position t, all three in the same packed sequence. The MTP block gets the same
    // block-diagonal bias and restarting positions as the main model, so packed sequences stay independent.
    r.mtp_mask = (loss_mask.slice(1, 2) > 0).logical_and(segments.slice(1, 0, -2) == segments.slice(1, 2));  // [b, T-2]
    r.mtp_nll = at::zeros(r.mtp_mask.sizes(), logp.options());
    if (ids.size(1) >= 3) {
      at::Tensor mh = model.mtp_hidden(r.forward.hidden, ids, bias, nullptr, positions).slice(1, 0, -1).index({r.mtp_mask});
      at::Tensor mt = ids.slice(1, 2).index({r.mtp_mask});               // [m]
      at::Tensor mlogp = at::log_softmax(model.mtp_logits(mh), -1).gather(1, mt.unsqueeze(1)).squeeze(1);  // fp32
      r.mtp_nll = r.mtp_nll.masked_scatter(r.mtp_mask, -mlogp);
    }
  }
  return r;
}

std::optional<int64_t> lm_eos_id(const Policy& policy) {
  std::optional<int64_t> eos = policy.tokenizer->eos_id();
  if (!eos && !policy.model->config().eos_token_id.empty()) eos = policy.model->config().eos_token_id.front();
  return eos;
}

namespace {

// One optimizer step over `batch`: losses summed over micro-batches, then clip + AdamW + bias update.
struct LmStepResult {
  double loss = 0, ce = 0, mtp_loss = 0, balance_loss = 0, grad_norm = 0, lr = 0, targets = 0;
  double allreduce_s = 0;  // the gradient all-reduce (several ranks)
  double early_buckets = 0;  // of it, buckets sent during the backward pass
  std::vector<at::Tensor> loads;
};

// With several ranks (dist/world.h) every rank builds the step's whole batch, runs the forward/backward of its
// share of the rows, and the gradients, loss sums and expert loads are summed over the ranks before the update:
// the losses are normalised by the whole batch's target counts, so the sum is the single-process gradient. (Not
// quite for the sequence-wise balance loss of packed rows: each micro-batch's mean over its sequences is weighted
// by its share of the rows, so its total depends on how the rows are split — over ranks as over micro-batches.)
LmStepResult lm_step(const LmTrainConfig& c, model::CausalLM& model, AdamW& optimizer, GradientReducer& gradients,
                     const ScheduleConfig& schedule, const LmBatch& batch, LmLossTerms* terms, int64_t step,
                     const std::vector<size_t>& indices, const dist::World& world) {
  LmStepResult r;
  const int64_t rows = batch.input_ids.size(0);
  const auto [first_row, end_row] = world.share(rows);
  const int64_t micro = c.micro_batch_rows > 0 ? c.micro_batch_rows : rows;
  const double ce_weight = terms ? terms->ce_weight() : 1.0;
  r.targets = std::max(1.0, batch.loss_mask.slice(1, 1).sum().item<double>());
  // MTP targets: token t+2 predicted from position t, all three in the same packed sequence.
  double n_mtp = 1.0;
  if (c.mtp_weight > 0) {
    at::Tensor mtp_mask = batch.loss_mask.slice(1, 2) *
                          (batch.segment_ids.slice(1, 0, -2) == batch.segment_ids.slice(1, 2)).to(at::kFloat);
    n_mtp = std::max(1.0, mtp_mask.sum().item<double>());
  }
  double extra = 0;
  for (int64_t r0 = first_row; (!terms || terms->uses_batch()) && r0 < end_row; r0 += micro) {
    const int64_t r1 = std::min(end_row, r0 + micro);
    LmTokenLosses tl = lm_token_losses(model, batch, r0, r1, c.mtp_weight > 0, c.moe.seq_aux_alpha > 0);
    model::ForwardOutput& out = tl.forward;
    accumulate_expert_load(r.loads, out.expert_load);
    at::Tensor ce = tl.nll.sum() / r.targets;
    r.ce += ce.item<double>();
    if (c.mtp_weight > 0) {
      at::Tensor mtp_loss = tl.mtp_nll.sum() / n_mtp;
      r.mtp_loss += mtp_loss.item<double>();
      ce = ce + c.mtp_weight * mtp_loss;
    }
    at::Tensor loss = ce_weight == 1.0 ? ce : ce * ce_weight;
    if (c.moe.seq_aux_alpha > 0 && out.seq_balance_loss.defined()) {
      at::Tensor bal = out.seq_balance_loss * (static_cast<double>(r1 - r0) / rows);
      r.balance_loss += bal.item<double>();
      loss = loss + c.moe.seq_aux_alpha * bal;
    }
    if (terms) {
      at::Tensor term = terms->micro_batch_term(model, batch, r0, r1, tl, r.targets);
      if (term.defined()) {
        extra += term.item<double>();
        loss = loss + term;
      }
    }
    if (r1 == end_row && !(terms && terms->runs_own_backward())) gradients.arm();  // the step's last backward
    loss.backward();
  }
  if (terms) extra += terms->step_term(model, step, indices, world);
  if (world.size() > 1) {
    r.allreduce_s = gradients.finish();
    r.early_buckets = static_cast<double>(gradients.buckets_sent_early());
    all_reduce_expert_loads(world, r.loads);
    std::vector<at::Tensor> sums = {at::tensor({r.ce, r.mtp_loss, r.balance_loss, extra}, at::kDouble)};
    world.all_reduce_sum(sums);
    const auto sum = sums[0].accessor<double, 1>();
    r.ce = sum[0];
    r.mtp_loss = sum[1];
    r.balance_loss = sum[2];
    extra = sum[3];
  }
  r.loss = terms ? ce_weight * r.ce + extra : r.ce;
  std::tie(r.grad_norm, r.lr) = optimizer_update(optimizer, c.optim, schedule);
  if (c.moe.bias_update_speed > 0 && !r.loads.empty()) model.update_expert_bias(r.loads, c.moe.bias_update_speed);
  return r;
}

Metrics lm_step_metrics(const LmTrainConfig& c, const LmStepResult& r, const LmBatch& batch, double step_s,
                        LmLossTerms* terms, const dist::World& world) {
  Metrics m;
  m.set("loss", r.loss);
  if (terms && terms->uses_batch()) m.set("ce", r.ce);
  if (terms) terms->report(m, world);
  if (c.mtp_weight > 0) m.set("mtp_loss", r.mtp_loss);
  if (c.moe.seq_aux_alpha > 0) m.set("seq_balance_loss", r.balance_loss);
  m.set("lr", r.lr);
  m.set("grad_norm", r.grad_norm);
  m.set("tokens", r.targets);
  m.set("tokens_per_s", batch.segment_ids.gt(0).sum().item<double>() / step_s);
  m.set("truncated", static_cast<double>(batch.truncated));
  m.set("step_s", step_s);
  if (r.allreduce_s > 0) {
    m.set("allreduce_s", r.allreduce_s);
    m.set("allreduce_early_buckets", r.early_buckets);
  }
  record_expert_load(r.loads, m);
  return m;
}

}  // namespace

std::string train_causal_lm(const LmTrainConfig& c, Policy policy, const std::vector<Sequence>& sequences,
                            StageContext& ctx, LmLossTerms* terms) {
  const std::string where = ctx.spec.where;
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  R1_CHECK(!sequences.empty(), ctx.resolve_ref(c.data), ": no training sequences");
  R1_CHECK(c.mtp_weight == 0 || policy.model->has_mtp(), where, ": mtp_weight = ", c.mtp_weight,
           " but the model has no MTP module (num_nextn_predict_layers = 0)");
  const int64_t pad_id = policy.tokenizer->pad_id().value_or(lm_eos_id(policy).value_or(0));
  TrainingSession s = resume_or_start(std::move(policy), c.optim, ctx);
  s.model().set_activation_checkpointing(c.activation_checkpointing);
  const ScheduleConfig schedule = c.optim.schedule_for(c.steps);
  data::ShuffledOrder order(sequences.size(), ctx.seed);
  const at::Device device = s.model().device();

  ProgressBar bar(ctx.spec.name, static_cast<size_t>(c.steps), ctx.quiet);
  bar.start_at(static_cast<size_t>(s.state.step));
  while (s.state.step < c.steps) {
    const auto t0 = SteadyClock::now();
    std::vector<Sequence> batch_seqs;
    std::vector<size_t> indices;
    for (int64_t i = 0; i < c.batch_size; ++i) {
      indices.push_back(order.at(static_cast<uint64_t>(s.state.data_position++)));
      batch_seqs.push_back(sequences[indices.back()]);
    }
    LmBatch batch = to_device(make_lm_batch(batch_seqs, c.max_len, pad_id, c.pack), device);
    const LmStepResult r =
        lm_step(c, s.model(), *s.optimizer, *s.gradients, schedule, batch, terms, s.state.step, indices, ctx.world);
    ++s.state.step;
    s.log_batch("sequences", indices);
    const Metrics m = lm_step_metrics(c, r, batch, seconds_since(t0), terms, ctx.world);
    if (s.state.step % std::max<int64_t>(1, c.log_every) == 0 || s.state.step == c.steps) {
      ctx.run.log_metrics(ctx.spec.name, s.state.step, m);
    }
    bar.update(static_cast<size_t>(s.state.step), m.pick({"loss", "kl", "mtp_loss", "lr", "tokens_per_s"}));
    end_of_step(s, ctx, c.checkpoint, c.steps);
  }
  bar.finish();
  return finish_stage(s, ctx);
}

void LmTrainConfig::validate(const std::string& where) const {
  model.validate(where);
  optim.validate(where);
  R1_CHECK(!data.empty(), where, ": 'data' is required (a JSONL file or stage:NAME/file)");
  R1_CHECK(steps > 0 && batch_size > 0 && max_len > 1, where, ": steps, batch_size must be > 0 and max_len > 1");
  checkpoint.validate(where);
  R1_CHECK(micro_batch_rows >= 0 && log_every >= 0, where, ": micro_batch_rows and log_every must be >= 0");
  R1_CHECK(mtp_weight >= 0, where, ": mtp_weight must be >= 0");
}

}  // namespace r1::rl
