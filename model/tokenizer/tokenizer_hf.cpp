// See tokenizer_hf.h.
#include "model/tokenizer/tokenizer_hf.h"

#include "common/error.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

const json::Value& null_value() {
  static const json::Value v;
  return v;
}

const json::Value& member_or_null(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v == nullptr ? null_value() : *v;
}

}  // namespace

HfTokenizer::HfTokenizer(const json::Value& doc, const std::string& path, TokenizerConfig config) {
  source_ = path;
  config_ = std::move(config);
  R1_CHECK(doc.IsObject(), path, ": expected a JSON object at the top level, got ", json::type_name(doc));
  const json::Value& model = json::get(doc, "model", path);
  model_ = std::make_unique<BpeModel>(model, path + ": model");

  normalizer_ = make_normalizer(member_or_null(doc, "normalizer"), path + ": normalizer");
  pre_tokenizer_ = make_pre_tokenizer(member_or_null(doc, "pre_tokenizer"), path + ": pre_tokenizer");
  decoder_ = make_decoder(member_or_null(doc, "decoder"), path + ": decoder");

  if (const json::Value* list = json::find(doc, "added_tokens"); list != nullptr && !list->IsNull()) {
    R1_CHECK(list->IsArray(), path, ": key 'added_tokens': expected an array, got ", json::type_name(*list));
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      const std::string where = str_cat(path, ": added_tokens[", i, "]");
      const json::Value& t = (*list)[i];
      AddedToken token;
      const int64_t id = json::get_int(t, "id", where);
      R1_CHECK(id >= 0 && id < (int64_t{1} << 24), where, ": id ", id, " out of range");
      token.id = static_cast<int32_t>(id);
      token.content = json::get_string(t, "content", where);
      R1_CHECK(!token.content.empty(), where, ": empty 'content'");
      token.special = json::opt_bool(t, "special", where).value_or(false);
      token.lstrip = json::opt_bool(t, "lstrip", where).value_or(false);
      token.rstrip = json::opt_bool(t, "rstrip", where).value_or(false);
      token.single_word = json::opt_bool(t, "single_word", where).value_or(false);
      token.normalized = json::opt_bool(t, "normalized", where).value_or(!token.special);
      added_.add(std::move(token));
    }
  }
  added_.build(normalizer_.get());
  read_post_processor(member_or_null(doc, "post_processor"), path + ": post_processor");

  std::optional<int64_t> default_bos, default_eos;
  if (!template_.prefix.empty()) default_bos = template_.prefix.front();
  if (config_.origin.empty()) {  // no tokenizer_config.json: fall back on well-known end-of-text tokens
    for (const char* name : {"<｜end▁of▁sentence｜>", "<|endoftext|>", "<|end_of_text|>", "</s>"}) {
      if (auto id = token_to_id(name)) {
        default_eos = *id;
        break;
      }
    }
  }
  resolve_special_ids(default_bos, default_eos, std::nullopt);
}

void HfTokenizer::read_post_processor(const json::Value& v, const std::string& where) {
  if (v.IsNull()) return;
  R1_CHECK(v.IsObject(), where, ": expected an object or null, got ", json::type_name(v));
  const std::string type = json::get_string(v, "type", where);
  auto special_id = [&](const json::Value& pair, const char* key) -> int32_t {
    const std::string w = where + "." + key;
    R1_CHECK(pair.IsArray() && pair.Size() == 2 && pair[1].IsInt(), w, ": expected [token, id]");
    const int32_t id = pair[1].GetInt();
    R1_CHECK(token_of(id) != nullptr, w, ": id ", id, " is not in the vocabulary");
    return id;
  };
  if (type == "ByteLevel") return;
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    Template t;
    t.prefix.push_back(special_id(json::get(v, "cls", where), "cls"));
    t.suffix.push_back(special_id(json::get(v, "sep", where), "sep"));
    template_.wrap_in(t);
    return;
  }
  if (type == "TemplateProcessing") {
    const json::Value& single = json::get(v, "single", where);
    R1_CHECK(single.IsArray(), where, ".single: expected a list of pieces, got ", json::type_name(single));
    const json::Value& specials = json::get(v, "special_tokens", where);
    Template t;
    bool seen_sequence = false;
    for (rapidjson::SizeType i = 0; i < single.Size(); ++i) {
      const std::string w = str_cat(where, ".single[", i, "]");
      const json::Value& piece = single[i];
      if (json::find(piece, "Sequence") != nullptr) {
        R1_CHECK(!seen_sequence, w, ": the single-sequence template names a sequence twice");
        seen_sequence = true;
        continue;
      }
      const json::Value& special = json::get(piece, "SpecialToken", w);
      const std::string name = json::get_string(special, "id", w + ".SpecialToken");
      const json::Value& entry = json::get(specials, name.c_str(), where + ".special_tokens");
      const json::Value& ids = json::get(entry, "ids", where + ".special_tokens['" + name + "']");
      R1_CHECK(ids.IsArray(), where, ".special_tokens['", name, "'].ids: expected a list of ids");
      for (const auto& id : ids.GetArray()) {
        R1_CHECK(id.IsInt() && token_of(id.GetInt()) != nullptr, where, ".special_tokens['", name,
                 "'].ids: an id is not in the vocabulary");
        (seen_sequence ? t.suffix : t.prefix).push_back(id.GetInt());
      }
    }
    R1_CHECK(seen_sequence, where, ".single: the template has no Sequence piece");
    template_.wrap_in(t);
    return;
  }
  if (type == "Sequence") {
    const json::Value& list = json::get(v, "processors", where);
    R1_CHECK(list.IsArray(), where, ".processors: expected an array, got ", json::type_name(list));
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) read_post_processor(list[i], str_cat(where, ".processors[", i, "]"));
    return;
  }
  fail(where, ": unsupported post_processor type '", type,
       "' (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
}

