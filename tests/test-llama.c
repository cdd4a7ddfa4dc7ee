/* test-llama.c — llama.cpp's llama-bench as an engine, and its results imported.
 * Reading: llama-bench's json, jsonl and csv output recorded from the real binary
 * (tests/fixtures/llama-bench/recorded) becomes rows whose cells are llama-bench's numbers,
 * paired pp + tg, with empty cells where it measured nothing; hostile input is refused.
 * Running: a stand-in llama-bench (tests/fixtures/llama-bench/llama-bench) that replays the
 * recordings proves the adapter: one row per configuration in the sweep's CSV with
 * llama-bench's samples, tlbench's own peak RSS and energy around it, unsupported rows for
 * what it cannot express, crashed / timeout / error rows for its failures, nothing left
 * running, --resume. Where a real llama-bench is found ($TLBENCH_LLAMA_BENCH or PATH), one
 * short configuration runs with it too. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "llama-records.h"
#include "results-csv.h"
#include "sysfs.h"
#include "test.h"
#include "util.h"

#define FX "tests/fixtures/llama-bench/"
#define REC FX "recorded/"

static char tmp[512], standin[TLB_PATH_MAX], real_lb[TLB_PATH_MAX], marked_sleep[600];

static void remove_tmp(void) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (tmp[0] && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmp);
}

/* A scratch directory, the stand-in's absolute path, and the real llama-bench the caller
 * pointed at (kept before the tests point TLBENCH_LLAMA_BENCH at the stand-in). */
static int setup(void) {
    if (tmp[0]) return 0;
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/tlb-llama-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp) || !realpath(FX "llama-bench", standin)) return -1;
    atexit(remove_tmp);
    const char *env = getenv("TLBENCH_LLAMA_BENCH");
    if (env && *env) snprintf(real_lb, sizeof real_lb, "%s", env);
    /* a copy of sleep whose path marks what the stand-in leaves running */
    snprintf(marked_sleep, sizeof marked_sleep, "%s/sleep-tlbllama", tmp);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp \"$(command -v sleep)\" '%s'", marked_sleep);
    if (system(cmd) != 0) return -1;
    setenv("LLAMA_STANDIN_SLEEP", marked_sleep, 1);
    setenv("TLBENCH_LLAMA_BENCH", standin, 1);
    return 0;
}

static char *slurp(const char *path, size_t *n) { return tlb_read_file(path, 1 << 24, n); }

static int parse_file(const char *path, struct tlb_lb_set *s) {
    size_t n;
    char *text = slurp(path, &n);
    if (!text) return -1;
    int rc = tlb_lb_parse(text, n, TLB_LB_AUTO, path, s);
    free(text);
    return rc;
}

/* Samples joined as a results CSV writes them. */
static void joined(const double *v, size_t n, char *buf, size_t cap) {
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char num[40];
        tlb_format_double(v[i], num, sizeof num);
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", i ? ";" : "", num);
    }
}

/* Run a subcommand in this process (stdout to /dev/null, stderr kept), up to 40 arguments,
 * NULL-terminated. Returns its exit code. */
static int run(int (*cmd)(int, char **), const char *first, ...) {
    char *argv[48];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 46; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(1), devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    int rc = cmd(argc, argv);
    fflush(stdout);
    if (saved >= 0) dup2(saved, 1);
    if (saved >= 0) close(saved);
    if (devnull >= 0) close(devnull);
    return rc;
}

static const char *cell(const struct tlb_table *t, size_t r, const char *col) {
    return tlb_table_str(t, r, tlb_table_col(t, col));
}

/* The row of (engine, threads, depth), or -1. */
static long row_of(const struct tlb_table *t, const char *engine, int threads, int depth) {
    for (size_t r = 0; r < t->n_rows; r++)
        if (!strcmp(tlb_table_engine(t, r), engine) &&
            atoi(cell(t, r, "n_threads")) == threads && atoi(cell(t, r, "n_depth")) == depth)
            return (long)r;
    return -1;
}

/* Processes whose command line holds needle (what a test left running). */
static int running_with(const char *needle) {
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < k; i++)
            if (!buf[i]) buf[i] = ' ';
        buf[k] = '\0';
        n += strstr(buf, needle) != NULL;
    }
    if (d) closedir(d);
    return n;
}

/* ---------------------------------------------------------------- reading records */

