/* engine.c — the Llama-2 forward pass. Follows llama2.c's run.c operation by operation (same
 * RMSNorm, RoPE pairs, softmax and SwiGLU arithmetic), generalised to a batch of B tokens so
 * prefill hands the kernel X with B rows. Decode is the same code with B = 1, which is why
 * the two paths agree. */
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "threadpool.h"
#include "util.h"

struct tlb_engine {
    const struct tlb_model *m;
    const struct tlb_kernel *kernel;
    void *kstate;
    struct tlb_pool *pool;
    int n_threads, ctx_len, max_batch;
    enum tlb_type kv_type;
    size_t kv_elem;          /* bytes per KV element */
    /* activations for a chunk of up to max_batch tokens */
    float *x;                /* (B, dim) residual stream */
    float *xb;               /* (B, dim) normed input / attention output */
    float *xb2;              /* (B, dim) */
    float *q;                /* (B, dim) */
    float *k;                /* (B, kv_dim) */
    float *v;                /* (B, kv_dim) */
    float *hb;               /* (B, hidden_dim) */
    float *hb2;              /* (B, hidden_dim) */
    float *att;              /* (n_threads, n_heads/n_kv_heads, ctx_len) attention scores */
    float *attn_scratch;     /* (n_threads, tlb_attn_scratch_floats(head_dim)) */
    float *rope_cos;         /* (ctx_len, head_dim/2) */
    float *rope_sin;         /* (ctx_len, head_dim/2) */
    void *key_cache;         /* (n_layers, n_kv_heads, ctx_len, head_dim) in kv_type: a KV */
    void *value_cache;       /* head's rows one run of memory, read in order by attention */
    size_t kv_bytes, scratch_bytes;
    char kernel_version[256];
};

size_t tlb_kv_bytes_for(const struct tlb_config *c, enum tlb_type kv_type, int n_tokens) {
    size_t elem = kv_type == TLB_TYPE_F16 ? 2 : 4;
    return 2 * (size_t)c->n_layers * (size_t)n_tokens * (size_t)tlb_kv_dim(c) * elem;
}

size_t tlb_engine_scratch_bytes_for(const struct tlb_config *c, int n_threads, int ctx_len,
                                    int max_batch) {
    /* one term per buffer tlb_engine_create allocates (a test checks they agree) */
    const size_t B = (size_t)(max_batch > 0 ? max_batch : 512), d = (size_t)c->dim;
    const size_t kv = (size_t)tlb_kv_dim(c), h = (size_t)c->hidden_dim;
    const size_t hd = (size_t)tlb_head_dim(c), n = (size_t)(ctx_len > 0 ? ctx_len : 0);
    const size_t th = (size_t)(n_threads > 0 ? n_threads : 1);
    const size_t group = (size_t)(c->n_heads / c->n_kv_heads);
    size_t floats = B * (4 * d + 2 * kv + 2 * h) /* x, xb, xb2, q, k, v, hb, hb2 */
                    + th * group * n             /* attention scores per thread */
                    + th * tlb_attn_scratch_floats((int)hd) /* K/V block, transposed Q */
                    + 2 * n * (hd / 2);          /* RoPE cos and sin tables */
    return floats * sizeof(float);
}

static float *alloc_f32(struct tlb_engine *e, size_t n, const char *what) {
    size_t bytes;
    if (tlb_mul_size(n, sizeof(float), &bytes)) return NULL;
    float *p = tlb_alloc_aligned(bytes, what);
    if (p) e->scratch_bytes += bytes;
    return p;
}

void tlb_engine_free(struct tlb_engine *e) {
    if (!e) return;
    if (e->kernel && e->kernel->release) e->kernel->release(e->kstate);
    tlb_pool_free(e->pool);
    float *bufs[] = {e->x, e->xb, e->xb2, e->q, e->k, e->v, e->hb, e->hb2, e->att, e->attn_scratch,
                     e->rope_cos, e->rope_sin};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bufs); i++) tlb_free_aligned(bufs[i]);
    tlb_free_aligned(e->key_cache);
    tlb_free_aligned(e->value_cache);
    free(e);
}

/* 0 when k can multiply every weight type m uses, else -1 with the reason printed */
static int check_kernel(const struct tlb_kernel *k, const struct tlb_model *m) {
    char why[256];
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        if ((m->types_used & TLB_TYPE_BIT(t)) &&
            tlb_kernel_usable(k, (enum tlb_type)t, why, sizeof why) != 0) {
            tlb_error("kernel '%s' cannot run %s: %s", k->name, m->name, why);
            return -1;
        }
    }
    if (!tlb_model_readable_by(m, k)) {
        char lay[64];
        tlb_error("kernel '%s' cannot read %s's weights in layout %s (another kernel's: "
                  "tlb_model_set_layouts puts them in this one's)", k->name, m->name,
                  tlb_model_layouts(m, lay, sizeof lay));
        return -1;
    }
    return 0;
}

