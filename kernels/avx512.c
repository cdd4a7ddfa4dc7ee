/* avx512.c — x86 AVX-512 kernel (F/BW/VL/DQ + FMA + F16C; VNNI when present): decode streams
 * W row by row (f16/bf16 converted exactly in registers; q8_0/q4_0 against X quantized once
 * to q8_0, bit-exact with the reference); prefill repacks W per thread for outer-product f32
 * GEMM or 16-row vpdpbusd tiles. Everything but the probe and the descriptor is compiled for
 * ISA below (isa-target.h), so the binary still runs on any x86-64 CPU. VNNI is inline asm,
 * not in ISA: the compiler cannot place it on the non-VNNI path. Non-x86 builds get a stub
 * whose probe says why. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernel.h"
#include "util.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include "isa-target.h"

#define ISA "avx,avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"
TLB_TARGET_PUSH(ISA)

#define INLINE static inline __attribute__((always_inline))

/* No AVX512-BF16 vdpbf16ps: it would round X to bf16 (~1e-5 relative error vs naive) and the
 * decode it could speed up is memory-bound. */
#define QMR 4     /* X rows per quantized tile (dot path: m < PACK_MIN_M, or no VNNI) */
#define QNR 4     /* W rows per quantized tile */
#define QKC 128   /* blocks per k chunk when m > 1: 4 X rows x 4 KiB stay in L1 */
#define QNB 64    /* W rows per block when m > 1 (64 x 4 KiB q8_0 chunk: L2) */
#define FMR 4     /* up to this many X rows: the decode path (frow), beyond: packed GEMM */
/* Packed prefill path for float weights (m > FMR): a block of GNB W rows x GKC values is
 * transposed (and converted to f32) once per thread into 16-row vectors, [c][16 rows], and
 * multiplied by GMR X rows at a time as outer products: X broadcast from memory, 2 vectors of
 * W, 2 x GMR accumulators, no horizontal sums (the BLIS scheme, W^T as the packed B). */
#define GMR 8     /* X rows per float packed tile (x 32 W rows: 16 zmm accumulators) */
#define GKC 256   /* k per chunk: a 2-vector panel is 32 KiB, the 8 X rows 8 KiB (L1) */
#define GNB 64    /* W rows per packed block (4 vectors) */
#define GPACK_BYTES ((size_t)GNB * GKC * sizeof(float))
#define TILE_BYTES ((size_t)192 << 10) /* per-thread pack buffer (both packed paths) */
_Static_assert(GPACK_BYTES <= TILE_BYTES, "the float pack lives in the tile buffer");
/* Packed prefill path for q8_0/q4_0 with VNNI (m >= PACK_MIN_M): a block of PNB W rows x PKB
 * blocks is repacked once per thread into 16-row vectors (4-byte groups of 16 rows side by
 * side, u8), so one vpdpbusd multiplies 16 W rows by 4 bytes of X broadcast from memory and
 * each 32-bit lane sums a whole block of one W row: no horizontal sums, one convert and one
 * FMA per block for 16 rows. The pack is reused by every X row. */
#define PMR 4       /* X rows per packed tile (x 32 W rows) */
#define PKB 64      /* blocks per k chunk */
#define PNB 64      /* W rows per packed block: 4 vectors of 16 rows */
#define PBLK 576    /* bytes per (16 rows, block): 8 groups x 64 B of quants + 16 f32 scales */
#define PACK_MIN_M 8
#define PACK_BYTES ((size_t)(PNB / 16) * PKB * PBLK)
_Static_assert(PACK_BYTES <= TILE_BYTES, "the pack lives in the per-thread tile buffer");

/* ---- VNNI without -mavx512vnni: acc += sum of 4 (u8 a * s8 b) per 32-bit lane ---- */
INLINE __m512i dpbusd(__m512i acc, __m512i a_u8, __m512i b_s8) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a_u8), "v"(b_s8));
    return acc;
}

