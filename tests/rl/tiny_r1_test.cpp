// The shipped full R1 recipe (recipes/tiny_r1.json), shortened to a few steps per stage, end to end through
// `r1 run`: every stage runs, writes its artefacts, and reads the previous stages' outputs — the resolved
// recipe's stage references, the evaluation's model paths, the rejection-sampled set under the SFT and the
// distillation, the reward model inside all-scenario RL, the chat tokenizer the SFT stages give their models,
// and first losses of fine-tuning stages below a fresh model's (they start from the trained base). What
// the full run learns is measured by the full run (docs/tiny_pipeline.md), not here.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "rewards/registry.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace testing;

// A few steps per stage, small data (about a minute on 2 cores).
const std::vector<std::string> kShort = {
    "--set", "stages.data.corpus_size=2000",          "--set", "stages.data.train_size=200",
    "--set", "stages.data.heldout_size=16",           "--set", "stages.data.fact_documents=100",
    "--set", "stages.data.cold_start_size=40",        "--set", "stages.data.general_train_size=60",
    "--set", "stages.data.preference_size=64",        "--set", "stages.data.preference_heldout_size=16",
    "--set", "stages.base.steps=20",                  "--set", "stages.r1_zero.steps=2",
    "--set", "stages.cold_start.steps=3",             "--set", "stages.reasoning_rl.steps=2",
    "--set", "stages.rs.sources.0.limit=8",           "--set", "stages.rs.exact_ratio=false",
    "--set", "stages.sft.epochs=0.5",                 "--set", "stages.rm.steps=4",
    "--set", "stages.rm.eval_every=2",                "--set", "stages.all_scenario.steps=3",
    "--set", "stages.all_scenario.sources.1.from_step=1", "--set", "stages.student_base.steps=10",
    "--set", "stages.student.epochs=0.5",
};

const char* const kModels[] = {"base", "r1_zero", "cold_start", "reasoning_rl", "sft", "r1", "student"};

