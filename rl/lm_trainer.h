// The causal-LM training loop shared by the "pretrain", "sft" and "distill" stages (rl/stages/pretrain.cpp,
// rl/stages/sft.cpp, rl/stages/distill.cpp): the stage turns its data into token Sequences with a train mask,
// and this loop does the rest on the trainer skeleton (rl/trainer.h); distill's logit modes add loss terms
// (LmLossTerms, below).
//
// Each step takes batch_size sequences in the deterministic data order, packs them into rows of max_len
// tokens (block-diagonal attention, positions restarting per sequence — see lm_batch.h) or pads one per
// row, runs forward/backward over micro-batches of rows, and takes one optimizer step. It logs a metrics
// line per step, the sequence indices of every step to <stage>/batches.jsonl, saves resumable checkpoints
// (rl/trainer.h: by steps, by wall time, and on SIGINT/SIGTERM), and writes the final model to <stage>/final with its logit probe.
//
// Loss: token-mean cross-entropy over all target tokens of a step (all micro-batches together), plus
// mtp_weight × the DeepSeek-V3 MTP cross-entropy (token mean over its targets) when the model has an MTP
// module, plus seq_aux_alpha × the sequence-wise balance loss (each packed sequence its own sequence).
// Padding is not routed through the MoE layers, so the expert load behind the aux-loss-free bias update
// (after every optimizer step) counts real tokens only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rl/lm_batch.h"
#include "rl/policy.h"
#include "rl/stage.h"
#include "rl/train_common.h"
#include "rl/trainer.h"

namespace r1::rl {

// The keys pretrain and sft share (each stage adds its own after them).
struct LmTrainConfig {
  ModelSource model;
  std::string data;                 // JSONL path or stage:NAME/file
  int64_t steps = 100;              // optimizer steps
  int64_t batch_size = 32;          // sequences per step
  int64_t micro_batch_rows = 0;     // packed rows per forward/backward (0 = all rows at once)
  int64_t max_len = 512;
  bool pack = true;
  double mtp_weight = 0.0;          // λ of the MTP loss (DeepSeek-V3: 0.3 then 0.1); needs an MTP module
  MoeTrainConfig moe;
  OptimConfig optim;
  int64_t log_every = 1;
  CheckpointConfig checkpoint;      // save_every, save_every_minutes, keep_last (top-level keys)
  bool skip_bad_lines = false;
  int64_t threads = 0;              // intra-op threads (0: LibTorch default)
  bool activation_checkpointing = false;  // recompute each decoder layer in the backward pass (model/causal_lm.h)

