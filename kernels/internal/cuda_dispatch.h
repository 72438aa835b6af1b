// Helpers for the at::Tensor side of the CUDA kernels (kernels/*_cuda.cpp, compiled only with
// -DR1_CUDA=ON): the current stream, dtype mapping, device properties, and turning a launcher's
// cudaError_t into an r1::Error that names the op.
#pragma once

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "common/error.h"
#include "kernels/cuda/launch.h"

namespace r1::kernels::internal {

inline cudaStream_t current_stream() { return at::cuda::getCurrentCUDAStream().stream(); }

inline cuda::DType to_cuda_dtype(at::ScalarType t, const char* op, const char* what) {
  switch (t) {
    case at::kFloat: return cuda::DType::kFloat32;
    case at::kBFloat16: return cuda::DType::kBFloat16;
    case at::kHalf: return cuda::DType::kFloat16;
    default: fail(op, ": ", what, " must be fp32, bf16 or fp16 on CUDA, got ", t);
  }
}

inline void check_launch(cudaError_t err, const char* op) {
  R1_CHECK(err == cudaSuccess, op, ": CUDA launch failed: ", cudaGetErrorString(err));
}

inline const cudaDeviceProp& device_props() { return *at::cuda::getCurrentDeviceProperties(); }
inline int num_sms() { return device_props().multiProcessorCount; }
inline bool is_hopper() { return device_props().major == 9; }

inline void check_cuda(const at::Tensor& t, const char* op, const char* what) {
  R1_CHECK(t.defined() && t.is_cuda(), op, ": ", what, " must be a CUDA tensor");
}

}  // namespace r1::kernels::internal
