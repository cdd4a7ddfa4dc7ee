/* power.c — picks a power/energy source among the backends (power-*.c) and forwards reads
 * (see power.h for the sources and the selection rules). */
#include "power.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power-impl.h"
#include "util.h"

static const struct {
    const struct tlb_power_backend *be;
    int on_request;
} registry[] = {
#define TLB_POWER(name, on_request) {&tlb_power_backend_##name, on_request},
#include "power-list.h"
#undef TLB_POWER
};
#define N_BACKENDS ((int)TLB_ARRAY_LEN(registry))

/* Kinds in "auto" order, then those tried only on request; comma-separated into buf. */
static const char *kind_list(char *buf, size_t n, int with_on_request) {
    size_t off = 0;
    buf[0] = '\0';
    for (int pass = 0; pass < 1 + with_on_request; pass++)
        for (int i = 0; i < N_BACKENDS; i++)
            if (registry[i].on_request == pass && off < n)
                off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? "," : "",
                                        registry[i].be->kind);
    return buf;
}

struct tlb_power_source {
    const struct tlb_power_backend *be;
    void *state;
    struct tlb_power_info info;
};

void tlb_power_set_info(struct tlb_power_info *info, const char *kind, enum tlb_power_scope sc,
                        enum tlb_power_type t, const char *fmt, ...) {
    memset(info, 0, sizeof *info);
    snprintf(info->kind, sizeof info->kind, "%s", kind);
    info->scope = sc;
    info->type = t;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->name, sizeof info->name, fmt, ap);
    va_end(ap);
}

uint64_t tlb_energy_delta(uint64_t prev, uint64_t cur, uint64_t max) {
    return cur >= prev ? cur - prev : cur + (max - prev);
}

const char *tlb_power_scope_name(enum tlb_power_scope s) {
    switch (s) {
    case TLB_SCOPE_PACKAGE: return "package";
    case TLB_SCOPE_MODULE: return "module";
    case TLB_SCOPE_BOARD_PMIC: return "board-pmic";
    case TLB_SCOPE_WALL: return "wall";
    case TLB_SCOPE_HWMON: return "hwmon";
    }
    return "unknown";
}

const char *tlb_power_type_name(enum tlb_power_type t) {
    return t == TLB_POWER_ENERGY ? "energy-counter" : "sampler";
}

static char all_kinds[128];
static void make_all_kinds(void) { kind_list(all_kinds, sizeof all_kinds, 1); }

const char *tlb_power_kinds(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_all_kinds);
    return all_kinds;
}

static const struct tlb_power_backend *find_backend(const char *name) {
    for (int i = 0; i < N_BACKENDS; i++)
        if (!strcmp(registry[i].be->kind, name)) return registry[i].be;
    return NULL;
}

int tlb_power_kind_known(const char *name) { return find_backend(name) != NULL; }

static struct tlb_power_source *try_backend(const struct tlb_power_backend *be,
                                            const struct tlb_power_opts *o, char *why,
                                            size_t why_len) {
    struct tlb_power_info info;
    memset(&info, 0, sizeof info);
    void *st = be->open(o, &info, why, why_len);
    if (!st) return NULL;
    struct tlb_power_source *s = calloc(1, sizeof *s);
    if (!s) {
        be->close(st);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    s->be = be;
    s->state = st;
    s->info = info;
    return s;
}

struct tlb_power_source *tlb_power_open(const struct tlb_power_opts *o, char *why,
                                        size_t why_len) {
    const char *src = o->source;
    if (src && !strcmp(src, "none")) {
        snprintf(why, why_len, "power measurement disabled (power source 'none')");
        return NULL;
    }
    int automatic = !src || !*src || !strcmp(src, "auto");
    const char *list = automatic ? o->prefer : src;
    char order[256], kinds[128];
    if (!list || !*list) {
        snprintf(order, sizeof order, "%s%s", o->meter_cmd && *o->meter_cmd ? "meter," : "",
                 kind_list(kinds, sizeof kinds, 0));
        list = order;
    } else if (automatic && o->meter_cmd && *o->meter_cmd) {
        /* an explicit --power-cmd beats the profile's preference */
        snprintf(order, sizeof order, "meter,%s", list);
        list = order;
    }
    size_t off = 0;
    why[0] = '\0';
    char copy[256], *items[32];
    snprintf(copy, sizeof copy, "%s", list);
    int n = tlb_split_list(copy, items, (int)TLB_ARRAY_LEN(items));
    for (int i = 0; i < n; i++) {
        if (items[i][0]) {
            const struct tlb_power_backend *be = find_backend(items[i]);
            char r[256];
            if (!be) {
                snprintf(why, why_len, "unknown power source '%s' (known: none,auto,%s)",
                         items[i], tlb_power_kinds());
                return NULL;
            }
            struct tlb_power_source *s = try_backend(be, o, r, sizeof r);
            if (s) return s;
            if (off < why_len) {
                int w = snprintf(why + off, why_len - off, "%s%s: %s", off ? "; " : "",
                                 be->kind, r);
                if (w > 0) off += (size_t)w;
            }
        }
    }
    if (!why[0]) snprintf(why, why_len, "no power source tried");
    return NULL;
}

const struct tlb_power_info *tlb_power_source_info(const struct tlb_power_source *s) {
    return &s->info;
}

int tlb_power_read(struct tlb_power_source *s, double *value, char *why, size_t why_len) {
    return s->be->read(s->state, value, why, why_len);
}

void tlb_power_close(struct tlb_power_source *s) {
    if (!s) return;
    s->be->close(s->state);
    free(s);
}

int tlb_power_probe(const struct tlb_power_opts *o, struct tlb_power_candidate *out, int max) {
    int n = 0;
    for (int i = 0; i < N_BACKENDS && n < max; i++) {
        struct tlb_power_candidate *c = &out[n++];
        memset(c, 0, sizeof *c);
        snprintf(c->kind, sizeof c->kind, "%s", registry[i].be->kind);
        struct tlb_power_source *s = try_backend(registry[i].be, o, c->why, sizeof c->why);
        if (s) {
            c->usable = 1;
            c->info = s->info;
            c->why[0] = '\0';
            tlb_power_close(s);
        }
    }
    return n;
}
