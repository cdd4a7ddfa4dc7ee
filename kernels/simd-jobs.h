/* simd-jobs.h — the job and the drivers the avx2 and avx512 kernels share, written once for
 * any vector width. Not compiled alone: each of those files includes it (compiled with its own
 * ISA, everything static) after defining VL (floats per vector: 8 or 16), FMR, GMR, GKC,
 * GNB, QNR, PACK_MIN_M, TILE_BYTES, KNAME, XDEC_BYTES, WT_*, frows[3][FMR], gtiles[GMR] (GMR X rows x
 * 2 VL W rows of packed panels) and pack_float(); it declares the quant_rows(), quant_packed()
 * and quantize_job() they define after it. Holds the kernel state, sizes the scratch, cuts
 * the W rows into chunks of whole tiles that the pool's threads claim, runs decode (m <= FMR)
 * row by row and prefill over packed panels. */
#ifndef TLB_SIMD_JOBS_H
#define TLB_SIMD_JOBS_H

/* The including file's part of the contract that the preprocessor can see (WT_*, frows,
 * gtiles, pack_float and the quantized paths are checked by the compiler). */
#ifndef VL
#error "simd-jobs.h: define VL (floats per vector: 8 or 16) before including"
#elif VL != 8 && VL != 16
#error "simd-jobs.h: VL must be 8 (ymm) or 16 (zmm)"
#endif
#ifndef FMR
#error "simd-jobs.h: define FMR (X rows up to which float weights take the decode path)"
#endif
#ifndef GMR
#error "simd-jobs.h: define GMR (X rows per packed float tile)"
#endif
#ifndef GKC
#error "simd-jobs.h: define GKC (k per packed float chunk)"
#endif
#ifndef GNB
#error "simd-jobs.h: define GNB (W rows per packed float block)"
#endif
#ifndef QNR
#error "simd-jobs.h: define QNR (W rows per quantized tile: the thread split's unit)"
#endif
#ifndef PACK_MIN_M
#error "simd-jobs.h: define PACK_MIN_M (X rows from which quantized prefill is packed)"
#endif
#ifndef TILE_BYTES
#error "simd-jobs.h: define TILE_BYTES (per-thread pack buffer)"
#endif
#ifndef KNAME
#error "simd-jobs.h: define KNAME (the kernel's name in messages)"
#endif
#ifndef XDEC_BYTES
#error "simd-jobs.h: define XDEC_BYTES(blocks) (decode's prepared X for a row of q8_0 blocks)"
#endif

struct job {
    int64_t unit;     /* W rows per unit of the row split (whole tiles) */
    long units, n_chunks;
    float *y;
    const float *x;
    const struct tlb_tensor *w;
    int m;
    uint8_t *xq;      /* (m, xstride) */
    size_t xstride;
    float *xd;        /* (m, dstride) */
    size_t dstride;
    int32_t *xc;      /* (m, dstride) packed path: block corrections */
    void *xdec;       /* m == 1: X as the decode loop wants it (XDEC_BYTES, the kernel's layout) */
    uint32_t *xb;     /* bf16 prefill (BF16_DOT): X as bf16 pairs, (m, xbstride) */
    float *xpairs;    /* bf16 decode (BF16_PAIRS): X in x_pair_order's order */
    size_t xbstride;
    float *tiles;
    int vnni, vbmi;
    int packed;       /* quantized prefill through the packed path */
};

/* W rows are split into chunks of whole tiles that the pool's threads claim one after the
 * other (tlb_kernel_chunk_count). */

/* y[r0 + r][c0 + t] (+)= out[r][t], t < nr, for the W rows of the tile that exist (< hi):
 * every tile of every path (the first k chunk stores, later chunks add). Whole vectors by
 * fixed-size copies (a memcpy of cnt floats became `rep movsq`, slow for 128 bytes). */
