// See chat_metadata.h. The two JSON files are edited as documents (keys the source had keep their place and
// value; the keys set here are replaced or appended), written, and the result is loaded back as a check.
#include "model/tokenizer/chat_metadata.h"

#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

namespace r1::model {
namespace {

std::optional<std::string> token_of(const Tokenizer& tok, std::optional<int64_t> id) {
  if (!id) return std::nullopt;
  return tok.id_to_token(*id);
}

// The tokenizer's own Jinja template when it renders as `chat`.
bool own_template_is(const Tokenizer& tok, const ChatTemplate& chat) {
  const TokenizerConfig& c = tok.config();
  if (c.chat_template.empty()) return false;
  try {
    const std::optional<ChatTemplate> own = ChatTemplate::recognize(c.chat_template, c.bos_token);
    return own && own->same_as(chat);
  } catch (const Error&) {  // a recognised but unsupported variant: not what was trained with
    return false;
  }
}

// The JSON object in `path`, or an empty object when the file does not exist.
json::Document read_object(const std::string& path) {
  json::Document doc;
  if (!path_exists(path)) {
    doc.SetObject();
    return doc;
  }
  doc = json::parse(read_file(path), path);
  R1_CHECK(doc.IsObject(), path, ": expected a JSON object, got ", json::type_name(doc));
  return doc;
}

void set_string(json::Document& doc, const std::string& key, const std::string& value) {
  json::set_member(doc, doc, key, json::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()),
                                              doc.GetAllocator()));
}

void set_special_tokens(json::Document& doc, const ChatSpecialTokens& s) {
  if (s.bos) set_string(doc, "bos_token", *s.bos);
  set_string(doc, "eos_token", s.eos);
  set_string(doc, "pad_token", s.pad);
}

void write_json(const std::string& path, const json::Document& doc) {
  write_file_atomic(path, json::dump(doc, /*pretty=*/true) + "\n");
}

void write_tokenizer_config(const std::string& dir, const ChatSpecialTokens& special, const ChatTemplate& chat,
                            const Tokenizer& tok, bool own_template) {
  const std::string path = path_join(dir, "tokenizer_config.json");
  json::Document doc = read_object(path);
  if (!doc.HasMember("tokenizer_class") && std::string(tok.kind()) == "tokenizer.json") {
    set_string(doc, "tokenizer_class", "PreTrainedTokenizerFast");
  }
  set_special_tokens(doc, special);
  if (!doc.HasMember("clean_up_tokenization_spaces")) {
    json::set_member(doc, doc, "clean_up_tokenization_spaces", json::Value(false));
  }
  if (!own_template) set_string(doc, "chat_template", chat.jinja());
  write_json(path, doc);
}

void write_special_tokens_map(const std::string& dir, const ChatSpecialTokens& special) {
  const std::string path = path_join(dir, "special_tokens_map.json");
  json::Document doc = read_object(path);
  set_special_tokens(doc, special);
  write_json(path, doc);
}

void check_loads_back(const std::string& dir, const ChatTemplate& chat) {
  const std::string where = path_join(dir, "tokenizer_config.json");
  const std::unique_ptr<Tokenizer> back = Tokenizer::load(dir);
  const ChatTemplate resolved = ChatTemplate::resolve("", *back);
  R1_CHECK(resolved.same_as(chat), where, ": key 'chat_template' loads back as template '", resolved.name(),
           "' with other parameters than the '", chat.name(), "' it was written for");
  R1_CHECK(back->eos_id() == back->token_to_id(chat.end_of_turn()), where, ": key 'eos_token' does not load back as '",
           chat.end_of_turn(), "'");
}

}  // namespace

ChatSpecialTokens chat_special_tokens(const ChatTemplate& chat, const Tokenizer& tok) {
  const TokenizerConfig& c = tok.config();
  ChatSpecialTokens s;
  s.eos = chat.end_of_turn();
  s.bos = chat.bos_token.empty() ? c.bos_token : std::optional<std::string>(chat.bos_token);
  std::optional<std::string> pad = c.pad_token ? c.pad_token : token_of(tok, tok.pad_id());
  const std::optional<std::string> old_eos = c.eos_token ? c.eos_token : token_of(tok, tok.eos_id());
  if (!pad && old_eos && *old_eos != s.eos) pad = old_eos;
  s.pad = pad.value_or(s.eos);
  return s;
}

void write_chat_tokenizer_dir(const std::string& src_dir, const std::string& dst_dir, const ChatTemplate& chat,
                              const Tokenizer& tok) {
  std::error_code ec;
  R1_CHECK(!std::filesystem::equivalent(src_dir, dst_dir, ec), dst_dir,
           ": the chat tokenizer directory must not be the source directory");
  remove_all(dst_dir);
  copy_tokenizer_files(src_dir, dst_dir);
  const bool own = own_template_is(tok, chat);
  if (!own) {
    remove_all(path_join(dst_dir, "chat_template.jinja"));
    remove_all(path_join(dst_dir, "chat_template.json"));
  }
  const ChatSpecialTokens special = chat_special_tokens(chat, tok);
  write_tokenizer_config(dst_dir, special, chat, tok, own);
  write_special_tokens_map(dst_dir, special);
  check_loads_back(dst_dir, chat);
}

}  // namespace r1::model
