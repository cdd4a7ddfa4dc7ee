/* test-safetensors.c — the Hugging Face safetensors loader: a model written as an HF checkpoint
 * (q/k rows in rotate-half order, F32/F16/BF16, single file or sharded) loads back with the
 * same logits; HF's rotate-half RoPE on the file's weights gives the same attention scores as
 * the engine's interleaved RoPE on the loaded ones; without the permutation both differ; and
 * every kind of hostile file fails with one error line naming the file and the problem.
 * TLB_ST_WRITE_FIXTURES=DIR writes the committed fixtures (tests/fixtures/safetensors). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "engine.h"
#include "kernel.h"
#include "model.h"
#include "quant.h"
#include "safetensors.h"
#include "test.h"
#include "util.h"

#define FIXTURES "tests/fixtures/safetensors"


#if defined(TLB_HAVE_CJSON) && TLB_HAVE_CJSON

/* ---- files and directories ---- */

static int make_tmpdir(char *buf, size_t n) {
    snprintf(buf, n, "/tmp/tlb-st-XXXXXX");
    return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *p, const struct stat *s, int flag, struct FTW *f) {
    (void)s, (void)flag, (void)f;
    return remove(p);
}

static void rm_tree(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_text(const char *dir, const char *name, const char *text) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return write_file(p, text, strlen(text));
}

/* Growable string. */
struct sb {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s) abort();
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A safetensors file: u64 header length, header (padded with spaces to pad_to), data. */
static int write_st(const char *path, const char *header, int pad_to, const void *data,
                    size_t n) {
    size_t hl = strlen(header), padded = hl;
    if (pad_to > 1) padded = (8 + hl + (size_t)pad_to - 1) / (size_t)pad_to * (size_t)pad_to - 8;
    unsigned char *buf = calloc(1, 8 + padded + n + 1);
    if (!buf) return -1;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, header, hl);
    memset(buf + 8 + hl, ' ', padded - hl);
    if (n) memcpy(buf + 8 + padded, data, n);
    int rc = write_file(path, buf, 8 + padded + n);
    free(buf);
    return rc;
}

/* ---- an HF checkpoint in memory: f32 values, HF names and row order ---- */

struct hf_tensor {
    char name[80];
    int ndim;
    int64_t shape[2];
    float *data;
};

struct hf_ckpt {
    struct tlb_config cfg;
    int tied;
    struct hf_tensor t[512];
    int n;
};

static void ck_free(struct hf_ckpt *ck) {
    for (int i = 0; i < ck->n; i++) free(ck->t[i].data);
    ck->n = 0;
}

static int64_t numel(const struct hf_tensor *t) {
    return t->ndim == 1 ? t->shape[0] : t->shape[0] * t->shape[1];
}

static struct hf_tensor *ck_add(struct hf_ckpt *ck, const char *name, int64_t rows,
                                int64_t cols) {
    if (ck->n == (int)TLB_ARRAY_LEN(ck->t)) abort();
    struct hf_tensor *t = &ck->t[ck->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = calloc((size_t)numel(t), sizeof(float));
    if (!t->data) abort();
    return t;
}

/* Engine (interleaved) rows -> HF rotate-half rows: HF row (h, s*hd/2 + j) holds engine row
 * (h, 2j + s). Written from the HF definition, independently of the loader's code. */
static void to_rotate_half(float *dst, const float *src, int64_t rows, int64_t cols, int hd) {
    for (int64_t h = 0; h < rows / hd; h++)
        for (int j = 0; j < hd / 2; j++)
            for (int s = 0; s < 2; s++)
                memcpy(dst + (size_t)(h * hd + s * hd / 2 + j) * (size_t)cols,
                       src + (size_t)(h * hd + 2 * j + s) * (size_t)cols,
                       (size_t)cols * sizeof(float));
}

static void add_matrix(struct hf_ckpt *ck, const char *name, const struct tlb_tensor *w,
                       int head_dim) {
    TLB_ASSERT(w->type == TLB_TYPE_F32);
    struct hf_tensor *t = ck_add(ck, name, w->rows, w->cols);
    if (head_dim) to_rotate_half(t->data, w->data, w->rows, w->cols, head_dim);
    else memcpy(t->data, w->data, (size_t)numel(t) * sizeof(float));
}

static void add_vector(struct hf_ckpt *ck, const char *name, const float *v, int n) {
    memcpy(ck_add(ck, name, n, 0)->data, v, (size_t)n * sizeof(float));
}

/* An f32 engine model as an HF checkpoint. */
static void ck_from_model(struct hf_ckpt *ck, const struct tlb_model *m) {
    const struct tlb_config *c = &m->cfg;
    char n[128];
    ck->cfg = *c;
    ck->tied = m->shared_classifier;
    ck->n = 0;
    add_matrix(ck, "model.embed_tokens.weight", &m->tok_embd, 0);
    for (int l = 0; l < c->n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
#define NAME(s) (snprintf(n, sizeof n, "model.layers.%d.%s", l, s), n)
        add_vector(ck, NAME("input_layernorm.weight"), L->attn_norm, c->dim);
        add_matrix(ck, NAME("self_attn.q_proj.weight"), &L->wq, tlb_head_dim(c));
        add_matrix(ck, NAME("self_attn.k_proj.weight"), &L->wk, tlb_head_dim(c));
        add_matrix(ck, NAME("self_attn.v_proj.weight"), &L->wv, 0);
        add_matrix(ck, NAME("self_attn.o_proj.weight"), &L->wo, 0);
        add_vector(ck, NAME("post_attention_layernorm.weight"), L->ffn_norm, c->dim);
        add_matrix(ck, NAME("mlp.gate_proj.weight"), &L->w1, 0);
        add_matrix(ck, NAME("mlp.up_proj.weight"), &L->w3, 0);
        add_matrix(ck, NAME("mlp.down_proj.weight"), &L->w2, 0);
#undef NAME
    }
    add_vector(ck, "model.norm.weight", m->final_norm, c->dim);
    if (!m->shared_classifier) add_matrix(ck, "lm_head.weight", &m->output, 0);
}

static const struct hf_tensor *ck_find(const struct hf_ckpt *ck, const char *name) {
    for (int i = 0; i < ck->n; i++)
        if (strcmp(ck->t[i].name, name) == 0) return &ck->t[i];
    return NULL;
}

static void config_json(struct sb *b, const struct tlb_config *c, int tied) {
    sb_add(b,
           "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"hidden_act\": \"silu\",\n"
           "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n"
           "  \"max_position_embeddings\": %d,\n  \"model_type\": \"llama\",\n"
           "  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": %d,\n"
           "  \"num_key_value_heads\": %d,\n  \"rms_norm_eps\": %.9g,\n"
           "  \"rope_scaling\": null,\n  \"rope_theta\": %.9g,\n"
           "  \"tie_word_embeddings\": %s,\n  \"vocab_size\": %d\n}\n",
           c->dim, c->hidden_dim, c->seq_len, c->n_heads, c->n_layers, c->n_kv_heads,
           (double)c->rms_eps, (double)c->rope_theta, tied ? "true" : "false", c->vocab_size);
}

struct write_opts {
    const char *dtype; /* "F32", "F16", "BF16" */
    int shards;        /* 0: model.safetensors; n: n shards + index */
    int misalign;      /* pad the header so the data buffer starts on an odd address */
};

/* Write ck to dir as config.json + safetensors file(s). */
static int ck_write(const struct hf_ckpt *ck, const char *dir, const struct write_opts *w) {
    enum tlb_type type = strcmp(w->dtype, "F32") == 0   ? TLB_TYPE_F32
                         : strcmp(w->dtype, "F16") == 0 ? TLB_TYPE_F16
                                                        : TLB_TYPE_BF16;
    size_t es = type == TLB_TYPE_F32 ? 4 : 2;
    struct sb cfg = {0}, index = {0};
    config_json(&cfg, &ck->cfg, ck->tied);
    int rc = write_text(dir, "config.json", cfg.s);
    free(cfg.s);
    int n_files = w->shards ? w->shards : 1;
    sb_add(&index, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
    for (int f = 0; f < n_files && rc == 0; f++) {
        struct sb h = {0};
        size_t total = 0;
        for (int i = f; i < ck->n; i += n_files) total += (size_t)numel(&ck->t[i]) * es;
        unsigned char *data = malloc(total ? total : 1), *p = data;
        if (!data) abort();
        sb_add(&h, "{\"__metadata__\": {\"format\": \"pt\"}");
        for (int i = f; i < ck->n; i += n_files) {
            const struct hf_tensor *t = &ck->t[i];
            size_t bytes = (size_t)numel(t) * es;
            if (t->ndim == 1)
                sb_add(&h, ", \"%s\": {\"dtype\": \"%s\", \"shape\": [%lld], ", t->name,
                       w->dtype, (long long)t->shape[0]);
            else
                sb_add(&h, ", \"%s\": {\"dtype\": \"%s\", \"shape\": [%lld, %lld], ", t->name,
                       w->dtype, (long long)t->shape[0], (long long)t->shape[1]);
            sb_add(&h, "\"data_offsets\": [%zu, %zu]}", (size_t)(p - data),
                   (size_t)(p - data) + bytes);
            tlb_type_traits(type)->from_f32(t->data, p, numel(t));
            p += bytes;
        }
        sb_add(&h, "}");
        if (w->misalign) sb_add(&h, " ");
        char name[128], path[4096];
        if (w->shards) snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", f + 1, n_files);
        else snprintf(name, sizeof name, "model.safetensors");
        snprintf(path, sizeof path, "%s/%s", dir, name);
        rc = write_st(path, h.s, w->misalign ? 1 : 8, data, total);
        for (int i = f; i < ck->n; i += n_files)
            sb_add(&index, "%s\"%s\": \"%s\"", index.s[index.len - 1] == '{' ? "" : ", ",
                   ck->t[i].name, name);
        free(h.s);
        free(data);
    }
    sb_add(&index, "}}\n");
    if (rc == 0 && w->shards) rc = write_text(dir, "model.safetensors.index.json", index.s);
    free(index.s);
    return rc;
}

/* ---- running models ---- */

static float *logits_of(const struct tlb_model *m, const int *toks, int n) {
    const struct tlb_kernel *k = tlb_kernel_find("naive");
    struct tlb_engine_opts eo = {.kernel = k, .n_threads = 1, .ctx_len = n,
                                 .kv_type = TLB_TYPE_F32};
    struct tlb_engine *e;
    if (!k || tlb_engine_create(&e, m, &eo) != 0) return NULL;
    float *out = malloc((size_t)n * (size_t)m->cfg.vocab_size * sizeof(float));
    if (out && tlb_engine_forward(e, toks, n, 0, out, 1) != 0) {
        free(out);
        out = NULL;
    }
    tlb_engine_free(e);
    return out;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

static double max_abs(const float *a, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i]));
    return d;
}

