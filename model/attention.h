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
//   paged    — absorbed, over a PAGED latent cache (a cache mode only): single-token steps run
//              kernels::mla_decode (the sm_90a kernel on CUDA, its reference on the CPU).
// Both give the same function (tests check it); absorbed is cheaper for decoding (cache and bandwidth
// scale with kv_lora_rank instead of heads × head dims), naive for long prefill / training when
// kv_lora_rank is much larger than the head dims.
//
// The paged latent cache, and how it maps onto mla_decode's layout. The slot caches (GQA, naive,
// absorbed) share slot indices across rows: prompts are left-padded, so row b's real tokens start at
// slot pad_b and a mask hides the pads. mla_decode has no mask: sequence b's tokens are exactly
// 0..seq_lens[b]-1 of its pages. So the paged cache is indexed by POSITION, not slot: row b's token at
// position p (positions count the row's real tokens: cumsum(mask) - 1, what generation uses) lives at
// row p of the row-major latent [B, C', R + Dr], C' = capacity rounded up to 64. Viewed as
// [B·C'/64, 64, R + Dr] that is mla_decode's kv_cache, with the fixed block table
// block_table[b][i] = b·C'/64 + i (int32 [B, C'/64]) and seq_lens[b] = p + 1 after writing position p.
// Pads are never written (the prefill writes only real tokens), so there is nothing to mask. Each row
// owns its blocks; dropping or repeating rows (KVCache::keep_rows) index-selects the latent and rebuilds
// the table. A prefill (several tokens per row) must start at an empty cache and attends over its own
// keys as the absorbed mode does; single-token steps write their key, then attend through the kernel.
// Departure from vLLM/FlashMLA's paged caches: no block sharing between rows and no allocator — the
// table is an identity over contiguous per-row storage, which is all batched rollouts need; prompt
// sharing copies rows (see generate.h).
//
// Static steps (AttentionInputs::slot set, CausalLM::decode_step): a slot cache writes the new token at
// the device-side slot (index_copy_) and attends over the WHOLE capacity, the mask (built from
// key_valid) hiding unwritten slots, so the step's shapes and launches do not change from one token to
// the next and it can be recorded once as a CUDA graph.
//
// Letters: B batch, S new tokens, C cache capacity, L keys visible (offset + S), H hidden, N heads,
// Nk KV heads, D head dim, Dn/Dr/Dv MLA nope/rope/value head dims, R kv_lora_rank, W tokens written.
#pragma once

#include <ATen/ATen.h>

#include "model/config.h"
#include "model/layers.h"
#include "model/rope.h"

namespace r1::model {

enum class MlaMode { kNaive, kAbsorbed, kPaged };

struct AttentionWeights {
  // GQA, and MLA without q-LoRA (q_proj only).
  Linear q_proj, k_proj, v_proj, o_proj;
  // MLA.
  Linear q_a_proj, q_b_proj, kv_a_proj, kv_b_proj;
  at::Tensor q_a_norm, kv_a_norm;
};

// One layer's cache. GQA: k [B, Nk, C, D], v [B, Nk, C, D]. MLA naive: k [B, N, C, Dn+Dr], v [B, N, C, Dv].
// MLA absorbed: latent [B, C, R + Dr] = [normalised latent | rotated rope key], by slot.
// MLA paged: latent [B, C', R + Dr], by position (see above).
struct LayerCache {
  at::Tensor k, v, latent;
};

// Where the new tokens of a paged step go, and what the kernel needs (shared by all layers).
struct PagedStep {
  at::Tensor write_src;    // int64 [W]: which of the B*S new tokens are written (undefined = all)
  at::Tensor write_dest;   // int64 [W]: their rows in the latent viewed as [B*C', R + Dr] (b*C' + position)
  at::Tensor block_table;  // int32 [B, C'/64]
  at::Tensor seq_lens;     // int32 [B]: tokens per row after this step (single-token steps)
};

// Per-call inputs shared by all layers.
struct AttentionInputs {
  at::Tensor cos, sin;     // [B, S, Dr] (already in the compute dtype)
  at::Tensor mask;         // [B, 1, S, L] additive fp32 ([B, 1, 1, C] for a static step)
  int64_t offset = 0;      // cache slot of the first new token
  LayerCache* cache = nullptr;  // null: attend over the new tokens only
  at::Tensor slot;         // int64 [1] on the device: static step (write here, attend over all C slots)
  const PagedStep* paged = nullptr;  // set with a paged MLA cache
};

// x [B, S, H] → [B, S, H].
at::Tensor gqa_attention(const at::Tensor& x, const AttentionWeights& w, const ModelConfig& c, const RotaryEmbedding& rope,
                         const AttentionInputs& in);
at::Tensor mla_attention(const at::Tensor& x, const AttentionWeights& w, const ModelConfig& c, const RotaryEmbedding& rope,
                         const AttentionInputs& in, MlaMode mode);

}  // namespace r1::model
