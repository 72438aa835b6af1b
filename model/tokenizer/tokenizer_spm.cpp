// See tokenizer_spm.h.
#include "model/tokenizer/tokenizer_spm.h"

#include "common/error.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {

SpmTokenizer::SpmTokenizer(const std::string& path, TokenizerConfig config, std::vector<AddedToken> extra_tokens)
    : sp_(std::make_unique<SentencePieceLib>(path)) {
  source_ = path;
  config_ = std::move(config);
  piece_size_ = sp_->GetPieceSize();
  for (AddedToken& t : extra_tokens) {
    // Tokens the model already holds under the same id are the model's business.
    if (t.id < piece_size_ && sp_->IdToPiece(t.id) == t.content) continue;
    added_.add(std::move(t));
  }
  added_.build(nullptr);
  auto id_or_none = [](int id) -> std::optional<int64_t> {
    if (id < 0) return std::nullopt;
    return id;
  };
  resolve_special_ids(id_or_none(sp_->bos_id()), id_or_none(sp_->eos_id()), id_or_none(sp_->pad_id()));
}

SpmTokenizer::~SpmTokenizer() = default;

void SpmTokenizer::encode_text(const std::string& text, std::vector<int64_t>& out) const {
  std::vector<int> ids;
  const std::string valid = utf8::to_valid(text);
  sp_->Encode(valid, &ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int64_t> SpmTokenizer::encode(std::string_view text, bool add_special_tokens, bool parse_special) const {
  std::vector<int64_t> out;
  if (add_special_tokens && bos_id_ && config_.add_bos_token.value_or(true)) out.push_back(*bos_id_);
  if (added_.empty()) {
    encode_text(std::string(text), out);
  } else {
    for (const Segment& seg : added_.split(text, nullptr, parse_special)) {
      if (seg.id >= 0) out.push_back(seg.id);
      else encode_text(seg.text, out);
    }
  }
  if (add_special_tokens && eos_id_ && config_.add_eos_token.value_or(false)) out.push_back(*eos_id_);
  return out;
}

std::string SpmTokenizer::decode_range(const int64_t* ids, size_t n, bool skip_special_tokens) const {
  std::string out;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string text;
    sp_->Decode(run, &text);
    out += text;
    run.clear();
  };
  for (size_t i = 0; i < n; ++i) {
    const int64_t id = ids[i];
    if (const AddedToken* t = id >= 0 && id <= INT32_MAX ? added_.by_id(static_cast<int32_t>(id)) : nullptr) {
      flush();
      if (!(skip_special_tokens && t->special)) out += t->content;
      continue;
    }
    R1_CHECK(id >= 0 && id < piece_size_, source_, ": decode: id ", id, " (position ", i,
             ") is not in the vocabulary (size ", vocab_size(), ")");
    if (is_special(id)) {
      flush();
      if (!skip_special_tokens) out += sp_->IdToPiece(static_cast<int>(id));
      continue;
    }
    run.push_back(static_cast<int>(id));
  }
  flush();
  return utf8::to_valid(out);
}

int64_t SpmTokenizer::vocab_size() const { return std::max<int64_t>(piece_size_, added_.id_limit()); }

std::optional<int64_t> SpmTokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.by_content(token)) return *id;
  const int id = sp_->PieceToId(std::string(token));
  if (id < 0 || id >= piece_size_) return std::nullopt;
  if (sp_->IsUnknown(id) && sp_->IdToPiece(id) != token) return std::nullopt;  // unknown pieces map to <unk>
  return id;
}

std::string SpmTokenizer::id_to_token(int64_t id) const {
  if (id >= 0 && id <= INT32_MAX) {
    if (const AddedToken* t = added_.by_id(static_cast<int32_t>(id))) return t->content;
  }
  R1_CHECK(id >= 0 && id < piece_size_, source_, ": id ", id, " is not in the vocabulary (size ", vocab_size(), ")");
  return sp_->IdToPiece(static_cast<int>(id));
}

bool SpmTokenizer::is_special(int64_t id) const {
  if (id >= 0 && id <= INT32_MAX) {
    if (const AddedToken* t = added_.by_id(static_cast<int32_t>(id))) return t->special;
  }
  if (id < 0 || id >= piece_size_) return false;
  return sp_->IsControl(static_cast<int>(id)) || sp_->IsUnknown(static_cast<int>(id));
}

}  // namespace r1::model
