/* tiled.c — portable C kernel, cache-blocked and written so that gcc -O2 vectorizes it (no
 * intrinsics): accumulators are small fixed-size lane arrays with constant trip counts, loops
 * over tile rows are unrolled with `#pragma GCC unroll`, and branch-free f16 conversion.
 * m = 1 streams W rows against x held in L1; m > 1 converts a block of W once into a k-major
 * f32 (or int16) tile and reuses it for every X row. q8_0/q4_0 use q8_0 activations and
 * accumulate block by block in naive's order, so they match naive bit for bit. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "util.h"

#define VL 8      /* lanes per m=1 accumulator: 2 SSE2/NEON registers */
#define NR 1      /* W rows per decode step: one sequential stream for the hardware prefetcher
                   * (interleaving 4 rows measured 2-3x slower on Zen 5: 8.4 vs 23 GB/s f32) */
#define PR 4      /* W rows per quantized prefill step (X block loaded once for 4 rows) */
#define KC 256    /* k per prefill chunk: the f32 tile is NB x KC */
#define MR 4      /* X rows per prefill micro-tile */
#define NT 8      /* W rows per prefill micro-tile: MR x NT accumulators = 8 SSE registers */
#define NB 64     /* W rows per prefill block: NB*KC*4 B = 64 KiB tile, L2 resident */
#define QNB 16    /* W rows per quantized prefill block (a multiple of PR) */
#define QKC 1024  /* k per quantized prefill block: QNB*QKC*2 B = 32 KiB int16 tile */
#define TILE_BYTES ((size_t)NB * KC * sizeof(float))
_Static_assert((size_t)QNB * QKC * 2 + (size_t)QNB * (QKC / TLB_QK) * 4 <= TILE_BYTES,
               "quantized tile must fit the per-thread tile buffer");

struct tiled_state {
    void *xq;          /* quantized X: int16 (m, k) then float scales (m, k/32) */
    size_t xq_cap;
    float *tiles;      /* per-thread W tiles, TILE_BYTES each */
    int n_tiles;
};

/* ---- conversions ---- */

static void cvt_row(enum tlb_type t, const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    if (t == TLB_TYPE_F16) {
#if defined(__aarch64__)
        for (; i < n; i++) dst[i] = (float)((const __fp16 *)src)[i]; /* fcvtl, exact */
#else
        /* the shared row conversion: portable C too, built per ISA level (TLB_MULTIVERSION);
         * a branch-free bit conversion written here ran at 4.4 GB/s on Zen 5 */
        tlb_type_traits(TLB_TYPE_F16)->to_f32(src, dst, n);
#endif
    } else if (t == TLB_TYPE_BF16) {
        for (; i + 8 <= n; i += 8) {
            uint32_t o[8];
            for (int l = 0; l < 8; l++) o[l] = (uint32_t)h[i + l] << 16;
            memcpy(dst + i, o, sizeof o);
        }
        for (; i < n; i++) dst[i] = tlb_bf16_to_f32(h[i]);
    } else {
        memcpy(dst, src, (size_t)n * sizeof(float));
    }
}

/* Quantize one row to q8_0 exactly as tlb_quantize_row_q8_0 (same amax, scale, and
 * round-half-away-from-zero), written branch-free so it vectorizes; quants kept as int16. */
