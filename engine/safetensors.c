/* safetensors.c — reads Hugging Face Llama checkpoints: config.json, then model.safetensors or
 * the shards named by model.safetensors.index.json (u64 header length, JSON header, data).
 * Every length, offset, shape and name is checked before use. q_proj/k_proj rows are permuted
 * from HF's rotate-half RoPE order to interleaved pairs, as llama.cpp's converter does; other
 * matrices are used in place from the mapping when no conversion is asked. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char no_cjson[] = "safetensors support needs libcjson-dev (not built in)";

int tlb_safetensors_load(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o) {
    (void)m, (void)o;
    tlb_error("%s: %s", spec, no_cjson);
    return -1;
}

int tlb_safetensors_check_mem(const char *source, const void *data, size_t size) {
    (void)data, (void)size;
    tlb_error("%s: %s", source, no_cjson);
    return -1;
}

int tlb_safetensors_config_mem(const char *source, const char *text, size_t len,
                               struct tlb_config *cfg, int *tied) {
    (void)text, (void)len, (void)cfg, (void)tied;
    tlb_error("%s: %s", source, no_cjson);
    return -1;
}

int tlb_safetensors_model_mem(struct tlb_model *m, const char *config_text, size_t config_len,
                              const void *data, size_t size, const struct tlb_load_opts *o) {
    (void)m, (void)config_text, (void)config_len, (void)data, (void)size, (void)o;
    tlb_error("model.safetensors: %s", no_cjson);
    return -1;
}

#else

#include <cjson/cJSON.h>

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

#define ST_MAX_HEADER 100000000ull /* the safetensors reference reader's limit */
#define ST_MAX_ITEMS (1 << 20)     /* JSON values one text may create (cJSON: ~64 B each) */
#define ST_HEADER_DEPTH 8          /* a header is 3 deep: {name: {shape: [...]}} */
#define ST_CONFIG_DEPTH 32         /* config.json nests a little (rope_scaling, ...) */
#define ST_MAX_CONFIG (1 << 20)    /* a Llama config.json is under 1 KB */
#define ST_MAX_INDEX (64 << 20)    /* index.json of a 400B model is ~100 KB */
#define ST_MAX_DIMS 8
#define ST_MAX_EXACT 9007199254740992.0 /* 2^53: largest integer a JSON double holds exactly */

/* ---- messages: names come from the file, so print them on one line, bounded ---- */

