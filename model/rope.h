// Rotary position embeddings: the inverse-frequency tables of the RoPE variants r1 supports (default,
// linear, YaRN with mscale, Llama 3) and their application to query/key heads, numerically as HF
// transformers 5 computes them (fp32 tables built with the same tensor ops, cos/sin cast to the
// activation dtype, DeepSeek-V2 applied in fp32).
//
// The non-obvious part is the interleaved layout of DeepSeek: the released weights rotate ADJACENT pairs
// (x0,x1),(x2,x3)...; HF's DeepSeek-V3 gathers the pairs into halves ([x0,x2,..|x1,x3,..]) and then rotates
// halves. We do the same, so a rotated query/key comes out in that permuted order; since q and k are
// permuted alike, every dot product — all attention ever uses — is unchanged, and the compressed MLA
// cache simply stores the rope key in this order.
// Not here: NTK/dynamic/LongRoPE (rejected by config parsing); position ids come from the caller.
//
// Letters: B batch, N heads, S new tokens, D rope dimension.
#pragma once

#include <utility>

#include <ATen/ATen.h>

#include "model/config.h"

namespace r1::model {

struct RotaryEmbedding {
  at::Tensor inv_freq;            // [D/2] fp32 on CPU
  double attention_scaling = 1.0;  // multiplies cos and sin (YaRN: mscale(factor, mscale)/mscale(factor, mscale_all_dim))
  bool interleaved = false;        // rotate adjacent pairs (DeepSeek) rather than halves (Llama, Qwen2)
  bool apply_in_fp32 = false;      // DeepSeek-V2 (HF computes the complex product in fp32)
  int64_t dim = 0;

  static RotaryEmbedding from_config(const ModelConfig& config);

  // cos and sin for integer positions [B, S] → each [B, S, D], in `dtype` on the positions' device.
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& positions, at::ScalarType dtype) const;

  // x [..., D] with cos/sin broadcastable to it (e.g. [B, 1, S, D] against [B, N, S, D]) → rotated x, same shape.
  at::Tensor apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) const;
};

// Inverse frequencies of the four RoPE types for a rotary dimension `dim` (exposed for tests).
at::Tensor rope_inv_freq(const RopeParameters& rope, int64_t dim, int64_t max_position_embeddings,
                         double* attention_scaling);

}  // namespace r1::model
