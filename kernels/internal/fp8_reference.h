// Helpers shared by the kernels' CPU references and their CUDA dispatch: located input checks and the
// promoted block matmul that every FP8 GEMM reference (dense, contiguous MoE, masked MoE) reduces to.
//
// Not a public API: kernels/*.h are. Checks throw r1::Error naming the op and the tensor, with the
// shape that was expected and the one that came.
#pragma once

#include <initializer_list>
#include <vector>

#include <ATen/ATen.h>

namespace r1::kernels::internal {

inline int64_t ceil_blocks(int64_t n) { return (n + 127) / 128; }

// uint8 e4m3 codes of the given rank.
void check_codes(const at::Tensor& t, int64_t dim, const char* op, const char* what);
// fp32 scales of exactly this shape.
void check_scale(const at::Tensor& t, std::vector<int64_t> expected, const char* op, const char* what);
// A tensor of the given rank whose dtype is one of `dtypes`.
void check_tensor(const at::Tensor& t, int64_t dim, std::initializer_list<at::ScalarType> dtypes,
                  const char* op, const char* what);
// All defined tensors on one device.
void check_same_device(std::initializer_list<at::Tensor> tensors, const char* op);
// kBFloat16 or kFloat.
void check_out_dtype(at::ScalarType dtype, const char* op);

// A caller-provided output (for CUDA graphs, or poisoned in tests): checks shape, dtype, device and
// contiguity and returns it; an undefined `out` gives a fresh empty tensor.
at::Tensor checked_out(const at::Tensor& out, at::IntArrayRef shape, at::ScalarType dtype, const at::Device& device,
                       const char* op, const char* what = "out");
// CPU paths: `result` itself, or copied into the caller's `out` after the same checks.
at::Tensor deliver(const at::Tensor& result, const at::Tensor& out, const char* op, const char* what = "out");

// Weight scales [Nb, Kb] repeated per output row: [N, Kb].
at::Tensor expand_weight_scale_rows(const at::Tensor& scale, int64_t N);

// fp32 [M, N] = Σ_kb (decode(A[:, kb]) · decode(B[:, kb])^T) * (a_scale[:, kb] ⊗ b_scale_rows[:, kb]).
// a_codes uint8 [M, K], a_scale fp32 [M, Kb], b_codes uint8 [N, K], b_scale_rows fp32 [N, Kb]; CPU.
at::Tensor promoted_matmul(const at::Tensor& a_codes, const at::Tensor& a_scale, const at::Tensor& b_codes,
                           const at::Tensor& b_scale_rows);

}  // namespace r1::kernels::internal
