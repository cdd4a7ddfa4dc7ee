/* avx2.c — x86 AVX2 + FMA + F16C kernel (Haswell and later, Intel AI PCs, older AMD), with
 * AVX-VNNI when present, else vpmaddubsw: the avx512.c design with 16 ymm registers. Decode
 * streams W row by row; prefill repacks W per thread (6x16 outer-product f32 GEMM, 8-row
 * vpdpbusd tiles). Everything but the probe and the descriptor is compiled for ISA below
 * (isa-target.h); VNNI is inline asm, not in ISA. Non-x86 builds get a stub. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernel.h"
#include "util.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include "isa-target.h"

#define ISA "avx,avx2,fma,f16c"
TLB_TARGET_PUSH(ISA)

#define INLINE static inline __attribute__((always_inline))

#define QMR 2     /* X rows per quantized tile */
#define QNR 4     /* W rows per quantized tile */
#define QKC 128   /* blocks per k chunk when m > 1 */
#define QNB 64    /* W rows per block when m > 1 */
#define FMR 2     /* up to this many X rows: the decode path (frow), beyond: packed GEMM */
/* Prefill (as in avx512.c, with 8-row vectors): float weights (m > FMR) are packed
 * transposed, [c][8 rows], and multiplied as GMR x 16 outer products with X broadcast (the
 * BLIS haswell 6x16 shape); q8_0/q4_0 with AVX-VNNI (m >= PACK_MIN_M) are packed as 4-byte
 * groups of 8 rows so one vpdpbusd serves 8 W rows and a lane sums a whole block. */
#define GMR 6     /* X rows per float packed tile (x 16 W rows: 12 ymm accumulators) */
#define GKC 256   /* k per float chunk: 16-row panel 16 KiB + 6 X rows 6 KiB (L1) */
#define GNB 32    /* W rows per float pack (4 vectors of 8) */
#define PMR 2     /* X rows per quantized packed tile (x 16 W rows) */
#define PKB 64    /* blocks per k chunk */
#define PNB 32    /* W rows per quantized pack (4 vectors of 8) */
#define PBLK 288  /* bytes per (8 rows, block): 8 groups x 32 B of quants + 8 f32 scales */
#define PACK_MIN_M 8
#define TILE_BYTES ((size_t)96 << 10) /* per-thread pack buffer */
_Static_assert((size_t)GNB * GKC * 4 <= TILE_BYTES && (size_t)(PNB / 8) * PKB * PBLK <= TILE_BYTES,
               "packs fit the per-thread buffer");

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
                         size_t dstride, int offset, int32_t *corr, int32_t corr_mul) {
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
        if (corr) { /* the packed path's correction: corr_mul x the sum of the quants */
            const __m256i s4 = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
            __m128i s2 = _mm_add_epi32(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
            s2 = _mm_add_epi32(s2, _mm_shuffle_epi32(s2, _MM_SHUFFLE(1, 0, 3, 2)));
            s2 = _mm_add_epi32(s2, _mm_shuffle_epi32(s2, _MM_SHUFFLE(2, 3, 0, 1)));
            corr[b] = corr_mul * _mm_cvtsi128_si32(s2);
        }
    }
    memset(q + nb * 32, offset ? 0x80 : 0, xstride - (size_t)nb * 32);
    for (size_t b = (size_t)nb; b < dstride; b++) {
        d[b] = 0.0f;
        if (corr) corr[b] = 0;
    }
}

/* ---- quantized weights ---- */

/* One block of a q8_0/q4_0 row as 32 quants in element order: q8_0 signed, q4_0 the
 * unsigned nibbles q (the -8 is X's correction). */
INLINE __m256i load_wq(const uint8_t *w, int q4) {
    const uint8_t *qs = w + TLB_BLOCK_QS(q4);
    if (!q4) return _mm256_loadu_si256((const __m256i *)(const void *)qs);
    const __m128i n = _mm_loadu_si128((const __m128i *)(const void *)qs);
    const __m256i z = _mm256_set_m128i(_mm_srli_epi16(n, 4), n);
    return _mm256_and_si256(z, _mm256_set1_epi8(0x0f));
}

INLINE float load_wd(const uint8_t *w) { return _cvtsh_ss(tlb_block_scale(w)); }

/* One block for an mr x nr tile.
 * q4_0: nibbles q (u8) x X (s8), minus 8 x sum(x) per lane, that correction computed once per
 * X load (no saturation without VNNI either: q <= 15).
 * q8_0 with VNNI: X as u8 (q + 128): sum (x + 128) w - 128 sum w, the correction computed
 * once per W load. q8_0 without: |w| * (x with w's sign), which cannot saturate
 * vpmaddubsw (|w| <= 128, |x| <= 127). */
