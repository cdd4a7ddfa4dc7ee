/* cmd-kernels.c — `tlbench kernels`: matmul micro-benchmark of every usable kernel x weight
 * type x TinyLlama shape x m (1 = decode, 128 = prefill) x threads. Reports the median time,
 * GFLOP/s, GB/s of weights streamed, and their share of this machine's limits measured by
 * the probes (probe.h) in the same run; each row is spot-checked against naive. --check
 * instead runs the full correctness comparison on odd shapes and exits 1 on a mismatch. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <csv.h>

#include "command.h"
#include "cpu.h"
#include "cpuload.h"
#include "kernel-check.h"
#include "kernel.h"
#include "probe-history.h"
#include "probe.h"
#include "report.h"
#include "sysfs.h"
#include "sysinfo.h"
#include "threadpool.h"
#include "util.h"

#define MAX_LIST 32

struct shape {
    int64_t n, k;
};

static const struct shape default_shapes[] = {
    {2048, 2048},  /* attention q/o projection */
    {256, 2048},   /* k/v projection (4 KV heads x 64) */
    {5632, 2048},  /* FFN gate/up */
    {2048, 5632},  /* FFN down */
    {32000, 2048}, /* vocabulary (logits) */
};

struct opts {
    const struct tlb_kernel *kernels[MAX_LIST];
    int n_kernels, kernels_given;
    enum tlb_type types[TLB_TYPE_COUNT];
    int n_types;
    int threads[MAX_LIST], n_threads;
    int ms[MAX_LIST], n_ms;
    struct shape shapes[MAX_LIST];
    int n_shapes, shapes_given;
    int reps;
    double budget_s;
    int csv;
    const char *out;
    int check, quick, no_probes;
    long flush_mb;  /* -1: automatic */
    long probe_mb;
};

static void usage(FILE *f) {
    fprintf(f,
        "usage: tlbench kernels [--kernel LIST] [--quant LIST] [-t LIST] [-m LIST]\n"
        "                       [--shapes LIST] [-r N] [--budget-ms MS] [--format table|csv]\n"
        "                       [-o FILE] [--flush-mb N] [--probe-mb N] [--no-probes]\n"
        "                       [--quick] [--check]\n\n"
        "Matmul micro-benchmark Y[m x n] = X[m x k] W[n x k]^T on the model's own shapes, for\n"
        "every kernel x weight type x shape x m x thread count. For each: median, min and max\n"
        "time over the repetitions (after one warm-up), GFLOP/s (2 m n k / time), GB/s of\n"
        "weights streamed (weight bytes / time), and their share of this machine's limits\n"
        "measured by built-in probes: memory read bandwidth with each thread count (a\n"
        "buffer much larger than the caches) and f32 FMA peak with each thread count (FMA\n"
        "chains in registers, widest vector ISA usable here). The probes run 3 times first\n"
        "and again before each weight type and shape, between the kernel runs; the best\n"
        "sample is the limit (load only lowers a sample), so rows are printed at the end;\n"
        "stderr also gives the median piece of the best round, the memory's ordinary pace. A\n"
        "warning says when the 3 best samples differ by more than 5 %%, when other processes\n"
        "used more than a quarter of a CPU during the run (a busy machine: another run may not\n"
        "agree within 10 %%), when a row beats the probe, or when the read bandwidth is more\n"
        "than 10 %% from the last run's on this CPU with the same buffer (remembered in\n"
        "~/.cache/tlbench/probes): the machine moved, not the kernels. Decode (m = 1) is\n"
        "bound by bandwidth (%%bw), prefill by compute (%%peak; quantized kernels use integer\n"
        "dot products and may exceed the f32 peak). Every row is spot-checked against naive on\n"
        "16 output rows (column 'passed'). Each timed decode repetition follows a plain read\n"
        "of another weight copy (same bytes, same threads, the probe's loads in the stream\n"
        "pattern the first probe rounds read fastest with that thread count): column %%pair is\n"
        "the median of the repetitions' GB/s over their own read's, a share of the memory's\n"
        "pace at that moment, which a host whose bandwidth moves between levels cannot\n"
        "skew. 1-thread decode rows are also timed on a slice of\n"
        "the weights that stays in cache (column 'cached', GB/s): one core's own pace, which\n"
        "tells a kernel bound by memory from one bound by its instructions per byte. The\n"
        "table ends with the lowest and highest decode share of the probe over the shapes,\n"
        "per kernel, weight type and thread count, and the cached pace over the probe.\n\n"
        "Weights live in a rotation of copies whose total exceeds the last-level cache, and\n"
        "each repetition uses the next copy, so every run reads its weights from DRAM as a\n"
        "decode step of a model larger than the caches does.\n\n"
        "  --kernel LIST     kernels, comma-separated (default: every usable kernel but\n"
        "                    naive; 'all' adds naive). Unusable ones are reported and skipped\n"
        "  --quant LIST      weight types (default f32,f16,bf16,q8_0,q4_0)\n"
        "  -t, --threads LIST thread counts (default 1 and the number of online CPUs)\n"
        "  -m LIST           activation rows (default 1,128). 32000-row shapes run at m = 1\n"
        "                    only unless --shapes names them (an engine computes logits for\n"
        "                    the last prompt token only)\n"
        "  --shapes LIST     NxK items, e.g. 2048x2048,32000x2048 (default: 2048x2048,\n"
        "                    256x2048, 5632x2048, 2048x5632, 32000x2048)\n"
        "  -r, --reps N      at most N timed repetitions per configuration (default 10)\n"
        "  --budget-ms MS    stop repeating once a configuration has used MS milliseconds\n"
        "                    and has 3 repetitions (2 when the warm-up took over a third of\n"
        "                    MS, 1 when it took longer than MS; default 300)\n"
        "  --format F        table (default) or csv (libcsv-quoted, one row per config)\n"
        "  -o FILE           write to FILE instead of stdout (csv: appended, header when the\n"
        "                    file is new or empty)\n"
        "  --flush-mb N      total size of the weight copies (default: 8 x last-level cache,\n"
        "                    between 256 and 1024 MiB; 0: one copy, caches stay warm)\n"
        "  --probe-mb N      bandwidth probe buffer in MiB (default 1024; the weight copies'\n"
        "                    memory is reused for it)\n"
        "  --no-probes       skip the probes (the %% columns stay empty)\n"
        "  --quick           2048x2048 and 2048x5632, q4_0,q8_0,f16,f32, all CPUs only, -r 5\n"
        "                    (explicit options still override)\n"
        "  --check           no benchmark: compare every selected kernel and type with naive\n"
        "                    on odd shapes (n 1..257, k not multiples of any tile, m 1..33)\n"
        "                    and each thread count; exit 1 on any mismatch\n"
        "  -h, --help        this text\n\n"
        "CSV columns: test_time, tlbench_version, cpu, kernel, kernel_version, weight_type, n,\n"
        "k, m, n_threads, reps, time_us_median, time_us_min, time_us_max, gflops, gbps,\n"
        "bw_probe_gbps, peak_probe_gflops, pct_bw, pct_peak, weight_bytes, flush_copies,\n"
        "scratch_bytes, nmse, passed, status (ok or 'unsupported: reason'), load_avg (1-minute\n"
        "load average when the row was measured: above the CPU count, other processes shared\n"
        "the cores and the memory bus and the figures are low), bw_probe_spread_pct (how far\n"
        "the third-best bandwidth sample of that thread count was below the best), gbps_cached\n"
        "(1-thread decode only: weight GB/s on a 512 KiB slice that stays in cache, one core's\n"
        "pace when DRAM is not the limit; near the probe, a kernel is bound by its\n"
        "instructions per byte and its %%bw stays low), bw_probe_shape_gbps (the bandwidth\n"
        "sample of the probe round just before this row's weight type and shape: on a host\n"
        "whose memory bandwidth moves between levels, the level the row ran at),\n"
        "bw_paired_gbps (decode: the median of the plain reads paired with the repetitions),\n"
        "bw_paired_streams (the streams per thread those reads took side by side),\n"
        "pct_bw_paired, pct_bw_paired_min, pct_bw_paired_max (the median, lowest and highest\n"
        "of the repetitions' GB/s over their own paired read's, %%).\n"
        "Exit status: 0 ok, 1 a check failed or a run error, 2 usage error.\n");
}

