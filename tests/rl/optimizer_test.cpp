// Tests for rl/optimizer: AdamW against a hand-derived step and a scalar reference over many steps, weight
// decay only on matrices, the bf16 master copy, clipping, the schedule, and state save/load.
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "rl/optimizer.h"

namespace r1::rl {
namespace {

TEST(AdamW, FirstStepMatchesHandDerived) {
  // m = 0.05, v = 0.0125, m̂ = 0.5, v̂ = 0.25 → update = lr · 0.5 / 0.5 = lr.
  at::Tensor matrix = at::ones({1, 1}).requires_grad_(true);
  at::Tensor bias = at::ones({1}).requires_grad_(true);
  AdamWConfig cfg;
  cfg.lr = 0.1;
  cfg.weight_decay = 0.1;
  AdamW opt({{"w", matrix}, {"b", bias}}, cfg);
  matrix.mutable_grad() = at::full({1, 1}, 0.5);
  bias.mutable_grad() = at::full({1}, 0.5);
  opt.step(0.1);
  EXPECT_NEAR(matrix.item<float>(), 1.0 * (1 - 0.1 * 0.1) - 0.1, 1e-6);  // decayed
  EXPECT_NEAR(bias.item<float>(), 1.0 - 0.1, 1e-6);                      // not decayed
}

TEST(AdamW, MatchesScalarReferenceOverManySteps) {
  at::Tensor p = at::tensor({0.3f, -1.2f}).requires_grad_(true);
  AdamWConfig cfg;
  cfg.weight_decay = 0;
  AdamW opt({{"p", p}}, cfg);
  double ref[2] = {0.3, -1.2}, m[2] = {0, 0}, v[2] = {0, 0};
  for (int t = 1; t <= 50; ++t) {
    double lr = 0.01 * (1 + 0.1 * t);
    double g[2] = {std::sin(t * 0.7), std::cos(t * 1.3) * 2};
    p.mutable_grad() = at::tensor({static_cast<float>(g[0]), static_cast<float>(g[1])});
    opt.step(lr);
    for (int i = 0; i < 2; ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
      double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.95, t));
      ref[i] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  EXPECT_NEAR(p[0].item<float>(), ref[0], 1e-5);
  EXPECT_NEAR(p[1].item<float>(), ref[1], 1e-5);
}

TEST(AdamW, Bf16ParametersAccumulateSmallUpdatesInTheMaster) {
  at::Tensor p = at::ones({4}, at::kBFloat16).requires_grad_(true);
  AdamWConfig cfg;
  cfg.weight_decay = 0;
  AdamW opt({{"p", p}}, cfg);
  for (int i = 0; i < 100; ++i) {
    p.mutable_grad() = at::ones({4}, at::kBFloat16);
    opt.step(1e-4);  // each update (1e-4) is below bf16's resolution at 1.0 (2^-7)
  }
  // 100 updates of ~1e-4 = 0.01: visible only because the master accumulated them.
  EXPECT_NEAR(p[0].item<float>(), 0.99, 0.004);
  EXPECT_EQ(p.scalar_type(), at::kBFloat16);
}

TEST(AdamW, StateRoundTripAndErrors) {
  at::Tensor a = at::randn({3, 2}).requires_grad_(true);
  AdamW opt({{"a", a}}, {});
  a.mutable_grad() = at::randn({3, 2});
  opt.step(0.01);
  auto state = opt.state_tensors();
  at::Tensor b = a.detach().clone().requires_grad_(true);
  AdamW opt2({{"a", b}}, {});
  opt2.load_state(state, opt.steps_taken(), "ckpt");
  at::Tensor g = at::randn({3, 2});
  a.mutable_grad() = g.clone();
  b.mutable_grad() = g.clone();
  opt.step(0.01);
  opt2.step(0.01);
  EXPECT_TRUE(at::equal(a, b));
  state.pop_back();
  EXPECT_THROW(opt2.load_state(state, 1, "ckpt/optimizer.safetensors"), Error);
}

TEST(ClipGradNorm, ScalesToMaxNormAndReportsTheNormBefore) {
  at::Tensor a = at::zeros({2}).requires_grad_(true), b = at::zeros({1}).requires_grad_(true);
  a.mutable_grad() = at::tensor({3.0f, 0.0f});
  b.mutable_grad() = at::tensor({4.0f});
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<float>(), 0.6, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<float>(), 0.8, 1e-5);
  EXPECT_NEAR(clip_grad_norm({a, b}, 0.0), 1.0, 1e-5);  // no clipping, norm reported
}

TEST(Schedule, WarmupThenCosineToMin) {
  ScheduleConfig s;
  s.warmup_steps = 10;
  s.total_steps = 110;
  s.min_lr_ratio = 0.1;
  EXPECT_NEAR(scheduled_lr(1.0, s, 0), 0.1, 1e-12);
  EXPECT_NEAR(scheduled_lr(1.0, s, 9), 1.0, 1e-12);
  EXPECT_NEAR(scheduled_lr(1.0, s, 10), 1.0, 1e-12);
  EXPECT_NEAR(scheduled_lr(1.0, s, 60), 0.55, 1e-12);
  EXPECT_NEAR(scheduled_lr(1.0, s, 110), 0.1, 1e-12);
  EXPECT_NEAR(scheduled_lr(1.0, s, 500), 0.1, 1e-12);
  s.kind = "constant";
  EXPECT_NEAR(scheduled_lr(1.0, s, 60), 1.0, 1e-12);
}

}  // namespace
}  // namespace r1::rl
