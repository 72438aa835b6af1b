// See tokenizer.h: loading (file kind detection, tokenizer_config.json and friends), special-id
// resolution, and incremental decoding.
//
// Incremental decoding works on a window: decode(context + new) minus decode(context), where the context
// is the few ids before `from`. Diffing two decodes of the same window (rather than decoding the new ids
// alone) keeps decoders that look at the first token (Metaspace, sentencepiece's dummy-prefix space)
// and characters split across tokens correct: a trailing U+FFFD in the context that the new ids complete
// is handed to the suffix. StreamDecoder is the same idea with the window moving forward as text is
// emitted (the prefix_offset / read_offset scheme of HF text-generation-inference).
#include "model/tokenizer/tokenizer.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "model/tokenizer/tokenizer_hf.h"
#include "model/tokenizer/tokenizer_spm.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";
constexpr size_t kContextIds = 6;   // left context for decode_suffix
constexpr size_t kMaxHeldIds = 4;   // StreamDecoder holds an incomplete character for at most this many ids

bool ends_with_replacement(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, kReplacement) == 0;
}

// Text of `full` after its longest common prefix with `prefix`, cut at a character boundary.
std::string text_after(const std::string& prefix, const std::string& full) {
  if (full.compare(0, prefix.size(), prefix) == 0) return full.substr(prefix.size());
  std::string p = prefix;
  while (ends_with_replacement(p)) {  // an incomplete character the suffix completes
    p.resize(p.size() - 3);
    if (full.compare(0, p.size(), p) == 0) return full.substr(p.size());
  }
  size_t common = 0;
  while (common < p.size() && common < full.size() && p[common] == full[common]) ++common;
  while (common > 0 && common < full.size() && (static_cast<uint8_t>(full[common]) & 0xC0) == 0x80) --common;
  return full.substr(common);
}

// RapidJSON's iterative parser: a hostile, deeply nested file cannot overflow the stack.
json::Document parse_json(const std::string& text, const std::string& origin) {
  json::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < doc.GetErrorOffset() && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    fail(origin, ":", line, ":", col, ": invalid JSON: ", rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return doc;
}

// A special token in tokenizer_config.json: a string, {"content": "..."} (AddedToken), or null.
std::optional<std::string> token_field(const json::Value& obj, const char* key, const std::string& where) {
  const json::Value* v = json::find(obj, key);
  if (v == nullptr || v->IsNull()) return std::nullopt;
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsObject()) return json::get_string(*v, "content", where + ": " + key);
  fail(where, ": key '", key, "': expected a string, an AddedToken object or null, got ", json::type_name(*v));
}

