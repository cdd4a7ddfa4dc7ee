/* llama-records.c — llama-bench's json, jsonl and csv output into records, records into
 * configurations and rows (see llama-records.h). JSON is read with cJSON, CSV with libcsv;
 * both end in one field setter, so a value means the same whatever the format. */
#include "llama-records.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TLB_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#include "buf.h"
#include "phase-cells.h"
#include "stats.h"
#include "util.h"

#define MAX_FIELDS 256        /* fields of one record */
#define MAX_VALUE 4096        /* bytes of one field's value */

/* ---------------------------------------------------------------- fields */

enum kind { K_STR, K_INT, K_BOOL, K_NUM, K_SAMPLES };

struct field {
    const char *name;
    enum kind kind;
    size_t off;      /* into struct tlb_lb_record */
    size_t cap;      /* K_STR: buffer size */
    int64_t min, max;
    int config;      /* part of the configuration key */
};

#define RF(f) offsetof(struct tlb_lb_record, f)
#define STR(f, cfg) {#f, K_STR, RF(f), sizeof(((struct tlb_lb_record *)0)->f), 0, 0, cfg}
#define INT(f, lo, hi, cfg) {#f, K_INT, RF(f), 0, lo, hi, cfg}
static const struct field fields[] = {
    STR(build_commit, 1),
    INT(build_number, 0, INT32_MAX, 1),
    STR(cpu_info, 1),
    STR(gpu_info, 1),
    STR(backends, 1),
    STR(model_filename, 1),
    STR(model_type, 1),
    INT(model_size, 0, (int64_t)1 << 50, 1),
    INT(model_n_params, 0, (int64_t)1 << 50, 1),
    INT(n_threads, 1, 1 << 20, 1),
    STR(type_k, 1),
    STR(type_v, 1),
    {"use_mmap", K_BOOL, RF(use_mmap), 0, 0, 1, 1},
    INT(n_prompt, 0, 1 << 24, 0),
    INT(n_gen, 0, 1 << 24, 0),
    INT(n_depth, 0, 1 << 24, 1),
    STR(test_time, 0),
    {"avg_ns", K_NUM, RF(avg_ns), 0, 0, 0, 0},
    {"stddev_ns", K_NUM, RF(stddev_ns), 0, 0, 0, 0},
    {"avg_ts", K_NUM, RF(avg_ts), 0, 0, 0, 0},
    {"stddev_ts", K_NUM, RF(stddev_ts), 0, 0, 0, 0},
    {"samples_ns", K_SAMPLES, RF(samples_ns), 0, 0, 0, 0},
    {"samples_ts", K_SAMPLES, RF(samples_ts), 0, 0, 0, 0},
};
#undef STR
#undef INT

static const struct field *find_field(const char *name) {
    for (size_t i = 0; i < TLB_ARRAY_LEN(fields); i++)
        if (!strcmp(fields[i].name, name)) return &fields[i];
    return NULL;
}

/* Where errors point: "FILE: line 3" or "FILE: record 3". */
struct where {
    const char *source, *unit;
    size_t n;
};

static void init_record(struct tlb_lb_record *r, size_t where) {
    memset(r, 0, sizeof *r);
    r->build_number = r->model_size = r->model_n_params = r->n_threads = -1;
    r->use_mmap = -1;
    r->n_prompt = r->n_gen = -1;
    r->avg_ns = r->stddev_ns = r->avg_ts = r->stddev_ts = NAN;
    r->where = where;
}

static void free_record(struct tlb_lb_record *r) {
    free(r->samples_ns);
    free(r->samples_ts);
    free(r->key);
    r->samples_ns = r->samples_ts = NULL;
    r->key = NULL;
}

