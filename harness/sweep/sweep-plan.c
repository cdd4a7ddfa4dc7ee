/* sweep-plan.c — sweep specs (lists and settings from defaults, profile, sweep file and
 * command line) and their cross product, the plan a sweep runs (see sweep-plan.h). All text
 * here is untrusted: each bad value gets one error line naming its source. */
#include "sweep-plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "results-csv.h"
#include "util.h"

/* ---- keys ---- */

static const char *const keys[TLB_SF_COUNT] = {
    [TLB_SF_MODEL] = "model",         [TLB_SF_QUANT] = "quant",
    [TLB_SF_KERNEL] = "kernel",       [TLB_SF_THREADS] = "threads",
    [TLB_SF_CTX] = "ctx",             [TLB_SF_KV_TYPE] = "kv-type",
    [TLB_SF_N_PROMPT] = "n-prompt",   [TLB_SF_N_GEN] = "n-gen",
    [TLB_SF_REPS] = "repetitions",    [TLB_SF_WARMUP] = "warmup",
    [TLB_SF_TIMEOUT] = "timeout",     [TLB_SF_COOLDOWN] = "cooldown",
    [TLB_SF_MAX_TEMP] = "max-temp",   [TLB_SF_SEED] = "seed",
    [TLB_SF_EVAL_TEXT] = "eval-text", [TLB_SF_TOKENIZER] = "tokenizer",
    [TLB_SF_POWER_CMD] = "power-cmd", [TLB_SF_ACC_REF] = "acc-ref",
    [TLB_SF_ACCURACY] = "accuracy",   [TLB_SF_SHORT_KERNELS] = "short-kernels",
    [TLB_SF_SHORT_PHASES] = "short-phases",
};

const char *tlb_spec_keys(void) {
    static char buf[400];
    if (!buf[0]) {
        for (int i = 0; i < TLB_SF_COUNT; i++) {
            if (i) strncat(buf, " ", sizeof buf - strlen(buf) - 1);
            strncat(buf, keys[i], sizeof buf - strlen(buf) - 1);
        }
    }
    return buf;
}

static int key_index(const char *key) {
    for (int i = 0; i < TLB_SF_COUNT; i++)
        if (strcmp(keys[i], key) == 0) return i;
    return -1;
}

/* ---- defaults, free, merge ---- */

int tlb_spec_max_threads(const struct tlb_sweep_spec *s) {
    int t = 1;
    for (int i = 0; i < s->n_threads; i++)
        if (s->threads[i] > t) t = s->threads[i];
    return t;
}

static void free_strs(char **v, int *n) {
    for (int i = 0; i < *n; i++) free(v[i]);
    *n = 0;
}

void tlb_spec_free(struct tlb_sweep_spec *s) {
    free_strs(s->models, &s->n_models);
    free_strs(s->kernels, &s->n_kernels);
    free_strs(s->short_kernels, &s->n_short);
    free(s->eval_text);
    free(s->tokenizer);
    free(s->power_cmd);
    free(s->acc_ref);
    s->eval_text = s->tokenizer = s->power_cmd = s->acc_ref = NULL;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = tlb_malloc(n, "string");
    if (d) memcpy(d, s, n);
    return d;
}

