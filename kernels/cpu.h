/* cpu.h — run-time CPU feature detection for kernel dispatch: cpuid + xgetbv on x86 (a feature
 * counts only when the OS saves its register state), getauxval(AT_HWCAP/AT_HWCAP2) on aarch64.
 * TLBENCH_CPU_MASK="avx512f,avxvnni" (or "all") hides features so tests and users can pretend
 * they are absent; it is read at first use. cpu.c is compiled without ISA flags. */
#ifndef TLB_CPU_H
#define TLB_CPU_H

#include <stddef.h>

enum tlb_cpu_feature {
    TLB_CPU_AVX,
    TLB_CPU_AVX2,
    TLB_CPU_FMA,
    TLB_CPU_F16C,
    TLB_CPU_AVXVNNI,
    TLB_CPU_AVX512F,
    TLB_CPU_AVX512BW,
    TLB_CPU_AVX512VL,
    TLB_CPU_AVX512DQ,
    TLB_CPU_AVX512VNNI,
    TLB_CPU_AVX512BF16,
    TLB_CPU_AVX512VBMI,
    TLB_CPU_NEON,
    TLB_CPU_DOTPROD,
    TLB_CPU_FP16,
    TLB_CPU_I8MM,
    TLB_CPU_SVE,
    TLB_CPU_FEATURE_COUNT
};

/* 1 when the feature is detected, enabled by the OS, and not masked by TLBENCH_CPU_MASK. */
int tlb_cpu_has(enum tlb_cpu_feature f);
/* Lower-case name as used in TLBENCH_CPU_MASK: "avx512vnni", "dotprod", ...; "?" if invalid. */
const char *tlb_cpu_feature_name(enum tlb_cpu_feature f);
/* Usable features, space-separated ("" when none), truncated to n bytes. */
void tlb_cpu_features_string(char *buf, size_t n);
/* The detected features TLBENCH_CPU_MASK removed, space-separated, or "". */
const char *tlb_cpu_mask_string(void);
/* Check every feature in mask (TLB_CPU_* bits); 0 when all are usable, else -1 with
 * "<who> needs <feature>, not available on this CPU" (or "... masked by TLBENCH_CPU_MASK")
 * written to why. */
int tlb_cpu_require(unsigned mask, const char *who, char *why, size_t why_len);
#define TLB_CPU_BIT(f) (1u << (f))

/* Tests only: forget the cached detection so the next call re-reads TLBENCH_CPU_MASK. */
void tlb_cpu_redetect(void);

#endif
