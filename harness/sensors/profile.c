/* profile.c — parser, validator and matcher for platform profiles (platforms/NAME.conf; see
 * profile.h). Table-driven: each platform key has a type, limits and a field; repeats and
 * bad values are errors naming the file and line. Any other key is a sweep setting, kept
 * as written for the sweep layer. */
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

#include "kv.h"
#include "power.h"
#include "util.h"

enum key_kind {
    K_TEXT,    /* free text */
    K_WORDS,   /* comma list of [A-Za-z0-9_.-] words */
    K_GLOBS,   /* comma list of glob patterns */
    K_POWER,   /* comma list of power source kinds */
    K_INT,
    K_DOUBLE,
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
    {"cross_prefix", K_TEXT, F(cross_prefix), 0, 0, 0},
    {"cflags", K_TEXT, F(cflags), 0, 0, 0},
    {"price_usd", K_DOUBLE, F(price_usd), 0, 1e7, 0},
};
#undef F
#define N_KEYS ((int)TLB_ARRAY_LEN(keys))

/* Split a comma list into trimmed items (in place). Returns the count, or -1 when an item
 * is empty or there are more than max. */
static int split_list(char *v, char **items, int max) {
    int n = tlb_split_list(v, items, max);
    for (int i = 0; i < n; i++)
        if (!*items[i]) return -1;
    return n;
}

/* Parse one value into p. where names it in errors ("file.conf:3: power_sources"). Returns
 * 0, or -1 after one error line. */
static int set_value(struct tlb_profile *p, const struct key *k, char *v, const char *where) {
    char *base = (char *)p + k->off;
    char *items[TLB_PROFILE_MAX_LIST];
    int count;
    switch (k->kind) {
    case K_TEXT:
        for (const char *c = v; *c; c++)
            if (iscntrl((unsigned char)*c)) {
                tlb_error("%s: control character", where);
                return -1;
            }
        break;
    case K_WORDS:
    case K_GLOBS:
    case K_POWER: {
        if (!*v) break; /* an empty list: no constraint */
        char tmp[512];
        if (strlen(v) >= sizeof tmp) {
            tlb_error("%s: too long", where);
            return -1;
        }
        memcpy(tmp, v, strlen(v) + 1);
        count = split_list(tmp, items, TLB_PROFILE_MAX_LIST);
        if (count < 0) {
            tlb_error("%s: empty item or more than %d items", where, TLB_PROFILE_MAX_LIST);
            return -1;
        }
        for (int i = 0; i < count; i++) {
            if (k->kind != K_GLOBS && !tlb_is_word(items[i])) {
                tlb_error("%s: '%s' is not a plain word", where, items[i]);
                return -1;
            }
            if (k->kind == K_POWER && !tlb_power_kind_known(items[i])) {
                tlb_error("%s: unknown source '%s' (known: %s)", where, items[i],
                          tlb_power_kinds());
                return -1;
            }
        }
        if (k->kind == K_WORDS && !strcmp(k->name, "name") && count != 1) {
            tlb_error("%s: must be one word", where);
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
            tlb_error("%s: too long (max %zu characters)", where, k->size - 1);
            return -1;
        }
        memcpy(base, norm, off + 1);
        return 0;
    }
    case K_INT: {
        long x;
        if (tlb_parse_int_msg(where, v, (long)k->min, (long)k->max, &x) != 0) return -1;
        *(int *)base = (int)x;
        return 0;
    }
    case K_DOUBLE: {
        double x;
        if (tlb_parse_double_msg(where, v, k->min, k->max, &x) != 0) return -1;
        *(double *)base = x;
        return 0;
    }
    }
    /* K_TEXT */
    if (strlen(v) >= k->size) {
        tlb_error("%s: too long (max %zu characters)", where, k->size - 1);
        return -1;
    }
    memcpy(base, v, strlen(v) + 1);
    return 0;
}

static void defaults(struct tlb_profile *p) {
    memset(p, 0, sizeof *p);
    p->throttle_temp_c = NAN;
    p->price_usd = NAN;
}

/* A key that is not a platform key: a sweep setting, stored for the sweep layer. */
static int keep_setting(struct tlb_profile *p, const char *path, const char *key,
                        const char *value, int line) {
    if (p->n_settings == TLB_PROFILE_MAX_SETTINGS) {
        tlb_error("%s:%d: more than %d sweep settings", path, line, TLB_PROFILE_MAX_SETTINGS);
        return -1;
    }
    struct tlb_profile_setting *st = &p->settings[p->n_settings];
    if (strlen(key) >= sizeof st->key) {
        tlb_error("%s:%d: unknown key '%.60s'", path, line, key);
        return -1;
    }
    if (strlen(value) >= sizeof st->value) {
        tlb_error("%s:%d: the value of %s is too long (max %zu characters)", path, line, key,
                  sizeof st->value - 1);
        return -1;
    }
    snprintf(st->key, sizeof st->key, "%s", key);
    snprintf(st->value, sizeof st->value, "%s", value);
    st->line = line;
    p->n_settings++;
    return 0;
}

int tlb_profile_load(const char *path, struct tlb_profile *p) {
    defaults(p);
    if (tlb_pathf(p->path, sizeof p->path, "%s", path) != 0) {
        tlb_error("%s: path too long", path);
        return -1;
    }
    struct tlb_kv_file f;
    if (tlb_kv_read(path, 1u << 16, &f) != 0) return -1;
    int seen[N_KEYS] = {0}, rc = 0;
    for (int e = 0; e < f.n && rc == 0; e++) {
        const char *key = f.e[e].key;
        char *val = (char *)f.e[e].value;
        int line = f.e[e].line, ki = -1;
        for (int i = 0; i < N_KEYS; i++)
            if (!strcmp(keys[i].name, key)) ki = i;
        char where[TLB_PATH_MAX + 80];
        snprintf(where, sizeof where, "%s:%d: %s", path, line, key);
        if (ki < 0) {
            rc = keep_setting(p, path, key, val, line);
        } else if (seen[ki]) {
            tlb_error("%s:%d: '%s' is already set on line %d", path, line, key, seen[ki]);
            rc = -1;
        } else if (keys[ki].required && !*val) {
            tlb_error("%s:%d: %s must not be empty", path, line, key);
            rc = -1;
        } else if (set_value(p, &keys[ki], val, where) != 0) {
            rc = -1;
        }
        if (ki >= 0) seen[ki] = line;
    }
    tlb_kv_free(&f);
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
    if (!tlb_is_word(name) || strchr(name, '.')) {
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
    if (p->match_arch[0] && !tlb_list_has(p->match_arch, si->arch)) return 0;
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
