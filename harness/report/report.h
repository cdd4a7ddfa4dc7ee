/* report.h — the parts of `tlbench report` (cli/cmd-report.c) and what they share: data.c
 * reads results CSVs into boards and rows, kcsv.c reads `tlbench kernels` CSVs, rank.c makes
 * the decisions (best configuration per board under a RAM budget), charts.c writes gnuplot
 * data files and scripts (one per line of chart-list.h), gnuplot.c runs gnuplot, doc.c
 * renders a document as Markdown and HTML, page.c fills it, text.c escapes text for each of
 * those outputs. Every CSV value is untrusted: it reaches gnuplot only as sanitized data,
 * HTML and Markdown only escaped.
 * Layer harness/report/: reads CSVs, never measures. It uses base/, engine/ (types),
 * results/ and sensors/ (profiles, for prices); only cli/ uses it. */
#ifndef TLB_REPORT_H
#define TLB_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "escape.h"
#include "results-csv.h"
#include "schema.h"

#define TLB_REP_MAX_FILES 32
#define TLB_REP_MAX_BOARDS 8
#define TLB_REP_MAX_VALUES 16  /* distinct weight types / kernels / threads / depths kept */
#define TLB_REP_MAX_BUDGETS 8
#define TLB_REP_MAX_PRICES 16
#define TLB_REP_LABEL 44       /* gnuplot-safe labels, with the NUL */

/* ---------------------------------------------------------------- options */

struct tlb_rep_price {
    const char *board; /* matches a board's label, name, display label or profile (board_kind) */
    double usd;
};

struct tlb_rep_opts {
    const char *title;                           /* NULL: made from the boards */
    const char *model;                           /* NULL: the model with the most rows */
    const char *out_dir;
    uint64_t budgets[TLB_REP_MAX_BUDGETS];       /* RAM budgets of the ranking, ascending */
    int n_budgets;
    uint64_t lines[TLB_REP_MAX_BUDGETS * 2];     /* budget lines on the memory chart */
    int n_lines;
    struct tlb_rep_price prices[TLB_REP_MAX_PRICES];
    int n_prices;
    int timeout_s;                               /* per gnuplot run */
};

/* ---------------------------------------------------------------- data */

/* One board (a machine): the rows of every input file that came from it. */
struct tlb_rep_board {
    const char *name;       /* `board` as recorded (may be "unknown") */
    const char *user_label; /* `board_label` as recorded ("" when none: before csv-3) */
    const char *kind, *cpu, *os, *compiler, *cflags, *power_source, *power_scope;
    int64_t n_cpus;
    char key[256];          /* grouping key: the user's label, else the name, else kind/cpu */
    char label[TLB_REP_LABEL]; /* gnuplot-safe display label (the user's label when given),
                                * unique among boards */
    char date_lo[11], date_hi[11]; /* YYYY-MM-DD of the first and last test_time */
    char versions[64];      /* distinct tlbench_version values (sanitized), ", "-joined */
    char files[512];        /* input files (as given), ", "-joined, may be truncated */
    size_t n_rows;          /* every row of the board, any model or status */
    size_t n_charted;       /* rows in tlb_rep_data.rows */
    size_t status_counts[TLB_STATUS_COUNT];
    int has_power;          /* some charted row has j_per_token */
    int64_t min_depth, max_threads; /* over its charted rows */
    double price_usd;       /* NAN when unknown */
    char price_src[160];    /* "--price", "platforms/rpi5.conf" */
    int info, fleet;        /* its `tlbench info` JSON and fleet status in tlb_rep_data.kvs,
                             * -1 when none */
};

