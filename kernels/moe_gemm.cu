// FP8 grouped GEMM on CUDA: the contiguous (prefill) and masked (decode) instantiations of the kernels
// in kernels/cuda/fp8_gemm_kernels.cuh. One launch covers all experts: the grid's y (and, masked, z)
// dimension walks row tiles of every expert, and each CTA finds its expert from row_expert or blockIdx.z.
#include "kernels/cuda/fp8_gemm_kernels.cuh"

namespace r1::kernels::cuda::gemm {

cudaError_t launch_grouped(const Fp8GemmParams& p, bool tensor_core, cudaStream_t stream) {
  if (p.layout == GemmLayout::kContiguous) {
    if (p.row_expert == nullptr) return cudaErrorInvalidValue;
    return tensor_core ? launch_tensor_core<GemmLayout::kContiguous>(p, stream)
                       : launch_simple<GemmLayout::kContiguous>(p, stream);
  }
  if (p.layout == GemmLayout::kMasked) {
    if (p.masked_m == nullptr || p.rows_per_group <= 0 || p.rows_total != p.groups * p.rows_per_group)
      return cudaErrorInvalidValue;
    return tensor_core ? launch_tensor_core<GemmLayout::kMasked>(p, stream)
                       : launch_simple<GemmLayout::kMasked>(p, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace r1::kernels::cuda::gemm