void tlb_spec_defaults(struct tlb_sweep_spec *s) {
    memset(s, 0, sizeof *s);
    /* the defaults apply even when a string cannot be duplicated: the error is printed and
     * the list is just shorter, which the plan then reports as empty */
    char *m = dup_str("synthetic:tinyllama-1.1b"), *k = dup_str("usable");
    if (m) s->models[s->n_models++] = m;
    if (k) s->kernels[s->n_kernels++] = k;
    const enum tlb_type q[] = {TLB_TYPE_F32, TLB_TYPE_F16, TLB_TYPE_Q8_0, TLB_TYPE_Q4_0};
    for (size_t i = 0; i < TLB_ARRAY_LEN(q); i++) s->quants[s->n_quants++] = q[i];
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads[s->n_threads++] = 1;
    if (ncpu > 1) s->threads[s->n_threads++] = (int)TLB_MIN(ncpu, 1024);
    s->depths[s->n_depths++] = 0;
    s->kv_types[s->n_kv++] = TLB_TYPE_F32;
    s->n_prompt = 64;
    s->n_gen = 16;
    s->reps = 5;
    s->warmup = 1;
    s->timeout_s = 600;
    s->cooldown_s = 0;
    s->max_temp_c = 0;
    s->seed = 42;
    s->acc_ref = dup_str("naive");
    s->accuracy = 1;
    s->short_np = 4;
    s->short_ng = 4;
    s->short_reps = 2;
}

static int copy_strs(char **dst, int *nd, char *const *src, int ns) {
    free_strs(dst, nd);
    for (int i = 0; i < ns; i++) {
        if (!(dst[i] = dup_str(src[i]))) return -1;
        *nd = i + 1;
    }
    return 0;
}

static int replace_str(char **dst, const char *src) {
    char *d = src ? dup_str(src) : NULL;
    if (src && !d) return -1;
    free(*dst);
    *dst = d;
    return 0;
}

int tlb_spec_merge(struct tlb_sweep_spec *d, const struct tlb_sweep_spec *s) {
#define HAS(f) (s->set & (1u << (f)))
    int rc = 0;
    if (HAS(TLB_SF_MODEL)) rc |= copy_strs(d->models, &d->n_models, s->models, s->n_models);
    if (HAS(TLB_SF_KERNEL))
        rc |= copy_strs(d->kernels, &d->n_kernels, s->kernels, s->n_kernels);
    if (HAS(TLB_SF_QUANT)) {
        memcpy(d->quants, s->quants, sizeof d->quants);
        d->n_quants = s->n_quants;
    }
    if (HAS(TLB_SF_THREADS)) {
        memcpy(d->threads, s->threads, sizeof d->threads);
        d->n_threads = s->n_threads;
    }
    if (HAS(TLB_SF_CTX)) {
        memcpy(d->depths, s->depths, sizeof d->depths);
        d->n_depths = s->n_depths;
    }
    if (HAS(TLB_SF_KV_TYPE)) {
        memcpy(d->kv_types, s->kv_types, sizeof d->kv_types);
        d->n_kv = s->n_kv;
    }
    if (HAS(TLB_SF_N_PROMPT)) d->n_prompt = s->n_prompt;
    if (HAS(TLB_SF_N_GEN)) d->n_gen = s->n_gen;
    if (HAS(TLB_SF_REPS)) d->reps = s->reps;
    if (HAS(TLB_SF_WARMUP)) d->warmup = s->warmup;
    if (HAS(TLB_SF_TIMEOUT)) d->timeout_s = s->timeout_s;
    if (HAS(TLB_SF_COOLDOWN)) d->cooldown_s = s->cooldown_s;
    if (HAS(TLB_SF_MAX_TEMP)) d->max_temp_c = s->max_temp_c;
    if (HAS(TLB_SF_SEED)) d->seed = s->seed;
    if (HAS(TLB_SF_ACCURACY)) d->accuracy = s->accuracy;
    if (HAS(TLB_SF_SHORT_KERNELS))
        rc |= copy_strs(d->short_kernels, &d->n_short, s->short_kernels, s->n_short);
    if (HAS(TLB_SF_SHORT_PHASES)) {
        d->short_np = s->short_np;
        d->short_ng = s->short_ng;
        d->short_reps = s->short_reps;
    }
    if (HAS(TLB_SF_EVAL_TEXT)) rc |= replace_str(&d->eval_text, s->eval_text);
    if (HAS(TLB_SF_TOKENIZER)) rc |= replace_str(&d->tokenizer, s->tokenizer);
    if (HAS(TLB_SF_POWER_CMD)) rc |= replace_str(&d->power_cmd, s->power_cmd);
    if (HAS(TLB_SF_ACC_REF)) rc |= replace_str(&d->acc_ref, s->acc_ref);
    d->set |= s->set;
#undef HAS
    return rc ? -1 : 0;
}