typedef float vfloat __attribute__((vector_size(VL * sizeof(float))));
static void store_tile(const struct job *j, int r0, int mr, int64_t c0, int nr, int64_t hi,
                       int accumulate, const float *out, int ld) {
    const int64_t n = j->w->rows;
    const int cnt = (int)(hi - c0 < nr ? hi - c0 : nr);
    for (int r = 0; r < mr; r++) {
        float *yr = j->y + (size_t)(r0 + r) * (size_t)n + (size_t)c0;
        const float *o = out + (size_t)r * (size_t)ld;
        int t = 0;
        for (; t + VL <= cnt; t += VL) {
            vfloat a, b;
            memcpy(&b, o + t, sizeof b);
            if (accumulate) {
                memcpy(&a, yr + t, sizeof a);
                b += a;
            }
            memcpy(yr + t, &b, sizeof b);
        }
        for (; t < cnt; t++) yr[t] = accumulate ? yr[t] + o[t] : o[t];
    }
}

/* Weights of the next pack, prefetched into L2 a slice at a time while the current pack is
 * multiplied, so the pack itself does not wait for DRAM. */
struct prefetch {
    const char *base;  /* first row's segment */
    size_t rb, len;    /* row stride, bytes per row segment */
    int64_t rows, row;
    size_t off;
};

static void prefetch_some(struct prefetch *pf, int lines) {
    while (lines-- > 0 && pf->row < pf->rows) {
        _mm_prefetch(pf->base + (size_t)pf->row * pf->rb + pf->off, _MM_HINT_T1);
        pf->off += 64;
        if (pf->off >= pf->len) {
            pf->off = 0;
            pf->row++;
        }
    }
}

/* What to prefetch while the pack of rows [jb, je) x columns [c0, c0 + kc) is multiplied:
 * the next pack. k_inner = 0 (packs row block after row block, then the next k chunk): the
 * next nb rows of this k chunk, else the first rows of the next chunk; k_inner = 1 (k chunk
 * after k chunk, then the next row block): the next chunk of these rows, else the first chunk
 * of the next nb rows. *per_step = cache lines per call of prefetch_some over `steps` calls.
 * In an R16 matrix (layout.h) a group of 16 rows is one line of blocks, 16 times as wide. */
static struct prefetch next_pack(const struct tlb_tensor *w, int64_t c0, int64_t kc, int64_t jb,
                                 int64_t je, int64_t lo, int64_t hi, int64_t nb, int k_inner,
                                 int steps, int *per_step) {
    const int64_t g = w->layout == TLB_LAYOUT_R16 ? TLB_R16_ROWS : 1; /* rows per line */
    const size_t rb = tlb_type_row_bytes(w->type, w->cols) * (size_t)g;
    struct prefetch pf = {NULL, rb, 0, 0, 0, 0};
    const int panels = w->layout == TLB_LAYOUT_PANELS; /* nb rows of one group, kc | 2048 */
    int64_t nc0 = c0, njb = je;
    if (k_inner) {
        nc0 = c0 + kc < w->cols ? c0 + kc : 0;
        njb = c0 + kc < w->cols ? jb : je;
    } else if (njb >= hi) {
        nc0 = c0 + kc;
        njb = lo;
    }
    if (nc0 < w->cols && njb < hi) {
        const int64_t nlen = w->cols - nc0 < kc ? w->cols - nc0 : kc;
        pf.base = panels ? tlb_float_at(w->data, tlb_type_row_bytes(w->type, 1), w->cols,
                                        w->layout, njb, nc0, &pf.rb)
                         : (const char *)w->data + (size_t)(njb / g) * rb +
                               tlb_type_row_bytes(w->type, nc0) * (size_t)g;
        pf.len = tlb_type_row_bytes(w->type, nlen) * (size_t)g;
        pf.rows = ((hi - njb < nb ? hi - njb : nb) + g - 1) / g;
    }
    *per_step = (int)((pf.rows * (int64_t)((pf.len + 63) / 64) + steps - 1) / steps);
    return pf;
}

static void quant_rows(const struct job *j, int64_t lo, int64_t hi, char *tile);
static void quant_packed(const struct job *j, int64_t lo, int64_t hi, uint8_t *pack);
#ifdef R16_LAYOUT
/* R16 decode: groups [g_lo, g_hi) of the first half of w's groups beside the same groups of the
 * second half, and with tail the odd last group too. */
static void r16_decode(const struct job *j, int64_t g_lo, int64_t g_hi, int tail);
#endif
#ifdef BF16_DOT
static void bf16_rows(const struct job *j, int64_t lo, int64_t hi, uint32_t *pack);
#endif