static const char *printable(const char *s, char *buf, size_t n) {
    size_t i = 0;
    for (; s[i] && i + 4 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (s[i]) memcpy(buf + i, "...", 4);
    else buf[i] = '\0';
    return buf;
}
#define SAFE(s) printable((s), (char[100]){0}, 100)

static const char *json_kind(const cJSON *v) {
    if (!v) return "missing";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* ---- JSON ---- */

/* Bound nesting and item count before cJSON runs: it recurses once per level and allocates a
 * node per value, so a hostile header could otherwise cost deep recursion or gigabytes. Also
 * refuses control bytes and \u0000 in strings, which would silently cut a C string short. */
static int json_prescan(const char *src, const char *what, const char *s, size_t n,
                        int max_depth) {
    long depth = 0, items = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < n && s[i] != '"'; i++) {
                if ((unsigned char)s[i] < 0x20) {
                    tlb_error("%s: %s has a control byte inside a JSON string (offset %zu)",
                              src, what, i);
                    return -1;
                }
                if (s[i] == '\\' && i + 1 < n) {
                    if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0) {
                        tlb_error("%s: %s has a \\u0000 inside a JSON string", src, what);
                        return -1;
                    }
                    i++;
                }
            }
        } else if (c == '{' || c == '[' || c == ',') {
            if (c != ',' && ++depth > max_depth) {
                tlb_error("%s: %s is nested deeper than %d levels", src, what, max_depth);
                return -1;
            }
            if (++items > ST_MAX_ITEMS) {
                tlb_error("%s: %s has more than %d JSON values", src, what, ST_MAX_ITEMS);
                return -1;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

/* Parse n bytes of JSON; only whitespace may follow it (headers are padded with spaces). */
static cJSON *json_parse(const char *src, const char *what, const char *text, size_t n,
                         int max_depth) {
    if (json_prescan(src, what, text, n, max_depth) != 0) return NULL;
    /* A NUL-padded copy: older cJSON releases could read past an unterminated escape. */
    char *buf = tlb_malloc(n + 16, what);
    if (!buf) return NULL;
    memcpy(buf, text, n);
    memset(buf + n, 0, 16);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, n, &end, 0);
    if (!root) {
        size_t at = end && end >= buf && end <= buf + n ? (size_t)(end - buf) : 0;
        tlb_error("%s: %s is not valid JSON (error near byte %zu of %zu)", src, what, at, n);
        free(buf);
        return NULL;
    }
    for (const char *p = end; p < buf + n; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            tlb_error("%s: %s has bytes after its JSON value (at byte %zu of %zu)", src, what,
                      (size_t)(p - buf), n);
            cJSON_Delete(root);
            free(buf);
            return NULL;
        }
    }
    free(buf);
    if (!cJSON_IsObject(root)) {
        tlb_error("%s: %s is not a JSON object", src, what);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static int cmp_strp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Readers disagree on which of two equal keys wins, so a duplicate is an error. */
static int check_dup_keys(const char *src, const char *what, const cJSON *obj) {
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n++;
    if (n < 2) return 0;
    const char **names = tlb_malloc(n * sizeof *names, "JSON keys");
    if (!names) return -1;
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next) names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof *names, cmp_strp);
    for (i = 1; i < n; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            tlb_error("%s: %s has the key \"%s\" twice", src, what, SAFE(names[i]));
            free(names);
            return -1;
        }
    }
    free(names);
    return 0;
}

/* A JSON integer in [0, 2^53] (exact in a double). */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= ST_MAX_EXACT) || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
}

/* ---- one safetensors file ---- */

struct st_tensor {
    const char *name;     /* owned by the file's cJSON tree */
    enum tlb_type type;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;  /* byte range in the data buffer */
};

struct st_file {
    char path[PATH_MAX];
    void *map;                  /* the file mapping (NULL when parsing memory) */
    size_t map_len;
    const unsigned char *data;  /* data buffer: after the header */
    size_t data_len;
    cJSON *root;
    struct st_tensor *t;        /* sorted by name */
    size_t n;
    int in_place;               /* some model tensor points into the mapping */
};

static const struct {
    const char *name;
    enum tlb_type type;
    size_t size;
} dtypes[] = {
    {"F32", TLB_TYPE_F32, 4},
    {"F16", TLB_TYPE_F16, 2},
    {"BF16", TLB_TYPE_BF16, 2},
};

static size_t elem_size(enum tlb_type t) { return t == TLB_TYPE_F32 ? 4 : 2; }

