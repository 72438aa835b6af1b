// The "math" reward (alias "accuracy"): 1 when the completion's final answer equals the row's gold
// answer under the rules of math_verify.h, else 0 (scores configurable).
//
// The gold is read from the row field `answer_key` (default "answer"): a bare answer, LaTeX text
// containing it ("$\frac{1}{2}$", "\boxed{5}"), a GSM8K solution ending in "#### 72", or a JSON number
// (AMC's 27.0). For R1-Zero completions the answer is looked for inside <answer>...</answer> (and a
// \boxed{} inside it). Components: "correct" (0/1) and "found" (0/1: an answer was extracted at all),
// so a run can tell "wrong" from "no answer".
#pragma once

#include <string>

#include "common/json.h"
#include "rewards/math/math_verify.h"
#include "rewards/reward.h"

namespace r1::rewards {

struct MathRewardConfig {
  std::string answer_key = "answer";
  math::VerifyOptions verify;
  double score_correct = 1.0;
  double score_wrong = 0.0;
  double score_no_answer = 0.0;
};

// Reads the options object (unknown keys are errors); `where` names it in messages.
MathRewardConfig read_math_config(const json::Value* options, const std::string& where);
// The options table shown by `r1 reward list`.
extern const char* const kMathOptionsHelp;

class MathReward : public Reward {
 public:
  explicit MathReward(MathRewardConfig config, std::string name = "math")
      : config_(std::move(config)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Score score(const Sample& sample) const override;
  // The verdict behind score() (for rewards that build on correctness, e.g. cosine_length).
  math::Verdict verdict(const Sample& sample) const;

 private:
  MathRewardConfig config_;
  std::string name_;
};

}  // namespace r1::rewards
