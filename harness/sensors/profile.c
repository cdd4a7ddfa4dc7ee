/* profile.c — parser, validator and matcher for platform profiles (platforms/NAME.conf; see
 * profile.h). Table-driven: each key has a type, limits and a field; unknown keys, repeats
 * and bad values are errors naming the file and line. */
#include "profile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "power.h"
#include "util.h"

enum key_kind {
    K_TEXT,    /* free text */
    K_WORDS,   /* comma list of [A-Za-z0-9_.-] words */
    K_GLOBS,   /* comma list of glob patterns */
    K_POWER,   /* comma list of power source kinds */
    K_INT,
    K_DOUBLE,
    K_KERNELS,
    K_QUANTS,
    K_KV,
    K_THREADS,
    K_CTX,
};

struct key {
    const char *name;
    enum key_kind kind;
    size_t off, size; /* field; size of a string field */
    double min, max;  /* numeric limits */
    int required;
};

#define F(field) offsetof(struct tlb_profile, field), sizeof(((struct tlb_profile *)0)->field)
static const struct key keys[] = {
    {"name", K_WORDS, F(name), 0, 0, 1},
    {"description", K_TEXT, F(description), 0, 0, 1},
    {"priority", K_INT, F(priority), 0, 1000, 0},
    {"match_arch", K_WORDS, F(match_arch), 0, 0, 0},
    {"match_devicetree", K_GLOBS, F(match_devicetree), 0, 0, 0},
    {"match_dmi", K_GLOBS, F(match_dmi), 0, 0, 0},
    {"match_cpu", K_GLOBS, F(match_cpu), 0, 0, 0},
    {"match_isa", K_WORDS, F(match_isa), 0, 0, 0},
    {"match_isa_absent", K_WORDS, F(match_isa_absent), 0, 0, 0},
    {"power_sources", K_POWER, F(power_sources), 0, 0, 0},
    {"power_rails", K_WORDS, F(power_rails), 0, 0, 0},
    {"thermal_zones", K_WORDS, F(thermal_zones), 0, 0, 0},
    {"throttle_temp_c", K_DOUBLE, F(throttle_temp_c), 30, 150, 0},
    {"kernels", K_KERNELS, F(kernels), 0, 0, 1},
    {"quants", K_QUANTS, F(quants), 0, 0, 1},
    {"kv_types", K_KV, F(kv_types), 0, 0, 0},
    {"threads", K_THREADS, F(threads), 1, 4096, 1},
    {"ctx", K_CTX, F(ctx), 0, 1 << 20, 1},
    {"n_prompt", K_INT, F(n_prompt), 1, 1 << 20, 1},
    {"n_gen", K_INT, F(n_gen), 1, 1 << 20, 1},
    {"reps", K_INT, F(reps), 1, 10000, 1},
    {"warmup", K_INT, F(warmup), 0, 1000, 0},
    {"short_kernels", K_TEXT, F(short_kernels), 0, 0, 0},
    {"short_phases", K_TEXT, F(short_phases), 0, 0, 0},
    {"cross_prefix", K_TEXT, F(cross_prefix), 0, 0, 0},
    {"cflags", K_TEXT, F(cflags), 0, 0, 0},
    {"price_usd", K_DOUBLE, F(price_usd), 0, 1e7, 0},
};
#undef F
#define N_KEYS ((int)TLB_ARRAY_LEN(keys))

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Split a comma list into trimmed items (in place). Returns the count, or -1 when an item
 * is empty or there are more than max. */
