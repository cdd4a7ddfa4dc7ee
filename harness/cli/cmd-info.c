/* cmd-info.c — `tlbench info`: the platform (board, CPU, ISA features, memory, OS, compiler,
 * cpufreq), every kernel in the registry (usable or why not, library version), power and
 * thermal sensors found and why others are unusable, counter support, and the matched
 * platform profile. One list of key/value rows printed as text, CSV (libcsv) or JSON. */
#include <csv.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-info.h"
#include "command.h"
#include "counters.h"
#include "escape.h"
#include "cpu.h"
#include "json-out.h"
#include "kernel.h"
#include "options.h"
#include "power.h"
#include "profile.h"
#include "schema.h"
#include "sysinfo.h"
#include "thermal.h"
#include "threadpool.h"
#include "util.h"
#include "vcgencmd.h"

#ifndef TLB_COMPILER
#define TLB_COMPILER "unknown"
#endif
#ifndef TLB_CFLAGS
#define TLB_CFLAGS "unknown"
#endif

enum fmt { FMT_TEXT, FMT_CSV, FMT_JSON };

struct row {
    char *key, *value;
    int number; /* value is a JSON number (or "null") */
};

struct rows {
    struct row *r;
    int n, cap, oom;
};

static void add(struct rows *rs, int number, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(struct rows *rs, int number, const char *key, const char *fmt, ...) {
    if (rs->oom) return;
    if (rs->n == rs->cap) {
        int cap = rs->cap ? rs->cap * 2 : 64;
        struct row *nr = realloc(rs->r, (size_t)cap * sizeof *nr);
        if (!nr) {
            rs->oom = 1;
            return;
        }
        rs->r = nr;
        rs->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *v = NULL;
    int len = vasprintf(&v, fmt, ap);
    va_end(ap);
    char *k = strdup(key);
    if (len < 0 || !k) {
        if (len >= 0) free(v);
        free(k);
        rs->oom = 1;
        return;
    }
    rs->r[rs->n++] = (struct row){k, v, number};
}

static void add_num(struct rows *rs, const char *key, long long v, int known) {
    if (known) add(rs, 1, key, "%lld", v);
    else add(rs, 1, key, "null");
}

static void free_rows(struct rows *rs) {
    for (int i = 0; i < rs->n; i++) {
        free(rs->r[i].key);
        free(rs->r[i].value);
    }
    free(rs->r);
}

/* ---- collectors ---- */

static void platform_rows(struct rows *rs, const struct tlb_sysinfo *si, const char *root,
                          const char *label) {
    add(rs, 0, "tlbench_version", "%s", TLB_VERSION);
    add(rs, 0, "build_commit", "%s", TLB_BUILD_COMMIT);
    add(rs, 0, "build_dirty", "%s", TLB_BUILD_DIRTY > 0 ? "yes (uncommitted changes)"
                                    : TLB_BUILD_DIRTY == 0 ? "no" : "unknown (not built from git)");
    if (root[0]) add(rs, 0, "root", "%s", root);
    if (label) add(rs, 0, "board_label", "%s", label);
    add(rs, 0, "board", "%s", si->board);
    add(rs, 0, "board_source", "%s", si->board_source);
    add(rs, 0, "arch", "%s", si->arch);
    add(rs, 0, "cpu_vendor", "%s", si->cpu_vendor);
    add(rs, 0, "cpu_model", "%s", si->cpu_model);
    add_num(rs, "cpus", si->n_cpus, 1);
    add_num(rs, "cores", si->n_cores, 1);
    add(rs, 0, "smt", "%s", si->smt);
    add(rs, 0, "isa", "%s", si->isa[0] ? si->isa : "(none detected)");
    add(rs, 0, "isa_source", "%s", si->isa_source);
    if (!root[0] && tlb_cpu_mask_string()[0])
        add(rs, 0, "isa_masked", "%s (TLBENCH_CPU_MASK)", tlb_cpu_mask_string());
    add(rs, 0, "virtualization", "%s", si->hypervisor ? si->virt : "none detected");
    add_num(rs, "mem_total_bytes", si->mem_total_bytes, si->mem_total_bytes >= 0);
    add_num(rs, "mem_available_bytes", si->mem_available_bytes, si->mem_available_bytes >= 0);
    add(rs, 0, "os", "%s", si->os);
    add(rs, 0, "kernel", "%s", si->kernel);
    add(rs, 0, "compiler", "%s", TLB_COMPILER);
    add(rs, 0, "cflags", "%s", TLB_CFLAGS);
    add(rs, 0, "cpu_governor", "%s", si->governor[0] ? si->governor : "none (no cpufreq)");
    add_num(rs, "cpu_freq_min_khz", si->freq_min_khz, si->freq_min_khz > 0);
    add_num(rs, "cpu_freq_max_khz", si->freq_max_khz, si->freq_max_khz > 0);
    add_num(rs, "cpu_freq_cur_khz", si->freq_cur_khz, si->freq_cur_khz > 0);
    add(rs, 0, "cpu_boost", "%s", si->boost > 0 ? "on" : si->boost == 0 ? "off" : "unknown");
    add(rs, 0, "transparent_hugepages", "%s", si->thp);
    if (si->power_mode[0]) add(rs, 0, "power_mode", "%s", si->power_mode);
}

static void kernel_rows(struct rows *rs) {
    struct tlb_pool *pool = NULL;
    for (int i = 0; i < tlb_kernel_count(); i++) {
        const struct tlb_kernel *k = tlb_kernel_at(i);
        char key[96], why[256] = "";
        snprintf(key, sizeof key, "kernel.%s", k->name);
        int ok = !k->probe || k->probe(why, sizeof why) == 0;
        if (!ok) {
            add(rs, 0, key, "unusable: %s", why[0] ? why : "probe failed");
            continue;
        }
        char types[64] = "";
        size_t off = 0;
        for (int t = 0; t < TLB_TYPE_COUNT; t++)
            if (k->wtypes & TLB_TYPE_BIT(t)) {
                int w = snprintf(types + off, sizeof types - off, "%s%s", off ? " " : "",
                                 tlb_type_traits((enum tlb_type)t)->name);
                if (w > 0 && (size_t)w < sizeof types - off) off += (size_t)w;
            }
        char version[200] = "";
        if (k->version) {
            void *state = NULL;
            if (!pool) pool = tlb_pool_create(1);
            if (!k->init || (pool && k->init(&state, pool) == 0)) {
                const char *v = k->version(state);
                snprintf(version, sizeof version, "%s", v ? v : "");
                if (k->release) k->release(state);
            } else {
                snprintf(version, sizeof version, "(init failed)");
            }
        }
        /* the weights' layout it asks for (kernel.h layout_for), on TinyLlama's shapes: the
         * 2048-wide ones, else the 5632-wide one (PANELS is for rows wider than 2048) */
        char lay[160] = "";
        size_t lo = 0;
        for (int t = 0; t < TLB_TYPE_COUNT; t++) {
            if (!(k->wtypes & TLB_TYPE_BIT(t))) continue;
            enum tlb_layout l = tlb_kernel_layout(k, (enum tlb_type)t, 2048, 2048);
            if (l == TLB_LAYOUT_ROWS) l = tlb_kernel_layout(k, (enum tlb_type)t, 2048, 5632);
            if (l == TLB_LAYOUT_ROWS) continue;
            int w = snprintf(lay + lo, sizeof lay - lo, "%s%s %s%s", lo ? ", " : "; weights ",
                             tlb_type_traits((enum tlb_type)t)->name, tlb_layout_name(l),
                             l == TLB_LAYOUT_PANELS ? " (k > 2048)" : "");
            if (w > 0 && (size_t)w < sizeof lay - lo) lo += (size_t)w;
        }
        add(rs, 0, key, "usable; types %s%s%s%s", types, version[0] ? "; " : "", version, lay);
    }
    tlb_pool_free(pool);
}

static void power_rows(struct rows *rs, const struct tlb_power_opts *po) {
    struct tlb_power_candidate c[16];
    int n = tlb_power_probe(po, c, 16);
    char why[1024];
    struct tlb_power_source *s = tlb_power_open(po, why, sizeof why);
    if (s) {
        const struct tlb_power_info *pi = tlb_power_source_info(s);
        add(rs, 0, "power_source", "%s", pi->name);
        add(rs, 0, "power_scope", "%s", tlb_power_scope_name(pi->scope));
        add(rs, 0, "power_type", "%s", tlb_power_type_name(pi->type));
        tlb_power_close(s);
    } else {
        add(rs, 0, "power_source", "none");
        add(rs, 0, "power_scope", "none");
    }
    for (int i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "power.%.15s", c[i].kind);
        if (c[i].usable)
            add(rs, 0, key, "usable: %s (%s, %s)", c[i].info.name,
                tlb_power_scope_name(c[i].info.scope), tlb_power_type_name(c[i].info.type));
        else
            add(rs, 0, key, "unusable: %s", c[i].why);
    }
}

static void thermal_rows(struct rows *rs, const char *root, const char *zones, int n_cpus,
                         const char *vcgencmd) {
    char why[512];
    struct tlb_thermal *t = tlb_thermal_open(root, zones, why, sizeof why);
    if (!t && zones && *zones) /* the profile's zone types are absent: show all zones */
        t = tlb_thermal_open(root, NULL, why, sizeof why);
    if (!t) {
        add(rs, 0, "thermal", "none: %s", why);
    } else {
        add_num(rs, "thermal_sensors", tlb_thermal_count(t), 1);
        for (int i = 0; i < tlb_thermal_count(t); i++) {
            char key[160];
            double c;
            snprintf(key, sizeof key, "thermal.%s", tlb_thermal_name(t, i));
            if (tlb_thermal_read_one(t, i, &c, why, sizeof why) == 0)
                add(rs, 0, key, "%.1f C", c);
            else
                add(rs, 0, key, "unreadable: %s", why);
        }
        tlb_thermal_close(t);
    }
    long f = tlb_cpufreq_min_khz(root, n_cpus);
    add_num(rs, "cpu_freq_now_min_khz", f, f > 0);
    struct tlb_throttle *th = tlb_throttle_open(root, vcgencmd, n_cpus, why, sizeof why);
    if (!th) {
        add(rs, 0, "throttle", "none: %s", why);
        return;
    }
    add(rs, 0, "throttle", "%s", tlb_throttle_name(th));
    struct tlb_throttle_state st;
    if (tlb_throttle_read(th, &st, why, sizeof why) != 0) {
        add(rs, 0, "throttle_state", "unreadable: %s", why);
    } else if (st.have_bits) {
        char d[160];
        tlb_throttled_describe(st.bits, d, sizeof d);
        add(rs, 0, "throttle_state", "0x%x (%s)", st.bits, d);
    } else {
        add(rs, 0, "throttle_state", "%lld throttle events since boot", st.counts);
    }
    tlb_throttle_close(th);
}

static void counter_rows(struct rows *rs) {
    char buf[512], why[256], note[512];
    tlb_counters_support(buf, sizeof buf);
    add(rs, 0, "counters", "%s", buf);
    tlb_counters_paranoid(buf, sizeof buf);
    add(rs, 0, "perf_event_paranoid", "%s", buf);
    struct tlb_counters *c = tlb_counters_open(NULL, why, sizeof why, note, sizeof note);
    if (!c) {
        add(rs, 0, "counter_events", "none: %s", why);
        return;
    }
    add(rs, 0, "counter_events", "%s", tlb_counters_events(c));
    if (note[0]) add(rs, 0, "counter_note", "%s", note);
    tlb_counters_close(c);
}

static void join_ints(char *buf, size_t n, const int *v, int count) {
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && off < n; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%d", i ? "," : "", v[i]);
}

/* The profile and the sweep it gives (sw: its settings read as a spec layer). */
static void profile_rows(struct rows *rs, const struct tlb_profile *p,
                         const struct tlb_sweep_spec *sw) {
    char buf[512];
    add(rs, 0, "profile", "%s", p->name);
    add(rs, 0, "profile.file", "%s", p->path);
    add(rs, 0, "profile.description", "%s", p->description);
    join_ints(buf, sizeof buf, sw->threads, sw->n_threads);
    add(rs, 0, "profile.threads", "%s", buf);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < sw->n_kernels && off < sizeof buf; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "",
                                sw->kernels[i]);
    add(rs, 0, "profile.kernels", "%s", buf);
    off = 0;
    buf[0] = '\0';
    for (int i = 0; i < sw->n_quants && off < sizeof buf; i++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "",
                                tlb_type_traits(sw->quants[i])->name);
    add(rs, 0, "profile.quants", "%s", buf);
    join_ints(buf, sizeof buf, sw->depths, sw->n_depths);
    add(rs, 0, "profile.ctx", "%s", buf);
    add_num(rs, "profile.n_prompt", sw->n_prompt, 1);
    add_num(rs, "profile.n_gen", sw->n_gen, 1);
    add_num(rs, "profile.reps", sw->reps, 1);
    add(rs, 0, "profile.power_sources", "%s", p->power_sources[0] ? p->power_sources : "(default)");
    if (!isnan(p->throttle_temp_c)) add(rs, 1, "profile.throttle_temp_c", "%g", p->throttle_temp_c);
    add(rs, 0, "profile.cross_prefix", "%s", p->cross_prefix[0] ? p->cross_prefix : "(native)");
    add(rs, 0, "profile.cflags", "%s", p->cflags);
    if (!isnan(p->price_usd)) add(rs, 1, "profile.price_usd", "%g", p->price_usd);
}

