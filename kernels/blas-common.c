/* blas-common.c — the part of the openblas and blis kernels that does not depend on which
 * library is loaded: the dlopen search, the per-engine state and the matmul driver.
 *
 * Threads: the engine's pool, with the library single-threaded. Each pool thread takes its
 * share of W's rows and calls the library on them (f32 weights directly; other types tile by
 * tile, dequantized into the thread's own f32 tile). Letting the library run its own N
 * threads instead puts two sets of busy threads on the same cores: in an engine the pool's
 * workers spin (~1 ms) after every job (attention, norms) while the library's threads
 * start, and OpenBLAS's workers spin-yield after each call. Measured on the 2-core dev VM
 * (2048x2048, 2 threads, best of 3, a busy machine): f32 m = 1 right after a pool job took
 * 1.0 ms (OpenBLAS) / 1.6 ms (BLIS) with the library's threads vs 0.43 / 0.88 ms on the pool;
 * at m = 128 OpenBLAS was even (81 vs 80 GFLOP/s) and BLIS's OpenMP threads collapsed (8 vs
 * 30 GFLOP/s); dequantizing on the pool then multiplying on library threads was 1.1-2.4x
 * slower than per-thread tiles (OpenBLAS q8_0 m = 128: 19 vs 48 GFLOP/s). So exactly one
 * set of threads works at any time, and it is the pool: N pool threads = N BLAS threads. */
#include "blas-common.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "util.h"

/* f32 tile of W per thread. Decode (m = 1): about 1 MiB (an L2), written then read once by
 * gemv. Prefill: about 4 MiB, since every library call packs all of X again and a call on a
 * few rows is a small GEMM (measured with `tlbench kernels`, f16 2048x5632 m = 128, 1 thread:
 * OpenBLAS 117 -> 145 GFLOP/s, BLIS 68 -> 107 going from 1 to 4 MiB; 2048x2048 unchanged). */
#define TILE_FLOATS_DECODE (256 * 1024)
#define TILE_FLOATS_PREFILL (1024 * 1024)
#define TILE_MIN_ROWS 16
#define TILE_MAX_ROWS 512

void *tlb_blas_dlopen(const char *what, const char *const *names, const char *env,
                      const char *marker, char *why, size_t why_len) {
    const char *one[2] = {NULL, NULL};
    const char *ov = env ? getenv(env) : NULL;
    if (ov && *ov) { /* the user named the library: try only that */
        one[0] = ov;
        names = one;
    }
    char tried[400] = "", problem[200] = "";
    size_t off = 0;
    for (int i = 0; names[i]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (h && dlsym(h, marker)) return h;
        if (h) {
            snprintf(problem, sizeof problem, "%s lacks %s", names[i], marker);
            dlclose(h);
        } else {
            /* a file that exists but fails to load is worth reporting; "no such file" is not */
            const char *e = dlerror();
            if (e && !strstr(e, "No such file")) snprintf(problem, sizeof problem, "%s", e);
        }
        if (off < sizeof tried) {
            int wr = snprintf(tried + off, sizeof tried - off, "%s%s", i ? ", " : "", names[i]);
            if (wr > 0) off += (size_t)wr;
        }
    }
    snprintf(why, why_len, "%s not found (tried %s%s%s)%s%s", what, tried,
             ov && *ov ? " from $" : "", ov && *ov ? env : "", *problem ? ": " : "", problem);
    return NULL;
}

struct blas_state {
    const struct tlb_blas_ops *ops;
    int nth;            /* pool size at init */
    float *tile;        /* nth tiles of tile_floats each */
    size_t tile_floats; /* floats per thread tile currently allocated */
};

int tlb_blas_init(void **state, struct tlb_pool *pool, const struct tlb_blas_ops *ops) {
    struct blas_state *s = tlb_calloc(1, sizeof *s, "BLAS kernel state");
    if (!s) return -1;
    s->ops = ops;
    s->nth = pool ? tlb_pool_size(pool) : 1;
    ops->set_threads(1); /* the pool provides the parallelism (see the top of this file) */
    *state = s;
    return 0;
}

void tlb_blas_release(void *state) {
    struct blas_state *s = state;
    if (!s) return;
    tlb_free_aligned(s->tile);
    free(s);
}

size_t tlb_blas_scratch_bytes(void *state) {
    const struct blas_state *s = state;
    return s ? (size_t)s->nth * s->tile_floats * sizeof(float) : 0;
}

static int tile_rows_for(int64_t k, int64_t n, int m) {
    int64_t r = (m == 1 ? TILE_FLOATS_DECODE : TILE_FLOATS_PREFILL) / k;
    if (r > TILE_MAX_ROWS) r = TILE_MAX_ROWS;
    r &= ~(int64_t)7; /* whole cache lines of y, and BLAS likes multiples of 8 */
    if (r < TILE_MIN_ROWS) r = TILE_MIN_ROWS;
    if (r > n) r = n;
    return (int)r;
}

