/* avx512.c — x86 AVX-512 kernel (AVX512F/BW/VL/DQ + FMA + F16C; VNNI vpdpbusd when the CPU
 * has it, else vpmaddubsw/vpmaddwd). Float weights: dot-form register tiles (up to 4 X rows x
 * 6 W rows of zmm accumulators), f16/bf16 converted exactly in registers (or once per block
 * into an f32 tile when m > 4), so results equal naive's up to summation order. q8_0/q4_0:
 * X quantized once per matmul to q8_0 (bit-exact with the reference), two blocks per zmm,
 * 4 X rows x 4 W rows per tile so each weight load serves 4 rows of X. No AVX512-BF16
 * vdpbf16ps: it would round X to bf16 (~1e-5 relative error vs naive) for no decode gain.
 * Compiled with its own ISA flags (Makefile); on other builds it is a stub whose probe says
 * why. VNNI is emitted with inline asm so the file needs no -mavx512vnni: the compiler can
 * then never place a VNNI instruction on the non-VNNI path. */
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernel.h"
#include "util.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512VL__) && defined(__AVX512DQ__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

#define QMR 4     /* X rows per quantized tile */
#define QNR 4     /* W rows per quantized tile */
#define QKC 128   /* blocks per k chunk when m > 1: 4 X rows x 4 KiB stay in L1 */
#define QNB 64    /* W rows per block when m > 1 (64 x 4 KiB q8_0 chunk: L2) */
#define FMR 4     /* X rows per float tile */
#define FNR 6     /* W rows per float tile: 24 accumulators + 4 X + 1 W of 32 zmm */
#define FKC 2048  /* k per float chunk when m > 4: 4 X rows x 8 KiB in L1 */
#define FNB 24    /* W rows per converted f32 tile: 24 x 2048 x 4 = 192 KiB (L2) */
#define TILE_BYTES ((size_t)FNB * FKC * sizeof(float))

struct avx512_state {
    uint8_t *xq;     /* quantized X: (m, xstride) bytes, then (m, dstride) float scales */
    size_t xq_cap;
    float *tiles;    /* per-thread f32 tiles for f16/bf16 weights with m > 4 */
    int n_tiles;
    int vnni;        /* use vpdpbusd (decided at init from tlb_cpu_has) */
};

/* ---- VNNI without -mavx512vnni: acc += sum of 4 (u8 a * s8 b) per 32-bit lane ---- */
INLINE __m512i dpbusd(__m512i acc, __m512i a_u8, __m512i b_s8) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a_u8), "v"(b_s8));
    return acc;
}

/* ---- activations: q8_0, bit-exact with tlb_quantize_row_q8_0 ---- */

/* roundf (half away from zero) of |v| < 2^23: trunc(v) + trunc(2 * frac(v)). */
INLINE __m512i round_away(__m512 v) {
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 fr2 = _mm512_mul_ps(_mm512_sub_ps(v, t), _mm512_set1_ps(2.0f));
    return _mm512_cvttps_epi32(
        _mm512_add_ps(t, _mm512_roundscale_ps(fr2, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)));
}

/* One row: quants to q (xstride bytes, padded with zero quants), scales to d (padded with 0).
 * offset: store q + 128 as u8 (the VNNI operand form). */
static void quantize_row(const float *x, int64_t k, uint8_t *q, size_t xstride, float *d,
                         size_t dstride, int offset) {
    const int64_t nb = k / 32;
    const __m128i flip = _mm_set1_epi8(offset ? (char)0x80 : 0);
    for (int64_t b = 0; b < nb; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + b * 32), v1 = _mm512_loadu_ps(x + b * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float dv = amax / 127.0f;
        const float id = dv != 0.0f ? 1.0f / dv : 0.0f;
        d[b] = _cvtsh_ss(_cvtss_sh(dv, _MM_FROUND_TO_NEAREST_INT)); /* == tlb_f32_to_f16 */
        const __m512 vid = _mm512_set1_ps(id);
        const __m128i q0 = _mm512_cvtepi32_epi8(round_away(_mm512_mul_ps(v0, vid)));
        const __m128i q1 = _mm512_cvtepi32_epi8(round_away(_mm512_mul_ps(v1, vid)));
        _mm_storeu_si128((__m128i *)(void *)(q + b * 32), _mm_xor_si128(q0, flip));
        _mm_storeu_si128((__m128i *)(void *)(q + b * 32 + 16), _mm_xor_si128(q1, flip));
    }
    memset(q + nb * 32, offset ? 0x80 : 0, xstride - (size_t)nb * 32);
    for (size_t b = (size_t)nb; b < dstride; b++) d[b] = 0.0f;
}

