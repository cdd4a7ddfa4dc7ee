/* gguf.c — the GGUF parser: reads the header, metadata and tensor infos out of a byte buffer
 * with a bounds-checked cursor. Every count is checked against the bytes left before anything
 * is allocated for it, every offset and size is computed with overflow checks, and nothing
 * outside [buf, buf + size) is ever read. The model and tokenizer readers are gguf-model.c. */
#include "gguf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* ---- ggml tensor types: id, name, elements per block, bytes per block ---- */

static const struct {
    const char *name;
    uint32_t block, size;
} ggml_types[] = {
    [0] = {"f32", 1, 4},          [1] = {"f16", 1, 2},          [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},       [6] = {"q5_0", 32, 22},       [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},       [9] = {"q8_1", 32, 36},       [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},    [12] = {"q4_K", 256, 144},    [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},    [15] = {"q8_K", 256, 292},    [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74},   [18] = {"iq3_xxs", 256, 98},  [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},    [21] = {"iq3_s", 256, 110},   [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136},  [24] = {"i8", 1, 1},          [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},         [27] = {"i64", 1, 8},         [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},    [30] = {"bf16", 1, 2},        [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},    [39] = {"mxfp4", 32, 17},     [40] = {"nvfp4", 64, 36},
    [41] = {"q1_0", 128, 18},     [42] = {"q2_0", 64, 18},
};

const char *tlb_ggml_type_name(uint32_t t) {
    return t < TLB_ARRAY_LEN(ggml_types) ? ggml_types[t].name : NULL;
}

int tlb_ggml_type_layout(uint32_t t, uint32_t *block_size, uint32_t *type_size) {
    if (t >= TLB_ARRAY_LEN(ggml_types) || !ggml_types[t].name) return -1;
    *block_size = ggml_types[t].block;
    *type_size = ggml_types[t].size;
    return 0;
}

static const char *const vtype_names[TLB_GGUF_VTYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};

const char *tlb_gguf_vtype_name(uint32_t v) {
    return v < TLB_GGUF_VTYPE_COUNT ? vtype_names[v] : "invalid";
}

size_t tlb_gguf_vtype_size(uint32_t v) {
    switch (v) {
    case TLB_GGUF_U8: case TLB_GGUF_I8: case TLB_GGUF_BOOL: return 1;
    case TLB_GGUF_U16: case TLB_GGUF_I16: return 2;
    case TLB_GGUF_U32: case TLB_GGUF_I32: case TLB_GGUF_F32: return 4;
    case TLB_GGUF_U64: case TLB_GGUF_I64: case TLB_GGUF_F64: return 8;
    default: return 0;
    }
}

/* Smallest number of bytes a value of this type can take: bounds counts before allocating. */
static uint64_t vtype_min_bytes(uint32_t v) {
    if (v == TLB_GGUF_STRING) return 8;       /* u64 length */
    if (v == TLB_GGUF_ARRAY) return 12;       /* u32 type + u64 count */
    return tlb_gguf_vtype_size(v);
}

/* ---- bounds-checked little-endian cursor ---- */

struct cur {
    const unsigned char *b;
    size_t size, pos;
    const char *src;
};

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int need(struct cur *c, uint64_t n, const char *what) {
    if (n > c->size - c->pos) {
        tlb_error("%s: truncated: %s needs %llu bytes at offset %zu but the file has %zu",
                  c->src, what, (unsigned long long)n, c->pos, c->size);
        return -1;
    }
    return 0;
}

static int rd_u32(struct cur *c, uint32_t *v, const char *what) {
    if (need(c, 4, what)) return -1;
    *v = (uint32_t)le(c->b + c->pos, 4);
    c->pos += 4;
    return 0;
}

static int rd_u64(struct cur *c, uint64_t *v, const char *what) {
    if (need(c, 8, what)) return -1;
    *v = le(c->b + c->pos, 8);
    c->pos += 8;
    return 0;
}