static int strict_i64(const char *s, int64_t *out) {
    if (!*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int strict_num(const char *s, double *out) {
    if (!*s || isspace((unsigned char)*s)) return -1;
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789+-.eE", *p)) return -1; /* no nan, inf, hex */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Samples as text: "[ 1, 2, 3 ]" or "1, 2, 3" (a csv cell, should a version write them). */
static int text_samples(const char *s, double **out, size_t *n) {
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    char tok[64];
    const char *p = s;
    while (*p == ' ' || *p == '[') p++;
    while (*p && *p != ']') {
        size_t k = 0;
        while (*p && *p != ',' && *p != ' ' && *p != ']') {
            if (k + 1 >= sizeof tok) return -1;
            tok[k++] = *p++;
        }
        tok[k] = '\0';
        while (*p == ',' || *p == ' ') p++;
        if (!k) continue;
        double v;
        if (strict_num(tok, &v) != 0 || *n >= TLB_CSV_MAX_SAMPLES) return -1;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            double *q = realloc(*out, cap * sizeof *q);
            if (!q) return -1;
            *out = q;
        }
        (*out)[(*n)++] = v;
    }
    return *p == ']' && p[1] ? -1 : 0;
}

/* Append "name=value\x1f" to the configuration key. */
static int key_add(struct tlb_buf *key, const char *name, const char *value) {
    return tlb_buf_add(key, name, strlen(name)) || tlb_buf_add(key, "=", 1) ||
           tlb_buf_add(key, value, strlen(value)) || tlb_buf_add(key, "\x1f", 1);
}

/* Set one field from its text. jtype is the JSON value's type ('s' string, 'n' number, 'b'
 * bool) and must be the field's, as llama-bench writes it; 0 for csv, where all is text.
 * Unknown fields only join the key (newer llama-bench versions add configuration fields).
 * 0, or -1 after an error line. */
static int set_field(struct tlb_lb_record *r, struct tlb_buf *key, const char *name,
                     const char *text, char jtype, const struct where *w) {
    const struct field *f = find_field(name);
    if (strlen(name) > 64) {
        tlb_error("%s: %s %zu: a field name longer than 64 bytes", w->source, w->unit, w->n);
        return -1;
    }
    if (f && jtype) {
        char want = f->kind == K_STR ? 's' : f->kind == K_BOOL ? 'b' : 'n';
        if (jtype != want) {
            tlb_error("%s: %s %zu: %s is a JSON %s, llama-bench writes a %s", w->source, w->unit,
                      w->n, name, jtype == 's' ? "string" : jtype == 'b' ? "bool" : "number",
                      want == 's' ? "string" : want == 'b' ? "bool" : "number");
            return -1;
        }
    }
    if (!f || f->config) {
        if (key_add(key, name, text)) {
            tlb_error("%s: out of memory", w->source);
            return -1;
        }
    }
    if (!f) return 0;
    char *base = (char *)r + f->off;
    switch (f->kind) {
    case K_STR:
        if (strlen(text) >= f->cap) {
            tlb_error("%s: %s %zu: %s is longer than %zu bytes", w->source, w->unit, w->n, name,
                      f->cap - 1);
            return -1;
        }
        memcpy(base, text, strlen(text) + 1);
        return 0;
    case K_INT: {
        int64_t v;
        if (strict_i64(text, &v) != 0 || v < f->min || v > f->max) {
            tlb_error("%s: %s %zu: %s '%.40s' is not an integer in [%lld, %lld]", w->source,
                      w->unit, w->n, name, text, (long long)f->min, (long long)f->max);
            return -1;
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case K_BOOL: {
        int v = !strcmp(text, "1") || !strcmp(text, "true") ? 1
                : !strcmp(text, "0") || !strcmp(text, "false") ? 0 : -1;
        if (v < 0) {
            tlb_error("%s: %s %zu: %s '%.40s' is not 0/1/true/false", w->source, w->unit, w->n,
                      name, text);
            return -1;
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case K_NUM: {
        double v;
        if (strict_num(text, &v) != 0 || v < 0) {
            tlb_error("%s: %s %zu: %s '%.40s' is not a finite number >= 0", w->source, w->unit,
                      w->n, name, text);
            return -1;
        }
        memcpy(base, &v, sizeof v);
        return 0;
    }
    case K_SAMPLES: {
        double *v;
        size_t n;
        if (text_samples(text, &v, &n) != 0) {
            free(v);
            tlb_error("%s: %s %zu: %s is not a list of at most %d finite numbers", w->source,
                      w->unit, w->n, name, TLB_CSV_MAX_SAMPLES);
            return -1;
        }
        double **dst = (double **)(void *)base;
        free(*dst);
        *dst = v;
        if (!strcmp(name, "samples_ns")) r->n_samples_ns = n;
        else r->n_samples_ts = n;
        return 0;
    }
    }
    return -1;
}

/* A record is complete and consistent: phases given, samples positive and paired. */
static int check_record(struct tlb_lb_record *r, struct tlb_buf *key, const struct where *w) {
    const char *why = NULL;
    if (r->n_prompt < 0 || r->n_gen < 0) why = "lacks n_prompt or n_gen";
    else if (r->n_prompt == 0 && r->n_gen == 0) why = "has n_prompt 0 and n_gen 0 (no test)";
    else if (r->samples_ns && r->samples_ts && r->n_samples_ns != r->n_samples_ts)
        why = "has different counts of samples_ns and samples_ts";
    else if (!r->samples_ts && !r->samples_ns && isnan(r->avg_ts))
        why = "has neither samples nor avg_ts";
    for (size_t i = 0; !why && i < r->n_samples_ns; i++)
        if (!(r->samples_ns[i] > 0)) why = "has a samples_ns value <= 0";
    for (size_t i = 0; !why && i < r->n_samples_ts; i++)
        if (!(r->samples_ts[i] > 0)) why = "has a samples_ts value <= 0";
    if (why) {
        tlb_error("%s: %s %zu: the llama-bench record %s", w->source, w->unit, w->n, why);
        return -1;
    }
    if (tlb_buf_add(key, "", 1) || !(r->key = strdup((const char *)key->p))) {
        tlb_error("%s: out of memory", w->source);
        return -1;
    }
    return 0;
}

static int push(struct tlb_lb_set *s, size_t *cap, const struct tlb_lb_record *r,
                const struct where *w) {
    if (s->n >= TLB_LB_MAX_RECORDS) {
        tlb_error("%s: more than %d llama-bench records", w->source, TLB_LB_MAX_RECORDS);
        return -1;
    }
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct tlb_lb_record *q = realloc(s->recs, nc * sizeof *q);
        if (!q) {
            tlb_error("%s: out of memory", w->source);
            return -1;
        }
        s->recs = q;
        *cap = nc;
    }
    s->recs[s->n++] = *r;
    return 0;
}

/* ---------------------------------------------------------------- json and jsonl */

#ifdef TLB_HAVE_CJSON
static int json_record(const cJSON *obj, struct tlb_lb_record *r, const struct where *w) {
    if (!cJSON_IsObject(obj)) {
        tlb_error("%s: %s %zu: not a JSON object", w->source, w->unit, w->n);
        return -1;
    }
    struct tlb_buf key = {.max = 1 << 20};
    int rc = 0, n = 0;
    for (const cJSON *it = obj->child; it && rc == 0; it = it->next) {
        if (++n > MAX_FIELDS) {
            tlb_error("%s: %s %zu: more than %d fields", w->source, w->unit, w->n, MAX_FIELDS);
            rc = -1;
            break;
        }
        const char *name = it->string ? it->string : "";
        const struct field *f = find_field(name);
        char text[64];
        if (cJSON_IsArray(it)) {
            if (!f || f->kind != K_SAMPLES) {
                tlb_error("%s: %s %zu: %.64s: an array where a value was expected", w->source,
                          w->unit, w->n, name);
                rc = -1;
                break;
            }
            int cnt = cJSON_GetArraySize(it);
            if (cnt > TLB_CSV_MAX_SAMPLES) {
                tlb_error("%s: %s %zu: %s has more than %d values", w->source, w->unit, w->n,
                          name, TLB_CSV_MAX_SAMPLES);
                rc = -1;
                break;
            }
            double *v = tlb_malloc((size_t)(cnt ? cnt : 1) * sizeof *v, "samples");
            if (!v) {
                rc = -1;
                break;
            }
            int k = 0;
            for (const cJSON *e = it->child; e; e = e->next) {
                if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
                    tlb_error("%s: %s %zu: %s holds a value that is not a finite number",
                              w->source, w->unit, w->n, name);
                    rc = -1;
                    break;
                }
                v[k++] = e->valuedouble;
            }
            if (rc) {
                free(v);
                break;
            }
            double **dst = (double **)(void *)((char *)r + f->off);
            free(*dst);
            *dst = v;
            if (!strcmp(name, "samples_ns")) r->n_samples_ns = (size_t)k;
            else r->n_samples_ts = (size_t)k;
            continue;
        }
        const char *val;
        char jtype;
        if (cJSON_IsString(it)) {
            jtype = 's';
            val = it->valuestring ? it->valuestring : "";
            if (strlen(val) > MAX_VALUE) {
                tlb_error("%s: %s %zu: %.64s is longer than %d bytes", w->source, w->unit, w->n,
                          name, MAX_VALUE);
                rc = -1;
                break;
            }
        } else if (cJSON_IsBool(it)) {
            jtype = 'b';
            val = cJSON_IsTrue(it) ? "1" : "0";
        } else if (cJSON_IsNumber(it)) {
            jtype = 'n';
            if (!isfinite(it->valuedouble)) {
                tlb_error("%s: %s %zu: %.64s is not finite", w->source, w->unit, w->n, name);
                rc = -1;
                break;
            }
            snprintf(text, sizeof text, "%.17g", it->valuedouble);
            val = text;
        } else if (cJSON_IsNull(it)) {
            continue;
        } else {
            tlb_error("%s: %s %zu: %.64s: an object where a value was expected", w->source,
                      w->unit, w->n, name);
            rc = -1;
            break;
        }
        rc = set_field(r, &key, name, val, jtype, w);
    }
    if (rc == 0) rc = check_record(r, &key, w);
    tlb_buf_free(&key);
    return rc;
}

static int parse_jsonl(const char *text, size_t len, const char *source, struct tlb_lb_set *s) {
    size_t cap = 0, line = 0;
    for (size_t at = 0; at < len;) {
        const char *p = text + at, *nl = memchr(p, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - p) : len - at;
        at += ll + (nl ? 1 : 0);
        line++;
        while (ll && isspace((unsigned char)p[ll - 1])) ll--;
        while (ll && isspace((unsigned char)*p)) p++, ll--;
        if (!ll || (ll >= 13 && !memcmp(p, "llama-bench: ", 13))) continue;
        struct where w = {source, "line", line};
        cJSON *obj = cJSON_ParseWithLength(p, ll);
        if (!obj) {
            tlb_error("%s: line %zu: not a JSON object (llama-bench -o jsonl prints one per line)",
                      source, line);
            return -1;
        }
        struct tlb_lb_record r;
        init_record(&r, line);
        int rc = json_record(obj, &r, &w);
        cJSON_Delete(obj);
        if (rc == 0) rc = push(s, &cap, &r, &w);
        if (rc) {
            free_record(&r);
            return -1;
        }
    }
    return 0;
}

static int parse_json(const char *text, size_t len, const char *source, struct tlb_lb_set *s) {
    cJSON *arr = cJSON_ParseWithLength(text, len);
    if (!arr || !cJSON_IsArray(arr)) {
        tlb_error("%s: not a JSON array of records (llama-bench -o json)", source);
        cJSON_Delete(arr);
        return -1;
    }
    size_t cap = 0, k = 0;
    int rc = 0;
    for (const cJSON *e = arr->child; e && rc == 0; e = e->next) {
        struct where w = {source, "record", ++k};
        struct tlb_lb_record r;
        init_record(&r, k);
        rc = json_record(e, &r, &w);
        if (rc == 0) rc = push(s, &cap, &r, &w);
        if (rc) free_record(&r);
    }
    cJSON_Delete(arr);
    return rc;
}
#endif

/* ---------------------------------------------------------------- csv */

struct csv_scan {
    const char *source;
    struct tlb_lb_set *set;
    size_t cap, row;
    char *header[MAX_FIELDS];
    int n_header;
    char *cells[MAX_FIELDS];
    int n_cells;
    int failed, overflow;
};

static void csv_cell(void *data, size_t n, void *ud) {
    struct csv_scan *s = ud;
    if (s->failed) return;
    if (s->n_cells >= MAX_FIELDS || n > MAX_VALUE) {
        s->overflow = 1;
        return;
    }
    char *c = tlb_malloc(n + 1, "csv cell");
    if (!c) {
        s->failed = 1;
        return;
    }
    memcpy(c, data, n);
    c[n] = '\0';
    s->cells[s->n_cells++] = c;
}

static void clear_cells(struct csv_scan *s) {
    for (int i = 0; i < s->n_cells; i++) free(s->cells[i]);
    s->n_cells = 0;
}

static void csv_record(int c, void *ud) {
    (void)c;
    struct csv_scan *s = ud;
    s->row++;
    struct where w = {s->source, "line", s->row};
    if (s->failed) goto out;
    if (s->overflow) {
        tlb_error("%s: line %zu: more than %d cells or a cell over %d bytes", s->source, s->row,
                  MAX_FIELDS, MAX_VALUE);
        s->failed = 1;
        goto out;
    }
    if (!s->n_header) {
        if (s->n_cells < 1 || strcmp(s->cells[0], "build_commit") != 0) {
            tlb_error("%s: line 1: not llama-bench's csv header (it starts with build_commit)",
                      s->source);
            s->failed = 1;
            goto out;
        }
        memcpy(s->header, s->cells, sizeof s->cells);
        s->n_header = s->n_cells;
        s->n_cells = 0;
        return;
    }
    if (s->n_cells != s->n_header) {
        tlb_error("%s: line %zu: %d cells, the header has %d", s->source, s->row, s->n_cells,
                  s->n_header);
        s->failed = 1;
        goto out;
    }
    struct tlb_lb_record r;
    init_record(&r, s->row);
    struct tlb_buf key = {.max = 1 << 20};
    int rc = 0;
    for (int i = 0; i < s->n_cells && rc == 0; i++)
        rc = set_field(&r, &key, s->header[i], s->cells[i], 0, &w);
    if (rc == 0) rc = check_record(&r, &key, &w);
    tlb_buf_free(&key);
    if (rc == 0) rc = push(s->set, &s->cap, &r, &w);
    if (rc) {
        free_record(&r);
        s->failed = 1;
    }
out:
    clear_cells(s);
}

static int parse_csv(const char *text, size_t len, const char *source, struct tlb_lb_set *set) {
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        tlb_error("%s: cannot start the CSV parser", source);
        return -1;
    }
    struct csv_scan s = {.source = source, .set = set};
    if (csv_parse(&p, text, len, csv_cell, csv_record, &s) != len && !s.failed) {
        tlb_error("%s: malformed CSV (%s)", source, csv_strerror(csv_error(&p)));
        s.failed = 1;
    }
    if (!s.failed && csv_fini(&p, csv_cell, csv_record, &s) != 0 && !s.failed) {
        tlb_error("%s: malformed CSV at the end (%s)", source, csv_strerror(csv_error(&p)));
        s.failed = 1;
    }
    csv_free(&p);
    clear_cells(&s);
    for (int i = 0; i < s.n_header; i++) free(s.header[i]);
    if (!s.failed && !s.n_header) {
        tlb_error("%s: empty: no llama-bench csv header", source);
        s.failed = 1;
    }
    return s.failed ? -1 : 0;
}

/* ---------------------------------------------------------------- entry points */

const char *tlb_lb_format_name(enum tlb_lb_format f) {
    switch (f) {
    case TLB_LB_JSON: return "json";
    case TLB_LB_JSONL: return "jsonl";
    case TLB_LB_CSV: return "csv";
    default: return "auto";
    }
}

static enum tlb_lb_format detect(const char *text, size_t len, const char *source) {
    size_t i = 0;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) i = 3;
    for (;;) {
        while (i < len && isspace((unsigned char)text[i])) i++;
        if (len - i >= 13 && !memcmp(text + i, "llama-bench: ", 13)) { /* progress lines */
            const char *nl = memchr(text + i, '\n', len - i);
            if (!nl) break;
            i = (size_t)(nl - text) + 1;
            continue;
        }
        break;
    }
    const char *p = text + i;
    size_t n = len - i;
    if (n && *p == '[') return TLB_LB_JSON;
    if (n && *p == '{') return TLB_LB_JSONL;
    if (n >= 12 && !memcmp(p, "build_commit", 12)) return TLB_LB_CSV;
    if (n && *p == '|')
        tlb_error("%s: this is llama-bench's markdown table (-o md), which lacks the samples "
                  "and part of the configuration: run llama-bench -o json, jsonl or csv",
                  source);
    else if (n >= 12 && !memcmp(p, "CREATE TABLE", 12))
        tlb_error("%s: this is llama-bench's sql output (-o sql): run llama-bench -o json, "
                  "jsonl or csv", source);
    else
        tlb_error("%s: %s: not llama-bench output (json, jsonl or csv from llama-bench -o)",
                  source, n ? "unrecognised start" : "empty");
    return TLB_LB_AUTO;
}

int tlb_lb_parse(const char *text, size_t len, enum tlb_lb_format format, const char *source,
                 struct tlb_lb_set *out) {
    memset(out, 0, sizeof *out);
    if (len > TLB_LB_MAX_TEXT) {
        tlb_error("%s: more than %zu MiB of llama-bench output", source, TLB_LB_MAX_TEXT >> 20);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        tlb_error("%s: not text (a NUL byte)", source);
        return -1;
    }
    if (format == TLB_LB_AUTO && (format = detect(text, len, source)) == TLB_LB_AUTO) return -1;
    out->format = format;
    int rc;
    if (format == TLB_LB_CSV) {
        rc = parse_csv(text, len, source, out);
    } else {
#ifdef TLB_HAVE_CJSON
        rc = format == TLB_LB_JSON ? parse_json(text, len, source, out)
                                   : parse_jsonl(text, len, source, out);
#else
        tlb_error("%s: reading llama-bench %s output needs cJSON: install libcjson-dev and "
                  "rebuild (or give llama-bench -o csv output)", source,
                  tlb_lb_format_name(format));
        rc = -1;
#endif
    }
    if (rc == 0 && out->n == 0) {
        tlb_error("%s: no llama-bench records", source);
        rc = -1;
    }
    if (rc) tlb_lb_free(out);
    return rc;
}

void tlb_lb_free(struct tlb_lb_set *s) {
    for (size_t i = 0; i < s->n; i++) free_record(&s->recs[i]);
    free(s->recs);
    s->recs = NULL;
    s->n = 0;
}

/* ---------------------------------------------------------------- pairing */

static const struct tlb_lb_set *sort_set; /* qsort has no context argument */

static int cmp_by_key(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_set->recs[i].key, sort_set->recs[j].key);
    return c ? c : (i > j) - (i < j);
}

static int is_pp(const struct tlb_lb_record *r) { return r->n_prompt > 0 && r->n_gen == 0; }
static int is_tg(const struct tlb_lb_record *r) { return r->n_prompt == 0 && r->n_gen > 0; }

long tlb_lb_pair(const struct tlb_lb_set *s, struct tlb_lb_config **out) {
    *out = NULL;
    size_t n = s->n;
    size_t *idx = tlb_malloc((n ? n : 1) * sizeof *idx, "records");
    long *partner = tlb_malloc((n ? n : 1) * sizeof *partner, "records");
    size_t *fifo = tlb_malloc((n ? n : 1) * sizeof *fifo, "records");
    struct tlb_lb_config *cfg = tlb_calloc(n ? n : 1, sizeof *cfg, "configurations");
    long count = -1;
    if (!idx || !partner || !fifo || !cfg) goto out;
    for (size_t i = 0; i < n; i++) idx[i] = i, partner[i] = -1;
    sort_set = s;
    qsort(idx, n, sizeof *idx, cmp_by_key);
    /* within one key, in file order: a tg record pairs with the earliest waiting pp record */
    for (size_t a = 0; a < n;) {
        size_t b = a, head = 0, tail = 0;
        while (b < n && !strcmp(s->recs[idx[a]].key, s->recs[idx[b]].key)) b++;
        for (size_t k = a; k < b; k++) {
            const struct tlb_lb_record *r = &s->recs[idx[k]];
            if (is_pp(r)) fifo[tail++] = idx[k];
            else if (is_tg(r) && head < tail) {
                partner[fifo[head]] = (long)idx[k];
                partner[idx[k]] = (long)fifo[head];
                head++;
            }
        }
        a = b;
    }
    count = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tlb_lb_record *r = &s->recs[i];
        if (partner[i] >= 0 && (size_t)partner[i] < i) continue; /* the later half of a pair */
        struct tlb_lb_config *c = &cfg[count++];
        if (is_pp(r)) {
            c->pp = r;
            if (partner[i] >= 0) c->tg = &s->recs[partner[i]];
        } else if (is_tg(r)) {
            c->tg = r;
        } else {
            c->pg = r;
        }
    }
    *out = cfg;
    cfg = NULL;
out:
    free(idx);
    free(partner);
    free(fifo);
    free(cfg);
    return count;
}

