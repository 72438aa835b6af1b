// Whether this process can run the CUDA kernels: built with -DR1_CUDA=ON and a CUDA device visible.
// Tests use it to skip (GTEST_SKIP) on CPU machines; `r1 bench kernels` to refuse with a clear reason.
#pragma once

#include <string>

#include <ATen/ATen.h>

namespace r1::kernels {

bool cuda_kernels_built();      // compiled with -DR1_CUDA=ON (the .cu kernels are linked in)
bool cuda_kernels_available();  // built, and LibTorch sees at least one CUDA device
std::string cuda_kernels_status();  // one line: what is missing, or the device name
// Waits until the work queued on `device`'s current stream is done (to time it); a no-op on the CPU. A
// CUDA device in a build without CUDA kernels is an r1::Error.
void synchronize(const at::Device& device);

}  // namespace r1::kernels