/* ---- option parsing ---- */

/* Split a comma list into items; calls fn(item) for each, stops at the first failure. */
static int each_item(const char *list, const char *opt, int (*fn)(const char *, void *),
                     void *ctx) {
    char buf[512];
    if (strlen(list) >= sizeof buf) {
        tlb_error("%s: list too long", opt);
        return -1;
    }
    strcpy(buf, list);
    char *items[256];
    int ni = tlb_split_list(buf, items, (int)TLB_ARRAY_LEN(items)), n = 0;
    for (int i = 0; i < ni; i++) {
        if (!items[i][0]) continue;
        if (fn(items[i], ctx) != 0) return -1;
        n++;
    }
    if (n == 0) {
        tlb_error("%s: empty list", opt);
        return -1;
    }
    return 0;
}

static int add_kernel(const char *name, void *ctx) {
    struct opts *o = ctx;
    if (!strcmp(name, "all")) {
        for (int i = 0; i < tlb_kernel_count() && o->n_kernels < MAX_LIST; i++)
            o->kernels[o->n_kernels++] = tlb_kernel_at(i);
        return 0;
    }
    const struct tlb_kernel *k = tlb_kernel_find(name);
    if (!k) {
        char why[512];
        tlb_kernel_select(name, TLB_ALL_TYPES, why, sizeof why);
        tlb_error("--kernel: %s", why);
        return -1;
    }
    if (o->n_kernels >= MAX_LIST) {
        tlb_error("--kernel: too many kernels");
        return -1;
    }
    o->kernels[o->n_kernels++] = k;
    return 0;
}

static int add_type(const char *name, void *ctx) {
    struct opts *o = ctx;
    enum tlb_type t;
    if (tlb_type_from_name(name, &t) != 0) {
        tlb_error("--quant: unknown weight type '%s' (known: f32 f16 bf16 q8_0 q4_0)", name);
        return -1;
    }
    for (int i = 0; i < o->n_types; i++)
        if (o->types[i] == t) return 0;
    o->types[o->n_types++] = t;
    return 0;
}

struct int_list {
    int *v, *n;
    const char *opt;
    long min, max;
};

static int add_int(const char *s, void *ctx) {
    struct int_list *l = ctx;
    long v;
    if (tlb_parse_int_msg(l->opt, s, l->min, l->max, &v) != 0) return -1;
    if (*l->n >= MAX_LIST) {
        tlb_error("%s: too many values", l->opt);
        return -1;
    }
    l->v[(*l->n)++] = (int)v;
    return 0;
}

static int add_shape(const char *s, void *ctx) {
    struct opts *o = ctx;
    char a[32], b[32];
    const char *x = strchr(s, 'x');
    long n, k;
    if (!x || (size_t)(x - s) >= sizeof a || strlen(x + 1) >= sizeof b) goto bad;
    memcpy(a, s, (size_t)(x - s));
    a[x - s] = '\0';
    strcpy(b, x + 1);
    if (tlb_parse_int(a, 1, 1 << 20, &n) != 0 || tlb_parse_int(b, 1, 1 << 20, &k) != 0) goto bad;
    if (o->n_shapes >= MAX_LIST) {
        tlb_error("--shapes: too many shapes");
        return -1;
    }
    o->shapes[o->n_shapes++] = (struct shape){n, k};
    return 0;
bad:
    tlb_error("--shapes: '%s' is not NxK with 1 <= N, K <= 1048576 (e.g. 2048x5632)", s);
    return -1;
}

