// Whether this process can run the CUDA kernels: built with -DR1_CUDA=ON and a CUDA device visible.
// Tests use it to skip (GTEST_SKIP) on CPU machines; `r1 bench kernels` to refuse with a clear reason.
#pragma once

#include <string>

namespace r1::kernels {

bool cuda_kernels_built();      // compiled with -DR1_CUDA=ON (the .cu kernels are linked in)
bool cuda_kernels_available();  // built, and LibTorch sees at least one CUDA device
std::string cuda_kernels_status();  // one line: what is missing, or the device name

}  // namespace r1::kernels
