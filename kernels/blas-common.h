/* blas-common.h — what the openblas and blis kernels share: a small table of the f32 entry
 * points each file loaded with dlopen, the dlopen search itself, and one matmul driver that
 * splits W's rows over the engine's pool and calls the library single-threaded on each share:
 * directly for f32 weights and, for every other weight type, after dequantizing W into
 * bounded f32 tiles with the type's to_f32 (engine/quant.h). */
#ifndef TLB_BLAS_COMMON_H
#define TLB_BLAS_COMMON_H

#include <stddef.h>

#include "kernel.h"

/* A BLAS library as one kernel file sees it. All matrices are row-major with contiguous rows;
 * sizes are checked to fit an int before these are called. */
struct tlb_blas_ops {
    const char *kernel; /* "openblas" or "blis", for messages */
    /* y[m x n] (row stride ldy) = x[m x k] * w[n x k]^T */
    void (*gemm)(int m, int n, int k, const float *x, const float *w, float *y, int ldy);
    /* y[n] = w[n x k] * x[k]: the m = 1 case */
    void (*gemv)(int n, int k, const float *w, const float *x, float *y);
    /* the library's own thread count (global to the process; blas-common uses 1) */
    void (*set_threads)(int n);
};

/* dlopen (RTLD_NOW | RTLD_LOCAL: never into the global namespace, since OpenBLAS and BLIS
 * export the same BLAS symbols) the first of names[] that loads and has the symbol `marker`.
 * When env names an environment variable that is set, only its value is tried. Returns the
 * handle, or NULL with "<what> not found (tried ...)" in why. The handle is never closed:
 * the libraries keep threads alive until exit. */
void *tlb_blas_dlopen(const char *what, const char *const *names, const char *env,
                      const char *marker, char *why, size_t why_len);

/* Old library releases do not recognise newer CPUs and fall back to slower code: Debian 12's
 * BLIS 0.9 runs its unoptimised `generic` configuration on AMD Zen 5, although it has AVX-512
 * (measured on the 2-vCPU dev VM, f32 prefill of 128 tokens on 2 threads: 25 tokens/s generic,
 * 65 skx, 68 zen3; OpenBLAS 0.3.21 picks Cooperlake there by itself). On an
 * x86 CPU with AVX-512 F/BW/VL/DQ, and only when the user has not set the library's own
 * variable (nor TLBENCH_BLAS_CONFIG=library, which keeps the library's choice), set var to
 * value before the library reads it. Returns 1 when it was set (the kernel's version string
 * then says so), else 0. */
int tlb_blas_choose_avx512(const char *var, const char *value);

/* Kernel callbacks shared by both files (see struct tlb_kernel). */
int tlb_blas_init(void **state, struct tlb_pool *pool, const struct tlb_blas_ops *ops);
void tlb_blas_release(void *state);
size_t tlb_blas_scratch_bytes(void *state);
int tlb_blas_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                    const struct tlb_tensor *w, int m);

#endif
