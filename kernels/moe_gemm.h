// FP8 grouped GEMM for routed experts: every expert's C_e = A_e · B_e^T in one launch, with the block
// scaling of kernels/fp8_gemm.h (A 1x128 per token, B 128x128 per expert, fp32 promotion per K block).
//
// Two layouts of A, matching kernels/moe.h's routing:
//   contiguous (prefill): A [P, K] holds the experts' rows one segment after another and row_expert [P]
//     names each row's expert (-1 = padding). Every 128-row tile must belong to one expert, i.e. the
//     segments start at multiples of 128 (moe_route with align = 128). The CPU path checks this and
//     throws; the CUDA path cannot look without a device sync and writes NaN rows where a tile mixes
//     experts, so a violation is loud. Tiles whose first row is padding are skipped.
//   masked (decode, CUDA-graph friendly): A [E, max_m, K] with masked_m [E] valid rows per expert; the
//     launch shape depends only on E, max_m, N, K, so one captured graph serves every routing.
// Rows that hold no token (padding rows, rows at or past masked_m[e]) are never written: they keep what
// `out` held (a fresh output is zero-filled on the CPU path and uninitialised on the CUDA path). Pass
// `out` to reuse a buffer (CUDA graphs) or, in tests, to poison it.
//
// Not here: routing and permutation (kernels/moe.h), SwiGLU between the two GEMMs (swiglu_quant in
// kernels/moe.h), expert parallelism. Departure from DeepGEMM: no TMA multicast across a cluster and no
// persistent scheduler yet (see docs/kernels.md).
#pragma once

#include <ATen/ATen.h>

#include "kernels/fp8_gemm.h"

namespace r1::kernels {

// a: data uint8 [P, K], scale fp32 [P, ceil(K/128)]; b: data uint8 [E, N, K], scale fp32
// [E, ceil(N/128), ceil(K/128)]; row_expert int32 [P]. Returns C [P, N] of opt.out_dtype.
at::Tensor fp8_grouped_gemm_contiguous(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& row_expert,
                                       const Fp8GemmOptions& opt = {}, at::Tensor out = {});

// a: data uint8 [E, max_m, K], scale fp32 [E, max_m, ceil(K/128)]; b as above; masked_m int32 [E].
// Returns C [E, max_m, N] of opt.out_dtype.
at::Tensor fp8_grouped_gemm_masked(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& masked_m,
                                   const Fp8GemmOptions& opt = {}, at::Tensor out = {});

// CPU references (results on the CPU; `out`, when given, must be a CPU tensor).
at::Tensor fp8_grouped_gemm_contiguous_reference(const Fp8Blocks& a, const Fp8Blocks& b,
                                                 const at::Tensor& row_expert, at::ScalarType out_dtype,
                                                 at::Tensor out = {});
at::Tensor fp8_grouped_gemm_masked_reference(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& masked_m,
                                             at::ScalarType out_dtype, at::Tensor out = {});

// Checks shared with the CUDA dispatch. Returns {rows of A per group (P or max_m), N, K} and E.
struct GroupedGemmDims {
  int64_t M, N, K, E;
};
GroupedGemmDims check_grouped_gemm_inputs(const Fp8Blocks& a, const Fp8Blocks& b, bool masked, const char* op);
// `out` given: checks shape, dtype and device; else allocates (zeros on CPU, empty on CUDA).
at::Tensor prepare_grouped_out(at::Tensor out, at::IntArrayRef shape, at::ScalarType dtype,
                               const at::Device& device, const char* op);

}  // namespace r1::kernels