static const char *fmt_shape(const struct st_tensor *t, char *buf, size_t n) {
    size_t off = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? ", " : "",
                                (long long)t->shape[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}
#define SHAPE(t) fmt_shape((t), (char[128]){0}, 128)

static int parse_tensor(const struct st_file *f, const char *src, const cJSON *v,
                        struct st_tensor *t) {
    const char *name = SAFE(v->string);
    if (!cJSON_IsObject(v)) {
        tlb_error("%s: tensor %s: header entry is %s, not an object", src, name, json_kind(v));
        return -1;
    }
    if (check_dup_keys(src, "a header entry", v) != 0) return -1;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(v, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(v, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
    t->name = v->string;
    if (!cJSON_IsString(dt)) {
        tlb_error("%s: tensor %s: dtype is %s, not a string", src, name, json_kind(dt));
        return -1;
    }
    size_t esize = 0;
    for (size_t i = 0; i < TLB_ARRAY_LEN(dtypes); i++) {
        if (strcmp(dt->valuestring, dtypes[i].name) == 0) {
            t->type = dtypes[i].type;
            esize = dtypes[i].size;
        }
    }
    if (!esize) {
        tlb_error("%s: tensor %s has dtype %s; only F32, F16 and BF16 are supported", src, name,
                  SAFE(dt->valuestring));
        return -1;
    }
    if (!cJSON_IsArray(shape)) {
        tlb_error("%s: tensor %s: shape is %s, not an array", src, name, json_kind(shape));
        return -1;
    }
    int nd = cJSON_GetArraySize(shape);
    if (nd > ST_MAX_DIMS) {
        tlb_error("%s: tensor %s: shape has %d dimensions (at most %d)", src, name, nd,
                  ST_MAX_DIMS);
        return -1;
    }
    size_t numel = 1;
    int overflow = 0;
    const cJSON *d;
    t->ndim = 0;
    cJSON_ArrayForEach(d, shape) {
        uint64_t u;
        if (json_uint(d, &u) != 0) {
            tlb_error("%s: tensor %s: shape holds %s that is not a non-negative integer", src,
                      name, json_kind(d));
            return -1;
        }
        t->shape[t->ndim++] = (int64_t)u;
        if (u > SIZE_MAX || tlb_mul_size(numel, (size_t)u, &numel)) overflow = 1;
    }
    size_t bytes;
    if (overflow || tlb_mul_size(numel, esize, &bytes)) {
        tlb_error("%s: tensor %s: shape %s overflows", src, name, SHAPE(t));
        return -1;
    }
    uint64_t r[2];
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
        json_uint(cJSON_GetArrayItem(off, 0), &r[0]) != 0 ||
        json_uint(cJSON_GetArrayItem(off, 1), &r[1]) != 0) {
        tlb_error("%s: tensor %s: data_offsets must be two non-negative integers", src, name);
        return -1;
    }
    if (r[1] < r[0]) {
        tlb_error("%s: tensor %s: data_offsets [%llu, %llu] end before they begin", src, name,
                  (unsigned long long)r[0], (unsigned long long)r[1]);
        return -1;
    }
    if (r[1] > f->data_len) {
        tlb_error("%s: tensor %s: data_offsets [%llu, %llu] run past the %zu-byte data buffer",
                  src, name, (unsigned long long)r[0], (unsigned long long)r[1], f->data_len);
        return -1;
    }
    if (r[1] - r[0] != bytes) {
        tlb_error("%s: tensor %s: data_offsets span %llu bytes but %s %s needs %zu", src, name,
                  (unsigned long long)(r[1] - r[0]), dt->valuestring, SHAPE(t), bytes);
        return -1;
    }
    t->begin = r[0];
    t->end = r[1];
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const struct st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct st_tensor *)a)->name, ((const struct st_tensor *)b)->name);
}

static void st_close(struct st_file *f) {
    if (f->map) munmap(f->map, f->map_len);
    cJSON_Delete(f->root);
    free(f->t);
    f->map = NULL;
    f->root = NULL;
    f->t = NULL;
}