/* ---------------------------------------------------------------- rows */

static int set_d(struct tlb_row *r, const char *col, double v) {
    return isfinite(v) ? tlb_row_set_double(r, col, v) : 0;
}

/* One phase's cells; *reps and *noisy updated when it has samples. */
static int phase(struct tlb_row *row, const char *ph, const struct tlb_lb_record *r, int64_t n_tok,
                 size_t *reps, int *noisy, int *have_noise) {
    int rc = 0;
    size_t n = r->samples_ts ? r->n_samples_ts : r->n_samples_ns;
    if (n) {
        double *ts = tlb_malloc(n * sizeof *ts, "samples"), *ms = NULL;
        if (!ts) return -1;
        if (r->samples_ns) ms = tlb_malloc(n * sizeof *ms, "samples");
        if (r->samples_ns && !ms) {
            free(ts);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            ts[i] = r->samples_ts ? r->samples_ts[i] : 1e9 * (double)n_tok / r->samples_ns[i];
            if (ms) ms[i] = r->samples_ns[i] / 1e6;
        }
        rc = tlb_phase_cells(row, ph, ms, ts, n, noisy);
        free(ts);
        free(ms);
        if (n > *reps) *reps = n;
        *have_noise = 1;
        return rc;
    }
    /* averages only (csv) */
    char col[32];
    snprintf(col, sizeof col, "%s_ts_mean", ph);
    rc |= set_d(row, col, r->avg_ts);
    snprintf(col, sizeof col, "%s_ts_stddev", ph);
    rc |= set_d(row, col, r->stddev_ts);
    if (!strcmp(ph, "pp")) {
        rc |= set_d(row, "pp_ms_mean", r->avg_ns / 1e6);
        rc |= set_d(row, "pp_ms_stddev", r->stddev_ns / 1e6);
    }
    return rc;
}