/* One measured configuration (status ok) of the selected model and workload. */
struct tlb_rep_row {
    int board;
    const char *wtype, *kv;          /* as recorded */
    const char *kernel;              /* the series: tlbench's kernel, or another engine's name
                                      * ("llama.cpp"), so engines sit side by side like kernels */
    const char *engine;              /* "tlbench", "llama.cpp" */
    const struct tlb_table *table;   /* where the row came from (its samples) */
    size_t table_row;
    int64_t threads, depth, n_ctx;
    double tg, tg_sd, pp, pp_sd;     /* tokens/s: median, stddev (NAN: not measured) */
    double peak, weights, kv_bytes;  /* bytes (NAN: not measured) */
    double jpt, tpj, avg_w;          /* J/token, tokens/J, W */
    double kld, top1;
    double tg_pct_bw;                /* decode's share of the memory's level (tg_pct_mem_bw), % */
    int noisy;
    double core_share;               /* lowest over the rows: below 0.75 threads shared cores */
    int invalid;                     /* status invalid (throttled...): charted, marked, never ranked */
    const char *run_id;              /* with round: one of an interleaved run's rounds */
    int64_t round;                   /* 0 when not a round */
};

/* A row that did not produce measurements (crashed, timeout, unsupported...). */
struct tlb_rep_issue {
    int board;
    const char *status, *detail, *wtype, *kernel, *kv, *model;
    int64_t threads, depth;
};

/* One row of a `tlbench kernels --format csv` file. */
struct tlb_rep_krow {
    const char *kernel, *wtype, *status;
    int64_t n, k, m, threads;
    double t_med, t_min, t_max;      /* microseconds */
    double gflops, gbps, bw_probe, peak_probe, pct_bw; /* NAN when empty */
};

struct tlb_rep_kfile {
    char *path;
    char *text;                      /* all cells, NUL-separated (the rows point in here) */
    struct tlb_rep_krow *rows;
    size_t n_rows;
    char cpu[TLB_REP_LABEL];         /* sanitized */
    char date[11];
    char version[32];                /* sanitized */
};

/* A flat JSON object read as text: `tlbench info --format json`, or a fleet status record. */
struct tlb_rep_kv {
    char *path;
    int n;
    char **keys, **vals;     /* numbers in shortest form, null as "" */
    int board;               /* the board it describes, -1 when none */
};

struct tlb_rep_data {
    struct tlb_table *tables[TLB_REP_MAX_FILES];
    int n_tables;
    struct tlb_rep_board boards[TLB_REP_MAX_BOARDS];
    int n_boards;
    struct tlb_rep_row *rows;        /* charted rows */
    size_t n_rows;
    struct tlb_rep_issue *issues;
    size_t n_issues;
    const char *model;               /* the selected model_name */
    char model_label[TLB_REP_LABEL];
    const char *kv;                  /* KV type the charts use (the most common) */
    int n_kv;                        /* distinct KV types among charted rows */
    int64_t n_prompt, n_gen;         /* the workload charted (the most common pair) */
    size_t n_other_model, n_other_workload, n_invalid;
    size_t n_repeats;                /* rows left out: a later row of the same configuration */
    int synthetic;                   /* the model is synthetic: its accuracy means nothing real */
    /* distinct values among charted rows, in a canonical order */
    const char *wtypes[TLB_REP_MAX_VALUES];
    int n_wtypes;
    const char *kernels[TLB_REP_MAX_VALUES];
    int n_kernels;
    const char *engines[TLB_REP_MAX_VALUES]; /* tlbench first */
    int n_engines;
    char date_lo[11], date_hi[11];
    char versions[64];
    struct tlb_rep_kfile kfiles[4];
    int n_kfiles;
    /* JSON inputs: info files (key "arch") and fleet status records (key "fleet_status"),
     * each matched to a board by board_label, else by the detected board */
    struct tlb_rep_kv kvs[TLB_REP_MAX_FILES];
    int n_kvs;
};

/* Read every input: results CSVs (tlb_csv_read), kernels CSVs (recognised by their header)
 * and flat JSON files (info, fleet status: recognised by their '{'), plus kernels_csv when
 * not NULL. Returns 0, or -1 with an error printed (an unreadable file, no results CSV at
 * all, too many boards, the --model not found). */
int tlb_rep_load(struct tlb_rep_data *d, const char *const *files, int n_files,
                 const char *kernels_csv, const char *model);
void tlb_rep_free(struct tlb_rep_data *d);
/* Board prices: --price entries first, else price_usd of platforms/<board_kind>.conf. */
void tlb_rep_prices(struct tlb_rep_data *d, const struct tlb_rep_opts *o);