INLINE void qstep(const int mr, const int nr, const int vnni, const int q4,
                  const uint8_t *const *xr, const float *const *xd, const uint8_t *const *wr,
                  int64_t b, __m256 acc[QMR][QNR]) {
    const size_t bsz = TLB_BLOCK_BYTES(q4);
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

/* Decode: one W row at a time (a single sequential stream for the hardware prefetcher:
 * interleaving rows measured ~40% less bandwidth on Zen 5), with X's q4_0 correction
 * (-8 x sum(x) per lane, xc) computed once per matmul. */
INLINE __m256 qrow_block(const int vnni, const int q4, const uint8_t *xq, const float *xd,
                         const int32_t *xc, const uint8_t *w, int64_t b, __m256 acc) {
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    const __m256i ones16 = _mm256_set1_epi16(1);
    const uint8_t *wb = w + (size_t)b * bsz;
    const __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(xq + b * 32));
    const __m256i wq = load_wq(wb, q4);
    __m256i t;
    if (q4) {
        const __m256i c = _mm256_load_si256((const __m256i *)(const void *)(xc + b * 8));
        t = vnni ? dpbusd(c, wq, xv)
                 : _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(wq, xv), ones16));
    } else if (vnni) {
        const __m256i corr = _mm256_sub_epi32(
            _mm256_setzero_si256(), dpbusd(_mm256_setzero_si256(), _mm256_set1_epi8((char)0x80), wq));
        t = dpbusd(corr, xv, wq);
    } else {
        t = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(wq), _mm256_sign_epi8(xv, wq)),
                              ones16);
    }
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_set1_ps(load_wd(wb) * xd[b]), acc);
}

INLINE float qrow(const int vnni, const int q4, const uint8_t *xq, const float *xd,
                  const int32_t *xc, const uint8_t *w, int64_t nblk) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(); /* two FMA chains */
    int64_t b = 0;
    for (; b + 2 <= nblk; b += 2) {
        a0 = qrow_block(vnni, q4, xq, xd, xc, w, b, a0);
        a1 = qrow_block(vnni, q4, xq, xd, xc, w, b + 1, a1);
    }
    if (b < nblk) a0 = qrow_block(vnni, q4, xq, xd, xc, w, b, a0);
    return hsum(_mm256_add_ps(a0, a1));
}

typedef float (*qrow_fn)(const uint8_t *, const float *, const int32_t *, const uint8_t *, int64_t);
#define QROWF(V, Q4)                                                                           \
    static float qrow_##V##_##Q4(const uint8_t *xq, const float *xd, const int32_t *xc,        \
                                 const uint8_t *w, int64_t nblk) {                             \
        return qrow(V, Q4, xq, xd, xc, w, nblk);                                               \
    }
QROWF(0, 0)
QROWF(0, 1)
QROWF(1, 0)
QROWF(1, 1)
static const qrow_fn qrows[2][2] = {{qrow_0_0, qrow_0_1}, {qrow_1_0, qrow_1_1}};

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

/* out[r] = X row r . the W row over len values (decode / small m: one W row at a time).
 * Four accumulators per X row: one would be bound by FMA latency, not by memory. */
INLINE void frow(const int mr, const int wt, const float *const *xr, const void *w, int64_t len,
                 float out[FMR]) {
    __m256 acc[FMR][4];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= len; c += 32)
        for (int u = 0; u < 4; u++) {
            const __m256 wv = load_wf(wt, w, c + 8 * u);
            for (int r = 0; r < mr; r++)
                acc[r][u] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[r] + c + 8 * u), wv, acc[r][u]);
        }
    for (; c + 8 <= len; c += 8) {
        const __m256 wv = load_wf(wt, w, c);
        for (int r = 0; r < mr; r++) acc[r][0] = _mm256_fmadd_ps(_mm256_loadu_ps(xr[r] + c), wv, acc[r][0]);
    }
    if (c < len) {
        const __m256 wv = load_wf_tail(wt, w, c, len - c);
        for (int r = 0; r < mr; r++)
            acc[r][1] = _mm256_fmadd_ps(load_wf_tail(WT_F32, xr[r], c, len - c), wv, acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        out[r] = hsum(_mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]),
                                    _mm256_add_ps(acc[r][2], acc[r][3])));
}