/* ---- list parsing ---- */

/* Split s at commas into trimmed items (in buf); returns the count or -1 (error printed). */
static int split_list(const char *what, const char *s, char *buf, size_t bufn, char **items,
                      int cap) {
    if (!s) s = "";
    size_t len = strlen(s);
    if (len >= bufn) {
        tlb_error("%s: list too long (%zu characters, at most %zu)", what, len, bufn - 1);
        return -1;
    }
    memcpy(buf, s, len + 1);
    int n = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        while (*p == ' ' || *p == '\t') p++;
        char *e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (!*p) {
            tlb_error("%s: empty value in list '%s'", what, s);
            return -1;
        }
        if (n == cap) {
            tlb_error("%s: too many values in '%s' (at most %d)", what, s, cap);
            return -1;
        }
        items[n++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static int strict_long(const char *s, long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = v;
    return 0;
}

static int push_unique(const char *what, const char *item, int *out, int *n, int cap,
                       long v) {
    for (int i = 0; i < *n; i++) {
        if (out[i] == v) {
            tlb_error("%s: value %ld appears twice (at '%s')", what, v, item);
            return -1;
        }
    }
    if (*n == cap) {
        tlb_error("%s: too many values (at most %d)", what, cap);
        return -1;
    }
    out[(*n)++] = (int)v;
    return 0;
}

int tlb_parse_int_list(const char *what, const char *s, long min, long max, int *out,
                       int cap) {
    char buf[1024], *items[TLB_PLAN_MAX_LIST];
    int ni = split_list(what, s, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (ni < 0) return -1;
    if (max > 0x7fffffffL) max = 0x7fffffffL;
    int n = 0;
    for (int i = 0; i < ni; i++) {
        char *it = items[i];
        /* a range is "a-b", "a-b+s" or "a-b*f"; the '-' is searched after the first
         * character so a negative single value still reads as a number (and is rejected
         * by the range check) */
        char *dash = it[0] ? strchr(it + 1, '-') : NULL;
        long a, b, step = 1;
        int mult = 0;
        if (!dash) {
            if (strict_long(it, &a) != 0 || a < min || a > max) {
                tlb_error("%s: '%s' is not an integer in [%ld, %ld]", what, it, min, max);
                return -1;
            }
            if (push_unique(what, it, out, &n, cap, a)) return -1;
            continue;
        }
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%s", it);
        char *d = tmp + (dash - it), *op = strpbrk(d + 1, "+*");
        *d = '\0';
        char opc = 0;
        if (op) {
            opc = *op;
            *op = '\0';
        }
        if (strict_long(tmp, &a) || strict_long(d + 1, &b) ||
            (op && (strict_long(op + 1, &step) || step < 1))) {
            tlb_error("%s: '%s' is not a value or a range (a-b, a-b+step, a-b*factor)", what,
                      it);
            return -1;
        }
        mult = opc == '*';
        if (a < min || b > max || a > b) {
            tlb_error("%s: range '%s' must go upwards within [%ld, %ld]", what, it, min, max);
            return -1;
        }
        if (mult && (step < 2 || a < 1)) {
            tlb_error("%s: range '%s' needs a factor >= 2 and a start >= 1", what, it);
            return -1;
        }
        for (long v = a; v <= b; v = mult ? v * step : v + step)
            if (push_unique(what, it, out, &n, cap, v)) return -1;
    }
    return n;
}

static int parse_type_list(const char *what, const char *s, enum tlb_type *out, int kv_only) {
    char buf[1024], *items[TLB_PLAN_MAX_LIST];
    int n = split_list(what, s, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (tlb_type_from_name(items[i], &out[i]) != 0) {
            char known[128] = "";
            for (int t = 0; t < TLB_TYPE_COUNT; t++) {
                strncat(known, " ", sizeof known - strlen(known) - 1);
                strncat(known, tlb_type_traits((enum tlb_type)t)->name,
                        sizeof known - strlen(known) - 1);
            }
            tlb_error("%s: unknown type '%s' (known:%s)", what, items[i], known);
            return -1;
        }
        if (kv_only && out[i] != TLB_TYPE_F32 && out[i] != TLB_TYPE_F16) {
            tlb_error("%s: KV cache type must be f32 or f16 (got %s)", what, items[i]);
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (out[j] == out[i]) {
                tlb_error("%s: type %s appears twice", what, items[i]);
                return -1;
            }
        }
    }
    return n;
}

/* is_kernel: 1 = names must be known kernels (or auto/all/usable), 2 = any word (a
 * profile may name kernels this build lacks: they become unsupported rows) */
static int parse_str_list(const char *what, const char *s, char **out, int *nout,
                          int is_kernel) {
    char buf[4096], *items[TLB_PLAN_MAX_LIST];
    int n = split_list(what, s, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (is_kernel == 1 && strcmp(items[i], "auto") && strcmp(items[i], "all") &&
            strcmp(items[i], "usable") && !tlb_kernel_find(items[i])) {
            char known[256] = "";
            for (int k = 0; k < tlb_kernel_count(); k++) {
                strncat(known, " ", sizeof known - strlen(known) - 1);
                strncat(known, tlb_kernel_at(k)->name, sizeof known - strlen(known) - 1);
            }
            tlb_error("%s: unknown kernel '%s' (known:%s, or auto, all, usable)", what,
                      items[i], known);
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(items[j], items[i]) == 0) {
                tlb_error("%s: '%s' appears twice", what, items[i]);
                return -1;
            }
        }
    }
    free_strs(out, nout);
    for (int i = 0; i < n; i++) {
        if (!(out[i] = dup_str(items[i]))) return -1;
        *nout = i + 1;
    }
    return n;
}

static int parse_one_int(const char *what, const char *v, long min, long max, int *out) {
    long x;
    if (tlb_parse_int(v, min, max, &x) != 0) {
        tlb_error("%s: '%s' is not an integer in [%ld, %ld]", what, v ? v : "", min, max);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int parse_one_double(const char *what, const char *v, double min, double max,
                            double *out) {
    double x;
    if (tlb_parse_double(v, &x) != 0 || !(x >= min && x <= max)) {
        tlb_error("%s: '%s' is not a number in [%g, %g]", what, v ? v : "", min, max);
        return -1;
    }
    *out = x;
    return 0;
}

int tlb_spec_set_kernels_lenient(struct tlb_sweep_spec *s, const char *v, const char *where) {
    if (parse_str_list(where, v, s->kernels, &s->n_kernels, 2) < 0) return -1;
    s->set |= 1u << TLB_SF_KERNEL;
    return 0;
}

int tlb_spec_set(struct tlb_sweep_spec *s, const char *key, const char *v,
                 const char *where) {
    int f = key_index(key);
    char what[600];
    snprintf(what, sizeof what, "%s", where);
    if (f < 0) {
        tlb_error("%s: unknown key '%s' (known: %s)", where, key, tlb_spec_keys());
        return -1;
    }
    if (!v) v = "";
    int n, rc = 0;
    switch ((enum tlb_spec_field)f) {
    case TLB_SF_MODEL:
        if (parse_str_list(what, v, s->models, &s->n_models, 0) < 0) return -1;
        break;
    case TLB_SF_KERNEL:
        if (parse_str_list(what, v, s->kernels, &s->n_kernels, 1) < 0) return -1;
        break;
    case TLB_SF_QUANT:
        if ((n = parse_type_list(what, v, s->quants, 0)) < 0) return -1;
        s->n_quants = n;
        break;
    case TLB_SF_KV_TYPE:
        if ((n = parse_type_list(what, v, s->kv_types, 1)) < 0) return -1;
        s->n_kv = n;
        break;
    case TLB_SF_THREADS:
        if ((n = tlb_parse_int_list(what, v, 1, 1024, s->threads, TLB_PLAN_MAX_LIST)) < 0)
            return -1;
        s->n_threads = n;
        break;
    case TLB_SF_CTX:
        if ((n = tlb_parse_int_list(what, v, 0, 1 << 20, s->depths, TLB_PLAN_MAX_LIST)) < 0)
            return -1;
        s->n_depths = n;
        break;
    case TLB_SF_N_PROMPT: rc = parse_one_int(what, v, 1, 1 << 20, &s->n_prompt); break;
    case TLB_SF_N_GEN: rc = parse_one_int(what, v, 0, 1 << 20, &s->n_gen); break;
    case TLB_SF_REPS: rc = parse_one_int(what, v, 1, 100000, &s->reps); break;
    case TLB_SF_WARMUP: rc = parse_one_int(what, v, 0, 1000, &s->warmup); break;
    case TLB_SF_TIMEOUT: rc = parse_one_double(what, v, 1, 7 * 86400, &s->timeout_s); break;
    case TLB_SF_COOLDOWN: rc = parse_one_double(what, v, 0, 86400, &s->cooldown_s); break;
    case TLB_SF_MAX_TEMP: rc = parse_one_double(what, v, 0, 200, &s->max_temp_c); break;
    case TLB_SF_SEED: {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *v == '-' || errno || *end) {
            tlb_error("%s: '%s' is not a non-negative integer", what, v);
            return -1;
        }
        s->seed = x;
        break;
    }
    case TLB_SF_EVAL_TEXT: rc = replace_str(&s->eval_text, *v ? v : NULL); break;
    case TLB_SF_TOKENIZER: rc = replace_str(&s->tokenizer, *v ? v : NULL); break;
    case TLB_SF_POWER_CMD: rc = replace_str(&s->power_cmd, *v ? v : NULL); break;
    case TLB_SF_ACC_REF:
        if (!tlb_kernel_find(v)) {
            tlb_error("%s: unknown kernel '%s' for the accuracy reference", what, v);
            return -1;
        }
        rc = replace_str(&s->acc_ref, v);
        break;
    case TLB_SF_ACCURACY:
        if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes")) s->accuracy = 1;
        else if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) s->accuracy = 0;
        else {
            tlb_error("%s: '%s' is not on or off", what, v);
            return -1;
        }
        break;
    case TLB_SF_SHORT_KERNELS:
        if (!*v) {
            free_strs(s->short_kernels, &s->n_short);
            break;
        }
        if (parse_str_list(what, v, s->short_kernels, &s->n_short, 1) < 0) return -1;
        break;
    case TLB_SF_SHORT_PHASES: {
        /* not tlb_parse_int_list: that one refuses repeated values ("4,4,2") */
        long ph[3] = {0, 0, 0};
        char buf[64];
        int np = 0;
        if (strlen(v) < sizeof buf) {
            snprintf(buf, sizeof buf, "%s", v);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (np == 3 || tlb_parse_int(tok, 0, 1 << 20, &ph[np]) != 0) {
                    np = -1;
                    break;
                }
                np++;
            }
        }
        if (np != 3 || ph[0] < 1 || ph[2] < 1) {
            tlb_error("%s: '%s' is not PROMPT,GEN,REPETITIONS (e.g. 4,4,2; prompt and "
                      "repetitions at least 1)", what, v);
            return -1;
        }
        s->short_np = (int)ph[0];
        s->short_ng = (int)ph[1];
        s->short_reps = (int)ph[2];
        break;
    }
    case TLB_SF_COUNT: return -1;
    }
    if (rc) return -1;
    s->set |= 1u << f;
    return 0;
}

/* ---- sweep files ---- */

#define SWEEP_FILE_MAX ((size_t)1 << 20)

int tlb_spec_load_file(struct tlb_sweep_spec *s, const char *path) {
    size_t len;
    char *text = tlb_read_file(path, SWEEP_FILE_MAX, &len);
    if (!text) return -1;
    if (memchr(text, '\0', len)) {
        tlb_error("%s: not a text file (NUL byte)", path);
        free(text);
        return -1;
    }
    int seen_line[TLB_SF_COUNT] = {0};
    int rc = 0, lineno = 0;
    char *p = text;
    while (*p && rc == 0) {
        lineno++;
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        char *line = p;
        p = nl ? nl + 1 : p + strlen(p);
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r') line[--ll] = '\0';
        /* a comment starts with '#' at the start or after white space */
        for (char *h = line; (h = strchr(h, '#')); h++) {
            if (h == line || h[-1] == ' ' || h[-1] == '\t') {
                *h = '\0';
                break;
            }
        }
        while (*line == ' ' || *line == '\t') line++;
        char *e = line + strlen(line);
        while (e > line && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (!*line) continue;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        char *eq = strchr(line, '=');
        if (!eq) {
            tlb_error("%s: expected 'key = value', got '%.60s'", where, line);
            rc = -1;
            break;
        }
        char *k = line, *ke = eq, *v = eq + 1;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
        *ke = '\0';
        while (*v == ' ' || *v == '\t') v++;
        int f = key_index(k);
        if (f < 0) {
            tlb_error("%s: unknown key '%.60s' (known: %s)", where, k, tlb_spec_keys());
            rc = -1;
            break;
        }
        if (seen_line[f]) {
            tlb_error("%s: '%s' is already set on line %d", where, k, seen_line[f]);
            rc = -1;
            break;
        }
        seen_line[f] = lineno;
        /* "--kernel" etc. are named by the key for clarity: "file:3: kernel: ..." */
        char where_key[700];
        snprintf(where_key, sizeof where_key, "%s: %s", where, k);
        if (tlb_spec_set(s, k, v, where_key) != 0) rc = -1;
    }
    free(text);
    return rc;
}

/* ---- the plan ---- */

void tlb_plan_free(struct tlb_plan *p) {
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

/* Kernels a spec's kernel list expands to. "auto" (k NULL, name "auto") resolves per weight
 * type; "all" is every registered kernel; "usable" every kernel that can run here; a name
 * this build does not know (possible only from a profile) stays a name. */
struct kentry {
    const struct tlb_kernel *k;
    const char *name;
};

static int expand_kernels(const struct tlb_sweep_spec *s, struct kentry *out, int cap) {
    int n = 0;
    for (int i = 0; i < s->n_kernels; i++) {
        const char *name = s->kernels[i];
        int all = !strcmp(name, "all"), usable = !strcmp(name, "usable");
        if (all || usable) {
            for (int k = 0; k < tlb_kernel_count(); k++) {
                const struct tlb_kernel *kk = tlb_kernel_at(k);
                char why[256];
                if (usable && kk->probe && kk->probe(why, sizeof why) != 0) continue;
                int dup = 0;
                for (int j = 0; j < n; j++) dup |= out[j].k == kk;
                if (!dup && n < cap) out[n++] = (struct kentry){kk, kk->name};
            }
            continue;
        }
        const struct tlb_kernel *kk = strcmp(name, "auto") ? tlb_kernel_find(name) : NULL;
        int dup = 0;
        for (int j = 0; j < n; j++) dup |= kk ? out[j].k == kk : !strcmp(out[j].name, name);
        if (!dup && n < cap) out[n++] = (struct kentry){kk, name};
    }
    return n;
}

static int is_short(const struct tlb_sweep_spec *s, const char *kernel) {
    for (int i = 0; i < s->n_short; i++)
        if (!strcmp(s->short_kernels[i], kernel)) return 1;
    return 0;
}

int tlb_plan_build(const struct tlb_sweep_spec *s, struct tlb_plan *p) {
    p->items = NULL;
    p->n = 0;
    if (s->n_models < 1 || s->n_quants < 1 || s->n_kernels < 1 || s->n_threads < 1 ||
        s->n_depths < 1 || s->n_kv < 1) {
        tlb_error("the sweep is empty: every list (model, quant, kernel, threads, ctx, "
                  "kv-type) needs at least one value");
        return -1;
    }
    struct kentry ks[64];
    int nk = expand_kernels(s, ks, 64);
    if (nk < 1) {
        tlb_error("no kernel to run (the kernel list expands to nothing on this machine)");
        return -1;
    }
    /* f32 first when accuracy is on: its prepared model is the accuracy reference */
    enum tlb_type quants[TLB_PLAN_MAX_LIST];
    int nq = 0;
    for (int i = 0; i < s->n_quants; i++)
        if (s->accuracy && s->quants[i] == TLB_TYPE_F32) quants[nq++] = TLB_TYPE_F32;
    for (int i = 0; i < s->n_quants; i++)
        if (!(s->accuracy && s->quants[i] == TLB_TYPE_F32)) quants[nq++] = s->quants[i];
    size_t total = (size_t)s->n_models * (size_t)nq * (size_t)nk * (size_t)s->n_kv *
                   (size_t)s->n_depths * (size_t)s->n_threads;
    if (total > 1000000) {
        tlb_error("the sweep has %zu configurations (at most 1000000)", total);
        return -1;
    }
    p->items = tlb_calloc(total, sizeof *p->items, "sweep plan");
    if (!p->items) return -1;
    for (int mi = 0; mi < s->n_models; mi++) {
        struct tlb_config cfg;
        const char *spec = s->models[mi];
        int known_cfg = !strncmp(spec, "synthetic:", 10) &&
                        tlb_synthetic_config(spec + 10, &cfg) == 0;
        for (int qi = 0; qi < nq; qi++) {
            for (int ki = 0; ki < nk; ki++) {
                for (int vi = 0; vi < s->n_kv; vi++) {
                    for (int di = 0; di < s->n_depths; di++) {
                        for (int ti = 0; ti < s->n_threads; ti++) {
                            struct tlb_plan_item *it = &p->items[p->n++];
                            it->model = mi;
                            it->wtype = quants[qi];
                            it->kv_type = s->kv_types[vi];
                            it->n_depth = s->depths[di];
                            it->n_threads = s->threads[ti];
                            it->n_prompt = s->n_prompt;
                            it->n_gen = s->n_gen;
                            it->reps = s->reps;
                            it->warmup = s->warmup;
                            it->pre_status = TLB_STATUS_OK;
                            char why[256] = "";
                            const struct tlb_kernel *k = ks[ki].k;
                            if (!k && strcmp(ks[ki].name, "auto") != 0) {
                                snprintf(it->kernel_name, sizeof it->kernel_name, "%s",
                                         ks[ki].name);
                                it->pre_status = TLB_STATUS_UNSUPPORTED;
                                snprintf(it->pre_detail, sizeof it->pre_detail,
                                         "kernel '%s' is not built into this tlbench",
                                         ks[ki].name);
                                continue;
                            }
                            if (!k) {
                                k = tlb_kernel_select("auto", TLB_TYPE_BIT(it->wtype), why,
                                                      sizeof why);
                                if (!k) {
                                    snprintf(it->kernel_name, sizeof it->kernel_name, "auto");
                                    it->pre_status = TLB_STATUS_UNSUPPORTED;
                                    snprintf(it->pre_detail, sizeof it->pre_detail,
                                             "auto: %.200s", why);
                                    continue;
                                }
                            }
                            it->kernel = k;
                            snprintf(it->kernel_name, sizeof it->kernel_name, "%s", k->name);
                            if (is_short(s, k->name)) {
                                it->n_prompt = s->short_np;
                                it->n_gen = s->short_ng;
                                it->reps = s->short_reps;
                                it->warmup = 0;
                                it->short_phases = 1;
                            }
                            if (tlb_kernel_usable(k, it->wtype, why, sizeof why) != 0) {
                                it->pre_status = TLB_STATUS_UNSUPPORTED;
                                snprintf(it->pre_detail, sizeof it->pre_detail, "%s%s%.200s",
                                         strstr(why, k->name) ? "" : k->name,
                                         strstr(why, k->name) ? "" : ": ", why);
                                continue;
                            }
                            long need = (long)it->n_depth + it->n_prompt + it->n_gen;
                            if (known_cfg && need > cfg.seq_len) {
                                it->pre_status = TLB_STATUS_UNSUPPORTED;
                                snprintf(it->pre_detail, sizeof it->pre_detail,
                                         "context %ld (depth %d + prompt %d + gen %d) exceeds "
                                         "the model's maximum of %d tokens",
                                         need, it->n_depth, it->n_prompt, it->n_gen,
                                         cfg.seq_len);
                            }
                        }
                    }
                }
            }
        }
    }
    return 0;
}

void tlb_plan_item_label(const struct tlb_plan_item *it, char *buf, size_t n) {
    char phases[64] = "";
    if (it->short_phases)
        snprintf(phases, sizeof phases, " (short: p=%d n=%d r=%d)", it->n_prompt, it->n_gen,
                 it->reps);
    snprintf(buf, n, "%s %s t=%d d=%d%s%s%s", tlb_type_traits(it->wtype)->name, it->kernel_name,
             it->n_threads, it->n_depth, it->kv_type == TLB_TYPE_F32 ? "" : " kv=",
             it->kv_type == TLB_TYPE_F32 ? "" : tlb_type_traits(it->kv_type)->name, phases);
}

/* ---- resume ---- */

int tlb_plan_mark_done(struct tlb_plan *p, const struct tlb_sweep_spec *s, const char *path) {
    if (access(path, F_OK) != 0) return 0;
    struct tlb_table *t = NULL;
    if (tlb_csv_read(path, &t) != 0) return -1;
    const int c_model = tlb_table_col(t, "model_source"), c_w = tlb_table_col(t, "weight_type"),
              c_k = tlb_table_col(t, "kernel"), c_t = tlb_table_col(t, "n_threads"),
              c_d = tlb_table_col(t, "n_depth"), c_kv = tlb_table_col(t, "kv_type"),
              c_p = tlb_table_col(t, "n_prompt"), c_n = tlb_table_col(t, "n_gen");
    if (c_model < 0 || c_w < 0 || c_k < 0 || c_t < 0 || c_d < 0 || c_kv < 0 || c_p < 0 ||
        c_n < 0) {
        tlb_error("%s: cannot resume: the file lacks the configuration columns", path);
        tlb_table_free(t);
        return -1;
    }
    int marked = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        int64_t th, d, np, ng;
        if (!tlb_table_int(t, r, c_t, &th) || !tlb_table_int(t, r, c_d, &d) ||
            !tlb_table_int(t, r, c_p, &np) || !tlb_table_int(t, r, c_n, &ng))
            continue;
        const char *model = tlb_table_str(t, r, c_model), *w = tlb_table_str(t, r, c_w),
                   *k = tlb_table_str(t, r, c_k), *kv = tlb_table_str(t, r, c_kv);
        for (int i = 0; i < p->n; i++) {
            struct tlb_plan_item *it = &p->items[i];
            if (it->done || it->n_threads != th || it->n_depth != d || it->n_prompt != np ||
                it->n_gen != ng ||
                strcmp(s->models[it->model], model) ||
                strcmp(tlb_type_traits(it->wtype)->name, w) ||
                strcmp(it->kernel_name, k) || strcmp(tlb_type_traits(it->kv_type)->name, kv))
                continue;
            it->done = 1;
            marked++;
        }
    }
    tlb_table_free(t);
    return marked;
}