/* ---- quantized weights ---- */

/* Two consecutive blocks (the second absent when half) of a q8_0 or q4_0 row as 64 signed
 * quants (q4_0: q - 8), and their scales as [d0 x8 | d1 x8] matching dpbusd's lanes. */
INLINE __m512i load_wq(const uint8_t *w, int q4, int half) {
    if (!q4) {
        const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(w + 2));
        const __m256i hi = half ? _mm256_setzero_si256()
                                : _mm256_loadu_si256((const __m256i *)(const void *)(w + 36));
        return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    const __m128i n0 = _mm_loadu_si128((const __m128i *)(const void *)(w + 2));
    const __m128i n1 = half ? _mm_setzero_si128()
                            : _mm_loadu_si128((const __m128i *)(const void *)(w + 20));
    const __m512i z = _mm512_castsi256_si512(_mm256_set_m128i(n1, n0));
    /* [n0, n0, n1, n1]; odd 128-bit lanes take the high nibbles (elements 16..31) */
    const __m512i dup = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(1, 1, 0, 0));
    const __m512i sh = _mm512_srlv_epi64(dup, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
    return _mm512_sub_epi8(_mm512_and_si512(sh, _mm512_set1_epi8(0x0f)), _mm512_set1_epi8(8));
}

INLINE __m512 load_ws(const uint8_t *w, int q4, int half) {
    uint16_t d0, d1 = 0;
    memcpy(&d0, w, 2);
    if (!half) memcpy(&d1, w + (q4 ? 18 : 34), 2);
    return _mm512_cvtph_ps(_mm256_set_m128i(_mm_set1_epi16((short)d1), _mm_set1_epi16((short)d0)));
}

/* [d[0] x8 | d[1] x8] */
INLINE __m512 load_xs(const float *d) {
    const __m512 two = _mm512_castps128_ps512(_mm_castpd_ps(_mm_load_sd((const double *)(const void *)d)));
    return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), two);
}

/* One step of two blocks for an mr x nr tile. X quants are u8 (q + 128) on the VNNI path,
 * s8 otherwise. VNNI: sum (x + 128) w - 128 sum w, the correction computed once per W load.
 * Otherwise: |w| * (x with w's sign), which cannot saturate vpmaddubsw (|w| <= 128,
 * |x| <= 127). */
INLINE void qstep(const int mr, const int nr, const int vnni, const int q4, const int half,
                  const uint8_t *const *xr, const float *const *xd, const uint8_t *const *wr,
                  int64_t b, __m512 acc[QMR][QNR]) {
    const size_t bsz = q4 ? 18 : 34;
    __m512i xv[QMR];
    __m512 xs[QMR];
    for (int r = 0; r < mr; r++) {
        xv[r] = _mm512_loadu_si512((const void *)(xr[r] + b * 32));
        xs[r] = load_xs(xd[r] + b);
    }
    for (int j = 0; j < nr; j++) {
        const uint8_t *w = wr[j] + (size_t)b * bsz;
        const __m512i wq = load_wq(w, q4, half);
        const __m512 ws = load_ws(w, q4, half);
        if (vnni) {
            const __m512i corr = _mm512_sub_epi32(
                _mm512_setzero_si512(),
                dpbusd(_mm512_setzero_si512(), _mm512_set1_epi8((char)0x80), wq));
            for (int r = 0; r < mr; r++) {
                const __m512i t = dpbusd(corr, xv[r], wq);
                acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(ws, xs[r]),
                                            acc[r][j]);
            }
        } else {
            const __m512i aw = _mm512_abs_epi8(wq);
            const __mmask64 neg = _mm512_movepi8_mask(wq);
            for (int r = 0; r < mr; r++) {
                const __m512i sx = _mm512_mask_sub_epi8(xv[r], neg, _mm512_setzero_si512(), xv[r]);
                const __m512i t = _mm512_madd_epi16(_mm512_maddubs_epi16(aw, sx),
                                                    _mm512_set1_epi16(1));
                acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(ws, xs[r]),
                                            acc[r][j]);
            }
        }
    }
}

