/* cpu.c — CPU feature detection (see cpu.h). x86: cpuid leaves 1 and 7 plus xgetbv, so a
 * feature counts only when the OS saves the YMM/ZMM state it needs (as BLIS and OpenBLAS
 * check; a hypervisor may hide AVX-512 state). aarch64: getauxval. Built WITHOUT ISA flags:
 * this code runs before we know which instructions are safe. */
#include "cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

static const char *const names[TLB_CPU_FEATURE_COUNT] = {
    [TLB_CPU_AVX] = "avx",           [TLB_CPU_AVX2] = "avx2",
    [TLB_CPU_FMA] = "fma",           [TLB_CPU_F16C] = "f16c",
    [TLB_CPU_AVXVNNI] = "avxvnni",   [TLB_CPU_AVX512F] = "avx512f",
    [TLB_CPU_AVX512BW] = "avx512bw", [TLB_CPU_AVX512VL] = "avx512vl",
    [TLB_CPU_AVX512DQ] = "avx512dq", [TLB_CPU_AVX512VNNI] = "avx512vnni",
    [TLB_CPU_AVX512BF16] = "avx512bf16", [TLB_CPU_AVX512VBMI] = "avx512vbmi",
    [TLB_CPU_NEON] = "neon",         [TLB_CPU_DOTPROD] = "dotprod",
    [TLB_CPU_FP16] = "fp16",         [TLB_CPU_I8MM] = "i8mm",
    [TLB_CPU_SVE] = "sve",
};

#define BIT(f) TLB_CPU_BIT(f)
/* Masking a base feature also hides what cannot run without it (AVX2 code needs AVX state). */
#define AVX512_ALL (BIT(TLB_CPU_AVX512F) | BIT(TLB_CPU_AVX512BW) | BIT(TLB_CPU_AVX512VL) | \
                    BIT(TLB_CPU_AVX512DQ) | BIT(TLB_CPU_AVX512VNNI) | BIT(TLB_CPU_AVX512BF16) | \
                    BIT(TLB_CPU_AVX512VBMI))
#define AVX_ALL (BIT(TLB_CPU_AVX) | BIT(TLB_CPU_AVX2) | BIT(TLB_CPU_FMA) | BIT(TLB_CPU_F16C) | \
                 BIT(TLB_CPU_AVXVNNI) | AVX512_ALL)
#define NEON_ALL (BIT(TLB_CPU_NEON) | BIT(TLB_CPU_DOTPROD) | BIT(TLB_CPU_FP16) | \
                  BIT(TLB_CPU_I8MM) | BIT(TLB_CPU_SVE))

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int detected;          /* guarded by mu */
static unsigned have;         /* usable after masking */
static unsigned hw;           /* detected, OS-enabled */
static char removed[256];     /* names of detected features the mask removed */
static int warned;            /* unknown-name error printed once per process */

#if defined(__x86_64__) || defined(__i386__)
static unsigned detect_hw(void) {
    unsigned a, b, c, d, r = 0;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    const unsigned max_leaf = a;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned l1c = c;
    unsigned xcr0 = 0;
    if (l1c & (1u << 27)) { /* OSXSAVE: xgetbv is allowed */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = lo;
    }
    const int ymm = (xcr0 & 0x6) == 0x6;   /* XMM + YMM state */
    const int zmm = ymm && (xcr0 & 0xe0) == 0xe0; /* opmask + ZMM_Hi256 + Hi16_ZMM */
    if (!ymm) return 0;
    if (l1c & (1u << 28)) r |= BIT(TLB_CPU_AVX);
    if (l1c & (1u << 12)) r |= BIT(TLB_CPU_FMA);
    if (l1c & (1u << 29)) r |= BIT(TLB_CPU_F16C);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        const unsigned l7b = b, l7c = c, l7max = a;
        unsigned l71a = 0;
        if (l7max >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            l71a = a;
        }
        if (l7b & (1u << 5)) r |= BIT(TLB_CPU_AVX2);
        if (l71a & (1u << 4)) r |= BIT(TLB_CPU_AVXVNNI);
        if (zmm) {
            if (l7b & (1u << 16)) r |= BIT(TLB_CPU_AVX512F);
            if (l7b & (1u << 17)) r |= BIT(TLB_CPU_AVX512DQ);
            if (l7b & (1u << 30)) r |= BIT(TLB_CPU_AVX512BW);
            if (l7b & (1u << 31)) r |= BIT(TLB_CPU_AVX512VL);
            if (l7c & (1u << 1)) r |= BIT(TLB_CPU_AVX512VBMI);
            if (l7c & (1u << 11)) r |= BIT(TLB_CPU_AVX512VNNI);
            if (l71a & (1u << 5)) r |= BIT(TLB_CPU_AVX512BF16);
        }
    }
    /* Nothing AVX-based is usable without AVX itself; nothing AVX-512 without AVX512F. */
    if (!(r & BIT(TLB_CPU_AVX))) r &= ~AVX_ALL;
    if (!(r & BIT(TLB_CPU_AVX512F))) r &= ~AVX512_ALL;
    return r;
}
#elif defined(__aarch64__) && defined(__linux__)
/* Fallbacks for old headers (values from the Linux uapi asm/hwcap.h). */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1ul << 1)
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1ul << 9)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1ul << 10)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1ul << 20)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1ul << 22)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1ul << 13)
#endif
static unsigned detect_hw(void) {
    const unsigned long h = getauxval(AT_HWCAP), h2 = getauxval(AT_HWCAP2);
    unsigned r = 0;
    if (h & HWCAP_ASIMD) r |= BIT(TLB_CPU_NEON);
    if (h & HWCAP_ASIMDDP) r |= BIT(TLB_CPU_DOTPROD);
    if ((h & HWCAP_FPHP) && (h & HWCAP_ASIMDHP)) r |= BIT(TLB_CPU_FP16);
    if (h & HWCAP_SVE) r |= BIT(TLB_CPU_SVE);
    if (h2 & HWCAP2_I8MM) r |= BIT(TLB_CPU_I8MM);
    if (!(r & BIT(TLB_CPU_NEON))) r = 0;
    return r;
}
#else
static unsigned detect_hw(void) { return 0; }
#endif

