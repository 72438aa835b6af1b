// Tests of the GRPO loss, advantages and chunked log-probs against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "common/config_io.h"
#include "common/error.h"
#include "rl/grpo/advantages.h"
#include "rl/grpo/loss.h"
#include "rl/logprobs.h"

namespace r1::rl {
namespace {

at::Tensor f32(std::vector<float> v) { return at::tensor(v, at::kFloat); }

TEST(Advantages, GroupModeMatchesHandComputed) {
  at::Tensor r = f32({1, 0, 0, 1, 1, 1, 1, 1});
  at::Tensor a = group_advantages(r, 4, AdvantageMode::kGroup, 1e-4);
  const float expect = 0.5f / (0.5f + 1e-4f);
  std::vector<float> want = {expect, -expect, -expect, expect, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(a[i].item<float>(), want[i], 1e-6) << i;
}

TEST(Advantages, NoStdAndBatchModes) {
  at::Tensor r = f32({1, 0, 0, 1, 1, 1, 1, 1});
  at::Tensor a = group_advantages(r, 4, AdvantageMode::kNoStd);
  EXPECT_NEAR(a[0].item<float>(), 0.5, 1e-6);
  EXPECT_NEAR(a[1].item<float>(), -0.5, 1e-6);
  at::Tensor b = group_advantages(r, 4, AdvantageMode::kBatch, 0.0);
  const double batch_std = std::sqrt(0.1875);  // mean 0.75, population variance 0.1875
  EXPECT_NEAR(b[0].item<float>(), 0.5 / batch_std, 1e-5);
  EXPECT_NEAR(b[4].item<float>(), 0.0, 1e-7);
}

TEST(Advantages, SampleStdDividesByGroupSizeMinusOne) {
  at::Tensor r = f32({1, 0, 0, 1, 1, 1, 1, 0});
  // Group 0: mean 0.5, squared deviations 4 x 0.25: population std 0.5, sample std sqrt(1/3).
  at::Tensor pop = group_advantages(r, 4, AdvantageMode::kGroup, 0.0, AdvantageStd::kPopulation);
  at::Tensor smp = group_advantages(r, 4, AdvantageMode::kGroup, 0.0, AdvantageStd::kSample);
  EXPECT_NEAR(pop[0].item<float>(), 0.5 / 0.5, 1e-6);
  EXPECT_NEAR(smp[0].item<float>(), 0.5 / std::sqrt(1.0 / 3.0), 1e-6);
  // Group 1 (1, 1, 1, 0): mean 0.75; sample variance 0.1875 * 4 / 3 = 0.25.
  EXPECT_NEAR(smp[7].item<float>(), -0.75 / 0.5, 1e-6);
  // Batch mode: 8 rewards, mean 0.625, population variance 0.234375, sample variance 0.267857.
  at::Tensor b = group_advantages(r, 4, AdvantageMode::kBatch, 0.0, AdvantageStd::kSample);
  EXPECT_NEAR(b[0].item<float>(), 0.5 / std::sqrt(0.234375 * 8 / 7), 1e-6);
}

TEST(Advantages, AllEqualRewardsGiveZeroNotNaN) {
  for (auto mode : {AdvantageMode::kGroup, AdvantageMode::kNoStd, AdvantageMode::kBatch}) {
    at::Tensor a = group_advantages(f32({0.3f, 0.3f, 0.3f, 0.3f}), 2, mode, 0.0);
    EXPECT_TRUE(at::isfinite(a).all().item<bool>()) << enum_name(mode);
    EXPECT_EQ(a.abs().max().item<float>(), 0.0f) << enum_name(mode);
  }
  at::Tensor zv = zero_variance_groups(f32({1, 1, 0, 1}), 2);
  EXPECT_TRUE(zv[0].item<bool>());
  EXPECT_FALSE(zv[1].item<bool>());
}

TEST(Advantages, BadModeAndShapes) {
  EXPECT_THROW(enum_from_name<AdvantageMode>("median", "recipe.json: grpo.advantage"), Error);
  EXPECT_THROW(group_advantages(f32({1, 2, 3}), 2, AdvantageMode::kGroup), c10::Error);
}

// One token per sequence: logp − old_logp = log(ratio).
GrpoLossInputs one_token(float ratio, float adv) {
  GrpoLossInputs in;
  in.old_logp = at::full({1, 1}, std::log(0.3f));
  in.logp = (in.old_logp + std::log(ratio)).clone().requires_grad_(true);
  in.advantages = f32({adv});
  in.mask = at::ones({1, 1});
  return in;
}

GrpoObjective no_kl(double eps_low = 0.2, double eps_high = 0.2) {
  GrpoObjective c;
  c.beta = 0;
  c.epsilon_low = eps_low;
  c.epsilon_high = eps_high;
  return c;
}

TEST(GrpoLoss, ClipsPositiveAdvantageAboveOnePlusEpsHigh) {
  auto in = one_token(std::exp(0.5f), 1.0f);  // ratio 1.6487 > 1.2
  auto out = grpo_loss(in, no_kl());
  EXPECT_NEAR(out.loss.item<float>(), -1.2, 1e-5);
  EXPECT_NEAR(out.clip_frac_high, 1.0, 1e-9);
  out.loss.backward();
  EXPECT_EQ(in.logp.grad().abs().sum().item<float>(), 0.0f);  // clipped: no gradient
}

TEST(GrpoLoss, PositiveAdvantageBelowOneMinusEpsIsNotClipped) {
  auto in = one_token(0.5f, 1.0f);
  auto out = grpo_loss(in, no_kl());
  EXPECT_NEAR(out.loss.item<float>(), -0.5, 1e-5);
  EXPECT_EQ(out.clip_frac_low, 0.0);
  out.loss.backward();
  EXPECT_NEAR(in.logp.grad().item<float>(), -0.5, 1e-5);  // d(−ratio·A)/d logp = −ratio·A
}

TEST(GrpoLoss, ClipsNegativeAdvantageBelowOneMinusEpsLow) {
  auto in = one_token(0.5f, -1.0f);  // min(−0.5, −0.8) = −0.8
  auto out = grpo_loss(in, no_kl());
  EXPECT_NEAR(out.loss.item<float>(), 0.8, 1e-5);
  EXPECT_NEAR(out.clip_frac_low, 1.0, 1e-9);
  out.loss.backward();
  EXPECT_EQ(in.logp.grad().abs().sum().item<float>(), 0.0f);
}

TEST(GrpoLoss, AsymmetricClipUsesEpsHigh) {
  auto in = one_token(1.25f, 1.0f);
  EXPECT_NEAR(grpo_loss(in, no_kl(0.2, 0.28)).loss.item<float>(), -1.25, 1e-5);  // inside 1.28
  EXPECT_NEAR(grpo_loss(in, no_kl(0.2, 0.2)).loss.item<float>(), -1.2, 1e-5);
}

TEST(GrpoLoss, NegativeAdvantageLargeRatioUnclippedUnlessDualClip) {
  auto in = one_token(std::exp(0.5f), -1.0f);
  EXPECT_NEAR(grpo_loss(in, no_kl()).loss.item<float>(), std::exp(0.5), 1e-5);
  auto cfg = no_kl();
  cfg.dual_clip = 1.5;
  auto out = grpo_loss(in, cfg);
  EXPECT_NEAR(out.loss.item<float>(), 1.5, 1e-5);
  EXPECT_NEAR(out.dual_clip_frac, 1.0, 1e-9);
}

TEST(GrpoLoss, K3KlMatchesHandComputed) {
  at::Tensor logp = at::full({1, 1}, std::log(0.5f));
  at::Tensor ref = at::full({1, 1}, std::log(0.25f));
  // log(ref/π) = log 0.5; k3 = 0.5 − log 0.5 − 1
  EXPECT_NEAR(kl_per_token(logp, ref, KlEstimator::kK3).item<float>(), 0.5 - std::log(0.5) - 1, 1e-6);
  EXPECT_NEAR(kl_per_token(logp, ref, KlEstimator::kK1).item<float>(), std::log(2.0), 1e-6);
  EXPECT_NEAR(kl_per_token(logp, ref, KlEstimator::kK2).item<float>(), 0.5 * std::log(2.0) * std::log(2.0), 1e-6);
  EXPECT_NEAR(kl_per_token(logp, logp, KlEstimator::kK3).item<float>(), 0.0, 1e-7);

  auto in = one_token(1.0f, 0.0f);
  in.ref_logp = in.old_logp - std::log(2.0f);
  GrpoObjective cfg;
  cfg.beta = 0.1;
  auto out = grpo_loss(in, cfg);
  const double k3 = 0.5 - std::log(0.5) - 1;
  EXPECT_NEAR(out.kl, k3, 1e-6);
  EXPECT_NEAR(out.loss.item<float>(), 0.1 * k3, 1e-6);
  out.loss.backward();
  // d k3 / d logp = 1 − exp(ref − logp) = 1 − 0.5
  EXPECT_NEAR(in.logp.grad().item<float>(), 0.1 * 0.5, 1e-6);
}

// Two sequences, ratio 1, so per-token pg loss = −A: seq 0 has 3 tokens of loss 1, seq 1 one token of loss 4.
GrpoLossInputs two_sequences() {
  GrpoLossInputs in;
  in.old_logp = at::full({2, 3}, -1.0f);
  in.logp = in.old_logp.clone().requires_grad_(true);
  in.advantages = f32({-1.0f, -4.0f});
  in.mask = at::tensor({1.f, 1.f, 1.f, 1.f, 0.f, 0.f}).view({2, 3});
  return in;
}

TEST(GrpoLoss, EachAggregationMode) {
  auto cfg = no_kl();
  cfg.aggregation = LossAggregation::kSeqMeanTokenMean;
  EXPECT_NEAR(grpo_loss(two_sequences(), cfg).loss.item<float>(), (1.0 + 4.0) / 2, 1e-6);
  cfg.aggregation = LossAggregation::kTokenMean;
  EXPECT_NEAR(grpo_loss(two_sequences(), cfg).loss.item<float>(), (3.0 + 4.0) / 4, 1e-6);
  cfg.aggregation = LossAggregation::kSeqMeanTokenSum;
  cfg.constant_normalizer = 5;
  EXPECT_NEAR(grpo_loss(two_sequences(), cfg).loss.item<float>(), 7.0 / (2 * 5), 1e-6);
}

TEST(GrpoLoss, MicroBatchSharesAddUpToTheMinibatchLoss) {
  auto cfg = no_kl();
  for (auto agg : {LossAggregation::kSeqMeanTokenMean, LossAggregation::kTokenMean, LossAggregation::kSeqMeanTokenSum}) {
    cfg.aggregation = agg;
    cfg.constant_normalizer = 5;
    GrpoLossInputs whole = two_sequences();
    double full = grpo_loss(whole, cfg).loss.item<double>();
    double parts = 0;
    for (int i = 0; i < 2; ++i) {
      GrpoLossInputs part;
      part.old_logp = whole.old_logp.slice(0, i, i + 1);
      part.logp = whole.logp.slice(0, i, i + 1);
      part.advantages = whole.advantages.slice(0, i, i + 1);
      part.mask = whole.mask.slice(0, i, i + 1);
      part.n_seq = 2;
      part.n_tok = 4;
      parts += grpo_loss(part, cfg).loss.item<double>();
    }
    EXPECT_NEAR(parts, full, 1e-6);
  }
}

TEST(GrpoLoss, MissingReferenceWithBetaIsAnError) {
  auto in = one_token(1.0f, 1.0f);
  GrpoObjective cfg;
  cfg.beta = 0.01;
  EXPECT_THROW(grpo_loss(in, cfg), c10::Error);
  EXPECT_THROW(enum_from_name<LossAggregation>("sum", "r.json: grpo.loss_aggregation"), Error);
}

TEST(Logprobs, Bf16ModelsGetFp32LogSoftmaxOfTheirBf16Values) {
  // A bf16 policy: hidden states and LM head in bf16. The log-probs must be those of the exact product of
  // these bf16 numbers (fp32 accumulation, fp32 log-softmax), not of a product rounded to bf16 first:
  // logits of magnitude ~10 rounded to bf16 move by up to 0.03, which moves log-probs by as much.
  at::manual_seed(11);
  at::Tensor hidden = at::randn({64, 256}).to(at::kBFloat16);
  at::Tensor weight = (at::randn({300, 256}) * 0.2).to(at::kBFloat16);
  at::Tensor targets = at::randint(0, 300, {64}, at::kLong);
  at::Tensor exact = at::log_softmax(at::matmul(hidden.to(at::kDouble), weight.to(at::kDouble).t()), -1)
                         .gather(1, targets.unsqueeze(1)).squeeze(1);  // [64] fp64
  auto chunked = chunked_token_logprobs(hidden, weight, targets, 1.0, /*chunk_tokens=*/16, false);
  auto full = full_token_logprobs(hidden, weight, targets, 1.0, false);
  EXPECT_EQ(chunked.logp.scalar_type(), at::kFloat);
  EXPECT_LT((chunked.logp.to(at::kDouble) - exact).abs().max().item<double>(), 1e-4);
  EXPECT_LT((full.logp.to(at::kDouble) - exact).abs().max().item<double>(), 1e-4);
  // What a bf16 product would have given (the old behaviour), to show the bound above means something.
  at::Tensor rounded = at::log_softmax(at::matmul(hidden, weight.t()).to(at::kDouble), -1)
                           .gather(1, targets.unsqueeze(1)).squeeze(1);
  EXPECT_GT((rounded - exact).abs().max().item<double>(), 1e-3);
  // Gradients come back in the inputs' dtypes.
  at::Tensor h = hidden.clone().requires_grad_(true), w = weight.clone().requires_grad_(true);
  chunked_token_logprobs(h, w, targets, 1.0, 16, false).logp.sum().backward();
  EXPECT_EQ(h.grad().scalar_type(), at::kBFloat16);
  EXPECT_EQ(w.grad().scalar_type(), at::kBFloat16);
}

TEST(Logprobs, ChunkedMatchesFullValuesAndGradients) {
  at::manual_seed(7);
  for (double temperature : {1.0, 0.7}) {
    at::Tensor hidden = at::randn({37, 16});
    at::Tensor weight = at::randn({50, 16}) * 0.3;
    at::Tensor targets = at::randint(0, 50, {37}, at::kLong);
    at::Tensor upstream = at::randn({37});

    at::Tensor h1 = hidden.clone().requires_grad_(true), w1 = weight.clone().requires_grad_(true);
    auto full = full_token_logprobs(h1, w1, targets, temperature);
    (full.logp * upstream).sum().backward();

    at::Tensor h2 = hidden.clone().requires_grad_(true), w2 = weight.clone().requires_grad_(true);
    auto chunked = chunked_token_logprobs(h2, w2, targets, temperature, /*chunk_tokens=*/8);
    (chunked.logp * upstream).sum().backward();

    EXPECT_TRUE(at::allclose(chunked.logp, full.logp, 1e-5, 1e-5));
    EXPECT_TRUE(at::allclose(chunked.entropy, full.entropy, 1e-5, 1e-5));
    EXPECT_TRUE(at::allclose(h2.grad(), h1.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(at::allclose(w2.grad(), w1.grad(), 1e-4, 1e-5));
    EXPECT_FALSE(chunked.entropy.requires_grad());
  }
}

TEST(Logprobs, LogprobsAreNormalised) {
  at::manual_seed(3);
  at::Tensor hidden = at::randn({4, 8});
  at::Tensor weight = at::randn({11, 8});
  // Σ_y p(y) over every target must be 1 for each row.
  at::Tensor total = at::zeros({4});
  for (int64_t y = 0; y < 11; ++y) {
    total += chunked_token_logprobs(hidden, weight, at::full({4}, y, at::kLong), 1.0, 3, false).logp.exp();
  }
  EXPECT_TRUE(at::allclose(total, at::ones({4}), 1e-5, 1e-5));
}

}  // namespace
}  // namespace r1::rl