/* A record's own blended rate: its avg_ts, stddev_ts and samples_ts. */
static int blended_of(struct tlb_row *row, const struct tlb_lb_record *r) {
    int rc = set_d(row, "avg_ts", r->avg_ts) | set_d(row, "stddev_ts", r->stddev_ts);
    if (r->samples_ts) rc |= tlb_row_set_samples(row, "samples_ts", r->samples_ts, r->n_samples_ts);
    return rc;
}

static int valid_time(const char *t) {
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(t) != sizeof pat - 1) return 0;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !isdigit((unsigned char)t[i]) : t[i] != pat[i]) return 0;
    return 1;
}

int tlb_lb_fill_results(struct tlb_row *row, const struct tlb_lb_config *c) {
    const struct tlb_lb_record *any = c->pg ? c->pg : c->pp ? c->pp : c->tg;
    const struct tlb_lb_record *last = c->tg ? c->tg : any;
    int rc = tlb_row_set_str(row, "engine", TLB_ENGINE_LLAMA_CPP);
    char buf[96];
    if (any->build_commit[0]) {
        if (any->build_number >= 0)
            snprintf(buf, sizeof buf, "%s (%lld)", any->build_commit, (long long)any->build_number);
        else
            snprintf(buf, sizeof buf, "%s", any->build_commit);
        rc |= tlb_row_set_str(row, "engine_version", buf);
    }
    if (any->backends[0]) rc |= tlb_row_set_str(row, "engine_backends", any->backends);
    if (any->model_size >= 0) rc |= tlb_row_set_int(row, "model_size", any->model_size);
    if (any->model_n_params >= 0) rc |= tlb_row_set_int(row, "model_n_params", any->model_n_params);
    if (any->use_mmap >= 0) rc |= tlb_row_set_str(row, "weight_mapping", any->use_mmap ? "mmap" : "copy");
    if (valid_time(last->test_time)) rc |= tlb_row_set_str(row, "test_time", last->test_time);
    size_t reps = 0;
    int noisy = 0, have_noise = 0;
    if (c->pp) rc |= phase(row, "pp", c->pp, c->pp->n_prompt, &reps, &noisy, &have_noise);
    if (c->tg) rc |= phase(row, "tg", c->tg, c->tg->n_gen, &reps, &noisy, &have_noise);
    if (c->pg) {
        rc |= blended_of(row, c->pg);
        if (c->pg->n_samples_ts > reps) reps = c->pg->n_samples_ts;
    } else if (c->pp && c->tg) {
        /* tlbench's avg_ts: per repetition (n_prompt + n_gen) / (prefill + decode time) */
        size_t n = c->pp->n_samples_ns;
        if (n && n == c->tg->n_samples_ns) {
            double *all = tlb_malloc(n * sizeof *all, "samples");
            if (!all) return -1;
            for (size_t i = 0; i < n; i++)
                all[i] = 1e9 * (double)(c->pp->n_prompt + c->tg->n_gen) /
                         (c->pp->samples_ns[i] + c->tg->samples_ns[i]);
            rc |= set_d(row, "avg_ts", tlb_stat_mean(all, n));
            rc |= set_d(row, "stddev_ts", tlb_stat_stddev(all, n));
            rc |= tlb_row_set_samples(row, "samples_ts", all, n);
            free(all);
        }
    } else {
        rc |= blended_of(row, any);
    }
    if (reps) rc |= tlb_row_set_int(row, "repetitions", (int64_t)reps);
    if (have_noise) rc |= tlb_row_set_int(row, "noisy", noisy);
    return rc ? -1 : 0;
}