static int parse(int argc, char **argv, struct opts *o) {
    enum { O_KERNEL = 256, O_QUANT, O_SHAPES, O_BUDGET, O_FORMAT, O_FLUSH, O_PROBE, O_NOPROBE,
           O_QUICK, O_CHECK };
    static const struct option longopts[] = {
        {"kernel", required_argument, NULL, O_KERNEL},
        {"quant", required_argument, NULL, O_QUANT},
        {"threads", required_argument, NULL, 't'},
        {"shapes", required_argument, NULL, O_SHAPES},
        {"reps", required_argument, NULL, 'r'},
        {"budget-ms", required_argument, NULL, O_BUDGET},
        {"format", required_argument, NULL, O_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"flush-mb", required_argument, NULL, O_FLUSH},
        {"probe-mb", required_argument, NULL, O_PROBE},
        {"no-probes", no_argument, NULL, O_NOPROBE},
        {"quick", no_argument, NULL, O_QUICK},
        {"check", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->reps = -1;
    o->budget_s = 0.3;
    o->flush_mb = -1;
    o->probe_mb = 1024;
    struct int_list tl = {o->threads, &o->n_threads, "-t", 1, TLB_MAX_THREADS};
    struct int_list ml = {o->ms, &o->n_ms, "-m", 1, 65536};
    int c;
    long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:m:r:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_KERNEL:
            o->kernels_given = 1;
            if (each_item(optarg, "--kernel", add_kernel, o)) return TLB_EXIT_USAGE;
            break;
        case O_QUANT:
            if (each_item(optarg, "--quant", add_type, o)) return TLB_EXIT_USAGE;
            break;
        case 't':
            if (each_item(optarg, "-t", add_int, &tl)) return TLB_EXIT_USAGE;
            break;
        case 'm':
            if (each_item(optarg, "-m", add_int, &ml)) return TLB_EXIT_USAGE;
            break;
        case O_SHAPES:
            o->shapes_given = 1;
            if (each_item(optarg, "--shapes", add_shape, o)) return TLB_EXIT_USAGE;
            break;
        case 'r':
            if (tlb_parse_int_msg("-r", optarg, 1, 100000, &v)) return TLB_EXIT_USAGE;
            o->reps = (int)v;
            break;
        case O_BUDGET:
            if (tlb_parse_int_msg("--budget-ms", optarg, 0, 3600000, &v)) return TLB_EXIT_USAGE;
            o->budget_s = (double)v * 1e-3;
            break;
        case O_FORMAT:
            if (!strcmp(optarg, "csv")) o->csv = 1;
            else if (!strcmp(optarg, "table")) o->csv = 0;
            else {
                tlb_error("--format: '%s' is not table or csv", optarg);
                return TLB_EXIT_USAGE;
            }
            break;
        case 'o': o->out = optarg; break;
        case O_FLUSH:
            if (tlb_parse_int_msg("--flush-mb", optarg, 0, 1 << 20, &o->flush_mb))
                return TLB_EXIT_USAGE;
            break;
        case O_PROBE:
            if (tlb_parse_int_msg("--probe-mb", optarg, 1, 1 << 20, &o->probe_mb))
                return TLB_EXIT_USAGE;
            break;
        case O_NOPROBE: o->no_probes = 1; break;
        case O_QUICK: o->quick = 1; break;
        case O_CHECK: o->check = 1; break;
        case 'h': usage(stdout); return -1;
        case ':':
            tlb_error("kernels: option '%s' needs a value", argv[optind - 1]);
            return TLB_EXIT_USAGE;
        default:
            tlb_error("kernels: unknown option '%s' (see 'tlbench kernels --help')",
                      argv[optind - 1]);
            return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("kernels: unexpected argument '%s'", argv[optind]);
        return TLB_EXIT_USAGE;
    }
    const long ncpu = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    if (!o->kernels_given) { /* every usable kernel but the reference */
        char why[256];
        for (int i = 0; i < tlb_kernel_count() && o->n_kernels < MAX_LIST; i++) {
            const struct tlb_kernel *k = tlb_kernel_at(i);
            if (strcmp(k->name, "naive") && (!k->probe || k->probe(why, sizeof why) == 0))
                o->kernels[o->n_kernels++] = k;
        }
    }
    if (o->n_types == 0) {
        const char *def = o->quick ? "q4_0,q8_0,f16,f32" : "f32,f16,bf16,q8_0,q4_0";
        each_item(def, "--quant", add_type, o);
    }
    if (o->n_threads == 0) {
        if (!o->quick && ncpu > 1) o->threads[o->n_threads++] = 1;
        o->threads[o->n_threads++] = (int)TLB_MIN(ncpu, TLB_MAX_THREADS);
    }
    if (o->n_ms == 0) {
        o->ms[o->n_ms++] = 1;
        o->ms[o->n_ms++] = 128;
    }
    if (o->n_shapes == 0) {
        if (o->quick) {
            o->shapes[o->n_shapes++] = default_shapes[0];
            o->shapes[o->n_shapes++] = default_shapes[3];
        } else {
            for (size_t i = 0; i < TLB_ARRAY_LEN(default_shapes); i++)
                o->shapes[o->n_shapes++] = default_shapes[i];
        }
    }
    if (o->reps < 0) o->reps = o->quick ? 5 : 10;
    return 0;
}

/* ---- helpers ---- */

static uint32_t rng_state = 0x9e3779b9u;

/* One pool at a time, reused while the thread count stays (as the engine keeps its pool).
 * Another thread count gets a new pool and the old one is freed: its workers poll for a
 * second after their last job (threadpool.c) and would otherwise run beside the next rows. */
struct pools {
    int n;
    struct tlb_pool *p;
};

static void pools_free(struct pools *ps) {
    tlb_pool_free(ps->p);
    ps->p = NULL;
}

static struct tlb_pool *pool_for(struct pools *ps, int n) {
    if (ps->p && ps->n == n) return ps->p;
    pools_free(ps);
    ps->p = tlb_pool_create(n);
    ps->n = n;
    return ps->p;
}

/* ---- --check ---- */

static int run_check(const struct opts *o, struct pools *ps) {
    /* 48 and 160: whole 16-row groups, so layouts such as R16 are checked too */
    static const int ns[] = {1, 3, 17, 48, 67, 160, 257};
    static const int ks_q[] = {32, 64, 96, 160, 2080};
    static const int ks_f[] = {7, 33, 100, 160, 2080};
    static const int ms[] = {1, 2, 7, 33};
    int failures = 0;
    for (int ki = 0; ki < o->n_kernels; ki++) {
        const struct tlb_kernel *kn = o->kernels[ki];
        for (int ti = 0; ti < o->n_types; ti++) {
            const enum tlb_type t = o->types[ti];
            const struct tlb_type_traits *tr = tlb_type_traits(t);
            char why[256];
            if (tlb_kernel_usable(kn, t, why, sizeof why) != 0) {
                printf("skip %s %s: %s\n", kn->name, tr->name, why);
                continue;
            }
            double worst = 0;
            int runs = 0, bad = 0;
            char msg[300] = "";
            for (size_t a = 0; a < TLB_ARRAY_LEN(ns) && !bad; a++)
                for (size_t b = 0; b < TLB_ARRAY_LEN(ks_q) && !bad; b++)
                    for (size_t c = 0; c < TLB_ARRAY_LEN(ms) && !bad; c++) {
                        const int n = ns[a], k = tr->is_quantized ? ks_q[b] : ks_f[b], m = ms[c];
                        const size_t rb = tlb_type_row_bytes(t, k);
                        float *wf = malloc((size_t)n * (size_t)k * sizeof *wf);
                        void *wd = malloc((size_t)n * rb);
                        float *x = malloc((size_t)m * (size_t)k * sizeof *x);
                        float *y = malloc((size_t)m * (size_t)n * sizeof *y);
                        if (!wf || !wd || !x || !y) {
                            free(wf), free(wd), free(x), free(y);
                            tlb_error("kernels --check: out of memory");
                            return -1;
                        }
                        for (size_t i = 0; i < (size_t)n * (size_t)k; i++) wf[i] = tlb_rand_pm1(&rng_state);
                        for (size_t i = 0; i < (size_t)m * (size_t)k; i++) x[i] = tlb_rand_pm1(&rng_state);
                        tr->from_f32(wf, wd, (int64_t)n * k);
                        /* in the layout the kernel asks for, as the engine would give it */
                        const enum tlb_layout lay = tlb_kernel_layout(kn, t, n, k);
                        const struct tlb_tensor w = {.type = t, .rows = n, .cols = k,
                                                     .data = wd, .name = "check",
                                                     .layout = lay};
                        if (tlb_layout_convert(wd, t, n, k, TLB_LAYOUT_ROWS, lay) != 0) {
                            snprintf(msg, sizeof msg, "n=%d k=%d: layout %s failed", n, k,
                                     tlb_layout_name(lay));
                            bad = 1;
                        }
                        for (int d = 0; d < o->n_threads && !bad; d++, runs++) {
                            struct tlb_pool *pool = pool_for(ps, o->threads[d]);
                            void *st = NULL;
                            for (size_t i = 0; i < (size_t)m * (size_t)n; i++) y[i] = NAN;
                            struct tlb_kcheck kc;
                            if (!pool || (kn->init && kn->init(&st, pool) != 0) ||
                                kn->matmul(st, pool, y, x, &w, m) != 0 ||
                                tlb_kcheck_rows(&w, x, m, y, 0, n, &kc) != 0) {
                                snprintf(msg, sizeof msg, "n=%d k=%d m=%d t=%d: run failed", n,
                                         k, m, o->threads[d]);
                                bad = 1;
                            } else if (!kc.passed) {
                                snprintf(msg, sizeof msg, "n=%d k=%d m=%d t=%d: %s (NMSE %.3g)",
                                         n, k, m, o->threads[d],
                                         kc.finite ? "mismatch" : "NaN/Inf in output", kc.nmse);
                                bad = 1;
                            } else if (kc.nmse > worst) {
                                worst = kc.nmse;
                            }
                            if (st && kn->release) kn->release(st);
                        }
                        free(wf), free(wd), free(x), free(y);
                    }
            if (bad) {
                printf("FAIL %s %s: %s\n", kn->name, tr->name, msg);
                failures++;
            } else {
                printf("ok %s %s (%d runs, worst NMSE %.2g)\n", kn->name, tr->name, runs, worst);
            }
            fflush(stdout);
        }
    }
    return failures;
}

/* ---- benchmark ---- */

/* The probes, measured several times (first PROBE_ROUNDS_FIRST rounds, then one round before
 * each weight type and shape, between the kernel runs) and the best taken: a busy moment
 * lowers a sample, never raises it, so the best of many is the stable yardstick. */
#define PROBE_ROUNDS_FIRST 3
#define PROBE_MAX_SAMPLES 64
#define PROBE_STABLE_PCT 5.0 /* the 3 best samples closer than this: the best is reproducible */

struct samples {
    double v[PROBE_MAX_SAMPLES];
    int n;
};

struct limits {
    struct samples bw[MAX_LIST];    /* GB/s per entry of opts.threads */
    double bw_last[MAX_LIST];       /* the latest round's bandwidth sample, GB/s */
    /* the highest over the rounds of the fastest pattern's median piece: the pace a plain
     * read of weight-sized bytes gets most of the time (the best piece is the fastest of ~100
     * per round) */
    double bw_typical[MAX_LIST];
    struct samples peak[MAX_LIST];  /* GFLOP/s */
    /* per thread count and stream pattern: the pattern's median piece over the round's
     * fastest pattern's, summed over the first rounds; the paired reads take the highest, one
     * pattern for the whole run (pair_turn) */
    double pattern_score[MAX_LIST][TLB_PROBE_PATTERNS];
    unsigned pair_turn[MAX_LIST];
    const char *isa;
    char *buf;                      /* read by the bandwidth probe */
    size_t bytes;
};

static void sample_add(struct samples *s, double v) {
    if (s->n < PROBE_MAX_SAMPLES) s->v[s->n++] = v;
}

/* Best sample, 0 when none. */
static double sample_best(const struct samples *s) {
    double b = 0;
    for (int i = 0; i < s->n; i++)
        if (s->v[i] > b) b = s->v[i];
    return b;
}

/* How far the third-best sample is below the best, in % (0 with fewer than 3 samples), and
 * the worst sample. */
static double sample_spread(const struct samples *s, double *worst) {
    double v[PROBE_MAX_SAMPLES];
    memcpy(v, s->v, (size_t)s->n * sizeof v[0]);
    qsort(v, (size_t)s->n, sizeof v[0], tlb_cmp_double);
    *worst = s->n ? v[0] : 0;
    return s->n >= 3 && v[s->n - 1] > 0 ? 100.0 * (1.0 - v[s->n - 3] / v[s->n - 1]) : 0;
}

/* One round: every thread count's read bandwidth (the best 8 MiB piece of one pass) and FMA
 * peak, one after the other. */
static int probe_round(const struct opts *o, struct pools *ps, struct limits *lim, int first) {
    if (o->no_probes) return 0;
    for (int i = 0; i < o->n_threads; i++) {
        struct tlb_pool *pool = pool_for(ps, o->threads[i]);
        if (!pool) return -1;
        double med[TLB_PROBE_PATTERNS], top = 0;
        lim->bw_last[i] = tlb_probe_read_bw(pool, lim->buf, lim->bytes, 1, med);
        sample_add(&lim->bw[i], lim->bw_last[i]);
        for (int k = 0; k < TLB_PROBE_PATTERNS; k++)
            if (med[k] > top) top = med[k];
        if (top > lim->bw_typical[i]) lim->bw_typical[i] = top;
        for (int k = 0; first && k < TLB_PROBE_PATTERNS && top > 0; k++)
            lim->pattern_score[i][k] += med[k] / top;
        sample_add(&lim->peak[i], tlb_probe_fma_peak(pool, &lim->isa));
    }
    return 0;
}

/* The stream pattern (tlb_probe_read_once's turn) the memory served fastest with thread count
 * index i over the first probe rounds: judged within each round, side by side, so that a level
 * that moves between rounds does not pick it. */
static unsigned fastest_pattern(const struct limits *lim, int i) {
    unsigned best = 0;
    for (unsigned k = 1; k < TLB_PROBE_PATTERNS; k++)
        if (lim->pattern_score[i][k] > lim->pattern_score[i][best]) best = k;
    return best;
}

/* The probes read buf (bytes long; written here first, later holding weights). */
static int probes_start(const struct opts *o, struct pools *ps, struct limits *lim, char *buf,
                        size_t bytes) {
    memset(lim, 0, sizeof *lim);
    lim->isa = "";
    lim->buf = buf;
    lim->bytes = bytes;
    if (o->no_probes) return 0;
    memset(buf, 1, bytes);
    for (int r = 0; r < PROBE_ROUNDS_FIRST; r++)
        if (probe_round(o, ps, lim, 1) != 0) return -1;
    for (int i = 0; i < o->n_threads; i++) lim->pair_turn[i] = fastest_pattern(lim, i);
    return 0;
}

/* FMA chains in registers scale with the cores: t threads reach about t x one thread's peak.
 * Much less means the threads did not get t cores' arithmetic: on a VM the host can run two
 * vCPUs on SMT siblings of one core (seen here: 2 threads 117.5 GFLOP/s, 1 thread 117.8,
 * other times 235), and every thread-scaling figure of the run then describes that
 * placement, not the machine. */
static void shared_core_check(const struct opts *o, const struct limits *lim) {
    double one = 0;
    for (int i = 0; i < o->n_threads && !o->no_probes; i++)
        if (o->threads[i] == 1) one = sample_best(&lim->peak[i]);
    for (int i = 0; i < o->n_threads && one > 0; i++) {
        const int t = o->threads[i];
        const double pk = sample_best(&lim->peak[i]);
        if (t > 1 && pk < TLB_CORE_SHARE_LOW * t * one)
            tlb_warn("probe: %d threads reached %.1f GFLOP/s of FMA, %.2fx the 1-thread %.1f: "
                     "they did not get %d cores (vCPUs on SMT siblings of one host core, or "
                     "throttled), so the %d-thread rows measure that, not the machine",
                     t, pk, pk / one, one, t, t);
    }
}

/* Two runs should agree on the probe within this much (%): a larger move since the last run
 * here is said, with both figures and when the last one was measured. */
#define PROBE_AGREE_PCT 10.0

/* This run's read-bandwidth figure for t threads against the last run's on this CPU with the
 * same probe buffer (probe-history.h). */
static void probe_against_last(const char *key, int t, double gbps, time_t now) {
    double last;
    time_t when;
    if (gbps > 0 && tlb_probe_history_last(key, t, &last, &when)) {
        const double pct = 100.0 * fabs(gbps - last) / (gbps > last ? gbps : last);
        const double mins = difftime(now, when) / 60;
        struct tm tm;
        char at[32] = "?";
        if (gmtime_r(&when, &tm)) strftime(at, sizeof at, "%Y-%m-%d %H:%M UTC", &tm);
        if (pct > PROBE_AGREE_PCT)
            tlb_warn("probe: %d thread%s: read bandwidth %.1f GB/s, the last run here measured "
                     "%.1f (%s, %.0f minutes ago): %.0f %% apart, more than the %.0f %% two runs "
                     "should agree within. This machine's memory bandwidth moved (other tenants "
                     "of a shared host, or where it placed the vCPUs), so compare rows of the "
                     "two runs as shares of their own probe, not as GB/s",
                     t, t == 1 ? "" : "s", gbps, last, at, mins > 0 ? mins : 0, pct,
                     PROBE_AGREE_PCT);
    }
}

/* What the probes measured, on stderr; a warning per figure whose best is not reproducible or
 * far from the last run's. */
static void probes_report(const struct opts *o, const struct limits *lim, const char *cpu) {
    for (int i = 0; i < o->n_threads && !o->no_probes; i++) {
        const int t = o->threads[i];
        double bw_worst, pk_worst;
        const double bw_spread = sample_spread(&lim->bw[i], &bw_worst);
        const double pk_spread = sample_spread(&lim->peak[i], &pk_worst);
        fprintf(stderr, "tlbench: probe: %d thread%s: read bandwidth %.1f GB/s (best of %d, the "
                        "3 best within %.1f %%, worst %.1f; %zu MiB buffer), f32 FMA peak %.1f "
                        "GFLOP/s (%s; best of %d, 3 best within %.1f %%)\n",
                t, t == 1 ? "" : "s", sample_best(&lim->bw[i]), lim->bw[i].n, bw_spread, bw_worst,
                lim->bytes >> 20, sample_best(&lim->peak[i]), lim->isa, lim->peak[i].n, pk_spread);
        char pats[160];
        int at = 0;
        for (unsigned k = 0; k < TLB_PROBE_PATTERNS && at >= 0 && (size_t)at < sizeof pats; k++)
            at += snprintf(pats + at, sizeof pats - (size_t)at, "%s%d: %.2f", k ? ", " : "",
                           tlb_probe_pattern_streams(k),
                           lim->pattern_score[i][k] / PROBE_ROUNDS_FIRST);
        fprintf(stderr, "tlbench: probe: %d thread%s: the median piece read %.1f GB/s (%.0f %% "
                        "of the best piece; the fastest pattern's median piece, best of %d "
                        "rounds): a decode row near it streams as fast as a plain read does "
                        "most of the time; the gap to the best piece is how far this "
                        "machine's bandwidth wanders\n",
                t, t == 1 ? "" : "s", lim->bw_typical[i],
                sample_best(&lim->bw[i]) > 0
                    ? 100.0 * lim->bw_typical[i] / sample_best(&lim->bw[i])
                    : 0,
                lim->bw[i].n);
        const int ps = tlb_probe_pattern_streams(lim->pair_turn[i]);
        fprintf(stderr, "tlbench: probe: %d thread%s: decode repetitions are paired with reads "
                        "of %d stream%s per thread, the pattern read fastest (median piece over "
                        "the round's fastest pattern, mean of the first %d rounds, by streams: "
                        "%s)\n", t, t == 1 ? "" : "s", ps, ps == 1 ? "" : "s", PROBE_ROUNDS_FIRST,
                pats);
        if (bw_spread > PROBE_STABLE_PCT || pk_spread > PROBE_STABLE_PCT)
            tlb_warn("probe: %d thread%s: the 3 best samples differ by %.1f %% (bandwidth) and "
                     "%.1f %% (FMA): the machine was busy, so another run may not agree within "
                     "10 %% and the %% columns are uncertain by as much",
                     t, t == 1 ? "" : "s", bw_spread, pk_spread);
    }
    /* against the last run's figures, all read before any is replaced by this run's */
    char key[256];
    snprintf(key, sizeof key, "%s; %zu MiB buffer", cpu, lim->bytes >> 20);
    const time_t now = time(NULL);
    for (int i = 0; i < o->n_threads && !o->no_probes; i++)
        probe_against_last(key, o->threads[i], sample_best(&lim->bw[i]), now);
    for (int i = 0; i < o->n_threads && !o->no_probes; i++)
        if (sample_best(&lim->bw[i]) > 0)
            tlb_probe_history_put(key, o->threads[i], sample_best(&lim->bw[i]), now);
    shared_core_check(o, lim);
}

struct out {
    FILE *f;
    int csv;
    int no_header;  /* appending CSV rows to a file that has its header */
    char time[32], cpu[160];
};

/* 1-minute load average, or -1 when unknown. */
static double load_avg(void) {
    char buf[128];
    if (tlb_sysfs_read("", "/proc/loadavg", buf, sizeof buf) <= 0) return -1;
    char *end = NULL;
    double l = strtod(buf, &end);
    return end != buf && l >= 0 ? l : -1;
}

static int put_field(struct out *ou, const char *s, int first) {
    if (!first && fputc(',', ou->f) == EOF) return -1;
    return csv_fwrite(ou->f, s, strlen(s)) == 0 ? 0 : -1;
}

struct result {
    const struct tlb_kernel *kn;
    char version[320]; /* the kernel's, and the weights' layout when not rows */
    enum tlb_type t;
    struct shape sh;
    int m, threads, reps;
    double med, min, max; /* seconds */
    int probe;            /* index of the thread count in opts.threads */
    double bw, peak;      /* probe figures for this thread count (0 = none) */
    double bw_spread;     /* the bandwidth probe's 3-best spread, % */
    size_t wbytes, scratch;
    int copies;
    double nmse;
    int passed;
    double load;          /* 1-minute load average when measured, -1 unknown */
    double cached;        /* 1-thread decode: weight GB/s from a slice in cache, 0 none */
    double bw_shape;      /* the probe round's sample just before this type and shape, 0 none */
    /* Decode with probes: each timed repetition paired with a plain read of another weight
     * copy just before it (same bytes, same threads): that read's median GB/s, and the
     * median, lowest and highest of the repetitions' weight GB/s over their own read's, %.
     * 0 when not measured. */
    double paired_bw, paired_pct, paired_lo, paired_hi;
    unsigned pair_turn;   /* the paired reads' stream pattern (tlb_probe_read_once's turn) */
    char status[300];     /* empty: ok */
};

/* A CSV number: 9 significant digits, empty when not measured. */
static const char *num(char *buf, size_t n, double v, int ok) {
    if (!ok || !isfinite(v) || snprintf(buf, n, "%.9g", v) < 0) buf[0] = '\0';
    return buf;
}

/* A row's weight bytes per second as a share of a read bandwidth of bw GB/s, %; 0 when the
 * row did not run or there is no figure. */
static double share_of(const struct result *r, double bw) {
    return r->status[0] || bw <= 0 ? 0 : 100.0 * (double)r->wbytes / r->med * 1e-9 / bw;
}

/* ... of the probe's (the best sample of the run) */
static double pct_bw(const struct result *r) { return share_of(r, r->bw); }

static int emit(struct out *ou, const struct result *r) {
    const double flop = 2.0 * r->m * (double)r->sh.n * (double)r->sh.k;
    const int ran = r->status[0] == '\0';
    const double gflops = ran ? flop / r->med * 1e-9 : 0, gbps = ran ? (double)r->wbytes / r->med * 1e-9 : 0;
    if (!ou->csv) {
        char shape[48];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)r->sh.n, (long long)r->sh.k);
        if (!ran) {
            fprintf(ou->f, "%-9s %-5s %-11s %4d %3d   %s\n", r->kn->name,
                    tlb_type_traits(r->t)->name, shape, r->m, r->threads, r->status);
        } else {
            char pb[16] = "-", pp[16] = "-", pc[16] = "-", pr[16] = "-";
            if (r->bw > 0) snprintf(pb, sizeof pb, "%.0f%%", pct_bw(r));
            if (r->paired_pct > 0) snprintf(pr, sizeof pr, "%.0f%%", r->paired_pct);
            if (r->peak > 0) snprintf(pp, sizeof pp, "%.0f%%", 100 * gflops / r->peak);
            if (r->cached > 0) snprintf(pc, sizeof pc, "%.1f", r->cached);
            fprintf(ou->f, "%-9s %-5s %-11s %4d %3d %11.1f %9.1f %8.2f %5s %5s %6s %8s  %s\n",
                    r->kn->name, tlb_type_traits(r->t)->name, shape, r->m, r->threads,
                    r->med * 1e6, gflops, gbps, pb, pr, pp, pc, r->passed ? "ok" : "FAIL");
        }
        return fflush(ou->f) == 0 ? 0 : -1;
    }
    char b[27][40];
    const char *cells[] = {
        ou->time, TLB_VERSION, ou->cpu, r->kn->name, r->version,
        tlb_type_traits(r->t)->name,
        num(b[0], 40, (double)r->sh.n, 1), num(b[1], 40, (double)r->sh.k, 1),
        num(b[2], 40, r->m, 1), num(b[3], 40, r->threads, 1), num(b[4], 40, r->reps, ran),
        num(b[5], 40, r->med * 1e6, ran), num(b[6], 40, r->min * 1e6, ran),
        num(b[7], 40, r->max * 1e6, ran), num(b[8], 40, gflops, ran), num(b[9], 40, gbps, ran),
        num(b[10], 40, r->bw, r->bw > 0), num(b[11], 40, r->peak, r->peak > 0),
        num(b[12], 40, pct_bw(r), ran && r->bw > 0),
        num(b[13], 40, 100 * gflops / r->peak, ran && r->peak > 0),
        num(b[14], 40, (double)r->wbytes, 1), num(b[15], 40, r->copies, ran),
        num(b[16], 40, (double)r->scratch, ran), num(b[17], 40, r->nmse, ran),
        ran ? (r->passed ? "1" : "0") : "", ran ? "ok" : r->status,
        num(b[18], 40, r->load, r->load >= 0), num(b[19], 40, r->bw_spread, r->bw > 0),
        num(b[20], 40, r->cached, ran && r->cached > 0),
        num(b[21], 40, r->bw_shape, r->bw_shape > 0),
        num(b[22], 40, r->paired_bw, ran && r->paired_pct > 0),
        num(b[23], 40, r->paired_pct, ran && r->paired_pct > 0),
        num(b[24], 40, r->paired_lo, ran && r->paired_pct > 0),
        num(b[25], 40, r->paired_hi, ran && r->paired_pct > 0),
        num(b[26], 40, tlb_probe_pattern_streams(r->pair_turn), ran && r->paired_pct > 0),
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(cells); i++)
        if (put_field(ou, cells[i], i == 0) != 0) return -1;
    if (fputc('\n', ou->f) == EOF) return -1;
    return fflush(ou->f) == 0 ? 0 : -1;
}