static int split_list(char *v, char **items, int max) {
    int n = 0;
    for (char *p = v;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        char *item = trim(p);
        if (!*item || n == max) return -1;
        items[n++] = item;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static int word_ok(const char *w) {
    if (!*w) return 0;
    for (; *w; w++)
        if (!isalnum((unsigned char)*w) && *w != '_' && *w != '-' && *w != '.') return 0;
    return 1;
}

static int parse_long(const char *s, double min, double max, long *out) {
    return tlb_parse_int(s, (long)min, (long)max, out);
}

/* Parse one value into p. Returns 0, or -1 with a message in err. */
static int set_value(struct tlb_profile *p, const struct key *k, char *v, char *err, size_t n) {
    char *base = (char *)p + k->off;
    char *items[TLB_PROFILE_MAX_LIST];
    int count;
    switch (k->kind) {
    case K_TEXT:
        for (const char *c = v; *c; c++)
            if (iscntrl((unsigned char)*c)) {
                snprintf(err, n, "control character in %s", k->name);
                return -1;
            }
        break;
    case K_WORDS:
    case K_GLOBS:
    case K_POWER: {
        if (!*v) break; /* an empty list: no constraint */
        char tmp[512];
        if (strlen(v) >= sizeof tmp) {
            snprintf(err, n, "%s is too long", k->name);
            return -1;
        }
        memcpy(tmp, v, strlen(v) + 1);
        count = split_list(tmp, items, TLB_PROFILE_MAX_LIST);
        if (count < 0) {
            snprintf(err, n, "%s: empty item or more than %d items", k->name,
                     TLB_PROFILE_MAX_LIST);
            return -1;
        }
        for (int i = 0; i < count; i++) {
            if (k->kind != K_GLOBS && !word_ok(items[i])) {
                snprintf(err, n, "%s: '%s' is not a plain word", k->name, items[i]);
                return -1;
            }
            if (k->kind == K_POWER && !tlb_power_kind_known(items[i])) {
                snprintf(err, n, "power_sources: unknown source '%s' (known: %s)", items[i],
                         tlb_power_kinds());
                return -1;
            }
        }
        if (k->kind == K_WORDS && !strcmp(k->name, "name") && count != 1) {
            snprintf(err, n, "name must be one word");
            return -1;
        }
        /* store the normalised list "a,b,c" */
        char norm[512] = "";
        size_t off = 0;
        for (int i = 0; i < count; i++) {
            int w = snprintf(norm + off, sizeof norm - off, "%s%s", i ? "," : "", items[i]);
            if (w < 0 || (size_t)w >= sizeof norm - off) break;
            off += (size_t)w;
        }
        if (off >= k->size) {
            snprintf(err, n, "%s is too long (max %zu characters)", k->name, k->size - 1);
            return -1;
        }
        memcpy(base, norm, off + 1);
        return 0;
    }
    case K_INT: {
        long x;
        if (parse_long(v, k->min, k->max, &x) != 0) {
            snprintf(err, n, "%s must be an integer in %.0f..%.0f, not '%s'", k->name, k->min,
                     k->max, v);
            return -1;
        }
        *(int *)base = (int)x;
        return 0;
    }
    case K_DOUBLE: {
        double x;
        if (tlb_parse_double(v, &x) != 0 || x < k->min || x > k->max) {
            snprintf(err, n, "%s must be a number in %g..%g, not '%s'", k->name, k->min, k->max,
                     v);
            return -1;
        }
        *(double *)base = x;
        return 0;
    }
    case K_KERNELS:
        count = split_list(v, items, TLB_PROFILE_MAX_LIST);
        if (count < 0) goto bad_list;
        for (int i = 0; i < count; i++) {
            if (!word_ok(items[i]) || strlen(items[i]) >= sizeof p->kernels[0]) {
                snprintf(err, n, "kernels: '%s' is not a kernel name", items[i]);
                return -1;
            }
            memcpy(p->kernels[i], items[i], strlen(items[i]) + 1);
        }
        p->n_kernels = count;
        return 0;
    case K_QUANTS:
    case K_KV: {
        int max = k->kind == K_KV ? 4 : TLB_PROFILE_MAX_LIST;
        enum tlb_type *out = k->kind == K_KV ? p->kv_types : p->quants;
        count = split_list(v, items, max);
        if (count < 0) goto bad_list;
        for (int i = 0; i < count; i++) {
            if (tlb_type_from_name(items[i], &out[i]) != 0) {
                snprintf(err, n, "%s: unknown type '%s'", k->name, items[i]);
                return -1;
            }
            if (k->kind == K_KV && out[i] != TLB_TYPE_F32 && out[i] != TLB_TYPE_F16) {
                snprintf(err, n, "kv_types: '%s' is not a KV cache type (f32, f16)", items[i]);
                return -1;
            }
        }
        *(k->kind == K_KV ? &p->n_kv_types : &p->n_quants) = count;
        return 0;
    }
    case K_THREADS:
    case K_CTX: {
        int *out = k->kind == K_THREADS ? p->threads : p->ctx;
        count = split_list(v, items, TLB_PROFILE_MAX_LIST);
        if (count < 0) goto bad_list;
        for (int i = 0; i < count; i++) {
            long x;
            if (k->kind == K_THREADS && !strcmp(items[i], "max")) {
                out[i] = 0;
                continue;
            }
            if (parse_long(items[i], k->min, k->max, &x) != 0) {
                snprintf(err, n, "%s: '%s' is not an integer in %.0f..%.0f%s", k->name, items[i],
                         k->min, k->max, k->kind == K_THREADS ? " or 'max'" : "");
                return -1;
            }
            out[i] = (int)x;
        }
        *(k->kind == K_THREADS ? &p->n_threads : &p->n_ctx) = count;
        return 0;
    }
    }
    /* K_TEXT */
    if (strlen(v) >= k->size) {
        snprintf(err, n, "%s is too long (max %zu characters)", k->name, k->size - 1);
        return -1;
    }
    memcpy(base, v, strlen(v) + 1);
    return 0;
bad_list:
    snprintf(err, n, "%s: empty item or more than %d items", k->name, TLB_PROFILE_MAX_LIST);
    return -1;
}

static void defaults(struct tlb_profile *p) {
    memset(p, 0, sizeof *p);
    p->throttle_temp_c = NAN;
    p->price_usd = NAN;
    p->warmup = 1;
    p->kv_types[0] = TLB_TYPE_F32;
    p->n_kv_types = 1;
}

int tlb_profile_load(const char *path, struct tlb_profile *p) {
    defaults(p);
    size_t len;
    char *text = tlb_read_file(path, 1u << 16, &len);
    if (!text) return -1;
    if (strlen(text) != len) {
        tlb_error("%s: contains NUL bytes (not a text profile)", path);
        free(text);
        return -1;
    }
    if (tlb_pathf(p->path, sizeof p->path, "%s", path) != 0) {
        tlb_error("%s: path too long", path);
        free(text);
        return -1;
    }
    char seen[N_KEYS];
    memset(seen, 0, sizeof seen);
    int lineno = 0, rc = 0;
    for (char *line = text; line && rc == 0;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        /* '#' starts a comment at the line start or after whitespace */
        for (char *h = line; (h = strchr(h, '#')) != NULL; h++)
            if (h == line || isspace((unsigned char)h[-1])) {
                *h = '\0';
                break;
            }
        char *s = trim(line);
        if (*s) {
            char *eq = strchr(s, '=');
            if (!eq) {
                tlb_error("%s:%d: expected 'key = value', got '%.60s'", path, lineno, s);
                rc = -1;
                break;
            }
            *eq = '\0';
            char *key = trim(s), *val = trim(eq + 1);
            int ki = -1;
            for (int i = 0; i < N_KEYS; i++)
                if (!strcmp(keys[i].name, key)) ki = i;
            char err[256];
            if (ki < 0) {
                tlb_error("%s:%d: unknown key '%.60s'", path, lineno, key);
                rc = -1;
            } else if (seen[ki]) {
                tlb_error("%s:%d: key '%s' given twice", path, lineno, key);
                rc = -1;
            } else if (keys[ki].required && !*val) {
                tlb_error("%s:%d: %s must not be empty", path, lineno, key);
                rc = -1;
            } else if (set_value(p, &keys[ki], val, err, sizeof err) != 0) {
                tlb_error("%s:%d: %s", path, lineno, err);
                rc = -1;
            }
            if (ki >= 0) seen[ki] = 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    if (rc) return -1;
    for (int i = 0; i < N_KEYS; i++)
        if (keys[i].required && !seen[i]) {
            tlb_error("%s: missing required key '%s'", path, keys[i].name);
            return -1;
        }
    /* the file name is the board kind: <dir>/<name>.conf */
    const char *slash = strrchr(path, '/');
    const char *stem = slash ? slash + 1 : path;
    size_t sl = strlen(stem);
    if (sl < 6 || !tlb_ends_with(stem, ".conf") || strlen(p->name) != sl - 5 ||
        strncmp(stem, p->name, sl - 5)) {
        tlb_error("%s: name '%s' does not match the file name (expected %s.conf)", path,
                  p->name, p->name);
        return -1;
    }
    return 0;
}

int tlb_profile_load_name(const char *dir, const char *name, struct tlb_profile *p) {
    if (!word_ok(name) || strchr(name, '.')) {
        tlb_error("invalid profile name '%s' (letters, digits, '-' and '_' only)", name);
        return -1;
    }
    char path[TLB_PATH_MAX];
    if (tlb_pathf(path, sizeof path, "%s/%s.conf", dir, name) != 0) {
        tlb_error("%s: profile path too long", dir);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        tlb_error("no platform profile '%s' (%s not found)", name, path);
        return -1;
    }
    return tlb_profile_load(path, p);
}

/* Does any glob in the comma list match s? */
static int any_glob(const char *list, const char *s) {
    if (!*s) return 0;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *items[TLB_PROFILE_MAX_LIST];
    int n = split_list(tmp, items, TLB_PROFILE_MAX_LIST);
    for (int i = 0; i < n; i++)
        if (fnmatch(items[i], s, FNM_CASEFOLD) == 0) return 1;
    return 0;
}

static int word_in(const char *list, const char *w) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *items[TLB_PROFILE_MAX_LIST];
    int n = split_list(tmp, items, TLB_PROFILE_MAX_LIST);
    for (int i = 0; i < n; i++)
        if (!strcmp(items[i], w)) return 1;
    return 0;
}

static int isa_rule(const char *list, const struct tlb_sysinfo *si, int want) {
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *items[TLB_PROFILE_MAX_LIST];
    int n = split_list(tmp, items, TLB_PROFILE_MAX_LIST);
    for (int i = 0; i < n; i++)
        if (tlb_sysinfo_has_isa(si, items[i]) != want) return 0;
    return 1;
}

int tlb_profile_matches(const struct tlb_profile *p, const struct tlb_sysinfo *si) {
    if (p->match_arch[0] && !word_in(p->match_arch, si->arch)) return 0;
    if (p->match_isa[0] && !isa_rule(p->match_isa, si, 1)) return 0;
    if (p->match_isa_absent[0] && !isa_rule(p->match_isa_absent, si, 0)) return 0;
    if (p->match_devicetree[0] || p->match_dmi[0] || p->match_cpu[0]) {
        char dmi[200];
        snprintf(dmi, sizeof dmi, "%s %s", si->dmi_vendor, si->dmi_product);
        int hit = (p->match_devicetree[0] && any_glob(p->match_devicetree, si->dt_model)) ||
                  (p->match_dmi[0] && (si->dmi_vendor[0] || si->dmi_product[0]) &&
                   any_glob(p->match_dmi, dmi)) ||
                  (p->match_cpu[0] && any_glob(p->match_cpu, si->cpu_model));
        if (!hit) return 0;
    }
    return 1;
}

int tlb_profile_detect(const char *dir, const struct tlb_sysinfo *si, struct tlb_profile *p) {
    DIR *d = opendir(dir);
    if (!d) {
        tlb_error("%s: cannot read the platform profiles: %s", dir, strerror(errno));
        return -1;
    }
    struct tlb_profile *cand = malloc(sizeof *cand);
    if (!cand) {
        closedir(d);
        tlb_error("out of memory loading profiles");
        return -1;
    }
    int found = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || !tlb_ends_with(e->d_name, ".conf") || e->d_name[0] == '.') continue;
        char path[TLB_PATH_MAX];
        if (tlb_pathf(path, sizeof path, "%s/%s", dir, e->d_name) != 0 ||
            tlb_profile_load(path, cand) != 0) {
            rc = -1;
            break;
        }
        if (!tlb_profile_matches(cand, si)) continue;
        if (!found || cand->priority > p->priority ||
            (cand->priority == p->priority && strcmp(cand->name, p->name) < 0)) {
            *p = *cand;
            found = 1;
        }
    }
    closedir(d);
    free(cand);
    if (rc) return -1;
    if (!found) {
        tlb_error("%s: no platform profile matches this machine (add a generic.conf)", dir);
        return -1;
    }
    return 0;
}

static int has_generic(const char *dir) {
    char p[TLB_PATH_MAX];
    struct stat st;
    return tlb_pathf(p, sizeof p, "%s/generic.conf", dir) == 0 && stat(p, &st) == 0;
}

int tlb_profile_dir(char *buf, size_t n) {
    const char *env = getenv("TLBENCH_PLATFORMS");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return has_generic(buf) ? 0 : -1;
    }
    if (has_generic("platforms")) {
        snprintf(buf, n, "platforms");
        return 0;
    }
    char exe[TLB_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const rel[] = {"/platforms", "/../platforms",
                                          "/../share/tlbench/platforms"};
        for (size_t i = 0; i < TLB_ARRAY_LEN(rel); i++)
            if (tlb_pathf(buf, n, "%s%s", exe, rel[i]) == 0 && has_generic(buf)) return 0;
    }
    buf[0] = '\0';
    return -1;
}

int tlb_profile_threads(const struct tlb_profile *p, int n_cpus, int *out, int max) {
    int n = 0;
    if (n_cpus < 1) n_cpus = 1;
    for (int i = 0; i < p->n_threads && n < max; i++) {
        int t = p->threads[i] == 0 ? n_cpus : p->threads[i];
        if (t > n_cpus) continue;
        int dup = 0;
        for (int j = 0; j < n; j++) dup |= out[j] == t;
        if (!dup) out[n++] = t;
    }
    if (n == 0 && max > 0) out[n++] = 1;
    return n;
}
