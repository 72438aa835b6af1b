// docs/rewards.md holds the options tables of every reward `r1 reward list --markdown` prints: the built-in
// rewards (rewards/builtin.cpp) and rl's reward_model (rl/reward_model_reward.h), generated from their options
// structs. Here, beside rl, because the reward_model reward lives in rl/.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "rewards/registry.h"
#include "rl/reward_model_reward.h"

namespace r1::rl {
namespace {

TEST(RewardDocs, OptionsTablesMatchTheRegistry) {
  const std::string path = std::string(R1_SOURCE_DIR) + "/docs/rewards.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const std::string begin = "<!-- BEGIN r1 reward list --markdown -->\n", end = "<!-- END r1 reward list --markdown -->";
  const size_t a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos) << path << " has no '" << begin << "' marker";
  ASSERT_NE(b, std::string::npos) << path << " has no '" << end << "' marker";
  const std::string in_docs = doc.substr(a + begin.size(), b - a - begin.size());
  rewards::Registry registry;
  rewards::register_builtin_rewards(registry);
  register_reward_model_reward(registry);
  const std::string generated = rewards::options_markdown(registry);
  if (in_docs == generated) return;
  const std::string fresh = ::testing::TempDir() + "/rewards_options.md";
  std::ofstream(fresh) << generated;
  ADD_FAILURE() << "docs/rewards.md's options tables are out of date: regenerate them with\n"
                << "  r1 reward list --markdown\n"
                << "and paste the output between the markers (this build's output is in " << fresh << ").";
}

}  // namespace
}  // namespace r1::rl
