/* neon.c — the Arm NEON kernel (Raspberry Pi 5, Jetson Orin): all five weight types.
 * f32/f16/bf16: 4 rows of W against 2 rows of X at a time with vfmaq_f32 (f16 widened with
 * vcvt_f32_f16, bf16 by a 16-bit shift: both base ARMv8). q8_0/q4_0: X is quantized to q8_0
 * once per matmul, then integer block dot products: vdotq_s32 when the CPU has dotprod
 * (Cortex-A76/A78, Pi 5, Orin), else vmull_s8 + vpadalq_s16 (Cortex-A72, Pi 4). Only the
 * dotprod functions are compiled for ARMv8.2-a+dotprod, so the file runs on any ARMv8 core.
 * On other architectures it is a stub whose probe says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "util.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#include "cpu.h"

#define DOTPROD_TARGET __attribute__((target("arch=armv8.2-a+dotprod")))

struct neon_state {
    struct tlb_block_q8_0 *xq; /* (m, k/32) quantized activations */
    size_t xq_cap;             /* blocks allocated */
    int dotprod;               /* use vdotq_s32 (decided once, at init) */
};

struct neon_job {
    float *y;
    const float *x;
    const struct tlb_block_q8_0 *xq;
    const struct tlb_tensor *w;
    int m;
};

/* f16 -> f32 with the base-ARMv8 FCVT instruction (exact, like tlb_f16_to_f32, but no call:
 * quantized loops convert five block scales per step). */
static inline float h2f(uint16_t h) {
    __fp16 f;
    memcpy(&f, &h, sizeof f);
    return (float)f;
}

/* ---- f32, f16, bf16 ---- */

/* 4 consecutive values of each float weight type as f32 */
static inline float32x4_t load4_f32(const float *p) { return vld1q_f32(p); }
static inline float32x4_t load4_f16(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}
static inline float32x4_t load4_bf16(const uint16_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}
static inline float scalar_f32(const float *p) { return *p; }
static inline float scalar_f16(const uint16_t *p) { return h2f(*p); }
static inline float scalar_bf16(const uint16_t *p) { return tlb_bf16_to_f32(*p); }

/* Rows [lo, hi) of y for one float type. Four W rows are reused against two X rows: 8
 * accumulators hide the FMA latency and each W load (and conversion) feeds two FMAs. Rows
 * past hi reuse the last row and their sums are dropped, so every tail uses the same code. */