/* Initialise k on the engine's pool and make it the engine's kernel (the old one, if any,
 * is released only once the new one is up). */
static int attach_kernel(struct tlb_engine *e, const struct tlb_kernel *k) {
    void *state = NULL;
    if (k->init && k->init(&state, e->pool) != 0) {
        tlb_error("kernel '%s' failed to initialise", k->name);
        return -1;
    }
    if (e->kernel && e->kernel->release) e->kernel->release(e->kstate);
    e->kernel = k;
    e->kstate = state;
    const char *v = k->version ? k->version(state) : NULL;
    char lay[64];
    tlb_model_layouts(e->m, lay, sizeof lay);
    /* the weights' layout is part of what was measured: a repacked q8_0 streams faster */
    snprintf(e->kernel_version, sizeof e->kernel_version, "%s%s%s", v ? v : "",
             strcmp(lay, "rows") ? (v && *v ? "; weights " : "weights ") : "",
             strcmp(lay, "rows") ? lay : "");
    return 0;
}

int tlb_engine_set_kernel(struct tlb_engine *e, const struct tlb_kernel *k) {
    if (!k) {
        tlb_error("no kernel selected");
        return -1;
    }
    if (k == e->kernel) return 0;
    if (check_kernel(k, e->m) != 0) return -1;
    return attach_kernel(e, k);
}

int tlb_engine_create(struct tlb_engine **out, const struct tlb_model *m,
                      const struct tlb_engine_opts *o) {
    *out = NULL;
    const struct tlb_config *c = &m->cfg;
    if (!o->kernel) {
        tlb_error("no kernel selected");
        return -1;
    }
    if (check_kernel(o->kernel, m) != 0) return -1;
    if (o->n_threads < 1 || o->n_threads > TLB_MAX_THREADS) {
        tlb_error("--threads must be between 1 and %d (got %d)", TLB_MAX_THREADS, o->n_threads);
        return -1;
    }
    if (o->kv_type != TLB_TYPE_F32 && o->kv_type != TLB_TYPE_F16) {
        tlb_error("KV cache type must be f32 or f16");
        return -1;
    }
    int ctx = o->ctx_len > 0 ? o->ctx_len : c->seq_len;
    if (ctx > c->seq_len) {
        tlb_error("context %d exceeds the model's maximum of %d tokens", ctx, c->seq_len);
        return -1;
    }
    struct tlb_engine *e = tlb_calloc(1, sizeof *e, "engine");
    if (!e) return -1;
    e->m = m;
    e->n_threads = o->n_threads;
    e->ctx_len = ctx;
    e->max_batch = o->max_batch > 0 ? o->max_batch : 512;
    e->kv_type = o->kv_type;
    e->kv_elem = o->kv_type == TLB_TYPE_F16 ? 2 : 4;
    if (!(e->pool = tlb_pool_create(o->n_threads))) goto fail;
    if (attach_kernel(e, o->kernel) != 0) goto fail;
    const size_t B = (size_t)e->max_batch, d = (size_t)c->dim, kv = (size_t)tlb_kv_dim(c);
    const size_t h = (size_t)c->hidden_dim, hs2 = (size_t)tlb_head_dim(c) / 2;
    if (!(e->x = alloc_f32(e, B * d, "activations")) || !(e->xb = alloc_f32(e, B * d, "xb")) ||
        !(e->xb2 = alloc_f32(e, B * d, "xb2")) || !(e->q = alloc_f32(e, B * d, "q")) ||
        !(e->k = alloc_f32(e, B * kv, "k")) || !(e->v = alloc_f32(e, B * kv, "v")) ||
        !(e->hb = alloc_f32(e, B * h, "hb")) || !(e->hb2 = alloc_f32(e, B * h, "hb2")) ||
        !(e->att = alloc_f32(e, (size_t)o->n_threads * (size_t)(c->n_heads / c->n_kv_heads) *
                                    (size_t)ctx, "attention scores")) ||
        !(e->attn_scratch = alloc_f32(e, (size_t)o->n_threads * tlb_attn_scratch_floats(tlb_head_dim(c)),
                                      "attention scratch")) ||
        !(e->rope_cos = alloc_f32(e, (size_t)ctx * hs2, "rope")) ||
        !(e->rope_sin = alloc_f32(e, (size_t)ctx * hs2, "rope")))
        goto fail;
    /* run.c: freq = 1 / theta^(j / head_size) for even j; val = pos * freq */
    const int head_size = tlb_head_dim(c);
    for (int pos = 0; pos < ctx; pos++) {
        for (int i = 0; i < (int)hs2; i++) {
            float freq = 1.0f / powf(c->rope_theta, (float)(2 * i) / (float)head_size);
            float val = (float)pos * freq;
            e->rope_cos[(size_t)pos * hs2 + (size_t)i] = cosf(val);
            e->rope_sin[(size_t)pos * hs2 + (size_t)i] = sinf(val);
        }
    }
    e->kv_bytes = tlb_kv_bytes_for(c, o->kv_type, ctx);
    if (!(e->key_cache = tlb_alloc_aligned(e->kv_bytes / 2, "KV cache")) ||
        !(e->value_cache = tlb_alloc_aligned(e->kv_bytes / 2, "KV cache")))
        goto fail;
    *out = e;
    return 0;
fail:
    tlb_engine_free(e);
    return -1;
}

