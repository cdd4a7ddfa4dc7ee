/* avx512x16.c — the avx512 kernel with activations in 16 bits, as llama.cpp multiplies f16 and
 * bf16 weights: for those two weight types X is rounded once per matmul to the weights' type
 * (round to nearest even), and decode (m = 1) reads it as such, half the bytes of f32. The
 * 5632-wide X row then takes 11 KiB instead of 22 and stays in L1 beside the W rows streamed
 * past it (one Zen 4 core, f16 2048 x 5632: 26.6 GB/s with X in f32, 30.0 with X in f16, six
 * interleaved rounds). X keeps 11 (f16) or 8 (bf16) significant bits, so results change: auto
 * never picks this kernel, kernel-check compares it with the product of the rounded X, and a
 * sweep's kld_mean shows what the rounding costs. Prefill (m > 1) rounds X the same way and
 * runs the avx512 kernel on it, so every matmul of a run (and the teacher-forced accuracy
 * pass, which is one) sees the same activations. Only f16 and bf16 weights. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernel.h"
#include "util.h"

extern const struct tlb_kernel tlb_kernel_avx512;

#if defined(__x86_64__)

#include <immintrin.h>

#include "isa-target.h"

#define ISA "avx,avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"
TLB_TARGET_PUSH(ISA)

#define INLINE static inline __attribute__((always_inline))

struct x16_state {
    void *base;    /* the avx512 kernel's state, for prefill */
    int dp;        /* bf16 decode with vdpbf16ps (AVX512-BF16) */
    char *buf;     /* decode: X rounded to 16 bits, k rounded up to 32 (zeros past k);
                    * prefill: X rounded, as f32 values, then one such 16-bit row */
    size_t cap;    /* bytes */
};

/* 16 values of 16-bit type as f32 (bf16: the bits shifted up; f16: F16C). */
INLINE __m512 load16(const int bf16, const uint16_t *p, __mmask16 mask, int masked) {
    const __m256i h = masked ? _mm256_maskz_loadu_epi16(mask, p)
                             : _mm256_loadu_si256((const __m256i *)(const void *)p);
    return bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))
                : _mm512_cvtph_ps(h);
}

/* nf W rows far apart (w + f * stride) against the 16-bit X, side by side as avx512's fdec
 * (more DRAM reads in flight, each X load serving nf rows); out[f * ostride]. */
#define XMAX 6
INLINE void hdec(const int bf16, const int nf, const uint16_t *xh, const char *w, size_t stride,
                 int64_t len, float *out, size_t ostride) {
    __m512 acc[XMAX][2];
    for (int f = 0; f < nf; f++) acc[f][0] = acc[f][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= len; c += 32) {
        const __m512 x0 = load16(bf16, xh + c, 0, 0), x1 = load16(bf16, xh + c + 16, 0, 0);
        for (int f = 0; f < nf; f++) {
            const uint16_t *r = (const uint16_t *)(const void *)(w + (size_t)f * stride);
            acc[f][0] = _mm512_fmadd_ps(x0, load16(bf16, r + c, 0, 0), acc[f][0]);
            acc[f][1] = _mm512_fmadd_ps(x1, load16(bf16, r + c + 16, 0, 0), acc[f][1]);
        }
    }
    for (; c < len; c += 16) {
        const __mmask16 mask = len - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (len - c)) - 1);
        const __m512 x0 = load16(bf16, xh + c, 0, 0); /* zeros past k */
        for (int f = 0; f < nf; f++) {
            const uint16_t *r = (const uint16_t *)(const void *)(w + (size_t)f * stride);
            acc[f][0] = _mm512_fmadd_ps(x0, load16(bf16, r + c, mask, 1), acc[f][0]);
        }
    }
    for (int f = 0; f < nf; f++)
        out[(size_t)f * ostride] = _mm512_reduce_add_ps(_mm512_add_ps(acc[f][0], acc[f][1]));
}

/* bf16 decode with the CPU's bf16 dot product (AVX512-BF16 vdpbf16ps, where present), as
 * llama.cpp's: each lane adds the products of a pair of consecutive weights and X values, so
 * one instruction takes 32 weights as they are stored and 32 X values, where hdec widens both
 * to f32 first. Fewer instructions per byte let one core keep more of its stream in flight
 * (on a Zen 4 core a row's DRAM time and its instructions' time add up). The instruction
 * reads denormal bf16 as zero and flushes denormal sums (its fixed DAZ/FTZ); inline asm as in
 * avx512.c (no -mavx512bf16 in ISA), run only when the CPU has it. */
INLINE __m512 dpbf16(__m512 acc, __m512i w, __m512i x) {
    __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(w), "v"(x));
    return acc;
}