TLB_TEST(jsonl_pp_and_tg_make_one_row) {
    struct tlb_lb_set s;
    TLB_CHECK(parse_file(REC "jsonl-p8-n4-r3-t1.out", &s) == 0, "parse failed");
    struct tlb_lb_config *c = NULL;
    long n = tlb_lb_pair(&s, &c);
    struct tlb_row *row = tlb_row_new();
    int ok = n == 1 && c[0].pp && c[0].tg && row && tlb_lb_fill_results(row, &c[0]) == 0 &&
             tlb_lb_fill_identity(row, &c[0]) == 0;
    char want_pp[256], want_tg[256], want_ms[64], got_pp[256], got_tg[256], got_ms[64],
        ver[64], all[64];
    if (ok) {
        const struct tlb_lb_record *pp = c[0].pp, *tg = c[0].tg;
        joined(pp->samples_ts, pp->n_samples_ts, want_pp, sizeof want_pp);
        joined(tg->samples_ts, tg->n_samples_ts, want_tg, sizeof want_tg);
        double ms[3];
        for (int i = 0; i < 3; i++) ms[i] = pp->samples_ns[i] / 1e6;
        double tmpv[3] = {ms[0], ms[1], ms[2]};
        qsort(tmpv, 3, sizeof tmpv[0], tlb_cmp_double);
        tlb_format_double(tmpv[1], want_ms, sizeof want_ms);
        double blend = 0;
        for (int i = 0; i < 3; i++) blend += 12e9 / (pp->samples_ns[i] + tg->samples_ns[i]) / 3;
        tlb_format_double(blend, all, sizeof all);
        snprintf(got_pp, sizeof got_pp, "%s", tlb_row_get(row, "pp_samples_ts"));
        snprintf(got_tg, sizeof got_tg, "%s", tlb_row_get(row, "tg_samples_ts"));
        snprintf(got_ms, sizeof got_ms, "%s", tlb_row_get(row, "pp_ms_median"));
        snprintf(ver, sizeof ver, "%s (%lld)", pp->build_commit, (long long)pp->build_number);
    }
    int cells = ok && !strcmp(got_pp, want_pp) && !strcmp(got_tg, want_tg) &&
                !strcmp(got_ms, want_ms) && !strcmp(tlb_row_get(row, "engine"), "llama.cpp") &&
                !strcmp(tlb_row_get(row, "engine_version"), ver) &&
                !strcmp(tlb_row_get(row, "engine_backends"), "CPU") &&
                !strcmp(tlb_row_get(row, "repetitions"), "3") &&
                !strcmp(tlb_row_get(row, "avg_ts"), all) &&
                !strcmp(tlb_row_get(row, "n_prompt"), "8") && !strcmp(tlb_row_get(row, "n_gen"), "4") &&
                !strcmp(tlb_row_get(row, "weight_type"), "q8_0") &&
                !strcmp(tlb_row_get(row, "kv_type"), "f16") &&
                !strcmp(tlb_row_get(row, "kernel"), "ggml") &&
                !strcmp(tlb_row_get(row, "weight_mapping"), "mmap");
    /* what llama-bench does not measure stays empty */
    int empty = ok && !*tlb_row_get(row, "peak_rss_bytes") && !*tlb_row_get(row, "ttft_ms") &&
                !*tlb_row_get(row, "tg_ms_p50") && !*tlb_row_get(row, "kld_mean") &&
                !*tlb_row_get(row, "load_ms") && !*tlb_row_get(row, "pp_energy_j");
    tlb_row_free(row);
    free(c);
    tlb_lb_free(&s);
    TLB_CHECK(ok, "%ld configurations, want 1 (pp + tg)", n);
    TLB_CHECK(cells, "cells differ from the record: pp '%s' vs '%s', tg '%s' vs '%s', pp_ms '%s' "
              "vs '%s', avg_ts vs %s", got_pp, want_pp, got_tg, want_tg, got_ms, want_ms, all);
    TLB_CHECK(empty, "cells llama-bench does not measure must stay empty");
}

