// The FP8 block-scaled GEMM kernels behind kernels/fp8_gemm.h and kernels/moe_gemm.h, templated on the
// row layout (dense, contiguous MoE, masked MoE). Included by fp8_gemm.cu (dense) and moe_gemm.cu
// (grouped); each instantiates its layouts.
//
// Legend: BM x 128 output tile (BM = 64 or 128), 128-wide K blocks, Kb = ceil(K/128), Nb = ceil(N/128).
//
// Tensor-core kernel (sm_90a), warp-specialised:
//   warpgroup 0 = producer: one thread issues TMA copies of A [BM x 128] and B [128 x 128] per K block
//     into a STAGES-deep ring of shared-memory buffers (128-byte swizzle), each stage guarded by a
//     "full" mbarrier (TMA bytes landed) and an "empty" mbarrier (all consumer threads done reading).
//     It gives its registers away (setmaxnreg.dec 40).
//   warpgroups 1..BM/64 = consumers: each owns 64 rows; per K block it issues 4 wgmma m64n128k32 e4m3
//     (scale-d = 0 on the first, so the block's partial starts from zero), waits, releases the stage,
//     and promotes: total += partial * (a_scale[row, kb] * b_scale[nb, kb]) in fp32 registers. The
//     scales are loaded before the wait, so their latency hides behind the TMA wait.
//   The epilogue stores fp32 totals straight from registers as bf16 pairs (or fp32), masking rows and
//   columns past the edges; split-K writes fp32 partials that a small kernel sums.
// Simple kernel (any sm, any K): 64x64 tile, 256 threads, 4x4 outputs per thread, FP8 decoded into
//   fp32 shared memory 32 K-columns at a time, the same per-block promotion. A fallback and a second
//   opinion, not a fast path.
//
// Layouts (see kernels/cuda/launch.h): a CTA's tile is found from blockIdx by tile_for_block(); a tile
// with nothing to do (contiguous padding, masked rows past masked_m) returns before touching barriers.
// Departures from DeepGEMM: no TMA multicast, no persistent tile scheduler, no TMA store epilogue, one
// N tile width (128), scales read with plain loads; see docs/kernels.md for the predicted cost of each.
#pragma once

#include <cudaTypedefs.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ptx.cuh"