/* out[r][j] = sum over nblk blocks of X row r . W row j (pointers at the first block). */
INLINE void qtile(const int mr, const int nr, const int vnni, const int q4,
                  const uint8_t *const *xr, const float *const *xd, const uint8_t *const *wr,
                  int64_t nblk, float out[QMR][QNR]) {
    __m512 acc[QMR][QNR];
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) acc[r][j] = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= nblk; b += 2) qstep(mr, nr, vnni, q4, 0, xr, xd, wr, b, acc);
    if (b < nblk) qstep(mr, nr, vnni, q4, 1, xr, xd, wr, b, acc);
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) out[r][j] = _mm512_reduce_add_ps(acc[r][j]);
}

typedef void (*qtile_fn)(const uint8_t *const *, const float *const *, const uint8_t *const *,
                         int64_t, float[QMR][QNR]);
#define QTILE(MR, V, Q4)                                                                      \
    static void qtile_##MR##_##V##_##Q4(const uint8_t *const *xr, const float *const *xd,     \
                                        const uint8_t *const *wr, int64_t nblk,               \
                                        float out[QMR][QNR]) {                                \
        qtile(MR, QNR, V, Q4, xr, xd, wr, nblk, out);                                         \
    }
#define QTILES(V, Q4) QTILE(1, V, Q4) QTILE(2, V, Q4) QTILE(3, V, Q4) QTILE(4, V, Q4)
QTILES(0, 0)
QTILES(0, 1)
QTILES(1, 0)
QTILES(1, 1)
#define QROW(V, Q4) {qtile_1_##V##_##Q4, qtile_2_##V##_##Q4, qtile_3_##V##_##Q4, qtile_4_##V##_##Q4}
static const qtile_fn qtiles[2][2][QMR] = {{QROW(0, 0), QROW(0, 1)}, {QROW(1, 0), QROW(1, 1)}};

/* ---- float weights ---- */

enum { WT_F32, WT_F16, WT_BF16 };

