// See sft_dataset.h.
#include "datasets/sft_dataset.h"

#include "common/error.h"
#include "common/jsonl.h"

namespace r1::data {

std::vector<ChatMessage> parse_chat_messages(const json::Value& list, const std::string& where) {
  R1_CHECK(list.IsArray(), where, ": expected an array of {\"role\", \"content\"} objects, got ", json::type_name(list));
  std::vector<ChatMessage> out;
  size_t i = 0;
  for (const auto& m : list.GetArray()) {
    const std::string at = where + "[" + std::to_string(i++) + "]";
    ChatMessage msg{json::get_string(m, "role", at), json::get_string(m, "content", at)};
    R1_CHECK(msg.role == "system" || msg.role == "user" || msg.role == "assistant", at, ": unknown role '", msg.role,
             "' (expected system, user or assistant)");
    out.push_back(std::move(msg));
  }
  return out;
}

std::vector<Conversation> load_chat_jsonl(const std::string& path, bool skip_bad_lines, size_t* skipped) {
  std::vector<Conversation> out;
  JsonlOptions options;
  options.skip_bad_lines = skip_bad_lines;
  size_t bad = for_each_jsonl(
      path,
      [&](size_t line_no, const json::Value& row) {
        const std::string where = path + ":" + std::to_string(line_no);
        Conversation conv;
        conv.origin = where;
        if (const json::Value* messages = json::find(row, "messages")) {
          conv.messages = parse_chat_messages(*messages, where + ": messages");
        } else {
          R1_CHECK(json::find(row, "prompt") && json::find(row, "completion"), where,
                   ": expected 'messages' or both 'prompt' and 'completion'");
          conv.messages.push_back({"user", json::get_string(row, "prompt", where)});
          conv.messages.push_back({"assistant", json::get_string(row, "completion", where)});
        }
        bool has_assistant = false;
        for (const auto& m : conv.messages) has_assistant |= m.role == "assistant";
        R1_CHECK(has_assistant, where, ": the conversation has no assistant turn (nothing to train on)");
        out.push_back(std::move(conv));
      },
      options);
  if (skipped) *skipped = bad;
  return out;
}

std::vector<std::string> load_text_jsonl(const std::string& path, const std::string& text_key, bool skip_bad_lines,
                                         size_t* skipped) {
  std::vector<std::string> out;
  JsonlOptions options;
  options.skip_bad_lines = skip_bad_lines;
  size_t bad = for_each_jsonl(
      path,
      [&](size_t line_no, const json::Value& row) {
        out.push_back(json::get_string(row, text_key.c_str(), path + ":" + std::to_string(line_no)));
      },
      options);
  if (skipped) *skipped = bad;
  return out;
}

}  // namespace r1::data