static void quantize_row(const float *x, int16_t *q, float *d, int64_t k) {
    for (int64_t b = 0; b < k / TLB_QK; b++) {
        const float *xb = x + b * TLB_QK;
        int16_t *qb = q + b * TLB_QK;
        float mx[8] = {0}, nf[8] = {0};
        for (int j = 0; j < TLB_QK; j += 8)
            for (int l = 0; l < 8; l++) {
                const float a = xb[j + l] < 0 ? -xb[j + l] : xb[j + l];
                mx[l] = a > mx[l] ? a : mx[l];
                nf[l] += xb[j + l] * 0.0f; /* NaN when the block has a NaN or Inf */
            }
        float amax = 0.0f, fin = 0.0f;
        for (int l = 0; l < 8; l++) {
            amax = mx[l] > amax ? mx[l] : amax;
            fin += nf[l];
        }
        const float dv = amax / 127.0f;
        const float id = dv != 0.0f ? 1.0f / dv : 0.0f;
        d[b] = tlb_f16_to_f32(tlb_f32_to_f16(dv));
        if (fin != 0.0f) { /* non-finite input: defined garbage (0) instead of an UB cast */
            for (int j = 0; j < TLB_QK; j++) qb[j] = 0;
            continue;
        }
        for (int j = 0; j < TLB_QK; j++) {
            const float v = xb[j] * id;               /* |v| <= 127.0001 */
            const int32_t t = (int32_t)v;             /* trunc */
            const float fr = v - (float)t;            /* exact, in (-1, 1) */
            qb[j] = (int16_t)(t + (int32_t)(fr * 2.0f)); /* +-1 iff |fr| >= 0.5: roundf */
        }
    }
}

/* W block (q8_0 or q4_0) -> 32 int16 quants and its scale. */
static inline float unpack_block(enum tlb_type t, const uint8_t *blk, int16_t *w) {
    const uint16_t dh = tlb_block_scale(blk);
    const uint8_t *qs = blk + TLB_BLOCK_QS(t == TLB_TYPE_Q4_0);
    if (t == TLB_TYPE_Q8_0) {
        for (int l = 0; l < TLB_QK; l++) w[l] = (int8_t)qs[l];
    } else {
        for (int l = 0; l < TLB_QK / 2; l++) {
            w[l] = (int16_t)((qs[l] & 15) - 8);
            w[l + TLB_QK / 2] = (int16_t)((qs[l] >> 4) - 8);
        }
    }
    return tlb_f16_to_f32(dh);
}

/* ---- micro-kernels ---- */

/* out[j] = sum_c x[c] * w[j][c] for NR f32 rows; lanes keep the sums in registers. */
static void dot_rows_f32(const float *x, const void *const w[NR], int64_t len, float out[NR]) {
    float acc[NR][VL] = {{0}};
    int64_t c = 0;
    for (; c + VL <= len; c += VL) {
#pragma GCC unroll 4
        for (int j = 0; j < NR; j++)
            for (int l = 0; l < VL; l++) acc[j][l] += x[c + l] * ((const float *)w[j])[c + l];
    }
    for (int j = 0; j < NR; j++) {
        float s = ((acc[j][0] + acc[j][4]) + (acc[j][1] + acc[j][5])) +
                  ((acc[j][2] + acc[j][6]) + (acc[j][3] + acc[j][7]));
        for (int64_t i = c; i < len; i++) s += x[i] * ((const float *)w[j])[i];
        out[j] = s;
    }
}

/* acc[r][t] = sum_c x[r][c] * wt[c * NB + t]: an MR x NT outer-product tile over a k-major
 * packed block. The inner loop is NT contiguous lanes times a broadcast x value, which every
 * compiler vectorizes without shuffles (the earlier dot-product tile reduced along k and gcc
 * vectorized it across the wrong loop: 6.5 GFLOP/s on Zen 5 against 61 for AVX2). */
static void outer_tile(const float *const x[MR], const float *wt, int64_t len,
                       float out[MR][NT]) {
    float acc[MR][NT] = {{0}};
    for (int64_t c = 0; c < len; c++) {
        const float *wc = wt + c * NB;
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            const float xv = x[r][c];
            for (int t = 0; t < NT; t++) acc[r][t] += xv * wc[t];
        }
    }
    memcpy(out, acc, sizeof acc);
}

/* isum[j] = sum_l x[l] * w[j][l] over one block of 32 (an integer reduction: gcc -O2 turns it
 * into pmaddwd on SSE2, smlal on NEON). */
static inline void dot_block_i16(const int nr, const int16_t *x, const int16_t w[][TLB_QK],
                                 int32_t *isum) {
#pragma GCC unroll 4
    for (int j = 0; j < nr; j++) {
        int32_t s = 0;
        for (int l = 0; l < TLB_QK; l++) s += x[l] * w[j][l];
        isum[j] = s;
    }
}

/* ---- jobs ---- */

