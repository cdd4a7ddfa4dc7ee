/* cmd-ab.c — `tlbench ab BASE NEW [-- sweep options]`: two builds of tlbench measured in one
 * job, in turns, for a CI gate that a shared or throttling machine cannot fool. A machine that
 * runs 10-35 % slow for minutes at a time moves two sweeps made minutes apart by more than the
 * regressions a gate must catch; measured turn about, BASE and NEW see the same slow periods.
 *
 * Each build runs `sweep --rounds MAX --ab-sync` (ab-sync.h): the same plan, every configuration
 * of a weight type once per round. Before each configuration both sweeps wait; ab starts both,
 * and their workers then measure one repetition at a time, in turn (BASE and NEW repetitions
 * interleaved, alternating which goes first), so that each pair of repetitions sees the same
 * machine: on the shared VM the speed flips between levels 30 % apart every few seconds, too
 * fast for whole configurations measured in turn. A configuration gets rounds until it has
 * --min-rounds clean rounds (neither side saw other processes take more than 0.25 CPUs) and
 * the 95 % intervals of its decode and prefill ratios over the pairs of repetitions are within
 * +-precision, or --max-rounds, or its share of --max-time is spent. The rows go to
 * DIR/base.csv and DIR/new.csv with one run id; `tlbench compare` pairs them the same way. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ab-sync.h"
#include "command.h"
#include "cpuload.h"
#include "progress.h"
#include "stats.h"
#include "util.h"

#define AB_MAX_ROUNDS 200
#define AB_MAX_ITEMS 20000
#define AB_MAX_CONFIGS 256
#define AB_MAX_REPS 64 /* repetition pairs of one round that count; more are measured, not used */

struct ab_opts {
    const char *dir;
    int min_rounds, max_rounds;
    double max_time_s, precision; /* precision: a fraction (0.025) */
    const char *bin[2];
    char **sweep_args;
    int n_sweep_args;
};

struct side {
    const char *name; /* "BASE", "NEW" */
    pid_t pid;
    FILE *to, *from;
    char csv[1024], log[1024];
};

struct config {
    char key[200];
    int group, rounds, done, n_dist, n_clean, has_tg;
    struct tlb_pairs tg, pp; /* pairs of repetitions of the clean rounds (BASE, NEW) */
};

struct item {
    int round, group, config;
};

static volatile sig_atomic_t ab_interrupted;
static void on_signal(int sig) {
    (void)sig;
    ab_interrupted = 1;
}

/* ---------------------------------------------------------------- children */

/* Start `bin sweep ARGS --rounds N --ab-sync 3,4 --run-id ID -o CSV` with the protocol on
 * descriptors 3 (from us) and 4 (to us), its output into the log. 0 or -1. */
static int start_side(struct side *s, const char *bin, const struct ab_opts *o, const char *run_id) {
    int to[2], from[2];
    if (pipe(to) != 0) return -1;
    if (pipe(from) != 0) {
        close(to[0]);
        close(to[1]);
        return -1;
    }
    char rounds[16];
    snprintf(rounds, sizeof rounds, "%d", o->max_rounds);
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        tlb_error("%s: cannot create: %s", s->log, strerror(errno));
        goto fail;
    }
    fflush(NULL);
    const pid_t me = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        tlb_error("fork failed: %s", strerror(errno));
        close(logfd);
        goto fail;
    }
    if (pid == 0) {
        /* ab killed (even with SIGKILL): the sweep gets SIGTERM and stops its worker and model
         * process as on Ctrl-C, instead of measuring on for nobody */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != me) _exit(127);
        /* the protocol on 3 and 4, whatever numbers the pipes got */
        int a = fcntl(to[0], F_DUPFD, 10), b = fcntl(from[1], F_DUPFD, 10);
        int devnull = open("/dev/null", O_RDONLY);
        if (a < 0 || b < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 ||
            dup2(logfd, 2) < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0)
            _exit(127);
        for (int fd = 5; fd < 64; fd++) close(fd);
        char **argv = calloc((size_t)o->n_sweep_args + 12, sizeof *argv);
        if (!argv) _exit(127);
        int k = 0;
        argv[k++] = (char *)bin;
        argv[k++] = "sweep";
        for (int i = 0; i < o->n_sweep_args; i++) argv[k++] = o->sweep_args[i];
        argv[k++] = "--rounds";
        argv[k++] = rounds;
        argv[k++] = "--ab-sync";
        argv[k++] = "3,4";
        argv[k++] = "--run-id";
        argv[k++] = (char *)run_id;
        argv[k++] = "-o";
        argv[k++] = s->csv;
        argv[k] = NULL;
        execv(bin, argv);
        fprintf(stderr, "tlbench ab: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    close(to[0]);
    close(from[1]);
    fcntl(to[1], F_SETFD, FD_CLOEXEC);
    fcntl(from[0], F_SETFD, FD_CLOEXEC);
    s->pid = pid;
    s->to = fdopen(to[1], "w");
    s->from = fdopen(from[0], "r");
    if (!s->to || !s->from) {
        tlb_error("cannot open the pipes to %s", s->name);
        return -1;
    }
    return 0;
fail:
    close(to[0]);
    close(to[1]);
    close(from[0]);
    close(from[1]);
    return -1;
}

