// See lm_trainer.h.
#include "rl/lm_trainer.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "datasets/prompt_template.h"
#include "datasets/sampler.h"
#include "datasets/sft_dataset.h"
#include "model/tokenizer/chat_template.h"
#include "rl/lm_batch.h"
#include "rl/logprobs.h"

namespace r1::rl {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

enum class LmKind { kPretrain, kSft };

std::vector<Sequence> pretrain_sequences(const LmTrainConfig& c, const model::Tokenizer& tok, const std::string& path,
                                         std::optional<int64_t> eos) {
  size_t skipped = 0;
  std::vector<std::string> texts = data::load_text_jsonl(path, c.text_key, c.skip_bad_lines, &skipped);
  if (skipped) std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", path.c_str(), skipped);
  std::vector<Sequence> out;
  out.reserve(texts.size());
  for (const auto& text : texts) {
    Sequence s;
    s.ids = tok.encode(text, /*add_special_tokens=*/true);
    if (c.add_eos && eos) s.ids.push_back(*eos);
    s.train.assign(s.ids.size(), 1);
    out.push_back(std::move(s));
  }
  return out;
}

// Appends the tokens of `text` to s, marking them trainable or not.
void append(Sequence& s, const std::vector<int64_t>& ids, bool train) {
  s.ids.insert(s.ids.end(), ids.begin(), ids.end());
  s.train.insert(s.train.end(), ids.size(), train ? 1 : 0);
}

}  // namespace

std::vector<Sequence> sft_sequences(const LmTrainConfig& c, const model::Tokenizer& tok, const std::string& path,
                                    std::optional<int64_t> eos, const std::string& where) {
  size_t skipped = 0;
  std::vector<data::Conversation> convs = data::load_chat_jsonl(path, c.skip_bad_lines, &skipped);
  if (skipped) std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", path.c_str(), skipped);
  std::vector<Sequence> out;
  out.reserve(convs.size());
  if (!c.prompt_template.empty()) {
    const std::string tmpl = data::resolve_prompt_template(c.prompt_template, where + ": prompt_template");
    for (const auto& conv : convs) {
      R1_CHECK(conv.messages.size() == 2 && conv.messages[0].role == "user" && conv.messages[1].role == "assistant",
               conv.origin, ": a prompt_template SFT row must be one user turn and one assistant turn");
      Sequence s;
      append(s, tok.encode(data::apply_prompt_template(tmpl, conv.messages[0].content), true), false);
      append(s, tok.encode(conv.messages[1].content, false), true);
      if (c.add_eos && eos) append(s, {*eos}, true);
      out.push_back(std::move(s));
    }
    return out;
  }
  const model::ChatTemplate chat = model::ChatTemplate::resolve(c.chat_template, tok);
  for (const auto& conv : convs) {
    model::ChatTokens t = model::tokenize_chat(tok, chat.render_segments(conv.messages));
    out.push_back(Sequence{std::move(t.ids), std::move(t.trainable)});
  }
  return out;
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
      at::Tensor mlogp = at::log_softmax(model.mtp_logits(mh), -1).gather(1, mt.unsqueeze(1)).squeeze(1);
      r.mtp_nll = r.mtp_nll.masked_scatter(r.mtp_mask, -mlogp);
    }
  }
  return r;
}