struct job {
    float *y;
    const float *x;
    const struct tlb_tensor *w;
    int m;
    int16_t *xq;        /* (m, k) quantized activations */
    float *xd;          /* (m, k/32) their scales */
    float *tiles;
};

/* Rows [lo, hi) of a thread, in groups of NR so each thread streams contiguous weights. */
static void thread_rows(int64_t n, int ith, int nth, int64_t *lo, int64_t *hi) {
    long l, h;
    tlb_split_range((long)((n + NR - 1) / NR), ith, nth, &l, &h);
    *lo = (int64_t)l * NR;
    *hi = (int64_t)h * NR < n ? (int64_t)h * NR : n;
}

/* Float weights, one X row at a time (m small): W rows streamed once per X row; f16/bf16
 * converted KC values at a time into an L1 buffer. */
static void gemv_float(const struct job *j, int64_t lo, int64_t hi) {
    const struct tlb_tensor *w = j->w;
    const int64_t n = w->rows, k = w->cols;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    if (w->type != TLB_TYPE_F32) {
        /* converting inside the dot loop ran at 4.4-4.6 GB/s on Zen 5; this at 7.6-8.5 */
        float buf[KC];
        const void *bp[1] = {buf};
        for (int r = 0; r < j->m; r++) {
            const float *x = j->x + (size_t)r * (size_t)k;
            for (int64_t i = lo; i < hi; i++) {
                const char *row = (const char *)w->data + (size_t)i * rb;
                float s = 0;
                for (int64_t c = 0; c < k; c += KC) {
                    const int64_t len = k - c < KC ? k - c : KC;
                    float part;
                    cvt_row(w->type, row + (size_t)c * 2, buf, len);
                    dot_rows_f32(x + c, bp, len, &part);
                    s += part;
                }
                j->y[(size_t)r * (size_t)n + i] = s;
            }
        }
        return;
    }
    for (int r = 0; r < j->m; r++) {
        const float *x = j->x + (size_t)r * (size_t)k;
        for (int64_t i = lo; i < hi; i += NR) {
            const void *rows[NR];
            for (int t = 0; t < NR; t++)  /* past the end: repeat the last row, drop result */
                rows[t] = (const char *)w->data + (size_t)(i + t < hi ? i + t : hi - 1) * rb;
            float out[NR];
            dot_rows_f32(x, rows, k, out);
            for (int t = 0; t < NR && i + t < hi; t++) j->y[(size_t)r * (size_t)n + i + t] = out[t];
        }
    }
}

/* Float weights, m > 1: per (k chunk, block of NB W rows) the block is converted and packed
 * k-major once (zero-padded to a multiple of NT rows) and multiplied by every X row in
 * MR x NT register tiles. */
static void gemm_float(const struct job *j, int64_t lo, int64_t hi, float *tile) {
    const struct tlb_tensor *w = j->w;
    const int64_t n = w->rows, k = w->cols;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    const int m = j->m;
    float row[KC];
    for (int64_t c = 0; c < k; c += KC) {
        const int64_t len = k - c < KC ? k - c : KC;
        for (int64_t jb = lo; jb < hi; jb += NB) {
            const int64_t nb = hi - jb < NB ? hi - jb : NB;
            const int64_t nbp = (nb + NT - 1) / NT * NT;
            for (int64_t t = 0; t < nbp; t++) {
                const float *src = row;
                if (t >= nb)
                    memset(row, 0, (size_t)len * sizeof(float));
                else if (w->type == TLB_TYPE_F32)
                    src = (const float *)((const char *)w->data + (size_t)(jb + t) * rb) + c;
                else
                    cvt_row(w->type, (const char *)w->data + (size_t)(jb + t) * rb + (size_t)c * 2,
                            row, len);
                for (int64_t cc = 0; cc < len; cc++) tile[cc * NB + t] = src[cc];
            }
            for (int r0 = 0; r0 < m; r0 += MR) {
                const float *xr[MR];
                for (int r = 0; r < MR; r++)
                    xr[r] = j->x + (size_t)(r0 + r < m ? r0 + r : m - 1) * (size_t)k + c;
                for (int64_t t0 = 0; t0 < nb; t0 += NT) {
                    float out[MR][NT];
                    outer_tile(xr, tile + t0, len, out);
                    for (int r = 0; r < MR && r0 + r < m; r++)
                        for (int t = 0; t < NT && t0 + t < nb; t++) {
                            float *yy = j->y + (size_t)(r0 + r) * (size_t)n + jb + t0 + t;
                            *yy = c == 0 ? out[r][t] : *yy + out[r][t];
                        }
                }
            }
        }
    }
}

