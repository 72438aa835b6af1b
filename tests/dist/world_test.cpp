// dist::World on real processes over loopback: the test binary starts itself once per rank (the DistRank
// tests below run only in such a child, told its role by R1_DIST_ROLE), with torchrun's environment. Covered:
// the environment's errors; two ranks all-reduce tensors of several shapes and dtypes in buckets (the sums
// exact, views and leaves that require grad written in place), reduce a number, broadcast (into a strided view
// too) and meet at a barrier; a rank that never comes makes the other's join fail
// within its timeout naming the rank and the store; a rank that dies makes the survivor's all-reduce throw
// instead of hanging.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "dist/launcher.h"
#include "dist/world.h"
#include "rank_children.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace r1::dist {
namespace {


// ---------------------------------------------------------------------------------------------------------
// The parent side.

TEST(World, TwoRanksReduceBroadcastAndMeet) {
  if (in_rank_child()) GTEST_SKIP();
  const int port = free_local_port();
  const auto codes = run_two_ranks("Collectives", port, std::chrono::seconds(90));
  EXPECT_EQ(codes, (std::vector<int>{0, 0})) << "a rank's assertions failed (its output is above)";
}

// torchrun's agent hosts the store at MASTER_ADDR:MASTER_PORT itself and tells its workers so
// (TORCHELASTIC_USE_AGENT_STORE=True): rank 0 must connect to it instead of binding the port again.
TEST(World, RanksJoinTheStoreATorchrunAgentHosts) {
  if (in_rank_child()) GTEST_SKIP();
  const int port = free_local_port();
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(port);
  so.isServer = true;
  so.waitWorkers = false;
  so.timeout = std::chrono::seconds(60);
  c10d::TCPStore agent("127.0.0.1", so);  // the agent's store, hosted by this (parent) process
  agent.set("torchrun/own-key", std::vector<uint8_t>{1, 2, 3});
  ::setenv("TORCHELASTIC_USE_AGENT_STORE", "True", 1);
  const auto codes = run_two_ranks("Collectives", port, std::chrono::seconds(90));
  ::unsetenv("TORCHELASTIC_USE_AGENT_STORE");
  EXPECT_EQ(codes, (std::vector<int>{0, 0})) << "a rank's assertions failed (its output is above)";
  EXPECT_EQ(agent.get("torchrun/own-key"), (std::vector<uint8_t>{1, 2, 3})) << "the agent's keys are left alone";
}

TEST(World, ARankThatNeverComesFailsTheJoinWithinTheTimeout) {
  if (in_rank_child()) GTEST_SKIP();
  const auto t0 = std::chrono::steady_clock::now();
  const auto codes = wait_all({start_rank("Alone", 0, 2, free_local_port())}, std::chrono::seconds(60));
  EXPECT_EQ(codes, (std::vector<int>{0}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

TEST(World, ARankThatDiesMakesTheOthersCollectiveThrow) {
  if (in_rank_child()) GTEST_SKIP();
  const int port = free_local_port();
  const auto t0 = std::chrono::steady_clock::now();
  const auto codes = wait_all({start_rank("Survivor", 0, 2, port), start_rank("Dies", 1, 2, port)},
                              std::chrono::seconds(60));
  EXPECT_EQ(codes, (std::vector<int>{0, 3}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(40));
}

// Sets (value non-null) or unsets each variable for the scope of one check.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, const char*>& vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k.c_str());
      saved_[k] = old ? std::optional<std::string>(old) : std::nullopt;
      if (v) ::setenv(k.c_str(), v, 1); else ::unsetenv(k.c_str());
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) ::setenv(k.c_str(), v->c_str(), 1); else ::unsetenv(k.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(LaunchEnv, ReadsTorchrunsVariablesAndNamesTheBadOne) {
  if (in_rank_child()) GTEST_SKIP();
  {
    ScopedEnv e({{"WORLD_SIZE", nullptr}, {"RANK", "3"}});
    const LaunchEnv env = launch_env_from_environment();
    EXPECT_EQ(env.world_size, 1);
    EXPECT_EQ(env.rank, 0);  // alone: RANK is not read
  }
  {
    ScopedEnv e({{"WORLD_SIZE", "4"}, {"RANK", "2"}, {"LOCAL_RANK", "0"}, {"MASTER_ADDR", "10.0.0.7"},
                 {"MASTER_PORT", "29511"}});
    const LaunchEnv env = launch_env_from_environment();
    EXPECT_EQ(env.world_size, 4);
    EXPECT_EQ(env.rank, 2);
    EXPECT_EQ(env.local_rank, 0);
    EXPECT_EQ(env.master_addr, "10.0.0.7");
    EXPECT_EQ(env.master_port, 29511);
  }
  const std::vector<std::pair<std::map<std::string, const char*>, std::string>> bad = {
      {{{"WORLD_SIZE", "two"}}, "WORLD_SIZE='two' is not a whole number"},
      {{{"WORLD_SIZE", "0"}}, "WORLD_SIZE=0 must be between 1 and 65536"},
      {{{"WORLD_SIZE", "2"}, {"RANK", nullptr}}, "RANK is not set"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_PORT", "29500"}}, "RANK=2 must be in [0, WORLD_SIZE=2)"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"LOCAL_RANK", "-1"}, {"MASTER_PORT", "29500"}}, "LOCAL_RANK=-1"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"LOCAL_RANK", nullptr}, {"MASTER_PORT", nullptr}}, "MASTER_PORT is not set"},
      {{{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"LOCAL_RANK", nullptr}, {"MASTER_PORT", "70000"}},
       "MASTER_PORT=70000 must be between 1 and 65535"},
  };
  for (const auto& [vars, message] : bad) {
    ScopedEnv e(vars);
    try {
      launch_env_from_environment();
      ADD_FAILURE() << "no error for " << message;
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find(message), std::string::npos) << err.what();
    }
  }
}

TEST(World, ASingleProcessIsRankZeroOfOneAndCollectivesKeepItsValues) {
  if (in_rank_child()) GTEST_SKIP();
  World w = World::join(LaunchEnv{}, std::chrono::seconds(5));
  EXPECT_EQ(w.rank(), 0);
  EXPECT_EQ(w.size(), 1);
  EXPECT_TRUE(w.is_main());
  std::vector<at::Tensor> t = {at::arange(4, at::kFloat)};
  w.all_reduce_sum(t);
  w.broadcast(t);
  w.barrier();
  EXPECT_TRUE(at::equal(t[0], at::arange(4, at::kFloat)));
  EXPECT_EQ(w.sum(2.5), 2.5);
}

// ---------------------------------------------------------------------------------------------------------
// The rank side: each runs only in a child started by start_rank.

World join_from_env(std::chrono::milliseconds timeout) {
  return World::join(launch_env_from_environment(), timeout);
}

TEST(DistRank, Collectives) {
  if (!in_rank_child()) GTEST_SKIP() << "runs as a rank of World.TwoRanksReduceBroadcastAndMeet";
  World w = join_from_env(std::chrono::seconds(30));
  ASSERT_EQ(w.size(), 2);
  const double r = w.rank();
  // Buckets of 64 bytes: [a] (a double follows), [b], [c d e] (24 + 16 + 8 bytes: one flat all-reduce with a
  // non-contiguous view inside), [f] (larger than a bucket: alone). Leaves that require grad, as gradients'
  // owners do, are written in place too.
  at::Tensor a = at::full({3}, r + 1, at::kFloat);
  at::Tensor b = at::arange(5, at::kDouble) * (r + 1);
  at::Tensor c = (at::arange(6, at::kFloat).view({2, 3}) * (r + 1)).t();  // [3, 2], not contiguous
  at::Tensor d = at::full({2, 2}, 10 * (r + 1), at::kFloat);
  at::Tensor e = at::full({2}, 100 * (r + 1), at::kFloat).requires_grad_(true);
  at::Tensor f = at::arange(40, at::kFloat) + r;
  std::vector<at::Tensor> ts = {a, b, c, d, e, f};
  w.all_reduce_sum(ts, /*bucket_bytes=*/64);
  EXPECT_TRUE(at::equal(a, at::full({3}, 3.0, at::kFloat))) << "in place";
  EXPECT_TRUE(at::equal(b, at::arange(5, at::kDouble) * 3));
  EXPECT_TRUE(at::equal(c, (at::arange(6, at::kFloat).view({2, 3}) * 3).t()));
  EXPECT_FALSE(c.is_contiguous());
  EXPECT_TRUE(at::equal(d, at::full({2, 2}, 30.0, at::kFloat)));
  EXPECT_TRUE(at::equal(e.detach(), at::full({2}, 300.0, at::kFloat)));
  EXPECT_TRUE(at::equal(f, at::arange(40, at::kFloat) * 2 + 1));
  EXPECT_EQ(w.sum(r + 0.5), 2.0);
  at::Tensor base = at::full({2, 3}, -1.0, at::kFloat);
  std::vector<at::Tensor> from_one = {at::full({4}, r, at::kFloat), base.select(1, 1)};  // a strided view
  from_one[1].fill_(r + 5);
  w.broadcast(from_one, /*root=*/1);
  EXPECT_TRUE(at::equal(from_one[0], at::full({4}, 1.0, at::kFloat)));
  EXPECT_TRUE(at::equal(base, at::tensor({-1.0f, 6.0f, -1.0f, -1.0f, 6.0f, -1.0f}).view({2, 3})))
      << "only the view's elements are written";
  EXPECT_EQ(w.max(r == 0 ? 7.5 : -2.0), 7.5);
  // Bytes of different lengths (rank 1's has a zero byte inside), in rank order.
  const std::string mine = r == 0 ? std::string("rank zero") : std::string("r1\0x", 4);
  const std::vector<std::string> all = w.all_gather_bytes(mine);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "rank zero");
  EXPECT_EQ(all[1], std::string("r1\0x", 4));
  EXPECT_EQ(w.all_gather_bytes("")[1], "") << "empty bytes";
  // Rank 0 publishes after longer than nothing; rank 1 waits for it.
  if (w.rank() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    w.publish("stage/0", "runs/x/final");
  } else {
    EXPECT_EQ(w.await("stage/0"), "runs/x/final");
  }
  const auto [begin, end] = w.share(5);
  EXPECT_EQ(begin, r == 0 ? 0 : 2);
  EXPECT_EQ(end, r == 0 ? 2 : 5);
  w.barrier();
}

TEST(DistRank, Alone) {
  if (!in_rank_child()) GTEST_SKIP() << "runs as a rank of World.ARankThatNeverComesFailsTheJoinWithinTheTimeout";
  try {
    join_from_env(std::chrono::seconds(3));
    ADD_FAILURE() << "joined a job whose other rank never came";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("rank 0 of 2: joining the job at 127.0.0.1:"), std::string::npos) << m;
    EXPECT_NE(m.find("2 ranks expected within 3000 ms"), std::string::npos) << m;
  }
}

TEST(DistRank, Dies) {
  if (!in_rank_child()) GTEST_SKIP();
  World w = join_from_env(std::chrono::seconds(30));
  w.barrier();
  std::_Exit(3);  // gone before the survivor's all-reduce
}

TEST(DistRank, Survivor) {
  if (!in_rank_child()) GTEST_SKIP();
  World w = join_from_env(std::chrono::seconds(30));
  w.barrier();
  std::vector<at::Tensor> t = {at::ones({8}, at::kFloat)};
  EXPECT_ANY_THROW(w.all_reduce_sum(t));
}

}  // namespace
}  // namespace r1::dist
