// See distill_kl.h. Like rl/logprobs.cpp, this file includes the autograd custom-function header.
#include "rl/distill_kl.h"

#include <torch/csrc/autograd/custom_function.h>

namespace r1::rl {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// fp32 logits over the first `vocab` ids: [n, vocab].
at::Tensor logits_of(const at::Tensor& h, const at::Tensor& weight32) { return at::matmul(h.to(at::kFloat), weight32.t()); }

// One chunk's loss and, when asked, its gradient with respect to the student's logits.
struct ChunkKl {
  at::Tensor kl;      // [n]
  at::Tensor grad_z;  // [n, V] d kl_i / d z_i (undefined unless with_grad)
};

ChunkKl chunk_kl(const at::Tensor& zs, const at::Tensor& zt, const DistillKlOptions& o, bool with_grad) {
  ChunkKl r;
  const at::Tensor ls = at::log_softmax(zs, -1);  // [n, V]
  if (o.direction == KlDirection::kReverse) {
    const at::Tensor lt = at::log_softmax(zt, -1);
    const at::Tensor ps = ls.exp();
    const at::Tensor diff = ls - lt;                 // [n, V]
    r.kl = (ps * diff).sum(-1);                      // [n]
    if (with_grad) r.grad_z = ps * (diff - r.kl.unsqueeze(1));
    return r;
  }
  at::Tensor lt, idx;  // the teacher's log-probs over its support: [n, V] or [n, k], and the support's ids
  if (o.top_k > 0 && o.top_k < zt.size(1)) {
    auto top = at::topk(zt, o.top_k, -1);
    lt = at::log_softmax(std::get<0>(top), -1);  // renormalised over the top k
    idx = std::get<1>(top);
  } else {
    lt = at::log_softmax(zt, -1);
  }
  const at::Tensor pt = lt.exp();
  const at::Tensor ls_on = idx.defined() ? ls.gather(1, idx) : ls;
  r.kl = (pt * (lt - ls_on)).sum(-1);
  if (with_grad) {
    r.grad_z = ls.exp();
    if (idx.defined()) {
      r.grad_z.scatter_add_(1, idx, -pt);
    } else {
      r.grad_z -= pt;
    }
  }
  return r;
}

struct ChunkedKlFunction : public torch::autograd::Function<ChunkedKlFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& student_hidden, const at::Tensor& student_weight,
                               const at::Tensor& teacher_hidden, const at::Tensor& teacher_weight, int64_t vocab,
                               int64_t top_k, bool reverse, int64_t chunk) {
    const DistillKlOptions o{reverse ? KlDirection::kReverse : KlDirection::kForward, vocab, top_k, chunk};
    const int64_t n = student_hidden.size(0);
    at::Tensor kl = at::empty({n}, student_hidden.options().dtype(at::kFloat));  // [N]
    const at::Tensor ws = student_weight.slice(0, 0, vocab).to(at::kFloat);     // [V, Hs]
    const at::Tensor wt = teacher_weight.slice(0, 0, vocab).to(at::kFloat);     // [V, Ht]
    for (int64_t s = 0; s < n; s += chunk) {
      const int64_t e = std::min(n, s + chunk);
      kl.slice(0, s, e).copy_(
          chunk_kl(logits_of(student_hidden.slice(0, s, e), ws), logits_of(teacher_hidden.slice(0, s, e), wt), o, false)
              .kl);
    }
    ctx->save_for_backward({student_hidden, student_weight, teacher_hidden, teacher_weight});
    ctx->saved_data["vocab"] = vocab;
    ctx->saved_data["top_k"] = top_k;
    ctx->saved_data["reverse"] = reverse;
    ctx->saved_data["chunk"] = chunk;
    return {kl};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& hs = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& ht = saved[2];
    const int64_t vocab = ctx->saved_data["vocab"].toInt();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const DistillKlOptions o{ctx->saved_data["reverse"].toBool() ? KlDirection::kReverse : KlDirection::kForward, vocab,
                             ctx->saved_data["top_k"].toInt(), chunk};
    const at::Tensor g = grad_outputs[0].to(at::kFloat);  // [N]
    const int64_t n = hs.size(0);
    const at::Tensor ws = weight.slice(0, 0, vocab).to(at::kFloat);   // [V, Hs]
    const at::Tensor wt = saved[3].slice(0, 0, vocab).to(at::kFloat);  // [V, Ht]
    at::Tensor grad_hidden = at::empty_like(hs);                                             // [N, Hs]
    at::Tensor grad_weight = at::zeros(weight.sizes(), weight.options().dtype(at::kFloat));  // [V', Hs]
    at::Tensor grad_w = grad_weight.slice(0, 0, vocab);                                      // [V, Hs] view
    for (int64_t s = 0; s < n; s += chunk) {
      const int64_t e = std::min(n, s + chunk);
      const at::Tensor h = hs.slice(0, s, e);
      at::Tensor grad_z = chunk_kl(logits_of(h, ws), logits_of(ht.slice(0, s, e), wt), o, true).grad_z;  // [n, V]
      grad_z.mul_(g.slice(0, s, e).unsqueeze(1));
      grad_hidden.slice(0, s, e).copy_(at::matmul(grad_z, ws));
      grad_w.addmm_(grad_z.t(), h.to(at::kFloat));
    }
    return {grad_hidden, grad_weight.to(weight.scalar_type()), at::Tensor(), at::Tensor(),
            at::Tensor(),  at::Tensor(),                        at::Tensor(), at::Tensor()};
  }
};

