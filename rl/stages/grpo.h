// Stage "grpo": Group Relative Policy Optimization (DeepSeekMath §4, DeepSeek-R1 §2.2) with the known
// variants as options — the R1-Zero and R1 reasoning-RL stages.
//
// One trainer step, phase by phase (each phase a file in rl/grpo/):
//   1. collect groups (collect.h): split prompts_per_step over the prompt sources active at the step by
//      their weights (one `data` source, or several `sources` each with its own reward and step range:
//      sources.h, prompt_sources.h — R1's all-scenario RL); take each source's prompts in its deterministic
//      data order; sample group_size completions each with the generation engine; score each source's
//      completions with its own reward on a thread pool, at the step (reward-term schedules read it) —
//      concurrently with phase 2 when nothing waits on the scores; with DAPO dynamic sampling, drop groups
//      whose rewards are all equal and sample more prompts, up to max_sampling_rounds rounds;
//   2. old / reference log-probs (batch.h): π_old by a forward pass of the policy before the first update
//      (skipped when epochs = minibatches = 1, where π_old = π_θ exactly), π_ref by the frozen reference;
//   3. policy updates (update.h): group-relative advantages (advantages.h: group | no_std | batch), then
//      `epochs` passes (μ) over the batch split into `minibatches` optimizer updates, each accumulated over
//      micro-batches: clipped-ratio loss + β·KL(k1|k2|k3) to the reference (loss.h), aggregated per
//      sequence (GRPO), per token (DAPO) or with a constant normaliser (Dr. GRPO); log-probs in chunks;
//      after each update the MoE correction bias moves toward balance (aux-loss-free);
//   4. step metrics and 5. samples (report.h): rewards per component and per source, accuracy, KL, clip
//      fractions, entropy, lengths, the sampler/trainer log-prob gap, timings, collapse signals (collapse.h: repeated
//      completions, reward up while accuracy falls, entropy collapse; a warning the first time each
//      shows); a few completions to samples.jsonl;
//   6. checkpoint (rl/trainer.h: by steps, by wall time, on SIGINT/SIGTERM); every ref_reset_every steps the reference becomes
//      the current policy (R1 resets every 400 steps) and travels inside later checkpoints.
// Log-probs: the sampler (model/generate.h) and the trainer both use the tempered distribution
// logits / temperature (before top-k / top-p truncation), so π_old is the distribution sampled from and the
// per-step `logprob_gap` metric (mean |sampler − trainer| log-prob over completion tokens) measures only
// the train/inference numerical mismatch. temperature 0 (greedy) is not allowed in a grpo stage: a group
// of identical completions has no relative advantage.
// Departures from the papers: π_old is recomputed by the trainer, not taken from the sampler.
#pragma once

#include <memory>

#include "rl/grpo/config.h"
#include "rl/stage.h"

namespace r1::rl {

std::unique_ptr<Stage> make_grpo_stage(const StageSpec& spec);

}  // namespace r1::rl
