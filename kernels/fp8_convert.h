// FP8 quantisation on any device: the dispatch in front of kernels/fp8_quant.h (the CPU reference, owned
// by the checkpoint code) and kernels/fp8_quant.cu (its CUDA counterpart).
//
// Same formats and rounding contract as fp8_quant.h: activations 1x128 per token, weights 128x128
// blocks, scale = max(amax / 448, FLT_MIN), q = e4m3(x / scale) round-to-nearest-even with saturation.
// The CUDA kernels reproduce the CPU codes and scales bit for bit (the tests check exact equality), with
// one documented difference: a NaN input encodes as 0x7F on CUDA whatever its sign (the hardware
// conversion), 0x7F|sign on the CPU.
//
// Results live on the input's device. CUDA inputs may be bf16, fp16 or fp32.
#pragma once

#include <ATen/ATen.h>

#include "kernels/fp8_quant.h"

namespace r1::kernels {

Fp8Blocks quantize_act(const at::Tensor& x);      // x [M, K] → data [M, K], scale [M, ceil(K/128)]
Fp8Blocks quantize_weight(const at::Tensor& w);   // w [N, K] → data [N, K], scale [ceil(N/128), ceil(K/128)]
at::Tensor dequantize_act(const Fp8Blocks& q, at::ScalarType out);
at::Tensor dequantize_weight(const Fp8Blocks& q, at::ScalarType out);

}  // namespace r1::kernels