void check_shapes(const at::Tensor& hs, const at::Tensor& ws, const at::Tensor& ht, const at::Tensor& wt,
                  const DistillKlOptions& o) {
  TORCH_CHECK(hs.dim() == 2 && ws.dim() == 2 && hs.size(1) == ws.size(1), "distill_kl: student hidden ", hs.sizes(),
              " and weight ", ws.sizes(), " must be [N, Hs] and [V, Hs]");
  TORCH_CHECK(ht.dim() == 2 && wt.dim() == 2 && ht.size(1) == wt.size(1), "distill_kl: teacher hidden ", ht.sizes(),
              " and weight ", wt.sizes(), " must be [N, Ht] and [V, Ht]");
  TORCH_CHECK(hs.size(0) == ht.size(0), "distill_kl: ", hs.size(0), " student rows but ", ht.size(0), " teacher rows");
  TORCH_CHECK(o.vocab > 0 && o.vocab <= ws.size(0) && o.vocab <= wt.size(0), "distill_kl: vocab ", o.vocab,
              " must be in [1, min(", ws.size(0), ", ", wt.size(0), ")]");
  TORCH_CHECK(o.top_k >= 0 && o.chunk_tokens > 0, "distill_kl: top_k must be >= 0 and chunk_tokens > 0");
  TORCH_CHECK(o.top_k == 0 || o.direction == KlDirection::kForward, "distill_kl: top_k applies to the forward KL only");
}

}  // namespace

at::Tensor chunked_distill_kl(const at::Tensor& student_hidden, const at::Tensor& student_weight,
                              const at::Tensor& teacher_hidden, const at::Tensor& teacher_weight,
                              const DistillKlOptions& o) {
  check_shapes(student_hidden, student_weight, teacher_hidden, teacher_weight, o);
  return ChunkedKlFunction::apply(student_hidden, student_weight, teacher_hidden.detach(), teacher_weight.detach(),
                                  o.vocab, o.top_k, o.direction == KlDirection::kReverse, o.chunk_tokens)[0];
}

at::Tensor full_distill_kl(const at::Tensor& student_hidden, const at::Tensor& student_weight,
                           const at::Tensor& teacher_hidden, const at::Tensor& teacher_weight,
                           const DistillKlOptions& o) {
  check_shapes(student_hidden, student_weight, teacher_hidden, teacher_weight, o);
  const at::Tensor zs = logits_of(student_hidden, student_weight.slice(0, 0, o.vocab).to(at::kFloat));
  const at::Tensor zt = logits_of(teacher_hidden, teacher_weight.slice(0, 0, o.vocab).to(at::kFloat)).detach();
  return chunk_kl(zs, zt, o, false).kl;
}

}  // namespace r1::rl