INLINE __m512 load_wf(const int wt, const void *w, int64_t c, __mmask16 mask, int masked) {
    if (wt == WT_F32) {
        const float *p = (const float *)w + c;
        return masked ? _mm512_maskz_loadu_ps(mask, p) : _mm512_loadu_ps(p);
    }
    const uint16_t *p = (const uint16_t *)w + c;
    const __m256i h = masked ? _mm256_maskz_loadu_epi16(mask, p)
                             : _mm256_loadu_si256((const __m256i *)(const void *)p);
    if (wt == WT_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* out[r][j] = X row r . W row j over len values, mr x nr zmm accumulators. */
INLINE void ftile(const int mr, const int nr, const int wt, const float *const *xr,
                  const void *const *wr, int64_t len, float out[FMR][FNR]) {
    __m512 acc[FMR][FNR];
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) acc[r][j] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 16 <= len; c += 16) {
        __m512 xv[FMR];
        for (int r = 0; r < mr; r++) xv[r] = _mm512_loadu_ps(xr[r] + c);
        for (int j = 0; j < nr; j++) {
            const __m512 wv = load_wf(wt, wr[j], c, 0, 0);
            for (int r = 0; r < mr; r++) acc[r][j] = _mm512_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    if (c < len) {
        const __mmask16 mask = (__mmask16)((1u << (len - c)) - 1);
        __m512 xv[FMR];
        for (int r = 0; r < mr; r++) xv[r] = _mm512_maskz_loadu_ps(mask, xr[r] + c);
        for (int j = 0; j < nr; j++) {
            const __m512 wv = load_wf(wt, wr[j], c, mask, 1);
            for (int r = 0; r < mr; r++) acc[r][j] = _mm512_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) out[r][j] = _mm512_reduce_add_ps(acc[r][j]);
}

typedef void (*ftile_fn)(const float *const *, const void *const *, int64_t, float[FMR][FNR]);
#define FTILE(MR, WT)                                                                          \
    static void ftile_##MR##_##WT(const float *const *xr, const void *const *wr, int64_t len,  \
                                  float out[FMR][FNR]) {                                       \
        ftile(MR, FNR, WT, xr, wr, len, out);                                                  \
    }
#define FTILES(WT) FTILE(1, WT) FTILE(2, WT) FTILE(3, WT) FTILE(4, WT)
FTILES(WT_F32)
FTILES(WT_F16)
FTILES(WT_BF16)
#define FROW(WT) {ftile_1_##WT, ftile_2_##WT, ftile_3_##WT, ftile_4_##WT}
static const ftile_fn ftiles[3][FMR] = {FROW(WT_F32), FROW(WT_F16), FROW(WT_BF16)};

/* n values of f16/bf16 -> f32 */
static void convert_row(int wt, const uint16_t *src, float *dst, int64_t n) {
    int64_t c = 0;
    for (; c + 16 <= n; c += 16) _mm512_storeu_ps(dst + c, load_wf(wt, src, c, 0, 0));
    if (c < n) {
        const __mmask16 mask = (__mmask16)((1u << (n - c)) - 1);
        _mm512_mask_storeu_ps(dst + c, mask, load_wf(wt, src, c, mask, 1));
    }
}

/* ---- jobs ---- */

struct job {
    float *y;
    const float *x;
    const struct tlb_tensor *w;
    int m;
    uint8_t *xq;      /* (m, xstride) */
    size_t xstride;
    float *xd;        /* (m, dstride) */
    size_t dstride;
    float *tiles;
    int vnni;
};

/* Rows [lo, hi) of thread ith, in whole tiles of unit rows (each thread streams contiguous
 * weight memory). */
static void thread_rows(int64_t n, int unit, int ith, int nth, int64_t *lo, int64_t *hi) {
    long l, h;
    tlb_split_range((long)((n + unit - 1) / unit), ith, nth, &l, &h);
    *lo = (int64_t)l * unit;
    *hi = (int64_t)h * unit < n ? (int64_t)h * unit : n;
}

/* y[r0 + r][c0 + t] (+)= out[r][t] for the rows of the tile that exist (< hi). */
static void store_tile(const struct job *j, int r0, int mr, int64_t c0, int nr, int64_t hi,
                       int accumulate, const float *out, int ld) {
    const int64_t n = j->w->rows;
    for (int r = 0; r < mr; r++)
        for (int t = 0; t < nr && c0 + t < hi; t++) {
            float *yy = j->y + (size_t)(r0 + r) * (size_t)n + (size_t)(c0 + t);
            *yy = accumulate ? *yy + out[r * ld + t] : out[r * ld + t];
        }
}

static void quant_rows(const struct job *j, int64_t lo, int64_t hi) {
    const struct tlb_tensor *w = j->w;
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const int64_t nbk = w->cols / 32;
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    const size_t bsz = q4 ? 18 : 34;
    const int m = j->m;
    if (m == 1) { /* decode: stream W once, 4 rows at a time, whole k */
        const qtile_fn f = qtiles[j->vnni][q4][0];
        const uint8_t *xr[1] = {j->xq};
        const float *xd[1] = {j->xd};
        for (int64_t i = lo; i < hi; i += QNR) {
            const uint8_t *wr[QNR];
            for (int t = 0; t < QNR; t++)
                wr[t] = (const uint8_t *)w->data + (size_t)(i + t < hi ? i + t : hi - 1) * rb;
            float out[QMR][QNR];
            f(xr, xd, wr, nbk, out);
            store_tile(j, 0, 1, i, QNR, hi, 0, &out[0][0], QNR);
        }
        return;
    }
    /* prefill: k chunks of QKC blocks; W blocks of QNB rows (L2) x all X rows in QMR tiles */
    for (int64_t b0 = 0; b0 < nbk; b0 += QKC) {
        const int64_t nblk = nbk - b0 < QKC ? nbk - b0 : QKC;
        for (int64_t jb = lo; jb < hi; jb += QNB) {
            const int64_t je = jb + QNB < hi ? jb + QNB : hi;
            for (int r0 = 0; r0 < m; r0 += QMR) {
                const int mr = m - r0 < QMR ? m - r0 : QMR;
                const qtile_fn f = qtiles[j->vnni][q4][mr - 1];
                const uint8_t *xr[QMR];
                const float *xd[QMR];
                for (int r = 0; r < QMR; r++) {
                    const int rr = r < mr ? r0 + r : r0;
                    xr[r] = j->xq + (size_t)rr * j->xstride + (size_t)b0 * 32;
                    xd[r] = j->xd + (size_t)rr * j->dstride + (size_t)b0;
                }
                for (int64_t i = jb; i < je; i += QNR) {
                    const uint8_t *wr[QNR];
                    for (int t = 0; t < QNR; t++)
                        wr[t] = (const uint8_t *)w->data + (size_t)(i + t < je ? i + t : je - 1) * rb +
                                (size_t)b0 * bsz;
                    float out[QMR][QNR];
                    f(xr, xd, wr, nblk, out);
                    store_tile(j, r0, mr, i, QNR, je, b0 > 0, &out[0][0], QNR);
                }
            }
        }
    }
}

static void float_rows(const struct job *j, int64_t lo, int64_t hi, float *tile) {
    const struct tlb_tensor *w = j->w;
    const int wt = w->type == TLB_TYPE_F32 ? WT_F32 : w->type == TLB_TYPE_F16 ? WT_F16 : WT_BF16;
    const int64_t k = w->cols;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    const size_t es = w->type == TLB_TYPE_F32 ? 4 : 2;
    const int m = j->m;
    if (m <= FMR) { /* decode / small m: W streamed once, converted in registers */
        const ftile_fn f = ftiles[wt][m - 1];
        const float *xr[FMR];
        for (int r = 0; r < FMR; r++) xr[r] = j->x + (size_t)(r < m ? r : 0) * (size_t)k;
        for (int64_t i = lo; i < hi; i += FNR) {
            const void *wr[FNR];
            for (int t = 0; t < FNR; t++)
                wr[t] = (const char *)w->data + (size_t)(i + t < hi ? i + t : hi - 1) * rb;
            float out[FMR][FNR];
            f(xr, wr, k, out);
            store_tile(j, 0, m, i, FNR, hi, 0, &out[0][0], FNR);
        }
        return;
    }
    /* prefill: per k chunk and block of FNB W rows (f16/bf16 converted once into an f32 tile),
     * every X row in FMR x FNR register tiles */
    for (int64_t c0 = 0; c0 < k; c0 += FKC) {
        const int64_t len = k - c0 < FKC ? k - c0 : FKC;
        for (int64_t jb = lo; jb < hi; jb += FNB) {
            const int64_t je = jb + FNB < hi ? jb + FNB : hi;
            const void *rows[FNB];
            for (int64_t t = 0; t < je - jb; t++) {
                const char *src = (const char *)w->data + (size_t)(jb + t) * rb + (size_t)c0 * es;
                if (wt == WT_F32) {
                    rows[t] = src;
                } else {
                    convert_row(wt, (const uint16_t *)(const void *)src, tile + t * FKC, len);
                    rows[t] = tile + t * FKC;
                }
            }
            for (int r0 = 0; r0 < m; r0 += FMR) {
                const int mr = m - r0 < FMR ? m - r0 : FMR;
                const ftile_fn f = ftiles[WT_F32][mr - 1];
                const float *xr[FMR];
                for (int r = 0; r < FMR; r++)
                    xr[r] = j->x + (size_t)(r < mr ? r0 + r : r0) * (size_t)k + (size_t)c0;
                for (int64_t i = jb; i < je; i += FNR) {
                    const void *wr[FNR];
                    for (int t = 0; t < FNR; t++) wr[t] = rows[i + t < je ? i + t - jb : je - 1 - jb];
                    float out[FMR][FNR];
                    f(xr, wr, len, out);
                    store_tile(j, r0, mr, i, FNR, je, c0 > 0, &out[0][0], FNR);
                }
            }
        }
    }
}

static void matmul_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    int64_t lo, hi;
    const int quant = tlb_type_traits(j->w->type)->is_quantized;
    thread_rows(j->w->rows, quant ? QNR : FNR, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    if (quant)
        quant_rows(j, lo, hi);
    else
        float_rows(j, lo, hi, (float *)(void *)((char *)j->tiles + (size_t)ith * TILE_BYTES));
}

static void quantize_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    const int64_t k = j->w->cols;
    const int offset = j->vnni;
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    for (long r = lo; r < hi; r++)
        quantize_row(j->x + (size_t)r * (size_t)k, k, j->xq + (size_t)r * j->xstride, j->xstride,
                     j->xd + (size_t)r * j->dstride, j->dstride, offset);
}

/* ---- descriptor ---- */

#define NEEDED (TLB_CPU_BIT(TLB_CPU_AVX) | TLB_CPU_BIT(TLB_CPU_AVX2) | TLB_CPU_BIT(TLB_CPU_FMA) | \
                TLB_CPU_BIT(TLB_CPU_F16C) | TLB_CPU_BIT(TLB_CPU_AVX512F) |                      \
                TLB_CPU_BIT(TLB_CPU_AVX512BW) | TLB_CPU_BIT(TLB_CPU_AVX512VL) |                 \
                TLB_CPU_BIT(TLB_CPU_AVX512DQ))

