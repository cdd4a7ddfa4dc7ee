/* accuracy.c — KL divergence, top-1 agreement, logit error and perplexity of a candidate
 * (weight type, kernel) against the f32 reference, teacher forced on the same tokens (see
 * accuracy.h). The reference logits travel through a temporary file with a small header so
 * that a candidate process can read them window by window. */
#include "accuracy.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "runner.h"
#include "sampler.h"
#include "stats.h"
#include "tokenizer.h"
#include "util.h"

#define TEXT_MAX_BYTES ((size_t)64 << 20)
#define SYNTH_WINDOW 128

/* ---- statistics ---- */

void tlb_acc_init(struct tlb_acc_accum *a) { memset(a, 0, sizeof *a); }

void tlb_acc_free(struct tlb_acc_accum *a) {
    free(a->kld);
    memset(a, 0, sizeof *a);
}

/* log-sum-exp of v in double, with its maximum in *mx */
static double log_sum_exp(const float *v, int n, double *mx) {
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    double s = 0;
    for (int i = 0; i < n; i++) s += exp((double)v[i] - m);
    *mx = m;
    return log(s);
}

static int all_finite(const float *v, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

double tlb_acc_kld(const float *ref, const float *cand, int vocab) {
    double mr, mc;
    double lr = log_sum_exp(ref, vocab, &mr), lc = log_sum_exp(cand, vocab, &mc);
    double kl = 0;
    for (int i = 0; i < vocab; i++) {
        double lp = (double)ref[i] - mr - lr, lq = (double)cand[i] - mc - lc;
        kl += exp(lp) * (lp - lq);
    }
    return kl;
}

int tlb_acc_add(struct tlb_acc_accum *a, const float *ref, const float *cand, int vocab,
                int target) {
    if (!all_finite(ref, vocab) || !all_finite(cand, vocab)) {
        tlb_error("accuracy: %s logits are not finite at position %zu",
                  all_finite(ref, vocab) ? "candidate" : "reference", a->n);
        return -1;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        double *p = realloc(a->kld, cap * sizeof *p);
        if (!p) {
            tlb_error("accuracy: out of memory for %zu positions", cap);
            return -1;
        }
        a->kld = p;
        a->cap = cap;
    }
    a->kld[a->n++] = tlb_acc_kld(ref, cand, vocab);
    if (tlb_argmax(ref, vocab) == tlb_argmax(cand, vocab)) a->same_top1++;
    for (int i = 0; i < vocab; i++) {
        double e = fabs((double)cand[i] - (double)ref[i]);
        if (e > a->max_err) a->max_err = e;
    }
    if (target >= 0 && target < vocab) {
        double mr, mc;
        double lr = log_sum_exp(ref, vocab, &mr), lc = log_sum_exp(cand, vocab, &mc);
        double nll = -((double)cand[target] - mc - lc);
        a->nll_sum += nll;
        a->nll_sq += nll * nll;
        a->ref_nll_sum += -((double)ref[target] - mr - lr);
        a->n_nll++;
    }
    return 0;
}

int tlb_acc_finish(const struct tlb_acc_accum *a, struct tlb_acc_stats *o) {
    memset(o, 0, sizeof *o);
    if (a->n == 0) return -1;
    size_t n = a->n;
    o->n_pos = n;
    o->kld_mean = tlb_stat_mean(a->kld, n);
    double sd = n > 1 ? tlb_stat_stddev(a->kld, n) : 0;
    o->kld_mean_unc = sd / sqrt((double)n);
    o->kld_median = tlb_stat_median(a->kld, n);
    o->kld_p90 = tlb_stat_percentile(a->kld, n, 90);
    o->kld_p99 = tlb_stat_percentile(a->kld, n, 99);
    o->kld_max = o->kld_min = a->kld[0];
    for (size_t i = 1; i < n; i++) {
        if (a->kld[i] > o->kld_max) o->kld_max = a->kld[i];
        if (a->kld[i] < o->kld_min) o->kld_min = a->kld[i];
    }
    o->top1 = (double)a->same_top1 / (double)n;
    o->top1_unc = n > 1 ? sqrt(o->top1 * (1 - o->top1) / (double)(n - 1)) : 0;
    o->max_logit_err = a->max_err;
    if (a->n_nll) {
        double m = a->nll_sum / (double)a->n_nll;
        double var = a->nll_sq / (double)a->n_nll - m * m;
        o->ppl_tokens = a->n_nll;
        o->ppl = exp(m);
        o->ppl_unc = a->n_nll > 1 && var > 0 ? o->ppl * sqrt(var / (double)(a->n_nll - 1)) : 0;
        o->ppl_ref = exp(a->ref_nll_sum / (double)a->n_nll);
    }
    return 0;
}

/* ---- the reference file ---- */

struct ref_header {
    char magic[8];
    int32_t vocab, window, n_windows, from_text;
    uint64_t text_tokens;
};
static const char REF_MAGIC[8] = "TLBREF1";

static int write_all(int fd, const void *buf, size_t n, off_t off) {
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            tlb_error("accuracy: cannot write the reference file: %s",
                      w < 0 ? strerror(errno) : "short write");
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n, off_t off) {
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            tlb_error("accuracy: cannot read the reference file: %s",
                      r < 0 ? strerror(errno) : "it is truncated");
            return -1;
        }
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int tlb_acc_tmpfile(void) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    if (fd < 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tlbench-ref-XXXXXX", dir);
        fd = mkstemp(path);
        if (fd >= 0) unlink(path);
    }
    if (fd < 0) tlb_error("cannot create a temporary file in %s: %s", dir, strerror(errno));
    return fd;
}

