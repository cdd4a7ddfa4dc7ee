/* report-data.c — reads the inputs of `tlbench report`: results CSVs through the schema
 * reader (results-csv.h) and kernels CSVs (report-kcsv.c); groups rows by board; picks the
 * model and workload to chart (the most common, or --model); keeps the measured rows and
 * lists the rows that did not run; finds board prices (--price or the platform profile). */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"
#include "profile.h"
#include "report.h"
#include "stats.h"
#include "util.h"

/* ---------------------------------------------------------------- helpers */

static const char *cell(const struct tlb_table *t, size_t r, const char *col) {
    return tlb_table_str(t, r, tlb_table_col(t, col));
}

static double dval(const struct tlb_table *t, size_t r, const char *col) {
    double v;
    return tlb_table_double(t, r, tlb_table_col(t, col), &v) ? v : NAN;
}

static int64_t ival(const struct tlb_table *t, size_t r, const char *col, int64_t dflt) {
    int64_t v;
    return tlb_table_int(t, r, tlb_table_col(t, col), &v) ? v : dflt;
}

static int is_ok(const struct tlb_table *t, size_t r) {
    const char *s = cell(t, r, "status");
    return *s == '\0' || strcmp(s, "ok") == 0;
}

/* "YYYY-MM-DD" from an RFC 3339 time, or "" when it does not look like one. */
static void date_of(const char *t, char out[11]) {
    out[0] = '\0';
    if (strlen(t) < 10) return;
    for (int i = 0; i < 10; i++) {
        int want_dash = i == 4 || i == 7;
        if (want_dash ? t[i] != '-' : !isdigit((unsigned char)t[i])) return;
    }
    memcpy(out, t, 10);
    out[10] = '\0';
}

static void widen_dates(char lo[11], char hi[11], const char d[11]) {
    if (!d[0]) return;
    if (!lo[0] || strcmp(d, lo) < 0) memcpy(lo, d, 11);
    if (!hi[0] || strcmp(d, hi) > 0) memcpy(hi, d, 11);
}

/* Append a sanitized value to a ", "-joined list when it is not there yet. */
static void add_distinct(char *list, size_t n, const char *raw) {
    char v[32];
    tlb_rep_safe(raw, v, sizeof v, 24);
    for (const char *p = list; (p = strstr(p, v)) != NULL; p++) {
        size_t l = strlen(v);
        if ((p == list || p[-1] == ' ') && (p[l] == '\0' || p[l] == ',')) return;
    }
    size_t used = strlen(list);
    if (used + strlen(v) + 3 >= n) return;
    snprintf(list + used, n - used, "%s%s", used ? ", " : "", v);
}

/* Rank of known names (weight types, kernels) so that charts list them in a sensible
 * order; unknown names sort after, alphabetically. */
static int rank_of(const char *s, const char *const *known, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, known[i]) == 0) return i;
    return n;
}
static const char *const wtype_order[] = {"f32", "f16", "bf16", "q8_0", "q4_0"};
/* other engines' series come after tlbench's kernels */
static const char *const kernel_order[] = {"naive", "tiled", "openblas", "blis", "avx2",
                                           "avx512", "neon", TLB_ENGINE_LLAMA_CPP};
static const char *const engine_order[] = {TLB_ENGINE_TLBENCH, TLB_ENGINE_LLAMA_CPP};

static void add_value(const char **list, int *n, const char *v, const char *const *known,
                      int n_known) {
    for (int i = 0; i < *n; i++)
        if (strcmp(list[i], v) == 0) return;
    if (*n >= TLB_REP_MAX_VALUES) return;
    int r = rank_of(v, known, n_known), at = *n;
    while (at > 0) {
        int ra = rank_of(list[at - 1], known, n_known);
        if (ra < r || (ra == r && r < n_known) || (ra == r && strcmp(list[at - 1], v) < 0)) break;
        list[at] = list[at - 1];
        at--;
    }
    list[at] = v;
    (*n)++;
}

/* ---------------------------------------------------------------- boards */

/* A board is the user's label when the row has one (a fleet of identical boards), else the
 * detected name, else profile and CPU. Labels get their own key space so that a label equal
 * to some board's detected name is still another board. */
