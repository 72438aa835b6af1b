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

// The 1x128 quantisation of a [rows, cols] matrix whose elements value(row, col) gives (fp32): one warp per
// (row, 128-column block), eight warps to a 256-thread CTA, each lane holding 4 values (zeros past the row's
// end); the block's amax by shuffles, its scale, the codes into q ([rows, cols]) and the scale into scale
// ([rows, ceil(cols/128)]). The body of every kernel that quantises activations.
template <class Value>
__device__ __forceinline__ void quantize_rows_1x128(int64_t rows, int64_t cols, Value value, uint8_t* __restrict__ q,
                                                    float* __restrict__ scale) {
  const int64_t kb_count = ceil_div(cols, 128);
  const int64_t chunk = static_cast<int64_t>(blockIdx.x) * 8 + threadIdx.x / 32;  // (row, kb)
  if (chunk >= rows * kb_count) return;
  const int64_t row = chunk / kb_count, kb = chunk % kb_count;
  const int lane = threadIdx.x % 32;
  float v[4];
  float amax = 0.f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t col = kb * 128 + lane * 4 + i;
    v[i] = col < cols ? value(row, col) : 0.f;
    amax = fmaxf(amax, fabsf(v[i]));
  }
  const float s = fp8_block_scale(warp_max(amax));
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t col = kb * 128 + lane * 4 + i;
    if (col < cols) q[row * cols + col] = fp8_encode(v[i] / s);
  }
  if (lane == 0) scale[row * kb_count + kb] = s;
}

}  // namespace r1::kernels::cuda