static int rd_str(struct cur *c, struct tlb_gguf_str *s, const char *what) {
    uint64_t n;
    if (rd_u64(c, &n, what)) return -1;
    if (n > c->size - c->pos) {
        tlb_error("%s: %s at offset %zu claims %llu bytes but only %zu remain", c->src, what,
                  c->pos - 8, (unsigned long long)n, c->size - c->pos);
        return -1;
    }
    s->p = (const char *)c->b + c->pos;
    s->n = n;
    c->pos += (size_t)n;
    return 0;
}

int tlb_gguf_str_eq(struct tlb_gguf_str s, const char *z) {
    size_t n = strlen(z);
    return s.n == n && memcmp(s.p, z, n) == 0;
}

/* Print a buffer string safely (control bytes escaped, cut at max bytes). */
static void str_print(FILE *out, const char *p, uint64_t n, uint64_t max) {
    for (uint64_t i = 0; i < n && i < max; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\\' || ch == '"') fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f) fprintf(out, "\\x%02x", ch);
        else fputc(ch, out);
    }
    if (n > max) fprintf(out, "...(%llu bytes)", (unsigned long long)n);
}

/* Skip over (and validate) one value of type t; depth counts enclosing arrays. */
static int skip_value(struct cur *c, uint32_t t, int depth, const char *key);

static int skip_array(struct cur *c, int depth, const char *key, uint32_t *et, uint64_t *count,
                      const unsigned char **first) {
    if (depth >= TLB_GGUF_MAX_ARRAY_DEPTH) {
        tlb_error("%s: key '%.64s': arrays nested more than %d deep", c->src, key,
                  TLB_GGUF_MAX_ARRAY_DEPTH);
        return -1;
    }
    uint32_t t;
    uint64_t n;
    if (rd_u32(c, &t, "array element type") || rd_u64(c, &n, "array length")) return -1;
    if (t >= TLB_GGUF_VTYPE_COUNT) {
        tlb_error("%s: key '%.64s': array element type %u is not a GGUF type", c->src, key, t);
        return -1;
    }
    uint64_t min = vtype_min_bytes(t);
    if (n > (c->size - c->pos) / min) {
        tlb_error("%s: key '%.64s': array of %llu %s elements cannot fit in the %zu bytes left",
                  c->src, key, (unsigned long long)n, tlb_gguf_vtype_name(t), c->size - c->pos);
        return -1;
    }
    if (et) *et = t;
    if (count) *count = n;
    if (first) *first = c->b + c->pos;
    if (t != TLB_GGUF_STRING && t != TLB_GGUF_ARRAY) {
        c->pos += (size_t)(n * min); /* checked above */
        return 0;
    }
    for (uint64_t i = 0; i < n; i++)
        if (skip_value(c, t, depth + 1, key)) return -1;
    return 0;
}

static int skip_value(struct cur *c, uint32_t t, int depth, const char *key) {
    if (t == TLB_GGUF_STRING) {
        struct tlb_gguf_str s;
        return rd_str(c, &s, "string value");
    }
    if (t == TLB_GGUF_ARRAY) return skip_array(c, depth, key, NULL, NULL, NULL);
    size_t n = tlb_gguf_vtype_size(t);
    if (!n) {
        tlb_error("%s: key '%.64s': value type %u is not a GGUF type", c->src, key, t);
        return -1;
    }
    if (need(c, n, "value")) return -1;
    c->pos += n;
    return 0;
}

/* ---- lookups over sorted index arrays ---- */

