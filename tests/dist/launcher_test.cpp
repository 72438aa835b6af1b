// dist::launch_local on real processes: the test binary launches itself as the ranks (the LaunchedRank tests
// run only in such a child, told their role by R1_LAUNCH_ROLE). Covered: every rank gets torchrun's variables
// and the ranks form one job; a rank that fails, or is killed with SIGKILL, ends the job within the grace
// period with its status and a message naming it, while the other rank would have slept for a minute; SIGTERM
// to the launcher reaches every rank.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "dist/launcher.h"
#include "dist/world.h"

namespace r1::dist {
namespace {

bool in_launched_rank() { return std::getenv("R1_LAUNCH_ROLE") != nullptr; }

// Launches this binary as `nproc` ranks running LaunchedRank.<role>.
LaunchResult launch_role(const std::string& role, int nproc, std::chrono::milliseconds grace = std::chrono::seconds(5)) {
  ::setenv("R1_LAUNCH_ROLE", role.c_str(), 1);
  LaunchOptions o;
  o.nproc = nproc;
  o.grace = grace;
  LaunchResult r = launch_local({"/proc/self/exe", "--gtest_filter=LaunchedRank." + role}, o);
  ::unsetenv("R1_LAUNCH_ROLE");
  return r;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(Launcher, EveryRankGetsTorchrunsVariablesAndTheyFormOneJob) {
  if (in_launched_rank()) GTEST_SKIP();
  const LaunchResult r = launch_role("FormsAJob", 3);
  EXPECT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(r.failed_rank, -1);
  EXPECT_EQ(r.message, "");
}

TEST(Launcher, AFailingRankEndsTheJobAndIsNamed) {
  if (in_launched_rank()) GTEST_SKIP();
  const auto t0 = std::chrono::steady_clock::now();
  const LaunchResult r = launch_role("OneFails", 2);
  EXPECT_EQ(r.status, 7);
  EXPECT_EQ(r.failed_rank, 1);
  EXPECT_EQ(r.message, "rank 1 exited with status 7");
  EXPECT_LT(seconds_since(t0), 30.0) << "rank 0 sleeps 60 s unless stopped";
}

TEST(Launcher, AKilledRankEndsTheJobWithinTheGracePeriod) {
  if (in_launched_rank()) GTEST_SKIP();
  const auto t0 = std::chrono::steady_clock::now();
  // Rank 0 ignores SIGTERM, so only the SIGKILL after the grace period ends it.
  const LaunchResult r = launch_role("OneKilled", 2, std::chrono::milliseconds(1500));
  EXPECT_EQ(r.status, 128 + SIGKILL);
  EXPECT_EQ(r.failed_rank, 1);
  EXPECT_NE(r.message.find("rank 1 was killed by signal 9"), std::string::npos) << r.message;
  EXPECT_GT(seconds_since(t0), 2.5) << "rank 0 ends only by the SIGKILL 1.5 s after rank 1's death at ~1 s";
  EXPECT_LT(seconds_since(t0), 30.0);
}

TEST(Launcher, SigtermToTheLauncherReachesEveryRank) {
  if (in_launched_rank()) GTEST_SKIP();
  const auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the ranks are asleep by then
    ::kill(::getpid(), SIGTERM);
  });
  const LaunchResult r = launch_role("SleepsUntilTerminated", 2);
  stopper.join();
  EXPECT_EQ(r.status, 128 + SIGTERM);
  EXPECT_EQ(r.failed_rank, -1) << "an interrupted job names no failed rank";
  EXPECT_LT(seconds_since(t0), 30.0);
}

// ---------------------------------------------------------------------------------------------------------
// The ranks.

TEST(LaunchedRank, FormsAJob) {
  if (!in_launched_rank()) GTEST_SKIP();
  const LaunchEnv env = launch_env_from_environment();
  EXPECT_EQ(env.world_size, 3);
  EXPECT_EQ(env.local_rank, env.rank);
  EXPECT_EQ(std::string(std::getenv("LOCAL_WORLD_SIZE")), "3");
  EXPECT_EQ(env.master_addr, "127.0.0.1");
  World w = World::join(env, std::chrono::seconds(30));
  EXPECT_EQ(w.sum(w.rank()), 3.0);  // 0 + 1 + 2: three distinct ranks in one job
}

TEST(LaunchedRank, OneFails) {
  if (!in_launched_rank()) GTEST_SKIP();
  if (launch_env_from_environment().rank == 1) std::_Exit(7);
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

TEST(LaunchedRank, OneKilled) {
  if (!in_launched_rank()) GTEST_SKIP();
  ::signal(SIGTERM, SIG_IGN);
  if (launch_env_from_environment().rank == 1) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // rank 0 ignores SIGTERM by then
    ::raise(SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

TEST(LaunchedRank, SleepsUntilTerminated) {
  if (!in_launched_rank()) GTEST_SKIP();
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

}  // namespace
}  // namespace r1::dist
