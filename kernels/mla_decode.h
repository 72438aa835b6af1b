// MLA decode attention over the compressed, paged cache (DeepSeek-V2/V3 "absorbed" attention).
//
// What it is: one new query token per sequence attends to that sequence's cached tokens, where each
// cached token is one shared row [latent (kv_lora_rank) | rope key (qk_rope_head_dim)] — 576 values for
// V3 — that serves as the key of every head, and its latent part as the value of every head. The query
// of head h is [q_absorbed (q_nope · W_UK, kv_lora_rank) | q_rope]. So per head:
//   s[t] = softmax_scale * <q[h], cache[t]>,  p = softmax(s) in fp32,  out[h] = Σ_t p[t] * cache[t][:R]
// The output stays in latent space [B, H, kv_lora_rank]; the caller applies W_UV. The cache is paged:
// blocks of 64 tokens, sequence b's token t lives in block block_table[b][t / 64], row t % 64.
//
// The softmax scale is an explicit argument because the right value is NOT 1/sqrt(576): it is the
// scale of the un-absorbed attention, 1/sqrt(qk_nope_head_dim + qk_rope_head_dim) = 192^-0.5 for V3,
// times mscale^2 when YaRN is on. lse = log Σ_t exp(s[t]) comes back too (for split-KV merges and for
// debugging); a sequence of length 0 gives out = 0 and lse = -inf.
//
// FP8 cache (option): the latent is stored as e4m3 with one fp32 scale per token and 128 values (the
// 1x128 activation format), the rope key stays bf16 — 656 bytes per token instead of 1152. Its meaning
// is defined as "dequantise to a bf16 cache, then attend", which is what the kernel does in shared memory.
//
// Not here: writing the cache (the model's generator does that; mla_fp8_cache_quantize helps), several
// query tokens per sequence (MTP speculative decoding), W_UK / W_UV absorption.
#pragma once

#include <ATen/ATen.h>

namespace r1::kernels {

constexpr int64_t kMlaBlockSize = 64;  // tokens per cache block

struct MlaDecodeOptions {
  double softmax_scale = 0;      // required, > 0 (192^-0.5 * mscale^2 for DeepSeek-V3)
  int64_t kv_lora_rank = 512;    // R: latent width = value width; the rest of the row is the rope key
  at::ScalarType out_dtype = at::kFloat;  // kFloat or kBFloat16
  int64_t num_splits = 0;        // CUDA: KV splits per sequence (flash-decoding); 0 = choose
};

struct MlaDecodeResult {
  at::Tensor out;  // [B, H, R] of out_dtype
  at::Tensor lse;  // fp32 [B, H]
};

// The FP8 cache: latent codes, their scales and the bf16 rope keys, block-paged like the bf16 cache.
struct MlaFp8Cache {
  at::Tensor latent;  // uint8 [num_blocks, 64, R]
  at::Tensor scale;   // fp32 [num_blocks, 64, R/128]
  at::Tensor rope;    // bf16 [num_blocks, 64, Dr]
};

// q: [B, H, R + Dr]; kv_cache: [num_blocks, 64, R + Dr]; block_table: int32 [B, max_blocks];
// seq_lens: int32 [B] with seq_lens[b] <= 64 * max_blocks. CUDA needs bf16 q and cache, R = 512,
// Dr = 64; the reference takes bf16 or fp32 and any widths. `out` ([B, H, R] of out_dtype) and `lse`
// (fp32 [B, H]), when given, receive the results (CUDA graphs reuse buffers; tests poison them).
MlaDecodeResult mla_decode(const at::Tensor& q, const at::Tensor& kv_cache, const at::Tensor& block_table,
                           const at::Tensor& seq_lens, const MlaDecodeOptions& opt, at::Tensor out = {},
                           at::Tensor lse = {});
MlaDecodeResult mla_decode_fp8(const at::Tensor& q, const MlaFp8Cache& cache, const at::Tensor& block_table,
                               const at::Tensor& seq_lens, const MlaDecodeOptions& opt, at::Tensor out = {},
                               at::Tensor lse = {});

// CPU references (plain LibTorch ops, fp32 throughout; results on the CPU).
MlaDecodeResult mla_decode_reference(const at::Tensor& q, const at::Tensor& kv_cache, const at::Tensor& block_table,
                                     const at::Tensor& seq_lens, const MlaDecodeOptions& opt);
MlaDecodeResult mla_decode_fp8_reference(const at::Tensor& q, const MlaFp8Cache& cache,
                                         const at::Tensor& block_table, const at::Tensor& seq_lens,
                                         const MlaDecodeOptions& opt);

// bf16 cache [NB, 64, R + Dr] → FP8 cache (CPU reference quantisation, 1x128 per token) and back.
MlaFp8Cache mla_fp8_cache_quantize(const at::Tensor& kv_cache, int64_t kv_lora_rank);
at::Tensor mla_fp8_cache_dequantize(const MlaFp8Cache& cache);  // bf16 [NB, 64, R + Dr] on the CPU

// Shape and argument checks shared by the reference and the CUDA dispatch.
struct MlaDims {
  int64_t B, H, D, R, num_blocks, max_blocks;
};
MlaDims check_mla_decode_inputs(const at::Tensor& q, const at::Tensor& kv_cache, const at::Tensor& block_table,
                                const at::Tensor& seq_lens, const MlaDecodeOptions& opt, const char* op);

}  // namespace r1::kernels
