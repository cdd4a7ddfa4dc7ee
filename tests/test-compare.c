/* test-compare.c — `tlbench compare` on crafted fixtures (tests/fixtures/csv/README.md):
 * a clear, tight 20% decode slowdown is a regression (exit 1); the same change inside a
 * spread larger than it is inconclusive (exit 0); identical files are no change; rows in
 * one file only are listed; unknown schema versions and different boards are refused
 * (exit 2) unless --cross; fallbacks without samples; crashes; usage errors. */
#include <stdarg.h>
#include <unistd.h>

#include "command.h"
#include "results-csv.h"
#include "test.h"
#include "util.h"


#define FX "tests/fixtures/csv/"

static char out_path[256];

/* Run compare with up to 8 arguments (NULL-terminated) writing to a temporary file;
 * returns the exit code and the report in *text (caller frees). */
static int run(char **text, const char *first, ...) {
    if (!out_path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(out_path, sizeof out_path, "%s/tlb-compare-%d.txt", t && *t ? t : "/tmp",
                 (int)getpid());
    }
    char *argv[20] = {"compare"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 16; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc++] = "--output";
    argv[argc++] = out_path;
    argv[argc] = NULL;
    unlink(out_path);
    int rc = tlb_cmd_compare(argc, argv);
    size_t n;
    *text = access(out_path, R_OK) == 0 ? tlb_read_file(out_path, 1 << 20, &n) : NULL;
    unlink(out_path);
    return rc;
}

/* The line of a table report about config + metric, or NULL. */
static const char *line_of(const char *text, const char *config, const char *metric,
                           char *buf, size_t n) {
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len < n) {
            memcpy(buf, p, len);
            buf[len] = '\0';
            char m[64];
            snprintf(m, sizeof m, "  %s  ", metric);
            if (strncmp(buf, config, strlen(config)) == 0 && strstr(buf, m)) return buf;
        }
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

#define C1 "q4_0/f32 avx512 t2 pp64+tg32@d0"
#define C2 "q8_0/f32 avx512 t2 pp64+tg32@d0"

TLB_TEST(clear_slowdown_is_regression) {
    char *t, l[512];
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", NULL);
    TLB_CHECK(t, "no report");
    const char *tg = line_of(t, C1, "tg_ts", l, sizeof l);
    int reg = tg && strstr(tg, "regression") && strstr(tg, "0.800");
    const char *pp = line_of(t, C1, "pp_ts", l, sizeof l);
    int pp_same = pp && strstr(pp, "no change");
    const char *tg2 = line_of(t, C2, "tg_ts", l, sizeof l);
    int c2_same = tg2 && strstr(tg2, "no change");
    int result = strstr(t, "RESULT: REGRESSION") != NULL;
    free(t);
    TLB_CHECK(rc == 1, "exit %d, want 1", rc);
    TLB_CHECK(reg, "q4_0 decode -20%% with tight samples must be a regression");
    TLB_CHECK(pp_same && c2_same, "unchanged metrics must be 'no change'");
    TLB_CHECK(result, "summary line");
}

TLB_TEST(bootstrap_alone_can_decide) {
    /* alpha so small the U test cannot pass: the CI (wholly below 0.95) still decides */
    char *t, l[512];
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", "--alpha", "0.000001", "-m", "tg_ts", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int reg = tg && strstr(tg, "regression");
    free(t);
    TLB_CHECK(rc == 1 && reg, "exit %d: the bootstrap CI must decide", rc);
}

TLB_TEST(spread_larger_than_change_is_inconclusive) {
    char *t, l[512];
    int rc = run(&t, FX "base-noisy.csv", FX "new-noisy.csv", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int inc = tg && strstr(tg, "inconclusive") && strstr(tg, "-16.0%");
    free(t);
    TLB_CHECK(rc == 0, "exit %d, want 0", rc);
    TLB_CHECK(inc, "a 16%% change inside +-35%% noise must be inconclusive");
}

TLB_TEST(identical_is_no_change) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "base.csv", NULL);
    int clean = t && !strstr(t, "regression ") && !strstr(t, "improvement ") &&
                !strstr(t, "inconclusive ") && strstr(t, "0 regression(s)") &&
                strstr(t, "0 only in BASE (0 missing), 0 only in NEW");
    free(t);
    TLB_CHECK(rc == 0 && clean, "identical files: exit %d", rc);
}

