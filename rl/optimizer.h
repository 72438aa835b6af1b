// AdamW with decoupled weight decay, global-norm gradient clipping, and the warmup + cosine learning-rate
// schedule used by every trainer. Written out (not torch::optim) so that its whole state is a set of named
// tensors that checkpoints store in safetensors next to the model, and so that low-precision parameters get
// an fp32 master copy: with bf16 weights, the update is computed on the fp32 master and rounded into the
// bf16 parameter (plain bf16 AdamW loses small updates to rounding).
//
// Weight decay applies to matrices (dim ≥ 2) only — not to norms, biases or the MoE correction bias — the
// usual practice for transformer training (and DeepSeek-V3's).
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <utility>
#include <vector>

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

  // One update with learning rate `lr` (from the schedule); parameters without gradients are skipped.
  void step(double lr);
  void zero_grad();
  int64_t steps_taken() const { return step_; }
  const AdamWConfig& config() const { return config_; }
  std::vector<at::Tensor> parameters() const;

  // State as named tensors ("<param>.exp_avg", "<param>.exp_avg_sq", "<param>.master") plus the step
  // count; load_state checks that every parameter has its state with the right shape (r1::Error naming
  // the missing or mismatched tensor otherwise).
  std::vector<std::pair<std::string, at::Tensor>> state_tensors() const;
  void load_state(const std::vector<std::pair<std::string, at::Tensor>>& tensors, int64_t steps_taken,
                  const std::string& origin);

 private:
  struct Slot {
    std::string name;
    at::Tensor param, exp_avg, exp_avg_sq, master;  // master: fp32 copy when param is not fp32
    bool decay;
  };
  std::vector<Slot> slots_;
  AdamWConfig config_;
  int64_t step_ = 0;
};

}  // namespace r1::rl
