/* avx512.c — x86 AVX-512 kernel (F/BW/VL/DQ + FMA + F16C; VNNI when present): decode streams
 * W row by row (f16/bf16 converted exactly in registers; q8_0/q4_0 against X quantized once
 * to q8_0, bit-exact with the reference), or with VNNI q8_0/q4_0 16 rows at a time from the
 * R16 layout the weights are put in at load (layout.h, avx512_layout); prefill repacks W per
 * thread for outer-product f32 GEMM or 16-row vpdpbusd tiles. Everything but the probe and
 * the descriptor is compiled for ISA below (isa-target.h), so the binary still runs on any
 * x86-64 CPU. VNNI is inline asm,
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
#define GKC 512   /* k per chunk: a 2-vector panel is 64 KiB, the 8 X rows 16 KiB (L1) */
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

/* Decode: one W row at a time (rows one after the other are a single sequential stream for
 * the hardware prefetcher; interleaving 4 rows measured ~40% less bandwidth on Zen 5), with
 * X's per-pair vectors prepared once per matmul (decode_prep): xs (the [dx0 x8 | dx1 x8]
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
    } else if (vnni) { /* W as u8 (w + 128), X s8: minus 128 x sum(x), X's correction */
        t = dpbusd(_mm512_load_si512((const void *)(xc + b * 8)),
                   _mm512_xor_si512(wq, _mm512_set1_epi8((char)0x80)), xv);
    } else {
        const __m512i sx = _mm512_mask_sub_epi8(xv, _mm512_movepi8_mask(wq), _mm512_setzero_si512(), xv);
        t = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(wq), sx), ones16);
    }
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), s, acc);
}

/* nf rows (w + f * stride, nf <= 2) side by side; out[f * ostride]. Rows far apart in memory:
 * two separate streams keep more reads in flight and share every X load (see fdec). */
INLINE void qrows(const int vnni, const int q4, const int nf, const uint8_t *xq, const float *xs,
                  const int32_t *xc, const uint8_t *w, size_t stride, int64_t nblk, float *out,
                  size_t ostride) {
    __m512 a[2][2]; /* two FMA chains per row */
    for (int f = 0; f < nf; f++) a[f][0] = a[f][1] = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 4 <= nblk; b += 4)
        for (int f = 0; f < nf; f++) {
            a[f][0] = qrow_pair(vnni, q4, xq, xs, xc, w + (size_t)f * stride, b, 0, a[f][0]);
            a[f][1] = qrow_pair(vnni, q4, xq, xs, xc, w + (size_t)f * stride, b + 2, 0, a[f][1]);
        }
    for (; b < nblk; b += 2)
        for (int f = 0; f < nf; f++)
            a[f][0] = qrow_pair(vnni, q4, xq, xs, xc, w + (size_t)f * stride, b, b + 1 >= nblk, a[f][0]);
    for (int f = 0; f < nf; f++) out[(size_t)f * ostride] = _mm512_reduce_add_ps(_mm512_add_ps(a[f][0], a[f][1]));
}

/* Decode rows of quantized weights: X prepared by decode_prep (xdec) and quantized (xq); nf
 * rows w + f * stride, out[f * ostride]. */
typedef void (*qdec_fn)(const void *xdec, const uint8_t *xq, int64_t nblk, const uint8_t *w,
                        size_t stride, float *out, size_t ostride);
#define QROWSF(V, Q4, NF)                                                                       \
    static void qrows_##V##_##Q4##_##NF(const void *xdec, const uint8_t *xq, int64_t nblk,      \
                                        const uint8_t *w, size_t stride, float *out,            \
                                        size_t ostride) {                                       \
        const float *xs = xdec;                                                                 \
        qrows(V, Q4, NF, xq, xs, (const int32_t *)(const void *)(xs + (nblk + 1) / 2 * 16), w,  \
              stride, nblk, out, ostride);                                                      \
    }
#define QROWS2(V, Q4) QROWSF(V, Q4, 1) QROWSF(V, Q4, 2)
QROWS2(0, 0)
QROWS2(0, 1)
QROWS2(1, 0)
QROWS2(1, 1)
#define QDEC(V, Q4) {qrows_##V##_##Q4##_1, qrows_##V##_##Q4##_2}
static const qdec_fn qdecs[2][2][2] = {{QDEC(0, 0), QDEC(0, 1)}, {QDEC(1, 0), QDEC(1, 1)}};

/* ---- decode with AVX512-VBMI byte permutes (and VNNI) ----
 * The unaligned blocks of a row are gathered with vpermt2b from two overlapping 64-byte loads,
 * so one step takes 4 q4_0 blocks (72 bytes, 128 weights) with about half the instructions of
 * the pair path above, which bound q4_0 by compute rather than by memory on one core (19 GB/s
 * with W in L1 on Zen 4; 28-34 this way). The same for 2 q8_0 blocks measured slower than the
 * pair path (30 against 41 GB/s from L1: the permute costs more than the loads it saves), so
 * q8_0 keeps it. vpermt2b is inline asm (no -mavx512vbmi, as for VNNI). */

/* a = bytes of the 128-byte concatenation (a, b) picked by idx */
INLINE __m512i permt2b(__m512i a, __m512i idx, __m512i b) {
    __asm__("vpermt2b %2, %1, %0" : "+v"(a) : "v"(idx), "v"(b));
    return a;
}

/* Source of byte o of a step's gathered quants: block o / per of the step, quant o % per, at
 * byte off of the step's first load or (beyond its first `shift` bytes) of the second load,
 * made at +shift so that both loads stay inside the step's blocks. */
