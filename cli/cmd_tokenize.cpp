// `r1 tokenize` and `r1 detokenize`: the tokenizer from the command line, for checking what a model sees.
//
//   r1 tokenize --tokenizer PATH --text TEXT          → one JSON array of ids
//   r1 tokenize --tokenizer PATH --input F.jsonl      → one {"ids": [...]} line per {"text": ...} line
//   r1 detokenize --tokenizer PATH --ids '[1,2,3]'    → the text
//   r1 detokenize --tokenizer PATH --input F.jsonl    → one {"text": "..."} line per {"ids": [...]} line
//
// PATH is a tokenizer.json, a .model, or a model directory (see model/tokenizer/tokenizer.h). Bad input lines are
// errors naming file:line; nothing is skipped silently.
#include <CLI/CLI.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer, text, input;
  bool add_special_tokens = false, no_parse_special = false;
};

struct DetokenizeArgs {
  std::string tokenizer, ids, input;
  bool skip_special_tokens = false;
};

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

std::string ids_json(const std::vector<int64_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

std::string text_json(const std::string& text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("text");
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::vector<int64_t> parse_ids(const json::Value& v, const std::string& where) {
  R1_CHECK(v.IsArray(), where, ": expected a JSON array of token ids, got ", json::type_name(v));
  std::vector<int64_t> ids;
  ids.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    R1_CHECK(v[i].IsInt64(), where, "[", i, "]: expected an integer token id, got ", json::type_name(v[i]));
    ids.push_back(v[i].GetInt64());
  }
  return ids;
}

void run_tokenize(const TokenizeArgs& a) {
  const auto tok = model::Tokenizer::load(a.tokenizer);
  if (a.input.empty()) {
    print(ids_json(tok->encode(a.text, a.add_special_tokens, !a.no_parse_special)));
    return;
  }
  for_each_jsonl(a.input, [&](size_t line, const json::Value& row) {
    const std::string text = json::get_string(row, "text", str_cat(a.input, ":", line));
    print("{\"ids\": " + ids_json(tok->encode(text, a.add_special_tokens, !a.no_parse_special)) + "}");
  });
}

void run_detokenize(const DetokenizeArgs& a) {
  const auto tok = model::Tokenizer::load(a.tokenizer);
  if (a.input.empty()) {
    const json::Document doc = json::parse(a.ids, "--ids");
    print(tok->decode(parse_ids(doc, "--ids"), a.skip_special_tokens));
    return;
  }
  for_each_jsonl(a.input, [&](size_t line, const json::Value& row) {
    const std::string where = str_cat(a.input, ":", line);
    const std::vector<int64_t> ids = parse_ids(json::get(row, "ids", where), where + ": key 'ids'");
    std::string text;
    try {
      text = tok->decode(ids, a.skip_special_tokens);
    } catch (const Error& e) {
      fail(where, ": ", e.what());
    }
    print(text_json(text));
  });
}

}  // namespace

void add_tokenizer_commands(CLI::App& app) {
  auto targs = std::make_shared<TokenizeArgs>();
  CLI::App* tokenize = app.add_subcommand("tokenize", "Text → token ids (JSON)");
  tokenize->add_option("--tokenizer", targs->tokenizer, "tokenizer.json, .model, or a model directory")->required();
  CLI::Option_group* what = tokenize->add_option_group("input", "what to tokenize (exactly one)");
  what->add_option("--text", targs->text, "the text; prints one JSON array of ids");
  what->add_option("--input", targs->input, "JSONL file of {\"text\": ...}; prints one {\"ids\": [...]} per line");
  what->require_option(1);
  tokenize->add_flag("--add-special-tokens", targs->add_special_tokens,
                     "apply the post-processor (e.g. prepend BOS for Llama 3 / DeepSeek-V3)");
  tokenize->add_flag("--no-parse-special", targs->no_parse_special,
                     "treat special tokens written in the text as plain text");
  tokenize->callback([targs] { run_tokenize(*targs); });

  auto dargs = std::make_shared<DetokenizeArgs>();
  CLI::App* detokenize = app.add_subcommand("detokenize", "Token ids → text");
  detokenize->add_option("--tokenizer", dargs->tokenizer, "tokenizer.json, .model, or a model directory")->required();
  CLI::Option_group* from = detokenize->add_option_group("input", "what to decode (exactly one)");
  from->add_option("--ids", dargs->ids, "a JSON array of ids; prints the text");
  from->add_option("--input", dargs->input, "JSONL file of {\"ids\": [...]}; prints one {\"text\": ...} per line");
  from->require_option(1);
  detokenize->add_flag("--skip-special-tokens", dargs->skip_special_tokens, "leave special tokens out of the text");
  detokenize->callback([dargs] { run_detokenize(*dargs); });
}

}  // namespace r1::cli