/* The same with the s8 operand 4 bytes of memory broadcast to every lane. */
INLINE __m512i dpbusd_bcast(__m512i acc, __m512i a_u8, const uint8_t *b_s8x4) {
    __asm__("vpdpbusd %2%{1to16%}, %1, %0"
            : "+v"(acc)
            : "v"(a_u8), "m"(*(const int32_t *)(const void *)b_s8x4));
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
 * offset: store q + 128 as u8 (the operand form of the dot-product path). corr (when not
 * NULL): corr_mul x the sum of each block's quants (the packed path's correction). */
static void quantize_row(const float *x, int64_t k, uint8_t *q, size_t xstride, float *d,
                         size_t dstride, int offset, int32_t *corr, int32_t corr_mul) {
    const int64_t nb = k / 32;
    const __m128i flip = _mm_set1_epi8(offset ? (char)0x80 : 0);
    for (int64_t b = 0; b < nb; b++) {
        const __m512 v0 = _mm512_loadu_ps(x + b * 32), v1 = _mm512_loadu_ps(x + b * 32 + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        const float dv = amax / 127.0f;
        const float id = dv != 0.0f ? 1.0f / dv : 0.0f;
        d[b] = _cvtsh_ss(_cvtss_sh(dv, _MM_FROUND_TO_NEAREST_INT)); /* == tlb_f32_to_f16 */
        const __m512 vid = _mm512_set1_ps(id);
        const __m512i i0 = round_away(_mm512_mul_ps(v0, vid)), i1 = round_away(_mm512_mul_ps(v1, vid));
        const __m128i q0 = _mm512_cvtepi32_epi8(i0), q1 = _mm512_cvtepi32_epi8(i1);
        _mm_storeu_si128((__m128i *)(void *)(q + b * 32), _mm_xor_si128(q0, flip));
        _mm_storeu_si128((__m128i *)(void *)(q + b * 32 + 16), _mm_xor_si128(q1, flip));
        /* the int8 value of each quant: NaN input made 0x80000000, stored as 0 */
        if (corr)
            corr[b] = corr_mul * _mm512_reduce_add_epi32(
                                     _mm512_add_epi32(_mm512_cvtepi8_epi32(q0), _mm512_cvtepi8_epi32(q1)));
    }
    memset(q + nb * 32, offset ? 0x80 : 0, xstride - (size_t)nb * 32);
    for (size_t b = (size_t)nb; b < dstride; b++) {
        d[b] = 0.0f;
        if (corr) corr[b] = 0;
    }
}

/* ---- quantized weights ---- */

/* Two consecutive blocks (the second absent when half) of a q8_0 or q4_0 row as 64 quants:
 * q8_0 signed, q4_0 the unsigned nibbles q (the -8 is X's correction); and their scales as
 * [d0 x8 | d1 x8] matching dpbusd's lanes. */
INLINE __m512i load_wq(const uint8_t *w, int q4, int half) {
    const uint8_t *q0 = w + TLB_BLOCK_QS(q4), *q1 = q0 + TLB_BLOCK_BYTES(q4);
    if (!q4) {
        const __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)q0);
        const __m256i hi = half ? _mm256_setzero_si256()
                                : _mm256_loadu_si256((const __m256i *)(const void *)q1);
        return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
    const __m128i n0 = _mm_loadu_si128((const __m128i *)(const void *)q0);
    const __m128i n1 = half ? _mm_setzero_si128()
                            : _mm_loadu_si128((const __m128i *)(const void *)q1);
    const __m512i z = _mm512_castsi256_si512(_mm256_set_m128i(n1, n0));
    /* [n0, n0, n1, n1]; odd 128-bit lanes take the high nibbles (elements 16..31) */
    const __m512i dup = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(1, 1, 0, 0));
    const __m512i sh = _mm512_srlv_epi64(dup, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
    return _mm512_and_si512(sh, _mm512_set1_epi8(0x0f));
}

INLINE __m512 load_ws(const uint8_t *w, int q4, int half) {
    const uint16_t d0 = tlb_block_scale(w), d1 = half ? 0 : tlb_block_scale(w + TLB_BLOCK_BYTES(q4));
    return _mm512_cvtph_ps(_mm256_set_m128i(_mm_set1_epi16((short)d1), _mm_set1_epi16((short)d0)));
}