const struct tlb_kernel *tlb_engine_kernel(const struct tlb_engine *e) { return e->kernel; }
const char *tlb_engine_kernel_version(const struct tlb_engine *e) { return e->kernel_version; }
struct tlb_pool *tlb_engine_pool(const struct tlb_engine *e) { return e->pool; }
size_t tlb_engine_kv_bytes(const struct tlb_engine *e) { return e->kv_bytes; }
size_t tlb_engine_kv_layer_bytes(const struct tlb_engine *e, int n) {
    return 2 * (size_t)n * (size_t)tlb_kv_dim(&e->m->cfg) * e->kv_elem;
}

/* Offset in elements of (layer, KV head, position 0) in the K or V cache. */
static size_t kv_head_off(const struct tlb_engine *e, int layer, int kvh) {
    const struct tlb_config *c = &e->m->cfg;
    return ((size_t)layer * (size_t)c->n_kv_heads + (size_t)kvh) * (size_t)e->ctx_len *
           (size_t)tlb_head_dim(c);
}

/* A layer's positions [0, n) as saved: K then V, each KV head's n rows after the other's;
 * copied out to `to`, or in from `from` (the other NULL). */
static int kv_layer_copy(const struct tlb_engine *e, int layer, int n, char *to,
                         const char *from) {
    const struct tlb_config *c = &e->m->cfg;
    if (layer < 0 || layer >= c->n_layers || n < 0 || n > e->ctx_len) {
        tlb_error("KV copy: layer %d or %d positions out of range", layer, n);
        return -1;
    }
    const size_t len = (size_t)n * (size_t)tlb_head_dim(c) * e->kv_elem;
    char *caches[2] = {e->key_cache, e->value_cache};
    size_t at = 0;
    for (int kv = 0; kv < 2; kv++)
        for (int h = 0; h < c->n_kv_heads; h++, at += len) {
            char *p = caches[kv] + kv_head_off(e, layer, h) * e->kv_elem;
            if (to) memcpy(to + at, p, len);
            else memcpy(p, from + at, len);
        }
    return 0;
}

int tlb_engine_kv_save_layer(const struct tlb_engine *e, int layer, int n, void *dst) {
    return kv_layer_copy(e, layer, n, dst, NULL);
}

int tlb_engine_kv_load_layer(struct tlb_engine *e, int layer, int n, const void *src) {
    return kv_layer_copy(e, layer, n, NULL, src);
}

size_t tlb_engine_scratch_bytes(const struct tlb_engine *e) {
    size_t s = e->scratch_bytes;
    /* kernels grow scratch on first use: report what they hold now */
    if (e->kernel->scratch_bytes) s += e->kernel->scratch_bytes(e->kstate);
    return s;
}

/* ---- building blocks (run.c arithmetic) ---- */

static void rmsnorm(float *o, const float *x, const float *w, int size, float eps) {
    float ss = 0.0f;
    for (int j = 0; j < size; j++) ss += x[j] * x[j];
    ss /= (float)size;
    ss += eps;
    ss = 1.0f / sqrtf(ss);
    for (int j = 0; j < size; j++) o[j] = w[j] * (ss * x[j]);
}

static void rope(float *vec, int n, int head_size, const float *cosv, const float *sinv) {
    for (int i = 0; i < n; i += 2) {
        int j = (i % head_size) / 2;
        float fcr = cosv[j], fci = sinv[j];
        float v0 = vec[i], v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
    }
}