/* The CSV's columns, in order. */
static const char *const csv_cols[] = {
    "test_time", "tlbench_version", "cpu", "kernel", "kernel_version", "weight_type", "n",
    "k", "m", "n_threads", "reps", "time_us_median", "time_us_min", "time_us_max", "gflops",
    "gbps", "bw_probe_gbps", "peak_probe_gflops", "pct_bw", "pct_peak", "weight_bytes",
    "flush_copies", "scratch_bytes", "nmse", "passed", "status", "load_avg",
    "bw_probe_spread_pct", "gbps_cached", "bw_probe_shape_gbps", "bw_paired_gbps",
    "pct_bw_paired", "pct_bw_paired_min", "pct_bw_paired_max", "bw_paired_streams"};

static int emit_header(struct out *ou) {
    if (!ou->csv) {
        fprintf(ou->f, "%-9s %-5s %-11s %4s %3s %11s %9s %8s %5s %5s %6s %8s  %s\n", "kernel",
                "type", "n x k", "m", "thr", "median_us", "GFLOP/s", "GB/s", "%bw", "%pair",
                "%peak", "cached", "check");
        return 0;
    }
    if (ou->no_header) return 0;
    for (size_t i = 0; i < TLB_ARRAY_LEN(csv_cols); i++)
        if (put_field(ou, csv_cols[i], i == 0) != 0) return -1;
    return fputc('\n', ou->f) == EOF ? -1 : 0;
}

