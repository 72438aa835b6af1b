// See cuda_support.h. The device name comes from the CUDA LibTorch's device properties, so it is only
// looked up in a CUDA build; synchronize() waits on the device's current stream (what timing needs).
#include "kernels/cuda_support.h"

#include <ATen/ATen.h>

#if R1_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include "common/error.h"

namespace r1::kernels {

bool cuda_kernels_built() {
#if R1_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_kernels_available() { return cuda_kernels_built() && at::hasCUDA(); }

std::string cuda_kernels_status() {
  if (!cuda_kernels_built())
    return "r1 was built without CUDA kernels (configure with -DR1_CUDA=ON against a CUDA LibTorch)";
  if (!at::hasCUDA()) return "r1 has CUDA kernels but LibTorch sees no CUDA device";
#if R1_WITH_CUDA
  const cudaDeviceProp* prop = at::cuda::getCurrentDeviceProperties();
  return str_cat("CUDA device ", prop->name, " (sm_", prop->major, prop->minor, ", ", prop->multiProcessorCount,
                 " SMs)");
#else
  return "";
#endif
}

void synchronize(const at::Device& device) {
  if (!device.is_cuda()) return;
#if R1_WITH_CUDA
  at::cuda::getCurrentCUDAStream(device.index()).synchronize();
#else
  fail("synchronize: got device ", device, " but r1 was built without CUDA kernels (configure with -DR1_CUDA=ON)");
#endif
}

}  // namespace r1::kernels
