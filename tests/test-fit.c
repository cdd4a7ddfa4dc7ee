/* test-fit.c — the memory model and `tlbench fit`: TinyLlama-1.1B sizes computed by hand,
 * the model's byte counts equal to what the engine really allocates, the 1 GB / 2 GB
 * answers, the inverse (largest context for a type), predicted vs measured peak RSS within
 * 10% (leave-one-out on the fixture, and on results/baseline.csv once it is committed). */
#include <stdint.h>
#include <unistd.h>

#include "command.h"
#include "engine.h"
#include "kernel.h"
#include "memory-model.h"
#include "model.h"
#include "results-csv.h"
#include "test.h"
#include "util.h"


static const struct tlb_config *tinyllama(void) {
    static struct tlb_config c;
    return tlb_synthetic_config("tinyllama-1.1b", &c) == 0 ? &c : NULL;
}

TLB_TEST(tinyllama_sizes_by_hand) {
    const struct tlb_config *c = tinyllama();
    TLB_CHECK(c, "no built-in tinyllama-1.1b shapes");
    /* 1,099,956,224 matrix parameters (embedding and classifier included) + 92,160 f32
     * norm values (22 x 2 x 2048 + 2048), i.e. 368,640 bytes of norms. */
    TLB_CHECK(tlb_mem_weights(c, TLB_TYPE_F32, 0) == 4400193536ull, "f32 %llu",
              (unsigned long long)tlb_mem_weights(c, TLB_TYPE_F32, 0));
    TLB_CHECK(tlb_mem_weights(c, TLB_TYPE_F16, 0) == 2200281088ull, "f16");
    TLB_CHECK(tlb_mem_weights(c, TLB_TYPE_BF16, 0) == 2200281088ull, "bf16");
    TLB_CHECK(tlb_mem_weights(c, TLB_TYPE_Q8_0, 0) == 1169072128ull, "q8_0 %llu",
              (unsigned long long)tlb_mem_weights(c, TLB_TYPE_Q8_0, 0));
    TLB_CHECK(tlb_mem_weights(c, TLB_TYPE_Q4_0, 0) == 619094016ull, "q4_0 %llu",
              (unsigned long long)tlb_mem_weights(c, TLB_TYPE_Q4_0, 0));
    /* a shared classifier saves one 32000 x 2048 table */
    TLB_CHECK(tlb_mem_weights(c, TLB_TYPE_F32, 1) == 4400193536ull - 32000ull * 2048 * 4, "shared");
    /* KV per token = 2 x 22 layers x 256 (kv_dim) x sizeof */
    TLB_CHECK(tlb_mem_kv_per_token(c, TLB_TYPE_F32) == 45056, "kv f32");
    TLB_CHECK(tlb_mem_kv_per_token(c, TLB_TYPE_F16) == 22528, "kv f16");
}

/* The model's numbers must be what the engine really allocates (small synthetic model). */
TLB_TEST(model_matches_engine_allocations) {
    const struct tlb_kernel *naive = tlb_kernel_find("naive");
    TLB_CHECK(naive, "no naive kernel");
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        struct tlb_load_opts lo = {.spec = "synthetic:small", .convert = 1,
                                   .wtype = (enum tlb_type)t, .seed = 3, .n_threads = 2};
        struct tlb_model *m = NULL;
        TLB_CHECK(tlb_model_load(&m, &lo) == 0, "load synthetic:small as %s",
                  tlb_type_traits((enum tlb_type)t)->name);
        uint64_t want_w = tlb_mem_weights(&m->cfg, (enum tlb_type)t, m->shared_classifier);
        size_t got_w = tlb_model_weight_bytes(m);
        for (int kv = 0; kv < 2 && want_w == got_w; kv++) {
            enum tlb_type kvt = kv ? TLB_TYPE_F16 : TLB_TYPE_F32;
            struct tlb_engine_opts eo = {.kernel = naive, .n_threads = 3, .ctx_len = 300,
                                         .kv_type = kvt, .max_batch = 64};
            struct tlb_engine *e = NULL;
            if (tlb_engine_create(&e, m, &eo) != 0) {
                tlb_model_free(m);
                TLB_CHECK(0, "engine create");
            }
            uint64_t kvb = tlb_engine_kv_bytes(e), sb = tlb_engine_scratch_bytes(e);
            uint64_t want_kv = tlb_mem_kv_per_token(&m->cfg, kvt) * 300;
            uint64_t want_s = tlb_mem_scratch(&m->cfg, 300, 3, 64);
            tlb_engine_free(e);
            if (kvb != want_kv || sb != want_s) {
                tlb_model_free(m);
                TLB_CHECK(0, "type %d kv %d: engine kv %llu scratch %llu, model %llu %llu", t, kv,
                          (unsigned long long)kvb, (unsigned long long)sb,
                          (unsigned long long)want_kv, (unsigned long long)want_s);
            }
        }
        tlb_model_free(m);
        TLB_CHECK(want_w == got_w, "type %s: model says %llu weight bytes, loader holds %zu",
                  tlb_type_traits((enum tlb_type)t)->name, (unsigned long long)want_w, got_w);
    }
}

