/* cmd-compare.c — `tlbench compare BASE.csv NEW.csv`, the CI gate: matches the configurations
 * of two results files and gives each metric a verdict (regression / improvement / no change
 * / inconclusive). A regression must exceed its threshold AND be significant:
 *  - rows of one interleaved run (`tlbench ab`: the same run_id, one row per round) are
 *    compared pair by pair (each repetition, measured in turn with the other side's, when
 *    both rows hold as many samples; else each round): the Hodges-Lehmann ratio of the pairs
 *    and its Wilcoxon interval (stats.h); rounds that other processes disturbed (busy_cpus)
 *    are left out;
 *  - otherwise the per-repetition samples (Mann-Whitney U, bootstrap CI of the ratio of
 *    medians), or mean +- stddev; a single value has no spread and can never fail the gate on
 *    its own (inconclusive), except a computed (deterministic) one such as KLD.
 * A configuration measured in BASE that NEW lacks or did not measure fails too (--allow-missing
 * for a deliberate change); nothing in common to compare is an error. Exit 0 no regression, 1
 * regression or missing/degraded configuration, 2 nothing to compare or bad input. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "cpuload.h"
#include "escape.h"
#include "json-out.h"
#include "memory-model.h"
#include "out-table.h"
#include "probe.h"
#include "results-csv.h"
#include "stats.h"
#include "util.h"

enum verdict { V_NO_CHANGE, V_IMPROVEMENT, V_REGRESSION, V_INCONCLUSIVE, V_DEGRADED, V_MISSING,
               V_COUNT };
static const char *const verdict_names[V_COUNT] = {"no change",    "improvement", "regression",
                                                   "inconclusive", "degraded",    "missing"};

struct metric {
    const char *name;    /* for --metric and --threshold-NAME */
    int higher_better;
    const char *samples; /* per-repetition column, or NULL */
    const char *mean, *sd;
    const char *single;  /* the row's one value; NULL: the run's peak memory */
    double abs_floor;    /* changes smaller than this (absolute) are no change */
    int deterministic;   /* computed, not timed: one build gives the same value every time */
};

static const struct metric metrics[] = {
    {"tg_ts", 1, "tg_samples_ts", "tg_ts_mean", "tg_ts_stddev", "tg_ts_median", 0, 0},
    {"pp_ts", 1, "pp_samples_ts", "pp_ts_mean", "pp_ts_stddev", "pp_ts_median", 0, 0},
    {"ttft_ms", 0, NULL, NULL, NULL, "ttft_ms", 0, 0},
    /* max(peak_rss_bytes, load_peak_rss_bytes): what the run needs */
    {"peak_rss_bytes", 0, NULL, NULL, NULL, NULL, 0, 0},
    {"j_per_token", 0, NULL, NULL, NULL, "j_per_token", 0, 0},
    /* near the reference KLD is ~0: relative changes of tiny values mean nothing */
    {"kld_mean", 0, NULL, NULL, NULL, "kld_mean", 1e-4, 1},
};
#define N_METRICS ((int)(sizeof metrics / sizeof metrics[0]))

/* key_cols[0] stands for the board column of the run (opts.board_col). The engine is part
 * of a configuration's identity: llama.cpp's q4_0 on 2 threads is not tlbench's (a file
 * without the column is tlbench's, tlb_table_engine). */
static const char *const key_cols[] = {"board",   "model_name", "engine",   "kernel",
                                       "weight_type", "kv_type", "n_threads", "n_prompt",
                                       "n_gen",   "n_depth"};
#define N_KEYS ((int)(sizeof key_cols / sizeof key_cols[0]))

/* What else makes two rows comparable: a difference is warned about, not refused. */
static const char *const comparable_cols[] = {
    "cpu_info",  "n_cpus",          "os",             "compiler",   "cflags",
    "model_hash", "kernel_version", "weight_mapping", "cpu_governor", "cpu_boost",
    "thp",       "mem_total_bytes", "virtualization", "power_mode", "warmup"};
#define N_COMPARABLE ((int)(sizeof comparable_cols / sizeof comparable_cols[0]))

enum ofmt { F_TABLE, F_MD, F_CSV, F_JSON };

struct opts {
    double threshold[N_METRICS]; /* fractions */
    int use[N_METRICS];
    double alpha;
    int cross, allow_missing, mem_level; /* mem_level: judge decode against the memory's level */
    enum ofmt fmt;
    const char *output;
    uint64_t seed;
    int resamples;
    const char *board_col; /* "board_label" when both files label every row, else "board" */
};

static const char *key_col(const struct opts *op, int i) {
    return i == 0 ? op->board_col : key_cols[i];
}

static const char *cell(const struct tlb_table *t, size_t r, const char *col) {
    return tlb_table_str(t, r, tlb_table_col(t, col));
}

static const char *key_value(const struct tlb_table *t, size_t r, const struct opts *op, int i) {
    if (!strcmp(key_cols[i], "engine")) return tlb_table_engine(t, r);
    return cell(t, r, key_col(op, i));
}

/* ---------------------------------------------------------------- configurations */

/* One configuration of a file: the row that stands for it (the last), and when it was measured
 * in rounds of one run (sweep --rounds, tlbench ab), the row of each round in round order. */
struct config {
    char *key;
    size_t row;
    size_t *rounds;
    size_t n_rounds;
};

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

static int64_t round_of(const struct tlb_table *t, size_t r) {
    int64_t v;
    return tlb_table_int(t, r, tlb_table_col(t, "round"), &v) && v > 0 ? v : 0;
}

/* Insertion sort by round (a few rounds; qsort has no context argument in C11). */
static void sort_rounds(size_t *rows, size_t n, const struct tlb_table *t) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && round_of(t, rows[j - 1]) > round_of(t, rows[j]); j--) {
            size_t tmp = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = tmp;
        }
}

static void free_configs(struct config *c, size_t n) {
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].key);
        free(c[i].rounds);
    }
    free(c);
}

/* The configurations of a table, sorted by key. A configuration written several times counts
 * once: its last row, or the rounds of the run of its last row (one row per round, the last of
 * each); every other row is a repeat (warned about, as report does). */