static int str_cmp(struct tlb_gguf_str a, struct tlb_gguf_str b) {
    size_t n = (size_t)(a.n < b.n ? a.n : b.n);
    int r = memcmp(a.p, b.p, n);
    if (r) return r;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* Merge sort of indices by name (qsort has no context argument, and globals would make
 * parsing non-reentrant). */
static void sort_idx(uint32_t *idx, uint32_t *tmp, size_t n, const void *base, size_t stride,
                     size_t name_off) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_idx(idx, tmp, h, base, stride, name_off);
    sort_idx(idx + h, tmp, n - h, base, stride, name_off);
    size_t i = 0, j = h, k = 0;
#define NAME(x) (*(const struct tlb_gguf_str *)((const char *)base + (size_t)(x) * stride + name_off))
    while (i < h && j < n) tmp[k++] = str_cmp(NAME(idx[j]), NAME(idx[i])) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
#undef NAME
    memcpy(idx, tmp, n * sizeof *idx);
}

static long find_sorted(const uint32_t *idx, size_t n, const void *base, size_t stride,
                        size_t name_off, const char *name) {
    struct tlb_gguf_str key = {name, strlen(name)};
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct tlb_gguf_str *s =
            (const struct tlb_gguf_str *)((const char *)base + (size_t)idx[mid] * stride + name_off);
        int r = str_cmp(*s, key);
        if (r == 0) return (long)idx[mid];
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

const struct tlb_gguf_kv *tlb_gguf_find_kv(const struct tlb_gguf *g, const char *key) {
    long i = find_sorted(g->kv_sorted, (size_t)g->n_kv, g->kv, sizeof *g->kv,
                         offsetof(struct tlb_gguf_kv, key), key);
    return i < 0 ? NULL : &g->kv[i];
}

const struct tlb_gguf_tensor *tlb_gguf_find_tensor(const struct tlb_gguf *g, const char *name) {
    long i = find_sorted(g->tensor_sorted, (size_t)g->n_tensors, g->tensors, sizeof *g->tensors,
                         offsetof(struct tlb_gguf_tensor, name), name);
    return i < 0 ? NULL : &g->tensors[i];
}

/* ---- parsing ---- */

static int check_name(const struct cur *c, struct tlb_gguf_str s, const char *what, uint64_t i,
                      uint64_t max) {
    if (s.n == 0 || s.n >= max || memchr(s.p, '\0', (size_t)s.n)) {
        tlb_error("%s: %s %llu is %s (names must be 1..%llu bytes without NUL)", c->src, what,
                  (unsigned long long)i, s.n == 0 ? "empty" : s.n >= max ? "too long" : "has a NUL",
                  (unsigned long long)max - 1);
        return -1;
    }
    return 0;
}

static int parse_kvs(struct tlb_gguf *g, struct cur *c) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        struct tlb_gguf_kv *kv = &g->kv[i];
        if (rd_str(c, &kv->key, "metadata key")) return -1;
        if (check_name(c, kv->key, "metadata key", i, 4096)) return -1;
        char key[80];
        snprintf(key, sizeof key, "%.*s", (int)TLB_MIN(kv->key.n, 64), kv->key.p);
        if (rd_u32(c, &kv->type, "metadata value type")) return -1;
        if (kv->type >= TLB_GGUF_VTYPE_COUNT) {
            tlb_error("%s: key '%s' has value type %u, which is not a GGUF type", c->src, key,
                      kv->type);
            return -1;
        }
        size_t start = c->pos;
        kv->val = c->b + c->pos;
        if (kv->type == TLB_GGUF_ARRAY) {
            if (skip_array(c, 0, key, &kv->arr_type, &kv->arr_n, &kv->arr_data)) return -1;
        } else if (skip_value(c, kv->type, 0, key)) {
            return -1;
        }
        kv->val_bytes = c->pos - start;
    }
    return 0;
}