/* Parse a whole file image: buf[0..size). */
static int st_parse(struct st_file *f, const char *src, const unsigned char *buf, size_t size) {
    if (size < 8) {
        tlb_error("%s: file is %zu bytes, too short for a safetensors header", src, size);
        return -1;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
    if (hlen > ST_MAX_HEADER) {
        tlb_error("%s: header length %llu is over the %llu-byte limit (not a safetensors file?)",
                  src, (unsigned long long)hlen, ST_MAX_HEADER);
        return -1;
    }
    if (hlen > size - 8) {
        tlb_error("%s: header length %llu is more than the %zu bytes that follow it (truncated "
                  "or not a safetensors file)", src, (unsigned long long)hlen, size - 8);
        return -1;
    }
    if (hlen < 2) {
        tlb_error("%s: header length %llu is too small for a JSON header", src,
                  (unsigned long long)hlen);
        return -1;
    }
    f->data = buf + 8 + hlen;
    f->data_len = size - 8 - (size_t)hlen;
    if (!(f->root = json_parse(src, "the header", (const char *)buf + 8, (size_t)hlen,
                               ST_HEADER_DEPTH)))
        return -1;
    if (check_dup_keys(src, "the header", f->root) != 0) return -1;
    size_t count = 0;
    for (const cJSON *c = f->root->child; c; c = c->next) count++;
    if (!(f->t = tlb_calloc(count ? count : 1, sizeof *f->t, "tensor table"))) return -1;
    for (const cJSON *c = f->root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(c)) {
                tlb_error("%s: __metadata__ is %s, not an object", src, json_kind(c));
                return -1;
            }
            continue;
        }
        if (parse_tensor(f, src, c, &f->t[f->n]) != 0) return -1;
        f->n++;
    }
    /* Overlapping ranges would let one tensor's writes (or meaning) alias another's. */
    qsort(f->t, f->n, sizeof *f->t, cmp_begin);
    const struct st_tensor *last = NULL;
    for (size_t i = 0; i < f->n; i++) {
        const struct st_tensor *t = &f->t[i];
        if (t->end == t->begin) continue;
        if (last && t->begin < last->end) {
            tlb_error("%s: tensors %s and %s overlap in the data buffer", src, SAFE(last->name),
                      SAFE(t->name));
            return -1;
        }
        if (!last || t->end > last->end) last = t;
    }
    qsort(f->t, f->n, sizeof *f->t, cmp_name);
    return 0;
}

static const struct st_tensor *st_find(const struct st_file *f, const char *name) {
    struct st_tensor key = {.name = name};
    return f->n ? bsearch(&key, f->t, f->n, sizeof *f->t, cmp_name) : NULL;
}

static int st_open(struct st_file *f, const char *path) {
    if ((size_t)snprintf(f->path, sizeof f->path, "%s", path) >= sizeof f->path) {
        tlb_error("%s: path too long", path);
        return -1;
    }
    /* O_NONBLOCK: a FIFO in place of a shard must not hang the load. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        tlb_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        tlb_error("%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_size < 8) {
        tlb_error("%s: file is %lld bytes, too short for a safetensors header", path,
                  (long long)st.st_size);
        close(fd);
        return -1;
    }
    f->map_len = (size_t)st.st_size;
    void *map = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        tlb_error("%s: mmap failed: %s", path, strerror(errno));
        return -1;
    }
    f->map = map;
    return st_parse(f, path, map, f->map_len);
}

int tlb_safetensors_check_mem(const char *source, const void *data, size_t size) {
    struct st_file f = {0};
    int rc = st_parse(&f, source, data, size);
    if (rc == 0) rc = (int)TLB_MIN(f.n, (size_t)INT_MAX);
    st_close(&f);
    return rc;
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
        tlb_error("%s: %s must be a positive integer, not %s", src, key, json_kind(v));
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
        tlb_error("%s: %s must be a number, not %s", src, key, json_kind(v));
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
        tlb_error("%s: %s must be true or false, not %s", src, key, json_kind(v));
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static int cfg_parse(const char *src, const cJSON *root, struct tlb_config *cfg, int *tied) {
    if (check_dup_keys(src, "config", root) != 0) return -1;
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    if (arch && !cJSON_IsNull(arch)) {
        if (!cJSON_IsArray(arch)) {
            tlb_error("%s: architectures must be an array of strings, not %s", src,
                      json_kind(arch));
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
                      other ? SAFE(other) : "(none)");
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
                  cJSON_IsString(ty) ? SAFE(ty->valuestring) : json_kind(rs));
        return -1;
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (act && !cJSON_IsNull(act) &&
        (!cJSON_IsString(act) || strcmp(act->valuestring, "silu") != 0)) {
        tlb_error("%s: hidden_act %s is not supported (only silu)", src,
                  cJSON_IsString(act) ? SAFE(act->valuestring) : json_kind(act));
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
    cJSON *root = json_parse(source, "config", text, len, ST_CONFIG_DEPTH);
    if (!root) return -1;
    int rc = cfg_parse(source, root, cfg, tied);
    cJSON_Delete(root);
    return rc;
}

/* A small text file; stat first so a FIFO or device cannot hang or flood the read. */
static char *read_text(const char *path, size_t max, size_t *len) {
    struct stat st;
    if (stat(path, &st) != 0) {
        tlb_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        tlb_error("%s: not a regular file", path);
        return NULL;
    }
    return tlb_read_file(path, max, len);
}

/* ---- the checkpoint ---- */

struct st_entry {
    const char *name; /* tensor name (owned by the index's cJSON tree) */
    int file;         /* index into files */
};

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct st_entry *)a)->name, ((const struct st_entry *)b)->name);
}