static struct config *build_configs(const struct tlb_table *t, const struct opts *op,
                                    const int *skip, size_t *n_out) {
    size_t nr = t->n_rows;
    struct keyed *k = tlb_calloc(nr ? nr : 1, sizeof *k, "compare keys");
    struct config *c = tlb_calloc(nr ? nr : 1, sizeof *c, "compare configurations");
    size_t n = 0, repeats = 0;
    if (!k || !c) goto fail;
    for (size_t r = 0; r < nr; r++) {
        struct tlb_buf b = {0};
        for (int i = 0; i < N_KEYS; i++) {
            if (skip[i]) continue;
            tlb_buf_puts(&b, key_value(t, r, op, i));
            tlb_buf_puts(&b, "\x1f");
        }
        if (b.failed || !(k[r].key = b.p ? b.p : calloc(1, 1))) {
            tlb_buf_free(&b);
            tlb_error("out of memory");
            goto fail;
        }
        k[r].row = r;
    }
    qsort(k, nr, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < nr;) {
        size_t j = i;
        while (j + 1 < nr && !strcmp(k[j + 1].key, k[i].key)) j++;
        struct config *cf = &c[n++];
        cf->key = k[i].key;
        k[i].key = NULL;
        cf->row = k[j].row; /* rows sorted within a key: the last */
        if (round_of(t, cf->row)) {
            const char *run = cell(t, cf->row, "run_id");
            if (!(cf->rounds = tlb_calloc(j - i + 1, sizeof *cf->rounds, "rounds"))) goto fail;
            for (size_t q = i; q <= j; q++) {
                size_t r = k[q].row;
                if (!round_of(t, r) || strcmp(cell(t, r, "run_id"), run)) continue;
                size_t at = 0; /* a round written twice: the later row */
                while (at < cf->n_rounds && round_of(t, cf->rounds[at]) != round_of(t, r)) at++;
                cf->rounds[at] = r;
                if (at == cf->n_rounds) cf->n_rounds++;
            }
            sort_rounds(cf->rounds, cf->n_rounds, t);
            repeats += (j - i + 1) - cf->n_rounds;
        } else {
            repeats += j - i;
        }
        i = j + 1;
    }
    for (size_t i = 0; i < nr; i++) free(k[i].key);
    free(k);
    if (repeats)
        tlb_warn("%s: %zu rows repeat an earlier configuration; using the last of each",
                 t->path, repeats);
    *n_out = n;
    return c;
fail:
    if (k)
        for (size_t i = 0; i < nr; i++) free(k[i].key);
    free(k);
    free_configs(c, n);
    return NULL;
}

