/* counters.c — event counters through PAPI (when TLB_HAVE_PAPI) with an OS fallback for
 * the software events (see counters.h for the order tried and the counting scope). */
#include "counters.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef TLB_HAVE_PAPI
#include <papi.h>
#endif

#include "sysfs.h"
#include "util.h"

enum os_kind { OS_NONE, OS_TASK_CLOCK, OS_PAGE_FAULTS, OS_CTX_SWITCHES };

struct event {
    char name[64];
    enum tlb_ctr_role role;
    enum os_kind os; /* OS_NONE: a PAPI event */
};

struct tlb_counters {
    int n;
    struct event ev[TLB_CTR_MAX_EVENTS];
    char events[512];
    int papi_set;    /* PAPI event set handle, -1 when none */
    int n_papi;      /* PAPI events come first in ev[] */
    long long os_start[TLB_CTR_MAX_EVENTS];
    int running;
};

static const struct {
    const char *name;
    enum tlb_ctr_role role;
} known_roles[] = {
    {"PAPI_TOT_INS", TLB_CTR_INSTRUCTIONS},   {"PAPI_TOT_CYC", TLB_CTR_CYCLES},
    {"PAPI_L3_TCM", TLB_CTR_CACHE_MISSES},    {"PAPI_L2_TCM", TLB_CTR_CACHE_MISSES},
    {"perf::INSTRUCTIONS", TLB_CTR_INSTRUCTIONS}, {"perf::CYCLES", TLB_CTR_CYCLES},
    {"perf::TASK-CLOCK", TLB_CTR_TASK_CLOCK_NS}, {"perf::PAGE-FAULTS", TLB_CTR_PAGE_FAULTS},
    {"perf::CONTEXT-SWITCHES", TLB_CTR_CTX_SWITCHES},
    {"os:task-clock", TLB_CTR_TASK_CLOCK_NS}, {"os:page-faults", TLB_CTR_PAGE_FAULTS},
    {"os:context-switches", TLB_CTR_CTX_SWITCHES},
};

static enum tlb_ctr_role role_of(const char *name) {
    for (size_t i = 0; i < TLB_ARRAY_LEN(known_roles); i++)
        if (!strcmp(known_roles[i].name, name)) return known_roles[i].role;
    return TLB_CTR_OTHER;
}

static enum os_kind os_kind_of(const char *name) {
    if (!strcmp(name, "os:task-clock")) return OS_TASK_CLOCK;
    if (!strcmp(name, "os:page-faults")) return OS_PAGE_FAULTS;
    if (!strcmp(name, "os:context-switches")) return OS_CTX_SWITCHES;
    return OS_NONE;
}