struct st_ctx {
    struct tlb_model *m;
    const struct tlb_load_opts *o;
    char dir[PATH_MAX];
    char config[PATH_MAX];
    char index[PATH_MAX];       /* "" for a single file */
    char single[PATH_MAX];      /* the one .safetensors file, "" when sharded */
    cJSON *index_root;
    struct st_entry *entries;   /* sharded: tensor -> shard, sorted by name */
    size_t n_entries;
    struct st_file *files;
    int n_files;
    struct tlb_pool *pool;
    int nth;
    float **scratch;            /* (nth, 2 * max cols) conversion rows */
    int n_in_place, n_copied;
};

static int join(char *out, size_t n, const char *dir, const char *name) {
    if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n) {
        tlb_error("%s/%s: path too long", dir, SAFE(name));
        return -1;
    }
    return 0;
}

/* Which files the spec means: see safetensors.h. */
static int resolve(struct st_ctx *c, const char *spec) {
    struct stat st;
    if (stat(spec, &st) != 0) {
        tlb_error("%s: cannot open model: %s", spec, strerror(errno));
        return -1;
    }
    if (spec_dir(spec, c->dir, sizeof c->dir) != 0) {
        tlb_error("%s: path too long", spec);
        return -1;
    }
    if (join(c->config, sizeof c->config, c->dir, "config.json")) return -1;
    if (S_ISDIR(st.st_mode)) {
        char p[PATH_MAX];
        if (join(p, sizeof p, c->dir, "model.safetensors")) return -1;
        if (exists(p)) {
            snprintf(c->single, sizeof c->single, "%s", p);
            return 0;
        }
        if (join(p, sizeof p, c->dir, "model.safetensors.index.json")) return -1;
        if (exists(p)) {
            snprintf(c->index, sizeof c->index, "%s", p);
            return 0;
        }
        tlb_error("%s: directory has no model.safetensors or model.safetensors.index.json", spec);
        return -1;
    }
    if (ends_with(spec, ".safetensors")) {
        snprintf(c->single, sizeof c->single, "%s", spec);
        return 0;
    }
    if (ends_with(spec, ".index.json")) {
        snprintf(c->index, sizeof c->index, "%s", spec);
        return 0;
    }
    if (ends_with(spec, ".json")) {
        snprintf(c->config, sizeof c->config, "%s", spec);
        char p[PATH_MAX];
        if (join(p, sizeof p, c->dir, "model.safetensors")) return -1;
        if (exists(p)) {
            snprintf(c->single, sizeof c->single, "%s", p);
            return 0;
        }
        if (join(p, sizeof p, c->dir, "model.safetensors.index.json")) return -1;
        if (exists(p)) {
            snprintf(c->index, sizeof c->index, "%s", p);
            return 0;
        }
        tlb_error("%s: no model.safetensors or model.safetensors.index.json next to it", spec);
        return -1;
    }
    tlb_error("%s: not a safetensors checkpoint (a directory, .safetensors or config.json)",
              spec);
    return -1;
}

