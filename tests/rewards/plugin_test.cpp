// Plugins: the example C++ plugin through dlopen (both registration paths), and the external-process
// reward with the example script plus a misbehaving helper (restart after exit, timeout, noise on
// stdout, protocol errors, reported errors, parallel children).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/thread_pool.h"
#include "rewards/external_reward.h"
#include "rewards/plugin_loader.h"
#include "rewards_test_util.h"

namespace r1::rewards {
namespace {

using testing::score_with;

// Debian's interpreter when present (a version-manager shim on PATH can take a second to start).
std::string python() { return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3"; }
bool have_python() { return std::system((python() + " -c 'pass' > /dev/null 2>&1").c_str()) == 0; }

std::string example_script() { return std::string(R1_SOURCE_DIR) + "/rewards/examples/keyword_reward.py"; }
std::string flaky_script() { return std::string(R1_SOURCE_DIR) + "/tests/rewards/scripts/flaky_reward.py"; }

RewardPtr external(const std::string& script, const std::string& extra = "") {
  std::string spec = R"({"name": "external", "options": {"command": [")" + python() + "\", \"" + script + "\"]" + extra + "}}";
  return testing::make(spec);
}

TEST(DlopenPlugin, ExamplePluginThroughThePluginReward) {
  std::string lib = R1_EXAMPLE_PLUGIN;
  RewardPtr keyword = testing::make(R"({"name": "plugin", "options": {"library": ")" + lib +
                                    R"(", "reward": "example_keyword", "options": {"keyword": "cat"}}})");
  EXPECT_EQ(keyword->name(), "example_keyword");
  auto hit = score_with(keyword, "the cat sat");
  EXPECT_EQ(hit.score.value, 1.0);
  EXPECT_EQ(hit.score.reason, "keyword found");
  EXPECT_EQ(hit.component("calls"), 1.0);
  EXPECT_EQ(score_with(keyword, "the dog sat").score.value, 0.0);
  EXPECT_EQ(score_with(keyword, "the dog sat").component("calls"), 3.0);  // the instance keeps state
  RewardPtr from_row = testing::make(R"({"name": "plugin", "options": {"library": ")" + lib +
                                     R"(", "reward": "example_keyword"}})");
  EXPECT_EQ(score_with(from_row, "a dog", R"({"keyword": "dog"})").score.value, 1.0);
  EXPECT_THROW(score_with(from_row, "a dog", "{}"), Error);  // the plugin's error is raised with its name
  try {
    score_with(from_row, "a dog", "{}");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("example_keyword"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("no option \"keyword\""), std::string::npos);
  }
}

TEST(DlopenPlugin, RegisterLibraryAndErrors) {
  std::string lib = R1_EXAMPLE_PLUGIN;
  Registry registry;
  std::vector<std::string> names = register_plugin_library(registry, lib);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_TRUE(registry.contains("example_exact_match"));
  RewardPtr exact = registry.make_from_spec("example_exact_match", "test");
  EXPECT_EQ(score_with(exact, "<answer> 42 </answer>", R"({"answer": "42"})").score.value, 1.0);
  EXPECT_EQ(score_with(exact, "<answer>41</answer>", R"({"answer": "42"})").score.value, 0.0);
  // Thread-safe plugin on a pool.
  json::Document row = json::parse(R"({"answer": "7"})", "row");
  std::vector<Sample> samples(64);
  for (size_t k = 0; k < samples.size(); ++k) {
    samples[k].completion = "<answer>" + std::to_string(k % 8) + "</answer>";
    samples[k].row = &row;
  }
  ThreadPool pool(4);
  auto scores = exact->score_batch(samples, &pool);
  double total = 0;
  for (const Score& s : scores) total += s.value;
  EXPECT_EQ(total, 8.0);
  EXPECT_THROW(register_plugin_library(registry, lib), Error);  // names taken
  EXPECT_THROW(registry.make_from_spec(R"({"name": "example_exact_match", "options": {"x": 1}})", "t"), Error);
  EXPECT_THROW(testing::make(R"({"name": "plugin", "options": {"library": "/no/such.so"}})"), Error);
  EXPECT_THROW(testing::make(R"({"name": "plugin", "options": {"library": ")" + lib + R"("}})"), Error);  // 2 rewards
  EXPECT_THROW(testing::make(R"({"name": "plugin", "options": {"library": ")" + lib + R"(", "reward": "nope"}})"), Error);
  EXPECT_THROW(testing::make(R"({"name": "plugin", "options": {}})"), Error);
  // A file that is not a plugin.
  EXPECT_THROW(load_plugin_library("/bin/sh"), Error);
}

