#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the built-in default job: installs dependencies, builds r1,
# then runs the tiny R1-Zero pipeline (recipes/tiny_r1_zero.json: arithmetic corpus -> tokenizer -> base
# pretraining of a ~2M-parameter DeepSeek-V3-architecture model -> R1-Zero GRPO -> before/after table).
# The run directory is runs/tiny_r1_zero (an existing one is resumed). Extra arguments go to `r1 run`,
# e.g. --set stages.rl.steps=10 or --output DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --main-job
R1_BUILD_TARGET=r1 bash scripts/build.sh -DR1_BUILD_TESTS=OFF
args=()
if [[ -f runs/tiny_r1_zero/state.json && " $* " != *" --output "* ]]; then args+=(--resume); fi
./build/cli/r1 run recipes/tiny_r1_zero.json "${args[@]}" "$@"
