// `r1 bench rollout` end to end through the real binary on CPU at tiny sizes: the table and the JSON carry
// one row per --model with the fields the GPU session reads (scripts/session_notes.py, the comparison in
// scripts/hf_rollout_bench.py), every row generates batch x new tokens, and bad options are one-line
// errors. Timings are printed by the command but never checked here. Skipped when the binary is not built.
#include <gtest/gtest.h>

#include "cli_run.h"

#include <filesystem>
#include <string>

#include "common/json.h"

namespace r1::model {
namespace {

namespace fs = std::filesystem;
using r1::testing::CliResult;

class BenchRolloutCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(R1_BINARY)) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
  }
  // Two tiny shapes from the fixtures, one with its layer count overridden.
  const std::string models_ = " --model " + std::string(R1_TEST_DATA) + "/models/qwen2_tiny/config.json --model " +
                              std::string(R1_TEST_DATA) + "/models/deepseek_v3_tiny/config.json:1";
  const std::string sizes_ = " --device cpu --batch 2 --prompt-len 4 --new-tokens 3 --repeat 1 --warmup-tokens 1";
};

TEST_F(BenchRolloutCli, JsonHasOneRowPerModelWithTheSplit) {
  CliResult r = r1::testing::run_r1_cli("bench rollout --json" + models_ + sizes_);
  ASSERT_EQ(r.status, 0) << r.err;
  json::Document doc = json::parse(r.out, "bench rollout --json");
  EXPECT_EQ(json::get_string(doc, "engine", "out"), "r1");
  EXPECT_EQ(json::get_string(doc, "device", "out"), "cpu");
  EXPECT_EQ(json::get_string(doc, "dtype", "out"), "Float");  // auto on CPU
  EXPECT_EQ(json::get_int(doc, "batch", "out"), 2);
  EXPECT_EQ(json::get_int(doc, "new_tokens", "out"), 3);
  const json::Value& rows = json::get(doc, "results", "out");
  ASSERT_TRUE(rows.IsArray());
  ASSERT_EQ(rows.Size(), 2u);
  EXPECT_EQ(json::get_string(rows[0], "model", "row 0"), "qwen2_tiny");
  EXPECT_EQ(json::get_int(rows[0], "layers", "row 0"), 2);
  EXPECT_EQ(json::get_string(rows[1], "model", "row 1"), "deepseek_v3_tiny:1");
  EXPECT_EQ(json::get_int(rows[1], "layers", "row 1"), 1);  // the :1 override
  for (const auto& row : rows.GetArray()) {
    EXPECT_EQ(json::get_int(row, "generated_tokens", "row"), 6);
    EXPECT_GT(json::get_int(row, "parameters", "row"), 0);
    for (const char* key : {"init_s", "prefill_s", "decode_s", "total_s", "tokens_per_s", "decode_tokens_per_s"}) {
      EXPECT_TRUE(json::find(row, key) && json::find(row, key)->IsNumber()) << key;
    }
  }
}

TEST_F(BenchRolloutCli, TablePrintsTheHeaderAndARowPerModel) {
  CliResult r = r1::testing::run_r1_cli("bench rollout" + models_ + sizes_ + " --greedy");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("batch 2, prompt 4, new 3 (no EOS), greedy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| model | variant | layers | parameters | init s | prefill s | decode s | total s | tokens/s |"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n| qwen2_tiny | eager | 2 | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n| deepseek_v3_tiny:1 | eager | 1 | "), std::string::npos) << r.out;
}

TEST_F(BenchRolloutCli, VariantsRunOrAreSkippedWithTheReason) {
  // fp8-static runs on the CPU (the kernels' references); graph needs CUDA; static with dense MoE experts is
  // refused (the experts would read counts on the host); paged needs MLA.
  CliResult r = r1::testing::run_r1_cli("bench rollout --json" + models_ + sizes_ +
                                        " --variant fp8-static --variant graph --variant static --variant paged-eager");
  ASSERT_EQ(r.status, 0) << r.err;
  json::Document doc = json::parse(r.out, "bench rollout --json");
  std::vector<std::string> ran;
  for (const auto& row : json::get(doc, "results", "out").GetArray()) {
    ran.push_back(json::get_string(row, "model", "row") + " " + json::get_string(row, "variant", "row"));
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"qwen2_tiny fp8-static", "qwen2_tiny static", "deepseek_v3_tiny:1 fp8-static",
                                           "deepseek_v3_tiny:1 paged-eager"}));
  EXPECT_NE(r.err.find("variant graph skipped: CUDA graphs need a CUDA device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("deepseek_v3_tiny:1: variant static skipped: the static and graph loops need the MoE experts"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("qwen2_tiny: variant paged-eager skipped: paged is the MLA cache layout"), std::string::npos)
      << r.err;
  CliResult bad = r1::testing::run_r1_cli("bench rollout --variant turbo" + models_ + sizes_);
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("--variant 'turbo': expected [fp8-][paged-](eager|static|graph)"), std::string::npos) << bad.err;
}

TEST_F(BenchRolloutCli, BadOptionsAreOneLineErrors) {
  CliResult bad_layers = r1::testing::run_r1_cli("bench rollout --model x.json:0" + sizes_);
  EXPECT_EQ(bad_layers.status, 1);
  EXPECT_NE(bad_layers.err.find("CONFIG.json:LAYERS"), std::string::npos) << bad_layers.err;
  CliResult missing = r1::testing::run_r1_cli("bench rollout --model /nonexistent/config.json" + sizes_);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  CliResult device = r1::testing::run_r1_cli("bench rollout --device tpu" + models_);
  EXPECT_EQ(device.status, 1);
  EXPECT_NE(device.err.find("--device"), std::string::npos) << device.err;
  CliResult zero = r1::testing::run_r1_cli("bench rollout --new-tokens 0" + models_);
  EXPECT_EQ(zero.status, 1);
  EXPECT_NE(zero.err.find("must be positive"), std::string::npos) << zero.err;
}

}  // namespace
}  // namespace r1::model
