// The skeleton every training stage shares (pretrain, sft, grpo; later reward_model and distill), so a
// new trainer writes only its step:
//
//   TrainingSession s = resume_or_start(std::move(policy), optim, ctx);   // fresh, or checkpoints/latest
//   while (s.state.step < steps) {
//     ... one step: s.model(), s.optimizer, s.state.data_position ...
//     ++s.state.step;
//     s.log_batch("sequences", indices);                  // <stage>/batches.jsonl: the data of every step
//     save_checkpoint_if_due(s, ctx, save_every, keep_last, steps);
//   }
//   return finish_stage(s, ctx);                            // <stage>/final (HF dir) + logit_probe.json
//
// What resuming restores: the model weights, the AdamW state (moments and fp32 masters), the scheduler
// position (= optimizer steps taken), the trainer step and the data position. RNG state needs no saving:
// every random stream of a step derives from (stage seed, step) (common/seed.h), so a resumed run draws
// exactly what an uninterrupted one would. The metrics, samples and batches lines a killed run wrote
// after its last checkpoint (and torn last lines) are dropped before the step is run again.
// Trainer-specific extras (GRPO's reference model) travel in TrainerState::extra_json and in files the
// caller adds to the checkpoint (save_checkpoint_if_due's add_files).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/jsonl.h"
#include "rl/checkpoint.h"
#include "rl/optimizer.h"
#include "rl/policy.h"
#include "rl/stage.h"
#include "rl/train_common.h"

namespace r1::rl {

struct TrainingSession {
  Policy policy;
  std::unique_ptr<AdamW> optimizer;
  TrainerState state;
  std::optional<std::string> resumed_from;  // the checkpoint directory a resumed stage started from
  JsonlWriter batch_log;                    // <stage>/batches.jsonl

  model::CausalLM& model() { return *policy.model; }
  // One batches.jsonl line for the step just completed: {"step": state.step, key: [indices...]}.
  void log_batch(const char* key, const std::vector<size_t>& indices);
};

// Starts a training stage: with --resume and a checkpoint in ctx.dir, the policy's weights, the optimizer
// state and the trainer state come from the latest one (the policy's tokenizer is kept); otherwise the
// policy as given and a fresh optimizer. Prints where the stage continues (or that it starts) on stderr.
TrainingSession resume_or_start(Policy policy, const OptimConfig& optim, StageContext& ctx);

// Saves a checkpoint when save_every > 0 divides the completed step and the stage is not at its last step
// (the final model follows). `add_files` writes trainer extras into the checkpoint before it is complete.
void save_checkpoint_if_due(TrainingSession& s, const StageContext& ctx, int64_t save_every, int64_t keep_last,
                            int64_t total_steps, const std::function<void(const std::string&)>& add_files = {});

// Ends a training stage: writes the model as an HF directory to <stage>/final (with the tokenizer files)
// and the logit probe beside it (<stage>/logit_probe.json, see checkpoint.h). Returns the final directory.
std::string finish_stage(TrainingSession& s, const StageContext& ctx);

}  // namespace r1::rl
