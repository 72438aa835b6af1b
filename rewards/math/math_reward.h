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
#include <utility>
#include <vector>

#include "common/json.h"
#include "rewards/math/math_verify.h"
#include "rewards/reward.h"

namespace r1::rewards {

namespace math {
// Option names of PercentMode ("percent": "flexible" | "fraction" | "ignore"; config_io.h).
const std::vector<std::pair<PercentMode, const char*>>& enum_names(PercentMode);
}  // namespace math

// The options of the math reward. The verifier's defaults live in its own structs (math_verify.h,
// math_extract.h, math_compare.h); visit() lists the ones a user may set, under flat names.
struct MathRewardConfig {
  std::string answer_key = "answer";
  math::VerifyOptions verify;
  double score_correct = 1.0;
  double score_wrong = 0.0;
  double score_no_answer = 0.0;

  template <class V>
  void visit(V& v) {
    v("answer_key", answer_key, "row field holding the gold answer");
    v("fallback", verify.extract.fallback, "with no boxed/anchored answer, use the last formula or number");
    v("answer_tags", verify.extract.answer_tags, "search only inside the last <answer>...</answer> when present");
    v("after_think", verify.extract.after_think, "search the text after </think> first");
    v("require_answer_tags", verify.extract.require_answer_tags,
      "only an answer inside <answer>...</answer> counts (the R1-Zero accuracy rule)");
    v("percent", verify.compare.percent, "flexible: 50% == 50 and 0.5 | fraction: only 0.5 | ignore: only 50");
    v("float_places", verify.compare.float_places, "decimals compared when a side is written as a decimal number, in [0, 15]");
    v("timeout_ms", verify.timeout_ms, "time budget per completion (> 0); over budget scores as wrong");
    v("score_correct", score_correct, "score of a correct answer");
    v("score_wrong", score_wrong, "score of a wrong answer");
    v("score_no_answer", score_no_answer, "score when no answer was found");
  }
  void validate(const std::string& where) const;
};

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
