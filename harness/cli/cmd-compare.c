/* cmd-compare.c — `tlbench compare BASE.csv NEW.csv`: matches configurations of two results
 * files and gives each metric a verdict (regression / improvement / no change /
 * inconclusive). A regression must exceed the threshold AND be significant on the
 * per-repetition samples (Mann-Whitney U, or a bootstrap CI of the ratio of medians that
 * lies beyond the threshold). Exit 0 no regression, 1 regression, 2 usage/input error. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "memory-model.h"
#include "out-table.h"
#include "results-csv.h"
#include "stats.h"
#include "util.h"

enum verdict { V_NO_CHANGE, V_IMPROVEMENT, V_REGRESSION, V_INCONCLUSIVE, V_COUNT };
static const char *const verdict_names[V_COUNT] = {"no change", "improvement", "regression",
                                                   "inconclusive"};

struct metric {
    const char *name;    /* for --metric and --threshold-NAME */
    int higher_better;
    const char *samples; /* per-repetition column, or NULL */
    const char *mean, *sd;
    const char *single;  /* the value column without samples/mean */
    double abs_floor;    /* changes smaller than this (absolute) are no change */
};

static const struct metric metrics[] = {
    {"tg_ts", 1, "tg_samples_ts", "tg_ts_mean", "tg_ts_stddev", "tg_ts_median", 0},
    {"pp_ts", 1, "pp_samples_ts", "pp_ts_mean", "pp_ts_stddev", "pp_ts_median", 0},
    {"ttft_ms", 0, NULL, NULL, NULL, "ttft_ms", 0},
    {"peak_rss_bytes", 0, NULL, NULL, NULL, "peak_rss_bytes", 0},
    {"j_per_token", 0, NULL, NULL, NULL, "j_per_token", 0},
    /* near the reference KLD is ~0: relative changes of tiny values mean nothing */
    {"kld_mean", 0, NULL, NULL, NULL, "kld_mean", 1e-4},
};
#define N_METRICS ((int)(sizeof metrics / sizeof metrics[0]))

/* key_cols[0] stands for the board column of the run (opts.board_col). */
static const char *const key_cols[] = {"board",   "model_name", "kernel", "weight_type",
                                       "kv_type", "n_threads",  "n_prompt", "n_gen",
                                       "n_depth"};
#define N_KEYS ((int)(sizeof key_cols / sizeof key_cols[0]))

struct opts {
    double threshold[N_METRICS]; /* fractions */
    int use[N_METRICS];
    double alpha;
    int cross;
    enum tlb_ofmt fmt;
    const char *output;
    uint64_t seed;
    int resamples;
    const char *board_col; /* "board_label" when both files label every row, else "board" */
};

static const char *key_col(const struct opts *op, int i) {
    return i == 0 ? op->board_col : key_cols[i];
}

/* ---------------------------------------------------------------- keys */

struct keyed {
    char *key;
    size_t row;
};

static int cmp_keyed(const void *a, const void *b) {
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return (x->row > y->row) - (x->row < y->row);
}

/* Sorted keys of a table; duplicates dropped keeping the last row (with a warning). */
static struct keyed *build_keys(const struct tlb_table *t, const struct opts *op,
                                const int *skip, size_t *n_out) {
    struct keyed *k = tlb_calloc(t->n_rows ? t->n_rows : 1, sizeof *k, "compare keys");
    if (!k) return NULL;
    for (size_t r = 0; r < t->n_rows; r++) {
        size_t len = 1;
        for (int i = 0; i < N_KEYS; i++)
            if (!skip[i]) len += strlen(tlb_table_str(t, r, tlb_table_col(t, key_col(op, i)))) + 1;
        char *s = tlb_malloc(len, "compare key");
        if (!s) {
            for (size_t j = 0; j < r; j++) free(k[j].key);
            free(k);
            return NULL;
        }
        s[0] = '\0';
        for (int i = 0; i < N_KEYS; i++) {
            if (skip[i]) continue;
            strcat(s, tlb_table_str(t, r, tlb_table_col(t, key_col(op, i))));
            strcat(s, "\x1f");
        }
        k[r] = (struct keyed){s, r};
    }
    qsort(k, t->n_rows, sizeof *k, cmp_keyed);
    size_t n = 0, dups = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (r + 1 < t->n_rows && strcmp(k[r].key, k[r + 1].key) == 0) {
            free(k[r].key); /* a later row of the same configuration wins */
            dups++;
            continue;
        }
        k[n++] = k[r];
    }
    if (dups)
        tlb_warn("%s: %zu rows repeat an earlier configuration; using the last of each",
                 t->path, dups);
    *n_out = n;
    return k;
}

