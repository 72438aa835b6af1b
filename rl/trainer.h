// The skeleton every training stage shares (pretrain, sft, grpo, distill; later reward_model), so a
// new trainer writes only its step:
//
//   TrainingSession s = resume_or_start(std::move(policy), optim, ctx);   // fresh, or checkpoints/latest
//   while (s.state.step < steps) {
//     ... one step: s.model(), s.optimizer, s.state.data_position ...
//     ++s.state.step;
//     s.log_batch("sequences", indices);                  // <stage>/batches.jsonl: the data of every step
//     end_of_step(s, ctx, c.checkpoint, steps);           // checkpoint when due, or when interrupted
//   }
//   return finish_stage(s, ctx);                            // <stage>/final (HF dir) + logit_probe.json
//
// What resuming restores: the model weights, the AdamW state (moments and fp32 masters), the scheduler
// position (= optimizer steps taken), the trainer step and the data position. RNG state needs no saving:
// every random stream of a step derives from (stage seed, step) (common/seed.h), so a resumed run draws
// exactly what an uninterrupted one would. The metrics, samples and batches lines a killed run wrote
// after its last checkpoint (and torn last lines) are dropped before the step is run again.
// Trainer-specific extras (GRPO's reference model) travel in TrainerState::extra_json and in files the
// caller adds to the checkpoint (end_of_step's add_files).
//
// When checkpoints are written: every `save_every` steps and whenever `save_every_minutes` of wall time have
// passed since the last one (or the stage's start), and at once after the step in flight when SIGINT or
// SIGTERM arrives (common/interrupt.h) — then the stage stops with r1::Interrupted, and `r1 run --resume`
// continues from that checkpoint. Never after the last step: the final model follows.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/jsonl.h"
#include "rl/checkpoint.h"
#include "rl/gradient_reducer.h"
#include "rl/optimizer.h"
#include "rl/policy.h"
#include "rl/stage.h"
#include "rl/train_common.h"

namespace r1::rl {

// The checkpoint cadence of a training stage; its keys sit at the stage's top level.
struct CheckpointConfig {
  int64_t save_every = 100;
  double save_every_minutes = 10;
  int64_t keep_last = 2;

  template <class V>
  void visit(V& v) {
    v("save_every", save_every, "resumable checkpoint every N steps (0: no step cadence)");
    v("save_every_minutes", save_every_minutes,
      "and whenever this much wall time passed since the last one (0: no time cadence); SIGINT/SIGTERM always "
      "checkpoint the completed steps before stopping");
    v("keep_last", keep_last, "checkpoints kept (older ones deleted; 0: keep all)");
  }
  void validate(const std::string& where) const;
};

struct TrainingSession {
  Policy policy;
  std::unique_ptr<AdamW> optimizer;
  std::unique_ptr<GradientReducer> gradients;  // sums the gradients over the ranks (a no-op for one process)
  TrainerState state;
  std::optional<std::string> resumed_from;  // the checkpoint directory a resumed stage started from
  JsonlWriter batch_log;                    // <stage>/batches.jsonl
  std::chrono::steady_clock::time_point last_save;  // the last checkpoint, or the session's start

  model::CausalLM& model() { return *policy.model; }
  // One batches.jsonl line for the step just completed: {"step": state.step, key: [indices...]}.
  void log_batch(const char* key, const std::vector<size_t>& indices);
};

// Starts a training stage: with --resume and a checkpoint in ctx.dir, the policy's weights, the optimizer
// state and the trainer state come from the latest one (the policy's tokenizer is kept); otherwise the
// policy as given and a fresh optimizer. Prints where the stage continues (or that it starts) on stderr.
TrainingSession resume_or_start(Policy policy, const OptimConfig& optim, StageContext& ctx);

// Call after each completed step (s.state.step already counts it). Saves a checkpoint when one is due by
// steps or wall time and the stage is not at its last step; after an interrupt, saves one and throws
// r1::Interrupted naming it. `add_files` writes trainer extras into the checkpoint before it is complete.
void end_of_step(TrainingSession& s, const StageContext& ctx, const CheckpointConfig& cadence, int64_t total_steps,
                 const std::function<void(const std::string&)>& add_files = {});

// Ends a training stage: writes the model as an HF directory to <stage>/final (with the tokenizer files)
// and the logit probe beside it (<stage>/logit_probe.json, see checkpoint.h). Returns the final directory.
std::string finish_stage(TrainingSession& s, const StageContext& ctx);

}  // namespace r1::rl
