/* sweep-cli.c — options and session shared by `tlbench sweep` and `tlbench bench` (see
 * sweep-cli.h). The profile is read through profile.h and turned into a spec layer with the
 * same validation as the command line, so a bad profile value names the profile file. */
#include "sweep-cli.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "monitor.h"
#include "progress.h"
#include "util.h"

/* ---------------------------------------------------------------- options */

enum {
    O_MODEL = 1000, O_QUANT, O_KERNEL, O_CTX, O_KV, O_WARMUP, O_TIMEOUT, O_RESUME, O_COOLDOWN,
    O_MAXTEMP, O_EVALTEXT, O_TOKENIZER, O_SEED, O_POWERCMD, O_PROFILE, O_SWEEP, O_ACCREF,
    O_NOACC, O_POWER, O_NOMON, O_NOCTR, O_DRYRUN, O_FORMAT, O_HELP, O_SHORTK, O_SHORTP,
    O_BOARDLABEL
};

static const struct option long_opts[] = {
    {"model", required_argument, 0, O_MODEL},       {"quant", required_argument, 0, O_QUANT},
    {"kernel", required_argument, 0, O_KERNEL},     {"threads", required_argument, 0, 't'},
    {"ctx", required_argument, 0, O_CTX},           {"n-depth", required_argument, 0, 'd'},
    {"kv-type", required_argument, 0, O_KV},        {"n-prompt", required_argument, 0, 'p'},
    {"n-gen", required_argument, 0, 'n'},           {"repetitions", required_argument, 0, 'r'},
    {"warmup", required_argument, 0, O_WARMUP},     {"timeout", required_argument, 0, O_TIMEOUT},
    {"output", required_argument, 0, 'o'},          {"resume", no_argument, 0, O_RESUME},
    {"cooldown", required_argument, 0, O_COOLDOWN}, {"max-temp", required_argument, 0, O_MAXTEMP},
    {"eval-text", required_argument, 0, O_EVALTEXT},
    {"tokenizer", required_argument, 0, O_TOKENIZER},
    {"seed", required_argument, 0, O_SEED},         {"power-cmd", required_argument, 0, O_POWERCMD},
    {"profile", required_argument, 0, O_PROFILE},   {"sweep", required_argument, 0, O_SWEEP},
    {"acc-ref", required_argument, 0, O_ACCREF},    {"no-accuracy", no_argument, 0, O_NOACC},
    {"power", required_argument, 0, O_POWER},       {"no-monitor", no_argument, 0, O_NOMON},
    {"no-counters", no_argument, 0, O_NOCTR},       {"dry-run", no_argument, 0, O_DRYRUN},
    {"format", required_argument, 0, O_FORMAT},     {"help", no_argument, 0, O_HELP},
    {"short-kernels", required_argument, 0, O_SHORTK},
    {"short-phases", required_argument, 0, O_SHORTP},
    {"board-label", required_argument, 0, O_BOARDLABEL},
    {0, 0, 0, 0}};

/* option -> (spec key, name shown in errors) */
static const char *spec_key(int opt, const char **shown) {
    switch (opt) {
    case O_MODEL: *shown = "--model"; return "model";
    case O_QUANT: *shown = "--quant"; return "quant";
    case O_KERNEL: *shown = "--kernel"; return "kernel";
    case 't': *shown = "-t"; return "threads";
    case O_CTX: *shown = "--ctx"; return "ctx";
    case 'd': *shown = "-d"; return "ctx";
    case O_KV: *shown = "--kv-type"; return "kv-type";
    case 'p': *shown = "-p"; return "n-prompt";
    case 'n': *shown = "-n"; return "n-gen";
    case 'r': *shown = "-r"; return "repetitions";
    case O_WARMUP: *shown = "--warmup"; return "warmup";
    case O_TIMEOUT: *shown = "--timeout"; return "timeout";
    case O_COOLDOWN: *shown = "--cooldown"; return "cooldown";
    case O_MAXTEMP: *shown = "--max-temp"; return "max-temp";
    case O_EVALTEXT: *shown = "--eval-text"; return "eval-text";
    case O_TOKENIZER: *shown = "--tokenizer"; return "tokenizer";
    case O_SEED: *shown = "--seed"; return "seed";
    case O_POWERCMD: *shown = "--power-cmd"; return "power-cmd";
    case O_ACCREF: *shown = "--acc-ref"; return "acc-ref";
    case O_SHORTK: *shown = "--short-kernels"; return "short-kernels";
    case O_SHORTP: *shown = "--short-phases"; return "short-phases";
    default: return NULL;
    }
}

