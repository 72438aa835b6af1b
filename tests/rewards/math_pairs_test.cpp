// Graded (gold, prediction, expected) pairs for the math verifier, written from the rules in
// docs/rewards.md: each table is one rule family with true and false cases. Predictions here are bare
// answers (the extraction rules are tested in math_extract_test.cpp); gold fields use the dataset forms.
// The tables checked with check_verified() guard reward-hacking holes that lived in verify() rather than
// in the comparison (the gold read as a multiple-choice letter, a time read as its last number), so
// each of their pairs is also run through verify() with the prediction boxed and as a bare formula.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rewards/math/math_verify.h"

namespace r1::rewards::math {
namespace {

struct Pair {
  const char* gold;
  const char* pred;
  bool expected;
};

void check(const std::vector<Pair>& pairs) {
  for (const Pair& p : pairs) {
    EXPECT_EQ(answers_equivalent(p.gold, p.pred), p.expected)
        << "gold: " << p.gold << "\npred: " << p.pred << "\nexpected " << (p.expected ? "equal" : "different");
  }
}

// answers_equivalent() and verify() on two completions that carry the prediction must all agree.
void check_verified(const std::vector<Pair>& pairs) {
  check(pairs);
  for (const Pair& p : pairs) {
    for (const std::string& completion : {"So the answer is $\\boxed{" + std::string(p.pred) + "}$.",
                                          "$" + std::string(p.pred) + "$"}) {
      Verdict v = verify(p.gold, completion);
      EXPECT_EQ(v.correct, p.expected) << "gold: " << p.gold << "\ncompletion: " << completion << "\nverdict: " << v.reason;
    }
  }
}

TEST(MathPairs, IntegersSignsAndSeparators) {
  check({
      {"5", "5", true},          {"5", "05", true},         {"-5", "-5", true},        {"-5", "5", false},
      {"5", "+5", true},         {"0", "-0", true},         {"7425000", "7,425,000", true},
      {"7425000", "7 425 000", true}, {"7425000", "7\\,425\\,000", true}, {"7425000", "7{,}425{,}000", true},
      {"7425000", "7,\\!425,\\!000", true}, {"10080", "10,\\!080", true}, {"1000", "1,000.00", true},
      {"1000", "100", false},    {"12", "12.0", true},      {"12", "12.5", false},     {"12", "1 2", false},
      {"2", "2.000001", false},  {"100", "1e2", true},      {"100", "1.0e+2", true},  {"123456789123456789123", "123456789123456789123", true},
      {"123456789123456789123", "123456789123456789124", false},
  });
}

TEST(MathPairs, DecimalsAndFractions) {
  check({
      {"0.5", "\\frac{1}{2}", true},     {"0.5", "1/2", true},           {"\\frac{1}{2}", ".5", true},
      {"\\frac{1}{3}", "0.333333", true}, {"\\frac{1}{3}", "0.3333333333", true}, {"\\frac{1}{3}", "0.33", false},
      {"\\frac{1}{3}", "0.3333", false}, {"\\frac{2}{3}", "0.666667", true}, {"\\frac{2}{3}", "0.67", false},
      {"\\frac{1}{2}", "\\dfrac{1}{2}", true}, {"\\frac{1}{2}", "\\tfrac12", true}, {"\\frac{1}{2}", "\\frac12", true},
      {"\\frac{1}{2}", "\\cfrac{1}{2}", true}, {"\\frac{3}{4}", "\\frac{6}{8}", true}, {"\\frac{3}{4}", "\\frac{4}{3}", false},
      {"-\\frac{3}{4}", "\\frac{-3}{4}", true}, {"-\\frac{3}{4}", "\\frac{3}{-4}", true}, {"-\\frac{3}{4}", "-0.75", true},
      {"\\frac{3}{4}", "-0.75", false}, {"\\frac{10}{9}", "10/9", true}, {"\\frac{10}{9}", "1.1111111", true},
      {"0.1", "\\frac{1}{10}", true},    {"0.3", "0.1+0.2", true},       {"1.25", "\\frac{5}{4}", true},
      {"27.0", "27", true},              {"27.0", "27.5", false},        {"\\frac{9}{19}", "\\frac9{19}", true}, {"\\frac{1}{3}", "0.\\overline{3}", true}, {"\\frac{41}{333}", "0.\\overline{123}", true},
      {"\\frac{17}{6}", "2.8\\overline{3}", true}, {"\\frac{1}{3}", "0.\\overline{33}", true}, {"\\frac{1}{3}", "0.\\overline{4}", false},
      {"\\frac{1}{12}", "0.0833333333333333", true}, {"0.15", "\\frac{3}{20}", true}, {"7.78", "\\frac{70}{9}", false},
  });
}

TEST(MathPairs, MixedNumbers) {
  check({
      {"\\frac{5}{2}", "2\\frac{1}{2}", true},  {"\\frac{5}{2}", "2 \\frac{1}{2}", true}, {"\\frac{40}{9}", "4 4/9", true},
      {"4", "4 4/9", false},                   {"1\\frac{4}{5}", "\\frac{9}{5}", true},  {"1\\frac{4}{5}", "1.8", true},
      {"137 \\frac{1}{2}", "137.5", true},       {"-\\frac{5}{2}", "-2\\frac{1}{2}", true}, {"\\frac{2\\pi}{3}", "2\\frac{\\pi}{3}", true},
      {"\\frac{1}{2}", "2\\frac{1}{2}", false},
  });
}

TEST(MathPairs, Percentages) {
  check({
      {"50", "50\\%", true},   {"50\\%", "50", true},    {"50\\%", "0.5", true},  {"0.5", "50%", true},
      {"50", "0.5", false},    {"20\\%", "20 percent", true}, {"28\\%", "\\frac{7}{25}", true}, {"28\\%", "29\\%", false},
      {"12.5\\%", "\\frac{1}{8}", true}, {"12.5\\%", "12.5", true},
  });
}

TEST(MathPairs, UnitsCurrencyAndDegrees) {
  check({
      {"18", "\\$18", true},          {"18", "18 dollars", true},        {"18", "\\$18.00", true},
      {"18.90", "\\$18.90", true},    {"15", "15\\text{ cm}^2", true},  {"15\\mbox{ cm}^2", "15", true},
      {"125", "125\\textnormal{ miles}", true}, {"60", "60 km/h", true}, {"864 \\mbox{ inches}^2", "864", true},
      {"90^\\circ", "90", true},      {"90", "90^{\\circ}", true},        {"90^\\circ", "90°", true},
      {"90^\\circ", "45^\\circ", false}, {"5.4 \\text{ cents}", "5.4", true}, {"\\frac{270}7\\text{ degrees}", "\\frac{270}{7}", true},
      {"18", "19 dollars", false},    {"3", "3 hours", true},            {"30", "30\\text{ minutes}", true},
  });
}

TEST(MathPairs, RadicalsPiAndSymbolicNumbers) {
  check({
      {"3\\sqrt{13}", "\\sqrt{117}", true},   {"3\\sqrt{13}", "3\\sqrt{12}", false}, {"\\sqrt{2}", "\\sqrt2", true},
      {"\\sqrt{2}", "2^{1/2}", true},         {"\\sqrt{2}", "1.414214", true},     {"\\sqrt{2}", "1.41", false},
      {"\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", true}, {"\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{3}}{3}", false},
      {"2\\sqrt{5}", "\\sqrt{20}", true},     {"\\sqrt[3]{8}", "2", true},          {"\\sqrt[3]{-8}", "-2", true},
      {"\\pi", "\\pi", true},                 {"2\\pi", "\\pi \\cdot 2", true},     {"\\pi", "3.14", false},
      {"\\frac{9}{4}\\pi", "\\frac94\\pi", true}, {"\\frac{20000}{\\pi}", "20000/\\pi", true}, {"18+2\\pi", "2\\pi+18", true},
      {"\\sqrt{2}+\\sqrt{5}", "\\sqrt 5+\\sqrt 2", true}, {"e", "e^1", true},       {"e^2", "\\exp(2)", true},
      {"\\ln 8", "3\\ln 2", true},            {"\\log_2 8", "3", true},             {"\\log_{3} 81", "4", true},
      {"\\sin \\frac{\\pi}{6}", "\\frac12", true}, {"\\cos(0)", "1", true},         {"\\tan \\frac{\\pi}{4}", "1", true},
      {"5!", "120", true},                    {"\\binom{5}{2}", "10", true},        {"\\dbinom{6}{3}", "20", true},
      {"2^{10}", "1024", true},               {"2^{-1}", "0.5", true},              {"(-2)^3", "-8", true},
      {"\\frac{1+\\sqrt{5}}{2}", "\\frac{\\sqrt{5}+1}{2}", true}, {"2", "\\frac{1+\\sqrt{5}}{2}", false},
      {"\\left| -3 \\right|", "3", true},     {"\\lfloor 2.7 \\rfloor", "2", true}, {"\\lceil 2.1 \\rceil", "3", true},
  });
}

TEST(MathPairs, ComplexNumbers) {
  check({
      {"6 - 5i", "6-5i", true},  {"6 - 5i", "-5i + 6", true}, {"6 - 5i", "6+5i", false}, {"1+2i", "(1+i)^2 / (2i) + 2i", true},
      {"-2 + 7i", "7i-2", true}, {"i", "\\sqrt{-1}", true},
  });
}

TEST(MathPairs, Expressions) {
  check({
      {"x^2-1", "(x-1)(x+1)", true},          {"x^2-1", "(x-1)^2", false},         {"2x+3", "3+2x", true},
      {"2k+2", "2(k+1)", true},              {"2k+2", "2k+1", false},             {"p - q", "-q + p", true},
      {"p - q", "q - p", false},             {"\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}", true},
      {"\\tan^2(y)+1", "\\sec^2(y)", true},  {"\\sin^2 x + \\cos^2 x", "1", true}, {"2 \\sin b \\cos a", "\\sin(a+b) - \\sin(a-b)", true},
      {"x^5 - x^4 + x^3 - x^2 + x - 1", "(x-1)(x^4+x^2+1)", true}, {"6r^2-4r-24", "2(3r^2-2r-12)", true},
      {"(a+5)(b+2)", "ab + 2a + 5b + 10", true}, {"(a+5)(b+2)", "(b+5)(a+2)", false}, {"x+2n+1", "x+1", false},
      {"\\frac{\\pi r}{h+r}", "\\frac{r\\pi}{r+h}", true}, {"2x", "2y", false},     {"xy", "yx", true},
      {"\\frac{11+9a}{20}", "0.55 + 0.45a", true}, {"3R^2", "3r^2", false},      {"\\alpha + \\beta", "\\beta+\\alpha", true},
      {"x_1 + x_2", "x_2 + x_1", true},     {"x_1 + x_2", "x_1 + x_3", false},
  });
}

TEST(MathPairs, EquationsAndAssignments) {
  check({
      {"x=5", "5", true},                    {"5", "x=5", true},                  {"x=5", "x = 5", true},
      {"x=5", "y=5", false},                 {"x=5", "5=x", true},                {"x=5", "x=6", false},
      {"11", "x = 5+5+1 = 11", true},        {"x = 11", "x = 5+5+1 = 7 = 11", true}, {"8", "7 + 1 = 8", true},
      {"\\frac13", "x = \\frac13 \\approx 0.33", true}, {"11", "x \\approx 11", true}, {"y = 2x + 3", "2x + 3", true},
      {"y = 2x + 3", "y = 3 + 2x", true},   {"y = 2x + 3", "2x - y + 3 = 0", true}, {"y = 2x + 3", "y = 2x - 3", false},
      {"5x - 7y + 11z + 4 = 0", "-5x + 7y - 11z - 4 = 0", true}, {"5x - 7y + 11z + 4 = 0", "10x - 14y + 22z + 8 = 0", true},
      {"5x - 7y + 11z + 4 = 0", "5x - 7y + 11z - 4 = 0", false}, {"7 = 11a+c", "11a+c", false}, {"a + z = 0", "0", false},
      {"(p,q,r) = (6,31,-1)", "(6,31,-1)", true}, {"(6,31,-1)", "(p,q,r) = (6,31,-1)", true}, {"f(x) = 2x", "2x", true},
      {"\\text{Area} = 12", "12", true},
  });
}

// An assignment or equation is judged by what follows its "=": a gold whose left side is a capital A-E
// ("D = (0, 1)", "A = 5") is a named value, not a multiple-choice letter that any prediction naming the
// letter would match.
TEST(MathPairs, AssignmentsAreJudgedByTheirRightHandSide) {
  check_verified({
      {"D = (0, 1)", "D = (0, 1.5)", false}, {"D = (0, 1)", "D = (1, 0)", false},  {"D = (0, 1)", "D = (0, 1, 2)", false},
      {"D = (0, 1)", "E = (0, 1)", false},   {"D = (0, 1)", "D", false},            {"D = (0, 1)", "(0, 1.5)", false},
      {"D = (0, 1)", "D = (0, 1)", true},    {"D = (0, 1)", "D=(0,1)", true},        {"D = (0, 1)", "(0, 1)", true},
      {"(0, 1)", "D = (0, 1)", true},        {"(0, 1)", "D = (0, 1.5)", false},     {"A = 5", "A = 6", false},
      {"A = 5", "A", false},                 {"A = 5", "A = 5", true},              {"A = 5", "5", true},
      {"E = 10", "E = 10.5", false},         {"E = 10", "E = 10.0", true},          {"B = (2, 3)", "B = (3, 2)", false},
      {"C = 2\\pi", "C = 3\\pi", false},    {"C: 4", "C: 5", false},              {"x = 5", "5", true},
      {"x = 5", "x = 6", false},             {"x = 5", "x = 5.5", false},           {"x = 5", "y = 5", false},
      {"x = 5", "x = 2 + 3 = 6", false},     {"f(x) = 2x + 1", "f(x) = 2x + 2", false}, {"f(x) = 2x + 1", "f(x) = 1 + 2x", true},
      {"a = b = 5", "a = b = 6", false},     {"a = b = 5", "5", true},              {"(p,q,r) = (6,31,-1)", "(p,q,r) = (6,31,1)", false},
      {"\\text{Area} = 12", "\\text{Area} = 13", false},
  });
}

TEST(MathPairs, Inequalities) {
  check({
      {"x > 5", "x > 5", true},      {"x > 5", "5 < x", true},      {"x >= 5", "x \\geq 5", true},
      {"x \\le 2", "x <= 2", true},  {"x > 5", "x < 5", false},     {"x \\geq 5", "x > 5", false},
      {"x < 1", "-x > -1", true},    {"x < 1", "x > -1", false},    {"x < 1", "2x < 2", true},
      {"x != 3", "x \\neq 3", true}, {"x > 5", "(5, \\infty)", true}, {"(5, \\infty)", "x > 5", true},
      {"x \\ge 5", "[5, \\infty)", true}, {"x \\ge 5", "(5, \\infty)", false}, {"-2 < x \\le 7", "(-2, 7]", true},
      {"x \\in [-2,7]", "[-2, 7]", true}, {"x \\in [-2,7]", "-2 \\le x \\le 7", true}, {"x \\in [-2,7]", "(-2, 7)", false},
      {"f(2) < f(1) < f(4)", "f(2) < f(1) < f(4)", true}, {"f(2) < f(1) < f(4)", "f(1) < f(2) < f(4)", false},
  });
}

TEST(MathPairs, TuplesSetsAndLists) {
  check({
      {"(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", true}, {"(3, \\frac{\\pi}{2})", "(\\frac{\\pi}{2}, 3)", false},
      {"(1,\\frac{9}{2})", "(1,4.5)", true},   {"(6,31,-1)", "(6, 31, -1)", true},   {"(6,31,-1)", "(6, -1, 31)", false},
      {"(2,4)", "[2,4]", false},              {"\\{1,2,3\\}", "\\{3,2,1\\}", true}, {"\\{1,2,3\\}", "\\{1,2\\}", false},
      {"\\{1,2\\}", "\\{1,2,2\\}", true},       {"-2,1", "1,-2", true},               {"-2,1", "1,-2,3", false},
      {"3, 5, 7", "7, 5, 3", true},            {"3, 5, 7", "3 and 5 and 7", true}, {"3, 5", "3 or 5", true},
      {"5", "\\{5\\}", true},                   {"5", "5, 5", true},                  {"(1,3)", "1, 3", true},
      {"(1,3)", "3, 1", false},                 {"\\{1,3\\}", "(1,3)", true},          {"1,-2", "x = 1, x = -2", true},
      {"1,-2", "x = 1 \\text{ or } x = -2", true}, {"\\left( \\frac{3}{2}, -13 \\right)", "(1.5, -13)", true},
      {"\\langle 1, 2 \\rangle", "(1, 2)", true}, {"\\emptyset", "\\{\\}", true},
  });
}

// Ratios and clock times compare part by part in order, never as their quotient (12:00 would be 12/0) and
// never as the last number they contain (12:00 and 1:00 both end in "00"). The gold's am/pm must be
// matched; a whole-hour time is its bare hour (GSM8K's gold 7 for "7:00 pm").
TEST(MathPairs, RatiosAndClockTimes) {
  check_verified({
      {"12:00", "1:00", false},               {"12:00", "2:00", false},              {"12:00", "12:01", false},
      {"12:00", "00", false},                 {"12:00", "0", false},                 {"12:00", "1", false},
      {"12:00", "12", true},                  {"7", "7:00 pm", true},                {"7", "7:00 \\text{ PM}", true},
      {"7", "7:00", true},                    {"7", "7:30 pm", false},               {"7", "8:00 pm", false},
      {"7:00 pm", "7", false},                {"7", "0:07", false},
      {"12:00", "12:00", true},               {"12:00", "12 : 00", true},            {"\\text{12:00}", "12:00", true},
      {"\\text{12:00}", "1:00", false},       {"1:30", "13:0", false},               {"1:30", "13:00", false},
      {"1:30", "1:30", true},                 {"3:4", "4:3", false},                 {"3:4", "3 : 4", true},
      {"3:4", "3:4", true},                   {"3:4", "6:8", false},                 {"3:4", "\\frac{3}{4}", false},
      {"3:4", "(3, 4)", false},               {"3:4", "3, 4", false},                {"3:4", "4", false},
      {"1:2:3", "1:2:3", true},               {"1:2:3", "1:3:2", false},             {"1:2:3", "1:2", false},
      {"9:00 \\text{ PM}", "9:00 PM", true},   {"9:00 \\text{ p.m.}", "9:00 pm", true}, {"9:00 PM", "9:00 p.m.", true},
      {"9:00 PM", "9:00 AM", false},          {"9:00 PM", "9:00 a.m.", false},       {"9:00 PM", "9:00", false},
      {"9:00", "9:00 PM", true},              {"9:00", "9:30 PM", false},             {"\\text{9:00 p.m.}", "\\text{9:00 pm}", true},
      {"\\text{12:30 pm}", "\\text{1:230 pm}", false},
  });
}

// A tuple is ordered whichever side it is on and whatever it meets: against a set it compares in the
// written order (so a set never makes (3, 1) equal {1, 3}); a tuple holding a ± stands for the tuples it
// expands to, not for a bag of its entries. Sets and bare lists stay order-free among themselves.
TEST(MathPairs, TuplesKeepTheirOrderAgainstSets) {
  check_verified({
      {"\\{1,3\\}", "(3,1)", false},             {"(3,1)", "\\{1,3\\}", false},           {"\\{1,3\\}", "(1,3)", true},
      {"(1,3)", "\\{1,3\\}", true},              {"\\{1,3\\}", "\\{3,1\\}", true},         {"(1,3)", "(3,1)", false},
      {"(1,3)", "(1,3)", true},                    {"\\{1,2,3\\}", "(3,2,1)", false},       {"(3,2,1)", "\\{1,2,3\\}", false},
      {"\\{1,2,3\\}", "(1,2,3)", true},           {"\\{1,2,3\\}", "(2,1,3)", false},       {"\\{1,2,3\\}", "(1,2)", false},
      {"\\{1,2\\}", "(1,2,2)", false},            {"\\{1,3\\}", "\\langle 3, 1 \\rangle", false}, {"\\langle 3, 1 \\rangle", "\\{1,3\\}", false},
      {"1, 3", "\\{3, 1\\}", true},               {"\\{3, 1\\}", "1, 3", true},              {"3, 1", "(1, 3)", false},
      {"(1,3)", "[1,3]", false},                   {"\\{1,3\\}", "[1,3]", false},            {"\\{1,3\\}", "(1,3]", false},
      {"(1,3), (3,1)", "(3,1), (1,3)", true},      {"(1,3), (2,4)", "(3,1), (4,2)", false},
      {"\\pm 2", "2, -2", true},                   {"\\pm 2", "\\{-2, 2\\}", true},           {"\\pm 2", "(-2, 2)", false},
      {"\\pm 2", "(2, -2)", false},                {"(\\pm 1, 0)", "(1, 0), (-1, 0)", true}, {"(\\pm 1, 0)", "(-1, 0), (1, 0)", true},
      {"(\\pm 1, 0)", "(0, 1, -1)", false},         {"(\\pm 1, 0)", "(0, \\pm 1)", false},      {"(\\pm 1, 0)", "(1, 0)", false},
      {"(1, 0), (-1, 0)", "(\\pm 1, 0)", true},
  });
}

TEST(MathPairs, Intervals) {
  check({
      {"[0,1)", "[0,1)", true},   {"[0,9)", "[0,1)", false},  {"(0,9)", "[0,9)", false},  {"[0,9)", "[0,9]", false},
      {"(2,\\infty)", "(2, \\infty)", true}, {"(2,\\infty)", "(2, \\infty]", true}, {"(-\\infty, 0]", "(-\\infty,0]", true},
      {"(-\\infty, 0]", "(-\\infty,0)", false}, {"\\left(\\frac{3}{5},\\frac{8}{3}\\right]", "(0.6, \\frac{8}{3}]", true},
      {"(0,9) \\cup (9,36)", "(9,36) \\cup (0,9)", true}, {"(0,9) \\cup (9,36)", "(0,36)", false},
      {"(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)", true},
      {"[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)",
       "[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)", true},
      {"(-6, 10)", "(-6, 10)", true},       {"\\mathbb{R}", "(-\\infty, \\infty)", true}, {"\\{-1\\} \\cup [0,7)", "[0,7) \\cup \\{-1\\}", true},
      {"(-\\sqrt{3}, \\sqrt{3})", "(-1.7320508, 1.7320508)", true},
  });
}

TEST(MathPairs, PlusMinus) {
  check({
      {"1 \\pm \\sqrt{19}", "1 \\pm \\sqrt{19}", true},     {"1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", true},
      {"1 \\pm \\sqrt{19}", "1 - \\sqrt{19}, 1 + \\sqrt{19}", true}, {"1 \\pm \\sqrt{19}", "1+\\sqrt{19}", false},
      {"3 \\pm 2 \\sqrt{2}", "3 \\pm \\sqrt{8}", true},     {"\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt5", true},
      {"\\pm 2", "2, -2", true},                            {"\\pm 2", "2", false},
  });
}

TEST(MathPairs, Matrices) {
  check({
      {"\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", true},
      {"\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}", false},
      {"\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{pmatrix}1 & 3 \\\\ 2 & 4\\end{pmatrix}", false},
      {"\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}", "\\begin{pmatrix} -\\frac13 \\\\ \\frac23 \\\\ \\frac53 \\end{pmatrix}", true},
      {"\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}", "(-2, -14, -7)", true},
      {"\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}", "\\begin{pmatrix} -2 & -14 & -7 \\end{pmatrix}", false},
      {"\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right]", true},
  });
}

TEST(MathPairs, TextAndChoices) {
  check({
      {"\\text{Evelyn}", "Evelyn", true},    {"\\text{Evelyn}", "\\text{evelyn}", true}, {"\\text{Evelyn}", "Navin", false},
      {"\\text{(C)}", "C", true},            {"\\text{(C)}", "(C)", true},               {"\\text{(C)}", "\\textbf{(C)}", true},
      {"\\text{(C)}", "D", false},           {"C", "\\text{C}", true},                  {"\\text{even}", "even", true},
      {"\\text{even}", "odd", false},        {"\\text{east}", "\\text{East}", true},      {"\\text{no solution}", "No solution.", true},
      {"204_5", "204_5", true},              {"204_5", "204_{5}", true},                 {"1112112_3", "1112122_3", false},
      {"5", "\\textbf{5}", true},            {"\\frac12", "\\text{0.5}", true},          {"5", "\\text{five}", false},
  });
}

}  // namespace
}  // namespace r1::rewards::math
