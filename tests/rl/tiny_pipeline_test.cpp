// The shipped tiny R1-Zero recipe (recipes/tiny_r1_zero.json), shortened, end to end through `r1 run`:
// data -> tokenizer -> base pretraining -> GRPO -> evaluation. Asserts that the run completes, metrics
// and samples are written, the GRPO reward rises (above step 1's and a stated floor), the evaluation
// writes its table and the RL model's held-out accuracy and format rate rise above the base's by stated
// margins, the final checkpoint reloads to the trainer's exact logits (the probe the trainer wrote from
// its in-memory model), and the RL model's tokenizer carries the ChatML markers so that chat SFT on it
// works with a built-in template.
#include <gtest/gtest.h>

#include <cstdio>

#include "rl/checkpoint.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace testing;

#define TINY_BASE_STEPS "1000"
#define TINY_RL_STEPS "12"
// Mean training reward (accuracy + anchored format, max 2, over the groups dynamic sampling kept) of the
// last 3 steps: above this floor and above step 1's. Measured with these settings on the dev machine
// (deterministic for a given seed and machine): 0.375 at step 1, 1.505 over steps 10-12.
constexpr double TINY_REWARD_LEVEL = 0.9;
// Greedy held-out format rate after the short RL stage: at least this and above the base's. Measured:
// base 0.00 (the base closes its answers in prose), after 12 steps 1.00.
constexpr double TINY_FORMAT_LEVEL = 0.95;
// Greedy held-out accuracy (answers inside <answer> tags) after the short RL stage: at least this and
// above the base's. Measured: base 0.00, after 12 steps 0.61 (default OpenBLAS path). With 700 pretraining
// steps the base computed too little for a safe level (0.06 here, 0.03 with OPENBLAS_CORETYPE=Sandybridge):
// 12 GRPO steps then mostly teach the format.
constexpr double TINY_ACCURACY_LEVEL = 0.2;

// Shorter than the shipped run (which takes ~15 minutes): half the corpus, 12 GRPO steps of 8 groups
// instead of 45 of 16, 100 held-out problems; the base keeps its 1,000 pretraining steps, because a
// shorter one reads too few questions right under the template for RL to show an accuracy gain. The levels asserted below were measured with these settings (see
// docs/tiny_pipeline.md); the shipped run goes much further.
const std::vector<std::string> kShort = {
    "--set", "stages.data.corpus_size=20000",   "--set", "stages.data.heldout_size=100",
    "--set", "stages.base.steps=" TINY_BASE_STEPS, "--set", "stages.base.log_every=50",
    "--set", "stages.rl.steps=" TINY_RL_STEPS,  "--set", "stages.rl.prompts_per_step=8",
    "--set", "stages.rl.samples_every=2",       "--set", "stages.rl.save_every=4",
};

TEST(TinyPipeline, ShortRunCompletesRaisesAccuracyAndFormatAndReloadsExactly) {
  const std::string dir = scratch_dir(), run = dir + "/run";
  std::vector<std::string> args = {"run", std::string(R1_SOURCE_DIR) + "/recipes/tiny_r1_zero.json",
                                   "--output", run, "--quiet"};
  args.insert(args.end(), kShort.begin(), kShort.end());
  RunResult r = run_r1(args, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;

  for (const char* f : {"/recipe.resolved.json", "/metrics.jsonl", "/samples.jsonl", "/state.json",
                        "/stages/eval/eval.json", "/stages/rl/final/config.json", "/stages/rl/final/model.safetensors",
                        "/stages/rl/final/tokenizer.json", "/stages/rl/final/generation_config.json"}) {
    EXPECT_TRUE(exists(run + f)) << f;
  }
  // GRPO metrics: one line per step with the diagnostics; the reward rises above the stated level.
  auto rl = metrics_by_step(run, "rl");
  ASSERT_EQ(rl.size(), static_cast<size_t>(std::stoi(TINY_RL_STEPS)));
  for (const char* key : {"reward", "reward/format", "accuracy", "kl", "entropy", "grad_norm", "lr", "completion_len_mean",
                          "time_rollout_s", "time_update_s", "zero_variance_groups"}) {
    EXPECT_TRUE(rl.begin()->second.HasMember(key)) << key;
  }
  double first = rl.begin()->second["reward"].GetDouble(), last = 0;
  int n = 0;
  for (auto it = rl.rbegin(); it != rl.rend() && n < 3; ++it, ++n) last += it->second["reward"].GetDouble();
  last /= n;
  EXPECT_GT(last, TINY_REWARD_LEVEL) << "GRPO reward too low: first step " << first << ", last 3 steps " << last;
  EXPECT_GT(last, first) << "GRPO reward did not rise: first step " << first << ", last 3 steps " << last;
  std::printf("GRPO reward: step 1 %.3f, last 3 steps %.3f (level %.2f)\n", first, last, TINY_REWARD_LEVEL);

  // The evaluation table covers both models.
  json::Document eval = json::parse_file(run + "/stages/eval/eval.json");
  ASSERT_TRUE(eval["models"].HasMember("base") && eval["models"].HasMember("r1_zero"));
  const double base_accuracy = eval["models"]["base"]["accuracy"].GetDouble();
  const double rl_accuracy = eval["models"]["r1_zero"]["accuracy"].GetDouble();
  EXPECT_GE(rl_accuracy, TINY_ACCURACY_LEVEL) << "base accuracy " << base_accuracy;
  EXPECT_GT(rl_accuracy, base_accuracy) << "RL did not raise the held-out accuracy";
  std::printf("held-out accuracy: base %.3f, after RL %.3f (level %.2f)\n", base_accuracy, rl_accuracy,
              TINY_ACCURACY_LEVEL);
  const double base_format = eval["models"]["base"]["format_rate"].GetDouble();
  const double rl_format = eval["models"]["r1_zero"]["format_rate"].GetDouble();
  EXPECT_GE(rl_format, TINY_FORMAT_LEVEL) << "base format rate " << base_format;
  EXPECT_GT(rl_format, base_format) << "RL did not raise the held-out format rate";
  std::printf("held-out format rate: base %.3f, after RL %.3f (level %.2f)\n", base_format, rl_format,
              TINY_FORMAT_LEVEL);
  EXPECT_NE(r.output.find("r1_zero"), std::string::npos) << "the before/after table is printed";

  // The HF directory reloads to the trainer's in-memory function.
  EXPECT_EQ(check_logit_probe(run + "/stages/rl/logit_probe.json", run + "/stages/rl/final"), 0.0);

  // Chat SFT on the RL model with a built-in template: the recipe's tokenizer has the ChatML markers.
  write_text(dir + "/chat.jsonl",
             R"({"messages": [{"role": "user", "content": "12 + 30"}, {"role": "assistant", "content": "42"}]})" "\n"
             R"({"messages": [{"role": "user", "content": "7 * 3"}, {"role": "assistant", "content": "21"}]})" "\n");
  write_text(dir + "/chat_sft.json", R"({"seed": 1, "stages": [{"name": "sft", "type": "sft",
    "model": {"path": ")" + run + R"(/stages/rl/final"}, "data": ")" + dir + R"(/chat.jsonl",
    "chat_template": "chatml", "steps": 2, "batch_size": 2, "max_len": 64, "threads": 1}]})");
  RunResult sft = run_r1({"run", dir + "/chat_sft.json", "--output", dir + "/chat_run", "--quiet"}, dir + "/chat_log.txt");
  EXPECT_TRUE(sft.exited && sft.code == 0) << sft.output;
}

}  // namespace
}  // namespace r1::rl