#define FLOAT_ROWS(NAME, T, LOAD4, SCALAR)                                                  \
    static void NAME(const struct neon_job *j, long lo, long hi) {                          \
        const int64_t n = j->w->rows, k = j->w->cols;                                       \
        const T *wbase = j->w->data;                                                        \
        for (long i = lo; i < hi; i += 4) {                                                 \
            const T *wr[4];                                                                 \
            for (int q = 0; q < 4; q++)                                                     \
                wr[q] = wbase + (size_t)TLB_MIN(i + q, hi - 1) * (size_t)k;                 \
            int r = 0;                                                                      \
            for (; r + 2 <= j->m; r += 2) {                                                 \
                const float *x0 = j->x + (size_t)r * (size_t)k, *x1 = x0 + k;               \
                float32x4_t a00 = vdupq_n_f32(0), a01 = a00, a10 = a00, a11 = a00;          \
                float32x4_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;                     \
                int64_t c = 0;                                                              \
                for (; c + 4 <= k; c += 4) {                                                \
                    const float32x4_t v0 = vld1q_f32(x0 + c), v1 = vld1q_f32(x1 + c);       \
                    float32x4_t w0 = LOAD4(wr[0] + c), w1 = LOAD4(wr[1] + c);               \
                    a00 = vfmaq_f32(a00, w0, v0), a01 = vfmaq_f32(a01, w0, v1);             \
                    a10 = vfmaq_f32(a10, w1, v0), a11 = vfmaq_f32(a11, w1, v1);             \
                    float32x4_t w2 = LOAD4(wr[2] + c), w3 = LOAD4(wr[3] + c);               \
                    a20 = vfmaq_f32(a20, w2, v0), a21 = vfmaq_f32(a21, w2, v1);             \
                    a30 = vfmaq_f32(a30, w3, v0), a31 = vfmaq_f32(a31, w3, v1);             \
                }                                                                           \
                float s[4][2] = {{vaddvq_f32(a00), vaddvq_f32(a01)},                        \
                                 {vaddvq_f32(a10), vaddvq_f32(a11)},                        \
                                 {vaddvq_f32(a20), vaddvq_f32(a21)},                        \
                                 {vaddvq_f32(a30), vaddvq_f32(a31)}};                       \
                for (; c < k; c++)                                                          \
                    for (int q = 0; q < 4; q++) {                                           \
                        const float wv = SCALAR(wr[q] + c);                                 \
                        s[q][0] += wv * x0[c], s[q][1] += wv * x1[c];                       \
                    }                                                                       \
                for (int q = 0; q < 4 && i + q < hi; q++) {                                 \
                    j->y[(size_t)r * (size_t)n + (size_t)(i + q)] = s[q][0];                \
                    j->y[(size_t)(r + 1) * (size_t)n + (size_t)(i + q)] = s[q][1];          \
                }                                                                           \
            }                                                                               \
            if (r < j->m) { /* odd last X row (and decode, m = 1): two accumulators a row */\
                const float *x0 = j->x + (size_t)r * (size_t)k;                             \
                float32x4_t a[4][2];                                                        \
                for (int q = 0; q < 4; q++) a[q][0] = a[q][1] = vdupq_n_f32(0);             \
                int64_t c = 0;                                                              \
                for (; c + 8 <= k; c += 8) {                                                \
                    const float32x4_t v0 = vld1q_f32(x0 + c), v1 = vld1q_f32(x0 + c + 4);   \
                    for (int q = 0; q < 4; q++) {                                           \
                        a[q][0] = vfmaq_f32(a[q][0], LOAD4(wr[q] + c), v0);                 \
                        a[q][1] = vfmaq_f32(a[q][1], LOAD4(wr[q] + c + 4), v1);             \
                    }                                                                       \
                }                                                                           \
                for (; c + 4 <= k; c += 4) {                                                \
                    const float32x4_t v0 = vld1q_f32(x0 + c);                               \
                    for (int q = 0; q < 4; q++)                                             \
                        a[q][0] = vfmaq_f32(a[q][0], LOAD4(wr[q] + c), v0);                 \
                }                                                                           \
                float s[4];                                                                 \
                for (int q = 0; q < 4; q++) s[q] = vaddvq_f32(vaddq_f32(a[q][0], a[q][1])); \
                for (; c < k; c++)                                                          \
                    for (int q = 0; q < 4; q++) s[q] += SCALAR(wr[q] + c) * x0[c];          \
                for (int q = 0; q < 4 && i + q < hi; q++)                                   \
                    j->y[(size_t)r * (size_t)n + (size_t)(i + q)] = s[q];                   \
            }                                                                               \
        }                                                                                   \
    }

FLOAT_ROWS(rows_f32, float, load4_f32, scalar_f32)
FLOAT_ROWS(rows_f16, uint16_t, load4_f16, scalar_f16)
FLOAT_ROWS(rows_bf16, uint16_t, load4_bf16, scalar_bf16)

/* ---- q8_0, q4_0 with q8_0 activations ---- */

/* The 32 weights of one block as two int8x16 (q4_0: nibbles minus 8, low nibbles are
 * elements 0..15, high nibbles 16..31). */
static inline void unpack_q8_0(const struct tlb_block_q8_0 *b, int8x16_t *lo, int8x16_t *hi) {
    *lo = vld1q_s8(b->qs);
    *hi = vld1q_s8(b->qs + 16);
}
static inline void unpack_q4_0(const struct tlb_block_q4_0 *b, int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t v = vld1q_u8(b->qs);
    const int8x16_t eight = vdupq_n_s8(8);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))), eight);
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight);
}