TLB_TEST(parse_size_binary_units) {
    uint64_t v;
    TLB_CHECK(tlb_parse_size("1G", &v) == 0 && v == 1ull << 30, "1G");
    TLB_CHECK(tlb_parse_size("2GB", &v) == 0 && v == 2ull << 30, "2GB is 2 GiB");
    TLB_CHECK(tlb_parse_size("1536M", &v) == 0 && v == 1536ull << 20, "1536M");
    TLB_CHECK(tlb_parse_size("4GiB", &v) == 0 && v == 4ull << 30, "4GiB");
    TLB_CHECK(tlb_parse_size("1.5g", &v) == 0 && v == 3ull << 29, "1.5g");
    TLB_CHECK(tlb_parse_size("512k", &v) == 0 && v == 512ull << 10, "512k");
    TLB_CHECK(tlb_parse_size("123456", &v) == 0 && v == 123456, "bytes");
    static const char *const bad[] = {"", "G", "-1G", "1X", "0", "1e30G", "1 G B", "nan", "0x10M"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad); i++)
        TLB_CHECK(tlb_parse_size(bad[i], &v) != 0, "'%s' accepted", bad[i]);
}

/* ---- the command ---- */

static char out_path[256];

/* Run `tlbench fit ARGS... --format csv --output FILE`; returns the exit code and the
 * output text in *text (caller frees). */
