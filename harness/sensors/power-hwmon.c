/* power-hwmon.c — power from generic hwmon sensors under /sys/class/hwmon/hwmonN:
 * energy<N>_input (µJ, cumulative; amd_energy's Esocket channels are summed) is preferred
 * over power<N>_input / power<N>_average (µW, instantaneous). INA3221 devices are left to
 * the Jetson source, which knows which rail is the total. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power-impl.h"
#include "sysfs.h"
#include "util.h"

#define MAX_DEV 32
#define MAX_CH 64
#define MAX_FILES 8

struct hwmon {
    int energy;                          /* counter (µJ) or sampler (µW) */
    int n;                               /* files summed */
    char path[MAX_FILES][TLB_PATH_MAX];
    uint64_t prev[MAX_FILES];
    uint64_t total_uj;
};

static int read_energy(struct hwmon *h, double *value, char *why, size_t why_len) {
    for (int i = 0; i < h->n; i++) {
        long long cur;
        if (tlb_sysfs_read_ll_abs(h->path[i], &cur) != 0) {
            snprintf(why, why_len, "%s: %s", h->path[i], strerror(errno));
            return -1;
        }
        if (cur < 0 || (uint64_t)cur < h->prev[i]) {
            snprintf(why, why_len, "%s: energy counter went backwards", h->path[i]);
            return -1;
        }
        h->total_uj += (uint64_t)cur - h->prev[i];
        h->prev[i] = (uint64_t)cur;
    }
    *value = (double)h->total_uj * 1e-6;
    return 0;
}

static int hwmon_read(void *state, double *value, char *why, size_t why_len) {
    struct hwmon *h = state;
    if (h->energy) return read_energy(h, value, why, why_len);
    long long uw;
    if (tlb_sysfs_read_ll_abs(h->path[0], &uw) != 0) {
        snprintf(why, why_len, "%s: %s", h->path[0], strerror(errno));
        return -1;
    }
    if (uw < 0) {
        snprintf(why, why_len, "%s: negative power", h->path[0]);
        return -1;
    }
    *value = (double)uw * 1e-6;
    return 0;
}

/* Energy channels of one device: Esocket* labels when present, else the first channel. */
static int pick_energy(const char *dir, struct hwmon *h, char *what, size_t wn) {
    int first = -1;
    h->n = 0;
    what[0] = '\0';
    for (int ch = 1; ch <= MAX_CH; ch++) {
        char p[TLB_PATH_MAX], label[64] = "";
        tlb_pathf(p, sizeof p, "%s/energy%d_input", dir, ch);
        if (!tlb_sysfs_exists("", p)) continue;
        if (first < 0) first = ch;
        char lp[TLB_PATH_MAX];
        tlb_pathf(lp, sizeof lp, "%s/energy%d_label", dir, ch);
        tlb_sysfs_read_abs(lp, label, sizeof label);
        if (!strncmp(label, "Esocket", 7) && h->n < MAX_FILES) {
            snprintf(h->path[h->n++], TLB_PATH_MAX, "%s", p);
            size_t off = strlen(what);
            snprintf(what + off, wn - off, "%s%s", off ? "+" : "", label);
        }
    }
    if (h->n == 0 && first > 0) {
        tlb_pathf(h->path[0], TLB_PATH_MAX, "%s/energy%d_input", dir, first);
        snprintf(what, wn, "energy%d", first);
        h->n = 1;
    }
    return h->n;
}

static int pick_power(const char *dir, struct hwmon *h, char *what, size_t wn) {
    static const char *const kinds[] = {"input", "average"};
    for (int k = 0; k < 2; k++)
        for (int ch = 1; ch <= 8; ch++) {
            char p[TLB_PATH_MAX];
            tlb_pathf(p, sizeof p, "%s/power%d_%s", dir, ch, kinds[k]);
            if (!tlb_sysfs_exists("", p)) continue;
            snprintf(h->path[0], TLB_PATH_MAX, "%s", p);
            snprintf(what, wn, "power%d", ch);
            h->n = 1;
            return 1;
        }
    return 0;
}

static void *hwmon_open(const struct tlb_power_opts *o, struct tlb_power_info *info, char *why,
                        size_t why_len) {
    char base[TLB_PATH_MAX];
    tlb_sysfs_path(base, sizeof base, o->root, "/sys/class/hwmon");
    int nums[MAX_DEV];
    int nd = tlb_sysfs_list_numbered(base, "hwmon", nums, MAX_DEV);
    if (nd == 0) {
        snprintf(why, why_len, "no hwmon devices");
        return NULL;
    }
    struct hwmon *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    /* pass 0: energy counters, pass 1: power samplers */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nd; i++) {
            char dir[TLB_PATH_MAX], name[64] = "", p[TLB_PATH_MAX], what[96];
            tlb_pathf(dir, sizeof dir, "%s/hwmon%d", base, nums[i]);
            tlb_pathf(p, sizeof p, "%s/name", dir);
            tlb_sysfs_read_abs(p, name, sizeof name);
            if (!strncmp(name, "ina3221", 7)) continue;
            memset(h, 0, sizeof *h);
            int got = pass == 0 ? pick_energy(dir, h, what, sizeof what)
                                : pick_power(dir, h, what, sizeof what);
            if (!got) continue;
            h->energy = pass == 0;
            if (h->energy) {
                for (int f = 0; f < h->n; f++) {
                    long long v = 0;
                    int rc = tlb_sysfs_read_ll_abs(h->path[f], &v);
                    if (rc != 0 || v < 0) {
                        snprintf(why, why_len, "%s: %s", h->path[f],
                                 rc ? strerror(errno) : "negative energy");
                        free(h);
                        return NULL;
                    }
                    h->prev[f] = (uint64_t)v;
                }
            } else {
                double w;
                if (hwmon_read(h, &w, why, why_len) != 0) {
                    free(h);
                    return NULL;
                }
            }
            tlb_power_set_info(info, "hwmon", TLB_SCOPE_HWMON,
                               h->energy ? TLB_POWER_ENERGY : TLB_POWER_SAMPLER, "hwmon:%s:%s",
                               name[0] ? name : "unnamed", what);
            return h;
        }
    }
    free(h);
    snprintf(why, why_len, "no hwmon energy or power sensor (%d hwmon devices)", nd);
    return NULL;
}

static void hwmon_close(void *state) { free(state); }

const struct tlb_power_backend tlb_power_backend_hwmon = {"hwmon", hwmon_open, hwmon_read,
                                                           hwmon_close};
