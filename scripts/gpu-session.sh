#!/usr/bin/env bash
# The GPU session in one call of the device tool (one H200; image: PyTorch 2.11 + CUDA 13, nvcc, CMake, ninja,
# HF transformers; none of r1's Debian dependencies; no network). It builds the full r1 with CUDA kernels,
# checks the kernels, benchmarks them and the rollout against HF transformers, checks that HF loads r1's
# checkpoints with the same logits, and runs a short GRPO stage on the GPU. Each step is independent (a
# failed step does not stop the others; a step whose input is missing says so), logs to $OUT and appends one
# line to $OUT/summary.txt; a step that cannot finish inside the time budget is skipped with a line saying so.
# The last thing printed is the summary table.
#
# Here first: bash scripts/gpu-prep.sh (fills build-gpu-deps/). Then, through the device tool:
#   command "bash scripts/gpu-session.sh", carry ["build-gpu-deps"], timeout_s 540
# Other uses:
#   bash scripts/gpu-session.sh build test bench     only these steps (a warm machine keeps build-gpu/)
#   bash scripts/gpu-session.sh --rehearse           the same steps on this CPU machine at small sizes: the
#                                                    dependency prefix is configured and partly built against,
#                                                    r1 (build/cli/r1) runs the rollout and GRPO steps on CPU,
#                                                    the HF scripts are compiled and their inputs read
# Steps, in order (default: all): env deps configure build sass test gen-test bench rollout hf-rollout parity
# grpo memcheck. parity runs in the background from the start (it needs only Python and build-gpu-deps/hf_parity).
# Logs: build-gpu-session/ (build-rehearse-session/ for --rehearse); with OUT set (the device tool sets it),
# $OUT/summary.txt grows step by step and at the end $OUT gets bench.log, tests.log, rollout_r1.json,
# rollout_hf.json, parity.json and logs.tar.gz (every log): the tool brings back 8 files at most.
# Environment: R1_SESSION_BUDGET_S (default 550: the call's timeout_s 600 minus a margin for the summary and
# the transfers back), R1_BUILD_TARGETS (default "r1 r1_kernels_tests r1_model_tests"), R1_CMAKE_ARGS (extra
# configure arguments), R1_GRPO_DEVICE_KEY (default stages.rl.model.device), R1_ROLLOUT_VARIANTS (default
# "eager graph fp8-graph fp8-paged-graph": r1 bench rollout --variant, see cli/cmd_bench_rollout.cpp).
# Exit status: 0 when no step failed (skipped steps do not fail the session), 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REHEARSE=0
steps=()
for arg in "$@"; do
  case "$arg" in
    --rehearse) REHEARSE=1 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    -*) echo "gpu-session: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    *) steps+=("$arg") ;;
  esac