static int matmul(struct tlb_engine *e, float *y, const float *x, const struct tlb_tensor *w,
                  int m) {
    return e->kernel->matmul(e->kstate, e->pool, y, x, w, m);
}

/* y[i] = X w[i]^T for matrices that read the same X: one call where the kernel takes them
 * together (X prepared once, one dispatch), else one call each. */
static int matmul_shared_x(struct tlb_engine *e, int n, float *const *y, const float *x,
                           const struct tlb_tensor *const *w, int m) {
    if (e->kernel->matmul_shared_x)
        return e->kernel->matmul_shared_x(e->kstate, e->pool, y, x, w, n, m);
    for (int i = 0; i < n; i++)
        if (matmul(e, y[i], x, w[i], m) != 0) return -1;
    return 0;
}

/* ---- attention: (token, KV head) groups split across the pool ---- */

struct attn_job {
    struct tlb_engine *e;
    int layer, n, pos;
};

/* One (token, KV head) group; thread picks the per-thread scratch. */
static void attention_task(void *arg, long task, int thread) {
    const struct attn_job *j = arg;
    struct tlb_engine *e = j->e;
    const struct tlb_config *c = &e->m->cfg;
    const int head_size = tlb_head_dim(c);
    const int kv_mul = c->n_heads / c->n_kv_heads, dim = c->dim;
    const int i = (int)(task / c->n_kv_heads), kvh = (int)(task % c->n_kv_heads);
    const size_t qoff = (size_t)i * (size_t)dim + (size_t)kvh * kv_mul * (size_t)head_size;
    const size_t koff = kv_head_off(e, j->layer, kvh) * e->kv_elem;
    struct tlb_attn_group g = {
        .q = e->q + qoff, .q_stride = (size_t)head_size, .g = kv_mul,
        .k = (const char *)e->key_cache + koff, .v = (const char *)e->value_cache + koff,
        .kv_f16 = e->kv_type == TLB_TYPE_F16,
        .n_pos = j->pos + i + 1, /* causal: positions 0..pos+i */
        .head_size = head_size,
        .att = e->att + (size_t)thread * (size_t)kv_mul * (size_t)e->ctx_len,
        .att_stride = (size_t)e->ctx_len,
        .scratch = e->attn_scratch + (size_t)thread * tlb_attn_scratch_floats(head_size),
        .out = e->xb + qoff, .out_stride = (size_t)head_size};
    tlb_attention_group(&g);
}

/* ---- SwiGLU: hb = SiLU(hb) * hb2, elementwise, split across the pool (one thread's expf
 * over the hidden width cost ~20 us per layer, 2 % of a 2-thread decode step) ---- */

#define SWIGLU_TASKS_PER_THREAD 4 /* claimed dynamically: a slow core takes fewer */
#define SWIGLU_MIN_TASK 512        /* elements: below this a task costs more than it saves */

struct swiglu_job {
    float *hb;
    const float *hb2;
    long n, tasks;
};

static void swiglu_task(void *arg, long task, int thread) {
    const struct swiglu_job *j = arg;
    (void)thread;
    long lo, hi;
    tlb_split_range(j->n, (int)task, (int)j->tasks, &lo, &hi);
    for (long i = lo; i < hi; i++) {
        float val = j->hb[i];
        val *= (1.0f / (1.0f + expf(-val))); /* SiLU */
        val *= j->hb2[i];
        j->hb[i] = val;
    }
}

/* ---- one chunk of n <= max_batch tokens ---- */

static void embed(const struct tlb_engine *e, const int *tokens, int n) {
    const struct tlb_tensor *t = &e->m->tok_embd;
    for (int i = 0; i < n; i++)
        tlb_layout_row_f32(t->data, t->type, t->cols, t->layout, tokens[i],
                           e->x + (size_t)i * (size_t)t->cols);
}

/* K and V rows of the n tokens at pos..pos+n-1 into the cache, each KV head's row at its
 * place in that head's run. */
static void store_kv(struct tlb_engine *e, int layer, int pos, int n) {
    const struct tlb_config *c = &e->m->cfg;
    const size_t hs = (size_t)tlb_head_dim(c), kv_dim = (size_t)tlb_kv_dim(c);
    for (int h = 0; h < c->n_kv_heads; h++) {
        const size_t off = kv_head_off(e, layer, h) + (size_t)pos * hs;
        for (int i = 0; i < n; i++) {
            const float *k = e->k + (size_t)i * kv_dim + (size_t)h * hs;
            const float *v = e->v + (size_t)i * kv_dim + (size_t)h * hs;
            const size_t o = off + (size_t)i * hs;
            if (e->kv_type == TLB_TYPE_F32) {
                memcpy((float *)e->key_cache + o, k, hs * sizeof(float));
                memcpy((float *)e->value_cache + o, v, hs * sizeof(float));
            } else {
                uint16_t *kc = (uint16_t *)e->key_cache + o, *vc = (uint16_t *)e->value_cache + o;
                for (size_t d = 0; d < hs; d++) {
                    kc[d] = tlb_f32_to_f16(k[d]);
                    vc[d] = tlb_f32_to_f16(v[d]);
                }
            }
        }
    }
}