/* ---- output ---- */

static int print_rows(const struct rows *rs, enum fmt fmt, FILE *f) {
    if (fmt == FMT_JSON) { /* built by cJSON (json-out.h) */
        struct tlb_json_obj *o = tlb_json_obj_new();
        int rc = o ? 0 : -1;
        for (int i = 0; i < rs->n && rc == 0; i++) {
            double v;
            if (!rs->r[i].number) rc = tlb_json_obj_str(o, rs->r[i].key, rs->r[i].value);
            else rc = tlb_json_obj_num(o, rs->r[i].key,
                                       tlb_parse_double(rs->r[i].value, &v) == 0 ? v : NAN);
        }
        char *text = rc == 0 ? tlb_json_obj_print(o) : NULL;
        tlb_json_obj_free(o);
        if (!text) {
            tlb_error("info: out of memory building the JSON");
            return -1;
        }
        int bad = fputs(text, f) == EOF || fputc('\n', f) == EOF;
        free(text);
        if (bad) return -1;
    } else if (fmt == FMT_CSV) {
        if (fputs("key,value\n", f) == EOF) return -1;
        for (int i = 0; i < rs->n; i++) {
            const char *v = rs->r[i].number && !strcmp(rs->r[i].value, "null") ? ""
                                                                                 : rs->r[i].value;
            if (csv_fwrite(f, rs->r[i].key, strlen(rs->r[i].key)) != 0 || fputc(',', f) == EOF ||
                csv_fwrite(f, v, strlen(v)) != 0 || fputc('\n', f) == EOF)
                return -1;
        }
    } else {
        int w = 0;
        for (int i = 0; i < rs->n; i++) w = TLB_MAX(w, (int)strlen(rs->r[i].key));
        for (int i = 0; i < rs->n; i++) {
            const char *v = rs->r[i].value;
            /* values come from sysfs, DMI and device trees: escaped for the terminal */
            fprintf(f, "%-*s  ", w, rs->r[i].key);
            tlb_esc_fputs(f, TLB_ESC_TERM, rs->r[i].number && !strcmp(v, "null") ? "unknown" : v);
            fputc('\n', f);
        }
    }
    return ferror(f) ? -1 : 0;
}

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench info [--format text|csv|json] [--root DIR] [--power-cmd CMD]\n"
        "                    [--platforms DIR] [--profile NAME] [--vcgencmd CMD]\n"
        "                    [--board-label TEXT]\n\n"
        "Prints what tlbench knows about this machine: board, CPU, cores, ISA features, RAM,\n"
        "OS and kernel, compiler and flags, CPU governor and frequencies, every matmul kernel\n"
        "(usable or why not, with its library version), the power and thermal sensors found\n"
        "(and why the others are unusable), event-counter support, and the platform profile\n"
        "that matches. One key/value pair per line.\n\n"
        "  --format F       text (default), csv (key,value rows) or json (one object)\n"
        "  --root DIR       read sysfs/procfs under DIR instead of / (a fake tree such as\n"
        "                   tests/fixtures/sysfs/rpi5). Kernels and counters still describe\n"
        "                   this machine.\n"
        "  --power-cmd CMD  an external power meter: a shell command printing watts\n"
        "  --platforms DIR  directory of platform profiles (default: $TLBENCH_PLATFORMS,\n"
        "                   ./platforms, or platforms/ next to the binary)\n"
        "  --profile NAME   use this profile instead of the detected one\n"
        "  --vcgencmd CMD   command to run as vcgencmd (default: found on PATH, or\n"
        "                   DIR/usr/bin/vcgencmd with --root)\n"
        "  --board-label TEXT  your name for this board, as given to sweep (key board_label;\n"
        "                   tlbench report matches this file to that board's rows by it)\n");
}