/* Weight copies rotated between runs: copy i at data + i * stride, all in one layout. */
struct arena {
    char *data;
    size_t size, stride;
    int copies;
    size_t next;
    enum tlb_type t;
    int64_t n, k;
    enum tlb_layout layout;
};

/* Every copy into the layout kernel kn streams (ROWS for most), as a model's matrices are
 * put at load (tlb_model_set_layouts): a kernel is timed on the weights it would get. */
static int arena_layout(struct arena *a, const struct tlb_kernel *kn) {
    const enum tlb_layout want = tlb_kernel_layout(kn, a->t, a->n, a->k);
    if (want == a->layout) return 0;
    for (int c = 0; c < a->copies; c++)
        if (tlb_layout_convert(a->data + (size_t)c * a->stride, a->t, a->n, a->k, a->layout,
                               want) != 0)
            return -1;
    a->layout = want;
    return 0;
}

/* Fill copy 0 with random weights of type t (n x k), then replicate. */
static int arena_fill(struct arena *a, enum tlb_type t, int64_t n, int64_t k, size_t flush) {
    const struct tlb_type_traits *tr = tlb_type_traits(t);
    const size_t rb = tlb_type_row_bytes(t, k), wbytes = rb * (size_t)n;
    const int64_t chunk = 64;
    float *tmp = tlb_malloc((size_t)chunk * (size_t)k * sizeof *tmp, "weight generation");
    if (!tmp) return -1;
    for (int64_t r0 = 0; r0 < n; r0 += chunk) {
        const int64_t rows = n - r0 < chunk ? n - r0 : chunk;
        for (size_t i = 0; i < (size_t)(rows * k); i++) tmp[i] = tlb_rand_pm1(&rng_state) * 0.05f;
        tr->from_f32(tmp, a->data + (size_t)r0 * rb, rows * k);
    }
    free(tmp);
    a->stride = (wbytes + 4095) & ~(size_t)4095;
    a->copies = 1;
    while ((size_t)(a->copies + 1) * a->stride <= a->size &&
           (size_t)a->copies * a->stride < flush)
        a->copies++;
    for (int c = 1; c < a->copies; c++) memcpy(a->data + (size_t)c * a->stride, a->data, wbytes);
    a->next = 0;
    a->t = t, a->n = n, a->k = k, a->layout = TLB_LAYOUT_ROWS;
    return 0;
}

