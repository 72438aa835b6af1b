// See optimizer.h.
#include "rl/optimizer.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
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
    if (!owns(s) || !s.param.grad().defined()) continue;
    at::Tensor grad = s.param.grad().to(at::kFloat);
    at::Tensor weights = s.master.defined() ? s.master : s.param;  // fp32 view of the weights
    if (s.decay && config_.weight_decay != 0) weights.mul_(1.0 - lr * config_.weight_decay);
    s.exp_avg.mul_(config_.beta1).add_(grad, 1.0 - config_.beta1);
    s.exp_avg_sq.mul_(config_.beta2).addcmul_(grad, grad, 1.0 - config_.beta2);
    at::Tensor denom = (s.exp_avg_sq / bias2).sqrt_().add_(config_.eps);
    weights.addcdiv_(s.exp_avg, denom, -lr / bias1);
    if (s.master.defined()) s.param.copy_(s.master);
  }
  if (world_ != nullptr) broadcast_from_owners([](Slot& s) { return std::vector<at::Tensor*>{&s.param}; });
}

void AdamW::shard(const dist::World& world) {
  if (world.size() == 1) return;
  world_ = &world;
  std::vector<int64_t> load(static_cast<size_t>(world.size()), 0);  // elements owned per rank so far
  for (auto& s : slots_) {
    s.owner = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    load[static_cast<size_t>(s.owner)] += s.param.numel();
    if (owns(s)) continue;
    s.exp_avg = s.exp_avg_sq = s.master = at::Tensor();  // another rank keeps them
  }
}

void AdamW::broadcast_from_owners(const std::function<std::vector<at::Tensor*>(Slot&)>& pick) {
  at::NoGradGuard no_grad;
  for (int root = 0; root < world_->size(); ++root) {
    std::map<at::ScalarType, std::vector<at::Tensor*>> by_dtype;
    for (auto& s : slots_) {
      if (s.owner != root) continue;
      for (at::Tensor* t : pick(s)) by_dtype[t->scalar_type()].push_back(t);
    }
    for (auto& [dtype, tensors] : by_dtype) {
      std::vector<at::Tensor> parts;
      for (at::Tensor* t : tensors) parts.push_back(t->reshape({-1}));
      std::vector<at::Tensor> flat = {at::cat(parts)};
      world_->broadcast(flat, root);
      int64_t offset = 0;
      for (at::Tensor* t : tensors) {
        t->copy_(flat[0].slice(0, offset, offset + t->numel()).view(t->sizes()));
        offset += t->numel();
      }
    }
  }
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::state_tensors() {
  std::vector<Slot> gathered = slots_;  // handles: the owned state is shared, the rest received below
  if (world_ != nullptr) {
    // The broadcasts run over slots_; the received tensors go into fresh ones, so the shard stays as it was.
    std::swap(slots_, gathered);
    broadcast_from_owners([this](Slot& s) {
      if (!owns(s)) {
        const at::TensorOptions fp32 = s.param.options().dtype(at::kFloat);
        s.exp_avg = at::zeros(s.param.sizes(), fp32);
        s.exp_avg_sq = at::zeros(s.param.sizes(), fp32);
        if (s.param.scalar_type() != at::kFloat) s.master = at::zeros(s.param.sizes(), fp32);
      }
      std::vector<at::Tensor*> out = {&s.exp_avg, &s.exp_avg_sq};
      if (s.master.defined()) out.push_back(&s.master);
      return out;
    });
    std::swap(slots_, gathered);
  }
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& s : gathered) {
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
    if (!owns(s)) {  // another rank's: checked, not kept
      const at::Tensor like = at::empty(s.param.sizes(), s.param.options().dtype(at::kFloat));
      take(s.name + ".exp_avg", like);
      take(s.name + ".exp_avg_sq", like);
      if (s.param.scalar_type() != at::kFloat) take(s.name + ".master", like);
      continue;
    }
    s.exp_avg.copy_(take(s.name + ".exp_avg", s.exp_avg));
    s.exp_avg_sq.copy_(take(s.name + ".exp_avg_sq", s.exp_avg_sq));
    if (s.master.defined()) s.master.copy_(take(s.name + ".master", s.master));
  }
  step_ = steps_taken;
}

}  // namespace r1::rl
