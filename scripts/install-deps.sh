#!/usr/bin/env bash
# Installs every build and test dependency of r1 from Debian 12 packages. Idempotent: packages already
# present are skipped by apt; safe to run on every CI start. Needs root (or sudo).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp libgloo-dev
  libsentencepiece-dev rapidjson-dev libboost-dev libboost-filesystem-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libpcre2-dev libicu-dev libgmp-dev libseccomp-dev
  python3 g++ clang libclang-rt-14-dev
  libpython3-dev  # sandbox: the helper embeds /usr/bin/python3's libpython (the Python zygote)
  python3-jinja2  # tests/tokenizer/chat_metadata_test.cpp renders r1's chat templates as HF transformers does
)
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
