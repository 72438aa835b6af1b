// Length shaping: "overlong" (DAPO's soft overlong punishment) and "cosine_length" (cosine-scaled
// reward of Yeo et al., "Demystifying Long Chain-of-Thought Reasoning in LLMs", 2025).
//
// overlong, with L = completion length, L_max = max_length, L_cache = cache_length (DAPO eq. 13):
//     0                                   L <= L_max - L_cache
//     ((L_max - L_cache) - L) / L_cache   L_max - L_cache < L <= L_max      (from 0 down to -1)
//     -1                                  L > L_max
// multiplied by `factor`. DAPO's defaults are L_max = 20480, L_cache = 4096 tokens.
//
// cosine_length: r = lo + (hi - lo) * (1 + cos(pi * min(L / max_length, 1))) / 2, with (lo, hi) =
// (min_value_correct, max_value_correct) for a correct answer (short correct answers earn most) and
// (max_value_wrong, min_value_wrong) for a wrong one (short wrong answers are punished most, so the
// policy is pushed to think longer when it is wrong). Correctness is the math reward's verdict (its
// options go under "math"). Departure from the paper: its separate exceed-length penalty is not used;
// lengths beyond max_length score like max_length (combine with "overlong" for a hard cap).
//
// Lengths are in tokens by default, taken from the sample (the trainer knows them) or from the row
// field "completion_tokens" (JSONL scoring); unit "chars" counts Unicode code points, "words" counts
// whitespace-separated words.
#include <cmath>

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/math/math_reward.h"
#include "rewards/options.h"
#include "rewards/text_words.h"

namespace r1::rewards {
namespace {

enum class LengthUnit { Tokens, Chars, Words };
const std::vector<std::pair<LengthUnit, const char*>>& enum_names(LengthUnit) {
  static const std::vector<std::pair<LengthUnit, const char*>> names = {
      {LengthUnit::Tokens, "tokens"}, {LengthUnit::Chars, "chars"}, {LengthUnit::Words, "words"}};
  return names;
}

double completion_length(const Sample& sample, LengthUnit unit, const char* reward) {
  if (unit == LengthUnit::Tokens) {
    if (sample.completion_tokens >= 0) return static_cast<double>(sample.completion_tokens);
    const json::Value* v = row_field(sample, "completion_tokens");
    if (v != nullptr && v->IsNumber() && v->GetDouble() >= 0) return v->GetDouble();
    fail("reward '", reward, "': the completion's token count is unknown (the trainer passes it; in JSONL input add ",
         "a 'completion_tokens' field, or set option unit to \"chars\")");
  }
  const std::string& c = sample.completion;
  double n = 0;
  if (unit == LengthUnit::Chars) {
    for (size_t i = 0; i < c.size();) {
      next_code_point(c, i);
      ++n;
    }
    return n;
  }
  bool in_word = false;
  for (char ch : c) {
    bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

struct OverlongConfig {
  double max_length = 20480, cache_length = 4096, factor = 1.0;
  LengthUnit unit = LengthUnit::Tokens;

  template <class V>
  void visit(V& v) {
    v("max_length", max_length, "L_max");
    v("cache_length", cache_length, "L_cache, the soft-punishment band before L_max (0 < L_cache < L_max)");
    v("factor", factor, "multiplies the penalty");
    v("unit", unit, "how length is counted: tokens (from the trainer or the row's completion_tokens), chars, words");
  }
  void validate(const std::string& where) const {
    R1_CHECK(cache_length > 0 && max_length > cache_length, where,
             ": need 0 < cache_length < max_length, got ", cache_length, " and ", max_length);
  }
};

class OverlongReward : public Reward {
 public:
  explicit OverlongReward(OverlongConfig c) : c_(std::move(c)) {}
  std::string name() const override { return "overlong"; }
  Score score(const Sample& sample) const override {
    double len = completion_length(sample, c_.unit, "overlong");
    double safe = c_.max_length - c_.cache_length;
    double r = len <= safe ? 0.0 : len <= c_.max_length ? (safe - len) / c_.cache_length : -1.0;
    Score s;
    s.value = c_.factor * r;
    s.components = {{"length", len}};
    s.reason = "length " + std::to_string(static_cast<long long>(len)) + " " + enum_name(c_.unit);
    return s;
  }

 private:
  OverlongConfig c_;
};

struct CosineConfig {
  double max_length = 1000;
  double min_value_wrong = -1.0, max_value_wrong = -0.5, min_value_correct = 0.5, max_value_correct = 1.0;
  LengthUnit unit = LengthUnit::Tokens;
  MathRewardConfig math;

  template <class V>
  void visit(V& v) {
    v("max_length", max_length, "length at which the cosine reaches its end (> 0)");
    v("min_value_correct", min_value_correct, "score of a correct answer at max_length");
    v("max_value_correct", max_value_correct, "score of a correct answer of length 0");
    v("min_value_wrong", min_value_wrong, "score of a wrong answer of length 0");
    v("max_value_wrong", max_value_wrong, "score of a wrong answer at max_length");
    v("unit", unit, "how length is counted: tokens, chars, words");
    v("math", math, "options of the math reward that decides correctness");
  }
  void validate(const std::string& where) const {
    R1_CHECK(max_length > 0, where, ": option 'max_length' must be positive, got ", max_length);
    math.validate(where + ": option 'math'");
  }
};

class CosineLengthReward : public Reward {
 public:
  explicit CosineLengthReward(CosineConfig c) : c_(std::move(c)), math_(c_.math, "cosine_length") {}
  std::string name() const override { return "cosine_length"; }
  Score score(const Sample& sample) const override {
    math::Verdict v = math_.verdict(sample);
    double len = completion_length(sample, c_.unit, "cosine_length");
    double progress = std::min(1.0, std::max(0.0, len / c_.max_length));
    double lo = v.correct ? c_.min_value_correct : c_.max_value_wrong;
    double hi = v.correct ? c_.max_value_correct : c_.min_value_wrong;
    Score s;
    s.value = lo + 0.5 * (hi - lo) * (1.0 + std::cos(progress * M_PI));
    s.components = {{"correct", v.correct ? 1.0 : 0.0}, {"length", len}};
    s.reason = std::string(v.correct ? "correct" : "wrong") + ", length " + std::to_string(static_cast<long long>(len));
    return s;
  }

 private:
  CosineConfig c_;
  MathReward math_;
};

}  // namespace

void register_length_rewards(Registry& registry) {
  add_reward_of<OverlongReward, OverlongConfig>(registry, "overlong",
      "DAPO soft overlong punishment: 0 .. -1 over the last cache_length before max_length");

  add_reward_of<CosineLengthReward, CosineConfig>(registry, "cosine_length",
      "cosine-scaled length reward: short correct answers earn most, short wrong ones lose most");
}

}  // namespace r1::rewards
