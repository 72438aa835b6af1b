// See preference_dataset.h.
#include "datasets/preference_dataset.h"

#include <cmath>

#include "common/error.h"
#include "common/jsonl.h"
#include "datasets/sft_dataset.h"

namespace r1::data {
namespace {

// A string (one turn of `role`) or a message list, read from row[key].
std::vector<ChatMessage> turns(const json::Value& row, const char* key, const char* role, const std::string& where) {
  const json::Value* v = json::find(row, key);
  R1_CHECK(v != nullptr, where, ": missing required key '", key, "'");
  const std::string at = where + ": " + key;
  if (v->IsString()) return {ChatMessage{role, std::string(v->GetString(), v->GetStringLength())}};
  R1_CHECK(v->IsArray(), at, ": expected a string or a list of {\"role\", \"content\"} messages, got ",
           json::type_name(*v));
  std::vector<ChatMessage> out = parse_chat_messages(*v, at);
  R1_CHECK(!out.empty(), at, ": the message list is empty");
  return out;
}

bool has_user_turn(const std::vector<ChatMessage>& messages) {
  for (const ChatMessage& m : messages) {
    if (m.role == "user") return true;
  }
  return false;
}

// The conversation a response (row[key]) makes with the prompt turns (see the header's rules).
std::vector<ChatMessage> conversation(const std::vector<ChatMessage>& prompt, bool has_prompt, const json::Value& row,
                                      const char* key, const std::string& where) {
  std::vector<ChatMessage> response = turns(row, key, "assistant", where);
  std::vector<ChatMessage> out;
  if (!has_user_turn(response)) {
    R1_CHECK(has_prompt, where, ": '", key, "' has no user turn, so the row needs a 'prompt' (a string or a message "
             "list)");
    out = prompt;
  }
  out.insert(out.end(), response.begin(), response.end());
  R1_CHECK(out.back().role == "assistant", where, ": ", key, ": the conversation must end with an assistant turn "
           "(the response the reward model judges), not a '", out.back().role, "' turn");
  return out;
}

std::vector<ChatMessage> prompt_turns(const json::Value& row, const std::string& where, bool& has_prompt) {
  has_prompt = json::find(row, "prompt") != nullptr;
  return has_prompt ? turns(row, "prompt", "user", where) : std::vector<ChatMessage>{};
}

}  // namespace

PreferencePair parse_preference_pair(const json::Value& row, const std::string& where) {
  bool has_prompt = false;
  const std::vector<ChatMessage> prompt = prompt_turns(row, where, has_prompt);
  PreferencePair pair;
  pair.chosen = conversation(prompt, has_prompt, row, "chosen", where);
  pair.rejected = conversation(prompt, has_prompt, row, "rejected", where);
  pair.margin = json::opt_double(row, "margin", where);
  R1_CHECK(!pair.margin || std::isfinite(*pair.margin), where, ": 'margin' must be a finite number");
  pair.origin = where;
  return pair;
}

PointwiseExample parse_pointwise_example(const json::Value& row, const std::string& where) {
  bool has_prompt = false;
  const std::vector<ChatMessage> prompt = prompt_turns(row, where, has_prompt);
  PointwiseExample ex;
  ex.conversation = conversation(prompt, has_prompt, row, "response", where);
  const json::Value* label = json::find(row, "label");
  R1_CHECK(label != nullptr, where, ": missing required key 'label' (0 or 1, true or false, or a number in [0, 1])");
  if (label->IsBool()) {
    ex.label = label->GetBool() ? 1.0 : 0.0;
  } else {
    R1_CHECK(label->IsNumber(), where, ": 'label' must be 0 or 1, true or false, or a number in [0, 1], got ",
             json::type_name(*label));
    ex.label = label->GetDouble();
    R1_CHECK(ex.label >= 0 && ex.label <= 1, where, ": 'label' must be in [0, 1], got ", ex.label);
  }
  ex.origin = where;
  return ex;
}

namespace {

template <class T, class Parse>
std::vector<T> load_rows(const std::string& path, bool skip_bad_lines, size_t* skipped, Parse parse) {
  std::vector<T> out;
  JsonlOptions options;
  options.skip_bad_lines = skip_bad_lines;
  const size_t bad = for_each_jsonl(
      path, [&](size_t line_no, const json::Value& row) { out.push_back(parse(row, path + ":" + std::to_string(line_no))); },
      options);
  if (skipped) *skipped = bad;
  return out;
}

}  // namespace

std::vector<PreferencePair> load_preference_jsonl(const std::string& path, bool skip_bad_lines, size_t* skipped) {
  return load_rows<PreferencePair>(path, skip_bad_lines, skipped, parse_preference_pair);
}

std::vector<PointwiseExample> load_pointwise_jsonl(const std::string& path, bool skip_bad_lines, size_t* skipped) {
  return load_rows<PointwiseExample>(path, skip_bad_lines, skipped, parse_pointwise_example);
}

}  // namespace r1::data