static struct tlb_model *load_opts(const char *spec, int convert, enum tlb_type wtype, int map) {
    struct tlb_load_opts o = {.spec = spec, .convert = convert, .wtype = wtype, .seed = 42,
                              .n_threads = 2, .map_weights = map};
    struct tlb_model *m = NULL;
    return tlb_model_load(&m, &o) == 0 ? m : NULL;
}

/* The default load: every matrix copied into allocated memory. */
static struct tlb_model *load(const char *spec, int convert, enum tlb_type wtype) {
    return load_opts(spec, convert, wtype, 0);
}

static const int toks[] = {1, 17, 402, 5, 99, 250, 3, 64, 311, 8};
#define NTOK ((int)TLB_ARRAY_LEN(toks))

/* Logits of spec (loaded with convert/wtype) vs ref's; returns max abs diff, or -1. */
static double compare(const char *spec, int convert, enum tlb_type wtype,
                      const struct tlb_model *ref, const float *ref_logits) {
    struct tlb_model *m = load(spec, convert, wtype);
    if (!m) return -1;
    double d = -1;
    if (memcmp(&m->cfg, &ref->cfg, sizeof m->cfg) == 0 &&
        m->shared_classifier == ref->shared_classifier) {
        float *lg = logits_of(m, toks, NTOK);
        if (lg) d = max_diff(lg, ref_logits, (size_t)NTOK * (size_t)ref->cfg.vocab_size);
        free(lg);
    }
    tlb_model_free(m);
    return d;
}

/* A synthetic:tiny checkpoint in a fresh temporary directory. */
struct fixture {
    char dir[64];
    struct tlb_model *ref;
    float *ref_logits;
    struct hf_ckpt ck;
};

static int fixture_open(struct fixture *fx, const char *spec, const struct write_opts *w) {
    memset(fx, 0, sizeof *fx);
    if (make_tmpdir(fx->dir, sizeof fx->dir) != 0) return -1;
    if (!(fx->ref = load(spec, 0, TLB_TYPE_F32))) return -1;
    if (!(fx->ref_logits = logits_of(fx->ref, toks, NTOK))) return -1;
    ck_from_model(&fx->ck, fx->ref);
    return w ? ck_write(&fx->ck, fx->dir, w) : 0;
}

static void fixture_close(struct fixture *fx) {
    ck_free(&fx->ck);
    free(fx->ref_logits);
    tlb_model_free(fx->ref);
    if (fx->dir[0]) rm_tree(fx->dir);
}

/* ---- the round trips ---- */

TLB_TEST(f32_roundtrip_exact_and_mapped) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 0, 0}) == 0;
    /* mapping asked for: used in place except the q/k projections (rows permuted) */
    struct tlb_model *m = ok ? load_opts(fx.dir, 0, TLB_TYPE_F32, 1) : NULL;
    float *lg = m ? logits_of(m, toks, NTOK) : NULL;
    double d = lg ? max_diff(lg, fx.ref_logits, (size_t)NTOK * 512) : -1;
    int fmt = m && strcmp(m->format, "safetensors") == 0 && strcmp(m->mapping, "mmap+copy") == 0 &&
              m->wtype == TLB_TYPE_F32 && !m->shared_classifier;
    struct tlb_model *c = ok ? load(fx.dir, 0, TLB_TYPE_F32) : NULL;
    float *cl = c ? logits_of(c, toks, NTOK) : NULL;
    double dc = cl ? max_diff(cl, fx.ref_logits, (size_t)NTOK * 512) : -1;
    int copied = c && strcmp(c->mapping, "copy") == 0;
    free(cl);
    tlb_model_free(c);
    TLB_CHECK(dc >= 0 && dc <= 1e-5 && copied, "default load: max |diff| %g, mapping copy: %d",
              dc, copied);
    int named = m && strncmp(m->name, "tlb-st-", 7) == 0;
    free(lg);
    tlb_model_free(m);
    fixture_close(&fx);
    TLB_CHECK(ok && m, "could not write or load the checkpoint");
    TLB_CHECK(d >= 0 && d <= 1e-5, "max |logit diff| %g > 1e-5", d);
    TLB_CHECK(fmt, "format/mapping/type not recorded as safetensors, mmap+copy, f32");
    TLB_CHECK(named, "model name is not the directory's name");
}

TLB_TEST(f32_stories260K_tied) {
    char p[512];
    if (!tlb_test_data(p, sizeof p, "stories260K/stories260K.bin"))
        TLB_SKIP("%s/stories260K/stories260K.bin not found", tlb_test_data_dir());
    struct fixture fx;
    int ok = fixture_open(&fx, p, &(struct write_opts){"F32", 0, 0}) == 0;
    int tied = ok && fx.ck.tied && !ck_find(&fx.ck, "lm_head.weight");
    double d = ok ? compare(fx.dir, 0, TLB_TYPE_F32, fx.ref, fx.ref_logits) : -1;
    fixture_close(&fx);
    TLB_CHECK(ok, "could not write the checkpoint");
    TLB_CHECK(tied, "stories260K should be written with tied embeddings and no lm_head");
    TLB_CHECK(d >= 0 && d <= 1e-5, "max |logit diff| %g > 1e-5", d);
}

/* F16/BF16 files equal the f32 model rounded the same way: synthetic:tiny converted at load
 * to that type (its norms are 1, exact in both) must give the same logits. */
