/* synthetic.c — built-in models with exact shapes and deterministic pseudo-random weights, so
 * every benchmark runs on a fresh machine with no download. "tinyllama-1.1b" has the exact
 * TinyLlama-1.1B shapes, so its timings and memory are those of the real model. Weights are a
 * pure function of (seed, tensor, row): generation is parallel yet identical for any thread
 * count. Scales keep activations finite through all layers: matrices are uniform with variance
 * 1/fan_in (unit-variance outputs for unit-variance inputs), norms are 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "threadpool.h"
#include "util.h"

struct synth_shape {
    const char *name;
    struct tlb_config cfg;
};

static const struct synth_shape shapes[] = {
    /* dim, hidden, layers, heads, kv heads, vocab, seq_len, eps, theta */
    {"tinyllama-1.1b", {2048, 5632, 22, 32, 4, 32000, 2048, 1e-5f, 10000.0f}},
    /* small shapes for tests: same proportions (GQA 8:1 / 4:1), sizes multiples of 32 */
    {"small", {256, 704, 4, 8, 2, 512, 512, 1e-5f, 10000.0f}},
    {"tiny", {64, 160, 2, 4, 2, 512, 128, 1e-5f, 10000.0f}},
};

int tlb_synthetic_config(const char *name, struct tlb_config *out) {
    for (size_t i = 0; i < TLB_ARRAY_LEN(shapes); i++) {
        if (strcmp(name, shapes[i].name) == 0) {
            *out = shapes[i].cfg;
            return 0;
        }
    }
    return -1;
}

static inline uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-a, a) from a row's own stream; 16 random bits per value (four per 64-bit draw)
 * is plenty for synthetic weights and halves generation time. */
static void fill_row(float *dst, int64_t n, uint64_t seed, uint64_t tensor_id, uint64_t row,
                     float a) {
    uint64_t s = seed ^ (tensor_id * 0xD1B54A32D192ED03ull) ^ (row * 0x8CB92BA72F3D8DD7ull);
    const float scale = 2.0f * a / 65536.0f;
    for (int64_t i = 0; i < n; i += 4) {
        uint64_t r = splitmix64(&s);
        for (int j = 0; j < 4 && i + j < n; j++)
            dst[i + j] = (float)((r >> (16 * j)) & 0xFFFF) * scale - a;
    }
}

struct gen_job {
    struct tlb_tensor *t;
    uint64_t seed, tensor_id;
    float amp;
    float **scratch; /* (nth, cols) */
};

static void gen_rows(void *arg, int ith, int nth) {
    struct gen_job *j = arg;
    struct tlb_tensor *t = j->t;
    const struct tlb_type_traits *tr = tlb_type_traits(t->type);
    size_t row_bytes = tlb_type_row_bytes(t->type, t->cols);
    long lo, hi;
    tlb_split_range((long)t->rows, ith, nth, &lo, &hi);
    float *tmp = j->scratch[ith];
    for (long r = lo; r < hi; r++) {
        char *dst = (char *)t->data + (size_t)r * row_bytes;
        if (t->type == TLB_TYPE_F32) {
            fill_row((float *)dst, t->cols, j->seed, j->tensor_id, (uint64_t)r, j->amp);
        } else {
            fill_row(tmp, t->cols, j->seed, j->tensor_id, (uint64_t)r, j->amp);
            tr->from_f32(tmp, dst, t->cols);
        }
    }
}

static int gen_matrix(struct tlb_model *m, struct tlb_pool *pool, float **scratch,
                      const struct tlb_load_opts *o, struct tlb_tensor *t, const char *name,
                      uint64_t tensor_id, int64_t rows, int64_t cols, float std) {
    enum tlb_type type = o->convert ? tlb_model_type_for(o->wtype, cols) : TLB_TYPE_F32;
    size_t total, row_bytes = tlb_type_row_bytes(type, cols);
    if (!row_bytes || tlb_mul_size(row_bytes, (size_t)rows, &total)) return -1;
    void *data = tlb_model_alloc(m, total, name);
    if (!data) return -1;
    *t = (struct tlb_tensor){.type = type, .rows = rows, .cols = cols, .data = data, .name = name};
    struct gen_job job = {t, m->seed, tensor_id, std * sqrtf(3.0f), scratch};
    tlb_pool_run(pool, gen_rows, &job);
    return 0;
}