static int forward_chunk(struct tlb_engine *e, const int *tokens, int n, int pos, float *logits,
                         int all_logits) {
    const struct tlb_model *m = e->m;
    const struct tlb_config *c = &m->cfg;
    const int dim = c->dim, hidden = c->hidden_dim, kv_dim = tlb_kv_dim(c);
    const int head_size = tlb_head_dim(c), hs2 = head_size / 2;
    embed(e, tokens, n);
    for (int l = 0; l < c->n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
        for (int i = 0; i < n; i++)
            rmsnorm(e->xb + (size_t)i * dim, e->x + (size_t)i * dim, L->attn_norm, dim,
                    c->rms_eps);
        float *const qkv[] = {e->q, e->k, e->v};
        const struct tlb_tensor *const wqkv[] = {&L->wq, &L->wk, &L->wv};
        if (matmul_shared_x(e, 3, qkv, e->xb, wqkv, n)) return -1;
        for (int i = 0; i < n; i++) {
            const float *cs = e->rope_cos + (size_t)(pos + i) * hs2;
            const float *sn = e->rope_sin + (size_t)(pos + i) * hs2;
            rope(e->q + (size_t)i * dim, dim, head_size, cs, sn);
            rope(e->k + (size_t)i * kv_dim, kv_dim, head_size, cs, sn);
        }
        store_kv(e, l, pos, n);
        struct attn_job job = {e, l, n, pos};
        tlb_pool_run_chunks(e->pool, (long)n * c->n_kv_heads, attention_task, &job);
        if (matmul(e, e->xb2, e->xb, &L->wo, n)) return -1;
        for (size_t i = 0; i < (size_t)n * dim; i++) e->x[i] += e->xb2[i];
        for (int i = 0; i < n; i++)
            rmsnorm(e->xb + (size_t)i * dim, e->x + (size_t)i * dim, L->ffn_norm, dim,
                    c->rms_eps);
        float *const h13[] = {e->hb, e->hb2};
        const struct tlb_tensor *const w13[] = {&L->w1, &L->w3};
        if (matmul_shared_x(e, 2, h13, e->xb, w13, n)) return -1;
        struct swiglu_job sj = {e->hb, e->hb2, (long)n * hidden, 0};
        sj.tasks = tlb_pool_chunk_count(sj.n, tlb_pool_size(e->pool), SWIGLU_TASKS_PER_THREAD,
                                        SWIGLU_MIN_TASK);
        tlb_pool_run_chunks(e->pool, sj.tasks, swiglu_task, &sj);
        if (matmul(e, e->xb, e->hb, &L->w2, n)) return -1;
        for (size_t i = 0; i < (size_t)n * dim; i++) e->x[i] += e->xb[i];
    }
    if (!logits) return 0;
    /* only the rows whose logits are wanted go through the final norm and classifier */
    int first = all_logits ? 0 : n - 1, rows = all_logits ? n : 1;
    for (int i = first; i < n; i++)
        rmsnorm(e->x + (size_t)i * dim, e->x + (size_t)i * dim, m->final_norm, dim, c->rms_eps);
    return matmul(e, logits, e->x + (size_t)first * dim, &m->output, rows);
}

int tlb_engine_forward(struct tlb_engine *e, const int *tokens, int n, int pos, float *logits,
                       int all_logits) {
    const struct tlb_config *c = &e->m->cfg;
    if (n < 1 || pos < 0 || pos > e->ctx_len - n) {
        tlb_error("positions %d..%d are outside the context of %d tokens", pos, pos + n - 1,
                  e->ctx_len);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size) {
            tlb_error("token id %d is outside the vocabulary of %d", tokens[i], c->vocab_size);
            return -1;
        }
    }
    for (int done = 0; done < n;) {
        int chunk = TLB_MIN(n - done, e->max_batch);
        int last = done + chunk == n;
        float *out = NULL;
        if (all_logits) out = logits + (size_t)done * (size_t)c->vocab_size;
        else if (last) out = logits;
        if (forward_chunk(e, tokens + done, chunk, pos + done, out, all_logits)) return -1;
        done += chunk;
    }
    return 0;
}
