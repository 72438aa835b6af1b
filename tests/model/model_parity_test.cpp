// Parity of r1's models with HF transformers 5.17 on the golden fixtures (tests/fixtures/models, made by
// ../shared/fixtures/generator/make_fixtures.py): fp32 logits on every unpadded position within a relative
// error of 1e-4, token log-probs within 1e-4, and the greedy continuation (16 new tokens from row 0's first
// 12 ids, stopping at EOS) identical — for every model, through both MLA paths (naive and absorbed) in the
// forward and in the cached generation.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>

#include <cstdio>
#include <string>

#include "model/causal_lm.h"
#include "model/generate.h"
#include "model/safetensors.h"

namespace r1::model {
namespace {

const std::string kModels = std::string(R1_TEST_DATA) + "/models/";

struct Reference {
  at::Tensor input_ids, attention_mask, logits, token_logprobs, greedy_ids;
};

Reference load_reference(const std::string& name) {
  SafetensorsFile f(kModels + name + "/reference.safetensors");
  return {f.load("input_ids"), f.load("attention_mask"), f.load("logits"), f.load("token_logprobs"),
          f.load("greedy_ids")};
}

// ||a - b|| / ||b|| over the positions where mask == 1.
double masked_relative_error(const at::Tensor& a, const at::Tensor& b, const at::Tensor& mask) {
  at::Tensor keep = mask.to(at::kBool);
  at::Tensor da = a.index({keep}), db = b.index({keep});  // [P, V]
  return ((da - db).norm() / db.norm()).item<double>();
}

class ModelParity : public ::testing::TestWithParam<std::tuple<std::string, MlaMode>> {};

TEST_P(ModelParity, LogitsLogprobsAndGreedyMatchHF) {
  const auto& [name, mode] = GetParam();
  auto model = CausalLM::load(kModels + name);
  model->set_mla_modes(mode, mode);
  Reference ref = load_reference(name);

  at::NoGradGuard no_grad;
  ForwardOutput out = model->forward(ref.input_ids, ref.attention_mask);
  at::Tensor logits = model->logits(out.hidden);  // [3, 24, V]
  ASSERT_EQ(logits.sizes(), ref.logits.sizes());
  // Tolerance 1e-4 (acceptance): fp32 on both sides, differences are summation order only (~1e-6 seen).
  const double rel = masked_relative_error(logits, ref.logits, ref.attention_mask);
  EXPECT_LT(rel, 1e-4) << name;

  at::Tensor ids = ref.input_ids;
  at::Tensor lp = at::log_softmax(logits.narrow(1, 0, 23), -1).gather(-1, ids.narrow(1, 1, 23).unsqueeze(-1)).squeeze(-1);
  // Positions whose context and target are both real tokens.
  at::Tensor real = at::logical_and(ref.attention_mask.narrow(1, 0, 23), ref.attention_mask.narrow(1, 1, 23));
  at::Tensor diff = (lp - ref.token_logprobs).abs().index({real});
  EXPECT_LT(diff.max().item<double>(), 1e-4) << name;
  std::printf("  %s: logits relative error %.2e, max token log-prob error %.2e\n", name.c_str(), rel,
              diff.max().item<double>());

  GenerationConfig g;
  g.greedy = true;
  g.max_new_tokens = 16;
  g.eos_ids = model->config().eos_token_id;
  auto res = generate(*model, ids.narrow(0, 0, 1).narrow(1, 0, 12), ref.attention_mask.narrow(0, 0, 1).narrow(1, 0, 12), g);
  ASSERT_EQ(res.size(), 1u);
  std::vector<int64_t> got(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + 12);
  got.insert(got.end(), res[0].tokens.begin(), res[0].tokens.end());
  at::Tensor want = ref.greedy_ids.reshape({-1});
  std::vector<int64_t> expected(want.data_ptr<int64_t>(), want.data_ptr<int64_t>() + want.numel());
  EXPECT_EQ(got, expected) << name;
  // Log-probs of the greedy tokens are those of a full forward over the final sequence.
  at::Tensor seq = at::tensor(got, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
  at::Tensor full = at::log_softmax(model->logits(model->forward(seq).hidden), -1);  // [1, L, V]
  for (size_t i = 0; i < res[0].tokens.size(); ++i) {
    const int64_t pos = 12 + static_cast<int64_t>(i);
    EXPECT_NEAR(res[0].logprobs[i], full[0][pos - 1][got[static_cast<size_t>(pos)]].item<double>(), 1e-4) << name << " token " << i;
  }
}

std::string param_name(const ::testing::TestParamInfo<ModelParity::ParamType>& info) {
  return std::get<0>(info.param) + (std::get<1>(info.param) == MlaMode::kNaive ? "_naive" : "_absorbed");
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ModelParity,
    ::testing::Combine(::testing::Values("deepseek_v3_tiny", "deepseek_v3_tiny_norope_scaling", "qwen2_tiny", "llama3_tiny"),
                       ::testing::Values(MlaMode::kNaive, MlaMode::kAbsorbed)),
    param_name);

}  // namespace
}  // namespace r1::model
