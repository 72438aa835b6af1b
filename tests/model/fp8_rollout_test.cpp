// FP8 inference on the CPU, through the kernels' references: the linear() seam, the grouped MoE path
// against the dense path on the dequantised weights, and the FP8 rollout copy of a model (generation close
// to the dense model, refreshed from the trainable weights, refused when stale).
//
// Tolerances come from measurements on these tiny shapes: one FP8 linear is 3.6% (‖Δ‖/‖ref‖) away from
// the dense one, 2.5% of it from rounding the activation alone (e4m3 keeps 3 mantissa bits: relative
// rounding error up to 2^-4, ~2-3% RMS); the MoE grouped path is 3.4-3.7% away from the dense path on
// the same (dequantised) weights, its activation being rounded twice (input and SwiGLU output). Bounds are
// about 1.7x the largest measurement.
#include <gtest/gtest.h>

#include "common/error.h"
#include "kernels/fp8_convert.h"
#include "kernels/fp8_gemm.h"
#include "model/moe.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

double rel_error(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  return (x - y).norm().item<double>() / y.norm().item<double>();
}

Linear random_linear(int64_t out, int64_t in, at::ScalarType dtype, bool bias) {
  Linear l;
  l.weight = (at::randn({out, in}) * 0.05).to(dtype);
  if (bias) l.bias = (at::randn({out}) * 0.1).to(dtype);
  return l;
}

TEST(Fp8Linear, CpuPathIsTheKernelReferenceOnTheQuantisedActivation) {
  at::manual_seed(1);
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    Linear l = random_linear(200, 300, dtype, /*bias=*/true);
    EXPECT_EQ(quantize_linear(l), 200 * 300 + 2 * 3 * 4);  // codes + fp32 scales [2, 3]
    ASSERT_TRUE(l.is_fp8());
    EXPECT_EQ(l.fp8.data.scalar_type(), at::kByte);
    EXPECT_EQ(l.fp8.scale.sizes(), at::IntArrayRef({2, 3}));
    const at::Tensor x = at::randn({2, 5, 300}).to(dtype);  // [B, S, K]
    at::NoGradGuard no_grad;
    const at::Tensor y = linear(x, l);                        // [B, S, N]
    ASSERT_EQ(y.sizes(), at::IntArrayRef({2, 5, 200}));
    ASSERT_EQ(y.scalar_type(), dtype);
    const at::Tensor ref = kernels::fp8_gemm_reference(kernels::quantize_act_1x128(x.reshape({10, 300})),
                                                       kernels::quantize_weight_128x128(l.weight), dtype) + l.bias;
    EXPECT_TRUE(at::equal(y.reshape({10, 200}), ref)) << dtype;
  }
}

TEST(Fp8Linear, StaysWithinFp8ErrorOfTheDenseLinear) {
  at::manual_seed(2);
  for (int64_t K : {32, 300, 1000}) {
    Linear l = random_linear(96, K, at::kFloat, false);
    const at::Tensor x = at::randn({7, K});
    const at::Tensor dense = at::linear(x, l.weight);
    quantize_linear(l);
    const at::Tensor dequantised = at::linear(x, kernels::dequantize_weight(l.fp8, at::kFloat));
    at::NoGradGuard no_grad;
    const at::Tensor y = linear(x, l);
    EXPECT_LT(rel_error(y, dense), 0.06) << K;        // weight and activation rounding (measured 3.6%)
    EXPECT_LT(rel_error(y, dequantised), 0.045) << K; // activation rounding alone (measured 2.2-2.6%)
    EXPECT_GT(rel_error(y, dense), 1e-3) << K;        // it is the FP8 path, not the dense one
  }
}

TEST(Fp8Linear, DenseWeightsKeepTheirPathAndRequantisingIsInPlace) {
  at::manual_seed(3);
  Linear l = random_linear(64, 48, at::kFloat, true);
  const at::Tensor x = at::randn({3, 48});
  EXPECT_TRUE(at::equal(linear(x, l), at::linear(x, l.weight, l.bias)));  // bit for bit what it was
  quantize_linear(l);
  const void* codes = l.fp8.data.data_ptr();
  const at::Tensor before = l.fp8.data.clone();
  {
    at::NoGradGuard no_grad;
    l.weight.mul_(-1);
  }
  quantize_linear(l);
  EXPECT_EQ(l.fp8.data.data_ptr(), codes);  // same storage: a captured CUDA graph keeps reading it
  EXPECT_FALSE(at::equal(l.fp8.data, before));
  EXPECT_TRUE(at::equal(l.fp8.data, kernels::quantize_weight_128x128(l.weight).data));
}

