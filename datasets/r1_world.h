// The tiny world of the full R1 recipe (recipes/tiny_r1.json): the arithmetic problems of arithmetic.h asked
// in two languages, plus "general" (non-reasoning) prompts with a learnable notion of a good answer.
//
// Reasoning. A problem is asked in English (the bare question, "047 + 085", as in tiny_r1_zero) or in
// Chinese ("计算 047 + 085"). Its column steps can be written in either language:
//   en "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132"
//   zh "7+5=12，写 2 进 1。4+8+1=13，写 32 进 1。所以 132"
// and the base corpus writes the steps of a Chinese question step by step in a random language (each step
// Chinese with probability `zh_step_rate`): the language mixing R1-Zero showed, which nothing before the
// language-consistency reward removes. A readable (cold-start) answer keeps one language and ends in a
// summary: "<think>\n{steps}\n</think>\n\nThe answer is 132." / "…答案是 132。".
//
// General. "Tell me about the apple." / "请介绍一下苹果。" (4 phrasings per language × 32 topics). A good
// reply states the topic's one fact in the prompt's language and closes politely: "The apple is red. I hope
// this helps." / "苹果是红的。希望对你有帮助。". The flawed replies a noisy SFT set contains and a reward model
// must learn to rank lower: a wrong fact, the other language, another topic, a repeated sentence, a reply cut
// off. Facts come from the base corpus ("The apple is red.") and from the general training rows. The data stage
// uses the first N topics and holds out a hashed fifth of the (topic, language, phrasing) prompts: every topic
// and phrasing is seen in training, a held-out prompt's combination is not (a 2M-parameter reward model trained
// a few hundred steps judged wrong facts of wholly unseen topics right 16% of the time, and both it and the SFT
// model answered a wholly unseen phrasing off topic).
//
// Everything is a pure function of (seed, index): the data stage (rl/stages/synthetic_r1.cpp) can be re-run
// anywhere and gives the same files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/arithmetic.h"

namespace r1::data {

enum class Lang { En, Zh };
const char* lang_code(Lang lang);  // "en" | "zh"

// A problem of arithmetic.h asked in `lang`; steps in `lang` throughout (a readable CoT).
struct WorldProblem {
  ArithmeticProblem problem;  // English steps, bare question
  Lang lang = Lang::En;
  std::string question() const;                         // "047 + 085" | "计算 047 + 085"
  std::string steps(double zh_step_rate = -1, uint64_t variant = 0) const;  // < 0: consistent in `lang`
  std::string readable_answer() const;                  // "<think>\n…\n</think>\n\nThe answer is 132."
};

// The steps of `en_steps` (arithmetic.h's English column steps), each step in Chinese with probability
// `zh_rate` (draws from `variant`); 0 = all English, 1 = all Chinese.
std::string localize_steps(const std::string& en_steps, double zh_rate, uint64_t variant);

// General prompts and replies.
struct Topic {
  const char* en;       // "apple"
  const char* zh;       // "苹果"
  const char* en_fact;  // "red"
  const char* zh_fact;  // "红"
};
const std::vector<Topic>& world_topics();

enum class Reply { Good, WrongFact, WrongLanguage, OffTopic, Repeated, Truncated };
constexpr int kReplyKinds = 6;
const char* reply_name(Reply kind);

struct GeneralPrompt {
  size_t topic = 0;
  Lang lang = Lang::En;
  int phrasing = 0;         // 0..3
  size_t topic_count = 32;  // flawed replies draw their other topic / fact among the first topic_count topics
  std::string text() const;  // "Tell me about the apple."
  // A reply of the given kind; `variant` picks the other topic / fact of the flawed kinds.
  std::string reply(Reply kind, uint64_t variant = 0) const;
};
constexpr int kGeneralPhrasings = 4;

// "The apple is red." / "苹果是红的。" — the corpus sentence of a topic.
std::string topic_fact(size_t topic, Lang lang);

}  // namespace r1::data