/* The status of a configuration: its first status that is not ok (over its rounds), else ok. */
static const char *config_status(const struct tlb_table *t, const struct config *c) {
    size_t n = c->rounds ? c->n_rounds : 1;
    for (size_t i = 0; i < n; i++) {
        const char *s = cell(t, c->rounds ? c->rounds[i] : c->row, "status");
        if (*s && strcmp(s, "ok") != 0) return s;
    }
    return "ok";
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
    return t->n_rows ? cell(t, 0, col) : "";
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

enum method { M_PAIRED, M_SAMPLES, M_MEANSD, M_SINGLE };
static const char *const method_names[] = {"paired", "samples", "mean+-sd", "single"};

struct result {
    enum verdict v;
    enum method method;
    double base, cand, ratio;
    double p, ci_lo, ci_hi;  /* NAN when not computed */
    double cand_lo, cand_hi; /* range of NEW's values (NAN: one value) */
    size_t nb, nc;
    int no_data;             /* measured, but nothing usable (every round disturbed) */
    char note[200];
};

/* One side of a metric: values (repetition samples, or one per round) and summary cells. */
struct side {
    double *s;
    size_t n;
    int have_mean, have_sd, have_single;
    double mean, sd, single;
};

static int row_value(const struct tlb_table *t, size_t r, const struct metric *m, double *v) {
    if (!m->single) return tlb_table_run_peak(t, r, v);
    return tlb_table_double(t, r, tlb_table_col(t, m->single), v);
}

/* Append the values one row gives a side: its samples, else its one value. */
static int add_row_values(struct side *o, const struct tlb_table *t, size_t r,
                          const struct metric *m) {
    double *s = NULL, v;
    size_t n = 0;
    if (m->samples && tlb_table_samples(t, r, tlb_table_col(t, m->samples), &s, &n) < 0) return -1;
    if (n == 0 && row_value(t, r, m, &v)) {
        if (!(s = tlb_malloc(sizeof *s, "samples"))) return -1;
        s[0] = v;
        n = 1;
    }
    if (n == 0) return 0;
    double *all = realloc(o->s, (o->n + n) * sizeof *all);
    if (!all) {
        free(s);
        tlb_error("out of memory");
        return -1;
    }
    memcpy(all + o->n, s, n * sizeof *s);
    o->s = all;
    o->n += n;
    free(s);
    return 0;
}

static int load_side(const struct tlb_table *t, const struct config *c, const struct metric *m,
                     struct side *o) {
    memset(o, 0, sizeof *o);
    size_t r = c->row;
    if (c->rounds) {
        for (size_t i = 0; i < c->n_rounds; i++)
            if (add_row_values(o, t, c->rounds[i], m) != 0) return -1;
    } else if (m->samples &&
               tlb_table_samples(t, r, tlb_table_col(t, m->samples), &o->s, &o->n) < 0) {
        return -1;
    }
    if (m->mean) o->have_mean = tlb_table_double(t, r, tlb_table_col(t, m->mean), &o->mean);
    if (m->sd) o->have_sd = tlb_table_double(t, r, tlb_table_col(t, m->sd), &o->sd);
    o->have_single = row_value(t, r, m, &o->single);
    return 0;
}

static int disturbed(const struct tlb_table *t, size_t r) {
    double busy;
    return tlb_table_double(t, r, tlb_table_col(t, "busy_cpus"), &busy) &&
           busy > TLB_CPULOAD_BUSY_CPUS;
}

/* The pairs of an interleaved run: rounds present on both sides with a value, left out when
 * another process disturbed either side (busy_cpus). Within a round, repetitions were measured
 * in turn (tlbench ab): when both rows hold as many samples, each repetition is a pair. */
static int load_pairs(const struct tlb_table *tb, const struct config *cb,
                      const struct tlb_table *tn, const struct config *cn,
                      const struct metric *m, struct tlb_pairs *out, size_t *n_rounds,
                      size_t *n_disturbed) {
    *out = (struct tlb_pairs){0};
    *n_rounds = *n_disturbed = 0;
    for (size_t i = 0, j = 0; i < cb->n_rounds && j < cn->n_rounds;) {
        int64_t rb = round_of(tb, cb->rounds[i]), rn = round_of(tn, cn->rounds[j]);
        if (rb != rn) {
            rb < rn ? i++ : j++;
            continue;
        }
        size_t xb = cb->rounds[i++], xn = cn->rounds[j++];
        if (disturbed(tb, xb) || disturbed(tn, xn)) {
            (*n_disturbed)++;
            continue;
        }
        double *sb = NULL, *sn = NULL, vb, vn;
        size_t kb = 0, kn = 0;
        if (m->samples && (tlb_table_samples(tb, xb, tlb_table_col(tb, m->samples), &sb, &kb) < 0 ||
                           tlb_table_samples(tn, xn, tlb_table_col(tn, m->samples), &sn, &kn) < 0)) {
            free(sb);
            free(sn);
            return -1;
        }
        int owned = kb > 0 && kb == kn; /* else one value a row */
        if (!owned) {
            free(sb);
            free(sn);
            if (!row_value(tb, xb, m, &vb) || !row_value(tn, xn, m, &vn)) continue;
            sb = &vb, sn = &vn, kb = 1;
        }
        int oom = 0;
        size_t n0 = out->n;
        for (size_t q = 0; q < kb && !oom; q++)
            if (sb[q] > 0 && sn[q] > 0 && isfinite(sb[q]) && isfinite(sn[q]))
                oom = tlb_pairs_add(out, sb[q], sn[q]) != 0;
        if (out->n > n0) (*n_rounds)++;
        if (owned) {
            free(sb);
            free(sn);
        }
        if (oom) {
            tlb_error("out of memory");
            return -1;
        }
    }
    return 0;
}

static void range_of(const double *v, size_t n, double *lo, double *hi) {
    *lo = *hi = NAN;
    for (size_t i = 0; i < n && n > 1; i++) {
        if (isnan(*lo) || v[i] < *lo) *lo = v[i];
        if (isnan(*hi) || v[i] > *hi) *hi = v[i];
    }
}

/* The verdict from the estimate and, when there is one, the significance. */
static void decide(const struct metric *m, double thr, int significant, struct result *r) {
    double diff = r->method == M_PAIRED ? r->base * (r->ratio - 1) : r->cand - r->base;
    int beyond = fabs(diff) > m->abs_floor && fabs(r->ratio - 1) > thr;
    if (!beyond) {
        r->v = V_NO_CHANGE;
        if ((r->method == M_SAMPLES || r->method == M_PAIRED) && !isnan(r->ci_lo) &&
            (r->ci_lo < 1 - thr || r->ci_hi > 1 + thr) && !r->note[0])
            snprintf(r->note, sizeof r->note, "noisy: the interval reaches past the threshold");
        return;
    }
    int worse = m->higher_better ? r->ratio < 1 : r->ratio > 1;
    r->v = !significant ? V_INCONCLUSIVE : worse ? V_REGRESSION : V_IMPROVEMENT;
}

/* Paired rounds of one interleaved run. Returns 1 compared, 0 no pairs, -1 error. */
static int compare_paired(const struct opts *op, int mi, const struct tlb_table *tb,
                          const struct config *cb, const struct tlb_table *tn,
                          const struct config *cn, struct result *r) {
    const struct metric *m = &metrics[mi];
    struct tlb_pairs pairs;
    size_t n_rounds, n_dist;
    int rc = -1;
    if (load_pairs(tb, cb, tn, cn, m, &pairs, &n_rounds, &n_dist) != 0) goto out;
    const double *pb = pairs.base, *pn = pairs.cand;
    const size_t n = pairs.n;
    if (n == 0) {
        rc = 0;
        if (n_dist) { /* measured, but only while the machine was busy */
            r->method = M_PAIRED;
            r->base = r->cand = r->ratio = NAN;
            r->v = V_INCONCLUSIVE;
            r->no_data = 1;
            snprintf(r->note, sizeof r->note,
                     "all %zu rounds disturbed by other processes (busy_cpus > %g)", n_dist,
                     TLB_CPULOAD_BUSY_CPUS);
            rc = 1;
        }
        goto out;
    }
    struct tlb_paired pr;
    if (tlb_stat_paired_ratio(pb, pn, n, 1 - op->alpha, &pr) != 0) goto out;
    r->method = M_PAIRED;
    r->base = tlb_stat_median(pb, n);
    r->cand = tlb_stat_median(pn, n);
    r->ratio = pr.ratio;
    r->p = pr.p;
    r->ci_lo = pr.lo;
    r->ci_hi = pr.hi;
    r->nb = r->nc = n;
    range_of(pn, n, &r->cand_lo, &r->cand_hi);
    int significant = !isnan(pr.lo) && (pr.lo > 1 || pr.hi < 1);
    decide(m, op->threshold[mi], significant, r);
    if (isnan(pr.lo))
        snprintf(r->note, sizeof r->note, "%zu pairs: too few for a %g%% interval", n,
                 100 * (1 - op->alpha));
    else if (r->v == V_INCONCLUSIVE)
        snprintf(r->note, sizeof r->note, "change not significant over %zu pairs", n);
    if (n_dist && !r->note[0])
        snprintf(r->note, sizeof r->note, "%zu of %zu rounds left out: disturbed", n_dist,
                 n_rounds + n_dist);
    rc = 1;
out:
    tlb_pairs_free(&pairs);
    return rc;
}

/* Returns 1 when compared, 0 when the metric is missing on a side, -1 on error. */
static int compare_metric(const struct opts *op, int mi, const struct side *b,
                          const struct side *c, struct result *r) {
    const struct metric *m = &metrics[mi];
    if (!m->deterministic && b->n >= 2 && c->n >= 2) {
        r->method = M_SAMPLES;
        r->base = tlb_stat_median(b->s, b->n);
        r->cand = tlb_stat_median(c->s, c->n);
        r->nb = b->n;
        r->nc = c->n;
        range_of(c->s, c->n, &r->cand_lo, &r->cand_hi);
    } else if (!m->deterministic && b->have_mean && c->have_mean && b->have_sd && c->have_sd) {
        r->method = M_MEANSD;
        r->base = b->mean;
        r->cand = c->mean;
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
    if (r->base != 0) r->ratio = r->cand / r->base;
    else r->ratio = r->cand == 0 ? 1.0 : (r->cand > 0 ? INFINITY : -INFINITY);
    double thr = op->threshold[mi];
    int significant = 0;
    const char *capped = "";
    char cap_note[80] = "";
    switch (r->method) {
    case M_SAMPLES: {
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
                                     1 - op->alpha, op->seed, &r->ci_lo, &r->ci_hi) != 0)
            r->ci_lo = r->ci_hi = NAN;
        free(sb);
        free(sc);
        significant = r->p < op->alpha ||
                      (!isnan(r->ci_lo) && (r->ci_lo > 1 + thr || r->ci_hi < 1 - thr));
        decide(m, thr, significant, r);
        if (r->v == V_INCONCLUSIVE)
            snprintf(r->note, sizeof r->note, "change not significant (p=%.2g, CI %.3f..%.3f)",
                     r->p, r->ci_lo, r->ci_hi);
        else if (r->v == V_REGRESSION && (b->n < 5 || c->n < 5))
            snprintf(r->note, sizeof r->note, "few repetitions (%zu/%zu): the U test is weak",
                     b->n, c->n);
        break;
    }
    case M_MEANSD:
        /* Without samples: significant only when mean +- sd intervals do not overlap. */
        significant = fabs(r->cand - r->base) > b->sd + c->sd;
        decide(m, thr, significant, r);
        if (r->v != V_NO_CHANGE)
            snprintf(r->note, sizeof r->note, "no samples: decided on mean +- stddev (%.3g, %.3g)",
                     b->sd, c->sd);
        break;
    default:
        decide(m, thr, m->deterministic, r);
        if (r->v != V_NO_CHANGE)
            snprintf(r->note, sizeof r->note, "%s",
                     m->deterministic ? "computed, not timed: the same build gives the same value"
                                      : "one value each, no spread: cannot tell a change from "
                                        "noise");
        break;
    }
    if (*capped) { /* say it, after whatever else the note says */
        size_t l = strlen(r->note);
        snprintf(r->note + l, sizeof r->note - l, "%s%s", l ? "; " : "", capped);
    }
    return 1;
}

