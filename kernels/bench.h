// `r1 bench kernels`: timings of the CUDA kernels beside their peers in the same run, on the current
// CUDA device. GPU only: on a build without -DR1_CUDA=ON or a machine without a CUDA device it throws
// r1::Error with the reason (the CLI prints it and exits with status 1).
//
// What it measures (median of `iters` single-call timings with CUDA events, after `warmup` calls, inputs
// rotated over enough copies to exceed the L2 cache, random data, never zeros):
//   ceilings  device-to-device copy GB/s (bytes read + written) and a cuBLAS bf16 8192^3 TFLOP/s;
//   gemm      r1 fp8_gemm vs cuBLAS bf16 (at::matmul) vs cuBLAS FP8 with 1x128 / 128x128 block scales
//             (at::_scaled_mm, LibTorch >= 2.4 and CUDA >= 12.9; reported "n/a" with the reason
//             otherwise) for every M in `ms` and N x K in `nk` (DeepSeek-V3 shapes by default);
//   grouped   FP8 grouped GEMM, contiguous (prefill) and masked (decode), beside a per-expert loop of
//             cuBLAS bf16 matmuls;
//   moe       routing, gather, swiglu_quant, unpermute;
//   mla       MLA decode (bf16 and FP8 cache) beside the same attention as LibTorch ops;
//   quant     1x128 and 128x128 quantisation GB/s.
// Last, a target table from the same run's figures: the dense FP8 GEMM at M = 4096 against >= 1.1x cuBLAS
// block-scaled FP8, and at M <= 128 — with MLA decode at L >= 4096 (16 heads) — against >= 80% of the
// measured copy bandwidth ("targets met: n of m"). The ceilings run whenever gemm or mla does.
// Not a test: it checks nothing; the parity tests in tests/kernels do that.
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace r1::kernels {

struct KernelBenchOptions {
  std::vector<int64_t> ms = {64, 128, 4096};
  std::vector<std::array<int64_t, 2>> nk = {{2112, 7168}, {24576, 1536}, {32768, 512},
                                            {7168, 16384}, {4096, 7168},  {7168, 2048}};
  int iters = 20;
  int warmup = 5;
  std::vector<std::string> sections = {"ceilings", "gemm", "grouped", "moe", "mla", "quant"};
};

void run_kernel_bench(const KernelBenchOptions& opt, std::ostream& out);

}  // namespace r1::kernels
