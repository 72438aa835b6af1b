// The raw-pointer interface between the at::Tensor dispatch (kernels/*_cuda.cpp) and the CUDA kernels
// (kernels/*.cu). Plain C++ plus the CUDA runtime header: no LibTorch here, so the .cu files compile
// with nvcc alone (scripts/check-cuda.sh does exactly that on machines without a GPU).
//
// Conventions: every tensor is dense row-major with the shape in the comment; sizes are elements unless
// named *_bytes; every launcher enqueues on `stream`, never synchronises, never allocates (workspaces
// come from the caller, sized by the *_workspace_bytes functions), and returns the launch status
// (cudaGetLastError) or cudaErrorInvalidValue for arguments it cannot serve. So everything here can be
// captured in a CUDA graph.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace r1::kernels::cuda {

enum class DType : int { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// ---- FP8 quantisation (fp8_quant.cu): the formats of kernels/fp8_quant.h ----
// x [M, K] → q [M, K], scale [M, ceil(K/128)].
cudaError_t quantize_act_1x128(const void* x, DType x_type, int64_t M, int64_t K, uint8_t* q, float* scale,
                               cudaStream_t stream);
// w [N, K] → q [N, K], scale [ceil(N/128), ceil(K/128)].
cudaError_t quantize_weight_128x128(const void* w, DType w_type, int64_t N, int64_t K, uint8_t* q, float* scale,
                                    cudaStream_t stream);
// q [rows, K] with 1x128 (weight_blocks = false) or 128x128 scales → out [rows, K] (fp32 or bf16).
cudaError_t dequantize_fp8(const uint8_t* q, const float* scale, int64_t rows, int64_t K, bool weight_blocks,
                           void* out, DType out_type, cudaStream_t stream);

// ---- FP8 block-scaled GEMM (fp8_gemm.cu, moe_gemm.cu): C = A · B^T per group ----
enum class GemmLayout : int {
  kDense = 0,       // one group; rows_total = M
  kContiguous = 1,  // rows grouped by expert, row_expert[r] names the group (-1 padding), 128-row aligned
  kMasked = 2,      // group g owns rows [g * rows_per_group, g * rows_per_group + masked_m[g])
};

struct Fp8GemmParams {
  const uint8_t* a = nullptr;      // [rows_total, K] e4m3
  const float* a_scale = nullptr;  // [rows_total, ceil(K/128)]
  const uint8_t* b = nullptr;      // [groups * N, K] e4m3
  const float* b_scale = nullptr;  // [groups, ceil(N/128), ceil(K/128)]
  void* c = nullptr;               // [rows_total, N]
  DType c_type = DType::kBFloat16; // kBFloat16 or kFloat32
  int64_t rows_total = 0;
  int64_t rows_per_group = 0;      // masked: max_m
  int64_t N = 0, K = 0;
  int64_t groups = 1;
  GemmLayout layout = GemmLayout::kDense;
  const int32_t* row_expert = nullptr;  // contiguous: [rows_total]
  const int32_t* masked_m = nullptr;    // masked: [groups]
  int split_k = 1;                      // dense only: >1 sums fp32 partials in `workspace`
  float* workspace = nullptr;           // [split_k, rows_total, N] when split_k > 1
};

// Whether the wgmma + TMA kernel can run these params (K % 16 == 0, 16-byte aligned operands, sizes
// within TMA limits). The tensor-core launcher returns cudaErrorInvalidValue when this is false.
bool fp8_gemm_tensor_core_supported(const Fp8GemmParams& p);
// Rows per tile the tensor-core kernel will use (64 or 128); contiguous layouts need 128-aligned groups.
int fp8_gemm_tensor_core_block_m(const Fp8GemmParams& p);
cudaError_t fp8_gemm_tensor_core(const Fp8GemmParams& p, cudaStream_t stream);
cudaError_t fp8_gemm_simple(const Fp8GemmParams& p, cudaStream_t stream);

// ---- MoE routing and data movement (moe.cu) ----
struct MoeRouteParams {
  const int32_t* topk_ids = nullptr;  // [T, k]; < 0 = not routed; >= E is dropped too
  int64_t T = 0;
  int k = 0;
  int E = 0;
  bool masked = false;
  int64_t capacity = 1;  // contiguous: align; masked: max_m
  int64_t P = 0;         // rows of the layout (moe_contiguous_rows or E * max_m)
  int32_t* row_token = nullptr;       // [P]
  int32_t* row_expert = nullptr;      // [P]
  int32_t* expert_counts = nullptr;   // [E]
  int32_t* expert_offsets = nullptr;  // [E + 1]
  int32_t* dest_row = nullptr;        // [T, k]
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};
size_t moe_route_workspace_bytes(int64_t pairs, int num_experts);
cudaError_t moe_route(const MoeRouteParams& p, cudaStream_t stream);
// out[r] = x[row_token[r]] (row_bytes bytes per row), zeros where row_token[r] is not in [0, x_rows).
cudaError_t moe_gather(const void* x, int64_t x_rows, int64_t row_bytes, const int32_t* row_token, int64_t P,
                       void* out, cudaStream_t stream);
// out [T, D] = Σ_j weights[t, j] * y[dest_row[t, j]] (fp32 sums) over dest_row in [0, y_rows); y [y_rows, D];
// weights [T, k].
cudaError_t moe_unpermute(const void* y, DType y_type, int64_t y_rows, int64_t D, const int32_t* dest_row,
                          const void* weights, DType w_type, int64_t T, int k, void* out, DType out_type,
                          cudaStream_t stream);
// x [P, 2I] → q [P, I], scale [P, ceil(I/128)] of silu(x[:, :I]) * x[:, I:].
cudaError_t swiglu_quant(const void* x, DType x_type, int64_t P, int64_t I, uint8_t* q, float* scale,
                         cudaStream_t stream);

// ---- MLA decode (mla_decode.cu): 512 latent + 64 rope, 64-token blocks, bf16 q ----
constexpr int kMlaLatent = 512;
constexpr int kMlaRope = 64;
constexpr int kMlaHeadsPerCta = 16;

struct MlaDecodeParams {
  const void* q = nullptr;             // bf16 [B, H, 576]
  const void* kv = nullptr;            // bf16 [num_blocks, 64, 576], or null with the FP8 cache below
  const uint8_t* latent = nullptr;     // FP8 cache: e4m3 [num_blocks, 64, 512]
  const float* latent_scale = nullptr; //            fp32 [num_blocks, 64, 4]
  const void* rope = nullptr;          //            bf16 [num_blocks, 64, 64]
  const int32_t* block_table = nullptr;  // [B, max_blocks]; ids outside [0, num_blocks) read as zeros
  const int32_t* seq_lens = nullptr;     // [B]; clamped to [0, 64 * max_blocks]
  int64_t max_blocks = 0;
  int64_t num_blocks = 0;
  int B = 0, H = 0;
  float softmax_scale = 0;
  int num_splits = 1;
  float* partial_out = nullptr;  // [B, H, num_splits, 512] when num_splits > 1
  float* partial_lse = nullptr;  // [B, H, num_splits]
  void* out = nullptr;           // [B, H, 512]
  DType out_type = DType::kFloat32;
  float* lse = nullptr;          // [B, H]
};
cudaError_t mla_decode(const MlaDecodeParams& p, cudaStream_t stream);

}  // namespace r1::kernels::cuda