/* Close the pipes (the sweep sees EOF) and wait for it; its exit status, -1 when killed. */
static int finish_side(struct side *s, int kill_it) {
    if (s->to) fclose(s->to);
    if (s->from) fclose(s->from);
    s->to = s->from = NULL;
    if (s->pid <= 0) return -1;
    if (kill_it) kill(s->pid, SIGTERM);
    int ws;
    while (waitpid(s->pid, &ws, 0) < 0 && errno == EINTR) {}
    s->pid = -1;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static int say(struct side *s, const char *word) {
    return fprintf(s->to, "%s\n", word) >= 0 && fflush(s->to) == 0 ? 0 : -1;
}

/* The next protocol line of a side: 0, or -1 when it ended (its log says why). */
static int hear(struct side *s, char *line, size_t n) {
    return tlb_sync_read_line(s->from, line, n);
}

/* ---------------------------------------------------------------- plan */

/* Read "plan N" and the N item lines of a side into the item and configuration tables (the
 * second side's must be the same). Returns the item count, or -1. */
static int read_plan(struct side *s, struct item *items, struct config *cfg, int *n_cfg,
                     int check_n) {
    char line[TLB_SYNC_LINE];
    long n;
    if (hear(s, line, sizeof line) != 0 || strncmp(line, "plan ", 5) != 0 ||
        tlb_parse_int(line + 5, 0, AB_MAX_ITEMS, &n) != 0) {
        tlb_error("%s sweep did not start (see %s)", s->name, s->log);
        return -1;
    }
    if (check_n >= 0 && n != check_n) {
        tlb_error("BASE and NEW plan different sweeps (%d and %ld configurations x rounds): "
                  "do both builds know the options given?", check_n, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int idx, round, group, off = 0;
        if (hear(s, line, sizeof line) != 0 ||
            sscanf(line, "item %d %d %d %n", &idx, &round, &group, &off) != 3 || idx != i ||
            off == 0 || round < 0 || round > AB_MAX_ROUNDS || group < 0) {
            tlb_error("%s sweep: bad plan line %d (see %s)", s->name, i, s->log);
            return -1;
        }
        const char *key = line + off;
        if (check_n >= 0) {
            if (items[i].round != round || items[i].group != group ||
                strcmp(cfg[items[i].config].key, key) != 0) {
                tlb_error("BASE and NEW plan different sweeps (item %d: '%s' vs '%s')", i,
                          cfg[items[i].config].key, key);
                return -1;
            }
            continue;
        }
        int c = 0;
        while (c < *n_cfg && strcmp(cfg[c].key, key) != 0) c++;
        if (c == *n_cfg) {
            if (*n_cfg >= AB_MAX_CONFIGS) {
                tlb_error("more than %d configurations: split the sweep", AB_MAX_CONFIGS);
                return -1;
            }
            memset(&cfg[c], 0, sizeof cfg[c]);
            snprintf(cfg[c].key, sizeof cfg[c].key, "%s", key);
            cfg[c].group = group;
            (*n_cfg)++;
        }
        items[i] = (struct item){round, group, c};
    }
    return (int)n;
}

/* ---------------------------------------------------------------- one turn */

struct turn {
    char status[32];
    double tg, pp, busy; /* NAN when empty */
    int n_reps;          /* timed repetitions seen (done I K, K >= 1) */
    double rep_tg[AB_MAX_REPS], rep_pp[AB_MAX_REPS];
};

static double num(const char *s) {
    double v;
    return strcmp(s, "-") && tlb_parse_double(s, &v) == 0 ? v : NAN;
}

/* A side's "row I STATUS TG PP BUSY" line into t. 0, or -1 when it is not one for item i. */
static int parse_row(const char *line, int i, struct turn *t) {
    char st[32], tg[64], pp[64], busy[64];
    int idx;
    if (sscanf(line, "row %d %31s %63s %63s %63s", &idx, st, tg, pp, busy) != 5 || idx != i)
        return -1;
    snprintf(t->status, sizeof t->status, "%s", st);
    t->tg = num(tg);
    t->pp = num(pp);
    t->busy = num(busy);
    return 0;
}

/* Both sides measure item i (round `round`), one repetition at a time in turn: their workers
 * ask "rep I K" before the warm-up (K = 0) and each timed repetition K. The side behind goes
 * first; at the same K, BASE when round + K is odd, else NEW: B-warm N-warm, N1 B1, B2 N2, ...
 * in round 1 and the mirror in round 2, so each pair of repetitions K is a second or so apart
 * and neither side is always first. A side that says "row" instead is done (a crash ends only
 * its own repetitions). Fills both rows. 0, or -1 when a side broke off. */
static int run_interleaved(struct side *sides, int i, int round, struct turn *t) {
    char pend[2][TLB_SYNC_LINE];
    int done[2] = {0, 0}, k[2] = {0, 0};
    t[0].n_reps = t[1].n_reps = 0;
    for (int s = 0; s < 2; s++)
        if (say(&sides[s], "run") != 0) goto broke;
    for (int s = 0; s < 2; s++)
        if (hear(&sides[s], pend[s], sizeof pend[s]) != 0) goto broke;
    for (;;) {
        for (int s = 0; s < 2; s++) {
            if (done[s]) continue;
            int idx;
            if (sscanf(pend[s], "rep %d %d", &idx, &k[s]) == 2 && idx == i) continue;
            if (parse_row(pend[s], i, &t[s]) != 0) {
                tlb_error("%s sweep said '%.60s' during item %d (see %s)", sides[s].name,
                          pend[s], i, sides[s].log);
                return -1;
            }
            done[s] = 1;
        }
        if (done[0] && done[1]) return 0;
        int s = done[0] ? 1 : done[1] ? 0 : k[0] != k[1] ? (k[1] < k[0]) : (round + k[0]) % 2 == 0;
        char line[TLB_SYNC_LINE], pp[64], tg[64];
        int di, dk;
        if (say(&sides[s], "go") != 0 || hear(&sides[s], line, sizeof line) != 0 ||
            sscanf(line, "done %d %d %63s %63s", &di, &dk, pp, tg) != 4 || di != i ||
            dk != k[s] || hear(&sides[s], pend[s], sizeof pend[s]) != 0)
            goto broke;
        /* the K-th timed repetition of each side, in order (a pair when both have it) */
        if (dk >= 1 && dk == t[s].n_reps + 1 && t[s].n_reps < AB_MAX_REPS) {
            t[s].rep_pp[t[s].n_reps] = num(pp);
            t[s].rep_tg[t[s].n_reps] = num(tg);
            t[s].n_reps++;
        }
    }
broke:
    tlb_error("a sweep stopped during item %d (see %s and %s)", i, sides[0].log, sides[1].log);
    return -1;
}

/* Half-width of the 95 % interval of the paired ratio, as a fraction; INFINITY when there is
 * none yet. */
static double half_width(const double *b, const double *n, size_t k) {
    struct tlb_paired p;
    if (k == 0 || tlb_stat_paired_ratio(b, n, k, 0.95, &p) != 0 || isnan(p.lo)) return INFINITY;
    return fmax(log(p.hi / p.ratio), log(p.ratio / p.lo));
}

static int ok_pair(double b, double n) {
    return isfinite(b) && isfinite(n) && b > 0 && n > 0;
}

/* Append a pair of pp and a pair of tg values (BASE, NEW); 0 or -1 (out of memory). */
static int add_pair(struct config *c, double pp_b, double pp_n, double tg_b, double tg_n) {
    return tlb_pairs_add(&c->pp, pp_b, pp_n) == 0 && tlb_pairs_add(&c->tg, tg_b, tg_n) == 0 ? 0 : -1;
}

/* A round of configuration c measured: its pairs count when neither side was disturbed. The
 * pairs are those compare makes: each repetition with the other side's same repetition when
 * both have as many, else the two rows' medians. 0, or -1 when out of memory. */
static int record(struct config *c, const struct turn *t, const struct ab_opts *o) {
    c->rounds++;
    int clean = ok_pair(t[0].pp, t[1].pp) && !strcmp(t[0].status, "ok") &&
                !strcmp(t[1].status, "ok") && !(t[0].busy > TLB_CPULOAD_BUSY_CPUS) &&
                !(t[1].busy > TLB_CPULOAD_BUSY_CPUS);
    if (!clean) {
        c->n_dist++;
    } else {
        c->n_clean++;
        c->has_tg = ok_pair(t[0].tg, t[1].tg);
        int by_rep = t[0].n_reps > 0 && t[0].n_reps == t[1].n_reps;
        for (int q = 0; by_rep && q < t[0].n_reps; q++)
            if (!ok_pair(t[0].rep_pp[q], t[1].rep_pp[q]) ||
                (c->has_tg && !ok_pair(t[0].rep_tg[q], t[1].rep_tg[q])))
                by_rep = 0;
        int rc = 0;
        if (!by_rep)
            rc = add_pair(c, t[0].pp, t[1].pp, c->has_tg ? t[0].tg : 1, c->has_tg ? t[1].tg : 1);
        for (int q = 0; by_rep && q < t[0].n_reps && rc == 0; q++)
            rc = add_pair(c, t[0].rep_pp[q], t[1].rep_pp[q], c->has_tg ? t[0].rep_tg[q] : 1,
                          c->has_tg ? t[1].rep_tg[q] : 1);
        if (rc != 0) {
            tlb_error("out of memory");
            return -1;
        }
    }
    const size_t n = c->pp.n < c->tg.n ? c->pp.n : c->tg.n; /* equal unless add_pair failed */
    double hw_tg = c->has_tg ? half_width(c->tg.base, c->tg.cand, n) : 0;
    double hw_pp = half_width(c->pp.base, c->pp.cand, n);
    if ((c->n_clean >= o->min_rounds && hw_tg <= o->precision && hw_pp <= o->precision) ||
        c->rounds >= o->max_rounds)
        c->done = 1;
    struct tlb_paired ptg = {0}, ppp = {0};
    int have = n > 0 && tlb_stat_paired_ratio(c->tg.base, c->tg.cand, n, 0.95, &ptg) == 0 &&
               tlb_stat_paired_ratio(c->pp.base, c->pp.cand, n, 0.95, &ppp) == 0;
    fprintf(stderr, "tlbench ab: round %d %s: %d clean round(s), %zu pair(s)%s", c->rounds,
            c->key, c->n_clean, c->pp.n, clean ? "" : " (this round disturbed: left out)");
    if (have)
        fprintf(stderr, "; NEW/BASE decode %.3f (+-%.1f%%), prefill %.3f (+-%.1f%%)", ptg.ratio,
                isfinite(hw_tg) ? 100 * hw_tg : 999.9, ppp.ratio, isfinite(hw_pp) ? 100 * hw_pp : 999.9);
    fprintf(stderr, "%s\n", c->done ? " - done" : "");
    return 0;
}

/* ---------------------------------------------------------------- options */

static void usage(FILE *f) {
    fprintf(f,
        "usage: tlbench ab [options] BASE_TLBENCH NEW_TLBENCH [-- SWEEP OPTIONS]\n"
        "\n"
        "Measures two builds of tlbench in one job, in turns, for a CI gate that a shared or\n"
        "throttling machine cannot fool (docs/ci.md). Both binaries run 'sweep SWEEP OPTIONS'\n"
        "(e.g. --quant q8_0,q4_0 --kernel avx512 -t 4 -p 64 -n 16 -r 3) in rounds. In each\n"
        "round both measure each configuration together, one repetition at a time in turn\n"
        "(warm-ups, then repetition 1 of each, repetition 2 of each, ...; which goes first\n"
        "alternates), so that each pair of repetitions sees the same machine. Rows go to\n"
        "DIR/base.csv and DIR/new.csv with one run id and their round; then\n"
        "  tlbench compare DIR/base.csv DIR/new.csv\n"
        "compares them pair by pair. A configuration gets rounds until it has --min-rounds\n"
        "clean rounds (in which neither side saw other processes or the hypervisor take\n"
        "more than %g CPUs) and the 95%% intervals of its decode and prefill ratios NEW/BASE\n"
        "are within +-precision; or --max-rounds rounds; or its share of --max-time (split\n"
        "evenly over the weight types) is spent. The sweeps' progress goes to DIR/base.log and\n"
        "DIR/new.log. Both binaries must be tlbench builds that know sweep --ab-sync.\n"
        "\n"
        "options:\n"
        "  -o, --output DIR      where the CSVs and logs go (default ab-out; created)\n"
        "      --min-rounds N    clean rounds a configuration needs at least (default 3;\n"
        "                        and 6 clean pairs of repetitions for an interval)\n"
        "      --max-rounds N    rounds at most (default 20)\n"
        "      --max-time SEC    time budget of the measurements (default 540)\n"
        "      --precision PCT   target half-width of the 95%% ratio intervals (default 2.5,\n"
        "                        half of compare's default 5%% threshold)\n"
        "  -h, --help            this text\n"
        "\n"
        "exit status: 0 both sweeps ran every configuration; 1 a sweep failed or a\n"
        "configuration crashed, timed out or ran out of memory (compare says which); 2 usage\n"
        "error.\n",
        TLB_CPULOAD_BUSY_CPUS);
}

static int parse(int argc, char **argv, struct ab_opts *o) {
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},  {"min-rounds", required_argument, 0, 1},
        {"max-rounds", required_argument, 0, 2}, {"max-time", required_argument, 0, 3},
        {"precision", required_argument, 0, 4}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->dir = "ab-out";
    o->min_rounds = 3; /* x the repetitions: 9 pairs at -r 3, from three workers */
    o->max_rounds = 20;
    o->max_time_s = 540;
    o->precision = 0.025;
    optind = 0;
    int c;
    long v;
    double d;
    /* '+': stop at the first non-option (BASE), so "--" and the sweep's options stay ours */
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o->dir = optarg; break;
        case 1:
        case 2:
            if (tlb_parse_int(optarg, 1, AB_MAX_ROUNDS, &v) != 0) {
                tlb_error("--%s: '%s' is not an integer in [1, %d]", opts[c].name, optarg,
                          AB_MAX_ROUNDS);
                return -1;
            }
            if (c == 1) o->min_rounds = (int)v;
            else o->max_rounds = (int)v;
            break;
        case 3:
            if (tlb_parse_double(optarg, &d) != 0 || d < 1 || d > 7 * 86400) {
                tlb_error("--max-time: '%s' is not seconds in [1, 604800]", optarg);
                return -1;
            }
            o->max_time_s = d;
            break;
        case 4:
            if (tlb_parse_double(optarg, &d) != 0 || d <= 0 || d > 100) {
                tlb_error("--precision: '%s' is not a percentage in (0, 100]", optarg);
                return -1;
            }
            o->precision = d / 100;
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (argc - optind < 2) {
        tlb_error("ab needs two tlbench binaries, BASE and NEW (see --help)");
        return -1;
    }
    o->bin[0] = argv[optind];
    o->bin[1] = argv[optind + 1];
    int rest = optind + 2;
    if (rest < argc && strcmp(argv[rest], "--") == 0) rest++;
    else if (rest < argc) {
        tlb_error("ab: unexpected '%s': sweep options go after '--'", argv[rest]);
        return -1;
    }
    o->sweep_args = argv + rest;
    o->n_sweep_args = argc - rest;
    for (int i = 0; i < o->n_sweep_args; i++) {
        static const char *const ours[] = {"-o", "--output", "--rounds", "--ab-sync", "--run-id",
                                           "--resume", "--dry-run"};
        for (size_t k = 0; k < TLB_ARRAY_LEN(ours); k++)
            if (!strcmp(o->sweep_args[i], ours[k]) ||
                (!strncmp(o->sweep_args[i], ours[k], strlen(ours[k])) &&
                 o->sweep_args[i][strlen(ours[k])] == '=' && ours[k][1] == '-')) {
                tlb_error("ab: %s is set by ab itself, not a sweep option here", ours[k]);
                return -1;
            }
    }
    if (o->min_rounds > o->max_rounds) {
        tlb_error("--min-rounds %d is more than --max-rounds %d", o->min_rounds, o->max_rounds);
        return -1;
    }
    for (int s = 0; s < 2; s++)
        if (access(o->bin[s], X_OK) != 0) {
            tlb_error("%s: not an executable: %s", o->bin[s], strerror(errno));
            return -1;
        }
    return 0;
}

/* ---------------------------------------------------------------- main */

int tlb_cmd_ab(int argc, char **argv) {
    struct ab_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc > 0 ? TLB_EXIT_OK : TLB_EXIT_USAGE;
    if (mkdir(o.dir, 0777) != 0 && errno != EEXIST) {
        tlb_error("%s: cannot create: %s", o.dir, strerror(errno));
        return TLB_EXIT_FAIL;
    }
    struct side sides[2] = {{.name = "BASE", .pid = -1}, {.name = "NEW", .pid = -1}};
    for (int s = 0; s < 2; s++) {
        snprintf(sides[s].csv, sizeof sides[s].csv, "%s/%s.csv", o.dir, s ? "new" : "base");
        snprintf(sides[s].log, sizeof sides[s].log, "%s/%s.log", o.dir, s ? "new" : "base");
        if (unlink(sides[s].csv) != 0 && errno != ENOENT) {
            tlb_error("%s: cannot replace: %s", sides[s].csv, strerror(errno));
            return TLB_EXIT_FAIL;
        }
    }
    char run_id[64], ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(run_id, sizeof run_id, "ab-%s-%x", ts, (unsigned)getpid());

    struct item *items = tlb_calloc(AB_MAX_ITEMS, sizeof *items, "ab plan");
    struct config *cfg = tlb_calloc(AB_MAX_CONFIGS, sizeof *cfg, "ab configurations");
    struct sigaction sa, old_int, old_term, old_pipe, ign;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGPIPE, &ign, &old_pipe);
    ab_interrupted = 0;
    int n_cfg = 0, n_items = -1, failed = 1, n_groups = 0;
    int64_t t0 = tlb_now_ns();
    if (!items || !cfg) goto out;
    /* BASE first, up to its first turn (an accuracy reference is computed before it), then
     * NEW: the two sweeps' start-up never overlaps */
    fprintf(stderr, "tlbench ab: run %s: BASE %s, NEW %s; rows in %s, progress in %s\n", run_id,
            o.bin[0], o.bin[1], o.dir, sides[0].log);
    if (start_side(&sides[0], o.bin[0], &o, run_id) != 0 ||
        (n_items = read_plan(&sides[0], items, cfg, &n_cfg, -1)) < 0)
        goto out;
    int have_ready[2] = {0, 0};
    char ready[2][TLB_SYNC_LINE];
    /* EOF instead: BASE had nothing to measure (every configuration unsupported...) */
    have_ready[0] = hear(&sides[0], ready[0], sizeof ready[0]) == 0;
    if (start_side(&sides[1], o.bin[1], &o, run_id) != 0 ||
        read_plan(&sides[1], items, cfg, &n_cfg, n_items) < 0)
        goto out;
    if (!have_ready[0]) goto ended;
    for (int i = 0; i < n_items; i++) n_groups = TLB_MAX(n_groups, items[i].group + 1);
    int64_t deadline = t0 + (int64_t)(o.max_time_s * 1e9), group_deadline = deadline;
    int cur_group = -1;
    for (;;) {
        if (ab_interrupted) {
            tlb_error("interrupted");
            goto out;
        }
        for (int s = 0; s < 2; s++) {
            if (have_ready[s]) continue;
            if (hear(&sides[s], ready[s], sizeof ready[s]) != 0) goto ended;
            have_ready[s] = 1;
        }
        have_ready[0] = have_ready[1] = 0;
        long i0, i1;
        if (strncmp(ready[0], "ready ", 6) || strncmp(ready[1], "ready ", 6) ||
            tlb_parse_int(ready[0] + 6, 0, n_items - 1, &i0) ||
            tlb_parse_int(ready[1] + 6, 0, n_items - 1, &i1) || i0 != i1) {
            tlb_error("BASE and NEW sweeps are out of step ('%.40s' vs '%.40s')", ready[0],
                      ready[1]);
            goto out;
        }
        const struct item *it = &items[i0];
        struct config *c = &cfg[it->config];
        int64_t t = tlb_now_ns();
        if (it->group != cur_group) { /* the rest of the budget, shared by the groups left */
            cur_group = it->group;
            group_deadline = t + (deadline - t) / TLB_MAX(1, n_groups - cur_group);
        }
        if (c->done || t >= group_deadline) {
            if (!c->done && t >= group_deadline) {
                c->done = 1;
                fprintf(stderr, "tlbench ab: %s: time budget spent after %d round(s)\n", c->key,
                        c->rounds);
            }
            if (say(&sides[0], "skip") != 0 || say(&sides[1], "skip") != 0) goto ended;
            continue;
        }
        struct turn tr[2];
        if (run_interleaved(sides, (int)i0, it->round, tr) != 0 || record(c, tr, &o) != 0)
            goto out;
    }
ended:
    /* both sweeps end after their last item: EOF on both, at the same point of the plan */
    {
        int st[2];
        for (int s = 0; s < 2; s++) st[s] = finish_side(&sides[s], 0);
        char dur[32];
        tlb_format_duration((double)(tlb_now_ns() - t0) / 1e9, dur, sizeof dur);
        size_t pairs = 0, dist = 0, clean = 0;
        int under = 0;
        for (int k = 0; k < n_cfg; k++) {
            pairs += cfg[k].pp.n;
            clean += (size_t)cfg[k].n_clean;
            dist += (size_t)cfg[k].n_dist;
            under += cfg[k].rounds > 0 && cfg[k].n_clean < o.min_rounds; /* unsupported ones never ran */
        }
        printf("tlbench ab: %d configuration(s), %zu clean round(s) (%zu pairs of repetitions), "
               "%zu disturbed round(s) left out, in %s\n", n_cfg, clean, pairs, dist, dur);
        if (under)
            printf("tlbench ab: %d configuration(s) got fewer than %d clean rounds: their "
                   "intervals may be too wide to decide (a busy machine; see the logs)\n", under,
                   o.min_rounds);
        printf("base: %s\nnew: %s\nnext: tlbench compare %s %s\n", sides[0].csv, sides[1].csv,
               sides[0].csv, sides[1].csv);
        if (st[0] != 0 || st[1] != 0)
            tlb_error("sweep exit status: BASE %d, NEW %d (see %s, %s)", st[0], st[1],
                      sides[0].log, sides[1].log);
        failed = st[0] != 0 || st[1] != 0;
    }
out:
    for (int s = 0; s < 2; s++)
        if (sides[s].pid > 0) finish_side(&sides[s], 1);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    free(items);
    for (int k = 0; cfg && k < n_cfg; k++) {
        tlb_pairs_free(&cfg[k].pp);
        tlb_pairs_free(&cfg[k].tg);
    }
    free(cfg);
    return failed ? TLB_EXIT_FAIL : TLB_EXIT_OK;
}
