/* safetensors.c — the safetensors container (see safetensors.h): one file is a u64 header
 * length, a JSON header naming each tensor's dtype, shape and byte range, then the data; a
 * sharded checkpoint adds model.safetensors.index.json, which maps tensor names to files.
 * Every length, offset, shape and name is checked before use; the JSON is bounded before
 * cJSON sees it. What the tensors mean (Llama, config.json) is safetensors-model.c. */
#include "safetensors.h"

#include "util.h"

#if !defined(TLB_HAVE_CJSON) || !TLB_HAVE_CJSON

int tlb_safetensors_check_mem(const char *source, const void *data, size_t size) {
    (void)data, (void)size;
    tlb_error("%s: %s", source, tlb_safetensors_no_cjson);
    return -1;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define ST_MAX_HEADER 100000000ull /* the safetensors reference reader's limit */
#define ST_MAX_ITEMS (1 << 20)     /* JSON values one text may create (cJSON: ~64 B each) */
#define ST_HEADER_DEPTH 8          /* a header is 3 deep: {name: {shape: [...]}} */
#define ST_MAX_INDEX (64 << 20)    /* index.json of a 400B model is ~100 KB */
#define ST_MAX_EXACT 9007199254740992.0 /* 2^53: largest integer a JSON double holds exactly */

static int is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- messages: names come from the file, so print them on one line, bounded ---- */

const char *tlb_st_printable(const char *s, char *buf, size_t n) {
    size_t i = 0;
    for (; s[i] && i + 4 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (s[i]) memcpy(buf + i, "...", 4);
    else buf[i] = '\0';
    return buf;
}

const char *tlb_json_kind(const cJSON *v) {
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
cJSON *tlb_json_parse(const char *src, const char *what, const char *text, size_t n,
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

/* Readers disagree on which of two equal keys wins, so a duplicate is an error. */
int tlb_json_check_dup_keys(const char *src, const char *what, const cJSON *obj) {
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n++;
    if (n < 2) return 0;
    const char **names = tlb_malloc(n * sizeof *names, "JSON keys");
    if (!names) return -1;
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next) names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof *names, tlb_cmp_strp);
    for (i = 1; i < n; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            tlb_error("%s: %s has the key \"%s\" twice", src, what, TLB_ST_SAFE(names[i]));
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

static const struct {
    const char *name;
    enum tlb_type type;
    size_t size;
} dtypes[] = {
    {"F32", TLB_TYPE_F32, 4},
    {"F16", TLB_TYPE_F16, 2},
    {"BF16", TLB_TYPE_BF16, 2},
};

size_t tlb_st_elem_size(enum tlb_type t) { return t == TLB_TYPE_F32 ? 4 : 2; }

const char *tlb_st_shape(const struct tlb_st_tensor *t, char *buf, size_t n) {
    size_t off = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? ", " : "",
                                (long long)t->shape[i]);
    if (off < n) snprintf(buf + off, n - off, "]");
    return buf;
}

static int parse_tensor(const struct tlb_st_file *f, const char *src, const cJSON *v,
                        struct tlb_st_tensor *t) {
    const char *name = TLB_ST_SAFE(v->string);
    if (!cJSON_IsObject(v)) {
        tlb_error("%s: tensor %s: header entry is %s, not an object", src, name, tlb_json_kind(v));
        return -1;
    }
    if (tlb_json_check_dup_keys(src, "a header entry", v) != 0) return -1;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(v, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(v, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(v, "data_offsets");
    t->name = v->string;
    if (!cJSON_IsString(dt)) {
        tlb_error("%s: tensor %s: dtype is %s, not a string", src, name, tlb_json_kind(dt));
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
                  TLB_ST_SAFE(dt->valuestring));
        return -1;
    }
    if (!cJSON_IsArray(shape)) {
        tlb_error("%s: tensor %s: shape is %s, not an array", src, name, tlb_json_kind(shape));
        return -1;
    }
    int nd = cJSON_GetArraySize(shape);
    if (nd > TLB_ST_MAX_DIMS) {
        tlb_error("%s: tensor %s: shape has %d dimensions (at most %d)", src, name, nd,
                  TLB_ST_MAX_DIMS);
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
                      name, tlb_json_kind(d));
            return -1;
        }
        t->shape[t->ndim++] = (int64_t)u;
        if (u > SIZE_MAX || tlb_mul_size(numel, (size_t)u, &numel)) overflow = 1;
    }
    size_t bytes;
    if (overflow || tlb_mul_size(numel, esize, &bytes)) {
        tlb_error("%s: tensor %s: shape %s overflows", src, name, TLB_ST_SHAPE(t));
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
                  (unsigned long long)(r[1] - r[0]), dt->valuestring, TLB_ST_SHAPE(t), bytes);
        return -1;
    }
    t->begin = r[0];
    t->end = r[1];
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const struct tlb_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct tlb_st_tensor *)a)->name, ((const struct tlb_st_tensor *)b)->name);
}

