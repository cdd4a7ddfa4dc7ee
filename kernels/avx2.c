/* avx2.c — x86 AVX2 + FMA + F16C kernel (Haswell and later, Intel AI PCs, older AMD), with
 * AVX-VNNI vpdpbusd when the CPU has it (Alder Lake and later), else vpmaddubsw/vpmaddwd.
 * Same design as avx512.c with 16 ymm registers: float weights in dot-form register tiles
 * (up to 2 X rows x 4 W rows), f16/bf16 converted exactly in registers (or once per block
 * into an f32 tile when m > 2); q8_0/q4_0 with X quantized once per matmul to q8_0
 * (bit-exact with the reference), one block per ymm, 2 X rows x 4 W rows per tile.
 * Compiled with its own ISA flags (Makefile); elsewhere a stub whose probe says why. AVX-VNNI
 * is emitted with inline asm so the file needs no -mavxvnni and the compiler cannot place a
 * VNNI instruction on the other path. */
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernel.h"
#include "util.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

#define QMR 2     /* X rows per quantized tile */
#define QNR 4     /* W rows per quantized tile */
#define QKC 128   /* blocks per k chunk when m > 1 */
#define QNB 64    /* W rows per block when m > 1 */
#define FMR 2     /* X rows per float tile */
#define FNR 4     /* W rows per float tile: 8 accumulators + 2 X + W of 16 ymm */
#define FKC 2048  /* k per float chunk when m > 2: 2 X rows x 8 KiB in L1 */
#define FNB 32    /* W rows per converted f32 tile: 32 x 2048 x 4 = 256 KiB (L2) */
#define TILE_BYTES ((size_t)FNB * FKC * sizeof(float))

struct avx2_state {
    uint8_t *xq;     /* quantized X: (m, xstride) bytes, then (m, dstride) float scales */
    size_t xq_cap;
    float *tiles;    /* per-thread f32 tiles for f16/bf16 weights with m > 2 */
    int n_tiles;
    int vnni;        /* AVX-VNNI, decided at init from tlb_cpu_has */
};

/* AVX-VNNI (VEX encoded): acc += sum of 4 (u8 a * s8 b) per 32-bit lane. */
INLINE __m256i dpbusd(__m256i acc, __m256i a_u8, __m256i b_s8) {
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a_u8), "x"(b_s8));
    return acc;
}

INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ---- activations: q8_0, bit-exact with tlb_quantize_row_q8_0 ---- */

/* roundf (half away from zero) of |v| < 2^23: trunc(v) + trunc(2 * frac(v)). */
INLINE __m256i round_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 fr2 = _mm256_mul_ps(_mm256_sub_ps(v, t), _mm256_set1_ps(2.0f));
    return _mm256_cvttps_epi32(
        _mm256_add_ps(t, _mm256_round_ps(fr2, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)));
}

static void quantize_row(const float *x, int64_t k, uint8_t *q, size_t xstride, float *d,
                         size_t dstride, int offset) {
    const int64_t nb = k / 32;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i flip = _mm256_set1_epi8(offset ? (char)0x80 : 0);
    for (int64_t b = 0; b < nb; b++) {
        __m256 v[4];
        for (int i = 0; i < 4; i++) v[i] = _mm256_loadu_ps(x + b * 32 + i * 8);
        __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
                                  _mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float dv = _mm_cvtss_f32(m4) / 127.0f;
        const float id = dv != 0.0f ? 1.0f / dv : 0.0f;
        d[b] = _cvtsh_ss(_cvtss_sh(dv, _MM_FROUND_TO_NEAREST_INT)); /* == tlb_f32_to_f16 */
        const __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = round_away(_mm256_mul_ps(v[0], vid)), i1 = round_away(_mm256_mul_ps(v[1], vid));
        __m256i i2 = round_away(_mm256_mul_ps(v[2], vid)), i3 = round_away(_mm256_mul_ps(v[3], vid));
        /* |q| <= 127: the saturating packs are exact; the permute undoes their lane order */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(void *)(q + b * 32), _mm256_xor_si256(p, flip));
    }
    memset(q + nb * 32, offset ? 0x80 : 0, xstride - (size_t)nb * 32);
    for (size_t b = (size_t)nb; b < dstride; b++) d[b] = 0.0f;
}

/* ---- quantized weights ---- */

