/* test-runner.c — the sweep's building blocks in-process: list and sweep-file parsing (good
 * and bad input, errors naming file and line), the cross product and its unsupported rows,
 * --resume matching, one configuration run by the runner on a tiny synthetic model,
 * process memory facts, SHA-256 vectors. Worker processes are tested by t-sweep.sh and
 * t-faults.sh. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accuracy.h"
#include "engine.h"
#include "hash-cache.h"
#include "model.h"
#include "options.h"
#include "progress.h"
#include "results-csv.h"
#include "runner.h"
#include "sha256.h"
#include "sweep-plan.h"
#include "test.h"
#include "util.h"
#include "worker.h"

static char tmpdir[64];

/* remove the temporary directory when the test binary exits */
__attribute__((destructor)) static void remove_tmpdir(void) {
    if (!tmpdir[0] || strncmp(tmpdir, "/tmp/tlb-test-runner-", 21) != 0) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}
static const char *tmp_file(const char *name, const char *content) {
    static char path[256];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/tlb-test-runner-XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(content, f);
    fclose(f);
    return path;
}

TLB_TEST(int_lists_and_ranges) {
    int v[64];
    TLB_CHECK(tlb_parse_int_list("-t", "1,2,4", 1, 64, v, 64) == 3 && v[2] == 4, "1,2,4");
    TLB_CHECK(tlb_parse_int_list("-t", "1-8*2", 1, 64, v, 64) == 4 && v[3] == 8, "1-8*2");
    TLB_CHECK(tlb_parse_int_list("-t", "2-10+4", 1, 64, v, 64) == 3 && v[1] == 6 && v[2] == 10,
              "2-10+4");
    TLB_CHECK(tlb_parse_int_list("--ctx", " 0 , 512 ", 0, 4096, v, 64) == 2 && v[1] == 512,
              "spaces");
    TLB_CHECK(tlb_parse_int_list("--ctx", "0-3", 0, 4096, v, 64) == 4 && v[0] == 0, "0-3");
    char err[512];
    const char *bad[] = {"1,2,x", "", "1,,2", "3-1", "1,1", "0", "1-4*1", "1-x", "2-", "99",
                         "1.5", "1-8*2,4", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tlb_test_capture_begin();
        int n = tlb_parse_int_list("-t", bad[i], 1, 64, v, 64);
        tlb_test_capture_end(err, sizeof err);
        TLB_CHECK(n == -1, "'%s' accepted (%d values)", bad[i], n);
        TLB_CHECK(strstr(err, "-t") && strchr(err, '\n') == strrchr(err, '\n'),
                  "'%s': error should be one line naming -t, got '%s'", bad[i], err);
    }
    tlb_test_capture_begin();
    tlb_parse_int_list("-t", "1,2,x", 1, 64, v, 64);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(strstr(err, "'x'"), "error should quote the bad item: %s", err);
}

/* Range steps are numbers like any other: a step or factor beyond the option's range is
 * refused, and stepping never overflows ("1-8+9223372036854775807" put 0 and -1 in the plan
 * past the range check). */
TLB_TEST(int_ranges_never_overflow) {
    int v[64];
    char err[512];
    static const struct { const char *s; long min, max; } bad[] = {
        {"1-8+9223372036854775807", 1, 64},   {"0-8+9223372036854775807", 0, 1 << 20},
        {"1-8*9223372036854775807", 1, 64},   {"1-8+65", 1, 64},
        {"1-8*4611686018427387904", 1, 64},   {"0-1048576+1048577", 0, 1 << 20},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tlb_test_capture_begin();
        int n = tlb_parse_int_list("-t", bad[i].s, bad[i].min, bad[i].max, v, 64);
        tlb_test_capture_end(err, sizeof err);
        TLB_CHECK(n == -1, "'%s' accepted (%d values, first %d, last %d)", bad[i].s, n, v[0],
                  n > 0 ? v[n - 1] : 0);
        TLB_CHECK(strstr(err, "-t") && strstr(err, bad[i].s), "'%s': error: %s", bad[i].s, err);
    }
    /* steps that reach past the top of int stop inside the range */
    int n = tlb_parse_int_list("x", "2147483600-2147483647+40", 0, 0x7fffffffL, v, 64);
    TLB_CHECK(n == 2 && v[0] == 2147483600 && v[1] == 2147483640, "+40 near INT_MAX: %d", n);
    n = tlb_parse_int_list("x", "1-2147483647*2", 1, 0x7fffffffL, v, 64);
    TLB_CHECK(n == 31 && v[30] == 1 << 30, "*2 to INT_MAX: %d values", n);
    n = tlb_parse_int_list("x", "1073741824-2147483647*3", 1, 0x7fffffffL, v, 64);
    TLB_CHECK(n == 1 && v[0] == 1073741824, "*3 past INT_MAX: %d values", n);
}

