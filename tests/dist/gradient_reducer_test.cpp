// rl::GradientReducer on two real processes: the gradients of a small network (one of them bf16), accumulated
// over two micro-batches, become their exact sum over the ranks, with buckets sent while the last backward pass
// runs (overlap) or after it; a parameter only one rank uses (an expert) is summed with the other rank's zeros
// and holds its bucket — and every later one — until finish(); parameters no rank uses stay without a gradient
// and, after one step, move behind the others so they hold nothing back; a rank that runs no backward pass in a
// step still takes part.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "dist/launcher.h"
#include "dist/world.h"
#include "rank_children.h"
#include "rl/gradient_reducer.h"

namespace r1::dist {
namespace {

TEST(GradientReducer, TwoRanksSumGradientsWhileTheBackwardRuns) {
  if (in_rank_child()) GTEST_SKIP();
  const auto codes = run_two_ranks("Reducer", free_local_port(), std::chrono::seconds(90));
  EXPECT_EQ(codes, (std::vector<int>{0, 0})) << "a rank's assertions failed (its output is above)";
}

// Parameters in forward order: U [8] (unused), W1 [32, 16], W2 [32, 32], E [32, 32] (rank 0 only), W3 [8, 32],
// b3 [8] in bf16, V [8] (unused, last: as a DeepSeek-V3 MTP module GRPO does not train). With 4 KiB buckets, last
// parameter first: [V], [b3] (bf16), [W3], [E], [W2], [W1 U]; once a step has shown that no rank trains U and V,
// [b3], [W3], [E], [W2], [W1], then [V U].
std::vector<at::Tensor> make_params() {
  at::Generator gen = at::detail::createCPUGenerator(3);
  std::vector<at::Tensor> p;
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{8}, {32, 16}, {32, 32}, {32, 32}, {8, 32}, {8}, {8}}) {
    p.push_back(at::randn(shape, gen) * 0.2);
  }
  p[5] = p[5].to(at::kBFloat16);
  for (at::Tensor& t : p) t.requires_grad_(true);
  return p;
}

// The loss of one micro-batch on rank `rank`.
at::Tensor loss_of(const std::vector<at::Tensor>& p, int rank, int micro) {
  at::Generator gen = at::detail::createCPUGenerator(static_cast<uint64_t>(100 + 10 * rank + micro));
  const at::Tensor x = at::randn({4, 16}, gen);
  at::Tensor h = at::tanh(at::matmul(x, p[1].t()));
  h = at::tanh(at::matmul(h, p[2].t()));
  if (rank == 0) h = h + at::tanh(at::matmul(h, p[3].t()));
  return (at::matmul(h, p[4].t()) + p[5]).pow(2).sum();
}

// This rank's gradients of `micros` micro-batches (zeros where it has none), summed over the ranks in fp32 and
// given the parameter's dtype.
std::vector<at::Tensor> expected_sums(const World& w, int micros) {
  std::vector<at::Tensor> p = make_params();
  for (int m = 0; m < micros; ++m) loss_of(p, w.rank(), m).backward();
  std::vector<at::Tensor> g;
  for (const at::Tensor& t : p) {
    g.push_back(t.grad().defined() ? t.grad().to(at::kFloat) : at::zeros_like(t, at::kFloat));
  }
  w.all_reduce_sum(g);
  for (size_t k = 0; k < p.size(); ++k) g[k] = g[k].to(p[k].scalar_type());
  return g;
}

// One step of two micro-batches, the second armed; checks the sums and returns the buckets sent early.
int64_t step_and_check(rl::GradientReducer& reducer, std::vector<at::Tensor>& p, const std::vector<at::Tensor>& want,
                       int rank) {
  for (at::Tensor& t : p) t.mutable_grad().reset();
  loss_of(p, rank, 0).backward();
  reducer.arm();
  loss_of(p, rank, 1).backward();
  const int64_t early = reducer.buckets_sent_early();
  reducer.finish();
  EXPECT_FALSE(p[0].grad().defined()) << "no rank has a gradient for U";
  EXPECT_FALSE(p[6].grad().defined()) << "no rank has a gradient for V";
  for (size_t k = 1; k < 6; ++k) {
    EXPECT_TRUE(p[k].grad().defined() && at::equal(p[k].grad(), want[k])) << "parameter " << k;
  }
  EXPECT_EQ(p[5].grad().scalar_type(), at::kBFloat16);
  return early;
}

TEST(DistRank, Reducer) {
  if (!in_rank_child()) GTEST_SKIP() << "runs as a rank of GradientReducer.TwoRanksSumGradientsWhileTheBackwardRuns";
  World w = World::join(launch_env_from_environment(), std::chrono::seconds(30));
  ASSERT_EQ(w.size(), 2);
  const int rank = w.rank();
  const std::vector<at::Tensor> want = expected_sums(w, 2);
  for (const bool overlap : {true, false}) {
    SCOPED_TRACE(overlap ? "overlap" : "after the backward");
    std::vector<at::Tensor> p = make_params();
    rl::GradientReducer reducer(w, p, overlap, /*bucket_bytes=*/4096);
    // Step 1: [V] comes first and never fills, so nothing goes early.
    EXPECT_EQ(step_and_check(reducer, p, want, rank), 0);
    // Step 2, re-planned: rank 0 sends [b3] [W3] [E] [W2] [W1] as they finish; on rank 1 [E] (no gradient there)
    // holds the rest after [b3] [W3].
    EXPECT_EQ(step_and_check(reducer, p, want, rank), overlap ? (rank == 0 ? 5 : 2) : 0);
    // A step in which rank 1 has no rows: it runs no backward and still takes part.
    for (at::Tensor& t : p) t.mutable_grad().reset();
    reducer.arm();
    if (rank == 0) loss_of(p, 0, 0).backward();
    reducer.finish();
    std::vector<at::Tensor> only_rank0 = make_params();
    if (rank == 0) loss_of(only_rank0, 0, 0).backward();
    std::vector<at::Tensor> g;
    for (const at::Tensor& t : only_rank0) g.push_back(t.grad().defined() ? t.grad() : at::zeros_like(t));
    w.broadcast(g, /*root=*/0);
    for (size_t k = 1; k < 6; ++k) EXPECT_TRUE(at::equal(p[k].grad(), g[k])) << "parameter " << k;
  }
}

}  // namespace
}  // namespace r1::dist