static float *ones(struct tlb_model *m, int n, const char *what) {
    float *v = tlb_model_alloc(m, (size_t)n * sizeof(float), what);
    if (v)
        for (int i = 0; i < n; i++) v[i] = 1.0f;
    return v;
}

int tlb_synthetic_load(struct tlb_model *m, const char *name, const struct tlb_load_opts *o) {
    if (tlb_synthetic_config(name, &m->cfg) != 0) {
        char known[256] = "";
        for (size_t i = 0; i < TLB_ARRAY_LEN(shapes); i++) {
            strncat(known, " synthetic:", sizeof known - strlen(known) - 1);
            strncat(known, shapes[i].name, sizeof known - strlen(known) - 1);
        }
        tlb_error("unknown model 'synthetic:%s' (built-in models:%s)", name, known);
        return -1;
    }
    const struct tlb_config *c = &m->cfg;
    m->seed = o->seed;
    snprintf(m->name, sizeof m->name, "synthetic:%s", name);
    snprintf(m->format, sizeof m->format, "synthetic");
    snprintf(m->mapping, sizeof m->mapping, "generated");
    m->path[0] = '\0';
    int nth = o->n_threads > 0 ? o->n_threads : 1;
    struct tlb_pool *pool = tlb_pool_create(nth);
    float **scratch = tlb_calloc((size_t)nth, sizeof *scratch, "scratch");
    int rc = -1;
    if (!pool || !scratch) goto done;
    int64_t maxk = TLB_MAX(c->dim, c->hidden_dim);
    for (int i = 0; i < nth; i++)
        if (!(scratch[i] = tlb_malloc((size_t)maxk * sizeof(float), "scratch"))) goto done;
    m->layers = tlb_calloc((size_t)c->n_layers, sizeof *m->layers, "layers");
    if (!m->layers) goto done;
    const int d = c->dim, h = c->hidden_dim, kv = tlb_kv_dim(c), V = c->vocab_size;
    const float sd = 1.0f / sqrtf((float)d), sh = 1.0f / sqrtf((float)h);
    uint64_t id = 1;
    /* embeddings: unit variance rows (the first RMSNorm rescales them anyway) */
    if (gen_matrix(m, pool, scratch, o, &m->tok_embd, "token_embd", id++, V, d, 1.0f)) goto done;
    for (int l = 0; l < c->n_layers; l++) {
        struct tlb_layer *L = &m->layers[l];
        if (!(L->attn_norm = ones(m, d, "attn_norm")) || !(L->ffn_norm = ones(m, d, "ffn_norm")) ||
            gen_matrix(m, pool, scratch, o, &L->wq, "attn_q", id++, d, d, sd) ||
            gen_matrix(m, pool, scratch, o, &L->wk, "attn_k", id++, kv, d, sd) ||
            gen_matrix(m, pool, scratch, o, &L->wv, "attn_v", id++, kv, d, sd) ||
            gen_matrix(m, pool, scratch, o, &L->wo, "attn_output", id++, d, d, sd) ||
            gen_matrix(m, pool, scratch, o, &L->w1, "ffn_gate", id++, h, d, sd) ||
            gen_matrix(m, pool, scratch, o, &L->w2, "ffn_down", id++, d, h, sh) ||
            gen_matrix(m, pool, scratch, o, &L->w3, "ffn_up", id++, h, d, sd))
            goto done;
    }
    if (!(m->final_norm = ones(m, d, "output_norm"))) goto done;
    if (gen_matrix(m, pool, scratch, o, &m->output, "output", id++, V, d, sd)) goto done;
    m->shared_classifier = 0;
    rc = 0;
done:
    if (scratch)
        for (int i = 0; i < nth; i++) free(scratch[i]);
    free(scratch);
    tlb_pool_free(pool);
    return rc;
}
