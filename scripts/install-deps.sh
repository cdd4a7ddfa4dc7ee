#!/usr/bin/env bash
# install-deps.sh — installs every Debian package tlbench uses. Idempotent; works as root or
# through sudo. The package list is the single place where dependencies are named.
#   install-deps.sh          everything: build, test, reports, cross builds, the fleet (make deps)
#   install-deps.sh board    what a board of a fleet needs to build and run tlbench, nothing
#                            for tests, reports or cross builds (make deps DEPS=board)
#   install-deps.sh board-libs  only the libraries tlbench runs with, for a board that gets
#                            a binary built elsewhere (no compiler installed)
set -euo pipefail

# The -dev packages stand for the libraries: their names are the same on every Debian and
# Ubuntu release, where the runtime packages' names carry sonames (libpapi7.0, libblis4...).
BOARD_LIBS=(
    libcsv-dev          # CSV reading/writing (required)
    libopenblas-dev     # openblas kernel (loaded with dlopen)
    libblis-dev         # blis kernel (loaded with dlopen)
    libpapi-dev         # hardware/software counters
    libcjson-dev        # safetensors config and headers; JSON output (sweep/bench/compare/info)
)
BOARD_PACKAGES=(build-essential pkg-config "${BOARD_LIBS[@]}")
PACKAGES=(
    "${BOARD_PACKAGES[@]}" git
    gnuplot-nox         # charts for reports
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # cross build for Raspberry Pi 5 / Jetson
    qemu-user           # runs the aarch64 tests (and x86 dispatch tests) on this host
    clang               # libFuzzer fuzz targets
    chromium            # headless render check of the report page (tests/t-report.sh)
    time                # /usr/bin/time -v: the outside measure of peak memory (tests/t-sweep.sh)
    python3             # tests parse the JSON and CSV outputs with the standard library
    ansible             # make fleet: drives the boards (tests/t-fleet.sh runs it)
    openssh-client openssh-server  # the fleet's transport; t-fleet.sh starts its own sshd
)

case "${1:-all}" in
    all) ;;
    board) PACKAGES=("${BOARD_PACKAGES[@]}") ;;
    board-libs) PACKAGES=("${BOARD_LIBS[@]}") ;;
    *) echo "install-deps: unknown set '$1' (all, board, board-libs)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# tlbench for Arm boards, cross-linked on an x86 host, needs the arm64 builds of the libraries
# it links (Debian multiarch: ~15 MB, ~30 s). Without them `make CROSS=aarch64-linux-gnu-`
# builds only the kernel tests. On an arm64 host these are the native packages.
add_arm64=0
if [ "${1:-all}" = all ]; then
    PACKAGES+=(libcsv-dev:arm64 libcjson-dev:arm64 libpapi-dev:arm64)
    if [ "$(dpkg --print-architecture)" != arm64 ] &&
       ! dpkg --print-foreign-architectures | grep -qx arm64; then
        add_arm64=1
    fi
fi

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
if [ "$add_arm64" = 1 ]; then $SUDO dpkg --add-architecture arm64; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