static void free_keys(struct keyed *k, size_t n) {
    if (!k) return;
    for (size_t i = 0; i < n; i++) free(k[i].key);
    free(k);
}

/* Does any value of column col appear in both tables? (sorted + binary search) */
static int share_value(const struct tlb_table *a, const struct tlb_table *b, const char *col) {
    int ca = tlb_table_col(a, col), cb = tlb_table_col(b, col);
    const char **v = tlb_calloc(a->n_rows ? a->n_rows : 1, sizeof *v, "compare");
    if (!v) return 0;
    for (size_t i = 0; i < a->n_rows; i++) v[i] = tlb_table_str(a, i, ca);
    qsort(v, a->n_rows, sizeof *v, tlb_cmp_strp);
    int shared = 0;
    for (size_t j = 0; j < b->n_rows && !shared; j++) {
        const char *key = tlb_table_str(b, j, cb);
        shared = bsearch(&key, v, a->n_rows, sizeof *v, tlb_cmp_strp) != NULL;
    }
    free(v);
    return shared;
}

static const char *first_value(const struct tlb_table *t, const char *col) {
    return t->n_rows ? tlb_table_str(t, 0, tlb_table_col(t, col)) : "";
}

/* Does every row carry a board label? (files before tlbench-csv-3 have none) */
static int all_labelled(const struct tlb_table *t) {
    int c = tlb_table_col(t, "board_label");
    if (c < 0) return 0;
    for (size_t r = 0; r < t->n_rows; r++)
        if (!*tlb_table_str(t, r, c)) return 0;
    return 1;
}

/* ---------------------------------------------------------------- one metric */

enum method { M_SAMPLES, M_MEANSD, M_SINGLE };
static const char *const method_names[] = {"samples", "mean+-sd", "single"};

struct result {
    enum verdict v;
    enum method method;
    double base, cand, ratio;
    double p, ci_lo, ci_hi; /* NAN when not computed */
    size_t nb, nc;
    char note[160];
};

struct side {
    double *s;
    size_t n;
    int have_mean, have_sd, have_single;
    double mean, sd, single;
};

static int load_side(const struct tlb_table *t, size_t row, const struct metric *m,
                     struct side *o) {
    memset(o, 0, sizeof *o);
    if (m->samples && tlb_table_samples(t, row, tlb_table_col(t, m->samples), &o->s, &o->n) < 0)
        return -1;
    if (m->mean) o->have_mean = tlb_table_double(t, row, tlb_table_col(t, m->mean), &o->mean);
    if (m->sd) o->have_sd = tlb_table_double(t, row, tlb_table_col(t, m->sd), &o->sd);
    o->have_single = tlb_table_double(t, row, tlb_table_col(t, m->single), &o->single);
    return 0;
}