int tlb_cmd_info(int argc, char **argv) {
    static const struct option opts[] = {
        {"format", required_argument, 0, 'f'},   {"root", required_argument, 0, 'r'},
        {"power-cmd", required_argument, 0, 'p'}, {"platforms", required_argument, 0, 'P'},
        {"profile", required_argument, 0, 'n'},  {"vcgencmd", required_argument, 0, 'v'},
        {"board-label", required_argument, 0, 'L'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    enum fmt fmt = FMT_TEXT;
    const char *root = "", *meter = NULL, *platforms = NULL, *profile_name = NULL;
    const char *vcgencmd = NULL, *label = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "text")) fmt = FMT_TEXT;
            else if (!strcmp(optarg, "csv")) fmt = FMT_CSV;
            else if (!strcmp(optarg, "json")) {
                if (tlb_json_check("info --format json") != 0) return TLB_EXIT_USAGE;
                fmt = FMT_JSON;
            }
            else {
                tlb_error("info: --format must be text, csv or json, not '%s'", optarg);
                return TLB_EXIT_USAGE;
            }
            break;
        case 'r': root = optarg; break;
        case 'p': meter = optarg; break;
        case 'P': platforms = optarg; break;
        case 'n': profile_name = optarg; break;
        case 'v': vcgencmd = optarg; break;
        case 'L':
            if (tlb_board_label_problem(optarg)) {
                tlb_error("--board-label: %s", tlb_board_label_problem(optarg));
                return TLB_EXIT_USAGE;
            }
            label = optarg;
            break;
        case 'h': usage(stdout); return TLB_EXIT_OK;
        default: usage(stderr); return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("info: unexpected argument '%s' (see --help)", argv[optind]);
        return TLB_EXIT_USAGE;
    }
    struct tlb_sysinfo si;
    if (tlb_sysinfo_read(root, &si) != 0) return TLB_EXIT_FAIL;

    struct rows rs = {0};
    platform_rows(&rs, &si, root, label);

    /* profile first: its sensor preferences shape the power/thermal rows */
    struct tlb_profile *prof = calloc(1, sizeof *prof);
    struct tlb_sweep_spec sweep; /* the profile's sweep settings */
    memset(&sweep, 0, sizeof sweep);
    char dir[TLB_PATH_MAX];
    int have_prof = 0;
    if (prof) {
        if (platforms) snprintf(dir, sizeof dir, "%s", platforms);
        if (!platforms && tlb_profile_dir(dir, sizeof dir) != 0) {
            add(&rs, 0, "profile", "none (no platforms/ directory with generic.conf found; "
                                   "use --platforms or TLBENCH_PLATFORMS)");
        } else if (profile_name) {
            have_prof = tlb_profile_load_name(dir, profile_name, prof) == 0 &&
                        tlb_spec_from_profile(&sweep, prof, si.n_cpus, 1) == 0;
            if (!have_prof) {
                tlb_spec_free(&sweep);
                free(prof);
                free_rows(&rs);
                return TLB_EXIT_FAIL;
            }
        } else {
            have_prof = tlb_profile_detect(dir, &si, prof) == 0 &&
                        tlb_spec_from_profile(&sweep, prof, si.n_cpus, 1) == 0;
            if (!have_prof) add(&rs, 0, "profile", "none (see the error above)");
        }
    }

    kernel_rows(&rs);
    struct tlb_power_opts po = {.root = root, .meter_cmd = meter, .vcgencmd = vcgencmd};
    if (have_prof) {
        po.prefer = prof->power_sources[0] ? prof->power_sources : NULL;
        po.rails = prof->power_rails[0] ? prof->power_rails : NULL;
    }
    power_rows(&rs, &po);
    thermal_rows(&rs, root, have_prof ? prof->thermal_zones : NULL, si.n_cpus, vcgencmd);
    counter_rows(&rs);
    if (root[0]) add(&rs, 0, "counters_scope", "this machine (--root does not apply)");
    if (have_prof) profile_rows(&rs, prof, &sweep);
    tlb_spec_free(&sweep);
    free(prof);

    int rc = TLB_EXIT_OK;
    if (rs.oom) {
        tlb_error("info: out of memory");
        rc = TLB_EXIT_FAIL;
    } else if (print_rows(&rs, fmt, stdout) != 0 || fflush(stdout) != 0) {
        tlb_error("info: write error on stdout");
        rc = TLB_EXIT_FAIL;
    }
    free_rows(&rs);
    return rc;
}
