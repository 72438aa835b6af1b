// The small numerical building blocks shared by every architecture: RMSNorm, linear layers, the SwiGLU
// MLP, and masked softmax attention over a (possibly cached) key sequence.
//
// Numerics follow HF transformers: RMSNorm accumulates in fp32 and casts back before the weight multiply;
// attention scores are taken in the activation dtype, then scaled, masked and soft-maxed in fp32, and the
// probabilities cast back to the activation dtype before the value product.
// The non-obvious part: grouped-query attention never repeats K/V heads. Queries of one KV group are
// folded into the row dimension ([B, Nk, G*S, D]) so a single batched matmul serves all G query heads.
// The additive mask always lets a query see its own slot, so a padded query (all its real keys masked)
// still gets a finite softmax; its output is meaningless but never NaN, and NaN cannot leak into real rows.
//
// Letters: B batch, S new tokens, L keys (cache + new), N query heads, Nk key/value heads, G = N / Nk,
// D head dim, Dv value head dim, H hidden, I MLP width.
#pragma once

#include <ATen/ATen.h>

namespace r1::model {

struct Linear {
  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out] or undefined
};

struct MlpWeights {
  Linear gate, up, down;
};

// x [.., H] → [.., H]; fp32 statistics, output in x's dtype times weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

at::Tensor linear(const at::Tensor& x, const Linear& l);

// down(silu(gate(x)) * up(x)).
at::Tensor swiglu_mlp(const at::Tensor& x, const MlpWeights& w);

// Additive fp32 attention mask [B, 1, S, L] for S queries sitting at key slots [offset, offset+S) of a
// key sequence of length L, with key_valid [B, L] (bool): causal, padded keys masked (-inf), own slot
// always allowed.
at::Tensor attention_mask(const at::Tensor& key_valid, int64_t offset, int64_t num_queries);

// q [B, N, S, D], k [B, Nk, L, D], v [B, Nk, L, Dv], mask [B, 1, S, L] → [B, N, S, Dv].
at::Tensor masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                            double scale);

}  // namespace r1::model