/* The lowest core_share over a configuration's rows (its rounds, else its one row); NaN when
 * none has one. */
static double lowest_core_share(const struct tlb_table *t, const struct config *c) {
    const int col = tlb_table_col(t, "core_share");
    double low = NAN, v;
    for (size_t k = 0; k < (c->n_rounds ? c->n_rounds : 1); k++)
        if (tlb_table_double(t, c->n_rounds ? c->rounds[k] : c->row, col, &v) && !(v >= low))
            low = v;
    return low;
}

/* A side whose threads shared cores (core_share below TLB_CORE_SHARE_LOW in any of its rows: a
 * VM host's vCPUs on SMT siblings of one core, more threads than cores) measured that
 * placement; say so after whatever else the note says. */
static void note_shared_cores(const struct tlb_table *tb, const struct config *cb,
                              const struct tlb_table *tn, const struct config *cn,
                              struct result *r) {
    const double sb = lowest_core_share(tb, cb), sn = lowest_core_share(tn, cn);
    const int low_b = sb < TLB_CORE_SHARE_LOW, low_n = sn < TLB_CORE_SHARE_LOW; /* NaN: no */
    if (!low_b && !low_n) return;
    char which[64];
    if (low_b && low_n) snprintf(which, sizeof which, "both sides, %.2f and %.2f", sb, sn);
    else snprintf(which, sizeof which, "%s, %.2f", low_b ? "BASE" : "NEW", low_b ? sb : sn);
    const size_t l = strlen(r->note);
    snprintf(r->note + l, sizeof r->note - l, "%sthreads shared cores (core_share on %s)",
             l ? "; " : "", which);
}

/* The median memory level (mem_bw_gbps) over a configuration's rows; NaN when none has one. */
static double median_mem_level(const struct tlb_table *t, const struct config *c) {
    const int col = tlb_table_col(t, "mem_bw_gbps");
    double v[64];
    size_t n = 0;
    for (size_t k = 0; k < (c->n_rounds ? c->n_rounds : 1) && n < TLB_ARRAY_LEN(v); k++)
        if (tlb_table_double(t, c->n_rounds ? c->rounds[k] : c->row, col, &v[n]) && v[n] > 0) n++;
    return n ? tlb_stat_median(v, n) : NAN;
}

/* Sides measured at memory levels more than TLB_MEM_LEVEL_APART apart (a shared host's memory
 * moved between the two runs) compare those levels as much as the code: say so, with both.
 * Decode streams the weights, so its rate follows the level: a decode regression met at a
 * lower level in NEW (or an improvement at a higher one) is inconclusive, not a verdict on
 * the code, unless decide_anyway (--no-mem-level, or the pairs of an interleaved run); a
 * change against the level stands. */
static void note_memory_levels(const struct tlb_table *tb, const struct config *cb,
                               const struct tlb_table *tn, const struct config *cn,
                               const struct metric *m, int decide_anyway, struct result *r) {
    const double b = median_mem_level(tb, cb), n = median_mem_level(tn, cn);
    if (!tlb_mem_levels_apart(b, n)) return;
    size_t l = strlen(r->note);
    snprintf(r->note + l, sizeof r->note - l,
             "%smemory levels apart (mem_bw_gbps BASE %.1f, NEW %.1f GB/s)", l ? "; " : "", b, n);
    if (decide_anyway || strcmp(m->name, "tg_ts") ||
        !((r->v == V_REGRESSION && n < b) || (r->v == V_IMPROVEMENT && n > b)))
        return;
    r->v = V_INCONCLUSIVE;
    l = strlen(r->note);
    snprintf(r->note + l, sizeof r->note - l,
             ": decode moved with the memory, not a verdict on the code (--no-mem-level judges "
             "it anyway)");
}

/* ---------------------------------------------------------------- output */

static const char *const table_headers[] = {"config", "metric", "base", "new", "ratio",
                                            "change", "p", "ci95", "verdict", "note"};
