// DeepSeekMoE routing and dispatch against hand-computed cases: the correction bias changes which experts
// are picked but not their weights, unselected groups are masked with -inf (a 0.0 fill would pick
// differently in the case built here), top-k normalisation and scaling, V2 softmax routing, the sparse
// dispatch equal to a dense per-token loop, expert loads, the sequence-wise balance loss, bias updates.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "model/causal_lm.h"
#include "model/moe.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

// A 1-token router whose logits are exactly `logits` (H = E, gate = identity, x = logits).
MoeWeights identity_gate(const std::vector<float>& bias) {
  const int64_t E = static_cast<int64_t>(bias.size());
  MoeWeights w;
  w.gate_weight = at::eye(E, at::kFloat);
  w.correction_bias = at::tensor(bias, at::kFloat);
  return w;
}

ModelConfig routing_config(int64_t E, int64_t K, int64_t groups, int64_t topk_groups, bool norm, double scale) {
  ModelConfig c = config_of(testing::tiny_v3_json());
  c.n_routed_experts = E;
  c.num_experts_per_tok = K;
  c.n_group = groups;
  c.topk_group = topk_groups;
  c.norm_topk_prob = norm;
  c.routed_scaling_factor = scale;
  return c;
}

std::vector<int64_t> sorted_indices(const at::Tensor& idx) {
  at::Tensor s = std::get<0>(idx.reshape({-1}).sort());
  return std::vector<int64_t>(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + s.numel());
}

float logit(float p) { return std::log(p / (1 - p)); }

TEST(MoeRouting, BiasPicksExpertsButWeightsComeFromUnbiasedScores) {
  // scores 0.9 0.8 0.7 0.6; the bias lifts expert 3 above expert 1.
  ModelConfig c = routing_config(4, 2, 1, 1, /*norm=*/false, /*scale=*/2.0);
  at::Tensor x = at::tensor({logit(0.9f), logit(0.8f), logit(0.7f), logit(0.6f)}, at::kFloat).unsqueeze(0);
  Routing plain = route_tokens(x, identity_gate({0, 0, 0, 0}), c);
  EXPECT_EQ(sorted_indices(plain.indices), (std::vector<int64_t>{0, 1}));
  Routing biased = route_tokens(x, identity_gate({0, 0, 0, 0.25f}), c);
  EXPECT_EQ(sorted_indices(biased.indices), (std::vector<int64_t>{0, 3}));
  // weights = unbiased sigmoid scores × routed_scaling_factor
  at::Tensor w = biased.weights[0];
  at::Tensor i = biased.indices[0];
  for (int k = 0; k < 2; ++k) {
    const double expected = (i[k].item<int64_t>() == 0 ? 0.9 : 0.6) * 2.0;
    EXPECT_NEAR(w[k].item<double>(), expected, 1e-6);
  }
  // Normalised top-k: weights sum to the scaling factor.
  c.norm_topk_prob = true;
  Routing n = route_tokens(x, identity_gate({0, 0, 0, 0.25f}), c);
  EXPECT_NEAR(n.weights.sum().item<double>(), 2.0, 1e-6);
  EXPECT_NEAR(n.weights[0][0].item<double>() / n.weights[0][1].item<double>(),
              n.indices[0][0].item<int64_t>() == 0 ? 0.9 / 0.6 : 0.6 / 0.9, 1e-5);
}

TEST(MoeRouting, UnselectedGroupsAreMaskedWithMinusInfinity) {
  // 4 experts in 2 groups, 1 group kept, top-2 experts. Biased scores: group A = {0.9, -0.2} (sum 0.7),
  // group B = {0.3, 0.3} (sum 0.6). A is selected, so the top-2 must be {0, 1} even though expert 1's biased
  // score is negative; with a 0.0 fill for group B, expert 2 or 3 (0.0 > -0.2) would be picked instead.
  ModelConfig c = routing_config(4, 2, 2, 1, false, 1.0);
  at::Tensor x = at::tensor({logit(0.9f), logit(0.3f), logit(0.3f), logit(0.3f)}, at::kFloat).unsqueeze(0);
  Routing r = route_tokens(x, identity_gate({0, -0.5f, 0, 0}), c);
  EXPECT_EQ(sorted_indices(r.indices), (std::vector<int64_t>{0, 1}));
}

