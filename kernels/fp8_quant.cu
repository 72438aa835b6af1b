// FP8 e4m3 block quantisation and dequantisation on CUDA: the counterpart of kernels/fp8_quant.cpp,
// bit-exact with it for finite inputs (same fp32 amax, same IEEE division by the same scale, same
// round-to-nearest-even saturating encode; see kernels/fp8_convert.h for the NaN difference).
//
// Legend: M rows, K columns, Kb = ceil(K/128). Activations: one warp per (row, 128-column block), each
// lane holding 4 values, the block max by shuffles. Weights: one 256-thread CTA per 128x128 block, the
// block max through shared memory, then a second pass that encodes. Both read each input once and write
// each output once: bandwidth-bound by design (2 + 1 bytes per bf16 element), no tuning beyond that yet.
#include "kernels/cuda/common.cuh"

namespace r1::kernels::cuda {
namespace {

constexpr int kWarpsPerCta = 8;

template <typename T>
__global__ void __launch_bounds__(256) quantize_act_kernel(const T* __restrict__ x, int64_t M, int64_t K,
                                                           uint8_t* __restrict__ q, float* __restrict__ scale) {
  quantize_rows_1x128(M, K, [x, K](int64_t row, int64_t col) { return to_f32(x[row * K + col]); }, q, scale);
}

// Two passes over the block (amax, then encode): the second pass re-reads from L1/L2. Holding the 64
// values per thread in registers instead made ptxas spill, and weight quantisation runs once per
// optimizer step, not per token.
template <typename T>
__global__ void __launch_bounds__(256) quantize_weight_kernel(const T* __restrict__ w, int64_t N, int64_t K,
                                                              uint8_t* __restrict__ q, float* __restrict__ scale) {
  __shared__ float warp_amax[kWarpsPerCta];
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * 128, col0 = static_cast<int64_t>(blockIdx.x) * 128;
  const int col = col0 + threadIdx.x % 128 < K ? threadIdx.x % 128 : -1;  // this thread's column, or none
  float amax = 0.f;
  for (int r = threadIdx.x / 128; r < 128; r += 2) {
    if (col >= 0 && row0 + r < N) amax = fmaxf(amax, fabsf(to_f32(w[(row0 + r) * K + col0 + col])));
  }
  amax = warp_max(amax);
  if (threadIdx.x % 32 == 0) warp_amax[threadIdx.x / 32] = amax;
  __syncthreads();
  float block_amax = 0.f;
#pragma unroll
  for (int i = 0; i < kWarpsPerCta; ++i) block_amax = fmaxf(block_amax, warp_amax[i]);
  const float s = fp8_block_scale(block_amax);
  for (int r = threadIdx.x / 128; r < 128; r += 2) {
    if (col >= 0 && row0 + r < N) {
      const int64_t i = (row0 + r) * K + col0 + col;
      q[i] = fp8_encode(to_f32(w[i]) / s);
    }
  }
  if (threadIdx.x == 0) scale[blockIdx.y * gridDim.x + blockIdx.x] = s;
}

template <typename Out>
__global__ void __launch_bounds__(256) dequantize_kernel(const uint8_t* __restrict__ q, const float* __restrict__ scale,
                                                         int64_t rows, int64_t K, bool weight_blocks,
                                                         Out* __restrict__ out) {
  const int64_t kb_count = ceil_div(K, 128);
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * K;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / K, col = i % K;
    const int64_t srow = weight_blocks ? row / 128 : row;
    out[i] = from_f32<Out>(fp8_decode(q[i]) * scale[srow * kb_count + col / 128]);
  }
}

template <typename T>
cudaError_t launch_quantize(const void* x, int64_t rows, int64_t K, bool weight, uint8_t* q, float* scale,
                            cudaStream_t stream) {
  if (rows == 0 || K == 0) return cudaSuccess;
  if (weight) {
    const dim3 grid(static_cast<unsigned>(ceil_div(K, 128)), static_cast<unsigned>(ceil_div(rows, 128)));
    quantize_weight_kernel<T><<<grid, 256, 0, stream>>>(static_cast<const T*>(x), rows, K, q, scale);
  } else {
    const int64_t chunks = rows * ceil_div(K, 128);
    quantize_act_kernel<T><<<static_cast<unsigned>(ceil_div(chunks, kWarpsPerCta)), 256, 0, stream>>>(
        static_cast<const T*>(x), rows, K, q, scale);
  }
  return cudaGetLastError();
}

cudaError_t quantize(const void* x, DType type, int64_t rows, int64_t K, bool weight, uint8_t* q, float* scale,
                     cudaStream_t stream) {
  if (weight && ceil_div(rows, 128) > 65535) return cudaErrorInvalidValue;
  switch (type) {
    case DType::kFloat32: return launch_quantize<float>(x, rows, K, weight, q, scale, stream);
    case DType::kBFloat16: return launch_quantize<__nv_bfloat16>(x, rows, K, weight, q, scale, stream);
    case DType::kFloat16: return launch_quantize<__half>(x, rows, K, weight, q, scale, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t quantize_act_1x128(const void* x, DType x_type, int64_t M, int64_t K, uint8_t* q, float* scale,
                               cudaStream_t stream) {
  return quantize(x, x_type, M, K, /*weight=*/false, q, scale, stream);
}

cudaError_t quantize_weight_128x128(const void* w, DType w_type, int64_t N, int64_t K, uint8_t* q, float* scale,
                                    cudaStream_t stream) {
  return quantize(w, w_type, N, K, /*weight=*/true, q, scale, stream);
}

cudaError_t dequantize_fp8(const uint8_t* q, const float* scale, int64_t rows, int64_t K, bool weight_blocks,
                           void* out, DType out_type, cudaStream_t stream) {
  if (rows == 0 || K == 0) return cudaSuccess;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(ceil_div(rows * K, 256), 65536));
  if (out_type == DType::kFloat32) {
    dequantize_kernel<float><<<blocks, 256, 0, stream>>>(q, scale, rows, K, weight_blocks, static_cast<float*>(out));
  } else if (out_type == DType::kBFloat16) {
    dequantize_kernel<__nv_bfloat16>
        <<<blocks, 256, 0, stream>>>(q, scale, rows, K, weight_blocks, static_cast<__nv_bfloat16*>(out));
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace r1::kernels::cuda