#define GATHER(o, per, bytes, qs, shift)                                                        \
    ((bytes) * ((o) / (per)) + (qs) + (o) % (per) < (shift)                                     \
         ? (bytes) * ((o) / (per)) + (qs) + (o) % (per)                                         \
         : 64 + (bytes) * ((o) / (per)) + (qs) + (o) % (per) - (shift))
#define G8(b, per, bytes, qs, sh)                                                               \
    GATHER(b, per, bytes, qs, sh), GATHER(b + 1, per, bytes, qs, sh),                           \
        GATHER(b + 2, per, bytes, qs, sh), GATHER(b + 3, per, bytes, qs, sh),                   \
        GATHER(b + 4, per, bytes, qs, sh), GATHER(b + 5, per, bytes, qs, sh),                   \
        GATHER(b + 6, per, bytes, qs, sh), GATHER(b + 7, per, bytes, qs, sh)
#define G64(per, bytes, qs, sh)                                                                 \
    {G8(0, per, bytes, qs, sh),  G8(8, per, bytes, qs, sh),  G8(16, per, bytes, qs, sh),        \
     G8(24, per, bytes, qs, sh), G8(32, per, bytes, qs, sh), G8(40, per, bytes, qs, sh),        \
     G8(48, per, bytes, qs, sh), G8(56, per, bytes, qs, sh)}
#define Q4_STEP ((int64_t)(4 * TLB_BLOCK_BYTES(1))) /* 72 bytes: 4 blocks */
#define Q4_SHIFT (Q4_STEP - 64)
_Static_assert(TLB_BLOCK_BYTES(1) % 2 == 0, "the f16 scales sit at even offsets (16-bit permutes)");
/* 4 q4_0 blocks -> their 64 nibble bytes, block after block */
static const uint8_t q4_gather[64] = G64(16, TLB_BLOCK_BYTES(1), TLB_BLOCK_QS(1), Q4_SHIFT);
/* the scales' 16-bit words, each for the 4 lanes of its block */
#define SW(l, per, bytes) ((bytes) / 2 * ((l) / (per)))
#define SW16(per, bytes)                                                                        \
    {SW(0, per, bytes),  SW(1, per, bytes),  SW(2, per, bytes),  SW(3, per, bytes),             \
     SW(4, per, bytes),  SW(5, per, bytes),  SW(6, per, bytes),  SW(7, per, bytes),             \
     SW(8, per, bytes),  SW(9, per, bytes),  SW(10, per, bytes), SW(11, per, bytes),            \
     SW(12, per, bytes), SW(13, per, bytes), SW(14, per, bytes), SW(15, per, bytes)}
static const uint16_t q4_scale_words[32] = SW16(4, TLB_BLOCK_BYTES(1));

/* X for one q4_0 step (decode_prep): quants 0-15 of its 4 blocks, quants 16-31, the lanes'
 * correction -8 x sum(x) and the lanes' X scales (lane l: block l / 4). */
struct q4_xstep {
    uint8_t lo[64], hi[64];
    int32_t corr[16];
    float scale[16];
};

/* The step at p (rem bytes of the row left, < Q4_STEP only in the last step). */
INLINE __m512 q4_step(const uint8_t *p, int64_t rem, const struct q4_xstep *x, __m512 acc) {
    __m512i a, b;
    if (rem >= Q4_STEP) {
        a = _mm512_loadu_si512((const void *)p);
        b = _mm512_loadu_si512((const void *)(p + Q4_SHIFT));
    } else { /* bytes past the row's end read as 0: scale 0, nothing added */
        a = _mm512_maskz_loadu_epi8(rem >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << rem) - 1, p);
        b = _mm512_maskz_loadu_epi8(rem - Q4_SHIFT >= 64 ? ~(__mmask64)0
                                                          : ((__mmask64)1 << (rem - Q4_SHIFT)) - 1,
                                    p + Q4_SHIFT);
    }
    const __m512i q = permt2b(a, _mm512_loadu_si512((const void *)q4_gather), b);
    const __m512i m = _mm512_set1_epi8(0x0f);
    __m512i t = dpbusd(_mm512_load_si512((const void *)x->corr), _mm512_and_si512(q, m),
                       _mm512_load_si512((const void *)x->lo));
    t = dpbusd(t, _mm512_and_si512(_mm512_srli_epi16(q, 4), m), _mm512_load_si512((const void *)x->hi));
    const __m512 ws = _mm512_cvtph_ps(_mm512_castsi512_si256(
        _mm512_permutexvar_epi16(_mm512_loadu_si512((const void *)q4_scale_words), a)));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(ws, _mm512_load_ps(x->scale)), acc);
}

/* nf rows (w + f * stride) side by side, out[f * ostride]: 4 rows far apart measured 29 GB/s
 * against 23 for one row at a time (q4_0 2048 x 2048, one Zen 4 core): the X loads shared by
 * the rows were the load ports' bottleneck. */
INLINE void q4_rows(const int nf, const struct q4_xstep *x, const uint8_t *w, size_t stride,
                    int64_t nblk, float *out, size_t ostride) {
    const int64_t bytes = nblk * (int64_t)TLB_BLOCK_BYTES(1), steps = (nblk + 3) / 4;
    __m512 a[4];
    for (int f = 0; f < nf; f++) a[f] = _mm512_setzero_ps();
    int64_t s = 0;
    for (; s < steps && (s + 1) * Q4_STEP <= bytes; s++)
        for (int f = 0; f < nf; f++) a[f] = q4_step(w + (size_t)f * stride + s * Q4_STEP, Q4_STEP, x + s, a[f]);
    for (; s < steps; s++)
        for (int f = 0; f < nf; f++)
            a[f] = q4_step(w + (size_t)f * stride + s * Q4_STEP, bytes - s * Q4_STEP, x + s, a[f]);
    for (int f = 0; f < nf; f++) out[(size_t)f * ostride] = _mm512_reduce_add_ps(a[f]);
}
#define Q4ROWSF(NF)                                                                             \
    static void q4_rows_##NF(const void *xdec, const uint8_t *xq, int64_t nblk, const uint8_t *w, \
                             size_t stride, float *out, size_t ostride) {                       \
        (void)xq;                                                                               \
        q4_rows(NF, xdec, w, stride, nblk, out, ostride);                                       \
    }
