// See layers.h.
#include "model/layers.h"

#include <ATen/core/grad_mode.h>  // at::NoGradGuard / GradMode: not reached through ATen.h in every LibTorch 2.x

#include <limits>
#include <vector>

#include "common/error.h"
#include "kernels/fp8_convert.h"
#include "kernels/fp8_gemm.h"

namespace r1::model {
namespace {

// x [.., K] through an FP8 weight [N, K]: activation 1x128 quantisation, block-scaled GEMM, bias.
at::Tensor fp8_linear(const at::Tensor& x, const Linear& l) {
  const char* op = "linear (FP8 weight)";
  const at::ScalarType dtype = x.scalar_type();
  R1_CHECK(dtype == at::kFloat || dtype == at::kBFloat16, op, ": activations must be fp32 or bf16, got ", dtype);
  R1_CHECK(!(at::GradMode::is_enabled() && (x.requires_grad() || l.weight.requires_grad())), op,
           ": FP8 weights are for inference (the rollout copy); run under at::NoGradGuard / InferenceMode");
  const int64_t K = x.size(-1), N = l.fp8.data.size(0);
  R1_CHECK(l.fp8.data.dim() == 2 && l.fp8.data.size(1) == K, op, ": input width ", K, " does not match the FP8 weight ",
           l.fp8.data.sizes());
  std::vector<int64_t> out_shape = x.sizes().vec();
  out_shape.back() = N;
  const kernels::Fp8Blocks xq = kernels::quantize_act(x.reshape({-1, K}));  // [M, K] codes, [M, ceil(K/128)] scales
  kernels::Fp8GemmOptions opt;
  opt.out_dtype = dtype;
  at::Tensor y = kernels::fp8_gemm(xq, l.fp8, opt);  // [M, N]
  if (l.bias.defined()) y = y + l.bias;
  return y.view(out_shape);  // [.., N]
}

}  // namespace

int64_t quantize_linear(Linear& l) {
  R1_CHECK(l.weight.defined() && l.weight.dim() == 2, "quantize_linear: needs a 2-D dense weight");
  at::NoGradGuard no_grad;
  kernels::Fp8Blocks q = kernels::quantize_weight(l.weight.detach());  // [N, K], [ceil(N/128), ceil(K/128)]
  if (l.is_fp8()) {
    l.fp8.data.copy_(q.data);
    l.fp8.scale.copy_(q.scale);
  } else {
    l.fp8 = q;
  }
  return l.fp8.data.numel() + l.fp8.scale.numel() * 4;
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor variance = xf.pow(2).mean(-1, /*keepdim=*/true);  // [.., 1]
  at::Tensor normed = xf * at::rsqrt(variance + eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor linear(const at::Tensor& x, const Linear& l) {
  if (l.is_fp8()) return fp8_linear(x, l);
  return l.bias.defined() ? at::linear(x, l.weight, l.bias) : at::linear(x, l.weight);
}

at::Tensor swiglu_mlp(const at::Tensor& x, const MlpWeights& w) {
  return linear(at::silu(linear(x, w.gate)) * linear(x, w.up), w.down);
}

at::Tensor attention_mask(const at::Tensor& key_valid, int64_t offset, int64_t num_queries) {
  auto opts = at::TensorOptions().device(key_valid.device()).dtype(at::kLong);
  return attention_mask_at(key_valid, at::arange(offset, offset + num_queries, opts));  // queries [S]
}

at::Tensor attention_mask_at(const at::Tensor& key_valid, const at::Tensor& query_idx) {
  const int64_t L = key_valid.size(1);
  auto opts = at::TensorOptions().device(key_valid.device());
  at::Tensor key_idx = at::arange(L, opts.dtype(at::kLong));                                   // [L]
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
