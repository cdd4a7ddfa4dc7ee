/* accuracy.h — accuracy of a weight type / kernel against the f32 reference, teacher forced
 * on a fixed evaluation sequence (as llama-perplexity --kl-divergence does): mean and p99 KL
 * divergence KL(reference || candidate) of the next-token distributions (computed in
 * double), top-1 agreement, largest absolute logit error, and perplexity on a real text.
 * The reference pass writes the evaluation tokens and its logits to a file descriptor (an
 * unlinked temporary file); candidates read them back window by window, so the reference
 * model need not stay in memory. */
#ifndef TLB_ACCURACY_H
#define TLB_ACCURACY_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "model.h"

/* ---- statistics over positions ---- */

struct tlb_acc_stats {
    size_t n_pos;          /* positions compared (every position of every window) */
    double kld_mean, kld_mean_unc; /* mean KLD and its standard error */
    double kld_median, kld_p90, kld_p99, kld_max, kld_min;
    double top1;           /* fraction of positions whose argmax equals the reference's */
    double top1_unc;       /* binomial standard error sqrt(p (1 - p) / (n - 1)) */
    double max_logit_err;  /* largest |candidate - reference| logit */
    size_t ppl_tokens;     /* tokens scored for perplexity (0: no text) */
    double ppl, ppl_unc;   /* candidate perplexity exp(mean NLL) and its standard error */
    double ppl_ref;        /* the reference's perplexity on the same tokens */
};

/* Accumulates positions one at a time. */
struct tlb_acc_accum {
    double *kld;           /* per-position KLD */
    size_t n, cap;
    size_t same_top1;
    double max_err;
    double nll_sum, nll_sq, ref_nll_sum;
    size_t n_nll;
};

void tlb_acc_init(struct tlb_acc_accum *a);
void tlb_acc_free(struct tlb_acc_accum *a);
/* Add one position: reference and candidate logits over vocab entries; target >= 0 also
 * scores that next token for perplexity (-1: none). Returns 0, or -1 (out of memory, or a
 * non-finite logit: the message names it). */
int tlb_acc_add(struct tlb_acc_accum *a, const float *ref, const float *cand, int vocab,
                int target);
/* Summary statistics; 0, or -1 when no position was added. */
int tlb_acc_finish(const struct tlb_acc_accum *a, struct tlb_acc_stats *out);

/* KL(p || q) where p = softmax(ref), q = softmax(cand), in double. */
double tlb_acc_kld(const float *ref, const float *cand, int vocab);

/* ---- reference and candidate passes ---- */

/* The evaluation sequence. */
struct tlb_acc_source {
    const char *text_path;      /* a text (tokenized with BOS); NULL: synthetic sequence */
    const char *tokenizer_path; /* tokenizer for the text; NULL: the model file if GGUF */
    const char *model_path;     /* the model file (for its GGUF vocabulary), may be NULL */
    int window;                 /* tokens per window; 0: text: the model's context,
                                   synthetic: 128 (capped at the model's context) */
    int chunks;                 /* windows to use; 0: text: all that fit, synthetic: 1 */
    uint64_t seed;              /* synthetic prompt tokens */
    int n_threads;
};

/* What the reference pass produced. */
struct tlb_acc_ref_info {
    int vocab, window, n_windows;
    int from_text;              /* 1: real text (perplexity is meaningful) */
    size_t text_tokens;         /* tokens in the whole text (0 for synthetic) */
};

/* Reference pass on model m (f32 weights expected) with kernel k: builds the evaluation
 * sequence and writes it and the reference logits to fd (from offset 0). Text: tokenized
 * with BOS, cut into consecutive windows of `window` tokens. Synthetic: BOS + seeded
 * pseudo-random tokens for the first half of one window, then the reference model's own
 * greedy continuation; the logits of the prompt come from one all-logits prefill and those
 * of the continuation from decoding it (the two paths agree). Returns 0, or -1 with an
 * error printed. */
int tlb_acc_reference(const struct tlb_model *m, const struct tlb_kernel *k,
                      const struct tlb_acc_source *src, int fd, struct tlb_acc_ref_info *info);

/* Candidate pass: the same tokens through model m on kernel k, one all-logits forward per
 * window, compared with the reference in fd. Perplexity scores every token after the first
 * of each window (only when the reference came from a text). Returns 0, or -1 with an error
 * printed (including a vocabulary that differs from the reference's). */
int tlb_acc_compare(const struct tlb_model *m, const struct tlb_kernel *k, int n_threads,
                    int fd, struct tlb_acc_stats *out, struct tlb_acc_ref_info *info);

/* An unlinked temporary file for the reference (in $TMPDIR or /tmp); -1 with an error. */
int tlb_acc_tmpfile(void);

#endif