TEST(ExternalReward, ExampleKeywordScript) {
  if (!have_python()) GTEST_SKIP() << "python3 not available";
  RewardPtr r = external(example_script());
  auto two = score_with(r, "The Cat and the dog", R"({"keywords": ["cat", "dog"]})");
  EXPECT_DOUBLE_EQ(two.score.value, 1.0);
  EXPECT_EQ(two.component("hits"), 2.0);
  EXPECT_EQ(two.score.reason, "2/2 keywords");
  EXPECT_DOUBLE_EQ(score_with(r, "only a cat", R"({"keywords": ["cat", "dog"]})").score.value, 0.5);
  try {
    score_with(r, "x", R"({"no_keywords": 1})");
    FAIL() << "expected the script's error to be raised";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("keywords"), std::string::npos) << e.what();
  }
  auto* ext = dynamic_cast<const ExternalReward*>(r.get());
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(ext->starts(), 1);  // kept alive across requests, including a reported error
}

TEST(ExternalReward, RestartsAfterExitAndRetries) {
  if (!have_python()) GTEST_SKIP() << "python3 not available";
  RewardPtr r = external(flaky_script(), R"(, "on_error": "score", "error_score": -1)");
  auto* ext = dynamic_cast<const ExternalReward*>(r.get());
  EXPECT_EQ(score_with(r, "a").score.value, 1.0);
  EXPECT_EQ(score_with(r, "b").score.value, 2.0);
  EXPECT_EQ(score_with(r, "noise").score.value, 3.0);  // non-JSON lines are skipped
  // Dies on this request, also on the retry: scored as an error, and the next request gets a fresh child.
  auto died = score_with(r, "exit");
  EXPECT_EQ(died.score.value, -1.0);
  EXPECT_EQ(died.component("error"), 1.0);
  EXPECT_EQ(score_with(r, "c").score.value, 1.0);
  std::string marker = ::testing::TempDir() + "/r1_flaky_marker_" + std::to_string(getpid());
  std::remove(marker.c_str());
  EXPECT_EQ(score_with(r, "exit-once:" + marker).score.value, 1.0);  // died once, the retry succeeded
  std::remove(marker.c_str());
  EXPECT_GE(ext->starts(), 4);
  auto bad = score_with(r, "badid");
  EXPECT_EQ(bad.component("error"), 1.0);
  EXPECT_NE(bad.score.reason.find("id"), std::string::npos);
  auto reported = score_with(r, "report");
  EXPECT_EQ(reported.component("error"), 1.0);
  EXPECT_NE(reported.score.reason.find("cannot score this"), std::string::npos);
}

TEST(ExternalReward, TimeoutKillsAndRaises) {
  if (!have_python()) GTEST_SKIP() << "python3 not available";
  // 300 ms per request; the retry on the fresh child gets the start-up allowance (1 s here).
  RewardPtr r = external(flaky_script(), R"(, "timeout_ms": 300, "startup_timeout_ms": 1000)");
  EXPECT_EQ(score_with(r, "a").score.value, 1.0);
  try {
    score_with(r, "sleep");
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no response within 1000 ms"), std::string::npos) << e.what();
  }
  EXPECT_EQ(score_with(r, "b").score.value, 1.0);  // a fresh child after the kill
}

TEST(ExternalReward, ParallelChildrenAndBadCommands) {
  if (!have_python()) GTEST_SKIP() << "python3 not available";
  RewardPtr r = external(example_script(), R"(, "processes": 3)");
  json::Document row = json::parse(R"({"keywords": ["x"]})", "row");
  std::vector<Sample> samples(60);
  for (size_t k = 0; k < samples.size(); ++k) {
    samples[k].completion = k % 2 ? "has x" : "none";
    samples[k].row = &row;
  }
  ThreadPool pool(3);
  auto scores = r->score_batch(samples, &pool);
  for (size_t k = 0; k < samples.size(); ++k) EXPECT_EQ(scores[k].value, k % 2 ? 1.0 : 0.0);
  EXPECT_LE(dynamic_cast<const ExternalReward*>(r.get())->starts(), 3);
  RewardPtr missing = testing::make(R"({"name": "external", "options": {"command": ["/no/such/program"]}})");
  EXPECT_THROW(score_with(missing, "x"), Error);
  RewardPtr shell = testing::make(R"({"name": "external", "options": {"command": "exit 1", "max_restarts": 2}})");
  EXPECT_THROW(score_with(shell, "x"), Error);
  EXPECT_THROW(testing::make(R"({"name": "external", "options": {}})"), Error);
  EXPECT_THROW(testing::make(R"({"name": "external", "options": {"command": "x", "processes": 0}})"), Error);
}

}  // namespace
}  // namespace r1::rewards