/* Parse TLBENCH_CPU_MASK into a feature set (with the features that depend on each). */
static unsigned parse_mask(const char *s) {
    unsigned m = 0;
    char tok[64];
    while (s && *s) {
        size_t len = strcspn(s, ", ");
        if (len > 0) {
            int found = 0;
            if (len < sizeof tok) {
                memcpy(tok, s, len);
                tok[len] = '\0';
                if (strcmp(tok, "all") == 0) {
                    m = ~0u;
                    found = 1;
                }
                for (int f = 0; f < TLB_CPU_FEATURE_COUNT && !found; f++) {
                    if (strcmp(tok, names[f]) == 0) {
                        m |= BIT(f);
                        found = 1;
                    }
                }
            }
            if (!found && !warned) {
                tlb_error("TLBENCH_CPU_MASK: unknown CPU feature '%.*s' ignored (known: avx "
                          "avx2 fma f16c avxvnni avx512f avx512bw avx512vl avx512dq avx512vnni "
                          "avx512bf16 neon dotprod fp16 i8mm sve, or all)",
                          (int)(len < 40 ? len : 40), s);
                warned = 1;
            }
        }
        s += len;
        while (*s == ',' || *s == ' ') s++;
    }
    if (m & BIT(TLB_CPU_AVX)) m |= AVX_ALL;
    if (m & BIT(TLB_CPU_AVX512F)) m |= AVX512_ALL;
    if (m & BIT(TLB_CPU_NEON)) m |= NEON_ALL;
    return m;
}

/* Caller holds mu. */
static void detect_locked(void) {
    if (detected) return;
    hw = detect_hw();
    const unsigned mask = parse_mask(getenv("TLBENCH_CPU_MASK"));
    have = hw & ~mask;
    removed[0] = '\0';
    size_t off = 0;
    for (int f = 0; f < TLB_CPU_FEATURE_COUNT; f++) {
        if ((hw & mask & BIT(f)) && off < sizeof removed) {
            int w = snprintf(removed + off, sizeof removed - off, "%s%s", off ? " " : "",
                             names[f]);
            if (w > 0) off += (size_t)w;
        }
    }
    detected = 1;
}

static unsigned usable_set(void) {
    pthread_mutex_lock(&mu);
    detect_locked();
    unsigned r = have;
    pthread_mutex_unlock(&mu);
    return r;
}

int tlb_cpu_has(enum tlb_cpu_feature f) {
    if ((unsigned)f >= TLB_CPU_FEATURE_COUNT) return 0;
    return (usable_set() & BIT(f)) != 0;
}

const char *tlb_cpu_feature_name(enum tlb_cpu_feature f) {
    return (unsigned)f < TLB_CPU_FEATURE_COUNT ? names[f] : "?";
}

void tlb_cpu_features_string(char *buf, size_t n) {
    if (!buf || n == 0) return;
    const unsigned u = usable_set();
    size_t off = 0;
    buf[0] = '\0';
    for (int f = 0; f < TLB_CPU_FEATURE_COUNT && off < n; f++) {
        if (!(u & BIT(f))) continue;
        int w = snprintf(buf + off, n - off, "%s%s", off ? " " : "", names[f]);
        if (w < 0) break;
        off += (size_t)w;
    }
}

const char *tlb_cpu_mask_string(void) {
    pthread_mutex_lock(&mu);
    detect_locked();
    pthread_mutex_unlock(&mu);
    return removed; /* written once per detection, under mu */
}

int tlb_cpu_require(unsigned mask, const char *who, char *why, size_t why_len) {
    pthread_mutex_lock(&mu);
    detect_locked();
    const unsigned u = have, h = hw;
    pthread_mutex_unlock(&mu);
    for (int f = 0; f < TLB_CPU_FEATURE_COUNT; f++) {
        if (!(mask & BIT(f)) || (u & BIT(f))) continue;
        if (why && why_len)
            snprintf(why, why_len, "%s needs %s, %s", who, names[f],
                     (h & BIT(f)) ? "masked by TLBENCH_CPU_MASK" : "not available on this CPU");
        return -1;
    }
    return 0;
}

void tlb_cpu_redetect(void) {
    pthread_mutex_lock(&mu);
    detected = 0;
    pthread_mutex_unlock(&mu);
}