  template <class V>
  void visit(V& v) {
    v("model", model);
    v("data", data, "JSONL file (text for pretrain, chat for sft) or stage:NAME/file");
    v("steps", steps, "optimizer steps");
    v("batch_size", batch_size, "sequences per step");
    v("micro_batch_rows", micro_batch_rows, "packed rows per forward/backward (0: all rows of the step)");
    v("max_len", max_len, "tokens per row; longer sequences are truncated (counted in 'truncated')");
    v("pack", pack, "pack several sequences per row (false: one padded sequence per row)");
    v("mtp_weight", mtp_weight, "weight of the MTP loss (DeepSeek-V3: 0.3, later 0.1); needs an MTP module");
    v("moe", moe);
    v("optim", optim);
    v("log_every", log_every, "metrics line every N steps");
    checkpoint.visit(v);
    v("skip_bad_lines", skip_bad_lines, "skip malformed JSONL lines with a warning instead of failing");
    v("threads", threads, "LibTorch intra-op threads (0: default)");
    v("activation_checkpointing", activation_checkpointing,
      "keep only each decoder layer's input and recompute the layer in the backward pass (less memory, ~1 more "
      "forward per step; same gradients)");
  }
  void validate(const std::string& where) const;
};

// Per-token losses of a batch's rows (below); declared here for LmLossTerms.
struct LmTokenLosses;

// Loss terms a stage adds to the loop's cross-entropy (the distill stage's logit distillation,
// rl/stages/distill.h). Without them (pretrain, sft) the step's loss is the cross-entropy (+ MTP, + balance).
// With them it is ce_weight() × (cross-entropy + MTP) + the terms' losses, and the metrics line's "loss" is
// that total, its cross-entropy "ce".
class LmLossTerms {
 public:
  virtual ~LmLossTerms() = default;
  // Weight of the cross-entropy (and MTP) on the step's sequences.
  virtual double ce_weight() const = 0;
  // Whether the step's sequences are run through the model at all (false: the terms bring their own data, and
  // ce_weight() is 0).
  virtual bool uses_batch() const { return true; }
  // Whether step_term() runs a backward pass of its own (then nothing is armed for overlap: every gradient
  // bucket is sent after it, rl/gradient_reducer.h).
  virtual bool runs_own_backward() const { return false; }
  // Per micro-batch (rows [r0, r1) of `batch`, whose forward through `model` is in tl): a differentiable scalar added to the
  // micro-batch's loss before its backward — its share of the step's term, normalised by `step_targets` (the
  // loss targets of the whole step) — or an undefined tensor.
  virtual at::Tensor micro_batch_term(const model::CausalLM& model, const LmBatch& batch, int64_t r0, int64_t r1,
                                      const LmTokenLosses& tl, double step_targets) = 0;
  // Once per step after the micro-batches and before the optimizer update: a term with data of its own (it runs
  // its own forward and backward into the model's gradients). `indices` are the step's sequences; with several
  // ranks each rank takes its share of them (world.share), normalised by the whole step. Returns this rank's
  // part of the term's loss value (0 for none; the loop sums the parts over the ranks).
  virtual double step_term(model::CausalLM& model, int64_t step, const std::vector<size_t>& indices,
                           const dist::World& world) = 0;
  // Adds the step's term metrics (accumulated over its micro-batches / step term) to m and resets them. With
  // several ranks each accumulates its share; report() is called on every rank after the step's collectives, so
  // it sums its accumulators over `world` first (a collective: every rank calls it).
  virtual void report(Metrics& m, const dist::World& world) = 0;
};

// Trains `policy` on `sequences` (the stage's data, already tokenised) and returns the final directory.
// `terms` (optional, not owned) adds loss terms to every step.
std::string train_causal_lm(const LmTrainConfig& c, Policy policy, const std::vector<Sequence>& sequences,
                            StageContext& ctx, LmLossTerms* terms = nullptr);

// The EOS id sequences end with: the tokenizer's, else the model config's first eos_token_id.
std::optional<int64_t> lm_eos_id(const Policy& policy);

// Per-token losses of rows [r0, r1) of a packed or padded batch, through the training forward (block-diagonal
// attention bias, restarting positions).
struct LmTokenLosses {
  at::Tensor nll;      // [b, T-1] -log p(ids[t+1] | ids[<=t]) where loss_mask[t+1] (0 elsewhere)
  at::Tensor mask;     // [b, T-1] bool: the targets of nll
  at::Tensor mtp_nll;  // [b, T-2] MTP: -log p(ids[t+2] | ids[<=t+1]) where ids[t..t+2] are one sequence and
                       // loss_mask[t+2] (0 elsewhere); undefined unless with_mtp
  at::Tensor mtp_mask; // [b, T-2] bool: the targets of mtp_nll
  model::ForwardOutput forward;  // expert loads, balance loss
};
LmTokenLosses lm_token_losses(const model::CausalLM& model, const LmBatch& batch, int64_t r0, int64_t r1, bool with_mtp,
                              bool seq_balance_loss);

// The training forward alone over rows [r0, r1) of a packed or padded batch (block-diagonal attention bias,
// restarting positions): what lm_token_losses runs, for a second model on the same rows (a teacher).
model::ForwardOutput lm_forward(const model::CausalLM& model, const LmBatch& batch, int64_t r0, int64_t r1,
                                bool seq_balance_loss = false);

}  // namespace r1::rl
