// Activation checkpointing (model/activation_checkpoint.cpp): with it on, the loss, every parameter's gradient,
// the expert loads and the sequence-wise balance loss equal those of the plain forward/backward — for the tiny
// DeepSeek-V3 model (MLA in both modes, MoE, MTP on top, a packed block-diagonal bias with segment ids) and a
// dense Qwen2 model with a token mask; a forward without grad is not checkpointed; a layer whose input does not
// require grad still runs plainly.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/function.h>

#include <map>
#include <set>
#include <string>

#include "model/causal_lm.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

struct Step {
  double loss = 0;
  std::map<std::string, at::Tensor> grads;
  std::vector<at::Tensor> loads;
};

// One loss + backward on `m` with checkpointing `on`: next-token NLL + 0.3 MTP + 0.01 balance for the V3 model.
Step run_step(CausalLM& m, bool on, const at::Tensor& ids, const at::Tensor& mask, const at::Tensor& segments) {
  m.set_activation_checkpointing(on);
  for (auto& [name, p] : m.named_parameters()) p.mutable_grad() = at::Tensor();
  const int64_t T = ids.size(1);
  const bool moe = m.config().n_routed_experts > 0;
  ForwardOutput out = m.forward(ids, mask, {}, moe, segments);
  at::Tensor lp = at::log_softmax(m.logits(out.hidden.narrow(1, 0, T - 1)), -1);
  at::Tensor loss = -lp.gather(-1, ids.narrow(1, 1, T - 1).unsqueeze(-1)).mean();
  if (m.has_mtp()) {
    at::Tensor mtp = m.mtp_hidden(out.hidden, ids);
    at::Tensor mlp = at::log_softmax(m.mtp_logits(mtp.narrow(1, 0, T - 2)), -1);
    loss = loss - 0.3 * mlp.gather(-1, ids.narrow(1, 2, T - 2).unsqueeze(-1)).mean();
  }
  if (moe) loss = loss + 0.01 * out.seq_balance_loss;
  loss.backward();
  Step s;
  s.loss = loss.item<double>();
  for (auto& [name, p] : m.named_parameters()) {
    if (p.grad().defined()) s.grads[name] = p.grad().clone();
  }
  s.loads = out.expert_load;
  return s;
}

void expect_same_step(const Step& plain, const Step& checkpointed) {
  EXPECT_NEAR(plain.loss, checkpointed.loss, 1e-6 * (1 + std::abs(plain.loss)));
  ASSERT_EQ(plain.grads.size(), checkpointed.grads.size()) << "the same parameters get gradients";
  for (const auto& [name, g] : plain.grads) {
    ASSERT_TRUE(checkpointed.grads.count(name)) << name;
    const double scale = 1 + g.abs().max().item<double>();
    EXPECT_LE((g - checkpointed.grads.at(name)).abs().max().item<double>(), 1e-5 * scale) << name;
  }
  ASSERT_EQ(plain.loads.size(), checkpointed.loads.size());
  for (size_t i = 0; i < plain.loads.size(); ++i) EXPECT_TRUE(at::equal(plain.loads[i], checkpointed.loads[i]));
}

TEST(ActivationCheckpoint, DeepSeekV3GradientsEqualThePlainBackward) {
  for (MlaMode mode : {MlaMode::kNaive, MlaMode::kAbsorbed}) {
    auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 7);
    m->set_mla_modes(mode, mode);
    m->set_requires_grad(true);
    at::manual_seed(3);
    const at::Tensor ids = at::randint(3, 97, {3, 14}, at::kLong);
    // Two packed sequences per row (7 + 7 tokens): block-diagonal causal bias, segment ids 1 and 2.
    const at::Tensor segments = at::cat({at::ones({3, 7}, at::kLong), at::full({3, 7}, 2, at::kLong)}, 1);
    const at::Tensor same = segments.unsqueeze(2) == segments.unsqueeze(1);
    const at::Tensor causal = at::ones({14, 14}, at::kBool).tril();
    const at::Tensor bias = at::zeros({3, 1, 14, 14}, at::kFloat)
                                .masked_fill_((same.logical_and(causal)).logical_not().unsqueeze(1), -INFINITY);
    const Step plain = run_step(*m, false, ids, bias, segments);
    const Step checkpointed = run_step(*m, true, ids, bias, segments);
    EXPECT_GT(plain.grads.size(), 10u);
    expect_same_step(plain, checkpointed);
  }
}

TEST(ActivationCheckpoint, DenseQwen2WithATokenMaskEqualsThePlainBackward) {
  auto m = CausalLM::init_random(config_of(testing::tiny_qwen2_json()), 2);
  m->set_requires_grad(true);
  at::manual_seed(4);
  const at::Tensor ids = at::randint(3, 80, {2, 10}, at::kLong);
  at::Tensor mask = at::ones({2, 10}, at::kLong);
  mask[1].slice(0, 0, 3).fill_(0);  // a left-padded row
  expect_same_step(run_step(*m, false, ids, mask, {}), run_step(*m, true, ids, mask, {}));
}

// The CheckpointedLayer nodes in the autograd graph behind t.
int checkpointed_nodes(const at::Tensor& t) {
  std::vector<torch::autograd::Node*> todo = {t.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  int found = 0;
  while (!todo.empty()) {
    torch::autograd::Node* n = todo.back();
    todo.pop_back();
    if (n == nullptr || !seen.insert(n).second) continue;
    found += n->name().find("CheckpointedLayer") != std::string::npos;
    for (const auto& edge : n->next_edges()) todo.push_back(edge.function.get());
  }
  return found;
}

TEST(ActivationCheckpoint, OnlyForwardsThatRecordGradientsAreCheckpointed) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 5);
  m->set_activation_checkpointing(true);
  const at::Tensor ids = at::randint(3, 97, {2, 8}, at::kLong);
  m->set_requires_grad(false);  // nothing requires grad: the layers run plainly, the output has no graph
  ForwardOutput frozen = m->forward(ids);
  EXPECT_FALSE(frozen.hidden.requires_grad());
  m->set_requires_grad(true);
  {
    at::NoGradGuard no_grad;
    EXPECT_FALSE(m->forward(ids).hidden.requires_grad());
  }
  ForwardOutput out = m->forward(ids);
  ASSERT_TRUE(out.hidden.requires_grad());
  EXPECT_EQ(checkpointed_nodes(out.hidden), 3) << "one checkpointed function per layer in the graph";
  m->set_activation_checkpointing(false);
  EXPECT_EQ(checkpointed_nodes(m->forward(ids).hidden), 0);
  EXPECT_TRUE(at::allclose(out.hidden, frozen.hidden));
}

}  // namespace
}  // namespace r1::model