/* Returns 1 when compared, 0 when the metric is missing on a side, -1 on error. */
static int compare_metric(const struct opts *op, int mi, const struct side *b,
                          const struct side *c, struct result *r) {
    const struct metric *m = &metrics[mi];
    double thr = op->threshold[mi];
    memset(r, 0, sizeof *r);
    r->p = r->ci_lo = r->ci_hi = NAN;
    double sd_b = NAN, sd_c = NAN;
    if (b->n >= 2 && c->n >= 2) {
        r->method = M_SAMPLES;
        r->base = tlb_stat_median(b->s, b->n);
        r->cand = tlb_stat_median(c->s, c->n);
        r->nb = b->n;
        r->nc = c->n;
    } else if (b->have_mean && c->have_mean && b->have_sd && c->have_sd) {
        r->method = M_MEANSD;
        r->base = b->mean;
        r->cand = c->mean;
        sd_b = b->sd;
        sd_c = c->sd;
    } else if (b->have_single && c->have_single) {
        r->method = M_SINGLE;
        r->base = b->single;
        r->cand = c->single;
    } else if (b->have_mean && c->have_mean) {
        r->method = M_SINGLE;
        r->base = b->mean;
        r->cand = c->mean;
    } else {
        return 0;
    }
    if (isnan(r->base) || isnan(r->cand)) return -1;
    double diff = r->cand - r->base;
    if (r->base != 0) r->ratio = r->cand / r->base;
    else r->ratio = r->cand == 0 ? 1.0 : (r->cand > 0 ? INFINITY : -INFINITY);
    const char *capped = "";
    char cap_note[80] = "";
    if (r->method == M_SAMPLES) {
        struct tlb_mwu u;
        if (tlb_stat_mann_whitney(b->s, b->n, c->s, c->n, &u) != 0) return -1;
        r->p = u.p;
        /* the bootstrap costs resamples x n log n: cap n, on evenly spaced order statistics */
        size_t nb = TLB_MIN(b->n, (size_t)TLB_BOOT_MAX_SAMPLES);
        size_t nc = TLB_MIN(c->n, (size_t)TLB_BOOT_MAX_SAMPLES);
        double *sb = nb < b->n ? tlb_stat_subsample(b->s, b->n, nb) : NULL;
        double *sc = nc < c->n ? tlb_stat_subsample(c->s, c->n, nc) : NULL;
        if ((nb < b->n && !sb) || (nc < c->n && !sc)) {
            free(sb);
            free(sc);
            return -1;
        }
        if (nb < b->n || nc < c->n) {
            snprintf(cap_note, sizeof cap_note, "bootstrap on %d of %zu samples",
                     TLB_BOOT_MAX_SAMPLES, TLB_MAX(b->n, c->n));
            capped = cap_note;
        }
        if (r->base != 0 &&
            tlb_stat_bootstrap_ratio(sb ? sb : b->s, nb, sc ? sc : c->s, nc, op->resamples,
                                     0.95, op->seed, &r->ci_lo, &r->ci_hi) != 0)
            r->ci_lo = r->ci_hi = NAN;
        free(sb);
        free(sc);
    }
    int beyond = fabs(diff) > m->abs_floor && fabs(r->ratio - 1) > thr;
    if (!beyond) {
        r->v = V_NO_CHANGE;
        if (r->method == M_SAMPLES && !isnan(r->ci_lo) &&
            (r->ci_lo < 1 - thr || r->ci_hi > 1 + thr))
            snprintf(r->note, sizeof r->note, "noisy: the CI reaches past the threshold");
        else snprintf(r->note, sizeof r->note, "%s", capped);
        return 1;
    }
    int significant;
    switch (r->method) {
    case M_SAMPLES:
        significant = r->p < op->alpha || (!isnan(r->ci_lo) && (r->ci_lo > 1 + thr ||
                                                                 r->ci_hi < 1 - thr));
        if (b->n < 5 || c->n < 5)
            snprintf(r->note, sizeof r->note, "few repetitions (%zu/%zu): the U test is weak",
                     b->n, c->n);
        break;
    case M_MEANSD:
        /* Without samples: significant only when mean +- sd intervals do not overlap. */
        significant = fabs(diff) > sd_b + sd_c;
        snprintf(r->note, sizeof r->note, "no samples: decided on mean +- stddev (%.3g, %.3g)",
                 sd_b, sd_c);
        break;
    default:
        significant = 1;
        snprintf(r->note, sizeof r->note, "no spread measured: threshold only");
        break;
    }
    int worse = m->higher_better ? diff < 0 : diff > 0;
    r->v = !significant ? V_INCONCLUSIVE : worse ? V_REGRESSION : V_IMPROVEMENT;
    if (r->method == M_SAMPLES && r->v == V_INCONCLUSIVE)
        snprintf(r->note, sizeof r->note, "change not significant (p=%.2g, CI %.3f..%.3f)",
                 r->p, r->ci_lo, r->ci_hi);
    if (*capped) { /* say it, after whatever else the note says */
        size_t l = strlen(r->note);
        snprintf(r->note + l, sizeof r->note - l, "%s%s", l ? "; " : "", capped);
    }
    return 1;
}

/* ---------------------------------------------------------------- output */

static const char *const table_headers[] = {"config", "metric", "base", "new", "ratio",
                                            "change", "p", "ci95", "verdict", "note"};
