#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the built-in default job. Installs dependencies, builds r1,
# then runs the tiny pipeline (see README). Extra arguments are passed to the r1 command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/cli/r1 --help
