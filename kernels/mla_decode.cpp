// MLA decode attention: checks, CPU references, FP8 cache conversion and device dispatch (see mla_decode.h).
//
// Legend: B sequences, H heads, D = R + Dr cache row width (576), R latent width (kv_lora_rank, 512),
// Dr rope width (64), NB cache blocks, L one sequence's length, 64 tokens per block.
//
// The reference gathers each sequence's pages into a contiguous [L, D] key matrix and runs textbook
// softmax attention in fp32, one sequence at a time: slow and obviously right.
#include "kernels/mla_decode.h"

#include <cmath>
#include <limits>

#include "common/error.h"
#include "kernels/fp8_quant.h"
#include "kernels/internal/fp8_reference.h"

#if R1_WITH_CUDA
#include "kernels/internal/cuda_ops.h"
#endif

namespace r1::kernels {
namespace {

// Checks what the bf16 and FP8 variants share: q, the block table, the lengths, the options.
void check_common(const at::Tensor& q, int64_t D, int64_t num_blocks, const at::Tensor& block_table,
                  const at::Tensor& seq_lens, const MlaDecodeOptions& opt, const char* op) {
  internal::check_tensor(q, 3, {at::kBFloat16, at::kFloat}, op, "q [B, H, R + Dr]");
  internal::check_tensor(block_table, 2, {at::kInt}, op, "block_table [B, max_blocks]");
  internal::check_tensor(seq_lens, 1, {at::kInt}, op, "seq_lens [B]");
  const int64_t B = q.size(0);
  R1_CHECK(q.size(2) == D, op, ": q rows have width ", q.size(2), " but cache rows have width ", D);
  R1_CHECK(block_table.size(0) == B && seq_lens.size(0) == B, op, ": q has ", B, " sequences, block_table ",
           block_table.sizes(), ", seq_lens ", seq_lens.sizes());
  R1_CHECK(opt.softmax_scale > 0 && std::isfinite(opt.softmax_scale), op,
           ": softmax_scale must be a positive number (192^-0.5 * mscale^2 for DeepSeek-V3), got ",
           opt.softmax_scale);
  R1_CHECK(opt.kv_lora_rank > 0 && opt.kv_lora_rank < D, op, ": kv_lora_rank ", opt.kv_lora_rank,
           " must be in (0, ", D, ")");
  internal::check_out_dtype(opt.out_dtype, op);
  R1_CHECK(num_blocks > 0, op, ": the cache has no blocks");
}

// Reads the lengths and the used part of the block table on the CPU and validates them against the cache.
void check_pages(const at::Tensor& block_table, const at::Tensor& seq_lens, int64_t num_blocks, const char* op) {
  const at::Tensor lens = seq_lens.to(at::kCPU, at::kLong);          // [B]
  const at::Tensor table = block_table.to(at::kCPU, at::kLong);      // [B, max_blocks]
  const int64_t max_blocks = table.size(1);
  for (int64_t b = 0; b < lens.size(0); ++b) {
    const int64_t L = lens[b].item<int64_t>();
    R1_CHECK(L >= 0 && L <= max_blocks * kMlaBlockSize, op, ": seq_lens[", b, "] = ", L, " is outside [0, ",
             max_blocks * kMlaBlockSize, "] (block_table has ", max_blocks, " blocks of 64 per sequence)");
    for (int64_t i = 0; i < (L + kMlaBlockSize - 1) / kMlaBlockSize; ++i) {
      const int64_t id = table[b][i].item<int64_t>();
      R1_CHECK(id >= 0 && id < num_blocks, op, ": block_table[", b, "][", i, "] = ", id,
               " is not a cache block (the cache has ", num_blocks, ")");
    }
  }
}

}  // namespace

MlaDims check_mla_decode_inputs(const at::Tensor& q, const at::Tensor& kv_cache, const at::Tensor& block_table,
                                const at::Tensor& seq_lens, const MlaDecodeOptions& opt, const char* op) {
  internal::check_tensor(kv_cache, 3, {at::kBFloat16, at::kFloat}, op, "kv_cache [num_blocks, 64, R + Dr]");
  R1_CHECK(kv_cache.size(1) == kMlaBlockSize, op, ": kv_cache blocks must hold 64 tokens, got ",
           kv_cache.sizes());
  check_common(q, kv_cache.size(2), kv_cache.size(0), block_table, seq_lens, opt, op);
  internal::check_same_device({q, kv_cache, block_table, seq_lens}, op);
  return {q.size(0), q.size(1), q.size(2), opt.kv_lora_rank, kv_cache.size(0), block_table.size(1)};
}

MlaDecodeResult mla_decode_reference(const at::Tensor& q, const at::Tensor& kv_cache, const at::Tensor& block_table,
                                     const at::Tensor& seq_lens, const MlaDecodeOptions& opt) {
  const char* op = "mla_decode_reference";
  const MlaDims d = check_mla_decode_inputs(q, kv_cache, block_table, seq_lens, opt, op);
  check_pages(block_table, seq_lens, d.num_blocks, op);
  const at::Tensor qf = q.to(at::kCPU, at::kFloat);           // [B, H, D]
  const at::Tensor cache = kv_cache.to(at::kCPU, at::kFloat); // [NB, 64, D]
  const at::Tensor table = block_table.to(at::kCPU, at::kLong);
  const at::Tensor lens = seq_lens.to(at::kCPU, at::kLong);
  at::Tensor out = at::zeros({d.B, d.H, d.R}, qf.options());                                         // [B, H, R]
  at::Tensor lse = at::full({d.B, d.H}, -std::numeric_limits<float>::infinity(), qf.options());  // [B, H]
  for (int64_t b = 0; b < d.B; ++b) {
    const int64_t L = lens[b].item<int64_t>();
    if (L == 0) continue;
    const int64_t used = (L + kMlaBlockSize - 1) / kMlaBlockSize;
    const at::Tensor pages = cache.index_select(0, table[b].narrow(0, 0, used));  // [used, 64, D]
    const at::Tensor keys = pages.reshape({used * kMlaBlockSize, d.D}).narrow(0, 0, L);  // [L, D]
    const at::Tensor scores = at::matmul(qf[b], keys.t()) * opt.softmax_scale;       // [H, L]
    const at::Tensor row_lse = at::logsumexp(scores, 1);                              // [H]
    const at::Tensor probs = at::exp(scores - row_lse.unsqueeze(1));                  // [H, L]
    out[b].copy_(at::matmul(probs, keys.narrow(1, 0, d.R)));                          // [H, R]
    lse[b].copy_(row_lse);
  }
  return {out.to(opt.out_dtype), lse};
}

MlaFp8Cache mla_fp8_cache_quantize(const at::Tensor& kv_cache, int64_t kv_lora_rank) {
  const char* op = "mla_fp8_cache_quantize";
  internal::check_tensor(kv_cache, 3, {at::kBFloat16, at::kFloat}, op, "kv_cache [num_blocks, 64, R + Dr]");
  const int64_t NB = kv_cache.size(0), T = kv_cache.size(1), D = kv_cache.size(2), R = kv_lora_rank;
  R1_CHECK(R > 0 && R < D && R % 128 == 0, op, ": kv_lora_rank ", R, " must be a positive multiple of 128 below ", D);
  const at::Tensor cache = kv_cache.cpu();
  const Fp8Blocks q = quantize_act_1x128(cache.narrow(2, 0, R).reshape({NB * T, R}));  // [NB*64, R]
  return {q.data.view({NB, T, R}), q.scale.view({NB, T, R / 128}),
          cache.narrow(2, R, D - R).to(at::kBFloat16).contiguous()};
}

at::Tensor mla_fp8_cache_dequantize(const MlaFp8Cache& cache) {
  const char* op = "mla_fp8_cache_dequantize";
  internal::check_codes(cache.latent, 3, op, "latent [num_blocks, 64, R]");
  const int64_t NB = cache.latent.size(0), T = cache.latent.size(1), R = cache.latent.size(2);
  R1_CHECK(R % 128 == 0, op, ": latent width ", R, " must be a multiple of 128");
  internal::check_scale(cache.scale, {NB, T, R / 128}, op, "scale [num_blocks, 64, R/128]");
  internal::check_tensor(cache.rope, 3, {at::kBFloat16}, op, "rope [num_blocks, 64, Dr]");
  R1_CHECK(cache.rope.size(0) == NB && cache.rope.size(1) == T, op, ": rope is ", cache.rope.sizes(),
           " but latent is ", cache.latent.sizes());
  const at::Tensor latent = dequantize_act_1x128({cache.latent.reshape({NB * T, R}), cache.scale.reshape({NB * T, R / 128})},
                                                 at::kFloat);  // [NB*64, R]
  return at::cat({latent.view({NB, T, R}).to(at::kBFloat16), cache.rope.cpu()}, 2);  // [NB, 64, R + Dr]
}

MlaDecodeResult mla_decode_fp8_reference(const at::Tensor& q, const MlaFp8Cache& cache,
                                         const at::Tensor& block_table, const at::Tensor& seq_lens,
                                         const MlaDecodeOptions& opt) {
  const at::Tensor bf16_cache = mla_fp8_cache_dequantize(cache);  // [NB, 64, R + Dr]
  R1_CHECK(cache.latent.size(2) == opt.kv_lora_rank, "mla_decode_fp8_reference: latent width ",
           cache.latent.size(2), " differs from kv_lora_rank ", opt.kv_lora_rank);
  return mla_decode_reference(q, bf16_cache, block_table, seq_lens, opt);
}

MlaDecodeResult mla_decode(const at::Tensor& q, const at::Tensor& kv_cache, const at::Tensor& block_table,
                           const at::Tensor& seq_lens, const MlaDecodeOptions& opt, at::Tensor out, at::Tensor lse) {
  if (!q.is_cuda()) {
    const MlaDecodeResult r = mla_decode_reference(q, kv_cache, block_table, seq_lens, opt);
    return {internal::deliver(r.out, out, "mla_decode"), internal::deliver(r.lse, lse, "mla_decode", "lse")};
  }
#if R1_WITH_CUDA
  return internal::mla_decode_cuda(q, kv_cache, nullptr, block_table, seq_lens, opt, out, lse);
#else
  fail("mla_decode: got CUDA tensors but r1 was built without CUDA kernels");
#endif
}

MlaDecodeResult mla_decode_fp8(const at::Tensor& q, const MlaFp8Cache& cache, const at::Tensor& block_table,
                               const at::Tensor& seq_lens, const MlaDecodeOptions& opt, at::Tensor out,
                               at::Tensor lse) {
  if (!q.is_cuda()) {
    const MlaDecodeResult r = mla_decode_fp8_reference(q, cache, block_table, seq_lens, opt);
    return {internal::deliver(r.out, out, "mla_decode_fp8"), internal::deliver(r.lse, lse, "mla_decode_fp8", "lse")};
  }
#if R1_WITH_CUDA
  return internal::mla_decode_cuda(q, at::Tensor(), &cache, block_table, seq_lens, opt, out, lse);
#else
  fail("mla_decode_fp8: got CUDA tensors but r1 was built without CUDA kernels");
#endif
}

}  // namespace r1::kernels