static int avx512_probe(char *why, size_t why_len) {
    return tlb_cpu_require(NEEDED, "avx512 kernel", why, why_len);
}

static int avx512_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    struct avx512_state *s = tlb_calloc(1, sizeof *s, "avx512 kernel state");
    if (!s) return -1;
    s->vnni = tlb_cpu_has(TLB_CPU_AVX512VNNI);
    *state = s;
    return 0;
}

static void avx512_release(void *state) {
    struct avx512_state *s = state;
    if (!s) return;
    tlb_free_aligned(s->xq);
    tlb_free_aligned(s->tiles);
    free(s);
}

static size_t avx512_scratch(void *state) {
    const struct avx512_state *s = state;
    return s ? s->xq_cap + (size_t)s->n_tiles * TILE_BYTES : 0;
}

static const char *avx512_version(void *state) {
    const struct avx512_state *s = state;
    const int vnni = s ? s->vnni : tlb_cpu_has(TLB_CPU_AVX512VNNI);
    return vnni ? "AVX-512 + VNNI (vpdpbusd)" : "AVX-512BW (vpmaddubsw, no VNNI)";
}

static int avx512_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                         const struct tlb_tensor *w, int m) {
    struct avx512_state *s = state;
    struct job job = {y, x, w, m, NULL, 0, NULL, 0, NULL, s->vnni};
    const int nth = tlb_pool_size(pool);
    if (tlb_type_traits(w->type)->is_quantized) {
        job.xstride = ((size_t)w->cols + 63) & ~(size_t)63;
        job.dstride = ((size_t)(w->cols / 32) + 15) & ~(size_t)15;
        size_t per_row = job.xstride + job.dstride * sizeof(float), need;
        if (tlb_mul_size(per_row, (size_t)m, &need)) {
            tlb_error("avx512 kernel: activation scratch size overflows");
            return -1;
        }
        if (need > s->xq_cap) {
            uint8_t *p = tlb_alloc_aligned(need, "avx512 kernel activations");
            if (!p) return -1;
            tlb_free_aligned(s->xq);
            s->xq = p;
            s->xq_cap = need;
        }
        job.xq = s->xq;
        job.xd = (float *)(void *)(s->xq + (size_t)m * job.xstride);
        if (m == 1)
            quantize_job(&job, 0, 1);
        else
            tlb_pool_run(pool, quantize_job, &job);
    } else if (m > FMR && w->type != TLB_TYPE_F32 && nth > s->n_tiles) {
        float *t = tlb_alloc_aligned((size_t)nth * TILE_BYTES, "avx512 kernel tiles");
        if (!t) return -1;
        tlb_free_aligned(s->tiles);
        s->tiles = t;
        s->n_tiles = nth;
    }
    job.tiles = s->tiles;
    tlb_pool_run(pool, matmul_job, &job);
    return 0;
}