TLB_TEST(improvement_does_not_fail) {
    char *t, l[512];
    /* new-regress has a tiled row base lacks: allowed to go missing here */
    int rc = run(&t, FX "new-regress.csv", FX "base.csv", "-m", "tg_ts", "--allow-missing", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int imp = tg && strstr(tg, "improvement");
    free(t);
    TLB_CHECK(rc == 0 && imp, "exit %d; swapped files must be an improvement", rc);
}

TLB_TEST(missing_rows_listed) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", NULL);
    int listed = t && strstr(t, "only in BASE (1):\n  q4_0/f32 naive t2") &&
                 strstr(t, "(measured in BASE: missing)") &&
                 strstr(t, "only in NEW (1):\n  q4_0/f32 tiled t2");
    free(t);
    TLB_CHECK(rc == 1 && listed, "rows present in one file must be listed");
    /* and in CSV output as rows of their own */
    rc = run(&t, FX "base.csv", FX "new-regress.csv", "--format", "csv", NULL);
    int csv = t && strstr(t, "\"naive\",\"q4_0\"") && strstr(t, "\"missing\"") &&
              strstr(t, "\"tiled\",\"q4_0\"") && strstr(t, "\"only in new\"") &&
              !strncmp(t, "\"board\",\"model_name\"", 20);
    free(t);
    TLB_CHECK(rc == 1 && csv, "CSV report");
}

TLB_TEST(markdown_report) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", "-f", "md", "-m", "tg_ts", NULL);
    int md = t && strstr(t, "| config ") && strstr(t, "| ---") &&
             strstr(t, "**RESULT: REGRESSION**") && strstr(t, "- q4\\_0/f32 naive");
    free(t);
    TLB_CHECK(rc == 1 && md, "markdown report");
}

TLB_TEST(unknown_version_refused) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "other-version.csv", NULL);
    free(t);
    TLB_CHECK(rc == 2, "exit %d, want 2", rc);
}

TLB_TEST(different_boards_need_cross) {
    char *t, l[512];
    int rc = run(&t, FX "base.csv", FX "other-board.csv", NULL);
    free(t);
    TLB_CHECK(rc == 2, "different boards: exit %d, want 2", rc);
    rc = run(&t, FX "base.csv", FX "other-board.csv", "--cross", NULL);
    int matched = t && line_of(t, C1, "tg_ts", l, sizeof l) && strstr(t, "Fixture Board B");
    free(t);
    TLB_CHECK(rc == 0 && matched, "--cross: exit %d; rows must match without the board", rc);
}

/* Two runs on one machine with different --board-label values are two boards; a file
 * without labels (before tlbench-csv-3, or no --board-label) still matches on the board. */
