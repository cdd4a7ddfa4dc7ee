/* power-jetson.c — NVIDIA Jetson module power from the INA3221 monitor. New driver (L4T 35+):
 * /sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmonK/ with in<N>_label, in<N>_input (mV),
 * curr<N>_input (mA). Old driver (L4T 32): /sys/bus/i2c/drivers/ina3221x/<bus-addr>/
 * iio:deviceK/ with rail_name_<N>, in_power<N>_input (mW) or in_voltage/in_current. Reads
 * one rail, the module input (VDD_IN): child rails are parts of it, so summing double-counts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power-impl.h"
#include "sysfs.h"
#include "util.h"

#define MAX_ENTRIES 24

struct jetson {
    int old;                       /* ina3221x iio layout */
    char volt[TLB_PATH_MAX];       /* mV file */
    char curr[TLB_PATH_MAX];       /* mA file */
    char power[TLB_PATH_MAX];      /* mW file (old layout), "" when absent */
};

struct found {
    char rails_seen[256];
    size_t seen_off;
};

static void note_rail(struct found *f, const char *name) {
    if (f->seen_off >= sizeof f->rails_seen || strstr(f->rails_seen, name)) return;
    int w = snprintf(f->rails_seen + f->seen_off, sizeof f->rails_seen - f->seen_off, "%s%s",
                     f->seen_off ? "," : "", name);
    if (w > 0) f->seen_off += (size_t)w;
}

/* Entries of dir whose names start with prefix, sorted; returns the count (at most
 * MAX_ENTRIES: a driver directory also holds bind, unbind, uevent and module). */
static int list_dirs(const char *dir, const char *prefix, char out[][64]) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < MAX_ENTRIES) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix))) continue;
        snprintf(out[n++], 64, "%.63s", e->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0; j--) {
            char t[64];
            memcpy(t, out[j], 64);
            memcpy(out[j], out[j - 1], 64);
            memcpy(out[j - 1], t, 64);
        }
    return n;
}

/* New layout: find rail in any ina3221 device. */
static int find_new(const char *root, const char *rail, struct jetson *j, char *dev,
                    struct found *f) {
    char base[TLB_PATH_MAX], devs[MAX_ENTRIES][64];
    tlb_sysfs_path(base, sizeof base, root, "/sys/bus/i2c/drivers/ina3221");
    int nd = list_dirs(base, "", devs);
    for (int i = 0; i < nd; i++) {
        char hdir[TLB_PATH_MAX], hw[MAX_ENTRIES][64];
        if (!strchr(devs[i], '-')) continue; /* bind, unbind, uevent... */
        tlb_pathf(hdir, sizeof hdir, "%s/%s/hwmon", base, devs[i]);
        int nh = list_dirs(hdir, "hwmon", hw);
        for (int h = 0; h < nh; h++) {
            for (int ch = 1; ch <= 8; ch++) {
                char p[TLB_PATH_MAX], label[64];
                tlb_pathf(p, sizeof p, "%s/%s/in%d_label", hdir, hw[h], ch);
                if (tlb_sysfs_read_abs(p, label, sizeof label) <= 0) continue;
                note_rail(f, label);
                if (strcmp(label, rail) != 0) continue;
                tlb_pathf(j->volt, sizeof j->volt, "%s/%s/in%d_input", hdir, hw[h], ch);
                tlb_pathf(j->curr, sizeof j->curr, "%s/%s/curr%d_input", hdir, hw[h], ch);
                j->power[0] = '\0';
                memcpy(dev, devs[i], 64);
                return 1;
            }
        }
    }
    return 0;
}

