// MoE routing, gather, un-permutation and SwiGLU quantisation: CPU references and device dispatch (see
// moe.h for the layouts and the id contract).
//
// Legend: T tokens, k experts per token, E experts, P permuted rows, D hidden width, I expert width.
//
// The routing reference is one counting pass and one placing pass over the (token, slot) pairs in order,
// which is exactly "stable sort by expert": the CUDA version reproduces it with a stable radix sort.
#include "kernels/moe.h"

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "kernels/internal/fp8_reference.h"

#if R1_WITH_CUDA
#include "kernels/internal/cuda_ops.h"
#endif

namespace r1::kernels {
namespace {

void check_topk_ids(const at::Tensor& topk_ids, int64_t num_experts, const char* op) {
  internal::check_tensor(topk_ids, 2, {at::kInt, at::kLong}, op, "topk_ids");
  R1_CHECK(num_experts > 0, op, ": num_experts must be positive, got ", num_experts);
  R1_CHECK(num_experts < (int64_t{1} << 30), op, ": num_experts too large: ", num_experts);
  R1_CHECK(topk_ids.numel() < (int64_t{1} << 31), op, ": too many (token, slot) pairs: ", topk_ids.numel());
}

// Flat expert id per (token, slot) pair, validated: [T*k], -1 where not routed.
std::vector<int64_t> read_ids(const at::Tensor& topk_ids, int64_t num_experts, const char* op) {
  const at::Tensor flat = topk_ids.to(at::kCPU, at::kLong).contiguous().view(-1);  // [T*k]
  const int64_t* ids = flat.data_ptr<int64_t>();
  std::vector<int64_t> out(ids, ids + flat.numel());
  for (size_t p = 0; p < out.size(); ++p) {
    R1_CHECK(out[p] < num_experts, op, ": topk_ids[", p / topk_ids.size(1), ", ", p % topk_ids.size(1),
             "] = ", out[p], " is not an expert (num_experts = ", num_experts, ")");
    if (out[p] < 0) out[p] = -1;
  }
  return out;
}

// Places pairs in (expert, pair) order given each expert's first row and capacity.
MoeRouting place_rows(const std::vector<int64_t>& ids, int64_t T, int64_t k, int64_t E, int64_t P,
                      const std::vector<int64_t>& start, int64_t capacity) {
  const auto i32 = at::TensorOptions().dtype(at::kInt);
  MoeRouting r;
  r.row_token = at::full({P}, -1, i32);       // [P]
  r.row_expert = at::full({P}, -1, i32);      // [P]
  r.dest_row = at::full({T, k}, -1, i32);     // [T, k]
  r.expert_counts = at::zeros({E}, i32);      // [E]
  r.expert_offsets = at::zeros({E + 1}, i32);  // [E+1]
  int32_t* row_token = r.row_token.data_ptr<int32_t>();
  int32_t* row_expert = r.row_expert.data_ptr<int32_t>();
  int32_t* dest = r.dest_row.data_ptr<int32_t>();
  int32_t* counts = r.expert_counts.data_ptr<int32_t>();
  for (int64_t p = 0; p < T * k; ++p) {
    const int64_t e = ids[p];
    if (e < 0 || counts[e] >= capacity) continue;  // not routed, or past the masked capacity
    const int64_t row = start[e] + counts[e]++;
    row_token[row] = static_cast<int32_t>(p / k);
    row_expert[row] = static_cast<int32_t>(e);
    dest[p] = static_cast<int32_t>(row);
  }
  int32_t* offsets = r.expert_offsets.data_ptr<int32_t>();
  for (int64_t e = 0; e <= E; ++e) offsets[e] = static_cast<int32_t>(start[e]);
  return r;
}

}  // namespace

int64_t moe_contiguous_rows(int64_t num_tokens, int64_t top_k, int64_t num_experts, int64_t align) {
  const int64_t pairs = num_tokens * top_k;
  const int64_t bound = pairs + std::min(num_experts, pairs) * (align - 1);
  return (bound + align - 1) / align * align;
}

MoeRouting moe_route_reference(const at::Tensor& topk_ids, int64_t num_experts, int64_t align) {
  const char* op = "moe_route";
  check_topk_ids(topk_ids, num_experts, op);
  R1_CHECK(align >= 1, op, ": align must be >= 1, got ", align);
  const int64_t T = topk_ids.size(0), k = topk_ids.size(1), E = num_experts;
  const std::vector<int64_t> ids = read_ids(topk_ids, E, op);
  std::vector<int64_t> count(E, 0), start(E + 1, 0);
  for (int64_t e : ids)
    if (e >= 0) ++count[e];
  for (int64_t e = 0; e < E; ++e) start[e + 1] = start[e] + (count[e] + align - 1) / align * align;
  const int64_t P = moe_contiguous_rows(T, k, E, align);
  return place_rows(ids, T, k, E, P, start, /*capacity=*/T * k + 1);
}

MoeRouting moe_route_masked_reference(const at::Tensor& topk_ids, int64_t num_experts, int64_t max_m) {
  const char* op = "moe_route_masked";
  check_topk_ids(topk_ids, num_experts, op);
  R1_CHECK(max_m >= 1, op, ": max_m must be >= 1, got ", max_m);
  const int64_t T = topk_ids.size(0), k = topk_ids.size(1), E = num_experts;
  const std::vector<int64_t> ids = read_ids(topk_ids, E, op);
  std::vector<int64_t> start(E + 1);
  for (int64_t e = 0; e <= E; ++e) start[e] = e * max_m;
  return place_rows(ids, T, k, E, E * max_m, start, max_m);
}

at::Tensor moe_gather_reference(const at::Tensor& x, const MoeRouting& routing) {
  const char* op = "moe_gather";
  R1_CHECK(x.defined() && x.dim() == 2, op, ": x must be 2-D [T, D], got ", x.sizes());
  internal::check_tensor(routing.row_token, 1, {at::kInt}, op, "routing.row_token");
  const at::Tensor token = routing.row_token.to(at::kCPU, at::kLong);  // [P]
  R1_CHECK(token.numel() == 0 || token.max().item<int64_t>() < x.size(0), op, ": routing refers to token ",
           token.numel() ? token.max().item<int64_t>() : 0, " but x has ", x.size(0), " rows");
  const at::Tensor xc = x.cpu();
  const at::Tensor padding = token.lt(0);                                   // [P]
  at::Tensor out = xc.index_select(0, token.clamp_min(0));                  // [P, D]
  out.masked_fill_(padding.unsqueeze(1), 0);
  return out;
}

at::Tensor moe_unpermute_reference(const at::Tensor& y, const at::Tensor& dest_row, const at::Tensor& weights,
                                   at::ScalarType out_dtype) {
  const char* op = "moe_unpermute";
  internal::check_tensor(y, 2, {at::kBFloat16, at::kFloat}, op, "y");
  internal::check_tensor(dest_row, 2, {at::kInt}, op, "dest_row");
  internal::check_tensor(weights, 2, {at::kFloat, at::kBFloat16, at::kHalf}, op, "weights");
  internal::check_out_dtype(out_dtype, op);
  R1_CHECK(weights.sizes() == dest_row.sizes(), op, ": weights ", weights.sizes(), " and dest_row ",
           dest_row.sizes(), " must both be [T, k]");
  const at::Tensor dest = dest_row.to(at::kCPU, at::kLong);  // [T, k]
  R1_CHECK(dest.numel() == 0 || dest.max().item<int64_t>() < y.size(0), op, ": dest_row refers to row ",
           dest.numel() ? dest.max().item<int64_t>() : 0, " but y has ", y.size(0), " rows");
  const at::Tensor dropped = dest.lt(0);                                             // [T, k]
  const at::Tensor w = weights.to(at::kCPU, at::kFloat).masked_fill(dropped, 0);     // [T, k]
  const at::Tensor rows = y.to(at::kCPU, at::kFloat).index_select(0, dest.clamp_min(0).view(-1));  // [T*k, D]
  const at::Tensor picked = rows.view({dest.size(0), dest.size(1), y.size(1)});     // [T, k, D]
  return (picked * w.unsqueeze(2)).sum(1).to(out_dtype);                             // [T, D]
}

Fp8Blocks swiglu_quant_reference(const at::Tensor& x) {
  const char* op = "swiglu_quant";
  internal::check_tensor(x, 2, {at::kBFloat16, at::kFloat}, op, "x");
  R1_CHECK(x.size(1) % 2 == 0 && x.size(1) > 0, op, ": x must be [P, 2I], got ", x.sizes());
  const int64_t I = x.size(1) / 2;
  const at::Tensor xf = x.to(at::kCPU, at::kFloat);               // [P, 2I]
  const at::Tensor gate = xf.narrow(1, 0, I), up = xf.narrow(1, I, I);  // [P, I] each
  const at::Tensor h = gate / (1 + at::exp(-gate)) * up;          // [P, I]
  return quantize_act_1x128(h);
}

MoeRouting moe_route(const at::Tensor& topk_ids, int64_t num_experts, int64_t align) {
  if (!topk_ids.is_cuda()) return moe_route_reference(topk_ids, num_experts, align);
#if R1_WITH_CUDA
  check_topk_ids(topk_ids, num_experts, "moe_route");
  R1_CHECK(align >= 1, "moe_route: align must be >= 1, got ", align);
  return internal::moe_route_cuda(topk_ids, num_experts, align, /*masked=*/false);
#else
  fail("moe_route: got a CUDA tensor but r1 was built without CUDA kernels");
#endif
}

MoeRouting moe_route_masked(const at::Tensor& topk_ids, int64_t num_experts, int64_t max_m) {
  if (!topk_ids.is_cuda()) return moe_route_masked_reference(topk_ids, num_experts, max_m);
#if R1_WITH_CUDA
  check_topk_ids(topk_ids, num_experts, "moe_route_masked");
  R1_CHECK(max_m >= 1, "moe_route_masked: max_m must be >= 1, got ", max_m);
  return internal::moe_route_cuda(topk_ids, num_experts, max_m, /*masked=*/true);
#else
  fail("moe_route_masked: got a CUDA tensor but r1 was built without CUDA kernels");
#endif
}

at::Tensor moe_gather(const at::Tensor& x, const MoeRouting& routing, at::Tensor out) {
  if (!x.is_cuda()) return internal::deliver(moe_gather_reference(x, routing), out, "moe_gather");
#if R1_WITH_CUDA
  return internal::moe_gather_cuda(x, routing, out);
#else
  fail("moe_gather: got a CUDA tensor but r1 was built without CUDA kernels");
#endif
}

at::Tensor moe_unpermute(const at::Tensor& y, const at::Tensor& dest_row, const at::Tensor& weights,
                         at::ScalarType out_dtype, at::Tensor out) {
  if (!y.is_cuda()) return internal::deliver(moe_unpermute_reference(y, dest_row, weights, out_dtype), out, "moe_unpermute");
#if R1_WITH_CUDA
  return internal::moe_unpermute_cuda(y, dest_row, weights, out_dtype, out);
#else
  fail("moe_unpermute: got a CUDA tensor but r1 was built without CUDA kernels");
#endif
}

Fp8Blocks swiglu_quant(const at::Tensor& x) {
  if (!x.is_cuda()) return swiglu_quant_reference(x);
#if R1_WITH_CUDA
  return internal::swiglu_quant_cuda(x);
#else
  fail("swiglu_quant: got a CUDA tensor but r1 was built without CUDA kernels");
#endif
}

}  // namespace r1::kernels
