/* kernel-check.h — is a kernel's matmul output right? Compares output rows with the naive kernel
 * (same q8_0 activations for quantized weights) and, for quantized weights, with the
 * dequantized-weights x f32-activations product (what BLAS kernels compute), for bf16 weights
 * with the product of activations rounded to bf16 (what a bf16 dot product instruction
 * computes). Used by `tlbench kernels` for its per-row `passed` spot check, `--check` and the
 * kernel tests. */
#ifndef TLB_KCHECK_H
#define TLB_KCHECK_H

#include <stdint.h>

#include "kernel.h"

/* Bounds on the normalized squared error (see tlb_kcheck_rows). Float weights: the same
 * exact f32 products as naive in another order. Quantized, vs naive: identical integer block
 * sums, only the float accumulation order differs. Quantized kernels that keep X in f32
 * instead differ from naive by X's q8_0 rounding and are held to the f32 product. */
#define TLB_KCHECK_NMSE_FLOAT 1e-9
#define TLB_KCHECK_NMSE_Q8 1e-9
#define TLB_KCHECK_NMSE_F32X 1e-6

struct tlb_kcheck {
    double nmse;      /* error vs the reference that matched (or vs naive when none did) */
    int passed;       /* 1 when within the bound */
    const char *ref;  /* "naive", "f32 activations", "bf16 activations" or "f16 activations" */
    int finite;       /* 0 when y has a NaN/Inf in the checked rows */
};

/* Check y (m x w->rows, row-major: the kernel's output for x (m x w->cols)) on W rows
 * [r0, r0 + nr). The error is sum (y - ref)^2 / sum over outputs of sum_c (w_c x_c)^2 — the
 * usual NMSE denominator in expectation, but never tiny by chance when an output cancels.
 * Returns 0, or -1 when memory runs out (error printed). */
int tlb_kcheck_rows(const struct tlb_tensor *w, const float *x, int m, const float *y,
                    int64_t r0, int64_t nr, struct tlb_kcheck *out);

#endif
