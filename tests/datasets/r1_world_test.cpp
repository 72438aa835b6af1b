// Tests for datasets/r1_world.h, the tiny full-R1 world: step translation (exact strings, each step wholly in
// one language, the arithmetic untouched), questions and readable answers, general prompts and the five flaws,
// the topic list.
#include <gtest/gtest.h>

#include <set>

#include "datasets/r1_world.h"

namespace r1::data {
namespace {

const std::string kSteps = "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132";

// The characters of `s` that are digits or arithmetic symbols, in order (what a translation must keep).
std::string arithmetic_of(const std::string& s) {
  std::string out;
  for (char c : s) {
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '*' || c == '=') out += c;
  }
  return out;
}

bool has_latin_letter(const std::string& s) {
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

TEST(R1World, StepsTranslateExactlyAndKeepTheArithmetic) {
  EXPECT_EQ(localize_steps(kSteps, 0.0, 1), kSteps);
  EXPECT_EQ(localize_steps(kSteps, 1.0, 1), "7+5=12，写 2 进 1。4+8+1=13，写 32 进 1。所以 132");
  EXPECT_EQ(localize_steps("15-7=8, so 8 borrow 1. 3-1-2=0, so 08. so 8", 1.0, 9),
            "15-7=8，写 8 借 1。3-1-2=0，写 08。所以 8");
  // Mixed: every step wholly in one language, both languages occur over variants, the numbers untouched.
  std::set<std::string> seen;
  for (uint64_t v = 0; v < 64; ++v) {
    const std::string mixed = localize_steps(kSteps, 0.5, v);
    EXPECT_EQ(arithmetic_of(mixed), arithmetic_of(kSteps)) << mixed;
    seen.insert(mixed);
  }
  EXPECT_EQ(seen.size(), 8u) << "3 steps, each in one of 2 languages";
  EXPECT_EQ(localize_steps(kSteps, 0.5, 3), localize_steps(kSteps, 0.5, 3)) << "a pure function of the variant";
}

TEST(R1World, QuestionsAndReadableAnswersStayInTheirLanguage) {
  ArithmeticProblem p{"47 + 85", kSteps, "132", false};
  WorldProblem en{p, Lang::En}, zh{p, Lang::Zh};
  EXPECT_EQ(en.question(), "47 + 85");
  EXPECT_EQ(zh.question(), "计算 47 + 85");
  EXPECT_EQ(en.readable_answer(), "<think>\n" + kSteps + "\n</think>\n\nThe answer is 132.");
  EXPECT_EQ(zh.readable_answer(), "<think>\n7+5=12，写 2 进 1。4+8+1=13，写 32 进 1。所以 132\n</think>\n\n答案是 132。");
  EXPECT_FALSE(has_latin_letter(zh.steps()));
  EXPECT_EQ(zh.steps(0.0, 5), kSteps) << "an explicit rate overrides the question's language";
}

TEST(R1World, GeneralRepliesOfEveryKindDifferAndFlawsAreWhatTheySay) {
  const GeneralPrompt en{0, Lang::En, 0}, zh{0, Lang::Zh, 1};
  EXPECT_EQ(en.text(), "Tell me about the apple.");
  EXPECT_EQ(zh.text(), "你知道苹果吗？");
  EXPECT_EQ(en.reply(Reply::Good), "The apple is red. I hope this helps.");
  EXPECT_EQ(zh.reply(Reply::Good), "苹果是红的。希望对你有帮助。");
  EXPECT_EQ(en.reply(Reply::WrongLanguage), zh.reply(Reply::Good));
  EXPECT_EQ(en.reply(Reply::Truncated), "The apple is");
  EXPECT_EQ(zh.reply(Reply::Truncated), "苹果是");
  EXPECT_EQ(en.reply(Reply::Repeated), "The apple is red. The apple is red. The apple is red. The apple is red.");
  for (uint64_t v = 0; v < 50; ++v) {
    for (const GeneralPrompt& p : {en, zh}) {
      std::set<std::string> replies;
      for (int k = 0; k < kReplyKinds; ++k) replies.insert(p.reply(static_cast<Reply>(k), v));
      EXPECT_EQ(replies.size(), static_cast<size_t>(kReplyKinds)) << "variant " << v;
      const std::string wrong_fact = p.reply(Reply::WrongFact, v);
      EXPECT_EQ(wrong_fact.rfind(p.lang == Lang::En ? "The apple is " : "苹果是", 0), 0u) << wrong_fact;
      EXPECT_EQ(p.reply(Reply::OffTopic, v).find(p.lang == Lang::En ? "apple" : "苹果"), std::string::npos);
    }
  }
  // With fewer topics in play, a flawed reply's other topic and fact come from those topics only.
  const GeneralPrompt small{2, Lang::En, 0, 3};  // snow; the others: apple, sky
  for (uint64_t v = 0; v < 50; ++v) {
    const std::string off = small.reply(Reply::OffTopic, v), fact = small.reply(Reply::WrongFact, v);
    EXPECT_TRUE(off.rfind("The apple is red.", 0) == 0 || off.rfind("The sky is blue.", 0) == 0) << off;
    EXPECT_TRUE(fact.rfind("The snow is red.", 0) == 0 || fact.rfind("The snow is blue.", 0) == 0) << fact;
  }
  EXPECT_EQ(topic_fact(1, Lang::En), "The sky is blue.");
  EXPECT_EQ(topic_fact(1, Lang::Zh), "天空是蓝的。");
}

TEST(R1World, TopicNamesAndFactsAreDistinct) {
  const auto& topics = world_topics();
  std::set<std::string> names, facts;
  for (const Topic& t : topics) {
    names.insert(t.en);
    names.insert(t.zh);
    facts.insert(t.en_fact);
    facts.insert(t.zh_fact);
  }
  EXPECT_EQ(names.size(), 2 * topics.size());
  EXPECT_EQ(facts.size(), 2 * topics.size()) << "a wrong fact is never the true one";
}

}  // namespace
}  // namespace r1::data
