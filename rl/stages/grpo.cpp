// See grpo.h.
// Letters: N sequences in the step's batch (groups × G), L padded sequence length, H hidden size.
#include "rl/stages/grpo.h"

#include <ATen/core/grad_mode.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <future>

#include "common/error.h"
#include "common/fs.h"
#include "common/jsonl.h"
#include "common/progress.h"
#include "datasets/sampler.h"
#include "model/safetensors.h"
#include "rl/advantages.h"
#include "rl/grpo_loss.h"
#include "rl/logprobs.h"

namespace r1::rl {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return x & 0x7FFFFFFFFFFFFFFFull;
}

// The training batch: prompt + completion tokens, right-padded.
struct SequenceBatch {
  at::Tensor input_ids;  // [N, L]
  at::Tensor attention;  // [N, L] 1 on real tokens
  at::Tensor comp_mask;  // [N, L-1] 1 where token t+1 is a completion token that carries loss
  at::Tensor rewards;    // [N]
};

SequenceBatch build_batch(const std::vector<const Completion*>& comps, int64_t pad_id, bool mask_truncated) {
  const int64_t n = static_cast<int64_t>(comps.size());
  int64_t L = 2;
  for (const auto* c : comps) {
    L = std::max<int64_t>(L, static_cast<int64_t>(c->prompt_ids.size() + c->generation.tokens.size()));
  }
  SequenceBatch b;
  b.input_ids = at::full({n, L}, pad_id, at::kLong);
  b.attention = at::zeros({n, L}, at::kLong);
  b.comp_mask = at::zeros({n, L - 1}, at::kFloat);
  b.rewards = at::empty({n}, at::kFloat);
  auto ids = b.input_ids.accessor<int64_t, 2>();
  auto att = b.attention.accessor<int64_t, 2>();
  auto cm = b.comp_mask.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const Completion& c = *comps[i];
    const int64_t p = static_cast<int64_t>(c.prompt_ids.size());
    const int64_t g = static_cast<int64_t>(c.generation.tokens.size());
    for (int64_t t = 0; t < p; ++t) ids[i][t] = c.prompt_ids[t];
    for (int64_t t = 0; t < g; ++t) ids[i][p + t] = c.generation.tokens[t];
    for (int64_t t = 0; t < p + g; ++t) att[i][t] = 1;
    const bool counts = !(mask_truncated && c.generation.truncated());
    for (int64_t t = p; t < p + g && counts; ++t) cm[i][t - 1] = 1.0f;
    b.rewards[i] = static_cast<float>(c.score.value);
  }
  return b;
}

struct SeqLogprobs {
  at::Tensor logp;     // [n, L-1], zeros outside comp_mask
  at::Tensor entropy;  // [n, L-1], detached
  std::vector<at::Tensor> expert_load;
};

// Log-probs of the completion tokens of rows [r0, r1) under `model`, via chunked LM-head log-probs.
SeqLogprobs sequence_logprobs(const model::CausalLM& model, const SequenceBatch& b, int64_t r0, int64_t r1,
                              double temperature, int64_t chunk, bool with_entropy) {
  at::Tensor ids = b.input_ids.slice(0, r0, r1);                // [n, L]
  model::ForwardOutput out = model.forward(ids, b.attention.slice(0, r0, r1));
  at::Tensor mask = b.comp_mask.slice(0, r0, r1);                // [n, L-1]
  at::Tensor sel = mask > 0;
  at::Tensor h = out.hidden.slice(1, 0, -1).index({sel});         // [m, H]
  at::Tensor targets = ids.slice(1, 1).index({sel});              // [m]
  TokenLogprobs tl = chunked_token_logprobs(h, model.lm_head_weight(), targets, temperature, chunk, with_entropy);
  SeqLogprobs r;
  r.logp = at::zeros(mask.sizes(), tl.logp.options()).masked_scatter(sel, tl.logp);  // [n, L-1]
  if (with_entropy) r.entropy = at::zeros(mask.sizes(), tl.entropy.options()).masked_scatter(sel, tl.entropy);
  r.expert_load = std::move(out.expert_load);
  return r;
}

