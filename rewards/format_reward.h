// The "format" reward: does the completion follow the R1 output template?
//
//   style "r1_zero": <think> reasoning </think> <answer> answer </answer>      (DeepSeek-R1-Zero)
//   style "r1":      <think> reasoning </think> summary                          (DeepSeek-R1)
//
// The whole completion is anchored: only whitespace before <think> and after </answer> (r1_zero), each
// tag exactly once and in order (so no nested or repeated blocks), a non-empty answer / summary, and
// no <answer> tags at all in the r1 style. This is stricter than the "<think>.*?</think>" regexes of
// several peer trainers on purpose: those accept "<think></think><answer>1</answer><answer>2</answer>"
// and trailing junk, which policies learn to exploit (reward hacking through loose format regexes).
//
// think_in_prompt: the prompt already ends with "<think>" (TRL/open-r1 style templates), so the
// completion starts inside the think block and must not open another one.
// truncated_fails (default): a completion the generator cut at its length limit is not in the format, whatever
// it holds so far — otherwise "<think>…</think>" followed by any unfinished text passes the r1 style, and a
// policy learns to never end its turn (seen in the tiny full-R1 run: "</think>\n\n</\n<\n<\n…" to the limit).
// partial_credit: when the full template does not match, score the fraction of template tags that
// appear exactly once (so 0.25 per tag for r1_zero, 0.5 per tag for r1), like tag-count rewards.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rewards/reward.h"

namespace r1::rewards {

enum class FormatStyle { R1Zero, R1 };
// Option names of FormatStyle: "r1_zero", "r1" (config_io.h).
const std::vector<std::pair<FormatStyle, const char*>>& enum_names(FormatStyle);

// The options of the format reward.
struct FormatConfig {
  FormatStyle style = FormatStyle::R1Zero;
  bool think_in_prompt = false;
  bool partial_credit = false;
  bool truncated_fails = true;

  template <class V>
  void visit(V& v) {
    v("style", style, "r1_zero: <think>..</think> <answer>..</answer> | r1: <think>..</think> summary");
    v("think_in_prompt", think_in_prompt, "the prompt ends with <think>; the completion starts inside it");
    v("partial_credit", partial_credit, "when not matched, score the fraction of tags present exactly once");
    v("truncated_fails", truncated_fails,
      "a completion cut at the length limit (no end of turn, EOS or stop string) is not in the format: its summary is "
      "unfinished");
  }
  void validate(const std::string&) const {}
};

struct FormatCheck {
  bool ok = false;
  double tag_fraction = 0.0;  // template tags present exactly once / template tag count
  std::string reason;
};

FormatCheck check_format(const std::string& completion, const FormatConfig& config);

class FormatReward : public Reward {
 public:
  explicit FormatReward(FormatConfig config) : config_(std::move(config)) {}
  std::string name() const override { return "format"; }
  Score score(const Sample& sample) const override;

 private:
  FormatConfig config_;
};

}  // namespace r1::rewards
