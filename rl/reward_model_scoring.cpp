// See reward_model_scoring.h.
#include "rl/reward_model_scoring.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace r1::rl {

const std::vector<std::pair<ScorePart, const char*>>& enum_names(ScorePart) {
  static const std::vector<std::pair<ScorePart, const char*>> names = {{ScorePart::kAll, "all"},
                                                                       {ScorePart::kSummary, "summary"}};
  return names;
}

std::string summary_part(const std::string& response) {
  static const std::string kClose = "</think>";
  const size_t at = response.rfind(kClose);
  if (at == std::string::npos) return response;
  size_t start = at + kClose.size();
  while (start < response.size() && (response[start] == ' ' || response[start] == '\n' || response[start] == '\t' ||
                                     response[start] == '\r')) {
    ++start;
  }
  return response.substr(start);
}

RmEncoder::Encoded RmEncoder::encode(std::vector<ChatMessage> conversation, const std::string& origin) const {
  R1_CHECK(!conversation.empty() && conversation.back().role == "assistant", origin,
           ": a reward model judges a conversation that ends with an assistant turn");
  if (part == ScorePart::kSummary) conversation.back().content = summary_part(conversation.back().content);
  Encoded out;
  out.ids = model::tokenize_chat(tokenizer, chat.render_segments(conversation)).ids;
  R1_CHECK(!out.ids.empty(), origin, ": the rendered conversation has no tokens");
  if (max_len > 0 && static_cast<int64_t>(out.ids.size()) > max_len) {
    out.ids.erase(out.ids.begin(), out.ids.end() - max_len);
    out.truncated = true;
  }
  R1_CHECK(out.ids.back() != pad_id, origin, ": the rendered text ends with the pad token (id ", pad_id,
           "), so the score would be read one token early (HF reads the last non-pad token); give the tokenizer a "
           "pad token other than the chat template's end-of-turn text");
  return out;
}

int64_t rm_pad_id(const model::CausalLM& model, const std::string& where) {
  const auto& pad = model.config().pad_token_id;
  R1_CHECK(pad.has_value(), where, ": the reward model's config.json has no pad_token_id (HF reads the score at the "
           "last non-pad token, so a reward model needs one); set it to the tokenizer's pad token id");
  return *pad;
}

RmBatch rm_batch(const std::vector<const std::vector<int64_t>*>& rows, int64_t pad_id, at::Device device) {
  R1_CHECK(!rows.empty(), "rm_batch: no rows");
  int64_t length = 0;
  for (const auto* r : rows) length = std::max<int64_t>(length, static_cast<int64_t>(r->size()));
  const int64_t b = static_cast<int64_t>(rows.size());
  at::Tensor ids = at::full({b, length}, pad_id, at::kLong);
  at::Tensor mask = at::zeros({b, length}, at::kLong);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  RmBatch batch;
  for (int64_t i = 0; i < b; ++i) {
    const std::vector<int64_t>& r = *rows[static_cast<size_t>(i)];
    for (size_t t = 0; t < r.size(); ++t) {
      ids_a[i][static_cast<int64_t>(t)] = r[t];
      mask_a[i][static_cast<int64_t>(t)] = 1;
    }
    batch.tokens += static_cast<int64_t>(r.size());
  }
  batch.input_ids = ids.to(device);
  batch.attention_mask = mask.to(device);
  return batch;
}

at::Tensor rm_scores(const model::CausalLM& model, const RmBatch& batch) {
  // sequence_scores: [B, num_labels] fp32 read at each row's last non-pad token.
  return model.sequence_scores(batch.input_ids, batch.attention_mask).select(1, 0);
}

at::Tensor pairwise_rm_loss(const at::Tensor& chosen, const at::Tensor& rejected, const at::Tensor& margin) {
  return at::softplus(-(chosen - rejected - margin));
}

at::Tensor pointwise_rm_loss(const at::Tensor& score, const at::Tensor& label) {
  // softplus(s) − label·s = −label·log σ(s) − (1 − label)·log(1 − σ(s)), stable for large |s|.
  return at::softplus(score) - label * score;
}

std::vector<double> score_sequences(const model::CausalLM& model, const std::vector<std::vector<int64_t>>& seqs,
                                    int64_t pad_id, int64_t batch_size) {
  at::NoGradGuard no_grad;
  std::vector<size_t> order(seqs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return seqs[a].size() < seqs[b].size(); });
  std::vector<double> out(seqs.size(), 0.0);
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, batch_size));
  for (size_t start = 0; start < order.size(); start += step) {
    const size_t end = std::min(order.size(), start + step);
    std::vector<const std::vector<int64_t>*> rows;
    for (size_t k = start; k < end; ++k) rows.push_back(&seqs[order[k]]);
    const at::Tensor scores = rm_scores(model, rm_batch(rows, pad_id, model.device())).to(at::kCPU).contiguous();
    const float* s = scores.data_ptr<float>();
    for (size_t k = start; k < end; ++k) out[order[k]] = static_cast<double>(s[k - start]);
  }
  return out;
}

}  // namespace r1::rl
