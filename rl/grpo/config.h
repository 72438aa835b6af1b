// The settings of a "grpo" stage (rl/stages/grpo.cpp): model, prompts and reward (one `data` + `reward`, or
// several `sources`, each with its own reward, weight and step range: sources.h), sampling, batch shape,
// the objective (loss.h), DAPO options, optimizer, MoE balancing and logging/checkpoint cadence. One
// visit() lists every recipe key with its default; `r1 run --help`-style listings come from it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/config_io.h"
#include "rl/grpo/collapse.h"
#include "rl/grpo/loss.h"
#include "rl/grpo/sources.h"
#include "rl/policy.h"
#include "rl/rollout.h"
#include "rl/train_common.h"
#include "rl/trainer.h"

namespace r1::rl {

// What a step does when dynamic sampling kept no group in max_sampling_rounds rounds (every sampled
// group's rewards were equal: nothing to learn from).
enum class EmptyStep { kSkip, kCount, kFail };
const std::vector<std::pair<EmptyStep, const char*>>& enum_names(EmptyStep);

struct DapoConfig {
  bool dynamic_sampling = false;
  int64_t max_sampling_rounds = 3;
  EmptyStep empty_step = EmptyStep::kSkip;
  int64_t max_empty_in_a_row = 10;
  bool mask_truncated = false;  // overlong filtering: truncated completions carry no loss

  template <class V>
  void visit(V& v) {
    v("dynamic_sampling", dynamic_sampling, "drop zero-variance groups and sample more prompts");
    v("max_sampling_rounds", max_sampling_rounds, "rounds of sampling per step with dynamic_sampling");
    v("empty_step", empty_step,
      "when no group was kept: skip (sample again with new prompts; the step is not counted) | count (a step "
      "that updates nothing) | fail");
    v("max_empty_in_a_row", max_empty_in_a_row, "with skip: fail after this many empty attempts in a row");
    v("mask_truncated", mask_truncated, "no loss on completions cut at max_new_tokens");
  }
};

struct GrpoConfig {
  ModelSource model;
  PromptData data;
  RawJson reward;
  RawJson sources;                   // list of source objects; resolved in place by validate()
  GrpoSourceConfig source_defaults;  // every key of a source, and its default
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
  bool ref_offload = false;        // the reference in host memory, copied to the device for each forward
  int64_t logprob_chunk = 1024;    // tokens per chunk of the LM head
  int64_t log_every = 1;
  int64_t samples_every = 10;      // write samples.jsonl lines every N steps (0: never)
  int64_t samples_per_log = 4;
  CheckpointConfig checkpoint;     // save_every, save_every_minutes, keep_last (top-level keys)
  CollapseConfig collapse;
  int64_t reward_threads = 0;      // 0: hardware threads
  int64_t threads = 0;             // LibTorch intra-op threads (0: default)
  bool activation_checkpointing = false;  // recompute each decoder layer in the backward pass

  // Filled by validate(), not keys: the sources in order; the `data` + `reward` form gives one whose name is
  // empty (no per-source metrics, the data order and checkpoints of a single-source run).
  std::vector<GrpoSourceConfig> parsed_sources;
  bool named_sources() const { return !parsed_sources.empty() && !parsed_sources.front().name.empty(); }

  template <class V>
  void visit(V& v) {
    v("model", model);
    v("data", data, "the prompts (one source; or use 'sources')");
    v("reward", reward, "reward spec: name, \"a,b\", or {\"composite\": [...]} (see r1 reward list); with 'data'");
    v("sources", sources,
      "instead of data + reward: a list of prompt sources, each an object with the keys of source_defaults "
      "(data.path and reward required); a step's prompts are split over the sources active at that step by weight");
    v("source_defaults", source_defaults, "defaults of every source's keys (a source's own keys override them)");
    v("sampling", sampling);
    v("steps", steps, "trainer steps (each: rollouts, then epochs x minibatches optimizer updates)");
    v("prompts_per_step", prompts_per_step, "prompts (groups) per step");
    v("group_size", group_size, "completions per prompt (G)");
    v("epochs", epochs, "mu: passes over each rollout batch");
    v("minibatches", minibatches, "optimizer updates per pass");
    v("micro_batch_size", micro_batch_size, "sequences per forward/backward (0: whole minibatch)");
    v("grpo", grpo);
    v("dapo", dapo);
    v("optim", optim);
    v("moe", moe);
    v("ref_reset_every", ref_reset_every, "reset the reference to the policy every N steps (0: never; R1: 400)");
    v("ref_offload", ref_offload,
      "keep the reference model in host memory and copy it to the policy's device for its forward each step "
      "(frees its device memory between uses; no effect on the CPU)");
    v("logprob_chunk", logprob_chunk, "tokens per chunk of the LM-head log-probs");
    v("log_every", log_every, "metrics line every N steps");
    v("samples_every", samples_every, "samples.jsonl lines every N steps (0: never)");
    v("samples_per_log", samples_per_log, "completions written per samples interval");
    checkpoint.visit(v);
    v("collapse", collapse);
    v("reward_threads", reward_threads, "threads scoring rewards (0: hardware threads)");
    v("threads", threads, "LibTorch intra-op threads (0: default)");
    v("activation_checkpointing", activation_checkpointing,
      "keep only each decoder layer's input in the policy's training forward and recompute the layer in the "
      "backward pass (less memory for long completions, ~1 more forward per update; same gradients)");
  }
  // Checks every key; resolves `sources` in place (sources.h) and fills parsed_sources.
  void validate(const std::string& where);
  // Runs on every rank of a job, each on its share of every step (rl/stage.h).
  bool data_parallel() const { return true; }
};

}  // namespace r1::rl
