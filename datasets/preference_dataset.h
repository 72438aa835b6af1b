// Reward-model data readers: preference pairs and pointwise labels, as conversations ready for a chat template.
//
//   pairwise   {"prompt": P, "chosen": C, "rejected": R}            (optional "margin": number)
//   pointwise  {"prompt": P, "response": A, "label": L}             (L: 0/1, true/false, or a number in [0, 1])
//
// P, C, R and A are each a string or a list of {"role", "content"} messages, the shapes common preference sets
// use (TRL's "explicit prompt" form, UltraFeedback-binarized, HH-RLHF as conversations):
//   * P a string: one user turn; P a list: those turns; P absent: C and R must be whole conversations.
//   * C / R / A a string: one assistant turn after P. A list without a user turn: those turns after P.
//     A list with a user turn: a whole conversation on its own (P, when given, is then not added again;
//     UltraFeedback-binarized repeats the prompt inside chosen/rejected).
// Every resulting conversation must end with an assistant turn (the text the reward model judges). Malformed
// lines (bad JSON, missing keys, wrong types, unknown roles, a label outside [0, 1]) are r1::Error naming
// file:line and the key, or are counted and skipped with skip_bad_lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/chat_message.h"
#include "common/json.h"

namespace r1::data {

struct PreferencePair {
  std::vector<ChatMessage> chosen;    // the whole conversation, ending with the preferred assistant turn
  std::vector<ChatMessage> rejected;  // the same with the dispreferred turn
  std::optional<double> margin;       // the row's "margin", when given
  std::string origin;                 // file:line
};

struct PointwiseExample {
  std::vector<ChatMessage> conversation;  // ending with the judged assistant turn
  double label = 0;                       // in [0, 1]; 1 = good (e.g. safe)
  std::string origin;
};

// One row of each kind (errors name `where`, e.g. "pairs.jsonl:7").
PreferencePair parse_preference_pair(const json::Value& row, const std::string& where);
PointwiseExample parse_pointwise_example(const json::Value& row, const std::string& where);

std::vector<PreferencePair> load_preference_jsonl(const std::string& path, bool skip_bad_lines = false,
                                                  size_t* skipped = nullptr);
std::vector<PointwiseExample> load_pointwise_jsonl(const std::string& path, bool skip_bad_lines = false,
                                                   size_t* skipped = nullptr);

}  // namespace r1::data
