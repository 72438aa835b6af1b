#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite: installs dependencies (apt), builds
# everything, runs CTest. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DR1_BUILD_TESTS=ON  # ON again after a scripts/run-tiny.sh build turned it off
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
