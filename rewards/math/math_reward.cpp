// See math_reward.h.
#include "rewards/math/math_reward.h"

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"

namespace r1::rewards {

namespace math {
const std::vector<std::pair<PercentMode, const char*>>& enum_names(PercentMode) {
  static const std::vector<std::pair<PercentMode, const char*>> names = {
      {PercentMode::Flexible, "flexible"}, {PercentMode::Fraction, "fraction"}, {PercentMode::Ignore, "ignore"}};
  return names;
}
}  // namespace math

void MathRewardConfig::validate(const std::string& where) const {
  const int places = verify.compare.float_places;
  R1_CHECK(places >= 0 && places <= 15, where, ": option 'float_places' must be in [0, 15], got ", places);
  R1_CHECK(verify.timeout_ms > 0, where, ": option 'timeout_ms' must be positive, got ", verify.timeout_ms);
}

math::Verdict MathReward::verdict(const Sample& sample) const {
  std::string gold = row_text(sample, config_.answer_key, name_.c_str());
  math::GoldAnswer parsed(gold, config_.verify);
  return math::verify(parsed, sample.completion, config_.verify);
}

Score MathReward::score(const Sample& sample) const {
  math::Verdict v = verdict(sample);
  Score s;
  s.value = v.correct ? config_.score_correct : (v.found ? config_.score_wrong : config_.score_no_answer);
  s.components = {{"correct", v.correct ? 1.0 : 0.0}, {"found", v.found ? 1.0 : 0.0}};
  s.reason = v.reason;
  return s;
}

void register_math_rewards(Registry& registry) {
  for (const char* name : {"math", "accuracy"}) {
    RewardInfo info;
    info.name = name;
    info.description = std::string(name) == "math"
                           ? "final answer equals the gold answer (LaTeX/number/GSM8K; exact + symbolic)"
                           : "alias of math";
    std::string reward_name = name;
    add_reward<MathRewardConfig>(registry, info, [reward_name](const MathRewardConfig& c, const std::string&) {
      return std::make_shared<MathReward>(c, reward_name);
    });
  }
}

}  // namespace r1::rewards
