/* power-rapl.c — RAPL package energy through powercap sysfs:
 * /sys/class/powercap/intel-rapl:N/{name,energy_uj,max_energy_range_uj} (AMD uses the same
 * driver). Sums the package zones (psys overlaps them and sub-zones are parts of them),
 * each with its own wrap-around. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power-impl.h"
#include "sysfs.h"
#include "util.h"

#define MAX_ZONES 16

struct rapl {
    int n;
    char path[MAX_ZONES][TLB_PATH_MAX]; /* .../intel-rapl:N/energy_uj */
    uint64_t max[MAX_ZONES], prev[MAX_ZONES];
    uint64_t total_uj;
};

static void read_fail(const char *path, int err, char *why, size_t n) {
    if (err == EACCES || err == EPERM)
        snprintf(why, n, "RAPL energy_uj is root-only (CVE-2020-8694); run as root or chmod "
                         "o+r %s", path);
    else
        snprintf(why, n, "%s: %s", path, strerror(err));
}

static void *rapl_open(const struct tlb_power_opts *o, struct tlb_power_info *info, char *why,
                       size_t why_len) {
    char dir[TLB_PATH_MAX];
    tlb_sysfs_path(dir, sizeof dir, o->root, "/sys/class/powercap");
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, why_len, "no powercap RAPL zones (%s absent)",
                 o->root && *o->root ? dir : "/sys/class/powercap");
        return NULL;
    }
    char *names[MAX_ZONES];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nn < MAX_ZONES) {
        unsigned z;
        char tail;
        /* package zones are "intel-rapl:N"; sub-zones "intel-rapl:N:M" are parts of them */
        if (sscanf(e->d_name, "intel-rapl:%u%c", &z, &tail) == 1) {
            names[nn] = strdup(e->d_name);
            if (names[nn]) nn++;
        }
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], tlb_cmp_strp);
    struct rapl *r = calloc(1, sizeof *r);
    char label[160] = "";
    size_t loff = 0;
    int failed = 0;
    for (int i = 0; i < nn && r && !failed; i++) {
        char zname[64] = "", p[TLB_PATH_MAX];
        long long maxr, cur;
        tlb_pathf(p, sizeof p, "%s/%s/name", dir, names[i]);
        tlb_sysfs_read_abs(p, zname, sizeof zname);
        if (!strcmp(zname, "psys")) continue; /* platform domain overlaps the packages */
        tlb_pathf(p, sizeof p, "%s/%s/max_energy_range_uj", dir, names[i]);
        if (tlb_sysfs_read_ll_abs(p, &maxr) != 0 || maxr <= 0) {
            snprintf(why, why_len, "%s: unreadable or invalid max_energy_range_uj", p);
            failed = 1;
            break;
        }
        tlb_pathf(r->path[r->n], sizeof r->path[r->n], "%s/%s/energy_uj", dir, names[i]);
        if (tlb_sysfs_read_ll_abs(r->path[r->n], &cur) != 0) {
            read_fail(r->path[r->n], errno, why, why_len);
            failed = 1;
            break;
        }
        if (cur < 0 || cur > maxr) {
            snprintf(why, why_len, "%s: value %lld outside 0..%lld", r->path[r->n], cur, maxr);
            failed = 1;
            break;
        }
        r->max[r->n] = (uint64_t)maxr;
        r->prev[r->n] = (uint64_t)cur;
        int w = snprintf(label + loff, sizeof label - loff, "%s%s", loff ? "+" : "",
                         zname[0] ? zname : names[i]);
        if (w > 0 && (size_t)w < sizeof label - loff) loff += (size_t)w;
        r->n++;
    }
    for (int i = 0; i < nn; i++) free(names[i]);
    if (!r) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (failed || r->n == 0) {
        if (!failed) snprintf(why, why_len, "no RAPL package zone in %s",
                              o->root && *o->root ? dir : "/sys/class/powercap");
        free(r);
        return NULL;
    }
    tlb_power_set_info(info, "rapl", TLB_SCOPE_PACKAGE, TLB_POWER_ENERGY, "rapl:%s", label);
    return r;
}

static int rapl_read(void *state, double *value, char *why, size_t why_len) {
    struct rapl *r = state;
    for (int i = 0; i < r->n; i++) {
        long long cur;
        if (tlb_sysfs_read_ll_abs(r->path[i], &cur) != 0) {
            read_fail(r->path[i], errno, why, why_len);
            return -1;
        }
        if (cur < 0 || (uint64_t)cur > r->max[i]) {
            snprintf(why, why_len, "%s: value %lld outside 0..%llu", r->path[i], cur,
                     (unsigned long long)r->max[i]);
            return -1;
        }
        r->total_uj += tlb_energy_delta(r->prev[i], (uint64_t)cur, r->max[i]);
        r->prev[i] = (uint64_t)cur;
    }
    *value = (double)r->total_uj * 1e-6;
    return 0;
}

static void rapl_close(void *state) { free(state); }

const struct tlb_power_backend tlb_power_backend_rapl = {"rapl", rapl_open, rapl_read,
                                                          rapl_close};