void tlb_sweep_cli_help(FILE *out, enum tlb_cli_mode mode) {
    int sw = mode == TLB_CLI_SWEEP;
    const char *L = sw ? "LIST" : "X";
    fprintf(out,
        "  --model %-5s   model specs: a .bin/.gguf/safetensors path or synthetic:NAME\n"
        "                   (synthetic:tinyllama-1.1b, synthetic:small, synthetic:tiny)\n"
        "  --quant %-5s   weight types: f32 f16 bf16 q8_0 q4_0 (converted at load)\n"
        "  --kernel %-5s  kernels by name, auto (best for each type)%s\n"
        "  -t, --threads %-5s threads%s\n"
        "  --ctx %-5s     KV depth: tokens already in the cache before the timed prefill\n"
        "                   (llama-bench -d; alias -d, --n-depth)\n"
        "  --kv-type %-5s KV cache type: f32 f16\n"
        "  -p, --n-prompt N prompt tokens in the timed prefill (llama-bench -p)\n"
        "  -n, --n-gen N    tokens decoded one at a time after it (llama-bench -n; 0 = none)\n"
        "  -r, --repetitions N  timed repetitions (each: one prefill + one decode phase)\n"
        "  --warmup N       untimed warm-up runs (prefill + 1 decode step) before them\n"
        "  --timeout SEC    kill a configuration's worker after SEC seconds (status timeout)\n"
        "  --seed N         seed of the synthetic weights and of the prompt/depth tokens\n"
        "  --eval-text F    text for accuracy: KL divergence against the f32 reference on it,\n"
        "                   and perplexity for real models (else a synthetic sequence)\n"
        "  --tokenizer T    tokenizer for --eval-text (llama2.c .bin, tokenizer.model, GGUF)\n"
        "  --acc-ref K      kernel of the f32 accuracy reference (default: naive; for models\n"
        "                   over 100M parameters the fastest f32 kernel unless given)\n"
        "  --no-accuracy    skip the accuracy columns\n"
        "  --short-kernels LIST  kernels measured with short phases, no warm-up and no\n"
        "                   accuracy pass (the profiles list naive: minutes per repetition\n"
        "                   on a 1.1B model); '' for none\n"
        "  --short-phases P,N,R  their prompt tokens, generated tokens, repetitions (4,4,2)\n"
        "  --power SRC      power source: auto (default), none, or %s\n"
        "  --power-cmd CMD  external meter: a command printing watts (scope: wall)\n"
        "  --no-monitor     no power/thermal monitoring in the workers\n"
        "  --no-counters    no PAPI/OS event counters\n"
        "  --board-label TEXT  your name for this board (column board_label; reports and\n"
        "                   compare tell boards apart by it), at most %d bytes, no control\n"
        "                   characters\n",
        L, L, L, sw ? ",\n                   all (every registered kernel) or usable (every kernel that\n"
                      "                   can run here)" : "", L,
        sw ? ": lists like 1,2,4 or ranges 1-8*2, 1-8+2 (llama-bench)" : "", L, L,
        tlb_power_kinds(), TLB_BOARD_LABEL_MAX);
}

/* A label is free text for people (UTF-8 allowed) but must stay one short CSV cell and one
 * line in reports: no control characters, bounded length. */
static int board_label_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > TLB_BOARD_LABEL_MAX) return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
    return 1;
}