static const char *const csv_headers[] = {
    "board", "model_name", "kernel", "weight_type", "kv_type", "n_threads", "n_prompt",
    "n_gen", "n_depth", "metric", "base", "new", "ratio", "change_pct", "p_value", "ci_lo",
    "ci_hi", "method", "verdict", "note"};

static void fmt_value(const char *metric, double v, int full, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "%s", "");
    } else if (full) {
        if (tlb_format_double(v, buf, n) != 0) snprintf(buf, n, "%s", v > 0 ? "inf" : "-inf");
    } else if (!strcmp(metric, "peak_rss_bytes")) {
        tlb_format_size(v > 0 ? (uint64_t)v : 0, buf, n);
    } else if (!strcmp(metric, "kld_mean") || !strcmp(metric, "j_per_token") ||
               fabs(v) >= 1e9) {
        snprintf(buf, n, "%.4g", v); /* never a cut-off string of digits */
    } else {
        snprintf(buf, n, "%.2f", v);
    }
}

static void config_label(const struct tlb_table *t, size_t row, const char *board_col,
                         int show_board, int show_model, char *buf, size_t n) {
#define C(name) tlb_table_str(t, row, tlb_table_col(t, name))
    snprintf(buf, n, "%s%s%s%s%s/%s %s t%s pp%s+tg%s@d%s", show_board ? C(board_col) : "",
             show_board ? " " : "", show_model ? C("model_name") : "", show_model ? " " : "",
             C("weight_type"), C("kv_type"), C("kernel"), C("n_threads"), C("n_prompt"),
             C("n_gen"), C("n_depth"));
}

/* Add one output row (table or CSV layout). */
static int emit(struct tlb_otable *ot, const struct opts *op, const struct tlb_table *t,
                size_t row, const char *label, const char *metric, const struct result *r,
                const char *verdict, const char *note) {
    int csv = op->fmt == TLB_OFMT_CSV;
    char base[48] = "", cand[48] = "", ratio[48] = "", change[48] = "", p[48] = "",
         ci[96] = "", lo[48] = "", hi[48] = "";
    if (r) {
        fmt_value(metric, r->base, csv, base, sizeof base);
        fmt_value(metric, r->cand, csv, cand, sizeof cand);
        if (isfinite(r->ratio)) {
            if (csv) {
                tlb_format_double(r->ratio, ratio, sizeof ratio);
                tlb_format_double(100 * (r->ratio - 1), change, sizeof change);
            } else {
                snprintf(ratio, sizeof ratio, "%.3f", r->ratio);
                snprintf(change, sizeof change, "%+.1f%%", 100 * (r->ratio - 1));
            }
        }
        if (!isnan(r->p)) {
            if (csv) tlb_format_double(r->p, p, sizeof p);
            else snprintf(p, sizeof p, "%.2g", r->p);
        }
        if (!isnan(r->ci_lo)) {
            tlb_format_double(r->ci_lo, lo, sizeof lo);
            tlb_format_double(r->ci_hi, hi, sizeof hi);
            snprintf(ci, sizeof ci, "%.3f..%.3f", r->ci_lo, r->ci_hi);
        }
    }
    if (!csv) {
        const char *cells[] = {label, metric, base, cand, ratio, change, p, ci, verdict, note};
        return tlb_otable_add(ot, cells);
    }
    const char *cells[20];
    for (int i = 0; i < N_KEYS; i++)
        cells[i] = tlb_table_str(t, row, tlb_table_col(t, key_col(op, i)));
    const char *rest[] = {metric, base, cand, ratio, change, p, lo, hi,
                          r && strcmp(metric, "status") ? method_names[r->method] : "", verdict,
                          note};
    for (int i = 0; i < 11; i++) cells[N_KEYS + i] = rest[i];
    return tlb_otable_add(ot, cells);
}

/* ---------------------------------------------------------------- status */

