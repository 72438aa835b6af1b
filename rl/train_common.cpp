// See train_common.h.
#include "rl/train_common.h"

#include <ATen/core/grad_mode.h>

#include "common/clock.h"
#include "common/error.h"

namespace r1::rl {

void OptimConfig::validate(const std::string& where) const {
  R1_CHECK(lr > 0, where, ": optim.lr must be > 0, got ", lr);
  R1_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, where, ": optim.beta1/beta2 must be in [0, 1)");
  R1_CHECK(eps > 0, where, ": optim.eps must be > 0");
  R1_CHECK(warmup_steps >= 0, where, ": optim.warmup_steps must be >= 0");
  R1_CHECK(min_lr_ratio >= 0 && min_lr_ratio <= 1, where, ": optim.min_lr_ratio must be in [0, 1]");
  R1_CHECK(zero_stage == 0 || zero_stage == 1, where, ": optim.zero_stage must be 0 or 1, got ", zero_stage);
  R1_CHECK(schedule == "cosine" || schedule == "constant", where, ": optim.schedule must be cosine or constant, got '",
           schedule, "'");
}

AdamWConfig OptimConfig::adamw() const {
  AdamWConfig c;
  c.lr = lr;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.eps = eps;
  c.weight_decay = weight_decay;
  return c;
}

ScheduleConfig OptimConfig::schedule_for(int64_t total_optimizer_steps) const {
  ScheduleConfig s;
  s.warmup_steps = warmup_steps;
  s.total_steps = total_optimizer_steps;
  s.min_lr_ratio = min_lr_ratio;
  s.kind = schedule;
  return s;
}

void accumulate_expert_load(std::vector<at::Tensor>& total, const std::vector<at::Tensor>& loads) {
  if (total.empty()) {
    for (const auto& l : loads) total.push_back(l.detach().to(at::kDouble).clone());
    return;
  }
  TORCH_CHECK(total.size() == loads.size(), "accumulate_expert_load: ", total.size(), " vs ", loads.size(), " layers");
  for (size_t i = 0; i < loads.size(); ++i) total[i] += loads[i].detach().to(at::kDouble);
}

void record_expert_load(const std::vector<at::Tensor>& loads, Metrics& metrics) {
  if (loads.empty()) return;
  double ratio_sum = 0, min_share = 1;
  for (const auto& l : loads) {
    at::Tensor d = l.to(at::kDouble);
    const double mean = d.mean().item<double>();
    if (mean <= 0) continue;
    ratio_sum += d.max().item<double>() / mean;
    min_share = std::min(min_share, d.min().item<double>() / mean);
  }
  metrics.set("moe_load_max_over_mean", ratio_sum / static_cast<double>(loads.size()));
  metrics.set("moe_load_min_over_mean", min_share);
}

std::unique_ptr<AdamW> make_optimizer(model::CausalLM& model, const OptimConfig& config) {
  model.set_requires_grad(true);
  return std::make_unique<AdamW>(model.named_parameters(), config.adamw());
}

void all_reduce_expert_loads(const dist::World& world, std::vector<at::Tensor>& loads) {
  if (world.size() == 1) return;
  const auto layers = static_cast<size_t>(world.max(static_cast<double>(loads.size())));
  const auto experts = static_cast<int64_t>(world.max(loads.empty() ? 0.0 : static_cast<double>(loads[0].numel())));
  if (layers == 0) return;
  if (loads.empty()) loads.assign(layers, at::Tensor());
  for (auto& l : loads) {
    if (!l.defined()) l = at::zeros({experts}, at::kDouble);
  }
  R1_CHECK(loads.size() == layers, "all_reduce_expert_loads: ", loads.size(), " MoE layers here, ", layers,
           " on another rank");
  world.all_reduce_sum(loads);
}

std::pair<double, double> optimizer_update(AdamW& optimizer, const OptimConfig& config, const ScheduleConfig& schedule) {
  const double norm = clip_grad_norm(optimizer.parameters(), config.max_grad_norm);
  const double lr = scheduled_lr(config.lr, schedule, optimizer.steps_taken());
  if (std::isfinite(norm)) {
    optimizer.step(lr);
  } else {
    std::fprintf(stderr, "warning: non-finite gradient norm at optimizer step %ld; update skipped\n",
                 static_cast<long>(optimizer.steps_taken()));
  }
  optimizer.zero_grad();
  return {norm, lr};
}

}  // namespace r1::rl
