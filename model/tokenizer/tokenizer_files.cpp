// Tokenizer files on disk: copying a model's tokenizer files into a checkpoint directory unchanged, and
// writing the byte-level tokenizer.json of the built-in tiny model (declared in tokenizer.h).
//
// The byte-level file is a plain HF BPE tokenizer with an empty merge list: every byte is its own token,
// so any text round-trips and the vocabulary is 256 + the special tokens. It is written in the layout
// `tokenizers` itself saves (version, added_tokens, normalizer, pre_tokenizer, post_processor, decoder,
// model), so HF loads it without conversion.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <filesystem>
#include <set>

#include "common/error.h"
#include "common/fs.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_pretokenizer.h"

namespace r1::model {
const std::vector<std::string> kTokenizerFiles = {
    "tokenizer.json",         "tokenizer.model",    "tokenizer_config.json", "special_tokens_map.json",
    "chat_template.jinja",    "chat_template.json", "added_tokens.json",     "vocab.json",
    "merges.txt",
};

namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void key(Writer& w, const char* k) { w.Key(k); }
void str(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void byte_level_object(Writer& w, bool trim_offsets) {
  w.StartObject();
  key(w, "type"); w.String("ByteLevel");
  key(w, "add_prefix_space"); w.Bool(false);
  key(w, "trim_offsets"); w.Bool(trim_offsets);
  key(w, "use_regex"); w.Bool(false);
  w.EndObject();
}

}  // namespace

std::vector<std::string> copy_tokenizer_files(const std::string& src_dir, const std::string& dst_dir) {
  R1_CHECK(is_directory(src_dir), src_dir, ": tokenizer directory not found");
  R1_CHECK(path_exists(path_join(src_dir, "tokenizer.json")) || path_exists(path_join(src_dir, "tokenizer.model")),
           src_dir, ": no tokenizer.json or tokenizer.model to copy");
  make_dirs(dst_dir);
  std::error_code ec;
  if (std::filesystem::equivalent(src_dir, dst_dir, ec)) return {};
  std::vector<std::string> copied;
  for (const std::string& name : kTokenizerFiles) {
    const std::string src = path_join(src_dir, name);
    if (!path_exists(src) || is_directory(src)) continue;
    write_file_atomic(path_join(dst_dir, name), read_file(src));
    copied.push_back(name);
  }
  return copied;
}

std::string make_byte_level_tokenizer_json(const std::vector<std::string>& special_tokens) {
  const auto& alphabet = byte_level_alphabet();
  std::set<std::string> seen(alphabet.begin(), alphabet.end());
  for (const std::string& s : special_tokens) {
    R1_CHECK(!s.empty(), "make_byte_level_tokenizer_json: empty special token");
    R1_CHECK(seen.insert(s).second, "make_byte_level_tokenizer_json: special token '", s,
             "' is repeated or collides with a byte token");
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.SetIndent(' ', 2);
  w.StartObject();
  key(w, "version"); w.String("1.0");
  key(w, "truncation"); w.Null();
  key(w, "padding"); w.Null();
  key(w, "added_tokens");
  w.StartArray();
  for (size_t i = 0; i < special_tokens.size(); ++i) {
    w.StartObject();
    key(w, "id"); w.Int(static_cast<int>(256 + i));
    key(w, "content"); str(w, special_tokens[i]);
    key(w, "single_word"); w.Bool(false);
    key(w, "lstrip"); w.Bool(false);
    key(w, "rstrip"); w.Bool(false);
    key(w, "normalized"); w.Bool(false);
    key(w, "special"); w.Bool(true);
    w.EndObject();
  }
  w.EndArray();
  key(w, "normalizer"); w.Null();
  key(w, "pre_tokenizer"); byte_level_object(w, true);
  key(w, "post_processor"); byte_level_object(w, false);
  key(w, "decoder"); byte_level_object(w, true);
  key(w, "model");
  w.StartObject();
  key(w, "type"); w.String("BPE");
  key(w, "dropout"); w.Null();
  key(w, "unk_token"); w.Null();
  key(w, "continuing_subword_prefix"); w.Null();
  key(w, "end_of_word_suffix"); w.Null();
  key(w, "fuse_unk"); w.Bool(false);
  key(w, "byte_fallback"); w.Bool(false);
  key(w, "ignore_merges"); w.Bool(false);
  key(w, "vocab");
  w.StartObject();
  for (int b = 0; b < 256; ++b) {
    str(w, alphabet[b]);
    w.Int(b);
  }
  for (size_t i = 0; i < special_tokens.size(); ++i) {
    str(w, special_tokens[i]);
    w.Int(static_cast<int>(256 + i));
  }
  w.EndObject();
  key(w, "merges");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace r1::model