TEST(TinyR1, ShortRunFeedsEveryStageIntoTheNextAndWritesTheTable) {
  const std::string dir = scratch_dir(), run = dir + "/run";
  std::vector<std::string> args = {"run", std::string(R1_SOURCE_DIR) + "/recipes/tiny_r1.json", "--output", run, "--quiet"};
  args.insert(args.end(), kShort.begin(), kShort.end());
  const RunResult r = run_r1(args, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;

  // Artefacts of every stage.
  for (const char* f : {"data/corpus.jsonl", "data/train.jsonl", "data/heldout.jsonl", "data/cold_start.jsonl",
                        "data/general_train.jsonl", "data/general_heldout.jsonl", "data/preferences.jsonl",
                        "data/preferences_heldout.jsonl", "tokenizer/tokenizer.json", "rs/sft.jsonl", "rs/stats.json",
                        "rm/eval.json", "rm/final/r1_reward_model.json", "eval/eval.json"}) {
    EXPECT_TRUE(exists(run + "/stages/" + f)) << f;
  }
  for (const char* s : {"base", "r1_zero", "cold_start", "reasoning_rl", "sft", "rm", "all_scenario", "student_base", "student"}) {
    EXPECT_TRUE(exists(run + "/stages/" + s + "/final/model.safetensors")) << s;
    EXPECT_TRUE(exists(run + "/stages/" + s + "/logit_probe.json")) << s;
  }

  // The world: held-out problems and general prompts are never trained on; the cold-start rows are readable
  // (format, one language, correct), as the rewards that later judge the policy see them.
  std::set<std::string> train_questions, trained_general;
  for (const auto& row : read_jsonl(run + "/stages/data/train.jsonl")) train_questions.insert(row["prompt"].GetString());
  for (const char* f : {"general_train.jsonl", "preferences.jsonl"}) {
    for (const auto& row : read_jsonl(run + "/stages/data/" + f)) trained_general.insert(row["prompt"].GetString());
  }
  const std::string corpus = read_text(run + "/stages/data/corpus.jsonl");
  for (const auto& row : read_jsonl(run + "/stages/data/heldout.jsonl")) {
    std::string q = row["prompt"].GetString();
    EXPECT_EQ(train_questions.count(q), 0u) << q;
    if (q.rfind("计算 ", 0) == 0) q = q.substr(std::string("计算 ").size());
    EXPECT_EQ(corpus.find(" " + q), std::string::npos) << q;
  }
  for (const auto& row : read_jsonl(run + "/stages/data/general_heldout.jsonl")) {
    EXPECT_EQ(trained_general.count(row["prompt"].GetString()), 0u) << row["prompt"].GetString();
  }
  const rewards::RewardPtr readable = rewards::Registry::global().make_from_spec(
      R"({"composite": [{"name": "math"}, {"name": "format", "options": {"style": "r1"}}, {"name": "language"}]})");
  for (const auto& row : read_jsonl(run + "/stages/data/cold_start.jsonl")) {
    rewards::Sample sample;
    sample.prompt = row["messages"][0]["content"].GetString();
    sample.completion = row["messages"][1]["content"].GetString();
    sample.row = &row;
    EXPECT_DOUBLE_EQ(readable->score(sample).value, 3.0) << sample.completion;
  }

  // The stage graph of the recipe, as resolved.
  const json::Document resolved = json::parse_file(run + "/recipe.resolved.json");
  const std::map<std::string, std::string> init_of = {
      {"r1_zero", "stage:base"}, {"cold_start", "stage:base"}, {"reasoning_rl", "stage:cold_start"},
      {"rs", "stage:reasoning_rl"}, {"sft", "stage:base"}, {"rm", "stage:sft"}, {"all_scenario", "stage:sft"},
      {"student", "stage:student_base"}};
  size_t checked = 0;
  for (const auto& stage : resolved["stages"].GetArray()) {
    const auto it = init_of.find(stage["name"].GetString());
    if (it == init_of.end()) continue;
    EXPECT_EQ(std::string(stage["model"]["path"].GetString()), it->second) << it->first;
    ++checked;
  }
  EXPECT_EQ(checked, init_of.size());

  // Fine-tuning stages start from the trained base: their first loss is below a fresh model's ~ln(640) (the short
  // base has seen 20 steps; the general replies are new text to it, so the margin is modest).
  for (const char* s : {"cold_start", "sft"}) {
    const auto steps = metrics_by_step(run, s);
    ASSERT_FALSE(steps.empty()) << s;
    EXPECT_LT(steps.begin()->second["loss"].GetDouble(), std::log(640.0) - 0.4) << s;  // fresh: 6.46 ± 0.05
  }

  // The rejection-sampled set holds the general reference replies and is what sft and the student train on.
  const auto rows = read_jsonl(run + "/stages/rs/sft.jsonl");
  size_t general = 0;
  for (const auto& row : rows) general += std::string(row["kind"].GetString()) == "general";
  EXPECT_GT(general, 0u);
  for (const auto& stage : resolved["stages"].GetArray()) {
    const std::string name = stage["name"].GetString();
    if (name == "sft" || name == "student") EXPECT_EQ(std::string(stage["data"].GetString()), "stage:rs/sft.jsonl");
  }

  // The reward model judged the general source inside all-scenario RL.
  const auto all = metrics_by_step(run, "all_scenario");
  ASSERT_EQ(all.size(), 3u);
  bool rm_used = false;
  for (const auto& [step, m] : all) {
    if (m.HasMember("reward/reward_model") && m["source/general/groups"].GetDouble() > 0) rm_used = true;
  }
  EXPECT_TRUE(rm_used) << "no step of all_scenario scored general groups with the reward model";

  // The student is Qwen2-shaped and smaller than the teacher.
  const json::Document student = json::parse_file(run + "/stages/student/final/config.json");
  const json::Document teacher = json::parse_file(run + "/stages/all_scenario/final/config.json");
  EXPECT_EQ(std::string(student["model_type"].GetString()), "qwen2");
  EXPECT_EQ(std::string(teacher["model_type"].GetString()), "deepseek_v3");

  // One table over every model, read from the stages' final directories, with the language and rm_score columns.
  const json::Document eval = json::parse_file(run + "/stages/eval/eval.json");
  const std::map<std::string, std::string> stage_of = {{"base", "base"}, {"r1_zero", "r1_zero"}, {"cold_start", "cold_start"},
                                                        {"reasoning_rl", "reasoning_rl"}, {"sft", "sft"},
                                                        {"r1", "all_scenario"}, {"student", "student"}};
  for (const char* m : kModels) {
    ASSERT_TRUE(eval["models"].HasMember(m)) << m;
    const auto& row = eval["models"][m];
    const std::string path = row["path"].GetString();
    EXPECT_NE(path.find("/stages/" + stage_of.at(m) + "/final"), std::string::npos) << m << ": " << path;
    for (const char* key : {"accuracy", "format_rate", "language", "rm_score"}) {
      ASSERT_TRUE(row.HasMember(key) && row[key].IsNumber()) << m << "." << key;
      EXPECT_TRUE(std::isfinite(row[key].GetDouble())) << m << "." << key;
    }
    EXPECT_TRUE(exists(run + "/stages/eval/completions-" + std::string(m) + ".jsonl")) << m;
    // rm_score is taken over 8 sampled replies per held-out general prompt (the recipe's rm_samples_per_prompt).
    const auto rm_lines = read_jsonl(run + "/stages/eval/completions-" + std::string(m) + "-rm.jsonl");
    EXPECT_EQ(row["rm_completions"].GetInt64(), static_cast<int64_t>(rm_lines.size())) << m;
    EXPECT_TRUE(!rm_lines.empty() && rm_lines.size() % 8 == 0) << m << ": " << rm_lines.size();
  }
  EXPECT_EQ(eval["rm_samples_per_prompt"].GetInt64(), 8);
  EXPECT_NE(r.output.find("rm score"), std::string::npos) << "the table is printed";
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