int tlb_sweep_cli_parse(int argc, char **argv, enum tlb_cli_mode mode, struct tlb_sweep_cli *c,
                        void (*usage)(FILE *)) {
    memset(c, 0, sizeof *c);
    c->power = "auto";
    const int sw = mode == TLB_CLI_SWEEP;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":t:d:p:n:r:o:", long_opts, NULL)) != -1) {
        const char *shown = NULL, *key = spec_key(opt, &shown);
        if (key) {
            if (tlb_spec_set(&c->cli, key, optarg, shown) != 0) return TLB_EXIT_USAGE;
            continue;
        }
        switch (opt) {
        case 'o': c->out_path = optarg; break;
        case O_RESUME: c->resume = 1; break;
        case O_PROFILE: c->profile = optarg; break;
        case O_SWEEP: c->sweep_file = optarg; break;
        case O_NOACC: tlb_spec_set(&c->cli, "accuracy", "off", "--no-accuracy"); break;
        case O_POWER:
            if (strcmp(optarg, "auto") && strcmp(optarg, "none")) {
                char tmp[256], *save = NULL;
                snprintf(tmp, sizeof tmp, "%s", optarg);
                for (char *k = strtok_r(tmp, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
                    if (!tlb_power_kind_known(k)) {
                        tlb_error("--power: unknown source '%s' (auto, none, %s)", k,
                                  tlb_power_kinds());
                        return TLB_EXIT_USAGE;
                    }
                }
            }
            c->power = optarg;
            break;
        case O_BOARDLABEL:
            if (!board_label_ok(optarg)) {
                /* not echoed: it may hold a newline or an escape sequence */
                tlb_error("--board-label: the label (%zu bytes) must be 1 to %d bytes without "
                          "control characters", strlen(optarg), TLB_BOARD_LABEL_MAX);
                return TLB_EXIT_USAGE;
            }
            c->board_label = optarg;
            break;
        case O_NOMON: c->no_monitor = 1; break;
        case O_NOCTR: c->no_counters = 1; break;
        case O_DRYRUN: c->dry_run = 1; break;
        case O_FORMAT:
            if (strcmp(optarg, "table") && strcmp(optarg, "csv")) {
                tlb_error("--format: '%s' is not table or csv", optarg);
                return TLB_EXIT_USAGE;
            }
            c->format = optarg;
            break;
        case O_HELP: usage(stdout); return 1;
        case ':':
            tlb_error("%s: option %s needs a value", argv[0], argv[optind - 1]);
            return TLB_EXIT_USAGE;
        default:
            tlb_error("%s: unknown option '%s' (see 'tlbench %s --help')", argv[0],
                      argv[optind - 1], argv[0]);
            return TLB_EXIT_USAGE;
        }
        if ((!sw && (opt == O_RESUME || opt == O_SWEEP)) || (sw && opt == O_FORMAT)) {
            const char *name = "?";
            for (const struct option *lo = long_opts; lo->name; lo++)
                if (lo->val == opt) name = lo->name;
            tlb_error("%s: option --%s is not available here (see --help)", argv[0], name);
            return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
        return TLB_EXIT_USAGE;
    }
    if (!sw) {
        /* bench runs one configuration: every list takes one value */
        const struct { const char *opt; int n; } one[] = {
            {"--model", c->cli.n_models}, {"--quant", c->cli.n_quants},
            {"--kernel", c->cli.n_kernels}, {"-t", c->cli.n_threads},
            {"--ctx", c->cli.n_depths}, {"--kv-type", c->cli.n_kv}};
        for (size_t i = 0; i < TLB_ARRAY_LEN(one); i++) {
            if (one[i].n > 1) {
                tlb_error("bench runs one configuration: %s takes one value (use tlbench sweep "
                          "for lists)",
                          one[i].opt);
                return TLB_EXIT_USAGE;
            }
        }
        if (c->cli.n_kernels == 1 && (!strcmp(c->cli.kernels[0], "all") ||
                                       !strcmp(c->cli.kernels[0], "usable"))) {
            tlb_error("bench runs one configuration: --kernel %s names several kernels",
                      c->cli.kernels[0]);
            return TLB_EXIT_USAGE;
        }
    }
    return 0;
}

void tlb_sweep_cli_free(struct tlb_sweep_cli *c) { tlb_spec_free(&c->cli); }

/* ---------------------------------------------------------------- session */

/* The profile's default sweep as a spec layer (validated like the command line). */
static int profile_layer(const struct tlb_profile *p, int n_cpus, struct tlb_sweep_spec *l) {
    char where[TLB_PATH_MAX + 32], buf[1024];
    size_t off;
#define LIST(count, fmt_item)                                                   \
    do {                                                                        \
        buf[0] = '\0';                                                          \
        off = 0;                                                                \
        for (int i_ = 0; i_ < (count); i_++) {                                  \
            int w_ = snprintf(buf + off, sizeof buf - off, "%s%s", i_ ? "," : "", fmt_item); \
            if (w_ < 0 || (size_t)w_ >= sizeof buf - off) break;                \
            off += (size_t)w_;                                                  \
        }                                                                       \
    } while (0)
    if (p->n_kernels > 0) {
        LIST(p->n_kernels, p->kernels[i_]);
        snprintf(where, sizeof where, "%s: kernels", p->path);
        if (tlb_spec_set_kernels_lenient(l, buf, where)) return -1;
    }
    if (p->n_quants > 0) {
        LIST(p->n_quants, tlb_type_traits(p->quants[i_])->name);
        snprintf(where, sizeof where, "%s: quants", p->path);
        if (tlb_spec_set(l, "quant", buf, where)) return -1;
    }
    if (p->n_kv_types > 0) {
        LIST(p->n_kv_types, tlb_type_traits(p->kv_types[i_])->name);
        snprintf(where, sizeof where, "%s: kv_types", p->path);
        if (tlb_spec_set(l, "kv-type", buf, where)) return -1;
    }
    if (p->n_threads > 0) {
        int th[TLB_PROFILE_MAX_LIST];
        int n = tlb_profile_threads(p, n_cpus, th, TLB_PROFILE_MAX_LIST);
        char num[TLB_PROFILE_MAX_LIST][16];
        for (int i = 0; i < n; i++) snprintf(num[i], sizeof num[i], "%d", th[i]);
        LIST(n, num[i_]);
        snprintf(where, sizeof where, "%s: threads", p->path);
        if (tlb_spec_set(l, "threads", buf, where)) return -1;
    }
    if (p->n_ctx > 0) {
        char num[TLB_PROFILE_MAX_LIST][16];
        for (int i = 0; i < p->n_ctx; i++) snprintf(num[i], sizeof num[i], "%d", p->ctx[i]);
        LIST(p->n_ctx, num[i_]);
        snprintf(where, sizeof where, "%s: ctx", p->path);
        if (tlb_spec_set(l, "ctx", buf, where)) return -1;
    }
#undef LIST
    const struct { const char *key; int v; } ints[] = {
        {"n-prompt", p->n_prompt}, {"n-gen", p->n_gen}, {"repetitions", p->reps},
        {"warmup", p->warmup}};
    for (size_t i = 0; i < TLB_ARRAY_LEN(ints); i++) {
        if (ints[i].v <= 0 && strcmp(ints[i].key, "warmup")) continue;
        snprintf(buf, sizeof buf, "%d", ints[i].v);
        snprintf(where, sizeof where, "%s: %s", p->path, ints[i].key);
        if (tlb_spec_set(l, ints[i].key, buf, where)) return -1;
    }
    const struct { const char *key, *profile_key, *v; } texts[] = {
        {"short-kernels", "short_kernels", p->short_kernels},
        {"short-phases", "short_phases", p->short_phases}};
    for (size_t i = 0; i < TLB_ARRAY_LEN(texts); i++) {
        if (!texts[i].v[0]) continue;
        snprintf(where, sizeof where, "%s: %s", p->path, texts[i].profile_key);
        if (tlb_spec_set(l, texts[i].key, texts[i].v, where)) return -1;
    }
    if (isfinite(p->throttle_temp_c)) {
        snprintf(buf, sizeof buf, "%g", p->throttle_temp_c);
        snprintf(where, sizeof where, "%s: throttle_temp_c", p->path);
        if (tlb_spec_set(l, "max-temp", buf, where)) return -1;
    }
    return 0;
}

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
                     enum tlb_cli_mode mode) {
    memset(s, 0, sizeof *s);
    s->idle_w = NAN;
    tlb_sysinfo_read("", &s->si);
    tlb_spec_defaults(&s->spec);
    if (mode == TLB_CLI_BENCH) {
        /* one configuration: the most common edge setup, every core */
        tlb_spec_set(&s->spec, "quant", "q4_0", "default");
        tlb_spec_set(&s->spec, "kernel", "auto", "default");
        char th[16];
        snprintf(th, sizeof th, "%d", s->si.n_cpus > 0 ? s->si.n_cpus : 1);
        tlb_spec_set(&s->spec, "threads", th, "default");
        s->spec.set = 0;
    }
    /* the platform profile: named, or detected (a sweep without one uses the defaults) */
    char dir[TLB_PATH_MAX];
    int have_dir = tlb_profile_dir(dir, sizeof dir) == 0;
    if (c->profile && !strcmp(c->profile, "none")) {
        /* built-in defaults only (reproducible tests, machines without a profile) */
    } else if (c->profile) {
        if (!have_dir) {
            tlb_error("--profile %s: no platforms directory found (set TLBENCH_PLATFORMS)",
                      c->profile);
            return TLB_EXIT_FAIL;
        }
        if (tlb_profile_load_name(dir, c->profile, &s->prof) != 0) return TLB_EXIT_FAIL;
        s->have_prof = 1;
    } else if (have_dir) {
        if (tlb_profile_detect(dir, &s->si, &s->prof) == 0) s->have_prof = 1;
    }
    if (s->have_prof && mode == TLB_CLI_SWEEP) {
        struct tlb_sweep_spec layer;
        memset(&layer, 0, sizeof layer);
        int rc = profile_layer(&s->prof, s->si.n_cpus > 0 ? s->si.n_cpus : 1, &layer);
        if (rc == 0) rc = tlb_spec_merge(&s->spec, &layer);
        tlb_spec_free(&layer);
        if (rc) return TLB_EXIT_FAIL;
    }
    if (c->sweep_file) {
        struct tlb_sweep_spec layer;
        memset(&layer, 0, sizeof layer);
        int rc = tlb_spec_load_file(&layer, c->sweep_file);
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
    slug(c->board_label ? c->board_label : s->have_prof ? s->prof.name : s->si.board,
         s->board_slug, sizeof s->board_slug);
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(s->run_id, sizeof s->run_id, "%s-%x", ts, (unsigned)getpid());
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
        fprintf(out, "%4d  %s  %s%s%s%s\n", i + 1, s->spec.models[it->model], lbl,
                it->done ? "  (done)" : "",
                it->pre_status != TLB_STATUS_OK ? "  -> " : "",
                it->pre_status != TLB_STATUS_OK ? tlb_status_name(it->pre_status) : "");
    }
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

static int before_run(void *cb) {
    struct tlb_session *s = cb;
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

    const int monitor = !c->no_monitor;
    const char *prefer = s->have_prof && s->prof.power_sources[0] ? s->prof.power_sources : NULL;
    const char *rails = s->have_prof && s->prof.power_rails[0] ? s->prof.power_rails : NULL;
    const char *zones = s->have_prof && s->prof.thermal_zones[0] ? s->prof.thermal_zones : NULL;
    if (monitor && strcmp(c->power, "none") != 0) {
        /* idle power once, before any configuration: the baseline of every row */
        struct tlb_monitor_opts mo = {
            .root = "",
            .power = {.root = "", .source = c->power, .prefer = prefer,
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
        .board_kind = s->have_prof ? s->prof.name : NULL, .board_label = c->board_label,
        .run_id = s->run_id,
        .monitor = monitor, .counters = !c->no_counters, .root = "",
        .power_source = c->power, .power_prefer = prefer, .power_rails = rails,
        .thermal_zones = zones, .idle_w = s->idle_w, .acc_window = 0, .acc_chunks = 1,
        .cb = s, .before_run = before_run, .on_begin = fwd_begin, .on_row = fwd_row,
        .on_note = fwd_note};
    /* a text window for the sweep: the model's context, at most 512 tokens */
    if (s->spec.eval_text) env.acc_window = 512;
    int rc = tlb_sweep_execute(&env);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    return rc;
}