TEST(MoeRouting, GroupScoreIsTheSumOfTheTopTwo) {
  // Group A = {0.95, 0.1, 0.1}, group B = {0.6, 0.6, 0.0}: max says A, top-2 sum says B (1.2 > 1.05).
  ModelConfig c = routing_config(6, 1, 2, 1, false, 1.0);
  at::Tensor x = at::tensor({logit(0.95f), logit(0.1f), logit(0.1f), logit(0.6f), logit(0.6f), logit(0.01f)}, at::kFloat)
                     .unsqueeze(0);
  Routing r = route_tokens(x, identity_gate({0, 0, 0, 0, 0, 0}), c);
  const int64_t picked = r.indices[0][0].item<int64_t>();
  EXPECT_TRUE(picked == 3 || picked == 4) << picked;
}

TEST(MoeRouting, V2SoftmaxGreedyAndGroupLimited) {
  ModelConfig c = config_of(testing::tiny_v2_json("greedy"));
  c.n_routed_experts = 4;
  c.num_experts_per_tok = 2;
  c.routed_scaling_factor = 3.0;
  MoeWeights w;
  w.gate_weight = at::eye(4, at::kFloat);
  at::Tensor x = at::tensor({2.0f, 1.0f, 0.5f, 1.5f}, at::kFloat).unsqueeze(0);
  Routing r = route_tokens(x, w, c);
  at::Tensor p = at::softmax(x, -1)[0];
  EXPECT_EQ(sorted_indices(r.indices), (std::vector<int64_t>{0, 3}));
  EXPECT_NEAR(r.weights.sum().item<double>(), 3.0 * (p[0] + p[3]).item<double>(), 1e-6);  // no renormalisation
  // group_limited_greedy with groups {0,1} and {2,3}: group scores are maxima (2.0 vs 1.5) → {0, 1}.
  c.topk_method = "group_limited_greedy";
  c.n_group = 2;
  c.topk_group = 1;
  EXPECT_EQ(sorted_indices(route_tokens(x, w, c).indices), (std::vector<int64_t>{0, 1}));
}