static void board_key(const struct tlb_table *t, size_t r, char *key, size_t n) {
    const char *label = cell(t, r, "board_label"), *name = cell(t, r, "board");
    if (*label) snprintf(key, n, "label:%s", label);
    else if (*name && strcmp(name, "unknown") != 0) snprintf(key, n, "board:%s", name);
    else snprintf(key, n, "kind:%s / %s", cell(t, r, "board_kind"), cell(t, r, "cpu_info"));
}

static int find_board(struct tlb_rep_data *d, const struct tlb_table *t, size_t r) {
    char key[256];
    board_key(t, r, key, sizeof key);
    for (int b = 0; b < d->n_boards; b++)
        if (strcmp(d->boards[b].key, key) == 0) return b;
    if (d->n_boards >= TLB_REP_MAX_BOARDS) {
        tlb_error("%s: line %zu: more than %d boards in the inputs; report them in smaller "
                  "groups", t->path, tlb_table_line(t, r), TLB_REP_MAX_BOARDS);
        return -1;
    }
    struct tlb_rep_board *b = &d->boards[d->n_boards];
    memset(b, 0, sizeof *b);
    snprintf(b->key, sizeof b->key, "%s", key);
    b->name = cell(t, r, "board");
    b->user_label = cell(t, r, "board_label");
    b->kind = cell(t, r, "board_kind");
    b->cpu = cell(t, r, "cpu_info");
    b->os = cell(t, r, "os");
    b->compiler = cell(t, r, "compiler");
    b->cflags = cell(t, r, "cflags");
    b->n_cpus = ival(t, r, "n_cpus", 0);
    b->power_source = "none";
    b->power_scope = "none";
    b->min_depth = INT64_MAX;
    b->price_usd = NAN;
    b->info = b->fleet = -1;
    /* Display label: the user's label, the board name, or "kind (cpu)" when the name is
     * unknown. */
    char raw[300];
    if (*b->user_label) snprintf(raw, sizeof raw, "%s", b->user_label);
    else if (*b->name && strcmp(b->name, "unknown") != 0) snprintf(raw, sizeof raw, "%s", b->name);
    else snprintf(raw, sizeof raw, "%s (%s)", *b->kind ? b->kind : "unknown board", b->cpu);
    tlb_rep_safe(raw, b->label, sizeof b->label, 38);
    for (int i = 0, dup = 2; i < d->n_boards; i++) {
        if (strcmp(d->boards[i].label, b->label) == 0) {
            char base[32];
            tlb_rep_safe(raw, base, sizeof base, 30);
            snprintf(b->label, sizeof b->label, "%s #%d", base, dup++ % 100);
            i = -1; /* check the new label against all again */
        }
    }
    return d->n_boards++;
}

static void add_file(struct tlb_rep_board *b, const char *path) {
    if (strstr(b->files, path)) return;
    size_t used = strlen(b->files);
    if (used + strlen(path) + 3 < sizeof b->files)
        snprintf(b->files + used, sizeof b->files - used, "%s%s", used ? ", " : "", path);
}

/* ---------------------------------------------------------------- selection */

struct counter {
    const char *key;
    int64_t a, b;
    size_t n;
};

static void count(struct counter *c, size_t *n, size_t cap, const char *key, int64_t a,
                  int64_t b2) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp(c[i].key, key) == 0 && c[i].a == a && c[i].b == b2) {
            c[i].n++;
            return;
        }
    if (*n < cap) c[(*n)++] = (struct counter){key, a, b2, 1};
}

static const struct counter *most(const struct counter *c, size_t n) {
    const struct counter *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (!best || c[i].n > best->n) best = &c[i];
    return best;
}

/* ---------------------------------------------------------------- load */

static int load_kernels(struct tlb_rep_data *d, const char *path) {
    if (d->n_kfiles >= (int)TLB_ARRAY_LEN(d->kfiles)) {
        tlb_error("%s: at most %d kernels CSVs per report", path, (int)TLB_ARRAY_LEN(d->kfiles));
        return -1;
    }
    if (tlb_rep_kcsv_read(path, &d->kfiles[d->n_kfiles]) != 0) return -1;
    d->n_kfiles++;
    return 0;
}

