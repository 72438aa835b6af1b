// Data parallelism with the models on another device: the device walk's recipe (tests/device/walk_recipe.h:
// every stage type that trains, samples or scores) run by two ranks whose models live on the fake device
// (tests/device/fake_device.h), against the same two ranks on the CPU. Gradients, expert loads and every other
// sum travel from the device through host copies into Gloo (dist/world.h), so — the fake device running the
// CPU's kernels — the runs must end bitwise alike, and no operator on a rank may mix devices.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "device/fake_device.h"
#include "device/walk_recipe.h"
#include "dist/launcher.h"
#include "dist/world.h"
#include "rank_children.h"
#include "rl/pipeline.h"

namespace r1::dist {
namespace {

// Runs the walk recipe for `device` on two child ranks; true when both succeeded.
bool run_on_two_ranks(const std::string& dir, const std::string& device) {
  ::setenv("R1_WALK_RECIPE", rl::testing::write_walk_recipe(dir, device).c_str(), 1);
  ::setenv("R1_WALK_OUTPUT", (dir + "/" + device).c_str(), 1);
  const auto codes = run_two_ranks("DeviceWalk", free_local_port(), std::chrono::seconds(240));
  EXPECT_EQ(codes, (std::vector<int>{0, 0})) << device << ": a rank failed (its output is above)";
  return codes == std::vector<int>{0, 0};
}

TEST(DeviceRanks, TwoRanksOnAnotherDeviceEndAsTwoRanksOnTheCpu) {
  if (in_rank_child()) GTEST_SKIP();
  const std::string dir = rl::testing::scratch_dir();
  rl::testing::write_walk_data(dir);
  ASSERT_TRUE(run_on_two_ranks(dir, "cpu"));
  ASSERT_TRUE(run_on_two_ranks(dir, "privateuseone"));
  rl::testing::expect_walk_runs_equal(dir + "/cpu", dir + "/privateuseone");
  rl::testing::cleanup_if_passed(dir);
}

TEST(DistRank, DeviceWalk) {
  if (!in_rank_child()) GTEST_SKIP() << "runs as a rank of DeviceRanks.TwoRanksOnAnotherDeviceEndAsTwoRanksOnTheCpu";
  World w = World::join(launch_env_from_environment(), std::chrono::seconds(60));
  rl::RunOptions options;
  options.output_dir = std::getenv("R1_WALK_OUTPUT");
  options.quiet = true;
  options.world = &w;
  fake_device::reset();
  rl::run_recipe(std::getenv("R1_WALK_RECIPE"), options);
  for (const auto& v : fake_device::violations()) {
    ADD_FAILURE() << "rank " << w.rank() << ": " << v.op << "(" << v.arguments << ")";
  }
  if (std::string(std::getenv("R1_WALK_OUTPUT")).find("privateuseone") != std::string::npos) {
    EXPECT_GT(fake_device::device_ops(), 10000) << "the stages ran on the fake device";
  }
}

}  // namespace
}  // namespace r1::dist
