// Device dispatch for FP8 quantisation (see fp8_convert.h): CPU tensors go to the reference in
// fp8_quant.cpp, CUDA tensors to the kernels in fp8_quant.cu through internal/cuda_ops.h.
#include "kernels/fp8_convert.h"

#include "common/error.h"

#if R1_WITH_CUDA
#include "kernels/internal/cuda_ops.h"
#endif

namespace r1::kernels {
namespace {

[[noreturn]] void no_cuda(const char* op) {
  fail(op, ": got a CUDA tensor but r1 was built without CUDA kernels (configure with -DR1_CUDA=ON)");
}

}  // namespace

Fp8Blocks quantize_act(const at::Tensor& x) {
  if (!x.defined() || !x.is_cuda()) return quantize_act_1x128(x);
#if R1_WITH_CUDA
  return internal::quantize_cuda(x, /*weight=*/false);
#else
  no_cuda("quantize_act");
#endif
}

Fp8Blocks quantize_weight(const at::Tensor& w) {
  if (!w.defined() || !w.is_cuda()) return quantize_weight_128x128(w);
#if R1_WITH_CUDA
  return internal::quantize_cuda(w, /*weight=*/true);
#else
  no_cuda("quantize_weight");
#endif
}

at::Tensor dequantize_act(const Fp8Blocks& q, at::ScalarType out) {
  if (!q.data.defined() || !q.data.is_cuda()) return dequantize_act_1x128(q, out);
#if R1_WITH_CUDA
  return internal::dequantize_cuda(q, out, /*weight=*/false);
#else
  no_cuda("dequantize_act");
#endif
}

at::Tensor dequantize_weight(const Fp8Blocks& q, at::ScalarType out) {
  if (!q.data.defined() || !q.data.is_cuda()) return dequantize_weight_128x128(q, out);
#if R1_WITH_CUDA
  return internal::dequantize_cuda(q, out, /*weight=*/true);
#else
  no_cuda("dequantize_weight");
#endif
}

}  // namespace r1::kernels
