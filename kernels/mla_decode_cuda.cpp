// CUDA dispatch of MLA decode attention (kernels/mla_decode.h → kernels/mla_decode.cu). Compiled only
// with -DR1_CUDA=ON.
//
// The KV split count is chosen from shapes only (B, H, the block table's width, the SM count), never
// from the lengths on the device, so a decode step can be captured in a CUDA graph: each CTA divides
// its own sequence's blocks among the splits at run time. Block ids and lengths are not read back
// for validation (that would synchronise); the kernel treats an id outside the cache as an all-zero
// block and clamps lengths to the table, so bad tables give wrong numbers, never a fault.
#include <algorithm>

#include "common/error.h"
#include "kernels/internal/cuda_dispatch.h"
#include "kernels/internal/cuda_ops.h"
#include "kernels/internal/fp8_reference.h"

namespace r1::kernels::internal {
namespace {

int choose_splits(int64_t B, int64_t H, int64_t max_blocks, int64_t requested, const char* op) {
  if (requested > 0) {
    R1_CHECK(requested <= 65535, op, ": num_splits ", requested, " is too large");
    return static_cast<int>(requested);
  }
  const int64_t ctas = B * ((H + cuda::kMlaHeadsPerCta - 1) / cuda::kMlaHeadsPerCta);
  if (ctas >= num_sms()) return 1;
  // About two CTAs per SM, each split at least 4 blocks (256 tokens) long.
  const int64_t wanted = (2 * num_sms() + ctas - 1) / ctas;
  return static_cast<int>(std::clamp<int64_t>(std::min(wanted, max_blocks / 4), 1, 64));
}

}  // namespace

MlaDecodeResult mla_decode_cuda(const at::Tensor& q, const at::Tensor& kv_cache, const MlaFp8Cache* fp8_cache,
                                const at::Tensor& block_table, const at::Tensor& seq_lens,
                                const MlaDecodeOptions& opt, const at::Tensor& out, const at::Tensor& lse) {
  const char* op = fp8_cache ? "mla_decode_fp8" : "mla_decode";
  const int64_t R = cuda::kMlaLatent, Dr = cuda::kMlaRope, D = R + Dr;
  check_tensor(q, 3, {at::kBFloat16}, op, "q [B, H, 576] (the CUDA kernel takes bf16)");
  R1_CHECK(q.size(2) == D && opt.kv_lora_rank == R, op, ": the CUDA kernel is built for kv_lora_rank 512 + rope 64; got q ",
           q.sizes(), " and kv_lora_rank ", opt.kv_lora_rank);
  check_tensor(block_table, 2, {at::kInt}, op, "block_table [B, max_blocks]");
  check_tensor(seq_lens, 1, {at::kInt}, op, "seq_lens [B]");
  const int64_t B = q.size(0), H = q.size(1);
  R1_CHECK(block_table.size(0) == B && seq_lens.size(0) == B, op, ": q has ", B, " sequences, block_table ",
           block_table.sizes(), ", seq_lens ", seq_lens.sizes());
  R1_CHECK(opt.softmax_scale > 0, op, ": softmax_scale must be positive (192^-0.5 * mscale^2 for DeepSeek-V3)");
  check_out_dtype(opt.out_dtype, op);
  R1_CHECK(B > 0 && B <= 65535 && H > 0 && block_table.size(1) > 0, op, ": unsupported sizes B = ", B, ", H = ", H,
           ", max_blocks = ", block_table.size(1));

  at::Tensor kv, latent, latent_scale, rope;
  int64_t num_blocks;
  if (fp8_cache) {
    check_codes(fp8_cache->latent, 3, op, "latent [num_blocks, 64, 512]");
    num_blocks = fp8_cache->latent.size(0);
    R1_CHECK(fp8_cache->latent.sizes() == at::IntArrayRef({num_blocks, 64, R}), op, ": latent is ",
             fp8_cache->latent.sizes(), ", expected [num_blocks, 64, 512]");
    check_scale(fp8_cache->scale, {num_blocks, 64, R / 128}, op, "scale [num_blocks, 64, 4]");
    check_tensor(fp8_cache->rope, 3, {at::kBFloat16}, op, "rope [num_blocks, 64, 64]");
    R1_CHECK(fp8_cache->rope.sizes() == at::IntArrayRef({num_blocks, 64, Dr}), op, ": rope is ",
             fp8_cache->rope.sizes(), ", expected [num_blocks, 64, 64]");
    check_same_device({q, fp8_cache->latent, fp8_cache->scale, fp8_cache->rope, block_table, seq_lens}, op);
    latent = fp8_cache->latent.contiguous(), latent_scale = fp8_cache->scale.contiguous();
    rope = fp8_cache->rope.contiguous();
  } else {
    check_tensor(kv_cache, 3, {at::kBFloat16}, op, "kv_cache [num_blocks, 64, 576] (the CUDA kernel takes bf16)");
    num_blocks = kv_cache.size(0);
    R1_CHECK(kv_cache.size(1) == 64 && kv_cache.size(2) == D, op, ": kv_cache is ", kv_cache.sizes(),
             ", expected [num_blocks, 64, 576]");
    check_same_device({q, kv_cache, block_table, seq_lens}, op);
    kv = kv_cache.contiguous();
  }
  R1_CHECK(num_blocks > 0, op, ": the cache has no blocks");

  const c10::cuda::CUDAGuard guard(q.device());
  const at::Tensor qc = q.contiguous(), table = block_table.contiguous(), lens = seq_lens.contiguous();
  const auto f32 = qc.options().dtype(at::kFloat);
  MlaDecodeResult result{checked_out(out, {B, H, R}, opt.out_dtype, qc.device(), op),
                         checked_out(lse, {B, H}, at::kFloat, qc.device(), op, "lse")};
  cuda::MlaDecodeParams p;
  p.q = qc.data_ptr();
  if (fp8_cache) {
    p.latent = latent.data_ptr<uint8_t>(), p.latent_scale = latent_scale.data_ptr<float>(), p.rope = rope.data_ptr();
  } else {
    p.kv = kv.data_ptr();
  }
  p.block_table = table.data_ptr<int32_t>(), p.seq_lens = lens.data_ptr<int32_t>();
  p.max_blocks = table.size(1), p.num_blocks = num_blocks;
  p.B = static_cast<int>(B), p.H = static_cast<int>(H);
  p.softmax_scale = static_cast<float>(opt.softmax_scale);
  p.num_splits = choose_splits(B, H, table.size(1), opt.num_splits, op);
  at::Tensor partial_out, partial_lse;
  if (p.num_splits > 1) {
    partial_out = at::empty({B, H, p.num_splits, R}, f32);  // [B, H, S, 512]
    partial_lse = at::empty({B, H, p.num_splits}, f32);     // [B, H, S]
    p.partial_out = partial_out.data_ptr<float>(), p.partial_lse = partial_lse.data_ptr<float>();
  }
  p.out = result.out.data_ptr(), p.out_type = to_cuda_dtype(opt.out_dtype, op, "output");
  p.lse = result.lse.data_ptr<float>();
  check_launch(cuda::mla_decode(p, current_stream()), op);
  return result;
}

}  // namespace r1::kernels::internal
