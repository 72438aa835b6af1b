// See optimizer.h.
#include "rl/optimizer.h"

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <map>

#include "common/error.h"

namespace r1::rl {

double scheduled_lr(double base_lr, const ScheduleConfig& schedule, int64_t step) {
  if (schedule.warmup_steps > 0 && step < schedule.warmup_steps) {
    return base_lr * static_cast<double>(step + 1) / static_cast<double>(schedule.warmup_steps);
  }
  if (schedule.kind == "constant") return base_lr;
  const int64_t decay_steps = std::max<int64_t>(1, schedule.total_steps - schedule.warmup_steps);
  const double progress = std::min(1.0, static_cast<double>(step - schedule.warmup_steps) / decay_steps);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return base_lr * (schedule.min_lr_ratio + (1.0 - schedule.min_lr_ratio) * cosine);
}

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  double total_sq = 0;
  for (const auto& p : params) {
    if (p.grad().defined()) total_sq += p.grad().to(at::kDouble).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(total_sq);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(scale);
    }
  }
  return norm;
}

AdamW::AdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWConfig config) : config_(config) {
  for (auto& [name, p] : params) {
    if (!p.requires_grad()) continue;
    Slot s;
    s.name = name;
    s.param = p;
    s.exp_avg = at::zeros(p.sizes(), p.options().dtype(at::kFloat));
    s.exp_avg_sq = at::zeros(p.sizes(), p.options().dtype(at::kFloat));
    if (p.scalar_type() != at::kFloat) s.master = p.detach().to(at::kFloat).clone();
    s.decay = p.dim() >= 2;
    slots_.push_back(std::move(s));
  }
}

std::vector<at::Tensor> AdamW::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& s : slots_) out.push_back(s.param);
  return out;
}

void AdamW::zero_grad() {
  for (auto& s : slots_) {
    if (s.param.grad().defined()) s.param.mutable_grad() = at::Tensor();
  }
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++step_;
  const double bias1 = 1.0 - std::pow(config_.beta1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(config_.beta2, static_cast<double>(step_));
  for (auto& s : slots_) {
    if (!s.param.grad().defined()) continue;
    at::Tensor grad = s.param.grad().to(at::kFloat);
    at::Tensor weights = s.master.defined() ? s.master : s.param;  // fp32 view of the weights
    if (s.decay && config_.weight_decay != 0) weights.mul_(1.0 - lr * config_.weight_decay);
    s.exp_avg.mul_(config_.beta1).add_(grad, 1.0 - config_.beta1);
    s.exp_avg_sq.mul_(config_.beta2).addcmul_(grad, grad, 1.0 - config_.beta2);
    at::Tensor denom = (s.exp_avg_sq / bias2).sqrt_().add_(config_.eps);
    weights.addcdiv_(s.exp_avg, denom, -lr / bias1);
    if (s.master.defined()) s.param.copy_(s.master);
  }
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::state_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& s : slots_) {
    out.emplace_back(s.name + ".exp_avg", s.exp_avg);
    out.emplace_back(s.name + ".exp_avg_sq", s.exp_avg_sq);
    if (s.master.defined()) out.emplace_back(s.name + ".master", s.master);
  }
  return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, at::Tensor>>& tensors, int64_t steps_taken,
                       const std::string& origin) {
  std::map<std::string, at::Tensor> by_name(tensors.begin(), tensors.end());
  auto take = [&](const std::string& name, const at::Tensor& like) {
    auto it = by_name.find(name);
    R1_CHECK(it != by_name.end(), origin, ": optimizer state is missing tensor '", name, "'");
    R1_CHECK(it->second.sizes() == like.sizes(), origin, ": optimizer tensor '", name, "' has shape ",
             it->second.sizes(), ", the parameter needs ", like.sizes());
    return it->second.to(like.scalar_type());
  };
  at::NoGradGuard no_grad;
  for (auto& s : slots_) {
    s.exp_avg.copy_(take(s.name + ".exp_avg", s.exp_avg));
    s.exp_avg_sq.copy_(take(s.name + ".exp_avg_sq", s.exp_avg_sq));
    if (s.master.defined()) s.master.copy_(take(s.name + ".master", s.master));
  }
  step_ = steps_taken;
}

}  // namespace r1::rl