namespace r1::kernels::cuda {
namespace gemm {

constexpr int kBlockN = 128;  // tensor-core tile width
constexpr int kSimpleTile = 64;

struct Tile {
  int64_t a_row0 = 0;     // first row of A and C
  int64_t row_limit = 0;  // rows at or past this are not stored
  int64_t b_row0 = 0;     // first row of B: group * N + n0
  int64_t n0 = 0;         // first output column
  int64_t group = 0;
  int kb_begin = 0, kb_end = 0;
  int split = 0;
  bool skip = false;
};

template <GemmLayout L, int BM, int BN>
__device__ __forceinline__ Tile tile_for_block(const Fp8GemmParams& p, int num_kb) {
  Tile t;
  t.n0 = static_cast<int64_t>(blockIdx.x) * BN;
  t.kb_begin = 0;
  t.kb_end = num_kb;
  if constexpr (L == GemmLayout::kDense) {
    t.a_row0 = static_cast<int64_t>(blockIdx.y) * BM;
    t.row_limit = p.rows_total;
    t.split = blockIdx.z;
    const int per_split = static_cast<int>(ceil_div(num_kb, p.split_k));
    t.kb_begin = min(num_kb, t.split * per_split);
    t.kb_end = min(num_kb, t.kb_begin + per_split);
  } else if constexpr (L == GemmLayout::kContiguous) {
    t.a_row0 = static_cast<int64_t>(blockIdx.y) * BM;
    t.row_limit = p.rows_total;
    t.group = t.a_row0 < p.rows_total ? p.row_expert[t.a_row0] : -1;
    t.skip = t.group < 0 || t.group >= p.groups;  // padding tile (or an id the B tensor does not have)
  } else {
    t.group = blockIdx.z;
    const int64_t valid = min(static_cast<int64_t>(p.masked_m[t.group]), p.rows_per_group);
    const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
    t.skip = m0 >= valid;
    t.a_row0 = t.group * p.rows_per_group + m0;
    t.row_limit = t.group * p.rows_per_group + valid;
  }
  t.b_row0 = t.group * p.N + t.n0;
  return t;
}

// Stores C[row, col] and C[row, col + 1] (col is even), honouring edges, layouts and split-K.
template <GemmLayout L>
__device__ __forceinline__ void store_pair(const Fp8GemmParams& p, const Tile& t, int64_t row, int64_t col, float v0,
                                           float v1) {
  if (row >= t.row_limit || col >= p.N) return;
  if constexpr (L == GemmLayout::kContiguous) {
    const int32_t owner = p.row_expert[row];
    if (owner < 0) return;  // padding row: never written
    if (owner != t.group) v0 = v1 = __int_as_float(0x7fc00000);  // tile mixes experts: make it loud (NaN)
  }
  const bool pair = col + 1 < p.N;
  if (p.split_k > 1) {
    float* dst = p.workspace + (static_cast<int64_t>(t.split) * p.rows_total + row) * p.N + col;
    dst[0] = v0;
    if (pair) dst[1] = v1;
  } else if (p.c_type == DType::kFloat32) {
    float* dst = static_cast<float*>(p.c) + row * p.N + col;
    if (pair && p.N % 2 == 0) {
      *reinterpret_cast<float2*>(dst) = make_float2(v0, v1);
    } else {
      dst[0] = v0;
      if (pair) dst[1] = v1;
    }
  } else {
    __nv_bfloat16* dst = static_cast<__nv_bfloat16*>(p.c) + row * p.N + col;
    if (pair && p.N % 2 == 0) {
      *reinterpret_cast<__nv_bfloat162*>(dst) = __floats2bfloat162_rn(v0, v1);
    } else {
      dst[0] = __float2bfloat16_rn(v0);
      if (pair) dst[1] = __float2bfloat16_rn(v1);
    }
  }
}

// ---- tensor-core kernel ----

template <int BM, int STAGES>
struct WgmmaConfig {
  static constexpr int kConsumers = BM / 64;
  static constexpr int kThreads = 128 * (1 + kConsumers);
  static constexpr uint32_t kStageBytesA = BM * 128;
  static constexpr uint32_t kStageBytesB = kBlockN * 128;
  static constexpr size_t kSmemBytes = STAGES * (kStageBytesA + kStageBytesB) + 2 * STAGES * sizeof(uint64_t) +
                                       1024;  // + alignment slack for the 1024-byte swizzle atoms
};

template <GemmLayout L, int BM, int STAGES>
__global__ void __launch_bounds__(WgmmaConfig<BM, STAGES>::kThreads, 1)
    fp8_gemm_wgmma_kernel(const __grid_constant__ CUtensorMap map_a, const __grid_constant__ CUtensorMap map_b,
                          const Fp8GemmParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using Cfg = WgmmaConfig<BM, STAGES>;
  extern __shared__ uint8_t smem_raw[];
  uint8_t* smem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t{1023});
  uint8_t* stage_a = smem;                                  // [STAGES][BM][128]
  uint8_t* stage_b = smem + STAGES * Cfg::kStageBytesA;     // [STAGES][128][128]
  uint64_t* full = reinterpret_cast<uint64_t*>(stage_b + STAGES * Cfg::kStageBytesB);  // [STAGES]
  uint64_t* empty = full + STAGES;                                                     // [STAGES]

  const int num_kb = static_cast<int>(ceil_div(p.K, 128));
  const Tile t = tile_for_block<L, BM, kBlockN>(p, num_kb);
  if (t.skip) return;  // uniform over the CTA, before any barrier
  const int iters = t.kb_end - t.kb_begin;
  const int warpgroup = threadIdx.x / 128;

  if (threadIdx.x == 0) {
#pragma unroll
    for (int s = 0; s < STAGES; ++s) {
      mbar_init(&full[s], 1);
      mbar_init(&empty[s], Cfg::kConsumers * 128);
    }
    fence_barrier_init();
  }
  __syncthreads();