/* A shard is a plain file name in the checkpoint's directory: no path, no traversal. */
static int shard_name_ok(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int load_index(struct st_ctx *c) {
    size_t len;
    char *text = read_text(c->index, ST_MAX_INDEX, &len);
    if (!text) return -1;
    c->index_root = json_parse(c->index, "index", text, len, ST_HEADER_DEPTH);
    free(text);
    if (!c->index_root) return -1;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(c->index_root, "weight_map");
    if (!cJSON_IsObject(wm)) {
        tlb_error("%s: weight_map is %s, not an object", c->index, json_kind(wm));
        return -1;
    }
    if (check_dup_keys(c->index, "weight_map", wm) != 0) return -1;
    size_t n = 0;
    for (const cJSON *e = wm->child; e; e = e->next) n++;
    if (!n) {
        tlb_error("%s: weight_map is empty", c->index);
        return -1;
    }
    c->entries = tlb_calloc(n, sizeof *c->entries, "index entries");
    const char **shards = tlb_calloc(n, sizeof *shards, "shard names");
    int rc = -1, n_shards = 0;
    if (!c->entries || !shards) goto done;
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            tlb_error("%s: weight_map entry %s is %s, not a file name", c->index,
                      SAFE(e->string), json_kind(e));
            goto done;
        }
        if (!shard_name_ok(e->valuestring)) {
            tlb_error("%s: shard \"%s\" for %s is not a plain file name in the checkpoint's "
                      "directory (refused)", c->index, SAFE(e->valuestring), SAFE(e->string));
            goto done;
        }
        int k = 0;
        while (k < n_shards && strcmp(shards[k], e->valuestring) != 0) k++;
        if (k == n_shards) shards[n_shards++] = e->valuestring;
        c->entries[c->n_entries++] = (struct st_entry){e->string, k};
    }
    qsort(c->entries, c->n_entries, sizeof *c->entries, cmp_entry);
    if (!(c->files = tlb_calloc((size_t)n_shards, sizeof *c->files, "shards"))) goto done;
    c->n_files = n_shards;
    for (int k = 0; k < c->n_files; k++) {
        char p[PATH_MAX];
        if (join(p, sizeof p, c->dir, shards[k])) goto done;
        if (!is_regular(p)) {
            tlb_error("%s: names shard %s, which is missing or not a regular file", c->index,
                      SAFE(shards[k]));
            goto done;
        }
        if (st_open(&c->files[k], p) != 0) goto done;
    }
    rc = 0;
done:
    free(shards);
    return rc;
}

/* Does the checkpoint list this tensor (in the index, or in the single file)? */
static int has_tensor(const struct st_ctx *c, const char *name) {
    struct st_entry key = {name, 0};
    if (c->index[0])
        return bsearch(&key, c->entries, c->n_entries, sizeof key, cmp_entry) != NULL;
    return st_find(&c->files[0], name) != NULL;
}