/* Quantized weights, one X row at a time: NR W rows per step, blocks unpacked to int16. */
static void gemv_quant(const struct job *j, int64_t lo, int64_t hi) {
    const struct tlb_tensor *w = j->w;
    const int64_t n = w->rows, k = w->cols, nbk = k / TLB_QK;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    const size_t bb = tlb_type_traits(w->type)->type_size;
    for (int r = 0; r < j->m; r++) {
        const int16_t *xq = j->xq + (size_t)r * (size_t)k;
        const float *xd = j->xd + (size_t)r * (size_t)nbk;
        for (int64_t i = lo; i < hi; i += NR) {
            const uint8_t *rows[NR];
            for (int t = 0; t < NR; t++)
                rows[t] = (const uint8_t *)w->data + (size_t)(i + t < hi ? i + t : hi - 1) * rb;
            float s[NR] = {0};
            for (int64_t b = 0; b < nbk; b++) {
                int16_t wq[NR][TLB_QK];
                float dw[NR];
                for (int t = 0; t < NR; t++) dw[t] = unpack_block(w->type, rows[t] + b * bb, wq[t]);
                int32_t isum[NR];
                dot_block_i16(NR, xq + b * TLB_QK, wq, isum);
                for (int t = 0; t < NR; t++) s[t] += (float)isum[t] * (dw[t] * xd[b]);
            }
            for (int t = 0; t < NR && i + t < hi; t++) j->y[(size_t)r * (size_t)n + i + t] = s[t];
        }
    }
}

/* Quantized weights, m > 1: a block of QNB W rows x QKC values is unpacked once into an int16
 * tile and used for every X row. y carries the running sum between k chunks, so the float
 * accumulation order stays naive's. */
static void gemm_quant(const struct job *j, int64_t lo, int64_t hi, float *tile) {
    const struct tlb_tensor *w = j->w;
    const int64_t n = w->rows, k = w->cols, nbk = k / TLB_QK;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    const size_t bb = tlb_type_traits(w->type)->type_size;
    int16_t (*wt)[QKC] = (int16_t (*)[QKC])(void *)tile;                 /* (QNB, QKC) */
    float *dwt = (float *)(void *)((char *)tile + (size_t)QNB * QKC * 2); /* (QNB, QKC/32) */
    for (int64_t c = 0; c < k; c += QKC) {
        const int64_t b0 = c / TLB_QK, nbc = (k - c < QKC ? k - c : QKC) / TLB_QK;
        for (int64_t jb = lo; jb < hi; jb += QNB) {
            const int64_t nb = hi - jb < QNB ? hi - jb : QNB;
            for (int64_t t = 0; t < QNB; t++) {
                const uint8_t *row = (const uint8_t *)w->data + (size_t)(jb + (t < nb ? t : nb - 1)) * rb;
                for (int64_t b = 0; b < nbc; b++)
                    dwt[t * (QKC / TLB_QK) + b] =
                        unpack_block(w->type, row + (size_t)(b0 + b) * bb, wt[t] + b * TLB_QK);
            }
            for (int r = 0; r < j->m; r++) {
                const int16_t *xq = j->xq + (size_t)r * (size_t)k + c;
                const float *xd = j->xd + (size_t)r * (size_t)nbk + b0;
                float *yr = j->y + (size_t)r * (size_t)n + jb;
                for (int64_t t0 = 0; t0 < nb; t0 += PR) {
                    float s[PR];
                    for (int t = 0; t < PR; t++) s[t] = (c == 0 || t0 + t >= nb) ? 0.0f : yr[t0 + t];
                    for (int64_t b = 0; b < nbc; b++) {
                        int16_t wq[PR][TLB_QK];
                        for (int t = 0; t < PR; t++)
                            memcpy(wq[t], wt[t0 + t] + b * TLB_QK, sizeof wq[t]);
                        int32_t isum[PR];
                        dot_block_i16(PR, xq + b * TLB_QK, wq, isum);
                        for (int t = 0; t < PR; t++)
                            s[t] += (float)isum[t] * (dwt[(t0 + t) * (QKC / TLB_QK) + b] * xd[b]);
                    }
                    for (int t = 0; t < PR && t0 + t < nb; t++) yr[t0 + t] = s[t];
                }
            }
        }
    }
}

