#!/usr/bin/env bash
# The GPU session for the kernels (issue 6) in one script: build the kernels-only project
# (kernels/standalone) against the machine's PyTorch LibTorch, look at the machine code, run the
# kernels test suite (CPU references + CUDA parity), a compute-sanitizer pass over the parity tests,
# and the benchmark. Every log lands in $OUT (the device tool's folder) or build-gpu-session/.
#
# Here first: bash scripts/gpu-prep.sh. Then on the GPU machine (device tool, carry ["build-gpu-deps"]):
#   bash scripts/gpu-session.sh all            build + sass + test + sanitize + bench (about 8 minutes)
#   bash scripts/gpu-session.sh build test     only those steps (a warm machine keeps build-gpu/)
#   bash scripts/gpu-session.sh bench --sections gemm --ms 4096      extra arguments go to the benchmark
# Steps: build, sass, test, sanitize, bench, all. Exit status: non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=${OUT:-build-gpu-session}
mkdir -p "$LOG"
steps=()
while [ $# -gt 0 ] && [[ "$1" != --* ]]; do steps+=("$1"); shift; done
[ ${#steps[@]} -eq 0 ] && steps=(all)
[[ " ${steps[*]} " == *" all "* ]] && steps=(build sass test sanitize bench)
status=0
has() { [[ " ${steps[*]} " == *" $1 "* ]]; }
note() { echo "== $*" | tee -a "$LOG/summary.txt"; }
: >"$LOG/summary.txt"

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -2
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
  nproc
} >"$LOG/env.txt" 2>&1
note "env: $(head -2 "$LOG/env.txt" | tail -1)"

if has build; then
  TORCH_PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  GTEST=${R1_GTEST_SOURCE:-$PWD/build-gpu-deps/googletest}
  [ -f "$GTEST/CMakeLists.txt" ] || GTEST=/usr/src/googletest
  if cmake -S kernels/standalone -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
       -DR1_GTEST_SOURCE="$GTEST" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" >"$LOG/configure.log" 2>&1 &&
     cmake --build build-gpu -j"$(nproc)" >"$LOG/build.log" 2>&1; then
    note "build: ok"
    python3 scripts/ptxas-summary.py "$LOG/build.log" >"$LOG/ptxas.txt" 2>&1 || true
  else
    note "build: FAILED (configure.log / build.log)"
    tail -40 "$LOG/configure.log"; grep -E "error" "$LOG/build.log" | head -40
    exit 1
  fi
fi

if has sass; then
  # The instructions the kernels were written for: QGMMA (wgmma e4m3), UTMALDG (TMA loads), HMMA (mma.sync
  # in MLA decode), and local-memory traffic (LDL/STL) that would mean spills.
  for obj in $(find build-gpu -path '*r1_kernels_cuda.dir*' -name '*.cu.o' | sort); do
    cuobjdump --dump-sass "$obj" >"$LOG/$(basename "$obj").sass" 2>&1 || true
    printf '%-22s QGMMA %5s  UTMALDG %4s  HMMA %5s  LDL/STL %4s\n' "$(basename "$obj" .cu.o)" \
      "$(grep -c QGMMA "$LOG/$(basename "$obj").sass")" "$(grep -c UTMALDG "$LOG/$(basename "$obj").sass")" \
      "$(grep -c HMMA "$LOG/$(basename "$obj").sass")" "$(grep -cE '\b(LDL|STL)\b' "$LOG/$(basename "$obj").sass")"
  done | tee "$LOG/sass.txt"
  note "sass: see sass.txt"
fi

if has test; then
  if timeout 600 ./build-gpu/r1_kernels_tests --gtest_output="xml:$LOG/tests.xml" >"$LOG/tests.log" 2>&1; then
    note "tests: ok ($(grep -c '^\[       OK \]' "$LOG/tests.log") passed, $(grep -c '^\[  SKIPPED \]' "$LOG/tests.log") skipped lines)"
  else
    status=1
    note "tests: FAILED"
    grep -E "Failure|FAILED|Expected|actual|Which is|error" "$LOG/tests.log" | head -60
  fi
fi

if has sanitize; then
  # memcheck over the smaller parity cases (the long-context and large-shape ones would take minutes).
  filter='Fp8ConvertCuda.*:Fp8GemmCuda.SimplePath*:Fp8GemmCuda.TensorCore*:MoeCuda.Routing*:MoeCuda.Masked*:MlaDecodeCuda.MatchesReference*'
  if timeout 400 compute-sanitizer --tool memcheck --error-exitcode 3 ./build-gpu/r1_kernels_tests --gtest_filter="$filter" \
       >"$LOG/memcheck.log" 2>&1; then
    note "memcheck: clean"
  else
    status=1
    note "memcheck: FAILED (memcheck.log)"
    grep -E "Invalid|ERROR|error" "$LOG/memcheck.log" | head -30
  fi
fi

if has bench; then
  if timeout 500 ./build-gpu/r1_bench_kernels "$@" >"$LOG/bench.log" 2>&1; then
    note "bench: ok (bench.log)"
  else
    status=1
    note "bench: FAILED"
  fi
  cat "$LOG/bench.log"
fi
cat "$LOG/summary.txt"
exit $status