done
ALL_STEPS=(env deps configure build sass test gen-test bench rollout hf-rollout parity grpo memcheck)
[ ${#steps[@]} -eq 0 ] && steps=("${ALL_STEPS[@]}")
for s in "${steps[@]}"; do
  [[ " ${ALL_STEPS[*]} " == *" $s "* ]] || { echo "gpu-session: unknown step '$s' (${ALL_STEPS[*]})" >&2; exit 2; }
done

# Logs go to LOG on the machine; $OUT (the device tool's folder: at most 8 files come back) gets summary.txt
# as the steps go, and at the end the key results plus logs.tar.gz with everything (see finish()).
if [ "$REHEARSE" = 1 ]; then
  LOG=$ROOT/build-rehearse-session
  PREFIX=$ROOT/build-rehearse-prefix
  BUILD=$ROOT/build-rehearse
  R1=$ROOT/build/cli/r1                    # the CPU build runs the r1 steps
  KTESTS=$ROOT/build/tests/r1_kernels_tests
else
  LOG=$ROOT/build-gpu-session
  PREFIX=$ROOT/build-gpu-prefix
  BUILD=$ROOT/build-gpu
  R1=$BUILD/cli/r1
  KTESTS=$BUILD/tests/r1_kernels_tests
fi
MTESTS=$BUILD/tests/r1_model_tests
DEPS=$ROOT/build-gpu-deps
BUDGET=${R1_SESSION_BUDGET_S:-550}
CAP_SCALE=1
if [ "$REHEARSE" = 1 ]; then  # 2 shared cores instead of 16: no budget to speak of, 10x the step caps
  BUDGET=${R1_SESSION_BUDGET_S:-7200}
  CAP_SCALE=10
fi
JOBS=$(nproc)
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
KBENCH=("$R1" bench kernels)
OUTDIR=${OUT:-}
rm -rf "$LOG"
mkdir -p "$LOG"
: >"$LOG/summary.txt"
[ -n "$OUTDIR" ] && mkdir -p "$OUTDIR" && : >"$OUTDIR/summary.txt"
START=$SECONDS
FAILED=0

has() { [[ " ${steps[*]} " == *" $1 "* ]]; }
left() { echo $((BUDGET - (SECONDS - START))); }
# One summary line per step: name, status, seconds, note. Written at once, so a killed call keeps them.
record() {
  printf '%-10s %-8s %4ss  %s\n' "$1" "$2" "$3" "$4" | tee -a "$LOG/summary.txt"
  [ -n "$OUTDIR" ] && cp "$LOG/summary.txt" "$OUTDIR/summary.txt"
  return 0
}
# What comes back: 8 files at most. The results that matter as plain files, everything in logs.tar.gz.
finish() {
  [ -n "$OUTDIR" ] || return 0
  local f
  for f in summary.txt bench.log tests.log rollout_r1.json rollout_hf.json parity.json gen_tests.log; do
    [ -f "$LOG/$f" ] && cp "$LOG/$f" "$OUTDIR/"
  done
  tar -czf "$OUTDIR/logs.tar.gz" -C "$(dirname "$LOG")" "$(basename "$LOG")" 2>/dev/null
}
trap finish EXIT
trap 'echo "gpu-session: terminated"; exit 143' TERM INT
say() { echo "== $*"; }

# run_step NAME MIN_S CAP_S FUNCTION: runs FUNCTION when NAME is selected and at least MIN_S seconds of the
# budget are left, with STEP_LIMIT = min(CAP_S, time left) for its commands. FUNCTION sets NOTE and returns
# 0 (ok), 1 (failed) or 2 (skipped: NOTE says why).
run_step() {
  local name=$1 min=$2 cap=$(($3 * CAP_SCALE)) fn=$4
  has "$name" || return 0
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt "$min" ]; then
    record "$name" skipped 0 "time budget: ${remaining}s left, the step needs ~${min}s (R1_SESSION_BUDGET_S=$BUDGET)"
    return 0
  fi
  STEP_LIMIT=$((cap < remaining ? cap : remaining))
  NOTE=""
  local t0=$SECONDS rc
  say "$name (limit ${STEP_LIMIT}s)"
  "$fn"
  rc=$?
  case $rc in
    0) record "$name" ok $((SECONDS - t0)) "$NOTE" ;;
    2) record "$name" skipped $((SECONDS - t0)) "$NOTE" ;;
    *) record "$name" FAILED $((SECONDS - t0)) "$NOTE"; FAILED=1 ;;
  esac
}

# ---- env: what machine, which tools ----
s_env() {
  {
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
    "$NVCC" --version 2>&1 | tail -2
    python3 -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'transformers', transformers.__version__)" 2>&1
    cmake --version | head -1; ninja --version; g++ --version | head -1
    echo "cores $(nproc); pkg-config: $(command -v pkg-config || echo none); dpkg: $(command -v dpkg || echo none)"
    echo "compute-sanitizer: $(command -v compute-sanitizer || echo none); cuobjdump: $(command -v cuobjdump || echo none)"
    free -g | head -2
  } >"$LOG/env.txt" 2>&1
  cat "$LOG/env.txt"
  if [ "$REHEARSE" = 1 ]; then
    NOTE="rehearsal on $(nproc) cores (no GPU)"
  else
    NOTE=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
    NOTE="${NOTE:-no nvidia-smi}, $(nproc) cores, $(python3 -c 'import torch;print("torch", torch.__version__)' 2>/dev/null)"
  fi
}

