// FP8 grouped GEMM: checks, CPU references and device dispatch (see moe_gemm.h).
//
// Legend: E experts, P permuted rows (contiguous), max_m rows per expert (masked), N output width, K input
// width, Kb = ceil(K/128), Nb = ceil(N/128).
//
// The references loop over experts and call the dense promoted matmul on each expert's rows: plain and
// obviously right, which is what a reference should be.
#include "kernels/moe_gemm.h"

#include <algorithm>

#include "common/error.h"
#include "kernels/internal/fp8_reference.h"

#if R1_WITH_CUDA
#include "kernels/internal/cuda_ops.h"
#endif

namespace r1::kernels {

GroupedGemmDims check_grouped_gemm_inputs(const Fp8Blocks& a, const Fp8Blocks& b, bool masked, const char* op) {
  internal::check_codes(b.data, 3, op, "B data [E, N, K]");
  const int64_t E = b.data.size(0), N = b.data.size(1), K = b.data.size(2);
  R1_CHECK(E > 0 && N > 0 && K > 0, op, ": B data must be non-empty, got ", b.data.sizes());
  internal::check_scale(b.scale, {E, internal::ceil_blocks(N), internal::ceil_blocks(K)}, op,
                        "B scale [E, ceil(N/128), ceil(K/128)]");
  int64_t M;
  if (masked) {
    internal::check_codes(a.data, 3, op, "A data [E, max_m, K]");
    M = a.data.size(1);
    R1_CHECK(a.data.size(0) == E && a.data.size(2) == K, op, ": A data is ", a.data.sizes(), " but B data is ",
             b.data.sizes(), " (expected A [", E, ", max_m, ", K, "])");
    internal::check_scale(a.scale, {E, M, internal::ceil_blocks(K)}, op, "A scale [E, max_m, ceil(K/128)]");
  } else {
    internal::check_codes(a.data, 2, op, "A data [P, K]");
    M = a.data.size(0);
    R1_CHECK(a.data.size(1) == K, op, ": A data is ", a.data.sizes(), " but B data is ", b.data.sizes(),
             " (expected A [P, ", K, "])");
    internal::check_scale(a.scale, {M, internal::ceil_blocks(K)}, op, "A scale [P, ceil(K/128)]");
  }
  internal::check_same_device({a.data, a.scale, b.data, b.scale}, op);
  return {M, N, K, E};
}

at::Tensor prepare_grouped_out(at::Tensor out, at::IntArrayRef shape, at::ScalarType dtype,
                               const at::Device& device, const char* op) {
  if (!out.defined()) {
    const auto options = at::TensorOptions().dtype(dtype).device(device);
    return device.is_cpu() ? at::zeros(shape, options) : at::empty(shape, options);
  }
  R1_CHECK(out.sizes() == shape, op, ": out has shape ", out.sizes(), ", expected ", shape);
  R1_CHECK(out.scalar_type() == dtype, op, ": out has dtype ", out.scalar_type(), ", expected ", dtype);
  R1_CHECK(out.device() == device, op, ": out is on ", out.device(), ", expected ", device);
  R1_CHECK(out.is_contiguous(), op, ": out must be contiguous");
  return out;
}

at::Tensor fp8_grouped_gemm_contiguous_reference(const Fp8Blocks& a, const Fp8Blocks& b,
                                                 const at::Tensor& row_expert, at::ScalarType out_dtype,
                                                 at::Tensor out) {
  const char* op = "fp8_grouped_gemm_contiguous";
  const GroupedGemmDims d = check_grouped_gemm_inputs(a, b, /*masked=*/false, op);
  internal::check_out_dtype(out_dtype, op);
  internal::check_tensor(row_expert, 1, {at::kInt}, op, "row_expert");
  R1_CHECK(row_expert.size(0) == d.M, op, ": row_expert has ", row_expert.size(0), " rows, A has ", d.M);
  out = prepare_grouped_out(out, {d.M, d.N}, out_dtype, at::Device(at::kCPU), op);  // [P, N]
  const at::Tensor experts = row_expert.to(at::kCPU, at::kLong);                    // [P]
  const int64_t* ex = experts.data_ptr<int64_t>();
  for (int64_t tile = 0; tile < d.M; tile += 128) {  // the layout rule the CUDA kernel relies on
    int64_t owner = -1;
    for (int64_t r = tile; r < std::min(d.M, tile + 128); ++r) {
      R1_CHECK(ex[r] < d.E, op, ": row_expert[", r, "] = ", ex[r], " but B has ", d.E, " experts");
      if (ex[r] < 0) continue;
      R1_CHECK(owner < 0 || owner == ex[r], op, ": rows ", tile, "..", tile + 127, " mix experts ", owner,
               " and ", ex[r], "; each expert's segment must start at a multiple of 128 (moe_route align)");
      owner = ex[r];
    }
  }
  const at::Tensor a_codes = a.data.cpu(), a_scale = a.scale.cpu(), b_codes = b.data.cpu(), b_scale = b.scale.cpu();
  for (int64_t e = 0; e < d.E; ++e) {
    const at::Tensor rows = experts.eq(e).nonzero().view(-1);  // [m_e]
    if (rows.numel() == 0) continue;
    const at::Tensor c = internal::promoted_matmul(a_codes.index_select(0, rows), a_scale.index_select(0, rows),
                                                   b_codes[e], internal::expand_weight_scale_rows(b_scale[e], d.N));
    out.index_copy_(0, rows, c.to(out_dtype));  // [m_e, N] into [P, N]
  }
  return out;
}

at::Tensor fp8_grouped_gemm_masked_reference(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& masked_m,
                                             at::ScalarType out_dtype, at::Tensor out) {
  const char* op = "fp8_grouped_gemm_masked";
  const GroupedGemmDims d = check_grouped_gemm_inputs(a, b, /*masked=*/true, op);
  internal::check_out_dtype(out_dtype, op);
  internal::check_tensor(masked_m, 1, {at::kInt}, op, "masked_m");
  R1_CHECK(masked_m.size(0) == d.E, op, ": masked_m has ", masked_m.size(0), " entries, B has ", d.E, " experts");
  out = prepare_grouped_out(out, {d.E, d.M, d.N}, out_dtype, at::Device(at::kCPU), op);  // [E, max_m, N]
  const at::Tensor counts = masked_m.to(at::kCPU, at::kLong);                          // [E]
  const at::Tensor a_codes = a.data.cpu(), a_scale = a.scale.cpu(), b_codes = b.data.cpu(), b_scale = b.scale.cpu();
  for (int64_t e = 0; e < d.E; ++e) {
    const int64_t m = counts[e].item<int64_t>();
    R1_CHECK(m >= 0 && m <= d.M, op, ": masked_m[", e, "] = ", m, " is outside [0, max_m = ", d.M, "]");
    if (m == 0) continue;
    const at::Tensor c = internal::promoted_matmul(a_codes[e].narrow(0, 0, m), a_scale[e].narrow(0, 0, m),
                                                   b_codes[e], internal::expand_weight_scale_rows(b_scale[e], d.N));
    out[e].narrow(0, 0, m).copy_(c);  // [m, N]
  }
  return out;
}

at::Tensor fp8_grouped_gemm_contiguous(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& row_expert,
                                       const Fp8GemmOptions& opt, at::Tensor out) {
  if (!a.data.is_cuda()) return fp8_grouped_gemm_contiguous_reference(a, b, row_expert, opt.out_dtype, out);
#if R1_WITH_CUDA
  return internal::fp8_grouped_gemm_cuda(a, b, row_expert, /*masked=*/false, opt, out);
#else
  fail("fp8_grouped_gemm_contiguous: got CUDA tensors but r1 was built without CUDA kernels");
#endif
}

at::Tensor fp8_grouped_gemm_masked(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& masked_m,
                                   const Fp8GemmOptions& opt, at::Tensor out) {
  if (!a.data.is_cuda()) return fp8_grouped_gemm_masked_reference(a, b, masked_m, opt.out_dtype, out);
#if R1_WITH_CUDA
  return internal::fp8_grouped_gemm_cuda(a, b, masked_m, /*masked=*/true, opt, out);
#else
  fail("fp8_grouped_gemm_masked: got CUDA tensors but r1 was built without CUDA kernels");
#endif
}

}  // namespace r1::kernels