static void st_close(struct tlb_st_file *f) {
    if (f->map) munmap(f->map, f->map_len);
    cJSON_Delete(f->root);
    free(f->t);
    f->map = NULL;
    f->root = NULL;
    f->t = NULL;
}

/* Parse a whole file image: buf[0..size). */
static int st_parse(struct tlb_st_file *f, const char *src, const unsigned char *buf,
                    size_t size) {
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
    if (!(f->root = tlb_json_parse(src, "the header", (const char *)buf + 8, (size_t)hlen,
                               ST_HEADER_DEPTH)))
        return -1;
    if (tlb_json_check_dup_keys(src, "the header", f->root) != 0) return -1;
    size_t count = 0;
    for (const cJSON *c = f->root->child; c; c = c->next) count++;
    if (!(f->t = tlb_calloc(count ? count : 1, sizeof *f->t, "tensor table"))) return -1;
    for (const cJSON *c = f->root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(c)) {
                tlb_error("%s: __metadata__ is %s, not an object", src, tlb_json_kind(c));
                return -1;
            }
            continue;
        }
        if (parse_tensor(f, src, c, &f->t[f->n]) != 0) return -1;
        f->n++;
    }
    /* Overlapping ranges would let one tensor's writes (or meaning) alias another's. */
    qsort(f->t, f->n, sizeof *f->t, cmp_begin);
    const struct tlb_st_tensor *last = NULL;
    for (size_t i = 0; i < f->n; i++) {
        const struct tlb_st_tensor *t = &f->t[i];
        if (t->end == t->begin) continue;
        if (last && t->begin < last->end) {
            tlb_error("%s: tensors %s and %s overlap in the data buffer", src, TLB_ST_SAFE(last->name),
                      TLB_ST_SAFE(t->name));
            return -1;
        }
        if (!last || t->end > last->end) last = t;
    }
    qsort(f->t, f->n, sizeof *f->t, cmp_name);
    return 0;
}

static const struct tlb_st_tensor *st_find(const struct tlb_st_file *f, const char *name) {
    struct tlb_st_tensor key = {.name = name};
    return f->n ? bsearch(&key, f->t, f->n, sizeof *f->t, cmp_name) : NULL;
}

static int st_open(struct tlb_st_file *f, const char *path) {
    if ((size_t)snprintf(f->path, sizeof f->path, "%s", path) >= sizeof f->path) {
        tlb_error("%s: path too long", path);
        return -1;
    }
    uint64_t size; /* a FIFO in place of a shard must not hang the load */
    int fd = tlb_open_regular_size(path, &size);
    if (fd < 0) return -1;
    if (size < 8) {
        tlb_error("%s: file is %llu bytes, too short for a safetensors header", path,
                  (unsigned long long)size);
        close(fd);
        return -1;
    }
    f->map_len = (size_t)size;
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
    struct tlb_st_file f = {0};
    int rc = st_parse(&f, source, data, size);
    if (rc == 0) rc = (int)TLB_MIN(f.n, (size_t)INT_MAX);
    st_close(&f);
    return rc;
}

/* ---- the tensor files of a checkpoint ---- */

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct tlb_st_entry *)a)->name,
                  ((const struct tlb_st_entry *)b)->name);
}

int tlb_st_path(char *out, size_t n, const char *dir, const char *name) {
    if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n) {
        tlb_error("%s/%s: path too long", dir, TLB_ST_SAFE(name));
        return -1;
    }
    return 0;
}

/* An index entry's shard name, to find the distinct names by sorting. */
struct shard_ref {
    const char *name;
    size_t entry;
};

static int cmp_shard_ref(const void *a, const void *b) {
    return strcmp(((const struct shard_ref *)a)->name, ((const struct shard_ref *)b)->name);
}

