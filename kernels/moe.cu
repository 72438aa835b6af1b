// MoE routing and data movement on CUDA: the counterparts of kernels/moe.cpp's references.
//
// Legend: T tokens, k slots per token, E experts, P permuted rows, D row width, I expert width.
//
// Routing must reproduce the reference row for row, so it is a stable sort, not atomics: keys are the
// expert ids (invalid ids become E, sorted last and dropped), values the pair indices t*k + j, and
// cub's radix sort is stable, so each expert's pairs keep (token, slot) order. Then a histogram, one
// single-CTA scan over E experts (E <= a few thousand: a sequential loop in one thread costs ~E*10 ns),
// and a placing kernel over the sorted pairs. Five launches, no host sync, a workspace of ~4 ints per
// pair: capturable in a CUDA graph.
//
// gather copies whole rows with 16-byte vectors when the row size allows (bytes are bytes: bf16
// activations, FP8 codes and fp32 scales use the same kernel). unpermute is a gather too (each token
// reads its k rows), so it needs no atomics and is deterministic. swiglu_quant is one warp per
// (row, 128-column block): read gate and up, silu * up in fp32, block amax by shuffles, encode.
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/common.cuh"

namespace r1::kernels::cuda {
namespace {

constexpr size_t kAlign = 256;
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

int key_bits(int E) {
  int bits = 1;
  while ((1 << bits) <= E) ++bits;  // keys are 0..E inclusive
  return bits;
}

struct RouteWorkspace {
  int32_t *keys_in, *keys_out, *vals_in, *vals_out;
  int32_t *raw_counts, *raw_start, *seg_start;
  void* sort_temp;
  size_t sort_temp_bytes;
};

size_t sort_temp_bytes(int64_t pairs, int E) {
  size_t bytes = 0;
  cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
                                  static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
                                  static_cast<int>(pairs), 0, key_bits(E));
  return bytes;
}

RouteWorkspace carve(void* base, int64_t pairs, int E) {
  RouteWorkspace w{};
  char* p = static_cast<char*>(base);
  const size_t pair_bytes = round_up(sizeof(int32_t) * pairs), expert_bytes = round_up(sizeof(int32_t) * (E + 1));
  w.keys_in = reinterpret_cast<int32_t*>(p), p += pair_bytes;
  w.keys_out = reinterpret_cast<int32_t*>(p), p += pair_bytes;
  w.vals_in = reinterpret_cast<int32_t*>(p), p += pair_bytes;
  w.vals_out = reinterpret_cast<int32_t*>(p), p += pair_bytes;
  w.raw_counts = reinterpret_cast<int32_t*>(p), p += expert_bytes;
  w.raw_start = reinterpret_cast<int32_t*>(p), p += expert_bytes;
  w.seg_start = reinterpret_cast<int32_t*>(p), p += expert_bytes;
  w.sort_temp = p;
  w.sort_temp_bytes = sort_temp_bytes(pairs, E);
  return w;
}

__global__ void route_keys_kernel(const int32_t* __restrict__ ids, int64_t pairs, int E, int32_t* __restrict__ keys,
                                  int32_t* __restrict__ vals, int32_t* __restrict__ raw_counts) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pairs;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int32_t e = ids[i];
    const bool routed = e >= 0 && e < E;
    keys[i] = routed ? e : E;
    vals[i] = static_cast<int32_t>(i);
    if (routed) atomicAdd(&raw_counts[e], 1);  // counting only: the count does not depend on order
  }
}

// One thread: raw_start (where each expert's pairs begin in sorted order), seg_start (where its rows
// begin in the layout), and the public counts / offsets.
__global__ void route_scan_kernel(const int32_t* __restrict__ raw_counts, int E, bool masked, int64_t capacity,
                                  int32_t* __restrict__ raw_start, int32_t* __restrict__ seg_start,
                                  int32_t* __restrict__ counts, int32_t* __restrict__ offsets) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  int64_t raw = 0, seg = 0;
  for (int e = 0; e < E; ++e) {
    const int64_t c = raw_counts[e];
    raw_start[e] = static_cast<int32_t>(raw);
    seg_start[e] = static_cast<int32_t>(masked ? e * capacity : seg);
    counts[e] = static_cast<int32_t>(masked ? min(c, capacity) : c);
    offsets[e] = seg_start[e];
    raw += c;
    seg += (c + capacity - 1) / capacity * capacity;
  }
  offsets[E] = static_cast<int32_t>(masked ? E * capacity : seg);
}