static void half_roundtrip(const char *dtype, enum tlb_type type, double vs_f32_rel) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){dtype, 0, 0}) == 0;
    struct tlb_model *m = ok ? load(fx.dir, 0, TLB_TYPE_F32) : NULL;
    struct tlb_model *r = ok ? load("synthetic:tiny", 1, type) : NULL;
    float *lg = m ? logits_of(m, toks, NTOK) : NULL, *rl = r ? logits_of(r, toks, NTOK) : NULL;
    size_t n = (size_t)NTOK * 512;
    double same = lg && rl ? max_diff(lg, rl, n) : -1;
    double vs32 = lg ? max_diff(lg, fx.ref_logits, n) / max_abs(fx.ref_logits, n) : -1;
    int natural = m && m->wtype == type && m->types_used == TLB_TYPE_BIT(type);
    free(lg);
    free(rl);
    tlb_model_free(m);
    tlb_model_free(r);
    fixture_close(&fx);
    TLB_CHECK(lg && rl, "could not load or run");
    TLB_CHECK(natural, "weights not kept in the file's type %s", dtype);
    TLB_CHECK(same <= 1e-5, "%s file vs synthetic converted to %s: max |diff| %g", dtype,
              tlb_type_traits(type)->name, same);
    TLB_CHECK(vs32 <= vs_f32_rel, "%s vs f32 logits: max |diff| / max |logit| = %g > %g", dtype,
              vs32, vs_f32_rel);
    TLB_CHECK(vs32 > 0, "%s logits identical to f32: was the file really %s?", dtype, dtype);
}

TLB_TEST(f16_roundtrip) { half_roundtrip("F16", TLB_TYPE_F16, 5e-3); }
TLB_TEST(bf16_roundtrip) { half_roundtrip("BF16", TLB_TYPE_BF16, 4e-2); }

TLB_TEST(half_stories260K_bounded) {
    char p[512];
    if (!tlb_test_data(p, sizeof p, "stories260K/stories260K.bin"))
        TLB_SKIP("%s/stories260K/stories260K.bin not found", tlb_test_data_dir());
    const char *dt[] = {"F16", "BF16"};
    const double tol[] = {5e-3, 4e-2};
    for (int i = 0; i < 2; i++) {
        struct fixture fx;
        int ok = fixture_open(&fx, p, &(struct write_opts){dt[i], 0, 0}) == 0;
        double d = ok ? compare(fx.dir, 0, TLB_TYPE_F32, fx.ref, fx.ref_logits) : -1;
        double rel = d / max_abs(fx.ref_logits, (size_t)NTOK * 512);
        fixture_close(&fx);
        TLB_CHECK(d >= 0, "%s: could not write, load or run", dt[i]);
        TLB_CHECK(rel <= tol[i], "%s: max |diff| / max |logit| = %g > %g", dt[i], rel, tol[i]);
    }
}

TLB_TEST(sharded_and_every_spec_form) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 3, 0}) == 0;
    char p[256];
    double d[3] = {-1, -1, -1};
    if (ok) {
        d[0] = compare(fx.dir, 0, TLB_TYPE_F32, fx.ref, fx.ref_logits);
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", fx.dir);
        d[1] = compare(p, 0, TLB_TYPE_F32, fx.ref, fx.ref_logits);
        snprintf(p, sizeof p, "%s/config.json", fx.dir);
        d[2] = compare(p, 0, TLB_TYPE_F32, fx.ref, fx.ref_logits);
    }
    fixture_close(&fx);
    TLB_CHECK(ok, "could not write the checkpoint");
    TLB_CHECK(d[0] >= 0 && d[0] <= 1e-5, "directory: max |diff| %g", d[0]);
    TLB_CHECK(d[1] >= 0 && d[1] <= 1e-5, "index.json: max |diff| %g", d[1]);
    TLB_CHECK(d[2] >= 0 && d[2] <= 1e-5, "config.json: max |diff| %g", d[2]);
}

TLB_TEST(single_file_named_directly) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 0, 0}) == 0;
    char p[256];
    snprintf(p, sizeof p, "%s/model.safetensors", fx.dir);
    double d = ok ? compare(p, 0, TLB_TYPE_F32, fx.ref, fx.ref_logits) : -1;
    fixture_close(&fx);
    TLB_CHECK(d >= 0 && d <= 1e-5, "max |diff| %g", d);
}

/* Unaligned data cannot be used in place even when the mapping is asked for: everything is
 * copied, results unchanged. */
TLB_TEST(unaligned_data_is_copied) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 0, 1}) == 0;
    struct tlb_model *m = ok ? load_opts(fx.dir, 0, TLB_TYPE_F32, 1) : NULL;
    float *lg = m ? logits_of(m, toks, NTOK) : NULL;
    double d = lg ? max_diff(lg, fx.ref_logits, (size_t)NTOK * 512) : -1;
    int copied = m && strcmp(m->mapping, "copy") == 0;
    free(lg);
    tlb_model_free(m);
    fixture_close(&fx);
    TLB_CHECK(d >= 0 && d <= 1e-5, "max |diff| %g", d);
    TLB_CHECK(copied, "misaligned tensors were not copied");
}

/* --quant: converting at load gives what converting the original gives (same rows, same
 * rounding), for each target type. */
TLB_TEST(quant_at_load_matches_original) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 2, 0}) == 0;
    const enum tlb_type types[] = {TLB_TYPE_F32, TLB_TYPE_F16, TLB_TYPE_BF16, TLB_TYPE_Q8_0,
                                   TLB_TYPE_Q4_0};
    double worst = ok ? 0 : -1;
    int bad = -1;
    for (size_t i = 0; ok && i < TLB_ARRAY_LEN(types); i++) {
        struct tlb_model *r = load("synthetic:tiny", 1, types[i]);
        struct tlb_model *m = load(fx.dir, 1, types[i]);
        float *rl = r ? logits_of(r, toks, NTOK) : NULL, *ml = m ? logits_of(m, toks, NTOK) : NULL;
        double d = rl && ml ? max_diff(rl, ml, (size_t)NTOK * 512) : 1e9;
        if (!m || m->types_used != TLB_TYPE_BIT(types[i]) || strcmp(m->mapping, "copy") != 0)
            d = 1e9;
        if (d > worst) worst = d, bad = (int)i;
        free(rl);
        free(ml);
        tlb_model_free(r);
        tlb_model_free(m);
    }
    fixture_close(&fx);
    TLB_CHECK(worst >= 0 && worst <= 1e-5, "--quant %s: max |diff| %g (or wrong types/mapping)",
              bad >= 0 ? tlb_type_traits(types[bad])->name : "?", worst);
}

/* A F16 file converted at load to f32 is the f16 model widened: same logits. */
TLB_TEST(f16_file_widened_to_f32) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F16", 0, 0}) == 0;
    struct tlb_model *m = ok ? load(fx.dir, 1, TLB_TYPE_F32) : NULL;
    struct tlb_model *r = ok ? load("synthetic:tiny", 1, TLB_TYPE_F16) : NULL;
    float *lg = m ? logits_of(m, toks, NTOK) : NULL, *rl = r ? logits_of(r, toks, NTOK) : NULL;
    double d = lg && rl ? max_diff(lg, rl, (size_t)NTOK * 512) : -1;
    int f32 = m && m->types_used == TLB_TYPE_BIT(TLB_TYPE_F32);
    free(lg);
    free(rl);
    tlb_model_free(m);
    tlb_model_free(r);
    fixture_close(&fx);
    TLB_CHECK(f32, "weights not converted to f32");
    TLB_CHECK(d >= 0 && d <= 1e-4, "max |diff| %g", d);
}

/* ---- the permutation is right, and it matters ---- */

/* HF's rotate-half RoPE (transformers apply_rotary_pos_emb): element j pairs with j + hd/2. */
static void rope_rotate_half(double *v, int n, int hd, int pos, double base) {
    for (int h = 0; h < n / hd; h++)
        for (int j = 0; j < hd / 2; j++) {
            double th = pos * pow(base, -2.0 * j / hd), c = cos(th), s = sin(th);
            double a = v[h * hd + j], b = v[h * hd + j + hd / 2];
            v[h * hd + j] = a * c - b * s;
            v[h * hd + j + hd / 2] = b * c + a * s;
        }
}