Q4ROWSF(1)
Q4ROWSF(2)
Q4ROWSF(4)

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

/* ---- quantized weights in the R16 layout (layout.h), with VNNI ---- */

#define R16_GROUP(q4) ((size_t)TLB_R16_ROWS * TLB_BLOCK_BYTES(q4)) /* bytes per group and block */
#define R16_QUANTS(q4) ((q4) ? 256 : 512)                          /* then the 16 f16 scales */

/* Decode: y[f * ystride + i] = row i of group f (at w + f * stride, nf groups far apart read
 * side by side) . X, over nbk blocks. Per block and group: the lanes start at X's correction
 * (-128 or -8 x the block's quant sum), then 8 vpdpbusd (q8_0; q4_0: 4 loads, each split into
 * its low and high nibbles) with 4 quants of X broadcast from memory, one convert and one FMA
 * by the 16 rows' scales x X's. Counted in the object code (gcc 12 -O3): 30 instructions per
 * 544 bytes of q8_0 (one group, one block), against 33 per 136 bytes (132 per 544) for rows
 * one at a time (qrows). Groups are 32 bytes off 64-byte alignment every other block:
 * unaligned loads. */
INLINE void r16_dec(const int nf, const int q4, const uint8_t *w, size_t stride, int64_t nbk,
                    const uint8_t *xq, const float *xd, const int32_t *xc, float *y,
                    size_t ystride) {
    const size_t gb = R16_GROUP(q4);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 acc[4];
    for (int f = 0; f < nf; f++) acc[f] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nbk; b++) {
        const uint8_t *x = xq + b * 32;
        const __m512 xs = _mm512_set1_ps(xd[b]);
        const __m512i c = _mm512_set1_epi32(xc[b]);
        for (int f = 0; f < nf; f++) {
            const uint8_t *q = w + (size_t)f * stride + (size_t)b * gb;
            __m512i t = c;
            if (q4) {
                for (int v = 0; v < 4; v++) {
                    const __m512i wv = _mm512_loadu_si512((const void *)(q + v * 64));
                    t = dpbusd_bcast(t, _mm512_and_si512(wv, m4), x + 4 * v);
                    t = dpbusd_bcast(t, _mm512_and_si512(_mm512_srli_epi16(wv, 4), m4),
                                     x + 16 + 4 * v);
                }
            } else {
                for (int v = 0; v < 8; v++)
                    t = dpbusd_bcast(t, _mm512_loadu_si512((const void *)(q + v * 64)), x + 4 * v);
            }
            const __m512 ws =
                _mm512_cvtph_ps(_mm256_loadu_si256((const void *)(q + R16_QUANTS(q4))));
            acc[f] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(ws, xs), acc[f]);
        }
    }
    for (int f = 0; f < nf; f++) _mm512_storeu_ps(y + (size_t)f * ystride, acc[f]);
}

typedef void (*r16dec_fn)(const uint8_t *, size_t, int64_t, const uint8_t *, const float *,
                          const int32_t *, float *, size_t);
#define R16DEC(NF, Q4)                                                                         \
    static void r16_dec_##NF##_##Q4(const uint8_t *w, size_t stride, int64_t nbk,              \
                                    const uint8_t *xq, const float *xd, const int32_t *xc,     \
                                    float *y, size_t ystride) {                                \
        r16_dec(NF, Q4, w, stride, nbk, xq, xd, xc, y, ystride);                               \
    }
R16DEC(1, 0)
R16DEC(2, 0)
R16DEC(1, 1)
R16DEC(2, 1)
static const r16dec_fn r16decs[2][2] = {{r16_dec_1_0, r16_dec_2_0}, {r16_dec_1_1, r16_dec_2_1}};

/* Prefill: W rows [jb, je) (whole groups) x blocks [b0, b0 + nblk) of an R16 matrix into the
 * packed tiles' format (pack_quant's): the q8_0 quants as they are, q4_0's nibbles split into
 * bytes, the scales to f32. A copy, where pack_quant transposes. */
static void pack_r16(const struct tlb_tensor *w, int64_t jb, int64_t je, int64_t b0,
                     int64_t nblk, uint8_t *p) {
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const int64_t nbk = w->cols / 32;
    const size_t gb = R16_GROUP(q4);
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int64_t v = 0; v < (je - jb) / TLB_R16_ROWS; v++) {
        const uint8_t *src = (const uint8_t *)w->data +
                             ((size_t)((jb / TLB_R16_ROWS + v) * nbk + b0)) * gb;
        uint8_t *pv = p + (size_t)v * (size_t)nblk * PBLK;
        for (int64_t b = 0; b < nblk; b++, src += gb) {
            uint8_t *pb = pv + (size_t)b * PBLK;
            if (q4) {
                for (int g = 0; g < 4; g++) {
                    const __m512i wv = _mm512_loadu_si512((const void *)(src + g * 64));
                    _mm512_store_si512((void *)(pb + g * 64), _mm512_and_si512(wv, m4));
                    _mm512_store_si512((void *)(pb + (g + 4) * 64),
                                       _mm512_and_si512(_mm512_srli_epi16(wv, 4), m4));
                }
            } else {
                for (int g = 0; g < 8; g++)
                    _mm512_store_si512((void *)(pb + g * 64),
                                       _mm512_loadu_si512((const void *)(src + g * 64)));
            }
            _mm512_store_ps((void *)(pb + 512),
                            _mm512_cvtph_ps(
                                _mm256_loadu_si256((const void *)(src + R16_QUANTS(q4)))));
        }
    }
}

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

