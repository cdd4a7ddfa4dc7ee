/* sweep-cli.c — options and session shared by `tlbench sweep` and `tlbench bench` (see
 * sweep-cli.h). The profile's sweep settings are read by the options table like a sweep
 * file's, so a bad profile value names the profile file and line. */
#include "sweep-cli.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "llama-bench.h"
#include "monitor.h"
#include "progress.h"
#include "json-out.h"
#include "util.h"

/* ---------------------------------------------------------------- options */

void tlb_sweep_cli_help(FILE *out, enum tlb_cmd_mode mode) { tlb_options_help(out, mode); }

int tlb_sweep_cli_parse(int argc, char **argv, enum tlb_cmd_mode mode, struct tlb_sweep_cli *c,
                        void (*usage)(FILE *)) {
    int rc = tlb_options_parse(argc, argv, mode, &c->cli, &c->args);
    if (rc == 1) {
        usage(stdout);
        return 1;
    }
    if (rc != 0) return TLB_EXIT_USAGE;
    if (!c->args.power) c->args.power = "auto";
    return 0;
}

void tlb_sweep_cli_free(struct tlb_sweep_cli *c) { tlb_spec_free(&c->cli); }

/* ---------------------------------------------------------------- session */

static void slug(const char *in, char *out, size_t n) {
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < n; i++) {
        char ch = in[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) out[j++] = ch;
        else if (ch >= 'A' && ch <= 'Z') out[j++] = (char)(ch - 'A' + 'a');
        else if (j && out[j - 1] != '-') out[j++] = '-';
    }
    while (j && out[j - 1] == '-') j--;
    out[j] = '\0';
    if (!j) snprintf(out, n, "unknown");
}

int tlb_session_open(struct tlb_session *s, const struct tlb_sweep_cli *c,
                     enum tlb_cmd_mode mode) {
    memset(s, 0, sizeof *s);
    s->idle_w = NAN;
    tlb_sysinfo_read("", &s->si);
    tlb_spec_defaults(&s->spec, mode);
    /* the platform profile: named, or detected (a sweep without one uses the defaults) */
    char dir[TLB_PATH_MAX];
    int have_dir = tlb_profile_dir(dir, sizeof dir) == 0;
    if (c->args.profile && !strcmp(c->args.profile, "none")) {
        /* built-in defaults only (reproducible tests, machines without a profile) */
    } else if (c->args.profile) {
        if (!have_dir) {
            tlb_error("--profile %s: no platforms directory found (set TLBENCH_PLATFORMS)",
                      c->args.profile);
            return TLB_EXIT_FAIL;
        }
        if (tlb_profile_load_name(dir, c->args.profile, &s->prof) != 0) return TLB_EXIT_FAIL;
        s->have_prof = 1;
    } else if (have_dir) {
        if (tlb_profile_detect(dir, &s->si, &s->prof) == 0) s->have_prof = 1;
    }
    if (s->have_prof) {
        /* bench does not use the profile's sweep, but a broken one is still an error */
        struct tlb_sweep_spec layer;
        memset(&layer, 0, sizeof layer);
        int rc = tlb_spec_from_profile(&layer, &s->prof, s->si.n_cpus, 1);
        if (rc == 0 && mode == TLB_CMD_SWEEP) rc = tlb_spec_merge(&s->spec, &layer);
        /* ... except the llama-bench it names (--engine llama.cpp) */
        if (rc == 0 && mode == TLB_CMD_BENCH && tlb_spec_is_set(&layer, "llama-bench"))
            rc = tlb_spec_set(&s->spec, "llama-bench", layer.llama_bench, s->prof.path);
        tlb_spec_free(&layer);
        if (rc) return TLB_EXIT_FAIL;
    }
    if (c->args.sweep_file) {
        struct tlb_sweep_spec layer;
        memset(&layer, 0, sizeof layer);
        int rc = tlb_spec_load_file(&layer, c->args.sweep_file);
        if (rc == 0) rc = tlb_spec_merge(&s->spec, &layer);
        tlb_spec_free(&layer);
        if (rc) return TLB_EXIT_FAIL;
    }
    if (tlb_spec_merge(&s->spec, &c->cli) != 0) return TLB_EXIT_FAIL;
    if (s->spec.tokenizer && !s->spec.eval_text) {
        tlb_error("--tokenizer is only used with --eval-text");
        return TLB_EXIT_USAGE;
    }
    if (tlb_plan_build(&s->spec, &s->plan) != 0) return TLB_EXIT_USAGE;
    slug(c->args.board_label ? c->args.board_label : s->have_prof ? s->prof.name : s->si.board,
         s->board_slug, sizeof s->board_slug);
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    if (c->args.run_id) snprintf(s->run_id, sizeof s->run_id, "%s", c->args.run_id);
    else snprintf(s->run_id, sizeof s->run_id, "%s-%x", ts, (unsigned)getpid());
    return 0;
}

