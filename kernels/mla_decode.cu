// MLA decode attention on CUDA (the counterpart of kernels/mla_decode.cpp's reference).
//
// Legend: B sequences, H heads, 16 heads per CTA (the M of an m16n8k16 MMA), R = 512 latent, Dr = 64
// rope, D = 576, 64-token cache blocks, S KV splits per sequence, 8 warps per CTA.
//
// Shape of the work: all heads of a sequence share one key/value row per token, so decode attention is
// two skinny GEMMs per 64-token block, S[16, 64] = Q[16, 576] · K[64, 576]^T and O[16, 512] += P · V
// with V = K[:, :512], plus an online softmax between them. One CTA = one sequence x 16 heads x one
// KV split (flash-decoding); a second kernel merges the splits by their log-sum-exps. Each block of
// the cache is copied once per CTA into shared memory with cp.async (double-buffered, rows padded by
// 16 bytes so ldmatrix is conflict-free) and read by the tensor cores from there:
//   scores: warp w computes the 16 x 8 slice for tokens 8w..8w+7 over k = 576 (36 mma.sync);
//   softmax: the block's row max goes through shared memory (8 warps), probabilities in fp32;
//   PV: warp w owns latent columns 64w..64w+63 (8 n-tiles, 32 fp32 accumulators per thread).
// Precision: p is split into p_hi = bf16(p) and p_lo = bf16(p - p_hi) and both are multiplied by V, so
// the PV product carries ~16 mantissa bits of p instead of bf16's 8. It costs 64 instead of 32 MMAs
// per warp and block (+47% of the block's tensor work). A CPU emulation of this blocked online softmax
// (B=1, H=16, L=4096, random bf16 q and cache) gave 1.2e-6 relative error with hi/lo p and 7.3e-4 with
// bf16 p (FlashMLA's choice): the latter leaves no margin under the 1e-3 bound. See docs/kernels.md.
// FP8 cache: the block's e4m3 latent and its scales land in a staging buffer, and the CTA dequantises
// them (code * scale in fp32, rounded to bf16) into the same shared-memory tile: the reference defines
// the FP8 cache as exactly that bf16 cache.
// Not yet: wgmma (this uses sm_80-style mma.sync, fine while memory-bound, i.e. H/16 * 2 * 576 flop per
// cache byte is small), all 128 heads per CTA (each 16-head group reads the block separately, from L2
// after the first), a GPU-side split scheduler (FlashMLA's tile metadata); see docs/kernels.md.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/ptx.cuh"