/* [d[0] x8 | d[1] x8] */
INLINE __m512 load_xs(const float *d) {
    const __m512 two = _mm512_castps128_ps512(_mm_castpd_ps(_mm_load_sd((const double *)(const void *)d)));
    return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), two);
}

/* One step of two blocks for an mr x nr tile.
 * q4_0: nibbles q (u8) x X (s8), minus 8 x sum(x) per lane, that correction computed once per
 * X load (no saturation without VNNI either: q <= 15).
 * q8_0 with VNNI: X as u8 (q + 128): sum (x + 128) w - 128 sum w, the correction computed
 * once per W load. q8_0 without: |w| * (x with w's sign), which cannot saturate
 * vpmaddubsw (|w| <= 128, |x| <= 127). */
INLINE void qstep(const int mr, const int nr, const int vnni, const int q4, const int half,
                  const uint8_t *const *xr, const float *const *xd, const uint8_t *const *wr,
                  int64_t b, __m512 acc[QMR][QNR]) {
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    const __m512i ones16 = _mm512_set1_epi16(1);
    __m512i xv[QMR], xc[QMR];
    __m512 xs[QMR];
    for (int r = 0; r < mr; r++) {
        xv[r] = _mm512_loadu_si512((const void *)(xr[r] + b * 32));
        xs[r] = load_xs(xd[r] + b);
        if (q4) {
            const __m512i e8 = _mm512_set1_epi8(8);
            xc[r] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                     vnni ? dpbusd(_mm512_setzero_si512(), e8, xv[r])
                                          : _mm512_madd_epi16(_mm512_maddubs_epi16(e8, xv[r]), ones16));
        }
    }
    for (int j = 0; j < nr; j++) {
        const uint8_t *w = wr[j] + (size_t)b * bsz;
        const __m512i wq = load_wq(w, q4, half);
        const __m512 ws = load_ws(w, q4, half);
        if (q4) {
            for (int r = 0; r < mr; r++) {
                const __m512i t = vnni ? dpbusd(xc[r], wq, xv[r])
                                       : _mm512_add_epi32(xc[r], _mm512_madd_epi16(
                                                              _mm512_maddubs_epi16(wq, xv[r]), ones16));
                acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(ws, xs[r]),
                                            acc[r][j]);
            }
        } else if (vnni) {
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
                const __m512i t = _mm512_madd_epi16(_mm512_maddubs_epi16(aw, sx), ones16);
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

/* Decode: one W row at a time. Streaming rows one after the other is a single sequential
 * stream the hardware prefetcher follows; interleaving 4 rows measured ~40% less bandwidth
 * (9-11 vs 16-18 GB/s on one Zen 5 core, q4_0 32000x2048 from DRAM). */
#define QDEC(V, Q4)                                                                            \
    static void qdec_##V##_##Q4(const uint8_t *const *xr, const float *const *xd,              \
                                const uint8_t *const *wr, int64_t nblk, float out[QMR][QNR]) { \
        qtile(1, 1, V, Q4, xr, xd, wr, nblk, out);                                             \
    }
QDEC(0, 0)
QDEC(0, 1)
QDEC(1, 0)
QDEC(1, 1)
static const qtile_fn qdecs[2][2] = {{qdec_0_0, qdec_0_1}, {qdec_1_0, qdec_1_1}};

/* Decode with X's per-pair vectors computed once per matmul: xs (the [dx0 x8 | dx1 x8]
 * scales) and, for q4_0, xc (-8 x sum(x) per lane); each row step is then loads + the W side. */