static int parse_tensor_infos(struct tlb_gguf *g, struct cur *c) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct tlb_gguf_tensor *t = &g->tensors[i];
        if (rd_str(c, &t->name, "tensor name")) return -1;
        if (check_name(c, t->name, "tensor name", i, TLB_GGUF_MAX_NAME)) return -1;
        const int nl = (int)t->name.n;
        if (rd_u32(c, &t->n_dims, "tensor dimension count")) return -1;
        if (t->n_dims < 1 || t->n_dims > TLB_GGUF_MAX_DIMS) {
            tlb_error("%s: tensor '%.*s' has %u dimensions (must be 1..%d)", c->src, nl,
                      t->name.p, t->n_dims, TLB_GGUF_MAX_DIMS);
            return -1;
        }
        uint64_t n = 1;
        for (int d = 0; d < TLB_GGUF_MAX_DIMS; d++) {
            t->ne[d] = 1;
            if ((uint32_t)d < t->n_dims && rd_u64(c, &t->ne[d], "tensor dimension")) return -1;
            /* ggml keeps element counts in int64: the product must stay below INT64_MAX */
            if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX / n) {
                tlb_error("%s: tensor '%.*s' dimension %d is %llu: %s", c->src, nl, t->name.p, d,
                          (unsigned long long)t->ne[d],
                          t->ne[d] == 0 ? "empty tensors are not allowed"
                                        : "the element count overflows 63 bits");
                return -1;
            }
            n *= t->ne[d];
        }
        t->n_elements = n;
        if (rd_u32(c, &t->ggml_type, "tensor type")) return -1;
        uint32_t bs, ts;
        if (tlb_ggml_type_layout(t->ggml_type, &bs, &ts)) {
            tlb_error("%s: tensor '%.*s' has type id %u, which is not a ggml type", c->src, nl,
                      t->name.p, t->ggml_type);
            return -1;
        }
        if (t->ne[0] % bs != 0) {
            tlb_error("%s: tensor '%.*s' of type %s has rows of %llu elements, not a multiple "
                      "of its block size %u", c->src, nl, t->name.p,
                      tlb_ggml_type_name(t->ggml_type), (unsigned long long)t->ne[0], bs);
            return -1;
        }
        if (n / bs > UINT64_MAX / ts || (n / bs) * ts > (uint64_t)SIZE_MAX) {
            tlb_error("%s: tensor '%.*s' is too large", c->src, nl, t->name.p);
            return -1;
        }
        t->n_bytes = n / bs * ts;
        if (rd_u64(c, &t->offset, "tensor offset")) return -1;
    }
    return 0;
}

/* Place tensors in the data section: aligned, inside the file, not overlapping. */
static int place_tensors(struct tlb_gguf *g, uint32_t *tmp) {
    const char *src = g->source;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        struct tlb_gguf_tensor *t = &g->tensors[i];
        const int nl = (int)t->name.n;
        if (t->offset % g->alignment != 0) {
            tlb_error("%s: tensor '%.*s' offset %llu is not a multiple of the alignment %u",
                      src, nl, t->name.p, (unsigned long long)t->offset, g->alignment);
            return -1;
        }
        uint64_t room = (uint64_t)g->size - g->data_offset; /* data_offset <= size checked */
        if (t->offset > room || t->n_bytes > room - t->offset) {
            tlb_error("%s: tensor '%.*s' (%llu bytes at data offset %llu) lies past the end of "
                      "the file (%llu bytes of tensor data)", src, nl, t->name.p,
                      (unsigned long long)t->n_bytes, (unsigned long long)t->offset,
                      (unsigned long long)room);
            return -1;
        }
        t->data = g->buf + g->data_offset + t->offset;
    }
    /* overlap check on the tensors sorted by offset (bottom-up merge sort in tmp) */
    uint32_t *idx = tmp, *work = tmp + g->n_tensors;
    for (uint64_t i = 0; i < g->n_tensors; i++) idx[i] = (uint32_t)i;
    for (size_t w = 1; w < g->n_tensors; w *= 2) {
        for (size_t lo = 0; lo < g->n_tensors; lo += 2 * w) {
            size_t mid = TLB_MIN(lo + w, (size_t)g->n_tensors);
            size_t hi = TLB_MIN(lo + 2 * w, (size_t)g->n_tensors), i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                work[k++] = g->tensors[idx[j]].offset < g->tensors[idx[i]].offset ? idx[j++]
                                                                                    : idx[i++];
            while (i < mid) work[k++] = idx[i++];
            while (j < hi) work[k++] = idx[j++];
        }
        memcpy(idx, work, (size_t)g->n_tensors * sizeof *idx);
    }
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        const struct tlb_gguf_tensor *a = &g->tensors[idx[i - 1]], *b = &g->tensors[idx[i]];
        if (a->offset + a->n_bytes > b->offset) {
            tlb_error("%s: tensors '%.*s' and '%.*s' overlap in the data section", src,
                      (int)a->name.n, a->name.p, (int)b->name.n, b->name.p);
            return -1;
        }
    }
    return 0;
}