/* A shard is a plain file name in the checkpoint's directory: no path, no traversal. */
static int shard_name_ok(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int tlb_st_files_open_index(struct tlb_st_files *c) {
    size_t len;
    char *text = tlb_read_file(c->index, ST_MAX_INDEX, &len);
    if (!text) return -1;
    c->index_root = tlb_json_parse(c->index, "index", text, len, ST_HEADER_DEPTH);
    free(text);
    if (!c->index_root) return -1;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(c->index_root, "weight_map");
    if (!cJSON_IsObject(wm)) {
        tlb_error("%s: weight_map is %s, not an object", c->index, tlb_json_kind(wm));
        return -1;
    }
    if (tlb_json_check_dup_keys(c->index, "weight_map", wm) != 0) return -1;
    size_t n = 0;
    for (const cJSON *e = wm->child; e; e = e->next) n++;
    if (!n) {
        tlb_error("%s: weight_map is empty", c->index);
        return -1;
    }
    c->entries = tlb_calloc(n, sizeof *c->entries, "index entries");
    const char **shards = tlb_calloc(n, sizeof *shards, "shard names");
    struct shard_ref *refs = tlb_calloc(n, sizeof *refs, "shard names");
    int rc = -1, n_shards = 0;
    if (!c->entries || !shards || !refs) goto done;
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            tlb_error("%s: weight_map entry %s is %s, not a file name", c->index,
                      TLB_ST_SAFE(e->string), tlb_json_kind(e));
            goto done;
        }
        if (!shard_name_ok(e->valuestring)) {
            tlb_error("%s: shard \"%s\" for %s is not a plain file name in the checkpoint's "
                      "directory (refused)", c->index, TLB_ST_SAFE(e->valuestring),
                      TLB_ST_SAFE(e->string));
            goto done;
        }
        refs[c->n_entries] = (struct shard_ref){e->valuestring, c->n_entries};
        c->entries[c->n_entries++] = (struct tlb_st_entry){e->string, 0};
    }
    /* The distinct shard names, by sorting (n log n: a linear search per entry took ~30
     * minutes on a 64 MB index naming a new shard in every entry). */
    qsort(refs, c->n_entries, sizeof *refs, cmp_shard_ref);
    for (size_t i = 0; i < c->n_entries; i++) {
        if (i == 0 || strcmp(refs[i].name, refs[i - 1].name) != 0) shards[n_shards++] = refs[i].name;
        c->entries[refs[i].entry].file = n_shards - 1;
    }
    qsort(c->entries, c->n_entries, sizeof *c->entries, cmp_entry);
    if (!(c->files = tlb_calloc((size_t)n_shards, sizeof *c->files, "shards"))) goto done;
    c->n_files = n_shards;
    for (int k = 0; k < c->n_files; k++) {
        char p[PATH_MAX];
        if (tlb_st_path(p, sizeof p, c->dir, shards[k])) goto done;
        if (!is_regular(p)) {
            tlb_error("%s: names shard %s, which is missing or not a regular file", c->index,
                      TLB_ST_SAFE(shards[k]));
            goto done;
        }
        if (st_open(&c->files[k], p) != 0) goto done;
    }
    rc = 0;
done:
    free(shards);
    free(refs);
    return rc;
}

int tlb_st_files_open_single(struct tlb_st_files *c, const char *path) {
    if (!(c->files = tlb_calloc(1, sizeof *c->files, "safetensors file"))) return -1;
    c->n_files = 1;
    return st_open(&c->files[0], path);
}

int tlb_st_files_from_mem(struct tlb_st_files *c, const char *name, const void *data,
                          size_t size) {
    if (!(c->files = tlb_calloc(1, sizeof *c->files, "safetensors file"))) return -1;
    c->n_files = 1;
    snprintf(c->files[0].path, sizeof c->files[0].path, "%s", name);
    return st_parse(&c->files[0], c->files[0].path, data, size);
}

void tlb_st_files_close(struct tlb_st_files *c) {
    for (int k = 0; k < c->n_files; k++) st_close(&c->files[k]);
    free(c->files);
    free(c->entries);
    cJSON_Delete(c->index_root);
    c->files = NULL;
    c->entries = NULL;
    c->index_root = NULL;
    c->n_files = 0;
    c->n_entries = 0;
}

int tlb_st_files_has(const struct tlb_st_files *c, const char *name) {
    struct tlb_st_entry key = {name, 0};
    if (c->index[0])
        return bsearch(&key, c->entries, c->n_entries, sizeof key, cmp_entry) != NULL;
    return st_find(&c->files[0], name) != NULL;
}

const struct tlb_st_tensor *tlb_st_files_find(struct tlb_st_files *c, const char *name,
                                              struct tlb_st_file **fp) {
    struct tlb_st_file *f = &c->files[0];
    if (c->index[0]) {
        struct tlb_st_entry key = {name, 0};
        const struct tlb_st_entry *e =
            bsearch(&key, c->entries, c->n_entries, sizeof key, cmp_entry);
        if (!e) {
            tlb_error("%s: missing tensor %s", c->index, name);
            return NULL;
        }
        f = &c->files[e->file];
        const struct tlb_st_tensor *t = st_find(f, name);
        if (!t)
            tlb_error("%s: tensor %s is not in %s, where the index places it", f->path, name,
                      c->index);
        *fp = f;
        return t;
    }
    const struct tlb_st_tensor *t = st_find(f, name);
    if (!t) {
        char p[PATH_MAX];
        int shard = c->dir[0] &&
                    tlb_st_path(p, sizeof p, c->dir, "model.safetensors.index.json") == 0 &&
                    is_regular(p);
        tlb_error("%s: missing tensor %s%s", f->path, name,
                  shard ? " (this looks like one shard: load the directory instead)" : "");
    }
    *fp = f;
    return t;
}

#endif