TLB_TEST(json_csv_and_pg_records) {
    struct tlb_lb_set js, cs, pg, n0;
    TLB_CHECK(parse_file(REC "json-p8-n4-r3-t1-2.out", &js) == 0, "json");
    TLB_CHECK(parse_file(REC "csv-p8-n4-r3-t1-2.out", &cs) == 0, "csv");
    TLB_CHECK(parse_file(REC "jsonl-p8-n4-pg8-4-r3-t1.out", &pg) == 0, "pg");
    TLB_CHECK(parse_file(REC "jsonl-p8-n0-r3-t1.out", &n0) == 0, "n0");
    struct tlb_lb_config *cj = NULL, *cc = NULL, *cp = NULL, *c0 = NULL;
    long nj = tlb_lb_pair(&js, &cj), nc = tlb_lb_pair(&cs, &cc), np = tlb_lb_pair(&pg, &cp),
         n_0 = tlb_lb_pair(&n0, &c0);
    struct tlb_row *r = tlb_row_new();
    int fmt = js.format == TLB_LB_JSON && cs.format == TLB_LB_CSV && pg.format == TLB_LB_JSONL;
    int json_ok = nj == 2 && cj[0].pp && cj[0].tg && cj[1].pp && cj[1].tg &&
                  cj[0].pp->n_threads == 1 && cj[1].pp->n_threads == 2;
    /* csv has averages only: means and stddevs from llama-bench, no medians or samples */
    char avg[64] = "";
    int csv_ok = nc == 2 && r && tlb_lb_fill_results(r, &cc[1]) == 0;
    if (csv_ok) {
        tlb_format_double(cc[1].pp->avg_ts, avg, sizeof avg);
        csv_ok = !strcmp(tlb_row_get(r, "pp_ts_mean"), avg) && !*tlb_row_get(r, "pp_ts_median") &&
                 !*tlb_row_get(r, "pp_samples_ts") && !*tlb_row_get(r, "noisy") &&
                 *tlb_row_get(r, "tg_ts_stddev");
    }
    /* -pg: pp, tg and one combined record: the pair, and a row of blended rates only */
    int pg_ok = np == 2 && cp[0].pp && cp[0].tg && cp[1].pg && r;
    if (pg_ok) {
        tlb_row_reset(r);
        pg_ok = tlb_lb_fill_results(r, &cp[1]) == 0 && tlb_lb_fill_identity(r, &cp[1]) == 0;
        tlb_format_double(cp[1].pg->avg_ts, avg, sizeof avg);
        pg_ok = pg_ok && !strcmp(tlb_row_get(r, "avg_ts"), avg) && *tlb_row_get(r, "samples_ts") &&
                !*tlb_row_get(r, "pp_ts_mean") && !*tlb_row_get(r, "tg_ts_mean") &&
                !strcmp(tlb_row_get(r, "n_ctx"), "12");
    }
    int n0_ok = n_0 == 1 && c0[0].pp && !c0[0].tg && r;
    if (n0_ok) {
        tlb_row_reset(r);
        n0_ok = tlb_lb_fill_results(r, &c0[0]) == 0 && tlb_lb_fill_identity(r, &c0[0]) == 0 &&
                !strcmp(tlb_row_get(r, "n_gen"), "0") && !*tlb_row_get(r, "tg_ts_mean") &&
                *tlb_row_get(r, "pp_ts_median");
    }
    tlb_row_free(r);
    free(cj), free(cc), free(cp), free(c0);
    tlb_lb_free(&js), tlb_lb_free(&cs), tlb_lb_free(&pg), tlb_lb_free(&n0);
    TLB_CHECK(fmt, "formats not detected");
    TLB_CHECK(json_ok, "json: %ld configurations, want 2 (t=1, t=2)", nj);
    TLB_CHECK(csv_ok, "csv: %ld configurations; pp_ts_mean must be avg_ts %s, no samples", nc, avg);
    TLB_CHECK(pg_ok, "-pg: %ld configurations, the pg row must carry only blended rates", np);
    TLB_CHECK(n0_ok, "-n 0: one pp-only row");
}

TLB_TEST(weight_type_names) {
    static const char *const cases[][2] = {
        {"llama 1B Q4_0", "q4_0"}, {"llama 1B all F32", "f32"}, {"llama ?B Q8_0", "q8_0"},
        {"llama 7B Q4_K - Medium", "q4_k_m"}, {"llama 1B BF16", "bf16"}, {"llama", ""},
        {"", ""}};
    for (size_t i = 0; i < TLB_ARRAY_LEN(cases); i++) {
        char out[32];
        tlb_lb_weight_type(cases[i][0], out, sizeof out);
        TLB_CHECK(!strcmp(out, cases[i][1]), "'%s' -> '%s', want '%s'", cases[i][0], out,
                  cases[i][1]);
    }
}

/* Every way llama-bench output can be wrong is refused, never half-read. */
TLB_TEST(hostile_output_refused) {
    size_t n;
    char *good = slurp(REC "jsonl-p8-n4-r3-t1.out", &n);
    TLB_CHECK(good, "recording missing");
    char *first = strndup(good, strchr(good, '\n') - good);
    free(good);
    TLB_CHECK(first, "memory");
    struct { const char *what, *from, *to; } edits[] = {
        {"NaN sample", "\"samples_ts\": [ ", "\"samples_ts\": [ NaN, "},
        {"zero threads", "\"n_threads\": 1", "\"n_threads\": 0"},
        {"string number", "\"n_prompt\": 8", "\"n_prompt\": \"8\" "},
        {"no test", "\"n_prompt\": 8", "\"n_prompt\": 0"},
        {"negative", "\"avg_ts\": ", "\"avg_ts\": -"},
        {"nested object", "\"gpu_info\": \"\"", "\"gpu_info\": {}"},
        {"array value", "\"cpu_info\": \"AMD EPYC\"", "\"cpu_info\": [1]"},
        {"fewer ns", "\"samples_ns\": [ ", "\"samples_ns\": [ 5, "},
        {"truncated", "\"samples_ts\"", ""},
    };
    int refused = 0, n_cases = (int)TLB_ARRAY_LEN(edits) + 6;
    char bad[4096], what[64] = "";
    for (size_t i = 0; i < TLB_ARRAY_LEN(edits); i++) {
        const char *at = strstr(first, edits[i].from);
        if (!at) continue;
        if (!*edits[i].to) snprintf(bad, sizeof bad, "%.*s", (int)(at - first), first);
        else snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - first), first, edits[i].to,
                      at + strlen(edits[i].from));
        struct tlb_lb_set s;
        if (tlb_lb_parse(bad, strlen(bad), TLB_LB_AUTO, "bad", &s) != 0) refused++;
        else {
            snprintf(what, sizeof what, "%s", edits[i].what);
            tlb_lb_free(&s);
        }
    }
    free(first);
    static const char *const texts[] = {
        "| model | size |\n|---|---|\n",                       /* -o md */
        "CREATE TABLE IF NOT EXISTS test (x TEXT);\n",          /* -o sql */
        "hello\n",                                              /* not llama-bench */
        "",                                                     /* empty */
        "build_commit,n_prompt,n_gen,avg_ts\n\"a\",\"8\",\"0\"\n", /* csv: a cell short */
        "build_commit,n_prompt,n_gen,avg_ts\n\"a\",\"8\",\"0\",\"inf\"\n", /* csv: inf */
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(texts); i++) {
        struct tlb_lb_set s;
        if (tlb_lb_parse(texts[i], strlen(texts[i]), TLB_LB_AUTO, "bad", &s) != 0) refused++;
        else {
            snprintf(what, sizeof what, "text %zu", i);
            tlb_lb_free(&s);
        }
    }
    TLB_CHECK(refused == n_cases, "%d of %d refused; accepted: %s", refused, n_cases, what);
}

