#!/usr/bin/env bash
# Compile-checks the CUDA side of r1 on any machine with nvcc, GPU or not:
#   1. every kernels/*.cu with nvcc for sm_90a (-gencode=arch=compute_90a,code=sm_90a: wgmma and
#      setmaxnreg need the "a" target), printing ptxas' registers / spills / shared memory per kernel;
#   2. the at::Tensor dispatch (kernels/*_cuda.cpp) and every file that changes with R1_WITH_CUDA or calls
#      the kernels from the model (model/decode_step.cpp's CUDA-graph runner, the FP8 / paged-MLA paths),
#      syntax-checked with g++ against the LibTorch headers (Debian's 1.13 here; set TORCH_INCLUDE to a
#      CUDA LibTorch's include dirs to check against 2.x) and the CUDA headers.
# It links nothing and runs nothing: the GPU session builds with scripts/gpu-session.sh.
# Usage: scripts/check-cuda.sh [out-dir]   (default build-cuda-check/); exits non-zero on any error.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-build-cuda-check}
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$NVCC")")}
TORCH_INCLUDE=${TORCH_INCLUDE:-/usr/include /usr/include/torch/csrc/api/include}
CXX=${CXX:-g++}
mkdir -p "$OUT_DIR"
[ -x "$NVCC" ] || { echo "check-cuda: nvcc not found (set NVCC)"; exit 2; }
echo "check-cuda: $("$NVCC" --version | tail -1)"

status=0
for cu in kernels/*.cu; do
  name=$(basename "$cu" .cu)
  log="$OUT_DIR/$name.ptxas.log"
  if "$NVCC" -std=c++17 -O3 -gencode=arch=compute_90a,code=sm_90a --expt-relaxed-constexpr -lineinfo \
      -Xptxas -v -I. -c "$cu" -o "$OUT_DIR/$name.o" >"$log" 2>&1; then
    echo "  ok   $cu"
  else
    echo "  FAIL $cu"; cat "$log"; status=1; continue
  fi
  # One line per kernel: name, registers, stack, spills, static shared memory (ptxas -v).
  python3 scripts/ptxas-summary.py "$log"
  if grep -q "C7508\|setmaxnreg ignored" "$log"; then echo "       warning: setmaxnreg ignored (see $log)"; fi
done

# Debian's CPU LibTorch ships the ATen/cuda headers but not the generated c10/cuda/impl/cuda_cmake_macros.h;
# a one-line stand-in (what PyTorch generates for a shared-library build) lets them parse.
shim="$OUT_DIR/shim/c10/cuda/impl"
mkdir -p "$shim"
[ -f "$shim/cuda_cmake_macros.h" ] || printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' >"$shim/cuda_cmake_macros.h"
includes=()
for d in $TORCH_INCLUDE "$CUDA_HOME/include" . "$OUT_DIR/shim"; do includes+=("-I$d"); done
for cpp in kernels/*_cuda.cpp kernels/fp8_gemm.cpp kernels/moe.cpp kernels/moe_gemm.cpp kernels/mla_decode.cpp \
           kernels/fp8_convert.cpp kernels/cuda_support.cpp cli/cmd_bench_kernels.cpp kernels/bench.cpp \
           model/decode_step.cpp model/generate.cpp model/rollout_copy.cpp model/layers.cpp model/moe.cpp \
           model/attention.cpp model/causal_lm.cpp; do
  [ -f "$cpp" ] || continue
  if "$CXX" -std=c++17 -fsyntax-only -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -DR1_WITH_CUDA=1 \
      "${includes[@]}" "$cpp" >"$OUT_DIR/$(basename "$cpp").log" 2>&1; then
    echo "  ok   $cpp (g++ -fsyntax-only, R1_WITH_CUDA=1)"
  else
    echo "  FAIL $cpp"; head -40 "$OUT_DIR/$(basename "$cpp").log"; status=1
  fi
done
exit $status