__global__ void route_place_kernel(const int32_t* __restrict__ sorted_keys, const int32_t* __restrict__ sorted_vals,
                                   int64_t pairs, int k, int E, bool masked, int64_t capacity,
                                   const int32_t* __restrict__ raw_start, const int32_t* __restrict__ seg_start,
                                   int32_t* __restrict__ row_token, int32_t* __restrict__ row_expert,
                                   int32_t* __restrict__ dest_row) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pairs;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int32_t e = sorted_keys[i], pair = sorted_vals[i];
    const int64_t rank = i - (e < E ? raw_start[e] : 0);
    if (e >= E || (masked && rank >= capacity)) {
      dest_row[pair] = -1;
      continue;
    }
    const int64_t row = seg_start[e] + rank;
    row_token[row] = pair / k;
    row_expert[row] = e;
    dest_row[pair] = static_cast<int32_t>(row);
  }
}

unsigned grid_for(int64_t n, int threads = 256) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(ceil_div(n, threads), 4096)));
}

// ---- gather ----

__global__ void gather_rows_kernel(const uint8_t* __restrict__ x, int64_t x_rows, int64_t row_bytes,
                                   const int32_t* __restrict__ row_token, int64_t P, uint8_t* __restrict__ out,
                                   bool vec16) {
  for (int64_t r = blockIdx.x; r < P; r += gridDim.x) {
    const int32_t t = row_token[r] < x_rows ? row_token[r] : -1;  // out-of-range tokens read as padding
    uint8_t* dst = out + r * row_bytes;
    if (vec16) {
      const int64_t n = row_bytes / 16;
      uint4* d = reinterpret_cast<uint4*>(dst);
      const uint4* s = reinterpret_cast<const uint4*>(x + static_cast<int64_t>(t) * row_bytes);
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) d[i] = t >= 0 ? s[i] : make_uint4(0, 0, 0, 0);
    } else {
      const uint8_t* s = x + static_cast<int64_t>(t) * row_bytes;
      for (int64_t i = threadIdx.x; i < row_bytes; i += blockDim.x) dst[i] = t >= 0 ? s[i] : 0;
    }
  }
}

// ---- unpermute ----

template <typename Y, typename W, typename O>
__global__ void __launch_bounds__(256) unpermute_kernel(const Y* __restrict__ y, int64_t y_rows, int64_t D,
                                                        const int32_t* __restrict__ dest,
                                                        const W* __restrict__ w, int64_t T, int k, O* __restrict__ out) {
  for (int64_t t = blockIdx.x; t < T; t += gridDim.x) {
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
      float acc = 0.f;
      for (int j = 0; j < k; ++j) {
        const int32_t row = dest[t * k + j];
        if (row >= 0 && row < y_rows) acc += to_f32(w[t * k + j]) * to_f32(y[static_cast<int64_t>(row) * D + d]);
      }
      out[t * D + d] = from_f32<O>(acc);
    }
  }
}

template <typename Y, typename W>
cudaError_t unpermute_out(const void* y, int64_t y_rows, int64_t D, const int32_t* dest, const void* w, int64_t T, int k, void* out,
                          DType out_type, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(T, 65535));
  if (out_type == DType::kFloat32) {
    unpermute_kernel<Y, W, float><<<blocks, 256, 0, stream>>>(static_cast<const Y*>(y), y_rows, D, dest,
                                                              static_cast<const W*>(w), T, k, static_cast<float*>(out));
  } else if (out_type == DType::kBFloat16) {
    unpermute_kernel<Y, W, __nv_bfloat16><<<blocks, 256, 0, stream>>>(
        static_cast<const Y*>(y), y_rows, D, dest, static_cast<const W*>(w), T, k, static_cast<__nv_bfloat16*>(out));
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

template <typename Y>
cudaError_t unpermute_weights(const void* y, int64_t y_rows, int64_t D, const int32_t* dest, const void* w,
                              DType w_type, int64_t T, int k, void* out, DType out_type, cudaStream_t stream) {
  switch (w_type) {
    case DType::kFloat32: return unpermute_out<Y, float>(y, y_rows, D, dest, w, T, k, out, out_type, stream);
    case DType::kBFloat16:
      return unpermute_out<Y, __nv_bfloat16>(y, y_rows, D, dest, w, T, k, out, out_type, stream);
    case DType::kFloat16: return unpermute_out<Y, __half>(y, y_rows, D, dest, w, T, k, out, out_type, stream);
  }
  return cudaErrorInvalidValue;
}

// ---- SwiGLU + 1x128 quantisation ----

template <typename T>
__global__ void __launch_bounds__(256) swiglu_quant_kernel(const T* __restrict__ x, int64_t P, int64_t I,
                                                           uint8_t* __restrict__ q, float* __restrict__ scale) {
  const auto swiglu = [x, I](int64_t row, int64_t col) {  // silu(gate) * up of row `row`, [gate | up] halves
    const float g = to_f32(x[row * 2 * I + col]), u = to_f32(x[row * 2 * I + I + col]);
    return g / (1.f + expf(-g)) * u;
  };
  quantize_rows_1x128(P, I, swiglu, q, scale);
}

}  // namespace