INLINE void bdot(const int nf, const uint16_t *xh, const char *w, size_t stride, int64_t len,
                 float *out, size_t ostride) {
    __m512 acc[XMAX];
    for (int f = 0; f < nf; f++) acc[f] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= len; c += 32) {
        const __m512i xv = _mm512_load_si512((const void *)(xh + c));
        for (int f = 0; f < nf; f++)
            acc[f] = dpbf16(acc[f], _mm512_loadu_si512((const void *)(w + (size_t)f * stride + (size_t)c * 2)), xv);
    }
    if (c < len) { /* X is zero past k; the row's last values masked */
        const __mmask32 mask = ((__mmask32)1 << (len - c)) - 1;
        const __m512i xv = _mm512_load_si512((const void *)(xh + c));
        for (int f = 0; f < nf; f++)
            acc[f] = dpbf16(acc[f], _mm512_maskz_loadu_epi16(mask, w + (size_t)f * stride + (size_t)c * 2), xv);
    }
    for (int f = 0; f < nf; f++) out[(size_t)f * ostride] = _mm512_reduce_add_ps(acc[f]);
}

typedef void (*hdec_fn)(const uint16_t *, const char *, size_t, int64_t, float *, size_t);
#define BDOTF(NF)                                                                              \
    static void bdot_##NF(const uint16_t *xh, const char *w, size_t stride, int64_t len,       \
                          float *out, size_t ostride) {                                        \
        bdot(NF, xh, w, stride, len, out, ostride);                                            \
    }
BDOTF(1)
BDOTF(6)
#define HDECF(B, NF)                                                                           \
    static void hdec_##B##_##NF(const uint16_t *xh, const char *w, size_t stride, int64_t len, \
                                float *out, size_t ostride) {                                  \
        hdec(B, NF, xh, w, stride, len, out, ostride);                                         \
    }
HDECF(0, 1)
HDECF(0, 6)
HDECF(1, 1)
HDECF(1, 6)

/* X (k values) to f16 (F16C, round to nearest even) or bf16 (tlb_f32_to_bf16's rounding,
 * NaN kept quiet), 16 at a time: a tlb_f32_to_f16 call per value took 4.4 us for k = 2048
 * and 12.2 for 5632 on one Zen 4 core (0.09 and 0.21 this way), against 20 us for a whole
 * 256x2048 f16 decode with W in cache. */
static void round_x(const int bf16, const float *x, int64_t k, uint16_t *xh) {
    for (int64_t c = 0; c < k; c += 16) {
        const __mmask16 mask = k - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - c)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(mask, x + c);
        __m256i h;
        if (bf16) {
            const __m512i u = _mm512_castps_si512(v);
            const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
            __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd)), 16);
            const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
            h = _mm512_cvtepi32_epi16(r);
        } else {
            h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        }
        _mm256_mask_storeu_epi16(xh + c, mask, h);
    }
}

/* 16-bit X back to f32 values (exact). */
static void widen_x(const int bf16, const uint16_t *xh, int64_t k, float *x) {
    for (int64_t c = 0; c < k; c += 16) {
        const __mmask16 mask = k - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - c)) - 1);
        _mm512_mask_storeu_ps(x + c, mask, load16(bf16, xh + c, mask, 1));
    }
}

#define UNIT 4 /* W rows per unit of the row split */

struct job {
    float *y;
    const uint16_t *xh;
    const struct tlb_tensor *w;
    long units, n_chunks;
    int bf16, dp;
};

/* One chunk of whole units: 6 streams of h rows each, the rest one row at a time. */
static void chunk(void *arg, long c, int thread) {
    (void)thread;
    const struct job *j = arg;
    long l, h;
    tlb_split_range(j->units, (int)c, (int)j->n_chunks, &l, &h);
    const int64_t n = j->w->rows, k = j->w->cols;
    int64_t lo = (int64_t)l * UNIT;
    const int64_t hi = (int64_t)h * UNIT < n ? (int64_t)h * UNIT : n;
    const size_t rb = tlb_type_row_bytes(j->w->type, k);
    const char *w = j->w->data;
    const hdec_fn many = j->dp ? bdot_6 : j->bf16 ? hdec_1_6 : hdec_0_6,
                  one = j->dp ? bdot_1 : j->bf16 ? hdec_1_1 : hdec_0_1;
    const int64_t per = hi > lo ? (hi - lo) / XMAX : 0;
    for (int64_t i = 0; i < per; i++)
        many(j->xh, w + (size_t)(lo + i) * rb, (size_t)per * rb, k, j->y + lo + i, (size_t)per);
    for (lo += XMAX * per; lo < hi; lo++) one(j->xh, w + (size_t)lo * rb, 0, k, j->y + lo, 0);
}

/* The state's scratch, at least bytes long (64-byte aligned, contents not kept); NULL when it
 * cannot be allocated (message printed). */
static char *scratch(struct x16_state *s, size_t bytes) {
    if (bytes > s->cap) {
        char *p = tlb_alloc_aligned(bytes, "avx512x16 activations");
        if (!p) return NULL;
        tlb_free_aligned(s->buf);
        s->buf = p;
        s->cap = bytes;
    }
    return s->buf;
}