/* `tlbench import llama-bench` of all three formats into one results file that compare,
 * fit and report read. */
TLB_TEST(import_command) {
    TLB_CHECK(setup() == 0, "setup");
    char out[700], cmp[700];
    snprintf(out, sizeof out, "%s/imported.csv", tmp);
    int rc = run(tlb_cmd_import, "import", "llama-bench", REC "json-p8-n4-r3-t1-2.out",
                 REC "jsonl-p8-n4-r3-t1.out", REC "csv-p8-n4-r3-t1-2.out", "--board-label",
                 "elsewhere", "-o", out, NULL);
    TLB_CHECK(rc == 0, "import exit %d", rc);
    struct tlb_table *t = NULL;
    TLB_CHECK(tlb_csv_read(out, &t) == 0, "the imported file does not read back");
    int all = t->n_rows == 5;
    for (size_t r = 0; all && r < t->n_rows; r++)
        all = !strcmp(tlb_table_engine(t, r), "llama.cpp") && !strcmp(cell(t, r, "status"), "ok") &&
              !strcmp(cell(t, r, "board_label"), "elsewhere") &&
              !strcmp(cell(t, r, "board"), "AMD EPYC") && *cell(t, r, "pp_ts_mean");
    tlb_table_free(t);
    TLB_CHECK(all, "want 5 ok llama.cpp rows labelled 'elsewhere'");
    snprintf(cmp, sizeof cmp, "%s/cmp.txt", tmp);
    rc = run(tlb_cmd_compare, "compare", out, out, "--output", cmp, NULL);
    TLB_CHECK(rc == 0, "compare of the imported file with itself: exit %d", rc);
    /* llama-bench says nothing of KV or buffer sizes: fit needs the model's shapes */
    rc = run(tlb_cmd_fit, "fit", "--results", out, "--ram", "1G", NULL);
    TLB_CHECK(rc == 2, "fit on imported rows without shapes: exit %d, want 2", rc);
    rc = run(tlb_cmd_fit, "fit", "--results", out, "--ram", "1G", "--shape", "small", NULL);
    TLB_CHECK(rc == 0, "fit on imported rows with --shape small: exit %d", rc);
    rc = run(tlb_cmd_import, "import", "llama-bench", FX "README.md", NULL);
    TLB_CHECK(rc == 1, "import of a non-llama-bench file: exit %d, want 1", rc);
    rc = run(tlb_cmd_import, "import", "other-tool", out, NULL);
    TLB_CHECK(rc == 2, "unknown source tool: exit %d, want 2", rc);
}

/* ---------------------------------------------------------------- running llama-bench */

static const char *gguf_dir(void) {
    static char d[600];
    snprintf(d, sizeof d, "%s/gguf", tmp);
    return d;
}

