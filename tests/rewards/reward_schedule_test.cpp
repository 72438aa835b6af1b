// Reward-term schedules (issue 14): a composite part with from_step / to_step counts only over its steps and
// is not called outside them (its component is absent); a weight_schedule gives the part's weight at each step
// (linear between points, constant outside); step -1 (outside training) counts every part at its base weight;
// Registry::normalize writes the keys back and reads its own output to the same text; bad schedules are errors
// that name the part and the key.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "error_of.h"
#include "rewards/composite.h"
#include "rewards/registry.h"

namespace r1::rewards {
namespace {

using r1::testing::error_of;

// Scores `value` (option "value", default 1) and records the step of every sample it is called on.
struct StepRecorder : Reward {
  double value = 1;
  std::shared_ptr<std::vector<int64_t>> seen;
  std::shared_ptr<std::mutex> mutex;
  std::string name() const override { return "rec"; }
  Score score(const Sample& sample) const override {
    std::lock_guard<std::mutex> lock(*mutex);
    seen->push_back(sample.step);
    Score s;
    s.value = value;
    s.components = {{"seen", 1.0}};
    return s;
  }
};

// A registry with the built-in rewards and "rec" (every "rec" built from it appends to `seen`).
struct Fixture {
  Registry registry;
  std::shared_ptr<std::vector<int64_t>> seen = std::make_shared<std::vector<int64_t>>();
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  Fixture() {
    register_builtin_rewards(registry);
    registry.add({"rec", "test: records the steps it is called at", "value (number)"},
                 [this](const json::Value& options, const std::string&) {
                   auto r = std::make_shared<StepRecorder>();
                   if (const json::Value* v = json::find(options, "value")) r->value = v->GetDouble();
                   r->seen = seen;
                   r->mutex = mutex;
                   return RewardPtr(r);
                 });
  }
  RewardPtr make(const std::string& spec) { return registry.make_from_spec(spec, "test"); }
  std::string normal(const std::string& spec) {
    return json::dump(registry.normalize(json::parse(spec, "test"), "test"));
  }
};

Sample at_step(int64_t step) {
  Sample s;
  s.completion = "x";
  s.step = step;
  return s;
}

std::optional<double> component(const Score& s, const std::string& name) {
  for (const auto& [n, v] : s.components) {
    if (n == name) return v;
  }
  return std::nullopt;
}

TEST(RewardSchedule, WeightPointsAreLinearBetweenAndConstantOutsideAndStepMinusOneIsTheBase) {
  PartSchedule s;
  s.weight_points = {{10, 0.0}, {20, 1.0}, {40, 0.5}};
  EXPECT_DOUBLE_EQ(s.weight(3.0, 0), 0.0);    // before the first point: its weight
  EXPECT_DOUBLE_EQ(s.weight(3.0, 10), 0.0);   // at a point
  EXPECT_DOUBLE_EQ(s.weight(3.0, 15), 0.5);   // halfway
  EXPECT_DOUBLE_EQ(s.weight(3.0, 20), 1.0);
  EXPECT_DOUBLE_EQ(s.weight(3.0, 30), 0.75);
  EXPECT_DOUBLE_EQ(s.weight(3.0, 40), 0.5);
  EXPECT_DOUBLE_EQ(s.weight(3.0, 1000), 0.5);  // after the last point: its weight
  EXPECT_DOUBLE_EQ(s.weight(3.0, -1), 3.0);    // outside training: the base weight
  PartSchedule none;
  EXPECT_DOUBLE_EQ(none.weight(3.0, 15), 3.0);
  PartSchedule range;
  range.from_step = 5;
  range.to_step = 8;
  EXPECT_FALSE(range.active(4));
  EXPECT_TRUE(range.active(5));
  EXPECT_TRUE(range.active(7));
  EXPECT_FALSE(range.active(8));
  EXPECT_TRUE(range.active(-1));
}

TEST(RewardSchedule, APartFromStepSContributesNothingAndIsNotCalledBeforeS) {
  Fixture f;
  const RewardPtr r = f.make(R"({"composite": [{"name": "rec", "options": {"value": 1}},
      {"name": "rec", "label": "late", "weight": 2, "from_step": 5, "options": {"value": 10}}]})");
  // Batches (the path GRPO uses) and single scores agree.
  const std::vector<Sample> batch = {at_step(4), at_step(5), at_step(6), at_step(-1)};
  const std::vector<Score> scores = r->score_batch(batch, nullptr);
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_DOUBLE_EQ(scores[0].value, 1.0);   // before 5: only the first part
  EXPECT_FALSE(component(scores[0], "late"));
  EXPECT_FALSE(component(scores[0], "late/seen"));
  EXPECT_DOUBLE_EQ(scores[1].value, 21.0);  // from 5 on: 1 + 2 * 10
  EXPECT_EQ(component(scores[1], "late"), 10.0);
  EXPECT_DOUBLE_EQ(scores[2].value, 21.0);
  EXPECT_DOUBLE_EQ(scores[3].value, 21.0);  // step unknown: every part at its base weight
  // The late part was called on steps 5, 6 and -1 only; the first on all four.
  std::multiset<int64_t> seen(f.seen->begin(), f.seen->end());
  EXPECT_EQ(seen, (std::multiset<int64_t>{4, 5, 5, 6, 6, -1, -1}));