/* Decode (m = 1) of nf W rows far apart in memory (w + f * stride), side by side: each X
 * load serves nf rows, so the X row's traffic from L2 per weight byte drops by nf, and nf
 * separate sequential streams keep more DRAM reads in flight than one. Measured on one Zen 4
 * core (f16, 2048 x 5632: X is 22 KiB, so it does not stay in L1 beside the streamed rows):
 * 18 GB/s one row at a time, 26 with 4 rows, 29 with 6; rows next to each other instead of
 * far apart measured 16 (the prefetcher sees one confused stream). out[f * ostride]. */
#define FDEC_MAX 6
INLINE void fdec(const int wt, const int nf, const float *x, const char *w, size_t stride,
                 int64_t len, float *out, size_t ostride) {
    __m512 acc[FDEC_MAX][2];
    for (int f = 0; f < nf; f++) acc[f][0] = acc[f][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= len; c += 32) {
        const __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);
        for (int f = 0; f < nf; f++) {
            const char *r = w + (size_t)f * stride;
            acc[f][0] = _mm512_fmadd_ps(x0, load_wf(wt, r, c, 0, 0), acc[f][0]);
            acc[f][1] = _mm512_fmadd_ps(x1, load_wf(wt, r, c + 16, 0, 0), acc[f][1]);
        }
    }
    for (; c < len; c += 16) {
        const __mmask16 mask = len - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (len - c)) - 1);
        const __m512 x0 = _mm512_maskz_loadu_ps(mask, x + c);
        for (int f = 0; f < nf; f++)
            acc[f][0] = _mm512_fmadd_ps(x0, load_wf(wt, w + (size_t)f * stride, c, mask, 1), acc[f][0]);
    }
    for (int f = 0; f < nf; f++) out[(size_t)f * ostride] = _mm512_reduce_add_ps(_mm512_add_ps(acc[f][0], acc[f][1]));
}

/* bf16 decode as fdec, 32 weights per load: as f32, a row's even bf16 are its 32-bit words
 * shifted up 16 bits and its odd ones the words with the low 16 bits cleared, 2 operations
 * per 32 weights where widening each half and shifting takes 4 (and 2 loads). X comes in the
 * same order, taken apart once per matmul (x_pair_order): per 32 values, the 16 even ones,
 * then the 16 odd ones, zeros past k. Products and f32 sums as in fdec, in another order. */
/* One bdec step of 32 columns at c for nf rows (masked: the row's last, shorter step). The
 * 6-row loop (rows over 16 KiB of X, the 5632-wide matrix) also asks for each row's line 2 KiB
 * ahead into L2. Against no prefetch on 2048x5632, one thread, in six interleaved runs at
 * different moments of the host: +10, +12, +18, +20, +21 and +24 %; two threads 1.00-1.18.
 * The same prefetch in f16's loop (fdec) measured +19, -11, +22, +11 and -5 % (lower when the
 * host was fast), and in the 2048-wide loops it cost up to a quarter on one thread, so those
 * loops leave the streams to the hardware prefetcher. */
#define BDEC_PREFETCH 2048
INLINE void bstep(const int nf, const int masked, __mmask32 mask, const float *xp, const char *w,
                  size_t stride, int64_t c, __m512 acc[][2]) {
    const __m512i hi16 = _mm512_set1_epi32((int)0xffff0000u);
    const __m512 xe = _mm512_load_ps(xp + c), xo = _mm512_load_ps(xp + c + 16);
    for (int f = 0; f < nf; f++) {
        const uint16_t *r = (const uint16_t *)(const void *)(w + (size_t)f * stride) + c;
        if (nf == 6 && !masked) _mm_prefetch((const char *)r + BDEC_PREFETCH, _MM_HINT_T1);
        const __m512i v = masked ? _mm512_maskz_loadu_epi16(mask, r) : _mm512_loadu_si512((const void *)r);
        acc[f][0] = _mm512_fmadd_ps(xe, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), acc[f][0]);
        acc[f][1] = _mm512_fmadd_ps(xo, _mm512_castsi512_ps(_mm512_and_si512(v, hi16)), acc[f][1]);
    }
}

/* The full steps and the last one in separate loops: one loop choosing the load per step kept
 * the accumulators on the stack (40 against 59 GB/s from L1). */
INLINE void bdec(const int nf, const float *xp, const char *w, size_t stride, int64_t len,
                 float *out, size_t ostride) {
    __m512 acc[FDEC_MAX][2];
    for (int f = 0; f < nf; f++) acc[f][0] = acc[f][1] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= len; c += 32) bstep(nf, 0, 0, xp, w, stride, c, acc);
    if (c < len) bstep(nf, 1, ((__mmask32)1 << (len - c)) - 1, xp, w, stride, c, acc);
    for (int f = 0; f < nf; f++) out[(size_t)f * ostride] = _mm512_reduce_add_ps(_mm512_add_ps(acc[f][0], acc[f][1]));
}

/* X (k values) in bdec's order into xp (k rounded up to 32, 64-byte aligned). */
static void x_pair_order(const float *x, int64_t k, float *xp) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t c = 0; c < k; c += 32) {
        const int64_t n = k - c;
        const __m512 a = _mm512_maskz_loadu_ps(n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1), x + c);
        const __m512 b = n <= 16 ? _mm512_setzero_ps()
                                 : _mm512_maskz_loadu_ps(n >= 32 ? (__mmask16)0xffff : (__mmask16)((1u << (n - 16)) - 1), x + c + 16);
        _mm512_store_ps(xp + c, _mm512_permutex2var_ps(a, even, b));
        _mm512_store_ps(xp + c + 16, _mm512_permutex2var_ps(a, odd, b));
    }
}
#define BF16_PAIRS 1 /* simd-jobs.h: bf16 decode takes X through x_pair_order */