typedef void (*frow_fn)(const float *const *, const void *, int64_t, float[FMR]);
#define FROWF(MR, WT)                                                                          \
    static void frow_##MR##_##WT(const float *const *xr, const void *w, int64_t len,           \
                                 float out[FMR]) {                                             \
        frow(MR, WT, xr, w, len, out);                                                         \
    }
#define FROWS(WT) FROWF(1, WT) FROWF(2, WT)
FROWS(WT_F32)
FROWS(WT_F16)
FROWS(WT_BF16)
#define FROW(WT) {frow_1_##WT, frow_2_##WT}
static const frow_fn frows[3][FMR] = {FROW(WT_F32), FROW(WT_F16), FROW(WT_BF16)};

/* Decode (m = 1) of nf W rows far apart in memory (w + f * stride) side by side, each X load
 * serving all of them, as in avx512.c (there with the measurements): a long X row no longer
 * leaves L1 for every W row (f32 2048 x 5632 on a Zen 4 core: 7.3 GB/s one row at a time).
 * out[f * ostride]. */
#define FDEC_MAX 4
INLINE void fdec(const int wt, const int nf, const float *x, const char *w, size_t stride,
                 int64_t len, float *out, size_t ostride) {
    __m256 acc[FDEC_MAX][2];
    for (int f = 0; f < nf; f++) acc[f][0] = acc[f][1] = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 16 <= len; c += 16) {
        const __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
        for (int f = 0; f < nf; f++) {
            const char *r = w + (size_t)f * stride;
            acc[f][0] = _mm256_fmadd_ps(x0, load_wf(wt, r, c), acc[f][0]);
            acc[f][1] = _mm256_fmadd_ps(x1, load_wf(wt, r, c + 8), acc[f][1]);
        }
    }
    for (; c < len; c += 8) {
        const int64_t rem = len - c < 8 ? len - c : 8;
        const __m256 x0 = rem == 8 ? _mm256_loadu_ps(x + c) : load_wf_tail(WT_F32, x, c, rem);
        for (int f = 0; f < nf; f++) {
            const char *r = w + (size_t)f * stride;
            acc[f][0] = _mm256_fmadd_ps(x0, rem == 8 ? load_wf(wt, r, c) : load_wf_tail(wt, r, c, rem),
                                        acc[f][0]);
        }
    }
    for (int f = 0; f < nf; f++) out[(size_t)f * ostride] = hsum(_mm256_add_ps(acc[f][0], acc[f][1]));
}

typedef void (*fdec_fn)(const float *, const char *, size_t, int64_t, float *, size_t);
#define FDECF(NF, WT)                                                                          \
    static void fdec_##NF##_##WT(const float *x, const char *w, size_t stride, int64_t len,    \
                                 float *out, size_t ostride) {                                 \
        fdec(WT, NF, x, w, stride, len, out, ostride);                                         \
    }
#define FDECS(WT) FDECF(2, WT) FDECF(4, WT)
FDECS(WT_F32)
FDECS(WT_F16)
FDECS(WT_BF16)
/* Streams per weight type and k: 2 while the X row fits beside them in L1, else 4 */
static fdec_fn fdec_for(int wt, int64_t k, int *nf) {
    static const fdec_fn t[3][2] = {{fdec_2_WT_F32, fdec_4_WT_F32},
                                    {fdec_2_WT_F16, fdec_4_WT_F16},
                                    {fdec_2_WT_BF16, fdec_4_WT_BF16}};
    const int big = k * (int64_t)sizeof(float) > ((int64_t)16 << 10);
    *nf = big ? 4 : 2;
    return t[wt][big];
}
#define FDEC_STREAMS 1 /* simd-jobs.h: decode float weights through fdec_for */

/* ---- packed prefill ---- */

/* In-register transpose of 8 x 8 dwords: r[i][c] -> r[c][i]. */
INLINE void transpose8(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    /* u[4q + e]: lane 0 dword e, lane 1 dword e + 4, of rows 4q .. 4q + 3 */
    for (int e = 0; e < 4; e++) {
        r[e] = _mm256_permute2x128_si256(u[e], u[4 + e], 0x20);
        r[e + 4] = _mm256_permute2x128_si256(u[e], u[4 + e], 0x31);
    }
}

/* Pack float W rows [jb, je) x values [c0, c0 + len) as f32: vector v (rows jb + 8v ..) at
 * p + v * len * 8, value c of its 8 rows at + c * 8. Missing rows are zeros. */