void tlb_lb_weight_type(const char *model_type, char *out, size_t n) {
    out[0] = '\0';
    /* "llama 1B Q4_0": the architecture, the size, then llama.cpp's file type name */
    const char *p = strchr(model_type, ' ');
    p = p ? strchr(p + 1, ' ') : NULL;
    if (!p) return;
    p++;
    if (!strncmp(p, "all ", 4)) p += 4;
    size_t j = 0;
    for (; *p && j + 1 < n; p++) {
        if (!strncmp(p, " - ", 3)) { /* "Q4_K - Medium" -> "q4_k_m" */
            if (j + 2 < n && isalpha((unsigned char)p[3])) {
                out[j++] = '_';
                out[j++] = (char)tolower((unsigned char)p[3]);
            }
            break;
        }
        if (isalnum((unsigned char)*p) || *p == '_') out[j++] = (char)tolower((unsigned char)*p);
        else break;
    }
    out[j] = '\0';
}

int tlb_lb_fill_identity(struct tlb_row *row, const struct tlb_lb_config *c) {
    const struct tlb_lb_record *any = c->pg ? c->pg : c->pp ? c->pp : c->tg;
    int rc = tlb_row_set_str(row, "kernel", TLB_KERNEL_GGML);
    rc |= tlb_row_set_str(row, "model_format", "gguf");
    if (any->model_filename[0]) {
        rc |= tlb_row_set_str(row, "model_source", any->model_filename);
        const char *base = strrchr(any->model_filename, '/');
        base = base ? base + 1 : any->model_filename;
        char name[sizeof any->model_filename];
        snprintf(name, sizeof name, "%s", base);
        size_t l = strlen(name);
        if (l > 5 && !strcmp(name + l - 5, ".gguf")) name[l - 5] = '\0';
        if (name[0]) rc |= tlb_row_set_str(row, "model_name", name);
    }
    char wt[32];
    tlb_lb_weight_type(any->model_type, wt, sizeof wt);
    if (wt[0]) rc |= tlb_row_set_str(row, "weight_type", wt);
    if (any->type_k[0]) {
        char kv[40];
        if (!any->type_v[0] || !strcmp(any->type_k, any->type_v)) snprintf(kv, sizeof kv, "%s", any->type_k);
        else snprintf(kv, sizeof kv, "%s/%s", any->type_k, any->type_v);
        rc |= tlb_row_set_str(row, "kv_type", kv);
    }
    if (any->n_threads >= 0) rc |= tlb_row_set_int(row, "n_threads", any->n_threads);
    int64_t np = c->pg ? c->pg->n_prompt : c->pp ? c->pp->n_prompt : 0;
    int64_t ng = c->pg ? c->pg->n_gen : c->tg ? c->tg->n_gen : 0;
    rc |= tlb_row_set_int(row, "n_prompt", np);
    rc |= tlb_row_set_int(row, "n_gen", ng);
    rc |= tlb_row_set_int(row, "n_depth", any->n_depth);
    /* llama-bench gives each test its own context: the larger one, or both phases of pg */
    rc |= tlb_row_set_int(row, "n_ctx", any->n_depth + (c->pg ? np + ng : np > ng ? np : ng));
    if (any->cpu_info[0]) rc |= tlb_row_set_str(row, "cpu_info", any->cpu_info);
    return rc ? -1 : 0;
}