  if (warpgroup == 0) {
    regs_release<40>();
    if (threadIdx.x == 0) {
      prefetch_tensor_map(&map_a);
      prefetch_tensor_map(&map_b);
      for (int it = 0; it < iters; ++it) {
        const int s = it % STAGES;
        mbar_wait(&empty[s], ((it / STAGES) & 1) ^ 1);
        mbar_arrive_expect_tx(&full[s], Cfg::kStageBytesA + Cfg::kStageBytesB);
        const int k0 = (t.kb_begin + it) * 128;
        tma_load_2d(stage_a + s * Cfg::kStageBytesA, &map_a, &full[s], k0, static_cast<int>(t.a_row0));
        tma_load_2d(stage_b + s * Cfg::kStageBytesB, &map_b, &full[s], k0, static_cast<int>(t.b_row0));
      }
    }
  } else {
    regs_acquire<232>();
    const int consumer = warpgroup - 1;
    const int warp = (threadIdx.x / 32) % 4, lane = threadIdx.x % 32;
    const int64_t row_a = t.a_row0 + consumer * 64 + warp * 16 + lane / 4;  // this thread's two rows
    const int64_t row_b = row_a + 8;
    const float* scale_row_a = p.a_scale + min(row_a, p.rows_total - 1) * num_kb;
    const float* scale_row_b = p.a_scale + min(row_b, p.rows_total - 1) * num_kb;
    const float* scale_b = p.b_scale + (t.group * ceil_div(p.N, 128) + t.n0 / 128) * num_kb;

    float acc[64];
    float total[64];
#pragma unroll
    for (int i = 0; i < 64; ++i) total[i] = 0.f;

    for (int it = 0; it < iters; ++it) {
      const int s = it % STAGES;
      const int kb = t.kb_begin + it;
      const float sa0 = scale_row_a[kb], sa1 = scale_row_b[kb], sb = scale_b[kb];
      mbar_wait(&full[s], (it / STAGES) & 1);
      const uint8_t* tile_a = stage_a + s * Cfg::kStageBytesA + consumer * 64 * 128;
      const uint8_t* tile_b = stage_b + s * Cfg::kStageBytesB;
      wgmma_fence();
#pragma unroll
      for (int k = 0; k < 4; ++k)
        wgmma_m64n128k32_e4m3(acc, smem_desc_sw128(tile_a + 32 * k), smem_desc_sw128(tile_b + 32 * k), k > 0);
      wgmma_commit();
      wgmma_wait<0>();
      fence_accumulators(acc);
      mbar_arrive(&empty[s]);
      const float s0 = sa0 * sb, s1 = sa1 * sb;
#pragma unroll
      for (int j = 0; j < 16; ++j) {
        total[4 * j + 0] += acc[4 * j + 0] * s0;
        total[4 * j + 1] += acc[4 * j + 1] * s0;
        total[4 * j + 2] += acc[4 * j + 2] * s1;
        total[4 * j + 3] += acc[4 * j + 3] * s1;
      }
    }
#pragma unroll
    for (int j = 0; j < 16; ++j) {
      const int64_t col = t.n0 + 8 * j + (lane % 4) * 2;
      store_pair<L>(p, t, row_a, col, total[4 * j + 0], total[4 * j + 1]);
      store_pair<L>(p, t, row_b, col, total[4 * j + 2], total[4 * j + 3]);
    }
  }
#endif
}

// ---- simple kernel ----

template <GemmLayout L>
__global__ void __launch_bounds__(256) fp8_gemm_simple_kernel(const Fp8GemmParams p) {
  constexpr int T = kSimpleTile, KS = 32;
  __shared__ float tile_a[KS][T + 4];  // [k][m], decoded
  __shared__ float tile_b[KS][T + 4];  // [k][n], decoded
  const int num_kb = static_cast<int>(ceil_div(p.K, 128));
  const Tile t = tile_for_block<L, T, T>(p, num_kb);
  if (t.skip) return;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;         // outputs: rows ty*4.., cols tx*4..
  const int load_row = threadIdx.x / 4, load_k = (threadIdx.x % 4) * 8;  // loads: one row, 8 K values
  const int64_t a_row = t.a_row0 + load_row;
  const bool a_ok = a_row < p.rows_total;
  const bool b_ok = t.n0 + load_row < p.N;
  const uint8_t* a_src = p.a + (a_ok ? a_row : 0) * p.K;
  const uint8_t* b_src = p.b + (b_ok ? t.b_row0 + load_row : 0) * p.K;
  const float* scale_b = p.b_scale + (t.group * ceil_div(p.N, 128) + t.n0 / 128) * num_kb;

  float total[4][4] = {};
  for (int kb = t.kb_begin; kb < t.kb_end; ++kb) {
    float part[4][4] = {};
    const int64_t k_end = min(p.K, static_cast<int64_t>(kb) * 128 + 128);
    for (int64_t k0 = static_cast<int64_t>(kb) * 128; k0 < k_end; k0 += KS) {
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const int64_t k = k0 + load_k + i;
        tile_a[load_k + i][load_row] = (a_ok && k < k_end) ? fp8_decode(a_src[k]) : 0.f;
        tile_b[load_k + i][load_row] = (b_ok && k < k_end) ? fp8_decode(b_src[k]) : 0.f;
      }
      __syncthreads();
#pragma unroll 8
      for (int kk = 0; kk < KS; ++kk) {
        float av[4], bv[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) av[i] = tile_a[kk][ty * 4 + i], bv[i] = tile_b[kk][tx * 4 + i];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
          for (int j = 0; j < 4; ++j) part[i][j] += av[i] * bv[j];
      }
      __syncthreads();
    }
    const float sb = scale_b[kb];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t row = t.a_row0 + ty * 4 + i;
      const float s = (row < p.rows_total ? p.a_scale[row * num_kb + kb] : 0.f) * sb;
#pragma unroll
      for (int j = 0; j < 4; ++j) total[i][j] += part[i][j] * s;
    }
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t row = t.a_row0 + ty * 4 + i;
    store_pair<L>(p, t, row, t.n0 + tx * 4, total[i][0], total[i][1]);
    store_pair<L>(p, t, row, t.n0 + tx * 4 + 2, total[i][2], total[i][3]);
  }
}

