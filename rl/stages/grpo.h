// Stage "grpo": Group Relative Policy Optimization (DeepSeekMath §4, DeepSeek-R1 §2.2) with the known
// variants as options — the R1-Zero and R1 reasoning-RL stages.
//
// One trainer step:
//   1. take prompts_per_step prompts in the deterministic data order; sample group_size completions each
//      (temperature/top-p, stop strings) with the generation engine;
//   2. score them with the recipe's reward (a composite of rule rewards, plugins, ...) on a thread pool —
//      concurrently with the old-policy and reference log-prob passes when nothing waits on the scores;
//   3. DAPO dynamic sampling (option): drop groups whose rewards are all equal and sample more prompts,
//      up to max_sampling_rounds rounds;
//   4. group-relative advantages (group | no_std | batch);
//   5. `epochs` passes (μ) over the batch split into `minibatches` optimizer updates, each accumulated
//      over micro-batches: clipped-ratio loss + β·KL(k1|k2|k3) to the frozen reference, aggregated per
//      sequence (GRPO), per token (DAPO) or with a constant normaliser (Dr. GRPO); log-probs in chunks;
//   6. after each update, the MoE correction bias moves toward balance (aux-loss-free); every
//      ref_reset_every steps the reference becomes the current policy (R1 resets every 400 steps).
// Departures from the papers: log π_old is recomputed by a forward pass of the policy before the first
// update (not taken from the sampler) unless epochs = minibatches = 1, where π_old = π_θ exactly and the
// pass is skipped; log-probs in the loss use logits / temperature so π_old is the sampling distribution.
#pragma once

#include <memory>

#include "rl/policy.h"
#include "rl/rollout.h"
#include "rl/stage.h"
#include "rl/train_common.h"

namespace r1::rl {

struct GrpoObjective {
  double epsilon_low = 0.2;
  double epsilon_high = 0.2;
  double dual_clip = 0.0;
  double beta = 0.001;
  std::string kl_estimator = "k3";
  std::string aggregation = "seq_mean_token_mean";
  double constant_normalizer = 0.0;  // Dr. GRPO's L; 0 = sampling.max_new_tokens
  std::string advantage = "group";
  double advantage_eps = 1e-4;

  template <class V>
  void visit(V& v) {
    v("epsilon_low", epsilon_low, "ratio clip below: 1 - epsilon_low");
    v("epsilon_high", epsilon_high, "ratio clip above: 1 + epsilon_high (DAPO: 0.28)");
    v("dual_clip", dual_clip, "c > 1 caps the loss of negative-advantage tokens at c*|A| (0: off)");
    v("beta", beta, "KL coefficient (R1: 0.001; 0 skips the reference model)");
    v("kl_estimator", kl_estimator, "k1 | k2 | k3");
    v("aggregation", aggregation, "seq_mean_token_mean (GRPO) | token_mean (DAPO) | seq_mean_token_sum (Dr. GRPO)");
    v("constant_normalizer", constant_normalizer, "L for seq_mean_token_sum (0: max_new_tokens)");
    v("advantage", advantage, "group | no_std (Dr. GRPO) | batch");
    v("advantage_eps", advantage_eps);
  }
};

struct DapoConfig {
  bool dynamic_sampling = false;
  int64_t max_sampling_rounds = 3;
  bool mask_truncated = false;  // overlong filtering: truncated completions carry no loss

  template <class V>
  void visit(V& v) {
    v("dynamic_sampling", dynamic_sampling, "drop zero-variance groups and sample more prompts");
    v("max_sampling_rounds", max_sampling_rounds, "rounds of sampling per step with dynamic_sampling");
    v("mask_truncated", mask_truncated, "no loss on completions cut at max_new_tokens");
  }
};

struct GrpoConfig {
  ModelSource model;
  PromptData data;
  RawJson reward;
  SamplingConfig sampling;
  int64_t steps = 100;
  int64_t prompts_per_step = 16;
  int64_t group_size = 8;          // G
  int64_t epochs = 1;              // μ: passes over each rollout batch
  int64_t minibatches = 1;         // optimizer updates per pass (R1: 16)
  int64_t micro_batch_size = 0;    // sequences per forward/backward (0: the whole minibatch)
  GrpoObjective grpo;
  DapoConfig dapo;
  OptimConfig optim;
  MoeTrainConfig moe;
  int64_t ref_reset_every = 0;     // 0: never (R1: 400)
  int64_t logprob_chunk = 1024;    // tokens per chunk of the LM head
  int64_t log_every = 1;
  int64_t samples_every = 10;      // write samples.jsonl lines every N steps (0: never)
  int64_t samples_per_log = 4;
  int64_t save_every = 0;
  int64_t keep_last = 2;
  int64_t reward_threads = 0;      // 0: hardware threads
  int64_t threads = 0;             // LibTorch intra-op threads (0: default)

  template <class V>
  void visit(V& v) {
    v("model", model);
    v("data", data);
    v("reward", reward, "reward spec: name, \"a,b\", or {\"composite\": [...]} (see r1 reward list)");
    v("sampling", sampling);
    v("steps", steps);
    v("prompts_per_step", prompts_per_step);
    v("group_size", group_size, "completions per prompt (G)");
    v("epochs", epochs, "mu: passes over each rollout batch");
    v("minibatches", minibatches, "optimizer updates per pass");
    v("micro_batch_size", micro_batch_size, "sequences per forward/backward (0: whole minibatch)");
    v("grpo", grpo);
    v("dapo", dapo);
    v("optim", optim);
    v("moe", moe);
    v("ref_reset_every", ref_reset_every, "reset the reference to the policy every N steps (0: never)");
    v("logprob_chunk", logprob_chunk);
    v("log_every", log_every);
    v("samples_every", samples_every);
    v("samples_per_log", samples_per_log);
    v("save_every", save_every);
    v("keep_last", keep_last);
    v("reward_threads", reward_threads);
    v("threads", threads);
  }
  void validate(const std::string& where) const;
};

std::unique_ptr<Stage> make_grpo_stage(const StageSpec& spec);

}  // namespace r1::rl
