// Shared helpers for the kernels suite: random FP8 operands, relative errors, output poisoning, and
// the skip that every CUDA parity test starts with.
//
// CUDA tests call R1_REQUIRE_CUDA() first: on a CPU build or a machine without a GPU they are reported
// as skipped (with the reason), never as passed.
#pragma once

#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "kernels/cuda_support.h"
#include "kernels/fp8_quant.h"

#define R1_REQUIRE_CUDA()                                                        \
  do {                                                                          \
    if (!::r1::kernels::cuda_kernels_available())                               \
      GTEST_SKIP() << "needs the CUDA kernels: " << ::r1::kernels::cuda_kernels_status(); \
  } while (0)

namespace r1::kernels::testing {

// ‖a − b‖ / ‖b‖ in fp64; NaN anywhere gives +inf (NaN never passes a tolerance).
inline double rel_error(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kCPU, at::kDouble), y = b.to(at::kCPU, at::kDouble);
  if (!at::isfinite(x).all().item<bool>() || !at::isfinite(y).all().item<bool>())
    return std::numeric_limits<double>::infinity();
  const double denom = y.norm().item<double>();
  return (x - y).norm().item<double>() / (denom > 0 ? denom : 1.0);
}

// Elementwise |a − b| <= ulps * ulp_bf16(|b|) + abs_floor, as a count of violations (0 = pass).
// One bf16 ulp of v is 2^(floor(log2|v|) − 7).
inline int64_t bf16_ulp_violations(const at::Tensor& a, const at::Tensor& b, double ulps, double abs_floor) {
  const at::Tensor x = a.to(at::kCPU, at::kDouble), y = b.to(at::kCPU, at::kDouble);
  const at::Tensor mag = y.abs().clamp_min(1e-30);
  const at::Tensor ulp = at::pow(2.0, at::floor(at::log2(mag)) - 7);
  const at::Tensor bad = (x - y).abs().gt(ulp * ulps + abs_floor).logical_or(at::isnan(x));
  return bad.sum().item<int64_t>();
}

// Random activations quantised 1x128 (never zeros: normal values with a per-row magnitude spread).
inline Fp8Blocks random_act(int64_t M, int64_t K, at::Generator& gen) {
  const at::Tensor x = at::randn({M, K}, gen, at::kFloat) * at::exp(at::randn({M, 1}, gen, at::kFloat));
  return quantize_act_1x128(x);
}

// Random weights quantised 128x128.
inline Fp8Blocks random_weight(int64_t N, int64_t K, at::Generator& gen) {
  const at::Tensor w = at::randn({N, K}, gen, at::kFloat) * 0.05;
  return quantize_weight_128x128(w);
}

inline Fp8Blocks to_device(const Fp8Blocks& q, const at::Device& device) {
  return {q.data.to(device), q.scale.to(device)};
}

inline at::Generator make_gen(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return gen;
}

// A tensor of this shape/dtype on `device` filled with NaN (floating) so unwritten elements show.
inline at::Tensor poisoned(at::IntArrayRef shape, at::ScalarType dtype, const at::Device& device) {
  return at::full(shape, std::numeric_limits<float>::quiet_NaN(), at::TensorOptions().dtype(dtype).device(device));
}

}  // namespace r1::kernels::testing