struct tile_job {
    const struct blas_state *s;
    float *y;
    const float *x;
    const struct tlb_tensor *w;
    int m, rows; /* rows per tile */
};

int tlb_blas_choose_avx512(const char *var, const char *value) {
#if defined(__x86_64__)
    const char *mode = getenv("TLBENCH_BLAS_CONFIG");
    if ((mode && !strcmp(mode, "library")) || getenv(var)) return 0;
    const unsigned need = TLB_CPU_BIT(TLB_CPU_AVX512F) | TLB_CPU_BIT(TLB_CPU_AVX512BW) |
                          TLB_CPU_BIT(TLB_CPU_AVX512VL) | TLB_CPU_BIT(TLB_CPU_AVX512DQ);
    char why[128];
    if (tlb_cpu_require(need, var, why, sizeof why) != 0) return 0;
    return setenv(var, value, 0) == 0;
#else
    (void)var;
    (void)value;
    return 0;
#endif
}

/* One pool thread: its share of W's rows, tile by tile: dequantize, then multiply with the
 * library running single-threaded. */
static void tile_worker(void *arg, int ith, int nth) {
    const struct tile_job *j = arg;
    const struct tlb_tensor *w = j->w;
    const struct tlb_type_traits *tr = tlb_type_traits(w->type);
    const int n = (int)w->rows, k = (int)w->cols;
    const size_t row_bytes = tlb_type_row_bytes(w->type, k);
    float *tile = j->s->tile + (size_t)ith * j->s->tile_floats;
    long lo, hi;
    tlb_split_range(n, ith, nth, &lo, &hi);
    for (long r0 = lo; r0 < hi; r0 += j->rows) {
        int nr = (int)TLB_MIN((long)j->rows, hi - r0);
        tr->to_f32((const char *)w->data + (size_t)r0 * row_bytes, tile, (int64_t)nr * k);
        if (j->m == 1) j->s->ops->gemv(nr, k, tile, j->x, j->y + r0);
        else j->s->ops->gemm(j->m, nr, k, j->x, tile, j->y + r0, n);
    }
}

/* f32 weights: one pool thread, one call on its share of W's rows. */
static void f32_worker(void *arg, int ith, int nth) {
    const struct tile_job *j = arg;
    const int n = (int)j->w->rows, k = (int)j->w->cols;
    long lo, hi;
    tlb_split_range(n, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    const float *w = (const float *)j->w->data + (size_t)lo * (size_t)k;
    if (j->m == 1) j->s->ops->gemv((int)(hi - lo), k, w, j->x, j->y + lo);
    else j->s->ops->gemm(j->m, (int)(hi - lo), k, j->x, w, j->y + lo, n);
}

int tlb_blas_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                    const struct tlb_tensor *w, int m) {
    struct blas_state *s = state;
    const struct tlb_blas_ops *ops = s->ops;
    if (w->rows < 1 || w->cols < 1 || m < 1 || w->rows > INT_MAX || w->cols > INT_MAX) {
        tlb_error("%s kernel: matrix %s of %lld x %lld is outside the BLAS int range",
                  ops->kernel, w->name ? w->name : "(unnamed)", (long long)w->rows,
                  (long long)w->cols);
        return -1;
    }
    const int n = (int)w->rows, k = (int)w->cols;
    struct tile_job job = {s, y, x, w, m, 0};
    ops->set_threads(1);
    if (w->type == TLB_TYPE_F32) {
        tlb_pool_run(pool, f32_worker, &job);
        return 0;
    }
    /* The pool may have grown since init (it cannot in the engine, but be safe). */
    int nth = pool ? tlb_pool_size(pool) : 1;
    if (nth > s->nth) {
        tlb_free_aligned(s->tile);
        s->tile = NULL;
        s->tile_floats = 0;
        s->nth = nth;
    }
    job.rows = tile_rows_for(k, n, m);
    size_t need = (size_t)job.rows * (size_t)k;
    if (need > s->tile_floats) {
        size_t bytes;
        if (tlb_mul_size(need, (size_t)s->nth * sizeof(float), &bytes) != 0) {
            tlb_error("%s kernel: dequantization tile size overflows", ops->kernel);
            return -1;
        }
        float *t = tlb_alloc_aligned(bytes, "BLAS dequantization tiles");
        if (!t) return -1;
        tlb_free_aligned(s->tile);
        s->tile = t;
        s->tile_floats = need;
    }
    tlb_pool_run(pool, tile_worker, &job);
    return 0;
}
