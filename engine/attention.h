/* attention.h — the inner loops of causal grouped-query attention over the KV cache: scores
 * (Q K^T), softmax, and the weighted sum of V, for the group of query heads that share one KV
 * head (each K/V row is read once for the whole group). Vectorised for the CPU at run time
 * (target_clones on x86), so long-context results measure the matmul kernels, not a scalar
 * attention loop. */
#ifndef TLB_ATTENTION_H
#define TLB_ATTENTION_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* x = softmax(x) in place (expf, as llama2.c): the attention scores here, the sampler's
 * probabilities. Inline so each target clone of the attention loop gets its own. */
static inline void tlb_softmax(float *x, int size) {
    float max_val = x[0];
    for (int i = 1; i < size; i++)
        if (x[i] > max_val) max_val = x[i];
    float sum = 0.0f;
    for (int i = 0; i < size; i++) {
        x[i] = expf(x[i] - max_val);
        sum += x[i];
    }
    for (int i = 0; i < size; i++) x[i] /= sum;
}

#define ATT_BLOCK 32 /* cached positions converted and used together (32 x 64 floats: 8 KiB) */
#define ATT_HEADS 8  /* query heads whose scores are computed together (vector lanes) */

struct tlb_attn_group {
    const float *q;      /* (g, head_size) query rows of the group, row stride q_stride */
    size_t q_stride;
    int g;               /* query heads sharing this KV head */
    const void *k, *v;   /* this KV head's rows: row t at k + t * head_size elements */
    int kv_f16;          /* f16 rows, else f32 */
    int n_pos;           /* attend to positions 0..n_pos-1 */
    int head_size;
    float *att;          /* (g, att_stride) scratch */
    size_t att_stride;
    float *scratch;      /* tlb_attn_scratch_floats(head_size) floats */
    float *out;          /* (g, head_size) output rows, row stride out_stride */
    size_t out_stride;
};

/* Floats of scratch one tlb_attention_group call needs. */
size_t tlb_attn_scratch_floats(int head_size);

void tlb_attention_group(const struct tlb_attn_group *a);

#endif
