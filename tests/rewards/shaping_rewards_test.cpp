// Format, language consistency, overlong, cosine length, repetition, countdown and reasoning steps:
// each rule with cases that pass and cases that must not.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "rewards/format_reward.h"
#include "rewards/text_words.h"
#include "rewards_test_util.h"

namespace r1::rewards {
namespace {

using testing::make;
using testing::score_with;

TEST(Format, R1ZeroAnchoredTemplate) {
  RewardPtr f = make("format");
  EXPECT_EQ(score_with(f, "<think>reasoning</think> <answer>42</answer>").score.value, 1.0);
  EXPECT_EQ(score_with(f, "  <think>\nreasoning\n</think>\n<answer>\n42\n</answer>\n").score.value, 1.0);
  EXPECT_EQ(score_with(f, "<think></think><answer>42</answer>").score.value, 1.0);  // empty thinking is allowed
  const char* bad[] = {
      "<think>reasoning</think> <answer>42</answer> and more text",     // anchored end
      "Sure! <think>reasoning</think> <answer>42</answer>",              // anchored start
      "<think>a</think><think>b</think><answer>42</answer>",            // two think blocks
      "<think>reasoning <answer>1</answer></think> <answer>42</answer>", // nested tags
      "<think>reasoning</think> <answer>1</answer><answer>2</answer>",  // two answers
      "<think>reasoning</think> <answer>   </answer>",                  // empty answer
      "<think>reasoning</think> text <answer>42</answer>",               // text between blocks
      "<answer>42</answer><think>reasoning</think>",                     // wrong order
      "</think>reasoning<think> <answer>42</answer>",
      "reasoning <answer>42</answer>",
      "",
  };
  for (const char* b : bad) EXPECT_EQ(score_with(f, b).score.value, 0.0) << b;
}

TEST(Format, R1StyleThinkInPromptAndPartialCredit) {
  RewardPtr r1 = make(R"({"name": "format", "options": {"style": "r1"}})");
  EXPECT_EQ(score_with(r1, "<think>steps</think>\nThe answer is $\\boxed{4}$.").score.value, 1.0);
  EXPECT_EQ(score_with(r1, "<think>steps</think>\n").score.value, 0.0);                      // no summary
  EXPECT_EQ(score_with(r1, "<think>steps</think> <answer>4</answer>").score.value, 0.0);      // not this template
  RewardPtr in_prompt = make(R"({"name": "format", "options": {"think_in_prompt": true}})");
  EXPECT_EQ(score_with(in_prompt, "reasoning</think> <answer>42</answer>").score.value, 1.0);
  EXPECT_EQ(score_with(in_prompt, "<think>reasoning</think> <answer>42</answer>").score.value, 0.0);
  RewardPtr partial = make(R"({"name": "format", "options": {"partial_credit": true}})");
  EXPECT_DOUBLE_EQ(score_with(partial, "<think>reasoning</think> 42").score.value, 0.5);
  EXPECT_DOUBLE_EQ(score_with(partial, "<think>reasoning</think> <answer>42").score.value, 0.75);
  EXPECT_DOUBLE_EQ(score_with(partial, "<think>a</think> <answer>4</answer> trailing").score.value, 1.0);  // all tags once
  auto full = score_with(partial, "<think>a</think> <answer>4</answer>");
  EXPECT_EQ(full.score.value, 1.0);
  EXPECT_EQ(full.component("ok"), 1.0);
  EXPECT_DOUBLE_EQ(score_with(partial, "no tags").score.value, 0.0);
}

TEST(Format, ACompletionCutAtTheLengthLimitIsNotInTheFormat) {
  Sample cut;
  cut.completion = "<think>\nsteps\n</think>\n\n</\n<\n<";  // a summary that never ends
  cut.truncated = true;
  for (const char* style : {"r1", "r1_zero"}) {
    RewardPtr f = make(std::string(R"({"name": "format", "options": {"style": ")") + style + R"("}})");
    Sample s = cut;
    if (std::string(style) == "r1_zero") s.completion = "<think>steps</think> <answer>42</answer>";
    EXPECT_EQ(f->score(s).value, 0.0) << style;
    EXPECT_EQ(f->score(s).reason, "cut at the length limit (truncated_fails)") << style;
    s.truncated = false;
    EXPECT_EQ(f->score(s).value, 1.0) << style;
  }
  RewardPtr lenient = make(R"({"name": "format", "options": {"style": "r1", "truncated_fails": false}})");
  EXPECT_EQ(lenient->score(cut).value, 1.0);
}

TEST(Words, CountingRules) {
  std::vector<Word> w;
  split_words(strip_markup("Hello, world! 42 is \xe4\xbd\xa0\xe5\xa5\xbd $x^2$ na\xc3\xafve \\frac{1}{2}"), w);
  // Hello, world, is, 你, 好, naïve (frac is a command, digits and math are not words)
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[3].script, Script::Han);
  EXPECT_EQ(w[5].text, "na\xc3\xafve");
  w.clear();
  split_words(strip_markup("```python\nprint('hello world')\n```\n\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
                           "\xe3\x81\x93\xe3\x82\x93 \xec\x95\x88\xeb\x85\x95"),
              w);
  // Привет, こ, ん, 안, 녕 (the fenced code is not counted)
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w[0].script, Script::Cyrillic);
  EXPECT_EQ(w[1].script, Script::Hiragana);
  EXPECT_EQ(w[4].script, Script::Hangul);
  w.clear();
  split_words("\xff\xfe abc \xc3", w);  // invalid UTF-8 is skipped
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(chain_of_thought("<think>inside</think> after"), "inside");
  EXPECT_EQ(chain_of_thought("prompt opened it</think> after"), "prompt opened it");
  EXPECT_EQ(chain_of_thought("no tags"), "no tags");
  EXPECT_EQ(scripts_of_language("pt-BR"), std::vector<Script>{Script::Latin});
  EXPECT_EQ(scripts_of_language("ja").size(), 3u);
  EXPECT_TRUE(scripts_of_language("xx").empty());
}

TEST(Language, ProportionOfTargetWords) {
  RewardPtr lang = make("language");
  // 4 English words and 2 Chinese characters in the CoT.
  auto mixed = score_with(lang, "<think>we add the \xe6\x95\xb0\xe5\xad\x97 numbers</think> answer \xe7\xad\x94\xe6\xa1\x88",
                          R"({"target_lang": "en"})");
  EXPECT_DOUBLE_EQ(mixed.score.value, 4.0 / 6.0);
  EXPECT_EQ(mixed.component("words"), 6.0);
  auto zh = score_with(lang, "<think>\xe6\x88\x91\xe4\xbb\xac\xe8\xae\xa1\xe7\xae\x97 x = 5</think>", R"({"target_lang": "zh"})");
  EXPECT_DOUBLE_EQ(zh.score.value, 4.0 / 5.0);  // 4 ideographs and the Latin word "x" (not in $...$)
  auto with_latin = score_with(lang, "<think>\xe6\x88\x91\xe4\xbb\xac compute</think>", R"({"target_lang": "zh"})");
  EXPECT_DOUBLE_EQ(with_latin.score.value, 2.0 / 3.0);
  // Target detected from the prompt when the row has none.
  auto detected = score_with(lang, "<think>\xd0\xb4\xd0\xb2\xd0\xb0 \xd0\xb8 two</think>", "{}",
                             "\xd0\xa1\xd0\xba\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xba\xd0\xbe \xd0\xb1\xd1\x83\xd0\xb4\xd0\xb5\xd1\x82");
  EXPECT_DOUBLE_EQ(detected.score.value, 2.0 / 3.0);
  // Whole completion when there is no think block; empty CoT scores empty_score.
  EXPECT_DOUBLE_EQ(score_with(lang, "all english words", R"({"target_lang": "en"})").score.value, 1.0);
  EXPECT_DOUBLE_EQ(score_with(lang, "<think>$x^2$ 123</think>", R"({"target_lang": "en"})").score.value, 0.0);
  RewardPtr lenient = make(R"({"name": "language", "options": {"empty_score": 1.0}})");
  EXPECT_DOUBLE_EQ(score_with(lenient, "<think>$x^2$ 123</think>", R"({"target_lang": "en"})").score.value, 1.0);
  EXPECT_THROW(score_with(lang, "text", R"({"target_lang": "klingon"})"), Error);
  // Scope all: the answer counts too, the think tags do not (markup, not English words).
  RewardPtr all = make(R"({"name": "language", "options": {"scope": "all"}})");
  EXPECT_DOUBLE_EQ(score_with(all, "<think>\n\n</think>\n\n\xe8\x8b\xb9\xe6\x9e\x9c", R"({"target_lang": "zh"})").score.value,
                   1.0);  // 苹果
  EXPECT_DOUBLE_EQ(score_with(all, "<think>\xe6\x88\x91</think> we <think>", R"({"target_lang": "zh"})").score.value, 0.5);
  RewardPtr ja = make(R"({"name": "language", "options": {"default_lang": "ja"}})");
  EXPECT_DOUBLE_EQ(score_with(ja, "\xe6\x97\xa5\xe6\x9c\xac\xe3\x81\xa7\xe3\x81\x99").score.value, 1.0);  // 日本です
}

TEST(Overlong, DapoSoftPunishment) {
  RewardPtr o = make(R"({"name": "overlong", "options": {"max_length": 100, "cache_length": 20}})");
  EXPECT_DOUBLE_EQ(score_with(o, "x", "{}", "", 50).score.value, 0.0);
  EXPECT_DOUBLE_EQ(score_with(o, "x", "{}", "", 80).score.value, 0.0);
  EXPECT_DOUBLE_EQ(score_with(o, "x", "{}", "", 90).score.value, -0.5);
  EXPECT_DOUBLE_EQ(score_with(o, "x", "{}", "", 100).score.value, -1.0);
  EXPECT_DOUBLE_EQ(score_with(o, "x", "{}", "", 150).score.value, -1.0);
  EXPECT_DOUBLE_EQ(score_with(o, "x", R"({"completion_tokens": 95})").score.value, -0.75);
  EXPECT_THROW(score_with(o, "x"), Error);  // token count unknown
  RewardPtr chars = make(R"({"name": "overlong", "options": {"max_length": 10, "cache_length": 5, "unit": "chars"}})");
  EXPECT_DOUBLE_EQ(score_with(chars, "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0").score.value, -0.4);
  EXPECT_THROW(make(R"({"name": "overlong", "options": {"max_length": 10, "cache_length": 10}})"), Error);
}

TEST(CosineLength, ShortCorrectBestShortWrongWorst) {
  RewardPtr c = make(R"({"name": "cosine_length", "options": {"max_length": 100}})");
  const char* right = "\\boxed{4}";
  const char* wrong = "\\boxed{5}";
  const char* row = R"({"answer": "4"})";
  EXPECT_NEAR(score_with(c, right, row, "", 0).score.value, 1.0, 1e-12);
  EXPECT_NEAR(score_with(c, right, row, "", 100).score.value, 0.5, 1e-12);
  EXPECT_NEAR(score_with(c, right, row, "", 50).score.value, 0.75, 1e-12);
  EXPECT_NEAR(score_with(c, wrong, row, "", 0).score.value, -1.0, 1e-12);
  EXPECT_NEAR(score_with(c, wrong, row, "", 100).score.value, -0.5, 1e-12);
  EXPECT_NEAR(score_with(c, wrong, row, "", 1000).score.value, -0.5, 1e-12);
  EXPECT_LT(score_with(c, right, row, "", 10).score.value, 1.0);
  EXPECT_GT(score_with(c, right, row, "", 10).score.value, score_with(c, right, row, "", 20).score.value);
  RewardPtr keyed = make(R"({"name": "cosine_length", "options": {"unit": "words", "math": {"answer_key": "gold"}}})");
  EXPECT_EQ(score_with(keyed, "so \\boxed{4}", R"({"gold": 4})").component("correct"), 1.0);
}

TEST(Repetition, NgramPenalty) {
  RewardPtr r = make("repetition");
  EXPECT_DOUBLE_EQ(score_with(r, "a b c d e f").score.value, 0.0);
  EXPECT_DOUBLE_EQ(score_with(r, "a b").score.value, 0.0);  // shorter than one 3-gram
  // "a b c a b c a b c": 7 trigrams, 3 distinct.
  EXPECT_NEAR(score_with(r, "a b c a b c a b c").score.value, -(1.0 - 3.0 / 7.0), 1e-12);
  EXPECT_NEAR(score_with(r, "A b C a B c a b c").score.value, -(1.0 - 3.0 / 7.0), 1e-12);  // case-insensitive
  std::string loop;
  for (int k = 0; k < 200; ++k) loop += "\xe5\xaf\xb9\xe4\xb8\x8d\xe8\xb5\xb7";  // 对不起 repeated
  EXPECT_LT(score_with(r, loop).score.value, -0.9);  // CJK loops are caught (one word per character)
  RewardPtr r2 = make(R"({"name": "repetition", "options": {"ngram_size": 1, "max_penalty": -0.5}})");
  EXPECT_NEAR(score_with(r2, "x x x x").score.value, -0.5 * 0.75, 1e-12);
  EXPECT_THROW(make(R"({"name": "repetition", "options": {"max_penalty": 1}})"), Error);
}

TEST(Countdown, ExactNumbersAndTarget) {
  RewardPtr c = make("countdown");
  const char* row = R"({"numbers": [30, 100, 93], "target": 23})";
  EXPECT_EQ(score_with(c, "<think>...</think><answer>100 - 93 + 30 - 100 + 86</answer>", row).score.value, 0.1);
  EXPECT_EQ(score_with(c, "<answer>30 - (100 - 93)</answer>", row).score.value, 1.0);
  EXPECT_EQ(score_with(c, "<answer>30 - (100 - 93) = 23</answer>", row).score.value, 1.0);
  EXPECT_EQ(score_with(c, "<answer>30 - (100 - 93) = 24</answer>", row).score.value, 0.1);
  EXPECT_EQ(score_with(c, "<answer>30 - 7</answer>", row).score.value, 0.1);            // wrong numbers
  EXPECT_EQ(score_with(c, "<answer>30 + 100 - 93 - 14</answer>", row).score.value, 0.1);  // extra number
  EXPECT_EQ(score_with(c, "<answer>100 - 93 + 30</answer>", row).score.value, 0.1);     // = 37
  EXPECT_EQ(score_with(c, "<answer>30 / 0</answer>", row).score.value, 0.1);
  EXPECT_EQ(score_with(c, "no answer block: 30 - (100 - 93)", row).score.value, 0.0);
  EXPECT_EQ(score_with(c, "<answer>import os</answer>", row).score.value, 0.1);
  auto parts = score_with(c, "<answer>30-(100-93)</answer>", row);
  EXPECT_EQ(parts.component("valid"), 1.0);
  EXPECT_EQ(parts.component("correct"), 1.0);
  // Exact rationals: 6 / (1 - 3/4) = 24 (float arithmetic would need a tolerance).
  EXPECT_EQ(score_with(c, "<answer>6 / (1 - 3 / 4)</answer>", R"({"numbers": [6, 1, 3, 4], "target": 24})").score.value, 1.0);
  EXPECT_EQ(score_with(c, "<answer>(6 \\times 4) \\div (3 - 1 - 1)</answer>", R"({"numbers": [6, 1, 3, 4, 1], "target": 24})").score.value, 1.0);
  RewardPtr shared = make(R"({"name": "countdown", "options": {"numbers_key": "input", "target_key": "output", "format_score": 0}})");
  EXPECT_EQ(score_with(shared, "<answer>30-(100-93)</answer>", R"({"input": "30,100,93", "output": "23"})").score.value, 1.0);
  EXPECT_EQ(score_with(shared, "<answer>30-100</answer>", R"({"input": "30,100,93", "output": "23"})").score.value, 0.0);
  EXPECT_THROW(score_with(c, "<answer>1</answer>", R"({"target": 23})"), Error);
  EXPECT_THROW(score_with(c, "<answer>1</answer>", R"({"numbers": [1.5], "target": 23})"), Error);
}

TEST(ReasoningSteps, CountsMarkers) {
  RewardPtr r = make("reasoning_steps");
  EXPECT_DOUBLE_EQ(score_with(r, "Step 1: read. Step 2: add. Step 3: check.").score.value, 1.0);
  EXPECT_DOUBLE_EQ(score_with(r, "1. first\n2. second").score.value, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(score_with(r, "First, we add.\n- a bullet").score.value, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(score_with(r, "just an answer").score.value, 0.0);
  EXPECT_DOUBLE_EQ(score_with(r, "Step one: nope").score.value, 0.0);
  RewardPtr r1 = make(R"({"name": "reasoning_steps", "options": {"min_steps": 1}})");
  EXPECT_DOUBLE_EQ(score_with(r1, "Finally, done").score.value, 1.0);
}

}  // namespace
}  // namespace r1::rewards
