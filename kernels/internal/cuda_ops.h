// The at::Tensor-facing CUDA entry points of r1::kernels, compiled only with -DR1_CUDA=ON (the
// kernels/*_cuda.cpp files). The public functions in kernels/*.h check their inputs and call these for
// CUDA tensors; these make the inputs contiguous, allocate outputs and workspaces with the caching
// allocator, pick a kernel and launch it on the current stream through kernels/cuda/launch.h.
#pragma once

#include <ATen/ATen.h>

#include "kernels/fp8_gemm.h"
#include "kernels/mla_decode.h"
#include "kernels/moe.h"

namespace r1::kernels::internal {

Fp8Blocks quantize_cuda(const at::Tensor& x, bool weight);
at::Tensor dequantize_cuda(const Fp8Blocks& q, at::ScalarType out, bool weight);

at::Tensor fp8_gemm_cuda(const Fp8Blocks& a, const Fp8Blocks& b, const Fp8GemmOptions& opt, const at::Tensor& out);
// row_info: row_expert [P] (contiguous) or masked_m [E] (masked).
at::Tensor fp8_grouped_gemm_cuda(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& row_info, bool masked,
                                 const Fp8GemmOptions& opt, at::Tensor out);

// capacity: align (contiguous) or max_m (masked).
MoeRouting moe_route_cuda(const at::Tensor& topk_ids, int64_t num_experts, int64_t capacity, bool masked);
at::Tensor moe_gather_cuda(const at::Tensor& x, const MoeRouting& routing, const at::Tensor& out);
at::Tensor moe_unpermute_cuda(const at::Tensor& y, const at::Tensor& dest_row, const at::Tensor& weights,
                              at::ScalarType out_dtype, const at::Tensor& out);
Fp8Blocks swiglu_quant_cuda(const at::Tensor& x);

// Exactly one of kv_cache (bf16) and fp8_cache is given.
MlaDecodeResult mla_decode_cuda(const at::Tensor& q, const at::Tensor& kv_cache, const MlaFp8Cache* fp8_cache,
                                const at::Tensor& block_table, const at::Tensor& seq_lens,
                                const MlaDecodeOptions& opt, const at::Tensor& out, const at::Tensor& lse);

}  // namespace r1::kernels::internal
