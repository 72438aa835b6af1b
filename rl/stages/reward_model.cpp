// See reward_model.h. The data become RmRows (one or two token sequences and a target per row), then the loop runs
// on the trainer skeleton; losses and the reading of scores live in rl/reward_model_scoring.h.
// Letters: b rows of a micro-batch, n sequences of it (2b pairwise, b pointwise).
#include "rl/stages/reward_model.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdio>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "datasets/preference_dataset.h"
#include "datasets/sampler.h"
#include "rl/stages/sft.h"

namespace r1::rl {
namespace {

// One training / evaluation row: pairwise (first = chosen, second = rejected, target = margin) or pointwise
// (first = the response, target = the label).
struct RmRow {
  std::vector<int64_t> first, second;
  double target = 0;
};

struct RmRows {
  std::vector<RmRow> rows;
  int64_t truncated = 0;  // sequences cut to max_len
};

RmRows encode_rows(const RewardModelConfig& c, const RmEncoder& encoder, const std::string& path) {
  RmRows out;
  size_t skipped = 0;
  auto encode = [&](std::vector<ChatMessage> conv, const std::string& origin) {
    RmEncoder::Encoded e = encoder.encode(std::move(conv), origin);
    out.truncated += e.truncated;
    return std::move(e.ids);
  };
  if (c.mode == RmMode::kPairwise) {
    for (data::PreferencePair& p : data::load_preference_jsonl(path, c.skip_bad_lines, &skipped)) {
      RmRow row{encode(std::move(p.chosen), p.origin + ": chosen"), encode(std::move(p.rejected), p.origin + ": rejected"),
                p.margin.value_or(c.margin)};
      out.rows.push_back(std::move(row));
    }
  } else {
    for (data::PointwiseExample& e : data::load_pointwise_jsonl(path, c.skip_bad_lines, &skipped)) {
      out.rows.push_back(RmRow{encode(std::move(e.conversation), e.origin), {}, e.label});
    }
  }
  if (skipped) std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", path.c_str(), skipped);
  R1_CHECK(!out.rows.empty(), path, ": no ", c.mode == RmMode::kPairwise ? "preference pairs" : "labelled examples");
  if (out.truncated) {
    std::fprintf(stderr, "warning: %s: %ld sequences longer than max_len = %ld keep their last %ld tokens\n",
                 path.c_str(), static_cast<long>(out.truncated), static_cast<long>(c.max_len),
                 static_cast<long>(c.max_len));
  }
  return out;
}

// The policy as a reward model: a causal LM becomes a sequence classifier (fresh score head), the tokenizer gets
// the chat template (make_chat_model), and config.json's pad_token_id is the tokenizer's pad token.
Policy reward_model_policy(const RewardModelConfig& c, StageContext& ctx) {
  Policy policy = load_policy(c.model, ctx, ctx.spec.where);
  make_chat_model(policy, c.chat_template, ctx);
  const std::optional<int64_t> pad = policy.tokenizer->pad_id();
  R1_CHECK(pad.has_value(), ctx.spec.where, ": the tokenizer has no pad token; a reward model reads its score at the "
           "last non-pad token, so it needs one");
  if (!policy.model->config().is_sequence_classifier()) {
    policy.model = model::CausalLM::to_sequence_classifier(*policy.model, /*num_labels=*/1, ctx.seed, *pad);
  }
  R1_CHECK(policy.model->config().pad_token_id.has_value(), ctx.spec.where, ": the reward model's config has no "
           "pad_token_id; add \"pad_token_id\": ", *pad, " (the tokenizer's pad token) to its config");
  return policy;
}

// Per-row losses [b] of a micro-batch from its scores (first [b], second [b] pairwise), and their statistics.
at::Tensor row_losses(RmMode mode, const at::Tensor& first, const at::Tensor& second, const at::Tensor& target) {
  return mode == RmMode::kPairwise ? pairwise_rm_loss(first, second, target) : pointwise_rm_loss(first, target);
}

// Sums over the rows of a step (or an evaluation) for its metrics.
struct RmTally {
  double loss = 0, correct = 0, margin = 0, score_sum = 0, score_sq = 0;
  int64_t rows = 0, scores = 0, tokens = 0;