TEST(MoeDispatch, SparseDispatchEqualsADenseLoopAndCountsLoads) {
  ModelConfig c = config_of(testing::tiny_v3_json());
  auto m = CausalLM::init_random(c, 3);
  // Make the correction bias non-zero so it matters.
  m->tensor("model.layers.1.mlp.gate.e_score_correction_bias").copy_(at::linspace(-0.2, 0.2, 8));
  auto sd = m->state_dict();
  MoeWeights w;
  const std::string p = "model.layers.1.mlp.";
  w.gate_weight = m->tensor(p + "gate.weight");
  w.correction_bias = m->tensor(p + "gate.e_score_correction_bias");
  for (int e = 0; e < 8; ++e) {
    const std::string q = p + "experts." + std::to_string(e) + ".";
    w.experts.push_back({{m->tensor(q + "gate_proj.weight"), {}}, {m->tensor(q + "up_proj.weight"), {}},
                         {m->tensor(q + "down_proj.weight"), {}}});
  }
  w.has_shared = true;
  w.shared = {{m->tensor(p + "shared_experts.gate_proj.weight"), {}}, {m->tensor(p + "shared_experts.up_proj.weight"), {}},
              {m->tensor(p + "shared_experts.down_proj.weight"), {}}};
  at::Tensor x = at::randn({2, 5, 32});
  at::Tensor valid = at::ones({2, 5}, at::kLong);
  valid[1][0] = 0;
  MoeStats stats;
  at::Tensor out = moe_forward(x, w, c, valid, &stats, true);
  Routing r = route_tokens(x.reshape({10, 32}), w, c);
  int64_t loads[8] = {0};
  for (int64_t t = 0; t < 10; ++t) {
    if (t == 5) continue;  // padded token: not dispatched
    at::Tensor xt = x.reshape({10, 32})[t].unsqueeze(0);
    at::Tensor expected = swiglu_mlp(xt, w.shared);
    for (int k = 0; k < 2; ++k) {
      const int64_t e = r.indices[t][k].item<int64_t>();
      ++loads[e];
      expected = expected + swiglu_mlp(xt, w.experts[static_cast<size_t>(e)]) * r.weights[t][k].item<double>();
    }
    EXPECT_TRUE(at::allclose(out.reshape({10, 32})[t], expected[0], 1e-5, 1e-6)) << "token " << t;
  }
  for (int e = 0; e < 8; ++e) EXPECT_EQ(stats.load[e].item<int64_t>(), loads[e]);
  EXPECT_EQ(stats.load.sum().item<int64_t>(), 9 * 2);
  ASSERT_TRUE(stats.balance_loss.defined());
  // Balance loss by hand: per sequence sum_i f_i P_i.
  double total = 0;
  for (int b = 0; b < 2; ++b) {
    std::vector<double> f(8, 0), P(8, 0);
    const int first = b == 1 ? 1 : 0, T = 5 - first;
    for (int t = first; t < 5; ++t) {
      at::Tensor s = r.scores[b * 5 + t];
      s = s / s.sum();
      for (int e = 0; e < 8; ++e) P[e] += s[e].item<double>() / T;
      for (int k = 0; k < 2; ++k) f[r.indices[b * 5 + t][k].item<int64_t>()] += 8.0 / (2.0 * T);
    }
    for (int e = 0; e < 8; ++e) total += f[e] * P[e] / 2;
  }
  EXPECT_NEAR(stats.balance_loss.item<double>(), total, 1e-5);
}

TEST(MoeBalancing, ForwardReportsLoadsAndBiasUpdatesFollowTheSign) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 5);
  at::Tensor ids = at::randint(3, 97, {3, 7}, at::kLong);
  ForwardOutput out = m->forward(ids, {}, {}, /*seq_balance_loss=*/true);
  ASSERT_EQ(out.expert_load.size(), 2u);  // layers 1 and 2 are MoE
  EXPECT_EQ(m->num_moe_layers(), 2);
  EXPECT_EQ(out.expert_load[0].sum().item<int64_t>(), 3 * 7 * 2);
  EXPECT_TRUE(out.seq_balance_loss.defined());
  EXPECT_GT(out.seq_balance_loss.item<double>(), 0.0);
  at::Tensor load = at::tensor({5, 0, 1, 2, 2, 2, 2, 2}, at::kLong);  // mean 2
  const std::string name = "model.layers.1.mlp.gate.e_score_correction_bias";
  at::Tensor before = m->tensor(name).clone();
  m->update_expert_bias({load, load}, 0.01);
  at::Tensor delta = m->tensor(name) - before;
  EXPECT_NEAR(delta[0].item<double>(), -0.01, 1e-7);  // overloaded → bias down
  EXPECT_NEAR(delta[1].item<double>(), 0.01, 1e-7);   // underloaded → bias up
  EXPECT_NEAR(delta[3].item<double>(), 0.0, 1e-9);    // at the mean → unchanged
  // With the MTP block's load too (3 MoE layers in all), and wrong counts are errors.
  m->update_expert_bias({load, load, load}, 0.01);
  EXPECT_THROW(m->update_expert_bias({load}, 0.01), Error);
  auto v2 = CausalLM::init_random(config_of(testing::tiny_v2_json()), 5);
  EXPECT_THROW(v2->update_expert_bias({at::ones({6}, at::kLong)}, 0.01), Error);
}

}  // namespace
}  // namespace r1::model