INLINE __m512 qrow_pair(const int vnni, const int q4, const uint8_t *xq, const float *xs,
                        const int32_t *xc, const uint8_t *w, int64_t b, int half, __m512 acc) {
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    const __m512i ones16 = _mm512_set1_epi16(1);
    const uint8_t *wb = w + (size_t)b * bsz;
    const __m512i xv = _mm512_loadu_si512((const void *)(xq + b * 32));
    const __m512 s = _mm512_mul_ps(load_ws(wb, q4, half), _mm512_load_ps(xs + b * 8));
    const __m512i wq = load_wq(wb, q4, half);
    __m512i t;
    if (q4) {
        const __m512i c = _mm512_load_si512((const void *)(xc + b * 8));
        t = vnni ? dpbusd(c, wq, xv)
                 : _mm512_add_epi32(c, _mm512_madd_epi16(_mm512_maddubs_epi16(wq, xv), ones16));
    } else if (vnni) {
        const __m512i corr = _mm512_sub_epi32(
            _mm512_setzero_si512(), dpbusd(_mm512_setzero_si512(), _mm512_set1_epi8((char)0x80), wq));
        t = dpbusd(corr, xv, wq);
    } else {
        const __m512i sx = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(wq), _mm512_setzero_si512(), xv);
        t = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(wq), sx), ones16);
    }
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), s, acc);
}

INLINE float qrow(const int vnni, const int q4, const uint8_t *xq, const float *xs,
                  const int32_t *xc, const uint8_t *w, int64_t nblk) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(); /* two FMA chains */
    int64_t b = 0;
    for (; b + 4 <= nblk; b += 4) {
        a0 = qrow_pair(vnni, q4, xq, xs, xc, w, b, 0, a0);
        a1 = qrow_pair(vnni, q4, xq, xs, xc, w, b + 2, 0, a1);
    }
    for (; b < nblk; b += 2) a0 = qrow_pair(vnni, q4, xq, xs, xc, w, b, b + 1 >= nblk, a0);
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

typedef float (*qrow_fn)(const uint8_t *, const float *, const int32_t *, const uint8_t *, int64_t);
#define QROWF(V, Q4)                                                                           \
    static float qrow_##V##_##Q4(const uint8_t *xq, const float *xs, const int32_t *xc,        \
                                 const uint8_t *w, int64_t nblk) {                             \
        return qrow(V, Q4, xq, xs, xc, w, nblk);                                               \
    }
QROWF(0, 0)
QROWF(0, 1)
QROWF(1, 0)
QROWF(1, 1)
static const qrow_fn qrows[2][2] = {{qrow_0_0, qrow_0_1}, {qrow_1_0, qrow_1_1}};

/* ---- quantized weights, packed (prefill with VNNI) ---- */

/* Repack W rows [jb, je) x blocks [b0, b0 + nblk) into p: vector v (rows jb + 16v ..) block
 * b at p + (v * nblk + b) * PBLK: group g (quants 4g..4g+3) of row i at g * 64 + i * 4, as
 * u8 (q8_0: w + 128, q4_0: q); then the 16 scales as f32. Missing rows are zeros. Each
 * 16-row block is an 16 x 8 dword transpose done in registers (two 8 x 8 halves per zmm). */
static void pack_quant(const struct tlb_tensor *w, int64_t jb, int64_t je, int64_t b0,
                       int64_t nblk, uint8_t *p) {
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const size_t rb = tlb_type_row_bytes(w->type, w->cols), bsz = TLB_BLOCK_BYTES(q4);
    static const struct tlb_block_q8_0 zero_block; /* the larger block */
    const __m512i lo_idx = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    const __m512i hi_idx = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    for (int v = 0; v < PNB / 16; v++) {
        const uint8_t *rows[16];
        for (int i = 0; i < 16; i++) {
            const int64_t row = jb + v * 16 + i;
            rows[i] = row < je ? (const uint8_t *)w->data + (size_t)row * rb + (size_t)b0 * bsz : NULL;
        }
        uint8_t *pv = p + (size_t)v * (size_t)nblk * PBLK;
        for (int64_t b = 0; b < nblk; b++) {
            __m256i q[16];
            uint16_t h[16];
            for (int i = 0; i < 16; i++) {
                const uint8_t *blk = rows[i] ? rows[i] + (size_t)b * bsz : (const uint8_t *)&zero_block;
                if (q4) {
                    const __m128i nb = _mm_loadu_si128((const __m128i *)(const void *)(blk + TLB_BLOCK_QS(1)));
                    q[i] = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(nb, 4), nb),
                                            _mm256_set1_epi8(0x0f));
                } else {
                    q[i] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(blk + TLB_BLOCK_QS(0))),
                                            _mm256_set1_epi8((char)0x80));
                }
                if (!rows[i]) q[i] = _mm256_setzero_si256();
                h[i] = tlb_block_scale(blk);
            }
            __m512i z[8], t[8], u[8];
            for (int i = 0; i < 8; i++) /* row i in the low half, row i + 8 in the high half */
                z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(q[i]), q[i + 8], 1);
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm512_unpacklo_epi32(z[i], z[i + 1]);
                t[i + 1] = _mm512_unpackhi_epi32(z[i], z[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
                u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
                u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
                u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
            }
            uint8_t *pb = pv + (size_t)b * PBLK;
            for (int g = 0; g < 4; g++) { /* u[g]: groups g (128-bit lanes 0, 2) and g + 4 */
                _mm512_store_si512((void *)(pb + g * 64), _mm512_permutex2var_epi64(u[g], lo_idx, u[g + 4]));
                _mm512_store_si512((void *)(pb + (g + 4) * 64),
                                   _mm512_permutex2var_epi64(u[g], hi_idx, u[g + 4]));
            }
            __m512 sc = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)h));
            for (int i = 0; i < 16; i++)
                if (!rows[i]) sc = _mm512_mask_mov_ps(sc, (__mmask16)(1u << i), _mm512_setzero_ps());
            _mm512_store_ps((void *)(pb + 512), sc);
        }
    }
}