// ---- split-K reduction ----

__global__ void __launch_bounds__(256) split_k_reduce_kernel(const float* __restrict__ ws, int splits, int64_t count,
                                                             void* out, DType out_type) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum = 0.f;
    for (int s = 0; s < splits; ++s) sum += ws[s * count + i];
    if (out_type == DType::kFloat32) {
      static_cast<float*>(out)[i] = sum;
    } else {
      static_cast<__nv_bfloat16*>(out)[i] = __float2bfloat16_rn(sum);
    }
  }
}

// ---- host side ----

// cuTensorMapEncodeTiled through the runtime's driver entry point (no link-time dependency on libcuda).
inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult found{};
#if CUDART_VERSION >= 12050
    const cudaError_t err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000, cudaEnableDefault, &found);
#else
    const cudaError_t err = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &ptr, cudaEnableDefault, &found);
#endif
    return (err == cudaSuccess && found == cudaDriverEntryPointSuccess)
               ? reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(ptr)
               : nullptr;
  }();
  return fn;
}

// A 2-D uint8 tensor map over [rows, K] (row pitch K bytes), boxes of [box_rows, 128], 128-byte swizzle.
inline bool make_fp8_tensor_map(CUtensorMap* map, const uint8_t* base, int64_t rows, int64_t K, int box_rows) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
  if (!encode) return false;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(K), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(K)};  // bytes between rows
  const cuuint32_t box[2] = {128, static_cast<cuuint32_t>(box_rows)};
  const cuuint32_t elem_strides[2] = {1, 1};
  return encode(map, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<uint8_t*>(base), dims, strides, box, elem_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

inline dim3 grid_for(const Fp8GemmParams& p, int bm, int bn) {
  const int64_t rows = p.layout == GemmLayout::kMasked ? p.rows_per_group : p.rows_total;
  const int64_t z = p.layout == GemmLayout::kDense ? p.split_k : p.layout == GemmLayout::kMasked ? p.groups : 1;
  return dim3(static_cast<unsigned>(ceil_div(p.N, bn)), static_cast<unsigned>(ceil_div(rows, bm)),
              static_cast<unsigned>(z));
}

inline bool grid_fits(const dim3& g) { return g.x > 0 && g.y > 0 && g.z > 0 && g.y <= 65535 && g.z <= 65535; }

inline cudaError_t reduce_split_k(const Fp8GemmParams& p, cudaStream_t stream) {
  if (p.split_k <= 1) return cudaSuccess;
  const int64_t count = p.rows_total * p.N;
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(ceil_div(count, 256), 65536));
  split_k_reduce_kernel<<<blocks, 256, 0, stream>>>(p.workspace, p.split_k, count, p.c, p.c_type);
  return cudaGetLastError();
}

template <GemmLayout L, int BM, int STAGES>
cudaError_t launch_wgmma(const Fp8GemmParams& p, cudaStream_t stream) {
  using Cfg = WgmmaConfig<BM, STAGES>;
  CUtensorMap map_a, map_b;
  if (!make_fp8_tensor_map(&map_a, p.a, p.rows_total, p.K, BM) ||
      !make_fp8_tensor_map(&map_b, p.b, p.groups * p.N, p.K, kBlockN))
    return cudaErrorInvalidValue;
  const dim3 grid = grid_for(p, BM, kBlockN);
  if (!grid_fits(grid)) return cudaErrorInvalidValue;
  auto kernel = fp8_gemm_wgmma_kernel<L, BM, STAGES>;
  R1_CUDA_TRY(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   static_cast<int>(Cfg::kSmemBytes)));
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(map_a, map_b, p);
  R1_CUDA_TRY(cudaGetLastError());
  return reduce_split_k(p, stream);
}

template <GemmLayout L>
cudaError_t launch_tensor_core(const Fp8GemmParams& p, cudaStream_t stream) {
  if (!fp8_gemm_tensor_core_supported(p)) return cudaErrorInvalidValue;
  if (fp8_gemm_tensor_core_block_m(p) == 64) return launch_wgmma<L, 64, 8>(p, stream);
  return launch_wgmma<L, 128, 6>(p, stream);
}

template <GemmLayout L>
cudaError_t launch_simple(const Fp8GemmParams& p, cudaStream_t stream) {
  const dim3 grid = grid_for(p, kSimpleTile, kSimpleTile);
  if (!grid_fits(grid)) return cudaErrorInvalidValue;
  fp8_gemm_simple_kernel<L><<<grid, 256, 0, stream>>>(p);
  R1_CUDA_TRY(cudaGetLastError());
  return reduce_split_k(p, stream);
}

// The grouped layouts live in moe_gemm.cu.
cudaError_t launch_grouped(const Fp8GemmParams& p, bool tensor_core, cudaStream_t stream);

}  // namespace gemm
}  // namespace r1::kernels::cuda
