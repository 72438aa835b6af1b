// AdamW with decoupled weight decay, global-norm gradient clipping, and the warmup + cosine learning-rate
// schedule used by every trainer. Written out (not torch::optim) so that its whole state is a set of named
// tensors that checkpoints store in safetensors next to the model, and so that low-precision parameters get
// an fp32 master copy: with bf16 weights, the update is computed on the fp32 master and rounded into the
// bf16 parameter (plain bf16 AdamW loses small updates to rounding).
//
// Weight decay applies to matrices (dim ≥ 2) only — not to norms, biases or the MoE correction bias — the
// usual practice for transformer training (and DeepSeek-V3's).
//
// ZeRO-1 (shard()): in a job of several processes each parameter gets an owner rank (greedily, by size, in
// parameter order); a rank keeps the moments and fp32 master of the parameters it owns only, step() updates
// those and then every parameter is broadcast from its owner, so all ranks hold the same weights with 1/N of
// the optimizer state each. The gradients must already be summed over the ranks (rl/gradient_reducer.h).
// state_tensors() then gathers the whole state (every rank must call it: it is collective) and load_state()
// keeps the owned part, so checkpoints are the same files with or without sharding.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "dist/world.h"

namespace r1::rl {

struct AdamWConfig {
  double lr = 1e-5;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

struct ScheduleConfig {
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;      // cosine reaches min_lr at this step
  double min_lr_ratio = 0.1;    // final lr = lr · min_lr_ratio
  std::string kind = "cosine";  // "cosine" | "constant" (warmup applies to both)
};

// lr at optimizer step `step` (0-based): linear warmup from lr/warmup to lr, then cosine to lr·min_lr_ratio.
double scheduled_lr(double base_lr, const ScheduleConfig& schedule, int64_t step);

// Scales all gradients so that their global L2 norm is ≤ max_norm (max_norm ≤ 0: no clipping). Returns the
// norm before clipping. Parameters without a gradient are skipped.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

class AdamW {
 public:
  // params: (name, tensor) pairs; only tensors that require grad are optimised.
  AdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWConfig config);

  // One update with learning rate `lr` (from the schedule); parameters without gradients are skipped. Sharded:
  // the owned parameters are updated, then every parameter is broadcast from its owner (collective).
  void step(double lr);
  // ZeRO-1 over `world` (kept by reference; nothing happens for a single process): drops the state of the
  // parameters other ranks own. Call before load_state.
  void shard(const dist::World& world);
  bool sharded() const { return world_ != nullptr; }
  void zero_grad();
  int64_t steps_taken() const { return step_; }
  const AdamWConfig& config() const { return config_; }
  std::vector<at::Tensor> parameters() const;

  // State as named tensors ("<param>.exp_avg", "<param>.exp_avg_sq", "<param>.master") plus the step
  // count; load_state checks that every parameter has its state with the right shape (r1::Error naming
  // the missing or mismatched tensor otherwise). Sharded, state_tensors() is collective (the whole state, on
  // every rank) and load_state keeps the owned parameters' state.
  std::vector<std::pair<std::string, at::Tensor>> state_tensors();
  void load_state(const std::vector<std::pair<std::string, at::Tensor>>& tensors, int64_t steps_taken,
                  const std::string& origin);

 private:
  struct Slot {
    std::string name;
    at::Tensor param, exp_avg, exp_avg_sq, master;  // master: fp32 copy when param is not fp32
    bool decay;
    int owner = 0;  // the rank that updates it (sharded)
  };
  bool owns(const Slot& s) const { return world_ == nullptr || s.owner == world_->rank(); }
  // For each rank in turn, its owned slots' tensors (picked by `pick`) broadcast from it, in one flat tensor per
  // dtype; `pick` may allocate the receiving tensors on the other ranks.
  void broadcast_from_owners(const std::function<std::vector<at::Tensor*>(Slot&)>& pick);

  std::vector<Slot> slots_;
  AdamWConfig config_;
  int64_t step_ = 0;
  const dist::World* world_ = nullptr;  // set by shard() in a job of several processes
};

}  // namespace r1::rl
