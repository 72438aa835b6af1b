// CUDA dispatch of MoE routing, gather, un-permutation and SwiGLU quantisation (kernels/moe.h →
// kernels/moe.cu). Compiled only with -DR1_CUDA=ON. Nothing here reads device memory back: the layouts'
// sizes depend only on T, k, E and align / max_m, so a routing step can live inside a CUDA graph.
#include "common/error.h"
#include "kernels/internal/cuda_dispatch.h"
#include "kernels/internal/cuda_ops.h"
#include "kernels/internal/fp8_reference.h"

namespace r1::kernels::internal {

MoeRouting moe_route_cuda(const at::Tensor& topk_ids, int64_t num_experts, int64_t capacity, bool masked) {
  const char* op = masked ? "moe_route_masked" : "moe_route";
  const c10::cuda::CUDAGuard guard(topk_ids.device());
  const at::Tensor ids = topk_ids.to(at::kInt).contiguous();  // [T, k]
  const int64_t T = ids.size(0), k = ids.size(1), E = num_experts;
  const int64_t P = masked ? E * capacity : moe_contiguous_rows(T, k, E, capacity);
  R1_CHECK(P < (int64_t{1} << 31), op, ": the layout would have ", P, " rows (int32 row indices)");
  const auto i32 = ids.options();
  MoeRouting r;
  r.row_token = at::empty({P}, i32);
  r.row_expert = at::empty({P}, i32);
  r.expert_counts = at::empty({E}, i32);
  r.expert_offsets = at::empty({E + 1}, i32);
  r.dest_row = at::empty({T, k}, i32);
  const size_t ws_bytes = cuda::moe_route_workspace_bytes(T * k, static_cast<int>(E));
  const at::Tensor workspace = at::empty({static_cast<int64_t>(ws_bytes)}, ids.options().dtype(at::kByte));
  cuda::MoeRouteParams p;
  p.topk_ids = ids.data_ptr<int32_t>();
  p.T = T, p.k = static_cast<int>(k), p.E = static_cast<int>(E);
  p.masked = masked, p.capacity = capacity, p.P = P;
  p.row_token = r.row_token.data_ptr<int32_t>(), p.row_expert = r.row_expert.data_ptr<int32_t>();
  p.expert_counts = r.expert_counts.data_ptr<int32_t>(), p.expert_offsets = r.expert_offsets.data_ptr<int32_t>();
  p.dest_row = r.dest_row.data_ptr<int32_t>();
  p.workspace = workspace.data_ptr(), p.workspace_bytes = ws_bytes;
  check_launch(cuda::moe_route(p, current_stream()), op);
  return r;
}

at::Tensor moe_gather_cuda(const at::Tensor& x, const MoeRouting& routing, const at::Tensor& out_arg) {
  const char* op = "moe_gather";
  R1_CHECK(x.defined() && x.dim() == 2, op, ": x must be 2-D [T, D], got ", x.sizes());
  check_tensor(routing.row_token, 1, {at::kInt}, op, "routing.row_token");
  check_same_device({x, routing.row_token}, op);
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor xc = x.contiguous(), token = routing.row_token.contiguous();
  const int64_t P = token.size(0);
  at::Tensor out = checked_out(out_arg, {P, xc.size(1)}, xc.scalar_type(), xc.device(), op);  // [P, D]
  check_launch(cuda::moe_gather(xc.data_ptr(), xc.size(0), xc.size(1) * xc.element_size(), token.data_ptr<int32_t>(),
                                P, out.data_ptr(), current_stream()),
               op);
  return out;
}

at::Tensor moe_unpermute_cuda(const at::Tensor& y, const at::Tensor& dest_row, const at::Tensor& weights,
                              at::ScalarType out_dtype, const at::Tensor& out_arg) {
  const char* op = "moe_unpermute";
  check_tensor(y, 2, {at::kBFloat16, at::kFloat}, op, "y");
  check_tensor(dest_row, 2, {at::kInt}, op, "dest_row");
  check_tensor(weights, 2, {at::kFloat, at::kBFloat16, at::kHalf}, op, "weights");
  check_out_dtype(out_dtype, op);
  R1_CHECK(weights.sizes() == dest_row.sizes(), op, ": weights ", weights.sizes(), " and dest_row ",
           dest_row.sizes(), " must both be [T, k]");
  check_same_device({y, dest_row, weights}, op);
  const c10::cuda::CUDAGuard guard(y.device());
  const at::Tensor yc = y.contiguous(), dest = dest_row.contiguous(), w = weights.contiguous();
  const int64_t T = dest.size(0), k = dest.size(1);
  at::Tensor out = checked_out(out_arg, {T, yc.size(1)}, out_dtype, yc.device(), op);  // [T, D]
  check_launch(cuda::moe_unpermute(yc.data_ptr(), to_cuda_dtype(yc.scalar_type(), op, "y"), yc.size(0), yc.size(1),
                                   dest.data_ptr<int32_t>(), w.data_ptr(), to_cuda_dtype(w.scalar_type(), op, "weights"),
                                   T, static_cast<int>(k), out.data_ptr(), to_cuda_dtype(out_dtype, op, "output"),
                                   current_stream()),
               op);
  return out;
}

Fp8Blocks swiglu_quant_cuda(const at::Tensor& x) {
  const char* op = "swiglu_quant";
  check_tensor(x, 2, {at::kBFloat16, at::kFloat}, op, "x");
  R1_CHECK(x.size(1) % 2 == 0 && x.size(1) > 0, op, ": x must be [P, 2I], got ", x.sizes());
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor xc = x.contiguous();
  const int64_t P = xc.size(0), I = xc.size(1) / 2;
  at::Tensor q = at::empty({P, I}, xc.options().dtype(at::kByte));                   // [P, I]
  at::Tensor scale = at::empty({P, ceil_blocks(I)}, xc.options().dtype(at::kFloat));  // [P, ceil(I/128)]
  check_launch(cuda::swiglu_quant(xc.data_ptr(), to_cuda_dtype(xc.scalar_type(), op, "x"), P, I, q.data_ptr<uint8_t>(),
                                  scale.data_ptr<float>(), current_stream()),
               op);
  return {q, scale};
}

}  // namespace r1::kernels::internal