std::vector<int64_t> HfTokenizer::encode(std::string_view text, bool add_special_tokens, bool parse_special) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<Piece> pieces;
  for (Segment& seg : added_.split(text, normalizer_.get(), parse_special)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    pieces.clear();
    pieces.push_back({std::move(seg.text), seg.at_start});
    if (pre_tokenizer_) pre_tokenizer_->apply(pieces);
    for (const Piece& p : pieces) model_->tokenize(p.text, ids);
  }
  std::vector<int64_t> out;
  out.reserve(ids.size() + template_.prefix.size() + template_.suffix.size() + 2);
  if (add_special_tokens) out.insert(out.end(), template_.prefix.begin(), template_.prefix.end());
  out.insert(out.end(), ids.begin(), ids.end());
  if (add_special_tokens) out.insert(out.end(), template_.suffix.begin(), template_.suffix.end());
  if (add_special_tokens) {  // tokenizer_config.json may ask for BOS/EOS the post-processor does not add
    if (config_.add_bos_token.value_or(false) && bos_id_ && (out.empty() || out.front() != *bos_id_))
      out.insert(out.begin(), *bos_id_);
    if (config_.add_eos_token.value_or(false) && eos_id_ && (out.empty() || out.back() != *eos_id_))
      out.push_back(*eos_id_);
  }
  return out;
}

const std::string* HfTokenizer::token_of(int64_t id) const {
  if (id < 0 || id > INT32_MAX) return nullptr;
  if (const AddedToken* t = added_.by_id(static_cast<int32_t>(id))) return &t->content;
  return model_->id_to_token(static_cast<int32_t>(id));
}

std::string HfTokenizer::decode_range(const int64_t* ids, size_t n, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string* token = token_of(ids[i]);
    R1_CHECK(token != nullptr, source_, ": decode: id ", ids[i], " (position ", i, ") is not in the vocabulary (size ",
             vocab_size(), ")");
    if (skip_special_tokens && is_special(ids[i])) continue;
    tokens.push_back(*token);
  }
  if (decoder_) {
    decoder_->decode_chain(tokens);
    std::string out;
    for (const auto& t : tokens) out += t;
    return utf8::to_valid(out);
  }
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) out += ' ';
    out += tokens[i];
  }
  return utf8::to_valid(out);
}

int64_t HfTokenizer::vocab_size() const { return std::max<int64_t>(model_->id_limit(), added_.id_limit()); }

std::optional<int64_t> HfTokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.by_content(token)) return *id;
  if (auto id = model_->token_to_id(token)) return *id;
  return std::nullopt;
}

std::string HfTokenizer::id_to_token(int64_t id) const {
  const std::string* token = token_of(id);
  R1_CHECK(token != nullptr, source_, ": id ", id, " is not in the vocabulary (size ", vocab_size(), ")");
  return *token;
}

bool HfTokenizer::is_special(int64_t id) const {
  if (id < 0 || id > INT32_MAX) return false;
  const AddedToken* t = added_.by_id(static_cast<int32_t>(id));
  return t != nullptr && t->special;
}

}  // namespace r1::model
