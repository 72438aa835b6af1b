#!/usr/bin/env bash
# Prepares, on this (CPU) machine, what scripts/gpu-session.sh needs on a GPU machine that has PyTorch,
# nvcc and CMake but no network and no GoogleTest: a copy of the GoogleTest sources in build-gpu-deps/
# (ignored by git through /build*/). Then run, through the device tool:
#   command: bash scripts/gpu-session.sh all        carry: ["build-gpu-deps"]
set -euo pipefail
cd "$(dirname "$0")/.."
src=${R1_GTEST_SOURCE:-/usr/src/googletest}
[ -f "$src/CMakeLists.txt" ] || { echo "gpu-prep: no GoogleTest sources at $src (apt-get install googletest)"; exit 1; }
rm -rf build-gpu-deps/googletest
mkdir -p build-gpu-deps
cp -r "$src" build-gpu-deps/googletest
echo "gpu-prep: build-gpu-deps/googletest ready ($(du -sh build-gpu-deps | cut -f1)); carry build-gpu-deps"