static int check_duplicates(const struct tlb_gguf *g) {
    for (uint64_t i = 1; i < g->n_kv; i++) {
        const struct tlb_gguf_kv *a = &g->kv[g->kv_sorted[i - 1]], *b = &g->kv[g->kv_sorted[i]];
        if (str_cmp(a->key, b->key) == 0) {
            tlb_error("%s: duplicate metadata key '%.*s'", g->source, (int)TLB_MIN(a->key.n, 64),
                      a->key.p);
            return -1;
        }
    }
    for (uint64_t i = 1; i < g->n_tensors; i++) {
        const struct tlb_gguf_tensor *a = &g->tensors[g->tensor_sorted[i - 1]];
        const struct tlb_gguf_tensor *b = &g->tensors[g->tensor_sorted[i]];
        if (str_cmp(a->name, b->name) == 0) {
            tlb_error("%s: duplicate tensor '%.*s'", g->source, (int)a->name.n, a->name.p);
            return -1;
        }
    }
    return 0;
}

void tlb_gguf_free(struct tlb_gguf *g) {
    if (!g) return;
    if (g->map) munmap(g->map, g->map_len);
    free(g->kv);
    free(g->tensors);
    free(g->kv_sorted);
    free(g->tensor_sorted);
    free(g);
}

/* Limits far above any real model, so that index types stay 32-bit. */
#define MAX_KV (1u << 20)
#define MAX_TENSORS (1u << 20)