/* One block of a q8_0/q4_0 row as 32 quants in element order: q8_0 signed, q4_0 the
 * unsigned nibbles q (the -8 is X's correction). */
INLINE __m256i load_wq(const uint8_t *w, int q4) {
    if (!q4) return _mm256_loadu_si256((const __m256i *)(const void *)(w + 2));
    const __m128i n = _mm_loadu_si128((const __m128i *)(const void *)(w + 2));
    const __m256i z = _mm256_set_m128i(_mm_srli_epi16(n, 4), n);
    return _mm256_and_si256(z, _mm256_set1_epi8(0x0f));
}

INLINE float load_wd(const uint8_t *w) {
    uint16_t h;
    memcpy(&h, w, 2);
    return _cvtsh_ss(h);
}

/* One block for an mr x nr tile.
 * q4_0: nibbles q (u8) x X (s8), minus 8 x sum(x) per lane, that correction computed once per
 * X load (no saturation without VNNI either: q <= 15).
 * q8_0 with VNNI: X as u8 (q + 128): sum (x + 128) w - 128 sum w, the correction computed
 * once per W load. q8_0 without: |w| * (x with w's sign), which cannot saturate
 * vpmaddubsw (|w| <= 128, |x| <= 127). */
INLINE void qstep(const int mr, const int nr, const int vnni, const int q4,
                  const uint8_t *const *xr, const float *const *xd, const uint8_t *const *wr,
                  int64_t b, __m256 acc[QMR][QNR]) {
    const size_t bsz = q4 ? 18 : 34;
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256i xv[QMR], xc[QMR];
    for (int r = 0; r < mr; r++) {
        xv[r] = _mm256_loadu_si256((const __m256i *)(const void *)(xr[r] + b * 32));
        if (q4) {
            const __m256i e8 = _mm256_set1_epi8(8);
            xc[r] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                     vnni ? dpbusd(_mm256_setzero_si256(), e8, xv[r])
                                          : _mm256_madd_epi16(_mm256_maddubs_epi16(e8, xv[r]), ones16));
        }
    }
    for (int j = 0; j < nr; j++) {
        const uint8_t *w = wr[j] + (size_t)b * bsz;
        const __m256i wq = load_wq(w, q4);
        const float wd = load_wd(w);
        if (q4) {
            for (int r = 0; r < mr; r++) {
                const __m256i t = vnni ? dpbusd(xc[r], wq, xv[r])
                                       : _mm256_add_epi32(xc[r], _mm256_madd_epi16(
                                                              _mm256_maddubs_epi16(wq, xv[r]), ones16));
                acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(wd * xd[r][b]),
                                            acc[r][j]);
            }
        } else if (vnni) {
            const __m256i corr = _mm256_sub_epi32(
                _mm256_setzero_si256(),
                dpbusd(_mm256_setzero_si256(), _mm256_set1_epi8((char)0x80), wq));
            for (int r = 0; r < mr; r++) {
                const __m256i t = dpbusd(corr, xv[r], wq);
                acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(wd * xd[r][b]),
                                            acc[r][j]);
            }
        } else {
            const __m256i aw = _mm256_abs_epi8(wq);
            for (int r = 0; r < mr; r++) {
                const __m256i sx = _mm256_sign_epi8(xv[r], wq);
                const __m256i t = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), ones16);
                acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(wd * xd[r][b]),
                                            acc[r][j]);
            }
        }
    }
}

INLINE void qtile(const int mr, const int nr, const int vnni, const int q4,
                  const uint8_t *const *xr, const float *const *xd, const uint8_t *const *wr,
                  int64_t nblk, float out[QMR][QNR]) {
    __m256 acc[QMR][QNR];
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) acc[r][j] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblk; b++) qstep(mr, nr, vnni, q4, xr, xd, wr, b, acc);
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) out[r][j] = hsum(acc[r][j]);
}

typedef void (*qtile_fn)(const uint8_t *const *, const float *const *, const uint8_t *const *,
                         int64_t, float[QMR][QNR]);
#define QTILE(MR, V, Q4)                                                                      \
    static void qtile_##MR##_##V##_##Q4(const uint8_t *const *xr, const float *const *xd,     \
                                        const uint8_t *const *wr, int64_t nblk,               \
                                        float out[QMR][QNR]) {                                \
        qtile(MR, QNR, V, Q4, xr, xd, wr, nblk, out);                                         \
    }