/* Both engines, two thread counts, two depths (the stand-in, like c392e50, has no -d). */
TLB_TEST(sweep_with_both_engines) {
    TLB_CHECK(setup() == 0, "setup");
    char out[700];
    snprintf(out, sizeof out, "%s/both.csv", tmp);
    int rc = run(tlb_cmd_sweep, "sweep", "--profile", "none", "--engine", "tlbench,llama.cpp",
                 "--model", "synthetic:tiny", "--quant", "q8_0", "--kernel", "tiled", "-t", "1,2",
                 "--ctx", "0,4", "-p", "8", "-n", "4", "-r", "3", "--kv-type", "f16",
                 "--gguf-dir", gguf_dir(), "--power", "meter", "--power-cmd", "echo 5",
                 "--no-counters", "-o", out, NULL);
    TLB_CHECK(rc == 0, "sweep exit %d", rc);
    struct tlb_table *t = NULL;
    TLB_CHECK(tlb_csv_read(out, &t) == 0, "results do not read back");
    char why[600] = "";
    long own = row_of(t, "tlbench", 1, 0);
    for (int th = 1; th <= 2 && !why[0]; th++) {
        long r = row_of(t, "llama.cpp", th, 0), u = row_of(t, "llama.cpp", th, 4);
        char rec[256], want[256];
        snprintf(rec, sizeof rec, REC "jsonl-p8-n4-r3-t%d.out", th);
        struct tlb_lb_set s;
        struct tlb_lb_config *c = NULL;
        if (parse_file(rec, &s) != 0 || tlb_lb_pair(&s, &c) != 1) {
            snprintf(why, sizeof why, "%s unreadable", rec);
            break;
        }
        joined(c[0].tg->samples_ts, c[0].tg->n_samples_ts, want, sizeof want);
        free(c);
        tlb_lb_free(&s);
        struct stat sb;
        if (r < 0 || u < 0 || own < 0) snprintf(why, sizeof why, "rows missing (t=%d)", th);
        else if (strcmp(cell(t, r, "status"), "ok"))
            snprintf(why, sizeof why, "t=%d: %s: %s", th, cell(t, r, "status"), cell(t, r, "status_detail"));
        else if (strcmp(cell(t, r, "tg_samples_ts"), want))
            snprintf(why, sizeof why, "t=%d: tg samples '%s', recorded '%s'", th,
                     cell(t, r, "tg_samples_ts"), want);
        else if (strcmp(cell(t, r, "kernel"), "ggml") || strcmp(cell(t, r, "engine_version"), "c392e5094 (4748)"))
            snprintf(why, sizeof why, "identity: kernel %s, version %s", cell(t, r, "kernel"),
                     cell(t, r, "engine_version"));
        else if (strcmp(cell(t, r, "model_name"), cell(t, own, "model_name")))
            snprintf(why, sizeof why, "model_name '%s' vs tlbench's '%s'", cell(t, r, "model_name"),
                     cell(t, own, "model_name"));
        else if (atoll(cell(t, r, "peak_rss_bytes")) <= 0 || !(atof(cell(t, r, "tg_energy_j")) > 0) ||
                 strncmp(cell(t, r, "power_source"), "meter:", 6))
            snprintf(why, sizeof why, "t=%d: tlbench's own measurements missing: peak '%s', "
                     "tg energy '%s', source '%s'", th, cell(t, r, "peak_rss_bytes"),
                     cell(t, r, "tg_energy_j"), cell(t, r, "power_source"));
        else if (*cell(t, r, "kld_mean") || !*cell(t, own, "kld_mean"))
            snprintf(why, sizeof why, "accuracy: llama.cpp '%s' (want empty), tlbench '%s'",
                     cell(t, r, "kld_mean"), cell(t, own, "kld_mean"));
        else if (stat(cell(t, r, "engine_model"), &sb) != 0)
            snprintf(why, sizeof why, "engine_model '%s' does not exist", cell(t, r, "engine_model"));
        else if (th == 1 ? *cell(t, r, "core_share") != 0
                         : !(atof(cell(t, r, "core_share")) > 0 && atof(cell(t, r, "core_share")) < 2))
            snprintf(why, sizeof why, "t=%d: core_share '%s' (want empty for 1 thread, a share "
                     "for 2)", th, cell(t, r, "core_share"));
        else if (*cell(t, r, "mem_bw_gbps") || *cell(t, own, "mem_bw_gbps"))
            snprintf(why, sizeof why, "t=%d: mem_bw_gbps llama.cpp '%s', tlbench '%s' (want both "
                     "empty: the tiny model's weights are smaller than the probe's lead)", th,
                     cell(t, r, "mem_bw_gbps"), cell(t, own, "mem_bw_gbps"));
        else if (strcmp(cell(t, u, "status"), "unsupported") ||
                 !strstr(cell(t, u, "status_detail"), "-d/--n-depth"))
            snprintf(why, sizeof why, "depth 4: %s: %s", cell(t, u, "status"),
                     cell(t, u, "status_detail"));
    }
    size_t n_rows = t->n_rows;
    tlb_table_free(t);
    TLB_CHECK(n_rows == 8, "%zu rows, want 8 (2 engines x 2 threads x 2 depths)", n_rows);
    TLB_CHECK(!why[0], "%s", why);
    /* --resume knows the llama.cpp rows by their engine: nothing left to run */
    rc = run(tlb_cmd_sweep, "sweep", "--profile", "none", "--engine", "tlbench,llama.cpp",
             "--model", "synthetic:tiny", "--quant", "q8_0", "--kernel", "tiled", "-t", "1,2",
             "--ctx", "0,4", "-p", "8", "-n", "4", "-r", "3", "--kv-type", "f16", "--gguf-dir",
             gguf_dir(), "--power", "none", "--resume", "-o", out, NULL);
    TLB_CHECK(rc == 0 && tlb_csv_read(out, &t) == 0, "resume exit %d", rc);
    n_rows = t->n_rows;
    tlb_table_free(t);
    TLB_CHECK(n_rows == 8, "--resume ran again: %zu rows", n_rows);
    /* report draws the engines side by side */
    char rep[700], md[800];
    snprintf(rep, sizeof rep, "%s/report", tmp);
    rc = run(tlb_cmd_report, "report", out, "-o", rep, NULL);
    snprintf(md, sizeof md, "%s/summary.md", rep);
    size_t n;
    char *text = rc == 0 ? slurp(md, &n) : NULL;
    int side = text && strstr(text, "## Engines side by side") &&
               strstr(text, "| weights | threads | tlbench kernel | prefill llama.cpp |") &&
               strstr(text, "| q8\\_0 | 2 | tiled |");
    free(text);
    TLB_CHECK(side, "report exit %d; summary.md lacks the engines table", rc);
}