#ifdef PANELS_LAYOUT
/* PANELS (layout.h), m <= FMR, rows [lo, hi) in whole groups: group by group and panel by
 * panel, each panel's 128 rows a matrix of their own at most 2048 wide, so X's part stays in
 * L1: decode through fdec_panel's streams, small m row by row (frow); y sums the panels. */
static void panel_rows(const struct job *j, int wt, int64_t lo, int64_t hi) {
    const struct tlb_tensor *w = j->w;
    const int64_t n = w->rows, k = w->cols;
    const size_t size = tlb_type_row_bytes(w->type, 1);
    const int m = j->m;
    int nf;
    const fdec_fn dec = fdec_panel(wt, &nf);
    const int64_t h = TLB_PANEL_ROWS / nf;
    float part[FMR][TLB_PANEL_ROWS];
    for (int64_t g = lo; g < hi; g += TLB_PANEL_ROWS)
        for (int64_t c0 = 0; c0 < k; c0 += TLB_PANEL_COLS) {
            const int64_t len = tlb_panel_end(w->layout, k, c0) - c0;
            size_t rs;
            const char *p = tlb_float_at(w->data, size, k, w->layout, g, c0, &rs);
            if (m == 1) {
                const float *x = j->x + c0;
#ifdef BF16_PAIRS
                if (wt == WT_BF16) x = j->xpairs + c0; /* whole 32-value steps: c0 | 32 */
#endif
                for (int64_t i = 0; i < h; i++)
                    dec(x, p + (size_t)i * rs, (size_t)h * rs, len, part[0] + i, (size_t)h);
            } else {
                const float *xr[FMR];
                for (int r = 0; r < FMR; r++) xr[r] = j->x + (size_t)(r < m ? r : 0) * (size_t)k + c0;
                for (int64_t i = 0; i < TLB_PANEL_ROWS; i++) {
                    float out[FMR];
                    frows[wt][m - 1](xr, p + (size_t)i * rs, len, out);
                    for (int r = 0; r < m; r++) part[r][i] = out[r];
                }
            }
            for (int r = 0; r < m; r++) {
                float *y = j->y + (size_t)r * (size_t)n + (size_t)g;
                for (int64_t i = 0; i < TLB_PANEL_ROWS; i++) y[i] = c0 ? y[i] + part[r][i] : part[r][i];
            }
        }
}
#endif

