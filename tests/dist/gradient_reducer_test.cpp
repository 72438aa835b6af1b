// rl::GradientReducer on two real processes: the gradients of a small network, accumulated over two
// micro-batches, become their exact sum over the ranks, with buckets sent while the last backward pass runs
// (overlap) or after it; a parameter only one rank uses (an expert) is summed with the other rank's zeros and
// holds its bucket — and every later one — until finish(); a parameter no rank uses stays without a gradient;
// a rank that runs no backward pass in a step still takes part.
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
  const int port = free_local_port();
  const auto codes = wait_all({start_rank("Reducer", 0, 2, port), start_rank("Reducer", 1, 2, port)},
                              std::chrono::seconds(90));
  EXPECT_EQ(codes, (std::vector<int>{0, 0})) << "a rank's assertions failed (its output is above)";
}

// Parameters in forward order, the unused one first: U [8], W1 [32, 16], W2 [32, 32], E [32, 32] (rank 0 only),
// W3 [8, 32], b3 [8]. With 4 KiB buckets, last parameter first: [b3 W3], [E], [W2], [W1 U].
std::vector<at::Tensor> make_params() {
  at::Generator gen = at::detail::createCPUGenerator(3);
  std::vector<at::Tensor> p;
  for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{8}, {32, 16}, {32, 32}, {32, 32}, {8, 32}, {8}})
    p.push_back((at::randn(shape, gen) * 0.2).requires_grad_(true));
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

// This rank's gradients of `micros` micro-batches (zeros where it has none), summed over the ranks.
std::vector<at::Tensor> expected_sums(const World& w, int micros) {
  std::vector<at::Tensor> p = make_params();
  for (int m = 0; m < micros; ++m) loss_of(p, w.rank(), m).backward();
  std::vector<at::Tensor> g;
  for (const at::Tensor& t : p) g.push_back(t.grad().defined() ? t.grad().clone() : at::zeros_like(t));
  w.all_reduce_sum(g);
  return g;
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
    loss_of(p, rank, 0).backward();
    EXPECT_EQ(reducer.buckets_sent_early(), 0) << "nothing is sent before the last backward";
    reducer.arm();
    loss_of(p, rank, 1).backward();
    // Rank 0: [b3 W3], [E], [W2] as they finish, [W1 U] waits for U; rank 1: [b3 W3], then [E] (no gradient here)
    // holds the rest.
    EXPECT_EQ(reducer.buckets_sent_early(), overlap ? (rank == 0 ? 3 : 1) : 0);
    reducer.finish();
    EXPECT_FALSE(p[0].grad().defined()) << "no rank has a gradient for U";
    for (size_t k = 1; k < p.size(); ++k) {
      ASSERT_TRUE(p[k].grad().defined()) << k;
      EXPECT_TRUE(at::equal(p[k].grad(), want[k])) << "parameter " << k;
    }
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
    for (size_t k = 1; k < p.size(); ++k) EXPECT_TRUE(at::equal(p[k].grad(), g[k])) << "parameter " << k;
  }
}

}  // namespace
}  // namespace r1::dist
