// MoE data movement: token → expert routing, row gather (permutation), weighted un-permutation, and the
// SwiGLU + FP8 quantisation step between the two expert GEMMs.
//
// What it is: the glue around kernels/moe_gemm.h. A forward pass through routed experts is
//   routing = moe_route(topk_ids, E, 128)             // or moe_route_masked(topk_ids, E, max_m)
//   xq      = quantize x once per token (T rows, not T*k), then gather data and scales with routing
//   h       = fp8_grouped_gemm_*(xq_permuted, w_gate_up)                 // [P, 2I]
//   hq      = swiglu_quant(h)                                            // fp8 [P, I]
//   y       = fp8_grouped_gemm_*(hq, w_down)                             // [P, D]
//   out     = moe_unpermute(y, routing.dest_row, topk_weights)           // [T, D]
// Two layouts of the P permuted rows:
//   contiguous (prefill): experts' rows one after another, each expert's segment starting at a multiple
//     of `align` (128 for the grouped GEMM, so that every 128-row tile belongs to one expert); rows past
//     an expert's count up to the next aligned start are padding. P is a worst-case bound that depends
//     only on T, k, E and align (no device→host sync, CUDA-graph friendly); unused tail rows are padding.
//   masked (decode under CUDA graphs): [E, max_m] rows, expert e's tokens at e*max_m + 0..count-1; the
//     grouped GEMM reads masked_m = min(count, max_m). Tokens past max_m are dropped (dest_row = -1);
//     max_m = T can never drop (a token picks each expert at most once).
// Within an expert, rows follow (token, slot) order on both CPU and CUDA (the CUDA path uses a stable
// radix sort, not atomics), so the two agree row for row and runs are deterministic.
//
// Contract on ids: a negative topk id means "not routed" (dropped, e.g. a masked expert-parallel slot).
// An id >= E is a caller error: the CPU path throws; the CUDA path cannot look without a device sync
// and drops it. Not here: the gate (model/moe.*), expert parallelism (all-to-all), the GEMMs.
#pragma once

#include <ATen/ATen.h>

#include "kernels/fp8_quant.h"

namespace r1::kernels {

struct MoeRouting {
  at::Tensor row_token;       // int32 [P]: source token of each permuted row; -1 = padding row
  at::Tensor row_expert;      // int32 [P]: expert of each row; -1 = padding (DeepGEMM's m_indices)
  at::Tensor expert_counts;   // int32 [E]: tokens per expert (masked layout: min(count, max_m))
  at::Tensor expert_offsets;  // int32 [E+1]: first row of each expert's segment; [E] = rows in use
  at::Tensor dest_row;        // int32 [T, k]: permuted row of (token, slot); -1 = dropped
};

// Contiguous layout. topk_ids: integer [T, k]; align >= 1. P = round_up(T*k + min(E, T*k)*(align-1), align).
MoeRouting moe_route(const at::Tensor& topk_ids, int64_t num_experts, int64_t align = 128);
// Masked layout: P = E * max_m, expert_offsets[e] = e * max_m, expert_counts = masked_m.
MoeRouting moe_route_masked(const at::Tensor& topk_ids, int64_t num_experts, int64_t max_m);

// Permuted copy of x's rows: out[r] = x[row_token[r]], zeros on padding rows. x: [T, D] of any dtype
// (bf16 activations, uint8 FP8 codes, fp32 scales); returns [P, D] (written into `out` when given).
at::Tensor moe_gather(const at::Tensor& x, const MoeRouting& routing, at::Tensor out = {});

// out[t] = Σ_j weights[t, j] * y[dest_row[t, j]] with fp32 accumulation (dropped slots add nothing).
// y: [P, D] bf16/fp32 (a masked [E, max_m, D] result may be passed flattened); weights: [T, k]
// floating; returns [T, D] of out_dtype (bf16 or fp32), written into `out` when given.
at::Tensor moe_unpermute(const at::Tensor& y, const at::Tensor& dest_row, const at::Tensor& weights,
                         at::ScalarType out_dtype = at::kBFloat16, at::Tensor out = {});

// SwiGLU then 1x128 FP8 quantisation: h = silu(x[:, :I]) * x[:, I:] in fp32 (silu(g) = g / (1 + e^-g)),
// quantised as kernels/fp8_quant.h's quantize_act_1x128. x: [P, 2I] bf16/fp32 → data [P, I], scale
// [P, ceil(I/128)]. One pass over x on CUDA: the [P, I] intermediate never reaches device memory.
Fp8Blocks swiglu_quant(const at::Tensor& x);

// The CPU references (inputs on any device are read from the CPU; results on the CPU).
MoeRouting moe_route_reference(const at::Tensor& topk_ids, int64_t num_experts, int64_t align);
MoeRouting moe_route_masked_reference(const at::Tensor& topk_ids, int64_t num_experts, int64_t max_m);
at::Tensor moe_gather_reference(const at::Tensor& x, const MoeRouting& routing);
at::Tensor moe_unpermute_reference(const at::Tensor& y, const at::Tensor& dest_row, const at::Tensor& weights,
                                   at::ScalarType out_dtype);
Fp8Blocks swiglu_quant_reference(const at::Tensor& x);

// Rows P of the contiguous layout for these sizes (the allocation bound above).
int64_t moe_contiguous_rows(int64_t num_tokens, int64_t top_k, int64_t num_experts, int64_t align);

}  // namespace r1::kernels