/* out[r][0..31] = X row r . the 32 W rows of vectors p0, p1 over nblk blocks. Each block:
 * lanes start at X's correction (-8 or -128 x sum of the block's quants), 8 vpdpbusd per
 * vector and row, then one convert and one FMA by the 16 row scales x X's scale. */
INLINE void ptile(const int mr, const uint8_t *const *xq, const float *const *xd,
                  const int32_t *const *xc, const uint8_t *p0, const uint8_t *p1, int64_t nblk,
                  float out[PMR][32]) {
    __m512 fa[PMR][2];
    for (int r = 0; r < mr; r++) fa[r][0] = fa[r][1] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nblk; b++) {
        const uint8_t *q0 = p0 + (size_t)b * PBLK, *q1 = p1 + (size_t)b * PBLK;
        __m512i ia[PMR][2];
        for (int r = 0; r < mr; r++) ia[r][0] = ia[r][1] = _mm512_set1_epi32(xc[r][b]);
        for (int g = 0; g < 8; g++) {
            const __m512i v0 = _mm512_load_si512((const void *)(q0 + g * 64));
            const __m512i v1 = _mm512_load_si512((const void *)(q1 + g * 64));
            for (int r = 0; r < mr; r++) {
                const uint8_t *xb = xq[r] + b * 32 + g * 4;
                ia[r][0] = dpbusd_bcast(ia[r][0], v0, xb);
                ia[r][1] = dpbusd_bcast(ia[r][1], v1, xb);
            }
        }
        const __m512 ws0 = _mm512_load_ps((const void *)(q0 + 512));
        const __m512 ws1 = _mm512_load_ps((const void *)(q1 + 512));
        for (int r = 0; r < mr; r++) {
            const __m512 xs = _mm512_set1_ps(xd[r][b]);
            fa[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[r][0]), _mm512_mul_ps(ws0, xs), fa[r][0]);
            fa[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[r][1]), _mm512_mul_ps(ws1, xs), fa[r][1]);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm512_storeu_ps(out[r], fa[r][0]);
        _mm512_storeu_ps(out[r] + 16, fa[r][1]);
    }
}

typedef void (*ptile_fn)(const uint8_t *const *, const float *const *, const int32_t *const *,
                         const uint8_t *, const uint8_t *, int64_t, float[PMR][32]);
#define PTILE(MR)                                                                              \
    static void ptile_##MR(const uint8_t *const *xq, const float *const *xd,                   \
                           const int32_t *const *xc, const uint8_t *p0, const uint8_t *p1,     \
                           int64_t nblk, float out[PMR][32]) {                                 \
        ptile(MR, xq, xd, xc, p0, p1, nblk, out);                                              \
    }
