/* attention.c — see attention.h. Per (token, KV head): scores for every query head of the group
 * against each cached key, softmax (expf, as llama2.c), then out = att * V.
 *
 * The cache holds each KV head's rows contiguously (position after position), so a group
 * streams two sequential runs of memory. Positions go in blocks of ATT_BLOCK: the block's K
 * (or V) rows are converted to f32 once into the scratch, then used by every query head.
 * Scores are vectorised over the heads (the group's queries transposed, ATT_HEADS lanes) with
 * ATT_CHAINS positions in flight, so no dot product ends in a horizontal sum; each score is
 * still the sum over i in order of q[i] * k[i], as llama2.c adds it. */
#include "attention.h"

#include <math.h>
#include <string.h>

#include "quant.h"
#include "util.h"

/* Inlined into the one target-cloned entry point, so each clone compiles them for its ISA (a
 * target_clones callee is dispatched per call: 17 calls per cached position cost more than
 * the arithmetic). */
#define INLINE static inline __attribute__((always_inline))

#define ATT_CHAINS 4 /* positions whose scores are summed side by side (add latency) */

size_t tlb_attn_scratch_floats(int head_size) {
    return (size_t)ATT_BLOCK * (size_t)head_size + (size_t)head_size * ATT_HEADS;
}

/* Rows [t0, t0 + nb) of K or V as f32: the cache itself when it is f32, else converted into
 * buf. */
INLINE const float *kv_block(const struct tlb_attn_group *a, const void *base, int t0, int nb,
                             float *buf) {
    const size_t off = (size_t)t0 * (size_t)a->head_size;
    if (!a->kv_f16) return (const float *)base + off;
    const uint16_t *h = (const uint16_t *)base + off;
    const size_t n = (size_t)nb * (size_t)a->head_size;
    for (size_t i = 0; i < n; i++) buf[i] = tlb_f16_to_f32(h[i]); /* inline: vectorises */
    return buf;
}

/* 8 floats: GCC/Clang vector extension, so each target clone gets registers of its width
 * (two xmm on baseline x86, one ymm with AVX). Loaded and stored with memcpy (unaligned). */
typedef float v8f __attribute__((vector_size(8 * sizeof(float))));
_Static_assert(ATT_HEADS == 8, "scores keep one v8f of heads per position");
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8f))
#define STORE8(p, v) memcpy((p), &(v), sizeof(v8f))

/* Scores of the heads in qt (head_size x ATT_HEADS, transposed) against the nb rows of k:
 * att[h * stride + t] = (sum over i of q_h[i] * k_t[i]) / scale for h < nh. */
INLINE void scores(const float *restrict qt, const float *restrict k, int nb, int hs, int nh,
                   float scale, float *restrict att, size_t stride) {
    int t = 0;
    for (; t + ATT_CHAINS <= nb; t += ATT_CHAINS) {
        const float *k0 = k + (size_t)t * (size_t)hs;
        v8f s[ATT_CHAINS];
        for (int p = 0; p < ATT_CHAINS; p++) s[p] = (v8f){0};
        for (int i = 0; i < hs; i++) {
            v8f q;
            LOAD8(q, qt + (size_t)i * ATT_HEADS);
            for (int p = 0; p < ATT_CHAINS; p++) s[p] += q * k0[(size_t)p * (size_t)hs + (size_t)i];
        }
        for (int p = 0; p < ATT_CHAINS; p++)
            for (int h = 0; h < nh; h++) att[(size_t)h * stride + (size_t)(t + p)] = s[p][h] / scale;
    }
    for (; t < nb; t++) {
        v8f s = {0};
        for (int i = 0; i < hs; i++) {
            v8f q;
            LOAD8(q, qt + (size_t)i * ATT_HEADS);
            s += q * k[(size_t)t * (size_t)hs + (size_t)i];
        }
        for (int h = 0; h < nh; h++) att[(size_t)h * stride + (size_t)t] = s[h] / scale;
    }
}

/* o[i] += sum over t < nb, in order, of w[t] * v_t[i]: 32 outputs at a time held in
 * registers across the positions. */
INLINE void weighted_sum(const float *restrict w, const float *restrict v, int nb, int hs,
                         float *restrict o) {
    int i = 0;
    for (; i + 32 <= hs; i += 32) {
        v8f acc[4];
        for (int u = 0; u < 4; u++) LOAD8(acc[u], o + i + 8 * u);
        for (int t = 0; t < nb; t++) {
            const float *vt = v + (size_t)t * (size_t)hs + (size_t)i;
            for (int u = 0; u < 4; u++) {
                v8f x;
                LOAD8(x, vt + 8 * u);
                acc[u] += w[t] * x;
            }
        }
        for (int u = 0; u < 4; u++) STORE8(o + i + 8 * u, acc[u]);
    }
    for (; i < hs; i++)
        for (int t = 0; t < nb; t++) o[i] += w[t] * v[(size_t)t * (size_t)hs + (size_t)i];
}

TLB_MULTIVERSION
void tlb_attention_group(const struct tlb_attn_group *a) {
    const int hs = a->head_size;
    const float scale = sqrtf((float)hs);
    float *blk = a->scratch, *qt = a->scratch + (size_t)ATT_BLOCK * (size_t)hs;
    for (int h0 = 0; h0 < a->g; h0 += ATT_HEADS) { /* the group's heads, ATT_HEADS at a time */
        const int nh = a->g - h0 < ATT_HEADS ? a->g - h0 : ATT_HEADS;
        for (int i = 0; i < hs; i++)
            for (int h = 0; h < ATT_HEADS; h++)
                qt[(size_t)i * ATT_HEADS + (size_t)h] =
                    h < nh ? a->q[(size_t)(h0 + h) * a->q_stride + (size_t)i] : 0.0f;
        for (int t0 = 0; t0 < a->n_pos; t0 += ATT_BLOCK) {
            const int nb = a->n_pos - t0 < ATT_BLOCK ? a->n_pos - t0 : ATT_BLOCK;
            scores(qt, kv_block(a, a->k, t0, nb, blk), nb, hs, nh, scale,
                   a->att + (size_t)h0 * a->att_stride + (size_t)t0, a->att_stride);
        }
    }
    for (int h = 0; h < a->g; h++) {
        tlb_softmax(a->att + (size_t)h * a->att_stride, a->n_pos);
        memset(a->out + (size_t)h * a->out_stride, 0, (size_t)hs * sizeof(float));
    }
    /* out_h += att_h[t] * v_t, t in order (as llama2.c), a block of V rows at a time */
    for (int t0 = 0; t0 < a->n_pos; t0 += ATT_BLOCK) {
        const int nb = a->n_pos - t0 < ATT_BLOCK ? a->n_pos - t0 : ATT_BLOCK;
        const float *v = kv_block(a, a->v, t0, nb, blk);
        for (int h = 0; h < a->g; h++)
            weighted_sum(a->att + (size_t)h * a->att_stride + (size_t)t0, v, nb, hs,
                         a->out + (size_t)h * a->out_stride);
    }
}
