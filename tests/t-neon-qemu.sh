#!/usr/bin/env bash
# t-neon-qemu.sh — the neon kernel tested on an x86 host: cross-builds the aarch64 kernel tests
# (and tlbench when libcsv for arm64 is installed) into <BUILD_DIR>-aarch64, then runs them under
# qemu-aarch64 as a Cortex-A72 (no dotprod: the vmull_s8 fallback must be used and pass) and a
# Cortex-A76 (dotprod: vdotq_s32 must be used and pass). Skips when the cross compiler or qemu
# is missing. Usage: t-neon-qemu.sh BUILD_DIR (the native build dir; the cross one is derived).
set -u
build=${1:-build}
xbuild=${build%/}-aarch64
cross=aarch64-linux-gnu-
sysroot=/usr/aarch64-linux-gnu

if [ "$(uname -m)" = aarch64 ]; then
    echo "skip neon_qemu: this host is aarch64; test-neon and test-kernels run natively"
    exit 0
fi
if ! command -v "${cross}gcc" >/dev/null 2>&1; then
    echo "skip neon_qemu: ${cross}gcc not installed (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
    exit 0
fi
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
    echo "skip neon_qemu: qemu-aarch64 not installed (Debian: qemu-user)"
    exit 0
fi
if [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
    echo "skip neon_qemu: no aarch64 C library in $sysroot (Debian: libc6-dev-arm64-cross)"
    exit 0
fi

# A clean sub-make: `make test`'s MAKEFLAGS (and, for command-line variables, the
# environment) carry its BUILD/CFLAGS (e.g. `make sanitize`'s AddressSanitizer flags, whose
# shadow memory does not fit qemu-user), which must not leak into the cross build. Without arm64 libcsv the Makefile builds the
# kernel tests only (KERNEL_ONLY); with it, tlbench too.
start=$(date +%s)
if ! out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u CFLAGS -u LDFLAGS -u OPT \
           make -s -j2 CROSS="$cross" BUILD="$xbuild" all kernel-tests 2>&1); then
    echo "FAIL neon_cross_build: make CROSS=$cross BUILD=$xbuild failed:"
    tail -15 <<<"$out" | sed 's/^/    /'
    exit 1
fi
echo "ok neon_cross_build ($xbuild, $(($(date +%s) - start)) s)"
have_tlbench=0
[ -x "$xbuild/tlbench" ] && have_tlbench=1

# -L: the cross sysroot supplies ld.so and libc. LD_LIBRARY_PATH=/lib (which qemu resolves
# inside the sysroot first) keeps ld.so and libc from the SAME glibc: when Debian multiarch
# libc6:arm64 is installed too (for libcsv-dev:arm64), ld.so would otherwise find that newer
# libc in /lib/aarch64-linux-gnu and pthread_create hangs. Other libraries (libcsv) are
# then found in the multiarch directories as usual.
qrun() { # qrun CPU PROGRAM ARGS... (environment passed with -E in QENV)
    local cpu=$1
    shift
    timeout 240 qemu-aarch64 -L "$sysroot" -E LD_LIBRARY_PATH=/lib "${QENV[@]}" -cpu "$cpu" "$@"
}

# report TAG: pass the binary's ok/FAIL/skip lines through as "<status> qemu_<tag>_<name>",
# and turn a non-zero exit without a FAIL line (crash, timeout) into one. Kernels that cannot
# exist in this emulated binary (x86-only ones; BLAS, absent from the arm64 sysroot) become
# one comment line instead of skips that nobody can fix.
report() {
    local tag=$1 moot
    moot=$(grep -E '^skip [a-z0-9]+_[a-z0-9_]+: (x86-only kernel|OpenBLAS not found|BLIS not found)' <<<"$out" |
           sed -E 's/^skip ([a-z0-9]+)_.*/\1/' | sort -u | tr '\n' ' ')
    [ -n "$moot" ] && echo "# qemu_${tag}: not applicable here: ${moot}"
    grep -vE '^skip [a-z0-9]+_[a-z0-9_]+: (x86-only kernel|OpenBLAS not found|BLIS not found)' <<<"$out" |
        sed -nE "s/^(ok|FAIL|skip) /\1 qemu_${tag}_/p"
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then
        echo "FAIL qemu_${tag}: exited with status $rc (crash or timeout)"
    fi
}

expect() { # expect NAME PATTERN (in $out)
    if grep -qE "$2" <<<"$out"; then echo "ok $1"; else echo "FAIL $1: no line matching '$2'"; fi
}

for cpu in cortex-a72 cortex-a76; do
    case $cpu in
    cortex-a72) tag=a72 dotprod=0 path='vmull_s8 fallback' ;;
    cortex-a76) tag=a76 dotprod=1 path='dotprod \(vdotq_s32\)' ;;
    esac

    # test-neon: the integer path matches the CPU model, both paths match naive
    QENV=(-E "TLB_EXPECT_DOTPROD=$dotprod")
    out=$(qrun "$cpu" "$xbuild/tests/test-neon" 2>&1)
    rc=$?
    report "${tag}"
    expect "qemu_${tag}_neon_path" "^# neon: .*${path}"

    # test-kernels, reduced shape set: every usable kernel (tiled, neon) against naive
    if [ -x "$xbuild/tests/test-kernels" ]; then
        QENV=(-E TLB_KERNEL_TEST_QUICK=1)
        out=$(qrun "$cpu" "$xbuild/tests/test-kernels" odd_shapes 2>&1)
        rc=$?
        report "${tag}"
        expect "qemu_${tag}_neon_tested" '^ok neon_q4_0_odd'
    else
        echo "skip qemu_${tag}_kernels: $xbuild/tests/test-kernels not built"
    fi

    # the cross-built tlbench itself: runs, and lists neon with the right path
    if [ "$have_tlbench" = 1 ]; then
        QENV=()
        out=$(qrun "$cpu" "$xbuild/tlbench" info 2>&1)
        rc=$?
        if [ "$rc" -eq 0 ]; then
            expect "qemu_${tag}_tlbench_info_neon" "^kernel\.neon +usable;.*${path}"
        else
            echo "FAIL qemu_${tag}_tlbench_info_neon: tlbench info exited with status $rc"
        fi
    else
        echo "skip qemu_${tag}_tlbench: no libcsv for arm64, so no aarch64 tlbench (Debian: make deps)"
    fi
done
echo "# neon qemu tests: $(($(date +%s) - start)) s"
exit 0
