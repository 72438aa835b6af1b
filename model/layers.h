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
// linear() is the one seam where a weight's form picks the arithmetic (DeepSeek-V3 inference's
// `linear()`): a dense fp32/bf16 weight runs at::linear, bit for bit what it always did; a Linear that
// also carries an FP8 form (e4m3 codes + 128x128 `weight_scale_inv`, kernels::Fp8Blocks — the rollout
// copy of CausalLM::make_rollout_copy) quantises the activation 1x128 per token (kernels::quantize_act)
// and runs kernels::fp8_gemm with fp32 promotion per 128-wide K block. The same two calls serve both
// devices: on CUDA they launch the sm_90a kernels, on the CPU they run the kernels' references. So the
// CPU path computes what the GPU computes (the activation quantisation included), not a dequantised
// weight times an exact activation, and CPU tests of FP8 generation predict the GPU's numbers. Its cost
// (a slow blocked reference) does not matter: the FP8 form is a GPU feature, off by default, and on the
// CPU it exists to be tested. FP8 Linears are inference-only (no autograd through the quantisation).
//
// Letters: B batch, S new tokens, L keys (cache + new), N query heads, Nk key/value heads, G = N / Nk,
// D head dim, Dv value head dim, H hidden, I MLP width, M rows (tokens) of a linear, K its input width.
#pragma once

#include <ATen/ATen.h>

#include "kernels/fp8_quant.h"

namespace r1::model {

struct Linear {
  at::Tensor weight;  // [out, in] dense fp32/bf16: the trainable tensor; stays set when `fp8` is set too
  at::Tensor bias;    // [out] or undefined
  // Optional FP8 form of `weight` (the rollout copy): data uint8 [out, in], scale fp32
  // [ceil(out/128), ceil(in/128)]. When set, linear() uses it instead of `weight`.
  kernels::Fp8Blocks fp8;
  bool is_fp8() const { return fp8.data.defined(); }
};

// (Re)quantises l.weight 128x128 into l.fp8 (kernels::quantize_weight on the weight's device). A second
// call overwrites the existing codes and scales in place, so tensors captured elsewhere (CUDA graphs)
// stay valid. Returns the bytes of codes + scales.
int64_t quantize_linear(Linear& l);

struct MlpWeights {
  Linear gate, up, down;
};

// x [.., H] → [.., H]; fp32 statistics, output in x's dtype times weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// x [.., K] → [.., N]: at::linear for a dense Linear; for an FP8 one, quantize_act + fp8_gemm (+ bias)
// with the output in x's dtype (fp32 or bf16; anything else is an r1::Error, as is autograd).
at::Tensor linear(const at::Tensor& x, const Linear& l);

// down(silu(gate(x)) * up(x)).
at::Tensor swiglu_mlp(const at::Tensor& x, const MlpWeights& w);

// Additive fp32 attention mask [B, 1, S, L] for S queries sitting at key slots [offset, offset+S) of a
// key sequence of length L, with key_valid [B, L] (bool): causal, padded keys masked (-inf), own slot
// always allowed.
at::Tensor attention_mask(const at::Tensor& key_valid, int64_t offset, int64_t num_queries);
// The same for queries at the given key slots: query_slots int64 [S] on key_valid's device (a static
// decode step passes its slot as a device tensor, so the mask needs no host value).
at::Tensor attention_mask_at(const at::Tensor& key_valid, const at::Tensor& query_slots);

// q [B, N, S, D], k [B, Nk, L, D], v [B, Nk, L, Dv], mask [B, 1, S, L] → [B, N, S, Dv].
at::Tensor masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                            double scale);

}  // namespace r1::model
