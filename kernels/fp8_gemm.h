// FP8 block-scaled GEMM, the DeepSeek-V3 / DeepGEMM recipe: C[M, N] = A[M, K] · B[N, K]^T.
//
// What it is: A carries e4m3 codes with one fp32 scale per token and 128-wide K block (1x128, the
// activation format of kernels/fp8_quant.h); B carries e4m3 codes with one fp32 scale per 128x128 block
// (the checkpoint's `weight_scale_inv`). Products are accumulated in fp32 within a 128-wide K block and
// the block's partial sum is multiplied by a_scale[m, kb] * b_scale[n/128, kb] before it is added to the
// running fp32 total ("promotion per 128-wide K block": Hopper's FP8 tensor cores keep only ~14 bits
// inside one wgmma chain, so the kernel never lets a chain run longer than one block). The result is
// cast once at the end to bf16 (default) or fp32.
//
// Not here: quantisation (kernels/fp8_quant.h), the grouped MoE variants (kernels/moe_gemm.h), bias or
// activation epilogues. CPU tensors always run the reference; CUDA tensors run kernels/fp8_gemm.cu.
//
// The non-obvious part is the CUDA path choice (Fp8GemmPath): the tensor-core kernel (wgmma + TMA,
// warp-specialised) needs K % 16 == 0 (TMA row pitch) and 16-byte aligned rows; everything else, and
// anything forced with kSimple, runs a plain CUDA-core kernel that computes the same promoted sums.
// Departure from DeepGEMM: A's scales are read in their natural [M, ceil(K/128)] layout (no transposed,
// TMA-aligned copy), and M/N/K tails are handled in-kernel rather than by padding.
#pragma once

#include <ATen/ATen.h>

#include "kernels/fp8_quant.h"

namespace r1::kernels {

// Which CUDA kernel runs the product. CPU tensors ignore this and run the reference.
enum class Fp8GemmPath {
  kAuto,        // tensor cores when the shape allows it, else the CUDA-core kernel
  kTensorCore,  // wgmma + TMA; an r1::Error when the shape does not allow it
  kSimple,      // the CUDA-core kernel (any shape): the fallback and a second opinion in tests
};

struct Fp8GemmOptions {
  at::ScalarType out_dtype = at::kBFloat16;  // kBFloat16 or kFloat
  Fp8GemmPath path = Fp8GemmPath::kAuto;
  int64_t split_k = 0;  // CUDA dense GEMM: K-block splits (fp32 partials + a reduction); 0 = choose
};

// C = A · B^T with block scales. a: data uint8 [M, K], scale fp32 [M, ceil(K/128)];
// b: data uint8 [N, K], scale fp32 [ceil(N/128), ceil(K/128)]. Returns [M, N] of opt.out_dtype on A's
// device. Throws r1::Error on shape, dtype or device mismatches. `out`, when given, receives the result
// (contiguous [M, N] of opt.out_dtype on A's device: CUDA graphs reuse buffers, tests poison them).
at::Tensor fp8_gemm(const Fp8Blocks& a, const Fp8Blocks& b, const Fp8GemmOptions& opt = {}, at::Tensor out = {});

// The CPU reference (inputs on any device are copied to the CPU; the result is on the CPU).
at::Tensor fp8_gemm_reference(const Fp8Blocks& a, const Fp8Blocks& b, at::ScalarType out_dtype);

// Shape checks shared by the reference and the CUDA dispatch; returns {M, N, K}.
struct GemmDims {
  int64_t M, N, K;
};
GemmDims check_fp8_gemm_inputs(const Fp8Blocks& a, const Fp8Blocks& b, const char* op);

}  // namespace r1::kernels
