// See moe.h.
#include "model/moe.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace r1::model {

Routing route_tokens(const at::Tensor& x, const MoeWeights& w, const ModelConfig& c) {
  const int64_t E = c.n_routed_experts, K = c.num_experts_per_tok;
  at::Tensor logits = at::linear(x.to(at::kFloat), w.gate_weight.to(at::kFloat));  // [N, E]
  Routing r;
  const bool v3 = c.scoring_func == "sigmoid";
  r.scores = v3 ? at::sigmoid(logits) : at::softmax(logits, -1);
  const bool group_limited = c.n_group > 1 && c.topk_group < c.n_group;
  {
    at::NoGradGuard no_grad;
    at::Tensor choice = r.scores.detach();  // [N, E]
    if (v3 && w.correction_bias.defined()) choice = choice + w.correction_bias.to(at::kFloat);
    if (group_limited) {
      const int64_t N = choice.size(0), G = c.n_group, per_group = E / G;
      at::Tensor grouped = choice.view({N, G, per_group});
      at::Tensor group_scores = v3 ? std::get<0>(grouped.topk(std::min<int64_t>(2, per_group), -1)).sum(-1)  // [N, G]
                                   : std::get<0>(grouped.max(-1));
      at::Tensor group_idx = std::get<1>(group_scores.topk(c.topk_group, -1));                        // [N, topk_group]
      at::Tensor keep = at::zeros({N, G}, choice.options().dtype(at::kBool)).scatter_(1, group_idx, true);
      keep = keep.unsqueeze(-1).expand({N, G, per_group}).reshape({N, E});                           // [N, E]
      choice = choice.masked_fill(at::logical_not(keep), -std::numeric_limits<float>::infinity());
    }
    r.indices = std::get<1>(choice.topk(K, -1));  // [N, K]
  }
  at::Tensor weights = r.scores.gather(1, r.indices);  // [N, K]
  if (v3 && c.norm_topk_prob) weights = weights / (weights.sum(-1, /*keepdim=*/true) + 1e-20);
  r.weights = weights * c.routed_scaling_factor;
  return r;
}

at::Tensor moe_forward(const at::Tensor& x, const MoeWeights& w, const ModelConfig& c, const at::Tensor& token_valid,
                       MoeStats* stats, bool want_balance_loss, const at::Tensor& sequence_ids) {
  const int64_t B = x.size(0), T = x.size(1), H = x.size(2);
  const int64_t E = c.n_routed_experts, K = c.num_experts_per_tok;
  at::Tensor flat = x.reshape({B * T, H});  // [N, H]
  // Only valid tokens are routed.
  at::Tensor valid_rows;  // [Nv] int64, or undefined = all rows
  at::Tensor routed_in = flat;
  if (token_valid.defined()) {
    at::Tensor v = token_valid.reshape({B * T}).to(at::kBool);
    if (!v.all().item<bool>()) {
      valid_rows = v.nonzero().squeeze(1);
      routed_in = flat.index_select(0, valid_rows);
    }
  }
  Routing r = route_tokens(routed_in, w, c);
  const int64_t Nv = routed_in.size(0);

  // Sort (token, slot) pairs by expert; one host copy of the per-expert counts.
  at::Tensor flat_experts = r.indices.reshape({Nv * K});                     // [Nv*K]
  at::Tensor order = std::get<1>(flat_experts.sort());                       // [Nv*K]
  at::Tensor counts = at::bincount(flat_experts, {}, E);                     // [E]
  at::Tensor token_of = at::div(order, K, "floor");                          // [Nv*K] row in routed_in
  at::Tensor counts_cpu = counts.to(at::kCPU);
  const int64_t* cnt = counts_cpu.data_ptr<int64_t>();
  at::Tensor x_sorted = routed_in.index_select(0, token_of);                 // [Nv*K, H]
  at::Tensor w_sorted = r.weights.reshape({Nv * K}).index_select(0, order);  // [Nv*K]
  std::vector<at::Tensor> pieces;
  int64_t start = 0;
  for (int64_t e = 0; e < E; ++e) {
    if (cnt[e] == 0) continue;
    pieces.push_back(swiglu_mlp(x_sorted.narrow(0, start, cnt[e]), w.experts[static_cast<size_t>(e)]));  // [n_e, H]
    start += cnt[e];
  }
  at::Tensor routed_out = at::zeros({Nv, H}, x.options());
  if (!pieces.empty()) {
    at::Tensor y = at::cat(pieces, 0);                                       // [Nv*K, H]
    y = (y.to(at::kFloat) * w_sorted.unsqueeze(1)).to(x.scalar_type());
    routed_out = routed_out.index_add(0, token_of, y);                        // [Nv, H]
  }
  at::Tensor out;
  if (valid_rows.defined()) {
    out = at::zeros({B * T, H}, x.options()).index_add(0, valid_rows, routed_out);
  } else {
    out = routed_out;
  }
  out = out.view({B, T, H});
  if (w.has_shared) out = out + swiglu_mlp(x, w.shared);

  if (stats) {
    stats->load = counts.detach();
    if (want_balance_loss) {
      // Per sequence s: f_i = E / (K * T_s) * #tokens of s routed to i;  P_i = mean over s of s_i / sum_j s_j.
      const auto long_opts = x.options().dtype(at::kLong);
      at::Tensor rows = valid_rows.defined() ? valid_rows : at::arange(B * T, long_opts);  // routed tokens [Nv]
      // Sequence of every token: its row, or (row, id) for packed rows.
      at::Tensor row_of = at::arange(B, long_opts).unsqueeze(1).expand({B, T});       // [B, T]
      int64_t S = 1;
      at::Tensor seq_of = row_of;
      if (sequence_ids.defined()) {
        R1_CHECK(sequence_ids.sizes() == at::IntArrayRef({B, T}), "moe_forward: sequence_ids must be [B, T] = [", B,
                 ", ", T, "], got ", sequence_ids.sizes());
        at::Tensor ids = sequence_ids.to(long_opts);
        S = ids.max().item<int64_t>() + 1;
        seq_of = row_of * S + ids;
      }
      at::Tensor seq_rows = seq_of.reshape({B * T}).index_select(0, rows);              // [Nv]
      const int64_t G = B * S;
      at::Tensor P = at::zeros({G, E}, r.scores.options()).index_add(0, seq_rows, r.scores / r.scores.sum(-1, true));
      at::Tensor picked = at::zeros({Nv, E}, r.scores.options()).scatter_(1, r.indices, 1.0);
      at::Tensor f = at::zeros({G, E}, r.scores.options()).index_add(0, seq_rows, picked);
      at::Tensor tokens = at::zeros({G}, r.scores.options()).index_add(0, seq_rows, at::ones({Nv}, r.scores.options()));
      at::Tensor present = (tokens > 0).nonzero().squeeze(1);                           // sequences with tokens
      at::Tensor n = tokens.index_select(0, present).unsqueeze(1);                      // [G', 1]
      P = P.index_select(0, present) / n;                                               // [G', E]
      f = f.index_select(0, present) * (static_cast<double>(E) / K) / n;                // [G', E]
      stats->balance_loss = present.numel() > 0 ? (f.detach() * P).sum(-1).mean()
                                                : at::zeros({}, r.scores.options());
    }
  }
  return out;
}

}  // namespace r1::model
