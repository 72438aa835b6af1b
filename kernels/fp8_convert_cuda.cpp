// CUDA dispatch of FP8 quantisation (kernels/fp8_convert.h → kernels/fp8_quant.cu). Compiled only with
// -DR1_CUDA=ON.
#include "common/error.h"
#include "kernels/internal/cuda_dispatch.h"
#include "kernels/internal/cuda_ops.h"
#include "kernels/internal/fp8_reference.h"

namespace r1::kernels::internal {

Fp8Blocks quantize_cuda(const at::Tensor& x, bool weight) {
  const char* op = weight ? "quantize_weight" : "quantize_act";
  R1_CHECK(x.dim() == 2, op, ": input must be 2-D, got ", x.sizes());
  const cuda::DType type = to_cuda_dtype(x.scalar_type(), op, "input");
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor xc = x.contiguous();  // [rows, K]
  const int64_t rows = xc.size(0), K = xc.size(1);
  const at::Tensor q = at::empty({rows, K}, xc.options().dtype(at::kByte));  // [rows, K]
  const at::Tensor scale = at::empty({weight ? ceil_blocks(rows) : rows, ceil_blocks(K)},
                                     xc.options().dtype(at::kFloat));
  const cudaError_t err =
      weight ? cuda::quantize_weight_128x128(xc.data_ptr(), type, rows, K, q.data_ptr<uint8_t>(),
                                             scale.data_ptr<float>(), current_stream())
             : cuda::quantize_act_1x128(xc.data_ptr(), type, rows, K, q.data_ptr<uint8_t>(), scale.data_ptr<float>(),
                                        current_stream());
  check_launch(err, op);
  return {q, scale};
}

at::Tensor dequantize_cuda(const Fp8Blocks& q, at::ScalarType out, bool weight) {
  const char* op = weight ? "dequantize_weight" : "dequantize_act";
  check_codes(q.data, 2, op, "data");
  check_out_dtype(out, op);
  const int64_t rows = q.data.size(0), K = q.data.size(1);
  check_scale(q.scale, {weight ? ceil_blocks(rows) : rows, ceil_blocks(K)}, op, "scale");
  check_same_device({q.data, q.scale}, op);
  const c10::cuda::CUDAGuard guard(q.data.device());
  const at::Tensor data = q.data.contiguous(), scale = q.scale.contiguous();
  at::Tensor result = at::empty({rows, K}, data.options().dtype(out));  // [rows, K]
  check_launch(cuda::dequantize_fp8(data.data_ptr<uint8_t>(), scale.data_ptr<float>(), rows, K, weight,
                                    result.data_ptr(), to_cuda_dtype(out, op, "output"), current_stream()),
               op);
  return result;
}

}  // namespace r1::kernels::internal