void tlb_session_close(struct tlb_session *s) {
    tlb_thermal_close(s->thermal);
    s->thermal = NULL;
    tlb_plan_free(&s->plan);
    tlb_spec_free(&s->spec);
}

void tlb_session_print_plan(const struct tlb_session *s, FILE *out) {
    for (int i = 0; i < s->plan.n; i++) {
        const struct tlb_plan_item *it = &s->plan.items[i];
        char lbl[128];
        tlb_plan_item_label(it, lbl, sizeof lbl);
        fprintf(out, "%4d  %s  %s%s%s%s", i + 1, s->spec.models[it->model], lbl,
                it->done ? "  (done)" : "",
                it->pre_status != TLB_STATUS_OK ? "  -> " : "",
                it->pre_status != TLB_STATUS_OK ? tlb_status_name(it->pre_status) : "");
        const char *gguf = s->plan.gguf[it->model][it->wtype];
        if (it->engine == TLB_ENGINE_ID_LLAMA_CPP && it->pre_status == TLB_STATUS_OK && gguf)
            fprintf(out, "  (llama-bench on %s%s)", gguf,
                    s->plan.gguf_convert[it->model][it->wtype] ? ", written by tlbench" : "");
        fputc('\n', out);
    }
    if (s->plan.llama && s->plan.llama->found)
        fprintf(out, "llama-bench: %s (from %s)\n", s->plan.llama->path, s->plan.llama->from);
}

static void on_signal(int sig) {
    (void)sig;
    tlb_sweep_interrupted = 1;
}

static void note(struct tlb_session *s, const char *msg) {
    if (s->on_note) s->on_note(s->cb, msg);
    else fprintf(stderr, "tlbench: %s\n", msg);
}