namespace r1::kernels::cuda {
namespace {

constexpr int kD = kMlaLatent + kMlaRope;  // 576
constexpr int kHeads = kMlaHeadsPerCta;    // 16
constexpr int kBlock = 64;
constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kRowStride = kD + 8;   // bf16 elements per shared row: 1168 bytes = 73 16-byte chunks
constexpr int kPStride = kBlock + 8; // 144 bytes = 9 chunks
constexpr int kChunksPerRow = kD / 8;        // 72 chunks of 8 bf16
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

template <bool kFp8>
struct Smem {
  static constexpr size_t kQ = sizeof(__nv_bfloat16) * kHeads * kRowStride;
  static constexpr size_t kKv = sizeof(__nv_bfloat16) * 2 * kBlock * kRowStride;
  static constexpr size_t kP = sizeof(__nv_bfloat16) * kHeads * kPStride;
  static constexpr size_t kRed = sizeof(float) * kWarps * kHeads;
  static constexpr size_t kStageLatent = kFp8 ? kBlock * kMlaLatent : 0;
  static constexpr size_t kStageScale = kFp8 ? sizeof(float) * kBlock * (kMlaLatent / 128) : 0;
  static constexpr size_t kBytes = kQ + kKv + 2 * kP + 2 * kRed + kStageLatent + kStageScale;
};

struct Split {
  int begin = 0, end = 0;  // cache blocks [begin, end) of this sequence
};

__device__ __forceinline__ Split split_range(int seq_len, int num_splits, int split) {
  const int blocks = (seq_len + kBlock - 1) / kBlock;
  const int per = (blocks + num_splits - 1) / num_splits;
  Split s;
  s.begin = min(blocks, split * per);
  s.end = min(blocks, s.begin + per);
  return s;
}

// Issues the cp.async copies of cache block `i` of sequence b (rows past seq_len are zero-filled).
template <bool kFp8>
__device__ __forceinline__ void load_block(const MlaDecodeParams& p, int b, int i, int seq_len, __nv_bfloat16* kv_tile,
                                           uint8_t* stage_latent, float* stage_scale) {
  const int64_t table_id = p.block_table[static_cast<int64_t>(b) * p.max_blocks + i];
  const bool block_ok = table_id >= 0 && table_id < p.num_blocks;  // a bad id reads as zeros, never out of bounds
  const int64_t first_row = (block_ok ? table_id : 0) * kBlock;
  seq_len = block_ok ? seq_len : 0;
  if constexpr (!kFp8) {
    const __nv_bfloat16* kv = static_cast<const __nv_bfloat16*>(p.kv);
    for (int c = threadIdx.x; c < kBlock * kChunksPerRow; c += kThreads) {
      const int row = c / kChunksPerRow, chunk = c % kChunksPerRow;
      const bool valid = i * kBlock + row < seq_len;
      const __nv_bfloat16* src = kv + (first_row + row) * kD + chunk * 8;
      cp_async_16(kv_tile + row * kRowStride + chunk * 8, valid ? src : kv, valid ? 16 : 0);
    }
  } else {
    for (int c = threadIdx.x; c < kBlock * (kMlaLatent / 16); c += kThreads) {  // 32 chunks per row
      const int row = c / (kMlaLatent / 16), chunk = c % (kMlaLatent / 16);
      const bool valid = i * kBlock + row < seq_len;
      const uint8_t* src = p.latent + (first_row + row) * kMlaLatent + chunk * 16;
      cp_async_16(stage_latent + row * kMlaLatent + chunk * 16, valid ? src : p.latent, valid ? 16 : 0);
    }
    for (int row = threadIdx.x; row < kBlock; row += kThreads) {  // 4 scales = 16 bytes per row
      const bool valid = i * kBlock + row < seq_len;
      const float* src = p.latent_scale + (first_row + row) * (kMlaLatent / 128);
      cp_async_16(stage_scale + row * (kMlaLatent / 128), valid ? src : p.latent_scale, valid ? 16 : 0);
    }
    const __nv_bfloat16* rope = static_cast<const __nv_bfloat16*>(p.rope);
    for (int c = threadIdx.x; c < kBlock * (kMlaRope / 8); c += kThreads) {  // 8 chunks per row
      const int row = c / (kMlaRope / 8), chunk = c % (kMlaRope / 8);
      const bool valid = i * kBlock + row < seq_len;
      const __nv_bfloat16* src = rope + (first_row + row) * kMlaRope + chunk * 8;
      cp_async_16(kv_tile + row * kRowStride + kMlaLatent + chunk * 8, valid ? src : rope, valid ? 16 : 0);
    }
  }
}

// FP8 staging → bf16 latent columns of the tile: value = bf16(decode(code) * scale).
__device__ __forceinline__ void dequantize_block(const uint8_t* stage_latent, const float* stage_scale,
                                                 __nv_bfloat16* kv_tile) {
  for (int w = threadIdx.x; w < kBlock * kMlaLatent / 4; w += kThreads) {
    const int row = w / (kMlaLatent / 4), col = (w % (kMlaLatent / 4)) * 4;
    const uint32_t codes = *reinterpret_cast<const uint32_t*>(stage_latent + row * kMlaLatent + col);
    const float s = stage_scale[row * (kMlaLatent / 128) + col / 128];
    __nv_bfloat162 lo = __floats2bfloat162_rn(fp8_decode(codes & 0xff) * s, fp8_decode((codes >> 8) & 0xff) * s);
    __nv_bfloat162 hi = __floats2bfloat162_rn(fp8_decode((codes >> 16) & 0xff) * s, fp8_decode(codes >> 24) * s);
    __nv_bfloat162* dst = reinterpret_cast<__nv_bfloat162*>(kv_tile + row * kRowStride + col);
    dst[0] = lo;
    dst[1] = hi;
  }
}

__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

__device__ __forceinline__ uint32_t pack_bf16(float a, float b, float& ra, float& rb) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
  ra = __low2float(v);
  rb = __high2float(v);
  return *reinterpret_cast<const uint32_t*>(&v);
}

template <bool kFp8>
__global__ void __launch_bounds__(kThreads, 1) mla_decode_kernel(const MlaDecodeParams p) {
  using S = Smem<kFp8>;
  extern __shared__ __align__(16) uint8_t smem[];
  __nv_bfloat16* q_tile = reinterpret_cast<__nv_bfloat16*>(smem);                      // [16][kRowStride]
  __nv_bfloat16* kv_tiles = reinterpret_cast<__nv_bfloat16*>(smem + S::kQ);            // [2][64][kRowStride]
  __nv_bfloat16* p_hi = reinterpret_cast<__nv_bfloat16*>(smem + S::kQ + S::kKv);       // [16][kPStride]
  __nv_bfloat16* p_lo = p_hi + kHeads * kPStride;                                      // [16][kPStride]
  float* red_max = reinterpret_cast<float*>(smem + S::kQ + S::kKv + 2 * S::kP);        // [8][16]
  float* red_sum = red_max + kWarps * kHeads;                                          // [8][16]
  uint8_t* stage_latent = smem + S::kQ + S::kKv + 2 * S::kP + 2 * S::kRed;            // [64][512]
  float* stage_scale = reinterpret_cast<float*>(stage_latent + S::kStageLatent);       // [64][4]

  // Head groups are the fastest grid dimension, so the CTAs that read the same cache blocks run side by
  // side and all but the first read them from L2.
  const int head0 = blockIdx.x * kHeads, split = blockIdx.y, b = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, q4 = lane % 4;  // fragment row (and row + 8), column pair
  const int seq_len = static_cast<int>(min(max(static_cast<int64_t>(p.seq_lens[b]), int64_t{0}), p.max_blocks * kBlock));
  const Split range = split_range(seq_len, p.num_splits, split);
  const float scale_log2 = p.softmax_scale * kLog2e;

  float m[2] = {-INFINITY, -INFINITY};  // running row max (log2 units) for rows g, g + 8
  float l[2] = {0.f, 0.f};              // this thread's share of the running row sums
  float o[8][4];
#pragma unroll
  for (int nt = 0; nt < 8; ++nt) o[nt][0] = o[nt][1] = o[nt][2] = o[nt][3] = 0.f;

  if (range.begin < range.end) {
    const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q);
    for (int c = threadIdx.x; c < kHeads * kChunksPerRow; c += kThreads) {
      const int row = c / kChunksPerRow, chunk = c % kChunksPerRow;
      const bool valid = head0 + row < p.H;
      const __nv_bfloat16* src = q + (static_cast<int64_t>(b) * p.H + head0 + row) * kD + chunk * 8;
      cp_async_16(q_tile + row * kRowStride + chunk * 8, valid ? src : q, valid ? 16 : 0);
    }
    load_block<kFp8>(p, b, range.begin, seq_len, kv_tiles, stage_latent, stage_scale);
    cp_async_commit();
  }