/* The engine's (llama2.c / GGUF) interleaved RoPE: element 2j pairs with 2j + 1. */
static void rope_interleaved(double *v, int n, int hd, int pos, double base) {
    for (int h = 0; h < n / hd; h++)
        for (int j = 0; j < hd / 2; j++) {
            double th = pos * pow(base, -2.0 * j / hd), c = cos(th), s = sin(th);
            double a = v[h * hd + 2 * j], b = v[h * hd + 2 * j + 1];
            v[h * hd + 2 * j] = a * c - b * s;
            v[h * hd + 2 * j + 1] = a * s + b * c;
        }
}

static void matvec(double *y, const float *w, const float *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < cols; c++) s += (double)w[(size_t)r * (size_t)cols + (size_t)c] * x[c];
        y[r] = s;
    }
}

/* Largest relative difference between the attention scores q(pq).k(pk) of every query head
 * computed HF's way on the file's weights and the engine's way on the loaded weights. */
static double score_gap(const struct hf_ckpt *ck, const struct tlb_model *m, int pq, int pk) {
    const struct tlb_config *c = &m->cfg;
    const int d = c->dim, kv = tlb_kv_dim(c), hd = tlb_head_dim(c);
    const int group = c->n_heads / c->n_kv_heads;
    float *x = malloc((size_t)d * sizeof(float)), *y = malloc((size_t)d * sizeof(float));
    double *qh = malloc((size_t)d * sizeof(double)), *kh = malloc((size_t)kv * sizeof(double));
    double *qe = malloc((size_t)d * sizeof(double)), *ke = malloc((size_t)kv * sizeof(double));
    double gap = -1;
    const struct hf_tensor *wq = ck_find(ck, "model.layers.0.self_attn.q_proj.weight");
    const struct hf_tensor *wk = ck_find(ck, "model.layers.0.self_attn.k_proj.weight");
    if (x && y && qh && kh && qe && ke && wq && wk && m->layers[0].wq.type == TLB_TYPE_F32 &&
        m->layers[0].wk.type == TLB_TYPE_F32) {
        for (int i = 0; i < d; i++) x[i] = sinf(0.37f * (float)i + 0.1f), y[i] = cosf(0.91f * (float)i);
        matvec(qh, wq->data, x, d, d);
        matvec(kh, wk->data, y, kv, d);
        matvec(qe, m->layers[0].wq.data, x, d, d);
        matvec(ke, m->layers[0].wk.data, y, kv, d);
        rope_rotate_half(qh, d, hd, pq, c->rope_theta);
        rope_rotate_half(kh, kv, hd, pk, c->rope_theta);
        rope_interleaved(qe, d, hd, pq, c->rope_theta);
        rope_interleaved(ke, kv, hd, pk, c->rope_theta);
        gap = 0;
        for (int h = 0; h < c->n_heads; h++) {
            double sh = 0, se = 0;
            for (int i = 0; i < hd; i++) {
                sh += qh[h * hd + i] * kh[(h / group) * hd + i];
                se += qe[h * hd + i] * ke[(h / group) * hd + i];
            }
            gap = fmax(gap, fabs(sh - se) / (1e-6 + fabs(sh)));
        }
    }
    free(x), free(y), free(qh), free(kh), free(qe), free(ke);
    return gap;
}

TLB_TEST(rope_scores_match_hf_rotate_half) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 0, 0}) == 0;
    struct tlb_model *m = ok ? load(fx.dir, 0, TLB_TYPE_F32) : NULL;
    tlb_safetensors_test_set_permute(0);
    struct tlb_model *bad = ok ? load(fx.dir, 0, TLB_TYPE_F32) : NULL;
    tlb_safetensors_test_set_permute(1);
    double good_gap = m ? score_gap(&fx.ck, m, 7, 3) : -1;
    double bad_gap = bad ? score_gap(&fx.ck, bad, 7, 3) : -1;
    tlb_model_free(m);
    tlb_model_free(bad);
    fixture_close(&fx);
    TLB_CHECK(good_gap >= 0 && bad_gap >= 0, "could not write or load the checkpoint");
    TLB_CHECK(good_gap <= 1e-6, "loaded q/k with interleaved RoPE differ from HF rotate-half "
              "by %g (relative)", good_gap);
    TLB_CHECK(bad_gap > 1e-2, "without the permutation scores still match (%g): the test "
              "cannot tell", bad_gap);
}

/* Negative control on whole logits: without the permutation position 0 is unchanged (RoPE is
 * the identity there) but every later position differs. */
TLB_TEST(without_permutation_logits_differ) {
    struct fixture fx;
    int ok = fixture_open(&fx, "synthetic:tiny", &(struct write_opts){"F32", 0, 0}) == 0;
    tlb_safetensors_test_set_permute(0);
    struct tlb_model *m = ok ? load(fx.dir, 0, TLB_TYPE_F32) : NULL;
    tlb_safetensors_test_set_permute(1);
    float *lg = m ? logits_of(m, toks, NTOK) : NULL;
    double d0 = lg ? max_diff(lg, fx.ref_logits, 512) : -1;
    double rest = 1e9;
    for (int p = 1; lg && p < NTOK; p++)
        rest = fmin(rest, max_diff(lg + p * 512, fx.ref_logits + p * 512, 512));
    free(lg);
    tlb_model_free(m);
    fixture_close(&fx);
    TLB_CHECK(lg, "could not load or run");
    TLB_CHECK(d0 <= 1e-5, "position 0 should not depend on the RoPE pairing (diff %g)", d0);
    TLB_CHECK(rest > 1e-3, "some later position is unchanged without the permutation (%g)",
              rest);
}

/* ---- generate on a directory checkpoint ---- */