static void matmul_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    int64_t lo, hi;
    thread_rows(j->w->rows, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    float *tile = (float *)(void *)((char *)j->tiles + (size_t)ith * TILE_BYTES);
    const int quant = tlb_type_traits(j->w->type)->is_quantized;
    if (quant)
        j->m == 1 ? gemv_quant(j, lo, hi) : gemm_quant(j, lo, hi, tile);
    else
        j->m < MR ? gemv_float(j, lo, hi) : gemm_float(j, lo, hi, tile);
}

static void quantize_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    const int64_t k = j->w->cols;
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    for (long r = lo; r < hi; r++)
        quantize_row(j->x + (size_t)r * (size_t)k, j->xq + (size_t)r * (size_t)k,
                     j->xd + (size_t)r * (size_t)(k / TLB_QK), k);
}

/* ---- descriptor ---- */

static int tiled_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    *state = tlb_calloc(1, sizeof(struct tiled_state), "tiled kernel state");
    return *state ? 0 : -1;
}

static void tiled_release(void *state) {
    struct tiled_state *s = state;
    if (!s) return;
    tlb_free_aligned(s->xq);
    tlb_free_aligned(s->tiles);
    free(s);
}

static size_t tiled_scratch(void *state) {
    const struct tiled_state *s = state;
    return s ? s->xq_cap + (size_t)s->n_tiles * TILE_BYTES : 0;
}

static int tiled_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                        const struct tlb_tensor *w, int m) {
    struct tiled_state *s = state;
    const int nth = tlb_pool_size(pool);
    if (nth > s->n_tiles) {
        float *t = tlb_alloc_aligned((size_t)nth * TILE_BYTES, "tiled kernel tiles");
        if (!t) return -1;
        tlb_free_aligned(s->tiles);
        s->tiles = t;
        s->n_tiles = nth;
    }
    struct job job = {y, x, w, m, NULL, NULL, s->tiles};
    if (tlb_type_traits(w->type)->is_quantized) {
        const size_t per_row = (size_t)w->cols * 2 + (size_t)(w->cols / TLB_QK) * 4;
        size_t need;
        if (tlb_mul_size(per_row, (size_t)m, &need)) {
            tlb_error("tiled kernel: activation scratch size overflows");
            return -1;
        }
        if (need > s->xq_cap) {
            void *p = tlb_alloc_aligned(need, "tiled kernel activations");
            if (!p) return -1;
            tlb_free_aligned(s->xq);
            s->xq = p;
            s->xq_cap = need;
        }
        job.xq = s->xq;
        job.xd = (float *)(void *)((char *)s->xq + (size_t)m * (size_t)w->cols * 2);
        if (m == 1)
            quantize_job(&job, 0, 1);
        else
            tlb_pool_run(pool, quantize_job, &job);
    }
    tlb_pool_run(pool, matmul_job, &job);
    return 0;
}

const struct tlb_kernel tlb_kernel_tiled = {
    .name = "tiled",
    .summary = "portable C, cache-blocked, compiler-vectorized; q8_0/q4_0 bit-exact with naive",
    .wtypes = TLB_ALL_TYPES,
    .priority = 10,
    .probe = NULL,
    .init = tiled_init,
    .release = tiled_release,
    .matmul = tiled_matmul,
    .version = NULL,
    .scratch_bytes = tiled_scratch,
};
