// Answer extraction from whole completions: priorities (boxed > "answer:" > "answer" > last formula /
// number), rightmost-first within a priority, <answer> tags, </think>, GSM8K "####", adjacent boxes, and
// the gold-field forms. Each case is a full verify() so the extracted answer is also compared.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rewards/math/math_extract.h"
#include "rewards/math/math_verify.h"

namespace r1::rewards::math {
namespace {

struct Case {
  const char* gold;
  const char* completion;
  bool expected;
};

void check(const std::vector<Case>& cases, const VerifyOptions& options = {}) {
  for (const Case& c : cases) {
    Verdict v = verify(c.gold, c.completion, options);
    EXPECT_EQ(v.correct, c.expected) << "gold: " << c.gold << "\ncompletion: " << c.completion << "\nverdict: " << v.reason;
  }
}

TEST(MathExtract, BoxedWins) {
  check({
      {"$2-2p$", "Since $x<2$, $|x-2|=2-x$. If $2-x=p$, then $x=2-p$. Thus $x-p=\\boxed{2-2p}$.", true},
      {"5", "We try 3 first: \\boxed{3} fails. Checking again the answer is \\boxed{5}. Later we mention 7.", true},
      {"3", "We try 3 first: \\boxed{3} fails. Checking again the answer is \\boxed{5}.", false},
      {"\\frac{14}{3}", "$f(-2)+f(-1)+f(0)=2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$", true},
      {"9", "Then $129^{34}+96^{38} \\equiv \\boxed{9} \\pmod{11}.$", true},
      {"\\{1,2\\}", "The solutions are \\boxed{1} and \\boxed{2}.", true},
      {"1,2", "So $x = \\boxed{1}$ or $x = \\boxed{2}$.", true},
      {"2", "First \\boxed{1}. After a long detour of many words we conclude the answer is \\boxed{2}.", true},
      {"42", "\\fbox{42}", true},
      {"\\frac{1}{2}", "\\boxed {\\frac{1}{2}}", true},
      {"7", "Answer: \\boxed{}  but really the value is \\boxed{7}", true},
      {"(3, \\frac{\\pi}{2})", "Therefore, the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", true},
      {"\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}", "\\boxed{\n\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}\n}.", true},
  });
}

TEST(MathExtract, RequireAnswerTagsCountsOnlyTheTaggedAnswer) {
  VerifyOptions strict;
  strict.extract.require_answer_tags = true;
  check({{"31", "<think> 4+7=11 </think> <answer> 31 </answer>", true},
         {"31", "<think> 4+7=11 </think> The answer is 31.", false},
         {"31", "\\boxed{31}", false},
         {"31", "<think> so 31 </think> <answer> 30 </answer>", false}},
        strict);
  check({{"31", "<think> 4+7=11 </think> The answer is 31.", true}});  // the default finds it
}

TEST(MathExtract, AnchoredPhrases) {
  check({
      {"18", "She sells 16 - 3 - 4 = 9 eggs and makes 9 * 2 = 18 dollars. The answer is 18.", true},
      {"18", "The answer is 18. Some trailing reflection mentions 20 apples.", true},
      {"34", "Final Answer: The largest $n$ is 34.", true},
      {"28\\%", "Final Answer: The final answer is $28 \\%$. I hope it is correct.", true},
      {"120", "Therefore the volume is $5 \\times 6 \\times 4 = 120$. Final Answer: The volume is 120. I hope it is correct.", true},
      {"12000023", "Final Answer: The final answer is 12,000,023. I hope it is correct.", true},
      {"19", "So the total is $1 + 2 \\times 9 = 19$ points. Final Answer: The maximum number of points is 19.", true},
      {"3", "Final Answer: Jane started growing Sphere 3 hours ago. I hope it is correct.", true},
      {"(-6, 10)", "Final Answer: The final answer is \\((-6, 10)\\). I hope it is correct.", true},
      {"[0,1)", "Final Answer: The final answer is $(0, 1)$. I hope it is correct.", false},
      {"72", "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72", true},
      {"5", "answer: 5", true},
  });
}

TEST(MathExtract, Fallbacks) {
  check({
      {"$9$", "Answer \\[ 9 \\]", true},
      {"$10$", "Answer \\( (9+1) \\)", true},
      {"$9$", "Answer $ \n 9 \n $", true},  // inline math does not span lines; the number fallback finds 9
      {"$9$", "Answer $$ \n 9 \n $$", true},
      {"2/3", "P(A) = (1/2) / (3/4) = 2/3 Therefore, the probability that Alice wins is 2/3. <|im_start|>user", true},
      {"1000.99", "the number is not 10 which is 1,000.99€", true},
      {"1000.99", "so the number is 10 which is 1,000.99m²", true},
      {"2", "AZYUK2A", false},
      {"(7,6)", "So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$.", true},
      {"\\frac{10}{9}", "\\frac{10}{9}", true},
      {"x^2-1", "x^2 - 1", true},
      {"11", "We find x = 11", true},
      {"\\text{Evelyn}", "Evelyn", true},
      {"\\text{no solution}", "No solution", true},
      {"\\text{Evelyn}", "Navin", false},
  });
  VerifyOptions strict;
  strict.extract.fallback = false;
  check({{"11", "We find x = 11", false}, {"11", "the answer is 11", true}, {"11", "\\boxed{11}", true}}, strict);
}

// A clock time or ratio in plain text is one answer, not its last number ("12:00" is not "00").
TEST(MathExtract, TimesAndRatiosInText) {
  check({
      {"12:00", "\\boxed{1:00}", false},
      {"12:00", "\\boxed{12:00}", true},
      {"12:00", "The meeting starts at 12:00.", true},
      {"12:00", "The meeting starts at 1:00.", false},
      {"12:00", "The meeting starts at 12:00 and ends at 1:00.", false},
      {"1:00 PM", "The clock shows 1:00 PM.", true},
      {"1:00 PM", "The clock shows 1:00 p.m.", true},
      {"1:00 PM", "The clock shows 1:00 AM.", false},
      {"1:00 \\text{ p.m.}", "It ends at 1:00pm", true},
      {"3:4", "The ratio of boys to girls is 3:4.", true},
      {"3:4", "The ratio of boys to girls is 4:3.", false},
      {"3:4", "Answer: 3:4", true},
      {"1:2.5", "Mix them in the ratio 1:2.5 by weight.", true},
      {"1:2.5", "Mix them in the ratio 1:2 by weight.", false},
      {"8", "It burns from 1:00 PM to 5:00 PM, 4 hours, so the candle is 8 cm shorter.", true},
      {"7", "She is off at 4:00 pm and works 3 more hours, so she eats at 4+3 = 7:00 pm", true},
      {"8", "She is off at 4:00 pm and works 3 more hours, so she eats at 4+3 = 7:00 pm", false},
      {"2", "5-3 = <<5-3=2>>2:00 pm is the latest she can start", true},  // never the minutes "00" alone
  });
}

TEST(MathExtract, MultipleChoice) {
  check({
      {"\\text{(C)}", "\\boxed{C}", true},
      {"\\text{(C)}", "\\boxed{C)}", true},
      {"\\text{(C)}", "\\boxed{\\textbf{(C)}\\ 12}", true},
      {"\\text{(C)}", "The answer is (C).", true},
      // Without an anchor the last bracketed letter counts, even when the prose means another one.
      {"C", "After checking every option, the only one that works is (C), since (A) and (B) fail.", false},
      {"C", "After checking every option, the only one that fails is (A); we pick (C)", true},
      {"(C)", "\\boxed{c}", false},
      {"(C)", "\\boxed{(c)}", true},
      {"\\text{(C)}", "\\boxed{D}", false},
      {"\\text{(C)}", "\\boxed{C. 12}", true},
      {"(C) 12", "\\boxed{C}", true},  // a bracketed label with its option's content is still a choice
      {"\\textbf{(C)}\\ 12", "The answer is (C).", true},
      // A capital A-E with more after it names a value (the point D, the length E), not an option.
      {"D = (0, 1)", "\\boxed{D}", false},
      {"D = (0, 1)", "Therefore $D = (0, 1.5)$", false},
      {"E = 10", "So it is E = 11", false},
      {"E = 10", "After checking every option, we pick (E)", false},
  });
  EXPECT_EQ(choice_letter("(B)"), 'B');
  EXPECT_EQ(choice_letter("\\textbf{(E)} 5"), 'E');
  EXPECT_EQ(choice_letter("Apple"), 0);
  EXPECT_EQ(choice_letter("x"), 0);
  EXPECT_EQ(choice_letter("F"), 0);
}

TEST(MathExtract, OtherLanguages) {  // MGSM-style answers: no English anchor, the last number counts
  check({
      {"11", "\xe9\x80\x90\xe6\xad\xa5\xe8\xa7\xa3\xe7\xad\x94\xef\xbc\x9a5 + 6 = 11\xe3\x80\x82\xe7\xad\x94\xe6\xa1\x88\xe6\x98\xaf11\xe3\x80\x82", true},
      {"11", "Schritt f\xc3\xbcr Schritt: 5 + 6 = 11. Die Antwort lautet 11.", true},
      {"12", "R\xc3\xa9ponse : 12", true},
      {"12", "\xd0\x9e\xd1\x82\xd0\xb2\xd0\xb5\xd1\x82: 13", false},
  });
}

TEST(MathExtract, AnswerTagsAndThink) {
  check({
      {"5", "<think>maybe 4? \\boxed{4}</think> <answer>5</answer>", true},
      {"5", "<think>it is 5</think> <answer>\\boxed{5}</answer>", true},
      {"5", "<think>it is 5</think> <answer>The answer is $5$.</answer>", true},
      {"5", "<think>it is \\boxed{5}</think> <answer>6</answer>", false},
      {"\\frac{1}{2}", "<think>...</think><answer>\\frac{1}{2}</answer>", true},
      {"7", "<think>\\boxed{3} looks wrong</think>\nSo the result is \\boxed{7}.", true},
      {"3", "<think>\\boxed{3} looks wrong</think>\nSo the result is \\boxed{7}.", false},
      {"3", "<think>we get \\boxed{3}</think>", true},  // nothing after </think>: search the whole text
      {"24", "<think> 95 - 71 = 24 </think> <answer> 24 </answer>", true},
  });
}

TEST(MathExtract, GoldFields) {
  check({
      {"Natalia sold 48/2 = 24 clips in May.\n#### 72", "The answer is \\boxed{72}", true},
      {"#### 1,000", "\\boxed{1000}", true},
      {"\\boxed{5}", "5", true},
      {"$\\frac{1}{2}$", "\\boxed{0.5}", true},
      {"\\(x^2\\)", "\\boxed{x^2}", true},
      {"27.0", "\\boxed{27}", true},
      {"If its initial value was $x$, after Monday it is $.9x$, ... a total loss of $\\boxed{28\\%}$.", "$\\boxed{28}$", true},
      {"\\text{(C)}", "The answer is \\boxed{\\text{(C)}}", true},
      {"\\text{(C)}", "The answer is \\boxed{C}", true},
  });
}

TEST(MathExtract, Verdicts) {
  Verdict v = verify("5", "There are no digits in this completion at all; it talks and talks but it never gets to "
                          "any kind of result, and it is too long to be a bare answer by itself.");
  EXPECT_FALSE(v.found);
  EXPECT_FALSE(v.correct);
  EXPECT_EQ(v.reason, "no answer found");
  v = verify("5", "\\boxed{5}");
  EXPECT_TRUE(v.correct);
  EXPECT_TRUE(v.parsed);
  EXPECT_EQ(v.source, "boxed");
  EXPECT_EQ(v.answer, "5");
  v = verify("\\text{Evelyn}", "\\boxed{\\text{Bob}}");
  EXPECT_TRUE(v.found);
  EXPECT_FALSE(v.correct);
}

TEST(MathExtract, LastBoxedMerging) {
  std::string content;
  size_t end = 0;
  ASSERT_TRUE(last_boxed("x = \\boxed{1}, \\boxed{2} and \\boxed{3}", content, end));
  EXPECT_EQ(content, "1, 2, 3");
  ASSERT_TRUE(last_boxed("\\boxed{a{b}c}", content, end));
  EXPECT_EQ(content, "a{b}c");
  ASSERT_TRUE(last_boxed("\\boxed{\\{1,2\\}}", content, end));
  EXPECT_EQ(content, "\\{1,2\\}");
  ASSERT_TRUE(last_boxed("truncated \\boxed{\\frac{1}{2", content, end));
  EXPECT_EQ(content, "\\frac{1}{2");
  EXPECT_FALSE(last_boxed("no box here", content, end));
  ASSERT_TRUE(last_boxed("\\boxed{4} is what we tried first, and then much later, after many pages of work, we get \\boxed{5}",
                         content, end));
  EXPECT_EQ(content, "5");
}

TEST(MathExtract, CandidateOrder) {
  ExtractOptions o;
  auto c = extract_candidates("The answer: $3$. Then \\boxed{4}. Finally 5", o);
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c[0].source, "boxed");
  EXPECT_EQ(c[0].text, "4");
  EXPECT_EQ(c[1].source, "answer:");
  EXPECT_EQ(c[1].text, "3");
  EXPECT_EQ(c.back().priority, 4);  // the whole short text, last
  EXPECT_EQ(c[c.size() - 2].priority, 3);
  o.fallback = false;
  for (const Candidate& k : extract_candidates("x = 5 and y = 6", o)) EXPECT_LT(k.priority, 3);
}

}  // namespace
}  // namespace r1::rewards::math