/* Interleaved rounds (sweep --rounds): both engines measured in every round, each
 * configuration's two rows back to back with the engine going first alternating (ABBA), and
 * report's ratio taken within each round. */
TLB_TEST(rounds_and_report) {
    TLB_CHECK(setup() == 0, "setup");
    char out[700], rep[700], md[800];
    snprintf(out, sizeof out, "%s/rounds.csv", tmp);
    snprintf(rep, sizeof rep, "%s/rounds-report", tmp);
    int rc = run(tlb_cmd_sweep, "sweep", "--profile", "none", "--engine", "tlbench,llama.cpp",
                 "--model", "synthetic:tiny", "--quant", "q8_0", "--kernel", "tiled", "-t", "1,2",
                 "-p", "8", "-n", "4", "-r", "3", "--kv-type", "f16", "--gguf-dir", gguf_dir(),
                 "--power", "none", "--no-accuracy", "--rounds", "2", "-o", out, NULL);
    struct tlb_table *t = NULL;
    TLB_CHECK(rc == 0 && tlb_csv_read(out, &t) == 0, "sweep exit %d", rc);
    int rounds[3] = {0, 0, 0};
    char order[160] = "";
    for (size_t r = 0; r < t->n_rows; r++) {
        int k = atoi(cell(t, r, "round"));
        if (k >= 1 && k <= 2 && !strcmp(tlb_table_engine(t, r), "llama.cpp") &&
            !strcmp(cell(t, r, "status"), "ok"))
            rounds[k]++;
        size_t l = strlen(order);
        snprintf(order + l, sizeof order - l, "%s%c%s", l ? " " : "",
                 tlb_table_engine(t, r)[0], cell(t, r, "n_threads"));
    }
    size_t n_rows = t->n_rows;
    tlb_table_free(t);
    TLB_CHECK(n_rows == 8 && rounds[1] == 2 && rounds[2] == 2,
              "%zu rows, llama.cpp rows in rounds 1/2: %d/%d (want 8 rows, two each)", n_rows,
              rounds[1], rounds[2]);
    /* t = tlbench, l = llama.cpp, with the thread count */
    TLB_CHECK(!strcmp(order, "t1 l1 l2 t2 l1 t1 t2 l2"),
              "row order '%s', want 't1 l1 l2 t2 l1 t1 t2 l2'", order);
    rc = run(tlb_cmd_report, "report", out, "-o", rep, NULL);
    snprintf(md, sizeof md, "%s/summary.md", rep);
    size_t n;
    char *text = rc == 0 ? slurp(md, &n) : NULL;
    int per_round = text && strstr(text, "| q8\\_0 | 1 | tiled |") &&
                    strstr(text, "| q8\\_0 | 2 | tiled |") &&
                    strstr(text, ", 2 rounds |");
    free(text);
    TLB_CHECK(per_round, "report exit %d; the engines table must give ratios over 2 rounds", rc);
}

/* One llama.cpp configuration through bench; returns its row in *t (caller frees). */
static int bench_llama(struct tlb_table **t, const char *name, const char *extra1,
                       const char *extra2) {
    char out[700];
    snprintf(out, sizeof out, "%s/%s.csv", tmp, name);
    unlink(out);
    int rc = run(tlb_cmd_bench, "bench", "--profile", "none", "--engine", "llama.cpp", "--model",
                 "synthetic:tiny", "--quant", "q8_0", "-t", "2", "-p", "8", "-n", "4", "-r", "3",
                 "--kv-type", "f16", "--gguf-dir", gguf_dir(), "--power", "none", "--timeout",
                 "3", "-o", out, extra1, extra2, NULL);
    *t = NULL;
    if (tlb_csv_read(out, t) != 0 || (*t)->n_rows != 1) {
        tlb_table_free(*t);
        *t = NULL;
        return -1;
    }
    return rc;
}

