#!/usr/bin/env bash
# t-dispatch.sh — x86 kernel dispatch on CPUs we do not have: tests/test-kernels under
# qemu-x86_64 -cpu Haswell (AVX2+FMA+F16C, no AVX-512; qemu 7.2's TCG has no AVX-VNNI, so
# avx2 runs its vpmaddubsw path) and -cpu qemu64 (no AVX: only tiled and naive usable), with
# the shape set reduced (TLB_KERNEL_TEST_QUICK=1). Natively: TLBENCH_CPU_MASK=avx512f makes
# `tlbench kernels` refuse avx512 and name the masked feature. Usage: t-dispatch.sh BUILD_DIR
set -u
build=${1:-build}
bin=$build/tests/test-kernels
tlb=$build/tlbench

if [ "$(uname -m)" != x86_64 ]; then
    echo "skip dispatch: x86-64 host needed (this is $(uname -m))"
    exit 0
fi
if [ ! -x "$bin" ]; then
    echo "FAIL dispatch: $bin not built"
    exit 1
fi

# --- natively: a masked feature makes its kernel unusable, with the reason ---
if [ -x "$tlb" ]; then
    out=$(TLBENCH_CPU_MASK=avx512f "$tlb" kernels --check --kernel avx512 --quant q4_0 -t 1 2>&1)
    if grep -q "^skip avx512 q4_0: avx512 kernel needs avx512f, masked by TLBENCH_CPU_MASK" <<<"$out" ||
       grep -q "^skip avx512 q4_0: avx512 kernel needs avx512f, not available" <<<"$out"; then
        echo "ok dispatch_mask_avx512f_native"
    else
        echo "FAIL dispatch_mask_avx512f_native: $(head -3 <<<"$out" | tr '\n' ' ')"
    fi
else
    echo "skip dispatch_mask_avx512f_native: $tlb not built"
fi

if ! command -v qemu-x86_64 >/dev/null 2>&1; then
    echo "skip dispatch_qemu: qemu-x86_64 not installed (Debian package qemu-user)"
    exit 0
fi
if grep -q __asan_init "$bin"; then # its shadow memory does not fit qemu-user's address space
    echo "skip dispatch_qemu: $bin is an AddressSanitizer build, which cannot run under qemu-user"
    exit 0
fi

# run_cpu CPU FILTER: test-kernels under qemu, its output in $out, its status in $rc. Only
# our kernels: Debian's OpenBLAS picks its Haswell code on qemu64 and dies of SIGILL.
run_cpu() {
    out=$(TLB_KERNEL_TEST_QUICK=1 TLB_KERNEL_TEST_ONLY=tiled,avx2,avx512 \
          timeout 150 qemu-x86_64 -cpu "$1" "$bin" "$2" 2>/dev/null)
    rc=$?
}

expect() { # expect NAME PATTERN (in $out)
    if grep -qE "$2" <<<"$out"; then echo "ok $1"; else echo "FAIL $1: no line matching '$2'"; fi
}

no_fail() { # no_fail NAME
    local f
    f=$(grep -E '^FAIL ' <<<"$out" | head -3 | tr '\n' ' ')
    if [ -n "$f" ] || [ "$rc" -ne 0 ]; then
        echo "FAIL $1: status $rc ${f:-(no FAIL line: crashed or timed out)}"
    else
        echo "ok $1"
    fi
}

# Haswell: AVX2 but no AVX-512
run_cpu Haswell odd_shapes
no_fail dispatch_haswell_kernels_match_naive
expect dispatch_haswell_avx512_refused '^skip avx512_odd: avx512 kernel needs avx512f, not available on this CPU'
expect dispatch_haswell_avx2_q4_0 '^ok avx2_q4_0_odd'
expect dispatch_haswell_avx2_f16 '^ok avx2_f16_odd'
run_cpu Haswell dispatch
no_fail dispatch_haswell_selection
expect dispatch_haswell_auto_is_avx2 '^# auto: avx2$'

# qemu64: no AVX at all
run_cpu qemu64 odd_shapes
no_fail dispatch_qemu64_kernels_match_naive
expect dispatch_qemu64_avx2_refused '^skip avx2_odd: avx2 kernel needs avx, not available on this CPU'
expect dispatch_qemu64_avx512_refused '^skip avx512_odd: avx512 kernel needs avx, not available on this CPU'
expect dispatch_qemu64_tiled_q8_0 '^ok tiled_q8_0_odd'
run_cpu qemu64 dispatch
no_fail dispatch_qemu64_selection
expect dispatch_qemu64_auto_not_simd '^# auto: (tiled|naive|openblas|blis)$'
exit 0