/* Sleep in short steps so Ctrl-C is seen. 0, or -1 when interrupted. */
static int nap(double seconds) {
    int64_t end = tlb_now_ns() + (int64_t)(seconds * 1e9);
    while (tlb_now_ns() < end) {
        if (tlb_sweep_interrupted) return -1;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return tlb_sweep_interrupted ? -1 : 0;
}

#define MAX_TEMP_WAIT_S 900.0

static int before_run(void *cb, int item) {
    struct tlb_session *s = cb;
    if (s->sync) { /* tlbench ab: wait for this side's turn, or leave the item out */
        int r = tlb_sync_ready(s->sync, item);
        if (r != 0) return r;
    }
    if (s->runs_started++ > 0 && s->spec.cooldown_s > 0 && nap(s->spec.cooldown_s) != 0)
        return -1;
    if (s->spec.max_temp_c > 0) {
        if (!s->thermal && !s->warned_no_thermal) {
            char why[256];
            s->thermal = tlb_thermal_open("", s->have_prof && s->prof.thermal_zones[0]
                                                  ? s->prof.thermal_zones : NULL,
                                          why, sizeof why);
            if (!s->thermal) {
                char msg[400];
                snprintf(msg, sizeof msg, "no thermal sensor (%s): not waiting for %g C",
                         why, s->spec.max_temp_c);
                note(s, msg);
                s->warned_no_thermal = 1;
            }
        }
        int64_t t0 = tlb_now_ns();
        int said = 0;
        while (s->thermal) {
            double c;
            char why[256];
            if (tlb_thermal_read_max(s->thermal, &c, why, sizeof why) != 0 ||
                c < s->spec.max_temp_c)
                break;
            if ((double)(tlb_now_ns() - t0) / 1e9 > MAX_TEMP_WAIT_S) {
                char msg[200];
                snprintf(msg, sizeof msg, "still %.1f C after %.0f s: running anyway", c,
                         MAX_TEMP_WAIT_S);
                note(s, msg);
                break;
            }
            if (!said++) {
                char msg[200];
                snprintf(msg, sizeof msg, "waiting for %.1f C to fall below %g C", c,
                         s->spec.max_temp_c);
                note(s, msg);
            }
            if (nap(1.0) != 0) return -1;
        }
    }
    return 0;
}

/* In the worker: tlbench ab's turn for one repetition (ab-sync.h). */
static int rep_turn(void *cb, int item, int rep) {
    struct tlb_session *s = cb;
    return tlb_sync_rep(s->sync, item, rep);
}

static void rep_done(void *cb, int item, int rep, double pp_ts, double tg_ts) {
    struct tlb_session *s = cb;
    tlb_sync_rep_done(s->sync, item, rep, pp_ts, tg_ts);
}

static void fwd_begin(void *cb, int item) {
    struct tlb_session *s = cb;
    if (s->on_begin) s->on_begin(s->cb, item);
}
static int fwd_row(void *cb, int item, struct tlb_row *row, enum tlb_status st) {
    struct tlb_session *s = cb;
    return s->on_row(s->cb, item, row, st);
}
static void fwd_note(void *cb, const char *msg) { note(cb, msg); }

int tlb_session_run(struct tlb_session *s, const struct tlb_sweep_cli *c) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits return EINTR and see the flag */
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term, old_pipe, ign;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* a model process that died under a request must give EPIPE, not kill the driver */
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old_pipe);
    tlb_sweep_interrupted = 0;

    const int monitor = !c->args.no_monitor;
    const char *prefer = s->have_prof && s->prof.power_sources[0] ? s->prof.power_sources : NULL;
    const char *rails = s->have_prof && s->prof.power_rails[0] ? s->prof.power_rails : NULL;
    const char *zones = s->have_prof && s->prof.thermal_zones[0] ? s->prof.thermal_zones : NULL;
    if (monitor && strcmp(c->args.power, "none") != 0) {
        /* idle power once, before any configuration: the baseline of every row */
        struct tlb_monitor_opts mo = {
            .root = "",
            .power = {.root = "", .source = c->args.power, .prefer = prefer,
                      .meter_cmd = s->spec.power_cmd, .rails = rails},
            .thermal_zones = zones,
        };
        char why[512];
        struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
        if (m) {
            if (tlb_monitor_power(m)) {
                s->idle_w = tlb_monitor_idle_power(m, 2.0, why, sizeof why);
                if (isnan(s->idle_w)) {
                    char msg[700];
                    snprintf(msg, sizeof msg, "idle power not measured: %s", why);
                    note(s, msg);
                }
            } else {
                char msg[700];
                snprintf(msg, sizeof msg, "no power source: %s (energy cells stay empty)",
                         tlb_monitor_power_why_none(m));
                note(s, msg);
            }
            tlb_monitor_stop(m);
        }
    }
    struct tlb_sweep_env env = {
        .spec = &s->spec, .plan = &s->plan, .si = &s->si,
        .board_kind = s->have_prof ? s->prof.name : NULL, .board_label = c->args.board_label,
        .run_id = s->run_id,
        .monitor = monitor, .counters = !c->args.no_counters, .root = "",
        .power_source = c->args.power, .power_prefer = prefer, .power_rails = rails,
        .thermal_zones = zones, .idle_w = s->idle_w, .acc_window = 0, .acc_chunks = 1,
        .cb = s, .before_run = before_run, .on_begin = fwd_begin, .on_row = fwd_row,
        .on_note = fwd_note, .rep_turn = s->sync ? rep_turn : NULL,
        .rep_done = s->sync ? rep_done : NULL};
    /* a text window for the sweep: the model's context, at most 512 tokens */
    if (s->spec.eval_text) env.acc_window = 512;
    int rc = tlb_sweep_execute(&env);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return rc;
}
