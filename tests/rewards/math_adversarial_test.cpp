// Hostile inputs for the math verifier: huge numbers, towers of powers, deep nesting, unbalanced LaTeX,
// megabyte completions, invalid UTF-8 and random garbage. The property under test is "returns a
// verdict and does not crash"; where the right verdict is known it is checked too. (If the verifier
// hung, the CTest timeout would fail the suite.)
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "rewards/math/math_verify.h"

namespace r1::rewards::math {
namespace {

TEST(MathAdversarial, HugeNumbers) {
  std::string big(10000, '9');
  EXPECT_TRUE(answers_equivalent(big, big));
  std::string other = big;
  other.back() = '8';
  EXPECT_FALSE(answers_equivalent(big, other));
  EXPECT_TRUE(answers_equivalent("2^{100}", "1267650600228229401496703205376"));
  EXPECT_FALSE(answers_equivalent("2^{100}", "1267650600228229401496703205377"));
  EXPECT_TRUE(answers_equivalent("10^{-30}", "0.000000000000000000000000000001"));
  // Too big to evaluate exactly: equal only when written identically.
  EXPECT_TRUE(answers_equivalent("10^{10^{10}}", "10^{10^{10}}"));
  EXPECT_FALSE(answers_equivalent("10^{10^{10}}", "10^{10^{11}}"));
  EXPECT_FALSE(answers_equivalent("2^{2^{2^{2^{2^{2}}}}}", "3"));
  EXPECT_FALSE(answers_equivalent("100000!", "99999!"));
  EXPECT_TRUE(answers_equivalent("\\binom{2000}{1000}", "\\frac{2000!}{1000!\\,1000!}"));
  EXPECT_FALSE(answers_equivalent("1e99999", "1e99998"));
  EXPECT_FALSE(answers_equivalent("0^{-1}", "1"));
  EXPECT_FALSE(answers_equivalent("\\frac{1}{0}", "\\frac{2}{0}"));
}

TEST(MathAdversarial, DeepNesting) {
  for (const char* pair : {"{}", "()", "[]"}) {
    std::string deep = std::string(100000, pair[0]) + "2" + std::string(100000, pair[1]);
    EXPECT_FALSE(answers_equivalent("2", deep));  // deeper than the parser allows: not parsed
    Verdict v = verify("5", "\\boxed{" + deep + "}");
    EXPECT_FALSE(v.correct);
  }
  std::string moderately(40, '(');
  moderately += "1" + std::string(40, ')');
  EXPECT_TRUE(answers_equivalent("1", moderately));
  std::string sqrts;
  for (int k = 0; k < 5000; ++k) sqrts += "\\sqrt{";
  sqrts += "1" + std::string(5000, '}');
  EXPECT_FALSE(answers_equivalent("1", sqrts));  // deeper than the parser allows: not parsed
}

TEST(MathAdversarial, UnbalancedLatex) {
  const char* broken[] = {"\\frac{1}{2", "\\frac{1", "\\left( 1, 2", "\\sqrt{", "\\begin{pmatrix} 1 & 2",
                          "1 & 2 \\\\ 3", "\\end{pmatrix}", "}}}}", "{{{{", "((", "]", "\\", "\\\\\\\\",
                          "$", "$$$$", "\\text{", "\\text{a}}", "x^", "x_", "^^^", "1/", "\\frac", "\\sqrt[3",
                          "\\lfloor 2", "|x", "\\langle 1, 2", "\\{1, 2", "(1, 2]]", "1,,,,2", "= = =",
                          "\\begin{cases} x \\end{cases}", "\\operatorname{", "\\pm", "\\cup", "%", "!", "'"};
  for (const char* b : broken) {
    EXPECT_FALSE(answers_equivalent("1", b)) << b;
    Verdict v = verify(b, std::string("The answer is \\boxed{") + b + "}");
    (void)v;  // may or may not match itself as a string; must not crash
  }
}

TEST(MathAdversarial, MegabyteCompletions) {
  std::string filler;
  while (filler.size() < (1u << 20)) filler += "Let us consider the number 12345 and the formula $x^2 + 1$. ";
  EXPECT_TRUE(verify("42", filler + " So the answer is \\boxed{42}.").correct);
  EXPECT_FALSE(verify("42", filler).correct);
  const char* units[] = {"\\boxed{", "$", "\\[", "\\(", "$$", "answer ", "Final Answer: the final answer is ", "9",
                         "{", "\\boxed{1}", "#### ", "<answer>", "</think>", "1,000,", "\\frac{"};
  for (const char* unit : units) {
    std::string s;
    while (s.size() < (1u << 20)) s += unit;
    Verdict v = verify("1", s);
    (void)v;
  }
}

TEST(MathAdversarial, InvalidUtf8AndControlBytes) {
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
  EXPECT_FALSE(verify("1", bytes).correct);
  EXPECT_TRUE(verify("7", "\xff\xfe\xc3(\xe2\x82 the answer is \\boxed{7} \xf0\x28\x8c\x28").correct);
  EXPECT_FALSE(answers_equivalent("1", "\xc3"));
  EXPECT_TRUE(answers_equivalent("\xe2\x88\x92" "3", "-3"));  // U+2212 minus
  std::string zeros("\\boxed{1\0 2}", 12);
  (void)verify("1", zeros);
}

TEST(MathAdversarial, RandomGarbageNeverCrashes) {
  const std::vector<std::string> pieces = {
      "\\frac", "\\sqrt", "{", "}", "(", ")", "[", "]", "\\{", "\\}", "1", "23", "0.5", ",", "x", "y", "=", "<",
      "\\le", "+", "-", "*", "/", "^", "_", "!", "%", "\\pi", "\\infty", "\\cup", "\\pm", "\\text{", "cm", " ",
      "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "|", "\\left(", "\\right)", "e", "i", "\\sin", "\\log",
      "\\boxed{", "$", "\xce\xb1", "\xff", "and", "or", "\\binom", "f(", "\\mathbb{R}", "\\approx", "\\in"};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1), len(1, 24);
  for (int round = 0; round < 3000; ++round) {
    std::string a, b;
    for (size_t k = len(rng); k > 0; --k) a += pieces[pick(rng)];
    for (size_t k = len(rng); k > 0; --k) b += pieces[pick(rng)];
    bool ab = answers_equivalent(a, b);
    (void)ab;
    EXPECT_TRUE(answers_equivalent(a, a) || true);
    Verdict v = verify(a, "so \\boxed{" + b + "}");
    (void)v;
  }
}

TEST(MathAdversarial, TimeBudgetStopsWork) {
  std::string sum = "x";
  for (int k = 0; k < 400; ++k) sum += "+x^{" + std::to_string(k % 7) + "}";
  VerifyOptions tiny;
  tiny.timeout_ms = 0.001;
  Verdict v = verify(sum, "\\boxed{" + sum + "+1}", tiny);
  EXPECT_FALSE(v.correct);
  EXPECT_TRUE(v.timed_out);
  VerifyOptions normal;
  EXPECT_FALSE(verify(sum, "\\boxed{" + sum + "+1}", normal).correct);
  EXPECT_TRUE(verify(sum, "\\boxed{" + sum + "}", normal).correct);
}

}  // namespace
}  // namespace r1::rewards::math
