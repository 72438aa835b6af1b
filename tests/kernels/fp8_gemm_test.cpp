// FP8 block-scaled GEMM: the CPU reference against dequantise-then-matmul in fp64 (runs everywhere),
// and the CUDA kernels against the reference (skipped without a GPU).
//
// Tolerances, with their reasons:
// - reference vs fp64 dequantised product: < 1e-5 relative. Both sum the same exact fp32 products; the
//   reference only rounds its fp32 partial sums (K <= 1024 here: ~1e-7 per add).
// - CUDA fp32 output vs reference: < 1e-3 relative (the bound). wgmma keeps ~14 mantissa bits
//   inside one 128-wide block (DeepSeek-V3 report, section 3.3.2), so a few 1e-5 are expected.
// - CUDA bf16 output: exactly the kernel's own fp32 output rounded to bf16 (both come from the same fp32
//   totals; only the store differs), which with the line above pins it to the reference. A 1e-3 norm
//   bound against the fp32 reference would be wrong by construction: bf16 rounding alone is ~1.6e-3 RMS.
//   (An elementwise one-ulp bound against the reference fails near zero, where wgmma's ~14-bit
//   in-block accumulation leaves absolute errors of ~1e-4 of the output scale.)
#include <gtest/gtest.h>

#include <tuple>

#include "common/error.h"
#include "kernel_test_util.h"
#include "kernels/fp8_gemm.h"

namespace r1::kernels {
namespace {

using testing::rel_error;

// decode(A) * expanded scales, fp64: the "dequantise, then multiply" oracle.
at::Tensor dequantised_product(const Fp8Blocks& a, const Fp8Blocks& b) {
  const at::Tensor ad = dequantize_act_1x128(a, at::kFloat).to(at::kDouble);     // [M, K]
  const at::Tensor bd = dequantize_weight_128x128(b, at::kFloat).to(at::kDouble);  // [N, K]
  return at::matmul(ad, bd.t());                                                // [M, N]
}

TEST(Fp8GemmReference, MatchesDequantisedProductAtBlockBoundaries) {
  at::Generator gen = testing::make_gen(11);
  // K at, just under and just over block edges; N and M ragged.
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {7, 130, 127}, {64, 128, 128},
                         {33, 257, 129}, {5, 200, 256}, {16, 96, 300}, {3, 384, 1024}}) {
    const Fp8Blocks a = testing::random_act(M, K, gen), b = testing::random_weight(N, K, gen);
    const at::Tensor ref = fp8_gemm_reference(a, b, at::kFloat);
    ASSERT_EQ(ref.sizes(), (at::IntArrayRef{M, N}));
    EXPECT_LT(rel_error(ref, dequantised_product(a, b)), 1e-5) << "M=" << M << " N=" << N << " K=" << K;
  }
}

TEST(Fp8GemmReference, UsesEveryScaleBlock) {
  // Doubling one K block's scale for one row must change exactly that row; doubling one B block's
  // scale must change exactly that block's 128 output columns.
  at::Generator gen = testing::make_gen(12);
  const Fp8Blocks a = testing::random_act(4, 384, gen), b = testing::random_weight(256, 384, gen);
  const at::Tensor base = fp8_gemm_reference(a, b, at::kFloat);
  Fp8Blocks a2{a.data, a.scale.clone()};
  a2.scale[2][1].mul_(2);
  const at::Tensor diff_a = (fp8_gemm_reference(a2, b, at::kFloat) - base).abs().sum(1);  // [M]
  EXPECT_GT(diff_a[2].item<float>(), 0);
  EXPECT_EQ(diff_a[0].item<float>() + diff_a[1].item<float>() + diff_a[3].item<float>(), 0);
  Fp8Blocks b2{b.data, b.scale.clone()};
  b2.scale[1][2].mul_(2);
  const at::Tensor diff_b = (fp8_gemm_reference(a, b2, at::kFloat) - base).abs().sum(0);  // [N]
  EXPECT_EQ(diff_b.narrow(0, 0, 128).sum().item<float>(), 0);
  EXPECT_GT(diff_b.narrow(0, 128, 128).min().item<float>(), 0);
}

TEST(Fp8GemmReference, Bf16OutputIsTheRoundedFp32Result) {
  at::Generator gen = testing::make_gen(13);
  const Fp8Blocks a = testing::random_act(9, 256, gen), b = testing::random_weight(40, 256, gen);
  const at::Tensor f32 = fp8_gemm_reference(a, b, at::kFloat);
  const at::Tensor bf = fp8_gemm_reference(a, b, at::kBFloat16);
  EXPECT_EQ(bf.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(bf, f32.to(at::kBFloat16)));
}

TEST(Fp8GemmReference, RejectsMismatchedInputs) {
  at::Generator gen = testing::make_gen(14);
  const Fp8Blocks a = testing::random_act(4, 256, gen), b = testing::random_weight(8, 256, gen);
  const Fp8Blocks short_k = testing::random_weight(8, 128, gen);
  EXPECT_THROW(fp8_gemm(a, short_k), Error);
  EXPECT_THROW(fp8_gemm(a, Fp8Blocks{b.data, b.scale.narrow(1, 0, 1)}), Error);          // scale blocks
  EXPECT_THROW(fp8_gemm(Fp8Blocks{a.data.to(at::kFloat), a.scale}, b), Error);            // not codes
  EXPECT_THROW(fp8_gemm(Fp8Blocks{a.data, a.scale.to(at::kDouble)}, b), Error);           // scale dtype
  EXPECT_THROW(fp8_gemm(a, b, Fp8GemmOptions{at::kHalf}), Error);                         // out dtype
  try {
    fp8_gemm(a, short_k);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp8_gemm"), std::string::npos) << e.what();
  }
}

