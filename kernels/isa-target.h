/* isa-target.h — compile a region of a kernel file for instructions beyond the build's
 * baseline, so a kernel file carries its own ISA and the Makefile has no per-file flags:
 *
 *     TLB_TARGET_PUSH("avx2,fma,f16c")
 *     ... every function here may use those instructions ...
 *     TLB_TARGET_POP()
 *
 * Code in the region must only run after the kernel's probe found the features (the probe
 * and the descriptor stay outside it). Include <immintrin.h> (or the other intrinsics
 * headers) before the region. GCC's target pragma also defines the ISA macros (__AVX2__ ...)
 * inside the region; clang's attribute region does not, so test __x86_64__, not those. */
#ifndef TLB_ISA_TARGET_H
#define TLB_ISA_TARGET_H

#define TLB_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define TLB_TARGET_PUSH(isa) \
    TLB_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define TLB_TARGET_POP() TLB_PRAGMA(clang attribute pop)
#else
#define TLB_TARGET_PUSH(isa) TLB_PRAGMA(GCC push_options) TLB_PRAGMA(GCC target(isa))
#define TLB_TARGET_POP() TLB_PRAGMA(GCC pop_options)
#endif

#endif
