// The device walk: a run of every trainer, sampler and scorer with its models on the fake device
// (fake_device.h), in this process. No operator may mix the model's device with CPU tensors or a CPU
// generator (what CUDA refuses). The fake device runs the CPU's kernels, so the run must also end exactly
// as the same run on the CPU: the same weights, samples, data and scores — nothing was skipped or moved
// to the host on the way.
//
// The GRPO stage walks every part of a step: rollouts (prefill, top-p sampling, the KV cache), rule rewards
// and a reward model's scores, old and reference log-probs (beta > 0, a reference reset, the reference kept
// in host memory: ref_offload), the clipped loss over two minibatches of micro-batches and two epochs, the
// aux-loss-free bias update, AdamW, checkpoints and the final save. The other stages: pretrain (packed rows,
// MTP, sequence-wise balance loss), rejection sampling, sft, reward_model (a Qwen2 with a score head),
// distill (forward KL to a teacher's logits; reverse KL on the student's own replies) and evaluate
// (completions, rule and reward-model scores). The recipe: walk_recipe.h.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "device/fake_device.h"
#include "rl/pipeline.h"
#include "device/walk_recipe.h"
#include "rl/run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;

std::string run(const std::string& dir, const std::string& device) {
  RunOptions options;
  options.output_dir = dir + "/" + device;
  options.quiet = true;
  return run_recipe(write_walk_recipe(dir, device), options);
}

TEST(DeviceWalk, EveryStageOnAnotherDeviceMixesNoDevicesAndEndsAsOnTheCpu) {
  const std::string dir = scratch_dir();
  write_walk_data(dir);
  const std::string on_cpu = run(dir, "cpu");
  fake_device::reset();
  const std::string on_device = run(dir, "privateuseone");
  for (const auto& v : fake_device::violations()) ADD_FAILURE() << v.op << "(" << v.arguments << ")";
  EXPECT_GT(fake_device::device_ops(), 10000) << "the stages ran on the fake device";
  std::cout << "device operators: " << fake_device::device_ops() << ", host reads: " << fake_device::host_reads()
            << "\n";
  expect_walk_runs_equal(on_cpu, on_device);
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