/* 32-element integer dot product, as 4 partial sums. */
static inline DOTPROD_TARGET int32x4_t idot_dotprod(int8x16_t wl, int8x16_t wh, int8x16_t xl,
                                                    int8x16_t xh) {
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), wl, xl), wh, xh);
}
/* Without dotprod: products fit int16 (|q| <= 128), pairs are summed into int32. */
static inline int32x4_t idot_base(int8x16_t wl, int8x16_t wh, int8x16_t xl, int8x16_t xh) {
    int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(wl), vget_low_s8(xl)));
    s = vpadalq_s16(s, vmull_high_s8(wl, xl));
    s = vpadalq_s16(s, vmull_s8(vget_low_s8(wh), vget_low_s8(xh)));
    return vpadalq_s16(s, vmull_high_s8(wh, xh));
}

/* Rows [lo, hi) for one quantized type and one integer dot: four W rows share each X block
 * load; each block's integer sums are scaled by d_w * d_x into f32 lanes. */
#define QUANT_ROWS(NAME, ATTR, BLOCK, UNPACK, IDOT)                                         \
    static ATTR void NAME(const struct neon_job *j, long lo, long hi) {                     \
        const int64_t n = j->w->rows, nb = j->w->cols / TLB_QK;                             \
        const BLOCK *wbase = j->w->data;                                                    \
        for (long i = lo; i < hi; i += 4) {                                                 \
            const BLOCK *wr[4];                                                             \
            for (int q = 0; q < 4; q++)                                                     \
                wr[q] = wbase + (size_t)TLB_MIN(i + q, hi - 1) * (size_t)nb;                \
            for (int r = 0; r < j->m; r++) {                                                \
                const struct tlb_block_q8_0 *xr = j->xq + (size_t)r * (size_t)nb;           \
                float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;                 \
                for (int64_t b = 0; b < nb; b++) {                                          \
                    const int8x16_t xl = vld1q_s8(xr[b].qs), xh = vld1q_s8(xr[b].qs + 16);  \
                    const float dx = h2f(xr[b].d);                                          \
                    int8x16_t wl, wh;                                                       \
                    UNPACK(wr[0] + b, &wl, &wh);                                            \
                    a0 = vmlaq_n_f32(a0, vcvtq_f32_s32(IDOT(wl, wh, xl, xh)),               \
                                     h2f(wr[0][b].d) * dx);                                 \
                    UNPACK(wr[1] + b, &wl, &wh);                                            \
                    a1 = vmlaq_n_f32(a1, vcvtq_f32_s32(IDOT(wl, wh, xl, xh)),               \
                                     h2f(wr[1][b].d) * dx);                                 \
                    UNPACK(wr[2] + b, &wl, &wh);                                            \
                    a2 = vmlaq_n_f32(a2, vcvtq_f32_s32(IDOT(wl, wh, xl, xh)),               \
                                     h2f(wr[2][b].d) * dx);                                 \
                    UNPACK(wr[3] + b, &wl, &wh);                                            \
                    a3 = vmlaq_n_f32(a3, vcvtq_f32_s32(IDOT(wl, wh, xl, xh)),               \
                                     h2f(wr[3][b].d) * dx);                                 \
                }                                                                           \
                const float s[4] = {vaddvq_f32(a0), vaddvq_f32(a1), vaddvq_f32(a2),         \
                                    vaddvq_f32(a3)};                                        \
                for (int q = 0; q < 4 && i + q < hi; q++)                                   \
                    j->y[(size_t)r * (size_t)n + (size_t)(i + q)] = s[q];                   \
            }                                                                               \
        }                                                                                   \
    }

QUANT_ROWS(rows_q8_0_dot, DOTPROD_TARGET, struct tlb_block_q8_0, unpack_q8_0, idot_dotprod)
QUANT_ROWS(rows_q4_0_dot, DOTPROD_TARGET, struct tlb_block_q4_0, unpack_q4_0, idot_dotprod)
QUANT_ROWS(rows_q8_0_base, , struct tlb_block_q8_0, unpack_q8_0, idot_base)
QUANT_ROWS(rows_q4_0_base, , struct tlb_block_q4_0, unpack_q4_0, idot_base)

/* ---- kernel ---- */

struct neon_task {
    struct neon_job job;
    void (*rows)(const struct neon_job *j, long lo, long hi);
};

static void neon_worker(void *arg, int ith, int nth) {
    const struct neon_task *t = arg;
    long lo, hi;
    tlb_split_range((long)t->job.w->rows, ith, nth, &lo, &hi);
    if (lo < hi) t->rows(&t->job, lo, hi);
}

