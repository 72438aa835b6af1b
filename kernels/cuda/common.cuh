// Small device/host helpers shared by kernels/*.cu: element types by DType, FP8 e4m3 conversion with
// the rounding contract of kernels/fp8_quant.h, warp reductions, and the launch-status macro.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>

#include "kernels/cuda/launch.h"

// Returns the error of a failed CUDA runtime call from the enclosing launcher.
#define R1_CUDA_TRY(expr)                      \
  do {                                         \
    const cudaError_t r1_err_ = (expr);        \
    if (r1_err_ != cudaSuccess) return r1_err_; \
  } while (0)

namespace r1::kernels::cuda {

__host__ __device__ __forceinline__ int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Element loads/stores as fp32 for the three activation types.
__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }
template <typename T>
__device__ __forceinline__ T from_f32(float v);
template <>
__device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }

// e4m3fn encode: round to nearest even, saturate to ±448 (inf too). NaN → 0x7F (sign dropped: the
// hardware conversion; the CPU reference keeps the sign).
__device__ __forceinline__ uint8_t fp8_encode(float v) {
  return static_cast<uint8_t>(__nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E4M3));
}
// e4m3fn decode, exact (every e4m3 value is an fp16 value).
__device__ __forceinline__ float fp8_decode(uint8_t code) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(code), __NV_E4M3);
  return __half2float(__half(h));
}
// The block scale of kernels/fp8_quant.h: max(amax / 448, FLT_MIN), NaN kept (fmaxf would drop it).
__device__ __forceinline__ float fp8_block_scale(float amax) {
  const float s = amax / 448.0f;
  return s < FLT_MIN ? FLT_MIN : s;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace r1::kernels::cuda
