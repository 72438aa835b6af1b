#!/usr/bin/env bash
# Configures and builds r1 (Release, Ninja) into ./build. Extra arguments go to cmake's configure step,
# e.g. scripts/build.sh -DR1_CUDA=ON -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
# R1_BUILD_TARGET=r1 builds only the command-line tool (what scripts/run-tiny.sh needs), not the test suites.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)" ${R1_BUILD_TARGET:+--target "$R1_BUILD_TARGET"}
