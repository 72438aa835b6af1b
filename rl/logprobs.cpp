// See logprobs.h. This is the one file in rl/ that includes the autograd custom-function header.
#include "rl/logprobs.h"

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

namespace r1::rl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Logits of one chunk, multiplied and soft-maxed in fp32 whatever the model's dtype (a bf16 LM head
// would round every logit to 8 bits of mantissa before the log-softmax): [n, V]. weight32 is the LM head
// already in fp32.
at::Tensor chunk_logits(const at::Tensor& h, const at::Tensor& weight32, double temperature) {
  at::Tensor z = at::matmul(h.to(at::kFloat), weight32.t());  // [n, V]
  if (temperature != 1.0) z = z / temperature;
  return z;
}

struct ChunkedLogprobFunction : public torch::autograd::Function<ChunkedLogprobFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight,
                               const at::Tensor& targets, double temperature, int64_t chunk, bool with_entropy) {
    const int64_t n = hidden.size(0);
    at::Tensor logp = at::empty({n}, hidden.options().dtype(at::kFloat));                      // [N]
    at::Tensor entropy = at::empty({with_entropy ? n : 0}, hidden.options().dtype(at::kFloat));  // [N] or [0]
    const at::Tensor weight32 = weight.to(at::kFloat);                                          // [V, H]
    for (int64_t s = 0; s < n; s += chunk) {
      const int64_t e = std::min(n, s + chunk);
      at::Tensor z = chunk_logits(hidden.slice(0, s, e), weight32, temperature);  // [n, V]
      at::Tensor log_probs = at::log_softmax(z, -1);                            // [n, V]
      logp.slice(0, s, e).copy_(log_probs.gather(1, targets.slice(0, s, e).unsqueeze(1)).squeeze(1));
      if (with_entropy) entropy.slice(0, s, e).copy_(-(log_probs.exp() * log_probs).sum(-1));
    }
    ctx->save_for_backward({hidden, weight, targets});
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["chunk"] = chunk;
    ctx->mark_non_differentiable({entropy});
    return {logp, entropy};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& hidden = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& targets = saved[2];
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const at::Tensor g = grad_outputs[0].to(at::kFloat);  // [N]
    const int64_t n = hidden.size(0);
    at::Tensor grad_hidden = at::empty_like(hidden);                          // [N, H]
    at::Tensor grad_weight = at::zeros(weight.sizes(), weight.options().dtype(at::kFloat));  // [V, H] fp32 accumulation
    const at::Tensor weight32 = weight.to(at::kFloat);                        // [V, H]
    for (int64_t s = 0; s < n; s += chunk) {
      const int64_t e = std::min(n, s + chunk);
      at::Tensor h = hidden.slice(0, s, e);                                      // [n, H]
      at::Tensor p = at::softmax(chunk_logits(h, weight32, temperature), -1);   // [n, V]
      at::Tensor gc = g.slice(0, s, e).unsqueeze(1);                             // [n, 1]
      at::Tensor grad_z = -p * gc;                                               // [n, V]
      grad_z.scatter_add_(1, targets.slice(0, s, e).unsqueeze(1), gc);
      if (temperature != 1.0) grad_z = grad_z / temperature;
      grad_hidden.slice(0, s, e).copy_(at::matmul(grad_z, weight32));           // [n, H] (cast to hidden's dtype)
      grad_weight.addmm_(grad_z.t(), h.to(at::kFloat));                          // [V, H]
    }
    return {grad_hidden, grad_weight.to(weight.scalar_type()), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

TokenLogprobs chunked_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                     double temperature, int64_t chunk_tokens, bool with_entropy) {
  TORCH_CHECK(hidden.dim() == 2 && weight.dim() == 2 && hidden.size(1) == weight.size(1),
              "chunked_token_logprobs: hidden ", hidden.sizes(), " and weight ", weight.sizes(),
              " must be [N, H] and [V, H]");
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0), "chunked_token_logprobs: targets ",
              targets.sizes(), " must be [N] with N = ", hidden.size(0));
  TORCH_CHECK(chunk_tokens > 0, "chunked_token_logprobs: chunk_tokens must be positive");
  TORCH_CHECK(temperature > 0, "chunked_token_logprobs: temperature must be positive");
  auto outs = ChunkedLogprobFunction::apply(hidden, weight, targets.to(at::kLong), temperature, chunk_tokens,
                                            with_entropy);
  TokenLogprobs result;
  result.logp = outs[0];
  if (with_entropy) result.entropy = outs[1];
  return result;
}

TokenLogprobs full_token_logprobs(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                  double temperature, bool with_entropy) {
  at::Tensor z = chunk_logits(hidden, weight.to(at::kFloat), temperature);  // [N, V]
  at::Tensor log_probs = at::log_softmax(z, -1);              // [N, V]
  TokenLogprobs result;
  result.logp = log_probs.gather(1, targets.to(at::kLong).unsqueeze(1)).squeeze(1);
  if (with_entropy) {
    at::NoGradGuard no_grad;
    result.entropy = -(log_probs.exp() * log_probs).sum(-1);
  }
  return result;
}

}  // namespace r1::rl
