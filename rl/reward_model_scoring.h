// Reward-model inputs and scores, shared by the reward_model stage (training, evaluation) and the reward_model
// reward (rl/reward_model_reward.h), so that a model is scored at run time on exactly the text layout it was
// trained on.
//
// Input: a conversation ending with the judged assistant turn, rendered by the chat template without a
// generation prompt (the final turn closed by the template's end-of-turn text) and tokenised with the markers as
// single tokens. score_part "summary" keeps only the final turn's text after its last "</think>" (what R1's
// helpfulness RM saw; the whole turn when it has none); "all" keeps the whole response (R1's safety RM).
// A sequence longer than max_len keeps its LAST max_len tokens (the end of the response is what the score is read
// at) and counts as truncated.
//
// Reading: the score of a row is the score head's output at the row's last non-pad token (HF's
// *ForSequenceClassification rule, model/causal_lm.h), so batches are right-padded with the model's
// pad_token_id, and a sequence whose last token is the pad id is an error (HF would read it one token early).
//
// Letters: B rows, L padded length.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "common/chat_message.h"
#include "model/causal_lm.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::rl {

enum class ScorePart { kAll, kSummary };

// The file a reward_model stage writes into final/ with how the model was trained to read its input:
// {"mode", "score_part", "max_len"}; the reward_model reward's defaults follow it.
inline constexpr const char* kRewardModelSettingsFile = "r1_reward_model.json";
const std::vector<std::pair<ScorePart, const char*>>& enum_names(ScorePart);

// The text after the last "</think>" of a response (leading white space dropped), or the whole text without one.
std::string summary_part(const std::string& response);

// How a reward model turns conversations into ids.
struct RmEncoder {
  const model::Tokenizer& tokenizer;
  model::ChatTemplate chat;
  ScorePart part = ScorePart::kAll;
  int64_t max_len = 0;  // 0: no limit
  int64_t pad_id = 0;   // the model's pad_token_id

  struct Encoded {
    std::vector<int64_t> ids;
    bool truncated = false;
  };
  // `conversation` ends with an assistant turn; `origin` names it in errors.
  Encoded encode(std::vector<ChatMessage> conversation, const std::string& origin) const;
};

// The pad id a reward model reads with: its config's pad_token_id (an error naming `where` when unset).
int64_t rm_pad_id(const model::CausalLM& model, const std::string& where);

// Right-padded rows: input_ids [B, L] int64 (pad_id after each row), attention_mask [B, L] int64.
struct RmBatch {
  at::Tensor input_ids, attention_mask;
  int64_t tokens = 0;  // real tokens
};
RmBatch rm_batch(const std::vector<const std::vector<int64_t>*>& rows, int64_t pad_id, at::Device device);

// Scores [B] fp32 (the first label) of a batch; differentiable when grad mode is on.
at::Tensor rm_scores(const model::CausalLM& model, const RmBatch& batch);

// Losses per row [b] (differentiable). Pairwise (Bradley-Terry with a margin, as InstructGPT / Llama 2 RMs):
// −log σ(chosen − rejected − margin) = softplus(−(chosen − rejected − margin)); chosen, rejected, margin [b].
// Pointwise: binary cross-entropy of σ(score) against label in [0, 1]; score, label [b].
at::Tensor pairwise_rm_loss(const at::Tensor& chosen, const at::Tensor& rejected, const at::Tensor& margin);
at::Tensor pointwise_rm_loss(const at::Tensor& score, const at::Tensor& label);

// No-grad scores of many sequences, batch_size rows per forward (rows of similar length together, so little
// padding), in input order.
std::vector<double> score_sequences(const model::CausalLM& model, const std::vector<std::vector<int64_t>>& seqs,
                                    int64_t pad_id, int64_t batch_size);

}  // namespace r1::rl
