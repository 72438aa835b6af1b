// The registry and composition: spec forms, weighted sums with every component logged, unknown names
// and options as located errors, batch scoring on a pool, the math reward's row handling.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/thread_pool.h"
#include "rewards/composite.h"
#include "rewards_test_util.h"

namespace r1::rewards {
namespace {

using testing::make;
using testing::score_with;

TEST(Registry, ListsEveryBuiltinWithOptions) {
  std::vector<std::string> names;
  for (const RewardInfo& info : Registry::global().list()) {
    names.push_back(info.name);
    EXPECT_FALSE(info.description.empty()) << info.name;
    EXPECT_FALSE(info.options_help.empty()) << info.name;
  }
  for (const char* n : {"math", "accuracy", "format", "language", "overlong", "cosine_length", "repetition",
                        "countdown", "reasoning_steps", "plugin", "external"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Registry, SpecForms) {
  const char* completion = "<think>2+2</think> <answer>4</answer>";
  EXPECT_EQ(score_with(make("math"), completion, R"({"answer": "4"})").score.value, 1.0);
  EXPECT_EQ(score_with(make("accuracy"), completion, R"({"answer": "5"})").score.value, 0.0);
  auto sum = score_with(make("math, format"), completion, R"({"answer": "4"})");
  EXPECT_EQ(sum.score.value, 2.0);
  EXPECT_EQ(sum.component("math"), 1.0);
  EXPECT_EQ(sum.component("format"), 1.0);
  EXPECT_EQ(sum.component("math/correct"), 1.0);
  auto weighted = score_with(
      make(R"({"composite": [{"name": "math", "weight": 1.0}, {"name": "format", "weight": 0.5,
           "options": {"style": "r1_zero"}}]})"),
      completion, R"({"answer": "5"})");
  EXPECT_DOUBLE_EQ(weighted.score.value, 0.5);
  EXPECT_EQ(weighted.component("math"), 0.0);
  EXPECT_EQ(weighted.component("format"), 1.0);
  auto single = score_with(make(R"({"name": "math", "options": {"answer_key": "gold"}})"), completion, R"({"gold": 4})");
  EXPECT_EQ(single.score.value, 1.0);
  auto list = score_with(make(R"(["math", {"name": "format", "weight": 2}])"), completion, R"({"answer": "4"})");
  EXPECT_EQ(list.score.value, 3.0);
  auto repeated = score_with(make("format,format"), completion);
  EXPECT_EQ(repeated.component("format#2"), 1.0);
  auto labelled = score_with(make(R"({"name": "math", "weight": 2, "label": "acc"})"), completion, R"({"answer": "4"})");
  EXPECT_EQ(labelled.score.value, 2.0);
  EXPECT_EQ(labelled.component("acc"), 1.0);
}

TEST(Registry, ErrorsNameThePlace) {
  auto message = [](const std::string& spec) {
    try {
      make(spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("nosuch").find("unknown reward 'nosuch'"), std::string::npos);
  EXPECT_NE(message("math,,format").find("empty reward name"), std::string::npos);
  EXPECT_NE(message(R"({"name": "math", "options": {"fallbak": true}})").find("unknown option 'fallbak'"), std::string::npos);
  EXPECT_NE(message(R"({"name": "math", "options": {"fallback": 1}})").find("option 'fallback'"), std::string::npos);
  EXPECT_NE(message(R"({"name": "format", "options": {"style": "r2"}})").find("'r2' is not one of"), std::string::npos);
  EXPECT_NE(message(R"({"composite": [{"name": "math", "wieght": 1}]})").find("unknown key 'wieght'"), std::string::npos);
  EXPECT_NE(message(R"({"composite": []})").find("non-empty array"), std::string::npos);
  EXPECT_NE(message(R"({"name": "math")").find("invalid JSON"), std::string::npos);
  EXPECT_NE(message("").find("empty reward spec"), std::string::npos);
  try {
    score_with(make("math"), "\\boxed{4}", R"({"question": "2+2"})");
    FAIL() << "missing gold should raise";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no field 'answer'"), std::string::npos) << e.what();
  }
  try {
    score_with(make("math"), "\\boxed{4}", R"({"answer": [4]})");
    FAIL() << "array gold should raise";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must be a string or a number"), std::string::npos) << e.what();
  }
}

TEST(Registry, AddRejectsDuplicatesAndCustomRewardsWork) {
  class Constant : public Reward {
   public:
    std::string name() const override { return "constant"; }
    Score score(const Sample&) const override { return Score{0.25, {{"c", 1.0}}, "always"}; }
  };
  Registry r;
  r.add({"constant", "a constant", "(none)"}, [](const json::Value&, const std::string&) -> RewardPtr {
    return std::make_shared<Constant>();
  });
  EXPECT_THROW(r.add({"constant", "again", ""}, nullptr), Error);
  EXPECT_TRUE(r.contains("constant"));
  EXPECT_FALSE(r.contains("math"));
  auto s = score_with(r.make_from_spec("constant,constant"), "x");
  EXPECT_DOUBLE_EQ(s.score.value, 0.5);
  EXPECT_EQ(s.component("constant#2/c"), 1.0);
}

TEST(Registry, BatchScoringOnAPoolMatchesSerial) {
  RewardPtr reward = make("math,format,repetition");
  std::vector<json::Document> rows;
  std::vector<Sample> samples;
  for (int k = 0; k < 200; ++k) rows.push_back(json::parse("{\"answer\": \"" + std::to_string(k % 7) + "\"}", "row"));
  for (int k = 0; k < 200; ++k) {
    Sample s;
    s.completion = "<think>counting counting " + std::to_string(k) + "</think> <answer>\\boxed{" + std::to_string(k % 5) + "}</answer>";
    s.row = &rows[static_cast<size_t>(k)];
    samples.push_back(s);
  }
  ThreadPool pool(4);
  std::vector<Score> parallel = reward->score_batch(samples, &pool);
  std::vector<Score> serial = reward->score_batch(samples, nullptr);
  ASSERT_EQ(parallel.size(), samples.size());
  double total = 0;
  for (size_t k = 0; k < samples.size(); ++k) {
    EXPECT_EQ(parallel[k].value, serial[k].value);
    EXPECT_EQ(parallel[k].components.size(), serial[k].components.size());
    total += parallel[k].components[0].second;
  }
  EXPECT_GT(total, 0);  // some are correct (k % 5 == k % 7)
}

}  // namespace
}  // namespace r1::rewards