/* JSON input: 1 when the file's first non-blank byte is '{', 0 when not, -1 when it cannot
 * be read (error printed). */
int tlb_rep_json_is(const char *path);
/* Read a flat JSON object. 0; 1 when skipped (a build without cJSON: warning printed); -1
 * with an error naming the file (not an object, nested values, over-size). */
int tlb_rep_json_read(const char *path, struct tlb_rep_kv *out);
/* The value of key, or NULL when absent. */
const char *tlb_rep_kv_get(const struct tlb_rep_kv *kv, const char *key);
void tlb_rep_kv_free(struct tlb_rep_kv *kv);

/* Kernels CSV: 1 when the file's header is a `tlbench kernels` header, 0 when not, -1
 * when it cannot be read (error printed). */
int tlb_rep_kcsv_is(const char *path);
/* Is the header of the CSV at path exactly the n names cols, in order? 1 yes, 0 no, -1 it
 * cannot be read (error printed). */
int tlb_rep_kcsv_columns_are(const char *path, const char *const *cols, size_t n);
/* Read one (bounded, validated). 0, or -1 with an error naming the file. */
int tlb_rep_kcsv_read(const char *path, struct tlb_rep_kfile *out);
void tlb_rep_kcsv_free(struct tlb_rep_kfile *f);

/* ---------------------------------------------------------------- decisions */

/* The best configuration of a board under a RAM budget: the highest decode tokens/s among
 * rows at the board's shortest context whose peak RSS (else weights + KV) fits. */
struct tlb_rep_best {
    int board;
    long row;                /* index into d->rows, -1: nothing fits (or nothing measured) */
    int64_t fit_ctx;         /* the longest n_ctx measured for that configuration that fits */
    long smallest;           /* row of the smallest memory, for "nothing fits" */
};
void tlb_rep_best_under(const struct tlb_rep_data *d, int board, uint64_t budget,
                        struct tlb_rep_best *out);
/* The row with the highest decode tokens/s for (board, wtype) at the board's shortest
 * context and the charted KV type; -1 when none. */
long tlb_rep_best_for_type(const struct tlb_rep_data *d, int board, const char *wtype);
/* Are two decode rates (median, standard deviation; NAN sd: unknown) the same within the
 * noise? When their difference is no more than the sum of their deviations, or under 5 %
 * (separate runs differ by that much on one machine): no ranking claim is made between them. */
int tlb_rep_within_noise(double a, double sd_a, double b, double sd_b);
/* Largest peak RSS over a board's rows of a weight type (NAN when none). */
double tlb_rep_peak_max(const struct tlb_rep_data *d, int board, const char *wtype,
                        int64_t *ctx_out);

/* ---------------------------------------------------------------- charts */

#define TLB_REP_MAX_CHARTS 12
struct tlb_rep_chart {
    char name[32];           /* file base name in DIR/charts: NAME.gp/.tsv/.png/.svg */
    char title[96];
    char how[900];           /* "How to read this" text */
    char note[400];          /* caveats specific to this data ("" when none) */
    int drawn;               /* gnuplot produced NAME.png and NAME.svg */
};

/* Write DIR/charts/NAME.tsv and NAME.gp for every chart the data allows; list them in
 * charts (up to TLB_REP_MAX_CHARTS). Missing-data explanations go to skipped (one sentence
 * each, '\n'-separated). Returns the number of charts, or -1 on an I/O error. */
int tlb_rep_charts_write(const struct tlb_rep_data *d, const struct tlb_rep_opts *o,
                         const char *charts_dir, struct tlb_rep_chart *charts, char *skipped,
                         size_t skipped_len);

/* gnuplot: the executable ($TLBENCH_GNUPLOT, else "gnuplot" on PATH) into buf; 0 when
 * found, -1 when not. */
int tlb_rep_gnuplot_find(char *buf, size_t n);
/* Run `gnuplot --default-settings SCRIPT` with dir as its working directory, stdin from
 * /dev/null, stdout/stderr into log_name (in dir); killed after timeout_s. 0 when it exited
 * 0 in time, else -1 with the reason in why. */
