// SFT and pretraining data readers.
//   chat JSONL   {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
//                or {"prompt": "...", "completion": "..."} (read as one user turn and one assistant turn)
//   text JSONL   {"text": "..."} (key configurable) for plain causal-LM stages
// Malformed lines (bad JSON, missing keys, unknown roles, no assistant turn) are r1::Error naming
// file:line, or are counted and skipped with skip_bad_lines.
#pragma once

#include <string>
#include <vector>

#include "common/chat_message.h"
#include "common/json.h"

namespace r1::data {

using ChatMessage = r1::ChatMessage;  // common/chat_message.h

struct Conversation {
  std::vector<ChatMessage> messages;
  std::string origin;  // file:line
};

// A JSON list of {"role": "system"|"user"|"assistant", "content": "..."} objects (roles checked). `where`
// names the list in errors ("chat.jsonl:3: messages" → "chat.jsonl:3: messages[1]: missing required key ...").
std::vector<ChatMessage> parse_chat_messages(const json::Value& list, const std::string& where);

std::vector<Conversation> load_chat_jsonl(const std::string& path, bool skip_bad_lines = false, size_t* skipped = nullptr);
std::vector<std::string> load_text_jsonl(const std::string& path, const std::string& text_key = "text",
                                         bool skip_bad_lines = false, size_t* skipped = nullptr);

}  // namespace r1::data
