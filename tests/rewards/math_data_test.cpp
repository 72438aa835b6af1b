// Real gold answers (all 500 of MATH-500, 200 GSM8K test rows; tests/rewards/data/SOURCES.md): each
// must parse, be found and accepted in the answer styles models actually write, and a perturbed
// answer must be rejected.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/jsonl.h"
#include "rewards/math/math_exact.h"
#include "rewards/math/math_verify.h"

namespace r1::rewards::math {
namespace {

std::string data(const char* name) { return std::string(R1_SOURCE_DIR) + "/tests/rewards/data/" + name; }

std::vector<std::string> answers(const char* file) {
  std::vector<std::string> out;
  for_each_jsonl(data(file), [&](size_t line, const json::Value& row) {
    out.push_back(json::get_string(row, "answer", data(file) + ":" + std::to_string(line)));
  });
  return out;
}

TEST(MathData, Math500GoldsParseAndMatchThemselvesInEveryStyle) {
  std::vector<std::string> golds = answers("math500_answers.jsonl");
  ASSERT_EQ(golds.size(), 500u);
  for (const std::string& g : golds) {
    GoldAnswer gold(g);
    EXPECT_TRUE(gold.parsed()) << g;
    const std::string styles[] = {
        "Adding these up, the total is $\\boxed{" + g + "}$.",
        "...\n\n**Final Answer**\n\\[\n\\boxed{" + g + "}\n\\]",
        "Final Answer: The final answer is $" + g + "$. I hope it is correct.",
        "<think>\nlong reasoning with 12 and 7.\n</think>\n\nThe answer is $\\boxed{" + g + "}$.",
        "<think>reasoning</think> <answer>" + g + "</answer>",
        "<think>reasoning</think> <answer>so it is $\\boxed{" + g + "}$</answer>",
    };
    for (const std::string& completion : styles)
      EXPECT_TRUE(verify(gold, completion).correct) << "gold: " << g << "\ncompletion: " << completion;
  }
}

TEST(MathData, Math500PerturbedNumbersAreRejected) {
  size_t numeric = 0;
  for (const std::string& g : answers("math500_answers.jsonl")) {
    GoldAnswer gold(g);
    ASSERT_TRUE(gold.parsed()) << g;
    mpq_class value;
    Budget budget;
    if (!eval_exact(gold.tree(), gold.tree().root, EvalOptions{}, budget, value)) continue;
    ++numeric;
    for (const mpq_class& wrong : {mpq_class(value + 1), mpq_class(value - 1), mpq_class(value * 3 + 2)}) {
      if (wrong == value) continue;  // -1 * 3 + 2 = -1
      std::string completion = "So the answer is $\\boxed{" + wrong.get_str() + "}$.";
      Verdict v = verify(gold, completion);
      EXPECT_FALSE(v.correct) << "gold: " << g << "\nwrong: " << wrong.get_str() << "\n" << v.reason;
    }
    std::string right = "So the answer is $\\boxed{" + value.get_str() + "}$.";  // e.g. 14/3 in place of \frac{14}{3}
    EXPECT_TRUE(verify(gold, right).correct) << g;
  }
  EXPECT_GT(numeric, 250u);
}

TEST(MathData, Gsm8kAnswersInCommonStyles) {
  std::vector<std::string> fields = answers("gsm8k_test_head200.jsonl");
  ASSERT_EQ(fields.size(), 200u);
  for (const std::string& field : fields) {
    GoldAnswer gold(field);
    ASSERT_TRUE(gold.parsed()) << field;
    mpq_class value;
    Budget budget;
    ASSERT_TRUE(eval_exact(gold.tree(), gold.tree().root, EvalOptions{}, budget, value)) << field;
    std::string n = value.get_str();
    EXPECT_TRUE(verify(gold, "She pays 3 + 4 = 7 dollars first.\nThe answer is " + n + ".").correct) << field;
    EXPECT_TRUE(verify(gold, "So in total it is $" + n + ".").correct) << field;
    EXPECT_TRUE(verify(gold, "Step 1: ...\n#### " + n).correct) << field;
    EXPECT_TRUE(verify(gold, "Therefore, the answer is $\\boxed{" + n + "}$.").correct) << field;
    EXPECT_TRUE(verify(gold, "<think>count</think> <answer>" + n + "</answer>").correct) << field;
    if (value >= 1000 && value.get_den() == 1) {  // with thousands separators
      std::string digits = value.get_num().get_str(), grouped;
      for (size_t k = 0; k < digits.size(); ++k) {
        if (k > 0 && (digits.size() - k) % 3 == 0) grouped += ',';
        grouped += digits[k];
      }
      EXPECT_TRUE(verify(gold, "The answer is " + grouped + ".").correct) << grouped;
    }
    mpq_class off = value + 1;
    EXPECT_FALSE(verify(gold, "The answer is " + off.get_str() + ".").correct) << field;
    EXPECT_FALSE(verify(gold, "I could not finish the computation.").correct) << field;
  }
}

}  // namespace
}  // namespace r1::rewards::math