TLB_TEST(spec_set_validates) {
    struct tlb_sweep_spec s;
    memset(&s, 0, sizeof s);
    char err[512];
    struct { const char *k, *v; } bad[] = {
        {"threads", "0"},    {"quant", "q3_x"},     {"kernel", "nope"}, {"kv-type", "q8_0"},
        {"n-prompt", "0"},   {"repetitions", "x"},  {"timeout", "-5"},  {"seed", "-1"},
        {"accuracy", "may"}, {"quant", "f32,f32"}, {"frobnicate", "1"}, {"model", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tlb_test_capture_begin();
        int rc = tlb_spec_set(&s, bad[i].k, bad[i].v, "WHERE");
        tlb_test_capture_end(err, sizeof err);
        TLB_CHECK(rc == -1, "%s=%s accepted", bad[i].k, bad[i].v);
        TLB_CHECK(strstr(err, "WHERE"), "%s=%s: error lacks where: %s", bad[i].k, bad[i].v, err);
    }
    TLB_CHECK(tlb_spec_set(&s, "quant", "q4_0, q8_0", "x") == 0 && s.n_quants == 2 &&
                  s.quants[0] == TLB_TYPE_Q4_0,
              "quant list");
    TLB_CHECK(tlb_spec_set(&s, "kernel", "naive,auto", "x") == 0 && s.n_kernels == 2, "kernels");
    TLB_CHECK(tlb_spec_is_set(&s, "quant") && !tlb_spec_is_set(&s, "threads"), "set bit");
    tlb_spec_free(&s);
}

TLB_TEST(sweep_file_good_and_bad) {
    const char *good = tmp_file("good.conf",
                                "# a sweep\n\nmodel = synthetic:tiny   # trailing comment\n"
                                "quant=f32,q4_0\r\nthreads = 1-2\nctx = 0,8\nn-prompt = 4\n"
                                "power-cmd = echo '5#not-a-comment'\n");
    TLB_CHECK(good, "temp file");
    struct tlb_sweep_spec s;
    memset(&s, 0, sizeof s);
    TLB_CHECK(tlb_spec_load_file(&s, good) == 0, "good file rejected");
    TLB_CHECK(s.n_models == 1 && !strcmp(s.models[0], "synthetic:tiny"), "model");
    TLB_CHECK(s.n_quants == 2 && s.n_threads == 2 && s.n_depths == 2 && s.n_prompt == 4,
              "values");
    TLB_CHECK(s.power_cmd && !strcmp(s.power_cmd, "echo '5#not-a-comment'"), "power-cmd '%s'",
              s.power_cmd ? s.power_cmd : "(null)");
    tlb_spec_free(&s);
    struct { const char *content, *want; } bad[] = {
        {"model = synthetic:tiny\nthreads = 1,x\n", "bad.conf:2"},
        {"# c\nfrobnicate = 3\n", "bad.conf:2"},
        {"threads = 1\nthreads = 2\n", "already set on line 1"},
        {"just words\n", "bad.conf:1"},
        {"quant = q9\n", "bad.conf:1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = tmp_file("bad.conf", bad[i].content);
        char err[512];
        memset(&s, 0, sizeof s);
        tlb_test_capture_begin();
        int rc = tlb_spec_load_file(&s, p);
        tlb_test_capture_end(err, sizeof err);
        tlb_spec_free(&s);
        TLB_CHECK(rc == -1, "bad file %zu accepted", i);
        TLB_CHECK(strstr(err, bad[i].want), "file %zu: wanted '%s' in '%s'", i, bad[i].want, err);
    }
    char err[512];
    memset(&s, 0, sizeof s);
    tlb_test_capture_begin();
    int rc = tlb_spec_load_file(&s, "/nonexistent/sweep.conf");
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(rc == -1 && strstr(err, "/nonexistent/sweep.conf"), "missing file: %s", err);
}

TLB_TEST(plan_cross_product) {
    struct tlb_sweep_spec s;
    tlb_spec_defaults(&s, TLB_CMD_SWEEP);
    TLB_CHECK(tlb_spec_set(&s, "model", "synthetic:tiny", "x") == 0, "model");
    TLB_CHECK(tlb_spec_set(&s, "quant", "q4_0,f32,q8_0", "x") == 0, "quant");
    TLB_CHECK(tlb_spec_set(&s, "kernel", "naive,neon", "x") == 0, "kernel");
    TLB_CHECK(tlb_spec_set(&s, "threads", "1,2", "x") == 0, "threads");
    TLB_CHECK(tlb_spec_set(&s, "ctx", "0,200", "x") == 0, "ctx");
    TLB_CHECK(tlb_spec_set(&s, "n-prompt", "8", "x") == 0 && tlb_spec_set(&s, "n-gen", "4", "x") == 0,
              "p/n");
    struct tlb_plan p;
    TLB_CHECK(tlb_plan_build(&s, &p) == 0, "build");
    TLB_CHECK(p.n == 3 * 2 * 2 * 2, "%d items", p.n);
    TLB_CHECK(p.items[0].wtype == TLB_TYPE_F32, "with accuracy on, f32 runs first");
    int unsup_ctx = 0, unsup_kernel = 0, ok = 0;
    char why[256];
    int neon_usable = tlb_kernel_usable(tlb_kernel_find("neon"), TLB_TYPE_F32, why, sizeof why) == 0;
    for (int i = 0; i < p.n; i++) {
        const struct tlb_plan_item *it = &p.items[i];
        if (it->pre_status == TLB_STATUS_OK) ok++;
        else if (strstr(it->pre_detail, "exceeds")) unsup_ctx++;
        else unsup_kernel++;
        /* model x type groups are contiguous: a model is prepared once per weight type */
        if (i > 0 && it->wtype != p.items[i - 1].wtype)
            for (int j = i + 1; j < p.n; j++)
                TLB_CHECK(p.items[j].wtype != p.items[i - 1].wtype, "weight types interleave");
    }
    if (neon_usable) {
        TLB_CHECK(unsup_kernel == 0 && unsup_ctx == 12, "ctx %d kernel %d", unsup_ctx, unsup_kernel);
    } else {
        TLB_CHECK(unsup_kernel == 12 && unsup_ctx == 6 && ok == 6, "ok %d ctx %d kernel %d", ok,
                  unsup_ctx, unsup_kernel);
    }
    char lbl[128];
    tlb_plan_item_label(&p.items[0], lbl, sizeof lbl);
    TLB_CHECK(!strcmp(lbl, "f32 naive t=1 d=0"), "label '%s'", lbl);
    tlb_plan_free(&p);
    /* "auto" resolves per weight type to a usable kernel */
    TLB_CHECK(tlb_spec_set(&s, "kernel", "auto", "x") == 0, "auto");
    TLB_CHECK(tlb_plan_build(&s, &p) == 0 && p.items[0].kernel != NULL &&
                  strcmp(p.items[0].kernel_name, "auto") != 0,
              "auto resolved");
    tlb_plan_free(&p);
    /* a profile may name a kernel this build lacks: its rows are unsupported, not an error */
    TLB_CHECK(tlb_spec_set_from(&s, "kernel", "naive,warp9", "profile", TLB_SRC_PROFILE, 0) == 0,
              "lenient");
    TLB_CHECK(tlb_plan_build(&s, &p) == 0, "build lenient");
    int warp = 0;
    for (int i = 0; i < p.n; i++)
        if (!strcmp(p.items[i].kernel_name, "warp9")) {
            warp++;
            TLB_CHECK(p.items[i].pre_status == TLB_STATUS_UNSUPPORTED &&
                          strstr(p.items[i].pre_detail, "not built"),
                      "warp9 row");
        }
    TLB_CHECK(warp == p.n / 2, "warp9 rows %d of %d", warp, p.n);
    tlb_plan_free(&p);
    tlb_spec_free(&s);
}

/* Short kernels: their items carry the short phases (no warm-up), the others the spec's;
 * bad short-phases values are refused with the source named. */
TLB_TEST(plan_short_kernels) {
    struct tlb_sweep_spec s;
    tlb_spec_defaults(&s, TLB_CMD_SWEEP);
    TLB_CHECK(tlb_spec_set(&s, "model", "synthetic:tiny", "x") == 0 &&
                  tlb_spec_set(&s, "quant", "f32", "x") == 0 &&
                  tlb_spec_set(&s, "kernel", "naive,tiled", "x") == 0 &&
                  tlb_spec_set(&s, "threads", "1", "x") == 0 &&
                  tlb_spec_set(&s, "n-prompt", "16", "x") == 0 &&
                  tlb_spec_set(&s, "n-gen", "8", "x") == 0 &&
                  tlb_spec_set(&s, "repetitions", "3", "x") == 0,
              "spec");
    TLB_CHECK(tlb_spec_set(&s, "short-kernels", "naive", "x") == 0, "short-kernels");
    TLB_CHECK(tlb_spec_set(&s, "short-phases", "4,4,2", "x") == 0, "repeated values allowed");
    struct tlb_plan p;
    TLB_CHECK(tlb_plan_build(&s, &p) == 0 && p.n == 2, "plan");
    for (int i = 0; i < p.n; i++) {
        const struct tlb_plan_item *it = &p.items[i];
        if (!strcmp(it->kernel_name, "naive"))
            TLB_CHECK(it->short_phases && it->n_prompt == 4 && it->n_gen == 4 && it->reps == 2 &&
                          it->warmup == 0,
                      "naive: p %d n %d r %d w %d", it->n_prompt, it->n_gen, it->reps,
                      it->warmup);
        else
            TLB_CHECK(!it->short_phases && it->n_prompt == 16 && it->n_gen == 8 &&
                          it->reps == 3 && it->warmup == 1,
                      "tiled: p %d n %d r %d w %d", it->n_prompt, it->n_gen, it->reps,
                      it->warmup);
    }
    char lbl[128];
    tlb_plan_item_label(&p.items[0], lbl, sizeof lbl);
    TLB_CHECK(!strcmp(lbl, "f32 naive t=1 d=0 (short: p=4 n=4 r=2)"), "label '%s'", lbl);
    tlb_plan_free(&p);
    const char *bad[] = {"4,4", "4,4,2,1", "0,4,2", "4,4,0", "a,b,c", "4,-1,2", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        TLB_CHECK(tlb_spec_set(&s, "short-phases", bad[i], "x") != 0, "accepted '%s'", bad[i]);
    TLB_CHECK(tlb_spec_set(&s, "short-kernels", "warp9", "x") != 0, "unknown kernel accepted");
    TLB_CHECK(tlb_spec_set(&s, "short-kernels", "", "x") == 0 && s.n_short == 0,
              "'' must clear the list");
    tlb_spec_free(&s);
}

/* depth-kernels: the depths after the first are measured with the listed kernels only (auto:
 * the best of each weight type); the first depth with every kernel; '' measures all again. */
TLB_TEST(plan_depth_kernels) {
    struct tlb_sweep_spec s;
    tlb_spec_defaults(&s, TLB_CMD_SWEEP);
    TLB_CHECK(tlb_spec_set(&s, "model", "synthetic:tiny", "x") == 0 &&
                  tlb_spec_set(&s, "quant", "f32,q8_0", "x") == 0 &&
                  tlb_spec_set(&s, "kernel", "naive,tiled", "x") == 0 &&
                  tlb_spec_set(&s, "threads", "1,2", "x") == 0 &&
                  tlb_spec_set(&s, "ctx", "0,16,32", "x") == 0 &&
                  tlb_spec_set(&s, "n-prompt", "8", "x") == 0 &&
                  tlb_spec_set(&s, "n-gen", "8", "x") == 0,
              "spec");
    struct tlb_plan p;
    TLB_CHECK(tlb_plan_build(&s, &p) == 0 && p.n == 24 && p.n_depth_left_out == 0,
              "no depth-kernels: %d configurations, want 24", p.n);
    tlb_plan_free(&p);
    TLB_CHECK(tlb_spec_set(&s, "depth-kernels", "tiled", "x") == 0, "depth-kernels");
    TLB_CHECK(tlb_plan_build(&s, &p) == 0 && p.n == 16 && p.n_depth_left_out == 8,
              "depth-kernels tiled: %d configurations (%d left out), want 16 (8)", p.n,
              p.n_depth_left_out);
    for (int i = 0; i < p.n; i++)
        TLB_CHECK(p.items[i].n_depth == 0 || !strcmp(p.items[i].kernel_name, "tiled"),
                  "%s at depth %d", p.items[i].kernel_name, p.items[i].n_depth);
    tlb_plan_free(&p);
    /* auto: the kernel auto picks for each weight type, whichever it is on this machine */
    TLB_CHECK(tlb_spec_set(&s, "depth-kernels", "auto", "x") == 0, "auto");
    char why[256];
    const struct tlb_kernel *best[2] = {
        tlb_kernel_select("auto", TLB_TYPE_BIT(TLB_TYPE_F32), why, sizeof why),
        tlb_kernel_select("auto", TLB_TYPE_BIT(TLB_TYPE_Q8_0), why, sizeof why)};
    int deep = 0;
    TLB_CHECK(tlb_plan_build(&s, &p) == 0, "plan auto");
    for (int i = 0; i < p.n; i++) {
        const struct tlb_plan_item *it = &p.items[i];
        if (it->n_depth == 0) continue;
        deep++;
        TLB_CHECK(it->kernel == best[it->wtype == TLB_TYPE_Q8_0], "%s at depth %d is not auto's",
                  it->kernel_name, it->n_depth);
    }
    /* naive and tiled: auto is one of them only if nothing faster is built in */
    int in_list = 0;
    for (int b = 0; b < 2; b++)
        in_list += best[b] && (!strcmp(best[b]->name, "naive") || !strcmp(best[b]->name, "tiled"));
    TLB_CHECK(deep == in_list * 4, "%d configurations at depth, want %d", deep, in_list * 4);
    tlb_plan_free(&p);
    /* a profile's depth-kernels gives way to kernels the user named */
    TLB_CHECK(tlb_spec_set_from(&s, "depth-kernels", "tiled", "profile", TLB_SRC_PROFILE, 0) == 0,
              "profile depth-kernels");
    TLB_CHECK(tlb_plan_build(&s, &p) == 0 && p.n == 24,
              "named kernels, profile's depth-kernels: %d configurations, want 24", p.n);
    tlb_plan_free(&p);
    TLB_CHECK(tlb_spec_set_from(&s, "kernel", "naive,tiled", "profile", TLB_SRC_PROFILE, 0) == 0 &&
                  tlb_plan_build(&s, &p) == 0 && p.n == 16,
              "profile's kernels and depth-kernels: %d configurations, want 16", p.n);
    tlb_plan_free(&p);
    TLB_CHECK(tlb_spec_set(&s, "depth-kernels", "", "x") == 0 && s.n_depth_kernels == 0,
              "'' must clear the list");
    TLB_CHECK(tlb_spec_set(&s, "depth-kernels", "warp9", "x") != 0, "unknown kernel accepted");
    tlb_spec_free(&s);
}

TLB_TEST(resume_marks_rows_in_csv) {
    struct tlb_sweep_spec s;
    tlb_spec_defaults(&s, TLB_CMD_SWEEP);
    tlb_spec_set(&s, "model", "synthetic:tiny", "x");
    tlb_spec_set(&s, "quant", "f32,q4_0", "x");
    tlb_spec_set(&s, "kernel", "naive", "x");
    tlb_spec_set(&s, "threads", "1,2", "x");
    tlb_spec_set(&s, "ctx", "0", "x");
    tlb_spec_set(&s, "n-prompt", "8", "x");
    tlb_spec_set(&s, "n-gen", "4", "x");
    struct tlb_plan p;
    TLB_CHECK(tlb_plan_build(&s, &p) == 0 && p.n == 4, "plan");
    const char *path = tmp_file("resume.csv", "");
    unlink(path);
    char csv[256];
    snprintf(csv, sizeof csv, "%s", path);
    TLB_CHECK(tlb_plan_mark_done(&p, &s, csv) == 0, "a missing file marks nothing");
    struct tlb_csv_writer *w = tlb_csv_open_append(csv);
    TLB_CHECK(w, "open csv");
    struct tlb_row *row = tlb_row_new();
    struct tlb_run_ident id = {.run_id = "r", .model_spec = "synthetic:tiny",
                               .wtype = TLB_TYPE_Q4_0, .kv_type = TLB_TYPE_F32, .kernel = "naive",
                               .n_threads = 2, .n_depth = 0, .n_prompt = 8, .n_gen = 4, .reps = 5};
    TLB_CHECK(tlb_runner_identity(row, &id) == 0, "identity");
    tlb_row_set_str(row, "status", "crashed");
    TLB_CHECK(tlb_csv_append(w, row) == 0, "append");
    id.n_gen = 5; /* another -n: not this sweep's configuration */
    tlb_runner_identity(row, &id);
    id.n_gen = 4;
    TLB_CHECK(tlb_csv_append(w, row) == 0, "append 2");
    tlb_row_free(row);
    TLB_CHECK(tlb_csv_close(w) == 0, "close");
    int n = tlb_plan_mark_done(&p, &s, csv);
    TLB_CHECK(n == 1, "marked %d", n);
    for (int i = 0; i < p.n; i++)
        TLB_CHECK(p.items[i].done == (p.items[i].wtype == TLB_TYPE_Q4_0 && p.items[i].n_threads == 2),
                  "item %d done=%d", i, p.items[i].done);
    /* a broken file is refused with its name */
    const char *bad = tmp_file("broken.csv", "schema_version,foo\ntlbench-csv-99,1\n");
    char err[512];
    tlb_test_capture_begin();
    n = tlb_plan_mark_done(&p, &s, bad);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(n == -1 && strstr(err, "broken.csv"), "broken csv: %d '%s'", n, err);
    tlb_plan_free(&p);
    tlb_spec_free(&s);
}

static struct tlb_model *load_tiny(enum tlb_type t) {
    struct tlb_model *m = NULL;
    struct tlb_load_opts lo = {.spec = "synthetic:tiny", .convert = 1, .wtype = t, .seed = 42,
                               .n_threads = 1};
    return tlb_model_load(&m, &lo) == 0 ? m : NULL;
}

static double cell(const struct tlb_row *r, const char *col) {
    const char *v = tlb_row_get(r, col);
    return v && *v ? strtod(v, NULL) : NAN;
}

TLB_TEST(runner_one_configuration) {
    struct tlb_model *m = load_tiny(TLB_TYPE_Q8_0);
    TLB_CHECK(m, "load");
    struct tlb_row *row = tlb_row_new();
    struct tlb_run_opts o = {.kernel = tlb_kernel_find("naive"), .n_threads = 1, .n_depth = 16,
                             .kv_type = TLB_TYPE_F16, .n_prompt = 8, .n_gen = 5, .reps = 3,
                             .warmup = 1, .seed = 7, .monitor = 1, .root = "",
                             .power_source = "none", .counters = 1, .idle_w = NAN};
    char detail[256];
    enum tlb_status st = tlb_runner_run(m, &o, row, detail, sizeof detail);
    TLB_CHECK(st == TLB_STATUS_OK, "status %s: %s", tlb_status_name(st), detail);
    TLB_CHECK(!strcmp(tlb_row_get(row, "status"), "ok"), "status cell");
    TLB_CHECK(cell(row, "pp_ts_median") > 0 && cell(row, "tg_ts_median") > 0, "rates");
    TLB_CHECK(cell(row, "tg_ms_p50") <= cell(row, "tg_ms_p99"), "percentiles ordered");
    TLB_CHECK(cell(row, "ttft_ms") >= cell(row, "pp_ms_median") * 0.5, "ttft");
    TLB_CHECK(cell(row, "n_ctx") == 16 + 8 + 5, "n_ctx");
    const char *samples = tlb_row_get(row, "tg_samples_ts");
    int semis = 0;
    for (const char *c = samples; *c; c++) semis += *c == ';';
    TLB_CHECK(semis == 2, "3 samples expected: '%s'", samples);
    double w = cell(row, "weights_bytes"), kv = cell(row, "kv_bytes"), sc = cell(row, "scratch_bytes");
    TLB_CHECK(w == (double)tlb_model_weight_bytes(m), "weights");
    /* f16 KV: 2 x layers x ctx x kv_dim x 2 bytes */
    TLB_CHECK(kv == 2.0 * m->cfg.n_layers * 29 * tlb_kv_dim(&m->cfg) * 2, "kv %g", kv);
    TLB_CHECK(cell(row, "predicted_bytes") == w + kv + sc, "predicted");
    TLB_CHECK(cell(row, "peak_rss_bytes") > w, "peak rss %g", cell(row, "peak_rss_bytes"));
    TLB_CHECK(!strcmp(tlb_row_get(row, "power_source"), "none"), "power none");
    TLB_CHECK(!*tlb_row_get(row, "pp_energy_j"), "no energy without a source");
    TLB_CHECK(cell(row, "ctr_task_clock_ms") > 0, "task clock counted");
    /* prefill only */
    tlb_row_reset(row);
    o.n_gen = 0;
    st = tlb_runner_run(m, &o, row, detail, sizeof detail);
    TLB_CHECK(st == TLB_STATUS_OK && !*tlb_row_get(row, "tg_ts_median") &&
                  cell(row, "avg_ts") > 0,
              "n_gen 0");
    /* context beyond the model: unsupported, with the reason */
    tlb_row_reset(row);
    o.n_depth = 200;
    st = tlb_runner_run(m, &o, row, detail, sizeof detail);
    TLB_CHECK(st == TLB_STATUS_UNSUPPORTED && strstr(detail, "exceeds"), "ctx: %s", detail);
    TLB_CHECK(!strcmp(tlb_row_get(row, "status"), "unsupported"), "status cell");
    tlb_row_free(row);
    tlb_model_free(m);
}

/* A KV cache filled once (tlb_runner_fill_kv, as a sweep's model process does) and loaded
 * into another engine gives that engine exactly the state of an engine that filled the same
 * depth itself: the next prompt's logits are bit-identical, for f32 and f16 caches. */
TLB_TEST(kv_fill_handover_matches_own_fill) {
    struct tlb_model *m = load_tiny(TLB_TYPE_Q8_0);
    TLB_CHECK(m, "load");
    const int depth = 16, np = 4, V = m->cfg.vocab_size;
    char why[256];
    const struct tlb_kernel *k = tlb_kernel_select("auto", m->types_used, why, sizeof why);
    TLB_CHECK(k, "auto kernel: %s", why);
    int tok[16], prompt[4];
    tlb_runner_tokens(tok, depth, V, 7, 2);
    tlb_runner_tokens(prompt, np, V, 7, 1);
    float *la = malloc((size_t)V * sizeof *la), *lb = malloc((size_t)V * sizeof *lb);
    TLB_CHECK(la && lb, "alloc");
    const enum tlb_type kv_types[] = {TLB_TYPE_F32, TLB_TYPE_F16};
    for (int t = 0; t < 2; t++) {
        size_t bytes = tlb_runner_kv_fill_bytes(&m->cfg, kv_types[t], depth);
        void *snap = malloc(bytes);
        TLB_CHECK(snap && tlb_runner_fill_kv(m, depth, kv_types[t], 7, 1, snap) == 0, "fill");
        struct tlb_engine_opts eo = {.kernel = k, .n_threads = 1, .ctx_len = depth + np,
                                     .max_batch = tlb_runner_max_batch(1, depth),
                                     .kv_type = kv_types[t]};
        struct tlb_engine *a = NULL, *b = NULL;
        TLB_CHECK(tlb_engine_create(&a, m, &eo) == 0 && tlb_engine_create(&b, m, &eo) == 0,
                  "engines");
        size_t lb_bytes = tlb_engine_kv_layer_bytes(a, depth);
        TLB_CHECK(lb_bytes * (size_t)m->cfg.n_layers == bytes, "layout %zu x %d vs %zu",
                  lb_bytes, m->cfg.n_layers, bytes);
        for (int l = 0; l < m->cfg.n_layers; l++)
            TLB_CHECK(tlb_engine_kv_load_layer(a, l, depth, (char *)snap + (size_t)l * lb_bytes) == 0,
                      "load layer %d", l);
        TLB_CHECK(tlb_engine_kv_load_layer(a, m->cfg.n_layers, depth, snap) != 0,
                  "a layer past the model is refused");
        TLB_CHECK(tlb_engine_forward(b, tok, depth, 0, NULL, 0) == 0, "own fill");
        TLB_CHECK(tlb_engine_forward(a, prompt, np, depth, la, 0) == 0 &&
                      tlb_engine_forward(b, prompt, np, depth, lb, 0) == 0,
                  "prompt after the depth");
        TLB_CHECK(memcmp(la, lb, (size_t)V * sizeof *la) == 0,
                  "%s KV: logits differ after the handed-over fill",
                  tlb_type_traits(kv_types[t])->name);
        tlb_engine_free(a);
        tlb_engine_free(b);
        free(snap);
    }
    free(la);
    free(lb);
    tlb_model_free(m);
}

/* A fake RAPL package counter that rises at 1 W: energy_uj = microseconds since start,
 * replaced atomically (rename) every millisecond. */
struct fake_rapl {
    char path[512], tmp[520];
    volatile int stop;
};

static void *rapl_writer(void *arg) {
    struct fake_rapl *f = arg;
    int64_t t0 = tlb_now_ns();
    while (!f->stop) {
        FILE *o = fopen(f->tmp, "w");
        if (o) {
            fprintf(o, "%lld\n", 1000000LL + (long long)((tlb_now_ns() - t0) / 1000));
            fclose(o);
            rename(f->tmp, f->path);
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

TLB_TEST(runner_power_and_thermal_columns) {
    const char *fixture = "tests/fixtures/sysfs/x86-server";
    if (access(fixture, F_OK) != 0) TLB_SKIP("%s absent", fixture);
    if (!tmp_file("probe", "")) TLB_CHECK(0, "temp dir");
    char root[256], cmd[700];
    snprintf(root, sizeof root, "%s/x86-server", tmpdir);
    snprintf(cmd, sizeof cmd, "cp -r %s %s", fixture, root);
    TLB_CHECK(system(cmd) == 0, "copy the fixture");
    struct fake_rapl f = {.stop = 0};
    snprintf(f.path, sizeof f.path, "%s/sys/class/powercap/intel-rapl:0/energy_uj", root);
    snprintf(f.tmp, sizeof f.tmp, "%s.new", f.path);
    pthread_t th;
    TLB_CHECK(pthread_create(&th, NULL, rapl_writer, &f) == 0, "thread");
    struct tlb_model *m = NULL;
    struct tlb_load_opts lo = {.spec = "synthetic:small", .convert = 1, .wtype = TLB_TYPE_Q8_0,
                               .seed = 42, .n_threads = 1};
    int lrc = tlb_model_load(&m, &lo);
    struct tlb_row *row = tlb_row_new();
    struct tlb_run_opts o = {.kernel = tlb_kernel_find("naive"), .n_threads = 1, .n_depth = 0,
                             .kv_type = TLB_TYPE_F32, .n_prompt = 32, .n_gen = 16, .reps = 2,
                             .warmup = 0, .seed = 7, .monitor = 1, .root = root,
                             .power_source = "rapl", .counters = 0, .idle_w = 0.75};
    char detail[256] = "";
    enum tlb_status st = lrc == 0 ? tlb_runner_run(m, &o, row, detail, sizeof detail)
                                  : TLB_STATUS_ERROR;
    f.stop = 1;
    pthread_join(th, NULL);
    tlb_model_free(m);
    TLB_CHECK(st == TLB_STATUS_OK, "status %s: %s", tlb_status_name(st), detail);
    TLB_CHECK(!strncmp(tlb_row_get(row, "power_source"), "rapl", 4), "source '%s'",
              tlb_row_get(row, "power_source"));
    TLB_CHECK(!strcmp(tlb_row_get(row, "power_scope"), "package"), "scope '%s'",
              tlb_row_get(row, "power_scope"));
    double pp = cell(row, "pp_energy_j"), tg = cell(row, "tg_energy_j"), w = cell(row, "avg_w");
    TLB_CHECK(pp >= 0 && tg > 0, "energies pp %g tg %g", pp, tg);
    TLB_CHECK(w > 0.3 && w < 3.0, "a 1 W counter gave %g W", w);
    TLB_CHECK_NEAR(cell(row, "j_per_token"), tg / 16, 1e-12);
    TLB_CHECK_NEAR(cell(row, "tokens_per_j"), 16 / tg, 1e-6 * (16 / tg));
    TLB_CHECK_NEAR(cell(row, "idle_w"), 0.75, 1e-12);
    TLB_CHECK(cell(row, "temp_start_c") == 47.0 && cell(row, "temp_max_c") == 47.0,
              "temps %g %g (fixture zones: 45 and 47 C)", cell(row, "temp_start_c"),
              cell(row, "temp_max_c"));
    tlb_row_free(row);
}

TLB_TEST(tokens_avoid_control_ids) {
    int t[1000];
    tlb_runner_tokens(t, 1000, 512, 42, 1);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        TLB_CHECK(t[i] >= 3 && t[i] < 512, "token %d", t[i]);
        differ |= t[i] != t[0];
    }
    TLB_CHECK(differ, "tokens vary");
    int u[10];
    tlb_runner_tokens(u, 10, 512, 42, 1);
    TLB_CHECK(!memcmp(t, u, sizeof u), "seeded: reproducible");
    tlb_runner_tokens(u, 10, 512, 42, 2);
    TLB_CHECK(memcmp(t, u, sizeof u) != 0, "streams differ");
}

/* Every vocabulary size the loader accepts (1 and up) can be benchmarked and evaluated: the
 * generated prompt stays inside the vocabulary (it used id 3 and up, so a vocabulary of 3 or
 * fewer tokens could never run). */
/* A llama2.c checkpoint (dim 8, hidden 16, 1 layer, 2 heads, 1 KV head, seq_len 32) with a
 * vocabulary of v tokens, written to path. */
static int write_llama2c(const char *path, int v) {
    int32_t hdr[7] = {8, 16, 1, 2, 1, v, 32};
    const size_t d = 8, h = 16, kv = 4, hs = 4, S = 32;
    size_t floats = (size_t)v * d + d + d * d + 2 * kv * d + d * d + d + 3 * h * d + d + S * hs;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(hdr, sizeof hdr, 1, f) == 1;
    for (size_t i = 0; ok && i < floats; i++) {
        float x = (float)((int)((i * 2654435761u) % 1000) - 500) / 1000.0f;
        ok = fwrite(&x, sizeof x, 1, f) == 1;
    }
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Every vocabulary size the loader accepts (1 and up) can be benchmarked and evaluated: the
 * generated prompt stays inside the vocabulary (it used id 3 and up, so a vocabulary of 3 or
 * fewer tokens could never run). */
TLB_TEST(tiny_vocabularies_run) {
    for (int v = 1; v <= 5; v++) {
        int t[64];
        tlb_runner_tokens(t, 64, v, 42, 1);
        for (int i = 0; i < 64; i++)
            TLB_CHECK(t[i] >= 0 && t[i] < v && (v <= 3 || t[i] >= 3), "vocab %d: token %d", v,
                      t[i]);
    }
    for (int v = 1; v <= 4; v++) {
        const char *path = tmp_file("tiny-vocab.bin", "");
        TLB_CHECK(path && write_llama2c(path, v) == 0, "write a vocab-%d checkpoint", v);
        struct tlb_model *m = NULL;
        struct tlb_load_opts lo = {.spec = path, .wtype = TLB_TYPE_F32, .n_threads = 1};
        TLB_CHECK(tlb_model_load(&m, &lo) == 0 && m->cfg.vocab_size == v, "load vocab %d", v);
        struct tlb_row *row = tlb_row_new();
        struct tlb_run_opts o = {.kernel = tlb_kernel_find("naive"), .n_threads = 1,
                                 .n_depth = 4, .kv_type = TLB_TYPE_F32, .n_prompt = 8,
                                 .n_gen = 4, .reps = 1, .seed = 7, .root = "",
                                 .power_source = "none", .idle_w = NAN};
        char detail[256] = "";
        enum tlb_status st = row ? tlb_runner_run(m, &o, row, detail, sizeof detail)
                                 : TLB_STATUS_ERROR;
        struct tlb_acc_ref_info info = {0};
        struct tlb_acc_stats as;
        struct tlb_acc_source src = {.seed = 42, .window = 16, .n_threads = 1};
        int fd = tlb_acc_tmpfile();
        int acc = fd >= 0 ? tlb_acc_reference(m, tlb_kernel_find("naive"), &src, fd, &info) : -1;
        if (acc == 0) acc = tlb_acc_compare(m, tlb_kernel_find("naive"), 1, fd, &as, NULL);
        if (fd >= 0) close(fd);
        tlb_row_free(row);
        tlb_model_free(m);
        TLB_CHECK(st == TLB_STATUS_OK, "vocab %d: %s: %s", v, tlb_status_name(st), detail);
        TLB_CHECK(acc == 0 && info.vocab == v, "vocab %d: accuracy pass failed", v);
        TLB_CHECK(as.kld_mean == 0, "vocab %d: the reference against itself: KLD %g", v,
                  as.kld_mean);
    }
}

TLB_TEST(process_memory_facts) {
    struct tlb_proc_mem pm;
    TLB_CHECK(tlb_proc_mem_read(&pm) == 0, "read /proc/self/status");
    TLB_CHECK(pm.hwm > 0 && pm.rss > 0 && pm.hwm >= pm.rss && pm.rss_anon >= 0, "values");
    /* touching 64 MiB raises the resident set (and the peak) by about that much */
    size_t n = (size_t)64 << 20;
    char *p = malloc(n);
    TLB_CHECK(p, "malloc");
    for (size_t i = 0; i < n; i += 4096) ((volatile char *)p)[i] = 1; /* not optimised away */
    struct tlb_proc_mem pm2;
    tlb_proc_mem_read(&pm2);
    free(p);
    TLB_CHECK(pm2.rss - pm.rss > (long long)(n * 9 / 10), "rss grew by %lld",
              pm2.rss - pm.rss);
    TLB_CHECK(pm2.hwm >= pm2.rss, "peak %lld below rss %lld", pm2.hwm, pm2.rss);
    TLB_CHECK(tlb_mem_available() > 0 && tlb_mem_total() >= tlb_mem_available(), "meminfo");
    TLB_CHECK(tlb_mem_margin() >= (128LL << 20), "margin");
}

TLB_TEST(sha256_vectors) {
    char hex[65];
    tlb_sha256_hex("", 0, hex);
    TLB_CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "%s", hex);
    tlb_sha256_hex("abc", 3, hex);
    TLB_CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "%s", hex);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    tlb_sha256_hex(two, strlen(two), hex);
    TLB_CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "%s", hex);
    /* a million 'a' fed in odd pieces */
    struct tlb_sha256 s;
    tlb_sha256_init(&s);
    char a[997];
    memset(a, 'a', sizeof a);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof a ? left : sizeof a;
        tlb_sha256_update(&s, a, k);
        left -= k;
    }
    unsigned char d[32];
    tlb_sha256_final(&s, d);
    TLB_CHECK(d[0] == 0xcd && d[1] == 0xc7 && d[31] == 0xd0, "million a");
    const char *f = tmp_file("hash.txt", "abc");
    TLB_CHECK(tlb_sha256_file(f, hex) == 0 &&
                  !strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
              "file %s", hex);
    char err[256];
    tlb_test_capture_begin();
    int rc = tlb_sha256_file("/nonexistent/model.bin", hex);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(rc == -1 && strstr(err, "/nonexistent/model.bin"), "missing file");
}

/* The SHA-extension path and the portable code give the same digests, for every length
 * around the block boundaries and for odd-sized pieces of a larger buffer. */
/* The model hash is remembered by file identity: a second call reads the cache (proved by a
 * planted digest being returned), a rewritten file or a touched one is hashed again, and a
 * cache full of garbage is ignored. */
TLB_TEST(hash_cache_remembers_and_notices_changes) {
    char dir[] = "/tmp/tlb-test-hashcache-XXXXXX";
    TLB_CHECK(mkdtemp(dir), "mkdtemp");
    char model[128], cache[128];
    snprintf(model, sizeof model, "%s/m.bin", dir);
    snprintf(cache, sizeof cache, "%s/sha256", dir);
    setenv("TLBENCH_CACHE_DIR", dir, 1);
    FILE *f = fopen(model, "w");
    TLB_CHECK(f && fputs("abc", f) >= 0 && fclose(f) == 0, "write model");
    const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    char hex[65];
    int cached = -1;
    TLB_CHECK(tlb_sha256_file_cached(model, hex, &cached) == 0 && !strcmp(hex, abc) && !cached,
              "first: %s cached=%d", hex, cached);
    TLB_CHECK(tlb_sha256_file_cached(model, hex, &cached) == 0 && !strcmp(hex, abc) && cached,
              "second call not from the cache");
    /* plant another digest for the same identity: the cache, not the file, answers */
    size_t len;
    char *text = tlb_read_file(cache, 1 << 20, &len);
    TLB_CHECK(text && len > 64, "cache file written");
    memset(text, 'e', 64);
    f = fopen(cache, "w");
    TLB_CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "plant");
    free(text);
    TLB_CHECK(tlb_sha256_file_cached(model, hex, &cached) == 0 && cached && hex[0] == 'e',
              "planted digest not used: %s", hex);
    /* the file changes (same size, new content): hashed again */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    f = fopen(model, "w");
    TLB_CHECK(f && fputs("abd", f) >= 0 && fclose(f) == 0, "rewrite model");
    TLB_CHECK(tlb_sha256_file_cached(model, hex, &cached) == 0 && !cached && strcmp(hex, abc) &&
                  hex[0] != 'e',
              "a rewritten file kept its old digest: %s", hex);
    /* garbage in the cache: ignored, the digest computed */
    f = fopen(cache, "w");
    TLB_CHECK(f && fputs("zz 1 2\n\x01\x02 garbage\n", f) >= 0 && fclose(f) == 0, "garbage");
    char again[65];
    TLB_CHECK(tlb_sha256_file_cached(model, again, &cached) == 0 && !cached &&
                  !strcmp(again, hex),
              "garbage cache");
    unsetenv("TLBENCH_CACHE_DIR");
    unlink(model);
    unlink(cache);
    rmdir(dir);
}

TLB_TEST(sha256_hw_matches_portable) {
    if (!tlb_sha256_set_hw(1)) {
        printf("  skipped: this CPU has no SHA instructions (the portable code is checked by "
               "sha256_vectors)\n");
        return;
    }
    static unsigned char buf[1 << 20];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    int bad = -1;
    for (int n = 0; n <= 300 && bad < 0; n++) {
        char a[65], b[65];
        tlb_sha256_set_hw(1);
        tlb_sha256_hex(buf, (size_t)n, a);
        tlb_sha256_set_hw(0);
        tlb_sha256_hex(buf, (size_t)n, b);
        if (strcmp(a, b)) bad = n;
    }
    tlb_sha256_set_hw(1);
    TLB_CHECK(bad < 0, "digests differ for %d bytes", bad);
    unsigned char d[2][32];
    for (int hw = 0; hw < 2; hw++) {
        tlb_sha256_set_hw(hw);
        struct tlb_sha256 st;
        tlb_sha256_init(&st);
        for (size_t off = 0, k = 1; off < sizeof buf; off += k, k = k * 7 % 9973 + 1)
            tlb_sha256_update(&st, buf + off, off + k <= sizeof buf ? k : sizeof buf - off);
        tlb_sha256_final(&st, d[hw]);
    }
    tlb_sha256_set_hw(1);
    TLB_CHECK(!memcmp(d[0], d[1], 32), "1 MiB in odd pieces: digests differ");
}

/* waitpid-style statuses */
#define EXITED(code) ((code) << 8)
#define SIGNALED(sig) (sig)

TLB_TEST(worker_end_classification) {
    char d[512];
    enum tlb_status st;
    st = tlb_worker_classify(0, 600, SIGNALED(SIGKILL), 0, TLB_STATUS_OK, "", 1, "", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_OOM && strstr(d, "OOM killer"), "oom kill: %s", d);
    st = tlb_worker_classify(0, 600, SIGNALED(SIGKILL), 0, TLB_STATUS_OK, "", 0, "", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_CRASHED && strstr(d, "SIGKILL"), "plain kill: %s", d);
    st = tlb_worker_classify(0, 600, SIGNALED(SIGSEGV), 0, TLB_STATUS_OK, "", 0, "boom", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_CRASHED && strstr(d, "SIGSEGV") && strstr(d, "boom"), "segv: %s", d);
    st = tlb_worker_classify(1, 2.5, SIGNALED(SIGKILL), 0, TLB_STATUS_OK, "", 0, "", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_TIMEOUT && strstr(d, "2.5 s"), "timeout: %s", d);
    st = tlb_worker_classify(0, 600, EXITED(TLB_WORKER_EXIT_OOM), 0, TLB_STATUS_OK, "", 0,
                             "out of memory allocating 5 bytes", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_OOM && strstr(d, "allocating"), "exit oom: %s", d);
    st = tlb_worker_classify(0, 600, EXITED(0), 1, TLB_STATUS_ERROR, "engine creation failed", 0,
                             "out of memory allocating 4096 bytes for KV cache", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_OOM && strstr(d, "engine creation failed: out of memory"),
              "error with ENOMEM text: %s", d);
    st = tlb_worker_classify(0, 600, EXITED(0), 1, TLB_STATUS_OK, "", 0, "a warning", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_OK && !d[0], "ok: %s", d);
    st = tlb_worker_classify(0, 600, EXITED(0), 1, TLB_STATUS_INVALID, "throttled", 0, "", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_INVALID && !strcmp(d, "throttled"), "invalid: %s", d);
    st = tlb_worker_classify(0, 600, EXITED(7), 0, TLB_STATUS_OK, "", 0, "", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_ERROR && strstr(d, "status 7"), "exit 7: %s", d);
    /* a message from a worker that then exited non-zero is not trusted */
    st = tlb_worker_classify(0, 600, EXITED(1), 1, TLB_STATUS_OK, "", 0, "", d, sizeof d);
    TLB_CHECK(st == TLB_STATUS_ERROR, "exit 1 after a message: %s", tlb_status_name(st));
    TLB_CHECK(!strcmp(tlb_signal_name(SIGBUS), "SIGBUS") && strstr(tlb_signal_name(63), "63"),
              "signal names");
}

TLB_TEST(durations) {
    char b[32];
    tlb_format_duration(5.4, b, sizeof b);
    TLB_CHECK(!strcmp(b, "5s"), "%s", b);
    tlb_format_duration(185, b, sizeof b);
    TLB_CHECK(!strcmp(b, "3m05s"), "%s", b);
    tlb_format_duration(3720, b, sizeof b);
    TLB_CHECK(!strcmp(b, "1h02m"), "%s", b);
    tlb_format_duration(NAN, b, sizeof b);
    TLB_CHECK(!strcmp(b, "0s"), "%s", b);
}

TLB_TEST_MAIN()
