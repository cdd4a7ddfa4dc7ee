/* gguf-model.c — Llama models and vocabularies out of a parsed GGUF (gguf.c): hyperparameters
 * from the llama.* keys, tensors by llama.cpp's names with their shapes checked against them,
 * used in place when stored in the type being run, converted otherwise; and the tokenizer
 * from the tokenizer.ggml.* arrays, each checked for its element type and length. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "util.h"

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---- hyperparameters ---- */

static int get_dim(const struct tlb_gguf *g, const char *key, int required, int64_t def,
                   int *out) {
    int64_t v = def;
    int rc = tlb_gguf_get_int(g, key, 0, INT_MAX, &v);
    if (rc < 0) return -1;
    if (rc == 1 && required) {
        tlb_error("%s: missing metadata key %s", g->source, key);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int read_config(const struct tlb_gguf *g, struct tlb_config *c) {
    struct tlb_gguf_str arch;
    int rc = tlb_gguf_get_str(g, "general.architecture", &arch);
    if (rc < 0) return -1;
    if (rc == 1) {
        tlb_error("%s: missing general.architecture (is this a model file?)", g->source);
        return -1;
    }
    if (!tlb_gguf_str_eq(arch, "llama")) {
        tlb_error("%s: architecture '%.*s' is not supported (only llama)", g->source,
                  (int)TLB_MIN(arch.n, 64), arch.p);
        return -1;
    }
    memset(c, 0, sizeof *c);
    if (get_dim(g, "llama.embedding_length", 1, 0, &c->dim) ||
        get_dim(g, "llama.block_count", 1, 0, &c->n_layers) ||
        get_dim(g, "llama.feed_forward_length", 1, 0, &c->hidden_dim) ||
        get_dim(g, "llama.attention.head_count", 1, 0, &c->n_heads) ||
        get_dim(g, "llama.context_length", 1, 0, &c->seq_len))
        return -1;
    if (get_dim(g, "llama.attention.head_count_kv", 0, c->n_heads, &c->n_kv_heads)) return -1;
    double eps, theta = 10000.0;
    rc = tlb_gguf_get_float(g, "llama.attention.layer_norm_rms_epsilon", &eps);
    if (rc) {
        if (rc == 1)
            tlb_error("%s: missing metadata key llama.attention.layer_norm_rms_epsilon",
                      g->source);
        return -1;
    }
    if (tlb_gguf_get_float(g, "llama.rope.freq_base", &theta) < 0) return -1;
    if (!(eps > 0 && eps < 1) || !(theta >= 1 && theta <= 1e9)) {
        tlb_error("%s: RMS epsilon %g or RoPE base %g is out of range", g->source, eps, theta);
        return -1;
    }
    c->rms_eps = (float)eps;
    c->rope_theta = (float)theta;
    return 0;
}

/* ---- tensors ---- */

/* Find a tensor and check it is rows x cols (1-D [cols] when rows == 0). */
static const struct tlb_gguf_tensor *want_tensor(const struct tlb_gguf *g, const char *name,
                                                 int64_t rows, int64_t cols) {
    const struct tlb_gguf_tensor *t = tlb_gguf_find_tensor(g, name);
    if (!t) {
        tlb_error("%s: missing tensor %s", g->source, name);
        return NULL;
    }
    uint64_t r = rows ? (uint64_t)rows : 1;
    if (t->ne[0] != (uint64_t)cols || t->ne[1] != r || t->ne[2] != 1 || t->ne[3] != 1) {
        tlb_error("%s: tensor %s has shape [%llu, %llu, %llu, %llu] but the hyperparameters "
                  "imply [%lld, %llu] (ne0 first)", g->source, name,
                  (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                  (unsigned long long)t->ne[2], (unsigned long long)t->ne[3], (long long)cols,
                  (unsigned long long)r);
        return NULL;
    }
    return t;
}

static int tlb_type_of(const struct tlb_gguf *g, const struct tlb_gguf_tensor *t,
                       enum tlb_type *out) {
    if (tlb_type_from_ggml(t->ggml_type, out) != 0) {
        tlb_error("%s: tensor %.*s has type %s, which tlbench cannot run (supported: f32 f16 "
                  "bf16 q8_0 q4_0)", g->source, (int)t->name.n, t->name.p,
                  tlb_ggml_type_name(t->ggml_type));
        return -1;
    }
    return 0;
}

struct load_state {
    struct tlb_model *m;
    const struct tlb_gguf *g;
    const struct tlb_load_opts *o;
    float *row;          /* (max cols) f32 scratch */
    void *raw;           /* one stored row, aligned copy */
    int n_inplace, n_copied;
};

static int is_float_type(enum tlb_type t) {
    return t == TLB_TYPE_F32 || t == TLB_TYPE_F16 || t == TLB_TYPE_BF16;
}

/* Fill t from stored tensor s (rows x cols), in the type the load options ask for. */
static int take_matrix(struct load_state *st, struct tlb_tensor *t, const char *short_name,
                       const char *name, int64_t rows, int64_t cols) {
    const struct tlb_gguf *g = st->g;
    const struct tlb_gguf_tensor *s = want_tensor(g, name, rows, cols);
    enum tlb_type stored;
    if (!s || tlb_type_of(g, s, &stored)) return -1;
    enum tlb_type want = st->o->convert ? tlb_model_type_for(st->o->wtype, cols) : stored;
    size_t src_row = tlb_type_row_bytes(stored, cols), dst_row = tlb_type_row_bytes(want, cols);
    if (!src_row || !dst_row || (uint64_t)src_row * (uint64_t)rows != s->n_bytes) {
        tlb_error("%s: tensor %s: inconsistent size", g->source, name);
        return -1;
    }
    if (st->o->map_weights && want == stored && ((uintptr_t)s->data % 32) == 0) {
        *t = (struct tlb_tensor){.type = stored, .rows = rows, .cols = cols, .data = s->data,
                                 .name = short_name};
        st->n_inplace++;
        return 0;
    }
    if (want != stored && !is_float_type(stored) && want != TLB_TYPE_F32) {
        tlb_error("%s: tensor %s is %s; converting it to %s would requantize already quantized "
                  "weights, which tlbench refuses (as llama.cpp does without "
                  "--allow-requantize): convert from an f32/f16/bf16 file, or use --quant f32",
                  g->source, name, tlb_type_traits(stored)->name, tlb_type_traits(want)->name);
        return -1;
    }
    size_t total;
    if (tlb_mul_size(dst_row, (size_t)rows, &total)) {
        tlb_error("%s: tensor %s is too large", g->source, name);
        return -1;
    }
    char *dst = tlb_model_alloc(st->m, total, name);
    if (!dst) return -1;
    const struct tlb_type_traits *from = tlb_type_traits(stored), *to = tlb_type_traits(want);
    for (int64_t r = 0; r < rows; r++) {
        const unsigned char *src = s->data + (size_t)r * src_row;
        char *d = dst + (size_t)r * dst_row;
        if (want == stored) {
            memcpy(d, src, src_row);
            continue;
        }
        memcpy(st->raw, src, src_row); /* file rows need not be aligned for their type */
        from->to_f32(st->raw, st->row, cols);
        to->from_f32(st->row, d, cols);
    }
    *t = (struct tlb_tensor){.type = want, .rows = rows, .cols = cols, .data = dst,
                             .name = short_name};
    if (g->map) tlb_drop_mapped(s->data, s->n_bytes);
    st->n_copied++;
    return 0;
}

/* A norm vector of n floats, stored f32/f16/bf16, copied out as f32. */
static float *take_norm(struct load_state *st, const char *name, int n) {
    const struct tlb_gguf *g = st->g;
    const struct tlb_gguf_tensor *s = want_tensor(g, name, 0, n);
    enum tlb_type stored;
    if (!s || tlb_type_of(g, s, &stored)) return NULL;
    if (!is_float_type(stored)) {
        tlb_error("%s: tensor %s is %s; norm vectors must be f32, f16 or bf16", g->source, name,
                  tlb_type_traits(stored)->name);
        return NULL;
    }
    float *v = tlb_model_alloc(st->m, (size_t)n * sizeof(float), name);
    if (!v) return NULL;
    memcpy(st->raw, s->data, (size_t)s->n_bytes);
    tlb_type_traits(stored)->to_f32(st->raw, v, n);
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            tlb_error("%s: tensor %s has a non-finite value at %d", g->source, name, i);
            return NULL;
        }
    }
    return v;
}

int tlb_gguf_model_from(struct tlb_model *m, struct tlb_gguf *g, const struct tlb_load_opts *o) {
    struct tlb_config *c = &m->cfg;
    if (read_config(g, c)) return -1;
    const struct tlb_gguf_tensor *emb = tlb_gguf_find_tensor(g, "token_embd.weight");
    if (!emb) {
        tlb_error("%s: missing tensor token_embd.weight%s", g->source,
                  g->n_tensors == 0 ? " (this GGUF holds no tensors: a vocabulary-only file?)"
                                    : "");
        return -1;
    }
    if (emb->ne[1] > (uint64_t)INT_MAX) {
        tlb_error("%s: token_embd.weight has %llu rows", g->source,
                  (unsigned long long)emb->ne[1]);
        return -1;
    }
    c->vocab_size = (int)emb->ne[1];
    if (tlb_config_check(c, g->source)) return -1;
    int64_t v;
    int rc = tlb_gguf_get_int(g, "llama.rope.dimension_count", 0, INT_MAX, &v);
    if (rc < 0) return -1;
    if (rc == 0 && v != tlb_head_dim(c)) {
        tlb_error("%s: llama.rope.dimension_count %lld differs from the head size %d; partial "
                  "RoPE is not supported", g->source, (long long)v, tlb_head_dim(c));
        return -1;
    }
    rc = tlb_gguf_get_int(g, "llama.vocab_size", 0, INT_MAX, &v);
    if (rc < 0) return -1;
    if (rc == 0 && v != c->vocab_size) {
        tlb_error("%s: llama.vocab_size %lld differs from token_embd.weight's %d rows",
                  g->source, (long long)v, c->vocab_size);
        return -1;
    }
    const struct tlb_gguf_kv *tok = tlb_gguf_find_kv(g, "tokenizer.ggml.tokens");
    if (tok && (tok->type != TLB_GGUF_ARRAY || tok->arr_n != (uint64_t)c->vocab_size)) {
        tlb_error("%s: tokenizer.ggml.tokens has %llu entries but token_embd.weight has %d rows",
                  g->source, tok->type == TLB_GGUF_ARRAY ? (unsigned long long)tok->arr_n : 0ull,
                  c->vocab_size);
        return -1;
    }

    const int d = c->dim, h = c->hidden_dim, kv = tlb_kv_dim(c), V = c->vocab_size;
    const int maxk = TLB_MAX(d, h);
    struct load_state st = {m, g, o, NULL, NULL, 0, 0};
    st.row = tlb_malloc((size_t)maxk * sizeof(float), "row");
    st.raw = tlb_alloc_aligned((size_t)maxk * sizeof(float) + 64, "row");
    m->layers = tlb_calloc((size_t)c->n_layers, sizeof *m->layers, "layers");
    rc = -1;
    if (!st.row || !st.raw || !m->layers) goto done;
    if (take_matrix(&st, &m->tok_embd, "token_embd", "token_embd.weight", V, d)) goto done;
    char name[TLB_GGUF_MAX_NAME + 16];
#define BLK(s) (snprintf(name, sizeof name, "blk.%d." s ".weight", l), name)
    for (int l = 0; l < c->n_layers; l++) {
        struct tlb_layer *L = &m->layers[l];
        if (!(L->attn_norm = take_norm(&st, BLK("attn_norm"), d)) ||
            !(L->ffn_norm = take_norm(&st, BLK("ffn_norm"), d)) ||
            take_matrix(&st, &L->wq, "attn_q", BLK("attn_q"), d, d) ||
            take_matrix(&st, &L->wk, "attn_k", BLK("attn_k"), kv, d) ||
            take_matrix(&st, &L->wv, "attn_v", BLK("attn_v"), kv, d) ||
            take_matrix(&st, &L->wo, "attn_output", BLK("attn_output"), d, d) ||
            take_matrix(&st, &L->w1, "ffn_gate", BLK("ffn_gate"), h, d) ||
            take_matrix(&st, &L->w2, "ffn_down", BLK("ffn_down"), d, h) ||
            take_matrix(&st, &L->w3, "ffn_up", BLK("ffn_up"), h, d))
            goto done;
    }
#undef BLK
    if (!(m->final_norm = take_norm(&st, "output_norm.weight", d))) goto done;
    if (tlb_gguf_find_tensor(g, "output.weight")) {
        if (take_matrix(&st, &m->output, "output", "output.weight", V, d)) goto done;
        m->shared_classifier = 0;
    } else {
        m->output = m->tok_embd; /* tied, as llama.cpp does when output.weight is absent */
        m->output.name = "output";
        m->shared_classifier = 1;
    }
    /* tensors the model does not use: rope_freqs and the like are harmless; say so */
    uint64_t used = 3 + 9 * (uint64_t)c->n_layers - (uint64_t)m->shared_classifier;
    if (g->n_tensors > used)
        tlb_warn("%s: ignoring %llu tensors the llama architecture does not use", g->source,
                 (unsigned long long)(g->n_tensors - used));

    if (!o->convert) m->wtype = m->layers[0].wq.type; /* the file's main type */
    snprintf(m->format, sizeof m->format, "gguf");
    snprintf(m->mapping, sizeof m->mapping, "%s",
             st.n_copied == 0 ? "mmap" : st.n_inplace == 0 ? "copy" : "mmap+copy");
    struct tlb_gguf_str gname;
    if (tlb_gguf_get_str(g, "general.name", &gname) == 0 && gname.n > 0 &&
        !memchr(gname.p, '\0', (size_t)gname.n)) {
        snprintf(m->name, sizeof m->name, "%.*s", (int)TLB_MIN(gname.n, sizeof m->name - 1),
                 gname.p);
    } else {
        const char *base = strrchr(g->source, '/');
        snprintf(m->name, sizeof m->name, "%.127s", base ? base + 1 : g->source);
        char *dot = strrchr(m->name, '.');
        if (dot && dot != m->name) *dot = '\0';
    }
    /* in-place tensors keep the file mapping alive for the model's lifetime */
    if (st.n_inplace > 0 && g->map) {
        if (tlb_model_add_region(m, g->map, g->map_len, 1)) goto done;
        g->map = NULL;
    }
    rc = 0;
done:
    free(st.row);
    tlb_free_aligned(st.raw);
    return rc;
}

int tlb_gguf_load(struct tlb_model *m, const char *path, const struct tlb_load_opts *o) {
    struct tlb_gguf *g;
    if (tlb_gguf_open(&g, path)) return -1;
    int rc = tlb_gguf_model_from(m, g, o);
    tlb_gguf_free(g);
    return rc;
}

/* ---- vocabulary ---- */

int tlb_gguf_has_vocab(const struct tlb_gguf *g) {
    return tlb_gguf_find_kv(g, "tokenizer.ggml.tokens") != NULL;
}

/* The array under key, required to hold n elements of type et (n = 0: any count). */
static const struct tlb_gguf_kv *want_array(const struct tlb_gguf *g, const char *key,
                                            uint32_t et, uint64_t n) {
    const struct tlb_gguf_kv *kv = tlb_gguf_find_kv(g, key);
    if (!kv) return NULL;
    if (kv->type != TLB_GGUF_ARRAY || kv->arr_type != et) {
        tlb_error("%s: %s must be an array of %s but is %s%s", g->source, key,
                  tlb_gguf_vtype_name(et), kv->type == TLB_GGUF_ARRAY ? "an array of " : "a ",
                  tlb_gguf_vtype_name(kv->type == TLB_GGUF_ARRAY ? kv->arr_type : kv->type));
        return (const struct tlb_gguf_kv *)-1;
    }
    if (n && kv->arr_n != n) {
        tlb_error("%s: %s has %llu entries but tokenizer.ggml.tokens has %llu", g->source, key,
                  (unsigned long long)kv->arr_n, (unsigned long long)n);
        return (const struct tlb_gguf_kv *)-1;
    }
    return kv;
}

#define BAD_KV ((const struct tlb_gguf_kv *)-1)
#define MAX_VOCAB (1 << 24)

static int special_id(const struct tlb_gguf *g, const char *key, int n, int def, int *out) {
    int64_t v = def;
    int rc = tlb_gguf_get_int(g, key, -1, (int64_t)n - 1, &v);
    if (rc < 0) return -1;
    *out = (int)v;
    return 0;
}

int tlb_gguf_tokenizer_from(struct tlb_tokenizer **out, const struct tlb_gguf *g) {
    *out = NULL;
    struct tlb_gguf_str model;
    int rc = tlb_gguf_get_str(g, "tokenizer.ggml.model", &model);
    if (rc < 0) return -1;
    if (rc == 1) {
        tlb_error("%s: no vocabulary (tokenizer.ggml.model is missing)", g->source);
        return -1;
    }
    if (!tlb_gguf_str_eq(model, "llama")) {
        tlb_error("%s: tokenizer model '%.*s' is not supported (only llama, i.e. SentencePiece "
                  "BPE)", g->source, (int)TLB_MIN(model.n, 64), model.p);
        return -1;
    }
    const struct tlb_gguf_kv *tok = want_array(g, "tokenizer.ggml.tokens", TLB_GGUF_STRING, 0);
    if (tok == BAD_KV) return -1;
    if (!tok || tok->arr_n == 0 || tok->arr_n > MAX_VOCAB) {
        tlb_error("%s: tokenizer.ggml.tokens is %s", g->source,
                  tok ? "empty or too long" : "missing");
        return -1;
    }
    const int n = (int)tok->arr_n;
    const struct tlb_gguf_kv *sc = want_array(g, "tokenizer.ggml.scores", TLB_GGUF_F32, (uint64_t)n);
    const struct tlb_gguf_kv *ty =
        want_array(g, "tokenizer.ggml.token_type", TLB_GGUF_I32, (uint64_t)n);
    if (sc == BAD_KV || ty == BAD_KV) return -1;
    /* llama.cpp's defaults for a SentencePiece vocabulary */
    int bos, eos, unk, prefix = 1;
    if (special_id(g, "tokenizer.ggml.bos_token_id", n, n > 1 ? 1 : -1, &bos) ||
        special_id(g, "tokenizer.ggml.eos_token_id", n, n > 2 ? 2 : -1, &eos) ||
        special_id(g, "tokenizer.ggml.unknown_token_id", n, -2, &unk) ||
        tlb_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &prefix) < 0)
        return -1;

    const char **pieces = tlb_malloc((size_t)n * sizeof *pieces, "vocabulary");
    size_t *lens = tlb_malloc((size_t)n * sizeof *lens, "vocabulary");
    float *scores = tlb_calloc((size_t)n, sizeof *scores, "vocabulary");
    int32_t *types = ty ? tlb_malloc((size_t)n * sizeof *types, "vocabulary") : NULL;
    rc = -1;
    if (!pieces || !lens || !scores || (ty && !types)) goto done;
    /* the parser validated every string length against the file */
    const unsigned char *p = tok->arr_data;
    for (int i = 0; i < n; i++) {
        uint64_t len = le(p, 8);
        pieces[i] = (const char *)p + 8;
        lens[i] = (size_t)len;
        p += 8 + len;
    }
    for (int i = 0; sc && i < n; i++) {
        uint32_t u = (uint32_t)le(sc->arr_data + 4 * (size_t)i, 4);
        memcpy(&scores[i], &u, 4);
    }
    for (int i = 0; ty && i < n; i++)
        types[i] = (int32_t)(uint32_t)le(ty->arr_data + 4 * (size_t)i, 4);
    struct tlb_tokenizer_opts o = {.unk_id = unk, .add_dummy_prefix = prefix,
                                   .render_special = 1};
    rc = tlb_tokenizer_build(out, g->source, n, pieces, lens, scores, types, bos, eos, &o);
done:
    free(pieces);
    free(lens);
    free(scores);
    free(types);
    return rc;
}

int tlb_gguf_load_tokenizer(struct tlb_tokenizer **out, const char *path) {
    *out = NULL;
    struct tlb_gguf *g;
    if (tlb_gguf_open(&g, path)) return -1;
    int rc = tlb_gguf_tokenizer_from(out, g);
    tlb_gguf_free(g);
    return rc;
}