static const char *const csv_headers[] = {
    "board", "model_name", "engine", "kernel", "weight_type", "kv_type", "n_threads",
    "n_prompt", "n_gen", "n_depth", "metric", "base", "new", "ratio", "change_pct", "p_value", "ci_lo",
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

/* The configuration's name in reports (raw: the output format escapes it). */
static void config_label(const struct tlb_table *t, size_t row, const char *board_col,
                         int show_board, int show_model, char *buf, size_t n) {
    /* another engine's rows read "llama.cpp" where tlbench's name their kernel */
    const char *engine = tlb_table_engine(t, row);
    snprintf(buf, n, "%s%s%s%s%s/%s %s t%s pp%s+tg%s@d%s",
             show_board ? cell(t, row, board_col) : "", show_board ? " " : "",
             show_model ? cell(t, row, "model_name") : "", show_model ? " " : "",
             cell(t, row, "weight_type"), cell(t, row, "kv_type"),
             strcmp(engine, TLB_ENGINE_TLBENCH) ? engine : cell(t, row, "kernel"),
             cell(t, row, "n_threads"), cell(t, row, "n_prompt"), cell(t, row, "n_gen"),
             cell(t, row, "n_depth"));
}

struct report {
    struct tlb_otable *ot;
    struct tlb_bmf *bmf;
    const struct opts *op;
};

/* Add one output row (table, CSV or BMF). */
static int emit(struct report *rp, const struct tlb_table *t, size_t row, const char *label,
                const char *metric, const struct result *r, const char *verdict,
                const char *note) {
    const struct opts *op = rp->op;
    if (op->fmt == F_JSON) {
        if (!r || !strcmp(metric, "status") || isnan(r->cand)) return 0;
        char ratio_name[64];
        snprintf(ratio_name, sizeof ratio_name, "%s_ratio", metric);
        if (tlb_bmf_add(rp->bmf, label, metric, r->cand, r->cand_lo, r->cand_hi) != 0 ||
            (isfinite(r->ratio) &&
             tlb_bmf_add(rp->bmf, label, ratio_name, r->ratio, r->ci_lo, r->ci_hi) != 0)) {
            tlb_error("out of memory building the JSON report");
            return -1;
        }
        return 0;
    }
    int csv = op->fmt == F_CSV;
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
        return tlb_otable_add(rp->ot, cells);
    }
    const char *cells[TLB_ARRAY_LEN(csv_headers)];
    _Static_assert(N_KEYS + 11 == TLB_ARRAY_LEN(csv_headers), "the CSV layout");
    for (int i = 0; i < N_KEYS; i++) cells[i] = key_value(t, row, op, i);
    const char *rest[] = {metric, base, cand, ratio, change, p, lo, hi,
                          r && strcmp(metric, "status") ? method_names[r->method] : "", verdict,
                          note};
    for (int i = 0; i < 11; i++) cells[N_KEYS + i] = rest[i];
    return tlb_otable_add(rp->ot, cells);
}

/* ---------------------------------------------------------------- status */

static int failed_status(const char *s) {
    return !strcmp(s, "crashed") || !strcmp(s, "timeout") || !strcmp(s, "oom") ||
           !strcmp(s, "error");
}

/* ---------------------------------------------------------------- comparability */

/* Columns whose values differ between matched rows: the first difference of each, and how
 * many configurations differ. */
struct differs {
    size_t n[N_COMPARABLE];
    char example[N_COMPARABLE][200];
    int dirty[2]; /* a side was built from a tree with uncommitted changes */
};

static void note_differences(struct differs *d, const struct tlb_table *tb, size_t rb,
                             const struct tlb_table *tn, size_t rn) {
    for (int i = 0; i < N_COMPARABLE; i++) {
        const char *vb = cell(tb, rb, comparable_cols[i]), *vn = cell(tn, rn, comparable_cols[i]);
        if (!*vb || !*vn || !strcmp(vb, vn)) continue; /* unknown on a side, or the same */
        if (!d->n[i]++)
            snprintf(d->example[i], sizeof d->example[i], "BASE '%.80s', NEW '%.80s'", vb, vn);
    }
    int64_t v;
    if (tlb_table_int(tb, rb, tlb_table_col(tb, "build_dirty"), &v) && v == 1) d->dirty[0] = 1;
    if (tlb_table_int(tn, rn, tlb_table_col(tn, "build_dirty"), &v) && v == 1) d->dirty[1] = 1;
}

/* The warnings as text lines (raw; the caller escapes them). */
static int differences_text(const struct differs *d, struct tlb_buf *b) {
    for (int i = 0; i < N_COMPARABLE; i++)
        if (d->n[i])
            tlb_buf_printf(b, "%s differs in %zu configuration(s) (%s): the rows may not be "
                           "comparable\n", comparable_cols[i], d->n[i], d->example[i]);
    for (int s = 0; s < 2; s++)
        if (d->dirty[s])
            tlb_buf_printf(b, "%s was built from a tree with uncommitted changes: its "
                           "build_commit does not name the code that ran\n", s ? "NEW" : "BASE");
    return b->failed ? -1 : 0;
}

/* ---------------------------------------------------------------- text output */

/* s escaped for the output format (terminal text or Markdown). */
static void put_esc(FILE *out, enum ofmt fmt, const char *s) {
    tlb_esc_fputs(out, fmt == F_MD ? TLB_ESC_MD : TLB_ESC_TERM, s);
}

/* ---------------------------------------------------------------- options */

