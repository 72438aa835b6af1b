// Self-attention of the four architectures, with an optional per-layer KV cache for incremental decoding:
//   * GQA (Qwen2, Llama): q/k/v projections (Qwen2 with q/k/v bias), RoPE on halves, grouped heads.
//   * MLA (DeepSeek-V2/V3): queries through q-LoRA (q_a_proj → RMSNorm → q_b_proj) or a plain q_proj;
//     keys/values from a compressed latent (kv_a_proj_with_mqa → RMSNorm → kv_b_proj) plus ONE decoupled
//     rope key shared by all heads.
//
// MLA runs in two ways side by side, chosen per call (MlaMode):
//   naive    — materialise per-head K = [k_nope | k_rope] and V from the latent (HF's computation; the
//              cache, if any, holds K and V per head);
//   absorbed — never materialise K/V: W_UK (the k_nope rows of kv_b_proj) is absorbed into the query,
//              q_abs = q_nope · W_UK, so scores = q_abs · c + q_rope · k_rope against the normalised latent
//              c [T, kv_lora_rank] and the rotated rope key [T, qk_rope_head_dim]; the probabilities
//              weight the latent, and W_UV (the v rows of kv_b_proj) is applied to that per-head latent
//              average before o_proj. The cache holds only [c | k_rope] per token (kv_lora_rank +
//              qk_rope_head_dim numbers, shared by every head) — this is MQA with one wide head.
// Both give the same function (tests check it); absorbed is cheaper for decoding (cache and bandwidth
// scale with kv_lora_rank instead of heads × head dims), naive for long prefill / training when
// kv_lora_rank is much larger than the head dims.
//
// Letters: B batch, S new tokens, C cache capacity, L keys visible (offset + S), H hidden, N heads,
// Nk KV heads, D head dim, Dn/Dr/Dv MLA nope/rope/value head dims, R kv_lora_rank.
#pragma once

#include <ATen/ATen.h>

#include "model/config.h"
#include "model/layers.h"
#include "model/rope.h"

namespace r1::model {

enum class MlaMode { kNaive, kAbsorbed };

struct AttentionWeights {
  // GQA, and MLA without q-LoRA (q_proj only).
  Linear q_proj, k_proj, v_proj, o_proj;
  // MLA.
  Linear q_a_proj, q_b_proj, kv_a_proj, kv_b_proj;
  at::Tensor q_a_norm, kv_a_norm;
};

// One layer's cache. GQA: k [B, Nk, C, D], v [B, Nk, C, D]. MLA naive: k [B, N, C, Dn+Dr], v [B, N, C, Dv].
// MLA absorbed: latent [B, C, R + Dr] = [normalised latent | rotated rope key].
struct LayerCache {
  at::Tensor k, v, latent;
};

// Per-call inputs shared by all layers.
struct AttentionInputs {
  at::Tensor cos, sin;     // [B, S, Dr] (already in the compute dtype)
  at::Tensor mask;         // [B, 1, S, L] additive fp32
  int64_t offset = 0;      // cache slot of the first new token
  LayerCache* cache = nullptr;  // null: attend over the new tokens only
};

// x [B, S, H] → [B, S, H].
at::Tensor gqa_attention(const at::Tensor& x, const AttentionWeights& w, const ModelConfig& c, const RotaryEmbedding& rope,
                         const AttentionInputs& in);
at::Tensor mla_attention(const at::Tensor& x, const AttentionWeights& w, const ModelConfig& c, const RotaryEmbedding& rope,
                         const AttentionInputs& in, MlaMode mode);

}  // namespace r1::model
