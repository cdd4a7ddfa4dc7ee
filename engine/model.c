/* model.c — model lifetime (load dispatch, owned memory, free) and the checks and helpers every
 * loader shares: hyperparameter validation, weight type fallback, f32 -> type conversion. */
#include "model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "loaders.h"
#include "util.h"

int tlb_config_check(const struct tlb_config *c, const char *source) {
    /* Bounds are generous (models far larger than TinyLlama pass) but keep every product of
     * dimensions well inside 64 bits and every single dimension inside int. */
    struct {
        const char *name;
        long v, min, max;
    } dims[] = {
        {"dim", c->dim, 2, 1 << 16},
        {"hidden_dim", c->hidden_dim, 1, 1 << 18},
        {"n_layers", c->n_layers, 1, 1024},
        {"n_heads", c->n_heads, 1, 4096},
        {"n_kv_heads", c->n_kv_heads, 1, 4096},
        {"vocab_size", c->vocab_size, 1, 1 << 22},
        {"seq_len", c->seq_len, 1, 1 << 20},
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(dims); i++) {
        if (dims[i].v < dims[i].min || dims[i].v > dims[i].max) {
            tlb_error("%s: %s = %ld is out of range [%ld, %ld]", source, dims[i].name, dims[i].v,
                      dims[i].min, dims[i].max);
            return -1;
        }
    }
    if (c->dim % c->n_heads != 0) {
        tlb_error("%s: dim %d is not divisible by n_heads %d", source, c->dim, c->n_heads);
        return -1;
    }
    if ((c->dim / c->n_heads) % 2 != 0) {
        tlb_error("%s: head size %d is odd; RoPE needs pairs", source, c->dim / c->n_heads);
        return -1;
    }
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0) {
        tlb_error("%s: n_heads %d is not a multiple of n_kv_heads %d", source, c->n_heads,
                  c->n_kv_heads);
        return -1;
    }
    if (!(c->rms_eps > 0.0f && c->rms_eps < 1.0f)) {
        tlb_error("%s: RMSNorm epsilon %g is out of range (0, 1)", source, (double)c->rms_eps);
        return -1;
    }
    if (!(c->rope_theta >= 1.0f && c->rope_theta <= 1e9f)) {
        tlb_error("%s: RoPE base %g is out of range [1, 1e9]", source, (double)c->rope_theta);
        return -1;
    }
    return 0;
}

int tlb_model_add_region(struct tlb_model *m, void *ptr, size_t len, int is_mmap) {
    if (m->n_regions == m->cap_regions) {
        int cap = m->cap_regions ? m->cap_regions * 2 : 16;
        struct tlb_region *r = realloc(m->regions, (size_t)cap * sizeof *r);
        if (!r) {
            tlb_error("out of memory tracking model buffers");
            return -1;
        }
        m->regions = r;
        m->cap_regions = cap;
    }
    m->regions[m->n_regions++] = (struct tlb_region){ptr, len, is_mmap};
    return 0;
}

void *tlb_model_alloc(struct tlb_model *m, size_t len, const char *what) {
    void *p = tlb_alloc_aligned(len, what);
    if (!p) return NULL;
    if (tlb_model_add_region(m, p, len, 0) != 0) {
        tlb_free_aligned(p);
        return NULL;
    }
    return p;
}

enum tlb_type tlb_model_type_for(enum tlb_type want, int64_t cols) {
    if (tlb_type_fits(want, cols)) return want;
    if (tlb_type_fits(TLB_TYPE_F16, cols)) return TLB_TYPE_F16;
    return TLB_TYPE_F32;
}