// Detached log-probs of all rows, micro-batched, without building a graph.
at::Tensor no_grad_logprobs(const model::CausalLM& model, const SequenceBatch& b, int64_t micro, double temperature,
                            int64_t chunk) {
  at::NoGradGuard no_grad;
  const int64_t n = b.input_ids.size(0);
  std::vector<at::Tensor> parts;
  for (int64_t r0 = 0; r0 < n; r0 += micro) {
    parts.push_back(sequence_logprobs(model, b, r0, std::min(n, r0 + micro), temperature, chunk, false).logp);
  }
  return at::cat(parts, 0);  // [N, L-1]
}

void add_component_metrics(const std::vector<const Completion*>& comps, Metrics& m) {
  // Mean and std of the total and of every component, over all scored completions of the step.
  std::vector<std::string> names;
  std::map<std::string, std::vector<double>> values;
  for (const auto* c : comps) {
    values["reward"].push_back(c->score.value);
    for (const auto& [k, v] : c->score.components) {
      if (!values.count("reward/" + k)) names.push_back("reward/" + k);
      values["reward/" + k].push_back(v);
    }
  }
  names.insert(names.begin(), "reward");
  for (const auto& name : names) {
    const auto& v = values[name];
    double mean = 0, sq = 0;
    for (double x : v) mean += x;
    mean /= std::max<size_t>(1, v.size());
    for (double x : v) sq += (x - mean) * (x - mean);
    m.set(name, mean);
    m.set(name + "_std", std::sqrt(sq / std::max<size_t>(1, v.size())));
  }
}

