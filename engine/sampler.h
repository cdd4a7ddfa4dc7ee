/* sampler.h — picks the next token from logits: greedy (argmax, lowest id on ties), or
 * temperature + top-p (nucleus) sampling from a seeded xorshift generator. Same algorithm and
 * random stream as llama2.c's run.c, so a seed reproduces its output. */
#ifndef TLB_SAMPLER_H
#define TLB_SAMPLER_H

#include <stdint.h>

struct tlb_sampler {
    int vocab_size;
    float temperature;  /* 0 = greedy */
    float topp;         /* in (0, 1) enables nucleus sampling; otherwise plain sampling */
    uint64_t rng_state;
    struct tlb_prob_index { float prob; int index; } *probindex; /* (vocab_size) scratch */
};

/* Returns 0, or -1 (out of memory). seed 0 is replaced by a fixed non-zero value. */
int tlb_sampler_init(struct tlb_sampler *s, int vocab_size, float temperature, float topp,
                     uint64_t seed);
void tlb_sampler_free(struct tlb_sampler *s);
/* Sample from logits (vocab_size); modifies logits in place when temperature > 0. */
int tlb_sample(struct tlb_sampler *s, float *logits);
/* argmax with the lowest index winning ties */
int tlb_argmax(const float *v, int n);

#endif
