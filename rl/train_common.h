// Pieces every trainer shares: the optimizer section of a recipe, MoE balancing options, checkpoint
// cadence, and helpers to resume a stage, apply one optimizer step and record MoE load statistics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dist/world.h"
#include "model/causal_lm.h"
#include "rl/checkpoint.h"
#include "common/config_io.h"
#include "rl/optimizer.h"
#include "rl/run_dir.h"

namespace r1::rl {

struct OptimConfig {
  double lr = 1e-5;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weight_decay = 0.1;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;
  std::string schedule = "cosine";
  double max_grad_norm = 1.0;
  int64_t zero_stage = 0;  // 1: AdamW state sharded over the ranks of a job (ZeRO-1, rl/optimizer.h)
  bool overlap_allreduce = true;  // several processes: send gradient buckets during the last backward

  template <class V>
  void visit(V& v) {
    v("lr", lr, "peak learning rate");
    v("beta1", beta1);
    v("beta2", beta2);
    v("eps", eps);
    v("weight_decay", weight_decay, "AdamW decoupled weight decay (matrices only)");
    v("warmup_steps", warmup_steps, "linear warmup (optimizer steps)");
    v("min_lr_ratio", min_lr_ratio, "final lr / peak lr for the cosine schedule");
    v("schedule", schedule, "cosine | constant");
    v("max_grad_norm", max_grad_norm, "global gradient-norm clip (<= 0: off)");
    v("zero_stage", zero_stage,
      "1: in a job of several processes each rank keeps the AdamW moments and fp32 master weights of its share "
      "of the parameters only, updates those and broadcasts them (ZeRO-1); 0: every rank keeps the whole state");
    v("overlap_allreduce", overlap_allreduce,
      "in a job of several processes, sum each bucket of gradients over the ranks as soon as the step's last "
      "backward pass has finished it, while the backward goes on (false: all buckets after the backward)");
  }
  void validate(const std::string& where) const;
  AdamWConfig adamw() const;
  ScheduleConfig schedule_for(int64_t total_optimizer_steps) const;
};

// DeepSeekMoE balancing during training (no effect on dense models).
struct MoeTrainConfig {
  double bias_update_speed = 0.001;  // γ of the aux-loss-free update (DeepSeek-V3: 0.001); 0 = off
  double seq_aux_alpha = 0.0;        // weight of the sequence-wise balance loss (DeepSeek-V3: 0.0001); 0 = off

  template <class V>
  void visit(V& v) {
    v("bias_update_speed", bias_update_speed, "gamma: bias_e += gamma * sign(mean load - load_e) after each step");
    v("seq_aux_alpha", seq_aux_alpha, "weight of the sequence-wise balance loss (0 = off)");
  }
};

// Adds expert-load statistics (summed over the given loads) to metrics: load imbalance max/mean per layer,
// averaged, as "moe_load_max_over_mean".
void record_expert_load(const std::vector<at::Tensor>& loads, Metrics& metrics);

// Sums per-layer loads element-wise into `total` (initialising it on first use).
void accumulate_expert_load(std::vector<at::Tensor>& total, const std::vector<at::Tensor>& loads);

// Sets requires_grad on the model's parameters and builds the optimizer over them.
std::unique_ptr<AdamW> make_optimizer(model::CausalLM& model, const OptimConfig& config);

// Every rank's expert loads (accumulate_expert_load's [E] per MoE layer) summed over the ranks, in place, so the
// aux-loss-free bias update is the same everywhere; a rank that ran no rows (empty `loads`) takes part with
// zeros. Nothing happens for a single process.
void all_reduce_expert_loads(const dist::World& world, std::vector<at::Tensor>& loads);

// One optimizer update: clip, step with the scheduled lr, zero grads. Returns (grad norm, lr).
std::pair<double, double> optimizer_update(AdamW& optimizer, const OptimConfig& config, const ScheduleConfig& schedule);

}  // namespace r1::rl