TLB_TEST(board_labels_tell_boards_apart) {
    char a[256], b[256], *t = NULL, l[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(a, sizeof a, "%s/tlb-cmp-a-%d.csv", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    snprintf(b, sizeof b, "%s/tlb-cmp-b-%d.csv", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    TLB_CHECK(tlb_test_csv_v3_labelled(FX "base.csv", a, "rack-1") == 0 &&
                  tlb_test_csv_v3_labelled(FX "new-regress.csv", b, "rack-2") == 0,
              "cannot write the labelled copies");
    int rc1 = run(&t, a, b, NULL);
    int named = t == NULL; /* refused: no report */
    free(t);
    int rc2 = run(&t, a, FX "new-regress.csv", NULL);
    int matched = t && line_of(t, C1, "tg_ts", l, sizeof l) && strstr(l, "regression");
    free(t);
    tlb_test_csv_v3_labelled(FX "new-regress.csv", b, "rack-1");
    int rc3 = run(&t, a, b, NULL);
    int same = t && strstr(t, "board: rack-1;") && line_of(t, C1, "tg_ts", l, sizeof l);
    free(t);
    unlink(a);
    unlink(b);
    TLB_CHECK(rc1 == 2 && named, "labels rack-1 vs rack-2: exit %d, want 2 (different boards)",
              rc1);
    TLB_CHECK(rc2 == 1 && matched, "labelled vs unlabelled file of one board: exit %d, want 1 "
              "(rows matched on board)", rc2);
    TLB_CHECK(rc3 == 1 && same, "same label: exit %d, want 1 and 'board: rack-1'", rc3);
}

TLB_TEST(mean_sd_fallback) {
    char *t, l[512];
    int rc = run(&t, FX "base.csv", FX "new-nosamples.csv", "-m", "tg_ts", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int ok = tg && strstr(tg, "regression") && strstr(tg, "no samples");
    free(t);
    TLB_CHECK(rc == 1 && ok, "exit %d; without samples decide on mean+-sd and say so", rc);
}

TLB_TEST(crash_is_regression) {
    char *t, l[512];
    int rc = run(&t, FX "base.csv", FX "new-crash.csv", NULL);
    const char *st = t ? line_of(t, C2, "status", l, sizeof l) : NULL;
    int ok = st && strstr(st, "regression") && strstr(st, "ok -> crashed");
    free(t);
    TLB_CHECK(rc == 1 && ok, "exit %d; ok -> crashed must be a regression", rc);
}

TLB_TEST(thresholds) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", "--threshold-tg_ts", "25%",
                 "--allow-missing", NULL);
    free(t);
    TLB_CHECK(rc == 0, "a 20%% change under a 25%% tg_ts threshold: exit %d", rc);
    rc = run(&t, FX "base.csv", FX "new-regress.csv", "-t", "30", "--threshold-tg_ts=10", NULL);
    free(t);
    TLB_CHECK(rc == 1, "the per-metric threshold must win over -t: exit %d", rc);
}

TLB_TEST(deterministic) {
    char *a, *b;
    run(&a, FX "base-noisy.csv", FX "new-noisy.csv", "--seed", "5", NULL);
    run(&b, FX "base-noisy.csv", FX "new-noisy.csv", "--seed", "5", NULL);
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    TLB_CHECK(same, "same seed, different report");
}

/* stderr of fn captured into a string (caller frees). */
static char *err_path_buf(void) {
    static char p[256];
    const char *t = getenv("TMPDIR");
    snprintf(p, sizeof p, "%s/tlb-compare-err-%d.txt", t && *t ? t : "/tmp", (int)getpid());
    return p;
}
static int saved_err = -1;
static void capture_begin(void) {
    fflush(stderr);
    saved_err = dup(2);
    FILE *f = fopen(err_path_buf(), "w");
    if (f) {
        dup2(fileno(f), 2);
        fclose(f);
    }
}
static char *capture_end(void) {
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    size_t n;
    char *t = tlb_read_file(err_path_buf(), 1 << 20, &n);
    unlink(err_path_buf());
    return t;
}

/* Rows with numbers no measurement can have (samples -1e308;-1e308;1e308 — a NaN median
 * before —, a 1e300 t/s median) are skipped with a warning naming file, line and column; the
 * rest is compared, and nothing prints as nan, inf or a cut-off number. */
TLB_TEST(hostile_rows_skipped) {
    char *t;
    capture_begin();
    int rc = run(&t, FX "base.csv", FX "compare-hostile.csv", NULL);
    char *err = capture_end();
    int warned = err && strstr(err, "compare-hostile.csv: line 2: column tg_samples_ts") &&
                 strstr(err, "compare-hostile.csv: line 3: column ");
    int clean = t && !strstr(t, "nan") && !strstr(t, "inf") && !strstr(t, "1e+300") &&
                !strstr(t, "100000000000");
    char l[512];
    int naive = t && line_of(t, "q4_0/f32 naive t2 pp64+tg32@d0", "tg_ts", l, sizeof l) &&
                strstr(l, "no change");
    char shown[300];
    snprintf(shown, sizeof shown, "%s", err ? err : "");
    free(err);
    free(t);
    TLB_CHECK(rc == 0 || rc == 1, "exit %d: %s", rc, shown);
    TLB_CHECK(warned, "warnings: %s", shown);
    TLB_CHECK(clean, "the report shows nan, inf or a huge number");
    TLB_CHECK(naive, "the intact row must still be compared");
}

/* A cell of 100,000 samples: the bootstrap works on a capped, evenly spaced subsample and
 * the note says so (uncapped it took minutes per metric). */
TLB_TEST(huge_sample_cells_capped) {
    struct tlb_table *tb;
    TLB_CHECK(tlb_csv_read(FX "base.csv", &tb) == 0, "read base");
    const char *cell = tlb_table_str(tb, 0, tlb_table_col(tb, "tg_samples_ts"));
    size_t len;
    char *text = tlb_read_file(FX "base.csv", 1 << 20, &len);
    char *at = text ? strstr(text, cell) : NULL;
    const size_t n_big = 100000;
    char *big = malloc(n_big * 8 + len);
    int ok = at && big;
    if (ok) {
        size_t k = (size_t)(at - text);
        memcpy(big, text, k);
        for (size_t i = 0; i < n_big; i++)
            k += (size_t)sprintf(big + k, "%s%.2f", i ? ";" : "", 39.5 + (double)(i % 100) / 100);
        strcpy(big + k, at + strlen(cell));
    }
    char path[300];
    snprintf(path, sizeof path, "%s.big.csv", out_path[0] ? out_path : "/tmp/tlb-compare");
    FILE *f = ok ? fopen(path, "w") : NULL;
    ok = f && fputs(big, f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    free(big);
    free(text);
    tlb_table_free(tb);
    TLB_CHECK(ok, "write %s", path);
    char *t;
    capture_begin();
    int rc = run(&t, path, FX "new-regress.csv", NULL);
    free(capture_end());
    unlink(path);
    char l[512];
    int noted = t && line_of(t, C1, "tg_ts", l, sizeof l) &&
                strstr(l, "bootstrap on 1000 of 100000");
    int reg = noted && strstr(l, "regression");
    free(t);
    TLB_CHECK(rc == 1, "exit %d", rc);
    TLB_CHECK(noted, "the tg_ts line must say the bootstrap was capped");
    TLB_CHECK(reg, "the 20%% slowdown must still be found");
}

TLB_TEST(usage_errors) {
    char *t;
    static const char *const cases[][4] = {
        {FX "base.csv", NULL},
        {FX "base.csv", FX "base.csv", "--metric", "speed"},
        {FX "base.csv", FX "base.csv", "--alpha", "2"},
        {FX "base.csv", FX "base.csv", "--format", "xml"},
        {FX "base.csv", FX "base.csv", "--threshold", "-3"},
        {FX "base.csv", FX "missing.csv", NULL},
        {FX "base.csv", FX "header-v1.csv", "--bogus"},
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(cases); i++) {
        int rc = run(&t, cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
        free(t);
        TLB_CHECK(rc == 2, "case %zu: exit %d, want 2", i, rc);
    }
}

/* ---------------------------------------------------------------- crafted files */

static char tmp_a[256], tmp_b[256];

static void tmp_names(void) {
    const char *t = getenv("TMPDIR");
    snprintf(tmp_a, sizeof tmp_a, "%s/tlb-cmp-x-%d.csv", t && *t ? t : "/tmp", (int)getpid());
    snprintf(tmp_b, sizeof tmp_b, "%s/tlb-cmp-y-%d.csv", t && *t ? t : "/tmp", (int)getpid());
    unlink(tmp_a);
    unlink(tmp_b);
}

static int set_status(struct tlb_row *row, size_t r, void *ctx) {
    if (r == 1) { /* the q8_0/avx512 row */
        tlb_row_set_str(row, "status", ctx);
        tlb_row_set_str(row, "status_detail", "crafted");
        for (const char *const *c = (const char *const[]){"tg_ts_median", "tg_ts_mean",
                                                          "tg_samples_ts", "pp_ts_median",
                                                          "pp_ts_mean", "pp_samples_ts", NULL};
             *c; c++)
            tlb_row_set_str(row, *c, ""); /* empty: not measured */
    }
    return 1;
}

static int other_prompt(struct tlb_row *row, size_t r, void *ctx) {
    (void)r, (void)ctx;
    tlb_row_set_int(row, "n_prompt", 128);
    return 1;
}

static int drop_row1(struct tlb_row *row, size_t r, void *ctx) {
    (void)row, (void)ctx;
    return r != 1;
}

/* Item 1 of the gate: nothing to compare is exit 2, never "no regression". */
TLB_TEST(nothing_to_compare_is_exit_2) {
    char *t;
    tmp_names();
    /* NEW swept with another -p: no configuration matches */
    TLB_CHECK(tlb_test_rewrite(FX "base.csv", tmp_b, other_prompt, NULL) == 0, "write");
    int rc = run(&t, FX "base.csv", tmp_b, NULL);
    int said = t && strstr(t, "RESULT: NOTHING COMPARED") && !strstr(t, "no regression");
    free(t);
    TLB_CHECK(rc == 2 && said, "no configuration in common: exit %d, want 2", rc);
    rc = run(&t, FX "base.csv", tmp_b, "--allow-missing", NULL);
    free(t);
    TLB_CHECK(rc == 2, "--allow-missing does not make nothing something: exit %d", rc);
    /* a header-only NEW, and a header-only BASE */
    unlink(tmp_b);
    struct tlb_csv_writer *w = tlb_csv_open_append(tmp_b);
    TLB_CHECK(w && tlb_csv_close(w) == 0, "header-only file");
    rc = run(&t, FX "base.csv", tmp_b, NULL);
    free(t);
    int rc2 = run(&t, tmp_b, FX "base.csv", NULL);
    free(t);
    unlink(tmp_b);
    TLB_CHECK(rc == 2 && rc2 == 2, "header-only NEW/BASE: exit %d/%d, want 2", rc, rc2);
}

/* ok in BASE, then skipped-memory / unsupported / invalid in NEW: degraded, exit 1; absent from
 * NEW: missing, exit 1; --allow-missing lets both through, never a crash. */
TLB_TEST(degraded_or_missing_fails) {
    static const char *const statuses[] = {"skipped-memory", "unsupported", "invalid"};
    tmp_names();
    for (size_t i = 0; i < TLB_ARRAY_LEN(statuses); i++) {
        char *t, l[512];
        unlink(tmp_b);
        TLB_CHECK(tlb_test_rewrite(FX "base.csv", tmp_b, set_status, (void *)statuses[i]) == 0, "write");
        int rc = run(&t, FX "base.csv", tmp_b, NULL);
        const char *st = t ? line_of(t, C2, "status", l, sizeof l) : NULL;
        int ok = st && strstr(st, "degraded") && strstr(t, "RESULT: CONFIGURATIONS MISSING");
        free(t);
        TLB_CHECK(rc == 1 && ok, "ok -> %s: exit %d, want 1 (degraded)", statuses[i], rc);
        rc = run(&t, FX "base.csv", tmp_b, "--allow-missing", NULL);
        free(t);
        TLB_CHECK(rc == 0, "ok -> %s with --allow-missing: exit %d, want 0", statuses[i], rc);
    }
    unlink(tmp_b);
    TLB_CHECK(tlb_test_rewrite(FX "base.csv", tmp_b, drop_row1, NULL) == 0, "write");
    char *t;
    int rc = run(&t, FX "base.csv", tmp_b, NULL);
    int listed = t && strstr(t, "q8_0/f32 avx512 t2 pp64+tg32@d0 (measured in BASE: missing)");
    free(t);
    int rc2 = run(&t, FX "base.csv", tmp_b, "--allow-missing", NULL);
    free(t);
    int rc3 = run(&t, FX "base.csv", FX "new-crash.csv", "--allow-missing", NULL);
    free(t);
    unlink(tmp_b);
    TLB_CHECK(rc == 1 && listed, "missing in NEW: exit %d, want 1 and listed", rc);
    TLB_CHECK(rc2 == 0, "missing with --allow-missing: exit %d, want 0", rc2);
    TLB_CHECK(rc3 == 1, "a crash fails even with --allow-missing: exit %d", rc3);
}

/* ttft_ms has one value per row: far beyond the threshold it is still inconclusive. */
static int slow_ttft(struct tlb_row *row, size_t r, void *ctx) {
    (void)r, (void)ctx;
    double v = strtod(tlb_row_get(row, "ttft_ms"), NULL);
    tlb_row_set_double(row, "ttft_ms", v * 1.5);
    return 1;
}

TLB_TEST(no_spread_never_fails_alone) {
    char *t, l[512];
    tmp_names();
    TLB_CHECK(tlb_test_rewrite(FX "base.csv", tmp_b, slow_ttft, NULL) == 0, "write");
    int rc = run(&t, FX "base.csv", tmp_b, NULL);
    const char *tt = t ? line_of(t, C1, "ttft_ms", l, sizeof l) : NULL;
    int inc = tt && strstr(tt, "inconclusive") && strstr(tt, "no spread");
    free(t);
    unlink(tmp_b);
    TLB_CHECK(rc == 0 && inc, "ttft +50%% with one value a side: exit %d, want 0 and inconclusive",
              rc);
}

/* Rounds of one interleaved run (tlbench ab) are compared pair by pair. */
struct rounds_spec {
    const char *run_id;
    const double *tg;   /* per round: tg_ts_median of the q4_0/avx512 row */
    const double *busy; /* per round: busy_cpus, or NULL */
    int n;
    int n_samples;          /* per round: 3 (0) or 1 */
    const double *samples;  /* or n * n_samples repetitions (round by round) */
};

static int write_rounds(const char *dst, const struct rounds_spec *rs) {
    struct tlb_table *t;
    if (tlb_csv_read(FX "base.csv", &t) != 0) return -1;
    struct tlb_csv_writer *w = tlb_csv_open_append(dst);
    int rc = w ? 0 : -1;
    for (int k = 0; k < rs->n && rc == 0; k++) {
        struct tlb_row *row = tlb_test_row_from(t, 0);
        if (!row) {
            rc = -1;
            break;
        }
        double tg = rs->tg[k], three[3] = {tg * 0.99, tg, tg * 1.01};
        int ns = rs->n_samples ? rs->n_samples : 3;
        const double *samples = rs->samples ? rs->samples + (size_t)k * ns : ns == 1 ? &tg : three;
        tlb_row_set_str(row, "run_id", rs->run_id);
        tlb_row_set_int(row, "round", k + 1);
        tlb_row_set_double(row, "tg_ts_median", tg);
        tlb_row_set_double(row, "tg_ts_mean", tg);
        tlb_row_set_samples(row, "tg_samples_ts", samples, ns);
        tlb_row_set_double(row, "busy_cpus", rs->busy ? rs->busy[k] : 0.01);
        rc = tlb_csv_append(w, row);
        tlb_row_free(row);
    }
    if (tlb_csv_close(w) != 0) rc = -1;
    tlb_table_free(t);
    return rc;
}

/* NEW (tmp_b) written again from rs, then compare -m tg_ts against tmp_a: 1 when the tg_ts
 * line holds want1 and want2 (NULL: only want1); compare's exit status in *rc. */
static int tg_line_has(const struct rounds_spec *rs, int *rc, const char *want1,
                       const char *want2) {
    *rc = -1;
    unlink(tmp_b);
    if (write_rounds(tmp_b, rs) != 0) return 0;
    char *t, l[512];
    *rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int ok = tg && strstr(tg, want1) && (!want2 || strstr(tg, want2));
    free(t);
    return ok;
}

TLB_TEST(paired_rounds) {
    /* a machine whose speed drifts by 30 % between rounds (shared VM): each round's pair
     * moves together */
    static const double drift[8] = {40, 31, 38, 28, 41, 35, 30, 39};
    double slow[8], same[8], busy[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    static const double wobble[8] = {1.01, 0.99, 1.005, 0.995, 1.0, 1.01, 0.99, 1.0};
    for (int i = 0; i < 8; i++) {
        slow[i] = drift[i] / 1.10 * wobble[i]; /* 10 % more time per token */
        same[i] = drift[i] * wobble[i];
    }
    struct rounds_spec b = {"ab-1", drift, NULL, 8, 0, NULL}, n_slow = {"ab-1", slow, NULL, 8, 0, NULL},
                       n_same = {"ab-1", same, NULL, 8, 0, NULL};
    char *t, l[512];
    tmp_names();
    TLB_CHECK(write_rounds(tmp_a, &b) == 0 && write_rounds(tmp_b, &n_slow) == 0, "write");
    int rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int reg = tg && strstr(tg, "regression") && strstr(tg, "0.909");
    free(t);
    TLB_CHECK(rc == 1 && reg, "paired 10%% slowdown under 30%% drift: exit %d, want 1", rc);
    rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", "-f", "csv", NULL);
    int paired = t && strstr(t, "\"paired\",\"regression\"");
    free(t);
    TLB_CHECK(rc == 1 && paired, "one run's rounds must be compared as pairs");
    /* the same values as two separate runs (different run ids) are not pairs */
    unlink(tmp_b);
    n_slow.run_id = "ab-2";
    TLB_CHECK(write_rounds(tmp_b, &n_slow) == 0, "write");
    rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", "-f", "csv", NULL);
    int unpaired = t && strstr(t, "\"samples\",") && !strstr(t, "\"paired\"");
    free(t);
    TLB_CHECK(unpaired, "rounds of two runs must not be paired (exit %d)", rc);
    /* A/A: no change */
    int same_ok = tg_line_has(&n_same, &rc, "no change", NULL);
    TLB_CHECK(rc == 0 && same_ok, "A/A rounds: exit %d, want no change", rc);
    /* rounds another process disturbed are left out: with 3 of 8 disturbed, 5 rounds of 3
     * repetitions remain, 15 pairs */
    busy[0] = busy[3] = busy[6] = 1.2;
    struct rounds_spec n_busy = {"ab-1", slow, busy, 8, 0, NULL};
    unlink(tmp_b);
    TLB_CHECK(write_rounds(tmp_b, &n_busy) == 0, "write");
    rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", "-f", "csv", NULL);
    int left_out = t && strstr(t, "\"paired\",\"regression\",\"3 of 8 rounds left out");
    free(t);
    TLB_CHECK(rc == 1 && left_out, "disturbed rounds must be left out: exit %d", rc);
    /* with one repetition a round, 5 pairs remain: too few for a 95 % interval, inconclusive,
     * not a regression */
    unlink(tmp_a);
    unlink(tmp_b);
    b.n_samples = n_busy.n_samples = 1;
    TLB_CHECK(write_rounds(tmp_a, &b) == 0 && write_rounds(tmp_b, &n_busy) == 0, "write");
    rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", NULL);
    tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int too_few = tg && strstr(tg, "inconclusive") && strstr(tg, "5 pairs");
    free(t);
    TLB_CHECK(rc == 0 && too_few, "5 pairs must be inconclusive: exit %d", rc);
    /* every round disturbed: no evidence either way, so nothing was compared (exit 2) */
    for (int i = 0; i < 8; i++) busy[i] = 1.5;
    unlink(tmp_b);
    TLB_CHECK(write_rounds(tmp_b, &n_busy) == 0, "write");
    rc = run(&t, tmp_a, tmp_b, "-m", "tg_ts", NULL);
    int nothing = t && strstr(t, "RESULT: NOTHING COMPARED") && strstr(t, "every round was disturbed");
    free(t);
    unlink(tmp_a);
    unlink(tmp_b);
    TLB_CHECK(rc == 2 && nothing, "all rounds disturbed: exit %d, want 2", rc);
}

/* tlbench ab measures BASE and NEW one repetition at a time, in turn: a machine whose speed
 * flips between two levels every few seconds (seen on the shared VM: 29 and 40 t/s) moves
 * each repetition's pair together, so each repetition is a pair. 3 rounds give 3 pairs of
 * rows (too few for an interval) but 15 pairs of repetitions. */
TLB_TEST(paired_repetitions) {
    static const double level[15] = {40, 29, 29, 40, 40, 29, 40, 29, 29, 29,
                                     40, 40, 29, 40, 29};
    double slow[15], same[15], med[3] = {35, 35, 35}, med_slow[3];
    for (int i = 0; i < 15; i++) {
        double wobble = 1 + 0.004 * ((i * 7) % 5 - 2); /* +-0.8 % */
        slow[i] = level[i] / 1.10 * wobble;
        same[i] = level[i] * wobble;
    }
    for (int k = 0; k < 3; k++) med_slow[k] = med[k] / 1.10;
    struct rounds_spec b = {"ab-7", med, NULL, 3, 5, level},
                       n_slow = {"ab-7", med_slow, NULL, 3, 5, slow},
                       n_same = {"ab-7", med, NULL, 3, 5, same};
    tmp_names();
    TLB_CHECK(write_rounds(tmp_a, &b) == 0, "write");
    int rc;
    int reg = tg_line_has(&n_slow, &rc, "regression", NULL);
    TLB_CHECK(rc == 1 && reg, "15 paired repetitions, 10%% slower: exit %d, want 1", rc);
    int same_ok = tg_line_has(&n_same, &rc, "no change", NULL);
    TLB_CHECK(rc == 0 && same_ok, "A/A repetitions: exit %d, want no change", rc);
    /* rows with different repetition counts are paired by their round values: 3 pairs */
    n_slow.n_samples = 3;
    n_slow.samples = NULL;
    int rows = tg_line_has(&n_slow, &rc, "inconclusive", "3 pairs");
    unlink(tmp_a);
    unlink(tmp_b);
    TLB_CHECK(rc == 0 && rows, "unequal repetition counts pair the rounds: exit %d", rc);
}

/* What makes rows comparable: a change is warned about in the report. */
static int other_governor(struct tlb_row *row, size_t r, void *ctx) {
    (void)r;
    tlb_row_set_str(row, "cpu_governor", ctx);
    tlb_row_set_int(row, "build_dirty", 0);
    return 1;
}

TLB_TEST(comparability_warnings) {
    char *t;
    tmp_names();
    TLB_CHECK(tlb_test_rewrite(FX "base.csv", tmp_a, other_governor, "performance") == 0 &&
                  tlb_test_rewrite(FX "base.csv", tmp_b, other_governor, "powersave") == 0, "write");
    int rc = run(&t, tmp_a, tmp_b, NULL);
    int warned = t && strstr(t, "warning: cpu_governor differs in 3 configuration(s) (BASE "
                                "'performance', NEW 'powersave')");
    free(t);
    unlink(tmp_a);
    unlink(tmp_b);
    TLB_CHECK(rc == 0 && warned, "governor change: exit %d, want 0 with a warning", rc);
}

TLB_TEST(bencher_json) {
#if TLB_HAVE_CJSON
    char *t;
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", "-f", "json", "-m", "tg_ts", NULL);
    /* {"q4_0/f32 avx512 t2 pp64+tg32@d0": {"tg_ts": {"value": 32, ...}, "tg_ts_ratio": ...}} */
    int ok = t && t[0] == '{' && strstr(t, "\"" C1 "\"") && strstr(t, "\"tg_ts\"") &&
             strstr(t, "\"tg_ts_ratio\"") && strstr(t, "\"value\"") &&
             strstr(t, "\"lower_value\"") && strstr(t, "\"upper_value\"") &&
             !strstr(t, "RESULT");
    free(t);
    TLB_CHECK(rc == 1 && ok, "BMF output: exit %d", rc);
#else
    TLB_SKIP("built without cJSON (libcjson-dev)");
#endif
}

TLB_TEST_MAIN()