/* One core's decode pace when memory is not what limits it: the same kernel on the first rows
 * of copy 0, CACHED_SLICE bytes (whole groups of 16 rows, or of the layout's group, so an R16
 * or PANELS copy's prefix is a matrix too; it fits one core's L2 on most boards, else the
 * shared cache; a PANELS group of 5632-wide f32 rows is 2.75 MiB), best of CACHED_SAMPLES
 * batches of about 200 us. A kernel whose cached pace is not well above the probe is bound by
 * its instructions per byte, not by DRAM: its share of the probe stays low however the loads
 * are scheduled (README "Where the cycles go"). One thread only: with more, each call's part
 * of a slice that stays in cache is a few microseconds, and the call's fixed cost (waking the
 * pool, preparing X) measured as much (2 threads: 0.7-1.4x the probe, below one thread's). */
#define CACHED_SLICE ((size_t)512 << 10)
#define CACHED_SAMPLES 7
static int time_cached(const struct tlb_kernel *kn, void *st, struct tlb_pool *pool,
                       const struct tlb_tensor *w, const float *x, float *y, double *gbps) {
    const size_t rb = tlb_type_row_bytes(w->type, w->cols);
    const int64_t g = TLB_MAX(16, tlb_layout_group_rows(w->layout));
    int64_t rows = (int64_t)(CACHED_SLICE / rb) / g * g;
    if (rows < g) rows = g;
    if (rows > w->rows) rows = w->rows;
    struct tlb_tensor s = *w;
    s.rows = rows;
    const double bytes = (double)rb * (double)rows;
    long batch = 1;
    double best = 0;
    for (int i = -2; i < CACHED_SAMPLES; i++) { /* 2 warm-ups: fill the caches, size the batch */
        const int64_t t0 = tlb_now_ns();
        for (long b = 0; b < batch; b++)
            if (kn->matmul(st, pool, y, x, &s, 1) != 0) return -1;
        const double t = (double)(tlb_now_ns() - t0) * 1e-9;
        if (i < 0) {
            const double per = t / (double)batch;
            batch = per > 0 ? (long)(200e-6 / per) : 1000;
            if (batch < 1) batch = 1;
            if (batch > 1000) batch = 1000;
            continue;
        }
        const double rate = t > 0 ? bytes * (double)batch / t * 1e-9 : 0;
        if (rate > best) best = rate;
    }
    *gbps = best;
    return 0;
}

static int bench_one(const struct opts *o, struct tlb_pool *pool, struct arena *a,
                     const float *x, float *y, struct result *r) {
    const struct tlb_kernel *kn = r->kn;
    if (arena_layout(a, kn) != 0) return -1;
    struct tlb_tensor w = {.type = r->t, .rows = r->sh.n, .cols = r->sh.k, .name = "bench",
                           .layout = a->layout};
    void *st = NULL;
    double times[1000], pair_bw[1000], pair_pct[1000];
    const int max_reps = o->reps < 1000 ? o->reps : 1000;
    const int paired = r->m == 1 && !o->no_probes;
    if (kn->init && kn->init(&st, pool) != 0) return -1;
    int rc = 0, done = 0, min_reps = 3;
    double used = 0;
    const char *used_copy = NULL;
    for (int it = -1; done < max_reps; it++) { /* it = -1: warm-up */
        double read_gbps = 0;
        if (paired && it >= 0) /* the plain read of the next copy, the kernel the one after
                                * (the same copy only when one exceeds the rotation's size) */
            read_gbps = tlb_probe_read_once(pool, a->data + (a->next++ % (size_t)a->copies) *
                                                               a->stride,
                                            r->wbytes, r->pair_turn);
        w.data = used_copy = a->data + (a->next++ % (size_t)a->copies) * a->stride;
        const int64_t t0 = tlb_now_ns();
        if (kn->matmul(st, pool, y, x, &w, r->m) != 0) {
            rc = -1;
            break;
        }
        const double s = (double)(tlb_now_ns() - t0) * 1e-9;
        if (it < 0) { /* slow configurations: fewer repetitions, long runs vary less */
            min_reps = s > o->budget_s ? 1 : s > o->budget_s / 3 ? 2 : 3;
            continue;
        }
        pair_bw[done] = read_gbps;
        pair_pct[done] = read_gbps > 0 && s > 0 ? 100.0 * (double)r->wbytes / s * 1e-9 / read_gbps
                                                : 0;
        times[done++] = s;
        used += s;
        if (used >= o->budget_s && done >= min_reps) break;
    }
    if (rc == 0) {
        qsort(times, (size_t)done, sizeof times[0], tlb_cmp_double);
        r->reps = done;
        r->min = times[0];
        r->max = times[done - 1];
        r->med = tlb_median_sorted(times, (size_t)done);
        if (paired && done > 0 && pair_bw[0] > 0) {
            qsort(pair_bw, (size_t)done, sizeof pair_bw[0], tlb_cmp_double);
            qsort(pair_pct, (size_t)done, sizeof pair_pct[0], tlb_cmp_double);
            r->paired_bw = tlb_median_sorted(pair_bw, (size_t)done);
            r->paired_pct = tlb_median_sorted(pair_pct, (size_t)done);
            r->paired_lo = pair_pct[0];
            r->paired_hi = pair_pct[done - 1];
        }
        const char *v = kn->version ? kn->version(st) : NULL;
        snprintf(r->version, sizeof r->version, "%s%s%s", v ? v : "",
                 w.layout == TLB_LAYOUT_ROWS ? "" : v ? "; weights " : "weights ",
                 w.layout == TLB_LAYOUT_ROWS ? "" : tlb_layout_name(w.layout));
        r->scratch = kn->scratch_bytes ? kn->scratch_bytes(st) : 0;
        /* spot check: the first and the last 8 output rows of the copy used last */
        w.data = used_copy;
        struct tlb_kcheck k1, k2;
        const int64_t h = r->sh.n < 8 ? r->sh.n : 8;
        if (tlb_kcheck_rows(&w, x, r->m, y, 0, h, &k1) != 0 ||
            tlb_kcheck_rows(&w, x, r->m, y, r->sh.n - h, h, &k2) != 0) {
            rc = -1;
        } else {
            r->passed = k1.passed && k2.passed;
            r->nmse = k1.nmse > k2.nmse ? k1.nmse : k2.nmse;
        }
        if (rc == 0 && r->m == 1 && r->threads == 1) { /* after the check: it overwrites y */
            w.data = a->data;
            if (time_cached(kn, st, pool, &w, x, y, &r->cached) != 0) rc = -1;
        }
        r->copies = a->copies;
    }
    if (kn->release) kn->release(st);
    return rc;
}