static int failed_status(const char *s) {
    return !strcmp(s, "crashed") || !strcmp(s, "timeout") || !strcmp(s, "oom") ||
           !strcmp(s, "error");
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f) {
    fprintf(f,
        "usage: tlbench compare BASE.csv NEW.csv [options]\n"
        "\n"
        "Compares two results files configuration by configuration and says, per metric,\n"
        "whether NEW is a regression, an improvement, no change, or inconclusive.\n"
        "Rows match on board, model_name, kernel, weight_type, kv_type, n_threads, n_prompt,\n"
        "n_gen and n_depth; rows present in only one file are listed. The board is the\n"
        "board_label (sweep --board-label) when both files label every row, else the\n"
        "detected board name.\n"
        "\n"
        "A metric is a regression only when its change exceeds the threshold AND is\n"
        "significant on the per-repetition samples: Mann-Whitney U two-sided p < alpha, or\n"
        "the 95%% bootstrap CI of median(NEW)/median(BASE) lies wholly beyond 1 +- threshold.\n"
        "Beyond the threshold but not significant = inconclusive (does not fail).\n"
        "Without samples: mean +- stddev intervals that do not overlap count as significant;\n"
        "with a single value (ttft_ms, memory, energy, KLD), the threshold alone decides.\n"
        "A configuration that was ok in BASE and crashed/timed out/ran out of memory/failed\n"
        "in NEW is a regression.\n"
        "\n"
        "options:\n"
        "  -t, --threshold PCT       change that matters, in percent (default 5; '5%%' also ok)\n"
        "      --threshold-METRIC PCT  per-metric threshold, e.g. --threshold-tg_ts 3%%\n"
        "  -m, --metric LIST         comma-separated metrics (default all): tg_ts (decode t/s,\n"
        "                            higher is better), pp_ts (prefill t/s, higher), ttft_ms,\n"
        "                            peak_rss_bytes, j_per_token, kld_mean (lower is better;\n"
        "                            KLD changes under 1e-4 nats are no change)\n"
        "  -a, --alpha P             significance level of the U test (default 0.05)\n"
        "  -f, --format FMT          table (default), md (Markdown for pull requests), csv\n"
        "  -o, --output FILE         write the report to FILE instead of stdout\n"
        "      --cross               allow files from different boards (board is then left\n"
        "                            out of the match) or models (model too, if none shared)\n"
        "      --seed N              bootstrap seed (default 1; results are reproducible)\n"
        "      --resamples N         bootstrap resamples (default 10000)\n"
        "  -h, --help                this text\n"
        "\n"
        "exit status: 0 no regression, 1 at least one regression, 2 usage or input error\n"
        "(unreadable file, unknown schema version, different boards/models without --cross).\n");
}

static int parse_pct(const char *opt, const char *val, double *out) {
    char buf[64];
    size_t n = val ? strlen(val) : 0;
    if (n == 0 || n >= sizeof buf) goto bad;
    memcpy(buf, val, n + 1);
    if (buf[n - 1] == '%') buf[n - 1] = '\0';
    double v;
    if (tlb_parse_double(buf, &v) != 0 || v < 0 || v > 1000) goto bad;
    *out = v / 100.0;
    return 0;
bad:
    tlb_error("%s: '%s' is not a percentage in [0, 1000]", opt, val ? val : "");
    return -1;
}

