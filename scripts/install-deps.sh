#!/usr/bin/env bash
# install-deps.sh — installs every Debian package tlbench uses. Idempotent; works as root or
# through sudo. The package list is the single place where dependencies are named.
set -euo pipefail

PACKAGES=(
    build-essential pkg-config git
    libcsv-dev          # CSV reading/writing (required)
    libopenblas-dev     # openblas kernel (loaded with dlopen)
    libblis-dev         # blis kernel (loaded with dlopen)
    libpapi-dev         # hardware/software counters
    libcjson-dev        # safetensors config and headers
    gnuplot-nox         # charts for reports
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # cross build for Raspberry Pi 5 / Jetson
    qemu-user           # runs the aarch64 tests (and x86 dispatch tests) on this host
    clang               # libFuzzer fuzz targets
)

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
