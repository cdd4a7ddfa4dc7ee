/* naive.c — the reference kernel: plain loops, one output element at a time, output rows
 * split across the pool. Every other kernel is tested against it. f32 rows use the exact loop
 * of llama2.c's matmul (sequential float sum), so greedy text matches llama2.c's run.
 * Quantized weights follow ggml: X is quantized to q8_0 once per matmul, then integer block
 * dot products (the type's reference dot_q8_0). f16/bf16 weights dot with f32 X. */
#include <stdlib.h>

#include "kernel.h"
#include "util.h"

struct naive_state {
    struct tlb_block_q8_0 *xq; /* (m, k/32) quantized activations */
    size_t xq_cap;             /* blocks allocated */
};

static int naive_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    *state = tlb_calloc(1, sizeof(struct naive_state), "naive kernel state");
    return *state ? 0 : -1;
}

static void naive_release(void *state) {
    struct naive_state *s = state;
    if (!s) return;
    free(s->xq);
    free(s);
}

static size_t naive_scratch(void *state) {
    const struct naive_state *s = state;
    return s ? s->xq_cap * sizeof(struct tlb_block_q8_0) : 0;
}

struct naive_job {
    float *y;
    const float *x;
    const struct tlb_block_q8_0 *xq;
    const struct tlb_tensor *w;
    int m;
};

static void naive_rows(void *arg, int ith, int nth) {
    const struct naive_job *j = arg;
    const struct tlb_tensor *w = j->w;
    const struct tlb_type_traits *tr = tlb_type_traits(w->type);
    const int64_t n = w->rows, k = w->cols;
    const size_t row_bytes = tlb_type_row_bytes(w->type, k);
    long lo, hi;
    tlb_split_range((long)n, ith, nth, &lo, &hi);
    for (int r = 0; r < j->m; r++) {
        const float *xr = j->x + (size_t)r * (size_t)k;
        float *yr = j->y + (size_t)r * (size_t)n;
        for (long i = lo; i < hi; i++) {
            const void *wrow = (const char *)w->data + (size_t)i * row_bytes;
            if (w->type == TLB_TYPE_F32) {
                /* llama2.c: val += w[i * n + j] * x[j] */
                const float *wf = wrow;
                float val = 0.0f;
                for (int64_t c = 0; c < k; c++) val += wf[c] * xr[c];
                yr[i] = val;
            } else if (tr->is_quantized) {
                yr[i] = tr->dot_q8_0(wrow, j->xq + (size_t)r * (size_t)(k / TLB_QK), k);
            } else {
                yr[i] = tr->dot_f32(wrow, xr, k);
            }
        }
    }
}

static int naive_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                         const struct tlb_tensor *w, int m) {
    struct naive_state *s = state;
    struct naive_job job = {y, x, NULL, w, m};
    if (tlb_type_traits(w->type)->is_quantized) {
        size_t nb = (size_t)m * (size_t)(w->cols / TLB_QK);
        if (nb > s->xq_cap) {
            struct tlb_block_q8_0 *p = realloc(s->xq, nb * sizeof *p);
            if (!p) {
                tlb_error("naive kernel: out of memory for %zu activation blocks", nb);
                return -1;
            }
            s->xq = p;
            s->xq_cap = nb;
        }
        for (int r = 0; r < m; r++)
            tlb_quantize_row_q8_0(x + (size_t)r * (size_t)w->cols,
                                  s->xq + (size_t)r * (size_t)(w->cols / TLB_QK), w->cols);
        job.xq = s->xq;
    }
    tlb_pool_run(pool, naive_rows, &job);
    return 0;
}

const struct tlb_kernel tlb_kernel_naive = {
    .name = "naive",
    .summary = "plain C loops; the reference every kernel is tested against",
    .wtypes = TLB_ALL_TYPES,
    .priority = 0,
    .probe = NULL,
    .init = naive_init,
    .release = naive_release,
    .matmul = naive_matmul,
    .version = NULL,
    .scratch_bytes = naive_scratch,
};