static int parse_metrics(const char *list, int *use) {
    char buf[256];
    if (strlen(list) >= sizeof buf) {
        tlb_error("--metric: list too long");
        return -1;
    }
    strcpy(buf, list);
    for (int i = 0; i < N_METRICS; i++) use[i] = 0;
    char *items[128];
    int ni = tlb_split_list(buf, items, (int)TLB_ARRAY_LEN(items));
    for (int k = 0; k < ni; k++) {
        const char *tok = items[k];
        if (!*tok) continue;
        int found = 0;
        for (int i = 0; i < N_METRICS; i++)
            if (!strcmp(tok, metrics[i].name)) use[i] = found = 1;
        if (!found) {
            tlb_error("--metric: unknown metric '%s' (known: tg_ts, pp_ts, ttft_ms, "
                      "peak_rss_bytes, j_per_token, kld_mean)", tok);
            return -1;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *op, const char **files) {
    enum { O_CROSS = 256, O_SEED, O_RESAMPLES, O_THR_METRIC };
    char names[N_METRICS][48], optnames[N_METRICS][52];
    struct option all[9 + N_METRICS + 1] = {
        {"threshold", required_argument, NULL, 't'}, {"metric", required_argument, NULL, 'm'},
        {"alpha", required_argument, NULL, 'a'},     {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},    {"cross", no_argument, NULL, O_CROSS},
        {"seed", required_argument, NULL, O_SEED},
        {"resamples", required_argument, NULL, O_RESAMPLES},
        {"help", no_argument, NULL, 'h'},
    };
    for (int i = 0; i < N_METRICS; i++) {
        snprintf(names[i], sizeof names[i], "threshold-%s", metrics[i].name);
        snprintf(optnames[i], sizeof optnames[i], "--threshold-%s", metrics[i].name);
        all[9 + i] = (struct option){names[i], required_argument, NULL, O_THR_METRIC + i};
    }
    all[9 + N_METRICS] = (struct option){0, 0, 0, 0};

    double global = 0.05, per[N_METRICS];
    int have_per[N_METRICS] = {0};
    for (int i = 0; i < N_METRICS; i++) op->use[i] = 1;
    op->alpha = 0.05;
    op->fmt = TLB_OFMT_TABLE;
    op->seed = 1;
    op->resamples = 10000;
    optind = 0; /* full getopt reset: commands may run more than once in a process */
    int c;
    while ((c = getopt_long(argc, argv, "t:m:a:f:o:h", all, NULL)) != -1) {
        long lv;
        switch (c) {
        case 't':
            if (parse_pct("--threshold", optarg, &global)) return -1;
            break;
        case 'm':
            if (parse_metrics(optarg, op->use)) return -1;
            break;
        case 'a':
            if (tlb_parse_double(optarg, &op->alpha) != 0 || op->alpha <= 0 || op->alpha >= 1) {
                tlb_error("--alpha: '%s' is not a probability in (0, 1)", optarg);
                return -1;
            }
            break;
        case 'f':
            if (tlb_ofmt_parse(optarg, &op->fmt)) {
                tlb_error("--format: '%s' is not table, md or csv", optarg);
                return -1;
            }
            break;
        case 'o': op->output = optarg; break;
        case O_CROSS: op->cross = 1; break;
        case O_SEED:
            if (tlb_parse_int(optarg, 0, 0x7fffffffL, &lv)) {
                tlb_error("--seed: '%s' is not a non-negative integer", optarg);
                return -1;
            }
            op->seed = (uint64_t)lv;
            break;
        case O_RESAMPLES:
            if (tlb_parse_int_msg("--resamples", optarg, 100, 1000000, &lv)) return -1;
            op->resamples = (int)lv;
            break;
        case 'h': usage(stdout); return 1;
        default:
            if (c >= O_THR_METRIC && c < O_THR_METRIC + N_METRICS) {
                int i = c - O_THR_METRIC;
                if (parse_pct(optnames[i], optarg, &per[i])) return -1;
                have_per[i] = 1;
                break;
            }
            usage(stderr);
            return -1;
        }
    }
    for (int i = 0; i < N_METRICS; i++) op->threshold[i] = have_per[i] ? per[i] : global;
    if (argc - optind != 2) {
        tlb_error("compare needs exactly two files, BASE.csv and NEW.csv (see --help)");
        return -1;
    }
    files[0] = argv[optind];
    files[1] = argv[optind + 1];
    return 0;
}

/* Is there more than one distinct value of col across both tables? */
static int varies(const struct tlb_table *a, const struct tlb_table *b, const char *col) {
    const char *first = a->n_rows ? first_value(a, col) : first_value(b, col);
    for (int k = 0; k < 2; k++) {
        const struct tlb_table *t = k ? b : a;
        for (size_t r = 0; r < t->n_rows; r++)
            if (strcmp(tlb_table_str(t, r, tlb_table_col(t, col)), first) != 0) return 1;
    }
    return 0;
}

/* Names of configurations present in one file only (newline-separated). */
struct text_list {
    char *text;
    size_t len, cap, n;
};

static int list_add(struct text_list *l, const char *s) {
    size_t need = l->len + strlen(s) + 2;
    if (need > l->cap) {
        char *p = realloc(l->text, need * 2);
        if (!p) return -1;
        l->text = p;
        l->cap = need * 2;
    }
    l->len += (size_t)sprintf(l->text + l->len, "%s%s", l->len ? "\n" : "", s);
    l->n++;
    return 0;
}

int tlb_cmd_compare(int argc, char **argv) {
    struct opts op = {0};
    const char *files[2];
    int rc = parse_args(argc, argv, &op, files);
    if (rc) return rc > 0 ? TLB_EXIT_OK : TLB_EXIT_USAGE;

    struct tlb_table *tb = NULL, *tn = NULL;
    struct keyed *kb = NULL, *kn = NULL;
    size_t nkb = 0, nkn = 0;
    struct tlb_otable *ot = NULL;
    struct text_list only[2] = {{0}};
    FILE *out = stdout;
    int exit_code = TLB_EXIT_USAGE;
    if (tlb_csv_read(files[0], &tb) || tlb_csv_read(files[1], &tn)) goto done;
    tlb_table_drop_out_of_range(tb); /* every number below is one a measurement can have */
    tlb_table_drop_out_of_range(tn);

    int skip[N_KEYS] = {0};
    const char *bcol = all_labelled(tb) && all_labelled(tn) ? "board_label" : "board";
    op.board_col = bcol;
    int shared_board = share_value(tb, tn, bcol), shared_model = share_value(tb, tn, "model_name");
    if ((!shared_board || !shared_model) && tb->n_rows && tn->n_rows && !op.cross) {
        tlb_error("%s and %s are from different %s ('%.60s' vs '%.60s'); use --cross to "
                  "compare them anyway", files[0], files[1], !shared_board ? "boards" : "models",
                  first_value(tb, !shared_board ? bcol : "model_name"),
                  first_value(tn, !shared_board ? bcol : "model_name"));
        goto done;
    }
    if (op.cross) {
        skip[0] = 1;                 /* board */
        if (!shared_model) skip[1] = 1; /* model_name */
    }
    if (!(kb = build_keys(tb, &op, skip, &nkb)) || !(kn = build_keys(tn, &op, skip, &nkn))) goto done;

    int csv = op.fmt == TLB_OFMT_CSV;
    ot = csv ? tlb_otable_new(20, csv_headers) : tlb_otable_new(10, table_headers);
    if (!ot) goto done;
    if (op.output && !(out = tlb_fopen_output(op.output, "w"))) {
        out = stdout;
        goto done;
    }
    /* Show board/model in labels only when they vary. */
    int show_board = op.cross ? varies(tb, tb, bcol) || varies(tn, tn, bcol)
                              : varies(tb, tn, bcol);
    int show_model = varies(tb, tn, "model_name");

    size_t count[V_COUNT] = {0}, n_matched = 0, only_b = 0, only_n = 0;
    char label[512];
    size_t i = 0, j = 0;
    int st_col_b = tlb_table_col(tb, "status"), st_col_n = tlb_table_col(tn, "status");
    while (i < nkb || j < nkn) {
        int c = i >= nkb ? 1 : j >= nkn ? -1 : strcmp(kb[i].key, kn[j].key);
        if (c != 0) {
            int side = c < 0 ? 0 : 1;
            const struct tlb_table *t = side ? tn : tb;
            size_t row = side ? kn[j++].row : kb[i++].row;
            config_label(t, row, bcol, show_board, show_model, label, sizeof label);
            if (csv) {
                if (emit(ot, &op, t, row, label, "", NULL, side ? "only in new" : "only in base",
                         "") != 0)
                    goto done;
            } else if (list_add(&only[side], label) != 0) {
                tlb_error("out of memory");
                goto done;
            }
            side ? only_n++ : only_b++;
            continue;
        }
        size_t rb = kb[i++].row, rn = kn[j++].row;
        n_matched++;
        config_label(tb, rb, bcol, show_board, show_model, label, sizeof label);
        const char *sb = tlb_table_str(tb, rb, st_col_b), *sn = tlb_table_str(tn, rn, st_col_n);
        if (!*sb) sb = "ok";
        if (!*sn) sn = "ok";
        if (strcmp(sb, "ok") != 0 || strcmp(sn, "ok") != 0) {
            /* Status changes: metrics of a row that did not run are not comparable. */
            enum verdict v = V_NO_CHANGE;
            char note[256];
            const char *detail = tlb_table_str(tn, rn, tlb_table_col(tn, "status_detail"));
            if (!strcmp(sb, "ok") && failed_status(sn)) v = V_REGRESSION;
            else if (!strcmp(sb, "ok")) v = V_INCONCLUSIVE;
            else if (!strcmp(sn, "ok")) v = V_IMPROVEMENT;
            snprintf(note, sizeof note, "%s -> %s%s%.120s", sb, sn, *detail ? ": " : "", detail);
            count[v]++;
            struct result r = {.v = v, .p = NAN, .ci_lo = NAN, .ci_hi = NAN,
                               .base = NAN, .cand = NAN, .ratio = NAN, .method = M_SINGLE};
            if (emit(ot, &op, tb, rb, label, "status", &r, verdict_names[v], note) != 0) goto done;
            continue;
        }
        for (int m = 0; m < N_METRICS; m++) {
            if (!op.use[m]) continue;
            struct side s1 = {0}, s2 = {0};
            struct result r;
            int got = -1;
            if (load_side(tb, rb, &metrics[m], &s1) == 0 && load_side(tn, rn, &metrics[m], &s2) == 0)
                got = compare_metric(&op, m, &s1, &s2, &r);
            free(s1.s);
            free(s2.s);
            if (got < 0) {
                tlb_error("compare: %s: cannot compute %s", label, metrics[m].name);
                goto done;
            }
            if (got == 0) continue; /* not measured on one side */
            count[r.v]++;
            if (emit(ot, &op, tb, rb, label, metrics[m].name, &r, verdict_names[r.v], r.note))
                goto done;
        }
    }

    /* Report. */
    int md = op.fmt == TLB_OFMT_MD;
    const char *result = count[V_REGRESSION] ? "REGRESSION" : "no regression";
    if (!csv) {
        fprintf(out, "%stlbench compare: BASE %s (%zu rows) vs NEW %s (%zu rows)\n\n",
                md ? "### " : "", files[0], tb->n_rows, files[1], tn->n_rows);
        if (tb->n_rows && tn->n_rows && (op.cross || show_board || show_model))
            fprintf(out, "BASE: board '%s', model '%s'; NEW: board '%s', model '%s'%s\n\n",
                    first_value(tb, bcol), first_value(tb, "model_name"),
                    first_value(tn, bcol), first_value(tn, "model_name"),
                    op.cross ? " (--cross)" : "");
        else if (tb->n_rows)
            fprintf(out, "board: %s; model: %s\n\n", first_value(tb, bcol),
                    first_value(tb, "model_name"));
        fprintf(out, "thresholds:");
        for (int m = 0; m < N_METRICS; m++)
            if (op.use[m]) fprintf(out, " %s %g%%", metrics[m].name, 100 * op.threshold[m]);
        fprintf(out, "; alpha %g; bootstrap %d resamples, seed %llu\n\n", op.alpha,
                op.resamples, (unsigned long long)op.seed);
    }
    if (tlb_otable_print(ot, out, op.fmt) != 0) {
        tlb_error("%s: write error", op.output ? op.output : "stdout");
        goto done;
    }
    FILE *sum = csv ? stderr : out;
    for (int side = 0; side < 2 && !csv; side++) {
        size_t n = side ? only_n : only_b;
        if (!n) continue;
        fprintf(out, "\nonly in %s (%zu):\n", side ? "NEW" : "BASE", n);
        for (char *line = only[side].text; line && *line;) {
            char *nl = strchr(line, '\n');
            fprintf(out, "%s%.*s\n", md ? "- " : "  ", nl ? (int)(nl - line) : (int)strlen(line),
                    line);
            line = nl ? nl + 1 : NULL;
        }
    }
    fprintf(sum, "\n%zu configurations compared: %zu regression(s), %zu improvement(s), "
            "%zu inconclusive, %zu no change; %zu only in BASE, %zu only in NEW\n",
            n_matched, count[V_REGRESSION], count[V_IMPROVEMENT], count[V_INCONCLUSIVE],
            count[V_NO_CHANGE], only_b, only_n);
    fprintf(sum, "%sRESULT: %s%s\n", md ? "**" : "", result, md ? "**" : "");
    fflush(sum);
    exit_code = count[V_REGRESSION] ? TLB_EXIT_FAIL : TLB_EXIT_OK;
done:
    free(only[0].text);
    free(only[1].text);
    if (out != stdout && fclose(out) != 0) {
        tlb_error("%s: write error", op.output);
        exit_code = TLB_EXIT_USAGE;
    }
    tlb_otable_free(ot);
    free_keys(kb, nkb);
    free_keys(kn, nkn);
    tlb_table_free(tb);
    tlb_table_free(tn);
    return exit_code;
}