size_t moe_route_workspace_bytes(int64_t pairs, int num_experts) {
  return 4 * round_up(sizeof(int32_t) * pairs) + 3 * round_up(sizeof(int32_t) * (num_experts + 1)) +
         sort_temp_bytes(pairs, num_experts);
}

cudaError_t moe_route(const MoeRouteParams& p, cudaStream_t stream) {
  const int64_t pairs = p.T * p.k;
  if (p.E <= 0 || p.k < 0 || p.capacity < 1 || pairs >= (int64_t{1} << 31) ||
      p.workspace_bytes < moe_route_workspace_bytes(pairs, p.E))
    return cudaErrorInvalidValue;
  const RouteWorkspace w = carve(p.workspace, pairs, p.E);
  R1_CUDA_TRY(cudaMemsetAsync(p.row_token, 0xff, sizeof(int32_t) * p.P, stream));   // -1
  R1_CUDA_TRY(cudaMemsetAsync(p.row_expert, 0xff, sizeof(int32_t) * p.P, stream));  // -1
  R1_CUDA_TRY(cudaMemsetAsync(w.raw_counts, 0, sizeof(int32_t) * p.E, stream));
  if (pairs > 0) {
    route_keys_kernel<<<grid_for(pairs), 256, 0, stream>>>(p.topk_ids, pairs, p.E, w.keys_in, w.vals_in, w.raw_counts);
    R1_CUDA_TRY(cudaGetLastError());
    size_t temp_bytes = w.sort_temp_bytes;
    R1_CUDA_TRY(cub::DeviceRadixSort::SortPairs(w.sort_temp, temp_bytes, w.keys_in, w.keys_out, w.vals_in, w.vals_out,
                                                static_cast<int>(pairs), 0, key_bits(p.E), stream));
  }
  route_scan_kernel<<<1, 32, 0, stream>>>(w.raw_counts, p.E, p.masked, p.capacity, w.raw_start, w.seg_start,
                                          p.expert_counts, p.expert_offsets);
  R1_CUDA_TRY(cudaGetLastError());
  if (pairs > 0) {
    route_place_kernel<<<grid_for(pairs), 256, 0, stream>>>(w.keys_out, w.vals_out, pairs, p.k, p.E, p.masked,
                                                            p.capacity, w.raw_start, w.seg_start, p.row_token,
                                                            p.row_expert, p.dest_row);
    R1_CUDA_TRY(cudaGetLastError());
  }
  return cudaSuccess;
}

cudaError_t moe_gather(const void* x, int64_t x_rows, int64_t row_bytes, const int32_t* row_token, int64_t P,
                       void* out, cudaStream_t stream) {
  if (P == 0 || row_bytes == 0) return cudaSuccess;
  const bool vec16 = row_bytes % 16 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                     reinterpret_cast<uintptr_t>(out) % 16 == 0;
  const int threads = row_bytes >= 4096 ? 256 : 128;
  gather_rows_kernel<<<static_cast<unsigned>(std::min<int64_t>(P, 65535)), threads, 0, stream>>>(
      static_cast<const uint8_t*>(x), x_rows, row_bytes, row_token, P, static_cast<uint8_t*>(out), vec16);
  return cudaGetLastError();
}

cudaError_t moe_unpermute(const void* y, DType y_type, int64_t y_rows, int64_t D, const int32_t* dest_row,
                          const void* weights, DType w_type, int64_t T, int k, void* out, DType out_type,
                          cudaStream_t stream) {
  if (T == 0 || D == 0) return cudaSuccess;
  switch (y_type) {
    case DType::kFloat32:
      return unpermute_weights<float>(y, y_rows, D, dest_row, weights, w_type, T, k, out, out_type, stream);
    case DType::kBFloat16:
      return unpermute_weights<__nv_bfloat16>(y, y_rows, D, dest_row, weights, w_type, T, k, out, out_type, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t swiglu_quant(const void* x, DType x_type, int64_t P, int64_t I, uint8_t* q, float* scale,
                         cudaStream_t stream) {
  if (P == 0 || I == 0) return cudaSuccess;
  const unsigned blocks = static_cast<unsigned>(ceil_div(P * ceil_div(I, 128), 8));
  if (x_type == DType::kBFloat16) {
    swiglu_quant_kernel<__nv_bfloat16><<<blocks, 256, 0, stream>>>(static_cast<const __nv_bfloat16*>(x), P, I, q, scale);
  } else if (x_type == DType::kFloat32) {
    swiglu_quant_kernel<float><<<blocks, 256, 0, stream>>>(static_cast<const float*>(x), P, I, q, scale);
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace r1::kernels::cuda
