/* json-out.c — JSON output through cJSON (see json-out.h). */
#include "json-out.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "escape.h"
#include "util.h"

#if TLB_HAVE_CJSON
#include <cjson/cJSON.h>

int tlb_json_check(const char *what) {
    (void)what;
    return 0;
}

/* A JSON string of s: cJSON escapes quotes and controls; invalid UTF-8 is made valid first. */
static cJSON *string_of(const char *s) {
    struct tlb_buf b = {0};
    tlb_esc_utf8(&b, s);
    cJSON *j = b.failed ? NULL : cJSON_CreateString(b.p ? b.p : "");
    tlb_buf_free(&b);
    return j;
}

/* obj[key] = the JSON string of s. 1, or 0 on failure (as cJSON's Add functions). */
static int add_string(cJSON *obj, const char *key, const char *s) {
    cJSON *j = string_of(s);
    if (j && cJSON_AddItemToObject(obj, key, j)) return 1;
    cJSON_Delete(j);
    return 0;
}

/* ---------------------------------------------------------------- rows */

/* A number with the shortest text that reads back to exactly v (the CSV's own form).
 * cJSON prints 15 significant digits whenever they compare equal within an epsilon, which
 * can lose the last bit; JSON readers must get the row's exact value. */
static cJSON *exact_number(double v) {
    char text[40];
    if (tlb_format_double(v, text, sizeof text) != 0) return cJSON_CreateNull();
    return cJSON_CreateRaw(text);
}

/* A cell as a JSON value of its column's type (cells were validated when set). */
static cJSON *cell_value(enum tlb_col_type type, const char *v) {
    switch (type) {
    case TLB_COL_STR: return string_of(v);
    case TLB_COL_INT: {
        errno = 0;
        long long i = strtoll(v, NULL, 10);
        if (errno) return NULL;
        if (i > -(1LL << 53) && i < (1LL << 53)) return cJSON_CreateNumber((double)i);
        char digits[32]; /* beyond a double's exact range: the integer's own digits */
        snprintf(digits, sizeof digits, "%lld", i);
        return cJSON_CreateRaw(digits);
    }
    case TLB_COL_FLOAT: return exact_number(strtod(v, NULL));
    case TLB_COL_SAMPLES: {
        cJSON *a = cJSON_CreateArray();
        for (const char *p = v; a && *p;) {
            char *end;
            double x = strtod(p, &end);
            if (end == p || !cJSON_AddItemToArray(a, exact_number(x))) {
                cJSON_Delete(a);
                return NULL;
            }
            p = *end == TLB_SAMPLES_SEP ? end + 1 : end;
        }
        return a;
    }
    }
    return NULL;
}

static double cell_num(const struct tlb_row *r, const char *col) {
    const char *v = tlb_row_get(r, col);
    return v && *v ? strtod(v, NULL) : NAN;
}

/* llama-bench's fields (tools/llama-bench: the JSON/SQL field list) where tlbench has the same
 * thing, and constants that are true for a CPU-only engine where compare-llama-bench.py needs
 * the key. avg_ns/stddev_ns/samples_ns: per repetition, the time of one prefill plus one decode
 * phase, (n_prompt + n_gen) / samples_ts. */