  for (int i = range.begin; i < range.end; ++i) {
    __nv_bfloat16* kv = kv_tiles + ((i - range.begin) & 1) * kBlock * kRowStride;
    cp_async_wait<0>();
    __syncthreads();
    if constexpr (kFp8) {
      dequantize_block(stage_latent, stage_scale, kv);
      __syncthreads();
    }
    if (i + 1 < range.end) {
      load_block<kFp8>(p, b, i + 1, seq_len, kv_tiles + ((i + 1 - range.begin) & 1) * kBlock * kRowStride,
                       stage_latent, stage_scale);
      cp_async_commit();
    }

    // Scores for tokens 8*warp .. 8*warp+7 of this block: s[0..1] row g, s[2..3] row g + 8.
    float s[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll 6
    for (int ks = 0; ks < kD / 16; ks += 2) {
      uint32_t a0[4], a1[4], bk[4];
      ldmatrix_x4(a0, q_tile + (lane % 16) * kRowStride + ks * 16 + (lane / 16) * 8);
      ldmatrix_x4(a1, q_tile + (lane % 16) * kRowStride + (ks + 1) * 16 + (lane / 16) * 8);
      ldmatrix_x4(bk, kv + (warp * 8 + lane % 8) * kRowStride + ks * 16 + (lane / 8) * 8);
      mma_bf16_16816(s, a0, bk[0], bk[1]);
      mma_bf16_16816(s, a1, bk[2], bk[3]);
    }
    const int token = i * kBlock + warp * 8 + 2 * q4;
#pragma unroll
    for (int j = 0; j < 4; ++j) s[j] = (token + (j & 1) < seq_len) ? s[j] * scale_log2 : -INFINITY;

    // Block row max across the 8 warps, then the online-softmax update.
    const float local0 = quad_max(fmaxf(s[0], s[1])), local1 = quad_max(fmaxf(s[2], s[3]));
    if (q4 == 0) {
      red_max[warp * kHeads + g] = local0;
      red_max[warp * kHeads + g + 8] = local1;
    }
    __syncthreads();
    float block0 = -INFINITY, block1 = -INFINITY;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      block0 = fmaxf(block0, red_max[w * kHeads + g]);
      block1 = fmaxf(block1, red_max[w * kHeads + g + 8]);
    }
    const float new0 = fmaxf(m[0], block0), new1 = fmaxf(m[1], block1);  // finite: the block has a token
    const float alpha0 = exp2f(m[0] - new0), alpha1 = exp2f(m[1] - new1);
    m[0] = new0;
    m[1] = new1;
    const float p0 = exp2f(s[0] - new0), p1 = exp2f(s[1] - new0), p2 = exp2f(s[2] - new1), p3 = exp2f(s[3] - new1);
    l[0] = l[0] * alpha0 + p0 + p1;
    l[1] = l[1] * alpha1 + p2 + p3;
    float r0, r1, r2, r3;
    const uint32_t hi01 = pack_bf16(p0, p1, r0, r1), hi23 = pack_bf16(p2, p3, r2, r3);
    float unused0, unused1;
    const uint32_t lo01 = pack_bf16(p0 - r0, p1 - r1, unused0, unused1);
    const uint32_t lo23 = pack_bf16(p2 - r2, p3 - r3, unused0, unused1);
    const int col = warp * 8 + 2 * q4;
    *reinterpret_cast<uint32_t*>(p_hi + g * kPStride + col) = hi01;
    *reinterpret_cast<uint32_t*>(p_hi + (g + 8) * kPStride + col) = hi23;
    *reinterpret_cast<uint32_t*>(p_lo + g * kPStride + col) = lo01;
    *reinterpret_cast<uint32_t*>(p_lo + (g + 8) * kPStride + col) = lo23;
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
      o[nt][0] *= alpha0, o[nt][1] *= alpha0;
      o[nt][2] *= alpha1, o[nt][3] *= alpha1;
    }
    __syncthreads();

