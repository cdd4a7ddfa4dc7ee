/* thermal.c — temperature sensors, CPU frequency and throttle indicators read from a
 * root-prefixed tree (see thermal.h). */
#include "thermal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysfs.h"
#include "util.h"
#include "vcgencmd.h"

#define MAX_SENSORS 32

struct sensor {
    char name[96];
    char path[TLB_PATH_MAX];
};

struct tlb_thermal {
    int n;
    struct sensor s[MAX_SENSORS];
};

/* A plausible reading in m°C (disabled zones report errors or nonsense). */
static int read_mc(const char *path, long long *mc) {
    if (tlb_sysfs_read_ll_abs(path, mc) != 0) return -1;
    if (*mc < -60000 || *mc > 250000) {
        errno = ERANGE;
        return -1;
    }
    return 0;
}

static void add_sensor(struct tlb_thermal *t, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_sensor(struct tlb_thermal *t, const char *path, const char *fmt, ...) {
    if (t->n >= MAX_SENSORS) return;
    struct sensor *s = &t->s[t->n];
    if (tlb_pathf(s->path, sizeof s->path, "%s", path) != 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    t->n++;
}

static void open_zones(struct tlb_thermal *t, const char *root, const char *zones) {
    char base[TLB_PATH_MAX];
    int nums[64];
    tlb_sysfs_path(base, sizeof base, root, "/sys/class/thermal");
    int n = tlb_sysfs_list_numbered(base, "thermal_zone", nums, 64);
    for (int i = 0; i < n; i++) {
        char p[TLB_PATH_MAX], type[64] = "";
        long long mc;
        tlb_pathf(p, sizeof p, "%s/thermal_zone%d/type", base, nums[i]);
        tlb_sysfs_read_abs(p, type, sizeof type);
        if (zones && *zones && !tlb_list_has(zones, type)) continue;
        tlb_pathf(p, sizeof p, "%s/thermal_zone%d/temp", base, nums[i]);
        if (read_mc(p, &mc) != 0) continue;
        add_sensor(t, p, "thermal_zone%d:%s", nums[i], type[0] ? type : "unknown");
    }
}

static void open_hwmon(struct tlb_thermal *t, const char *root) {
    static const char *const cpu_names[] = {"coretemp", "k10temp", "zenpower", "cpu_thermal",
                                            "cpu-thermal", "soc_thermal", "x86_pkg_temp"};
    char base[TLB_PATH_MAX];
    int nums[64];
    tlb_sysfs_path(base, sizeof base, root, "/sys/class/hwmon");
    int n = tlb_sysfs_list_numbered(base, "hwmon", nums, 64);
    for (int i = 0; i < n; i++) {
        char p[TLB_PATH_MAX], name[64] = "";
        tlb_pathf(p, sizeof p, "%s/hwmon%d/name", base, nums[i]);
        tlb_sysfs_read_abs(p, name, sizeof name);
        int cpu = 0;
        for (size_t k = 0; k < TLB_ARRAY_LEN(cpu_names); k++) cpu |= !strcmp(name, cpu_names[k]);
        if (!cpu) continue;
        for (int ch = 1; ch <= 16; ch++) {
            char label[64] = "", lp[TLB_PATH_MAX];
            long long mc;
            tlb_pathf(p, sizeof p, "%s/hwmon%d/temp%d_input", base, nums[i], ch);
            if (read_mc(p, &mc) != 0) continue;
            tlb_pathf(lp, sizeof lp, "%s/hwmon%d/temp%d_label", base, nums[i], ch);
            tlb_sysfs_read_abs(lp, label, sizeof label);
            add_sensor(t, p, "hwmon%d:%s:%s", nums[i], name, label[0] ? label : "temp");
        }
    }
}

struct tlb_thermal *tlb_thermal_open(const char *root, const char *zones, char *why,
                                     size_t why_len) {
    struct tlb_thermal *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    open_zones(t, root ? root : "", zones);
    if (t->n == 0 && !(zones && *zones)) open_hwmon(t, root ? root : "");
    if (t->n == 0) {
        if (zones && *zones)
            snprintf(why, why_len, "no readable thermal zone of type %s", zones);
        else
            snprintf(why, why_len, "no readable thermal zone or CPU hwmon temperature");
        free(t);
        return NULL;
    }
    return t;
}

int tlb_thermal_count(const struct tlb_thermal *t) { return t->n; }

const char *tlb_thermal_name(const struct tlb_thermal *t, int i) {
    return i >= 0 && i < t->n ? t->s[i].name : "";
}

int tlb_thermal_read_one(struct tlb_thermal *t, int i, double *celsius, char *why,
                         size_t why_len) {
    long long mc;
    if (i < 0 || i >= t->n) {
        snprintf(why, why_len, "no sensor %d", i);
        return -1;
    }
    if (read_mc(t->s[i].path, &mc) != 0) {
        snprintf(why, why_len, "temperature sensor %s: %s", t->s[i].path, strerror(errno));
        return -1;
    }
    *celsius = (double)mc / 1000.0;
    return 0;
}

int tlb_thermal_read_max(struct tlb_thermal *t, double *celsius, char *why, size_t why_len) {
    double best = -1e9;
    for (int i = 0; i < t->n; i++) {
        double c;
        if (tlb_thermal_read_one(t, i, &c, why, why_len) != 0) return -1;
        if (c > best) best = c;
    }
    *celsius = best;
    return 0;
}

void tlb_thermal_close(struct tlb_thermal *t) { free(t); }

long tlb_cpufreq_min_khz(const char *root, int n_cpus) {
    long best = -1;
    for (int c = 0; c < n_cpus; c++) {
        char p[128];
        long long v;
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq", c);
        if (tlb_sysfs_read_ll(root ? root : "", p, &v) == 0 && v > 0 && (best < 0 || v < best))
            best = (long)v;
    }
    return best;
}

/* ---- throttling ---- */

struct tlb_throttle {
    int pi;                 /* vcgencmd get_throttled, else x86 counts */
    char cmd[1024];
    char root[TLB_PATH_MAX];
    int n_cpus;
    int n_counters; /* x86 counter files readable at open */
    char name[96];
};

/* Sum of every readable throttle counter; *found = how many were readable. */
static void read_counts(const struct tlb_throttle *t, long long *sum, int *found) {
    static const char *const files[] = {"core_throttle_count", "package_throttle_count"};
    *sum = 0;
    *found = 0;
    for (int c = 0; c < t->n_cpus; c++)
        for (int f = 0; f < 2; f++) {
            char p[160];
            long long v;
            snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/thermal_throttle/%s", c,
                     files[f]);
            if (tlb_sysfs_read_ll(t->root, p, &v) == 0) {
                *sum += v;
                (*found)++;
            }
        }
}

struct tlb_throttle *tlb_throttle_open(const char *root, const char *vcgencmd, int n_cpus,
                                       char *why, size_t why_len) {
    struct tlb_throttle *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    snprintf(t->root, sizeof t->root, "%s", root ? root : "");
    t->n_cpus = n_cpus > 0 ? n_cpus : 1;
    char r1[200], out[256];
    unsigned bits;
    if (tlb_vcgencmd_resolve(t->root, vcgencmd, t->cmd, sizeof t->cmd, r1, sizeof r1) == 0 &&
        tlb_vcgencmd_run(t->cmd, "get_throttled", out, sizeof out, r1, sizeof r1) == 0 &&
        tlb_throttled_parse(out, &bits, r1, sizeof r1) == 0) {
        t->pi = 1;
        snprintf(t->name, sizeof t->name, "vcgencmd get_throttled");
        return t;
    }
    long long sum;
    int found = 0;
    read_counts(t, &sum, &found);
    if (found) {
        t->n_counters = found;
        snprintf(t->name, sizeof t->name, "x86 thermal_throttle counts (%d CPUs)", t->n_cpus);
        return t;
    }
    snprintf(why, why_len, "no throttle indicator (no thermal_throttle counts; %s)", r1);
    free(t);
    return NULL;
}

const char *tlb_throttle_name(const struct tlb_throttle *t) { return t->name; }

int tlb_throttle_read(struct tlb_throttle *t, struct tlb_throttle_state *st, char *why,
                      size_t why_len) {
    memset(st, 0, sizeof *st);
    if (t->pi) {
        char out[256];
        if (tlb_vcgencmd_run(t->cmd, "get_throttled", out, sizeof out, why, why_len) != 0 ||
            tlb_throttled_parse(out, &st->bits, why, why_len) != 0)
            return -1;
        st->have_bits = 1;
        return 0;
    }
    int found;
    read_counts(t, &st->counts, &found);
    if (found < t->n_counters) {
        /* a counter that vanished could hide throttle events */
        snprintf(why, why_len, "%d of %d thermal_throttle counters became unreadable",
                 t->n_counters - found, t->n_counters);
        return -1;
    }
    st->have_counts = 1;
    return 0;
}

void tlb_throttle_close(struct tlb_throttle *t) { free(t); }

int tlb_throttle_compare(const struct tlb_throttle_state *before,
                         const struct tlb_throttle_state *after, char *why, size_t why_len) {
    if (before->have_bits && after->have_bits) {
        unsigned fresh = after->bits & TLB_THROTTLE_STICKY_MASK & ~before->bits;
        unsigned now = after->bits & TLB_THROTTLE_NOW_MASK;
        if (!fresh && !now) return 0;
        char a[128] = "none", b[128] = "none";
        if (fresh) tlb_throttled_describe(fresh, a, sizeof a);
        if (now) tlb_throttled_describe(now, b, sizeof b);
        snprintf(why, why_len, "get_throttled 0x%x -> 0x%x: new since start: %s; active now: %s",
                 before->bits, after->bits, a, b);
        return 1;
    }
    if (before->have_counts && after->have_counts && after->counts > before->counts) {
        snprintf(why, why_len, "%lld new thermal throttle events",
                 after->counts - before->counts);
        return 1;
    }
    return 0;
}