static off_t logits_offset(const struct ref_header *h, int window_index) {
    off_t base = (off_t)sizeof *h + (off_t)h->n_windows * h->window * (off_t)sizeof(int32_t);
    return base + (off_t)window_index * h->window * h->vocab * (off_t)sizeof(float);
}

/* ---- reference pass ---- */

static int make_engine(struct tlb_engine **e, const struct tlb_model *m,
                       const struct tlb_kernel *k, int n_threads, int window) {
    struct tlb_engine_opts eo = {.kernel = k, .n_threads = n_threads > 0 ? n_threads : 1,
                                 .ctx_len = window, .max_batch = window,
                                 .kv_type = TLB_TYPE_F32};
    return tlb_engine_create(e, m, &eo);
}

static int text_tokens(const struct tlb_model *m, const struct tlb_acc_source *src, int **out,
                       int *n_out) {
    struct tlb_tokenizer *tok = NULL;
    const char *tp = src->tokenizer_path;
    if (!tp) {
        /* a GGUF model carries its vocabulary */
        char magic[4] = {0};
        if (src->model_path && tlb_read_magic(src->model_path, magic, 4) != 4) magic[0] = 0;
        if (memcmp(magic, "GGUF", 4) != 0) {
            tlb_error("--eval-text %s needs --tokenizer (the model has no vocabulary)",
                      src->text_path);
            return -1;
        }
        tp = src->model_path;
    }
    if (tlb_tokenizer_open(&tok, tp, m->cfg.vocab_size) != 0) return -1;
    size_t len;
    char *text = tlb_read_file(src->text_path, TEXT_MAX_BYTES, &len);
    int rc = -1;
    if (!text) goto out;
    if (len + 3 > (size_t)1 << 30) {
        tlb_error("%s: text too long", src->text_path);
        goto out;
    }
    int cap = (int)len + 3;
    *out = tlb_malloc((size_t)cap * sizeof(int), "evaluation tokens");
    if (!*out) goto out;
    *n_out = tlb_tokenize(tok, text, len, 1, 0, *out, cap);
    if (*n_out < 2) {
        tlb_error("%s: the text gives fewer than 2 tokens", src->text_path);
        free(*out);
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    free(text);
    tlb_tokenizer_free(tok);
    return rc;
}

int tlb_acc_reference(const struct tlb_model *m, const struct tlb_kernel *k,
                      const struct tlb_acc_source *src, int fd, struct tlb_acc_ref_info *info) {
    const int V = m->cfg.vocab_size, seq = m->cfg.seq_len;
    struct ref_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, REF_MAGIC, sizeof h.magic);
    h.vocab = V;
    int *tokens = NULL, n_tokens = 0, rc = -1;
    float *logits = NULL;
    struct tlb_engine *e = NULL;
    if (V < 1) {
        tlb_error("accuracy: vocabulary of %d tokens is too small", V);
        return -1;
    }
    if (src->text_path) {
        if (text_tokens(m, src, &tokens, &n_tokens) != 0) return -1;
        int w = src->window > 0 ? src->window : seq;
        if (w > seq) {
            tlb_error("accuracy: window of %d tokens exceeds the model's context of %d", w, seq);
            goto out;
        }
        if (w < 2) {
            tlb_error("accuracy: a window needs at least 2 tokens");
            goto out;
        }
        int nw = n_tokens / w;
        if (nw == 0) { /* a text shorter than one window is one shorter window */
            nw = 1;
            w = n_tokens;
        }
        if (src->chunks > 0 && nw > src->chunks) nw = src->chunks;
        h.window = w;
        h.n_windows = nw;
        h.from_text = 1;
        h.text_tokens = (uint64_t)n_tokens;
    } else {
        int w = src->window > 0 ? src->window : SYNTH_WINDOW;
        if (w > seq) w = seq;
        if (w < 2) {
            tlb_error("accuracy: a window needs at least 2 tokens");
            return -1;
        }
        h.window = w;
        h.n_windows = 1;
        tokens = tlb_malloc((size_t)w * sizeof(int), "evaluation tokens");
        if (!tokens) return -1;
        /* BOS, then seeded ids that are neither BOS nor EOS: the fixed prompt */
        uint64_t s = src->seed ^ 0xACC0ACC0ACC0ACC0ull;
        tokens[0] = V > 1 ? 1 : 0; /* BOS, where the vocabulary has one */
        tlb_runner_tokens(tokens + 1, w - 1, V, s, 0); /* stream 0: the rng seeded with s */
        n_tokens = w;
    }
    const int W = h.window;
    size_t per_window;
    if (tlb_mul_size((size_t)W, (size_t)V, &per_window) ||
        tlb_mul_size(per_window, sizeof(float), &per_window)) {
        tlb_error("accuracy: window too large");
        goto out;
    }
    if (!(logits = tlb_malloc(per_window, "reference logits"))) goto out;
    if (make_engine(&e, m, k, src->n_threads, W) != 0) goto out;
    if (!src->text_path) {
        /* prompt: first half of the window in one all-logits prefill; then the greedy
         * continuation, each decoded position giving the next logits */
        int P = W / 2 > 0 ? W / 2 : 1;
        if (tlb_engine_forward(e, tokens, P, 0, logits, 1) != 0) goto out;
        for (int i = P; i < W; i++) {
            tokens[i] = tlb_argmax(logits + (size_t)(i - 1) * V, V);
            if (tlb_engine_forward(e, &tokens[i], 1, i, logits + (size_t)i * V, 0) != 0)
                goto out;
        }
    }
    if (write_all(fd, &h, sizeof h, 0) != 0) goto out;
    {
        /* tokens as int32, window after window */
        size_t nt = (size_t)h.n_windows * (size_t)W;
        int32_t *t32 = tlb_malloc(nt * sizeof *t32, "tokens");
        if (!t32) goto out;
        for (size_t i = 0; i < nt; i++) t32[i] = tokens[i];
        int wr = write_all(fd, t32, nt * sizeof *t32, (off_t)sizeof h);
        free(t32);
        if (wr) goto out;
    }
    for (int w = 0; w < h.n_windows; w++) {
        if (src->text_path &&
            tlb_engine_forward(e, tokens + (size_t)w * W, W, 0, logits, 1) != 0)
            goto out;
        if (write_all(fd, logits, per_window, logits_offset(&h, w)) != 0) goto out;
    }
    if (info) {
        info->vocab = V;
        info->window = W;
        info->n_windows = h.n_windows;
        info->from_text = h.from_text;
        info->text_tokens = (size_t)h.text_tokens;
    }
    rc = 0;
out:
    tlb_engine_free(e);
    free(logits);
    free(tokens);
    return rc;
}