static void float_rows(const struct job *j, int64_t lo, int64_t hi, float *tile) {
    const struct tlb_tensor *w = j->w;
    const int wt = w->type == TLB_TYPE_F32 ? WT_F32 : w->type == TLB_TYPE_F16 ? WT_F16 : WT_BF16;
    const int64_t n = w->rows, k = w->cols;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    const int m = j->m;
#ifdef PANELS_LAYOUT
    if (w->layout == TLB_LAYOUT_PANELS && m <= FMR) {
        panel_rows(j, wt, lo, hi);
        return;
    }
#endif
#ifdef FDEC_STREAMS
    if (m == 1) { /* decode: nf streams far apart, row lo + f * h + i (fdec_for), the rest
                   * one by one */
        int nf;
        const fdec_fn f = fdec_for(wt, k, &nf);
        const int64_t h = (hi - lo) / nf;
        const float *x = j->x;
#ifdef BF16_PAIRS
        if (wt == WT_BF16) x = j->xpairs;
#endif
        for (int64_t i = 0; i < h; i++)
            f(x, (const char *)w->data + (size_t)(lo + i) * rb, (size_t)h * rb, k, j->y + lo + i,
              (size_t)h);
        lo += nf * h;
    }
#endif
    if (m <= FMR) { /* decode / small m: W streamed once, row after row (one sequential
                       * stream), converted in registers, used by the m X rows */
        const frow_fn f = frows[wt][m - 1];
        const float *xr[FMR];
        for (int r = 0; r < FMR; r++) xr[r] = j->x + (size_t)(r < m ? r : 0) * (size_t)k;
        for (int64_t i = lo; i < hi; i++) {
            float out[FMR];
            f(xr, (const char *)w->data + (size_t)i * rb, k, out);
            for (int r = 0; r < m; r++) j->y[(size_t)r * (size_t)n + (size_t)i] = out[r];
        }
        return;
    }
#ifdef BF16_DOT
    if (j->xb) {
        bf16_rows(j, lo, hi, (uint32_t *)(void *)tile);
        return;
    }
#endif
    /* prefill: the packed outer-product path, every k chunk of a row block before the next
     * block, so the block's outputs (m x GNB floats) stay in cache while they are summed */
    for (int64_t jb = lo; jb < hi; jb += GNB) {
        const int64_t je = jb + GNB < hi ? jb + GNB : hi;
        const int nv = (int)((je - jb + VL - 1) / VL);
        for (int64_t c0 = 0; c0 < k; c0 += GKC) {
            const int64_t len = k - c0 < GKC ? k - c0 : GKC;
            pack_float(w, wt, jb, je, c0, len, tile);
            int per_step;
            struct prefetch pf = next_pack(w, c0, GKC, jb, je, lo, hi, GNB, 1, (m + GMR - 1) / GMR,
                                           &per_step);
            for (int r0 = 0; r0 < m; r0 += GMR) {
                prefetch_some(&pf, per_step);
                const int mr = m - r0 < GMR ? m - r0 : GMR;
                const float *xr[GMR];
                for (int r = 0; r < GMR; r++)
                    xr[r] = j->x + (size_t)(r < mr ? r0 + r : r0) * (size_t)k + (size_t)c0;
                for (int v = 0; v < nv; v += 2) {
                    const float *p0 = tile + (size_t)v * (size_t)len * VL;
                    const float *p1 = v + 1 < nv ? p0 + (size_t)len * VL : p0;
                    float out[GMR][2 * VL];
                    gtiles[mr - 1](xr, p0, p1, len, out);
                    store_tile(j, r0, mr, jb + v * VL, 2 * VL, je, c0 > 0, &out[0][0], 2 * VL);
                }
            }
        }
    }
}

/* One chunk: W rows [lo, hi) in whole units, on thread `thread` (its tile buffer). */
static void matmul_chunk(void *arg, long chunk, int thread) {
    const struct job *j = arg;
    long l, h;
#ifdef R16_LAYOUT
    if (j->packed && j->m == 1) { /* packed with m = 1: R16 (prepare_job) */
        /* r16_decode reads groups g and g + groups / 2 side by side, so a chunk is a range of
         * the first half's groups and the same range of the second half's; the last chunk also
         * takes the odd group at the end. A thread's chunks (the pool's range) then continue
         * the same two streams from one chunk to the next. */
        const long groups = (long)(j->w->rows / TLB_R16_ROWS);
        tlb_split_range(groups / 2, (int)chunk, (int)j->n_chunks, &l, &h);
        const int tail = chunk == j->n_chunks - 1 && groups % 2;
        if (l < h || tail) r16_decode(j, l, h, tail);
        return;
    }
#endif
    tlb_split_range(j->units, (int)chunk, (int)j->n_chunks, &l, &h);
    const int64_t lo = (int64_t)l * j->unit;
    const int64_t hi = (int64_t)h * j->unit < j->w->rows ? (int64_t)h * j->unit : j->w->rows;
    if (lo >= hi) return;
    const int quant = tlb_type_traits(j->w->type)->is_quantized;
    char *tile = (char *)j->tiles + (size_t)thread * TILE_BYTES;
    if (j->packed)
        quant_packed(j, lo, hi, (uint8_t *)tile);
    else if (quant)
        quant_rows(j, lo, hi, tile);
    else
        float_rows(j, lo, hi, (float *)(void *)tile);
}

/* ---- state and entry point ---- */

struct simd_state {
    uint8_t *xq;     /* quantized X: (m, xstride) bytes, then (m, dstride) scales, corrections */
    size_t xq_cap;
    float *tiles;    /* per-thread pack buffers (TILE_BYTES each) for the prefill paths */
    int n_tiles;
    int vnni;        /* VNNI dot products, decided at init from tlb_cpu_has */
    int vbmi;        /* byte permutes (AVX512-VBMI) for the quantized decode rows */
    int bf16;        /* bf16 dot products (AVX512-BF16) for bf16 prefill */
};

