// See math_reward.h.
#include "rewards/math/math_reward.h"

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"

namespace r1::rewards {

const char* const kMathOptionsHelp =
    "answer_key (string, \"answer\"): row field holding the gold answer\n"
    "fallback (bool, true): with no boxed/anchored answer, use the last formula or number\n"
    "answer_tags (bool, true): search only inside the last <answer>...</answer> when present\n"
    "after_think (bool, true): search the text after </think> first\n"
    "require_answer_tags (bool, false): only an answer inside <answer>...</answer> counts (R1-Zero)\n"
    "percent (\"flexible\"|\"fraction\"|\"ignore\", \"flexible\"): 50% == 50 and 0.5 | only 0.5 | only 50\n"
    "float_places (int, 6): decimals compared when a side is written as a decimal number\n"
    "timeout_ms (number, 250): time budget per completion; over budget scores as wrong\n"
    "score_correct (number, 1), score_wrong (number, 0), score_no_answer (number, 0)";

MathRewardConfig read_math_config(const json::Value* options, const std::string& where) {
  OptionReader r(options, where);
  MathRewardConfig c;
  c.answer_key = r.str("answer_key", c.answer_key);
  c.verify.extract.fallback = r.flag("fallback", c.verify.extract.fallback);
  c.verify.extract.answer_tags = r.flag("answer_tags", c.verify.extract.answer_tags);
  c.verify.extract.after_think = r.flag("after_think", c.verify.extract.after_think);
  c.verify.extract.require_answer_tags = r.flag("require_answer_tags", c.verify.extract.require_answer_tags);
  std::string percent = r.choice("percent", "flexible", {"flexible", "fraction", "ignore"});
  c.verify.compare.percent = percent == "fraction" ? math::PercentMode::Fraction
                             : percent == "ignore" ? math::PercentMode::Ignore
                                                   : math::PercentMode::Flexible;
  int64_t places = r.integer("float_places", c.verify.compare.float_places);
  if (places < 0 || places > 15) fail(where, ": option 'float_places' must be in [0, 15], got ", places);
  c.verify.compare.float_places = static_cast<int>(places);
  c.verify.timeout_ms = r.number("timeout_ms", c.verify.timeout_ms);
  if (!(c.verify.timeout_ms > 0)) fail(where, ": option 'timeout_ms' must be positive");
  c.score_correct = r.number("score_correct", c.score_correct);
  c.score_wrong = r.number("score_wrong", c.score_wrong);
  c.score_no_answer = r.number("score_no_answer", c.score_no_answer);
  r.finish();
  return c;
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
    info.options_help = kMathOptionsHelp;
    std::string reward_name = name;
    registry.add(info, [reward_name](const json::Value& options, const std::string& where) -> RewardPtr {
      return std::make_shared<MathReward>(read_math_config(&options, where), reward_name);
    });
  }
}

}  // namespace r1::rewards