/* ---- candidate pass ---- */

int tlb_acc_compare(const struct tlb_model *m, const struct tlb_kernel *k, int n_threads,
                    int fd, struct tlb_acc_stats *out, struct tlb_acc_ref_info *info) {
    struct ref_header h;
    if (read_all(fd, &h, sizeof h, 0) != 0) return -1;
    if (memcmp(h.magic, REF_MAGIC, sizeof h.magic) != 0 || h.vocab < 1 || h.window < 2 ||
        h.n_windows < 1 || h.window > 1 << 20 || h.n_windows > 1 << 20) {
        tlb_error("accuracy: the reference file is not valid");
        return -1;
    }
    const int V = m->cfg.vocab_size, W = h.window;
    if (h.vocab != V) {
        tlb_error("accuracy: the model's vocabulary (%d) differs from the reference's (%d)", V,
                  h.vocab);
        return -1;
    }
    if (W > m->cfg.seq_len) {
        tlb_error("accuracy: window of %d tokens exceeds the model's context of %d", W,
                  m->cfg.seq_len);
        return -1;
    }
    size_t nt = (size_t)h.n_windows * (size_t)W, per_window = (size_t)W * (size_t)V;
    int32_t *t32 = tlb_malloc(nt * sizeof *t32, "tokens");
    int *tokens = tlb_malloc(nt * sizeof *tokens, "tokens");
    float *ref = tlb_malloc(per_window * sizeof(float), "reference logits");
    float *cand = tlb_malloc(per_window * sizeof(float), "candidate logits");
    struct tlb_engine *e = NULL;
    struct tlb_acc_accum acc;
    tlb_acc_init(&acc);
    int rc = -1;
    if (!t32 || !tokens || !ref || !cand) goto out;
    if (read_all(fd, t32, nt * sizeof *t32, (off_t)sizeof h) != 0) goto out;
    for (size_t i = 0; i < nt; i++) {
        if (t32[i] < 0 || t32[i] >= V) {
            tlb_error("accuracy: the reference file holds an invalid token id");
            goto out;
        }
        tokens[i] = t32[i];
    }
    if (make_engine(&e, m, k, n_threads, W) != 0) goto out;
    for (int w = 0; w < h.n_windows; w++) {
        const int *tw = tokens + (size_t)w * W;
        if (tlb_engine_forward(e, tw, W, 0, cand, 1) != 0) goto out;
        if (read_all(fd, ref, per_window * sizeof(float), logits_offset(&h, w)) != 0) goto out;
        for (int i = 0; i < W; i++) {
            int target = h.from_text && i + 1 < W ? tw[i + 1] : -1;
            if (tlb_acc_add(&acc, ref + (size_t)i * V, cand + (size_t)i * V, V, target) != 0)
                goto out;
        }
    }
    if (tlb_acc_finish(&acc, out) != 0) goto out;
    if (info) {
        info->vocab = V;
        info->window = W;
        info->n_windows = h.n_windows;
        info->from_text = h.from_text;
        info->text_tokens = (size_t)h.text_tokens;
    }
    rc = 0;
out:
    tlb_acc_free(&acc);
    tlb_engine_free(e);
    free(t32);
    free(tokens);
    free(ref);
    free(cand);
    return rc;
}