    // O[:, 64*warp .. +63] += (P_hi + P_lo) · V over the block's 64 tokens.
#pragma unroll
    for (int ks = 0; ks < kBlock / 16; ++ks) {
      uint32_t ah[4], al[4];
      ldmatrix_x4(ah, p_hi + (lane % 16) * kPStride + ks * 16 + (lane / 16) * 8);
      ldmatrix_x4(al, p_lo + (lane % 16) * kPStride + ks * 16 + (lane / 16) * 8);
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        uint32_t bv[4];
        ldmatrix_x4_trans(bv, kv + (ks * 16 + lane % 8 + ((lane / 8) % 2) * 8) * kRowStride + warp * 64 + np * 16 +
                                  (lane / 16) * 8);
        mma_bf16_16816(o[2 * np], ah, bv[0], bv[1]);
        mma_bf16_16816(o[2 * np], al, bv[0], bv[1]);
        mma_bf16_16816(o[2 * np + 1], ah, bv[2], bv[3]);
        mma_bf16_16816(o[2 * np + 1], al, bv[2], bv[3]);
      }
    }
  }

  // Row sums over all 64 columns of every block: the quad, then the 8 warps.
  const float quad0 = quad_sum(l[0]), quad1 = quad_sum(l[1]);
  if (q4 == 0) {
    red_sum[warp * kHeads + g] = quad0;
    red_sum[warp * kHeads + g + 8] = quad1;
  }
  __syncthreads();
  float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    sum0 += red_sum[w * kHeads + g];
    sum1 += red_sum[w * kHeads + g + 8];
  }
  const float inv[2] = {sum0 > 0.f ? 1.f / sum0 : 0.f, sum1 > 0.f ? 1.f / sum1 : 0.f};
  const float lse[2] = {sum0 > 0.f ? (m[0] + log2f(sum0)) * kLn2 : -INFINITY,
                        sum1 > 0.f ? (m[1] + log2f(sum1)) * kLn2 : -INFINITY};
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int h = head0 + g + 8 * half;
    if (h >= p.H) continue;
    const int64_t bh = static_cast<int64_t>(b) * p.H + h;
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) {
      const int c = warp * 64 + nt * 8 + 2 * q4;
      const float v0 = o[nt][2 * half] * inv[half], v1 = o[nt][2 * half + 1] * inv[half];
      if (p.num_splits > 1) {
        *reinterpret_cast<float2*>(p.partial_out + (bh * p.num_splits + split) * kMlaLatent + c) = make_float2(v0, v1);
      } else if (p.out_type == DType::kFloat32) {
        *reinterpret_cast<float2*>(static_cast<float*>(p.out) + bh * kMlaLatent + c) = make_float2(v0, v1);
      } else {
        *reinterpret_cast<__nv_bfloat162*>(static_cast<__nv_bfloat16*>(p.out) + bh * kMlaLatent + c) =
            __floats2bfloat162_rn(v0, v1);
      }
    }
    if (warp == 0 && q4 == 0) {
      if (p.num_splits > 1) {
        p.partial_lse[bh * p.num_splits + split] = lse[half];
      } else {
        p.lse[bh] = lse[half];
      }
    }
  }
}