#define QTILES(V, Q4) QTILE(1, V, Q4) QTILE(2, V, Q4)
QTILES(0, 0)
QTILES(0, 1)
QTILES(1, 0)
QTILES(1, 1)
#define QROW(V, Q4) {qtile_1_##V##_##Q4, qtile_2_##V##_##Q4}
static const qtile_fn qtiles[2][2][QMR] = {{QROW(0, 0), QROW(0, 1)}, {QROW(1, 0), QROW(1, 1)}};

/* ---- float weights ---- */

enum { WT_F32, WT_F16, WT_BF16 };

/* 8 weights at w + c (all present) as f32, converted exactly. */
INLINE __m256 load_wf(const int wt, const void *w, int64_t c) {
    if (wt == WT_F32) return _mm256_loadu_ps((const float *)w + c);
    const __m128i h = _mm_loadu_si128((const __m128i *)(const void *)((const uint16_t *)w + c));
    if (wt == WT_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The same for the last len - c < 8 values, zero-padded (no read past the row). */
INLINE __m256 load_wf_tail(const int wt, const void *w, int64_t c, int64_t rem) {
    if (wt == WT_F32) {
        float buf[8] = {0};
        memcpy(buf, (const float *)w + c, (size_t)rem * 4);
        return _mm256_loadu_ps(buf);
    }
    uint16_t buf[8] = {0};
    memcpy(buf, (const uint16_t *)w + c, (size_t)rem * 2);
    return load_wf(wt, buf, 0);
}

INLINE void ftile(const int mr, const int nr, const int wt, const float *const *xr,
                  const void *const *wr, int64_t len, float out[FMR][FNR]) {
    __m256 acc[FMR][FNR];
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) acc[r][j] = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 8 <= len; c += 8) {
        __m256 xv[FMR];
        for (int r = 0; r < mr; r++) xv[r] = _mm256_loadu_ps(xr[r] + c);
        for (int j = 0; j < nr; j++) {
            const __m256 wv = load_wf(wt, wr[j], c);
            for (int r = 0; r < mr; r++) acc[r][j] = _mm256_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    if (c < len) {
        __m256 xv[FMR];
        for (int r = 0; r < mr; r++) xv[r] = load_wf_tail(WT_F32, xr[r], c, len - c);
        for (int j = 0; j < nr; j++) {
            const __m256 wv = load_wf_tail(wt, wr[j], c, len - c);
            for (int r = 0; r < mr; r++) acc[r][j] = _mm256_fmadd_ps(xv[r], wv, acc[r][j]);
        }
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) out[r][j] = hsum(acc[r][j]);
}

typedef void (*ftile_fn)(const float *const *, const void *const *, int64_t, float[FMR][FNR]);
#define FTILE(MR, WT)                                                                          \
    static void ftile_##MR##_##WT(const float *const *xr, const void *const *wr, int64_t len,  \
                                  float out[FMR][FNR]) {                                       \
        ftile(MR, FNR, WT, xr, wr, len, out);                                                  \
    }
#define FTILES(WT) FTILE(1, WT) FTILE(2, WT)
FTILES(WT_F32)
FTILES(WT_F16)
FTILES(WT_BF16)
#define FROW(WT) {ftile_1_##WT, ftile_2_##WT}
static const ftile_fn ftiles[3][FMR] = {FROW(WT_F32), FROW(WT_F16), FROW(WT_BF16)};

static void convert_row(int wt, const uint16_t *src, float *dst, int64_t n) {
    int64_t c = 0;
    for (; c + 8 <= n; c += 8) _mm256_storeu_ps(dst + c, load_wf(wt, src, c));
    if (c < n) {
        float buf[8];
        _mm256_storeu_ps(buf, load_wf_tail(wt, src, c, n - c));
        memcpy(dst + c, buf, (size_t)(n - c) * 4);
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
    /* k chunks (whole k for decode); W blocks of QNB rows x all X rows in QMR x QNR tiles */
    const int64_t kc = m == 1 ? nbk : QKC;
    for (int64_t b0 = 0; b0 < nbk; b0 += kc) {
        const int64_t nblk = nbk - b0 < kc ? nbk - b0 : kc;
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
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    for (long r = lo; r < hi; r++)
        quantize_row(j->x + (size_t)r * (size_t)k, k, j->xq + (size_t)r * j->xstride, j->xstride,
                     j->xd + (size_t)r * j->dstride, j->dstride,
                     j->vnni && j->w->type == TLB_TYPE_Q8_0); /* u8 X: q8_0 VNNI path only */
}

/* ---- descriptor ---- */

#define NEEDED (TLB_CPU_BIT(TLB_CPU_AVX) | TLB_CPU_BIT(TLB_CPU_AVX2) | TLB_CPU_BIT(TLB_CPU_FMA) | \
                TLB_CPU_BIT(TLB_CPU_F16C))

static int avx2_probe(char *why, size_t why_len) {
    return tlb_cpu_require(NEEDED, "avx2 kernel", why, why_len);
}

static int avx2_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    struct avx2_state *s = tlb_calloc(1, sizeof *s, "avx2 kernel state");
    if (!s) return -1;
    s->vnni = tlb_cpu_has(TLB_CPU_AVXVNNI);
    *state = s;
    return 0;
}

static void avx2_release(void *state) {
    struct avx2_state *s = state;
    if (!s) return;
    tlb_free_aligned(s->xq);
    tlb_free_aligned(s->tiles);
    free(s);
}

static size_t avx2_scratch(void *state) {
    const struct avx2_state *s = state;
    return s ? s->xq_cap + (size_t)s->n_tiles * TILE_BYTES : 0;
}

static const char *avx2_version(void *state) {
    const struct avx2_state *s = state;
    const int vnni = s ? s->vnni : tlb_cpu_has(TLB_CPU_AVXVNNI);
    return vnni ? "AVX2 + AVX-VNNI (vpdpbusd)" : "AVX2 (vpmaddubsw, no VNNI)";
}

static int avx2_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                       const struct tlb_tensor *w, int m) {
    struct avx2_state *s = state;
    struct job job = {y, x, w, m, NULL, 0, NULL, 0, NULL, s->vnni};
    const int nth = tlb_pool_size(pool);
    if (tlb_type_traits(w->type)->is_quantized) {
        job.xstride = ((size_t)w->cols + 63) & ~(size_t)63;
        job.dstride = ((size_t)(w->cols / 32) + 15) & ~(size_t)15;
        size_t per_row = job.xstride + job.dstride * sizeof(float), need;
        if (tlb_mul_size(per_row, (size_t)m, &need)) {
            tlb_error("avx2 kernel: activation scratch size overflows");
            return -1;
        }
        if (need > s->xq_cap) {
            uint8_t *p = tlb_alloc_aligned(need, "avx2 kernel activations");
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
        float *t = tlb_alloc_aligned((size_t)nth * TILE_BYTES, "avx2 kernel tiles");
        if (!t) return -1;
        tlb_free_aligned(s->tiles);
        s->tiles = t;
        s->n_tiles = nth;
    }
    job.tiles = s->tiles;
    tlb_pool_run(pool, matmul_job, &job);
    return 0;
}

const struct tlb_kernel tlb_kernel_avx2 = {
    .name = "avx2",
    .summary = "x86 AVX2+FMA (+AVX-VNNI where present): ymm register tiles, q8_0 activations",
    .wtypes = TLB_ALL_TYPES,
    .priority = 20,
    .probe = avx2_probe,
    .init = avx2_init,
    .release = avx2_release,
    .matmul = avx2_matmul,
    .version = avx2_version,
    .scratch_bytes = avx2_scratch,
};

#else /* not an x86-64 build with the AVX2 flags */

static int avx2_probe(char *why, size_t why_len) {
#if defined(__x86_64__)
    snprintf(why, why_len, "avx2 kernel was compiled without AVX2 flags (see Makefile)");
#else
    snprintf(why, why_len, "x86-only kernel (this binary is not built for x86-64)");
#endif
    return -1;
}

static int avx2_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                       const struct tlb_tensor *w, int m) {
    (void)state, (void)pool, (void)y, (void)x, (void)w, (void)m;
    tlb_error("avx2 kernel is not available in this build");
    return -1;
}

const struct tlb_kernel tlb_kernel_avx2 = {
    .name = "avx2",
    .summary = "x86 AVX2+FMA (+AVX-VNNI where present): not built into this binary",
    .wtypes = TLB_ALL_TYPES,
    .priority = 20,
    .probe = avx2_probe,
    .matmul = avx2_matmul,
};

#endif