PTILE(1)
PTILE(2)
PTILE(3)
PTILE(4)
static const ptile_fn ptiles[PMR] = {ptile_1, ptile_2, ptile_3, ptile_4};

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

/* out[r] = X row r . the W row over len values (decode / small m: one W row at a time, see
 * qdecs). Four accumulators per X row: one would be bound by FMA latency (one zmm per 4
 * cycles, ~28 GB/s of f32 and half that of f16), not by memory. */
INLINE void frow(const int mr, const int wt, const float *const *xr, const void *w, int64_t len,
                 float out[FMR]) {
    __m512 acc[FMR][4];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 64 <= len; c += 64)
        for (int u = 0; u < 4; u++) {
            const __m512 wv = load_wf(wt, w, c + 16 * u, 0, 0);
            for (int r = 0; r < mr; r++)
                acc[r][u] = _mm512_fmadd_ps(_mm512_loadu_ps(xr[r] + c + 16 * u), wv, acc[r][u]);
        }
    for (; c + 16 <= len; c += 16) {
        const __m512 wv = load_wf(wt, w, c, 0, 0);
        for (int r = 0; r < mr; r++) acc[r][0] = _mm512_fmadd_ps(_mm512_loadu_ps(xr[r] + c), wv, acc[r][0]);
    }
    if (c < len) {
        const __mmask16 mask = (__mmask16)((1u << (len - c)) - 1);
        const __m512 wv = load_wf(wt, w, c, mask, 1);
        for (int r = 0; r < mr; r++)
            acc[r][1] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, xr[r] + c), wv, acc[r][1]);
    }
    for (int r = 0; r < mr; r++)
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]),
                                                    _mm512_add_ps(acc[r][2], acc[r][3])));
}

typedef void (*frow_fn)(const float *const *, const void *, int64_t, float[FMR]);
#define FROWF(MR, WT)                                                                          \
    static void frow_##MR##_##WT(const float *const *xr, const void *w, int64_t len,           \
                                 float out[FMR]) {                                             \
        frow(MR, WT, xr, w, len, out);                                                         \
    }
#define FROWS(WT) FROWF(1, WT) FROWF(2, WT) FROWF(3, WT) FROWF(4, WT)
FROWS(WT_F32)
FROWS(WT_F16)
FROWS(WT_BF16)
#define FROW(WT) {frow_1_##WT, frow_2_##WT, frow_3_##WT, frow_4_##WT}
static const frow_fn frows[3][FMR] = {FROW(WT_F32), FROW(WT_F16), FROW(WT_BF16)};

/* In-register transpose of 16 x 16 floats: r[i][c] -> r[c][i]. */
INLINE void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
#define PD(x) _mm512_castps_pd(x)
        u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(PD(t[i]), PD(t[i + 2])));
        u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(PD(t[i]), PD(t[i + 2])));
        u[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(PD(t[i + 1]), PD(t[i + 3])));
        u[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(PD(t[i + 1]), PD(t[i + 3])));
#undef PD
    }
    /* u[4q + e], 128-bit lane L: column 4L + e of rows 4q .. 4q + 3 */
    for (int e = 0; e < 4; e++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x44);
        const __m512 v1 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xee);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x44);
        const __m512 v3 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xee);
        r[e] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[4 + e] = _mm512_shuffle_f32x4(v0, v2, 0xdd);
        r[8 + e] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[12 + e] = _mm512_shuffle_f32x4(v1, v3, 0xdd);
    }
}

/* Pack W rows [jb, je) x values [c0, c0 + len) as f32 into p: vector v (rows jb + 16v ..)
 * at p + v * len * 16, value c of its 16 rows at + c * 16. Missing rows are zeros. */
