// See batch.h.
#include "rl/grpo/batch.h"

#include <ATen/core/grad_mode.h>  // at::NoGradGuard: not reached through ATen.h in every LibTorch 2.x

#include <algorithm>

#include "rl/logprobs.h"

namespace r1::rl {

SequenceBatch build_batch(const std::vector<const Completion*>& comps, int64_t pad_id, bool mask_truncated,
                          at::Device device) {
  const int64_t n = static_cast<int64_t>(comps.size());
  int64_t L = 2;
  for (const auto* c : comps) {
    L = std::max<int64_t>(L, static_cast<int64_t>(c->prompt_ids.size() + c->generation.tokens.size()));
  }
  // Filled on the CPU through accessors, then moved to the model's device in one copy each.
  at::Tensor ids = at::full({n, L}, pad_id, at::kLong);     // [N, L]
  at::Tensor attention = at::zeros({n, L}, at::kLong);      // [N, L]
  at::Tensor comp_mask = at::zeros({n, L - 1}, at::kFloat); // [N, L-1]
  at::Tensor sampler = at::zeros({n, L - 1}, at::kFloat);   // [N, L-1]
  auto id = ids.accessor<int64_t, 2>();
  auto att = attention.accessor<int64_t, 2>();
  auto cm = comp_mask.accessor<float, 2>();
  auto sl = sampler.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const Completion& c = *comps[i];
    const int64_t p = static_cast<int64_t>(c.prompt_ids.size());
    const int64_t g = static_cast<int64_t>(c.generation.tokens.size());
    for (int64_t t = 0; t < p; ++t) id[i][t] = c.prompt_ids[t];
    for (int64_t t = 0; t < g; ++t) id[i][p + t] = c.generation.tokens[t];
    for (int64_t t = 0; t < p + g; ++t) att[i][t] = 1;
    for (int64_t t = 0; t < g && t < static_cast<int64_t>(c.generation.logprobs.size()); ++t) {
      sl[i][p + t - 1] = c.generation.logprobs[t];
    }
    const bool counts = !(mask_truncated && c.generation.truncated());
    for (int64_t t = p; t < p + g && counts; ++t) cm[i][t - 1] = 1.0f;
  }
  return SequenceBatch{ids.to(device), attention.to(device), comp_mask.to(device), sampler.to(device)};
}

SequenceBatch batch_rows(const SequenceBatch& b, int64_t r0, int64_t r1) {
  return {b.input_ids.slice(0, r0, r1), b.attention.slice(0, r0, r1), b.comp_mask.slice(0, r0, r1),
          b.sampler_logp.slice(0, r0, r1)};
}

at::Tensor rewards_tensor(const std::vector<const Completion*>& comps, at::Device device) {
  std::vector<float> values;
  values.reserve(comps.size());
  for (const auto* c : comps) values.push_back(static_cast<float>(c->score.value));
  return at::tensor(values, at::kFloat).to(device);  // [N]
}

SeqLogprobs sequence_logprobs(const model::CausalLM& model, const SequenceBatch& b, int64_t r0, int64_t r1,
                              double temperature, int64_t chunk, bool with_entropy, bool seq_balance_loss) {
  at::Tensor ids = b.input_ids.slice(0, r0, r1);                                     // [n, L]
  model::ForwardOutput out = model.forward(ids, b.attention.slice(0, r0, r1), {}, seq_balance_loss);
  at::Tensor mask = b.comp_mask.slice(0, r0, r1);                                     // [n, L-1]
  at::Tensor sel = mask > 0;
  at::Tensor h = out.hidden.slice(1, 0, -1).index({sel});                              // [m, H]
  at::Tensor targets = ids.slice(1, 1).index({sel});                                   // [m]
  TokenLogprobs tl = chunked_token_logprobs(h, model.lm_head_weight(), targets, temperature, chunk, with_entropy);
  SeqLogprobs r;
  r.logp = at::zeros(mask.sizes(), tl.logp.options()).masked_scatter(sel, tl.logp);  // [n, L-1]
  if (with_entropy) r.entropy = at::zeros(mask.sizes(), tl.entropy.options()).masked_scatter(sel, tl.entropy);
  r.seq_balance_loss = out.seq_balance_loss;
  r.expert_load = std::move(out.expert_load);
  return r;
}

at::Tensor no_grad_logprobs(const model::CausalLM& model, const SequenceBatch& b, int64_t micro, double temperature,
                            int64_t chunk) {
  at::NoGradGuard no_grad;
  const int64_t n = b.input_ids.size(0);
  std::vector<at::Tensor> parts;
  for (int64_t r0 = 0; r0 < n; r0 += micro) {
    parts.push_back(sequence_logprobs(model, b, r0, std::min(n, r0 + micro), temperature, chunk, false).logp);
  }
  return at::cat(parts, 0);  // [N, L-1]
}

}  // namespace r1::rl
