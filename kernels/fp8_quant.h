// FP8 (e4m3fn) quantisation: the CPU reference that the CUDA kernels are tested against.
//
// What it is: the DeepSeek-V3 block formats with FP8 carried as uint8 tensors plus fp32 scales, so the
// CPU build (LibTorch 1.13, no float8 dtype) and the CUDA build share one API.
//   Activations, 1x128 per token:  x [M, K] → data uint8 [M, K], scale fp32 [M, ceil(K/128)]
//   Weights, 128x128 blocks:       w [N, K] → data uint8 [N, K], scale fp32 [ceil(N/128), ceil(K/128)]
//                                  (the checkpoint's `weight_scale_inv`)
// Both use scale = max(amax / 448, FLT_MIN) over the block's real elements (edge blocks are ragged when
// K or N is not a multiple of 128: the missing part is simply absent, never padded into the amax),
// quantise with q = encode(x / scale) (fp32 division, then round to nearest even) and dequantise with
// x ≈ decode(q) * scale in fp32, cast to the requested dtype at the end. The FLT_MIN floor makes an
// all-zero block well defined (its codes are 0, its scale FLT_MIN) without a special case; DeepSeek's
// own act_quant divides by amax/448 unguarded and DeepGEMM clamps amax at 1e-4 — a departure from both
// that changes nothing for blocks with amax >= 448 * FLT_MIN.
//
// e4m3fn (OCP FP8 spec): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN;
// largest finite 448 (0x7E), smallest subnormal 2^-9. encode: round to nearest, ties to even; saturating
// (|x| >= 448 and ±inf become ±448: the CUDA __NV_SATFINITE behaviour, where PyTorch's .to(float8)
// would give NaN); NaN becomes 0x7F with the input's sign bit (0x7F or 0xFF). decode is an exact table.
//
// Not here: FP8 GEMM, the CUDA versions (kernels/*.cu, same signatures), the e5m2 format.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

namespace r1::kernels {

constexpr int64_t kFp8Block = 128;       // block edge of both formats
constexpr float kFp8E4m3Max = 448.0f;    // largest finite e4m3fn value

// FP8 data with its block scales. data: uint8 e4m3fn codes; scale: fp32 (see the shapes above).
struct Fp8Blocks {
  at::Tensor data;   // uint8
  at::Tensor scale;  // fp32
};

// One value ↔ one e4m3fn code.
uint8_t fp8_e4m3_encode(float x);
float fp8_e4m3_decode(uint8_t code);

// Elementwise over tensors: any floating tensor → uint8 codes of the same shape; uint8 codes → fp32.
at::Tensor fp8_e4m3_encode(const at::Tensor& x);
at::Tensor fp8_e4m3_decode(const at::Tensor& codes);

// Activation quantisation, one scale per token and 128-wide K block. x: [M, K] floating.
Fp8Blocks quantize_act_1x128(const at::Tensor& x);
// Weight quantisation, one scale per 128x128 block. w: [N, K] floating.
Fp8Blocks quantize_weight_128x128(const at::Tensor& w);
// Inverses (up to FP8 rounding): data [M, K] / [N, K] with scales as above → tensor of dtype `out`.
// Throw r1::Error when the scale shape does not match the data shape.
at::Tensor dequantize_act_1x128(const Fp8Blocks& q, at::ScalarType out);
at::Tensor dequantize_weight_128x128(const Fp8Blocks& q, at::ScalarType out);

}  // namespace r1::kernels