std::string parent_dir(const std::string& file) {
  const std::string dir = std::filesystem::path(file).parent_path().string();
  return dir.empty() ? "." : dir;
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// tokenizer_config.json's added_tokens_decoder: {"<id>": {"content": ..., "special": ...}, ...}.
std::vector<AddedToken> read_added_tokens_decoder(const std::string& dir) {
  std::vector<AddedToken> out;
  const std::string path = path_join(dir, "tokenizer_config.json");
  if (!path_exists(path)) return out;
  const json::Document doc = parse_json(read_file(path), path);
  const json::Value* map = json::find(doc, "added_tokens_decoder");
  if (map == nullptr || map->IsNull()) return out;
  R1_CHECK(map->IsObject(), path, ": key 'added_tokens_decoder': expected an object");
  for (auto it = map->MemberBegin(); it != map->MemberEnd(); ++it) {
    const std::string key(it->name.GetString(), it->name.GetStringLength());
    const std::string where = path + ": added_tokens_decoder['" + key + "']";
    char* end = nullptr;
    const long id = std::strtol(key.c_str(), &end, 10);
    R1_CHECK(end != key.c_str() && *end == '\0' && id >= 0 && id < (1L << 24), where, ": the key is not a token id");
    AddedToken t;
    t.id = static_cast<int32_t>(id);
    t.content = json::get_string(it->value, "content", where);
    R1_CHECK(!t.content.empty(), where, ": empty 'content'");
    t.special = json::opt_bool(it->value, "special", where).value_or(false);
    t.lstrip = json::opt_bool(it->value, "lstrip", where).value_or(false);
    t.rstrip = json::opt_bool(it->value, "rstrip", where).value_or(false);
    t.single_word = json::opt_bool(it->value, "single_word", where).value_or(false);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& dir) {
  TokenizerConfig c;
  const std::string config_path = path_join(dir, "tokenizer_config.json");
  if (path_exists(config_path)) {
    const json::Document doc = parse_json(read_file(config_path), config_path);
    R1_CHECK(doc.IsObject(), config_path, ": expected a JSON object");
    c.origin = config_path;
    c.bos_token = token_field(doc, "bos_token", config_path);
    c.eos_token = token_field(doc, "eos_token", config_path);
    c.pad_token = token_field(doc, "pad_token", config_path);
    c.unk_token = token_field(doc, "unk_token", config_path);
    c.add_bos_token = json::opt_bool(doc, "add_bos_token", config_path);
    c.add_eos_token = json::opt_bool(doc, "add_eos_token", config_path);
    if (const json::Value* t = json::find(doc, "chat_template"); t != nullptr && !t->IsNull()) {
      if (t->IsString()) {
        c.chat_template.assign(t->GetString(), t->GetStringLength());
      } else if (t->IsArray()) {  // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
        for (const auto& entry : t->GetArray()) {
          const std::string where = config_path + ": chat_template[]";
          const std::string name = json::get_string(entry, "name", where);
          if (name == "default" || c.chat_template.empty()) c.chat_template = json::get_string(entry, "template", where);
        }
      } else {
        fail(config_path, ": key 'chat_template': expected a string or a list of {name, template}, got ",
             json::type_name(*t));
      }
    }
  }
  const std::string map_path = path_join(dir, "special_tokens_map.json");
  if (path_exists(map_path)) {
    const json::Document doc = parse_json(read_file(map_path), map_path);
    if (!c.bos_token) c.bos_token = token_field(doc, "bos_token", map_path);
    if (!c.eos_token) c.eos_token = token_field(doc, "eos_token", map_path);
    if (!c.pad_token) c.pad_token = token_field(doc, "pad_token", map_path);
    if (!c.unk_token) c.unk_token = token_field(doc, "unk_token", map_path);
    if (c.origin.empty()) c.origin = map_path;
  }
  if (c.chat_template.empty()) {
    const std::string jinja = path_join(dir, "chat_template.jinja");
    const std::string json_path = path_join(dir, "chat_template.json");
    if (path_exists(jinja)) {
      c.chat_template = read_file(jinja);
    } else if (path_exists(json_path)) {
      const json::Document doc = parse_json(read_file(json_path), json_path);
      c.chat_template = json::get_string(doc, "chat_template", json_path);
    }
  }
  return c;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  std::string file, dir;
  if (is_directory(path)) {
    dir = path;
    if (path_exists(path_join(dir, "tokenizer.json"))) file = path_join(dir, "tokenizer.json");
    else if (path_exists(path_join(dir, "tokenizer.model"))) file = path_join(dir, "tokenizer.model");
    else fail(path, ": no tokenizer.json or tokenizer.model in this directory");
  } else {
    R1_CHECK(path_exists(path), path, ": no such file or directory");
    file = path;
    dir = parent_dir(path);
  }
  TokenizerConfig config = read_tokenizer_config(dir);
  bool is_json = ends_with(file, ".json");
  if (!is_json && !ends_with(file, ".model")) {  // unknown extension: sniff
    const std::string head = read_file(file).substr(0, 64);
    const size_t first = head.find_first_not_of(" \t\r\n");
    is_json = first != std::string::npos && head[first] == '{';
  }
  if (is_json) {
    const json::Document doc = parse_json(read_file(file), file);
    return std::make_unique<HfTokenizer>(doc, file, std::move(config));
  }
  return std::make_unique<SpmTokenizer>(file, std::move(config), read_added_tokens_decoder(dir));
}

std::unique_ptr<Tokenizer> Tokenizer::from_tokenizer_json(std::string_view json_text, const std::string& origin,
                                                          TokenizerConfig config) {
  const json::Document doc = parse_json(std::string(json_text), origin);
  return std::make_unique<HfTokenizer>(doc, origin, std::move(config));
}

void Tokenizer::resolve_special_ids(std::optional<int64_t> default_bos, std::optional<int64_t> default_eos,
                                    std::optional<int64_t> default_pad) {
  auto resolve = [this](const std::optional<std::string>& name, const char* key,
                        std::optional<int64_t> fallback) -> std::optional<int64_t> {
    if (!name) return fallback;
    auto id = token_to_id(*name);
    R1_CHECK(id.has_value(), config_.origin, ": ", key, " '", *name, "' is not in the vocabulary of ", source_);
    return id;
  };
  bos_id_ = resolve(config_.bos_token, "bos_token", default_bos);
  eos_id_ = resolve(config_.eos_token, "eos_token", default_eos);
  pad_id_ = resolve(config_.pad_token, "pad_token", default_pad);
}

std::string Tokenizer::decode_suffix(const std::vector<int64_t>& ids, size_t from, bool skip_special_tokens) const {
  if (from >= ids.size()) return "";
  const size_t context = from > kContextIds ? from - kContextIds : 0;
  const std::string prefix = decode_range(ids.data() + context, from - context, skip_special_tokens);
  const std::string full = decode_range(ids.data() + context, ids.size() - context, skip_special_tokens);
  return text_after(prefix, full);
}

std::string StreamDecoder::push(int64_t id) {
  ids_.push_back(id);
  const int64_t* window = ids_.data() + prefix_offset_;
  const std::string prefix = tok_.decode_range(window, read_offset_ - prefix_offset_, skip_special_);
  const std::string text = tok_.decode_range(window, ids_.size() - prefix_offset_, skip_special_);
  const size_t pending = ids_.size() - read_offset_;
  const bool incomplete = ends_with_replacement(text) && pending < kMaxHeldIds;
  // Ids that add no text (skipped special tokens) are held too, but never more than 64: the window stays small.
  if ((text.size() <= prefix.size() && pending < 64) || incomplete) return "";
  std::string out = text.size() > prefix.size() ? text_after(prefix, text) : "";
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return out;
}

std::string StreamDecoder::flush() {
  if (read_offset_ >= ids_.size()) return "";
  const int64_t* window = ids_.data() + prefix_offset_;
  const std::string prefix = tok_.decode_range(window, read_offset_ - prefix_offset_, skip_special_);
  const std::string text = tok_.decode_range(window, ids_.size() - prefix_offset_, skip_special_);
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return text.size() > prefix.size() ? text_after(prefix, text) : "";
}

}  // namespace r1::model
