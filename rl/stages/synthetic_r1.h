// Stage "synthetic_r1": writes the tiny world of the full R1 recipe (recipes/tiny_r1.json; datasets/r1_world.h)
// into the stage directory. The arithmetic keys are those of synthetic_arithmetic (same meaning), plus the
// two languages and the general prompts:
//   corpus.jsonl            {"text"} base corpus: arithmetic documents (styles of arithmetic.h; a Chinese
//                           question's steps mix languages step by step) + topic facts in both languages
//   train.jsonl             {"prompt", "answer", "target_lang"} reasoning RL prompts (distinct, train side)
//   heldout.jsonl           {"prompt", "answer", "target_lang"} held-out reasoning prompts
//   cold_start.jsonl        {"messages": [user, assistant], "target_lang", "answer"} readable long-CoT answers, one language each,
//                           "<think>\n…\n</think>\n\nThe answer is N." (generated from the problems' steps)
//   general_train.jsonl     {"prompt", "response", "target_lang", "quality"} training general prompts with
//                           reference replies, `general_good_rate` of them good, the rest flawed
//   general_heldout.jsonl   {"prompt", "target_lang"} every held-out general prompt (a hashed fifth)
//   preferences.jsonl       {"prompt", "chosen", "rejected", "target_lang", "flaw"} pairs on training prompts
//   preferences_heldout.jsonl   the same on held-out prompts
#pragma once

#include <memory>

#include "rl/stage.h"
#include "rl/stages/synthetic_arithmetic.h"

namespace r1::rl {

struct SyntheticR1Config {
  SyntheticArithmeticConfig arithmetic;  // its keys are this stage's keys
  double zh_rate = 0.4;                  // share of reasoning problems asked in Chinese
  double zh_step_rate = 0.5;             // base corpus: each step of a Chinese question in Chinese with this rate
  int64_t fact_documents = 2000;         // corpus documents of 1..3 topic facts
  int64_t cold_start_size = 400;
  int64_t general_train_size = 1000;
  double general_good_rate = 0.5;
  int64_t preference_size = 2000;
  int64_t preference_heldout_size = 200;
  int64_t topics = 16;
  int64_t general_heldout_modulus = 5;

  template <class V>
  void visit(V& v) {
    arithmetic.visit(v);
    v("zh_rate", zh_rate, "share of reasoning problems asked in Chinese (\"计算 047 + 085\")");
    v("zh_step_rate", zh_step_rate,
      "base corpus: each step of a Chinese question's worked solution is Chinese with this rate, else English");
    v("fact_documents", fact_documents, "corpus documents of 1..3 topic facts (\"The apple is red.\")");
    v("cold_start_size", cold_start_size, "readable long-CoT chat rows in cold_start.jsonl (train-side problems)");
    v("general_train_size", general_train_size, "general prompts with a reference reply in general_train.jsonl");
    v("general_good_rate", general_good_rate, "share of those replies that are good (the rest: one of 5 flaws)");
    v("preference_size", preference_size, "preference pairs (good vs flawed reply) on training topics");
    v("preference_heldout_size", preference_heldout_size, "preference pairs on held-out topics");
    v("topics", topics, "general prompts are about the first N of the 32 topics (2..32)");
    v("general_heldout_modulus", general_heldout_modulus,
      "a general prompt is held out (evaluation and held-out pairs only) when hash(prompt) % modulus == 0");
  }
  void validate(const std::string& where) const;
};

std::unique_ptr<Stage> make_synthetic_r1_stage(const StageSpec& spec);

}  // namespace r1::rl
