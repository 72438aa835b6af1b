// FP8 block-scaled GEMM on CUDA: the launchers of kernels/cuda/launch.h for all layouts, and the dense
// instantiations of the kernels in kernels/cuda/fp8_gemm_kernels.cuh (design notes there and in
// docs/kernels.md). The grouped layouts are instantiated in moe_gemm.cu.
#include "kernels/cuda/fp8_gemm_kernels.cuh"

namespace r1::kernels::cuda {

bool fp8_gemm_tensor_core_supported(const Fp8GemmParams& p) {
  const auto aligned16 = [](const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; };
  const int64_t b_rows = p.groups * p.N;
  return p.K % 16 == 0 && p.K > 0 && p.N > 0 && p.rows_total > 0 && aligned16(p.a) && aligned16(p.b) &&
         p.rows_total < (int64_t{1} << 31) && b_rows < (int64_t{1} << 31) && p.K < (int64_t{1} << 31) &&
         p.split_k >= 1 && (p.split_k == 1 || p.workspace != nullptr);
}

int fp8_gemm_tensor_core_block_m(const Fp8GemmParams& p) {
  switch (p.layout) {
    case GemmLayout::kDense: return p.rows_total <= 64 ? 64 : 128;
    case GemmLayout::kMasked: return p.rows_per_group <= 64 ? 64 : 128;
    case GemmLayout::kContiguous: return 128;  // the layout's alignment: one expert per 128-row tile
  }
  return 128;
}

cudaError_t fp8_gemm_tensor_core(const Fp8GemmParams& p, cudaStream_t stream) {
  if (p.layout == GemmLayout::kDense) return gemm::launch_tensor_core<GemmLayout::kDense>(p, stream);
  if (p.split_k != 1) return cudaErrorInvalidValue;  // split-K is a dense-only option
  return gemm::launch_grouped(p, /*tensor_core=*/true, stream);
}

cudaError_t fp8_gemm_simple(const Fp8GemmParams& p, cudaStream_t stream) {
  if (p.split_k < 1 || (p.split_k > 1 && (p.workspace == nullptr || p.layout != GemmLayout::kDense)))
    return cudaErrorInvalidValue;
  if (p.layout == GemmLayout::kDense) return gemm::launch_simple<GemmLayout::kDense>(p, stream);
  return gemm::launch_grouped(p, /*tensor_core=*/false, stream);
}

}  // namespace r1::kernels::cuda