std::string run_grpo(const GrpoConfig& c, StageContext& ctx) {
  const std::string where = ctx.spec.where;
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  Policy policy = load_policy(c.model, ctx, where);
  const std::vector<data::PromptExample> examples = c.data.load(ctx);
  const PromptRenderer renderer(c.data, *policy.tokenizer, where);
  const rewards::RewardPtr reward = make_reward(c.reward, where);
  ThreadPool pool(c.reward_threads > 0 ? static_cast<size_t>(c.reward_threads) : 0);

  GrpoLossConfig loss_cfg;
  loss_cfg.epsilon_low = c.grpo.epsilon_low;
  loss_cfg.epsilon_high = c.grpo.epsilon_high;
  loss_cfg.dual_clip = c.grpo.dual_clip;
  loss_cfg.beta = c.grpo.beta;
  loss_cfg.kl_estimator = kl_estimator_from_string(c.grpo.kl_estimator, where + ": grpo.kl_estimator");
  loss_cfg.aggregation = loss_aggregation_from_string(c.grpo.aggregation, where + ": grpo.aggregation");
  loss_cfg.constant_normalizer =
      c.grpo.constant_normalizer > 0 ? c.grpo.constant_normalizer : static_cast<double>(c.sampling.max_new_tokens);
  const AdvantageMode adv_mode = advantage_mode_from_string(c.grpo.advantage, where + ": grpo.advantage");
  const double logprob_temperature = c.sampling.temperature > 0 ? c.sampling.temperature : 1.0;

  // Resume: policy weights, optimizer, step, data position, and the reference the run had.
  TrainerState state;
  std::optional<std::string> ckpt = ctx.resume ? latest_checkpoint(ctx.dir) : std::nullopt;
  std::unique_ptr<model::CausalLM> reference;
  if (c.grpo.beta != 0) reference = policy.model->clone();  // the initial policy
  int64_t ref_reset_step = 0;
  if (ckpt) {
    policy.model = model::CausalLM::load(*ckpt, policy.model->dtype());
  }
  std::unique_ptr<AdamW> optimizer = make_optimizer(*policy.model, c.optim);
  if (ckpt) {
    state = load_trainer_state(*ckpt, *optimizer);
    json::Document extra = json::parse(state.extra_json, *ckpt + "/trainer_state.json: extra");
    ref_reset_step = json::opt_int(extra, "ref_reset_step", *ckpt).value_or(0);
    if (reference && ref_reset_step > 0) {
      reference = model::CausalLM::load(path_join(*ckpt, "reference"), policy.model->dtype());
    }
    std::fprintf(stderr, "%s: resumed from %s (step %ld)\n", ctx.spec.name.c_str(), ckpt->c_str(),
                 static_cast<long>(state.step));
  }
  if (reference) reference->set_requires_grad(false);
  model::CausalLM& model = *policy.model;
  const int64_t total_updates = c.steps * c.epochs * c.minibatches;
  const ScheduleConfig schedule = c.optim.schedule_for(total_updates);
  data::ShuffledOrder order(examples.size(), ctx.seed);
  const int64_t pad_id = policy.tokenizer->pad_id().value_or(stop_token_ids(policy).empty() ? 0 : stop_token_ids(policy)[0]);
  // What a killed run logged after its last checkpoint is logged again below: forget it first.
  ctx.run.forget_steps_after(ctx.spec.name, state.step);
  const std::string batch_log_path = path_join(ctx.dir, "batches.jsonl");
  filter_jsonl(batch_log_path, [&](const json::Value& line) {
    const json::Value* step = json::find(line, "step");
    return step && step->IsInt64() && step->GetInt64() <= state.step;
  });
  JsonlWriter batch_log(batch_log_path);

  ProgressBar bar(ctx.spec.name, static_cast<size_t>(c.steps), ctx.quiet);
  bar.start_at(static_cast<size_t>(state.step));
  while (state.step < c.steps) {
    const auto t_step = Clock::now();
    const uint64_t step_seed = mix_seed(ctx.seed, static_cast<uint64_t>(state.step));
    Metrics m;

    // 1–3. Rollouts (with dynamic-sampling refills) and rewards.
    std::vector<std::unique_ptr<Rollout>> rollouts;
    std::vector<const Completion*> kept;
    std::vector<size_t> data_indices;
    int64_t groups_kept = 0, groups_seen = 0, groups_zero_var = 0, sampled_tokens = 0;
    double gen_s = 0, reward_s = 0, ref_s = 0;
    std::future<void> pending_scores;
    const int64_t rounds = c.dapo.dynamic_sampling ? c.dapo.max_sampling_rounds : 1;
    for (int64_t round = 0; round < rounds && groups_kept < c.prompts_per_step; ++round) {
      std::vector<const data::PromptExample*> prompts;
      for (int64_t i = groups_kept; i < c.prompts_per_step; ++i) {
        size_t idx = order.at(static_cast<uint64_t>(state.data_position++));
        data_indices.push_back(idx);
        prompts.push_back(&examples[idx]);
      }
      auto rollout = std::make_unique<Rollout>(generate_rollout(policy, renderer, prompts, c.group_size, c.sampling,
                                                                mix_seed(step_seed, static_cast<uint64_t>(round))));
      gen_s += rollout->generate_s;
      sampled_tokens += rollout->generated_tokens;
      Rollout* r = rollout.get();
      if (!c.dapo.dynamic_sampling) {
        // Nothing needs the scores before the log-prob passes: score concurrently with them.
        pending_scores = std::async(std::launch::async, [&, r] { score_rollout(*r, *reward, &pool); });
        for (const auto& comp : r->completions) kept.push_back(&comp);
        groups_kept = static_cast<int64_t>(prompts.size());
        groups_seen += groups_kept;
      } else {
        score_rollout(*r, *reward, &pool);
        reward_s += r->reward_s;
        for (size_t g = 0; g < prompts.size() && groups_kept < c.prompts_per_step; ++g) {
          ++groups_seen;
          const auto* first = &r->completions[g * c.group_size];
          bool all_equal = true;
          for (int64_t k = 1; k < c.group_size; ++k) all_equal &= first[k].score.value == first[0].score.value;
          if (all_equal) {
            ++groups_zero_var;
            continue;
          }
          for (int64_t k = 0; k < c.group_size; ++k) kept.push_back(first + k);
          ++groups_kept;
        }
      }
      rollouts.push_back(std::move(rollout));
    }
    {
      json::Document line(rapidjson::kObjectType);
      auto& a = line.GetAllocator();
      line.AddMember("step", json::Value(state.step + 1), a);
      json::Value list(rapidjson::kArrayType);
      for (size_t idx : data_indices) list.PushBack(json::Value(static_cast<uint64_t>(idx)), a);
      line.AddMember("prompts", list, a);
      batch_log.write_line(line);
    }

    double update_s = 0;
    GrpoLossOutput last_loss;
    double kl_sum = 0, clip_low = 0, clip_high = 0, dual = 0, ratio_sum = 0, ratio_max = 0, tok_sum = 0, ent_sum = 0,
           pg_sum = 0, grad_norm = 0, lr = 0, loss_sum = 0;
    if (!kept.empty()) {
      SequenceBatch batch = build_batch(kept, pad_id, c.dapo.mask_truncated);
      const int64_t n = batch.input_ids.size(0);
      const int64_t minibatch = (n + c.minibatches - 1) / c.minibatches;
      const int64_t micro = c.micro_batch_size > 0 ? std::min(c.micro_batch_size, minibatch) : minibatch;
      // Prompt + completion tokens of the batch (pads excluded), and rows x padded length as computed.
      m.set("batch_tokens", batch.attention.sum().item<double>());
      m.set("batch_padded_tokens", static_cast<double>(batch.input_ids.numel()));

      // π_old and π_ref passes (while the rewards are being scored).
      const auto t_ref = Clock::now();
      at::Tensor old_logp, ref_logp;
      const bool single_update = c.epochs == 1 && c.minibatches == 1;
      if (!single_update) old_logp = no_grad_logprobs(model, batch, micro, logprob_temperature, c.logprob_chunk);
      if (reference) ref_logp = no_grad_logprobs(*reference, batch, micro, logprob_temperature, c.logprob_chunk);
      ref_s = since(t_ref);
      if (pending_scores.valid()) {
        pending_scores.get();
        for (const auto& r : rollouts) reward_s += r->reward_s;
        for (int64_t i = 0; i < n; ++i) batch.rewards[i] = static_cast<float>(kept[i]->score.value);
        for (int64_t g = 0; g < groups_kept; ++g) {
          bool all_equal = true;
          for (int64_t k = 1; k < c.group_size; ++k) {
            all_equal &= kept[g * c.group_size + k]->score.value == kept[g * c.group_size]->score.value;
          }
          groups_zero_var += all_equal;
        }
      }
      const at::Tensor advantages = group_advantages(batch.rewards, c.group_size, adv_mode, c.grpo.advantage_eps);

      // 5. μ passes × minibatches updates, micro-batched.
      const auto t_update = Clock::now();
      int64_t updates = 0;
      for (int64_t epoch = 0; epoch < c.epochs; ++epoch) {
        for (int64_t mb0 = 0; mb0 < n; mb0 += minibatch) {
          const int64_t mb1 = std::min(n, mb0 + minibatch);
          const double n_seq = static_cast<double>(mb1 - mb0);
          const double n_tok = std::max(1.0, batch.comp_mask.slice(0, mb0, mb1).sum().item<double>());
          std::vector<at::Tensor> loads;
          for (int64_t r0 = mb0; r0 < mb1; r0 += micro) {
            const int64_t r1 = std::min(mb1, r0 + micro);
            SeqLogprobs cur = sequence_logprobs(model, batch, r0, r1, logprob_temperature, c.logprob_chunk, epoch == 0);
            accumulate_expert_load(loads, cur.expert_load);
            GrpoLossInputs in;
            in.logp = cur.logp;
            in.old_logp = single_update ? cur.logp.detach() : old_logp.slice(0, r0, r1);
            if (reference) in.ref_logp = ref_logp.slice(0, r0, r1);
            in.advantages = advantages.slice(0, r0, r1);
            in.mask = batch.comp_mask.slice(0, r0, r1);
            in.n_seq = n_seq;
            in.n_tok = n_tok;
            GrpoLossOutput out = grpo_loss(in, loss_cfg);
            out.loss.backward();
            loss_sum += out.loss.item<double>();
            if (epoch == 0 && cur.entropy.defined()) ent_sum += (cur.entropy * in.mask).sum().item<double>();
            kl_sum += out.kl * out.tokens;
            clip_low += out.clip_frac_low * out.tokens;
            clip_high += out.clip_frac_high * out.tokens;
            dual += out.dual_clip_frac * out.tokens;
            ratio_sum += out.ratio_mean * out.tokens;
            pg_sum += out.pg_loss * out.tokens;
            ratio_max = std::max(ratio_max, out.ratio_max);
            tok_sum += out.tokens;
          }
          auto [norm, step_lr] = optimizer_update(*optimizer, c.optim, schedule);
          grad_norm = norm;
          lr = step_lr;
          ++updates;
          if (c.moe.bias_update_speed > 0 && !loads.empty()) model.update_expert_bias(loads, c.moe.bias_update_speed);
          if (epoch == 0 && mb0 == 0) record_expert_load(loads, m);
        }
      }
      update_s = since(t_update);
      const double tokens = std::max(1.0, tok_sum);
      const double first_pass_tokens = std::max(1.0, batch.comp_mask.sum().item<double>());
      m.set("loss", loss_sum / static_cast<double>(std::max<int64_t>(1, updates)));
      m.set("pg_loss", pg_sum / tokens);
      m.set("kl", kl_sum / tokens);
      m.set("clip_frac_low", clip_low / tokens);
      m.set("clip_frac_high", clip_high / tokens);
      if (c.grpo.dual_clip > 0) m.set("dual_clip_frac", dual / tokens);
      m.set("ratio_mean", ratio_sum / tokens);
      m.set("ratio_max", ratio_max);
      m.set("entropy", ent_sum / first_pass_tokens);
      m.set("grad_norm", grad_norm);
      m.set("lr", lr);
    } else if (pending_scores.valid()) {
      pending_scores.get();
    }
    ++state.step;
    if (reference && c.ref_reset_every > 0 && state.step % c.ref_reset_every == 0) {
      reference->copy_parameters_from(model);
      ref_reset_step = state.step;
    }

    // Diagnostics.
    add_component_metrics(kept, m);
    double acc_sum = 0, len_sum = 0, len_max = 0, trunc = 0;
    int64_t acc_n = 0;
    for (const auto* comp : kept) {
      const double len = static_cast<double>(comp->generation.tokens.size());
      len_sum += len;
      len_max = std::max(len_max, len);
      trunc += comp->generation.truncated();
      if (auto correct = correctness(comp->score)) {
        acc_sum += *correct;
        ++acc_n;
      }
    }
    const double nk = std::max<double>(1.0, static_cast<double>(kept.size()));
    if (acc_n > 0) m.set("accuracy", acc_sum / acc_n);
    m.set("completion_len_mean", len_sum / nk);
    m.set("completion_len_max", len_max);
    m.set("truncation_rate", trunc / nk);
    m.set("zero_variance_groups", groups_seen > 0 ? static_cast<double>(groups_zero_var) / groups_seen : 0.0);
    if (c.dapo.dynamic_sampling) {
      m.set("groups_kept", static_cast<double>(groups_kept));
      // "accuracy" above covers the kept groups only, which dynamic sampling picks for having both right
      // and wrong answers; this one covers every completion sampled in the step.
      double sampled_sum = 0;
      int64_t sampled_n = 0;
      for (const auto& r : rollouts) {
        for (const auto& comp : r->completions) {
          if (auto correct = correctness(comp.score)) {
            sampled_sum += *correct;
            ++sampled_n;
          }
        }
      }
      if (sampled_n > 0) m.set("accuracy_sampled", sampled_sum / sampled_n);
    }
    m.set("time_rollout_s", gen_s);
    m.set("time_reward_s", reward_s);
    m.set("time_reference_s", ref_s);
    m.set("time_update_s", update_s);
    m.set("rollout_tokens_per_s", gen_s > 0 ? static_cast<double>(sampled_tokens) / gen_s : 0.0);
    m.set("step_s", since(t_step));
    if (state.step % std::max<int64_t>(1, c.log_every) == 0 || state.step == c.steps) {
      ctx.run.log_metrics(ctx.spec.name, state.step, m);
    }
    if (c.samples_every > 0 && (state.step % c.samples_every == 0 || state.step == 1)) {
      for (int64_t i = 0; i < c.samples_per_log && i < static_cast<int64_t>(kept.size()); ++i) {
        const Completion& comp = *kept[static_cast<size_t>(i * std::max<int64_t>(1, static_cast<int64_t>(kept.size()) / c.samples_per_log))];
        json::Document s(rapidjson::kObjectType);
        auto& a = s.GetAllocator();
        s.AddMember("stage", json::Value(ctx.spec.name.c_str(), a), a);
        s.AddMember("step", json::Value(state.step), a);
        const Rollout* owner = nullptr;
        for (const auto& r : rollouts) {
          if (&comp >= r->completions.data() && &comp < r->completions.data() + r->completions.size()) owner = r.get();
        }
        s.AddMember("prompt", json::Value(owner->prompt_texts[comp.prompt_index].c_str(), a), a);
        s.AddMember("completion", json::Value(comp.text.c_str(), a), a);
        if (const json::Value* gold = json::find(*owner->prompts[comp.prompt_index]->row, "answer")) {
          s.AddMember("answer", json::Value(*gold, a), a);
        }
        s.AddMember("reward", json::Value(comp.score.value), a);
        json::Value comps(rapidjson::kObjectType);
        for (const auto& [k, v] : comp.score.components) comps.AddMember(json::Value(k.c_str(), a), json::Value(v), a);
        s.AddMember("components", comps, a);
        s.AddMember("reason", json::Value(comp.score.reason.c_str(), a), a);
        s.AddMember("finish", json::Value(model::finish_reason_name(comp.generation.finish), a), a);
        ctx.run.log_sample(s);
      }
    }
    bar.update(static_cast<size_t>(state.step),
               m.pick({"reward", "accuracy", "accuracy_sampled", "kl", "completion_len_mean", "step_s"}));

    if (c.save_every > 0 && state.step % c.save_every == 0 && state.step < c.steps) {
      state.extra_json = "{\"ref_reset_step\": " + std::to_string(ref_reset_step) + "}";
      // Once reset, the reference differs from the initial policy: it travels inside the checkpoint.
      save_checkpoint(ctx.dir, model, policy.tokenizer_dir, *optimizer, state, c.keep_last,
                      [&](const std::string& staging) {
                        if (reference && ref_reset_step > 0) reference->save(path_join(staging, "reference"));
                      });
    }
  }
  bar.finish();
  const std::string final_dir = path_join(ctx.dir, "final");
  model.save(final_dir, policy.tokenizer_dir);
  write_logit_probe(path_join(ctx.dir, "logit_probe.json"), model);
  return final_dir;
}

}  // namespace

