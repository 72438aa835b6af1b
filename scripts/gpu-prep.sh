#!/usr/bin/env bash
# Prepares, on this CPU machine (Debian 12, apt mirrors reachable), everything scripts/gpu-session.sh needs on
# the GPU machine — whose image has PyTorch 2.11 + CUDA 13 (nvcc, CMake, ninja, transformers) but none of r1's
# Debian dependencies and no network — into build-gpu-deps/ (ignored by git through /build*/):
#   debs/        Debian 12 .deb files, runtime and -dev, fetched with `apt-get download`: RapidJSON, CLI11,
#                PCRE2, ICU, GMP, libseccomp, sentencepiece, GoogleTest (+ its sources, for the kernels-only
#                fallback build) and pkgconf. The session unpacks them with `dpkg -x` into a private prefix
#                (never into /) that CMake reads through -DR1_DEPS_PREFIX (cmake/R1DepsPrefix.cmake).
#                Boost is not carried: nothing in r1 includes it.
#   hf_parity/   four tiny r1-trained, r1-saved checkpoints with r1's logits and greedy ids on fixed inputs
#                (scripts/hf_parity.py prepare; needs the CPU build's r1 binary).
#   SIZES.txt    bytes carried (this folder) and travelling (the repository's files), against the device
#                tool's 64 MiB limit.
# Usage: bash scripts/gpu-prep.sh [--r1 build/cli/r1] [--skip-parity]
# Then the device tool, from the checkout the session runs in (docs/kernels.md, "The GPU session"):
#   command "bash scripts/gpu-session.sh", carry ["build-gpu-deps"], timeout_s 540.
set -euo pipefail
cd "$(dirname "$0")/.."
R1_BIN=build/cli/r1
PARITY=1
while [ $# -gt 0 ]; do
  case "$1" in
    --r1) R1_BIN=$2; shift 2 ;;
    --skip-parity) PARITY=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gpu-prep: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

DEPS=build-gpu-deps
# Runtime libraries and their -dev packages (headers, .so links, .pc files, CMake configs). One line per
# dependency of CMakeLists.txt; pkgconf in case the image has no pkg-config.
PKGS=(
  rapidjson-dev
  libcli11-dev
  libpcre2-dev libpcre2-8-0
  libicu-dev libicu72
  libgmp-dev libgmp10 libgmpxx4ldbl
  libseccomp-dev libseccomp2
  libsentencepiece-dev libsentencepiece0
  libgtest-dev libgmock-dev googletest
  pkgconf-bin libpkgconf3
)

rm -rf "$DEPS/debs"
mkdir -p "$DEPS/debs"
echo "gpu-prep: apt-get download ${#PKGS[@]} packages"
# _apt cannot write into this folder; downloading as root works and apt only warns about it.
(cd "$DEPS/debs" && apt-get download -q "${PKGS[@]}" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
missing=()
for p in "${PKGS[@]}"; do
  compgen -G "$DEPS/debs/${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "gpu-prep: FAILED: no .deb for ${missing[*]} (apt-get update first?)" >&2
  exit 1
fi

if [ "$PARITY" = 1 ]; then
  [ -x "$R1_BIN" ] || { echo "gpu-prep: FAILED: $R1_BIN not built (cmake --build build --target r1), or --skip-parity" >&2; exit 1; }
  python3 scripts/hf_parity.py prepare --r1 "$R1_BIN" --out "$DEPS/hf_parity"
fi

carried=$(du -sb "$DEPS" | cut -f1)
repo=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=${untracked:-0}
total=$((carried + repo + untracked))
{
  echo "build-gpu-deps (carried): $carried bytes ($(du -sh "$DEPS" | cut -f1))"
  du -sb "$DEPS"/* | sed 's/^/  /'
  echo "repository files (tracked): $repo bytes; untracked, not ignored: $untracked bytes"
  echo "total travelling: $total bytes = $((total / 1048576)) MiB of the device tool's 64 MiB"
} | tee "$DEPS/SIZES.txt"
if [ "$total" -gt $((60 * 1048576)) ]; then
  echo "gpu-prep: FAILED: $((total / 1048576)) MiB would travel; the device tool takes 64 MiB at most" >&2
  exit 1
fi
echo "gpu-prep: ready. Device tool: command 'bash scripts/gpu-session.sh', carry [\"$DEPS\"], timeout_s 540"
