/* safetensors-model.c — a Hugging Face Llama checkpoint as a model (see safetensors.h): which
 * files a spec names, config.json, the Llama tensor names and shapes, and their conversion
 * (q_proj/k_proj rows permuted from HF's rotate-half RoPE order to interleaved pairs, as
 * llama.cpp's converter does; other matrices are used in place from the mapping when no
 * conversion is asked). The container itself is read by safetensors.c. */
#include "safetensors.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "threadpool.h"
#include "util.h"

static int permute_enabled = 1;

void tlb_safetensors_test_set_permute(int on) { permute_enabled = on; }

static int is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directory a spec names or lives in (no trailing slash; "." for a bare file name). */
static int spec_dir(const char *spec, char *dir, size_t n) {
    struct stat st;
    int is_dir = stat(spec, &st) == 0 && S_ISDIR(st.st_mode);
    if ((size_t)snprintf(dir, n, "%s", spec) >= n) return -1;
    size_t len = strlen(dir);
    if (!is_dir) {
        char *slash = strrchr(dir, '/');
        if (!slash) return snprintf(dir, n, ".") >= (int)n ? -1 : 0;
        len = (size_t)(slash - dir) + 1;
        dir[len] = '\0';
    }
    while (len > 1 && dir[len - 1] == '/') dir[--len] = '\0';
    return 0;
}

int tlb_safetensors_tokenizer_path(const char *spec, char *buf, size_t n) {
    char dir[PATH_MAX];
    if (spec_dir(spec, dir, sizeof dir) != 0) return -1;
    if ((size_t)snprintf(buf, n, "%s/tokenizer.model", dir) >= n) return -1;
    return is_regular(buf) ? 0 : -1;
}

#if !defined(TLB_HAVE_CJSON) || !TLB_HAVE_CJSON

int tlb_safetensors_load(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o) {
    (void)m, (void)o;
    tlb_error("%s: %s", spec, tlb_safetensors_no_cjson);
    return -1;
}

int tlb_safetensors_config_mem(const char *source, const char *text, size_t len,
                               struct tlb_config *cfg, int *tied) {
    (void)text, (void)len, (void)cfg, (void)tied;
    tlb_error("%s: %s", source, tlb_safetensors_no_cjson);
    return -1;
}

int tlb_safetensors_model_mem(struct tlb_model *m, const char *config_text, size_t config_len,
                              const void *data, size_t size, const struct tlb_load_opts *o) {
    (void)m, (void)config_text, (void)config_len, (void)data, (void)size, (void)o;
    tlb_error("model.safetensors: %s", tlb_safetensors_no_cjson);
    return -1;
}

#else

#include <cjson/cJSON.h>

#define ST_CONFIG_DEPTH 32         /* config.json nests a little (rope_scaling, ...) */
#define ST_MAX_CONFIG (1 << 20)    /* a Llama config.json is under 1 KB */

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- config.json ---- */

static int cfg_int(const char *src, const cJSON *root, const char *key, long dflt, long *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        if (dflt < 0) {
            tlb_error("%s: %s is missing", src, key);
            return -1;
        }
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        tlb_error("%s: %s must be a positive integer, not %s", src, key, tlb_json_kind(v));
        return -1;
    }
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < 1.0) {
        tlb_error("%s: %s must be a positive integer, got %g", src, key, d);
        return -1;
    }
    if (d > INT_MAX) {
        tlb_error("%s: %s = %g is too large", src, key, d);
        return -1;
    }
    *out = (long)d;
    return 0;
}

static int cfg_float(const char *src, const cJSON *root, const char *key, double dflt,
                     float *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        *out = (float)dflt;
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        tlb_error("%s: %s must be a number, not %s", src, key, tlb_json_kind(v));
        return -1;
    }
    double d = v->valuedouble;
    if (!isfinite(d) || fabs(d) > FLT_MAX) {
        tlb_error("%s: %s = %g is out of range", src, key, d);
        return -1;
    }
    *out = (float)d;
    return 0;
}

