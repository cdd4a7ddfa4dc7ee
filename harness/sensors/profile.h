/* profile.h — platform profiles: one platforms/<kind>.conf per board kind (x86-avx512-server,
 * intel-ai-pc, rpi5, jetson-orin-nano, generic). A profile says how the board is recognised
 * (match_* rules tested against sysinfo.h facts), which power and thermal sources to
 * prefer, the cross prefix and CPU flags, a throttle temperature and an optional price: the
 * platform facts, validated here. It also carries the board kind's default sweep in the
 * sweep-file vocabulary (kernel = ..., n-prompt = ...), which this layer keeps as raw
 * key/value pairs for the sweep layer to read (sweep/options.h: tlb_spec_from_profile).
 * The file format (kv.h) is described at the top of platforms/generic.conf; an error names
 * file and line. */
#ifndef TLB_PROFILE_H
#define TLB_PROFILE_H

#include <stddef.h>

#include "sysfs.h"
#include "sysinfo.h"

#define TLB_PROFILE_MAX_LIST 32     /* items of a match_* or power_* list */
#define TLB_PROFILE_MAX_SETTINGS 32 /* sweep settings in one profile */

struct tlb_profile {
    char name[32];            /* the board kind, equal to the file name without .conf */
    char path[TLB_PATH_MAX];  /* file it was loaded from */
    char description[160];
    int priority;             /* detection tries higher priorities first (generic: 0) */

    /* recognition; empty = no constraint (see tlb_profile_matches) */
    char match_arch[64];          /* any of these uname machines ("x86_64,aarch64") */
    char match_devicetree[256];   /* globs against /proc/device-tree/model */
    char match_dmi[256];          /* globs against "sys_vendor product_name" */
    char match_cpu[256];          /* globs against sysinfo cpu_model */
    char match_isa[128];          /* every feature required ("avx512f") */
    char match_isa_absent[128];   /* none of these may be present */

    /* sensors */
    char power_sources[128];  /* preference order for power.h "auto" */
    char power_rails[64];     /* Jetson INA3221 rail names to try, "" = default */
    char thermal_zones[128];  /* thermal zone types to watch, "" = all */
    double throttle_temp_c;   /* temperature at which the board starts throttling (wait
                                 below it before a test), NAN when unset */

    /* The sweep settings of the board kind (kernel, quant, threads, ctx, n-prompt ...): every
     * key that is not a platform key, kept as written with its line. Their names, values
     * and which are required belong to the sweep (sweep/options.h reads them). */
    struct tlb_profile_setting {
        char key[32];
        char value[256];
        int line;
    } settings[TLB_PROFILE_MAX_SETTINGS];
    int n_settings;

    /* build and purchase */
    char cross_prefix[64];    /* e.g. "aarch64-linux-gnu-", "" = native */
    char cflags[256];         /* extra CPU flags for a board-tuned build, "" = none */
    double price_usd;         /* NAN when unset */
};

/* Load one file. Returns 0, or -1 with one error printed "FILE:LINE: problem" (repeated or
 * malformed platform key, a setting too long or too many, missing name or description,
 * name != file name). The sweep settings are only stored. */
int tlb_profile_load(const char *path, struct tlb_profile *p);
/* Load "<dir>/<name>.conf" (name: letters, digits, '-', '_'). 0 or -1 (error printed). */
int tlb_profile_load_name(const char *dir, const char *name, struct tlb_profile *p);
/* Does this profile recognise the machine? Rules: match_arch (any), match_isa (all),
 * match_isa_absent (none); and when any of match_devicetree / match_dmi / match_cpu is set,
 * at least one of their globs matches. A profile without rules matches everything. */
int tlb_profile_matches(const struct tlb_profile *p, const struct tlb_sysinfo *si);
/* Load every *.conf in dir and return the matching one with the highest priority (ties:
 * name order). 0, or -1 with an error printed (unreadable dir, broken profile, no match). */
int tlb_profile_detect(const char *dir, const struct tlb_sysinfo *si, struct tlb_profile *p);
/* Where the profiles are: $TLBENCH_PLATFORMS, else ./platforms, else platforms/ next to or
 * one level above the tlbench binary. 0, or -1 when none has a generic.conf. */
int tlb_profile_dir(char *buf, size_t n);
#endif