/* Old layout: iio:deviceK/rail_name_<N>, channels 0..7. */
static int find_old(const char *root, const char *rail, struct jetson *j, char *dev,
                    struct found *f) {
    char base[TLB_PATH_MAX], devs[MAX_ENTRIES][64];
    tlb_sysfs_path(base, sizeof base, root, "/sys/bus/i2c/drivers/ina3221x");
    int nd = list_dirs(base, "", devs);
    for (int i = 0; i < nd; i++) {
        char ddir[TLB_PATH_MAX], iio[MAX_ENTRIES][64];
        if (!strchr(devs[i], '-')) continue;
        tlb_pathf(ddir, sizeof ddir, "%s/%s", base, devs[i]);
        int ni = list_dirs(ddir, "iio:device", iio);
        for (int k = 0; k < ni; k++) {
            for (int ch = 0; ch < 8; ch++) {
                char p[TLB_PATH_MAX], label[64];
                tlb_pathf(p, sizeof p, "%s/%s/rail_name_%d", ddir, iio[k], ch);
                if (tlb_sysfs_read_abs(p, label, sizeof label) <= 0) continue;
                note_rail(f, label);
                if (strcmp(label, rail) != 0) continue;
                j->old = 1;
                tlb_pathf(j->volt, sizeof j->volt, "%s/%s/in_voltage%d_input", ddir, iio[k], ch);
                tlb_pathf(j->curr, sizeof j->curr, "%s/%s/in_current%d_input", ddir, iio[k], ch);
                tlb_pathf(j->power, sizeof j->power, "%s/%s/in_power%d_input", ddir, iio[k], ch);
                memcpy(dev, devs[i], 64);
                return 1;
            }
        }
    }
    return 0;
}

static int jetson_read(void *state, double *value, char *why, size_t why_len) {
    struct jetson *j = state;
    long long mw, mv, ma;
    if (j->power[0] && tlb_sysfs_read_ll_abs(j->power, &mw) == 0) {
        *value = (double)mw * 1e-3;
        return 0;
    }
    if (tlb_sysfs_read_ll_abs(j->volt, &mv) != 0) {
        snprintf(why, why_len, "%s: %s", j->volt, strerror(errno));
        return -1;
    }
    if (tlb_sysfs_read_ll_abs(j->curr, &ma) != 0) {
        snprintf(why, why_len, "%s: %s", j->curr, strerror(errno));
        return -1;
    }
    if (mv < 0 || ma < 0) {
        snprintf(why, why_len, "%s: negative reading", j->volt);
        return -1;
    }
    *value = (double)mv * (double)ma * 1e-6;
    return 0;
}

static void *jetson_open(const struct tlb_power_opts *o, struct tlb_power_info *info,
                         char *why, size_t why_len) {
    const char *rails = o->rails && *o->rails ? o->rails : "VDD_IN,POM_5V_IN";
    struct jetson *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    struct found f;
    memset(&f, 0, sizeof f);
    char dev[64] = "", rail[64] = "", copy[256], *names[16];
    snprintf(copy, sizeof copy, "%s", rails);
    int ok = 0, n = tlb_split_list(copy, names, (int)TLB_ARRAY_LEN(names));
    for (int i = 0; i < n && !ok; i++) {
        if (!names[i][0]) continue;
        snprintf(rail, sizeof rail, "%.63s", names[i]);
        ok = find_new(o->root, rail, j, dev, &f) || find_old(o->root, rail, j, dev, &f);
    }
    if (!ok) {
        if (f.seen_off)
            snprintf(why, why_len, "INA3221 found but no rail named %s (rails: %s)", rails,
                     f.rails_seen);
        else
            snprintf(why, why_len, "no INA3221 power monitor (not a Jetson)");
        free(j);
        return NULL;
    }
    double w;
    if (jetson_read(j, &w, why, why_len) != 0) {
        free(j);
        return NULL;
    }
    int input = !strcmp(rail, "VDD_IN") || !strcmp(rail, "POM_5V_IN");
    tlb_power_set_info(info, "jetson", input ? TLB_SCOPE_MODULE : TLB_SCOPE_HWMON,
                       TLB_POWER_SAMPLER, "%s:%s:%s", j->old ? "ina3221x" : "ina3221", dev,
                       rail);
    return j;
}

static void jetson_close(void *state) { free(state); }

const struct tlb_power_backend tlb_power_backend_jetson = {"jetson", jetson_open, jetson_read,
                                                            jetson_close};