/* Run `tlbench generate ARGS` in-process; its stdout goes to out. Returns the exit code. */
static int run_generate(char **argv, int argc, char *out, size_t n) {
    char tmp[] = "/tmp/tlb-st-out-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) return -100;
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    int rc = tlb_cmd_generate(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ssize_t got = pread(fd, out, n - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(tmp);
    return rc;
}

TLB_TEST(generate_stories260K_matches_llama2c) {
    char bin[512], tok[512], exp[512];
    if (!tlb_test_data(bin, sizeof bin, "stories260K/stories260K.bin") ||
        !tlb_test_data(tok, sizeof tok, "stories260K/tok512.bin") ||
        !tlb_test_data(exp, sizeof exp, "expected/stories260K_greedy_empty.txt"))
        TLB_SKIP("stories260K/{stories260K.bin,tok512.bin} or expected/stories260K_greedy_empty"
                 ".txt not found in %s", tlb_test_data_dir());
    struct fixture fx;
    int ok = fixture_open(&fx, bin, &(struct write_opts){"F32", 2, 0}) == 0;
    char link[256], real_tok[4096], *got = calloc(1, 1 << 16);
    snprintf(link, sizeof link, "%s/tokenizer.model", fx.dir);
    /* tok512.bin under the name tokenizer.model: the tokenizer sniffs its format */
    ok = ok && got && realpath(tok, real_tok) && symlink(real_tok, link) == 0;
    size_t elen = 0;
    char *expect = ok ? tlb_read_file(exp, 1 << 20, &elen) : NULL;
    char *argv[] = {"generate", "--model", fx.dir, "--tokenizer", link, "--temp", "0",
                    "--steps", "200", NULL};
    int rc = expect ? run_generate(argv, 9, got, 1 << 16) : -1;
    int same = expect && strcmp(got, expect) == 0;
    /* without --tokenizer: the tokenizer.model in the checkpoint's directory is used */
    char *argv2[] = {"generate", "--model", fx.dir, "--temp", "0", "--steps", "200", NULL};
    int rc2 = rc == 0 ? run_generate(argv2, 7, got, 1 << 16) : -1;
    int same2 = expect && strcmp(got, expect) == 0;
    char found[512];
    int tp = tlb_safetensors_tokenizer_path(fx.dir, found, sizeof found) == 0 &&
             strcmp(found, link) == 0;
    free(expect);
    free(got);
    fixture_close(&fx);
    TLB_CHECK(ok, "could not write the checkpoint");
    TLB_CHECK(rc == 0, "generate exited %d", rc);
    TLB_CHECK(same, "greedy text differs from llama2.c run's");
    TLB_CHECK(tp, "tokenizer.model next to the checkpoint not found");
    TLB_CHECK(rc2 == 0 && same2, "without --tokenizer (exit %d): the directory's tokenizer.model "
              "was not used", rc2);
}

/* ---- hostile input ---- */

/* Capture what tlb_error prints while loading spec. */
static int load_fails(const char *spec, char *err, size_t n) {
    char tmp[] = "/tmp/tlb-st-err-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) return 0;
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    struct tlb_model *m = load(spec, 0, TLB_TYPE_F32);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t got = pread(fd, err, n - 1, 0);
    err[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(tmp);
    tlb_model_free(m);
    return m == NULL;
}

/* The micro model: dim 8, hidden 16, 1 layer, 2 heads, 1 kv head, vocab 16, context 16. */
static const struct tlb_config micro_cfg = {8, 16, 1, 2, 1, 16, 16, 1e-5f, 10000.0f};

static void micro_ckpt(struct hf_ckpt *ck) {
    const struct tlb_config *c = &micro_cfg;
    const int d = c->dim, h = c->hidden_dim, kv = tlb_kv_dim(c), V = c->vocab_size;
    ck->cfg = *c;
    ck->tied = 0;
    ck->n = 0;
    const struct {
        const char *name;
        int rows, cols;
    } spec[] = {
        {"model.embed_tokens.weight", V, d},
        {"model.layers.0.input_layernorm.weight", d, 0},
        {"model.layers.0.self_attn.q_proj.weight", d, d},
        {"model.layers.0.self_attn.k_proj.weight", kv, d},
        {"model.layers.0.self_attn.v_proj.weight", kv, d},
        {"model.layers.0.self_attn.o_proj.weight", d, d},
        {"model.layers.0.post_attention_layernorm.weight", d, 0},
        {"model.layers.0.mlp.gate_proj.weight", h, d},
        {"model.layers.0.mlp.up_proj.weight", h, d},
        {"model.layers.0.mlp.down_proj.weight", d, h},
        {"model.norm.weight", d, 0},
        {"lm_head.weight", V, d},
    };
    uint32_t s = 12345;
    for (size_t i = 0; i < TLB_ARRAY_LEN(spec); i++) {
        struct hf_tensor *t = ck_add(ck, spec[i].name, spec[i].rows, spec[i].cols);
        for (int64_t k = 0; k < numel(t); k++) {
            s = s * 1664525u + 1013904223u;
            /* norms near 1, matrices small: values exact in every dtype's rounding */
            t->data[k] = t->ndim == 1 ? 1.0f : (float)((int)(s >> 24) - 128) / 256.0f;
        }
    }
}

/* The micro model's header (F32) with its tensors at contiguous offsets; edits replace text. */
static char *micro_header(size_t *data_len) {
    struct hf_ckpt ck;
    micro_ckpt(&ck);
    struct sb h = {0};
    size_t off = 0;
    sb_add(&h, "{\"__metadata__\": {\"format\": \"pt\"}");
    for (int i = 0; i < ck.n; i++) {
        size_t b = (size_t)numel(&ck.t[i]) * 4;
        if (ck.t[i].ndim == 1)
            sb_add(&h, ", \"%s\": {\"dtype\": \"F32\", \"shape\": [%lld], \"data_offsets\": "
                   "[%zu, %zu]}", ck.t[i].name, (long long)ck.t[i].shape[0], off, off + b);
        else
            sb_add(&h, ", \"%s\": {\"dtype\": \"F32\", \"shape\": [%lld, %lld], \"data_offsets\""
                   ": [%zu, %zu]}", ck.t[i].name, (long long)ck.t[i].shape[0],
                   (long long)ck.t[i].shape[1], off, off + b);
        off += b;
    }
    sb_add(&h, "}");
    ck_free(&ck);
    *data_len = off;
    return h.s;
}

/* s with the first `from` replaced by `to` (malloc'd); NULL when from is absent. */
static char *replace(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    if (!at) return NULL;
    size_t a = (size_t)(at - s), f = strlen(from), t = strlen(to), n = strlen(s);
    char *r = malloc(n - f + t + 1);
    if (!r) abort();
    memcpy(r, s, a);
    memcpy(r + a, to, t);
    memcpy(r + a + t, at + f, n - a - f + 1);
    return r;
}

static char *micro_config(void) {
    struct sb b = {0};
    config_json(&b, &micro_cfg, 0);
    return b.s;
}

/* One hostile case: a directory holding config (NULL: the micro config), and model.safetensors
 * holding header (NULL: the micro header) + data_len zero bytes — or raw bytes when raw. */
struct bad_case {
    const char *name;
    const char *expect;  /* substring of the error */
    const char *file;    /* the file the error must name */
    const char *cfg_from, *cfg_to;   /* edit of the micro config */
    const char *hdr_from, *hdr_to;   /* edit of the micro header */
    const char *raw_header;          /* whole header instead */
    size_t extra_data;               /* bytes added to the data buffer */
};

static const struct bad_case bad_cases[] = {
    /* header */
    {"header_not_json", "not valid JSON", "model.safetensors", 0, 0, 0, 0, "{\"a\": nope}", 0},
    {"header_not_object", "not a JSON object", "model.safetensors", 0, 0, 0, 0, "[1, 2, 3]", 0},
    {"header_trailing_bytes", "bytes after its JSON", "model.safetensors", 0, 0, 0, 0,
     "{} xyz", 0},
    {"header_control_byte", "control byte", "model.safetensors", 0, 0, 0, 0, "{\"a\tb\": {}}", 0},
    {"header_nul_escape", "\\u0000", "model.safetensors", 0, 0, "\"model.norm.weight\"",
     "\"model.norm.weight\\u0000x\"", 0, 0},
    {"metadata_not_object", "__metadata__", "model.safetensors", 0, 0,
     "{\"format\": \"pt\"}", "[1]", 0, 0},
    /* tensors */
    {"offsets_past_buffer", "run past", "model.safetensors", 0, 0, "[2880, 2912]",
     "[2880, 99999]", 0, 0},
    {"offsets_reversed", "end before they begin", "model.safetensors", 0, 0, "[2880, 2912]",
     "[2912, 2880]", 0, 0},
    {"offsets_overlap", "overlap", "model.safetensors", 0, 0, "[2880, 2912]", "[2848, 2880]",
     0, 0},
    {"offsets_not_pair", "two non-negative integers", "model.safetensors", 0, 0,
     "[2880, 2912]", "[2880]", 0, 0},
    {"offsets_fraction", "two non-negative integers", "model.safetensors", 0, 0,
     "[2880, 2912]", "[2880.5, 2912]", 0, 0},
    {"size_vs_shape", "needs", "model.safetensors", 0, 0, "\"shape\": [8], \"data_offsets\": "
     "[2880, 2912]", "\"shape\": [7], \"data_offsets\": [2880, 2912]", 0, 0},
    {"shape_overflow", "overflows", "model.safetensors", 0, 0, "\"shape\": [8], \"data_offsets\""
     ": [2880, 2912]", "\"shape\": [4294967296, 4294967296, 4294967296], \"data_offsets\": "
     "[2880, 2912]", 0, 0},
    {"shape_negative", "not a non-negative integer", "model.safetensors", 0, 0,
     "\"shape\": [8]", "\"shape\": [-8]", 0, 0},
    {"shape_too_many_dims", "dimensions", "model.safetensors", 0, 0, "\"shape\": [8]",
     "\"shape\": [1,1,1,1,1,1,1,1,8]", 0, 0},
    {"dtype_i8", "dtype I8", "model.safetensors", 0, 0, "\"F32\"", "\"I8\"", 0, 0},
    {"dtype_f64", "dtype F64", "model.safetensors", 0, 0, "\"F32\"", "\"F64\"", 0, 0},
    {"dtype_not_string", "dtype is a number", "model.safetensors", 0, 0, "\"F32\"", "32", 0, 0},
    {"duplicate_tensor", "twice", "model.safetensors", 0, 0, "\"lm_head.weight\"",
     "\"model.norm.weight\"", 0, 0},
    {"duplicate_field", "twice", "model.safetensors", 0, 0, "\"dtype\": \"F32\",",
     "\"dtype\": \"F32\", \"dtype\": \"F16\",", 0, 0},
    {"missing_tensor", "missing tensor model.layers.0.mlp.up_proj.weight", "model.safetensors",
     0, 0, "\"model.layers.0.mlp.up_proj.weight\"",
     "\"model.layers.0.self_attn.rotary_emb.inv_freq\"",
     0, 0},
    {"unexpected_bias", "unexpected tensor model.layers.0.self_attn.q_proj.bias",
     "model.safetensors", 0, 0, "\"lm_head.weight\"",
     "\"model.layers.0.self_attn.q_proj.bias\"", 0, 0},
    {"shape_vs_config", "implies [16, 8]", "model.safetensors", 0, 0, "\"shape\": [16, 8]",
     "\"shape\": [8, 16]", 0, 0},
    {"vocab_vs_config", "implies [32, 8]", "model.safetensors", "\"vocab_size\": 16",
     "\"vocab_size\": 32", 0, 0, 0, 0},
    /* config.json */
    {"cfg_not_json", "not valid JSON", "config.json", "\"hidden_size\": 8", "\"hidden_size\" 8",
     0, 0, 0, 0},
    {"cfg_string_int", "hidden_size must be a positive integer, not a string", "config.json",
     "\"hidden_size\": 8", "\"hidden_size\": \"8\"", 0, 0, 0, 0},
    {"cfg_negative", "got -8", "config.json", "\"hidden_size\": 8", "\"hidden_size\": -8", 0, 0,
     0, 0},
    {"cfg_zero", "num_hidden_layers must be a positive integer, got 0", "config.json",
     "\"num_hidden_layers\": 1", "\"num_hidden_layers\": 0", 0, 0, 0, 0},
    {"cfg_huge", "too large", "config.json", "\"vocab_size\": 16", "\"vocab_size\": 1e30", 0, 0,
     0, 0},
    {"cfg_fraction", "got 8.5", "config.json", "\"hidden_size\": 8", "\"hidden_size\": 8.5", 0,
     0, 0, 0},
    {"cfg_layers_out_of_range", "n_layers = 100000 is out of range", "config.json",
     "\"num_hidden_layers\": 1", "\"num_hidden_layers\": 100000", 0, 0, 0, 0},
    {"cfg_heads_not_dividing", "not divisible by n_heads 3", "config.json",
     "\"num_attention_heads\": 2", "\"num_attention_heads\": 3", 0, 0, 0, 0},
    {"cfg_kv_heads_not_dividing", "not a multiple of n_kv_heads", "config.json",
     "\"num_key_value_heads\": 1", "\"num_key_value_heads\": 3", 0, 0, 0, 0},
    {"cfg_missing_key", "hidden_size is missing", "config.json", "\"hidden_size\"",
     "\"hidden_sizes\"", 0, 0, 0, 0},
    {"cfg_duplicate_key", "twice", "config.json", "\"hidden_size\": 8,",
     "\"hidden_size\": 8, \"hidden_size\": 16,", 0, 0, 0, 0},
    {"cfg_architecture", "MistralForCausalLM is not supported", "config.json",
     "LlamaForCausalLM", "MistralForCausalLM", 0, 0, 0, 0},
    {"cfg_rope_scaling", "rope_scaling (linear) is not supported", "config.json",
     "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}", 0, 0,
     0, 0},
    {"cfg_tie_string", "tie_word_embeddings must be true or false", "config.json",
     "\"tie_word_embeddings\": false", "\"tie_word_embeddings\": \"no\"", 0, 0, 0, 0},
    {"cfg_eps_infinite", "out of range", "config.json", "\"rms_norm_eps\": 9.99999975e-06",
     "\"rms_norm_eps\": 1e999", 0, 0, 0, 0},
    {"cfg_hidden_act", "hidden_act gelu is not supported", "config.json", "\"silu\"",
     "\"gelu\"", 0, 0, 0, 0},
    {"cfg_bias", "attention_bias is true", "config.json", "\"hidden_act\"",
     "\"attention_bias\": true, \"hidden_act\"", 0, 0, 0, 0},
    {"cfg_head_dim", "head_dim 8 differs", "config.json", "\"hidden_act\"",
     "\"head_dim\": 8, \"hidden_act\"", 0, 0, 0, 0},
};

/* Check one error: one line, "tlbench: ", names the file, says the problem. */
static int error_ok(const char *err, const char *file, const char *expect, char *why, size_t n) {
    const char *nl = strchr(err, '\n');
    if (strncmp(err, "tlbench: ", 9) != 0 || !nl || nl[1] != '\0')
        return snprintf(why, n, "not one 'tlbench: ' line: [%s]", err), 0;
    if (!strstr(err, file)) return snprintf(why, n, "does not name %s: [%s]", file, err), 0;
    if (!strstr(err, expect)) return snprintf(why, n, "no '%s' in [%s]", expect, err), 0;
    return 1;
}

static int write_case(const char *dir, const struct bad_case *bc) {
    char *cfg = micro_config(), *c2 = cfg, path[4096];
    if (bc->cfg_from && !(c2 = replace(cfg, bc->cfg_from, bc->cfg_to))) {
        free(cfg);
        return -1;
    }
    size_t dlen;
    char *hdr = micro_header(&dlen), *h2 = hdr;
    if (bc->raw_header) h2 = (char *)bc->raw_header;
    else if (bc->hdr_from && !(h2 = replace(hdr, bc->hdr_from, bc->hdr_to))) {
        free(hdr);
        free(cfg);
        return -1;
    }
    void *data = calloc(1, dlen + bc->extra_data);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = data ? write_text(dir, "config.json", c2) | write_st(path, h2, 8, data,
                                                                 dlen + bc->extra_data)
                  : -1;
    free(data);
    if (c2 != cfg) free(c2);
    if (h2 != hdr && h2 != bc->raw_header) free(h2);
    free(hdr);
    free(cfg);
    return rc;
}

TLB_TEST(micro_model_loads) {
    /* the base every hostile case edits must itself load, or the cases prove nothing */
    char dir[64];
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    struct bad_case none = {"none", "", "", 0, 0, 0, 0, 0, 0};
    int w = write_case(dir, &none);
    struct tlb_model *m = w == 0 ? load(dir, 0, TLB_TYPE_F32) : NULL;
    int ok = m && m->cfg.dim == 8 && m->cfg.n_kv_heads == 1 && !m->shared_classifier;
    tlb_model_free(m);
    rm_tree(dir);
    TLB_CHECK(w == 0 && ok, "the micro checkpoint does not load");
}

TLB_TEST(hostile_headers_configs_and_tensors) {
    char dir[64], err[2048], why[2300];
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *bc = &bad_cases[i];
        TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
        int w = write_case(dir, bc);
        int failed = w == 0 && load_fails(dir, err, sizeof err);
        int ok = failed && error_ok(err, bc->file, bc->expect, why, sizeof why);
        rm_tree(dir);
        TLB_CHECK(w == 0, "%s: the edit does not apply to the micro checkpoint", bc->name);
        TLB_CHECK(failed, "%s: loaded without an error", bc->name);
        TLB_CHECK(ok, "%s: %s", bc->name, why);
    }
}

/* Raw header-length cases. hlen is the length field; file_size the file's size (sparse). */
static int raw_case(const char *dir, uint64_t hlen, size_t body, off_t file_size, char *err,
                    size_t n) {
    char cfg_path[4096], st_path[4096];
    char *cfg = micro_config();
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
    snprintf(st_path, sizeof st_path, "%s/model.safetensors", dir);
    int rc = write_file(cfg_path, cfg, strlen(cfg));
    free(cfg);
    unsigned char buf[64] = {0};
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, "{}", 2);
    if (rc == 0) rc = write_file(st_path, buf, TLB_MIN(body, sizeof buf));
    if (rc == 0 && file_size && truncate(st_path, file_size) != 0) rc = -1;
    return rc == 0 && load_fails(dir, err, n);
}

TLB_TEST(hostile_header_lengths) {
    char dir[64], err[2048], why[2300];
    struct {
        const char *name, *expect;
        uint64_t hlen;
        size_t body;
        off_t size;
    } cases[] = {
        {"shorter_than_8", "too short", 2, 4, 0},
        {"past_end", "more than the 2 bytes", 3, 10, 0},
        {"huge", "over the 100000000-byte limit", UINT64_MAX, 10, 0},
        {"zero", "too small", 0, 10, 0},
        /* a 200 MB sparse file claiming a 150 MB header: refused before anything is read */
        {"over_cap_sparse", "over the 100000000-byte limit", 150000000, 10, 200000000},
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(cases); i++) {
        TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
        int64_t t0 = tlb_now_ns();
        int failed = raw_case(dir, cases[i].hlen, cases[i].body, cases[i].size, err, sizeof err);
        double secs = (double)(tlb_now_ns() - t0) / 1e9;
        int ok = failed && error_ok(err, "model.safetensors", cases[i].expect, why, sizeof why);
        rm_tree(dir);
        TLB_CHECK(failed, "%s: loaded without an error", cases[i].name);
        TLB_CHECK(ok, "%s: %s (%.2f s)", cases[i].name, why, secs);
    }
}

/* Nesting far past cJSON's limit (1000) fails in the pre-scan, before any recursion. */
TLB_TEST(hostile_deep_nesting) {
    const size_t depth = 1 << 20;
    char *deep = malloc(depth + 1), dir[64], err[2048], why[2300], p[4096];
    TLB_CHECK(deep != NULL, "out of memory");
    memset(deep, '[', depth);
    deep[depth] = '\0';
    int ok1 = 0, ok2 = 0, ok3 = 0;
    if (make_tmpdir(dir, sizeof dir) == 0) {
        struct bad_case bc = {"deep", "", "", 0, 0, 0, 0, deep, 0};
        ok1 = write_case(dir, &bc) == 0 && load_fails(dir, err, sizeof err) &&
              error_ok(err, "model.safetensors", "nested deeper than 8 levels", why, sizeof why);
        /* the same depth in config.json */
        snprintf(p, sizeof p, "%s/config.json", dir);
        memcpy(deep, "{\"a\": ", 6);
        ok2 = ok1 && write_file(p, deep, depth) == 0 && load_fails(dir, err, sizeof err) &&
              error_ok(err, "config.json", "nested deeper than 32 levels", why, sizeof why);
        /* depth 999, just under cJSON's own limit, is still refused by ours */
        memset(deep, '[', 999);
        memset(deep + 999, ']', 999);
        struct bad_case bc2 = {"deep999", "", "", 0, 0, 0, 0, deep, 0};
        deep[1998] = '\0';
        ok3 = ok2 && write_case(dir, &bc2) == 0 && load_fails(dir, err, sizeof err) &&
              error_ok(err, "model.safetensors", "nested deeper", why, sizeof why);
        rm_tree(dir);
    }
    free(deep);
    TLB_CHECK(ok1, "deep header: %s", why);
    TLB_CHECK(ok2, "deep config.json: %s", why);
    TLB_CHECK(ok3, "999-deep header: %s", why);
}

/* A directory holding the micro model as shards + an index (edited). */
static int write_sharded_micro(const char *dir, const char *from, const char *to) {
    struct hf_ckpt ck;
    micro_ckpt(&ck);
    int rc = ck_write(&ck, dir, &(struct write_opts){"F32", 2, 0});
    ck_free(&ck);
    if (rc || !from) return rc;
    char p[4096];
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    char *idx = tlb_read_file(p, 1 << 20, NULL), *edited = idx ? replace(idx, from, to) : NULL;
    rc = edited ? write_file(p, edited, strlen(edited)) : -1;
    free(idx);
    free(edited);
    return rc;
}

TLB_TEST(hostile_index) {
    struct {
        const char *name, *from, *to, *expect;
    } cases[] = {
        {"missing_shard", "\"model-00002-of-00002.safetensors\"",
         "\"model-00009-of-00009.safetensors\"", "missing or not a regular file"},
        {"parent_dir", "\"model-00002-of-00002.safetensors\"", "\"../model.safetensors\"",
         "refused"},
        {"absolute", "\"model-00002-of-00002.safetensors\"", "\"/etc/passwd\"", "refused"},
        {"subdir", "\"model-00002-of-00002.safetensors\"", "\"sub/x.safetensors\"", "refused"},
        {"dotdot", "\"model-00002-of-00002.safetensors\"", "\"..\"", "refused"},
        {"not_string", "\"model-00002-of-00002.safetensors\"", "2", "not a file name"},
        {"weight_map_number", "\"weight_map\": {", "\"weight_map\": 5, \"x\": {", "not an object"},
        {"wrong_shard", "\"model.norm.weight\": \"model-00001-of-00002.safetensors\"",
         "\"model.norm.weight\": \"model-00002-of-00002.safetensors\"", "where the index"},
        {"unlisted_tensor", "\"model.norm.weight\"", "\"model.norm.weight.x\"",
         "unexpected tensor model.norm.weight.x"},
        {"duplicate", "\"lm_head.weight\"", "\"model.norm.weight\"", "twice"},
    };
    char dir[64], err[2048], why[2300];
    /* the unedited sharded micro model loads */
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    struct tlb_model *m = write_sharded_micro(dir, NULL, NULL) == 0 ? load(dir, 0, 0) : NULL;
    rm_tree(dir);
    TLB_CHECK(m, "the sharded micro checkpoint does not load");
    tlb_model_free(m);
    for (size_t i = 0; i < TLB_ARRAY_LEN(cases); i++) {
        TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
        int w = write_sharded_micro(dir, cases[i].from, cases[i].to);
        int failed = w == 0 && load_fails(dir, err, sizeof err);
        int ok = failed && error_ok(err, "model.safetensors.index.json", cases[i].expect, why,
                                    sizeof why);
        /* "where the index" names the shard first, then the index */
        rm_tree(dir);
        TLB_CHECK(w == 0, "%s: the edit does not apply", cases[i].name);
        TLB_CHECK(failed, "%s: loaded without an error", cases[i].name);
        TLB_CHECK(ok, "%s: %s", cases[i].name, why);
    }
}

TLB_TEST(hostile_files) {
    char dir[64], err[2048], why[2300], p[4096];
    struct bad_case none = {"none", "", "", 0, 0, 0, 0, 0, 0};
    /* FIFOs in place of model.safetensors and config.json: no hang, a clear error */
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    int w = write_case(dir, &none);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    int ok1 = w == 0 && unlink(p) == 0 && mkfifo(p, 0600) == 0 &&
              load_fails(dir, err, sizeof err) &&
              error_ok(err, "model.safetensors", "not a regular file", why, sizeof why);
    snprintf(p, sizeof p, "%s/config.json", dir);
    int ok2 = ok1 && unlink(p) == 0 && mkfifo(p, 0600) == 0 &&
              load_fails(dir, err, sizeof err) &&
              error_ok(err, "config.json", "not a regular file", why, sizeof why);
    rm_tree(dir);
    TLB_CHECK(ok1, "FIFO model.safetensors: %s", why);
    TLB_CHECK(ok2, "FIFO config.json: %s", why);
    /* no config.json; no weights; a lone shard named directly */
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    w = write_case(dir, &none);
    snprintf(p, sizeof p, "%s/config.json", dir);
    int ok3 = w == 0 && unlink(p) == 0 && load_fails(dir, err, sizeof err) &&
              error_ok(err, "config.json", "cannot open", why, sizeof why);
    rm_tree(dir);
    TLB_CHECK(ok3, "no config.json: %s", why);
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    int ok4 = write_text(dir, "config.json", "{}") == 0 && load_fails(dir, err, sizeof err) &&
              error_ok(err, dir, "no model.safetensors or model.safetensors.index.json", why,
                       sizeof why);
    rm_tree(dir);
    TLB_CHECK(ok4, "no weights: %s", why);
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    int ok5 = write_sharded_micro(dir, NULL, NULL) == 0 && load_fails(p, err, sizeof err) &&
              error_ok(err, "model-00001-of-00002.safetensors", "load the directory instead",
                       why, sizeof why);
    rm_tree(dir);
    TLB_CHECK(ok5, "lone shard: %s", why);
}

/* ---- the in-memory entry points (what the fuzzer drives) ---- */

TLB_TEST(check_mem_and_config_mem) {
    size_t dlen;
    char *h = micro_header(&dlen);
    size_t hl = strlen(h), n = 8 + hl + dlen;
    unsigned char *img = calloc(1, n);
    TLB_CHECK(img != NULL, "out of memory");
    for (int i = 0; i < 8; i++) img[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(img + 8, h, hl);
    int count = tlb_safetensors_check_mem("mem", img, n);
    /* every truncation of a valid image fails cleanly (run under ASan) */
    int all_fail = 1;
    for (size_t k = 0; k < n && all_fail; k += (k < 8 + hl ? 1 : 97)) {
        fflush(stderr);
        int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        unsigned char *cut = malloc(k ? k : 1);
        if (cut) memcpy(cut, img, k);
        int r = cut ? tlb_safetensors_check_mem("mem", cut, k) : -1;
        free(cut);
        dup2(saved, 2);
        close(saved);
        close(devnull);
        if (r >= 0 && k < n) all_fail = 0;
    }
    free(h);
    char *cfg = micro_config();
    struct tlb_config c;
    int tied = -1;
    int crc = tlb_safetensors_config_mem("cfg", cfg, strlen(cfg), &c, &tied);
    /* the whole model from memory: the image's zero weights, the config's shapes */
    struct tlb_model *m = calloc(1, sizeof *m);
    struct tlb_load_opts o = {.spec = "mem", .n_threads = 1};
    int mrc = m ? tlb_safetensors_model_mem(m, cfg, strlen(cfg), img, n, &o) : -1;
    int shaped = mrc == 0 && m->cfg.dim == 8 && m->layers[0].wk.rows == 4 &&
                 m->output.data && !m->shared_classifier;
    tlb_model_free(m);
    free(cfg);
    free(img);
    TLB_CHECK(count == 12, "micro image: %d tensors, expected 12", count);
    TLB_CHECK(shaped, "tlb_safetensors_model_mem did not build the micro model");
    TLB_CHECK(all_fail, "a truncated image was accepted");
    TLB_CHECK(crc == 0 && memcmp(&c, &micro_cfg, sizeof c) == 0 && tied == 0,
              "micro config.json does not parse back to its config");
}

TLB_TEST(tinyllama_config_is_tinyllama_shapes) {
    char *text = tlb_read_file(FIXTURES "/tinyllama-1.1b-config.json", 1 << 20, NULL);
    if (!text) TLB_SKIP("%s/tinyllama-1.1b-config.json not found (run from the repo root)",
                        FIXTURES);
    struct tlb_config c, want;
    int tied = -1;
    int rc = tlb_safetensors_config_mem("tinyllama", text, strlen(text), &c, &tied);
    free(text);
    TLB_CHECK(tlb_synthetic_config("tinyllama-1.1b", &want) == 0, "no synthetic:tinyllama-1.1b");
    TLB_CHECK(rc == 0, "the TinyLlama config.json does not parse");
    TLB_CHECK(memcmp(&c, &want, sizeof c) == 0 && tied == 0,
              "TinyLlama config.json differs from synthetic:tinyllama-1.1b's shapes");
}

/* ---- committed fixtures: written by this file, checked byte for byte ---- */

struct fixture_file {
    const char *path;   /* under FIXTURES */
    char *data;
    size_t len;
};

static int fixture_dir(const char *root, const char *sub, char *out, size_t n) {
    snprintf(out, n, "%s/%s", root, sub);
    return mkdir(out, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Write the fixtures under root: a micro model (single and sharded) and hostile ones that
 * tests/t-safetensors.sh feeds to `tlbench generate`. */
static int write_fixtures(const char *root) {
    char d[4096];
    struct hf_ckpt ck;
    micro_ckpt(&ck);
    int rc = fixture_dir(root, "micro", d, sizeof d) ||
             ck_write(&ck, d, &(struct write_opts){"F32", 0, 0}) ||
             fixture_dir(root, "micro-sharded-bf16", d, sizeof d) ||
             ck_write(&ck, d, &(struct write_opts){"BF16", 2, 0});
    ck_free(&ck);
    const struct bad_case *bc = NULL;
    const char *bad[] = {"offsets_overlap", "cfg_string_int", "shape_overflow", "dtype_i8"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad) && !rc; i++) {
        for (size_t k = 0; k < TLB_ARRAY_LEN(bad_cases); k++)
            if (strcmp(bad_cases[k].name, bad[i]) == 0) bc = &bad_cases[k];
        char sub[64];
        snprintf(sub, sizeof sub, "bad-%s", bad[i]);
        for (char *p = sub; *p; p++) if (*p == '_') *p = '-';
        rc = fixture_dir(root, sub, d, sizeof d) || write_case(d, bc);
    }
    if (!rc) {
        rc = fixture_dir(root, "bad-traversal", d, sizeof d) ||
             write_sharded_micro(d, "\"model-00002-of-00002.safetensors\"",
                                 "\"../micro/model.safetensors\"");
        char p[4096];
        /* only the index matters: the shards themselves are not needed in the repository */
        for (int s = 1; !rc && s <= 2; s++) {
            snprintf(p, sizeof p, "%s/model-%05d-of-00002.safetensors", d, s);
            unlink(p);
        }
    }
    if (!rc) {
        rc = fixture_dir(root, "bad-header-length", d, sizeof d);
        char *cfg = micro_config(), p[4096];
        unsigned char hdr[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
        snprintf(p, sizeof p, "%s/model.safetensors", d);
        rc = rc || write_text(d, "config.json", cfg) || write_file(p, hdr, 10);
        free(cfg);
    }
    return rc;
}

static int same_tree(const char *a, const char *b, char *why, size_t n);

TLB_TEST(fixtures_up_to_date) {
    const char *out = getenv("TLB_ST_WRITE_FIXTURES");
    if (out && *out) {
        TLB_CHECK(write_fixtures(out) == 0, "could not write fixtures to %s", out);
        return;
    }
    struct stat st;
    if (stat(FIXTURES "/micro", &st) != 0)
        TLB_SKIP("%s/micro not found (run from the repo root)", FIXTURES);
    char dir[64], why[512] = "";
    TLB_CHECK(make_tmpdir(dir, sizeof dir) == 0, "mkdtemp failed");
    int w = write_fixtures(dir);
    int same = w == 0 && same_tree(dir, FIXTURES, why, sizeof why);
    rm_tree(dir);
    TLB_CHECK(w == 0, "could not write fixtures");
    TLB_CHECK(same, "%s differs from what this test writes (%s): regenerate with "
              "TLB_ST_WRITE_FIXTURES=%s", FIXTURES, why, FIXTURES);
}

/* Every file under generated root a has an identical copy under b. */
static const char *cmp_root_a, *cmp_root_b;
static char *cmp_why;
static size_t cmp_why_n;
static int cmp_one(const char *p, const struct stat *s, int flag, struct FTW *f) {
    (void)s, (void)f;
    if (flag != FTW_F) return 0;
    char other[4096];
    snprintf(other, sizeof other, "%s%s", cmp_root_b, p + strlen(cmp_root_a));
    size_t la, lb;
    char *x = tlb_read_file(p, 1 << 20, &la), *y = tlb_read_file(other, 1 << 20, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    if (!same) snprintf(cmp_why, cmp_why_n, "%s", other);
    return same ? 0 : 1;
}

static int same_tree(const char *a, const char *b, char *why, size_t n) {
    cmp_root_a = a, cmp_root_b = b, cmp_why = why, cmp_why_n = n;
    return nftw(a, cmp_one, 16, FTW_PHYS) == 0;
}

#else /* built without cJSON: loading must fail with the one clear message */

TLB_TEST(without_cjson_clear_error) {
    struct tlb_load_opts o = {.spec = FIXTURES "/micro", .n_threads = 1};
    struct tlb_model *m = NULL;
    fflush(stderr);
    char tmp[] = "/tmp/tlb-st-err-XXXXXX", err[512] = "";
    int fd = mkstemp(tmp), saved = dup(2);
    dup2(fd, 2);
    int rc = tlb_model_load(&m, &o);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t got = pread(fd, err, sizeof err - 1, 0);
    err[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(tmp);
    tlb_model_free(m);
    TLB_CHECK(rc != 0, "loaded a safetensors checkpoint without cJSON");
    TLB_CHECK(strstr(err, "safetensors support needs libcjson-dev (not built in)"),
              "unclear error: [%s]", err);
    TLB_SKIP("built without cJSON (libcjson-dev): safetensors loading tests not run");
}

#endif

TLB_TEST_MAIN()