/* Rows are kept until every configuration has run, so that each row's share is of the best
 * probe figure of the whole run (measured before and between them). */
struct results {
    struct result *r;
    size_t n, cap;
};

static struct result *results_add(struct results *rs) {
    if (rs->n == rs->cap) {
        const size_t cap = rs->cap ? 2 * rs->cap : 64;
        struct result *r = realloc(rs->r, cap * sizeof *r);
        if (!r) {
            tlb_error("kernels: out of memory for %zu result rows", cap);
            return NULL;
        }
        rs->r = r;
        rs->cap = cap;
    }
    struct result *r = &rs->r[rs->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Table only: per kernel, weight type and thread count, the lowest and highest decode share of
 * the probe over the shapes (the question a reader of the rows asks: how close to the memory's
 * pace is each type), in the order the rows came. */
static int emit_decode_summary(const struct results *rs, struct out *ou) {
    int header = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const struct result *a = &rs->r[i];
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = rs->r[j].kn == a->kn && rs->r[j].t == a->t && rs->r[j].threads == a->threads &&
                   rs->r[j].m == 1;
        if (a->m != 1 || seen) continue;
        double lo = 0, hi = 0, clo = 0, chi = 0, slo = 0, shi = 0, plo = 0, phi = 0;
        int n = 0, nc = 0, ns = 0, np = 0;
        for (size_t j = i; j < rs->n; j++) {
            const struct result *r = &rs->r[j];
            if (r->kn != a->kn || r->t != a->t || r->threads != a->threads || r->m != 1 ||
                r->status[0] || r->bw <= 0)
                continue;
            const double pct = pct_bw(r);
            if (n == 0 || pct < lo) lo = pct;
            if (n == 0 || pct > hi) hi = pct;
            n++;
            if (r->bw_shape > 0) {
                const double s = share_of(r, r->bw_shape);
                if (ns == 0 || s < slo) slo = s;
                if (ns == 0 || s > shi) shi = s;
                ns++;
            }
            if (r->paired_pct > 0) {
                if (np == 0 || r->paired_pct < plo) plo = r->paired_pct;
                if (np == 0 || r->paired_pct > phi) phi = r->paired_pct;
                np++;
            }
            if (r->cached > 0) {
                const double c = r->cached / r->bw;
                if (nc == 0 || c < clo) clo = c;
                if (nc == 0 || c > chi) chi = c;
                nc++;
            }
        }
        if (n == 0) continue;
        if (!header && fprintf(ou->f, "\ndecode (m = 1), share of the probe's read bandwidth, "
                                      "lowest-highest over the shapes;\nthe same share of "
                                      "the probe round just before each shape (the memory's "
                                      "level then);\nthe median share of a plain read of the "
                                      "same bytes just before each repetition, in the stream "
                                      "pattern read fastest (column %%pair);\n"
                                      "the pace from cache (column 'cached', GB/s) as a "
                                      "multiple of the probe:\n") < 0)
            return -1;
        header = 1;
        char cached[48] = "", clo_s[16], chi_s[16], own[64] = "", pair[40] = "";
        if (ns)
            snprintf(own, sizeof own, "; %.0f-%.0f %% of the probe just before", slo, shi);
        if (np) snprintf(pair, sizeof pair, "; paired %.0f-%.0f %%", plo, phi);
        if (nc)
            snprintf(cached, sizeof cached, "; cached %s-%sx", /* never rounded to 0 */
                     tlb_rep_num(clo, clo_s, sizeof clo_s), tlb_rep_num(chi, chi_s, sizeof chi_s));
        if (fprintf(ou->f, "  %-9s %-5s %d thread%s  %3.0f-%.0f %% (%d shape%s)%s%s%s\n",
                    a->kn->name, tlb_type_traits(a->t)->name, a->threads,
                    a->threads == 1 ? " " : "s", lo, hi, n, n == 1 ? "" : "s", own, pair,
                    cached) < 0)
            return -1;
    }
    return fflush(ou->f) == 0 ? 0 : -1;
}

/* Every row with the best probe figures, then a note when a row still beats the probe. */
static int emit_all(const struct limits *lim, struct results *rs, struct out *ou) {
    int over = 0;
    double worst = 0;
    if (emit_header(ou) != 0) return -1;
    for (size_t i = 0; i < rs->n; i++) {
        struct result *r = &rs->r[i];
        double w;
        r->bw = sample_best(&lim->bw[r->probe]);
        r->peak = sample_best(&lim->peak[r->probe]);
        r->bw_spread = sample_spread(&lim->bw[r->probe], &w);
        if (emit(ou, r) != 0) return -1;
        const double pct = pct_bw(r);
        if (pct > 100) over++;
        if (pct > worst) worst = pct;
    }
    if (!ou->csv && emit_decode_summary(rs, ou) != 0) return -1;
    if (over)
        tlb_warn("%d row%s streamed more than the probe's best read bandwidth (up to %.0f %%): "
                 "the probe was measured low (busy machine) or those weights were partly "
                 "cached", over, over == 1 ? "" : "s", worst);
    return 0;
}

static int run_bench(const struct opts *o, struct pools *ps, struct out *ou) {
    struct limits lim;
    struct results rs = {0};
    struct tlb_cpuload_sample load0, load1;
    const int have_load = tlb_cpuload_sample("", &load0) == 0;
    size_t llc = tlb_probe_llc_bytes(), flush;
    if (o->flush_mb >= 0) {
        flush = (size_t)o->flush_mb << 20;
    } else {
        /* a model's weights are 20-100x the last-level cache: with only twice it, a cyclic
         * read can still find part of a copy there (replacement is not strict LRU) */
        flush = 8 * llc;
        if (flush < ((size_t)256 << 20)) flush = (size_t)256 << 20;
        if (flush > ((size_t)1024 << 20)) flush = (size_t)1024 << 20;
    }
    fprintf(stderr, "tlbench: weights rotate over copies totalling >= %zu MiB (last-level cache "
                    "%zu KiB)\n", flush >> 20, llc >> 10);
    /* one arena for every shape and type */
    size_t biggest = 0;
    int m_max = 1;
    int64_t k_max = 1, n_max = 1;
    for (int s = 0; s < o->n_shapes; s++) {
        for (int t = 0; t < o->n_types; t++) {
            const size_t rb = tlb_type_row_bytes(o->types[t], o->shapes[s].k);
            if (rb * (size_t)o->shapes[s].n > biggest) biggest = rb * (size_t)o->shapes[s].n;
        }
        if (o->shapes[s].k > k_max) k_max = o->shapes[s].k;
        if (o->shapes[s].n > n_max) n_max = o->shapes[s].n;
    }
    for (int i = 0; i < o->n_ms; i++)
        if (o->ms[i] > m_max) m_max = o->ms[i];
    /* one buffer: first the bandwidth probe's, then the weight copies */
    struct arena a = {0};
    const size_t probe_bytes = o->no_probes ? 0 : (size_t)o->probe_mb << 20;
    a.size = flush + ((biggest + 4095) & ~(size_t)4095);
    if (a.size < probe_bytes) a.size = probe_bytes;
    a.data = tlb_alloc_aligned(a.size, "weight copies");
    float *x = tlb_alloc_aligned((size_t)m_max * (size_t)k_max * sizeof(float), "activations");
    float *y = tlb_alloc_aligned((size_t)m_max * (size_t)n_max * sizeof(float), "outputs");
    int rc = 0, failures = 0;
    if (!a.data || !x || !y) {
        rc = -1;
        goto done;
    }
    if (probes_start(o, ps, &lim, a.data, probe_bytes) != 0) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < (size_t)m_max * (size_t)k_max; i++) x[i] = tlb_rand_pm1(&rng_state);
    for (int ti = 0; ti < o->n_types; ti++) {
        const enum tlb_type t = o->types[ti];
        fprintf(stderr, "tlbench: kernels: %s (%d of %d weight types)\n", tlb_type_traits(t)->name,
                ti + 1, o->n_types);
        for (int si = 0; si < o->n_shapes; si++) {
            const struct shape sh = o->shapes[si];
            const int fits = tlb_type_fits(t, sh.k);
            if (probe_round(o, ps, &lim, 0) != 0 ||
                (fits && arena_fill(&a, t, sh.n, sh.k, flush) != 0)) {
                rc = -1;
                goto done;
            }
            for (int mi = 0; mi < o->n_ms; mi++) {
                const int m = o->ms[mi];
                if (m > 1 && sh.n >= 32000 && !o->shapes_given) continue;
                for (int ki = 0; ki < o->n_kernels; ki++)
                    for (int th = 0; th < o->n_threads; th++) {
                        struct result *r = results_add(&rs);
                        char why[256];
                        if (!r) {
                            rc = -1;
                            goto done;
                        }
                        r->kn = o->kernels[ki];
                        r->t = t, r->sh = sh, r->m = m, r->threads = o->threads[th];
                        r->probe = th;
                        r->bw_shape = lim.bw_last[th];
                        r->pair_turn = lim.pair_turn[th];
                        r->wbytes = tlb_type_row_bytes(t, sh.k) * (size_t)sh.n;
                        r->load = load_avg();
                        if (!fits) {
                            snprintf(r->status, sizeof r->status, "unsupported: k=%lld is not a "
                                     "multiple of %s's block size", (long long)sh.k,
                                     tlb_type_traits(t)->name);
                        } else if (tlb_kernel_usable(r->kn, t, why, sizeof why) != 0) {
                            snprintf(r->status, sizeof r->status, "unsupported: %s", why);
                        } else {
                            struct tlb_pool *pool = pool_for(ps, r->threads);
                            if (!pool || bench_one(o, pool, &a, x, y, r) != 0) {
                                snprintf(r->status, sizeof r->status,
                                         "error: %s failed (see stderr)", r->kn->name);
                                failures++;
                            } else if (!r->passed) {
                                failures++;
                            }
                        }
                    }
            }
        }
    }
    probes_report(o, &lim, ou->cpu);
    double others, steal;
    /* A neighbour busy all along lowers every sample alike, so the 3 best can agree and still
     * be low (seen: the 2-thread probe at 30 GB/s, then 54 in the next run): say so. */
    if (have_load && tlb_cpuload_sample("", &load1) == 0 &&
        tlb_cpuload_between(&load0, &load1, &others, &steal) == 0 &&
        others + steal > TLB_CPULOAD_BUSY_CPUS)
        tlb_warn("other processes used %.2f CPUs (and the hypervisor stole %.2f) on average "
                 "during this run: the probes and the rows are from a busy machine, and another "
                 "run may not agree with them within 10 %%", others, steal);
    if (emit_all(&lim, &rs, ou) != 0) goto werr;
    rc = failures ? 1 : 0;
    goto done;
werr:
    tlb_error("kernels: cannot write output: %s", strerror(errno));
    rc = -1;
done:
    free(rs.r);
    tlb_free_aligned(a.data);
    tlb_free_aligned(x);
    tlb_free_aligned(y);
    return rc;
}

