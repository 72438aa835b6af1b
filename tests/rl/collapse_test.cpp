// Tests of GRPO collapse detection (rl/grpo/collapse.h) on hand-made steps: repeated completions, reward
// rising while accuracy falls, entropy collapse, each warned once.
#include <gtest/gtest.h>

#include "rl/grpo/collapse.h"
#include "rl/grpo/collect.h"

namespace r1::rl {
namespace {

// A step of `texts.size() / g` groups of g completions with the given texts.
StepGroups step_of(const std::vector<std::string>& texts, int64_t g) {
  StepGroups s;
  s.group_size = g;
  auto r = std::make_unique<Rollout>();
  r->completions.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) r->completions[i].text = texts[i];
  for (const auto& c : r->completions) s.kept.push_back(&c);
  s.groups_kept = static_cast<int64_t>(texts.size()) / g;
  s.rollouts.push_back(std::move(r));
  return s;
}

TEST(Collapse, DistinctCompletionsPerGroup) {
  EXPECT_DOUBLE_EQ(distinct_completion_share(step_of({"a", "b", "c", "d"}, 4)), 1.0);
  EXPECT_DOUBLE_EQ(distinct_completion_share(step_of({"a", "a", "a", "a"}, 4)), 0.25);
  // Two groups: 2 of 2 distinct, 1 of 2 distinct.
  EXPECT_DOUBLE_EQ(distinct_completion_share(step_of({"x", "y", "z", "z"}, 2)), 0.75);
  // The same text in different groups is not a repeat.
  EXPECT_DOUBLE_EQ(distinct_completion_share(step_of({"x", "y", "x", "y"}, 2)), 1.0);
}

TEST(Collapse, RepeatedCompletionsWarnOnce) {
  CollapseMonitor monitor(CollapseConfig{});
  Metrics healthy;
  EXPECT_TRUE(monitor.observe(step_of({"a", "b", "c", "d"}, 4), healthy).empty());
  EXPECT_DOUBLE_EQ(healthy.get("collapse/distinct_completions"), 1.0);
  Metrics m0, m1, m2;
  EXPECT_TRUE(monitor.observe(step_of({"same", "same", "other", "more"}, 4), m0).empty());  // 3/4 distinct
  auto w1 = monitor.observe(step_of({"same", "same", "same", "other"}, 4), m1);  // 2/4 = 0.5: not below
  EXPECT_TRUE(w1.empty());
  w1 = monitor.observe(step_of({"same", "same", "same", "same"}, 4), m1);
  ASSERT_EQ(w1.size(), 1u);
  EXPECT_NE(w1[0].find("repeat their completions"), std::string::npos) << w1[0];
  EXPECT_TRUE(monitor.observe(step_of({"same", "same", "same", "same"}, 4), m2).empty());  // once per stage
  EXPECT_DOUBLE_EQ(m2.get("collapse/distinct_completions"), 0.25);  // still measured every step
}

TEST(Collapse, RewardRisingWhileAccuracyFallsIsRewardHacking) {
  CollapseConfig config;
  config.window = 4;
  CollapseMonitor monitor(config);
  const auto step = step_of({"a", "b"}, 2);
  // Steps 1-2: reward 0.5, accuracy 0.4; steps 3-4: reward 0.9, accuracy 0.1 (format learned, answers lost).
  std::vector<std::pair<double, double>> series = {{0.5, 0.4}, {0.5, 0.4}, {0.9, 0.1}, {0.9, 0.1}};
  std::vector<std::string> warnings;
  for (auto [reward, accuracy] : series) {
    Metrics m;
    m.set("reward", reward);
    m.set("accuracy", accuracy);
    for (auto& w : monitor.observe(step, m)) warnings.push_back(w);
    if (m.has("collapse/reward_up_accuracy_down")) {
      EXPECT_EQ(m.get("collapse/reward_up_accuracy_down"), 1.0);
    }
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("scores without being right"), std::string::npos) << warnings[0];
  // Both rising is learning, not hacking.
  CollapseMonitor learning(config);
  for (double x : {0.1, 0.2, 0.5, 0.6}) {
    Metrics m;
    m.set("reward", x);
    m.set("accuracy_sampled", x);
    m.set("accuracy", 0.5);  // with dynamic sampling the sampled accuracy is the one compared
    EXPECT_TRUE(learning.observe(step, m).empty());
  }
}

TEST(Collapse, EntropyCollapseAndSilentMode) {
  CollapseMonitor monitor(CollapseConfig{});
  Metrics m;
  m.set("entropy", 0.01);
  auto w = monitor.observe(step_of({"a", "b"}, 2), m);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("stopped exploring"), std::string::npos);
  CollapseConfig quiet;
  quiet.warn = false;
  CollapseMonitor silent(quiet);
  Metrics m2;
  m2.set("entropy", 0.01);
  EXPECT_TRUE(silent.observe(step_of({"a", "a"}, 2), m2).empty());
  EXPECT_DOUBLE_EQ(m2.get("collapse/distinct_completions"), 0.5);
}

}  // namespace
}  // namespace r1::rl
