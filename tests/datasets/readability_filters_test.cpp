// The R1 readability filters (datasets/filters/) on crafted chains of thought: each filter with cases
// that must be dropped and cases that must be kept (zh/en mixing at several shares both ways, one
// 5,000-character paragraph vs many short ones, fenced / indented code vs display math, code in the answer,
// truncated, no answer, repetition loops, exact and near duplicates), the word counts shared with the
// language and repetition rewards, every failure reported, the stats, and the options' JSON reading.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/config_io.h"
#include "common/error.h"
#include "common/json.h"
#include "datasets/filters/code_blocks.h"
#include "datasets/filters/completion_parts.h"
#include "datasets/filters/duplicates.h"
#include "datasets/filters/readability_filter.h"
#include "datasets/filters/text_checks.h"
#include "error_of.h"
#include "rewards/registry.h"

namespace r1::data {
namespace {

using r1::testing::error_of;

// Deterministic pseudo-random picks, so that crafted text does not loop (which the repetition filter
// would see) and does not depend on the platform's <random>.
struct Lcg {
  uint64_t state;
  size_t next(size_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((state >> 33) % n);
  }
};

const std::vector<std::string>& english_words() {
  static const std::vector<std::string> words = {
      "first",  "we",      "compute", "the",    "sum",      "of",      "both",     "numbers", "then",   "check",
      "whether", "result", "matches", "given",  "value",    "because", "each",     "term",    "adds",   "more",
      "so",     "total",   "must",    "be",     "larger",   "than",    "before",   "now",     "divide", "by",
      "two",    "and",     "compare", "with",   "original", "answer",  "looks",    "correct", "let",    "me",
      "verify", "again",   "using",   "another", "method",  "multiply", "out",     "factor",  "common", "side"};
  return words;
}

const std::vector<std::string>& chinese_chars() {
  static const std::vector<std::string> chars = {"的", "一", "是", "不", "了", "人", "我", "在", "有", "他",
                                                 "这", "中", "大", "来", "上", "个", "国", "到", "说", "们",
                                                 "为", "子", "和", "你", "地", "出", "道", "也", "时", "年",
                                                 "得", "就", "那", "要", "下", "以", "生", "会", "自", "着",
                                                 "去", "之", "过", "家", "学", "对", "可", "里", "后", "小"};
  return chars;
}

// `total` words of which `foreign` are of the other language, spread through the text; base "en" writes
// English with Chinese characters mixed in, "zh" Chinese with English words.
std::string mixed_text(const std::string& base, size_t total, size_t foreign, uint64_t seed = 1) {
  Lcg rng{seed};
  std::string out;
  for (size_t i = 0; i < total; ++i) {
    // foreign words at evenly spaced positions
    const bool is_foreign = foreign > 0 && (i * foreign) / total != ((i + 1) * foreign) / total;
    const bool english = (base == "en") != is_foreign;
    if (english) {
      if (!out.empty()) out += ' ';
      out += english_words()[rng.next(english_words().size())];
      out += ' ';
    } else {
      out += chinese_chars()[rng.next(chinese_chars().size())];
    }
    if (i % 12 == 11) out += ".\n\n";
  }
  return out;
}

std::string think(const std::string& cot, const std::string& answer = "The answer is 4.") {
  return "<think>\n" + cot + "\n</think>\n\n" + answer;
}

bool has(const std::vector<Filter>& failed, Filter f) {
  for (Filter x : failed)
    if (x == f) return true;
  return false;
}

std::vector<Filter> check(const std::string& completion, const std::string& target_lang = "en",
                          const FilterOptions& options = {}, const std::string& prompt = "") {
  ReadabilityFilter filter(options);
  FilterInput in;
  in.completion = completion;
  in.target_lang = target_lang;
  in.prompt = prompt;
  return filter.check(in);
}

// ---- mixed_language ---------------------------------------------------------------------------------

// 100-word CoTs in `lang` with 0, 10, 50 and 90% of their words in `foreign`: counted, and mixed above 10%
// (default threshold 0.9: a share below it is mixed; 10% foreign is exactly at the line and passes).
void expect_shares_judged(const std::string& lang, const char* foreign) {
  for (size_t pct : {0, 10, 50, 90}) {
    const std::string cot = mixed_text(lang, 100, pct);
    const LanguageShare share = language_share(cot, rewards::scripts_of_language(lang), true);
    EXPECT_EQ(share.words, 100u) << pct;
    EXPECT_EQ(share.in_target, 100u - pct) << pct;
    EXPECT_EQ(has(check(think(cot), lang), Filter::MixedLanguage), pct > 10) << pct << "% " << foreign << "\n" << cot;
  }
}

TEST(MixedLanguage, ChineseInAnEnglishCotAtSeveralShares) {
  expect_shares_judged("en", "Chinese");
  FilterOptions strict;
  strict.mixed_language.min_target_share = 0.95;
  EXPECT_TRUE(has(check(think(mixed_text("en", 100, 10)), "en", strict), Filter::MixedLanguage));
  EXPECT_FALSE(has(check(think(mixed_text("en", 100, 0)), "en", strict), Filter::MixedLanguage));
  EXPECT_FALSE(has(check(think(mixed_text("en", 100, 4)), "en", strict), Filter::MixedLanguage));
}

TEST(MixedLanguage, EnglishInAChineseCotAtSeveralShares) {
  expect_shares_judged("zh", "English");
  // 90% English in a "Chinese" CoT is 10% Chinese in an English one: the target decides
  EXPECT_FALSE(has(check(think(mixed_text("zh", 100, 90)), "en"), Filter::MixedLanguage));
}

TEST(MixedLanguage, TargetFromThePromptThenFromTheCot) {
  const std::string english = think(mixed_text("en", 60, 0));
  const std::string half = think(mixed_text("en", 60, 30));
  // no target_lang: the prompt's dominant script decides
  EXPECT_FALSE(has(check(english, "", {}, "What is the sum of two and two?"), Filter::MixedLanguage));
  EXPECT_TRUE(has(check(english, "", {}, "二加二等于多少？"), Filter::MixedLanguage));
  // no prompt either: the CoT's own dominant script, so only a CoT that mixes is mixed
  EXPECT_FALSE(has(check(english, ""), Filter::MixedLanguage));
  EXPECT_FALSE(has(check(think(mixed_text("zh", 60, 0)), ""), Filter::MixedLanguage));
  EXPECT_TRUE(has(check(half, ""), Filter::MixedLanguage));
  // default_lang comes before the prompt
  FilterOptions zh;
  zh.mixed_language.default_lang = "zh";
  EXPECT_TRUE(has(check(english, "", zh, "What is two plus two?"), Filter::MixedLanguage));
  EXPECT_FALSE(has(check(english, "en", zh, "What is two plus two?"), Filter::MixedLanguage));  // the row wins
  // an unknown code is an error, not a silent pass
  EXPECT_NE(error_of([&] { check(english, "xx"); }).find("unknown language code 'xx'"), std::string::npos);
}

TEST(MixedLanguage, ShortCotsMathLettersAndLatexAreNotMixed) {
  // three words, one of them Chinese: under min_words (5)
  EXPECT_FALSE(has(check(think("so 答 here")), Filter::MixedLanguage));
  FilterOptions any;
  any.mixed_language.min_words = 1;
  EXPECT_TRUE(has(check(think("so 答 here"), "en", any), Filter::MixedLanguage));
  // Greek and Latin single letters are math variables, not language switches (unless asked to count them)
  const std::string greek = think("Let θ be the angle and φ the phase, so θ plus φ is π over two and then sin θ equals one half");
  EXPECT_FALSE(has(check(greek), Filter::MixedLanguage));
  FilterOptions literal;
  literal.mixed_language.ignore_single_letters = false;
  EXPECT_TRUE(has(check(greek, "en", literal), Filter::MixedLanguage));
  // a Chinese CoT with Latin variables x, y
  EXPECT_FALSE(has(check(think("设 x 为 第 一 个 数 ， y 为 第 二 个 数 ， 那 么 x 加 y 等 于 十"), "zh"), Filter::MixedLanguage));
  // LaTeX is not words, as in the language reward
  EXPECT_FALSE(has(check(think("We have $\\frac{a}{b} = \\alpha\\beta$ and $$\\sum_{i} x_i = 10$$ so the total is ten")),
                   Filter::MixedLanguage));
}

TEST(MixedLanguage, CountsAsTheLanguageRewardDoes) {
  // with ignore_single_letters off the share is the language reward's score, for every mix
  rewards::RewardPtr reward = rewards::Registry::global().make_from_spec("language", "test");
  for (size_t pct : {0, 3, 10, 37, 50, 90}) {
    for (const char* base : {"en", "zh"}) {
      const std::string completion = think(mixed_text(base, 80, pct * 80 / 100, pct + 7) + " $x^2$ ```code 中文```");
      json::Document row = json::parse(std::string("{\"target_lang\": \"") + base + "\"}", "row");
      rewards::Sample s;
      s.completion = completion;
      s.row = &row;
      const double expected = reward->score(s).value;
      const std::string_view cot = split_completion(completion, MissingThink::Cot).cot;
      EXPECT_DOUBLE_EQ(language_share(cot, rewards::scripts_of_language(base), false).share(), expected)
          << base << " " << pct;
    }
  }
}

// ---- long_paragraph ---------------------------------------------------------------------------------

TEST(LongParagraph, OneLongParagraphVersusManyShortOnes) {
  std::string long_para;
  Lcg rng{3};
  while (long_para.size() < 5000) long_para += english_words()[rng.next(english_words().size())] + " ";
  long_para.resize(5000);
  long_para.back() = 'x';
  EXPECT_EQ(longest_paragraph(long_para), 5000u);
  EXPECT_TRUE(has(check(think("Intro line.\n\n" + long_para + "\n\nShort end.")), Filter::LongParagraph));

  // the same 5,000 characters cut into 50 paragraphs of 100 (blank lines, with stray spaces and \r)
  std::string many;
  for (size_t i = 0; i < 5000; i += 100) many += long_para.substr(i, 100) + (i % 200 ? "\n \t\n" : "\r\n\r\n");
  EXPECT_LE(longest_paragraph(many), 100u);  // a cut may fall on a space, which is trimmed
  EXPECT_GE(longest_paragraph(many), 95u);
  EXPECT_FALSE(has(check(think(many)), Filter::LongParagraph));

  // single newlines do not end a paragraph
  std::string lines;
  for (size_t i = 0; i < 5000; i += 100) lines += long_para.substr(i, 99) + "\n";
  EXPECT_TRUE(has(check(think(lines)), Filter::LongParagraph));
}

TEST(LongParagraph, CountsCodePointsNotBytesAndTheLimitIsInclusive) {
  std::string zh;
  for (int i = 0; i < 1000; ++i) zh += chinese_chars()[static_cast<size_t>(i) % 50];  // 1000 code points, 3000 bytes
  EXPECT_EQ(zh.size(), 3000u);
  EXPECT_EQ(longest_paragraph(zh), 1000u);
  EXPECT_FALSE(has(check(think(zh), "zh"), Filter::LongParagraph));
  FilterOptions o;
  o.long_paragraph.max_chars = 1000;
  EXPECT_FALSE(has(check(think(zh), "zh", o), Filter::LongParagraph));
  o.long_paragraph.max_chars = 999;
  EXPECT_TRUE(has(check(think(zh), "zh", o), Filter::LongParagraph));
  EXPECT_EQ(longest_paragraph("  \n\n \t "), 0u);
  EXPECT_EQ(longest_paragraph("  ab \n\n\n  c"), 2u);  // leading / trailing spaces are not counted
}

TEST(LongParagraph, OnlyTheCotCounts) {
  const std::string long_answer(5000, 'a');
  EXPECT_FALSE(has(check(think("short reasoning here", long_answer)), Filter::LongParagraph));
}

// ---- code_block ----------------------------------------------------------------------------------------

TEST(CodeBlock, FencedAndIndentedCodeInTheCot) {
  const char* code_cots[] = {
      "Let me write it:\n\n```python\ndef f(x):\n    return x + 1\n```\n\nSo f(3) = 4.",
      "Inline fence ```print(1)``` in a sentence.",
      "A tilde fence:\n~~~\nint main() { return 0; }\n~~~\n",
      "Plain indented code:\n\n    for i in range(10):\n        total += i\n    print(total)\n\nDone.",
      "Tab-indented:\n\n\tx = 1\n\ty = 2\n",
      "Code right after a sentence line:\ndef f(x):\n    y = x * 2\n    return y + 1\n",
      "Blank line inside the block:\n\n    a = 1\n\n    b = 2\n",
  };
  for (const char* cot : code_cots) EXPECT_TRUE(has(check(think(cot)), Filter::CodeBlock)) << cot;
  EXPECT_TRUE(find_code_blocks(code_cots[0], 2).fenced);
  EXPECT_FALSE(find_code_blocks(code_cots[3], 2).fenced);
  EXPECT_TRUE(find_code_blocks(code_cots[3], 2).indented);
}

TEST(CodeBlock, DisplayMathListsAndSingleIndentedLinesAreNotCode) {
  const char* clean_cots[] = {
      "We solve:\n\n$$\n    x^2 + 2x + 1 = 0 \\\\\n    (x + 1)^2 = 0\n$$\n\nso x = -1.",
      "Also:\n\\[\n    a + b = 5\n    a - b = 1\n\\]\nthus a = 3.",
      "Aligned:\n\\begin{align}\n    y &= 2x \\\\\n    z &= 3y\n\\end{align}\nDone.",
      "One indented formula:\n\n    x = 5\n\nand that is all.",
      "Steps:\n1. Add the numbers\n    to get the sum\n    of all terms\n2. Divide\n- note\n    continued here\n    and here",
      "Inline math $$x+y$$ and $a$ only.",
      "Nothing special here at all.",
  };
  for (const char* cot : clean_cots) EXPECT_FALSE(has(check(think(cot)), Filter::CodeBlock)) << cot;
  // the display math is blanked before the lines are looked at (newlines kept)
  EXPECT_EQ(blank_display_math("a $$b\nc$$ d"), "a    \n    d");
}

TEST(CodeBlock, CodeInTheAnswerDoesNotCount) {
  const std::string answer = "Here is the solution:\n\n```python\nprint(sum(range(10)))\n```\n\n    indented = True\n    also = 1\n";
  EXPECT_FALSE(has(check(think("I will sum the numbers from zero to nine with a loop.", answer)), Filter::CodeBlock));
  EXPECT_TRUE(has(check(think("Try:\n```\nx = 1\n```", answer)), Filter::CodeBlock));
  // a CoT opened by the prompt (no <think>): the answer after </think> is still not looked at
  EXPECT_FALSE(has(check("reasoning in words only</think>\n\n" + answer), Filter::CodeBlock));
}

TEST(CodeBlock, OptionsTurnEachKindOff) {
  const std::string fenced = think("```\nx = 1\n```");
  const std::string indented = think("code:\n\n    x = 1\n    y = 2\n");
  FilterOptions o;
  o.code_block.fenced = false;
  EXPECT_FALSE(has(check(fenced, "en", o), Filter::CodeBlock));
  EXPECT_TRUE(has(check(indented, "en", o), Filter::CodeBlock));
  o = {};
  o.code_block.indented = false;
  EXPECT_TRUE(has(check(fenced, "en", o), Filter::CodeBlock));
  EXPECT_FALSE(has(check(indented, "en", o), Filter::CodeBlock));
  o = {};
  o.code_block.min_indented_lines = 3;
  EXPECT_FALSE(has(check(indented, "en", o), Filter::CodeBlock));
  o.code_block.min_indented_lines = 1;
  EXPECT_TRUE(has(check(think("code:\n\n    x = 1\n"), "en", o), Filter::CodeBlock));
}

// ---- truncated, no_answer --------------------------------------------------------------------------

TEST(TruncatedAndNoAnswer, UnclosedThinkRowFlagAndEmptySummary) {
  EXPECT_EQ(check("<think>\nwe add the two numbers and then"), (std::vector<Filter>{Filter::Truncated, Filter::NoAnswer}));
  EXPECT_EQ(check("we add the numbers, no tags at all"), (std::vector<Filter>{Filter::Truncated, Filter::NoAnswer}));
  EXPECT_EQ(check(think("we add the numbers", " \n\t\xE3\x80\x80")), std::vector<Filter>{Filter::NoAnswer});
  EXPECT_EQ(check(think("we add the numbers", "")), std::vector<Filter>{Filter::NoAnswer});
  EXPECT_TRUE(check(think("we add the numbers", "4")).empty());
  EXPECT_TRUE(check("we add the numbers</think>4").empty());  // the prompt opened the block

  ReadabilityFilter filter{FilterOptions{}};
  FilterInput in;
  const std::string done = think("we add the numbers");
  in.completion = done;
  in.truncated = true;  // the generator hit max tokens although the text looks complete
  EXPECT_EQ(filter.check(in), std::vector<Filter>{Filter::Truncated});

  FilterOptions o;
  o.no_answer.min_chars = 3;
  EXPECT_EQ(check(think("we add the numbers", " 42 "), "en", o), std::vector<Filter>{Filter::NoAnswer});
  EXPECT_TRUE(check(think("we add the numbers", " 420 "), "en", o).empty());
}

TEST(TruncatedAndNoAnswer, MissingThinkAsAnswerForDataWithoutReasoning) {
  FilterOptions o;
  o.missing_think = MissingThink::Answer;
  EXPECT_TRUE(check("Hello! How can I help you today?", "en", o).empty());
  // code in a tag-less completion is then answer code, not CoT code
  EXPECT_TRUE(check("```python\nprint(1)\n```\nThis prints one.", "en", o).empty());
  EXPECT_TRUE(has(check("```python\nprint(1)\n```\nThis prints one."), Filter::CodeBlock));
  // a <think> without its end is still truncated
  EXPECT_EQ(check("<think>we add", "en", o), (std::vector<Filter>{Filter::Truncated, Filter::NoAnswer}));
  const CompletionParts p = split_completion("plain", MissingThink::Answer);
  EXPECT_EQ(p.cot, "");
  EXPECT_EQ(p.answer, "plain");
  EXPECT_FALSE(p.unclosed);
}

// ---- repetition ------------------------------------------------------------------------------------

TEST(Repetition, LoopsAreDroppedVariedReasoningIsKept) {
  std::string loop = "First we compute the sum of the two numbers and check it. ";
  for (int i = 0; i < 30; ++i) loop += "Wait, let me check the sum of the two numbers again to be sure. ";
  EXPECT_GT(repeated_ngram_share(loop, 10), 0.9);
  EXPECT_TRUE(has(check(think(loop)), Filter::Repetition));

  const std::string varied = mixed_text("en", 400, 0, 11);
  EXPECT_LT(repeated_ngram_share(varied, 10), 0.05);
  EXPECT_FALSE(has(check(think(varied)), Filter::Repetition));

  // a Chinese loop (one word per character) is seen too
  std::string zh_loop;
  for (int i = 0; i < 40; ++i) zh_loop += "我们再检查一下这个结果是否正确。";
  EXPECT_TRUE(has(check(think(zh_loop), "zh"), Filter::Repetition));
  // the answer is not looked at
  EXPECT_FALSE(has(check(think(varied, loop)), Filter::Repetition));
  // the threshold
  FilterOptions o;
  o.repetition.max_repeated_share = 0.95;
  EXPECT_FALSE(has(check(think(loop), "en", o), Filter::Repetition));
}

TEST(Repetition, CountsAsTheRepetitionRewardDoes) {
  rewards::RewardPtr reward = rewards::Registry::global().make_from_spec(
      R"({"name": "repetition", "options": {"ngram_size": 4, "scope": "think"}})", "test");
  std::string text = mixed_text("en", 120, 20, 5);
  for (int i = 0; i < 5; ++i) text += " Let Me Check this again and again";
  rewards::Sample s;
  s.completion = think(text);
  const double score = reward->score(s).value;  // -1 * (1 - distinct/all)
  EXPECT_LT(score, 0.0);
  EXPECT_DOUBLE_EQ(repeated_ngram_share(split_completion(s.completion, MissingThink::Cot).cot, 4), -score);
}

// ---- duplicate ---------------------------------------------------------------------------------------

TEST(Duplicate, ExactAndNearCopiesOfAKeptSampleOfTheSamePrompt) {
  ReadabilityFilter filter{FilterOptions{}};
  const std::string base = think(mixed_text("en", 200, 0, 21), "The answer is 42.");
  auto apply = [&](const std::string& completion, const std::string& prompt) {
    FilterInput in;
    in.completion = completion;
    in.prompt = prompt;
    in.target_lang = "en";
    return filter.apply(in);
  };
  EXPECT_TRUE(apply(base, "p1").empty());
  EXPECT_EQ(apply(base, "p1"), std::vector<Filter>{Filter::Duplicate});  // exact
  EXPECT_TRUE(apply(base, "p2").empty());                                 // another prompt
  // the same text with other white space is an exact duplicate
  std::string spaced = base;
  for (size_t i = 0; (i = spaced.find(' ', i)) != std::string::npos; i += 3) spaced.replace(i, 1, "  \n");
  EXPECT_EQ(normalize_whitespace(spaced), normalize_whitespace(base));
  EXPECT_EQ(apply(spaced, "p1"), std::vector<Filter>{Filter::Duplicate});
  // a few words changed: a near duplicate
  std::string near = base;
  for (const char* w : {"first ", "compute ", "check "}) {
    const size_t at = near.find(w);
    if (at != std::string::npos) near.replace(at, std::string(w).size(), "quux ");
  }
  ASSERT_NE(near, base);
  EXPECT_GE(jaccard(shingles(near, 5), shingles(base, 5)), 0.8);
  EXPECT_EQ(apply(near, "p1"), std::vector<Filter>{Filter::Duplicate});
  // a different solution is not
  const std::string other = think(mixed_text("en", 200, 0, 99), "The answer is 42.");
  EXPECT_LT(jaccard(shingles(other, 5), shingles(base, 5)), 0.2);
  EXPECT_TRUE(apply(other, "p1").empty());
  EXPECT_EQ(filter.stats().rows, 6u);
  EXPECT_EQ(filter.stats().kept, 3u);
  EXPECT_EQ(filter.stats().dropped_by[static_cast<size_t>(Filter::Duplicate)], 3u);

  // near off: only exact copies
  FilterOptions exact_only;
  exact_only.duplicate.near = false;
  ReadabilityFilter exact(exact_only);
  FilterInput a, b;
  a.completion = base;
  b.completion = near;
  a.target_lang = b.target_lang = "en";
  EXPECT_TRUE(exact.apply(a).empty());
  EXPECT_TRUE(exact.apply(b).empty());
  EXPECT_EQ(exact.apply(a), std::vector<Filter>{Filter::Duplicate});
  // forget_group frees a prompt's memory
  exact.forget_group("");
  EXPECT_TRUE(exact.apply(a).empty());
}

TEST(Duplicate, OnlyKeptSamplesCountAndTextsWithoutWordsAreComparedExactly) {
  ReadabilityFilter filter{FilterOptions{}};
  const std::string text = think(mixed_text("en", 50, 0, 4));
  FilterInput in;
  in.completion = text;
  in.target_lang = "en";
  in.truncated = true;
  EXPECT_EQ(filter.apply(in), std::vector<Filter>{Filter::Truncated});  // dropped: not remembered
  in.truncated = false;
  EXPECT_TRUE(filter.apply(in).empty());
  // check() compares but does not remember
  EXPECT_EQ(filter.check(in), std::vector<Filter>{Filter::Duplicate});
  // all-digit completions share no words: different ones are not near duplicates
  FilterInput d1, d2;
  const std::string s1 = "<think>12+30=42</think>42", s2 = "<think>11+31=42</think>42";
  d1.completion = s1;
  d2.completion = s2;
  EXPECT_TRUE(filter.apply(d1).empty());
  EXPECT_EQ(filter_names(filter.apply(d2)), std::vector<std::string>{});
  EXPECT_EQ(filter.apply(d1), std::vector<Filter>{Filter::Duplicate});
  // an explicit group overrides the prompt
  FilterInput g = d1;
  g.group = std::string_view("other group");
  EXPECT_TRUE(filter.check(g).empty());
}

// ---- the whole filter ------------------------------------------------------------------------------

TEST(ReadabilityFilter, EveryFailureIsReportedInOrderAndCleanCotsPass) {
  std::string bad_cot = mixed_text("en", 100, 50) + "\n\n```\ncode()\n```\n\n" + std::string(2500, 'a');
  for (int i = 0; i < 30; ++i) bad_cot += " again and again we say the very same words here";
  const std::vector<Filter> failed = check("<think>" + bad_cot);
  EXPECT_EQ(failed, (std::vector<Filter>{Filter::MixedLanguage, Filter::LongParagraph, Filter::CodeBlock,
                                         Filter::Truncated, Filter::NoAnswer, Filter::Repetition}));
  EXPECT_EQ(filter_names(failed), (std::vector<std::string>{"mixed_language", "long_paragraph", "code_block",
                                                            "truncated", "no_answer", "repetition"}));
  // every filter off: nothing fails
  FilterOptions off;
  off.mixed_language.enabled = off.long_paragraph.enabled = off.code_block.enabled = false;
  off.truncated.enabled = off.no_answer.enabled = off.repetition.enabled = off.duplicate.enabled = false;
  EXPECT_TRUE(check("<think>" + bad_cot, "en", off).empty());

  const std::string clean =
      "<think>\nFirst, I need to find the sum of 17 and 25. Adding the ones: 7 + 5 = 12, carry 1.\n\n"
      "Then the tens: 1 + 2 + 1 = 4, so the sum is 42. Let me verify: $42 - 25 = 17$. Correct.\n\n"
      "$$17 + 25 = 42$$\n</think>\n\nThe sum of 17 and 25 is **42**.";
  EXPECT_TRUE(check(clean, "en").empty());
  EXPECT_TRUE(check(clean, "", {}, "What is 17 + 25?").empty());
}

TEST(FilterStats, CountsRowsKeptAndDropsPerFilter) {
  FilterStats s;
  s.add({});
  s.add({Filter::CodeBlock, Filter::Truncated});
  s.add({Filter::CodeBlock});
  s.skipped_bad = 2;
  EXPECT_EQ(s.rows, 3u);
  EXPECT_EQ(s.kept, 1u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.dropped_by[static_cast<size_t>(Filter::CodeBlock)], 2u);
  FilterStats t;
  t.add({Filter::Duplicate});
  s.merge(t);
  EXPECT_EQ(json::dump(s.to_json()),
            "{\"rows\":4,\"kept\":1,\"dropped\":3,\"dropped_by\":{\"mixed_language\":0,\"long_paragraph\":0,"
            "\"code_block\":2,\"truncated\":1,\"no_answer\":0,\"repetition\":0,\"duplicate\":1},"
            "\"skipped_bad_lines\":2}");
}

// ---- options ---------------------------------------------------------------------------------------

TEST(FilterOptions, ReadFromJsonWithLocatedErrors) {
  json::Document doc = json::parse(
      R"({"long_paragraph": {"max_chars": 3000}, "duplicate": {"enabled": false}, "missing_think": "answer"})", "t");
  const FilterOptions o = read_filter_options(doc, "--options");
  EXPECT_EQ(o.long_paragraph.max_chars, 3000);
  EXPECT_FALSE(o.duplicate.enabled);
  EXPECT_EQ(o.missing_think, MissingThink::Answer);
  EXPECT_DOUBLE_EQ(o.mixed_language.min_target_share, 0.9);  // untouched default
  EXPECT_EQ(read_filter_options(json::Value(), "x").long_paragraph.max_chars, 2000);

  auto err = [](const std::string& text) {
    return error_of([&] { read_filter_options(json::parse(text, "t"), "--options"); });
  };
  EXPECT_NE(err(R"({"long_paragrph": {}})").find("unknown option 'long_paragrph'"), std::string::npos);
  EXPECT_NE(err(R"({"code_block": {"fence": true}})").find("option 'code_block': unknown option 'fence'"),
            std::string::npos);
  EXPECT_NE(err(R"({"mixed_language": {"min_target_share": 1.5}})").find("mixed_language.min_target_share"),
            std::string::npos);
  EXPECT_NE(err(R"({"mixed_language": {"default_lang": "klingon"}})").find("unknown language code"), std::string::npos);
  EXPECT_NE(err(R"({"repetition": {"ngram_size": 0}})").find("repetition.ngram_size"), std::string::npos);
  EXPECT_NE(err(R"({"missing_think": "maybe"})").find("'maybe' is not one of cot | answer"), std::string::npos);
  EXPECT_NE(err(R"({"long_paragraph": {"max_chars": "long"}})").find("expected an integer"), std::string::npos);

  // every option is listed with its default and a help text (what `r1 data filter --help` prints)
  const std::vector<ConfigField> fields = ConfigLister::list(FilterOptions{});
  bool found = false;
  for (const ConfigField& f : fields) {
    EXPECT_FALSE(f.help.empty()) << f.key;
    if (f.key == "long_paragraph.max_chars") found = f.default_json == "2000";
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace r1::data
