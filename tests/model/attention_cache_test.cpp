// The two MLA paths agree, and incremental decoding through the KV cache (both MLA cache layouts, GQA)
// reproduces the full forward — for every architecture, with left padding, in fp32 and bf16.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>

#include "model/causal_lm.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

std::unique_ptr<CausalLM> make(const std::string& json, uint64_t seed = 7, at::ScalarType dtype = at::kFloat) {
  return CausalLM::init_random(config_of(json), seed, dtype);
}

double rel(const at::Tensor& a, const at::Tensor& b) {
  return ((a.to(at::kDouble) - b.to(at::kDouble)).norm() / b.to(at::kDouble).norm()).item<double>();
}

at::Tensor random_ids(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  at::Generator g = at::detail::createCPUGenerator(seed);
  return at::randint(3, V, {B, T}, g, at::TensorOptions().dtype(at::kLong));
}

TEST(Mla, NaiveAndAbsorbedAgree) {
  for (bool q_lora : {true, false}) {
    for (bool interleave : {true, false}) {
      auto m = make(testing::tiny_v3_json(q_lora, 0, "yarn", interleave));
      at::Tensor ids = random_ids(2, 11, 97, 1);
      at::Tensor mask = at::ones({2, 11}, at::kLong);
      mask.narrow(1, 0, 3)[1].fill_(0);
      at::NoGradGuard ng;
      m->set_mla_modes(MlaMode::kNaive, MlaMode::kNaive);
      at::Tensor a = m->forward(ids, mask).hidden;
      m->set_mla_modes(MlaMode::kAbsorbed, MlaMode::kAbsorbed);
      at::Tensor b = m->forward(ids, mask).hidden;
      // fp32, different association of the same products: ~1e-7.
      EXPECT_LT(rel(b, a), 1e-5) << "q_lora " << q_lora << " interleave " << interleave;
      EXPECT_GT((a - b).abs().max().item<double>(), 0.0);  // really two different computations
    }
  }
  auto v2 = make(testing::tiny_v2_json());
  at::Tensor ids = random_ids(2, 9, 90, 2);
  at::NoGradGuard ng;
  v2->set_mla_modes(MlaMode::kNaive, MlaMode::kNaive);
  at::Tensor a = v2->forward(ids).hidden;
  v2->set_mla_modes(MlaMode::kAbsorbed, MlaMode::kAbsorbed);
  EXPECT_LT(rel(v2->forward(ids).hidden, a), 1e-5);
}

// Prefill a prefix, then feed the rest one token at a time; the hidden states must match the full forward.
// The error is measured per real position; `median_only` judges the median position (bf16 MoE models: a
// rounding difference can flip a token's expert choice, which changes that one position completely).
void check_incremental(CausalLM& m, MlaMode mode, double tol, bool median_only = false) {
  const int64_t B = 3, T = 10, V = m.config().vocab_size;
  at::Tensor ids = random_ids(B, T, V, 3);
  at::Tensor mask = at::ones({B, T}, at::kLong);
  mask[1].narrow(0, 0, 4).fill_(0);  // left padding
  mask[2].narrow(0, 0, 1).fill_(0);
  at::Tensor pos = (mask.cumsum(1) - 1).clamp_min(0);
  at::NoGradGuard ng;
  m.set_mla_modes(MlaMode::kNaive, mode);
  at::Tensor full = m.forward(ids, mask, pos).hidden;  // [B, T, H]
  KVCache cache = m.new_cache(B, T + 2);
  const int64_t P = 6;
  std::vector<at::Tensor> steps{m.forward_cached(ids.narrow(1, 0, P), pos.narrow(1, 0, P), mask.narrow(1, 0, P), cache)};
  for (int64_t t = P; t < T; ++t) {
    steps.push_back(m.forward_cached(ids.narrow(1, t, 1), pos.narrow(1, t, 1), mask.narrow(1, t, 1), cache));
  }
  EXPECT_EQ(cache.length, T);
  at::Tensor inc = at::cat(steps, 1);
  at::Tensor real = mask.to(at::kBool);
  at::Tensor a = inc.index({real}).to(at::kDouble), b = full.index({real}).to(at::kDouble);  // [P, H]
  if (median_only) {
    at::Tensor per_pos = (a - b).norm(2, {1}) / b.norm(2, {1});
    EXPECT_LT(per_pos.median().item<double>(), tol) << m.config().architecture;
  } else {
    EXPECT_LT(rel(a, b), tol) << m.config().architecture;
  }
}

TEST(KvCache, IncrementalDecodingMatchesTheFullForward) {
  for (const std::string& json : {testing::tiny_v3_json(), testing::tiny_v3_json(false, 0, "default"),
                                  testing::tiny_v2_json(), testing::tiny_qwen2_json(), testing::tiny_llama_json()}) {
    auto m = make(json);
    check_incremental(*m, MlaMode::kAbsorbed, 1e-5);
    check_incremental(*m, MlaMode::kNaive, 1e-5);
  }
}

TEST(KvCache, Bf16RunsAndStaysCloseToFp32) {
  auto f32 = make(testing::tiny_v3_json(), 9);
  auto bf16 = make(testing::tiny_v3_json(), 9, at::kBFloat16);
  EXPECT_EQ(bf16->tensor("model.layers.0.self_attn.kv_b_proj.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(bf16->tensor("model.layers.1.mlp.gate.e_score_correction_bias").scalar_type(), at::kFloat);
  at::Tensor ids = random_ids(2, 8, 97, 4);
  at::NoGradGuard ng;
  at::Tensor a = f32->logits(f32->forward(ids).hidden);
  at::Tensor b = bf16->logits(bf16->forward(ids).hidden);
  EXPECT_EQ(b.scalar_type(), at::kFloat);
  // bf16 has an 8-bit mantissa: a few percent relative error over 3 layers, far below a wrong computation.
  EXPECT_LT(rel(b, a), 0.05);
  // Typical per-position bf16 error is 1-3% (measured); a wrong cache would be O(1).
  for (const std::string& json : {testing::tiny_qwen2_json(), testing::tiny_llama_json()}) {
    check_incremental(*make(json, 9, at::kBFloat16), MlaMode::kNaive, 0.05);
  }
  for (const std::string& json : {testing::tiny_v3_json(), testing::tiny_v2_json()}) {
    auto m = make(json, 9, at::kBFloat16);
    check_incremental(*m, MlaMode::kNaive, 0.05, /*median_only=*/true);
    check_incremental(*m, MlaMode::kAbsorbed, 0.05, /*median_only=*/true);
  }
}

TEST(KvCache, KeepRowsDropsFinishedSequences) {
  auto m = make(testing::tiny_qwen2_json());
  KVCache c = m->new_cache(4, 5);
  c.key_valid[2].fill_(true);
  c.keep_rows(at::tensor({0, 2}, at::kLong));
  EXPECT_EQ(c.batch(), 2);
  EXPECT_TRUE(c.key_valid[1].all().item<bool>());
  EXPECT_EQ(c.layers[0].k.size(0), 2);
  EXPECT_GT(c.bytes(), 0);
}

}  // namespace
}  // namespace r1::model