int tlb_cmd_kernels(int argc, char **argv) {
    struct opts o;
    int prc = parse(argc, argv, &o);
    if (prc < 0) return TLB_EXIT_OK; /* --help */
    if (prc) return prc;
    if (o.n_kernels == 0) {
        tlb_error("kernels: no usable kernel selected");
        return TLB_EXIT_FAIL;
    }
    struct pools ps = {0};
    int rc;
    if (o.check) {
        int f = run_check(&o, &ps);
        pools_free(&ps);
        if (f < 0) return TLB_EXIT_FAIL;
        printf("%s: %d kernel/type combination%s failed\n", f ? "FAIL" : "ok", f, f == 1 ? "" : "s");
        return f ? TLB_EXIT_FAIL : TLB_EXIT_OK;
    }
    struct out ou = {stdout, o.csv, 0, "", "unknown"};
    const time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(ou.time, sizeof ou.time, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        ou.time[0] = '\0';
    struct tlb_sysinfo *si = tlb_calloc(1, sizeof *si, "system information");
    if (!si) return TLB_EXIT_FAIL;
    if (tlb_sysinfo_read("", si) == 0) snprintf(ou.cpu, sizeof ou.cpu, "%s", si->cpu_model);
    free(si);
    FILE *f = NULL;
    if (o.out) {
        f = tlb_fopen_output(o.out, o.csv ? "a" : "w");
        if (!f) return TLB_EXIT_FAIL;
        ou.f = f;
    }
    if (o.csv && f && fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0) {
        ou.no_header = 1;
        if (tlb_rep_kcsv_columns_are(o.out, csv_cols, TLB_ARRAY_LEN(csv_cols)) != 1) {
            tlb_error("kernels: '%s' already holds rows whose header is not this version's "
                      "columns (%zu, from test_time to %s): appending would put values under "
                      "other names; write to a new file", o.out, TLB_ARRAY_LEN(csv_cols),
                      csv_cols[TLB_ARRAY_LEN(csv_cols) - 1]);
            fclose(f);
            return TLB_EXIT_FAIL;
        }
    }
    char feats[256];
    tlb_cpu_features_string(feats, sizeof feats);
    const char *mask = tlb_cpu_mask_string();
    fprintf(stderr, "tlbench: kernels: cpu '%s', features: %s%s%s\n", ou.cpu, feats,
            *mask ? "; masked: " : "", mask);
    const double la = load_avg();
    const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (la >= 0 && ncpu > 0 && la > 0.5 * (double)ncpu)
        tlb_warn("load average %.1f on %ld CPUs: other processes compete for the cores and the "
                 "memory bus, so times are longer and less stable than on a quiet machine",
                 la, ncpu);
    rc = run_bench(&o, &ps, &ou);
    pools_free(&ps);
    if (f && fclose(f) != 0) {
        tlb_error("kernels: cannot write '%s': %s", o.out, strerror(errno));
        rc = -1;
    }
    return rc == 0 ? TLB_EXIT_OK : TLB_EXIT_FAIL;
}
