/* attention.c — see attention.h. Per (token, KV head): scores for every query head of the group
 * against each cached key, softmax (expf, as llama2.c), then out = att * V. Dot products use 16
 * independent partial sums so the compiler vectorises them without -ffast-math. */
#include "attention.h"

#include <math.h>
#include <string.h>

#include "quant.h"
#include "util.h"

TLB_MULTIVERSION
static void row_to_f32(const uint16_t *restrict h, float *restrict out, int n) {
    for (int i = 0; i < n; i++) out[i] = tlb_f16_to_f32(h[i]); /* inline: vectorises */
}

TLB_MULTIVERSION
static float dot(const float *restrict a, const float *restrict b, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += a[i] * b[i];
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

TLB_MULTIVERSION
static void axpy(float a, const float *restrict x, float *restrict y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static const float *kv_row(const struct tlb_attn_group *a, const void *base, int t) {
    size_t off = (size_t)t * a->kv_stride;
    if (!a->kv_f16) return (const float *)base + off;
    row_to_f32((const uint16_t *)base + off, a->kvrow, a->head_size);
    return a->kvrow;
}

void tlb_attention_group(const struct tlb_attn_group *a) {
    const int hs = a->head_size;
    const float scale = sqrtf((float)hs);
    for (int t = 0; t < a->n_pos; t++) {
        const float *k = kv_row(a, a->k, t);
        for (int h = 0; h < a->g; h++)
            a->att[(size_t)h * a->att_stride + (size_t)t] =
                dot(a->q + (size_t)h * a->q_stride, k, hs) / scale;
    }
    for (int h = 0; h < a->g; h++) {
        tlb_softmax(a->att + (size_t)h * a->att_stride, a->n_pos);
        memset(a->out + (size_t)h * a->out_stride, 0, (size_t)hs * sizeof(float));
    }
    for (int t = 0; t < a->n_pos; t++) {
        const float *v = kv_row(a, a->v, t);
        for (int h = 0; h < a->g; h++)
            axpy(a->att[(size_t)h * a->att_stride + (size_t)t], v,
                 a->out + (size_t)h * a->out_stride, hs);
    }
}