  f.seen->clear();
  EXPECT_DOUBLE_EQ(r->score(at_step(0)).value, 1.0);
  EXPECT_EQ(*f.seen, (std::vector<int64_t>{0}));
  // A batch at which the part is never active does not call it at all.
  f.seen->clear();
  (void)r->score_batch({at_step(0), at_step(1)}, nullptr);
  EXPECT_EQ(f.seen->size(), 2u);
}

TEST(RewardSchedule, ToStepEndsAPartAndAWeightScheduleScalesIt) {
  Fixture f;
  const RewardPtr r = f.make(R"([{"name": "rec", "to_step": 3},
      {"name": "rec", "label": "ramp", "weight": 7, "weight_schedule": [[10, 0], [20, 1]]}])");
  EXPECT_DOUBLE_EQ(r->score(at_step(2)).value, 1.0 + 0.0);
  EXPECT_DOUBLE_EQ(r->score(at_step(3)).value, 0.0);  // first part ended; ramp at weight 0
  EXPECT_FALSE(component(r->score(at_step(3)), "rec"));
  EXPECT_DOUBLE_EQ(r->score(at_step(15)).value, 0.5);
  EXPECT_DOUBLE_EQ(r->score(at_step(25)).value, 1.0);
  EXPECT_DOUBLE_EQ(r->score(at_step(-1)).value, 1.0 + 7.0);  // base weights
  // A top-level object with a schedule is a composite of that one part.
  const RewardPtr one = f.make(R"({"name": "rec", "from_step": 2})");
  EXPECT_DOUBLE_EQ(one->score(at_step(1)).value, 0.0);
  EXPECT_DOUBLE_EQ(one->score(at_step(2)).value, 1.0);
}

TEST(RewardSchedule, NormalizeWritesTheKeysAndReadsItsOwnOutputToTheSameText) {
  Fixture f;
  const std::string spec = R"({"composite": [{"name": "math"},
      {"name": "format", "weight": 0.5, "from_step": 1300, "to_step": 1700},
      {"composite": ["rec"], "weight_schedule": [[0, 0.25], [100, 1]]}]})";
  const std::string normal = f.normal(spec);
  const json::Document doc = json::parse(normal, "normal");
  const auto& parts = doc["composite"];
  EXPECT_FALSE(parts[0].HasMember("from_step"));
  EXPECT_EQ(parts[1]["from_step"].GetInt64(), 1300);
  EXPECT_EQ(parts[1]["to_step"].GetInt64(), 1700);
  EXPECT_TRUE(parts[1]["options"].IsObject());
  EXPECT_EQ(json::dump(parts[2]["weight_schedule"]), "[[0,0.25],[100,1.0]]");
  EXPECT_EQ(f.normal(normal), normal);
  // A top-level schedule becomes a one-part composite carrying it.
  const json::Document top = json::parse(f.normal(R"({"name": "rec", "to_step": 9})"), "top");
  EXPECT_EQ(top["composite"][0]["to_step"].GetInt64(), 9);
}

TEST(RewardSchedule, BadSchedulesAreErrorsNamingThePartAndTheKey) {
  Fixture f;
  struct Case {
    const char* spec;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {R"([{"name": "rec", "from_step": 5, "to_step": 5}])",
       {"test[0]", "key 'to_step' (5) must be greater than from_step (5)"}},
      {R"([{"name": "rec"}, {"name": "rec", "to_step": 0}])", {"test[1]", "key 'to_step'", ">= 1"}},
      {R"([{"name": "rec", "from_step": -2}])", {"test[0]", "key 'from_step'", ">= 0"}},
      {R"([{"name": "rec", "from_step": 1.5}])", {"test[0]: key 'from_step'", "expected a trainer step", "1.5"}},
      {R"([{"name": "rec", "weight_schedule": [[10, 1], [5, 0]]}])",
       {"test[0]", "key 'weight_schedule': point [1]", "step 5 is not after the previous point's step 10"}},
      {R"([{"name": "rec", "weight_schedule": [[10, 1], [10, 0]]}])", {"point [1]", "step 10 is not after"}},
      {R"([{"name": "rec", "weight_schedule": [[10, "high"]]}])", {"point [0]", "expected [step, weight]"}},
      {R"([{"name": "rec", "weight_schedule": []}])", {"key 'weight_schedule'", "non-empty list"}},
      {R"({"composite": [{"name": "rec", "from_stepp": 3}]})", {"test.composite[0]", "unknown key 'from_stepp'",
                                                                 "from_step, to_step or weight_schedule"}},
  };
  for (const Case& c : cases) {
    const std::string msg = error_of([&] { f.registry.validate(json::parse(c.spec, "spec"), "test"); });
    for (const auto& e : c.expect) EXPECT_NE(msg.find(e), std::string::npos) << c.spec << "\n  -> " << msg;
    // The builder reads the same grammar.
    EXPECT_FALSE(error_of([&] { (void)f.make(c.spec); }).empty()) << c.spec;
  }
}

}  // namespace
}  // namespace r1::rewards