static int add_llama_bench(cJSON *o, const struct tlb_row *r) {
    char model_type[160], wt[16];
    const char *wtype = tlb_row_get(r, "weight_type");
    size_t i = 0;
    for (; wtype[i] && i + 1 < sizeof wt; i++)
        wt[i] = (char)(wtype[i] >= 'a' && wtype[i] <= 'z' ? wtype[i] - 32 : wtype[i]);
    wt[i] = '\0';
    snprintf(model_type, sizeof model_type, "%s %s", tlb_row_get(r, "model_name"), wt);
    double np = cell_num(r, "n_prompt"), ng = cell_num(r, "n_gen");
    const char *mapping = tlb_row_get(r, "weight_mapping");
    int ok = add_string(o, "model_filename", tlb_row_get(r, "model_source")) &&
             add_string(o, "model_type", model_type) &&
             add_string(o, "backends", tlb_row_get(r, "kernel")) &&
             cJSON_AddStringToObject(o, "gpu_info", "") &&
             add_string(o, "type_k", tlb_row_get(r, "kv_type")) &&
             add_string(o, "type_v", tlb_row_get(r, "kv_type")) &&
             cJSON_AddNumberToObject(o, "use_mmap", !strncmp(mapping, "mmap", 4)) &&
             cJSON_AddNumberToObject(o, "n_gpu_layers", 0) &&
             cJSON_AddStringToObject(o, "split_mode", "none") &&
             cJSON_AddNumberToObject(o, "main_gpu", 0) &&
             cJSON_AddNumberToObject(o, "no_kv_offload", 0) &&
             cJSON_AddNumberToObject(o, "flash_attn", 0) &&
             cJSON_AddStringToObject(o, "tensor_split", "0.00") &&
             cJSON_AddStringToObject(o, "tensor_buft_overrides", "none") &&
             cJSON_AddStringToObject(o, "cpu_mask", "0x0") &&
             cJSON_AddNumberToObject(o, "cpu_strict", 0) &&
             cJSON_AddNumberToObject(o, "poll", 0) &&
             cJSON_AddNumberToObject(o, "embeddings", 0) &&
             cJSON_AddNumberToObject(o, "no_op_offload", 0);
    /* the prefill is one batch of n_prompt tokens */
    if (ok && isfinite(np)) {
        ok = cJSON_AddNumberToObject(o, "n_batch", np) && cJSON_AddNumberToObject(o, "n_ubatch", np);
    }
    const char *samples = tlb_row_get(r, "samples_ts");
    if (!ok || !samples || !*samples || !isfinite(np) || !isfinite(ng)) return ok ? 0 : -1;
    cJSON *ns = cJSON_CreateArray();
    double sum = 0, sum2 = 0;
    size_t n = 0;
    for (const char *p = samples; ns && *p;) {
        char *end;
        double ts = strtod(p, &end);
        if (end == p || !(ts > 0)) break;
        double t_ns = (np + ng) / ts * 1e9;
        if (!cJSON_AddItemToArray(ns, cJSON_CreateNumber(round(t_ns)))) break;
        sum += t_ns;
        sum2 += t_ns * t_ns;
        n++;
        p = *end == TLB_SAMPLES_SEP ? end + 1 : end;
    }
    if (!ns || !cJSON_AddItemToObject(o, "samples_ns", ns)) {
        cJSON_Delete(ns);
        return -1;
    }
    if (n == 0) return 0;
    double mean = sum / (double)n;
    double var = n > 1 ? (sum2 - sum * mean) / (double)(n - 1) : 0;
    return cJSON_AddNumberToObject(o, "avg_ns", round(mean)) &&
                   cJSON_AddNumberToObject(o, "stddev_ns", round(sqrt(var > 0 ? var : 0)))
               ? 0
               : -1;
}

char *tlb_json_row(const struct tlb_row *r, int pretty) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    for (int i = 0; i < tlb_n_columns; i++) {
        const char *v = tlb_row_get(r, tlb_columns[i].name);
        if (!v || !*v) continue; /* not measured */
        cJSON *item = cell_value(tlb_columns[i].type, v);
        if (!item || !cJSON_AddItemToObject(o, tlb_columns[i].name, item)) {
            cJSON_Delete(item);
            cJSON_Delete(o);
            return NULL;
        }
    }
    char *text = add_llama_bench(o, r) == 0 ? (pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o))
                                            : NULL;
    cJSON_Delete(o);
    return text;
}

/* ---------------------------------------------------------------- BMF */

struct tlb_bmf {
    cJSON *root;
};

struct tlb_bmf *tlb_bmf_new(void) {
    struct tlb_bmf *d = tlb_calloc(1, sizeof *d, "BMF document");
    if (d && !(d->root = cJSON_CreateObject())) {
        free(d);
        d = NULL;
    }
    return d;
}

int tlb_bmf_add(struct tlb_bmf *d, const char *benchmark, const char *measure, double value,
                double lo, double hi) {
    if (!isfinite(value)) return -1;
    struct tlb_buf name = {0}; /* a benchmark is named by a label from the files */
    tlb_esc_utf8(&name, benchmark);
    if (name.failed) return -1;
    const char *key = name.p ? name.p : "";
    cJSON *b = cJSON_GetObjectItemCaseSensitive(d->root, key);
    if (!b) b = cJSON_AddObjectToObject(d->root, key);
    tlb_buf_free(&name);
    if (!b) return -1;
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddNumberToObject(m, "value", value) ||
        (isfinite(lo) && !cJSON_AddNumberToObject(m, "lower_value", lo)) ||
        (isfinite(hi) && !cJSON_AddNumberToObject(m, "upper_value", hi)) ||
        !cJSON_AddItemToObject(b, measure, m)) {
        cJSON_Delete(m);
        return -1;
    }
    return 0;
}