static void fault_case(const char *fault, const char *status, const char *pattern) {
    struct tlb_table *t;
    setenv("LLAMA_STANDIN_FAULT", fault, 1);
    int rc = bench_llama(&t, fault, NULL, NULL);
    unsetenv("LLAMA_STANDIN_FAULT");
    TLB_CHECK(t, "%s: no row", fault);
    char got[900];
    snprintf(got, sizeof got, "%s: %s", cell(t, 0, "status"), cell(t, 0, "status_detail"));
    int right = !strcmp(cell(t, 0, "status"), status) && strstr(got, pattern);
    tlb_table_free(t);
    TLB_CHECK(rc == 1 && right, "fault %s: exit %d, row '%s', want %s with '%s'", fault, rc, got,
              status, pattern);
}

TLB_TEST(llama_bench_crash_hang_exit_garbage) {
    TLB_CHECK(setup() == 0, "setup");
    fault_case("crash", "crashed", "llama-bench killed by SIGSEGV");
    if (tlb_test_state != TLB_T_PASS) return;
    fault_case("hang", "timeout", "no result after 3 s");
    if (tlb_test_state != TLB_T_PASS) return;
    int left = 0;
    for (int i = 0; i < 20 && (left = running_with(marked_sleep)) > 0; i++) usleep(50000);
    TLB_CHECK(left == 0, "%d processes of the hung llama-bench left running", left);
    fault_case("exit", "error", "failed to load model");
    if (tlb_test_state != TLB_T_PASS) return;
    fault_case("garbage", "error", "could not be read");
}

TLB_TEST(what_llama_bench_cannot_express) {
    TLB_CHECK(setup() == 0, "setup");
    struct tlb_table *t;
    int rc = bench_llama(&t, "kvf32", "--kv-type", "f32");
    TLB_CHECK(t, "no row");
    int kv = !strcmp(cell(t, 0, "status"), "unsupported") &&
             strstr(cell(t, 0, "status_detail"), "KV cache type f32");
    tlb_table_free(t);
    TLB_CHECK(rc == 1 && kv, "--kv-type f32 must be unsupported (this llama-bench refuses it)");
    rc = bench_llama(&t, "kernel", "--kernel", "tiled");
    TLB_CHECK(t, "no row");
    int k = !strcmp(cell(t, 0, "status"), "unsupported") &&
            strstr(cell(t, 0, "status_detail"), "chooses its own kernels") &&
            !strcmp(cell(t, 0, "kernel"), "tiled");
    tlb_table_free(t);
    TLB_CHECK(rc == 1 && k, "--kernel tiled with llama.cpp alone must be unsupported");
    /* a quantized GGUF is run as it is, and not requantized */
    char q8[700];
    snprintf(q8, sizeof q8, "%s/tiny-q8.gguf", tmp);
    rc = run(tlb_cmd_convert, "convert", "--model", "synthetic:tiny", "--quant", "q8_0", "--out",
             q8, NULL);
    TLB_CHECK(rc == 0, "convert exit %d", rc);
    char out[700];
    snprintf(out, sizeof out, "%s/gguf.csv", tmp);
    rc = run(tlb_cmd_sweep, "sweep", "--profile", "none", "--engine", "llama.cpp", "--model", q8,
             "--quant", "q8_0,q4_0", "-t", "1", "-p", "8", "-n", "4", "-r", "3", "--kv-type",
             "f16", "--gguf-dir", gguf_dir(), "--power", "none", "-o", out, NULL);
    TLB_CHECK(tlb_csv_read(out, &t) == 0 && t->n_rows == 2, "sweep exit %d", rc);
    int same = !strcmp(cell(t, 0, "status"), "ok") && !strcmp(cell(t, 0, "engine_model"), q8);
    int requant = !strcmp(cell(t, 1, "status"), "unsupported") &&
                  strstr(cell(t, 1, "status_detail"), "requantize");
    tlb_table_free(t);
    TLB_CHECK(same, "the q8_0 GGUF itself must be what llama-bench runs for q8_0");
    TLB_CHECK(requant, "q4_0 from a q8_0 GGUF must be unsupported (requantizing)");
}

