// See gradient_reducer.h.
#include "rl/gradient_reducer.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "common/clock.h"
#include "common/error.h"

namespace r1::rl {
namespace {

// Runs after a parameter's gradient accumulator has added this pass's gradient to .grad.
class ReadyHook final : public torch::autograd::FunctionPostHook {
 public:
  explicit ReadyHook(std::function<void()> on_ready) : on_ready_(std::move(on_ready)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    on_ready_();
    return outputs;
  }

 private:
  std::function<void()> on_ready_;
};

// Gloo sums float, double and half; other floating types (bf16) travel as fp32.
at::ScalarType wire_dtype(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || t == at::kHalf ? t : at::kFloat;
}

}  // namespace

// The accumulators are kept alive here: a parameter's accumulator (and so a hook on it) lives only as long as
// someone holds it. LibTorch up to 2.x hands them out as shared_ptr, later versions as intrusive_ptr.
struct GradientReducer::Hooks {
  using Accumulator = decltype(torch::autograd::impl::grad_accumulator(std::declval<const at::Tensor&>()));
  std::vector<Accumulator> accumulators;
  std::vector<uintptr_t> keys;
};

GradientReducer::GradientReducer(const dist::World& world, std::vector<at::Tensor> params, bool overlap,
                                 int64_t bucket_bytes)
    : world_(world), params_(std::move(params)), overlap_(overlap && world.size() > 1), bucket_bytes_(bucket_bytes) {
  if (world_.size() == 1) return;
  ready_.assign(params_.size(), 0);
  has_grad_.assign(params_.size(), 0.0f);
  plan_buckets(std::vector<char>(params_.size(), 0));
  if (overlap_) install_hooks();
}

GradientReducer::~GradientReducer() {
  if (!hooks_) return;
  for (size_t k = 0; k < hooks_->accumulators.size(); ++k) hooks_->accumulators[k]->del_post_hook(hooks_->keys[k]);
}

// Buckets of consecutive parameters of one dtype, at most bucket_bytes_ each (a larger parameter alone): the
// parameters last to first, then the cold ones last to first.
void GradientReducer::plan_buckets(const std::vector<char>& cold) {
  cold_ = cold;
  buckets_.clear();
  bucket_of_.assign(params_.size(), 0);
  int64_t bytes = 0;
  for (const char section : {char{0}, char{1}}) {
    bool new_section = true;
    for (size_t k = params_.size(); k-- > 0;) {
      if (cold_[k] != section) continue;
      const at::Tensor& p = params_[k];
      const auto size = static_cast<int64_t>(p.nbytes());
      if (new_section || buckets_.back().dtype != p.scalar_type() || bytes + size > bucket_bytes_) {
        buckets_.emplace_back();
        buckets_.back().dtype = p.scalar_type();
        bytes = 0;
        new_section = false;
      }
      buckets_.back().params.push_back(k);
      bucket_of_[k] = buckets_.size() - 1;
      bytes += size;
    }
  }
}

// A post-hook on every parameter's gradient accumulator: gradient_ready(k) once .grad holds the pass's sum.
void GradientReducer::install_hooks() {
  hooks_ = std::make_unique<Hooks>();
  for (size_t k = 0; k < params_.size(); ++k) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[k]);
    R1_CHECK(acc, "GradientReducer: parameter ", k, " is not a leaf that requires grad");
    hooks_->keys.push_back(acc->add_post_hook(std::make_unique<ReadyHook>([this, k] { gradient_ready(k); })));
    hooks_->accumulators.push_back(std::move(acc));
  }
}

void GradientReducer::arm() {
  if (!overlap_) return;
  armed_ = true;
  sent_early_ = 0;
  std::fill(ready_.begin(), ready_.end(), 0);
  for (Bucket& b : buckets_) b.waiting = b.params.size();
}

void GradientReducer::gradient_ready(size_t param) {
  if (!armed_) return;
  Bucket& b = buckets_[bucket_of_[param]];
  R1_CHECK(!b.sent, "GradientReducer: the gradient of parameter ", param, " was accumulated again after its bucket "
           "was sent in the step's last backward pass (a parameter used by two separately recomputed parts of the "
           "model?); set optim.overlap_allreduce to false");
  if (ready_[param]) return;
  ready_[param] = 1;
  --b.waiting;
  send_ready_buckets();
}

void GradientReducer::send_ready_buckets() {
  while (next_to_send_ < buckets_.size() && buckets_[next_to_send_].waiting == 0) {
    send(buckets_[next_to_send_++]);
    ++sent_early_;
  }
}

// The bucket's gradients (zeros where this rank has none) as one flat tensor, and its sum started.
void GradientReducer::send(Bucket& b) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;  // [numel] each
  for (size_t k : b.params) {
    const at::Tensor& g = params_[k].grad();
    has_grad_[k] = g.defined() ? 1.0f : 0.0f;
    parts.push_back(g.defined() ? g.reshape({-1}) : at::zeros({params_[k].numel()}, params_[k].options()));
  }
  b.flat = at::cat(parts).to(wire_dtype(b.dtype));  // [Σ numel]
  b.pending = world_.start_sum(b.flat);
  b.sent = true;
}

void GradientReducer::unflatten(Bucket& b) {
  at::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t k : b.params) {
    at::Tensor& p = params_[k];
    const at::Tensor sum = b.flat.narrow(0, offset, p.numel()).view(p.sizes());
    offset += p.numel();
    if (p.grad().defined()) {
      p.mutable_grad().copy_(sum);
    } else {
      p.mutable_grad() = sum.to(p.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
    }
  }
  b.flat = at::Tensor();
  b.sent = false;
}

std::vector<char> GradientReducer::settle_absent() {
  std::vector<at::Tensor> flags = {at::tensor(has_grad_, at::kFloat)};  // [P] ranks with a gradient
  world_.all_reduce_sum(flags);
  const auto anywhere = flags[0].accessor<float, 1>();
  std::vector<char> absent(params_.size(), 0);
  for (size_t k = 0; k < params_.size(); ++k) {
    if (anywhere[static_cast<int64_t>(k)] != 0.0f) continue;
    absent[k] = 1;
    params_[k].mutable_grad().reset();
  }
  return absent;
}

double GradientReducer::finish() {
  if (world_.size() == 1) return 0.0;
  const auto t0 = SteadyClock::now();
  armed_ = false;
  while (next_to_send_ < buckets_.size()) send(buckets_[next_to_send_++]);
  for (Bucket& b : buckets_) {
    b.pending.wait();
    unflatten(b);
  }
  next_to_send_ = 0;
  const std::vector<char> absent = settle_absent();  // the same on every rank
  if (overlap_ && absent != cold_) plan_buckets(absent);
  return seconds_since(t0);
}

}  // namespace r1::rl
