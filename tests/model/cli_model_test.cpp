// `r1 info`, `r1 logits`, `r1 generate` end to end through the real binary: logits and token log-probs of a
// fixture match the HF reference, greedy generation from a file reproduces HF's greedy ids, --prompt decodes
// through the model directory's tokenizer, bad inputs are one-line errors. Skipped when the binary has not
// been built (this suite's target does not depend on it; scripts/test.sh builds everything first).
#include <gtest/gtest.h>

#include "cli_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "common/fs.h"
#include "model/causal_lm.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

namespace fs = std::filesystem;

using Result = r1::testing::CliResult;
Result run(const std::string& args) { return r1::testing::run_r1_cli(args); }

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(R1_BINARY)) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
    dir_ = (fs::temp_directory_path() / ("r1_cli_model_" + std::to_string(::getpid()))).string();
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
  const std::string models_ = std::string(R1_TEST_DATA) + "/models/";
};

TEST_F(ModelCli, InfoReportsArchitectureAndCounts) {
  Result r = run("info " + models_ + "deepseek_v3_tiny");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("DeepseekV3ForCausalLM"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("239,280 total"), std::string::npos) << r.out;  // reference.json's n_params
  EXPECT_NE(r.out.find("activated per token"), std::string::npos);
  Result bad = run("info " + dir_ + "/missing");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("error: "), std::string::npos);
}

TEST_F(ModelCli, LogitsMatchTheReference) {
  for (const char* name : {"deepseek_v3_tiny", "llama3_tiny"}) {
    const std::string fixture = models_ + name;
    const std::string out = dir_ + "/out.safetensors";
    Result r = run("logits --model " + fixture + " --input " + fixture + "/reference.safetensors --output " + out);
    ASSERT_EQ(r.status, 0) << r.err;
    SafetensorsFile got(out), ref(fixture + "/reference.safetensors");
    at::Tensor mask = ref.load("attention_mask").to(at::kBool);
    at::Tensor a = got.load("logits").index({mask}), b = ref.load("logits").index({mask});
    EXPECT_LT(((a - b).norm() / b.norm()).item<double>(), 1e-4) << name;
    at::Tensor real = at::logical_and(mask.narrow(1, 0, 23), mask.narrow(1, 1, 23));
    at::Tensor d = (got.load("token_logprobs") - ref.load("token_logprobs")).abs().index({real});
    EXPECT_LT(d.max().item<double>(), 1e-4) << name;
  }
  // An input without input_ids, and ids outside the vocabulary, are located errors.
  save_safetensors(dir_ + "/bad.safetensors", {{"ids", at::zeros({1, 3}, at::kLong)}});
  Result r = run("logits --model " + models_ + "qwen2_tiny --input " + dir_ + "/bad.safetensors --output " + dir_ + "/o");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("missing tensor 'input_ids'"), std::string::npos) << r.err;
  save_safetensors(dir_ + "/big.safetensors", {{"input_ids", at::full({1, 3}, 5000, at::kLong)}});
  r = run("logits --model " + models_ + "qwen2_tiny --input " + dir_ + "/big.safetensors --output " + dir_ + "/o");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("input_ids"), std::string::npos) << r.err;
}

TEST_F(ModelCli, GreedyGenerationFromAFileReproducesHF) {
  const std::string fixture = models_ + "deepseek_v3_tiny_norope_scaling";
  SafetensorsFile ref(fixture + "/reference.safetensors");
  at::Tensor prompt = ref.load("input_ids").narrow(0, 0, 1).narrow(1, 0, 12).contiguous();
  save_safetensors(dir_ + "/in.safetensors", {{"input_ids", prompt}});
  Result r = run("generate --model " + fixture + " --input " + dir_ + "/in.safetensors --greedy --max-new-tokens 16 --output " +
                 dir_ + "/gen.safetensors");
  ASSERT_EQ(r.status, 0) << r.err;
  SafetensorsFile gen(dir_ + "/gen.safetensors");
  EXPECT_TRUE(at::equal(gen.load("sequences"), ref.load("greedy_ids")));
  EXPECT_EQ(gen.load("new_tokens")[0].item<int64_t>(), 16);
}

TEST_F(ModelCli, PromptGenerationUsesTheTokenizer) {
  // A random Qwen2-shaped model over the fixture tokenizer's 3000 ids, saved with the tokenizer files.
  std::string cfg = testing::tiny_qwen2_json();
  cfg.replace(cfg.find("\"vocab_size\": 80"), 16, "\"vocab_size\": 3008");
  auto m = CausalLM::init_random(testing::config_of(cfg), 1);
  m->save(dir_ + "/model", std::string(R1_TEST_DATA) + "/tokenizers/bpe_qwen2_regex");
  Result r = run("generate --model " + dir_ + "/model --prompt 'Hello world' --max-new-tokens 6 --seed 5");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_NE(r.err.find("finish: "), std::string::npos) << r.err;
  Result again = run("generate --model " + dir_ + "/model --prompt 'Hello world' --max-new-tokens 6 --seed 5");
  EXPECT_EQ(again.out, r.out);  // same seed, same text
  Result both = run("generate --model " + dir_ + "/model --prompt x --input y");
  EXPECT_NE(both.status, 0);
}

}  // namespace
}  // namespace r1::model