static void pack_float(const struct tlb_tensor *w, int wt, int64_t jb, int64_t je, int64_t c0,
                       int64_t len, float *p) {
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    for (int v = 0; v < GNB / 8 && jb + v * 8 < je; v++) {
        const void *rows[8];
        for (int i = 0; i < 8; i++) {
            const int64_t row = jb + v * 8 + i;
            rows[i] = row < je ? (const char *)w->data + (size_t)row * rb : NULL;
        }
        float *pv = p + (size_t)v * (size_t)len * 8;
        for (int64_t c = 0; c < len; c += 8) {
            const int64_t cnt = len - c < 8 ? len - c : 8;
            __m256i r[8];
            for (int i = 0; i < 8; i++)
                r[i] = !rows[i] ? _mm256_setzero_si256()
                                : _mm256_castps_si256(cnt == 8 ? load_wf(wt, rows[i], c0 + c)
                                                               : load_wf_tail(wt, rows[i], c0 + c, cnt));
            transpose8(r);
            for (int i = 0; i < cnt; i++) _mm256_store_si256((__m256i *)(void *)(pv + (c + i) * 8), r[i]);
        }
    }
}

/* out[r][0..15] = X row r . the 16 W rows of packed vectors p0, p1: outer products. */
INLINE void gtile(const int mr, const float *const *xr, const float *p0, const float *p1,
                  int64_t len, float out[GMR][16]) {
    __m256 acc[GMR][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t c = 0; c < len; c++) {
        const __m256 w0 = _mm256_load_ps(p0 + c * 8), w1 = _mm256_load_ps(p1 + c * 8);
        for (int r = 0; r < mr; r++) {
            const __m256 xv = _mm256_set1_ps(xr[r][c]);
            acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm256_storeu_ps(out[r], acc[r][0]);
        _mm256_storeu_ps(out[r] + 8, acc[r][1]);
    }
}

typedef void (*gtile_fn)(const float *const *, const float *, const float *, int64_t,
                         float[GMR][16]);
#define GTILE(MR)                                                                              \
    static void gtile_##MR(const float *const *xr, const float *p0, const float *p1,           \
                           int64_t len, float out[GMR][16]) {                                  \
        gtile(MR, xr, p0, p1, len, out);                                                       \
    }
GTILE(1)
GTILE(2)
GTILE(3)
GTILE(4)
GTILE(5)
GTILE(6)
static const gtile_fn gtiles[GMR] = {gtile_1, gtile_2, gtile_3, gtile_4, gtile_5, gtile_6};

/* Repack q8_0/q4_0 W rows [jb, je) x blocks [b0, b0 + nblk): vector v (8 rows) block b at
 * p + (v * nblk + b) * PBLK: group g (quants 4g..4g+3) of row i at g * 32 + i * 4, as u8
 * (q8_0: w + 128, q4_0: q); then the 8 scales as f32. Missing rows are zeros. */
static void pack_quant(const struct tlb_tensor *w, int64_t jb, int64_t je, int64_t b0,
                       int64_t nblk, uint8_t *p) {
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const size_t rb = tlb_type_row_bytes(w->type, w->cols), bsz = TLB_BLOCK_BYTES(q4);
    for (int v = 0; v < PNB / 8; v++) {
        const uint8_t *rows[8];
        for (int i = 0; i < 8; i++) {
            const int64_t row = jb + v * 8 + i;
            rows[i] = row < je ? (const uint8_t *)w->data + (size_t)row * rb + (size_t)b0 * bsz : NULL;
        }
        uint8_t *pv = p + (size_t)v * (size_t)nblk * PBLK;
        for (int64_t b = 0; b < nblk; b++) {
            __m256i r[8];
            uint16_t h[8] = {0};
            for (int i = 0; i < 8; i++) {
                if (!rows[i]) {
                    r[i] = _mm256_setzero_si256();
                    continue;
                }
                const uint8_t *blk = rows[i] + (size_t)b * bsz;
                r[i] = load_wq(blk, q4);
                if (!q4) r[i] = _mm256_xor_si256(r[i], _mm256_set1_epi8((char)0x80));
                h[i] = tlb_block_scale(blk);
            }
            transpose8(r);
            uint8_t *pb = pv + (size_t)b * PBLK;
            for (int g = 0; g < 8; g++) _mm256_store_si256((__m256i *)(void *)(pb + g * 32), r[g]);
            _mm256_store_ps((float *)(void *)(pb + 256),
                            _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h)));
        }
    }
}

