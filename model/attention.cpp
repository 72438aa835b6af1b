// See attention.h.
#include "model/attention.h"

#include "common/error.h"
#include "kernels/mla_decode.h"

namespace r1::model {
namespace {

// Writes `fresh` into `cache` along `dim`: at slots [offset, offset + S), returning the filled prefix, or
// (static step) at the device-side slot in.slot, returning the whole cache.
at::Tensor append(at::Tensor& cache, const at::Tensor& fresh, int64_t dim, const AttentionInputs& in) {
  if (in.slot.defined()) {
    cache.index_copy_(dim, in.slot, fresh);
    return cache;
  }
  const int64_t offset = in.offset, S = fresh.size(dim);
  TORCH_CHECK(offset + S <= cache.size(dim), "KV cache overflow: capacity ", cache.size(dim), ", need ", offset + S);
  cache.narrow(dim, offset, S).copy_(fresh);
  return cache.narrow(dim, 0, offset + S);
}

// Paged MLA (see attention.h): writes the step's keys [B, S, R+Dr] into the position-indexed latent and
// returns the latent attention output [B, N, S, R] — through kernels::mla_decode for a single-token step,
// over the step's own keys (as the absorbed mode) for a prefill.
at::Tensor paged_attention(const at::Tensor& q_cat, const at::Tensor& keys, LayerCache& cache, const PagedStep& p,
                           const ModelConfig& c, const at::Tensor& mask) {
  const int64_t B = keys.size(0), S = keys.size(1), D = keys.size(2), R = c.kv_lora_rank;
  at::Tensor fresh = keys.reshape({B * S, D});                                  // [B*S, R+Dr]
  if (p.write_src.defined()) fresh = fresh.index_select(0, p.write_src);       // [W, R+Dr]
  cache.latent.view({-1, D}).index_copy_(0, p.write_dest, fresh);              // into [B*C', R+Dr]
  if (S > 1) {
    at::Tensor k1 = keys.unsqueeze(1);                                          // [B, 1, S, R+Dr]
    return masked_attention(q_cat, k1, k1.narrow(-1, 0, R), mask, c.attention_scale());  // [B, N, S, R]
  }
  const at::ScalarType dtype = q_cat.scalar_type();
  R1_CHECK(dtype == at::kFloat || dtype == at::kBFloat16, "mla_attention (paged): activations must be fp32 or bf16, got ",
           dtype);
  kernels::MlaDecodeOptions opt;
  opt.softmax_scale = c.attention_scale();
  opt.kv_lora_rank = R;
  opt.out_dtype = dtype;
  at::Tensor pages = cache.latent.view({-1, kernels::kMlaBlockSize, D});       // [B*C'/64, 64, R+Dr]
  kernels::MlaDecodeResult r = kernels::mla_decode(q_cat.squeeze(2), pages, p.block_table, p.seq_lens, opt);
  return r.out.unsqueeze(2);                                                    // [B, N, 1, R]
}

}  // namespace

at::Tensor gqa_attention(const at::Tensor& x, const AttentionWeights& w, const ModelConfig& c, const RotaryEmbedding& rope,
                         const AttentionInputs& in) {
  const int64_t B = x.size(0), S = x.size(1);
  const int64_t N = c.num_attention_heads, Nk = c.num_key_value_heads, D = c.head_dim;
  at::Tensor q = linear(x, w.q_proj).view({B, S, N, D}).transpose(1, 2);   // [B, N, S, D]
  at::Tensor k = linear(x, w.k_proj).view({B, S, Nk, D}).transpose(1, 2);  // [B, Nk, S, D]
  at::Tensor v = linear(x, w.v_proj).view({B, S, Nk, D}).transpose(1, 2);  // [B, Nk, S, D]
  at::Tensor cos = in.cos.unsqueeze(1), sin = in.sin.unsqueeze(1);         // [B, 1, S, D]
  q = rope.apply(q, cos, sin);
  k = rope.apply(k, cos, sin);
  if (in.cache) {
    k = append(in.cache->k, k, 2, in);  // [B, Nk, L, D]
    v = append(in.cache->v, v, 2, in);
  }
  at::Tensor out = masked_attention(q, k, v, in.mask, c.attention_scale());  // [B, N, S, D]
  return linear(out.transpose(1, 2).reshape({B, S, N * D}), w.o_proj);
}

at::Tensor mla_attention(const at::Tensor& x, const AttentionWeights& w, const ModelConfig& c, const RotaryEmbedding& rope,
                         const AttentionInputs& in, MlaMode mode) {
  const int64_t B = x.size(0), S = x.size(1), N = c.num_attention_heads;
  const int64_t Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim, Dv = c.v_head_dim, R = c.kv_lora_rank;
  at::Tensor q = c.q_lora_rank > 0
                     ? linear(rms_norm(linear(x, w.q_a_proj), w.q_a_norm, 1e-6), w.q_b_proj)
                     : linear(x, w.q_proj);                                // [B, S, N*(Dn+Dr)]
  q = q.view({B, S, N, Dn + Dr}).transpose(1, 2);                          // [B, N, S, Dn+Dr]
  at::Tensor q_nope = q.narrow(-1, 0, Dn);                                 // [B, N, S, Dn]
  at::Tensor cos = in.cos.unsqueeze(1), sin = in.sin.unsqueeze(1);         // [B, 1, S, Dr]
  at::Tensor q_rope = rope.apply(q.narrow(-1, Dn, Dr), cos, sin);          // [B, N, S, Dr]

  at::Tensor kv_a = linear(x, w.kv_a_proj);                                // [B, S, R+Dr]
  at::Tensor latent = rms_norm(kv_a.narrow(-1, 0, R), w.kv_a_norm, 1e-6);  // [B, S, R]
  at::Tensor k_rope = rope.apply(kv_a.narrow(-1, R, Dr).unsqueeze(1), cos, sin);  // [B, 1, S, Dr]
  const double scale = c.attention_scale();

  if (mode == MlaMode::kNaive) {
    at::Tensor kv = linear(latent, w.kv_b_proj).view({B, S, N, Dn + Dv}).transpose(1, 2);  // [B, N, S, Dn+Dv]
    at::Tensor k_nope = kv.narrow(-1, 0, Dn);                                              // [B, N, S, Dn]
    at::Tensor v = kv.narrow(-1, Dn, Dv);                                                  // [B, N, S, Dv]
    at::Tensor k = at::cat({k_nope, k_rope.expand({B, N, S, Dr})}, -1);                    // [B, N, S, Dn+Dr]
    at::Tensor qf = at::cat({q_nope, q_rope}, -1);                                         // [B, N, S, Dn+Dr]
    if (in.cache) {
      k = append(in.cache->k, k, 2, in);  // [B, N, L, Dn+Dr]
      v = append(in.cache->v, v, 2, in);  // [B, N, L, Dv]
    }
    at::Tensor out = masked_attention(qf, k, v, in.mask, scale);  // [B, N, S, Dv]
    return linear(out.transpose(1, 2).reshape({B, S, N * Dv}), w.o_proj);
  }

  // Absorbed: one shared key/value "head" of width R+Dr (keys) / R (values) in latent space. The per-head
  // absorptions run head-major ([N, B*S, .] batched matmuls: N batches, not B*N tiny ones).
  at::Tensor w_ukv = w.kv_b_proj.weight.view({N, Dn + Dv, R});  // [N, Dn+Dv, R]
  at::Tensor w_uk = w_ukv.narrow(1, 0, Dn);                      // [N, Dn, R]
  at::Tensor w_uv = w_ukv.narrow(1, Dn, Dv);                     // [N, Dv, R]
  at::Tensor q_heads = q_nope.permute({1, 0, 2, 3}).reshape({N, B * S, Dn});             // [N, B*S, Dn]
  at::Tensor q_abs = at::bmm(q_heads, w_uk).view({N, B, S, R}).permute({1, 0, 2, 3});   // [B, N, S, R]
  at::Tensor q_cat = at::cat({q_abs, q_rope}, -1);               // [B, N, S, R+Dr]
  at::Tensor keys = at::cat({latent, k_rope.squeeze(1)}, -1);    // [B, S, R+Dr]
  at::Tensor o_latent;                                           // [B, N, S, R]
  if (mode == MlaMode::kPaged) {
    R1_CHECK(in.cache && in.paged, "mla_attention: the paged mode needs a paged cache (CausalLM::new_cache with "
             "MlaMode::kPaged)");
    o_latent = paged_attention(q_cat, keys, *in.cache, *in.paged, c, in.mask);
  } else {
    if (in.cache) keys = append(in.cache->latent, keys, 1, in);  // [B, L, R+Dr]
    at::Tensor k1 = keys.unsqueeze(1);                             // [B, 1, L, R+Dr]
    at::Tensor v1 = k1.narrow(-1, 0, R);                           // [B, 1, L, R]
    o_latent = masked_attention(q_cat, k1, v1, in.mask, scale);
  }
  at::Tensor o_heads = o_latent.permute({1, 0, 2, 3}).reshape({N, B * S, R});            // [N, B*S, R]
  at::Tensor out = at::bmm(o_heads, w_uv.transpose(1, 2)).view({N, B, S, Dv});           // [N, B, S, Dv]
  if (w.kv_b_proj.bias.defined()) {  // a kv_b bias on V rows passes through the softmax average unchanged
    out = out + w.kv_b_proj.bias.view({N, Dn + Dv}).narrow(1, Dn, Dv).view({N, 1, 1, Dv});
  }
  return linear(out.permute({1, 2, 0, 3}).reshape({B, S, N * Dv}), w.o_proj);
}

}  // namespace r1::model