void GrpoConfig::validate(const std::string& where) const {
  model.validate(where);
  data.validate(where);
  check_format_reward_matches_prompt(data, reward, where);
  sampling.validate(where + ": sampling");
  optim.validate(where);
  R1_CHECK(!reward.empty(), where, ": 'reward' is required (see r1 reward list)");
  R1_CHECK(steps > 0 && prompts_per_step > 0 && group_size > 1, where,
           ": steps and prompts_per_step must be > 0 and group_size > 1 (advantages are relative to the group)");
  R1_CHECK(epochs > 0 && minibatches > 0 && micro_batch_size >= 0, where,
           ": epochs and minibatches must be > 0, micro_batch_size >= 0");
  R1_CHECK(grpo.epsilon_low >= 0 && grpo.epsilon_low <= 1 && grpo.epsilon_high >= 0, where,
           ": grpo.epsilon_low must be in [0, 1] and epsilon_high >= 0");
  R1_CHECK(grpo.beta >= 0, where, ": grpo.beta must be >= 0");
  R1_CHECK(grpo.dual_clip == 0 || grpo.dual_clip > 1, where, ": grpo.dual_clip must be 0 (off) or > 1");
  kl_estimator_from_string(grpo.kl_estimator, where + ": grpo.kl_estimator");
  loss_aggregation_from_string(grpo.aggregation, where + ": grpo.aggregation");
  advantage_mode_from_string(grpo.advantage, where + ": grpo.advantage");
  R1_CHECK(dapo.max_sampling_rounds > 0, where, ": dapo.max_sampling_rounds must be > 0");
  R1_CHECK(ref_reset_every >= 0 && logprob_chunk > 0 && save_every >= 0 && samples_every >= 0, where,
           ": ref_reset_every, save_every, samples_every must be >= 0 and logprob_chunk > 0");
}

std::unique_ptr<Stage> make_grpo_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<GrpoConfig>>(spec, run_grpo);
}

}  // namespace r1::rl