static int x16_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                      const struct tlb_tensor *w, int m) {
    struct x16_state *s = state;
    const int bf16 = w->type == TLB_TYPE_BF16;
    if (w->type != TLB_TYPE_F16 && !bf16) return tlb_kernel_avx512.matmul(s->base, pool, y, x, w, m);
    const int64_t k = w->cols;
    const size_t need = ((size_t)k + 31) / 32 * 32; /* 16-bit X, padded with zeros */
    if (m > 1) { /* prefill: the avx512 kernel on X rounded the same way (exactly as values) */
        size_t xf_bytes;
        if (tlb_mul_size((size_t)m * sizeof(float), (size_t)k, &xf_bytes) ||
            xf_bytes > SIZE_MAX - need * sizeof(uint16_t)) {
            tlb_error("avx512x16: activation size overflows");
            return -1;
        }
        char *p = scratch(s, xf_bytes + need * sizeof(uint16_t));
        if (!p) return -1;
        float *xf = (float *)(void *)p;
        uint16_t *xh = (uint16_t *)(void *)(p + xf_bytes);
        for (int r = 0; r < m; r++) {
            round_x(bf16, x + (size_t)r * (size_t)k, k, xh);
            widen_x(bf16, xh, k, xf + (size_t)r * (size_t)k);
        }
        return tlb_kernel_avx512.matmul(s->base, pool, y, xf, w, m);
    }
    uint16_t *xh = (uint16_t *)(void *)scratch(s, need * sizeof(uint16_t));
    if (!xh) return -1;
    round_x(bf16, x, k, xh);
    memset(xh + k, 0, (need - (size_t)k) * sizeof *xh);
    struct job j = {y, xh, w, (long)((w->rows + UNIT - 1) / UNIT), 0, bf16, bf16 && s->dp};
    const size_t unit_bytes = tlb_type_row_bytes(w->type, k) * UNIT;
    j.n_chunks = tlb_kernel_chunk_count(j.units, unit_bytes, tlb_pool_size(pool));
    tlb_pool_run_chunks(pool, j.n_chunks, chunk, &j);
    return 0;
}

TLB_TARGET_POP()

/* ---- descriptor (baseline code) ---- */

static int x16_probe(char *why, size_t why_len) {
    return tlb_kernel_avx512.probe(why, why_len);
}

static int x16_init(void **state, struct tlb_pool *pool) {
    struct x16_state *s = tlb_calloc(1, sizeof *s, "avx512x16 state");
    if (!s) return -1;
    if (tlb_kernel_avx512.init && tlb_kernel_avx512.init(&s->base, pool) != 0) {
        free(s);
        return -1;
    }
    s->dp = tlb_cpu_has(TLB_CPU_AVX512BF16);
    *state = s;
    return 0;
}

static void x16_release(void *state) {
    struct x16_state *s = state;
    if (!s) return;
    if (tlb_kernel_avx512.release) tlb_kernel_avx512.release(s->base);
    tlb_free_aligned(s->buf);
    free(s);
}

static const char *x16_version(void *state) {
    const struct x16_state *s = state;
    const int dp = s ? s->dp : tlb_cpu_has(TLB_CPU_AVX512BF16);
    return dp ? "avx512 on activations rounded to f16/bf16; bf16 decode with vdpbf16ps"
              : "avx512 on activations rounded to f16/bf16";
}

static size_t x16_scratch(void *state) {
    const struct x16_state *s = state;
    if (!s) return 0;
    return s->cap +
           (tlb_kernel_avx512.scratch_bytes ? tlb_kernel_avx512.scratch_bytes(s->base) : 0);
}

const struct tlb_kernel tlb_kernel_avx512x16 = {
    .name = "avx512x16",
    .summary = "avx512 on activations rounded to 16 bits, as llama.cpp (f16/bf16 weights "
               "only; changes results, never auto)",
    .wtypes = TLB_TYPE_BIT(TLB_TYPE_F16) | TLB_TYPE_BIT(TLB_TYPE_BF16),
    .priority = 1,
    .probe = x16_probe,
    .init = x16_init,
    .release = x16_release,
    .matmul = x16_matmul,
    .version = x16_version,
    .scratch_bytes = x16_scratch,
};

#else /* not an x86-64 build */

static int x16_probe(char *why, size_t why_len) {
    snprintf(why, why_len, "x86-only kernel (this binary is not built for x86-64)");
    return -1;
}

static int x16_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                      const struct tlb_tensor *w, int m) {
    (void)state, (void)pool, (void)y, (void)x, (void)w, (void)m;
    tlb_error("avx512x16 kernel is not available in this build");
    return -1;
}

const struct tlb_kernel tlb_kernel_avx512x16 = {
    .name = "avx512x16",
    .summary = "avx512 on activations rounded to 16 bits: not built into this binary",
    .wtypes = TLB_TYPE_BIT(TLB_TYPE_F16) | TLB_TYPE_BIT(TLB_TYPE_BF16),
    .priority = 1,
    .probe = x16_probe,
    .matmul = x16_matmul,
};

#endif