static int cfg_flag(const char *src, const cJSON *root, const char *key, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        *out = 0;
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        tlb_error("%s: %s must be true or false, not %s", src, key, tlb_json_kind(v));
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static int cfg_parse(const char *src, const cJSON *root, struct tlb_config *cfg, int *tied) {
    if (tlb_json_check_dup_keys(src, "config", root) != 0) return -1;
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    if (arch && !cJSON_IsNull(arch)) {
        if (!cJSON_IsArray(arch)) {
            tlb_error("%s: architectures must be an array of strings, not %s", src,
                      tlb_json_kind(arch));
            return -1;
        }
        int found = 0;
        const char *other = NULL;
        const cJSON *a;
        cJSON_ArrayForEach(a, arch) {
            if (!cJSON_IsString(a)) continue;
            if (strcmp(a->valuestring, "LlamaForCausalLM") == 0) found = 1;
            else if (!other) other = a->valuestring;
        }
        if (!found) {
            tlb_error("%s: architecture %s is not supported (only LlamaForCausalLM)", src,
                      other ? TLB_ST_SAFE(other) : "(none)");
            return -1;
        }
    } else {
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
        if (!cJSON_IsString(mt) || strcmp(mt->valuestring, "llama") != 0) {
            tlb_error("%s: no architectures and model_type is not \"llama\": only Llama models "
                      "are supported", src);
            return -1;
        }
    }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
        if (!cJSON_IsString(ty)) ty = cJSON_GetObjectItemCaseSensitive(rs, "type");
        tlb_error("%s: rope_scaling (%s) is not supported", src,
                  cJSON_IsString(ty) ? TLB_ST_SAFE(ty->valuestring) : tlb_json_kind(rs));
        return -1;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (act && !cJSON_IsNull(act) &&
        (!cJSON_IsString(act) || strcmp(act->valuestring, "silu") != 0)) {
        tlb_error("%s: hidden_act %s is not supported (only silu)", src,
                  cJSON_IsString(act) ? TLB_ST_SAFE(act->valuestring) : tlb_json_kind(act));
        return -1;
    }
    int attn_bias, mlp_bias;
    if (cfg_flag(src, root, "attention_bias", &attn_bias) ||
        cfg_flag(src, root, "mlp_bias", &mlp_bias) ||
        cfg_flag(src, root, "tie_word_embeddings", tied))
        return -1;
    if (attn_bias || mlp_bias) {
        tlb_error("%s: %s is true: biases are not supported", src,
                  attn_bias ? "attention_bias" : "mlp_bias");
        return -1;
    }
    long dim, hidden, layers, heads, kv_heads, vocab, seq;
    if (cfg_int(src, root, "hidden_size", -1, &dim) ||
        cfg_int(src, root, "intermediate_size", -1, &hidden) ||
        cfg_int(src, root, "num_hidden_layers", -1, &layers) ||
        cfg_int(src, root, "num_attention_heads", -1, &heads) ||
        cfg_int(src, root, "num_key_value_heads", heads, &kv_heads) ||
        cfg_int(src, root, "vocab_size", -1, &vocab) ||
        cfg_int(src, root, "max_position_embeddings", 2048, &seq))
        return -1;
    *cfg = (struct tlb_config){.dim = (int)dim, .hidden_dim = (int)hidden,
                               .n_layers = (int)layers, .n_heads = (int)heads,
                               .n_kv_heads = (int)kv_heads, .vocab_size = (int)vocab,
                               .seq_len = (int)seq};
    /* defaults are transformers' LlamaConfig defaults */
    if (cfg_float(src, root, "rms_norm_eps", 1e-6, &cfg->rms_eps) ||
        cfg_float(src, root, "rope_theta", 10000.0, &cfg->rope_theta))
        return -1;
    if (tlb_config_check(cfg, src) != 0) return -1;
    long head_dim;
    if (cfg_int(src, root, "head_dim", dim / heads, &head_dim)) return -1;
    if (head_dim != dim / heads) {
        tlb_error("%s: head_dim %ld differs from hidden_size / num_attention_heads = %ld (not "
                  "supported)", src, head_dim, dim / heads);
        return -1;
    }
    return 0;
}

int tlb_safetensors_config_mem(const char *source, const char *text, size_t len,
                               struct tlb_config *cfg, int *tied) {
    cJSON *root = tlb_json_parse(source, "config", text, len, ST_CONFIG_DEPTH);
    if (!root) return -1;
    int rc = cfg_parse(source, root, cfg, tied);
    cJSON_Delete(root);
    return rc;
}

/* ---- the checkpoint ---- */

struct st_ctx {
    struct tlb_model *m;
    const struct tlb_load_opts *o;
    char config[PATH_MAX];
    char single[PATH_MAX];      /* the one .safetensors file, "" when sharded */
    struct tlb_st_files st;     /* the tensor files (st.index: "" for a single file) */
    struct tlb_pool *pool;
    int nth;
    float **scratch;            /* (nth, 2 * max cols) conversion rows */
    int n_in_place, n_copied;
};

/* The weights in the checkpoint's directory: model.safetensors, else the index of shards. */
static int weights_in_dir(struct st_ctx *c, const char *spec, const char *missing) {
    char p[PATH_MAX];
    if (tlb_st_path(p, sizeof p, c->st.dir, "model.safetensors")) return -1;
    if (exists(p)) {
        snprintf(c->single, sizeof c->single, "%s", p);
        return 0;
    }
    if (tlb_st_path(p, sizeof p, c->st.dir, "model.safetensors.index.json")) return -1;
    if (exists(p)) {
        snprintf(c->st.index, sizeof c->st.index, "%s", p);
        return 0;
    }
    tlb_error("%s: %s", spec, missing);
    return -1;
}

/* Which files the spec means: see safetensors.h. */
static int resolve(struct st_ctx *c, const char *spec) {
    struct stat st;
    if (stat(spec, &st) != 0) {
        tlb_error("%s: cannot open model: %s", spec, strerror(errno));
        return -1;
    }
    if (spec_dir(spec, c->st.dir, sizeof c->st.dir) != 0) {
        tlb_error("%s: path too long", spec);
        return -1;
    }
    if (tlb_st_path(c->config, sizeof c->config, c->st.dir, "config.json")) return -1;
    if (S_ISDIR(st.st_mode))
        return weights_in_dir(c, spec, "directory has no model.safetensors or "
                                       "model.safetensors.index.json");
    if (tlb_ends_with(spec, ".safetensors")) {
        snprintf(c->single, sizeof c->single, "%s", spec);
        return 0;
    }
    if (tlb_ends_with(spec, ".index.json")) {
        snprintf(c->st.index, sizeof c->st.index, "%s", spec);
        return 0;
    }
    if (tlb_ends_with(spec, ".json")) {
        snprintf(c->config, sizeof c->config, "%s", spec);
        return weights_in_dir(c, spec, "no model.safetensors or model.safetensors.index.json "
                                       "next to it");
    }
    tlb_error("%s: not a safetensors checkpoint (a directory, .safetensors or config.json)",
              spec);
    return -1;
}

static const char *const layer_names[] = {
    "input_layernorm.weight",      "self_attn.q_proj.weight", "self_attn.k_proj.weight",
    "self_attn.v_proj.weight",     "self_attn.o_proj.weight", "post_attention_layernorm.weight",
    "mlp.gate_proj.weight",        "mlp.up_proj.weight",      "mlp.down_proj.weight",
    "self_attn.rotary_emb.inv_freq", /* older exports save it; RoPE is recomputed */
};

/* Every checkpoint tensor must be a Llama weight: an ignored bias would give wrong output. */
static int check_known(struct st_ctx *c) {
    size_t L = (size_t)c->m->cfg.n_layers, n = 3 + L * TLB_ARRAY_LEN(layer_names);
    char *buf = tlb_malloc(n * 64, "tensor names");
    const char **known = tlb_malloc(n * sizeof *known, "tensor names");
    int rc = -1;
    if (!buf || !known) goto done;
    size_t k = 0;
    const char *top[] = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"};
    for (size_t i = 0; i < 3; i++) known[k++] = top[i];
    for (size_t l = 0; l < L; l++) {
        for (size_t i = 0; i < TLB_ARRAY_LEN(layer_names); i++, k++) {
            snprintf(buf + k * 64, 64, "model.layers.%zu.%s", l, layer_names[i]);
            known[k] = buf + k * 64;
        }
    }
    qsort(known, n, sizeof *known, tlb_cmp_strp);
    for (size_t i = 0; i < c->st.n_entries; i++) {
        if (!bsearch(&c->st.entries[i].name, known, n, sizeof *known, tlb_cmp_strp)) {
            tlb_error("%s: unexpected tensor %s (not a weight of a %zu-layer Llama model)",
                      c->st.index, TLB_ST_SAFE(c->st.entries[i].name), L);
            goto done;
        }
    }
    for (int f = 0; f < c->st.n_files; f++) {
        for (size_t i = 0; i < c->st.files[f].n; i++) {
            if (!bsearch(&c->st.files[f].t[i].name, known, n, sizeof *known, tlb_cmp_strp)) {
                tlb_error("%s: unexpected tensor %s (not a weight of a %zu-layer Llama model)",
                          c->st.files[f].path, TLB_ST_SAFE(c->st.files[f].t[i].name), L);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(buf);
    free(known);
    return rc;
}

static int check_shape(struct st_ctx *c, const struct tlb_st_file *f,
                       const struct tlb_st_tensor *t, int64_t rows, int64_t cols) {
    int ok = cols ? t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols
                  : t->ndim == 1 && t->shape[0] == rows;
    if (ok) return 0;
    if (cols)
        tlb_error("%s: tensor %s has shape %s but %s implies [%lld, %lld]", f->path, t->name,
                  TLB_ST_SHAPE(t), c->config, (long long)rows, (long long)cols);
    else
        tlb_error("%s: tensor %s has shape %s but %s implies [%lld]", f->path, t->name,
                  TLB_ST_SHAPE(t), c->config, (long long)rows);
    return -1;
}

/* HF row feeding interleaved row r: within a head, new row 2j + s = old row s*hd/2 + j
 * (llama.cpp convert_hf_to_gguf.py permute: reshape(n_head, 2, hd/2, dim).swapaxes(1, 2)). */
static inline int64_t hf_row(int64_t r, int64_t hd) {
    int64_t h = r / hd, i = r % hd;
    return h * hd + (i & 1) * (hd / 2) + i / 2;
}

struct conv_job {
    const unsigned char *src;
    enum tlb_type src_type;
    size_t src_row_bytes;
    unsigned char *dst;
    enum tlb_type dst_type;
    size_t dst_row_bytes;
    int64_t rows, cols, head_dim; /* head_dim 0: rows in order */
    float **scratch;
};

static void conv_rows(void *arg, int ith, int nth) {
    const struct conv_job *j = arg;
    long lo, hi;
    tlb_split_range((long)j->rows, ith, nth, &lo, &hi);
    float *raw = j->scratch ? j->scratch[ith] : NULL, *tmp = raw ? raw + j->cols : NULL;
    const struct tlb_type_traits *from = tlb_type_traits(j->src_type);
    const struct tlb_type_traits *to = tlb_type_traits(j->dst_type);
    for (long r = lo; r < hi; r++) {
        int64_t sr = j->head_dim ? hf_row(r, j->head_dim) : r;
        const unsigned char *s = j->src + (size_t)sr * j->src_row_bytes;
        unsigned char *d = j->dst + (size_t)r * j->dst_row_bytes;
        if (j->src_type == j->dst_type) {
            memcpy(d, s, j->dst_row_bytes);
            continue;
        }
        /* the mapped row may be unaligned: copy it before reading it as numbers */
        memcpy(raw, s, j->src_row_bytes);
        const float *x = raw;
        if (j->src_type != TLB_TYPE_F32) {
            from->to_f32(raw, tmp, j->cols);
            x = tmp;
        }
        to->from_f32(x, d, j->cols);
    }
}

/* A matrix [rows, cols]; head_dim > 0 applies the RoPE row permutation. */
static int load_matrix(struct st_ctx *c, struct tlb_tensor *t, const char *hf,
                       const char *eng, int64_t rows, int64_t cols, int64_t head_dim) {
    struct tlb_st_file *f;
    const struct tlb_st_tensor *s = tlb_st_files_find(&c->st, hf, &f);
    if (!s || check_shape(c, f, s, rows, cols) != 0) return -1;
    enum tlb_type want = c->o->convert ? tlb_model_type_for(c->o->wtype, cols) : s->type;
    const unsigned char *src = f->data + s->begin;
    if (!permute_enabled) head_dim = 0;
    if (c->o->map_weights && !head_dim && want == s->type &&
        (uintptr_t)src % tlb_st_elem_size(s->type) == 0) {
        *t = (struct tlb_tensor){.type = want, .rows = rows, .cols = cols, .data = src,
                                 .name = eng};
        f->in_place = 1;
        c->n_in_place++;
        return 0;
    }
    size_t row_bytes = tlb_type_row_bytes(want, cols), total;
    if (!row_bytes || tlb_mul_size(row_bytes, (size_t)rows, &total)) {
        tlb_error("%s: tensor %s of %lld x %lld does not fit type %s", f->path, hf,
                  (long long)rows, (long long)cols, tlb_type_traits(want)->name);
        return -1;
    }
    void *dst = tlb_model_alloc(c->m, total, eng);
    if (!dst) return -1;
    struct conv_job job = {src, s->type, (size_t)cols * tlb_st_elem_size(s->type), dst, want,
                           row_bytes, rows, cols, head_dim, c->scratch};
    tlb_pool_run(c->pool, conv_rows, &job);
    *t = (struct tlb_tensor){.type = want, .rows = rows, .cols = cols, .data = dst, .name = eng};
    if (f->map) tlb_drop_mapped(src, (size_t)rows * (size_t)cols * tlb_st_elem_size(s->type));
    c->n_copied++;
    return 0;
}

/* Norm weights: always f32, copied. */
static float *load_vector(struct st_ctx *c, const char *hf, int64_t n) {
    struct tlb_st_file *f;
    const struct tlb_st_tensor *s = tlb_st_files_find(&c->st, hf, &f);
    if (!s || check_shape(c, f, s, n, 0) != 0) return NULL;
    float *v = tlb_model_alloc(c->m, (size_t)n * sizeof(float), hf);
    if (!v) return NULL;
    const unsigned char *src = f->data + s->begin;
    for (int64_t i = 0; i < n; i++) {
        if (s->type == TLB_TYPE_F32) {
            memcpy(&v[i], src + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            v[i] = s->type == TLB_TYPE_F16 ? tlb_f16_to_f32(h) : tlb_bf16_to_f32(h);
        }
    }
    return v;
}

static int load_weights(struct st_ctx *c) {
    struct tlb_model *m = c->m;
    const struct tlb_config *cfg = &m->cfg;
    const int64_t d = cfg->dim, h = cfg->hidden_dim, kv = tlb_kv_dim(cfg), V = cfg->vocab_size;
    const int64_t hd = tlb_head_dim(cfg);
    if (!(m->layers = tlb_calloc((size_t)cfg->n_layers, sizeof *m->layers, "layers"))) return -1;
    if (load_matrix(c, &m->tok_embd, "model.embed_tokens.weight", "token_embd", V, d, 0))
        return -1;
    for (int l = 0; l < cfg->n_layers; l++) {
        struct tlb_layer *L = &m->layers[l];
        char n[9][64];
        for (int i = 0; i < 9; i++) snprintf(n[i], sizeof n[i], "model.layers.%d.%s", l,
                                             layer_names[i]);
        if (!(L->attn_norm = load_vector(c, n[0], d)) ||
            load_matrix(c, &L->wq, n[1], "attn_q", d, d, hd) ||
            load_matrix(c, &L->wk, n[2], "attn_k", kv, d, hd) ||
            load_matrix(c, &L->wv, n[3], "attn_v", kv, d, 0) ||
            load_matrix(c, &L->wo, n[4], "attn_output", d, d, 0) ||
            !(L->ffn_norm = load_vector(c, n[5], d)) ||
            load_matrix(c, &L->w1, n[6], "ffn_gate", h, d, 0) ||
            load_matrix(c, &L->w3, n[7], "ffn_up", h, d, 0) ||
            load_matrix(c, &L->w2, n[8], "ffn_down", d, h, 0))
            return -1;
    }
    if (!(m->final_norm = load_vector(c, "model.norm.weight", d))) return -1;
    return 0;
}

static int load_classifier(struct st_ctx *c, int tied) {
    struct tlb_model *m = c->m;
    if (!tied && tlb_st_files_has(&c->st, "lm_head.weight")) {
        if (load_matrix(c, &m->output, "lm_head.weight", "output", m->cfg.vocab_size,
                        m->cfg.dim, 0))
            return -1;
        m->shared_classifier = 0;
    } else {
        m->output = m->tok_embd; /* tie_word_embeddings, or no lm_head: HF ties them */
        m->output.name = "output";
        m->shared_classifier = 1;
    }
    return 0;
}

static int make_pool(struct st_ctx *c) {
    c->nth = c->o->n_threads > 0 ? c->o->n_threads : 1;
    if (c->nth > 1 && !(c->pool = tlb_pool_create(c->nth))) return -1;
    if (!(c->scratch = tlb_calloc((size_t)c->nth, sizeof *c->scratch, "scratch"))) return -1;
    size_t maxk = (size_t)TLB_MAX(c->m->cfg.dim, c->m->cfg.hidden_dim);
    for (int i = 0; i < c->nth; i++)
        if (!(c->scratch[i] = tlb_malloc(2 * maxk * sizeof(float), "conversion rows"))) return -1;
    return 0;
}

static void set_name(struct tlb_model *m, const char *dir) {
    char real[PATH_MAX];
    const char *p = realpath(dir, real) ? real : dir;
    const char *base = strrchr(p, '/');
    base = base && base[1] ? base + 1 : p;
    snprintf(m->name, sizeof m->name, "%.*s", (int)sizeof m->name - 1,
             *base && strcmp(base, "/") ? base : "safetensors");
}

static void ctx_free(struct st_ctx *c) {
    tlb_st_files_close(&c->st);
    if (c->scratch)
        for (int i = 0; i < c->nth; i++) free(c->scratch[i]);
    free(c->scratch);
    tlb_pool_free(c->pool);
    free(c);
}

/* Checks, weights and bookkeeping once the config and files are read. */
static int assemble(struct st_ctx *c, int tied) {
    struct tlb_model *m = c->m;
    if (check_known(c) != 0 || make_pool(c) != 0 || load_weights(c) != 0 ||
        load_classifier(c, tied) != 0)
        return -1;
    /* Mappings that tensors point into now belong to the model; the rest are dropped. */
    for (int k = 0; k < c->st.n_files; k++) {
        struct tlb_st_file *f = &c->st.files[k];
        if (!f->in_place || !f->map) continue;
        if (tlb_model_add_region(m, f->map, f->map_len, 1) != 0) return -1;
        f->map = NULL;
    }
    if (!c->o->convert) m->wtype = m->layers[0].wq.type;
    snprintf(m->format, sizeof m->format, "safetensors");
    snprintf(m->mapping, sizeof m->mapping, "%s",
             !c->n_in_place ? "copy" : c->n_copied ? "mmap+copy" : "mmap");
    return 0;
}

int tlb_safetensors_load(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o) {
    struct st_ctx *c = tlb_calloc(1, sizeof *c, "safetensors loader");
    if (!c) return -1;
    c->m = m;
    c->o = o;
    int rc = -1, tied = 0;
    if (resolve(c, spec) != 0) goto done;
    size_t len;
    char *text = tlb_read_file(c->config, ST_MAX_CONFIG, &len);
    if (!text) goto done;
    int crc = tlb_safetensors_config_mem(c->config, text, len, &m->cfg, &tied);
    free(text);
    if (crc != 0) goto done;
    if ((c->st.index[0] ? tlb_st_files_open_index(&c->st)
                        : tlb_st_files_open_single(&c->st, c->single)) != 0)
        goto done;
    if (assemble(c, tied) != 0) goto done;
    set_name(m, c->st.dir);
    rc = 0;
done:
    ctx_free(c);
    return rc;
}

int tlb_safetensors_model_mem(struct tlb_model *m, const char *config_text, size_t config_len,
                              const void *data, size_t size, const struct tlb_load_opts *o) {
    struct st_ctx *c = tlb_calloc(1, sizeof *c, "safetensors loader");
    if (!c) return -1;
    c->m = m;
    c->o = o;
    snprintf(c->config, sizeof c->config, "config.json");
    int rc = -1, tied = 0;
    if (tlb_safetensors_config_mem(c->config, config_text, config_len, &m->cfg, &tied) != 0 ||
        tlb_st_files_from_mem(&c->st, "model.safetensors", data, size) != 0 ||
        assemble(c, tied) != 0)
        goto done;
    snprintf(m->name, sizeof m->name, "safetensors-in-memory");
    rc = 0;
done:
    ctx_free(c);
    return rc;
}

#endif