int tlb_model_tensor_from_f32(struct tlb_model *m, struct tlb_tensor *t, const char *name,
                              enum tlb_type type, int64_t rows, int64_t cols,
                              const float *src) {
    size_t row_bytes = tlb_type_row_bytes(type, cols), total;
    if (!row_bytes || tlb_mul_size(row_bytes, (size_t)rows, &total)) {
        tlb_error("%s: tensor %s of %lld x %lld does not fit type %s", m->path, name,
                  (long long)rows, (long long)cols, tlb_type_traits(type)->name);
        return -1;
    }
    void *data = tlb_model_alloc(m, total, name);
    if (!data) return -1;
    const struct tlb_type_traits *tr = tlb_type_traits(type);
    for (int64_t r = 0; r < rows; r++)
        tr->from_f32(src + (size_t)r * (size_t)cols, (char *)data + (size_t)r * row_bytes, cols);
    *t = (struct tlb_tensor){.type = type, .rows = rows, .cols = cols, .data = data, .name = name};
    return 0;
}

static void add_type(uint32_t *mask, const struct tlb_tensor *t) {
    if (t->data) *mask |= TLB_TYPE_BIT(t->type);
}

void tlb_model_update_types(struct tlb_model *m) {
    uint32_t mask = 0;
    add_type(&mask, &m->output);
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
        add_type(&mask, &L->wq);
        add_type(&mask, &L->wk);
        add_type(&mask, &L->wv);
        add_type(&mask, &L->wo);
        add_type(&mask, &L->w1);
        add_type(&mask, &L->w2);
        add_type(&mask, &L->w3);
    }
    m->types_used = mask;
}

static size_t tensor_bytes(const struct tlb_tensor *t) {
    return t->data ? tlb_type_row_bytes(t->type, t->cols) * (size_t)t->rows : 0;
}

size_t tlb_model_weight_bytes(const struct tlb_model *m) {
    const struct tlb_config *c = &m->cfg;
    size_t b = tensor_bytes(&m->tok_embd) + (size_t)c->dim * 4;
    if (!m->shared_classifier) b += tensor_bytes(&m->output);
    for (int l = 0; l < c->n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
        b += tensor_bytes(&L->wq) + tensor_bytes(&L->wk) + tensor_bytes(&L->wv) +
             tensor_bytes(&L->wo) + tensor_bytes(&L->w1) + tensor_bytes(&L->w2) +
             tensor_bytes(&L->w3) + 2 * (size_t)c->dim * 4;
    }
    return b;
}

uint64_t tlb_model_n_params(const struct tlb_model *m) {
    const struct tlb_config *c = &m->cfg;
    uint64_t d = (uint64_t)c->dim, h = (uint64_t)c->hidden_dim, kv = (uint64_t)tlb_kv_dim(c);
    uint64_t per_layer = 2 * d * d + 2 * kv * d + 3 * d * h + 2 * d;
    uint64_t p = (uint64_t)c->vocab_size * d + d + (uint64_t)c->n_layers * per_layer;
    if (!m->shared_classifier) p += (uint64_t)c->vocab_size * d;
    return p;
}

/* The matrices a kernel multiplies: the classifier (tok_embd when shared), then each layer's
 * seven, into a list of 1 + 7 x n_layers (NULL when out of memory). */
static const struct tlb_tensor **matrix_list(const struct tlb_model *m, int *n) {
    const struct tlb_tensor **list =
        tlb_malloc((size_t)(1 + 7 * m->cfg.n_layers) * sizeof *list, "matrix list");
    *n = 0;
    if (!list) return NULL;
    list[(*n)++] = &m->output;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
        const struct tlb_tensor *w[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w1, &L->w2, &L->w3};
        for (size_t i = 0; i < TLB_ARRAY_LEN(w); i++) list[(*n)++] = w[i];
    }
    return list;
}

/* Is [p, p + len) inside memory the model allocated (not a file mapping)? */
static int owned(const struct tlb_model *m, const void *p, size_t len) {
    for (int i = 0; i < m->n_regions; i++) {
        const char *a = m->regions[i].ptr, *q = p;
        if (!m->regions[i].is_mmap && q >= a && len <= m->regions[i].len &&
            (size_t)(q - a) <= m->regions[i].len - len)
            return 1;
    }
    return 0;
}