# ---- deps: the carried .deb files, unpacked into a private prefix ----
s_deps() {
  compgen -G "$DEPS/debs/*.deb" >/dev/null || { NOTE="no $DEPS/debs/*.deb: run scripts/gpu-prep.sh here first"; return 1; }
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX/bin"
  local n=0 f
  for f in "$DEPS"/debs/*.deb; do
    dpkg -x "$f" "$PREFIX" || { NOTE="dpkg -x $(basename "$f") failed"; return 1; }
    n=$((n + 1))
  done
  # pkg-config files name /usr: point every variable that starts with /usr into the prefix.
  find "$PREFIX" -name '*.pc' -exec sed -i -E "s#^([A-Za-z_]+[[:space:]]*=[[:space:]]*)/usr#\\1$PREFIX/usr#" {} +
  if ! command -v pkg-config >/dev/null; then  # cmake/R1DepsPrefix.cmake picks this wrapper up
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$PREFIX/usr/lib/x86_64-linux-gnu" "$PREFIX/usr/bin/pkgconf" \
      >"$PREFIX/bin/pkg-config"
    chmod +x "$PREFIX/bin/pkg-config"
  fi
  NOTE="$n packages unpacked into $(basename "$PREFIX") ($(du -sh "$PREFIX" | cut -f1))"
}

# ---- configure + build: the full r1 (CUDA on the GPU machine; a CPU rehearsal against the prefix here) ----
s_configure() {
  [ -d "$PREFIX/usr" ] || { NOTE="no dependency prefix (step deps)"; return 1; }
  local args=(-S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DR1_DEPS_PREFIX="$PREFIX")
  if [ "$REHEARSE" = 0 ]; then
    local torch_prefix
    torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)') || { NOTE="python3 has no torch"; return 1; }
    # TORCH_CUDA_ARCH_LIST only keeps LibTorch's CMake from probing the GPU; r1's kernels are sm_90a.
    args+=(-DR1_CUDA=ON -DCMAKE_PREFIX_PATH="$torch_prefix" -DTORCH_CUDA_ARCH_LIST=9.0a
           -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_FLAGS=-Xptxas=-v)
  fi
  # shellcheck disable=SC2206
  args+=(${R1_CMAKE_ARGS:-})  # extra configure arguments, e.g. R1_CMAKE_ARGS=-DR1_CXX_STANDARD=20
  rm -rf "$BUILD"
  if ! timeout "$STEP_LIMIT" cmake "${args[@]}" >"$LOG/configure.log" 2>&1; then
    tail -30 "$LOG/configure.log"
    NOTE="cmake failed (configure.log)"
    return 1
  fi
  # Every dependency must come from the prefix, not from the system (here the system has them all too).
  # pkg_check_modules caches each library it resolved as pkgcfg_lib_<NAME>_<lib>: all must be in the prefix.
  local var bad=()
  for var in pkgcfg_lib_SENTENCEPIECE_ pkgcfg_lib_SECCOMP_ pkgcfg_lib_PCRE2_ pkgcfg_lib_ICU_ GMP_LIBRARY GMPXX_LIBRARY \
             GTest_DIR; do
    local lines
    lines=$(grep -E "^$var[^:]*:(FILEPATH|PATH)=" "$BUILD/CMakeCache.txt")
    if [ -z "$lines" ] || grep -qv "=$PREFIX/" <<<"$lines"; then bad+=("${var%_}"); fi
  done
  grep -q "C++20" "$LOG/configure.log" && echo "configure: LibTorch asks for C++20 (see configure.log)"
  if [ ${#bad[@]} -gt 0 ]; then
    NOTE="configured, but not from the prefix: ${bad[*]} (CMakeCache.txt)"
    return 1
  fi
  NOTE="$(grep -m1 -o 'Found Torch: [^ ]*' "$LOG/configure.log" || echo 'Torch found'); every dependency from the prefix"
}

s_build() {
  [ -f "$BUILD/build.ninja" ] || { NOTE="not configured (step configure)"; build_kernels_only; return 1; }
  local targets
  if [ "$REHEARSE" = 1 ]; then
    targets=${R1_BUILD_TARGETS:-r1_sentencepiece r1-sandbox-helper r1_tokenizer_tests}
  else
    targets=${R1_BUILD_TARGETS:-r1 r1_kernels_tests r1_model_tests}
  fi
  # shellcheck disable=SC2086
  if ! timeout "$STEP_LIMIT" cmake --build "$BUILD" -j"$JOBS" --target $targets >"$LOG/build.log" 2>&1; then
    grep -E "error|Error" "$LOG/build.log" | head -30
    NOTE="build of '$targets' failed (build.log)"
    build_kernels_only
    return 1
  fi
  [ "$REHEARSE" = 0 ] && python3 scripts/ptxas-summary.py "$LOG/build.log" >"$LOG/ptxas.txt" 2>&1
  NOTE="built $targets with $JOBS jobs; $(check_rpath)"
  [ "$REHEARSE" = 1 ] && rehearse_run_tokenizer_tests
  return 0
}

# The built binaries must load the prefix's libraries (DT_RPATH), not the system's.
check_rpath() {
  local f out=""
  for f in "$BUILD/cli/r1" "$BUILD/cli/libr1_sentencepiece.so" "$BUILD/tests/r1_tokenizer_tests"; do
    [ -f "$f" ] || continue
    local rpath libs
    rpath=$(readelf -d "$f" | grep -E 'RPATH|RUNPATH' | grep -c "$PREFIX")
    libs=$(ldd "$f" | grep -E 'libicu|libpcre2|libsentencepiece|libgmp|libseccomp' | grep -vc "$PREFIX")
    out+="$(basename "$f"): RPATH into prefix $([ "$rpath" -gt 0 ] && echo yes || echo NO), $libs libs from outside; "
  done
  echo "${out:-no binaries to check}"
}

rehearse_run_tokenizer_tests() {
  [ -x "$BUILD/tests/r1_tokenizer_tests" ] || return 0
  if timeout 300 "$BUILD/tests/r1_tokenizer_tests" >"$LOG/rehearse_tokenizer_tests.log" 2>&1; then
    echo "r1_tokenizer_tests (linked against the prefix): $(grep -E '^\[  PASSED  \]' "$LOG/rehearse_tokenizer_tests.log")"
  else
    echo "r1_tokenizer_tests against the prefix FAILED (rehearse_tokenizer_tests.log)"
    FAILED=1
  fi
}

# When the full build fails, the kernels-only project (kernels/standalone) still gives the kernel tests and
# the benchmark: it needs only PyTorch, nvcc and GoogleTest's sources (carried in the googletest .deb).
build_kernels_only() {
  [ "$REHEARSE" = 0 ] || return 0
  local gtest="$PREFIX/usr/src/googletest" kb="$ROOT/build-gpu-kernels"
  [ -f "$gtest/CMakeLists.txt" ] || { echo "no GoogleTest sources for the kernels-only build"; return 1; }
  echo "falling back to the kernels-only build (kernels/standalone)"
  if cmake -S kernels/standalone -B "$kb" -G Ninja -DCMAKE_BUILD_TYPE=Release -DR1_GTEST_SOURCE="$gtest" \
       -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')" \
       -DCMAKE_CUDA_COMPILER="$NVCC" >"$LOG/configure-kernels.log" 2>&1 &&
     timeout 300 cmake --build "$kb" -j"$JOBS" >"$LOG/build-kernels.log" 2>&1; then
    KTESTS=$kb/r1_kernels_tests
    KBENCH=("$kb/r1_bench_kernels")
    python3 scripts/ptxas-summary.py "$LOG/build-kernels.log" >"$LOG/ptxas.txt" 2>&1
    record build-k ok 0 "kernels-only fallback built: test, memcheck and bench use it; rollout and grpo need r1"
  else
    record build-k FAILED 0 "kernels-only fallback failed too (configure-kernels.log, build-kernels.log)"
  fi
}

# ---- sass: the instructions the kernels were written for ----
s_sass() {
  [ "$REHEARSE" = 0 ] || { NOTE="no CUDA objects in a rehearsal (scripts/check-cuda.sh compiles the kernels here)"; return 2; }
  local objs
  objs=$(find "$BUILD" "$ROOT/build-gpu-kernels" -path '*r1_kernels_cuda.dir*' -name '*.cu.o' 2>/dev/null | sort)
  [ -n "$objs" ] || { NOTE="no kernel objects (build failed?)"; return 1; }
  # QGMMA = wgmma e4m3, UTMALDG = TMA loads, HMMA = mma.sync (MLA decode), LDL/STL = local memory (spills).
  local obj base
  for obj in $objs; do
    base=$(basename "$obj" .cu.o)
    cuobjdump --dump-sass "$obj" >"$LOG/sass_$base.txt" 2>&1 || true
    printf '%-22s QGMMA %5s  UTMALDG %4s  HMMA %5s  LDL/STL %4s\n' "$base" "$(grep -c QGMMA "$LOG/sass_$base.txt")" \
      "$(grep -c UTMALDG "$LOG/sass_$base.txt")" "$(grep -c HMMA "$LOG/sass_$base.txt")" \
      "$(grep -cE '\b(LDL|STL)\b' "$LOG/sass_$base.txt")"
  done | tee "$LOG/sass.txt"
  rm -f "$LOG"/sass_*.txt  # the per-object dumps are large; the counts are what comes back
  NOTE="instruction counts in sass.txt"
}

# ---- test: the kernels suite (CPU references + CUDA parity cases) ----
s_test() {
  [ -x "$KTESTS" ] || { NOTE="no r1_kernels_tests binary"; return 1; }
  local rc=0
  timeout "$STEP_LIMIT" "$KTESTS" --gtest_output="xml:$LOG/tests.xml" >"$LOG/tests.log" 2>&1 || rc=$?
  # GoogleTest's closing lines: "[  PASSED  ] N tests.", "[  SKIPPED ] N tests, listed below:", "[  FAILED  ] N tests, ..."
  local passed skipped failed
  passed=$(grep -oE '^\[  PASSED  \] [0-9]+' "$LOG/tests.log" | grep -oE '[0-9]+$' || echo 0)
  skipped=$(grep -oE '^\[  SKIPPED \] [0-9]+ tests?,' "$LOG/tests.log" | grep -oE '[0-9]+' || echo 0)
  failed=$(grep -oE '^\[  FAILED  \] [0-9]+ tests?,' "$LOG/tests.log" | grep -oE '[0-9]+' || echo 0)
  NOTE="$passed passed, $failed failed, $skipped skipped"
  if [ "$rc" -ne 0 ]; then
    grep -E "Failure|FAILED|Expected|actual|Which is|error" "$LOG/tests.log" | head -40
    [ "$rc" -eq 124 ] && NOTE+=" (timed out)"
    return 1
  fi
  [ "$REHEARSE" = 1 ] && NOTE+=" (CPU build: the CUDA cases skip)"
  return 0
}

# ---- gen-test: generation on the GPU (FP8 rollout copy, paged MLA, CUDA-graph decode) vs the CPU references ----
s_gen_test() {
  [ "$REHEARSE" = 0 ] || { NOTE="the CudaGeneration cases need a GPU (their CPU twins run in the CPU suite)"; return 2; }
  [ -x "$MTESTS" ] || { NOTE="no r1_model_tests binary (build)"; return 1; }
  local rc=0
  timeout "$STEP_LIMIT" "$MTESTS" --gtest_filter='CudaGeneration.*' >"$LOG/gen_tests.log" 2>&1 || rc=$?
  grep -E '^\[ +(OK|FAILED|SKIPPED) |measured|Failure|Expected|Which is' "$LOG/gen_tests.log" | head -40
  NOTE="$(grep -c '^\[       OK \]' "$LOG/gen_tests.log") ok, $(grep -c '^\[  FAILED  \] Cuda' "$LOG/gen_tests.log") failed (gen_tests.log)"
  [ "$rc" -eq 0 ] || { [ "$rc" -eq 124 ] && NOTE+=" (timed out)"; return 1; }
}

# ---- memcheck: compute-sanitizer over the smaller parity cases ----
s_memcheck() {
  [ "$REHEARSE" = 0 ] || { NOTE="no GPU here"; return 2; }
  command -v compute-sanitizer >/dev/null || { NOTE="no compute-sanitizer on PATH"; return 2; }
  [ -x "$KTESTS" ] || { NOTE="no r1_kernels_tests binary"; return 1; }
  local filter='Fp8ConvertCuda.*:Fp8GemmCuda.SimplePath*:Fp8GemmCuda.TensorCore*:MoeCuda.Routing*:MoeCuda.Masked*:MlaDecodeCuda.MatchesReference*'
  if timeout "$STEP_LIMIT" compute-sanitizer --tool memcheck --error-exitcode 3 "$KTESTS" --gtest_filter="$filter" \
       >"$LOG/memcheck.log" 2>&1; then
    NOTE="clean: $(grep -m1 -o 'ERROR SUMMARY: [0-9]* errors' "$LOG/memcheck.log")"
    return 0
  fi
  grep -E "Invalid|ERROR|error" "$LOG/memcheck.log" | head -20
  NOTE="errors or timeout (memcheck.log): $(grep -m1 -o 'ERROR SUMMARY: [0-9]* errors' "$LOG/memcheck.log")"
  return 1
}

# ---- bench: r1 bench kernels beside cuBLAS bf16 and cuBLAS FP8 block-scaled (at::_scaled_mm) ----
s_bench() {
  [ -x "${KBENCH[0]}" ] || { NOTE="no ${KBENCH[0]}"; return 1; }
  local rc=0
  timeout "$STEP_LIMIT" "${KBENCH[@]}" >"$LOG/bench.log" 2>&1 || rc=$?
  if [ "$REHEARSE" = 1 ]; then
    if [ "$rc" -eq 1 ] && grep -q "runs on a CUDA GPU only" "$LOG/bench.log"; then
      NOTE="refuses on a CPU build, as it should: $(head -c 120 "$LOG/bench.log")"
      return 0
    fi
    NOTE="expected the CPU-build refusal, got status $rc (bench.log)"
    return 1
  fi
  sed -n '/^== ceilings/,/^== grouped/p' "$LOG/bench.log" | grep -v '^== grouped'
  sed -n '/^== targets/,$p' "$LOG/bench.log"
  [ "$rc" -eq 0 ] || { NOTE="status $rc (bench.log)"; return 1; }
  NOTE="$(grep -m1 'targets met' "$LOG/bench.log"); cuBLAS FP8 block: $(grep -c 'n/a' "$LOG/bench.log") n/a rows"
}

# ---- rollout: r1 bench rollout (Qwen2.5-0.5B and 8-layer DeepSeek-V2-Lite shapes; tiny ones in a rehearsal) ----
s_rollout() {
  [ -x "$R1" ] || { NOTE="no r1 binary ($R1)"; return 1; }
  local args=()
  if [ "$REHEARSE" = 1 ]; then
    args=(--device cpu --model tests/fixtures/models/qwen2_tiny/config.json
          --model tests/fixtures/models/deepseek_v3_tiny/config.json:2 --batch 4 --prompt-len 16 --new-tokens 8)
  fi
  local v
  for v in ${R1_ROLLOUT_VARIANTS:-eager graph fp8-graph fp8-paged-graph}; do args+=(--variant "$v"); done
  [ "$REHEARSE" = 1 ] && args=("${args[@]/graph/static}")  # no CUDA graphs on the CPU: the static loop instead
  if ! timeout "$STEP_LIMIT" "$R1" bench rollout "${args[@]}" --repeat 1 --json >"$LOG/rollout_r1.json" \
       2>"$LOG/rollout_r1.log"; then
    tail -5 "$LOG/rollout_r1.log"
    NOTE="r1 bench rollout failed (rollout_r1.log)"
    rm -f "$LOG/rollout_r1.json"
    return 1
  fi
  NOTE=$(python3 scripts/session_notes.py rollout "$LOG/rollout_r1.json")
  echo "$NOTE"
}

# ---- hf-rollout: HF transformers generate on the same shapes, and the comparison ----
s_hf_rollout() {
  if [ "$REHEARSE" = 1 ]; then
    python3 -m py_compile scripts/hf_rollout_bench.py && python3 scripts/hf_rollout_bench.py --help >/dev/null ||
      { NOTE="hf_rollout_bench.py does not compile or parse its arguments"; return 1; }
    NOTE="compiled, --help parsed; needs torch + transformers (GPU image) to run"
    return 0
  fi
  local compare=()
  [ -f "$LOG/rollout_r1.json" ] && compare=(--r1-json "$LOG/rollout_r1.json")
  if ! PYTHONUNBUFFERED=1 timeout "$STEP_LIMIT" python3 scripts/hf_rollout_bench.py --json "$LOG/rollout_hf.json" \
       "${compare[@]}" >"$LOG/rollout_hf.log" 2>&1; then
    tail -15 "$LOG/rollout_hf.log"
    NOTE="hf_rollout_bench.py failed (rollout_hf.log)"
    return 1
  fi
  grep -E '^\|' "$LOG/rollout_hf.log" | tail -4
  NOTE=$(python3 scripts/session_notes.py hf-rollout "$LOG/rollout_hf.json")
}

# ---- parity: HF loads r1's checkpoints, same logits and greedy ids (started in the background early) ----
PARITY_PID=""
start_parity() {
  has parity && [ "$REHEARSE" = 0 ] || return 0
  compgen -G "$DEPS/hf_parity/*/r1_reference.json" >/dev/null || return 0
  (PYTHONUNBUFFERED=1 timeout 300 python3 scripts/hf_parity.py check "$DEPS"/hf_parity/*/ --json "$LOG/parity.json" \
     >"$LOG/parity.log" 2>&1; echo $? >"$LOG/parity.rc") &
  PARITY_PID=$!
}
s_parity() {
  compgen -G "$DEPS/hf_parity/*/r1_reference.json" >/dev/null ||
    { NOTE="no $DEPS/hf_parity cases: run scripts/gpu-prep.sh (without --skip-parity) here first"; return 1; }
  if [ "$REHEARSE" = 1 ]; then
    python3 -m py_compile scripts/hf_parity.py || { NOTE="hf_parity.py does not compile"; return 1; }
    NOTE=$(python3 scripts/hf_parity.py verify "$DEPS"/hf_parity/*/) || { NOTE="the prepared cases do not read back: $NOTE"; return 1; }
    NOTE+="; the HF half needs torch + transformers (GPU image)"
    return 0
  fi
  [ -n "$PARITY_PID" ] || start_parity
  wait "$PARITY_PID" 2>/dev/null
  grep -E '^\||hf_parity' "$LOG/parity.log" | tail -8
  local rc
  rc=$(cat "$LOG/parity.rc" 2>/dev/null || echo 1)
  NOTE="$(grep -c '| PASS |' "$LOG/parity.log") of $(compgen -G "$DEPS/hf_parity/*/r1_reference.json" | wc -l) cases pass (parity.log)"
  [ "$rc" -eq 0 ]
}

# ---- grpo: a short GRPO stage with the model on the GPU, time per step ----
s_grpo() {
  [ -x "$R1" ] || { NOTE="no r1 binary ($R1)"; return 1; }
  local keys=(${R1_GRPO_DEVICE_KEY:-stages.rl.model.device}) device=cuda shrink=()
  if [ "$REHEARSE" = 1 ]; then
    device=cpu
    shrink=(--set stages.rl.steps=2 --set stages.rl.prompts_per_step=2 --set stages.rl.group_size=2
            --set stages.rl.sampling.max_new_tokens=8 --set stages.rl.model.dtype=float32)
  fi
  local key rc tried=() run_dir="$ROOT/runs/gpu_grpo_smoke"
  for key in "${keys[@]}"; do
    rm -rf "$run_dir"
    rc=0
    timeout "$STEP_LIMIT" "$R1" run recipes/gpu_grpo_smoke.json --set "$key=$device" "${shrink[@]}" --output "$run_dir" \
      --quiet >"$LOG/grpo.log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && break
    # An r1 without the key refuses the recipe at once; anything else is a real failure.
    if grep -qiE "unknown key|not a key|unexpected key" "$LOG/grpo.log" && grep -q "device" "$LOG/grpo.log"; then
      tried+=("$key")
      continue
    fi
    tail -15 "$LOG/grpo.log"
    NOTE="r1 run failed with --set $key=$device (grpo.log)"
    return 1
  done
  if [ "$rc" -ne 0 ]; then
    NOTE="skipped: this r1 has no device key for stages yet (tried ${tried[*]}: $(grep -m1 'error' "$LOG/grpo.log" | head -c 160))"
    if [ "$REHEARSE" = 1 ]; then  # still run the recipe (on the CPU) to rehearse the run and its notes
      rm -rf "$run_dir"
      if timeout "$STEP_LIMIT" "$R1" run recipes/gpu_grpo_smoke.json "${shrink[@]}" --output "$run_dir" --quiet \
           >"$LOG/grpo.log" 2>&1; then
        NOTE+="; without the key, on CPU: $(python3 scripts/session_notes.py grpo "$run_dir/metrics.jsonl" rl)"
      else
        NOTE+="; the recipe FAILED on CPU too (grpo.log)"
        return 1
      fi
    fi
    return 2
  fi
  cp "$run_dir/metrics.jsonl" "$LOG/grpo_metrics.jsonl" 2>/dev/null
  NOTE="--set $key=$device: $(python3 scripts/session_notes.py grpo "$run_dir/metrics.jsonl" rl)"
}

# ---- the session ----
echo "gpu-session: steps ${steps[*]}; budget ${BUDGET}s; logs in $LOG$([ "$REHEARSE" = 1 ] && echo '; REHEARSAL (CPU)')"
run_step env 5 30 s_env
run_step deps 10 60 s_deps
start_parity
run_step configure 30 120 s_configure
run_step build 60 360 s_build
run_step sass 10 30 s_sass
run_step test 20 120 s_test
run_step gen-test 20 90 s_gen_test
run_step bench 30 150 s_bench
run_step rollout 30 150 s_rollout
run_step hf-rollout 45 150 s_hf_rollout
run_step parity 5 120 s_parity
run_step grpo 30 90 s_grpo
run_step memcheck 30 120 s_memcheck
[ -n "$PARITY_PID" ] && kill "$PARITY_PID" 2>/dev/null

echo
echo "== summary ($((SECONDS - START)) s of ${BUDGET} s; logs in $LOG)"
[ -f "$LOG/bench.log" ] && sed -n '/^== targets/,$p' "$LOG/bench.log"
[ -f "$LOG/rollout_hf.log" ] && grep -A4 'r1 tokens/s' "$LOG/rollout_hf.log"
[ -f "$LOG/parity.log" ] && grep -E '^\|' "$LOG/parity.log"
echo "step       status   time  note"
cat "$LOG/summary.txt"
exit $FAILED