TEST(Fp8GemmReference, CpuDispatchRunsTheReference) {
  at::Generator gen = testing::make_gen(15);
  const Fp8Blocks a = testing::random_act(3, 130, gen), b = testing::random_weight(5, 130, gen);
  const at::Tensor ref = fp8_gemm_reference(a, b, at::kFloat);
  EXPECT_TRUE(at::equal(fp8_gemm(a, b, {at::kFloat}), ref));
  at::Tensor out = testing::poisoned({3, 5}, at::kFloat, at::Device(at::kCPU));
  EXPECT_TRUE(at::equal(fp8_gemm(a, b, {at::kFloat}, out), ref));
  EXPECT_TRUE(at::equal(out, ref));  // written in place
  EXPECT_THROW(fp8_gemm(a, b, {at::kFloat}, at::empty({3, 4})), Error);                  // wrong shape
  EXPECT_THROW(fp8_gemm(a, b, {at::kFloat}, at::empty({3, 5}, at::kBFloat16)), Error);   // wrong dtype
}

// ---- CUDA parity ----

struct GemmCase {
  int64_t M, N, K;
};

void expect_cuda_parity(const GemmCase& c, Fp8GemmPath path, int64_t split_k, uint64_t seed) {
  at::Generator gen = testing::make_gen(seed);
  const Fp8Blocks a = testing::random_act(c.M, c.K, gen), b = testing::random_weight(c.N, c.K, gen);
  const at::Tensor ref = fp8_gemm_reference(a, b, at::kFloat);
  const at::Device cuda(at::kCUDA);
  const Fp8Blocks ad = testing::to_device(a, cuda), bd = testing::to_device(b, cuda);
  const std::string what = str_cat("M=", c.M, " N=", c.N, " K=", c.K, " path=", static_cast<int>(path),
                                   " split_k=", split_k);
  // Outputs poisoned with NaN first, so an element the kernel never writes fails the comparison.
  const at::Tensor f32 = fp8_gemm(ad, bd, {at::kFloat, path, split_k}, testing::poisoned({c.M, c.N}, at::kFloat, cuda));
  EXPECT_LT(rel_error(f32, ref), 1e-3) << what;
  const at::Tensor bf =
      fp8_gemm(ad, bd, {at::kBFloat16, path, split_k}, testing::poisoned({c.M, c.N}, at::kBFloat16, cuda));
  EXPECT_EQ(bf.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(bf.cpu(), f32.cpu().to(at::kBFloat16))) << what;
  EXPECT_LT(rel_error(bf, ref), 4e-3) << what;  // bf16 rounding (~1.6e-3 RMS) plus the fp32 error
}

const GemmCase kCases[] = {
    {1, 128, 128},    {64, 2112, 7168 / 8}, {128, 576, 1536}, {200, 1000, 512},  // tails in M and N
    {4096 / 8, 256, 256}, {17, 33, 16},   {130, 300, 144},   {256, 384, 2048},  // K = 144: 1 + 1/8 blocks
};

TEST(Fp8GemmCuda, TensorCorePathMatchesReference) {
  R1_REQUIRE_CUDA();
  uint64_t seed = 100;
  for (const GemmCase& c : kCases) expect_cuda_parity(c, Fp8GemmPath::kTensorCore, 1, seed++);
}

TEST(Fp8GemmCuda, SimplePathMatchesReference) {
  R1_REQUIRE_CUDA();
  uint64_t seed = 200;
  for (const GemmCase& c : kCases) expect_cuda_parity(c, Fp8GemmPath::kSimple, 1, seed++);
  expect_cuda_parity({9, 70, 100}, Fp8GemmPath::kSimple, 1, seed++);  // K % 16 != 0: simple path only
}

TEST(Fp8GemmCuda, SplitKMatchesReference) {
  R1_REQUIRE_CUDA();
  expect_cuda_parity({64, 2112, 7168}, Fp8GemmPath::kTensorCore, 7, 300);
  expect_cuda_parity({128, 512, 1024}, Fp8GemmPath::kTensorCore, 3, 301);  // uneven split of 8 blocks
  expect_cuda_parity({64, 2112, 7168}, Fp8GemmPath::kAuto, 0, 302);
}

TEST(Fp8GemmCuda, AutoPathFallsBackForUnalignedK) {
  R1_REQUIRE_CUDA();
  expect_cuda_parity({40, 96, 200}, Fp8GemmPath::kAuto, 0, 400);
  at::Generator gen = testing::make_gen(401);
  const at::Device cuda(at::kCUDA);
  const Fp8Blocks a = testing::to_device(testing::random_act(4, 200, gen), cuda);
  const Fp8Blocks b = testing::to_device(testing::random_weight(8, 200, gen), cuda);
  EXPECT_THROW(fp8_gemm(a, b, {at::kFloat, Fp8GemmPath::kTensorCore}), Error);
}

}  // namespace
}  // namespace r1::kernels
