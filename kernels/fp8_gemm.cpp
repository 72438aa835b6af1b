// FP8 block-scaled GEMM: input checks, the CPU reference and the device dispatch (see fp8_gemm.h).
//
// Legend: M rows of A (tokens), N rows of B (output features), K the shared width, Kb = ceil(K/128)
// scale blocks along K, Nb = ceil(N/128).
//
// The reference decodes the codes to fp32 exactly (a table), multiplies one 128-wide K slice at a time
// with an fp32 matmul and adds partial * (a_scale * b_scale) to the total: the same arithmetic the
// kernels do, in a different summation order inside the slice. It is a readable oracle, not a fast path.
#include "kernels/fp8_gemm.h"

#include "common/error.h"
#include "kernels/internal/fp8_reference.h"

#if R1_WITH_CUDA
#include "kernels/internal/cuda_ops.h"
#endif

namespace r1::kernels {

GemmDims check_fp8_gemm_inputs(const Fp8Blocks& a, const Fp8Blocks& b, const char* op) {
  internal::check_codes(a.data, 2, op, "A data");
  internal::check_codes(b.data, 2, op, "B data");
  const int64_t M = a.data.size(0), K = a.data.size(1), N = b.data.size(0);
  R1_CHECK(b.data.size(1) == K, op, ": A is [", M, ", ", K, "] but B is ", b.data.sizes(),
           " (both must be [rows, K])");
  R1_CHECK(K > 0, op, ": K must be positive");
  internal::check_scale(a.scale, {M, internal::ceil_blocks(K)}, op, "A scale (1x128 per token)");
  internal::check_scale(b.scale, {internal::ceil_blocks(N), internal::ceil_blocks(K)}, op,
                        "B scale (128x128 blocks)");
  internal::check_same_device({a.data, a.scale, b.data, b.scale}, op);
  return {M, N, K};
}

at::Tensor fp8_gemm_reference(const Fp8Blocks& a, const Fp8Blocks& b, at::ScalarType out_dtype) {
  const char* op = "fp8_gemm_reference";
  const GemmDims d = check_fp8_gemm_inputs(a, b, op);
  internal::check_out_dtype(out_dtype, op);
  const at::Tensor b_scale_rows = internal::expand_weight_scale_rows(b.scale.cpu(), d.N);  // [N, Kb]
  return internal::promoted_matmul(a.data.cpu(), a.scale.cpu(), b.data.cpu(), b_scale_rows)
      .to(out_dtype);  // [M, N]
}

at::Tensor fp8_gemm(const Fp8Blocks& a, const Fp8Blocks& b, const Fp8GemmOptions& opt, at::Tensor out) {
  const char* op = "fp8_gemm";
  check_fp8_gemm_inputs(a, b, op);
  internal::check_out_dtype(opt.out_dtype, op);
  if (!a.data.is_cuda()) return internal::deliver(fp8_gemm_reference(a, b, opt.out_dtype), out, op);
#if R1_WITH_CUDA
  return internal::fp8_gemm_cuda(a, b, opt, out);
#else
  fail(op, ": got CUDA tensors but r1 was built without CUDA kernels (configure with -DR1_CUDA=ON)");
#endif
}

}  // namespace r1::kernels