int tlb_gguf_parse(struct tlb_gguf **out, const void *buf, size_t size, const char *source) {
    *out = NULL;
    struct tlb_gguf *g = tlb_calloc(1, sizeof *g, "GGUF");
    if (!g) return -1;
    snprintf(g->source, sizeof g->source, "%s", source ? source : "GGUF");
    g->buf = buf;
    g->size = size;
    struct cur c = {buf, size, 0, g->source};
    uint32_t *tmp = NULL;
    if (size < 4 || memcmp(buf, "GGUF", 4) != 0) {
        tlb_error("%s: not a GGUF file (no \"GGUF\" magic)", g->source);
        goto fail;
    }
    c.pos = 4;
    if (rd_u32(&c, &g->version, "version")) goto fail;
    if (g->version == 1) {
        tlb_error("%s: GGUF version 1 is not supported (it used 32-bit counts); re-convert the "
                  "model with a current llama.cpp", g->source);
        goto fail;
    }
    if (g->version != 2 && g->version != 3) {
        if (g->version != 0 && (g->version & 0xFFFF) == 0)
            tlb_error("%s: GGUF version %u looks byte-swapped: big-endian GGUF files are not "
                      "supported", g->source, g->version);
        else
            tlb_error("%s: GGUF version %u is not supported (only 2 and 3)", g->source,
                      g->version);
        goto fail;
    }
    if (rd_u64(&c, &g->n_tensors, "tensor count") || rd_u64(&c, &g->n_kv, "metadata count"))
        goto fail;
    /* a key/value takes >= 14 bytes (u64 length, 1-byte key, u32 type, 1-byte value) and a
     * tensor info >= 33 (u64 length, 1-byte name, u32 n_dims, one u64 dim, u32 type, u64) */
    uint64_t left = size - c.pos;
    if (g->n_kv > MAX_KV || g->n_kv > left / 14 || g->n_tensors > MAX_TENSORS ||
        g->n_tensors > left / 33 || g->n_kv * 14 + g->n_tensors * 33 > left) {
        tlb_error("%s: header claims %llu metadata keys and %llu tensors, more than the %llu "
                  "bytes that follow can hold", g->source, (unsigned long long)g->n_kv,
                  (unsigned long long)g->n_tensors, (unsigned long long)left);
        goto fail;
    }
    g->kv = tlb_calloc((size_t)g->n_kv + 1, sizeof *g->kv, "GGUF metadata");
    g->tensors = tlb_calloc((size_t)g->n_tensors + 1, sizeof *g->tensors, "GGUF tensors");
    g->kv_sorted = tlb_calloc((size_t)g->n_kv + 1, sizeof *g->kv_sorted, "GGUF metadata");
    g->tensor_sorted = tlb_calloc((size_t)g->n_tensors + 1, sizeof *g->tensor_sorted, "GGUF");
    size_t n_tmp = 2 * (size_t)TLB_MAX(g->n_kv, g->n_tensors) + 1;
    tmp = tlb_malloc(n_tmp * sizeof *tmp, "GGUF index");
    if (!g->kv || !g->tensors || !g->kv_sorted || !g->tensor_sorted || !tmp) goto fail;
    if (parse_kvs(g, &c) || parse_tensor_infos(g, &c)) goto fail;

    for (uint64_t i = 0; i < g->n_kv; i++) g->kv_sorted[i] = (uint32_t)i;
    for (uint64_t i = 0; i < g->n_tensors; i++) g->tensor_sorted[i] = (uint32_t)i;
    sort_idx(g->kv_sorted, tmp, (size_t)g->n_kv, g->kv, sizeof *g->kv,
             offsetof(struct tlb_gguf_kv, key));
    sort_idx(g->tensor_sorted, tmp, (size_t)g->n_tensors, g->tensors, sizeof *g->tensors,
             offsetof(struct tlb_gguf_tensor, name));
    if (check_duplicates(g)) goto fail;

    g->alignment = TLB_GGUF_DEFAULT_ALIGNMENT;
    const struct tlb_gguf_kv *al = tlb_gguf_find_kv(g, "general.alignment");
    if (al) {
        uint32_t a = al->type == TLB_GGUF_U32 ? (uint32_t)le(al->val, 4) : 0;
        if (al->type != TLB_GGUF_U32 || a == 0 || (a & (a - 1)) != 0) {
            if (al->type != TLB_GGUF_U32)
                tlb_error("%s: general.alignment must be a u32 but is a %s", g->source,
                          tlb_gguf_vtype_name(al->type));
            else
                tlb_error("%s: general.alignment %u is not a non-zero power of two", g->source,
                          a);
            goto fail;
        }
        g->alignment = a;
    }
    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_offset = (uint64_t)c.pos + pad;
    if (g->n_tensors > 0 && g->data_offset > size) {
        tlb_error("%s: truncated: the tensor data section would start at %llu, past the end of "
                  "the file (%zu bytes)", g->source, (unsigned long long)g->data_offset, size);
        goto fail;
    }
    if (g->n_tensors > 0 && place_tensors(g, tmp)) goto fail;
    free(tmp);
    *out = g;
    return 0;
fail:
    free(tmp);
    g->map = NULL; /* the caller owns buf */
    tlb_gguf_free(g);
    return -1;
}