static void pack_float(const struct tlb_tensor *w, int wt, int64_t jb, int64_t je, int64_t c0,
                       int64_t len, float *p) {
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    for (int v = 0; v < GNB / 16 && jb + v * 16 < je; v++) {
        const void *rows[16];
        for (int i = 0; i < 16; i++) {
            const int64_t row = jb + v * 16 + i;
            rows[i] = row < je ? (const char *)w->data + (size_t)row * rb : NULL;
        }
        float *pv = p + (size_t)v * (size_t)len * 16;
        for (int64_t c = 0; c < len; c += 16) {
            const int64_t cnt = len - c < 16 ? len - c : 16;
            const __mmask16 mask = (__mmask16)((1u << cnt) - 1);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = rows[i] ? load_wf(wt, rows[i], c0 + c, mask, cnt < 16) : _mm512_setzero_ps();
            transpose16(r);
            for (int i = 0; i < cnt; i++) _mm512_store_ps(pv + (size_t)(c + i) * 16, r[i]);
        }
    }
}

/* out[r][0..31] = X row r . the 32 W rows of packed vectors p0, p1 over len values:
 * outer products, X broadcast from memory. */
INLINE void gtile(const int mr, const float *const *xr, const float *p0, const float *p1,
                  int64_t len, float out[GMR][32]) {
    __m512 acc[GMR][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t c = 0; c < len; c++) {
        const __m512 w0 = _mm512_load_ps(p0 + c * 16), w1 = _mm512_load_ps(p1 + c * 16);
        for (int r = 0; r < mr; r++) {
            const __m512 xv = _mm512_set1_ps(xr[r][c]);
            acc[r][0] = _mm512_fmadd_ps(xv, w0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(xv, w1, acc[r][1]);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm512_storeu_ps(out[r], acc[r][0]);
        _mm512_storeu_ps(out[r] + 16, acc[r][1]);
    }
}

typedef void (*gtile_fn)(const float *const *, const float *, const float *, int64_t,
                         float[GMR][32]);
#define GTILE(MR)                                                                              \
    static void gtile_##MR(const float *const *xr, const float *p0, const float *p1,           \
                           int64_t len, float out[GMR][32]) {                                  \
        gtile(MR, xr, p0, p1, len, out);                                                       \
    }
GTILE(1)
GTILE(2)
GTILE(3)
GTILE(4)
GTILE(5)
GTILE(6)
GTILE(7)
GTILE(8)
static const gtile_fn gtiles[GMR] = {gtile_1, gtile_2, gtile_3, gtile_4,
                                     gtile_5, gtile_6, gtile_7, gtile_8};

/* ---- jobs ---- */

#define KNAME "avx512 kernel" /* for messages */
#define VL 16 /* floats per vector */
#include "simd-jobs.h"

static void quant_rows(const struct job *j, int64_t lo, int64_t hi, char *tile) {
    const struct tlb_tensor *w = j->w;
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const int64_t nbk = w->cols / 32;
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    const int m = j->m;
    const int64_t npairs = (nbk + 1) / 2;
    if (m == 1 && (size_t)npairs * 128 <= TILE_BYTES) {
        /* decode: X's per-pair vectors once, then W streamed row after row */
        float *xs = (float *)(void *)tile;
        int32_t *xc = (int32_t *)(void *)(tile + (size_t)npairs * 64);
        const __m512i e8 = _mm512_set1_epi8(8);
        for (int64_t p = 0; p < npairs; p++) {
            _mm512_store_ps(xs + p * 16, load_xs(j->xd + 2 * p));
            if (q4) {
                const __m512i xv = _mm512_loadu_si512((const void *)(j->xq + p * 64));
                const __m512i c = j->vnni ? dpbusd(_mm512_setzero_si512(), e8, xv)
                                          : _mm512_madd_epi16(_mm512_maddubs_epi16(e8, xv),
                                                              _mm512_set1_epi16(1));
                _mm512_store_si512((void *)(xc + p * 16), _mm512_sub_epi32(_mm512_setzero_si512(), c));
            }
        }
        const qrow_fn f = qrows[j->vnni][q4];
        for (int64_t i = lo; i < hi; i++)
            j->y[i] = f(j->xq, xs, xc, (const uint8_t *)w->data + (size_t)i * rb, nbk);
        return;
    }
    if (m == 1) { /* decode, very long rows: stream W once, row after row, whole k */
        const qtile_fn f = qdecs[j->vnni][q4];
        const uint8_t *xr[1] = {j->xq};
        const float *xd[1] = {j->xd};
        for (int64_t i = lo; i < hi; i++) {
            const uint8_t *wr[1] = {(const uint8_t *)w->data + (size_t)i * rb};
            float out[QMR][QNR];
            f(xr, xd, wr, nbk, out);
            j->y[i] = out[0][0];
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

static void quant_packed(const struct job *j, int64_t lo, int64_t hi, uint8_t *pack) {
    const struct tlb_tensor *w = j->w;
    const int64_t nbk = w->cols / 32;
    const int m = j->m;
    for (int64_t b0 = 0; b0 < nbk; b0 += PKB) {
        const int64_t nblk = nbk - b0 < PKB ? nbk - b0 : PKB;
        for (int64_t jb = lo; jb < hi; jb += PNB) {
            const int64_t je = jb + PNB < hi ? jb + PNB : hi;
            const int nv = (int)((je - jb + 15) / 16);
            pack_quant(w, jb, je, b0, nblk, pack);
            int per_step; /* columns: 32 per block */
            struct prefetch pf = next_pack(w, b0 * 32, PKB * 32, je, lo, hi, PNB, (m + PMR - 1) / PMR,
                                           &per_step);
            for (int r0 = 0; r0 < m; r0 += PMR) {
                prefetch_some(&pf, per_step);
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
                    float out[PMR][32];
                    ptiles[mr - 1](xq, xd, xc, p0, p1, nblk, out);
                    store_tile(j, r0, mr, jb + v * 16, 32, je, b0 > 0, &out[0][0], 32);
                }
            }
        }
    }
}

static void quantize_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    const int64_t k = j->w->cols;
    /* u8 X (q + 128) only for q8_0 on the VNNI dot-product path; s8 everywhere else */
    const int offset = j->vnni && !j->packed && j->w->type == TLB_TYPE_Q8_0;
    const int32_t cm = j->w->type == TLB_TYPE_Q4_0 ? -8 : -128;
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    for (long r = lo; r < hi; r++)
        quantize_row(j->x + (size_t)r * (size_t)k, k, j->xq + (size_t)r * j->xstride, j->xstride,
                     j->xd + (size_t)r * j->dstride, j->dstride, offset,
                     j->packed ? j->xc + (size_t)r * j->dstride : NULL, cm);
}

TLB_TARGET_POP()

/* ---- descriptor (baseline code: the probe runs on any CPU) ---- */

#define NEEDED (TLB_CPU_BIT(TLB_CPU_AVX) | TLB_CPU_BIT(TLB_CPU_AVX2) | TLB_CPU_BIT(TLB_CPU_FMA) | \
                TLB_CPU_BIT(TLB_CPU_F16C) | TLB_CPU_BIT(TLB_CPU_AVX512F) |                      \
                TLB_CPU_BIT(TLB_CPU_AVX512BW) | TLB_CPU_BIT(TLB_CPU_AVX512VL) |                 \
                TLB_CPU_BIT(TLB_CPU_AVX512DQ))

static int avx512_probe(char *why, size_t why_len) {
    return tlb_cpu_require(NEEDED, "avx512 kernel", why, why_len);
}

static int avx512_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    return simd_init(state, tlb_cpu_has(TLB_CPU_AVX512VNNI));
}

static const char *avx512_version(void *state) {
    const struct simd_state *s = state;
    const int vnni = s ? s->vnni : tlb_cpu_has(TLB_CPU_AVX512VNNI);
    return vnni ? "AVX-512 + VNNI (vpdpbusd)" : "AVX-512BW (vpmaddubsw, no VNNI)";
}

const struct tlb_kernel tlb_kernel_avx512 = {
    .name = "avx512",
    .summary = "x86 AVX-512 (+VNNI where present): zmm register tiles, q8_0 activations",
    .wtypes = TLB_ALL_TYPES,
    .priority = 30,
    .probe = avx512_probe,
    .init = avx512_init,
    .release = simd_release,
    .matmul = simd_matmul,
    .version = avx512_version,
    .scratch_bytes = simd_scratch,
};

#else /* not an x86-64 build */

static int avx512_probe(char *why, size_t why_len) {
    snprintf(why, why_len, "x86-only kernel (this binary is not built for x86-64)");
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
