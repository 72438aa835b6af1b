#!/usr/bin/env bash
# Checks, on this CPU machine, that r1 compiles against LibTorch 2.x as well as Debian 12's 1.13: the GPU
# session builds against the image's PyTorch 2.11, which cannot be installed here (no PyPI), so this takes the
# nearest LibTorch headers Debian has — libtorch-dev 2.6 (trixie) and 2.14 (sid), which bracket 2.11 — and
# syntax-checks every translation unit of the CPU build against each (scripts/check-torch-api.py: g++
# -fsyntax-only with the CPU build's flags, R1_WITH_CUDA=1 and the CUDA-only dispatch files added). 2.14's
# headers require C++20 (as CMake then builds: cmake/R1TorchStandard.cmake), so that pass is C++20.
# The headers come through apt with a private configuration (nothing is installed; /etc/apt is untouched) into
# build-torch2/ (ignored by git).
# Usage: bash scripts/check-libtorch2.sh [--jobs N] [--only REGEX]   (needs a configured CPU build in build/)
# Exit status: non-zero if any file fails against either version.
set -euo pipefail
cd "$(dirname "$0")/.."
W=build-torch2
mkdir -p "$W/apt/lists/partial" "$W/apt/cache/archives/partial" "$W/debs"
cat >"$W/apt/sources.list" <<'EOF'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
EOF
APT=(-o Dir::Etc::sourcelist="$PWD/$W/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
     -o Dir::State::Lists="$PWD/$W/apt/lists" -o Dir::Cache="$PWD/$W/apt/cache")
VERSIONS=(2.6.0+dfsg-7 2.14.1+dfsg-1)
STDS=(c++17 c++20)
need_download=0
for v in "${VERSIONS[@]}"; do [ -d "$W/torch-${v%%+*}/usr/include/ATen" ] || need_download=1; done
if [ "$need_download" = 1 ]; then
  apt-get "${APT[@]}" update -q >/dev/null
  for v in "${VERSIONS[@]}"; do
    (cd "$W/debs" && apt-get "${APT[@]}" download -q "libtorch-dev=$v" 2>&1 | grep -v "unsandboxed" || true)
    deb=$(compgen -G "$W/debs/libtorch-dev_${v}_*.deb" | head -1) || { echo "check-libtorch2: no libtorch-dev $v (gone from Debian?)"; exit 1; }
    rm -rf "$W/torch-${v%%+*}" && dpkg -x "$deb" "$W/torch-${v%%+*}"
  done
fi
status=0
for i in "${!VERSIONS[@]}"; do
  v=${VERSIONS[$i]%%+*}
  echo "== LibTorch $v headers, ${STDS[$i]}"
  python3 scripts/check-torch-api.py --torch-include "$W/torch-$v/usr/include" --std "${STDS[$i]}" \
    --out "$W/check-$v" "$@" || status=1
done
exit $status
