// Phase 3 of a GRPO step: the policy updates. `epochs` passes (μ) over the step's batch, each split into
// `minibatches` optimizer updates accumulated over micro-batches of micro_batch_size sequences; per
// micro-batch the policy's log-probs (chunked LM head, with grad), the GRPO loss against π_old and π_ref
// (loss.h), plus moe.seq_aux_alpha × the sequence-wise balance loss when set; backward; then per minibatch
// one optimizer update (clip, AdamW with the scheduled lr) and the aux-loss-free MoE bias update.
// Returns detached diagnostics: token means over every counted token of every pass.
// Letters: N sequences of the step, L padded length.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "model/causal_lm.h"
#include "rl/grpo/batch.h"
#include "rl/grpo/config.h"
#include "rl/optimizer.h"
#include "rl/run_dir.h"

namespace r1::rl {

struct PolicyLogprobs {
  at::Tensor old_logp;  // [N, L-1] π_old; undefined when epochs = minibatches = 1 (π_old = π_θ detached)
  at::Tensor ref_logp;  // [N, L-1] π_ref; undefined when beta = 0
};

struct UpdateStats {
  double loss = 0, pg_sum = 0, kl_sum = 0, clip_low = 0, clip_high = 0, dual = 0, ratio_sum = 0, ratio_max = 0;
  double tokens = 0, entropy_sum = 0, first_pass_tokens = 0, gap_sum = 0, balance_sum = 0;
  double grad_norm = 0, lr = 0;
  int64_t updates = 0;
  std::vector<at::Tensor> first_minibatch_load;  // expert loads of the first minibatch of the first pass

  // Writes the step's loss diagnostics (loss, pg_loss, kl, clip fractions, ratio, entropy, logprob_gap,
  // grad_norm, lr, MoE load) into m.
  void write(const GrpoConfig& c, Metrics& m) const;
};

// Runs the updates of one step. `objective` is c.grpo with constant_normalizer resolved (> 0).
UpdateStats update_policy(const GrpoConfig& c, const GrpoObjective& objective, model::CausalLM& model, AdamW& optimizer,
                          const ScheduleConfig& schedule, const SequenceBatch& batch, const at::Tensor& advantages,
                          const PolicyLogprobs& fixed, double temperature);

}  // namespace r1::rl