/* out[r][0..15] = X row r . the 16 W rows of vectors p0, p1 over nblk blocks (AVX-VNNI):
 * lanes start at X's correction, 8 vpdpbusd per vector and row with 4 bytes of X broadcast,
 * then one convert and one FMA by the 8 row scales x X's scale. */
INLINE void ptile(const int mr, const uint8_t *const *xq, const float *const *xd,
                  const int32_t *const *xc, const uint8_t *p0, const uint8_t *p1, int64_t nblk,
                  float out[PMR][16]) {
    __m256 fa[PMR][2];
    for (int r = 0; r < mr; r++) fa[r][0] = fa[r][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nblk; b++) {
        const uint8_t *q0 = p0 + (size_t)b * PBLK, *q1 = p1 + (size_t)b * PBLK;
        __m256i ia[PMR][2];
        for (int r = 0; r < mr; r++) ia[r][0] = ia[r][1] = _mm256_set1_epi32(xc[r][b]);
        for (int g = 0; g < 8; g++) {
            const __m256i v0 = _mm256_load_si256((const __m256i *)(const void *)(q0 + g * 32));
            const __m256i v1 = _mm256_load_si256((const __m256i *)(const void *)(q1 + g * 32));
            for (int r = 0; r < mr; r++) {
                int32_t x4;
                memcpy(&x4, xq[r] + b * 32 + g * 4, 4);
                const __m256i xb = _mm256_set1_epi32(x4);
                ia[r][0] = dpbusd(ia[r][0], v0, xb);
                ia[r][1] = dpbusd(ia[r][1], v1, xb);
            }
        }
        const __m256 ws0 = _mm256_load_ps((const float *)(const void *)(q0 + 256));
        const __m256 ws1 = _mm256_load_ps((const float *)(const void *)(q1 + 256));
        for (int r = 0; r < mr; r++) {
            const __m256 xs = _mm256_set1_ps(xd[r][b]);
            fa[r][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[r][0]), _mm256_mul_ps(ws0, xs), fa[r][0]);
            fa[r][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[r][1]), _mm256_mul_ps(ws1, xs), fa[r][1]);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm256_storeu_ps(out[r], fa[r][0]);
        _mm256_storeu_ps(out[r] + 8, fa[r][1]);
    }
}

typedef void (*ptile_fn)(const uint8_t *const *, const float *const *, const int32_t *const *,
                         const uint8_t *, const uint8_t *, int64_t, float[PMR][16]);
#define PTILE(MR)                                                                              \
    static void ptile_##MR(const uint8_t *const *xq, const float *const *xd,                   \
                           const int32_t *const *xc, const uint8_t *p0, const uint8_t *p1,     \
                           int64_t nblk, float out[PMR][16]) {                                 \
        ptile(MR, xq, xd, xc, p0, p1, nblk, out);                                              \
    }
PTILE(1)
PTILE(2)
static const ptile_fn ptiles[PMR] = {ptile_1, ptile_2};

/* ---- jobs ---- */

#define KNAME "avx2 kernel" /* for messages */
#define VL 8 /* floats per vector */
#define XDEC_BYTES(blocks) ((size_t)(blocks) * 32) /* decode: q4_0's X correction, 8 lanes a block */
#include "simd-jobs.h"

