// Prompt datasets for RL, evaluation and rejection sampling: each example is a question plus its dataset
// row (a JSON object the rewards read: gold `answer`, `numbers`/`target`, `target_lang`, `tests`, ...).
//
// Readers normalise the common public formats to one row shape — every row gets "question" (text the
// prompt template wraps) and, where the format has one, "answer" (the gold, as a string):
//   jsonl      any JSONL; question from `question_key` (default: the first of prompt / question / problem),
//              gold from `answer_key` (default "answer"); numbers are turned into strings ("27.0" stays)
//   gsm8k      {"question", "answer": "... #### 72"} → answer "72" (text after ####, commas removed);
//              the worked solution is kept as "solution"
//   math       MATH / MATH-500 {"problem", "solution", "answer"}
//   countdown  {"nums": [..], "target": N} (or d1's {"input": "30,100,93", "output": "23"}) → "numbers",
//              "target" and a question asking for an equation that uses each number once
//   mgsm       TSV lines "question<TAB>answer"; "target_lang" from the spec or the file name (mgsm_zh.tsv)
// A malformed line is an r1::Error naming file:line, or is reported and skipped with skip_bad_lines.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/json.h"

namespace r1::data {

struct PromptExample {
  std::string question;                     // the text a prompt template wraps
  std::shared_ptr<const json::Document> row;  // normalised row (object), shared and read-only
  std::string origin;                       // "file:line" for messages
};

struct PromptDatasetSpec {
  std::string path;
  std::string format = "jsonl";  // jsonl | gsm8k | math | countdown | mgsm
  std::string question_key;      // jsonl only; empty → prompt / question / problem
  std::string answer_key = "answer";
  std::string target_lang;       // set "target_lang" on every row (mgsm: defaults to the file's language)
  int64_t limit = -1;            // keep the first N examples (-1: all)
  bool skip_bad_lines = false;
};

std::vector<PromptExample> load_prompt_dataset(const PromptDatasetSpec& spec);

// Builds an example from an in-memory row (used by synthetic generators and tests).
PromptExample make_prompt_example(const std::string& question, json::Document row, const std::string& origin);

}  // namespace r1::data
