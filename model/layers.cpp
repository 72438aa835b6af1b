// See layers.h.
#include "model/layers.h"

#include <limits>

namespace r1::model {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor variance = xf.pow(2).mean(-1, /*keepdim=*/true);  // [.., 1]
  at::Tensor normed = xf * at::rsqrt(variance + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor linear(const at::Tensor& x, const Linear& l) {
  return l.bias.defined() ? at::linear(x, l.weight, l.bias) : at::linear(x, l.weight);
}

at::Tensor swiglu_mlp(const at::Tensor& x, const MlpWeights& w) {
  return linear(at::silu(linear(x, w.gate)) * linear(x, w.up), w.down);
}

at::Tensor attention_mask(const at::Tensor& key_valid, int64_t offset, int64_t num_queries) {
  const int64_t L = key_valid.size(1);
  auto opts = at::TensorOptions().device(key_valid.device());
  at::Tensor key_idx = at::arange(L, opts.dtype(at::kLong));                                   // [L]
  at::Tensor query_idx = at::arange(offset, offset + num_queries, opts.dtype(at::kLong));      // [S]
  at::Tensor causal = key_idx.unsqueeze(0) <= query_idx.unsqueeze(1);                          // [S, L]
  at::Tensor own = key_idx.unsqueeze(0) == query_idx.unsqueeze(1);                             // [S, L]
  at::Tensor allowed = at::logical_or(at::logical_and(causal.unsqueeze(0), key_valid.to(at::kBool).unsqueeze(1)),
                                      own.unsqueeze(0));                                       // [B, S, L]
  at::Tensor mask = at::zeros(allowed.sizes(), opts.dtype(at::kFloat));
  mask.masked_fill_(at::logical_not(allowed), -std::numeric_limits<float>::infinity());
  return mask.unsqueeze(1);  // [B, 1, S, L]
}

at::Tensor masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                            double scale) {
  const int64_t B = q.size(0), N = q.size(1), S = q.size(2), D = q.size(3);
  const int64_t Nk = k.size(1), L = k.size(2), Dv = v.size(3);
  const int64_t G = N / Nk;
  at::Tensor qg = q.reshape({B, Nk, G * S, D});                              // [B, Nk, G*S, D]
  at::Tensor scores = at::matmul(qg, k.transpose(-1, -2));                   // [B, Nk, G*S, L]
  scores = scores.to(at::kFloat).view({B, Nk, G, S, L}) * scale + mask.unsqueeze(1);  // [B, Nk, G, S, L]
  at::Tensor probs = at::softmax(scores, -1).to(q.scalar_type());
  at::Tensor out = at::matmul(probs.view({B, Nk, G * S, L}), v);             // [B, Nk, G*S, Dv]
  return out.view({B, N, S, Dv});
}

}  // namespace r1::model