TLB_TEST(finding_llama_bench) {
    TLB_CHECK(setup() == 0, "setup");
    const char *path = getenv("PATH");
    char saved[8192], dir[TLB_PATH_MAX], with[8192 + TLB_PATH_MAX];
    snprintf(saved, sizeof saved, "%s", path ? path : "");
    unsetenv("TLBENCH_LLAMA_BENCH");
    setenv("PATH", "/nonexistent", 1);
    struct tlb_table *t;
    int rc = bench_llama(&t, "none", NULL, NULL);
    int none = t && !strcmp(cell(t, 0, "status"), "unsupported") &&
               strstr(cell(t, 0, "status_detail"), "no llama-bench");
    tlb_table_free(t);
    /* on PATH: the stand-in's directory first */
    snprintf(dir, sizeof dir, "%s", standin);
    *strrchr(dir, '/') = '\0';
    snprintf(with, sizeof with, "%s:%s", dir, saved);
    setenv("PATH", with, 1);
    int rc2 = bench_llama(&t, "path", NULL, NULL);
    int found = t && !strcmp(cell(t, 0, "status"), "ok");
    tlb_table_free(t);
    /* --llama-bench names it */
    setenv("PATH", saved, 1);
    int rc3 = bench_llama(&t, "option", "--llama-bench", standin);
    int named = t && !strcmp(cell(t, 0, "status"), "ok");
    tlb_table_free(t);
    /* a platform profile names it (key llama-bench) */
    char pdir[700], conf[800], out[700];
    snprintf(pdir, sizeof pdir, "%s/platforms", tmp);
    mkdir(pdir, 0777);
    int wrote = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(conf, sizeof conf, "%s/%s.conf", pdir, k ? "lbtest" : "generic");
        FILE *f = fopen(conf, "w");
        if (!f) break;
        fprintf(f, "name = %s\ndescription = test\nkernel = naive\nquant = q8_0\nthreads = 1\n"
                "ctx = 0\nn-prompt = 8\nn-gen = 4\nrepetitions = 3\n%s%s\n",
                k ? "lbtest" : "generic", k ? "llama-bench = " : "", k ? standin : "");
        wrote += fclose(f) == 0;
    }
    setenv("TLBENCH_PLATFORMS", pdir, 1);
    snprintf(out, sizeof out, "%s/profile.csv", tmp);
    int rc4 = run(tlb_cmd_sweep, "sweep", "--profile", "lbtest", "--engine", "llama.cpp",
                  "--model", "synthetic:tiny", "--kv-type", "f16", "--gguf-dir", gguf_dir(),
                  "--power", "none", "-o", out, NULL);
    unsetenv("TLBENCH_PLATFORMS");
    int from_profile = tlb_csv_read(out, &t) == 0 && t->n_rows == 1 &&
                       !strcmp(cell(t, 0, "status"), "ok");
    tlb_table_free(t);
    setenv("TLBENCH_LLAMA_BENCH", standin, 1);
    TLB_CHECK(rc == 1 && none, "without llama-bench: exit %d, want an unsupported row", rc);
    TLB_CHECK(rc2 == 0 && found, "llama-bench on PATH: exit %d", rc2);
    TLB_CHECK(rc3 == 0 && named, "--llama-bench PATH: exit %d", rc3);
    TLB_CHECK(wrote == 2 && rc4 == 0 && from_profile, "llama-bench from the profile: exit %d", rc4);
}

/* The real thing, when it is here: one short configuration on a small synthetic model that
 * tlbench converts to GGUF for it. */
TLB_TEST(real_llama_bench) {
    TLB_CHECK(setup() == 0, "setup");
    char found[TLB_PATH_MAX] = "";
    if (real_lb[0] && strcmp(real_lb, standin) != 0) snprintf(found, sizeof found, "%s", real_lb);
    else {
        const char *path = getenv("PATH");
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", path ? path : "");
        for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            char cand[TLB_PATH_MAX];
            snprintf(cand, sizeof cand, "%s/llama-bench", d);
            if (access(cand, X_OK) == 0 && strcmp(cand, standin) != 0) {
                snprintf(found, sizeof found, "%s", cand);
                break;
            }
        }
    }
    if (!found[0])
        TLB_SKIP("no real llama-bench (set TLBENCH_LLAMA_BENCH or put llama-bench on PATH)");
    char out[700];
    snprintf(out, sizeof out, "%s/real.csv", tmp);
    int rc = run(tlb_cmd_sweep, "sweep", "--profile", "none", "--engine", "llama.cpp",
                 "--llama-bench", found, "--model", "synthetic:small", "--quant", "q8_0", "-t",
                 "1", "-p", "8", "-n", "4", "-r", "2", "--kv-type", "f16", "--gguf-dir",
                 gguf_dir(), "--power", "none", "-o", out, NULL);
    struct tlb_table *t = NULL;
    TLB_CHECK(tlb_csv_read(out, &t) == 0 && t->n_rows == 1, "sweep exit %d", rc);
    char got[900];
    snprintf(got, sizeof got, "%s: %s", cell(t, 0, "status"), cell(t, 0, "status_detail"));
    int ok = rc == 0 && !strcmp(cell(t, 0, "status"), "ok") && atof(cell(t, 0, "pp_ts_median")) > 0 &&
             atof(cell(t, 0, "tg_ts_median")) > 0 && *cell(t, 0, "engine_version") &&
             atoll(cell(t, 0, "peak_rss_bytes")) > 0 &&
             !strcmp(cell(t, 0, "model_n_params"), "3082496");
    tlb_table_free(t);
    TLB_CHECK(ok, "%s with %s: %s", "synthetic:small q8_0", found, got);
}

TLB_TEST_MAIN()
