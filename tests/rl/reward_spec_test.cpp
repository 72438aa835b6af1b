// Reward specs in recipes: the format/prompt check reads the format reward through the registry's spec walker
// (every spec form, options through the format reward's options struct, malformed specs are errors, not
// skipped), and a stage's reward is resolved in normal form: recipe.resolved.json carries every option's
// default and resolving it again gives the same text. Parsing only: nothing is trained or evaluated.
#include <gtest/gtest.h>

#include <string>

#include "error_of.h"
#include "common/error.h"
#include "common/fs.h"
#include "rl/pipeline.h"
#include "rl/rollout.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using r1::testing::error_of;

using namespace r1::rl::testing;


PromptData prompt_data(const std::string& prompt_template) {
  PromptData data;
  data.path = "p.jsonl";
  data.prompt_template = prompt_template;
  return data;
}

void check(const std::string& prompt_template, const std::string& reward_json) {
  check_format_reward_matches_prompt(prompt_data(prompt_template), RawJson{reward_json}, "r.json: stages[1] (rl)");
}

TEST(FormatRewardCheck, FindsTheFormatRewardInEverySpecFormWithItsDefaults) {
  // The default think_in_prompt (false) read through the options struct: wrong for a prompt ending in <think>.
  for (const std::string reward : {R"("format")", R"("math, format")", R"({"name": "format"})",
                                   R"(["math", {"name": "format", "weight": 0.5}])",
                                   R"({"composite": [{"name": "math"}, {"composite": ["format"]}]})",
                                   R"("[\"math\", {\"name\": \"format\", \"options\": {\"style\": \"r1_zero\"}}]")"}) {
    SCOPED_TRACE(reward);
    const std::string message = error_of([&] { check("r1_zero_think", reward); });
    EXPECT_NE(message.find("r.json: stages[1] (rl): reward"), std::string::npos) << message;
    EXPECT_NE(message.find("reward 'format': the prompt template ends with <think>"), std::string::npos) << message;
    EXPECT_NE(message.find("\"think_in_prompt\": true"), std::string::npos) << message;
    EXPECT_EQ(error_of([&] { check("r1_zero", reward); }), "");
  }
  EXPECT_EQ(error_of([&] { check("r1_zero", R"("math")"); }), "");  // no format reward: nothing to check
}

TEST(FormatRewardCheck, NamesTheFormatRewardsPlaceAndReadsItsOptionsStrictly) {
  const std::string nested =
      R"({"composite": [{"name": "math"}, {"composite": [{"name": "format", "options": {"think_in_prompt": true}}]}]})";
  EXPECT_EQ(error_of([&] { check("r1_zero_think", nested); }), "");
  const std::string message = error_of([&] { check("r1_zero", nested); });
  EXPECT_NE(message.find("r.json: stages[1] (rl): reward.composite[1].composite[0]: reward 'format': the prompt "
                         "template does not end with <think>"),
            std::string::npos)
      << message;
  // A wrong type is an error (it used to count as false), and so is an unknown option.
  EXPECT_NE(error_of([&] { check("r1_zero", R"({"name": "format", "options": {"think_in_prompt": "yes"}})"); })
                .find("reward 'format': option 'think_in_prompt': expected true or false, got string"),
            std::string::npos);
  EXPECT_NE(error_of([&] { check("r1_zero", R"({"name": "format", "options": {"think_in_promt": true}})"); })
                .find("reward 'format': unknown option 'think_in_promt'"),
            std::string::npos);
  // JSON text in a string that does not parse is an error (it used to be skipped without a word).
  EXPECT_NE(error_of([&] { check("r1_zero_think", R"("[\"math\", {\"name\": \"format\"")"); })
                .find("r.json: stages[1] (rl): reward:1:"),
            std::string::npos);
}

// A recipe of one evaluate stage (parsed, never run: its model is never loaded).
std::string evaluate_recipe(const std::string& reward) {
  return R"({"name": "resolve", "seed": 3, "stages": [{"name": "eval", "type": "evaluate", "models": {"m": "/nowhere"},
      "data": {"path": "p.jsonl", "prompt_template": "r1_zero"}, "reward": )" +
         reward + "}]}";
}

TEST(ResolvedRecipe, RewardCarriesEveryDefaultAndResolvesToTheSameTextAgain) {
  const std::string dir = scratch_dir();
  const std::string recipe = dir + "/recipe.json";
  write_text(recipe, evaluate_recipe(R"(["math", {"name": "format", "weight": 0.5, "label": "fmt"}])"));
  RunOptions options;
  options.output_dir = dir + "/run";
  const std::string resolved = resolve_recipe(recipe, options);
  const json::Document doc = json::parse(resolved, "resolved");
  const json::Value& reward = json::get(doc["stages"][0], "reward", "resolved stage");
  EXPECT_EQ(json::dump(reward),
            R"({"composite":[{"name":"math","weight":1.0,"options":{"answer_key":"answer","fallback":true,)"
            R"("answer_tags":true,"after_think":true,"require_answer_tags":false,"percent":"flexible","float_places":6,)"
            R"("timeout_ms":250.0,"score_correct":1.0,"score_wrong":0.0,"score_no_answer":0.0}},)"
            R"({"name":"format","weight":0.5,"label":"fmt","options":{"style":"r1_zero","think_in_prompt":false,)"
            R"("partial_credit":false,"truncated_fails":true}}]})");
  // The resolved recipe is a recipe: it resolves to the same text (but for the "source" it was read from).
  const std::string again_path = dir + "/recipe.resolved.json";
  write_text(again_path, resolved);
  std::string again = resolve_recipe(again_path, options);
  const std::string source_was = "\"source\": \"" + recipe + "\"", source_now = "\"source\": \"" + again_path + "\"";
  ASSERT_NE(again.find(source_now), std::string::npos) << again;
  again.replace(again.find(source_now), source_now.size(), source_was);
  EXPECT_EQ(again, resolved);
  cleanup_if_passed(dir);
}

TEST(ResolvedRecipe, BadRewardOptionsFailWhenTheRecipeIsParsed) {
  const std::string dir = scratch_dir();
  const std::string recipe = dir + "/bad.json";
  write_text(recipe, evaluate_recipe(R"({"composite": ["format", {"name": "math", "options": {"float_places": 20}}]})"));
  RunOptions options;
  options.output_dir = dir + "/run";
  const std::string message = error_of([&] { resolve_recipe(recipe, options); });
  EXPECT_NE(message.find("bad.json: stages[0] (eval): reward.composite[1]: reward 'math': option 'float_places' must "
                         "be in [0, 15], got 20"),
            std::string::npos)
      << message;
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