const struct tlb_kernel tlb_kernel_avx512 = {
    .name = "avx512",
    .summary = "x86 AVX-512 (+VNNI where present): zmm register tiles, q8_0 activations",
    .wtypes = TLB_ALL_TYPES,
    .priority = 30,
    .probe = avx512_probe,
    .init = avx512_init,
    .release = avx512_release,
    .matmul = avx512_matmul,
    .version = avx512_version,
    .scratch_bytes = avx512_scratch,
};

#else /* not an x86-64 build with the AVX-512 flags */

static int avx512_probe(char *why, size_t why_len) {
#if defined(__x86_64__)
    snprintf(why, why_len, "avx512 kernel was compiled without AVX-512 flags (see Makefile)");
#else
    snprintf(why, why_len, "x86-only kernel (this binary is not built for x86-64)");
#endif
    return -1;
}

static int avx512_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                         const struct tlb_tensor *w, int m) {
    (void)state, (void)pool, (void)y, (void)x, (void)w, (void)m;
    tlb_error("avx512 kernel is not available in this build");
    return -1;
}

const struct tlb_kernel tlb_kernel_avx512 = {
    .name = "avx512",
    .summary = "x86 AVX-512 (+VNNI where present): not built into this binary",
    .wtypes = TLB_ALL_TYPES,
    .priority = 30,
    .probe = avx512_probe,
    .matmul = avx512_matmul,
};

#endif
