// See grpo.h. The step's phases live in rl/grpo/; this file runs them in order on the trainer skeleton
// (rl/trainer.h) and keeps the reference model.
// Letters: N sequences in the step's batch (groups × G), L padded sequence length.
#include "rl/stages/grpo.h"

#include <ATen/core/grad_mode.h>
#include <ATen/Parallel.h>

#include <cstdio>

#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "common/seed.h"
#include "rl/grpo/batch.h"
#include "rl/grpo/collect.h"
#include "rl/grpo/prompt_sources.h"
#include "rl/grpo/report.h"
#include "rl/grpo/update.h"
#include "rl/trainer.h"

namespace r1::rl {
namespace {

// The frozen reference π_ref: the initial policy, replaced by the current policy every ref_reset_every
// steps. Once reset it differs from the initial policy, so checkpoints carry it (<checkpoint>/reference)
// with the step of the last reset in the trainer state's extras. With ref_offload it lives in host memory
// and a copy on the policy's device exists only during its forward.
struct Reference {
  std::unique_ptr<model::CausalLM> model;  // null when beta = 0
  int64_t reset_step = 0;

  // The reference for a (possibly resumed) session; `initial` is the policy before resuming.
  static Reference start(const GrpoConfig& c, const model::CausalLM& initial, const TrainingSession& s) {
    Reference r;
    if (c.grpo.beta == 0) return r;
    const at::Device home = c.ref_offload ? at::Device(at::kCPU) : initial.device();
    r.model = initial.clone(home);
    if (s.resumed_from) {
      json::Document extra = json::parse(s.state.extra_json, *s.resumed_from + "/trainer_state.json: extra");
      r.reset_step = json::opt_int(extra, "ref_reset_step", *s.resumed_from).value_or(0);
      if (r.reset_step > 0) {
        r.model = model::CausalLM::load(path_join(*s.resumed_from, "reference"), initial.dtype(), home);
      }
    }
    r.model->set_requires_grad(false);
    return r;
  }
  // The reference's log-probs of `rows` (see no_grad_logprobs), computed on `device`.
  at::Tensor logprobs(const SequenceBatch& rows, at::Device device, int64_t micro, double temperature,
                      int64_t chunk) const {
    if (model->device() == device) return no_grad_logprobs(*model, rows, micro, temperature, chunk);
    const std::unique_ptr<model::CausalLM> on_device = model->clone(device);  // dropped after the forward
    return no_grad_logprobs(*on_device, rows, micro, temperature, chunk);
  }
  void maybe_reset(const GrpoConfig& c, const model::CausalLM& policy, int64_t step) {
    if (!model || c.ref_reset_every <= 0 || step % c.ref_reset_every != 0) return;
    model->copy_parameters_from(policy);
    reset_step = step;
  }
  void save_into(const std::string& checkpoint_dir) const {
    if (model && reset_step > 0) model->save(path_join(checkpoint_dir, "reference"));
  }
};

// Phases 2–3: π_old / π_ref log-probs (while the rewards are scored), advantages, policy updates.
void train_on_groups(const GrpoConfig& c, const GrpoObjective& objective, TrainingSession& s, const Reference& ref,
                     const ScheduleConfig& schedule, StepGroups& groups, int64_t pad_id, const dist::World& world,
                     Metrics& m) {
  model::CausalLM& model = s.model();
  const double temperature = c.sampling.temperature;
  const SequenceBatch batch = build_batch(groups.kept, pad_id, c.dapo.mask_truncated, model.device());
  const int64_t n = batch.input_ids.size(0);
  const int64_t minibatch = (n + c.minibatches - 1) / c.minibatches;
  const int64_t micro = c.micro_batch_size > 0 ? std::min(c.micro_batch_size, minibatch) : minibatch;
  // Prompt + completion tokens of the batch (pads excluded), and rows x padded length as computed.
  m.set("batch_tokens", batch.attention.sum().item<double>());
  m.set("batch_padded_tokens", static_cast<double>(batch.input_ids.numel()));
  // This rank's share of the kept groups (all of them for a single process).
  const auto [first_group, end_group] = world.share(n / c.group_size);
  const RowShare share{world, first_group * c.group_size, end_group * c.group_size};
  const SequenceBatch mine = batch_rows(batch, share.first_row, share.end_row);

  const auto t_ref = SteadyClock::now();
  PolicyLogprobs fixed;
  if (share.end_row > share.first_row) {
    if (c.epochs > 1 || c.minibatches > 1) {
      fixed.old_logp = no_grad_logprobs(model, mine, micro, temperature, c.logprob_chunk);
    }
    if (ref.model) fixed.ref_logp = ref.logprobs(mine, model.device(), micro, temperature, c.logprob_chunk);
  }
  m.set("time_reference_s", seconds_since(t_ref));

  groups.wait_for_scores();
  const at::Tensor advantages = group_advantages(rewards_tensor(groups.kept, model.device()), c.group_size,
                                                 c.grpo.advantage, c.grpo.advantage_eps, c.grpo.advantage_std)
                                    .slice(0, share.first_row, share.end_row);
  const auto t_update = SteadyClock::now();
  UpdateStats stats = update_policy(c, objective, model, *s.optimizer, *s.gradients, schedule, batch, share,
                                    advantages, fixed, temperature);
  m.set("time_update_s", seconds_since(t_update));
  // The FP8 rollout copy (model/causal_lm.h), when the policy has one, follows the updated weights.
  if (model.has_rollout_copy()) m.set("rollout_copy_refresh_s", model.refresh_rollout_copy().seconds);
  stats.write(c, m);
}

// Phase 1 under the empty-step policy (dynamic sampling only): an attempt that keeps no group is sampled
// again with fresh prompts (skip), returned as a step that updates nothing (count), or an error (fail).
// The prompts of skipped attempts are consumed and logged with the step. Attempt 0 samples with the step's
// seed, so runs that never skip draw exactly what they drew before this policy existed.
StepGroups collect_with_policy(const GrpoConfig& c, const CollectInputs& in, TrainingSession& s, uint64_t step_seed,
                               const StageContext& ctx, Metrics& m) {
  std::vector<std::pair<size_t, size_t>> skipped;
  for (int64_t attempt = 0;; ++attempt) {
    const uint64_t seed = attempt == 0 ? step_seed : mix_seed(step_seed, 1000 + static_cast<uint64_t>(attempt));
    StepGroups groups = collect_groups(c, in, s.state.step, seed);
    if (c.dapo.dynamic_sampling) m.set("empty_attempts", static_cast<double>(attempt + groups.kept.empty()));
    if (!groups.kept.empty() || !c.dapo.dynamic_sampling || c.dapo.empty_step == EmptyStep::kCount) {
      groups.drawn.insert(groups.drawn.begin(), skipped.begin(), skipped.end());
      if (groups.kept.empty() && ctx.world.is_main()) {
        std::fprintf(stderr, "\nwarning: %s step %ld: dynamic sampling kept no group in %ld rounds (every group's "
                     "rewards were equal); the step updates nothing (dapo.empty_step = count)\n",
                     ctx.spec.name.c_str(), static_cast<long>(s.state.step + 1),
                     static_cast<long>(c.dapo.max_sampling_rounds));
      }
      return groups;
    }
    groups.wait_for_scores();
    const std::string what = str_cat(ctx.spec.name, " step ", s.state.step + 1, ": dynamic sampling kept no group in ",
                                     c.dapo.max_sampling_rounds, " rounds (every sampled group's rewards were equal)");
    R1_CHECK(c.dapo.empty_step == EmptyStep::kSkip, what, "; dapo.empty_step = fail");
    R1_CHECK(attempt + 1 < c.dapo.max_empty_in_a_row, what, ", ", attempt + 1,
             " times in a row (dapo.max_empty_in_a_row): the reward gives every completion the same score. Check "
             "the reward on a few samples (r1 reward score), the prompts' difficulty, or raise group_size");
    if (ctx.world.is_main()) {
      std::fprintf(stderr, "\nwarning: %s step %ld: dynamic sampling kept no group; sampling again with new prompts\n",
                   ctx.spec.name.c_str(), static_cast<long>(s.state.step + 1));
    }
    skipped.insert(skipped.end(), groups.drawn.begin(), groups.drawn.end());
  }
}

// One trainer step: collect, train, report. Returns the step's metrics.
Metrics grpo_step(const GrpoConfig& c, const GrpoObjective& objective, const CollectInputs& in, TrainingSession& s,
                  Reference& ref, const ScheduleConfig& schedule, int64_t pad_id, CollapseMonitor& collapse,
                  StageContext& ctx) {
  const auto t_step = SteadyClock::now();
  Metrics m;
  const uint64_t step_seed = mix_seed(ctx.seed, static_cast<uint64_t>(s.state.step));
  StepGroups groups = collect_with_policy(c, in, s, step_seed, ctx, m);
  if (!groups.kept.empty()) {
    train_on_groups(c, objective, s, ref, schedule, groups, pad_id, ctx.world, m);
  } else {
    groups.wait_for_scores();
    m.set("time_reference_s", 0.0);
    m.set("time_update_s", 0.0);
  }
  ++s.state.step;
  log_step_prompts(s, in.sources, groups.drawn);
  ref.maybe_reset(c, s.model(), s.state.step);
  add_rollout_metrics(c, groups, m);
  for (const std::string& warning : collapse.observe(groups, m)) {
    if (!ctx.world.is_main()) continue;
    std::fprintf(stderr, "\nwarning: %s step %ld: %s\n", ctx.spec.name.c_str(), static_cast<long>(s.state.step),
                 warning.c_str());
  }
  m.set("step_s", seconds_since(t_step));
  if (c.samples_every > 0 && (s.state.step % c.samples_every == 0 || s.state.step == 1)) {
    log_step_samples(c, groups, ctx.spec.name, s.state.step, ctx.run);
  }
  return m;
}

std::string run_grpo(const GrpoConfig& c, StageContext& ctx) {
  const std::string where = ctx.spec.where;
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  Policy policy = load_policy(c.model, ctx, where);
  std::vector<PromptSource> sources = load_prompt_sources(c, policy, ctx);
  ThreadPool pool(c.reward_threads > 0 ? static_cast<size_t>(c.reward_threads) : 0);
  GrpoObjective objective = c.grpo;
  if (objective.constant_normalizer <= 0) objective.constant_normalizer = static_cast<double>(c.sampling.max_new_tokens);
  const std::vector<int64_t> stops = stop_token_ids(policy);
  const int64_t pad_id = policy.tokenizer->pad_id().value_or(stops.empty() ? 0 : stops.front());

  std::unique_ptr<model::CausalLM> initial = c.grpo.beta != 0 ? policy.model->clone() : nullptr;
  TrainingSession s = resume_or_start(std::move(policy), c.optim, ctx);
  s.model().set_activation_checkpointing(c.activation_checkpointing);
  Reference ref = initial ? Reference::start(c, *initial, s) : Reference{};
  initial.reset();
  restore_positions(sources, s);
  const ScheduleConfig schedule = c.optim.schedule_for(c.steps * c.epochs * c.minibatches);
  const CollectInputs in{ctx.world, s.policy, sources, pool, where};
  CollapseMonitor collapse(c.collapse);

  ProgressBar bar(ctx.spec.name, static_cast<size_t>(c.steps), ctx.quiet);
  bar.start_at(static_cast<size_t>(s.state.step));
  while (s.state.step < c.steps) {
    const Metrics m = grpo_step(c, objective, in, s, ref, schedule, pad_id, collapse, ctx);
    if (s.state.step % std::max<int64_t>(1, c.log_every) == 0 || s.state.step == c.steps) {
      ctx.run.log_metrics(ctx.spec.name, s.state.step, m);
    }
    bar.update(static_cast<size_t>(s.state.step), m.pick({"reward", "accuracy", "accuracy_sampled", "kl",
                                                          "completion_len_mean", "empty_attempts", "step_s"}));
    store_positions(sources, ref.reset_step, s.state);
    end_of_step(s, ctx, c.checkpoint, c.steps, [&ref](const std::string& staging) { ref.save_into(staging); });
  }
  bar.finish();
  return finish_stage(s, ctx);
}

}  // namespace

const std::vector<std::pair<EmptyStep, const char*>>& enum_names(EmptyStep) {
  static const std::vector<std::pair<EmptyStep, const char*>> names = {
      {EmptyStep::kSkip, "skip"}, {EmptyStep::kCount, "count"}, {EmptyStep::kFail, "fail"}};
  return names;
}

void GrpoConfig::validate(const std::string& where) {
  model.validate(where);
  if (!sources.empty()) {
    R1_CHECK(json::dump(ConfigWriter::to_document(data)) == json::dump(ConfigWriter::to_document(PromptData{})) &&
             reward.empty(), where, ": give either 'data' + 'reward' (one prompt source) or 'sources' (several, each "
             "with its own data and reward), not both");
    parsed_sources = resolve_grpo_sources(sources, source_defaults, model, steps, where);
  } else {
    data.validate(where);
    if (!data.chat_template.empty()) check_chat_template(data.chat_template, model, where + ": data");
    check_format_reward_matches_prompt(data, reward, where);
    R1_CHECK(!reward.empty(), where, ": 'reward' is required (see r1 reward list), or give 'sources'");
    parsed_sources.assign(1, GrpoSourceConfig{});
    parsed_sources[0].data = data;
    parsed_sources[0].reward = reward;
  }
  sampling.validate(where + ": sampling");
  optim.validate(where);
  grpo.validate(where);
  R1_CHECK(sampling.temperature > 0, where, ": sampling.temperature must be > 0 in a grpo stage (0 is greedy "
           "decoding: every completion of a group would be the same, so no group has a relative advantage)");
  R1_CHECK(steps > 0 && prompts_per_step > 0 && group_size > 1, where,
           ": steps and prompts_per_step must be > 0 and group_size > 1 (advantages are relative to the group)");
  R1_CHECK(epochs > 0 && minibatches > 0 && micro_batch_size >= 0, where,
           ": epochs and minibatches must be > 0, micro_batch_size >= 0");
  R1_CHECK(dapo.max_sampling_rounds > 0 && dapo.max_empty_in_a_row > 0, where,
           ": dapo.max_sampling_rounds and dapo.max_empty_in_a_row must be > 0");
  checkpoint.validate(where);
  collapse.validate(where);
  R1_CHECK(ref_reset_every >= 0 && logprob_chunk > 0 && samples_every >= 0, where,
           ": ref_reset_every and samples_every must be >= 0 and logprob_chunk > 0");
}

std::unique_ptr<Stage> make_grpo_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<GrpoConfig>>(spec, run_grpo);
}

}  // namespace r1::rl
