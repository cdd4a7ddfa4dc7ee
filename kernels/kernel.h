/* kernel.h — the matmul kernel interface. A kernel computes
 *     Y[m x n] = X[m x k] * W[n x k]^T
 * with W in one weight type (engine/quant.h) and X, Y in f32 (m = 1 in decode, m = prompt
 * length in prefill). Each kernel is one file in kernels/ that defines one
 * `const struct tlb_kernel tlb_kernel_<name>` and has one line in kernels/kernel-list.h.
 * Kernels know nothing of the model or the harness. */
#ifndef TLB_KERNEL_H
#define TLB_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "quant.h"
#include "threadpool.h"

/* A weight matrix: rows = n output features, cols = k input features, each row
 * tlb_type_row_bytes(type, cols) bytes; row after row unless layout says otherwise. */
struct tlb_tensor {
    enum tlb_type type;
    int64_t rows;       /* n */
    int64_t cols;       /* k */
    const void *data;   /* (rows, row_bytes) */
    const char *name;   /* for messages, may be NULL */
    enum tlb_layout layout; /* ROWS (0), or a layout the kernel's layout_for asked for */
};

#define TLB_TYPE_BIT(t) (1u << (t))
#define TLB_ALL_TYPES ((1u << TLB_TYPE_COUNT) - 1)

struct tlb_kernel {
    const char *name;     /* selection name: "naive", "tiled", "avx512", ... */
    const char *summary;  /* one line for `tlbench info` and --help */
    uint32_t wtypes;      /* TLB_TYPE_BIT() of every weight type matmul accepts */
    int priority;         /* `--kernel auto` picks the usable kernel with the highest */
    /* 0 when usable on this machine (CPU features, library present); otherwise -1 and a
     * reason written to why. */
    int (*probe)(char *why, size_t why_len);
    /* (optional) create per-engine state for a pool of threads; NULL means no state. */
    int (*init)(void **state, struct tlb_pool *pool);
    /* (optional) free what init created. */
    void (*release)(void *state);
    /* Y = X W^T. y: (m, w->rows); x: (m, w->cols). Must use the pool for threads.
     * Returns 0, or -1 (with a message printed) when scratch memory cannot be allocated. */
    int (*matmul)(void *state, struct tlb_pool *pool, float *y, const float *x,
                   const struct tlb_tensor *w, int m);
    /* (optional) library version/configuration, e.g. "OpenBLAS 0.3.21 Haswell"; NULL: none */
    const char *(*version)(void *state);
    /* (optional) bytes of scratch memory the kernel holds (dequantization tiles, q8 X) */
    size_t (*scratch_bytes)(void *state);
    /* (optional) the layout (layout.h) this kernel streams a rows x cols matrix of type t
     * fastest in on this CPU. Every kernel reads ROWS; matmul gets another layout only when
     * this returned it. NULL: ROWS always. */
    enum tlb_layout (*layout_for)(enum tlb_type t, int64_t rows, int64_t cols);
    /* (optional) y[i] = X w[i]^T for the n (1..TLB_SHARED_X_MAX) matrices that read the same
     * X (m rows): X prepared once and one dispatch of all their rows, with results equal to n
     * matmul calls. NULL: the engine makes the n calls. */
    int (*matmul_shared_x)(void *state, struct tlb_pool *pool, float *const *y, const float *x,
                           const struct tlb_tensor *const *w, int n, int m);
};
#define TLB_SHARED_X_MAX 3 /* q, k and v */

/* The layout kernel k wants for w (ROWS when it has no layout_for). */
static inline enum tlb_layout tlb_kernel_layout(const struct tlb_kernel *k, enum tlb_type t,
                                                int64_t rows, int64_t cols) {
    return k->layout_for ? k->layout_for(t, rows, cols) : TLB_LAYOUT_ROWS;
}
/* Can k read w as it sits (ROWS, or the layout k asks for)? */
static inline int tlb_kernel_reads(const struct tlb_kernel *k, const struct tlb_tensor *w) {
    return w->layout == TLB_LAYOUT_ROWS ||
           w->layout == tlb_kernel_layout(k, w->type, w->rows, w->cols);
}

/* How many chunks to split `units` units of W rows (unit_bytes of weights each) into, for nth
 * threads that claim them one after the other (tlb_pool_run_chunks): about 8 per thread, each
 * at least 64 KiB of weights, so a chunk is a long sequential stream and a thread the OS does
 * not run leaves little behind. */
static inline long tlb_kernel_chunk_count(long units, size_t unit_bytes, int nth) {
    const size_t min_bytes = (size_t)64 << 10;
    return tlb_pool_chunk_count(units, nth, 8,
                                (long)((min_bytes + unit_bytes - 1) / (unit_bytes ? unit_bytes : 1)));
}

/* ---- registry (kernels/registry.c) ---- */
int tlb_kernel_count(void);
const struct tlb_kernel *tlb_kernel_at(int i);
const struct tlb_kernel *tlb_kernel_find(const char *name);
/* Is kernel k usable here for weight type t? 0 yes, else -1 with a reason. */
int tlb_kernel_usable(const struct tlb_kernel *k, enum tlb_type t, char *why, size_t why_len);
/* Resolve "auto" or a kernel name for a set of weight types (TLB_TYPE_BIT mask). Returns NULL
 * with the reason in why when the name is unknown or the kernel is not usable here: never a
 * silent fallback. */
const struct tlb_kernel *tlb_kernel_select(const char *name, uint32_t types, char *why,
                                           size_t why_len);

#endif
