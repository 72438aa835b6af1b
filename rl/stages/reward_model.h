// Stage "reward_model": trains a reward model — a backbone of any supported architecture with a scalar score head
// — on preference data, and saves it in the Hugging Face sequence-classification layout (model/causal_lm.h:
// `*ForSequenceClassification`, num_labels 1, tensor score.weight [1, hidden], pad_token_id set, the score read at
// the last non-pad token), so transformers' AutoModelForSequenceClassification loads final/ unchanged for Qwen2
// and Llama backbones. docs/reward_models.md has the keys, the losses and a recipe.
//
// Model ("model" as in every stage): an HF directory — a causal LM (an SFT model: its LM head is dropped and a
// fresh score head drawn, N(0, initializer_range)) or an existing reward model (trained further) — or an
// init_config (+ tokenizer) for a fresh backbone. The result is also a chat model of the stage's chat template
// (chat_tokenizer/ as the sft stage writes it), so the reward_model reward renders rows exactly as training did.
//
// Data (datasets/preference_dataset.h): `mode` pairwise — {"prompt", "chosen", "rejected"} rows (strings or chat
// message lists), loss −log σ(r_chosen − r_rejected − m) with m = the row's "margin" or the stage's `margin`
// (R1's helpfulness RM); pointwise — {"prompt", "response", "label"} rows, binary cross-entropy of σ(r) against
// the label (R1's safety RM). `score_part` summary scores only the text after </think> (R1's helpfulness RM),
// all the whole response.
//
// Every step takes batch_size rows in the deterministic data order (epochs follow each other reshuffled), runs
// forward/backward over micro-batches and one AdamW step, on the shared trainer skeleton (rl/trainer.h: resume,
// checkpoints, final/ + logit probe). metrics.jsonl per step: loss, accuracy (chosen scored higher; pointwise:
// the sign of r agrees with the label), reward_mean / reward_std over the step's scores, margin_mean (pairwise),
// lr, grad_norm, tokens_per_s; with eval_data also eval/* lines every eval_every steps, and at the end
// <stage>/eval.json: {"mode", "rows", "accuracy", "loss", "reward_mean", "reward_std", "margin_mean" (pairwise),
// "step"}.
//
//   {"name": "rm", "type": "reward_model", "model": {"init_config": {...Qwen2...}, "tokenizer": "stage:tok"},
//    "chat_template": "qwen", "data": "pairs.jsonl", "eval_data": "pairs_heldout.jsonl", "steps": 200,
//    "batch_size": 32, "max_len": 512, "optim": {"lr": 1e-4}}
#pragma once

#include <memory>
#include <string>

#include "rl/policy.h"
#include "rl/reward_model_scoring.h"
#include "rl/stage.h"
#include "rl/train_common.h"
#include "rl/trainer.h"

namespace r1::rl {

enum class RmMode { kPairwise, kPointwise };
const std::vector<std::pair<RmMode, const char*>>& enum_names(RmMode);

struct RewardModelConfig {
  ModelSource model;
  std::string data;                  // JSONL file or stage:NAME/file
  std::string eval_data;             // held-out rows of the same kind ("" = none)
  RmMode mode = RmMode::kPairwise;
  std::string chat_template;         // "" = the tokenizer's; or deepseek-r1 | qwen | llama3 | chatml ...
  ScorePart score_part = ScorePart::kAll;
  double margin = 0.0;               // pairwise: m in −log σ(r_c − r_r − m) for rows without a "margin"
  int64_t steps = 100;
  int64_t batch_size = 32;           // rows (pairs or examples) per step
  int64_t micro_batch_size = 0;      // rows per forward/backward (0: all of the step's)
  int64_t max_len = 512;             // tokens per sequence; longer ones keep their last max_len tokens
  int64_t eval_every = 0;            // eval/* metrics every N steps (0: at the end only)
  int64_t eval_batch_size = 32;      // sequences per forward when evaluating
  OptimConfig optim;
  int64_t log_every = 1;
  CheckpointConfig checkpoint;       // save_every, save_every_minutes, keep_last (top-level keys)
  bool skip_bad_lines = false;
  int64_t threads = 0;

  template <class V>
  void visit(V& v) {
    v("model", model);
    v("data", data, "pairwise or pointwise JSONL (see mode) or stage:NAME/file");
    v("eval_data", eval_data, "held-out rows of the same kind: eval/* metrics and <stage>/eval.json (\"\": none)");
    v("mode", mode, "pairwise ({prompt, chosen, rejected}: -log sigmoid(r_c - r_r - margin)) | pointwise "
                    "({prompt, response, label}: binary cross-entropy)");
    v("chat_template", chat_template, "chat template: \"\" = the tokenizer's, or deepseek-r1 | qwen | llama3 | chatml");
    v("score_part", score_part, "all (the whole response) | summary (only the text after </think>)");
    v("margin", margin, "pairwise: margin m for rows without a \"margin\" field");
    v("steps", steps, "optimizer steps");
    v("batch_size", batch_size, "rows (pairs or examples) per step");
    v("micro_batch_size", micro_batch_size, "rows per forward/backward (0: the whole step)");
    v("max_len", max_len, "tokens per sequence; a longer one keeps its last max_len tokens (counted in 'truncated')");
    v("eval_every", eval_every, "evaluate on eval_data every N steps (0: at the end only)");
    v("eval_batch_size", eval_batch_size, "sequences per forward when evaluating");
    v("optim", optim);
    v("log_every", log_every, "metrics line every N steps");
    checkpoint.visit(v);
    v("skip_bad_lines", skip_bad_lines, "skip malformed JSONL lines with a warning instead of failing");
    v("threads", threads, "LibTorch intra-op threads (0: default)");
  }
  void validate(const std::string& where) const;
  // Runs on every rank of a job, each on its share of every step (rl/stage.h).
  bool data_parallel() const { return true; }
};

std::unique_ptr<Stage> make_reward_model_stage(const StageSpec& spec);

}  // namespace r1::rl