static int collect(struct tlb_rep_data *d, const char *model_opt) {
    /* The model: --model, else the one with the most measured rows. */
    struct counter cnt[256];
    size_t n_cnt = 0, n_ok = 0;
    for (int i = 0; i < d->n_tables; i++)
        for (size_t r = 0; r < d->tables[i]->n_rows; r++)
            if (is_ok(d->tables[i], r)) {
                count(cnt, &n_cnt, 256, cell(d->tables[i], r, "model_name"), 0, 0);
                n_ok++;
            } else if (!strcmp(cell(d->tables[i], r, "status"), "invalid")) {
                n_ok++; /* charted (marked) too */
            }
    if (model_opt) {
        d->model = NULL;
        for (size_t i = 0; i < n_cnt; i++)
            if (strcmp(cnt[i].key, model_opt) == 0) d->model = cnt[i].key;
        if (!d->model) {
            char list[512] = "";
            for (size_t i = 0; i < n_cnt; i++) add_distinct(list, sizeof list, cnt[i].key);
            tlb_error("--model: no measured row of model '%s' in the inputs (models: %s)",
                      model_opt, *list ? list : "none");
            return -1;
        }
    } else {
        const struct counter *m = most(cnt, n_cnt);
        d->model = m ? m->key : "";
    }
    tlb_rep_safe(*d->model ? d->model : "no model", d->model_label, sizeof d->model_label, 40);

    /* The workload: the most common (n_prompt, n_gen) of that model. */
    n_cnt = 0;
    for (int i = 0; i < d->n_tables; i++)
        for (size_t r = 0; r < d->tables[i]->n_rows; r++)
            if (is_ok(d->tables[i], r) && !strcmp(cell(d->tables[i], r, "model_name"), d->model))
                count(cnt, &n_cnt, 256, "", ival(d->tables[i], r, "n_prompt", -1),
                      ival(d->tables[i], r, "n_gen", -1));
    const struct counter *w = most(cnt, n_cnt);
    d->n_prompt = w ? w->a : -1;
    d->n_gen = w ? w->b : -1;

    d->rows = tlb_calloc(n_ok ? n_ok : 1, sizeof *d->rows, "report rows");
    size_t n_all = 0;
    for (int i = 0; i < d->n_tables; i++) n_all += d->tables[i]->n_rows;
    d->issues = tlb_calloc(n_all ? n_all : 1, sizeof *d->issues, "report issues");
    if (!d->rows || !d->issues) return -1;

    n_cnt = 0;
    for (int i = 0; i < d->n_tables; i++) {
        const struct tlb_table *t = d->tables[i];
        for (size_t r = 0; r < t->n_rows; r++) {
            int bi = find_board(d, t, r);
            if (bi < 0) return -1;
            struct tlb_rep_board *b = &d->boards[bi];
            add_file(b, t->path);
            b->n_rows++;
            enum tlb_status st = TLB_STATUS_OK;
            int charted_invalid = 0;
            tlb_status_from_name(*cell(t, r, "status") ? cell(t, r, "status") : "ok", &st);
            b->status_counts[st]++;
            char day[11];
            date_of(cell(t, r, "test_time"), day);
            if (st != TLB_STATUS_OK) {
                /* an invalid row was measured (throttled): it is charted, marked, too */
                if (st == TLB_STATUS_INVALID && !strcmp(cell(t, r, "model_name"), d->model))
                    charted_invalid = 1;
                struct tlb_rep_issue *is = &d->issues[d->n_issues++];
                *is = (struct tlb_rep_issue){bi, cell(t, r, "status"), cell(t, r, "status_detail"),
                                             cell(t, r, "weight_type"), cell(t, r, "kernel"),
                                             cell(t, r, "kv_type"), cell(t, r, "model_name"),
                                             ival(t, r, "n_threads", -1), ival(t, r, "n_depth", -1)};
                if (st == TLB_STATUS_INVALID) {
                    d->n_invalid++;
                    if (!*is->detail) is->detail = cell(t, r, "invalid_reason");
                }
                if (!charted_invalid) continue;
            }
            if (strcmp(cell(t, r, "model_name"), d->model) != 0) {
                d->n_other_model++;
                continue;
            }
            if (ival(t, r, "n_prompt", -1) != d->n_prompt || ival(t, r, "n_gen", -1) != d->n_gen) {
                d->n_other_workload++;
                continue;
            }
            struct tlb_rep_row *row = &d->rows[d->n_rows++];
            row->board = bi;
            row->wtype = cell(t, r, "weight_type");
            row->kv = cell(t, r, "kv_type");
            row->engine = tlb_table_engine(t, r);
            row->kernel = strcmp(row->engine, TLB_ENGINE_TLBENCH) ? row->engine : cell(t, r, "kernel");
            row->table = t;
            row->table_row = r;
            row->threads = ival(t, r, "n_threads", 0);
            row->depth = ival(t, r, "n_depth", 0);
            row->n_ctx = ival(t, r, "n_ctx", row->depth + d->n_prompt + d->n_gen);
            row->tg = dval(t, r, "tg_ts_median");
            if (isnan(row->tg)) row->tg = dval(t, r, "tg_ts_mean");
            row->tg_sd = dval(t, r, "tg_ts_stddev");
            row->pp = dval(t, r, "pp_ts_median");
            if (isnan(row->pp)) row->pp = dval(t, r, "pp_ts_mean");
            row->pp_sd = dval(t, r, "pp_ts_stddev");
            /* No stddev column: the per-repetition samples give it. */
            for (int ph = 0; ph < 2; ph++) {
                double *sd = ph ? &row->pp_sd : &row->tg_sd, *s = NULL;
                size_t ns = 0;
                if (!isnan(*sd)) continue;
                if (tlb_table_samples(t, r, tlb_table_col(t, ph ? "pp_samples_ts" : "tg_samples_ts"),
                                      &s, &ns) < 0)
                    return -1;
                if (ns >= 2) *sd = tlb_stat_stddev(s, ns);
                free(s);
            }
            /* what the run needs: the larger of the worker's and the load's peak */
            if (!tlb_table_run_peak(t, r, &row->peak)) row->peak = NAN;
            row->weights = dval(t, r, "weights_bytes");
            row->kv_bytes = dval(t, r, "kv_bytes");
            row->jpt = dval(t, r, "j_per_token");
            row->tpj = dval(t, r, "tokens_per_j");
            if (isnan(row->tpj) && row->jpt > 0) row->tpj = 1.0 / row->jpt;
            if (isnan(row->jpt) && row->tpj > 0) row->jpt = 1.0 / row->tpj;
            row->avg_w = dval(t, r, "avg_w");
            row->kld = dval(t, r, "kld_mean");
            row->top1 = dval(t, r, "top1_agree");
            row->tg_pct_bw = dval(t, r, "tg_pct_mem_bw");
            row->noisy = ival(t, r, "noisy", 0) != 0;
            row->core_share = dval(t, r, "core_share");
            row->invalid = charted_invalid;
            row->run_id = cell(t, r, "run_id");
            row->round = ival(t, r, "round", 0);
            if (!strcmp(cell(t, r, "model_format"), "synthetic") ||
                !strncmp(cell(t, r, "model_hash"), "synthetic:", 10))
                d->synthetic = 1;
            /* Negative or absurd values are not drawable; treat them as not measured. */
            double *pos[] = {&row->tg, &row->tg_sd, &row->pp, &row->pp_sd, &row->peak,
                             &row->weights, &row->kv_bytes, &row->jpt, &row->tpj, &row->avg_w,
                             &row->kld, &row->top1};
            for (size_t k = 0; k < TLB_ARRAY_LEN(pos); k++)
                if (*pos[k] < 0 || *pos[k] > 1e18) *pos[k] = NAN;
            b->n_charted++;
            if (row->depth < b->min_depth) b->min_depth = row->depth;
            if (row->threads > b->max_threads) b->max_threads = row->threads;
            if (!isnan(row->jpt) && !b->has_power) {
                b->has_power = 1;
                b->power_source = cell(t, r, "power_source");
                b->power_scope = cell(t, r, "power_scope");
            }
            widen_dates(b->date_lo, b->date_hi, day);
            widen_dates(d->date_lo, d->date_hi, day);
            add_distinct(b->versions, sizeof b->versions, cell(t, r, "tlbench_version"));
            add_distinct(d->versions, sizeof d->versions, cell(t, r, "tlbench_version"));
            add_value(d->wtypes, &d->n_wtypes, row->wtype, wtype_order,
                      (int)TLB_ARRAY_LEN(wtype_order));
            add_value(d->kernels, &d->n_kernels, row->kernel, kernel_order,
                      (int)TLB_ARRAY_LEN(kernel_order));
            add_value(d->engines, &d->n_engines, row->engine, engine_order,
                      (int)TLB_ARRAY_LEN(engine_order));
            count(cnt, &n_cnt, 256, row->kv, 0, 0);
        }
    }
    const struct counter *kv = most(cnt, n_cnt);
    d->kv = kv ? kv->key : "";
    d->n_kv = (int)n_cnt;
    for (int b = 0; b < d->n_boards; b++)
        if (d->boards[b].min_depth == INT64_MAX) d->boards[b].min_depth = 0;
    return 0;
}

