// Phase 3 of a GRPO step: the policy updates. `epochs` passes (μ) over the step's batch, each split into
// `minibatches` optimizer updates accumulated over micro-batches of micro_batch_size sequences; per
// micro-batch the policy's log-probs (chunked LM head, with grad), the GRPO loss against π_old and π_ref
// (loss.h), plus moe.seq_aux_alpha × the sequence-wise balance loss when set; backward; then per minibatch
// one optimizer update (clip, AdamW with the scheduled lr) and the aux-loss-free MoE bias update.
// Returns detached diagnostics: token means over every counted token of every pass.
//
// Data parallelism (several ranks): `batch` is the whole step's batch on every rank, and this rank runs rows
// [first_row, end_row) of it (whole groups; `advantages` and `fixed` are of those rows only). Minibatches are
// ranges of the whole batch and their loss normalisers (n_seq, n_tok) are the whole minibatch's, so the
// gradients summed over the ranks (`gradients`, rl/gradient_reducer.h) are the single-process gradients;
// expert loads and the diagnostics are summed the same way.
// Letters: N sequences of the step, L padded length.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "dist/world.h"
#include "model/causal_lm.h"
#include "rl/grpo/batch.h"
#include "rl/grpo/config.h"
#include "rl/gradient_reducer.h"
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
  double allreduce_s = 0;  // the gradient all-reduces of the step (several ranks)
  double early_buckets = 0;  // of them, buckets sent during the backward passes
  int64_t updates = 0;
  std::vector<at::Tensor> first_minibatch_load;  // expert loads of the first minibatch of the first pass

  // Sums the diagnostics over the ranks (ratio_max: the maximum); the expert loads are summed before the update.
  void reduce(const dist::World& world);
  // Writes the step's loss diagnostics (loss, pg_loss, kl, clip fractions, ratio, entropy, logprob_gap,
  // grad_norm, lr, MoE load) into m.
  void write(const GrpoConfig& c, Metrics& m) const;
};

// Runs the updates of one step. `objective` is c.grpo with constant_normalizer resolved (> 0).
struct RowShare {
  const dist::World& world;
  int64_t first_row = 0, end_row = 0;  // this rank's rows of the step's batch
};
UpdateStats update_policy(const GrpoConfig& c, const GrpoObjective& objective, model::CausalLM& model, AdamW& optimizer,
                          GradientReducer& gradients, const ScheduleConfig& schedule, const SequenceBatch& batch,
                          const RowShare& share, const at::Tensor& advantages, const PolicyLogprobs& fixed,
                          double temperature);

}  // namespace r1::rl
