#!/usr/bin/env bash
# Installs the dependencies of r1 from Debian 12 packages. Idempotent: packages already present are skipped by
# apt; safe to run on every CI start. Needs root (or sudo).
#   scripts/install-deps.sh              what building r1 and its tests needs (scripts/test.sh, CI)
#   scripts/install-deps.sh --main-job   only what building and running r1 needs (scripts/run-tiny.sh): no test
#                                        frameworks, no clang (fuzzing), ~60 MB less to download and unpack
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config g++
  libtorch-dev libopenblas0-openmp libgloo-dev
  libsentencepiece-dev rapidjson-dev libboost-dev libboost-filesystem-dev
  libcli11-dev libpcre2-dev libicu-dev libgmp-dev libseccomp-dev
  python3
  libpython3-dev  # sandbox: the helper embeds /usr/bin/python3's libpython (the Python zygote)
)
if [[ "${1:-}" != "--main-job" ]]; then
  PKGS+=(
    git libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
    python3-jinja2  # tests/tokenizer/chat_metadata_test.cpp renders r1's chat templates as HF transformers does
  )
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
