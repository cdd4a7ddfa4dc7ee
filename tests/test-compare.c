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
                strstr(t, "0 only in BASE, 0 only in NEW");
    free(t);
    TLB_CHECK(rc == 0 && clean, "identical files: exit %d", rc);
}

TLB_TEST(improvement_does_not_fail) {
    char *t, l[512];
    int rc = run(&t, FX "new-regress.csv", FX "base.csv", "-m", "tg_ts", NULL);
    const char *tg = t ? line_of(t, C1, "tg_ts", l, sizeof l) : NULL;
    int imp = tg && strstr(tg, "improvement");
    free(t);
    TLB_CHECK(rc == 0 && imp, "exit %d; swapped files must be an improvement", rc);
}

TLB_TEST(missing_rows_listed) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", NULL);
    int listed = t && strstr(t, "only in BASE (1):\n  q4_0/f32 naive t2") &&
                 strstr(t, "only in NEW (1):\n  q4_0/f32 tiled t2");
    free(t);
    TLB_CHECK(rc == 1 && listed, "rows present in one file must be listed");
    /* and in CSV output as rows of their own */
    rc = run(&t, FX "base.csv", FX "new-regress.csv", "--format", "csv", NULL);
    int csv = t && strstr(t, "\"naive\",\"q4_0\"") && strstr(t, "\"only in base\"") &&
              strstr(t, "\"tiled\",\"q4_0\"") && strstr(t, "\"only in new\"") &&
              !strncmp(t, "\"board\",\"model_name\"", 20);
    free(t);
    TLB_CHECK(rc == 1 && csv, "CSV report");
}

TLB_TEST(markdown_report) {
    char *t;
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", "-f", "md", "-m", "tg_ts", NULL);
    int md = t && strstr(t, "| config ") && strstr(t, "| ---") &&
             strstr(t, "**RESULT: REGRESSION**") && strstr(t, "- q4_0/f32 naive");
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
    int rc = run(&t, FX "base.csv", FX "new-regress.csv", "--threshold-tg_ts", "25%", NULL);
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

TLB_TEST_MAIN()