static int simd_init(void **state, int vnni, int vbmi, int bf16) {
    struct simd_state *s = tlb_calloc(1, sizeof *s, KNAME " state");
    if (!s) return -1;
    s->vnni = vnni;
    s->vbmi = vbmi;
    s->bf16 = bf16;
    *state = s;
    return 0;
}

static void simd_release(void *state) {
    struct simd_state *s = state;
    if (!s) return;
    tlb_free_aligned(s->xq);
    tlb_free_aligned(s->tiles);
    free(s);
}

static size_t simd_scratch(void *state) {
    const struct simd_state *s = state;
    return s ? s->xq_cap + (size_t)s->n_tiles * TILE_BYTES : 0;
}

/* s->xq at least need bytes (its contents are not kept). */
static int xq_reserve(struct simd_state *s, size_t need) {
    if (need <= s->xq_cap) return 0;
    uint8_t *p = tlb_alloc_aligned(need, KNAME " activations");
    if (!p) return -1;
    tlb_free_aligned(s->xq);
    s->xq = p;
    s->xq_cap = need;
    return 0;
}

static void quantize_job(void *arg, int ith, int nth);
#ifdef BF16_DOT
/* X's rows, part ith of nth, rounded to bf16 pairs for the bf16 prefill */
static void bf16_job(void *arg, int ith, int nth) {
    const struct job *j = arg;
    long lo, hi;
    tlb_split_range(j->m, ith, nth, &lo, &hi);
    x_to_bf16(j->x, j->w->cols, lo, hi, j->xb, j->xbstride);
}
#endif

/* The row split of job for w: its units of job->unit rows and their chunks for nth threads. */
static void split_rows(struct job *job, const struct tlb_tensor *w, int nth) {
    job->w = w;
    job->units = (long)((w->rows + job->unit - 1) / job->unit);
    const size_t unit_bytes = tlb_type_row_bytes(w->type, w->cols) * (size_t)job->unit;
    job->n_chunks = tlb_kernel_chunk_count(job->units, unit_bytes, nth);
}

/* Sets up *out for y = x w^T (m rows): the path w takes, its row split and X prepared as that
 * path reads it (quantized, paired or rounded to bf16, in s's scratch). 0, or -1 with a
 * message. */
static int prepare_job(struct simd_state *s, struct tlb_pool *pool, struct job *out, float *y,
                       const float *x, const struct tlb_tensor *w, int m) {
    struct job job = {.y = y, .x = x, .w = w, .m = m, .vnni = s->vnni, .vbmi = s->vbmi};
    const int nth = tlb_pool_size(pool);
    const int quant = tlb_type_traits(w->type)->is_quantized;
#ifdef R16_LAYOUT
    const int r16 = w->layout == TLB_LAYOUT_R16; /* read by quant_packed only, VNNI only */
#else
    const int r16 = 0;
#endif
#ifdef PANELS_LAYOUT
    const int panels = w->layout == TLB_LAYOUT_PANELS; /* float_rows and pack_float read it */
#else
    const int panels = 0;
#endif
    if (w->layout != TLB_LAYOUT_ROWS && !(r16 && s->vnni) && !panels) {
        tlb_error(KNAME ": cannot read %s weights in layout %s", tlb_type_traits(w->type)->name,
                  tlb_layout_name(w->layout));
        return -1;
    }
    job.packed = quant && s->vnni && (m >= PACK_MIN_M || r16);
    job.unit = panels ? TLB_PANEL_ROWS : job.packed || (!quant && m > FMR) ? 2 * VL : QNR;
    split_rows(&job, w, nth);
    if ((job.packed || (!quant && m > FMR)) && nth > s->n_tiles) {
        float *t = tlb_alloc_aligned((size_t)nth * TILE_BYTES, KNAME " tiles");
        if (!t) return -1;
        tlb_free_aligned(s->tiles);
        s->tiles = t;
        s->n_tiles = nth;
    }
#ifdef BF16_PAIRS
    if (w->type == TLB_TYPE_BF16 && m == 1) {
        const size_t need = ((size_t)w->cols + 31) / 32 * 32 * sizeof(float);
        if (xq_reserve(s, need) != 0) return -1;
        job.xpairs = (float *)(void *)s->xq;
        x_pair_order(x, w->cols, job.xpairs);
    }
#endif
#ifdef BF16_DOT
    if (s->bf16 && w->type == TLB_TYPE_BF16 && m > FMR) {
        job.xbstride = ((size_t)(w->cols + 1) / 2 + 15) & ~(size_t)15;
        size_t need;
        if (tlb_mul_size(job.xbstride * sizeof(uint32_t), (size_t)m, &need)) {
            tlb_error(KNAME ": activation scratch size overflows");
            return -1;
        }
        if (xq_reserve(s, need) != 0) return -1;
        job.xb = (uint32_t *)(void *)s->xq;
        tlb_pool_run(pool, bf16_job, &job);
    }
#endif
    if (quant) {
        job.xstride = ((size_t)w->cols + 63) & ~(size_t)63;
        job.dstride = ((size_t)(w->cols / 32) + 15) & ~(size_t)15;
        const size_t per_row = job.xstride + job.dstride * (sizeof(float) + sizeof(int32_t));
        const size_t xdec = m == 1 ? ((size_t)XDEC_BYTES(w->cols / 32) + 63) & ~(size_t)63 : 0;
        size_t need;
        if (tlb_mul_size(per_row, (size_t)m, &need) || tlb_add_size(need, xdec, &need)) {
            tlb_error(KNAME ": activation scratch size overflows");
            return -1;
        }
        if (xq_reserve(s, need) != 0) return -1;
        job.xq = s->xq;
        job.xd = (float *)(void *)(s->xq + (size_t)m * job.xstride);
        job.xc = (int32_t *)(void *)(job.xd + (size_t)m * job.dstride);
        job.xdec = job.xc + (size_t)m * job.dstride;
        if (m == 1)
            quantize_job(&job, 0, 1);
        else
            tlb_pool_run(pool, quantize_job, &job);
    }
    job.tiles = s->tiles;
    *out = job;
    return 0;
}