/* The board a JSON record describes: the one with its board_label; without a label (info
 * of a run without --board-label), the unlabelled board of the same detected name. */
static void match_kv(struct tlb_rep_data *d, int k) {
    struct tlb_rep_kv *kv = &d->kvs[k];
    const char *label = tlb_rep_kv_get(kv, "board_label"), *name = tlb_rep_kv_get(kv, "board");
    int is_info = tlb_rep_kv_get(kv, "arch") != NULL;
    for (int b = 0; b < d->n_boards && kv->board < 0; b++) {
        const struct tlb_rep_board *bd = &d->boards[b];
        if (label && *label ? !strcmp(bd->user_label, label)
                            : !*bd->user_label && name && !strcmp(bd->name, name))
            kv->board = b;
    }
    if (kv->board < 0) {
        /* a fleet record of a board without results is shown as such (unreachable...) */
        if (!is_info) return;
        tlb_warn("%s: describes no board of the results (board_label '%.60s', board "
                 "'%.60s'); not used", kv->path, label ? label : "", name ? name : "");
        return;
    }
    int *slot = is_info ? &d->boards[kv->board].info : &d->boards[kv->board].fleet;
    if (*slot < 0) *slot = k;
}

static int load_json(struct tlb_rep_data *d, const char *path) {
    if (d->n_kvs >= TLB_REP_MAX_FILES) {
        tlb_error("%s: at most %d JSON files per report", path, TLB_REP_MAX_FILES);
        return -1;
    }
    int rc = tlb_rep_json_read(path, &d->kvs[d->n_kvs]);
    if (rc < 0) return -1;
    if (rc > 0) return 0; /* skipped: no cJSON */
    const struct tlb_rep_kv *kv = &d->kvs[d->n_kvs];
    if (!tlb_rep_kv_get(kv, "arch") && !tlb_rep_kv_get(kv, "fleet_status")) {
        tlb_error("%s: neither a `tlbench info --format json` file nor a fleet status record "
                  "(no key arch or fleet_status)", path);
        tlb_rep_kv_free(&d->kvs[d->n_kvs]);
        return -1;
    }
    d->n_kvs++;
    return 0;
}

