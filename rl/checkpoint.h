// Training checkpoints: an HF model directory plus the trainer's state, written so that a run killed at
// any instant (kill -9 included) resumes from the last complete checkpoint at the exact step and data
// position.
//
//   <stage>/checkpoints/step-000120/    HF directory (config.json, safetensors, tokenizer files) that HF
//                                       transformers loads as is, plus
//       optimizer.safetensors           AdamW state (exp_avg, exp_avg_sq, fp32 masters)
//       trainer_state.json              {"step", "data_position", "optimizer_steps", ...trainer extras}
//   <stage>/checkpoints/latest          "step-000120" (written last, atomically)
// The step directory is assembled under checkpoints/.staging-step-000120 and renamed into place when
// complete; `latest` is updated after the rename. A crash leaves either the previous checkpoint (and maybe
// a staging directory that the next save removes) or the new one — never half of one. Older checkpoints
// beyond keep_last are deleted after the new one is in place.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/json.h"
#include "model/causal_lm.h"
#include "rl/optimizer.h"

namespace r1::rl {

struct TrainerState {
  int64_t step = 0;            // completed trainer steps
  int64_t data_position = 0;   // next position in the data order (datasets/sampler.h)
  int64_t optimizer_steps = 0;
  std::string extra_json = "{}";  // trainer-specific (e.g. GRPO reference-reset bookkeeping)
};

// Saves a checkpoint of `model` (+ tokenizer files from tokenizer_dir) and `optimizer` for `state.step`;
// returns its directory.
// `add_files` (optional) writes trainer-specific extras into the staging directory before it is renamed,
// so they are part of the atomic checkpoint (GRPO stores its reference model there).
// `optimizer_state` is AdamW::state_tensors() (collective when the optimizer is sharded: every rank computes it,
// rank 0 saves), `optimizer_steps` its steps_taken().
std::string save_checkpoint(const std::string& stage_dir, const model::CausalLM& model, const std::string& tokenizer_dir,
                            const std::vector<std::pair<std::string, at::Tensor>>& optimizer_state,
                            int64_t optimizer_steps, const TrainerState& state, int64_t keep_last,
                            const std::function<void(const std::string& staging_dir)>& add_files = {});

// The directory save_checkpoint(stage_dir, ..) writes for `step` (<stage_dir>/checkpoints/step-000120).
std::string checkpoint_dir_for(const std::string& stage_dir, int64_t step);

// The newest complete checkpoint directory of a stage, if any.
std::optional<std::string> latest_checkpoint(const std::string& stage_dir);

// Reads trainer_state.json and optimizer.safetensors of a checkpoint into `optimizer` (the model weights
// are loaded by the caller with CausalLM::load(dir)). Errors name the files.
TrainerState load_trainer_state(const std::string& checkpoint_dir, AdamW& optimizer);

// Logit probe: the logits of the trainer's in-memory model on fixed token ids (every position's
// log-sum-exp and the last position's full row), written as JSON next to a saved model so that anyone can
// check the HF directory reloads to the same function: `check_logit_probe` loads the directory and returns
// the largest |difference| (0 for a faithful fp32 round trip).
void write_logit_probe(const std::string& path, const model::CausalLM& model);
double check_logit_probe(const std::string& probe_path, const std::string& model_dir);

}  // namespace r1::rl