/* Find a tensor, or print why it is missing. */
static const struct st_tensor *find(struct st_ctx *c, const char *name, struct st_file **fp) {
    struct st_file *f = &c->files[0];
    if (c->index[0]) {
        struct st_entry key = {name, 0};
        const struct st_entry *e = bsearch(&key, c->entries, c->n_entries, sizeof key, cmp_entry);
        if (!e) {
            tlb_error("%s: missing tensor %s", c->index, name);
            return NULL;
        }
        f = &c->files[e->file];
        const struct st_tensor *t = st_find(f, name);
        if (!t)
            tlb_error("%s: tensor %s is not in %s, where the index places it", f->path, name,
                      c->index);
        *fp = f;
        return t;
    }
    const struct st_tensor *t = st_find(f, name);
    if (!t) {
        char p[PATH_MAX];
        int shard = c->dir[0] &&
                    join(p, sizeof p, c->dir, "model.safetensors.index.json") == 0 &&
                    is_regular(p);
        tlb_error("%s: missing tensor %s%s", f->path, name,
                  shard ? " (this looks like one shard: load the directory instead)" : "");
    }
    *fp = f;
    return t;
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
    qsort(known, n, sizeof *known, cmp_strp);
    for (size_t i = 0; i < c->n_entries; i++) {
        if (!bsearch(&c->entries[i].name, known, n, sizeof *known, cmp_strp)) {
            tlb_error("%s: unexpected tensor %s (not a weight of a %zu-layer Llama model)",
                      c->index, SAFE(c->entries[i].name), L);
            goto done;
        }
    }
    for (int f = 0; f < c->n_files; f++) {
        for (size_t i = 0; i < c->files[f].n; i++) {
            if (!bsearch(&c->files[f].t[i].name, known, n, sizeof *known, cmp_strp)) {
                tlb_error("%s: unexpected tensor %s (not a weight of a %zu-layer Llama model)",
                          c->files[f].path, SAFE(c->files[f].t[i].name), L);
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

static int check_shape(struct st_ctx *c, const struct st_file *f, const struct st_tensor *t,
                       int64_t rows, int64_t cols) {
    int ok = cols ? t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols
                  : t->ndim == 1 && t->shape[0] == rows;
    if (ok) return 0;
    if (cols)
        tlb_error("%s: tensor %s has shape %s but %s implies [%lld, %lld]", f->path, t->name,
                  SHAPE(t), c->config, (long long)rows, (long long)cols);
    else
        tlb_error("%s: tensor %s has shape %s but %s implies [%lld]", f->path, t->name,
                  SHAPE(t), c->config, (long long)rows);
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
    struct st_file *f;
    const struct st_tensor *s = find(c, hf, &f);
    if (!s || check_shape(c, f, s, rows, cols) != 0) return -1;
    enum tlb_type want = c->o->convert ? tlb_model_type_for(c->o->wtype, cols) : s->type;
    const unsigned char *src = f->data + s->begin;
    if (!permute_enabled) head_dim = 0;
    if (c->o->map_weights && !head_dim && want == s->type &&
        (uintptr_t)src % elem_size(s->type) == 0) {
        *t = (struct tlb_tensor){want, rows, cols, src, eng};
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
    struct conv_job job = {src, s->type, (size_t)cols * elem_size(s->type), dst, want,
                           row_bytes, rows, cols, head_dim, c->scratch};
    tlb_pool_run(c->pool, conv_rows, &job);
    *t = (struct tlb_tensor){want, rows, cols, dst, eng};
    if (f->map) tlb_drop_mapped(src, (size_t)rows * (size_t)cols * elem_size(s->type));
    c->n_copied++;
    return 0;
}

/* Norm weights: always f32, copied. */
static float *load_vector(struct st_ctx *c, const char *hf, int64_t n) {
    struct st_file *f;
    const struct st_tensor *s = find(c, hf, &f);
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
    if (!tied && has_tensor(c, "lm_head.weight")) {
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
    for (int k = 0; k < c->n_files; k++) st_close(&c->files[k]);
    free(c->files);
    free(c->entries);
    cJSON_Delete(c->index_root);
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
    for (int k = 0; k < c->n_files; k++) {
        struct st_file *f = &c->files[k];
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
    char *text = read_text(c->config, ST_MAX_CONFIG, &len);
    if (!text) goto done;
    int crc = tlb_safetensors_config_mem(c->config, text, len, &m->cfg, &tied);
    free(text);
    if (crc != 0) goto done;
    if (c->index[0]) {
        if (load_index(c) != 0) goto done;
    } else {
        if (!(c->files = tlb_calloc(1, sizeof *c->files, "safetensors file"))) goto done;
        c->n_files = 1;
        if (st_open(&c->files[0], c->single) != 0) goto done;
    }
    if (assemble(c, tied) != 0) goto done;
    set_name(m, c->dir);
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
        !(c->files = tlb_calloc(1, sizeof *c->files, "safetensors file")))
        goto done;
    c->n_files = 1;
    snprintf(c->files[0].path, sizeof c->files[0].path, "model.safetensors");
    if (st_parse(&c->files[0], c->files[0].path, data, size) != 0 || assemble(c, tied) != 0)
        goto done;
    snprintf(m->name, sizeof m->name, "safetensors-in-memory");
    rc = 0;
done:
    ctx_free(c);
    return rc;
}

#endif
