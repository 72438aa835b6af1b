// The tensors of one GRPO step: the kept completions as a right-padded batch of prompt + completion tokens
// with the mask of tokens that carry loss, their rewards, and their log-probs under a model (the policy,
// π_old, the reference) through the chunked LM head (rl/logprobs.h).
//
// Rewards are NOT read when the batch is built: scoring may still be running on another thread (GRPO
// overlaps it with the log-prob passes); rewards_tensor() is called after the scores are in.
// Letters: N sequences of the step (groups × G), L padded sequence length.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "model/causal_lm.h"
#include "rl/rollout.h"

namespace r1::rl {

struct SequenceBatch {
  at::Tensor input_ids;    // [N, L] int64, pad_id after each sequence
  at::Tensor attention;    // [N, L] int64, 1 on real tokens
  at::Tensor comp_mask;    // [N, L-1] fp32, 1 where token t+1 is a completion token that carries loss
  at::Tensor sampler_logp; // [N, L-1] fp32, the sampler's log-prob of token t+1 (0 outside completions)
};

// The batch of `comps` (prompt + generated ids), on `device`. With mask_truncated, completions cut at
// max_new_tokens carry no loss (DAPO overlong filtering).
SequenceBatch build_batch(const std::vector<const Completion*>& comps, int64_t pad_id, bool mask_truncated,
                          at::Device device);

// Rows [r0, r1) of a batch (views): a rank's share of the step's batch under data parallelism.
SequenceBatch batch_rows(const SequenceBatch& b, int64_t r0, int64_t r1);

// The scores of `comps` as [N] fp32 on `device`. Call only once scoring has finished.
at::Tensor rewards_tensor(const std::vector<const Completion*>& comps, at::Device device);

struct SeqLogprobs {
  at::Tensor logp;                       // [n, L-1] fp32, zeros outside comp_mask
  at::Tensor entropy;                    // [n, L-1] detached (undefined unless asked for)
  at::Tensor seq_balance_loss;           // scalar (undefined unless asked for and the model has MoE)
  std::vector<at::Tensor> expert_load;   // per MoE layer [E]
};

// Log-probs of the completion tokens of rows [r0, r1) under `model` at `temperature`.
SeqLogprobs sequence_logprobs(const model::CausalLM& model, const SequenceBatch& b, int64_t r0, int64_t r1,
                              double temperature, int64_t chunk, bool with_entropy, bool seq_balance_loss = false);

// Detached log-probs of all rows [N, L-1], micro-batched, without building a graph.
at::Tensor no_grad_logprobs(const model::CausalLM& model, const SequenceBatch& b, int64_t micro, double temperature,
                            int64_t chunk);

}  // namespace r1::rl
