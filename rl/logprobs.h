// Token log-probabilities and entropies from final hidden states, computed in chunks so that the
// [B×T×V] logits tensor is never materialised — neither in the forward pass nor saved for backward
// (the most common out-of-memory cause in peer RL toolkits at long completion lengths).
//
// The trick: a custom autograd function whose forward walks over chunks of `chunk_tokens` rows,
// computing logits = hidden·Wᵀ / τ for the chunk only, and whose backward recomputes each chunk's
// logits and applies d log p_y / d z = onehot(y) − softmax(z). Peak extra memory is one [chunk, V]
// block instead of [N, V]. Entropy H = −Σ p log p is returned for logging only (no gradient).
// Logits are multiplied and soft-maxed in fp32 whatever the model's dtype (the LM head weight is cast once
// per call): a bf16 product would round every logit to 8 mantissa bits before the log-softmax, and the
// GRPO ratio exp(logp − old_logp) is sensitive to exactly that noise. (HF multiplies in the model's dtype
// and soft-maxes in fp32; for fp32 models the two are the same.) Gradients leave in the inputs' dtypes.
// Letters: N = tokens (rows), H = hidden size, V = vocabulary.
#pragma once

#include <ATen/ATen.h>

namespace r1::rl {

struct TokenLogprobs {
  at::Tensor logp;     // [N] fp32, differentiable w.r.t. hidden and weight
  at::Tensor entropy;  // [N] fp32, detached (undefined unless requested)
};

// hidden [N, H], weight [V, H] (the LM head), targets [N] int64 → log p(target | row) at temperature τ.
TokenLogprobs chunked_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                     double temperature = 1.0, int64_t chunk_tokens = 1024, bool with_entropy = true);

// The same quantities through full [N, V] logits (plain autograd): the reference the chunked path is
// tested against, and fine for small vocabularies.
TokenLogprobs full_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                  double temperature = 1.0, bool with_entropy = true);

}  // namespace r1::rl
