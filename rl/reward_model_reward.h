// The `reward_model` reward: scores (prompt, completion) rows with a trained reward model (an HF
// sequence-classification directory, e.g. a reward_model stage's final/). It lives in rl/ because it runs a model
// (rewards/ knows nothing of model/); rl/run_rewards.h registers it into the global registry.
//
// Each row becomes the conversation [user: prompt, assistant: completion], rendered with the reward model's chat
// template (its tokenizer's, or `chat_template`) and cut to `score_part` and `max_len` exactly as the reward_model
// stage trained it (rl/reward_model_scoring.h; by default both as recorded in the model directory's
// r1_reward_model.json). The model must have one label (num_labels 1). The prompt is the row's "question" (rows of RL / evaluation prompt sets carry
// the raw question there, while the sample's prompt is the policy's rendered input), else the sample's prompt (an
// `r1 reward score` line's "prompt").
//
// Scores: score_batch runs batch_size rows per forward (no gradients) on `device`, one batch at a time (a mutex:
// rewards are scored from a thread pool). The value is the raw score, optionally normalised — `batch`: z-score
// over the rows of one score_batch call (a GRPO step's completions of the source; a lone row scores 0), `running`:
// z-score against the mean and standard deviation of every row scored so far by this reward object (this batch
// included; not saved in checkpoints, so a resumed run starts counting again) — then clipped to ±clip when
// clip > 0. Components: "raw" (the model's score before normalisation).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/causal_lm.h"
#include "model/tokenizer/tokenizer.h"
#include "rewards/registry.h"
#include "rewards/reward.h"
#include "rl/reward_model_scoring.h"

namespace r1::rl {

enum class RmNormalize { kNone, kBatch, kRunning };
const std::vector<std::pair<RmNormalize, const char*>>& enum_names(RmNormalize);
// The part of the completion scored: as the model was trained (final/r1_reward_model.json; "all" for a reward
// model without that file), or given.
enum class RmScorePart { kAsTrained, kAll, kSummary };
const std::vector<std::pair<RmScorePart, const char*>>& enum_names(RmScorePart);

struct RewardModelOptions {
  std::string path;                 // the reward model directory (or stage:NAME in a recipe)
  RmScorePart score_part = RmScorePart::kAsTrained;
  RmNormalize normalize = RmNormalize::kNone;
  double clip = 0;                  // |value| <= clip after normalisation (0: off)
  std::string chat_template;        // "" = the reward model's tokenizer's
  int64_t batch_size = 16;          // rows per forward
  int64_t max_len = 0;              // tokens per row, the last ones kept (0: as trained, else max_position_embeddings)
  std::string device = "auto";
  std::string dtype = "float32";

  template <class V>
  void visit(V& v) {
    v("path", path, "reward model directory (HF *ForSequenceClassification, e.g. a reward_model stage's final/; "
                    "stage:NAME in a recipe)");
    v("score_part", score_part, "as_trained (the reward_model stage's score_part, recorded in the model directory; "
                                "else all) | all (the whole completion) | summary (only the text after </think>)");
    v("normalize", normalize, "none | batch (z-score over the scored batch) | running (z-score over every row so far)");
    v("clip", clip, "clip the (normalised) score to +-clip (0: off)");
    v("chat_template", chat_template, "\"\" = the reward model's tokenizer's, or deepseek-r1 | qwen | llama3 | chatml");
    v("batch_size", batch_size, "rows per forward");
    v("max_len", max_len, "tokens per row, the last ones kept (0: the reward_model stage's max_len, recorded in the "
                          "model directory; else the model's max_position_embeddings)");
    v("device", device, "auto | cpu | cuda | cuda:N");
    v("dtype", dtype, "float32 | bfloat16");
  }
  void validate(const std::string& where) const;
};

class RewardModelReward : public rewards::Reward {
 public:
  RewardModelReward(const RewardModelOptions& options, const std::string& where);
  std::string name() const override { return "reward_model"; }
  rewards::Score score(const rewards::Sample& sample) const override;
  std::vector<rewards::Score> score_batch(const std::vector<rewards::Sample>& samples, ThreadPool* pool) const override;

 private:
  std::vector<double> normalized(const std::vector<double>& raw) const;  // under mutex_

  RewardModelOptions options_;
  std::unique_ptr<model::CausalLM> model_;
  std::unique_ptr<model::Tokenizer> tokenizer_;
  std::unique_ptr<RmEncoder> encoder_;
  mutable std::mutex mutex_;
  mutable double count_ = 0, mean_ = 0, m2_ = 0;  // running normalisation (Welford)
};

void register_reward_model_reward(rewards::Registry& registry);

}  // namespace r1::rl
