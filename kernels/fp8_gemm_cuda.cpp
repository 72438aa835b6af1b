// CUDA dispatch of the FP8 GEMMs (kernels/fp8_gemm.h and kernels/moe_gemm.h → fp8_gemm.cu, moe_gemm.cu):
// contiguity, output and workspace allocation, the kernel choice and the split-K heuristic. Compiled
// only with -DR1_CUDA=ON.
//
// Path choice: the tensor-core kernel when the GPU is Hopper and the shape allows it (K % 16 == 0), else
// the CUDA-core kernel; Fp8GemmPath forces either (forcing the tensor cores on a shape they cannot take
// is an r1::Error, not a silent fallback). Split-K (dense only): when the output tiles cannot fill the
// GPU (M <= 128 decode shapes: N/128 tiles against 132 SMs), K blocks are split so that about one wave
// of CTAs runs, each writing fp32 partials that a second kernel sums.
#include <algorithm>

#include "common/error.h"
#include "kernels/internal/cuda_dispatch.h"
#include "kernels/internal/cuda_ops.h"
#include "kernels/internal/fp8_reference.h"
#include "kernels/moe_gemm.h"

namespace r1::kernels::internal {
namespace {

bool use_tensor_cores(const cuda::Fp8GemmParams& p, Fp8GemmPath path, const char* op) {
  const bool possible = is_hopper() && cuda::fp8_gemm_tensor_core_supported(p);
  if (path == Fp8GemmPath::kTensorCore)
    R1_CHECK(possible, op, ": the tensor-core path needs an sm_90 GPU and K % 16 == 0 with 16-byte aligned rows (K = ",
             p.K, ", device sm_", device_props().major, device_props().minor, ")");
  return path != Fp8GemmPath::kSimple && possible;
}

int choose_split_k(const cuda::Fp8GemmParams& p, bool tensor_cores, int64_t requested, const char* op) {
  const int64_t num_kb = ceil_blocks(p.K);
  if (requested > 0) {
    R1_CHECK(requested <= num_kb, op, ": split_k ", requested, " exceeds the ", num_kb, " K blocks");
    return static_cast<int>(requested);
  }
  const int64_t bm = tensor_cores ? cuda::fp8_gemm_tensor_core_block_m(p) : 64, bn = tensor_cores ? 128 : 64;
  const int64_t tiles = (p.rows_total + bm - 1) / bm * ((p.N + bn - 1) / bn);
  if (tiles * 2 > num_sms() || num_kb < 4) return 1;
  return static_cast<int>(std::clamp<int64_t>((num_sms() + tiles - 1) / tiles, 1, num_kb / 2));
}

void launch(cuda::Fp8GemmParams& p, const Fp8GemmOptions& opt, const at::TensorOptions& device_opts, const char* op) {
  const bool tensor_cores = use_tensor_cores(p, opt.path, op);
  at::Tensor workspace;
  if (p.layout == cuda::GemmLayout::kDense) {
    p.split_k = choose_split_k(p, tensor_cores, opt.split_k, op);
    if (p.split_k > 1) {
      workspace = at::empty({p.split_k, p.rows_total, p.N}, device_opts.dtype(at::kFloat));  // [S, M, N]
      p.workspace = workspace.data_ptr<float>();
    }
  } else {
    R1_CHECK(opt.split_k <= 1, op, ": split_k applies to the dense GEMM only");
  }
  const cudaError_t err =
      tensor_cores ? cuda::fp8_gemm_tensor_core(p, current_stream()) : cuda::fp8_gemm_simple(p, current_stream());
  check_launch(err, op);
}

}  // namespace

at::Tensor fp8_gemm_cuda(const Fp8Blocks& a, const Fp8Blocks& b, const Fp8GemmOptions& opt, const at::Tensor& out) {
  const char* op = "fp8_gemm";
  const GemmDims d = check_fp8_gemm_inputs(a, b, op);
  const c10::cuda::CUDAGuard guard(a.data.device());
  const at::Tensor ad = a.data.contiguous(), as = a.scale.contiguous();
  const at::Tensor bd = b.data.contiguous(), bs = b.scale.contiguous();
  at::Tensor c = checked_out(out, {d.M, d.N}, opt.out_dtype, ad.device(), op);  // [M, N]
  if (d.M == 0 || d.N == 0) return c;
  cuda::Fp8GemmParams p;
  p.a = ad.data_ptr<uint8_t>(), p.a_scale = as.data_ptr<float>();
  p.b = bd.data_ptr<uint8_t>(), p.b_scale = bs.data_ptr<float>();
  p.c = c.data_ptr(), p.c_type = to_cuda_dtype(opt.out_dtype, op, "output");
  p.rows_total = p.rows_per_group = d.M;
  p.N = d.N, p.K = d.K, p.groups = 1;
  p.layout = cuda::GemmLayout::kDense;
  launch(p, opt, ad.options(), op);
  return c;
}

at::Tensor fp8_grouped_gemm_cuda(const Fp8Blocks& a, const Fp8Blocks& b, const at::Tensor& row_info, bool masked,
                                 const Fp8GemmOptions& opt, at::Tensor out) {
  const char* op = masked ? "fp8_grouped_gemm_masked" : "fp8_grouped_gemm_contiguous";
  const GroupedGemmDims d = check_grouped_gemm_inputs(a, b, masked, op);
  check_out_dtype(opt.out_dtype, op);
  check_tensor(row_info, 1, {at::kInt}, op, masked ? "masked_m" : "row_expert");
  R1_CHECK(row_info.size(0) == (masked ? d.E : d.M), op, ": ", masked ? "masked_m" : "row_expert", " has ",
           row_info.size(0), " entries, expected ", masked ? d.E : d.M);
  check_same_device({a.data, row_info}, op);
  const c10::cuda::CUDAGuard guard(a.data.device());
  const std::vector<int64_t> shape = masked ? std::vector<int64_t>{d.E, d.M, d.N} : std::vector<int64_t>{d.M, d.N};
  out = prepare_grouped_out(out, shape, opt.out_dtype, a.data.device(), op);
  const int64_t rows = masked ? d.E * d.M : d.M;
  if (rows == 0) return out;
  const at::Tensor ad = a.data.contiguous(), as = a.scale.contiguous();
  const at::Tensor bd = b.data.contiguous(), bs = b.scale.contiguous(), info = row_info.contiguous();
  cuda::Fp8GemmParams p;
  p.a = ad.data_ptr<uint8_t>(), p.a_scale = as.data_ptr<float>();
  p.b = bd.data_ptr<uint8_t>(), p.b_scale = bs.data_ptr<float>();
  p.c = out.data_ptr(), p.c_type = to_cuda_dtype(opt.out_dtype, op, "output");
  p.rows_total = rows;
  p.rows_per_group = d.M;
  p.N = d.N, p.K = d.K, p.groups = d.E;
  p.layout = masked ? cuda::GemmLayout::kMasked : cuda::GemmLayout::kContiguous;
  (masked ? p.masked_m : p.row_expert) = info.data_ptr<int32_t>();
  launch(p, opt, ad.options(), op);
  return out;
}

}  // namespace r1::kernels::internal
