/* sampler.c — greedy, temperature and top-p sampling as in llama2.c run.c. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

#include "attention.h"
#include "util.h"

int tlb_sampler_init(struct tlb_sampler *s, int vocab_size, float temperature, float topp,
                     uint64_t seed) {
    s->vocab_size = vocab_size;
    s->temperature = temperature;
    s->topp = topp;
    s->rng_state = seed ? seed : 0x5eed;
    s->probindex = tlb_calloc((size_t)vocab_size, sizeof *s->probindex, "sampler");
    return s->probindex ? 0 : -1;
}

void tlb_sampler_free(struct tlb_sampler *s) {
    free(s->probindex);
    s->probindex = NULL;
}

static uint32_t random_u32(uint64_t *state) {
    /* xorshift rng: https://en.wikipedia.org/wiki/Xorshift#xorshift.2A */
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static float random_f32(uint64_t *state) { return (float)(random_u32(state) >> 8) / 16777216.0f; }

int tlb_argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static int sample_mult(const float *probs, int n, float coin) {
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += probs[i];
        if (coin < cdf) return i;
    }
    return n - 1; /* rounding errors */
}

static int compare_desc(const void *a, const void *b) {
    const struct tlb_prob_index *x = a, *y = b;
    if (x->prob > y->prob) return -1;
    if (x->prob < y->prob) return 1;
    return 0;
}

static int sample_topp(const float *probs, int n, float topp, struct tlb_prob_index *pi,
                       float coin) {
    /* values below (1 - topp) / (n - 1) cannot be part of the nucleus: drop them before
     * sorting */
    int n0 = 0;
    const float cutoff = (1.0f - topp) / (float)(n - 1);
    for (int i = 0; i < n; i++) {
        if (probs[i] >= cutoff) {
            pi[n0].index = i;
            pi[n0].prob = probs[i];
            n0++;
        }
    }
    if (n0 == 0) return tlb_argmax(probs, n);
    qsort(pi, (size_t)n0, sizeof *pi, compare_desc);
    float cumulative = 0.0f;
    int last = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cumulative += pi[i].prob;
        if (cumulative > topp) {
            last = i;
            break;
        }
    }
    float r = coin * cumulative, cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += pi[i].prob;
        if (r < cdf) return pi[i].index;
    }
    return pi[last].index;
}

int tlb_sample(struct tlb_sampler *s, float *logits) {
    if (s->temperature == 0.0f) return tlb_argmax(logits, s->vocab_size);
    for (int q = 0; q < s->vocab_size; q++) logits[q] /= s->temperature;
    tlb_softmax(logits, s->vocab_size);
    float coin = random_f32(&s->rng_state);
    if (s->topp <= 0 || s->topp >= 1 || s->vocab_size < 2) return sample_mult(logits, s->vocab_size, coin);
    return sample_topp(logits, s->vocab_size, s->topp, s->probindex, coin);
}