int tlb_model_set_layouts(struct tlb_model *m, const struct tlb_kernel *k) {
    int n, changed = 0;
    const struct tlb_tensor **list = matrix_list(m, &n);
    if (!list) return -1;
    for (int i = 0; i < n; i++) {
        struct tlb_tensor *t = (struct tlb_tensor *)(uintptr_t)list[i]; /* m's own, not const */
        if (!t->data) continue;
        const enum tlb_layout want =
            k ? tlb_kernel_layout(k, t->type, t->rows, t->cols) : TLB_LAYOUT_ROWS;
        if (want == t->layout) continue;
        /* a file mapping stays as the file has it: ROWS */
        if (t->layout == TLB_LAYOUT_ROWS && !owned(m, t->data, tensor_bytes(t))) continue;
        if (tlb_layout_convert((void *)(uintptr_t)t->data, t->type, t->rows, t->cols, t->layout,
                               want) != 0) {
            tlb_error("%s: matrix %s kept its %s layout", m->name, t->name ? t->name : "?",
                      tlb_layout_name(t->layout));
            free(list);
            return -1;
        }
        t->layout = want;
        changed++;
    }
    if (m->tok_embd.data == m->output.data) m->tok_embd.layout = m->output.layout; /* shared */
    free(list);
    return changed;
}

int tlb_model_readable_by(const struct tlb_model *m, const struct tlb_kernel *k) {
    int n, ok = 1;
    const struct tlb_tensor **list = matrix_list(m, &n);
    if (!list) return 0;
    for (int i = 0; i < n && ok; i++) ok = !list[i]->data || tlb_kernel_reads(k, list[i]);
    free(list);
    return ok;
}

const char *tlb_model_layouts(const struct tlb_model *m, char *buf, size_t len) {
    int n, per[TLB_LAYOUT_COUNT] = {0}, total = 0;
    const struct tlb_tensor **list = matrix_list(m, &n);
    for (int i = 0; list && i < n; i++)
        if (list[i]->data && list[i]->layout < TLB_LAYOUT_COUNT) per[list[i]->layout]++, total++;
    free(list);
    if (len) buf[0] = '\0';
    size_t at = 0;
    for (int l = 0; l < TLB_LAYOUT_COUNT; l++) { /* "rows", "r16", or "panels 22 of 155 matrices" */
        if (per[l] == 0 || (l == TLB_LAYOUT_ROWS && per[l] < total)) continue;
        const char *name = tlb_layout_name((enum tlb_layout)l);
        int w = per[l] == total ? snprintf(buf + at, len - at, "%s", name)
                                : snprintf(buf + at, len - at, "%s%s %d of %d matrices",
                                           at ? ", " : "", name, per[l], total);
        if (w < 0 || (size_t)w >= len - at) break;
        at += (size_t)w;
    }
    if (total == 0) snprintf(buf, len, "rows");
    return buf;
}

void tlb_model_free(struct tlb_model *m) {
    if (!m) return;
    for (int i = m->n_regions - 1; i >= 0; i--) {
        if (m->regions[i].is_mmap) munmap(m->regions[i].ptr, m->regions[i].len);
        else tlb_free_aligned(m->regions[i].ptr);
    }
    free(m->regions);
    free(m->layers);
    free(m);
}

int tlb_model_load(struct tlb_model **out, const struct tlb_load_opts *opts) {
    *out = NULL;
    struct tlb_model *m = tlb_calloc(1, sizeof *m, "model");
    if (!m) return -1;
    m->wtype = opts->convert ? opts->wtype : TLB_TYPE_F32;
    const char *spec = opts->spec ? opts->spec : "";
    snprintf(m->path, sizeof m->path, "%s", spec);
    struct tlb_load_opts o = *opts;
    const char *mm = getenv("TLBENCH_MMAP");
    if (mm && !strcmp(mm, "1")) o.map_weights = 1;
    int rc = tlb_load_dispatch(m, spec, &o);
    if (rc != 0) {
        tlb_model_free(m);
        return -1;
    }
    tlb_model_update_types(m);
    *out = m;
    return 0;
}
