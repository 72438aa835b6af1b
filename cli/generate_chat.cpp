// See generate_chat.h.
#include "cli/generate_chat.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "common/error.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "datasets/sft_dataset.h"
#include "model/tokenizer/chat_template.h"

namespace r1::cli {
namespace {

std::vector<ChatMessage> checked_conversation(std::vector<ChatMessage> messages, const std::string& where) {
  R1_CHECK(!messages.empty(), where, ": no messages (give a list of {\"role\", \"content\"} objects)");
  return messages;
}

std::vector<std::vector<ChatMessage>> read_chat_file(const std::string& path) {
  std::vector<std::vector<ChatMessage>> out;
  for_each_jsonl(path, [&](size_t line_no, const json::Value& row) {
    const std::string where = path + ":" + std::to_string(line_no);
    const json::Value& list = json::get(row, "messages", where);
    out.push_back(checked_conversation(data::parse_chat_messages(list, where + ": messages"), where));
  });
  R1_CHECK(!out.empty(), path, ": no conversations (expected one {\"messages\": [...]} object per line)");
  return out;
}

model::ChatTemplate resolve_template(const std::string& name, const model::Tokenizer& tok) {
  try {
    return model::ChatTemplate::resolve(name, tok);
  } catch (const Error& e) {
    fail("generate --chat", name.empty() ? "" : " --chat-template '" + name + "'", ": ", e.what(),
         name.empty() ? " with --chat-template NAME" : "");
  }
}

// The generated text without a final stop id.
std::string assistant_text(const model::Tokenizer& tok, const model::GenerationResult& r) {
  size_t n = r.tokens.size();
  if (r.finish == model::FinishReason::kEos && n > 0) --n;
  return tok.decode_range(r.tokens.data(), n, /*skip_special_tokens=*/false);
}

void print_json_line(size_t row, const std::string& text, const model::GenerationResult& r, bool tokens) {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("row", json::Value(static_cast<uint64_t>(row)), a);
  d.AddMember("text", json::Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), a), a);
  d.AddMember("finish", json::Value(model::finish_reason_name(r.finish), a), a);
  if (tokens) {
    json::Value ids(rapidjson::kArrayType);
    for (int64_t id : r.tokens) ids.PushBack(json::Value(id), a);
    d.AddMember("tokens", ids, a);
  }
  std::cout << json::dump(d) << "\n";
}

}  // namespace

std::vector<std::vector<ChatMessage>> read_chat_request(const ChatRequest& r) {
  R1_CHECK(r.messages_json.empty() != r.file.empty(), "generate: give exactly one of --chat and --chat-file");
  if (!r.file.empty()) return read_chat_file(r.file);
  const json::Document doc = json::parse(r.messages_json, "--chat");
  return {checked_conversation(data::parse_chat_messages(doc, "--chat"), "--chat")};
}

void generate_chat(const ChatRequest& r, const model::CausalLM& m, const model::Tokenizer& tok,
                   model::GenerationConfig g) {
  const std::vector<std::vector<ChatMessage>> conversations = read_chat_request(r);
  const model::ChatTemplate chat = resolve_template(r.template_name, tok);
  const int64_t end_of_turn = tok.encode(chat.end_of_turn()).at(0);  // one token: resolve() checked it
  if (std::find(g.eos_ids.begin(), g.eos_ids.end(), end_of_turn) == g.eos_ids.end()) g.eos_ids.push_back(end_of_turn);

  model::ChatOptions options;
  options.add_generation_prompt = true;
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& messages : conversations) {
    prompts.push_back(model::tokenize_chat(tok, chat.render_segments(messages, options)).ids);
  }
  const std::vector<model::GenerationResult> results = model::generate(m, prompts, g);
  const bool json_lines = r.tokens || !r.file.empty();
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string text = assistant_text(tok, results[i]);
    if (json_lines) {
      print_json_line(i, text, results[i], r.tokens);
    } else {
      std::cout << text << "\n";
      std::fprintf(stderr, "[%zu tokens, finish: %s]\n", results[i].tokens.size(),
                   model::finish_reason_name(results[i].finish));
    }
  }
}

}  // namespace r1::cli