static int run_fit(char **text, const char *a1, const char *a2, const char *a3,
                   const char *a4, const char *a5, const char *a6) {
    if (!out_path[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(out_path, sizeof out_path, "%s/tlb-fit-%d.csv", t && *t ? t : "/tmp",
                 (int)getpid());
    }
    char *argv[16] = {"fit"};
    int argc = 1;
    const char *args[] = {a1, a2, a3, a4, a5, a6};
    for (int i = 0; i < 6 && args[i]; i++) argv[argc++] = (char *)args[i];
    argv[argc++] = "--format";
    argv[argc++] = "csv";
    argv[argc++] = "--output";
    argv[argc++] = out_path;
    argv[argc] = NULL;
    unlink(out_path);
    int rc = tlb_cmd_fit(argc, argv);
    size_t n;
    *text = access(out_path, R_OK) == 0 ? tlb_read_file(out_path, 1 << 20, &n) : NULL;
    unlink(out_path);
    return rc;
}

/* Cell of the fit CSV output: data row r (0-based), column col. */
static void cell(const char *text, int r, int col, char *buf, size_t n) {
    buf[0] = '\0';
    const char *p = text ? strchr(text, '\n') : NULL; /* skip the header */
    for (int i = 0; p && i < r; i++) p = strchr(p + 1, '\n');
    if (!p) return;
    p++;
    for (int c = 0; c < col && p; c++) {
        p = strstr(p, "\",\"");
        if (p) p += 2;
    }
    if (!p || *p != '"') return;
    p++;
    size_t k = 0;
    while (*p && *p != '"' && k + 1 < n) buf[k++] = *p++;
    buf[k] = '\0';
}

/* columns of the fit CSV */
enum { F_RANK, F_W, F_KV, F_CTX, F_MEM, F_SRC, F_FITS, F_MAXCTX };

static int row_of(const char *text, const char *w, const char *kv) {
    char a[32], b[32];
    for (int r = 0; r < 20; r++) {
        cell(text, r, F_W, a, sizeof a);
        cell(text, r, F_KV, b, sizeof b);
        if (!strcmp(a, w) && !strcmp(b, kv)) return r;
    }
    return -1;
}

TLB_TEST(tinyllama_1gb_and_2gb) {
    char *t, v[64];
    /* 1 GiB, 10% headroom: q4_0 (619 MB of weights) fits the full 2048 context; q8_0
     * (1.17 GB of weights alone) cannot. */
    TLB_CHECK(run_fit(&t, "--ram", "1G", NULL, NULL, NULL, NULL) == 0, "1G: exit");
    cell(t, 0, F_W, v, sizeof v);
    int q4 = !strcmp(v, "q4_0");
    cell(t, 0, F_KV, v, sizeof v);
    int kvf32 = !strcmp(v, "f32");
    int r8 = row_of(t, "q8_0", "f16");
    cell(t, r8, F_FITS, v, sizeof v);
    int q8no = r8 >= 0 && !strcmp(v, "no");
    cell(t, 0, F_MAXCTX, v, sizeof v);
    int full = !strcmp(v, "2048");
    free(t);
    TLB_CHECK(q4 && kvf32, "1G: best must be q4_0 weights with f32 KV");
    TLB_CHECK(q8no, "1G: q8_0 must not fit");
    TLB_CHECK(full, "1G: q4_0 must fit the model's full 2048 context");
    /* 2 GiB: q8_0 fits, f16/bf16 (2.2 GB of weights) do not */
    TLB_CHECK(run_fit(&t, "--ram", "2GB", NULL, NULL, NULL, NULL) == 0, "2G: exit");
    cell(t, 0, F_W, v, sizeof v);
    int q8 = !strcmp(v, "q8_0");
    int rf = row_of(t, "f16", "f16");
    cell(t, rf, F_FITS, v, sizeof v);
    int f16no = rf >= 0 && !strcmp(v, "no");
    int rq4 = row_of(t, "q4_0", "f32");
    cell(t, rq4, F_FITS, v, sizeof v);
    int q4yes = !strcmp(v, "yes");
    free(t);
    TLB_CHECK(q8 && f16no && q4yes, "2G: best must be q8_0; f16 must not fit, q4_0 must");
    /* 512 MiB: nothing, exit 1 */
    TLB_CHECK(run_fit(&t, "--ram", "512M", "--ctx", "512", NULL, NULL) == 1, "512M must exit 1");
    free(t);
    /* 24 GiB: everything fits; most precise first */
    TLB_CHECK(run_fit(&t, "--ram", "24G", NULL, NULL, NULL, NULL) == 0, "24G");
    cell(t, 0, F_W, v, sizeof v);
    int f32 = !strcmp(v, "f32");
    free(t);
    TLB_CHECK(f32, "24G: f32 must rank first by precision");
}

/* The peak of loading the weights is a floor: a q8_0 load that needs more than the budget
 * makes q8_0 fit at no context, whatever the worker needed afterwards. */
static int big_load(struct tlb_row *row, size_t r, void *ctx) {
    (void)r, (void)ctx;
    if (!strcmp(tlb_row_get(row, "weight_type"), "q8_0"))
        tlb_row_set_int(row, "load_peak_rss_bytes", 1900LL << 20);
    return 1;
}

TLB_TEST(load_peak_is_a_floor) {
    char path[256], *t, v[64];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/tlb-fit-load-%d.csv", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    unlink(path);
    TLB_CHECK(tlb_test_rewrite("tests/fixtures/csv/fit-rows.csv", path, NULL, NULL) == 0, "copy");
    int rc = run_fit(&t, "--ram", "2G", "--results", path, "--quant", "q8_0");
    cell(t, 0, F_FITS, v, sizeof v);
    int fits = rc == 0 && !strcmp(v, "yes");
    free(t);
    unlink(path);
    TLB_CHECK(fits, "without a load peak q8_0 must fit 2 GiB (exit %d)", rc);
    TLB_CHECK(tlb_test_rewrite("tests/fixtures/csv/fit-rows.csv", path, big_load, NULL) == 0, "copy");
    rc = run_fit(&t, "--ram", "2G", "--results", path, "--quant", "q8_0");
    char src[64], maxc[64];
    cell(t, 0, F_FITS, v, sizeof v);
    cell(t, 0, F_SRC, src, sizeof src);
    cell(t, 0, F_MAXCTX, maxc, sizeof maxc);
    free(t);
    unlink(path);
    TLB_CHECK(rc == 1 && !strcmp(v, "no") && !strcmp(src, "load") && !strcmp(maxc, "0"),
              "a 1900 MiB load in 1843 MiB usable: exit %d, fits '%s', source '%s', max ctx '%s'",
              rc, v, src, maxc);
}

TLB_TEST(inverse_largest_context) {
    char *t, v[64];
    TLB_CHECK(run_fit(&t, "--ram", "800M", "--quant", "q4_0", "--kv", "f32") == 0, "exit");
    cell(t, 0, F_MAXCTX, v, sizeof v);
    free(t);
    long best = atol(v);
    TLB_CHECK(best > 0 && best < 2048, "800M q4_0 f32-KV: max ctx %ld should be memory-bound", best);
    /* it must be the exact boundary of the prediction */
    const struct tlb_config *c = tinyllama();
    double budget = 800.0 * (1 << 20) * 0.9;
    double w = (double)tlb_mem_weights(c, TLB_TYPE_Q4_0, 0);
    double kv = (double)tlb_mem_kv_per_token(c, TLB_TYPE_F32);
    double at = w + kv * best + tlb_mem_scratch(c, best, 4, 512) + TLB_MEM_DEFAULT_OVERHEAD;
    double next = w + kv * (best + 1) + tlb_mem_scratch(c, best + 1, 4, 512) + TLB_MEM_DEFAULT_OVERHEAD;
    TLB_CHECK(at <= budget && next > budget, "ctx %ld is not the boundary (%.0f, %.0f vs %.0f)",
              best, at, next, budget);
    /* f16 KV halves the per-token cost: the full context fits */
    TLB_CHECK(run_fit(&t, "--ram", "800M", "--quant", "q4_0", "--kv", "f16") == 0, "exit");
    cell(t, 0, F_MAXCTX, v, sizeof v);
    free(t);
    TLB_CHECK(atol(v) == 2048, "f16 KV at 800M: %s", v);
}

TLB_TEST(usage_errors) {
    char *t;
    TLB_CHECK(run_fit(&t, NULL, NULL, NULL, NULL, NULL, NULL) == 2, "--ram required");
    free(t);
    TLB_CHECK(run_fit(&t, "--ram", "1Q", NULL, NULL, NULL, NULL) == 2, "bad size");
    free(t);
    TLB_CHECK(run_fit(&t, "--ram", "1G", "--quant", "q9_9", NULL, NULL) == 2, "bad type");
    free(t);
    TLB_CHECK(run_fit(&t, "--ram", "1G", "--ctx", "4096", NULL, NULL) == 2, "ctx over limit");
    free(t);
    TLB_CHECK(run_fit(&t, "--ram", "1G", "--results", "tests/fixtures/csv/nope.csv", NULL, NULL) == 2,
              "missing results file");
    free(t);
    TLB_CHECK(run_fit(&t, "--ram", "1G", "--results", "tests/fixtures/csv/other-version.csv", NULL,
                      NULL) == 2, "unknown schema version");
    free(t);
    TLB_CHECK(run_fit(&t, "--ram", "1G", "--model", "llama-70b", NULL, NULL) == 2, "unknown shapes");
    free(t);
}

/* ---- predicted vs measured ---- */

/* Leave-one-out: fit the overhead on all rows but one, predict that one. Returns the
 * worst relative error, or -1 when the file has fewer than 3 usable rows. */
static double loo_worst(const struct tlb_table *t, size_t *n_used, char *worst_row, size_t n) {
    size_t cap = t->n_rows;
    double *known = calloc(cap + 1, sizeof *known), *w = calloc(cap + 1, sizeof *w),
           *peak = calloc(cap + 1, sizeof *peak);
    size_t *line = calloc(cap + 1, sizeof *line);
    size_t k = 0;
    for (size_t r = 0; known && w && peak && line && r < t->n_rows; r++) {
        double pk, wb, kv, sb, pred;
        if (strcmp(tlb_table_str(t, r, tlb_table_col(t, "status")), "ok") != 0) continue;
        if (!tlb_table_double(t, r, tlb_table_col(t, "peak_rss_bytes"), &pk) ||
            !tlb_table_double(t, r, tlb_table_col(t, "weights_bytes"), &wb))
            continue;
        if (!tlb_table_double(t, r, tlb_table_col(t, "predicted_bytes"), &pred)) {
            if (!tlb_table_double(t, r, tlb_table_col(t, "kv_bytes"), &kv) ||
                !tlb_table_double(t, r, tlb_table_col(t, "scratch_bytes"), &sb))
                continue;
            pred = wb + kv + sb;
        }
        known[k] = pred;
        w[k] = wb;
        peak[k] = pk;
        line[k++] = tlb_table_line(t, r);
    }
    double worst = k >= 3 ? 0 : -1;
    double *kk = malloc((k + 1) * sizeof *kk), *ww = malloc((k + 1) * sizeof *ww),
           *pp = malloc((k + 1) * sizeof *pp);
    for (size_t i = 0; worst >= 0 && kk && ww && pp && i < k; i++) {
        size_t m = 0;
        for (size_t j = 0; j < k; j++) {
            if (j == i) continue;
            kk[m] = known[j];
            ww[m] = w[j];
            pp[m++] = peak[j];
        }
        struct tlb_mem_fit f;
        if (tlb_mem_fit(kk, ww, pp, m, &f) != 0) continue;
        double pred = known[i] + tlb_mem_fit_overhead(&f, w[i]);
        double rel = fabs(pred - peak[i]) / peak[i];
        if (rel > worst) {
            worst = rel;
            snprintf(worst_row, n, "line %zu: predicted %.0f, measured %.0f", line[i], pred,
                     peak[i]);
        }
    }
    *n_used = k;
    free(kk);
    free(ww);
    free(pp);
    free(known);
    free(w);
    free(peak);
    free(line);
    return worst;
}

/* Run fit on results at --ram 2G with stderr captured (returned, caller frees). */
static char *capture_fit(int *rc, char **text, const char *results) {
    char err_path[256];
    const char *t = getenv("TMPDIR");
    snprintf(err_path, sizeof err_path, "%s/tlb-fit-err-%d.txt", t && *t ? t : "/tmp",
             (int)getpid());
    fflush(stderr);
    int saved = dup(2);
    FILE *ef = fopen(err_path, "w");
    if (!ef || saved < 0) return NULL;
    dup2(fileno(ef), 2);
    fclose(ef);
    *rc = run_fit(text, "--ram", "2G", "--results", results, NULL, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t n;
    char *err = tlb_read_file(err_path, 1 << 20, &n);
    unlink(err_path);
    return err;
}

static int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p++) n++;
    return n;
}

