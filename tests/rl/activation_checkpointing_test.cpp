// The recipe key activation_checkpointing (model/activation_checkpoint.cpp): a pretrain → grpo run with it on
// in both stages ends with the weights of the same run with it off (the recomputed layers give the same
// gradients; the largest difference allowed, 1e-5, is float noise), and the resolved recipe shows the key.
#include <gtest/gtest.h>

#include "model/safetensors.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;

std::string recipe(const std::string& dir, bool on) {
  write_corpus_and_prompts(dir);
  const std::string flag = on ? "true" : "false";
  const std::string path = dir + "/ckpt_" + flag + ".json";
  write_text(path, R"({"seed": 4, "stages": [
    {"name": "base", "type": "pretrain", "model": )" + tiny_model_json() + R"(, "data": ")" + dir +
                       R"(/corpus.jsonl", "steps": 3, "batch_size": 4, "max_len": 32, "mtp_weight": 0.3,
     "moe": {"seq_aux_alpha": 0.01}, "optim": {"lr": 0.003}, "threads": 1, "activation_checkpointing": )" + flag + R"(},
    {"name": "rl", "type": "grpo", "model": {"path": "stage:base"},
     "data": {"path": ")" + dir + R"(/prompts.jsonl", "prompt_template": "plain"},
     "reward": {"composite": [{"name": "math"}, {"name": "cosine_length", "options": {"max_length": 10}}]},
     "sampling": {"max_new_tokens": 10}, "steps": 2, "prompts_per_step": 2, "group_size": 4, "epochs": 2,
     "dapo": {"dynamic_sampling": false}, "optim": {"lr": 0.01, "eps": 1e-5}, "threads": 1, "reward_threads": 1,
     "activation_checkpointing": )" + flag + "}]}");
  return path;
}

TEST(ActivationCheckpointing, ARunWithItEndsWithTheWeightsOfARunWithout) {
  const std::string dir = scratch_dir();
  const RunResult off = run_r1({"run", recipe(dir, false), "--output", dir + "/off", "--quiet"}, dir + "/off.log");
  ASSERT_TRUE(off.exited && off.code == 0) << off.output;
  const RunResult on = run_r1({"run", recipe(dir, true), "--output", dir + "/on", "--quiet"}, dir + "/on.log");
  ASSERT_TRUE(on.exited && on.code == 0) << on.output;
  EXPECT_NE(read_text(dir + "/on/recipe.resolved.json").find("\"activation_checkpointing\": true"), std::string::npos);
  for (const std::string stage : {"base", "rl"}) {
    model::SafetensorsFile a(dir + "/off/stages/" + stage + "/final/model.safetensors");
    model::SafetensorsFile b(dir + "/on/stages/" + stage + "/final/model.safetensors");
    for (const auto& info : a.tensors()) {
      const at::Tensor x = a.load(info.name), y = b.load(info.name);
      EXPECT_LE((x - y).abs().max().item<double>(), 1e-5) << stage << " " << info.name;
    }
  }
  EXPECT_EQ(read_text(dir + "/off/samples.jsonl"), read_text(dir + "/on/samples.jsonl")) << "the same samples";
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
