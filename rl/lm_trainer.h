// Causal-LM training stages:
//   "pretrain"  plain next-token prediction on text JSONL ({"text": ...}); every token is a target. Used to
//               give the tiny model its base ability, and for continued pretraining.
//   "sft"       supervised fine-tuning on chat JSONL ({"messages": [...]} or {"prompt", "completion"}); the
//               loss covers only assistant tokens. Conversations are rendered with the model's chat template
//               (or one named in the recipe); prompt/completion rows may instead use a plain prompt
//               template ("prompt_template", e.g. for base models without a chat format).
// Both pack short sequences into rows of max_len tokens (block-diagonal attention, positions restarting
// per sequence — see lm_batch.h), add the DeepSeek-V3 MTP loss with weight mtp_weight when the model has an
// MTP module, update the MoE correction bias after every optimizer step, log a metrics line per step, save
// resumable checkpoints every save_every steps and the final model to <stage>/final.
//
// Loss: token-mean cross-entropy over all target tokens of a step (all micro-batches together), plus
// mtp_weight × the MTP cross-entropy (token mean over its targets), plus seq_aux_alpha × the sequence-wise
// balance loss (each packed sequence its own sequence). Padding is not routed through the MoE layers, so
// the expert load behind the bias update counts real tokens only.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "rl/lm_batch.h"
#include "rl/policy.h"
#include "rl/stage.h"
#include "rl/train_common.h"

namespace r1::rl {

struct LmTrainConfig {
  ModelSource model;
  std::string data;                 // JSONL path or stage:NAME/file
  std::string text_key = "text";    // pretrain
  std::string chat_template;        // sft: "" = from the tokenizer's config; or deepseek_r1 | qwen | llama3
  std::string prompt_template;      // sft with prompt/completion rows: wrap prompts with this instead
  bool add_eos = true;              // append EOS to every sequence (pretrain documents, SFT completions)
  int64_t steps = 100;              // optimizer steps
  int64_t batch_size = 32;          // sequences per step
  int64_t micro_batch_rows = 0;     // packed rows per forward/backward (0 = all rows at once)
  int64_t max_len = 512;
  bool pack = true;
  double mtp_weight = 0.0;          // λ of the MTP loss (DeepSeek-V3: 0.3 then 0.1); needs an MTP module
  MoeTrainConfig moe;
  OptimConfig optim;
  int64_t log_every = 1;
  int64_t save_every = 0;           // 0: only the final model
  int64_t keep_last = 2;
  bool skip_bad_lines = false;
  int64_t threads = 0;              // intra-op threads (0: LibTorch default)

  template <class V>
  void visit(V& v) {
    v("model", model);
    v("data", data, "JSONL file (text for pretrain, chat for sft)");
    v("text_key", text_key);
    v("chat_template", chat_template);
    v("prompt_template", prompt_template);
    v("add_eos", add_eos);
    v("steps", steps);
    v("batch_size", batch_size);
    v("micro_batch_rows", micro_batch_rows);
    v("max_len", max_len);
    v("pack", pack);
    v("mtp_weight", mtp_weight);
    v("moe", moe);
    v("optim", optim);
    v("log_every", log_every);
    v("save_every", save_every);
    v("keep_last", keep_last);
    v("skip_bad_lines", skip_bad_lines);
    v("threads", threads);
  }
  void validate(const std::string& where) const;
};

std::unique_ptr<Stage> make_pretrain_stage(const StageSpec& spec);
std::unique_ptr<Stage> make_sft_stage(const StageSpec& spec);

// The pieces of the trainer, exposed for tests.

// The SFT sequences of a chat JSONL file (rendered with the chat template or c.prompt_template): ids plus
// the train mask (1 on assistant content and its end-of-turn token / eos, 0 elsewhere).
std::vector<Sequence> sft_sequences(const LmTrainConfig& c, const model::Tokenizer& tok, const std::string& path,
                                    std::optional<int64_t> eos, const std::string& where);

// Per-token losses of rows [r0, r1) of a packed or padded batch, through the training forward (block-diagonal
// attention bias, restarting positions).
struct LmTokenLosses {
  at::Tensor nll;      // [b, T-1] -log p(ids[t+1] | ids[<=t]) where loss_mask[t+1] (0 elsewhere)
  at::Tensor mask;     // [b, T-1] bool: the targets of nll
  at::Tensor mtp_nll;  // [b, T-2] MTP: -log p(ids[t+2] | ids[<=t+1]) where ids[t..t+2] are one sequence and
                       // loss_mask[t+2] (0 elsewhere); undefined unless with_mtp
  at::Tensor mtp_mask; // [b, T-2] bool: the targets of mtp_nll
  model::ForwardOutput forward;  // expert loads, balance loss
};
LmTokenLosses lm_token_losses(const model::CausalLM& model, const LmBatch& batch, int64_t r0, int64_t r1, bool with_mtp,
                              bool seq_balance_loss);

}  // namespace r1::rl