typedef void (*fdec_fn)(const float *, const char *, size_t, int64_t, float *, size_t);
#define FDECF(NF, WT)                                                                          \
    static void fdec_##NF##_##WT(const float *x, const char *w, size_t stride, int64_t len,    \
                                 float *out, size_t ostride) {                                 \
        fdec(WT, NF, x, w, stride, len, out, ostride);                                         \
    }
#define FDECS(WT) FDECF(2, WT) FDECF(4, WT) FDECF(6, WT)
FDECS(WT_F32)
FDECS(WT_F16)
#define BDECF(NF)                                                                              \
    static void bdec_##NF(const float *xp, const char *w, size_t stride, int64_t len,          \
                          float *out, size_t ostride) {                                        \
        bdec(NF, xp, w, stride, len, out, ostride);                                            \
    }
BDECF(2)
BDECF(4)
BDECF(6)
/* Streams per weight type and k (W rows side by side): X rows up to 16 KiB stay in L1 beside
 * 2 f32 streams or 4 of 16-bit weights; longer ones need more streams to cut their traffic.
 * bf16 rows (bdec) take X in pair order. */
static fdec_fn fdec_for(int wt, int64_t k, int *nf) {
    static const fdec_fn t[3][3] = {{fdec_2_WT_F32, fdec_4_WT_F32, fdec_6_WT_F32},
                                    {fdec_2_WT_F16, fdec_4_WT_F16, fdec_6_WT_F16},
                                    {bdec_2, bdec_4, bdec_6}};
    const int big = k * (int64_t)sizeof(float) > ((int64_t)16 << 10);
    const int i = wt == WT_F32 ? (big ? 1 : 0) : (big ? 2 : 1);
    *nf = 2 + 2 * i;
    return t[wt][i];
}
#define FDEC_STREAMS 1 /* simd-jobs.h: decode float weights through fdec_for */

/* A PANELS panel (layout.h: 128 rows, at most 2048 wide): 2 streams of 64 rows for every type.
 * One core on 2048x5632 f16, three interleaved runs: 2 streams 23.3-25.5 GB/s, 4 streams
 * 21.1-24.5 (4-9 % less in each run). */
static fdec_fn fdec_panel(int wt, int *nf) {
    static const fdec_fn t[3] = {fdec_2_WT_F32, fdec_2_WT_F16, bdec_2};
    *nf = 2;
    return t[wt];
}
#define PANELS_LAYOUT 1 /* simd-jobs.h: float weights wider than 2048 in PANELS */

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
    const size_t size = tlb_type_row_bytes(w->type, 1);
    for (int v = 0; v < GNB / 16 && jb + v * 16 < je; v++) {
        const void *rows[16]; /* value c0 of each row (ROWS or PANELS: len stays in a panel) */
        for (int i = 0; i < 16; i++) {
            const int64_t row = jb + v * 16 + i;
            rows[i] = row < je ? tlb_float_at(w->data, size, w->cols, w->layout, row, c0, NULL)
                               : NULL;
        }
        float *pv = p + (size_t)v * (size_t)len * 16;
        for (int64_t c = 0; c < len; c += 16) {
            const int64_t cnt = len - c < 16 ? len - c : 16;
            const __mmask16 mask = (__mmask16)((1u << cnt) - 1);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = rows[i] ? load_wf(wt, rows[i], c, mask, cnt < 16) : _mm512_setzero_ps();
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

/* ---- bf16 prefill with the CPU's bf16 dot product (AVX512-BF16) ----
 * vdpbf16ps multiplies pairs of bf16 and adds both products to f32 lanes: twice the
 * multiply-adds of an f32 FMA per instruction. bf16 weights are packed as they are (no
 * conversion), 16 rows x pairs of k per vector, and X is rounded to bf16 once per matmul
 * (round to nearest even), as llama.cpp does for bf16 weights: the results differ from the f32
 * product by that rounding (kernel-check's "bf16 activations" reference, the CSV's KL
 * divergence), so only bf16 weights take this path and decode (m <= FMR) stays exact. The
 * instructions are inline asm (no -mavx512bf16 in ISA), run only when the CPU has them. */

/* acc += sum over the pair of w (16 lanes x 2 bf16) x the pair xx in every lane. (The broadcast
 * from memory inside the asm made GCC keep the accumulators in memory as well.) */
INLINE __m512 dpbf16(__m512 acc, __m512i w, __m512i xx) {
    __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(w), "v"(xx));
    return acc;
}

/* 32 floats -> 32 bf16, round to nearest even (NaN stays NaN): lo -> elements 0-15 */
INLINE __m512i cvt2bf16(__m512 hi, __m512 lo) {
    __m512i r;
    __asm__("vcvtne2ps2bf16 %2, %1, %0" : "=v"(r) : "v"(hi), "v"(lo));
    return r;
}

/* X rows [r0, r1) -> bf16 pairs (xb, xbstride 32-bit pairs per row, zero-padded) */
static void x_to_bf16(const float *x, int64_t k, int64_t r0, int64_t r1, uint32_t *xb,
                      size_t xbstride) {
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + (size_t)r * (size_t)k;
        uint32_t *o = xb + (size_t)r * xbstride;
        for (int64_t c = 0; c < (int64_t)xbstride * 2; c += 32) {
            const int64_t n0 = k - c < 0 ? 0 : k - c < 16 ? k - c : 16;
            const int64_t n1 = k - c - 16 < 0 ? 0 : k - c - 16 < 16 ? k - c - 16 : 16;
            const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)((1u << n0) - 1), n0 ? xr + c : xr);
            const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)((1u << n1) - 1), n1 ? xr + c + 16 : xr);
            _mm512_store_si512((void *)(o + c / 2), cvt2bf16(hi, lo));
        }
    }
}