static void quant_rows(const struct job *j, int64_t lo, int64_t hi, char *tile) {
    const struct tlb_tensor *w = j->w;
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const int64_t nbk = w->cols / 32;
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    const int m = j->m;
    (void)tile;
    if (m == 1) { /* decode, row after row; q4_0's X correction prepared by quantize_job */
        const qrow_fn f = qrows[j->vnni][q4];
        for (int64_t i = lo; i < hi; i++)
            j->y[i] = f(j->xq, j->xd, j->xdec, (const uint8_t *)w->data + (size_t)i * rb, nbk);
        return;
    }
    /* k chunks; W blocks of QNB rows x all X rows in QMR x QNR tiles */
    const int64_t kc = QKC;
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

static void quant_packed(const struct job *j, int64_t lo, int64_t hi, uint8_t *pack) {
    const struct tlb_tensor *w = j->w;
    const int64_t nbk = w->cols / 32;
    const int m = j->m;
    for (int64_t b0 = 0; b0 < nbk; b0 += PKB) {
        const int64_t nblk = nbk - b0 < PKB ? nbk - b0 : PKB;
        for (int64_t jb = lo; jb < hi; jb += PNB) {
            const int64_t je = jb + PNB < hi ? jb + PNB : hi;
            const int nv = (int)((je - jb + 7) / 8);
            pack_quant(w, jb, je, b0, nblk, pack);
            for (int r0 = 0; r0 < m; r0 += PMR) {
                const int mr = m - r0 < PMR ? m - r0 : PMR;
                const uint8_t *xq[PMR];
                const float *xd[PMR];
                const int32_t *xc[PMR];
                for (int r = 0; r < PMR; r++) {
                    const int rr = r < mr ? r0 + r : r0;
                    xq[r] = j->xq + (size_t)rr * j->xstride + (size_t)b0 * 32;
                    xd[r] = j->xd + (size_t)rr * j->dstride + (size_t)b0;
                    xc[r] = j->xc + (size_t)rr * j->dstride + (size_t)b0;
                }
                for (int v = 0; v < nv; v += 2) {
                    const uint8_t *p0 = pack + (size_t)v * (size_t)nblk * PBLK;
                    const uint8_t *p1 = v + 1 < nv ? p0 + (size_t)nblk * PBLK : p0;
                    float out[PMR][16];
                    ptiles[mr - 1](xq, xd, xc, p0, p1, nblk, out);
                    store_tile(j, r0, mr, jb + v * 8, 16, je, b0 > 0, &out[0][0], 16);
                }
            }
        }
    }
}

/* Decode (m == 1, q4_0): X's correction -8 x sum(x) per 4-byte lane, once per matmul. */
static void decode_prep(const struct job *j) {
    const int64_t nbk = j->w->cols / 32;
    int32_t *xc = j->xdec;
    const __m256i e8 = _mm256_set1_epi8(8);
    for (int64_t b = 0; b < nbk; b++) {
        const __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(j->xq + b * 32));
        const __m256i c = j->vnni ? dpbusd(_mm256_setzero_si256(), e8, xv)
                                  : _mm256_madd_epi16(_mm256_maddubs_epi16(e8, xv), _mm256_set1_epi16(1));
        _mm256_store_si256((__m256i *)(void *)(xc + b * 8), _mm256_sub_epi32(_mm256_setzero_si256(), c));
    }
}

static void quantize_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    const int64_t k = j->w->cols;
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    const int32_t cm = j->w->type == TLB_TYPE_Q4_0 ? -8 : -128;
    for (long r = lo; r < hi; r++) /* u8 X only for q8_0 on the VNNI dot-product path */
        quantize_row(j->x + (size_t)r * (size_t)k, k, j->xq + (size_t)r * j->xstride, j->xstride,
                     j->xd + (size_t)r * j->dstride, j->dstride,
                     j->vnni && !j->packed && j->w->type == TLB_TYPE_Q8_0,
                     j->packed ? j->xc + (size_t)r * j->dstride : NULL, cm);
    if (j->m == 1 && j->w->type == TLB_TYPE_Q4_0) decode_prep(j);
}

TLB_TARGET_POP()

/* ---- descriptor (baseline code: the probe runs on any CPU) ---- */

#define NEEDED (TLB_CPU_BIT(TLB_CPU_AVX) | TLB_CPU_BIT(TLB_CPU_AVX2) | TLB_CPU_BIT(TLB_CPU_FMA) | \
                TLB_CPU_BIT(TLB_CPU_F16C))

static int avx2_probe(char *why, size_t why_len) {
    return tlb_cpu_require(NEEDED, "avx2 kernel", why, why_len);
}

static int avx2_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    return simd_init(state, tlb_cpu_has(TLB_CPU_AVXVNNI), 0, 0);
}

static const char *avx2_version(void *state) {
    const struct simd_state *s = state;
    const int vnni = s ? s->vnni : tlb_cpu_has(TLB_CPU_AVXVNNI);
    return vnni ? "AVX2 + AVX-VNNI (vpdpbusd)" : "AVX2 (vpmaddubsw, no VNNI)";
}

const struct tlb_kernel tlb_kernel_avx2 = {
    .name = "avx2",
    .summary = "x86 AVX2+FMA (+AVX-VNNI where present): ymm register tiles, q8_0 activations",
    .wtypes = TLB_ALL_TYPES,
    .priority = 20,
    .probe = avx2_probe,
    .init = avx2_init,
    .release = simd_release,
    .matmul = simd_matmul,
    .matmul_shared_x = simd_matmul_shared_x,
    .version = avx2_version,
    .scratch_bytes = simd_scratch,
};

#else /* not an x86-64 build */

static int avx2_probe(char *why, size_t why_len) {
    snprintf(why, why_len, "x86-only kernel (this binary is not built for x86-64)");
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