static void usage(FILE *f) {
    fprintf(f,
        "usage: tlbench compare BASE.csv NEW.csv [options]\n"
        "\n"
        "Compares two results files configuration by configuration and says, per metric,\n"
        "whether NEW is a regression, an improvement, no change, or inconclusive.\n"
        "Rows match on board, model_name, engine, kernel, weight_type, kv_type, n_threads,\n"
        "n_prompt, n_gen and n_depth (rows of files without the engine column are tlbench's);\n"
        "rows present in only one file are listed. The board is the\n"
        "board_label (sweep --board-label) when both files label every row, else the\n"
        "detected board name. A configuration written twice counts once (its last row).\n"
        "\n"
        "A metric is a regression only when its change exceeds the threshold AND is\n"
        "significant:\n"
        "  paired  rows of one interleaved run (tlbench ab: one run_id, a row per round) are\n"
        "          compared in pairs: each repetition with the other side's repetition of\n"
        "          the same round (measured in turn) when both rows hold as many samples,\n"
        "          else each round's value; the Hodges-Lehmann ratio of the pairs and its\n"
        "          Wilcoxon signed-rank interval (1 - alpha), which must exclude 1 (6 pairs\n"
        "          at least for 95%%); rounds with busy_cpus > %g on either side are left out\n"
        "  samples the per-repetition samples: Mann-Whitney U p < alpha, or the bootstrap CI\n"
        "          of median(NEW)/median(BASE) wholly beyond 1 +- threshold\n"
        "  mean+-sd  without samples: intervals that do not overlap\n"
        "  single  one value a side has no spread: beyond the threshold it is inconclusive,\n"
        "          never a regression; except kld_mean, computed (not timed), for which the\n"
        "          same build gives the same value, so the threshold decides\n"
        "Beyond the threshold but not significant = inconclusive (does not fail).\n"
        "Files measured at different times on a shared or throttling machine differ by more\n"
        "than most regressions; use tlbench ab (docs/ci.md) to measure BASE and NEW in one job.\n"
        "\n"
        "The gate also fails when a configuration that was ok in BASE crashed, timed out, ran\n"
        "out of memory or failed in NEW (regression), is missing from NEW (missing) or was\n"
        "not measured there (unsupported, skipped-memory, invalid: degraded). Differences in\n"
        "what makes rows comparable (governor, boost, huge pages, RAM, virtualisation, power\n"
        "mode, kernel library, compiler flags, model file...) are warned about.\n"
        "\n"
        "options:\n"
        "  -t, --threshold PCT       change that matters, in percent (default 5; '5%%' also ok)\n"
        "      --threshold-METRIC PCT  per-metric threshold, e.g. --threshold-tg_ts 3%%\n"
        "  -m, --metric LIST         comma-separated metrics (default all): tg_ts (decode t/s,\n"
        "                            higher is better), pp_ts (prefill t/s, higher), ttft_ms,\n"
        "                            peak_rss_bytes (the larger of the worker's and the load's\n"
        "                            peak), j_per_token, kld_mean (lower is better; KLD\n"
        "                            changes under 1e-4 nats are no change)\n"
        "  -a, --alpha P             significance level (default 0.05)\n"
        "  -f, --format FMT          table (default), md (Markdown for pull requests), csv, or\n"
        "                            json (Bencher Metric Format, for CI history; docs/ci.md)\n"
        "  -o, --output FILE         write the report to FILE instead of stdout\n"
        "      --allow-missing       configurations measured in BASE that NEW lacks or did\n"
        "                            not measure are listed but do not fail (a deliberate\n"
        "                            change); crashes still fail\n"
        "      --no-mem-level        judge decode (tg_ts) even when BASE and NEW met memory\n"
        "                            levels more than 25%% apart (mem_bw_gbps, measured before\n"
        "                            each row): by default a decode change in the direction\n"
        "                            the level moved is inconclusive (noted), one against it\n"
        "                            stands\n"
        "      --cross               allow files from different boards (board is then left\n"
        "                            out of the match) or models (model too, if none shared)\n"
        "      --seed N              bootstrap seed (default 1; results are reproducible)\n"
        "      --resamples N         bootstrap resamples (default 10000)\n"
        "  -h, --help                this text\n"
        "\n"
        "exit status: 0 no regression; 1 a regression, or a configuration missing or degraded\n"
        "in NEW; 2 nothing to compare (a file without rows, no configuration in common, no\n"
        "metric measured in both) or a usage/input error (unreadable file, unknown schema\n"
        "version, different boards/models without --cross).\n",
        TLB_CPULOAD_BUSY_CPUS);
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
            tlb_error("--metric: unknown metric '%.40s' (known: tg_ts, pp_ts, ttft_ms, "
                      "peak_rss_bytes, j_per_token, kld_mean)", tok);
            return -1;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *op, const char **files) {
    enum { O_CROSS = 256, O_SEED, O_RESAMPLES, O_ALLOW_MISSING, O_NO_MEM_LEVEL, O_THR_METRIC };
    enum { N_FIXED = 11 };
    char names[N_METRICS][48], optnames[N_METRICS][52];
    struct option all[N_FIXED + N_METRICS + 1] = {
        {"threshold", required_argument, NULL, 't'}, {"metric", required_argument, NULL, 'm'},
        {"alpha", required_argument, NULL, 'a'},     {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},    {"cross", no_argument, NULL, O_CROSS},
        {"seed", required_argument, NULL, O_SEED},
        {"resamples", required_argument, NULL, O_RESAMPLES},
        {"allow-missing", no_argument, NULL, O_ALLOW_MISSING},
        {"no-mem-level", no_argument, NULL, O_NO_MEM_LEVEL},
        {"help", no_argument, NULL, 'h'},
    };
    for (int i = 0; i < N_METRICS; i++) {
        snprintf(names[i], sizeof names[i], "threshold-%s", metrics[i].name);
        snprintf(optnames[i], sizeof optnames[i], "--threshold-%s", metrics[i].name);
        all[N_FIXED + i] = (struct option){names[i], required_argument, NULL, O_THR_METRIC + i};
    }
    all[N_FIXED + N_METRICS] = (struct option){0, 0, 0, 0};

    double global = 0.05, per[N_METRICS];
    int have_per[N_METRICS] = {0};
    for (int i = 0; i < N_METRICS; i++) op->use[i] = 1;
    op->alpha = 0.05;
    op->mem_level = 1;
    op->fmt = F_TABLE;
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
            if (!strcmp(optarg, "json")) {
                op->fmt = F_JSON;
            } else {
                enum tlb_ofmt f;
                if (tlb_ofmt_parse(optarg, &f)) {
                    tlb_error("--format: '%.40s' is not table, md, csv or json", optarg);
                    return -1;
                }
                op->fmt = f == TLB_OFMT_MD ? F_MD : f == TLB_OFMT_CSV ? F_CSV : F_TABLE;
            }
            break;
        case 'o': op->output = optarg; break;
        case O_CROSS: op->cross = 1; break;
        case O_ALLOW_MISSING: op->allow_missing = 1; break;
        case O_NO_MEM_LEVEL:
            op->mem_level = 0;
            break;
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
    if (op->fmt == F_JSON && tlb_json_check("compare --format json") != 0) return -1;
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
            if (strcmp(cell(t, r, col), first) != 0) return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- main */

struct counts {
    size_t v[V_COUNT];
    size_t matched, compared, only_b, only_n, disturbed;
};

/* The text (table/Markdown) report around the table: header, comparability notes, lists of
 * configurations in one file only. Every name from a file is escaped for the format. */
static void print_header(FILE *out, const struct opts *op, const char *const *files,
                         const struct tlb_table *tb, const struct tlb_table *tn, int show,
                         const struct tlb_buf *warnings) {
    int md = op->fmt == F_MD;
    fputs(md ? "### tlbench compare: BASE " : "tlbench compare: BASE ", out);
    put_esc(out, op->fmt, files[0]);
    fprintf(out, " (%zu rows) vs NEW ", tb->n_rows);
    put_esc(out, op->fmt, files[1]);
    fprintf(out, " (%zu rows)\n\n", tn->n_rows);
    const char *bcol = op->board_col;
    if (show) {
        const char *parts[] = {"BASE: board '", first_value(tb, bcol), "', model '",
                               first_value(tb, "model_name"), "'; NEW: board '",
                               first_value(tn, bcol), "', model '", first_value(tn, "model_name"),
                               "'"};
        for (size_t i = 0; i < TLB_ARRAY_LEN(parts); i++)
            i % 2 ? put_esc(out, op->fmt, parts[i]) : (void)fputs(parts[i], out);
        fprintf(out, "%s\n\n", op->cross ? " (--cross)" : "");
    } else {
        fputs("board: ", out);
        put_esc(out, op->fmt, first_value(tb, bcol));
        fputs("; model: ", out);
        put_esc(out, op->fmt, first_value(tb, "model_name"));
        fputs("\n\n", out);
    }
    fprintf(out, "thresholds:");
    for (int m = 0; m < N_METRICS; m++)
        if (op->use[m]) fprintf(out, " %s %g%%", metrics[m].name, 100 * op->threshold[m]);
    fprintf(out, "; alpha %g; bootstrap %d resamples, seed %llu\n\n", op->alpha, op->resamples,
            (unsigned long long)op->seed);
    if (warnings->len) {
        for (const char *l = warnings->p; l && *l;) {
            const char *nl = strchr(l, '\n');
            char line[600];
            snprintf(line, sizeof line, "%.*s", nl ? (int)(nl - l) : (int)strlen(l), l);
            fputs(md ? "- warning: " : "warning: ", out);
            put_esc(out, op->fmt, line);
            fputc('\n', out);
            l = nl ? nl + 1 : NULL;
        }
        fputc('\n', out);
    }
}

static void print_only(FILE *out, const struct opts *op, const struct tlb_buf *list,
                       const char *side, size_t n) {
    if (!n) return;
    fprintf(out, "\nonly in %s (%zu):\n", side, n);
    for (const char *l = list->p; l && *l;) {
        const char *nl = strchr(l, '\n');
        char line[600];
        snprintf(line, sizeof line, "%.*s", nl ? (int)(nl - l) : (int)strlen(l), l);
        fputs(op->fmt == F_MD ? "- " : "  ", out);
        put_esc(out, op->fmt, line);
        fputc('\n', out);
        l = nl ? nl + 1 : NULL;
    }
}

int tlb_cmd_compare(int argc, char **argv) {
    struct opts op = {0};
    const char *files[2];
    int rc = parse_args(argc, argv, &op, files);
    if (rc) return rc > 0 ? TLB_EXIT_OK : TLB_EXIT_USAGE;

    struct tlb_table *tb = NULL, *tn = NULL;
    struct config *kb = NULL, *kn = NULL;
    size_t nkb = 0, nkn = 0;
    struct report rp = {.op = &op};
    struct tlb_buf only[2] = {{0}}, warnings = {0};
    struct differs diff;
    memset(&diff, 0, sizeof diff);
    FILE *out = stdout;
    int exit_code = TLB_EXIT_USAGE;
    if (tlb_csv_read(files[0], &tb) || tlb_csv_read(files[1], &tn)) goto done;
    tlb_table_drop_out_of_range(tb); /* every number below is one a measurement can have */
    tlb_table_drop_out_of_range(tn);
    for (int k = 0; k < 2; k++) {
        const struct tlb_table *t = k ? tn : tb;
        if (t->n_rows == 0) {
            tlb_error("%s: no rows (a header only, or none usable): nothing to compare; did the "
                      "%s sweep run?", files[k], k ? "NEW" : "BASE");
            goto done;
        }
    }

    int skip[N_KEYS] = {0};
    const char *bcol = all_labelled(tb) && all_labelled(tn) ? "board_label" : "board";
    op.board_col = bcol;
    int shared_board = share_value(tb, tn, bcol), shared_model = share_value(tb, tn, "model_name");
    if ((!shared_board || !shared_model) && !op.cross) {
        tlb_error("%s and %s are from different %s ('%.60s' vs '%.60s'); use --cross to compare "
                  "them anyway",
                  files[0], files[1], !shared_board ? "boards" : "models",
                  first_value(tb, !shared_board ? bcol : "model_name"),
                  first_value(tn, !shared_board ? bcol : "model_name"));
        goto done;
    }
    if (op.cross) {
        skip[0] = 1;                    /* board */
        if (!shared_model) skip[1] = 1; /* model_name */
    }
    if (!(kb = build_configs(tb, &op, skip, &nkb)) || !(kn = build_configs(tn, &op, skip, &nkn)))
        goto done;

    int csv = op.fmt == F_CSV, json = op.fmt == F_JSON;
    if (json ? !(rp.bmf = tlb_bmf_new())
             : !(rp.ot = csv ? tlb_otable_new((int)TLB_ARRAY_LEN(csv_headers), csv_headers) : tlb_otable_new(10, table_headers))) {
        tlb_error("out of memory");
        goto done;
    }
    if (op.output && !(out = tlb_fopen_output(op.output, "w"))) {
        out = stdout;
        goto done;
    }
    /* Show board/model in labels only when they vary. */
    int show_board = op.cross ? varies(tb, tb, bcol) || varies(tn, tn, bcol)
                              : varies(tb, tn, bcol);
    int show_model = varies(tb, tn, "model_name");

    struct counts n;
    memset(&n, 0, sizeof n);
    char label[512];
    size_t i = 0, j = 0;
    while (i < nkb || j < nkn) {
        int c = i >= nkb ? 1 : j >= nkn ? -1 : strcmp(kb[i].key, kn[j].key);
        if (c != 0) {
            int side = c < 0 ? 0 : 1;
            const struct tlb_table *t = side ? tn : tb;
            const struct config *cf = side ? &kn[j++] : &kb[i++];
            config_label(t, cf->row, bcol, show_board, show_model, label, sizeof label);
            /* measured in BASE and absent from NEW: the gate cannot vouch for it */
            int missing = !side && !strcmp(config_status(t, cf), "ok");
            if (missing) n.v[V_MISSING]++;
            const char *verdict = side ? "only in new" : missing ? "missing" : "only in base";
            if (csv && emit(&rp, t, cf->row, label, "", NULL, verdict, "") != 0) goto done;
            if (!csv) {
                tlb_buf_printf(&only[side], "%s%s\n", label,
                               missing ? " (measured in BASE: missing)" : "");
                if (only[side].failed) {
                    tlb_error("out of memory");
                    goto done;
                }
            }
            side ? n.only_n++ : n.only_b++;
            continue;
        }
        const struct config *cb = &kb[i++], *cn = &kn[j++];
        size_t rb = cb->row, rn = cn->row;
        n.matched++;
        note_differences(&diff, tb, rb, tn, rn);
        config_label(tb, rb, bcol, show_board, show_model, label, sizeof label);
        const char *sb = config_status(tb, cb), *sn = config_status(tn, cn);
        if (strcmp(sb, "ok") != 0 || strcmp(sn, "ok") != 0) {
            /* Status changes: metrics of a row that did not run are not comparable. */
            enum verdict v = V_NO_CHANGE;
            char note[256];
            const char *detail = cell(tn, rn, "status_detail");
            if (!strcmp(sb, "ok") && failed_status(sn)) v = V_REGRESSION;
            else if (!strcmp(sb, "ok")) v = V_DEGRADED;
            else if (!strcmp(sn, "ok")) v = V_IMPROVEMENT;
            snprintf(note, sizeof note, "%s -> %s%s%.120s", sb, sn, *detail ? ": " : "", detail);
            n.v[v]++;
            struct result r = {.v = v, .p = NAN, .ci_lo = NAN, .ci_hi = NAN, .base = NAN,
                               .cand = NAN, .ratio = NAN, .cand_lo = NAN, .cand_hi = NAN,
                               .method = M_SINGLE};
            if (emit(&rp, tb, rb, label, "status", &r, verdict_names[v], note) != 0) goto done;
            continue;
        }
        int paired = cb->rounds && cn->rounds &&
                     !strcmp(cell(tb, rb, "run_id"), cell(tn, rn, "run_id"));
        for (int m = 0; m < N_METRICS; m++) {
            if (!op.use[m]) continue;
            struct result r;
            memset(&r, 0, sizeof r);
            r.p = r.ci_lo = r.ci_hi = r.cand_lo = r.cand_hi = NAN;
            int got = -1;
            if (paired && !metrics[m].deterministic) {
                got = compare_paired(&op, m, tb, cb, tn, cn, &r);
            } else {
                struct side s1 = {0}, s2 = {0};
                if (load_side(tb, cb, &metrics[m], &s1) == 0 &&
                    load_side(tn, cn, &metrics[m], &s2) == 0)
                    got = compare_metric(&op, m, &s1, &s2, &r);
                free(s1.s);
                free(s2.s);
            }
            if (got < 0) {
                tlb_error("compare: %s: cannot compute %s", label, metrics[m].name);
                goto done;
            }
            if (got == 0) continue; /* not measured on one side */
            if (metrics[m].single && !metrics[m].deterministic) { /* timed: not peak memory */
                note_shared_cores(tb, cb, tn, cn, &r);
                /* (pairs of one interleaved run met the same memory, repetition by
                 * repetition: a level apart there is the probe's noise, not the host's) */
                note_memory_levels(tb, cb, tn, cn, &metrics[m], !op.mem_level || paired, &r);
            }
            n.v[r.v]++;
            n.compared += !r.no_data;
            n.disturbed += r.no_data;
            if (emit(&rp, tb, rb, label, metrics[m].name, &r, verdict_names[r.v], r.note))
                goto done;
        }
    }

    /* The verdict of the whole comparison. */
    size_t blocking = n.v[V_DEGRADED] + n.v[V_MISSING];
    int fail = n.v[V_REGRESSION] || (blocking && !op.allow_missing);
    int nothing = n.matched == 0 || (n.compared == 0 && !fail);
    const char *result = nothing ? "NOTHING COMPARED"
                         : n.v[V_REGRESSION] ? "REGRESSION"
                         : fail ? "CONFIGURATIONS MISSING OR NOT MEASURED"
                                : "no regression";
    if (differences_text(&diff, &warnings) != 0) {
        tlb_error("out of memory");
        goto done;
    }
    for (const char *l = warnings.p; l && *l;) {
        const char *nl = strchr(l, '\n');
        tlb_warn("%.*s", nl ? (int)(nl - l) : (int)strlen(l), l);
        l = nl ? nl + 1 : NULL;
    }
    int md = op.fmt == F_MD;
    if (json) {
        char *text = tlb_bmf_print(rp.bmf);
        int bad = !text || fputs(text, out) == EOF || fputc('\n', out) == EOF;
        free(text);
        if (bad) {
            tlb_error("%s: write error", op.output ? op.output : "stdout");
            goto done;
        }
    } else {
        if (!csv)
            print_header(out, &op, files, tb, tn,
                         op.cross || show_board || show_model, &warnings);
        if (tlb_otable_print(rp.ot, out, csv ? TLB_OFMT_CSV : md ? TLB_OFMT_MD : TLB_OFMT_TABLE)) {
            tlb_error("%s: write error", op.output ? op.output : "stdout");
            goto done;
        }
        if (!csv) {
            print_only(out, &op, &only[0], "BASE", n.only_b);
            print_only(out, &op, &only[1], "NEW", n.only_n);
        }
    }
    FILE *sum = csv || json ? stderr : out;
    fprintf(sum, "\n%zu configurations compared: %zu regression(s), %zu improvement(s), "
            "%zu inconclusive, %zu no change, %zu degraded; %zu only in BASE (%zu missing), "
            "%zu only in NEW\n",
            n.matched, n.v[V_REGRESSION], n.v[V_IMPROVEMENT], n.v[V_INCONCLUSIVE],
            n.v[V_NO_CHANGE], n.v[V_DEGRADED], n.only_b, n.v[V_MISSING], n.only_n);
    if (nothing)
        fprintf(sum, "%s\n", n.matched == 0
                                 ? "no configuration of BASE is in NEW (different -p/-n, depths, "
                                   "kernels or threads?): nothing to compare"
                             : n.disturbed
                                 ? "every round was disturbed by other processes: nothing to "
                                   "compare (re-run on a quiet machine)"
                                 : "no metric was measured in both files: nothing to compare");
    else if (blocking && op.allow_missing)
        fprintf(sum, "--allow-missing: %zu configuration(s) measured in BASE and not in NEW do "
                "not fail the gate\n", blocking);
    fprintf(sum, "%sRESULT: %s%s\n", md ? "**" : "", result, md ? "**" : "");
    fflush(sum);
    exit_code = nothing ? TLB_EXIT_USAGE : fail ? TLB_EXIT_FAIL : TLB_EXIT_OK;
done:
    tlb_buf_free(&only[0]);
    tlb_buf_free(&only[1]);
    tlb_buf_free(&warnings);
    if (out != stdout && fclose(out) != 0) {
        tlb_error("%s: write error", op.output);
        exit_code = TLB_EXIT_USAGE;
    }
    tlb_otable_free(rp.ot);
    tlb_bmf_free(rp.bmf);
    free_configs(kb, nkb);
    free_configs(kn, nkn);
    tlb_table_free(tb);
    tlb_table_free(tn);
    return exit_code;
}
