/* memory-model.h — how much RAM a configuration needs: weights, KV cache and scratch
 * computed from a model's shapes (the same rules the engine allocates by), a runtime
 * overhead fitted by least squares to measured peak RSS, and RAM size parsing.
 * predicted peak = weights + kv_per_token x ctx + scratch + overhead. */
#ifndef TLB_MEMORY_MODEL_H
#define TLB_MEMORY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "quant.h"

/* Bytes of all weights stored as wtype: each matrix rows x cols in the type the loader
 * gives it (tlb_model_type_for: wtype, or f16/f32 when a row does not fit its blocks),
 * the embedding table too, norms in f32, the classifier separate unless shared.
 * 0 on overflow. */
uint64_t tlb_mem_weights(const struct tlb_config *c, enum tlb_type wtype, int shared_classifier);
/* KV cache bytes per context token: 2 x n_layers x kv_dim x sizeof(kv type). */
uint64_t tlb_mem_kv_per_token(const struct tlb_config *c, enum tlb_type kv_type);
/* Activation scratch of an engine (tlb_engine_scratch_bytes_for: the engine owns the formula).
 * Kernel scratch is not included (it is part of the fitted overhead). */
uint64_t tlb_mem_scratch(const struct tlb_config *c, int64_t ctx, int n_threads, int max_batch);

/* Runtime overhead assumed when no measured row exists to fit it: the process's code,
 * libraries, thread stacks, allocator slack and kernel buffers. */
#define TLB_MEM_DEFAULT_OVERHEAD ((uint64_t)32 << 20)

/* overhead(weights) = a + b x weights, fitted to residuals peak - known by least squares.
 * b is fitted only with >= 4 rows spanning >= 2 distinct weight sizes (else b = 0, a =
 * mean residual). Errors are of the in-sample predictions known + overhead vs peak. */
struct tlb_mem_fit {
    double a, b;
    size_t n;          /* rows used */
    int n_params;      /* 1 (a) or 2 (a, b) */
    double max_rel_err, rms_rel_err; /* |pred - peak| / peak over the rows */
};
/* known[i] = weights + kv + scratch of row i; weights[i]; peak[i] = measured peak RSS.
 * Returns 0, or -1 when n == 0. */
int tlb_mem_fit(const double *known, const double *weights, const double *peak, size_t n,
                struct tlb_mem_fit *out);
double tlb_mem_fit_overhead(const struct tlb_mem_fit *f, double weights);

/* RAM sizes: a number (decimals allowed) with an optional unit, all binary:
 * B; K, KB, KiB = 2^10; M, MB, MiB = 2^20; G, GB, GiB = 2^30; T, TB, TiB = 2^40
 * (case-insensitive). "2GB" is 2 GiB because boards are sold with binary RAM sizes.
 * Returns 0, or -1 when malformed, zero, or over 2^60. */
int tlb_parse_size(const char *s, uint64_t *out);
/* "1.23 GiB"/"456.0 MiB"/"789 KiB"/"12 B" into buf. */
const char *tlb_format_size(uint64_t bytes, char *buf, size_t n);

#endif