int tlb_rep_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                        const char *log_name, int timeout_s, char *why, size_t why_len);

/* ---------------------------------------------------------------- text */

/* Copy s into out (size n) keeping only letters, digits, space and . , _ + - ( ) / : =;
 * anything else becomes '?', whitespace runs one space; longer than max_chars -> cut with
 * "..."; empty -> "-". Safe inside single-quoted gnuplot strings and as tab-separated
 * gnuplot data (no quote, backslash, backtick, '@', '$', '#', ';', tab or newline). */
void tlb_rep_safe(const char *s, char *out, size_t n, size_t max_chars);
/* HTML and Markdown text are escaped by base/escape.h (tlb_esc_html, tlb_esc_md), the one
 * rule per target every command uses. */
void tlb_rep_put_base64(struct tlb_buf *b, const unsigned char *p, size_t n);
/* Write the buffer to path (created/truncated). 0 or -1 (error printed). */
int tlb_rep_buf_save(const struct tlb_buf *b, const char *path);

/* Whether a row's threads shared cores (core_share below TLB_CORE_SHARE_LOW in any round). */
int tlb_rep_shared_cores(const struct tlb_rep_row *r);
/* What a row's figures must not be trusted for, for tables: "" or " (invalid)", " (noisy)",
 * " (shared cores)" (threads measured on fewer cores than threads: core_share below
 * TLB_CORE_SHARE_LOW), " (noisy, shared cores)". invalid_long: " (invalid: not trusted)". */
const char *tlb_rep_flags(const struct tlb_rep_row *r, int invalid_long);
/* A point the charts circle: noisy, invalid or measured with threads sharing cores. */
int tlb_rep_untrusted(const struct tlb_rep_row *r);

/* Number formatting for tables: 3 significant digits ("12.4", "0.00141", "1230"). */
const char *tlb_rep_num(double v, char *buf, size_t n);
/* A RAM budget: "2 GiB", "512 MiB", "1.50 GiB". */
const char *tlb_rep_budget_name(uint64_t bytes, char *buf, size_t n);
/* Bytes as GiB/MiB with 2-3 significant digits. */
const char *tlb_rep_bytes(double v, char *buf, size_t n);

/* ---------------------------------------------------------------- document */

struct tlb_doc;
struct tlb_doc *tlb_doc_new(const char *title, const char *subtitle);
void tlb_doc_free(struct tlb_doc *doc);
/* Section heading (level 2 or 3) with an anchor id of [a-z0-9-] (the caller's constant). */
int tlb_doc_heading(struct tlb_doc *doc, int level, const char *id, const char *text);
/* Paragraph: optional bold lead-in, then text (both escaped on output). */
int tlb_doc_para(struct tlb_doc *doc, const char *lead, const char *text);
/* Callout box (a warning or a note). */
int tlb_doc_note(struct tlb_doc *doc, const char *text);
/* Bullet list item (consecutive items form one list). */
int tlb_doc_item(struct tlb_doc *doc, const char *lead, const char *text);
/* Table: begin with the headers and per-column alignment ('l' or 'r'), then rows. */
int tlb_doc_table(struct tlb_doc *doc, int n_cols, const char *const *headers,
                  const char *align);
int tlb_doc_row(struct tlb_doc *doc, const char *const *cells);
/* A chart: DIR/charts/NAME.png (embedded into the HTML as a data: URI) and NAME.svg. */
int tlb_doc_figure(struct tlb_doc *doc, const struct tlb_rep_chart *chart);
/* Render. dir is the output directory (charts are read from dir/charts). 0 or -1. */
int tlb_doc_write_md(const struct tlb_doc *doc, const char *path);
int tlb_doc_write_html(const struct tlb_doc *doc, const char *dir, const char *path);

/* Fill the summary document from the data and the charts. NULL when out of memory. */
struct tlb_doc *tlb_rep_page(const struct tlb_rep_data *d, const struct tlb_rep_opts *o,
                             const struct tlb_rep_chart *charts, int n_charts,
                             const char *skipped, const char *gnuplot_problem);

#endif