char *tlb_bmf_print(const struct tlb_bmf *d) { return cJSON_Print(d->root); }

void tlb_bmf_free(struct tlb_bmf *d) {
    if (!d) return;
    cJSON_Delete(d->root);
    free(d);
}

/* ---------------------------------------------------------------- flat object */

struct tlb_json_obj {
    cJSON *root;
};

struct tlb_json_obj *tlb_json_obj_new(void) {
    struct tlb_json_obj *o = tlb_calloc(1, sizeof *o, "JSON object");
    if (o && !(o->root = cJSON_CreateObject())) {
        free(o);
        o = NULL;
    }
    return o;
}

int tlb_json_obj_str(struct tlb_json_obj *o, const char *key, const char *v) {
    return add_string(o->root, key, v ? v : "") ? 0 : -1;
}

int tlb_json_obj_num(struct tlb_json_obj *o, const char *key, double v) {
    return (isfinite(v) ? cJSON_AddNumberToObject(o->root, key, v)
                        : cJSON_AddNullToObject(o->root, key))
               ? 0
               : -1;
}

char *tlb_json_obj_print(const struct tlb_json_obj *o) { return cJSON_Print(o->root); }

void tlb_json_obj_free(struct tlb_json_obj *o) {
    if (!o) return;
    cJSON_Delete(o->root);
    free(o);
}

#else /* no cJSON: JSON output says so */

int tlb_json_check(const char *what) {
    tlb_error("%s needs cJSON, and this tlbench was built without it (Debian: libcjson-dev; "
              "'make deps' installs it, then rebuild)", what);
    return -1;
}
char *tlb_json_row(const struct tlb_row *r, int pretty) {
    (void)r;
    (void)pretty;
    return NULL;
}
struct tlb_bmf *tlb_bmf_new(void) { return NULL; }
int tlb_bmf_add(struct tlb_bmf *d, const char *benchmark, const char *measure, double value,
                double lo, double hi) {
    (void)d, (void)benchmark, (void)measure, (void)value, (void)lo, (void)hi;
    return -1;
}
char *tlb_bmf_print(const struct tlb_bmf *d) {
    (void)d;
    return NULL;
}
void tlb_bmf_free(struct tlb_bmf *d) { (void)d; }
struct tlb_json_obj *tlb_json_obj_new(void) { return NULL; }
int tlb_json_obj_str(struct tlb_json_obj *o, const char *key, const char *v) {
    (void)o, (void)key, (void)v;
    return -1;
}
int tlb_json_obj_num(struct tlb_json_obj *o, const char *key, double v) {
    (void)o, (void)key, (void)v;
    return -1;
}
char *tlb_json_obj_print(const struct tlb_json_obj *o) {
    (void)o;
    return NULL;
}
void tlb_json_obj_free(struct tlb_json_obj *o) { (void)o; }

#endif

/* ---------------------------------------------------------------- streams */

int tlb_json_stream_row(struct tlb_json_stream *s, const struct tlb_row *r) {
    char *text = tlb_json_row(r, 0);
    if (!text) {
        tlb_error("cannot write a row as JSON (out of memory, or no cJSON in this build)");
        return -1;
    }
    const char *sep = s->lines ? "" : s->n ? ",\n" : "[\n";
    int bad = fputs(sep, s->f) == EOF || fputs(text, s->f) == EOF ||
              (s->lines && fputc('\n', s->f) == EOF) || fflush(s->f) != 0;
    free(text);
    if (bad) {
        tlb_error("write error on the JSON output");
        return -1;
    }
    s->n++;
    return 0;
}

int tlb_json_stream_end(struct tlb_json_stream *s) {
    if (s->lines) return 0;
    int bad = fputs(s->n ? "\n]\n" : "[]\n", s->f) == EOF || fflush(s->f) != 0;
    if (bad) tlb_error("write error on the JSON output");
    return bad ? -1 : 0;
}