/* Rows no measurement can have (n_prompt 9e18, negative counts, 8 EiB of KV cache, KLD
 * -1e300, 1e300 t/s, negative sizes) are skipped, each with a warning naming the file, the
 * line and the column, and the answer is the one the clean rows give. */
TLB_TEST(hostile_rows_skipped) {
    char *clean = NULL, *hostile = NULL;
    int rc_clean, rc_hostile;
    char *e1 = capture_fit(&rc_clean, &clean, "tests/fixtures/csv/fit-rows.csv");
    char *e2 = capture_fit(&rc_hostile, &hostile, "tests/fixtures/csv/fit-hostile.csv");
    int same = clean && hostile && !strcmp(clean, hostile);
    int warned = count_of(e2, "fit-hostile.csv: line ") == 5 && strstr(e2, "column n_prompt") &&
                 strstr(e2, "column n_gen") && strstr(e2, "column kv_bytes") &&
                 strstr(e2, "column tg_ts_median") && strstr(e2, "column weights_bytes");
    char *shown = e2 ? strdup(e2) : NULL;
    free(e1);
    free(e2);
    free(clean);
    free(hostile);
    TLB_CHECK(rc_clean == 0 && rc_hostile == 0, "exit %d / %d", rc_clean, rc_hostile);
    TLB_CHECK(same, "the hostile rows changed the answer");
    TLB_CHECK(warned, "want 5 warnings naming file, line and column: %s", shown ? shown : "");
    free(shown);
}