namespace {

std::string run_lm(const LmTrainConfig& c, StageContext& ctx, LmKind kind) {
  const std::string where = ctx.spec.where;
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  Policy policy = load_policy(c.model, ctx, where);
  const std::string data_path = ctx.resolve_ref(c.data);
  std::optional<int64_t> eos = policy.tokenizer->eos_id();
  if (!eos && !policy.model->config().eos_token_id.empty()) eos = policy.model->config().eos_token_id.front();
  std::vector<Sequence> sequences = kind == LmKind::kPretrain
                                        ? pretrain_sequences(c, *policy.tokenizer, data_path, eos)
                                        : sft_sequences(c, *policy.tokenizer, data_path, eos, where);
  R1_CHECK(!sequences.empty(), data_path, ": no training sequences");
  R1_CHECK(c.mtp_weight == 0 || policy.model->has_mtp(), where, ": mtp_weight = ", c.mtp_weight,
           " but the model has no MTP module (num_nextn_predict_layers = 0)");
  const int64_t pad_id = policy.tokenizer->pad_id().value_or(eos.value_or(0));

  // Resume: weights from the latest checkpoint, optimizer and data position from its trainer state.
  TrainerState state;
  std::optional<std::string> ckpt = ctx.resume ? latest_checkpoint(ctx.dir) : std::nullopt;
  if (ckpt) policy.model = model::CausalLM::load(*ckpt, policy.model->dtype());
  std::unique_ptr<AdamW> optimizer = make_optimizer(*policy.model, c.optim);
  if (ckpt) {
    state = load_trainer_state(*ckpt, *optimizer);
    std::fprintf(stderr, "%s: resumed from %s (step %ld)\n", ctx.spec.name.c_str(), ckpt->c_str(),
                 static_cast<long>(state.step));
  }
  ctx.run.forget_steps_after(ctx.spec.name, state.step);  // logged again below after a kill
  const ScheduleConfig schedule = c.optim.schedule_for(c.steps);
  data::ShuffledOrder order(sequences.size(), ctx.seed);
  model::CausalLM& model = *policy.model;

  ProgressBar bar(ctx.spec.name, static_cast<size_t>(c.steps), ctx.quiet);
  bar.start_at(static_cast<size_t>(state.step));
  while (state.step < c.steps) {
    const auto t0 = Clock::now();
    std::vector<Sequence> batch_seqs;
    for (int64_t i = 0; i < c.batch_size; ++i) batch_seqs.push_back(sequences[order.at(state.data_position++)]);
    LmBatch batch = make_lm_batch(batch_seqs, c.max_len, pad_id, c.pack);
    const int64_t rows = batch.input_ids.size(0);
    const int64_t micro = c.micro_batch_rows > 0 ? c.micro_batch_rows : rows;
    const double n_targets = std::max(1.0, batch.loss_mask.slice(1, 1).sum().item<double>());
    // MTP targets: token t+2 predicted from position t, all three in the same packed sequence.
    double n_mtp = 1.0;
    if (c.mtp_weight > 0) {
      at::Tensor mtp_mask = batch.loss_mask.slice(1, 2) *
                            (batch.segment_ids.slice(1, 0, -2) == batch.segment_ids.slice(1, 2)).to(at::kFloat);
      n_mtp = std::max(1.0, mtp_mask.sum().item<double>());
    }
    double loss_sum = 0, mtp_loss_sum = 0, balance_sum = 0;
    std::vector<at::Tensor> loads;
    for (int64_t r0 = 0; r0 < rows; r0 += micro) {
      const int64_t r1 = std::min(rows, r0 + micro);
      LmTokenLosses tl = lm_token_losses(model, batch, r0, r1, c.mtp_weight > 0, c.moe.seq_aux_alpha > 0);
      model::ForwardOutput& out = tl.forward;
      accumulate_expert_load(loads, out.expert_load);
      at::Tensor loss = tl.nll.sum() / n_targets;
      loss_sum += loss.item<double>();
      if (c.mtp_weight > 0) {
        at::Tensor mtp_loss = tl.mtp_nll.sum() / n_mtp;
        mtp_loss_sum += mtp_loss.item<double>();
        loss = loss + c.mtp_weight * mtp_loss;
      }
      if (c.moe.seq_aux_alpha > 0 && out.seq_balance_loss.defined()) {
        at::Tensor bal = out.seq_balance_loss * (static_cast<double>(r1 - r0) / rows);
        balance_sum += bal.item<double>();
        loss = loss + c.moe.seq_aux_alpha * bal;
      }
      loss.backward();
    }
    auto [grad_norm, lr] = optimizer_update(*optimizer, c.optim, schedule);
    if (c.moe.bias_update_speed > 0 && !loads.empty()) model.update_expert_bias(loads, c.moe.bias_update_speed);
    ++state.step;

    const double step_s = seconds_since(t0);
    Metrics m;
    m.set("loss", loss_sum);
    if (c.mtp_weight > 0) m.set("mtp_loss", mtp_loss_sum);
    if (c.moe.seq_aux_alpha > 0) m.set("seq_balance_loss", balance_sum);
    m.set("lr", lr);
    m.set("grad_norm", grad_norm);
    m.set("tokens", n_targets);
    m.set("tokens_per_s", batch.segment_ids.gt(0).sum().item<double>() / step_s);
    m.set("truncated", static_cast<double>(batch.truncated));
    m.set("step_s", step_s);
    record_expert_load(loads, m);
    if (state.step % std::max<int64_t>(1, c.log_every) == 0 || state.step == c.steps) {
      ctx.run.log_metrics(ctx.spec.name, state.step, m);
    }
    bar.update(static_cast<size_t>(state.step), m.pick({"loss", "mtp_loss", "lr", "tokens_per_s"}));
    if (c.save_every > 0 && state.step % c.save_every == 0 && state.step < c.steps) {
      save_checkpoint(ctx.dir, model, policy.tokenizer_dir, *optimizer, state, c.keep_last);
    }
  }
  bar.finish();
  const std::string final_dir = path_join(ctx.dir, "final");
  model.save(final_dir, policy.tokenizer_dir);
  return final_dir;
}

}  // namespace

void LmTrainConfig::validate(const std::string& where) const {
  model.validate(where);
  optim.validate(where);
  R1_CHECK(!data.empty(), where, ": 'data' is required (a JSONL file or stage:NAME/file)");
  R1_CHECK(steps > 0 && batch_size > 0 && max_len > 1, where, ": steps, batch_size must be > 0 and max_len > 1");
  R1_CHECK(micro_batch_rows >= 0 && log_every >= 0 && save_every >= 0 && keep_last >= 0, where,
           ": micro_batch_rows, log_every, save_every and keep_last must be >= 0");
  R1_CHECK(mtp_weight >= 0, where, ": mtp_weight must be >= 0");
  R1_CHECK(chat_template.empty() || prompt_template.empty(), where,
           ": give chat_template or prompt_template, not both");
}

std::unique_ptr<Stage> make_pretrain_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<LmTrainConfig>>(
      spec, [](const LmTrainConfig& c, StageContext& ctx) { return run_lm(c, ctx, LmKind::kPretrain); });
}

std::unique_ptr<Stage> make_sft_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<LmTrainConfig>>(
      spec, [](const LmTrainConfig& c, StageContext& ctx) { return run_lm(c, ctx, LmKind::kSft); });
}

}  // namespace r1::rl