static int neon_probe(char *why, size_t why_len) {
    return tlb_cpu_require(TLB_CPU_BIT(TLB_CPU_NEON), "neon kernel", why, why_len);
}

static int neon_init(void **state, struct tlb_pool *pool) {
    (void)pool;
    struct neon_state *s = tlb_calloc(1, sizeof *s, "neon kernel state");
    if (!s) return -1;
    s->dotprod = tlb_cpu_has(TLB_CPU_DOTPROD);
    *state = s;
    return 0;
}

static void neon_release(void *state) {
    struct neon_state *s = state;
    if (!s) return;
    free(s->xq);
    free(s);
}

static size_t neon_scratch(void *state) {
    const struct neon_state *s = state;
    return s ? s->xq_cap * sizeof(struct tlb_block_q8_0) : 0;
}

static int neon_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                       const struct tlb_tensor *w, int m) {
    struct neon_state *s = state;
    struct neon_task t = {{y, x, NULL, w, m}, NULL};
    switch (w->type) {
    case TLB_TYPE_F32: t.rows = rows_f32; break;
    case TLB_TYPE_F16: t.rows = rows_f16; break;
    case TLB_TYPE_BF16: t.rows = rows_bf16; break;
    case TLB_TYPE_Q8_0: t.rows = s->dotprod ? rows_q8_0_dot : rows_q8_0_base; break;
    case TLB_TYPE_Q4_0: t.rows = s->dotprod ? rows_q4_0_dot : rows_q4_0_base; break;
    default:
        tlb_error("neon kernel: unsupported weight type %d", (int)w->type);
        return -1;
    }
    if (tlb_type_traits(w->type)->is_quantized) {
        const size_t nb = (size_t)m * (size_t)(w->cols / TLB_QK);
        if (nb > s->xq_cap) {
            struct tlb_block_q8_0 *p = realloc(s->xq, nb * sizeof *p);
            if (!p) {
                tlb_error("neon kernel: out of memory for %zu activation blocks", nb);
                return -1;
            }
            s->xq = p;
            s->xq_cap = nb;
        }
        for (int r = 0; r < m; r++)
            tlb_quantize_row_q8_0(x + (size_t)r * (size_t)w->cols,
                                  s->xq + (size_t)r * (size_t)(w->cols / TLB_QK), w->cols);
        t.job.xq = s->xq;
    }
    tlb_pool_run(pool, neon_worker, &t);
    return 0;
}

/* Names the integer path in use, so results (and the qemu test) can tell them apart. */
static const char *neon_version(void *state) {
    const struct neon_state *s = state;
    int dp = s ? s->dotprod : tlb_cpu_has(TLB_CPU_DOTPROD);
    return dp ? "NEON + dotprod (vdotq_s32)" : "NEON, no dotprod (vmull_s8 fallback)";
}

#else /* not aarch64: a stub, so every build lists the kernel and says why it is unusable */

static int neon_probe(char *why, size_t why_len) {
    snprintf(why, why_len, "Arm-only kernel (this binary is not built for aarch64)");
    return -1;
}

static int neon_matmul(void *state, struct tlb_pool *pool, float *y, const float *x,
                       const struct tlb_tensor *w, int m) {
    (void)state, (void)pool, (void)y, (void)x, (void)w, (void)m;
    tlb_error("neon kernel: Arm-only kernel (this binary is not built for aarch64)");
    return -1;
}

#define neon_init NULL
#define neon_release NULL
#define neon_scratch NULL
#define neon_version NULL

#endif

const struct tlb_kernel tlb_kernel_neon = {
    .name = "neon",
    .summary = "Arm NEON: vfmaq_f32; q8_0/q4_0 with vdotq_s32 when dotprod, else vmull_s8",
    .wtypes = TLB_ALL_TYPES,
    .priority = 20, /* above tiled (10): the fastest kernel on Arm boards */
    .probe = neon_probe,
    .init = neon_init,
    .release = neon_release,
    .matmul = neon_matmul,
    .version = neon_version,
    .scratch_bytes = neon_scratch,
};