int tlb_gguf_open(struct tlb_gguf **out, const char *path) {
    *out = NULL;
    uint64_t fsize;
    int fd = tlb_open_regular_size(path, &fsize);
    if (fd < 0) return -1;
    size_t size = (size_t)fsize;
    if (size < 24) {
        close(fd);
        tlb_error("%s: truncated: %zu bytes is shorter than a GGUF header (24 bytes)", path,
                  size);
        return -1;
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        tlb_error("%s: mmap failed: %s", path, strerror(errno));
        return -1;
    }
    if (tlb_gguf_parse(out, map, size, path) != 0) {
        munmap(map, size);
        return -1;
    }
    (*out)->map = map;
    (*out)->map_len = size;
    return 0;
}

/* ---- typed getters ---- */

static int wrong_type(const struct tlb_gguf *g, const char *key, const struct tlb_gguf_kv *kv,
                      const char *want) {
    tlb_error("%s: %s must be %s but is %s%s%s", g->source, key, want,
              kv->type == TLB_GGUF_ARRAY ? "an array of " : "a ",
              tlb_gguf_vtype_name(kv->type == TLB_GGUF_ARRAY ? kv->arr_type : kv->type),
              kv->type == TLB_GGUF_ARRAY ? "" : " value");
    return -1;
}

int tlb_gguf_get_int(const struct tlb_gguf *g, const char *key, int64_t min, int64_t max,
                     int64_t *out) {
    const struct tlb_gguf_kv *kv = tlb_gguf_find_kv(g, key);
    if (!kv) return 1;
    const unsigned char *p = kv->val;
    uint64_t u = 0;
    int64_t s = 0;
    int is_signed = 1;
    switch (kv->type) {
    case TLB_GGUF_U8: u = p[0]; is_signed = 0; break;
    case TLB_GGUF_U16: u = le(p, 2); is_signed = 0; break;
    case TLB_GGUF_U32: u = le(p, 4); is_signed = 0; break;
    case TLB_GGUF_U64: u = le(p, 8); is_signed = 0; break;
    case TLB_GGUF_I8: s = (int8_t)p[0]; break;
    case TLB_GGUF_I16: s = (int16_t)(uint16_t)le(p, 2); break;
    case TLB_GGUF_I32: s = (int32_t)(uint32_t)le(p, 4); break;
    case TLB_GGUF_I64: { uint64_t r = le(p, 8); memcpy(&s, &r, 8); break; }
    default: return wrong_type(g, key, kv, "an integer");
    }
    if (!is_signed && u > (uint64_t)INT64_MAX) {
        tlb_error("%s: %s = %llu is out of range [%lld, %lld]", g->source, key,
                  (unsigned long long)u, (long long)min, (long long)max);
        return -1;
    }
    if (!is_signed) s = (int64_t)u;
    if (s < min || s > max) {
        tlb_error("%s: %s = %lld is out of range [%lld, %lld]", g->source, key, (long long)s,
                  (long long)min, (long long)max);
        return -1;
    }
    *out = s;
    return 0;
}

int tlb_gguf_get_float(const struct tlb_gguf *g, const char *key, double *out) {
    const struct tlb_gguf_kv *kv = tlb_gguf_find_kv(g, key);
    if (!kv) return 1;
    if (kv->type == TLB_GGUF_F32) {
        uint32_t u = (uint32_t)le(kv->val, 4);
        float f;
        memcpy(&f, &u, 4);
        *out = f;
    } else if (kv->type == TLB_GGUF_F64) {
        uint64_t u = le(kv->val, 8);
        memcpy(out, &u, 8);
    } else {
        return wrong_type(g, key, kv, "a float");
    }
    return 0;
}

int tlb_gguf_get_bool(const struct tlb_gguf *g, const char *key, int *out) {
    const struct tlb_gguf_kv *kv = tlb_gguf_find_kv(g, key);
    if (!kv) return 1;
    if (kv->type != TLB_GGUF_BOOL) return wrong_type(g, key, kv, "a bool");
    *out = kv->val[0] != 0;
    return 0;
}