/* ---------------------------------------------------------------- one row per configuration */

struct ref {
    struct tlb_rep_row *r;
    size_t order; /* position in the inputs: later wins */
};

static int cmp_cfg(const struct tlb_rep_row *a, const struct tlb_rep_row *b) {
    int c;
    if (a->board != b->board) return a->board < b->board ? -1 : 1;
    if ((c = strcmp(a->wtype, b->wtype)) || (c = strcmp(a->kernel, b->kernel)) ||
        (c = strcmp(a->kv, b->kv)))
        return c;
    if (a->threads != b->threads) return a->threads < b->threads ? -1 : 1;
    if (a->depth != b->depth) return a->depth < b->depth ? -1 : 1;
    return 0;
}

static int cmp_ref(const void *x, const void *y) {
    const struct ref *a = x, *b = y;
    int c = cmp_cfg(a->r, b->r);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* Median and spread of one rate over the rounds of a configuration. */
static void over_rounds(const struct ref *g, size_t n, size_t off, double *med, double *sd) {
    double v[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++) {
        double x = *(const double *)((const char *)g[i].r + off);
        if (isfinite(x)) v[k++] = x;
    }
    if (!k) return;
    *med = tlb_stat_median(v, k);
    *sd = k > 1 ? tlb_stat_stddev(v, k) : NAN;
}

/* One rule for a configuration written more than once, as compare has: the rounds of one
 * interleaved run (tlbench ab, sweep --rounds) are one measurement (medians over the rounds,
 * their spread as the error, the largest peak); otherwise the last row wins and every earlier
 * one is a repeat, counted and warned about. Tables and charts then use the same row. */
static int one_row_per_config(struct tlb_rep_data *d) {
    if (d->n_rows < 2) return 0;
    struct ref *refs = tlb_calloc(d->n_rows, sizeof *refs, "report rows");
    struct tlb_rep_row *kept = tlb_calloc(d->n_rows, sizeof *kept, "report rows");
    if (!refs || !kept) {
        free(refs);
        free(kept);
        return -1;
    }
    for (size_t i = 0; i < d->n_rows; i++) refs[i] = (struct ref){&d->rows[i], i};
    qsort(refs, d->n_rows, sizeof *refs, cmp_ref);
    size_t n = 0;
    for (size_t i = 0; i < d->n_rows;) {
        size_t j = i;
        while (j + 1 < d->n_rows && cmp_cfg(refs[j + 1].r, refs[i].r) == 0) j++;
        struct tlb_rep_row last = *refs[j].r;
        size_t rounds = 0;
        if (last.round > 0) { /* the rounds of the last row's run, to the front of the group */
            for (size_t k = i; k <= j; k++)
                if (refs[k].r->round > 0 && !strcmp(refs[k].r->run_id, last.run_id))
                    refs[i + rounds++] = refs[k];
            over_rounds(refs + i, rounds, offsetof(struct tlb_rep_row, tg), &last.tg, &last.tg_sd);
            over_rounds(refs + i, rounds, offsetof(struct tlb_rep_row, pp), &last.pp, &last.pp_sd);
            for (size_t k = 0; k < rounds; k++) {
                const struct tlb_rep_row *r = refs[i + k].r;
                if (isfinite(r->peak) && !(r->peak <= last.peak)) last.peak = r->peak;
                last.noisy |= r->noisy;
                if (isfinite(r->core_share) && !(r->core_share >= last.core_share))
                    last.core_share = r->core_share; /* the lowest; last's may be NaN */
                last.invalid |= r->invalid;
            }
        }
        d->n_repeats += (j - i + 1) - (rounds ? rounds : 1);
        kept[n++] = last;
        i = j + 1;
    }
    memcpy(d->rows, kept, n * sizeof *kept); /* sorted by configuration */
    d->n_rows = n;
    for (int b = 0; b < d->n_boards; b++) d->boards[b].n_charted = 0;
    for (size_t i = 0; i < n; i++) d->boards[d->rows[i].board].n_charted++;
    free(refs);
    free(kept);
    if (d->n_repeats)
        tlb_warn("report: %zu rows repeat an earlier configuration (same board, weight type, "
                 "kernel, KV type, threads and depth); using the last of each", d->n_repeats);
    return 0;
}

int tlb_rep_load(struct tlb_rep_data *d, const char *const *files, int n_files,
                 const char *kernels_csv, const char *model) {
    memset(d, 0, sizeof *d);
    for (int i = 0; i < n_files; i++) {
        int j = tlb_rep_json_is(files[i]);
        if (j < 0) return -1;
        if (j) {
            if (load_json(d, files[i]) != 0) return -1;
            continue;
        }
        int k = tlb_rep_kcsv_is(files[i]);
        if (k < 0) return -1;
        if (k) {
            if (load_kernels(d, files[i]) != 0) return -1;
            continue;
        }
        if (d->n_tables >= TLB_REP_MAX_FILES) {
            tlb_error("%s: at most %d results CSVs per report", files[i], TLB_REP_MAX_FILES);
            return -1;
        }
        if (tlb_csv_read(files[i], &d->tables[d->n_tables]) != 0) return -1;
        tlb_table_drop_out_of_range(d->tables[d->n_tables]); /* before any chart arithmetic */
        d->n_tables++;
    }
    if (kernels_csv && load_kernels(d, kernels_csv) != 0) return -1;
    if (d->n_tables == 0) {
        tlb_error("report: no results CSV among the inputs (only kernels CSVs)");
        return -1;
    }
    size_t rows = 0;
    for (int i = 0; i < d->n_tables; i++) rows += d->tables[i]->n_rows;
    if (rows == 0) {
        tlb_error("report: %s%s: no rows (a header only): nothing to report", d->tables[0]->path,
                  d->n_tables > 1 ? " and the other inputs" : "");
        return -1;
    }
    if (collect(d, model) != 0) return -1;
    if (one_row_per_config(d) != 0) return -1;
    for (int k = 0; k < d->n_kvs; k++) match_kv(d, k);
    return 0;
}

void tlb_rep_free(struct tlb_rep_data *d) {
    for (int i = 0; i < d->n_tables; i++) tlb_table_free(d->tables[i]);
    for (int i = 0; i < d->n_kfiles; i++) tlb_rep_kcsv_free(&d->kfiles[i]);
    for (int i = 0; i < d->n_kvs; i++) tlb_rep_kv_free(&d->kvs[i]);
    free(d->rows);
    free(d->issues);
    memset(d, 0, sizeof *d);
}

/* ---------------------------------------------------------------- prices */

static int safe_name(const char *s) {
    if (!*s || strlen(s) > 31) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') return 0;
    return 1;
}

void tlb_rep_prices(struct tlb_rep_data *d, const struct tlb_rep_opts *o) {
    int used[TLB_REP_MAX_PRICES] = {0};
    char dir[TLB_PATH_MAX];
    int have_dir = tlb_profile_dir(dir, sizeof dir) == 0;
    for (int bi = 0; bi < d->n_boards; bi++) {
        struct tlb_rep_board *b = &d->boards[bi];
        for (int i = 0; i < o->n_prices; i++) {
            const char *p = o->prices[i].board;
            const char *key = strchr(b->key, ':') + 1; /* after "label:", "board:", "kind:" */
            if ((*b->user_label && !strcmp(p, b->user_label)) || !strcmp(p, b->name) ||
                !strcmp(p, b->label) || !strcmp(p, key) || !strcmp(p, b->kind)) {
                b->price_usd = o->prices[i].usd;
                snprintf(b->price_src, sizeof b->price_src, "--price");
                used[i] = 1;
                break;
            }
        }
        if (!isnan(b->price_usd) || !have_dir || !safe_name(b->kind)) continue;
        char path[TLB_PATH_MAX + 48];
        snprintf(path, sizeof path, "%s/%s.conf", dir, b->kind);
        if (access(path, R_OK) != 0) continue;
        struct tlb_profile *prof = tlb_calloc(1, sizeof *prof, "profile");
        if (!prof) continue;
        if (tlb_profile_load(path, prof) == 0 && isfinite(prof->price_usd) && prof->price_usd > 0) {
            b->price_usd = prof->price_usd;
            snprintf(b->price_src, sizeof b->price_src, "profile %s", b->kind);
        }
        free(prof);
    }
    for (int i = 0; i < o->n_prices; i++)
        if (!used[i])
            tlb_warn("--price %s=%g: no board of that name, label or profile in the inputs",
                     o->prices[i].board, o->prices[i].usd);
}

int tlb_rep_shared_cores(const struct tlb_rep_row *r) {
    return r->core_share < TLB_CORE_SHARE_LOW; /* NAN (not measured): no */
}

const char *tlb_rep_flags(const struct tlb_rep_row *r, int invalid_long) {
    const int shared = tlb_rep_shared_cores(r);
    if (r->invalid) return invalid_long ? " (invalid: not trusted)" : " (invalid)";
    if (r->noisy) return shared ? " (noisy, shared cores)" : " (noisy)";
    return shared ? " (shared cores)" : "";
}

int tlb_rep_untrusted(const struct tlb_rep_row *r) {
    return r->noisy || r->invalid || tlb_rep_shared_cores(r);
}