/* Pack bf16 W rows [jb, je) x values [c0, c0 + len) (len even but at the row's end) into p:
 * vector v (rows jb + 16v ..) at p + v * (len / 2) * 16 pairs, pair c of its 16 rows at
 * + c * 16: a 16 x 16 transpose of 32-bit pairs. Missing rows and the odd tail are zeros. */
static void pack_bf16(const struct tlb_tensor *w, int64_t jb, int64_t je, int64_t c0, int64_t len,
                      uint32_t *p) {
    const int64_t pairs = (len + 1) / 2;
    for (int v = 0; v < GNB / 16 && jb + v * 16 < je; v++) {
        const uint16_t *rows[16]; /* as pack_float's */
        for (int i = 0; i < 16; i++) {
            const int64_t row = jb + v * 16 + i;
            rows[i] = row < je ? (const uint16_t *)(const void *)tlb_float_at(
                                     w->data, 2, w->cols, w->layout, row, c0, NULL)
                               : NULL;
        }
        uint32_t *pv = p + (size_t)v * (size_t)pairs * 16;
        for (int64_t c = 0; c < len; c += 32) { /* 16 pairs */
            const int64_t cnt = len - c < 32 ? len - c : 32;
            const __mmask32 mask = cnt == 32 ? ~(__mmask32)0 : (((__mmask32)1 << cnt) - 1);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = rows[i] ? _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(mask, rows[i] + c))
                               : _mm512_setzero_ps();
            transpose16(r);
            for (int64_t i = 0; i < (cnt + 1) / 2; i++)
                _mm512_store_ps((float *)(void *)(pv + (size_t)(c / 2 + i) * 16), r[i]);
        }
    }
}

/* out[r][0..31] = X row r . the 32 W rows of packed vectors p0, p1 over `pairs` pairs */
INLINE void btile(const int mr, const uint32_t *const *xr, const uint32_t *p0, const uint32_t *p1,
                  int64_t pairs, float out[GMR][32]) {
    __m512 acc[GMR][2];
    for (int r = 0; r < mr; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t c = 0; c < pairs; c++) {
        const __m512i w0 = _mm512_load_si512((const void *)(p0 + c * 16));
        const __m512i w1 = _mm512_load_si512((const void *)(p1 + c * 16));
        for (int r = 0; r < mr; r++) {
            const __m512i xx = _mm512_set1_epi32((int)xr[r][c]);
            acc[r][0] = dpbf16(acc[r][0], w0, xx);
            acc[r][1] = dpbf16(acc[r][1], w1, xx);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm512_storeu_ps(out[r], acc[r][0]);
        _mm512_storeu_ps(out[r] + 16, acc[r][1]);
    }
}

typedef void (*btile_fn)(const uint32_t *const *, const uint32_t *, const uint32_t *, int64_t,
                         float[GMR][32]);
#define BTILE(MR)                                                                              \
    static void btile_##MR(const uint32_t *const *xr, const uint32_t *p0, const uint32_t *p1,  \
                           int64_t pairs, float out[GMR][32]) {                                \
        btile(MR, xr, p0, p1, pairs, out);                                                     \
    }
BTILE(1)
BTILE(2)
BTILE(3)
BTILE(4)
BTILE(5)
BTILE(6)
BTILE(7)
BTILE(8)
static const btile_fn btiles[GMR] = {btile_1, btile_2, btile_3, btile_4,
                                     btile_5, btile_6, btile_7, btile_8};
#define BKC 512 /* k per bf16 chunk: the 64-row pack is 64 KiB, as the f32 one's 256 */
_Static_assert((size_t)GNB * BKC * 2 <= TILE_BYTES, "the bf16 pack lives in the tile buffer");
#define BF16_DOT 1 /* simd-jobs.h: bf16 prefill through x_to_bf16 and bf16_rows */
#define R16_LAYOUT 1 /* simd-jobs.h: q8_0/q4_0 in the R16 layout: r16_decode, quant_packed */

/* ---- jobs ---- */

#define KNAME "avx512 kernel" /* for messages */
#define VL 16 /* floats per vector */
/* decode's prepared X: a q4_xstep per 4 blocks, or xs and xc (64 bytes each) per 2 blocks */
#define XDEC_BYTES(blocks) (((size_t)(blocks) + 3) / 4 * sizeof(struct q4_xstep))
_Static_assert(sizeof(struct q4_xstep) == 256, "q4_xstep: 2 x 128 bytes per 2 pairs");
#include "simd-jobs.h"