int tlb_gguf_get_str(const struct tlb_gguf *g, const char *key, struct tlb_gguf_str *out) {
    const struct tlb_gguf_kv *kv = tlb_gguf_find_kv(g, key);
    if (!kv) return 1;
    if (kv->type != TLB_GGUF_STRING) return wrong_type(g, key, kv, "a string");
    out->n = le(kv->val, 8);
    out->p = (const char *)kv->val + 8;
    return 0;
}

/* ---- listing ---- */

static void print_scalar(FILE *out, uint32_t t, const unsigned char *p) {
    switch (t) {
    case TLB_GGUF_U8: fprintf(out, "%u", p[0]); break;
    case TLB_GGUF_I8: fprintf(out, "%d", (int8_t)p[0]); break;
    case TLB_GGUF_U16: fprintf(out, "%u", (unsigned)le(p, 2)); break;
    case TLB_GGUF_I16: fprintf(out, "%d", (int16_t)le(p, 2)); break;
    case TLB_GGUF_U32: fprintf(out, "%u", (unsigned)le(p, 4)); break;
    case TLB_GGUF_I32: fprintf(out, "%d", (int32_t)le(p, 4)); break;
    case TLB_GGUF_U64: fprintf(out, "%llu", (unsigned long long)le(p, 8)); break;
    case TLB_GGUF_I64: fprintf(out, "%lld", (long long)(int64_t)le(p, 8)); break;
    case TLB_GGUF_BOOL: fprintf(out, "%s", p[0] ? "true" : "false"); break;
    case TLB_GGUF_F32: {
        uint32_t u = (uint32_t)le(p, 4);
        float f;
        memcpy(&f, &u, 4);
        fprintf(out, "%.9g", (double)f);
        break;
    }
    case TLB_GGUF_F64: {
        uint64_t u = le(p, 8);
        double d;
        memcpy(&d, &u, 8);
        fprintf(out, "%.17g", d);
        break;
    }
    }
}

/* Bytes a value (already validated by the parser) takes. */
static size_t value_size(uint32_t t, const unsigned char *p) {
    if (t == TLB_GGUF_STRING) return 8 + (size_t)le(p, 8);
    if (t != TLB_GGUF_ARRAY) return tlb_gguf_vtype_size(t);
    uint32_t et = (uint32_t)le(p, 4);
    uint64_t n = le(p + 4, 8);
    if (et != TLB_GGUF_STRING && et != TLB_GGUF_ARRAY) return 12 + (size_t)n * tlb_gguf_vtype_size(et);
    size_t pos = 12;
    for (uint64_t i = 0; i < n; i++) pos += value_size(et, p + pos);
    return pos;
}

static void print_value(FILE *out, uint32_t t, const unsigned char *p, int max_items) {
    if (t == TLB_GGUF_STRING) {
        fputc('"', out);
        str_print(out, (const char *)p + 8, le(p, 8), 120);
        fputc('"', out);
    } else if (t == TLB_GGUF_ARRAY) {
        uint32_t et = (uint32_t)le(p, 4);
        uint64_t n = le(p + 4, 8);
        size_t pos = 12;
        fprintf(out, "[%s x %llu: ", tlb_gguf_vtype_name(et), (unsigned long long)n);
        for (uint64_t i = 0; i < n && i < (uint64_t)max_items; i++) {
            if (i) fputs(", ", out);
            print_value(out, et, p + pos, max_items);
            pos += value_size(et, p + pos);
        }
        if (n > (uint64_t)max_items) fputs(max_items > 0 ? ", ..." : "...", out);
        fputc(']', out);
    } else {
        print_scalar(out, t, p);
    }
}

void tlb_gguf_print_metadata(FILE *out, const struct tlb_gguf *g, int max_items) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const struct tlb_gguf_kv *kv = &g->kv[i];
        fputs("  ", out);
        str_print(out, kv->key.p, kv->key.n, 120);
        fprintf(out, " (%s) = ", tlb_gguf_vtype_name(kv->type));
        print_value(out, kv->type, kv->val, max_items);
        fputc('\n', out);
    }
}