  void add(RmMode mode, const at::Tensor& losses, const at::Tensor& first, const at::Tensor& second,
           const at::Tensor& target) {
    loss += losses.sum().item<double>();
    rows += losses.size(0);
    at::Tensor all = first;
    if (mode == RmMode::kPairwise) {
      correct += first.gt(second).sum().item<double>();
      margin += (first - second).sum().item<double>();
      all = at::cat({first, second});
    } else {
      correct += first.gt(0).eq(target.ge(0.5)).sum().item<double>();
    }
    score_sum += all.sum().item<double>();
    score_sq += all.square().sum().item<double>();
    scores += all.size(0);
  }
  // Every rank's tally summed (data parallelism: each rank ran a share of the rows).
  void reduce(const dist::World& world) {
    if (world.size() == 1) return;
    std::vector<at::Tensor> t = {at::tensor({loss, correct, margin, score_sum, score_sq, static_cast<double>(rows),
                                             static_cast<double>(scores), static_cast<double>(tokens)},
                                            at::kDouble)};
    world.all_reduce_sum(t);
    const auto v = [&](int64_t i) { return t[0][i].item<double>(); };
    loss = v(0), correct = v(1), margin = v(2), score_sum = v(3), score_sq = v(4);
    rows = static_cast<int64_t>(v(5)), scores = static_cast<int64_t>(v(6)), tokens = static_cast<int64_t>(v(7));
  }
  void write(RmMode mode, Metrics& m, const std::string& prefix) const {
    const double n = std::max<double>(1, static_cast<double>(rows)), k = std::max<double>(1, static_cast<double>(scores));
    const double mean = score_sum / k;
    m.set(prefix + "loss", loss / n);
    m.set(prefix + "accuracy", correct / n);
    m.set(prefix + "reward_mean", mean);
    m.set(prefix + "reward_std", std::sqrt(std::max(0.0, score_sq / k - mean * mean)));
    if (mode == RmMode::kPairwise) m.set(prefix + "margin_mean", margin / n);
  }
};

// Scores of the rows: first and second [b] (second undefined pointwise), in one forward over their sequences.
std::pair<at::Tensor, at::Tensor> score_rows(const model::CausalLM& model, const std::vector<const RmRow*>& rows,
                                             RmMode mode, int64_t pad_id, int64_t& tokens) {
  std::vector<const std::vector<int64_t>*> seqs;
  for (const RmRow* r : rows) seqs.push_back(&r->first);
  if (mode == RmMode::kPairwise) {
    for (const RmRow* r : rows) seqs.push_back(&r->second);
  }
  const RmBatch batch = rm_batch(seqs, pad_id, model.device());
  tokens += batch.tokens;
  const at::Tensor scores = rm_scores(model, batch);  // [n]
  const int64_t b = static_cast<int64_t>(rows.size());
  if (mode == RmMode::kPairwise) return {scores.slice(0, 0, b), scores.slice(0, b, 2 * b)};
  return {scores, at::Tensor()};
}

at::Tensor targets_of(const std::vector<const RmRow*>& rows, at::Device device) {
  std::vector<float> t;
  for (const RmRow* r : rows) t.push_back(static_cast<float>(r->target));
  return at::tensor(t, at::kFloat).to(device);
}

// One optimizer step over the step's rows; returns its metrics. With several ranks each runs its share of the
// rows (the loss is normalised by the whole step's row count) and the gradients and tallies are summed.
Metrics rm_step(const RewardModelConfig& c, TrainingSession& s, const ScheduleConfig& schedule,
                const std::vector<const RmRow*>& rows, int64_t pad_id, const dist::World& world) {
  model::CausalLM& model = s.model();
  const int64_t b = static_cast<int64_t>(rows.size());
  const int64_t micro = c.micro_batch_size > 0 ? std::min(c.micro_batch_size, b) : b;
  const auto [first_row, end_row] = world.share(b);
  RmTally tally;
  for (int64_t r0 = first_row; r0 < end_row; r0 += micro) {
    const std::vector<const RmRow*> part(rows.begin() + r0, rows.begin() + std::min(end_row, r0 + micro));
    auto [first, second] = score_rows(model, part, c.mode, pad_id, tally.tokens);
    const at::Tensor target = targets_of(part, model.device());
    const at::Tensor losses = row_losses(c.mode, first, second, target);
    if (r0 + micro >= end_row) s.gradients->arm();  // the step's last backward
    (losses.sum() / static_cast<double>(b)).backward();
    tally.add(c.mode, losses.detach(), first.detach(), second.defined() ? second.detach() : second, target);
  }
  const double allreduce_s = s.gradients->finish();
  tally.reduce(world);
  Metrics m;
  tally.write(c.mode, m, "");
  if (allreduce_s > 0) {
    m.set("allreduce_s", allreduce_s);
    m.set("allreduce_early_buckets", static_cast<double>(s.gradients->buckets_sent_early()));
  }
  const auto [grad_norm, lr] = optimizer_update(*s.optimizer, c.optim, schedule);
  m.set("lr", lr);
  m.set("grad_norm", grad_norm);
  m.set("tokens", static_cast<double>(tally.tokens));
  return m;
}

// Loss, accuracy and score statistics of the model on `rows` (no gradients).
RmTally evaluate_rows(const RewardModelConfig& c, const model::CausalLM& model, const RmRows& data, int64_t pad_id) {
  at::NoGradGuard no_grad;
  RmTally tally;
  const int64_t per_forward = std::max<int64_t>(1, c.mode == RmMode::kPairwise ? c.eval_batch_size / 2 : c.eval_batch_size);
  for (size_t r0 = 0; r0 < data.rows.size(); r0 += static_cast<size_t>(per_forward)) {
    std::vector<const RmRow*> part;
    for (size_t i = r0; i < std::min(data.rows.size(), r0 + static_cast<size_t>(per_forward)); ++i) part.push_back(&data.rows[i]);
    auto [first, second] = score_rows(model, part, c.mode, pad_id, tally.tokens);
    const at::Tensor target = targets_of(part, model.device());
    tally.add(c.mode, row_losses(c.mode, first, second, target), first, second, target);
  }
  return tally;
}

void write_eval_json(const RewardModelConfig& c, const RmTally& tally, int64_t step, const StageContext& ctx) {
  Metrics m;
  tally.write(c.mode, m, "");
  json::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  doc.AddMember("mode", json::Value(enum_name(c.mode), a), a);
  doc.AddMember("rows", json::Value(tally.rows), a);
  doc.AddMember("step", json::Value(step), a);
  for (const auto& [key, value] : m.items()) doc.AddMember(json::Value(key.c_str(), a), json::Value(value), a);
  write_file_atomic(path_join(ctx.dir, "eval.json"), json::dump(doc, /*pretty=*/true) + "\n");
}

// final/r1_reward_model.json: how the model reads its input, so the reward_model reward scores as it was trained
// (rl/reward_model_reward.h: score_part "as_trained", max_len 0).
void write_training_settings(const RewardModelConfig& c, const std::string& final_dir) {
  json::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  doc.AddMember("mode", json::Value(enum_name(c.mode), a), a);
  doc.AddMember("score_part", json::Value(enum_name(c.score_part), a), a);
  doc.AddMember("max_len", json::Value(c.max_len), a);
  write_file_atomic(path_join(final_dir, kRewardModelSettingsFile), json::dump(doc, /*pretty=*/true) + "\n");
}

std::string run_reward_model(const RewardModelConfig& c, StageContext& ctx) {
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  Policy policy = reward_model_policy(c, ctx);
  const int64_t pad_id = rm_pad_id(*policy.model, ctx.spec.where);
  const RmEncoder encoder{*policy.tokenizer, model::ChatTemplate::resolve(c.chat_template, *policy.tokenizer),
                          c.score_part, c.max_len, pad_id};
  const RmRows train = encode_rows(c, encoder, ctx.resolve_ref(c.data));
  const RmRows eval = c.eval_data.empty() ? RmRows{} : encode_rows(c, encoder, ctx.resolve_ref(c.eval_data));

  TrainingSession s = resume_or_start(std::move(policy), c.optim, ctx);
  const ScheduleConfig schedule = c.optim.schedule_for(c.steps);
  data::ShuffledOrder order(train.rows.size(), ctx.seed);
  ProgressBar bar(ctx.spec.name, static_cast<size_t>(c.steps), ctx.quiet);
  bar.start_at(static_cast<size_t>(s.state.step));
  while (s.state.step < c.steps) {
    const auto t0 = SteadyClock::now();
    std::vector<size_t> indices;
    std::vector<const RmRow*> rows;
    for (int64_t i = 0; i < c.batch_size; ++i) {
      indices.push_back(order.at(static_cast<uint64_t>(s.state.data_position++)));
      rows.push_back(&train.rows[indices.back()]);
    }
    Metrics m = rm_step(c, s, schedule, rows, pad_id, ctx.world);
    ++s.state.step;
    s.log_batch("rows", indices);
    const bool last = s.state.step == c.steps;
    // The held-out evaluation runs on rank 0, which logs and writes it.
    if (ctx.run.writer() && !eval.rows.empty() && (last || (c.eval_every > 0 && s.state.step % c.eval_every == 0))) {
      const RmTally tally = evaluate_rows(c, s.model(), eval, pad_id);
      tally.write(c.mode, m, "eval/");
      if (last) write_eval_json(c, tally, s.state.step, ctx);
    }
    const double step_s = seconds_since(t0);
    m.set("tokens_per_s", m.get("tokens") / step_s);
    m.set("truncated", static_cast<double>(train.truncated));
    m.set("step_s", step_s);
    if (s.state.step % std::max<int64_t>(1, c.log_every) == 0 || last) ctx.run.log_metrics(ctx.spec.name, s.state.step, m);
    bar.update(static_cast<size_t>(s.state.step), m.pick({"loss", "accuracy", "eval/accuracy", "lr", "tokens_per_s"}));
    end_of_step(s, ctx, c.checkpoint, c.steps);
  }
  bar.finish();
  const std::string final_dir = finish_stage(s, ctx);
  if (ctx.run.writer()) write_training_settings(c, final_dir);
  return final_dir;
}

}  // namespace

const std::vector<std::pair<RmMode, const char*>>& enum_names(RmMode) {
  static const std::vector<std::pair<RmMode, const char*>> names = {{RmMode::kPairwise, "pairwise"},
                                                                    {RmMode::kPointwise, "pointwise"}};
  return names;
}

void RewardModelConfig::validate(const std::string& where) const {
  model.validate(where);
  optim.validate(where);
  checkpoint.validate(where);
  check_chat_template(chat_template, model, where);
  R1_CHECK(!data.empty(), where, ": 'data' is required (a pairwise or pointwise JSONL file, or stage:NAME/file)");
  R1_CHECK(steps > 0 && batch_size > 0 && max_len > 1, where, ": steps and batch_size must be > 0 and max_len > 1");
  R1_CHECK(micro_batch_size >= 0 && eval_every >= 0 && log_every >= 0, where,
           ": micro_batch_size, eval_every and log_every must be >= 0");
  R1_CHECK(eval_batch_size > 0, where, ": eval_batch_size must be > 0");
  R1_CHECK(std::isfinite(margin), where, ": margin must be a finite number");
  R1_CHECK(mode == RmMode::kPairwise || margin == 0, where, ": margin applies to pairwise mode only");
}

std::unique_ptr<Stage> make_reward_model_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<RewardModelConfig>>(spec, run_reward_model);
}

}  // namespace r1::rl