static void quant_rows(const struct job *j, int64_t lo, int64_t hi, char *tile) {
    const struct tlb_tensor *w = j->w;
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const int64_t nbk = w->cols / 32;
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    const int m = j->m;
    (void)tile;
    if (m == 1) { /* decode: nf streams far apart (row lo + f * h + i), the rest one by one,
                   * against X prepared by decode_prep */
        const uint8_t *w0 = w->data;
        qdec_fn many, one;
        int nf;
        if (q4 && j->vbmi && j->vnni) {
            nf = w->cols <= 4096 ? 4 : 2;
            many = nf == 4 ? q4_rows_4 : q4_rows_2;
            one = q4_rows_1;
        } else { /* q8_0 measured the same with 2 streams as with 1 (its X stays in L1) */
            nf = q4 ? 2 : 1;
            many = qdecs[j->vnni][q4][nf - 1];
            one = qdecs[j->vnni][q4][0];
        }
        const int64_t h = (hi - lo) / nf;
        for (int64_t i = lo; i < lo + h; i++)
            many(j->xdec, j->xq, nbk, w0 + (size_t)i * rb, (size_t)h * rb, j->y + i, (size_t)h);
        for (int64_t i = lo + nf * h; i < hi; i++) one(j->xdec, j->xq, nbk, w0 + (size_t)i * rb, 0, j->y + i, 0);
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

/* bf16 prefill: as float_rows' packed path, with bf16 packs of BKC values and btile */
static void bf16_rows(const struct job *j, int64_t lo, int64_t hi, uint32_t *pack) {
    const struct tlb_tensor *w = j->w;
    const int64_t k = w->cols;
    const int m = j->m;
    for (int64_t jb = lo; jb < hi; jb += GNB) {
        const int64_t je = jb + GNB < hi ? jb + GNB : hi;
        const int nv = (int)((je - jb + 15) / 16);
        for (int64_t c0 = 0; c0 < k; c0 += BKC) {
            const int64_t len = k - c0 < BKC ? k - c0 : BKC, pairs = (len + 1) / 2;
            pack_bf16(w, jb, je, c0, len, pack);
            int per_step;
            struct prefetch pf = next_pack(w, c0, BKC, jb, je, lo, hi, GNB, 1, (m + GMR - 1) / GMR,
                                           &per_step);
            for (int r0 = 0; r0 < m; r0 += GMR) {
                prefetch_some(&pf, per_step);
                const int mr = m - r0 < GMR ? m - r0 : GMR;
                const uint32_t *xr[GMR];
                for (int r = 0; r < GMR; r++)
                    xr[r] = j->xb + (size_t)(r < mr ? r0 + r : r0) * j->xbstride + (size_t)c0 / 2;
                for (int v = 0; v < nv; v += 2) {
                    const uint32_t *p0 = pack + (size_t)v * (size_t)pairs * 16;
                    const uint32_t *p1 = v + 1 < nv ? p0 + (size_t)pairs * 16 : p0;
                    float out[GMR][32];
                    btiles[mr - 1](xr, p0, p1, pairs, out);
                    store_tile(j, r0, mr, jb + v * 16, 32, je, c0 > 0, &out[0][0], 32);
                }
            }
        }
    }
}

/* R16 decode (simd-jobs.h); 2 groups side by side: 1 measured 41-72 % of the probe on one core
 * (q8_0, the model's shapes), 2 77-96 %, 4 no better than 2 */
static void r16_decode(const struct job *j, int64_t g_lo, int64_t g_hi, int tail) {
    const struct tlb_tensor *w = j->w;
    const int64_t nbk = w->cols / 32, groups = w->rows / TLB_R16_ROWS, half = groups / 2;
    const int q4 = w->type == TLB_TYPE_Q4_0;
    const size_t gs = (size_t)nbk * R16_GROUP(q4);
    const uint8_t *w0 = w->data;
    for (int64_t g = g_lo; g < g_hi; g++)
        r16decs[q4][1](w0 + (size_t)g * gs, (size_t)half * gs, nbk, j->xq, j->xd, j->xc,
                       j->y + g * TLB_R16_ROWS, (size_t)half * TLB_R16_ROWS);
    for (int64_t g = 2 * half; tail && g < groups; g++)
        r16decs[q4][0](w0 + (size_t)g * gs, 0, nbk, j->xq, j->xd, j->xc, j->y + g * TLB_R16_ROWS,
                       0);
}

/* Packed paths: prefill (m >= PACK_MIN_M), for R16 weights too */
static void quant_packed(const struct job *j, int64_t lo, int64_t hi, uint8_t *pack) {
    const struct tlb_tensor *w = j->w;
    const int64_t nbk = w->cols / 32;
    const int m = j->m;
    const int r16 = w->layout == TLB_LAYOUT_R16;
    for (int64_t b0 = 0; b0 < nbk; b0 += PKB) {
        const int64_t nblk = nbk - b0 < PKB ? nbk - b0 : PKB;
        for (int64_t jb = lo; jb < hi; jb += PNB) {
            const int64_t je = jb + PNB < hi ? jb + PNB : hi;
            const int nv = (int)((je - jb + 15) / 16);
            if (r16)
                pack_r16(w, jb, je, b0, nblk, pack);
            else
                pack_quant(w, jb, je, b0, nblk, pack);
            int per_step; /* columns: 32 per block */
            struct prefetch pf = next_pack(w, b0 * 32, PKB * 32, jb, je, lo, hi, PNB, 0,
                                           (m + PMR - 1) / PMR, &per_step);
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

/* Decode (m == 1): X's side of the row loop, once per matmul. With VBMI and VNNI, q4_0 gets a
 * q4_xstep per 4 blocks; otherwise every 2 blocks get xs (the [dx0 x8 | dx1 x8] scales) and
 * xc (-8 x sum(x) per 4-byte lane for q4_0, -128 x sum(x) for q8_0 with VNNI). */
static void decode_prep(const struct job *j) {
    const int q4 = j->w->type == TLB_TYPE_Q4_0, vbmi = j->vbmi && j->vnni;
    const int64_t nbk = j->w->cols / 32, npairs = (nbk + 1) / 2;
    const __m512i e8 = _mm512_set1_epi8(8);
    if (q4 && vbmi) {
        struct q4_xstep *x = j->xdec;
        /* quants 0-15 / 16-31 of each of the 4 blocks: bytes 32i + j / 32i + 16 + j */
        static const uint8_t lo_idx[64] = G64(16, 32, 0, 64), hi_idx[64] = G64(16, 32, 16, 64);
        for (int64_t s = 0; s < (nbk + 3) / 4; s++) {
            const int64_t rem = (nbk - 4 * s) * 32; /* quant bytes left */
            const uint8_t *q = j->xq + s * 128;
            const __m512i a = _mm512_maskz_loadu_epi8(rem >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << rem) - 1, q);
            const __m512i b = rem <= 64 ? _mm512_setzero_si512()
                              : _mm512_maskz_loadu_epi8(rem >= 128 ? ~(__mmask64)0
                                                                    : ((__mmask64)1 << (rem - 64)) - 1, q + 64);
            const __m512i lo = permt2b(a, _mm512_loadu_si512((const void *)lo_idx), b);
            const __m512i hi = permt2b(a, _mm512_loadu_si512((const void *)hi_idx), b);
            _mm512_store_si512((void *)x[s].lo, lo);
            _mm512_store_si512((void *)x[s].hi, hi);
            _mm512_store_si512((void *)x[s].corr,
                               _mm512_sub_epi32(_mm512_setzero_si512(),
                                                dpbusd(dpbusd(_mm512_setzero_si512(), e8, lo), e8, hi)));
            /* lane l: block 4s + l / 4 (xd is zero-padded to dstride >= 4 x steps) */
            _mm512_store_ps(x[s].scale, _mm512_permutexvar_ps(
                                            _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0),
                                            _mm512_castps128_ps512(_mm_loadu_ps(j->xd + 4 * s))));
        }
        return;
    }
    float *xs = j->xdec;
    int32_t *xc = (int32_t *)(void *)(xs + npairs * 16);
    for (int64_t p = 0; p < npairs; p++) {
        _mm512_store_ps(xs + p * 16, load_xs(j->xd + 2 * p));
        const __m512i xv = _mm512_loadu_si512((const void *)(j->xq + p * 64));
        const __m512i e = q4 ? e8 : _mm512_set1_epi8((char)0x80); /* W's offset: 8 or -128 */
        const __m512i c = j->vnni ? dpbusd(_mm512_setzero_si512(), e, xv)
                          : q4    ? _mm512_madd_epi16(_mm512_maddubs_epi16(e, xv), _mm512_set1_epi16(1))
                                  : _mm512_setzero_si512(); /* q8_0's sign trick needs none */
        _mm512_store_si512((void *)(xc + p * 16), _mm512_sub_epi32(_mm512_setzero_si512(), c));
    }
}

static void quantize_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    const int64_t k = j->w->cols;
    /* u8 X (q + 128) only for q8_0 on the VNNI tile path (1 < m < PACK_MIN_M); s8 everywhere
     * else (decode flips W's sign bit instead: one xor per load against a second dpbusd) */
    const int offset = j->vnni && !j->packed && j->m > 1 && j->w->type == TLB_TYPE_Q8_0;
    const int32_t cm = j->w->type == TLB_TYPE_Q4_0 ? -8 : -128;
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    for (long r = lo; r < hi; r++)
        quantize_row(j->x + (size_t)r * (size_t)k, k, j->xq + (size_t)r * j->xstride, j->xstride,
                     j->xd + (size_t)r * j->dstride, j->dstride, offset,
                     j->packed ? j->xc + (size_t)r * j->dstride : NULL, cm);
    if (j->m == 1 && !j->packed) decode_prep(j);
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
    return simd_init(state, tlb_cpu_has(TLB_CPU_AVX512VNNI), tlb_cpu_has(TLB_CPU_AVX512VBMI),
                     tlb_cpu_has(TLB_CPU_AVX512BF16));
}

/* f32/f16/bf16 wider than 2048 in PANELS (panel_rows); q8_0/q4_0 in R16 where VNNI runs its
 * decode (r16_dec); everything else row by row */
static enum tlb_layout avx512_layout(enum tlb_type t, int64_t rows, int64_t cols) {
    if (tlb_layout_fits(TLB_LAYOUT_PANELS, t, rows, cols)) return TLB_LAYOUT_PANELS;
    return tlb_cpu_has(TLB_CPU_AVX512VNNI) && tlb_layout_fits(TLB_LAYOUT_R16, t, rows, cols)
               ? TLB_LAYOUT_R16 : TLB_LAYOUT_ROWS;
}

static const char *avx512_version(void *state) {
    const struct simd_state *s = state;
    const int vnni = s ? s->vnni : tlb_cpu_has(TLB_CPU_AVX512VNNI);
    const int vbmi = s ? s->vbmi : tlb_cpu_has(TLB_CPU_AVX512VBMI);
    const int bf16 = s ? s->bf16 : tlb_cpu_has(TLB_CPU_AVX512BF16);
    static const char *const names[2][2][2] = {
        {{"AVX-512BW (vpmaddubsw, no VNNI)", "AVX-512BW (vpmaddubsw, no VNNI) + BF16 (vdpbf16ps, bf16 prefill)"},
         {"AVX-512BW (vpmaddubsw, no VNNI) + VBMI", "AVX-512BW (vpmaddubsw, no VNNI) + VBMI + BF16 (vdpbf16ps, bf16 prefill)"}},
        {{"AVX-512 + VNNI (vpdpbusd)", "AVX-512 + VNNI (vpdpbusd) + BF16 (vdpbf16ps, bf16 prefill)"},
         {"AVX-512 + VNNI (vpdpbusd) + VBMI (vpermt2b, q4_0 rows decode)",
          "AVX-512 + VNNI (vpdpbusd) + VBMI (vpermt2b, q4_0 rows decode) + BF16 (vdpbf16ps, bf16 prefill)"}}};
    return names[vnni][vbmi][bf16];
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
    .matmul_shared_x = simd_matmul_shared_x,
    .version = avx512_version,
    .scratch_bytes = simd_scratch,
    .layout_for = avx512_layout,
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
