#!/usr/bin/env bash
# t-blas-core.sh — a BLAS library's wrong guess about the CPU costs at most one kernel, never
# the run. Under `qemu-x86_64 -cpu qemu64` (an x86-64 CPU without AVX, AMD family 15 without
# 3DNow!) OpenBLAS picks its Opteron core, whose sgemm dies of SIGILL; with OPENBLAS_CORETYPE
# unset, `tlbench kernels --check` must still pass there, the openblas kernel running a core
# tlbench chose and saying so. Natively OpenBLAS's own choice is kept. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
if [ "$(uname -m)" != x86_64 ]; then echo "skip blas_core: x86-64 host needed"; exit 0; fi
if [ ! -x "$T" ]; then echo "FAIL blas_core: $T not built"; exit 1; fi
native=$(env -u OPENBLAS_CORETYPE "$T" info 2>/dev/null | grep '^kernel.openblas')
if ! grep -q usable <<<"$native" || grep -q 'not usable' <<<"$native"; then
    echo "skip blas_core: OpenBLAS is not usable here: $native"; exit 0
fi
if grep -q 'set by tlbench' <<<"$native"; then
    fail blas_core_native_choice_kept "$native"
else ok blas_core_native_choice_kept; fi
if ! command -v qemu-x86_64 >/dev/null 2>&1; then
    echo "skip blas_core_qemu64: qemu-x86_64 not installed (Debian package qemu-user)"; exit 0
fi
if grep -q __asan_init "$T"; then
    echo "skip blas_core_qemu64: $T is an AddressSanitizer build, which cannot run under qemu-user"
    exit 0
fi
out=$(env -u OPENBLAS_CORETYPE timeout 300 qemu-x86_64 -cpu qemu64 "$T" kernels --check \
      --kernel openblas --quant f32,q4_0 -t 1 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q '^ok openblas f32' <<<"$out" && grep -q '^ok openblas q4_0' <<<"$out"; then
    ok blas_core_qemu64_check_passes
else fail blas_core_qemu64_check_passes "exit $rc: $(tail -3 <<<"$out" | tr '\n' ' ')"; fi
info=$(env -u OPENBLAS_CORETYPE timeout 120 qemu-x86_64 -cpu qemu64 "$T" info 2>/dev/null | grep '^kernel.openblas')
if grep -q 'usable;.*set by tlbench: OpenBLAS.s own choice [A-Za-z0-9]* dies of SIGILL' <<<"$info"; then
    ok blas_core_qemu64_says_why
else fail blas_core_qemu64_says_why "$info"; fi
