/* quant.c — reference implementations of the weight types (f32, f16, bf16, q8_0, q4_0), the
 * traits table, and the f16/bf16 scalar conversions. Bit-exact with ggml's reference code
 * (ggml-quants.c quantize_row_*_ref, dequantize_row_*, ggml_vec_dot_*_q8_0 generic). */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "util.h"

#define TLB_QMIN(a, b) ((a) < (b) ? (a) : (b))

/* ---- scalar conversions ---- */

uint16_t tlb_f32_to_f16(float f) {
    const float scale_to_inf = 0x1.0p+112f;
    const float scale_to_zero = 0x1.0p-110f;
    float base = (fabsf(f) * scale_to_inf) * scale_to_zero;
    const uint32_t w = tlb_bits_of_f32(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = tlb_f32_of_bits((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = tlb_bits_of_f32(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = bits & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

float tlb_bf16_to_f32(uint16_t h) { return tlb_f32_of_bits((uint32_t)h << 16); }

uint16_t tlb_f32_to_bf16(float f) {
    uint32_t u = tlb_bits_of_f32(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64); /* quiet NaN */
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

/* ---- f32 ---- */

static void f32_to_f32(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
static void f32_from_f32(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
static float f32_dot(const void *w, const float *x, int64_t n) {
    const float *a = w;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * x[i];
    return s;
}

/* ---- f16 ---- */

TLB_MULTIVERSION
static void f16_to_f32(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = tlb_f16_to_f32(h[i]);
}
static void f16_from_f32(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = tlb_f32_to_f16(src[i]);
}
static float f16_dot(const void *w, const float *x, int64_t n) {
    const uint16_t *h = w;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += tlb_f16_to_f32(h[i]) * x[i];
    return s;
}

/* ---- bf16 ---- */

TLB_MULTIVERSION
static void bf16_to_f32(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = tlb_bf16_to_f32(h[i]);
}
static void bf16_from_f32(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = tlb_f32_to_bf16(src[i]);
}
static float bf16_dot(const void *w, const float *x, int64_t n) {
    const uint16_t *h = w;
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += tlb_bf16_to_f32(h[i]) * x[i];
    return s;
}

/* ---- q8_0 ---- */

void tlb_quantize_row_q8_0(const float *x, struct tlb_block_q8_0 *y, int64_t n) {
    const int64_t nb = n / TLB_QK;
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * TLB_QK;
        float amax = 0.0f;
        for (int j = 0; j < TLB_QK; j++) amax = fmaxf(amax, fabsf(xb[j]));
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = tlb_f32_to_f16(d);
        for (int j = 0; j < TLB_QK; j++) y[b].qs[j] = (int8_t)roundf(xb[j] * id);
    }
}
static void q8_0_from_f32(const float *src, void *dst, int64_t n) {
    tlb_quantize_row_q8_0(src, dst, n);
}
TLB_MULTIVERSION
static void q8_0_to_f32(const void *src, float *dst, int64_t n) {
    const struct tlb_block_q8_0 *x = src;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        const float d = tlb_f16_to_f32(x[b].d);
        for (int j = 0; j < TLB_QK; j++) dst[b * TLB_QK + j] = x[b].qs[j] * d;
    }
}
static float q8_0_dot_q8_0(const void *w, const struct tlb_block_q8_0 *x, int64_t n) {
    const struct tlb_block_q8_0 *a = w;
    float s = 0.0f;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        int32_t sumi = 0;
        for (int j = 0; j < TLB_QK; j++) sumi += a[b].qs[j] * x[b].qs[j];
        s += sumi * (tlb_f16_to_f32(a[b].d) * tlb_f16_to_f32(x[b].d));
    }
    return s;
}
static float q8_0_dot_f32(const void *w, const float *x, int64_t n) {
    const struct tlb_block_q8_0 *a = w;
    float s = 0.0f;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        const float d = tlb_f16_to_f32(a[b].d);
        float sb = 0.0f;
        for (int j = 0; j < TLB_QK; j++) sb += a[b].qs[j] * x[b * TLB_QK + j];
        s += sb * d;
    }
    return s;
}

/* ---- q4_0 ---- */

static void q4_0_from_f32(const float *src, void *dst, int64_t n) {
    struct tlb_block_q4_0 *y = dst;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        const float *xb = src + b * TLB_QK;
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < TLB_QK; j++) {
            if (amax < fabsf(xb[j])) {
                amax = fabsf(xb[j]);
                max = xb[j];
            }
        }
        const float d = max / -8.0f;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = tlb_f32_to_f16(d);
        for (int j = 0; j < TLB_QK / 2; j++) {
            const float x0 = xb[j] * id, x1 = xb[TLB_QK / 2 + j] * id;
            const uint8_t xi0 = (uint8_t)TLB_QMIN(15, (int8_t)(x0 + 8.5f));
            const uint8_t xi1 = (uint8_t)TLB_QMIN(15, (int8_t)(x1 + 8.5f));
            y[b].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}
TLB_MULTIVERSION
static void q4_0_to_f32(const void *src, float *dst, int64_t n) {
    const struct tlb_block_q4_0 *x = src;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        const float d = tlb_f16_to_f32(x[b].d);
        for (int j = 0; j < TLB_QK / 2; j++) {
            dst[b * TLB_QK + j] = ((x[b].qs[j] & 0x0F) - 8) * d;
            dst[b * TLB_QK + j + TLB_QK / 2] = ((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}
static float q4_0_dot_q8_0(const void *w, const struct tlb_block_q8_0 *x, int64_t n) {
    const struct tlb_block_q4_0 *a = w;
    float s = 0.0f;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        int32_t sumi = 0;
        for (int j = 0; j < TLB_QK / 2; j++) {
            sumi += ((a[b].qs[j] & 0x0F) - 8) * x[b].qs[j];
            sumi += ((a[b].qs[j] >> 4) - 8) * x[b].qs[j + TLB_QK / 2];
        }
        s += sumi * (tlb_f16_to_f32(a[b].d) * tlb_f16_to_f32(x[b].d));
    }
    return s;
}
static float q4_0_dot_f32(const void *w, const float *x, int64_t n) {
    const struct tlb_block_q4_0 *a = w;
    float s = 0.0f;
    for (int64_t b = 0; b < n / TLB_QK; b++) {
        const float *xb = x + b * TLB_QK;
        float sb = 0.0f;
        for (int j = 0; j < TLB_QK / 2; j++) {
            sb += ((a[b].qs[j] & 0x0F) - 8) * xb[j];
            sb += ((a[b].qs[j] >> 4) - 8) * xb[j + TLB_QK / 2];
        }
        s += sb * tlb_f16_to_f32(a[b].d);
    }
    return s;
}

/* ---- the table ---- */

static const struct tlb_type_traits traits[TLB_TYPE_COUNT] = {
    [TLB_TYPE_F32] = {"f32", 0, 1, 4, 0, f32_to_f32, f32_from_f32, f32_dot, NULL},
    [TLB_TYPE_F16] = {"f16", 1, 1, 2, 0, f16_to_f32, f16_from_f32, f16_dot, NULL},
    [TLB_TYPE_BF16] = {"bf16", 30, 1, 2, 0, bf16_to_f32, bf16_from_f32, bf16_dot, NULL},
    [TLB_TYPE_Q8_0] = {"q8_0", 8, TLB_QK, sizeof(struct tlb_block_q8_0), 1, q8_0_to_f32,
                       q8_0_from_f32, q8_0_dot_f32, q8_0_dot_q8_0},
    [TLB_TYPE_Q4_0] = {"q4_0", 2, TLB_QK, sizeof(struct tlb_block_q4_0), 1, q4_0_to_f32,
                       q4_0_from_f32, q4_0_dot_f32, q4_0_dot_q8_0},
};

const struct tlb_type_traits *tlb_type_traits(enum tlb_type t) {
    return (unsigned)t < TLB_TYPE_COUNT ? &traits[t] : NULL;
}

int tlb_type_from_name(const char *name, enum tlb_type *out) {
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        if (name && strcmp(name, traits[t].name) == 0) {
            *out = (enum tlb_type)t;
            return 0;
        }
    }
    return -1;
}

int tlb_type_from_name_msg(const char *what, const char *name, enum tlb_type *out) {
    if (tlb_type_from_name(name, out) == 0) return 0;
    char known[128] = "";
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        strncat(known, " ", sizeof known - strlen(known) - 1);
        strncat(known, traits[t].name, sizeof known - strlen(known) - 1);
    }
    tlb_error("%s: unknown type '%s' (known:%s)", what, name ? name : "", known);
    return -1;
}

int tlb_type_from_ggml(uint32_t ggml_type, enum tlb_type *out) {
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        if ((uint32_t)traits[t].ggml_type == ggml_type) {
            *out = (enum tlb_type)t;
            return 0;
        }
    }
    return -1;
}

int tlb_type_fits(enum tlb_type t, int64_t n) {
    const struct tlb_type_traits *tr = tlb_type_traits(t);
    return tr && n > 0 && n % tr->block_size == 0;
}

size_t tlb_type_row_bytes(enum tlb_type t, int64_t n) {
    if (!tlb_type_fits(t, n)) return 0;
    const struct tlb_type_traits *tr = tlb_type_traits(t);
    uint64_t blocks = (uint64_t)n / (uint64_t)tr->block_size;
    if (blocks > SIZE_MAX / tr->type_size) return 0;
    return (size_t)blocks * tr->type_size;
}
