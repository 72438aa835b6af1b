// See fp8_reference.h. Legend: M, N, K as in fp8_gemm.h; Kb = ceil(K/128).
#include "kernels/internal/fp8_reference.h"

#include <algorithm>

#include "common/error.h"
#include "kernels/fp8_quant.h"

namespace r1::kernels::internal {

void check_codes(const at::Tensor& t, int64_t dim, const char* op, const char* what) {
  R1_CHECK(t.defined(), op, ": ", what, " is undefined");
  R1_CHECK(t.scalar_type() == at::kByte, op, ": ", what, " must be uint8 e4m3 codes, got ", t.scalar_type());
  R1_CHECK(t.dim() == dim, op, ": ", what, " must be ", dim, "-D, got ", t.dim(), "-D ", t.sizes());
}

void check_scale(const at::Tensor& t, std::vector<int64_t> expected, const char* op, const char* what) {
  R1_CHECK(t.defined(), op, ": ", what, " is undefined");
  R1_CHECK(t.scalar_type() == at::kFloat, op, ": ", what, " must be fp32, got ", t.scalar_type());
  R1_CHECK(t.sizes() == at::IntArrayRef(expected), op, ": ", what, " has shape ", t.sizes(), ", expected ",
           at::IntArrayRef(expected));
}

void check_tensor(const at::Tensor& t, int64_t dim, std::initializer_list<at::ScalarType> dtypes,
                  const char* op, const char* what) {
  R1_CHECK(t.defined(), op, ": ", what, " is undefined");
  R1_CHECK(t.dim() == dim, op, ": ", what, " must be ", dim, "-D, got ", t.dim(), "-D ", t.sizes());
  const bool ok = std::find(dtypes.begin(), dtypes.end(), t.scalar_type()) != dtypes.end();
  if (!ok) {
    std::string allowed;
    for (at::ScalarType s : dtypes) allowed += str_cat(allowed.empty() ? "" : " or ", s);
    fail(op, ": ", what, " must be ", allowed, ", got ", t.scalar_type());
  }
}

void check_same_device(std::initializer_list<at::Tensor> tensors, const char* op) {
  const at::Tensor* first = nullptr;
  for (const at::Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      continue;
    }
    R1_CHECK(t.device() == first->device(), op, ": inputs live on different devices (", first->device(),
             " and ", t.device(), ")");
  }
}

void check_out_dtype(at::ScalarType dtype, const char* op) {
  R1_CHECK(dtype == at::kBFloat16 || dtype == at::kFloat, op, ": output dtype must be bf16 or fp32, got ",
           dtype);
}

at::Tensor checked_out(const at::Tensor& out, at::IntArrayRef shape, at::ScalarType dtype, const at::Device& device,
                       const char* op, const char* what) {
  if (!out.defined()) return at::empty(shape, at::TensorOptions().dtype(dtype).device(device));
  R1_CHECK(out.sizes() == shape, op, ": ", what, " has shape ", out.sizes(), ", expected ", shape);
  R1_CHECK(out.scalar_type() == dtype, op, ": ", what, " has dtype ", out.scalar_type(), ", expected ", dtype);
  R1_CHECK(out.device() == device, op, ": ", what, " is on ", out.device(), ", expected ", device);
  R1_CHECK(out.is_contiguous(), op, ": ", what, " must be contiguous");
  return out;
}

at::Tensor deliver(const at::Tensor& result, const at::Tensor& out, const char* op, const char* what) {
  if (!out.defined()) return result;
  checked_out(out, result.sizes(), result.scalar_type(), out.device(), op, what);
  R1_CHECK(out.is_cpu(), op, ": ", what, " must be a CPU tensor for CPU inputs");
  return out.copy_(result);
}

at::Tensor expand_weight_scale_rows(const at::Tensor& scale, int64_t N) {
  return scale.to(at::kFloat).repeat_interleave(128, 0).narrow(0, 0, N).contiguous();  // [N, Kb]
}

at::Tensor promoted_matmul(const at::Tensor& a_codes, const at::Tensor& a_scale, const at::Tensor& b_codes,
                           const at::Tensor& b_scale_rows) {
  const int64_t M = a_codes.size(0), K = a_codes.size(1), N = b_codes.size(0);
  const at::Tensor a = fp8_e4m3_decode(a_codes);  // [M, K]
  const at::Tensor b = fp8_e4m3_decode(b_codes);  // [N, K]
  at::Tensor total = at::zeros({M, N}, a.options());  // [M, N]
  for (int64_t kb = 0; kb * 128 < K; ++kb) {
    const int64_t k0 = kb * 128, width = std::min<int64_t>(128, K - k0);
    const at::Tensor partial = at::matmul(a.narrow(1, k0, width), b.narrow(1, k0, width).t());  // [M, N]
    const at::Tensor scale = a_scale.select(1, kb).unsqueeze(1) * b_scale_rows.select(1, kb).unsqueeze(0);
    total.add_(partial * scale);  // [M, N]
  }
  return total;
}

}  // namespace r1::kernels::internal