TEST(Fp8Linear, UnsupportedCombinationsAreErrors) {
  at::manual_seed(4);
  Linear l = random_linear(16, 32, at::kFloat, false);
  quantize_linear(l);
  at::NoGradGuard no_grad;
  EXPECT_THROW(linear(at::randn({2, 32}).to(at::kHalf), l), Error);  // fp16 activations
  EXPECT_THROW(linear(at::randn({2, 31}), l), Error);                // width mismatch
  at::GradMode::set_enabled(true);
  EXPECT_THROW(linear(at::randn({2, 32}).requires_grad_(), l), Error);  // no autograd through FP8
  at::GradMode::set_enabled(false);
}

// A random MoE layer of the config, its FP8 form, and the dense layer on the dequantised FP8 weights.
struct MoeTriple {
  MoeWeights dense, fp8, dequantised;
};

MoeTriple random_moe(const ModelConfig& c) {
  const int64_t E = c.n_routed_experts, H = c.hidden_size, I = c.moe_intermediate_size;
  auto mlp = [&](int64_t width) {
    return MlpWeights{{at::randn({width, H}) * 0.2, {}, {}}, {at::randn({width, H}) * 0.2, {}, {}},
                      {at::randn({H, width}) * 0.2, {}, {}}};
  };
  MoeTriple t;
  t.dense.gate_weight = at::randn({E, H}) * 0.2;
  if (c.scoring_func == "sigmoid") t.dense.correction_bias = at::randn({E}) * 0.1;  // V3: bias picks experts
  for (int64_t e = 0; e < E; ++e) t.dense.experts.push_back(mlp(I));
  t.dense.has_shared = true;
  t.dense.shared = mlp(I * c.n_shared_experts);
  t.fp8 = t.dense;
  EXPECT_GT(quantize_experts(t.fp8), 0);
  EXPECT_EQ(t.fp8.fp8.gate_up.data.sizes(), at::IntArrayRef({E, 2 * I, H}));
  EXPECT_EQ(t.fp8.fp8.down.data.sizes(), at::IntArrayRef({E, H, I}));
  t.dequantised = t.dense;
  for (int64_t e = 0; e < E; ++e) {
    const at::Tensor gu = kernels::dequantize_weight({t.fp8.fp8.gate_up.data[e], t.fp8.fp8.gate_up.scale[e]}, at::kFloat);
    MlpWeights& m = t.dequantised.experts[static_cast<size_t>(e)];
    m.gate.weight = gu.narrow(0, 0, I);
    m.up.weight = gu.narrow(0, I, I);
    m.down.weight = kernels::dequantize_weight({t.fp8.fp8.down.data[e], t.fp8.fp8.down.scale[e]}, at::kFloat);
  }
  return t;
}

// (config, tokens per row): 1 = a decode step (masked layout), 9 = a prefill (contiguous layout).
class Fp8Moe : public ::testing::TestWithParam<std::tuple<std::string, int64_t>> {};

TEST_P(Fp8Moe, GroupedPathMatchesTheDensePathOnTheDequantisedWeights) {
  const ModelConfig c = config_of(std::get<0>(GetParam()));
  const int64_t T = std::get<1>(GetParam()), B = 5;
  ASSERT_TRUE(c.n_group > 1 && c.topk_group < c.n_group);  // group-limited routing
  at::manual_seed(5);
  const MoeTriple t = random_moe(c);
  const at::Tensor x = at::randn({B, T, c.hidden_size});  // [B, T, H]
  at::Tensor valid = at::ones({B, T}, at::kBool);
  if (T > 1) valid[0][0] = false;  // a pad: not routed, not counted
  at::NoGradGuard no_grad;
  MoeStats ds, fs;
  const at::Tensor want = moe_forward(x, t.dequantised, c, valid, &ds, false);
  const at::Tensor got = moe_forward(x, t.fp8, c, valid, &fs, false);
  EXPECT_LT(rel_error(got, want), 0.065);                  // activation rounding (measured 3.4-3.7%)
  EXPECT_GT(rel_error(got, want), 1e-3);                    // the FP8 path ran
  EXPECT_LT(rel_error(got, moe_forward(x, t.dense, c, valid, nullptr, false)), 0.09);  // + weight rounding (5.4%)
  EXPECT_TRUE(at::equal(fs.load, ds.load)) << fs.load << ds.load;  // same routing, padding excluded
  EXPECT_EQ(fs.load.sum().item<int64_t>(), valid.sum().item<int64_t>() * c.num_experts_per_tok);
  if (T > 1) EXPECT_TRUE(at::equal(got[0][0], want[0][0]));  // a pad gets the shared experts only
  EXPECT_THROW(moe_forward(x, t.fp8, c, valid, &fs, /*want_balance_loss=*/true), Error);
}

INSTANTIATE_TEST_SUITE_P(V3AndV2, Fp8Moe,
                         ::testing::Combine(::testing::Values(testing::tiny_v3_json(), testing::tiny_v2_json()),
                                            ::testing::Values(int64_t{1}, int64_t{9})));

}  // namespace
}  // namespace r1::model
