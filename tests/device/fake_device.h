// A second device for a CPU-only machine, to catch tensors made on the wrong device.
//
// r1 runs every trainer, rollout and reward model on the model's device, but this machine has no GPU, so a
// tensor built on the CPU and then mixed with CUDA tensors ("Expected all tensors to be on the same device")
// would only show on a GPU. This test backend registers LibTorch's PrivateUse1 device ("privateuseone"):
// its tensors live in host memory and every operator runs through a boxed fallback that hands the CPU
// kernels zero-copy CPU views of the inputs and wraps the results back onto the fake device. Before each
// call the fallback applies CUDA's rule: a tensor of the fake device may only meet CPU tensors that are
// 0-dim scalars, and those only in element-wise operators (not as an index), and random numbers for it do not
// come from a CPU generator. Each break of the rule is
// recorded (the operator and the devices of its arguments) instead of thrown, so one run lists every
// offending call; `fake_device::violations()` returns them. Element-wise operators never reach the
// fallback with mixed devices: LibTorch's TensorIterator throws "Expected all tensors to be on the same
// device" first, as it does on CUDA.
// Host reads of device data (`.item()`, `.to(kCPU)`) are counted, not forbidden: they are legitimate
// synchronisations, and the count says how often a step waits on the device.
//
// The backend registers itself when the test binary starts; nothing in r1 itself knows it.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fake_device {

// The fake device, c10::Device(PrivateUse1, 0); at::Device("privateuseone") names it too.
at::Device device();

// One call that mixed devices: the operator ("aten::index_select") and its arguments' devices and shapes.
struct Violation {
  std::string op;
  std::string arguments;
};

// The violations and host reads recorded since the last reset(); reset() clears both.
std::vector<Violation> violations();
int64_t host_reads();
// How many operators ran on the fake device since the last reset() (to check a test reached it at all).
int64_t device_ops();
void reset();

}  // namespace fake_device