static int os_read(enum os_kind k, long long *v) {
    if (k == OS_TASK_CLOCK) {
        struct timespec ts;
        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return -1;
        *v = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        return 0;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    *v = k == OS_PAGE_FAULTS ? (long long)ru.ru_minflt + ru.ru_majflt
                             : (long long)ru.ru_nvcsw + ru.ru_nivcsw;
    return 0;
}

/* ---- PAPI ---- */

static pthread_mutex_t papi_mutex = PTHREAD_MUTEX_INITIALIZER;
void tlb_papi_lock(void) { pthread_mutex_lock(&papi_mutex); }
void tlb_papi_unlock(void) { pthread_mutex_unlock(&papi_mutex); }

#ifdef TLB_HAVE_PAPI
static pthread_once_t papi_once = PTHREAD_ONCE_INIT;
static int papi_status;
static char papi_why[160];

static void papi_do_init(void) {
    int r = PAPI_library_init(PAPI_VER_CURRENT);
    if (r != PAPI_VER_CURRENT) {
        papi_status = -1;
        if (r > 0)
            snprintf(papi_why, sizeof papi_why, "PAPI library version mismatch (built for "
                     "%d.%d, runtime differs)", PAPI_VERSION_MAJOR(PAPI_VER_CURRENT),
                     PAPI_VERSION_MINOR(PAPI_VER_CURRENT));
        else
            snprintf(papi_why, sizeof papi_why, "PAPI_library_init failed: %s", PAPI_strerror(r));
    }
}

int tlb_papi_init(char *why, size_t why_len) {
    pthread_once(&papi_once, papi_do_init);
    if (papi_status) snprintf(why, why_len, "%s", papi_why);
    return papi_status;
}

/* Why PAPI's perf_event component cannot count, or "" when it is enabled. */
static void perf_component_state(char *buf, size_t n) {
    buf[0] = '\0';
    int cid = PAPI_get_component_index("perf_event");
    const PAPI_component_info_t *ci = cid >= 0 ? PAPI_get_component_info(cid) : NULL;
    if (!ci) snprintf(buf, n, "PAPI has no perf_event component");
    else if (ci->disabled)
        snprintf(buf, n, "PAPI perf_event component disabled: %.120s%s", ci->disabled_reason,
                 strstr(ci->disabled_reason, "PMU") ? " (no hardware PMU: a VM without a "
                                                      "virtual PMU?)" : "");
}

/* Build a PAPI event set from names; keeps the names that add (all of them when strict).
 * Returns the number added (0 with why when none), the set in *set. */
static int papi_build(const char *const *names, int count, int strict, struct tlb_counters *c,
                      char *why, size_t why_len) {
    int set = PAPI_NULL;
    int r = PAPI_create_eventset(&set);
    if (r != PAPI_OK) {
        snprintf(why, why_len, "PAPI_create_eventset: %s", PAPI_strerror(r));
        return 0;
    }
    /* count threads created later too (the engine's pool), where the component allows */
    if (PAPI_assign_eventset_component(set, 0) == PAPI_OK) {
        PAPI_option_t opt;
        memset(&opt, 0, sizeof opt);
        opt.inherit.eventset = set;
        opt.inherit.inherit = PAPI_INHERIT_ALL;
        PAPI_set_opt(PAPI_INHERIT, &opt);
    }
    int added = 0;
    char first_err[160] = "";
    for (int i = 0; i < count && c->n < TLB_CTR_MAX_EVENTS; i++) {
        /* PAPI_L2_TCM only stands in when PAPI_L3_TCM is missing */
        if (!strict && !strcmp(names[i], "PAPI_L2_TCM") && added && c->n > 0 &&
            !strcmp(c->ev[c->n - 1].name, "PAPI_L3_TCM"))
            continue;
        r = PAPI_add_named_event(set, names[i]);
        if (r != PAPI_OK) {
            if (!first_err[0])
                snprintf(first_err, sizeof first_err, "%s: %s", names[i], PAPI_strerror(r));
            if (strict) {
                snprintf(why, why_len, "PAPI cannot count %s: %s", names[i], PAPI_strerror(r));
                PAPI_cleanup_eventset(set);
                PAPI_destroy_eventset(&set);
                c->n -= added;
                return 0;
            }
            continue;
        }
        struct event *e = &c->ev[c->n++];
        snprintf(e->name, sizeof e->name, "%s", names[i]);
        e->role = role_of(names[i]);
        e->os = OS_NONE;
        added++;
    }
    if (added) {
        /* a trial run: events can add but fail to start (no PMU behind them) */
        long long tmp[TLB_CTR_MAX_EVENTS];
        r = PAPI_start(set);
        if (r == PAPI_OK) r = PAPI_stop(set, tmp);
        if (r != PAPI_OK) {
            snprintf(why, why_len, "PAPI_start(%s...): %s", c->ev[c->n - added].name,
                     PAPI_strerror(r));
            c->n -= added;
            added = 0;
        }
    } else {
        snprintf(why, why_len, "%s", first_err[0] ? first_err : "no events");
    }
    if (!added) {
        PAPI_cleanup_eventset(set);
        PAPI_destroy_eventset(&set);
        return 0;
    }
    c->papi_set = set;
    c->n_papi = added;
    return added;
}
#else
int tlb_papi_init(char *why, size_t why_len) {
    snprintf(why, why_len, "PAPI not built in (install libpapi-dev and rebuild)");
    return -1;
}
#endif

static void add_os(struct tlb_counters *c, const char *name) {
    if (c->n >= TLB_CTR_MAX_EVENTS) return;
    struct event *e = &c->ev[c->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->role = role_of(name);
    e->os = os_kind_of(name);
}

static void join_names(struct tlb_counters *c) {
    size_t off = 0;
    c->events[0] = '\0';
    for (int i = 0; i < c->n; i++) {
        int w = snprintf(c->events + off, sizeof c->events - off, "%s%s", i ? ";" : "",
                         c->ev[i].name);
        if (w < 0 || (size_t)w >= sizeof c->events - off) break;
        off += (size_t)w;
    }
}

static const char *const os_events[] = {"os:task-clock", "os:page-faults",
                                        "os:context-switches"};

static int open_auto(struct tlb_counters *c, char *note, size_t note_len) {
    char papi[256] = "";
#ifdef TLB_HAVE_PAPI
    if (tlb_papi_init(papi, sizeof papi) == 0) {
        static const char *const hw[] = {"PAPI_TOT_INS", "PAPI_TOT_CYC", "PAPI_L3_TCM",
                                         "PAPI_L2_TCM"};
        static const char *const sw[] = {"perf::TASK-CLOCK", "perf::PAGE-FAULTS",
                                         "perf::CONTEXT-SWITCHES"};
        char comp[256], r1[160] = "", r2[160] = "";
        tlb_papi_lock();
        perf_component_state(comp, sizeof comp);
        int got = papi_build(hw, 4, 0, c, r1, sizeof r1);
        if (got) {
            tlb_papi_unlock();
            for (int i = 0; i < 3; i++) add_os(c, os_events[i]);
            return 0;
        }
        got = papi_build(sw, 3, 0, c, r2, sizeof r2);
        tlb_papi_unlock();
        if (got) {
            snprintf(note, note_len, "no PAPI hardware events (%s)", comp[0] ? comp : r1);
            return 0;
        }
        if (comp[0]) snprintf(papi, sizeof papi, "%s", comp);
        else snprintf(papi, sizeof papi, "hardware: %.100s; software: %.100s", r1, r2);
    }
#endif
    for (int i = 0; i < 3; i++) add_os(c, os_events[i]);
    snprintf(note, note_len, "software events from the OS, not PAPI: %s", papi);
    return 0;
}

static int open_list(struct tlb_counters *c, const char *events, char *why, size_t why_len) {
    const char *papi_names[TLB_CTR_MAX_EVENTS];
    char store[TLB_CTR_MAX_EVENTS][64];
    int np = 0;
    const char *os_names[TLB_CTR_MAX_EVENTS];
    int no = 0;
    for (const char *p = events; *p;) {
        size_t len = strcspn(p, ",;");
        while (len && *p == ' ') p++, len--;
        while (len && p[len - 1] == ' ') len--;
        if (len) {
            if (np + no >= TLB_CTR_MAX_EVENTS || len >= 64) {
                snprintf(why, why_len, "too many or too long counter event names (max %d)",
                         TLB_CTR_MAX_EVENTS);
                return -1;
            }
            char *s = store[np + no];
            memcpy(s, p, len);
            s[len] = '\0';
            if (!strncmp(s, "os:", 3)) {
                if (os_kind_of(s) == OS_NONE) {
                    snprintf(why, why_len, "unknown OS event '%s' (known: %s, %s, %s)", s,
                             os_events[0], os_events[1], os_events[2]);
                    return -1;
                }
                os_names[no++] = s;
            } else {
                papi_names[np++] = s;
            }
        }
        p += strcspn(p, ",;");
        if (*p) p++;
    }
    if (np + no == 0) {
        snprintf(why, why_len, "empty counter event list");
        return -1;
    }
    if (np) {
#ifdef TLB_HAVE_PAPI
        if (tlb_papi_init(why, why_len) != 0) return -1;
        tlb_papi_lock();
        int got = papi_build(papi_names, np, 1, c, why, why_len);
        tlb_papi_unlock();
        if (!got) return -1;
#else
        snprintf(why, why_len, "cannot count %s: PAPI not built in", papi_names[0]);
        return -1;
#endif
    }
    for (int i = 0; i < no; i++) add_os(c, os_names[i]);
    return 0;
}

struct tlb_counters *tlb_counters_open(const char *events, char *why, size_t why_len,
                                       char *note, size_t note_len) {
    char dummy[8];
    if (!note) {
        note = dummy;
        note_len = sizeof dummy;
    }
    note[0] = '\0';
    struct tlb_counters *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    c->papi_set = -1;
    int r = !events || !*events || !strcmp(events, "auto")
                ? open_auto(c, note, note_len)
                : open_list(c, events, why, why_len);
    if (r != 0) {
        free(c);
        return NULL;
    }
    join_names(c);
    return c;
}

const char *tlb_counters_events(const struct tlb_counters *c) { return c->events; }
int tlb_counters_count(const struct tlb_counters *c) { return c->n; }
enum tlb_ctr_role tlb_counters_role(const struct tlb_counters *c, int i) {
    return i >= 0 && i < c->n ? c->ev[i].role : TLB_CTR_OTHER;
}

int tlb_counters_start(struct tlb_counters *c, char *why, size_t why_len) {
#ifdef TLB_HAVE_PAPI
    if (c->papi_set >= 0) {
        if (c->running) {
            long long tmp[TLB_CTR_MAX_EVENTS];
            tlb_papi_lock();
            PAPI_stop(c->papi_set, tmp);
            tlb_papi_unlock();
        }
        tlb_papi_lock();
        int r = PAPI_start(c->papi_set);
        tlb_papi_unlock();
        if (r != PAPI_OK) {
            snprintf(why, why_len, "PAPI_start: %s", PAPI_strerror(r));
            return -1;
        }
    }
#endif
    for (int i = c->n_papi; i < c->n; i++)
        if (os_read(c->ev[i].os, &c->os_start[i]) != 0) {
            snprintf(why, why_len, "%s: %s", c->ev[i].name, strerror(errno));
            return -1;
        }
    c->running = 1;
    return 0;
}

int tlb_counters_stop(struct tlb_counters *c, long long *values, char *why, size_t why_len) {
    if (!c->running) {
        snprintf(why, why_len, "counters stopped without being started");
        return -1;
    }
    c->running = 0;
    for (int i = c->n_papi; i < c->n; i++) {
        long long v;
        if (os_read(c->ev[i].os, &v) != 0) {
            snprintf(why, why_len, "%s: %s", c->ev[i].name, strerror(errno));
            return -1;
        }
        values[i] = v - c->os_start[i];
    }
#ifdef TLB_HAVE_PAPI
    if (c->papi_set >= 0) {
        tlb_papi_lock();
        int r = PAPI_stop(c->papi_set, values);
        tlb_papi_unlock();
        if (r != PAPI_OK) {
            snprintf(why, why_len, "PAPI_stop: %s", PAPI_strerror(r));
            return -1;
        }
    }
#endif
    return 0;
}

void tlb_counters_close(struct tlb_counters *c) {
    if (!c) return;
#ifdef TLB_HAVE_PAPI
    if (c->papi_set >= 0) {
        long long tmp[TLB_CTR_MAX_EVENTS];
        tlb_papi_lock();
        if (c->running) PAPI_stop(c->papi_set, tmp);
        PAPI_cleanup_eventset(c->papi_set);
        PAPI_destroy_eventset(&c->papi_set);
        tlb_papi_unlock();
    }
#endif
    free(c);
}

void tlb_counters_by_role(const struct tlb_counters *c, const long long *values,
                          long long *by_role) {
    for (int r = 0; r < TLB_CTR_ROLE_COUNT; r++) by_role[r] = -1;
    for (int i = 0; i < c->n; i++)
        if (c->ev[i].role != TLB_CTR_OTHER && by_role[c->ev[i].role] < 0)
            by_role[c->ev[i].role] = values[i];
}

void tlb_counters_paranoid(char *buf, size_t n) {
    long long p;
    if (tlb_sysfs_read_ll("", "/proc/sys/kernel/perf_event_paranoid", &p) != 0) {
        snprintf(buf, n, "unknown (/proc/sys/kernel/perf_event_paranoid unreadable)");
        return;
    }
    if (geteuid() == 0)
        snprintf(buf, n, "%lld (running as root: no restriction)", p);
    else if (p <= 1)
        snprintf(buf, n, "%lld (user and kernel counting allowed)", p);
    else if (p == 2)
        snprintf(buf, n, "2 (own process, user space only; 'sysctl kernel.perf_event_paranoid=1' "
                         "to include kernel time)");
    else
        snprintf(buf, n, "%lld (perf_event blocked for non-root: 'sysctl "
                         "kernel.perf_event_paranoid=2' or grant CAP_PERFMON)", p);
}

void tlb_counters_support(char *buf, size_t n) {
#ifdef TLB_HAVE_PAPI
    char why[256];
    if (tlb_papi_init(why, sizeof why) != 0) {
        snprintf(buf, n, "PAPI built in but unusable: %s", why);
        return;
    }
    char comp[256];
    tlb_papi_lock();
    perf_component_state(comp, sizeof comp);
    const PAPI_hw_info_t *hw = PAPI_get_hardware_info();
    tlb_papi_unlock();
    snprintf(buf, n, "PAPI %d.%d.%d; %s%s", PAPI_VERSION_MAJOR(PAPI_VERSION),
             PAPI_VERSION_MINOR(PAPI_VERSION), PAPI_VERSION_REVISION(PAPI_VERSION),
             comp[0] ? comp : "perf_event component enabled",
             hw && hw->virtualized ? "; running in a VM" : "");
#else
    snprintf(buf, n, "PAPI not built in (libpapi-dev absent at build time)");
#endif
}
