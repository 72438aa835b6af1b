// Training support: gradients reach every parameter that the loss depends on (through both MLA paths, the
// MoE gate, the MTP module), the 4-D additive mask path equals the token-mask path, and bf16 backward runs.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>

#include <cmath>

#include "common/error.h"
#include "model/causal_lm.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

at::Tensor lm_loss(const CausalLM& m, const at::Tensor& ids, const at::Tensor& hidden) {
  const int64_t T = ids.size(1);
  at::Tensor lp = at::log_softmax(m.logits(hidden.narrow(1, 0, T - 1)), -1);
  return -lp.gather(-1, ids.narrow(1, 1, T - 1).unsqueeze(-1)).mean();
}

TEST(Autograd, EveryParameterGetsAGradientIncludingMtp) {
  for (MlaMode mode : {MlaMode::kNaive, MlaMode::kAbsorbed}) {
    auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 4);
    m->set_mla_modes(mode, mode);
    m->set_requires_grad(true);
    at::Tensor ids = at::randint(3, 97, {4, 12}, at::kLong);
    ForwardOutput out = m->forward(ids, {}, {}, true);
    at::Tensor mtp = m->mtp_hidden(out.hidden, ids);
    ASSERT_EQ(mtp.sizes(), (std::vector<int64_t>{4, 11, 32}));
    at::Tensor mtp_lp = at::log_softmax(m->mtp_logits(mtp.narrow(1, 0, 10)), -1);
    at::Tensor mtp_loss = -mtp_lp.gather(-1, ids.narrow(1, 2, 10).unsqueeze(-1)).mean();
    at::Tensor loss = lm_loss(*m, ids, out.hidden) + 0.3 * mtp_loss + 0.01 * out.seq_balance_loss;
    loss.backward();
    int64_t without = 0;
    for (const auto& [name, p] : m->named_parameters()) {
      const bool has = p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
      // A routed expert that no token picked legitimately has no gradient.
      if (!has && name.find(".mlp.experts.") == std::string::npos) ADD_FAILURE() << "no gradient for " << name;
      without += has ? 0 : 1;
    }
    EXPECT_LT(without, 24);  // most experts are used by 48 tokens × 2 picks
    for (const auto& [name, b] : m->named_buffers()) EXPECT_FALSE(b.requires_grad()) << name;
  }
}

TEST(Autograd, AdditiveMaskEqualsTokenMaskAndBf16Backward) {
  auto m = CausalLM::init_random(config_of(testing::tiny_llama_json()), 4);
  at::Tensor ids = at::randint(3, 70, {2, 6}, at::kLong);
  at::Tensor mask = at::ones({2, 6}, at::kLong);
  mask[1][0] = 0;
  mask[1][1] = 0;
  // The equivalent additive bias: causal, padded keys masked, own slot always allowed.
  at::Tensor bias = at::zeros({2, 1, 6, 6});
  for (int b = 0; b < 2; ++b)
    for (int q = 0; q < 6; ++q)
      for (int k = 0; k < 6; ++k)
        if (k > q || (mask[b][k].item<int64_t>() == 0 && k != q)) bias[b][0][q][k] = -INFINITY;
  at::NoGradGuard ng;
  at::Tensor a = m->forward(ids, mask).hidden;
  at::Tensor b = m->forward(ids, bias).hidden;
  EXPECT_TRUE(at::allclose(a, b, 1e-6, 1e-6));
  EXPECT_THROW(m->forward(ids, at::zeros({2, 1, 5, 6})), Error);
}

TEST(Autograd, Bf16BackwardRuns) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json(false, 0)), 4, at::kBFloat16);
  m->set_requires_grad(true);
  at::Tensor ids = at::randint(3, 97, {2, 8}, at::kLong);
  at::Tensor loss = lm_loss(*m, ids, m->forward(ids).hidden);
  loss.backward();
  at::Tensor g = m->tensor("model.layers.0.self_attn.kv_b_proj.weight").grad();
  ASSERT_TRUE(g.defined());
  EXPECT_EQ(g.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::isfinite(g).all().item<bool>());
}

}  // namespace
}  // namespace r1::model
