// FP8 quantisation dispatch (kernels/fp8_convert.h): CPU tensors run the reference; the CUDA kernels
// must reproduce the reference's codes and scales bit for bit (same fp32 division, same round-to-
// nearest-even with saturation), and dequantisation exactly (decode * scale in fp32, one final cast).
#include <gtest/gtest.h>

#include <iostream>
#include <tuple>

#include "common/error.h"
#include "kernel_test_util.h"
#include "kernels/bench.h"
#include "kernels/fp8_convert.h"

namespace r1::kernels {
namespace {

TEST(Fp8Convert, CpuDispatchIsTheReference) {
  at::Generator gen = testing::make_gen(61);
  const at::Tensor x = at::randn({5, 300}, gen, at::kFloat);
  const Fp8Blocks a = quantize_act(x), ar = quantize_act_1x128(x);
  EXPECT_TRUE(at::equal(a.data, ar.data) && at::equal(a.scale, ar.scale));
  const Fp8Blocks w = quantize_weight(x), wr = quantize_weight_128x128(x);
  EXPECT_TRUE(at::equal(w.data, wr.data) && at::equal(w.scale, wr.scale));
  EXPECT_TRUE(at::equal(dequantize_act(a, at::kFloat), dequantize_act_1x128(ar, at::kFloat)));
  EXPECT_TRUE(at::equal(dequantize_weight(w, at::kBFloat16), dequantize_weight_128x128(wr, at::kBFloat16)));
}

TEST(Fp8ConvertCuda, QuantiseMatchesReferenceBitForBit) {
  R1_REQUIRE_CUDA();
  at::Generator gen = testing::make_gen(62);
  const at::Device cuda(at::kCUDA);
  for (auto [M, K] : {std::tuple<int64_t, int64_t>{1, 1}, {3, 127}, {64, 128}, {130, 129}, {257, 7168}, {9, 1000}}) {
    // Wide dynamic range, a few huge values (saturation), exact zeros in one row (FLT_MIN scale).
    at::Tensor x = at::randn({M, K}, gen, at::kFloat) * at::exp(at::randn({M, K}, gen, at::kFloat) * 3);
    x.view(-1)[0] = 1e30f;
    if (M > 2) x[2].zero_();
    for (at::ScalarType dt : {at::kFloat, at::kBFloat16, at::kHalf}) {
      const at::Tensor xd = dt == at::kHalf ? x.clamp(-60000, 60000).to(dt) : x.to(dt);
      const Fp8Blocks ra = quantize_act_1x128(xd), ga = quantize_act(xd.to(cuda));
      EXPECT_TRUE(at::equal(ga.data.cpu(), ra.data)) << M << "x" << K << " " << dt;
      EXPECT_TRUE(at::equal(ga.scale.cpu(), ra.scale)) << M << "x" << K << " " << dt;
      const Fp8Blocks rw = quantize_weight_128x128(xd), gw = quantize_weight(xd.to(cuda));
      EXPECT_TRUE(at::equal(gw.data.cpu(), rw.data)) << M << "x" << K << " " << dt;
      EXPECT_TRUE(at::equal(gw.scale.cpu(), rw.scale)) << M << "x" << K << " " << dt;
      for (at::ScalarType out : {at::kFloat, at::kBFloat16}) {
        EXPECT_TRUE(at::equal(dequantize_act(ga, out).cpu(), dequantize_act_1x128(ra, out)));
        EXPECT_TRUE(at::equal(dequantize_weight(gw, out).cpu(), dequantize_weight_128x128(rw, out)));
      }
    }
  }
}

TEST(KernelBench, RefusesClearlyWithoutAGpu) {
  // `r1 bench kernels` on a CPU build / GPU-less machine: an r1::Error with the reason (exit status 1).
  if (cuda_kernels_available()) GTEST_SKIP() << "a CUDA device is present";
  try {
    run_kernel_bench(KernelBenchOptions{}, std::cout);
    FAIL() << "run_kernel_bench did not refuse";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA GPU only"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(cuda_kernels_status()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1::kernels