/* A file of only impossible rows gets no answer (no 2^63-token context, no "0 B"). */
TLB_TEST(absurd_rows_no_answer) {
    char *text = NULL;
    int rc;
    char *err = capture_fit(&rc, &text, "tests/fixtures/csv/fit-absurd.csv");
    int rows = text ? count_of(text, "\n") - 1 : 0;
    int named = err && strstr(err, "fit-absurd.csv");
    free(text);
    free(err);
    TLB_CHECK(rc == 2, "exit %d, want 2 (no usable rows)", rc);
    TLB_CHECK(rows <= 0, "%d answer rows printed from impossible rows", rows);
    TLB_CHECK(named, "no message naming the file");
}

TLB_TEST(predicted_within_10pct_fixture) {
    /* The fixture's peak RSS is crafted (see tests/fixtures/csv/README.md): the engine's
     * bytes plus an overhead of a different form than the model's, plus +-1% wobble. */
    struct tlb_table *t;
    TLB_CHECK(tlb_csv_read("tests/fixtures/csv/fit-rows.csv", &t) == 0, "read fixture");
    size_t n;
    char worst_row[160] = "";
    double worst = loo_worst(t, &n, worst_row, sizeof worst_row);
    tlb_table_free(t);
    TLB_CHECK(n == 18 && worst >= 0, "%zu usable rows", n);
    TLB_CHECK(worst < 0.10, "leave-one-out error %.1f%% (%s)", 100 * worst, worst_row);
    /* and without any overhead the raw engine bytes are clearly short: the fit matters */
    struct tlb_mem_fit f;
    double known[] = {1e9}, w[] = {1e9}, peak[] = {1.1e9};
    TLB_CHECK(tlb_mem_fit(known, w, peak, 1, &f) == 0 && f.n_params == 1 &&
                  fabs(f.a - 1e8) < 1, "one-row fit must be the constant residual");
}

TLB_TEST(predicted_within_10pct_baseline) {
    if (access("results/baseline.csv", R_OK) != 0)
        TLB_SKIP("results/baseline.csv is not committed yet (measured baseline needed)");
    struct tlb_table *t;
    TLB_CHECK(tlb_csv_read("results/baseline.csv", &t) == 0, "results/baseline.csv unreadable");
    size_t n;
    char worst_row[160] = "";
    double worst = loo_worst(t, &n, worst_row, sizeof worst_row);
    tlb_table_free(t);
    if (worst < 0) TLB_SKIP("results/baseline.csv has fewer than 3 rows with peak RSS and sizes");
    TLB_CHECK(worst < 0.10, "baseline: leave-one-out error %.1f%% over %zu rows (%s)",
              100 * worst, n, worst_row);
}

TLB_TEST_MAIN()