// out[b, h] = Σ_s exp(lse_s − lse) · out_s, lse = log Σ_s exp(lse_s). One CTA per (b, h).
__global__ void __launch_bounds__(128) mla_combine_kernel(const MlaDecodeParams p) {
  const int64_t bh = blockIdx.x;
  const float* lse_s = p.partial_lse + bh * p.num_splits;
  float m = -INFINITY;
  for (int s = 0; s < p.num_splits; ++s) m = fmaxf(m, lse_s[s]);
  float total = 0.f;
  if (m != -INFINITY)
    for (int s = 0; s < p.num_splits; ++s) total += expf(lse_s[s] - m);
  for (int c = threadIdx.x; c < kMlaLatent; c += blockDim.x) {
    float acc = 0.f;
    if (m != -INFINITY) {
      for (int s = 0; s < p.num_splits; ++s) {
        const float w = expf(lse_s[s] - m) / total;
        if (w > 0.f) acc += w * p.partial_out[(bh * p.num_splits + s) * kMlaLatent + c];
      }
    }
    if (p.out_type == DType::kFloat32) {
      static_cast<float*>(p.out)[bh * kMlaLatent + c] = acc;
    } else {
      static_cast<__nv_bfloat16*>(p.out)[bh * kMlaLatent + c] = __float2bfloat16_rn(acc);
    }
  }
  if (threadIdx.x == 0) p.lse[bh] = m == -INFINITY ? -INFINITY : m + logf(total);
}

template <bool kFp8>
cudaError_t launch(const MlaDecodeParams& p, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(ceil_div(p.H, kHeads)), static_cast<unsigned>(p.num_splits),
                  static_cast<unsigned>(p.B));
  const size_t smem = Smem<kFp8>::kBytes;
  R1_CUDA_TRY(cudaFuncSetAttribute(mla_decode_kernel<kFp8>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   static_cast<int>(smem)));
  mla_decode_kernel<kFp8><<<grid, kThreads, smem, stream>>>(p);
  R1_CUDA_TRY(cudaGetLastError());
  if (p.num_splits > 1) {
    mla_combine_kernel<<<static_cast<unsigned>(static_cast<int64_t>(p.B) * p.H), 128, 0, stream>>>(p);
    R1_CUDA_TRY(cudaGetLastError());
  }
  return cudaSuccess;
}

}  // namespace

cudaError_t mla_decode(const MlaDecodeParams& p, cudaStream_t stream) {
  const bool fp8 = p.kv == nullptr;
  if (p.B <= 0 || p.H <= 0 || p.num_blocks <= 0 || p.max_blocks <= 0 || p.num_splits < 1 || p.B > 65535 ||
      p.num_splits > 65535 || p.softmax_scale <= 0 ||
      (fp8 && (p.latent == nullptr || p.latent_scale == nullptr || p.rope == nullptr)) ||
      (p.num_splits > 1 && (p.partial_out == nullptr || p.partial_lse == nullptr)))
    return cudaErrorInvalidValue;
  return fp8 ? launch<true>(p, stream) : launch<false>(p, stream);
}

}  // namespace r1::kernels::cuda