static int simd_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                       const struct tlb_tensor *w, int m) {
    struct job job;
    if (prepare_job(state, pool, &job, y, x, w, m) != 0) return -1;
    tlb_pool_run_chunks(pool, job.n_chunks, matmul_chunk, &job);
    return 0;
}

/* Matrices that read the same X (q, k and v; the two FFN inputs) in one dispatch: X prepared
 * once, the matrices' chunks claimed one after the other as one job's. */
struct shared_x_job {
    struct job jobs[TLB_SHARED_X_MAX];
    long first[TLB_SHARED_X_MAX + 1]; /* jobs[i] has chunks [first[i], first[i + 1]) */
    int n;
};

static void shared_x_chunk(void *arg, long chunk, int thread) {
    struct shared_x_job *sj = arg;
    int i = 0;
    while (i + 1 < sj->n && chunk >= sj->first[i + 1]) i++;
    matmul_chunk(&sj->jobs[i], chunk - sj->first[i], thread);
}

static int simd_matmul_shared_x(void *state, struct tlb_pool *pool, float *const *y,
                                const float *x, const struct tlb_tensor *const *w, int n, int m) {
    int same = n >= 1 && n <= TLB_SHARED_X_MAX;
    for (int i = 1; same && i < n; i++) /* one path and one prepared X for all */
        same = w[i]->type == w[0]->type && w[i]->layout == w[0]->layout &&
               w[i]->cols == w[0]->cols;
    if (!same) {
        for (int i = 0; i < n; i++)
            if (simd_matmul(state, pool, y[i], x, w[i], m) != 0) return -1;
        return 0;
    }
    struct shared_x_job sj = {.n = n};
    if (prepare_job(state, pool, &sj.jobs[0], y[0], x, w[0], m) != 0) return -1;
    for (int i = 1; i < n; i++) {
        sj.jobs[i] = sj.jobs[0];
        sj.jobs[i].y = y[i];
        split_rows(&sj.jobs[i], w[i], tlb_pool_size(pool));
    }
    for (int i = 0; i < n; i++) sj.first[i + 1] = sj.first[i] + sj.jobs[i].n_chunks;
    tlb_pool_run_chunks(pool, sj.first[n], shared_x_chunk, &sj);
    return 0;
}

#endif
