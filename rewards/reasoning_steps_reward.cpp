// The "reasoning_steps" reward (open-r1's reasoning_steps_reward): min(1, markers / min_steps), where a
// marker is a step announcement — "Step 3:", a line starting with "3.", a "- " or "* " bullet line, or
// one of "First,", "Second,", "Next,", "Finally,". It rewards visibly structured reasoning; alone it is
// trivially farmed, so use it with a small weight next to the accuracy reward.
//
// Counted by a scanner (no regex): one pass over the text.
#include <string>
#include <string_view>

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"

namespace r1::rewards {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

size_t count_step_markers(std::string_view t) {
  size_t n = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    bool line_start = i == 0 || t[i - 1] == '\n';
    if (t.compare(i, 5, "Step ") == 0) {  // "Step 12:"
      size_t k = i + 5;
      while (k < t.size() && is_digit(t[k])) ++k;
      if (k > i + 5 && k < t.size() && t[k] == ':') ++n;
      continue;
    }
    if (line_start && is_digit(t[i])) {  // "3. "
      size_t k = i;
      while (k < t.size() && is_digit(t[k])) ++k;
      if (k < t.size() && t[k] == '.') ++n;
      continue;
    }
    if (i > 0 && t[i - 1] == '\n' && (t[i] == '-' || t[i] == '*')) {
      ++n;
      continue;
    }
    for (std::string_view w : {std::string_view("First,"), std::string_view("Second,"), std::string_view("Next,"),
                               std::string_view("Finally,")}) {
      if (t.compare(i, w.size(), w) == 0) {
        ++n;
        break;
      }
    }
  }
  return n;
}

struct ReasoningStepsConfig {
  double min_steps = 3;

  template <class V>
  void visit(V& v) {
    v("min_steps", min_steps, "markers needed for the full score (> 0)");
  }
  void validate(const std::string& where) const {
    R1_CHECK(min_steps > 0, where, ": option 'min_steps' must be positive, got ", min_steps);
  }
};

class ReasoningStepsReward : public Reward {
 public:
  explicit ReasoningStepsReward(const ReasoningStepsConfig& c) : min_steps_(c.min_steps) {}
  std::string name() const override { return "reasoning_steps"; }
  Score score(const Sample& sample) const override {
    size_t n = count_step_markers(sample.completion);
    Score s;
    s.value = std::min(1.0, static_cast<double>(n) / min_steps_);
    s.components = {{"steps", static_cast<double>(n)}};
    s.reason = std::to_string(n) + " step markers";
    return s;
  }

 private:
  double min_steps_;
};

}  // namespace

void register_reasoning_steps_reward(Registry& registry) {
  add_reward_of<ReasoningStepsReward, ReasoningStepsConfig>(registry, "reasoning_steps",
      "min(1, step markers / min_steps): \"Step 1:\", \"1.\", bullets, First/Second/Next/Finally");
}

}  // namespace r1::rewards
