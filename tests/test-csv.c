/* test-csv.c — the results CSV contract: schema invariants, the golden v1 header, the
 * documentation listing every column, libcsv round trips of awkward values, crash repair
 * of a torn last line, and refusal of bad, foreign or oversized files. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results-csv.h"
#include "schema.h"
#include "test.h"
#include "util.h"

/* ---- helpers ---- */

static char tmpdir[256];

/* Path of a file in this run's temporary directory (created on first use). */
static void tmp_file(char *buf, size_t n, const char *name) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/tlb-csv-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) tmpdir[0] = '\0';
    }
    snprintf(buf, n, "%s/%s", tmpdir[0] ? tmpdir : "/tmp", name);
}
#define TMP(var, name) \
    char var[512];     \
    tmp_file(var, sizeof var, name)

static int write_text(const char *path, const char *text, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(text, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static char *read_text(const char *path, size_t *n) {
    return tlb_read_file(path, 64u << 20, n);
}

/* stderr of the calls since tlb_test_capture_begin(), as a string to free. */
static char *capture_end(void) {
    static char buf[1 << 16];
    tlb_test_capture_end(buf, sizeof buf);
    return strdup(buf);
}

/* The v1 header line as the schema table builds it. */
static void header_v1(char *buf, size_t n) {
    buf[0] = '\0';
    const struct tlb_schema_version *v = tlb_schema_find("tlbench-csv-1");
    for (int i = 0; v && i < v->n_columns; i++) {
        if (i) strncat(buf, ",", n - strlen(buf) - 1);
        strncat(buf, tlb_columns[i].name, n - strlen(buf) - 1);
    }
}

/* A minimal valid data line for v1 with given first cells; the rest empty. */
static void data_line(char *buf, size_t n, const char *first_cells, int n_given) {
    const struct tlb_schema_version *v = tlb_schema_find("tlbench-csv-1");
    snprintf(buf, n, "%s", first_cells);
    for (int i = n_given; v && i < v->n_columns; i++) strncat(buf, ",", n - strlen(buf) - 1);
    strncat(buf, "\n", n - strlen(buf) - 1);
}

/* ---- schema ---- */

TLB_TEST(schema_invariants) {
    TLB_CHECK(tlb_n_columns > 0 && !strcmp(tlb_columns[0].name, "schema_version"),
              "first column must be schema_version");
    for (int i = 0; i < tlb_n_columns; i++) {
        const struct tlb_column *c = &tlb_columns[i];
        TLB_CHECK(strlen(c->name) > 0 && strspn(c->name, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
                      strlen(c->name),
                  "column name '%s' must be [a-z0-9_]+ (headers are written unquoted)", c->name);
        TLB_CHECK(c->desc && strlen(c->desc) > 10, "column %s needs a description", c->name);
        TLB_CHECK(i == 0 || c->since >= tlb_columns[i - 1].since,
                  "column %s: 'since' must not decrease (append-only)", c->name);
        TLB_CHECK(tlb_column_index(c->name) == i, "column %s is duplicated", c->name);
    }
    /* Version k's columns are exactly those with since <= k, and the last is current. */
    TLB_CHECK(!strcmp(tlb_schema_versions[tlb_n_schema_versions - 1].name, TLB_SCHEMA_VERSION),
              "last version must be TLB_SCHEMA_VERSION");
    TLB_CHECK(tlb_schema_versions[tlb_n_schema_versions - 1].n_columns == tlb_n_columns,
              "current version must cover every column");
    for (int v = 0; v < tlb_n_schema_versions; v++) {
        int n = 0;
        for (int i = 0; i < tlb_n_columns; i++) n += tlb_columns[i].since <= tlb_schema_versions[v].number;
        TLB_CHECK(n == tlb_schema_versions[v].n_columns, "version %s: %d columns have since <= %d",
                  tlb_schema_versions[v].name, n, tlb_schema_versions[v].number);
    }
    /* Columns the brief and the llama-bench anchor require. */
    static const char *const required[] = {
        "run_id", "test_time", "tlbench_version", "build_commit", "board", "board_kind",
        "cpu_info", "n_cpus", "os", "compiler", "cflags", "model_name", "model_source",
        "model_format", "model_hash", "model_n_params", "model_size", "weight_type", "kv_type",
        "kernel", "kernel_version", "n_threads", "n_prompt", "n_gen", "n_depth", "n_ctx", "seed",
        "repetitions", "warmup", "status", "status_detail", "load_ms", "pp_ms_median",
        "pp_ms_mean", "pp_ms_stddev", "pp_ts_mean", "pp_ts_median", "pp_ts_stddev", "ttft_ms",
        "tg_ms_p50", "tg_ms_p90", "tg_ms_p99", "tg_ts_mean", "tg_ts_median", "tg_ts_stddev",
        "avg_ts", "stddev_ts", "pp_samples_ts", "tg_samples_ts", "samples_ts", "noisy",
        "weights_bytes", "kv_bytes", "scratch_bytes", "predicted_bytes", "peak_rss_bytes",
        "rss_anon_bytes", "rss_file_bytes", "power_source", "power_scope", "idle_w",
        "pp_energy_j", "tg_energy_j", "avg_w", "j_per_token", "tokens_per_j", "power_samples",
        "power_hz", "temp_start_c", "temp_max_c", "temp_end_c", "freq_min_mhz", "throttled",
        "invalid_reason", "acc_ref", "kld_mean", "kld_p99", "top1_agree", "max_logit_err", "ppl",
        "ppl_tokens", "papi_events", "ctr_instructions", "ctr_cycles", "ctr_cache_misses",
        "ctr_task_clock_ms", "ctr_page_faults", "ctr_ctx_switches"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(required); i++)
        TLB_CHECK(tlb_column_index(required[i]) >= 0, "missing column %s", required[i]);
    enum tlb_status st;
    TLB_CHECK(tlb_status_from_name("skipped-memory", &st) == 0 && st == TLB_STATUS_SKIPPED_MEMORY,
              "status names");
    TLB_CHECK(tlb_status_from_name("bogus", &st) != 0, "unknown status accepted");
}

/* The committed golden header pins v1: reordering or renaming a v1 column fails here. */
TLB_TEST(golden_header_v1) {
    size_t n;
    char *text = read_text("tests/fixtures/csv/header-v1.csv", &n);
    TLB_CHECK(text, "tests/fixtures/csv/header-v1.csv missing");
    char want[8192];
    header_v1(want, sizeof want);
    strcat(want, "\n");
    int same = strcmp(text, want) == 0;
    free(text);
    TLB_CHECK(same, "schema v1 columns differ from tests/fixtures/csv/header-v1.csv");
}

/* Does the text at path have a row "| `name` | unit | type |" for every column? */
static int lists_every_column(const char *path, char *missing, size_t n) {
    size_t len;
    char *doc = read_text(path, &len);
    if (!doc) {
        snprintf(missing, n, "(%s missing)", path);
        return 0;
    }
    for (int i = 0; i < tlb_n_columns; i++) {
        const struct tlb_column *c = &tlb_columns[i];
        char row[256];
        snprintf(row, sizeof row, "\n| `%s` | %s | %s |", c->name, *c->unit ? c->unit : "-",
                 tlb_col_type_name(c->type));
        if (!strstr(doc, row)) {
            snprintf(missing, n, "%s", row + 1);
            free(doc);
            return 0;
        }
    }
    free(doc);
    return 1;
}

/* docs/csv-schema.md and the README must have a row "| `name` | unit | type |" for every
 * column (the README's copy is what most users read). */
TLB_TEST(doc_lists_every_column) {
    char missing[256];
    TLB_CHECK(lists_every_column("README.md", missing, sizeof missing),
              "README.md lacks the column line starting '%s'", missing);
    TLB_CHECK(lists_every_column("docs/csv-schema.md", missing, sizeof missing),
              "docs/csv-schema.md lacks the line starting '%s'", missing);
    size_t n;
    char *doc = read_text("docs/csv-schema.md", &n);
    TLB_CHECK(doc, "docs/csv-schema.md missing");
    char ver[64];
    snprintf(ver, sizeof ver, "| `%s` | %d |", TLB_SCHEMA_VERSION, tlb_n_columns);
    int has_ver = strstr(doc, ver) != NULL;
    free(doc);
    TLB_CHECK(has_ver, "docs/csv-schema.md version table lacks '%s'", ver);
}

/* ---- formatting ---- */

TLB_TEST(format_double_shortest_round_trip) {
    char b[40];
    TLB_CHECK(tlb_format_double(0.1, b, sizeof b) == 0 && !strcmp(b, "0.1"), "0.1 -> %s", b);
    TLB_CHECK(tlb_format_double(23.5, b, sizeof b) == 0 && !strcmp(b, "23.5"), "23.5 -> %s", b);
    TLB_CHECK(tlb_format_double(1e-5, b, sizeof b) == 0 && !strcmp(b, "1e-05"), "1e-5 -> %s", b);
    TLB_CHECK(tlb_format_double(NAN, b, sizeof b) != 0, "NaN must not format");
    TLB_CHECK(tlb_format_double(INFINITY, b, sizeof b) != 0, "inf must not format");
    uint64_t s = 12345;
    for (int i = 0; i < 20000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v;
        uint64_t bits = s;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        TLB_CHECK(tlb_format_double(v, b, sizeof b) == 0, "format failed");
        TLB_CHECK(strtod(b, NULL) == v, "%s does not round-trip", b);
        TLB_CHECK(tlb_cell_valid(TLB_COL_FLOAT, b) == 0, "'%s' rejected by the reader", b);
    }
    char t[32];
    TLB_CHECK(tlb_format_rfc3339(0, t, sizeof t) == 0 && !strcmp(t, "1970-01-01T00:00:00Z"),
              "rfc3339 %s", t);
}

TLB_TEST(cell_validation) {
    static const char *const bad_float[] = {"nan", "inf", "-inf", "0x10", "1e999", "12abc",
                                            "1,5", " 1", "1 ", "--1", "e", "."};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad_float); i++)
        TLB_CHECK(tlb_cell_valid(TLB_COL_FLOAT, bad_float[i]) != 0, "float '%s' accepted",
                  bad_float[i]);
    TLB_CHECK(tlb_cell_valid(TLB_COL_FLOAT, "-1.25e+03") == 0, "valid float rejected");
    TLB_CHECK(tlb_cell_valid(TLB_COL_INT, "9223372036854775807") == 0, "int64 max rejected");
    TLB_CHECK(tlb_cell_valid(TLB_COL_INT, "9223372036854775808") != 0, "int overflow accepted");
    TLB_CHECK(tlb_cell_valid(TLB_COL_INT, "1.5") != 0, "1.5 accepted as int");
    TLB_CHECK(tlb_cell_valid(TLB_COL_SAMPLES, "1;2.5;3e2") == 0, "samples rejected");
    TLB_CHECK(tlb_cell_valid(TLB_COL_SAMPLES, "1;;2") != 0, "empty sample accepted");
    TLB_CHECK(tlb_cell_valid(TLB_COL_SAMPLES, "1;2;") != 0, "trailing ; accepted");
    TLB_CHECK(tlb_cell_valid(TLB_COL_SAMPLES, "1; 2") != 0, "space accepted");
    TLB_CHECK(tlb_cell_valid(TLB_COL_INT, "") == 0, "empty = not measured must be valid");
}

TLB_TEST(row_setters_validate) {
    struct tlb_row *r = tlb_row_new();
    TLB_CHECK(r, "tlb_row_new");
    TLB_CHECK(!strcmp(tlb_row_get(r, "schema_version"), TLB_SCHEMA_VERSION), "version prefilled");
    tlb_test_capture_begin();
    int e1 = tlb_row_set_str(r, "no_such_column", "x");
    int e2 = tlb_row_set_double(r, "n_threads", 2.0);   /* int column */
    int e3 = tlb_row_set_str(r, "status", "exploded");
    int e4 = tlb_row_set_str(r, "tg_ts_mean", "fast");
    int e5 = tlb_row_set_str(r, "schema_version", "tlbench-csv-0");
    double bad[] = {1, NAN};
    int e6 = tlb_row_set_samples(r, "tg_samples_ts", bad, 2);
    int e7 = tlb_row_set_int(r, "board", 3);
    free(capture_end());
    TLB_CHECK(e1 && e2 && e3 && e4 && e5 && e6 && e7, "an invalid set was accepted");
    TLB_CHECK(tlb_row_set_double(r, "tg_ts_mean", NAN) == 0 && !*tlb_row_get(r, "tg_ts_mean"),
              "NaN must leave the cell empty (not measured)");
    TLB_CHECK(tlb_row_set_int(r, "tg_ts_mean", 7) == 0 && !strcmp(tlb_row_get(r, "tg_ts_mean"), "7"),
              "int into float column");
    TLB_CHECK(tlb_row_set_str(r, "n_threads", "4") == 0, "numeric text into int column");
    TLB_CHECK(tlb_row_set_str(r, "status", "skipped-memory") == 0, "status");
    tlb_row_reset(r);
    TLB_CHECK(!*tlb_row_get(r, "status") && *tlb_row_get(r, "schema_version"), "reset");
    tlb_row_free(r);
}

/* ---- round trip ---- */

static const char *const awkward[] = {
    "plain",
    "comma, inside",
    "\"quoted\" and \"\"double\"\"",
    "line one\nline two",
    "crlf\r\nend",
    "  leading and trailing spaces  ",
    "unicode: Größe 温度 ✓ — Ω",
    "trailing quote\"",
    ",",
    "\"",
    "semi;colon",
};

static int fill_row(struct tlb_row *r, int i) {
    char buf[64];
    double samples[] = {23.25 + i, 0.1 * i, 1e-300, 1.7976931348623157e308, -0.0, 1.0 / 3.0};
    snprintf(buf, sizeof buf, "run-%d", i);
    return tlb_row_set_str(r, "run_id", buf) || tlb_row_set_str(r, "status", "ok") ||
           tlb_row_set_str(r, "board", awkward[i % TLB_ARRAY_LEN(awkward)]) ||
           tlb_row_set_str(r, "status_detail", awkward[(i + 3) % TLB_ARRAY_LEN(awkward)]) ||
           tlb_row_set_int(r, "model_n_params", INT64_MAX - i) ||
           tlb_row_set_int(r, "seed", INT64_MIN + i) ||
           tlb_row_set_double(r, "tg_ts_mean", 1.0 / (3.0 + i)) ||
           tlb_row_set_double(r, "kld_mean", 6.02214076e-23 * (i + 1)) ||
           tlb_row_set_samples(r, "tg_samples_ts", samples, TLB_ARRAY_LEN(samples)) ||
           tlb_row_set_samples(r, "pp_samples_ts", samples, (size_t)(i % 3));
}

TLB_TEST(round_trip_awkward_values) {
    TMP(path, "rt.csv");
    unlink(path);
    struct tlb_csv_writer *w = tlb_csv_open_append(path);
    TLB_CHECK(w, "open_append");
    struct tlb_row *r = tlb_row_new();
    const int n_rows = 14;
    for (int i = 0; i < n_rows; i++) {
        tlb_row_reset(r);
        TLB_CHECK(fill_row(r, i) == 0, "fill row %d", i);
        if (i == 7) {
            /* reopen in the middle: the header must not be written twice */
            TLB_CHECK(tlb_csv_close(w) == 0, "close");
            TLB_CHECK((w = tlb_csv_open_append(path)) != NULL, "reopen");
        }
        TLB_CHECK(tlb_csv_append(w, r) == 0, "append %d", i);
    }
    TLB_CHECK(tlb_csv_close(w) == 0, "close");
    struct tlb_table *t;
    TLB_CHECK(tlb_csv_read(path, &t) == 0, "read back");
    TLB_CHECK(t->n_rows == (size_t)n_rows, "%zu rows read, %d written", t->n_rows, n_rows);
    TLB_CHECK(!strcmp(t->version->name, TLB_SCHEMA_VERSION), "version");
    for (int i = 0; i < n_rows; i++) {
        tlb_row_reset(r);
        fill_row(r, i);
        for (int c = 0; c < tlb_n_columns; c++) {
            const char *want = tlb_row_get(r, tlb_columns[c].name);
            const char *got = tlb_table_str(t, (size_t)i, c);
            if (strcmp(want, got) != 0) {
                tlb_table_free(t);
                tlb_row_free(r);
                TLB_CHECK(0, "row %d column %s: wrote '%s', read '%s'", i, tlb_columns[c].name,
                          want, got);
            }
        }
        int64_t iv;
        double dv, *s;
        size_t ns;
        TLB_CHECK(tlb_table_int(t, (size_t)i, tlb_table_col(t, "model_n_params"), &iv) &&
                      iv == INT64_MAX - i, "int64 value");
        TLB_CHECK(tlb_table_double(t, (size_t)i, tlb_table_col(t, "tg_ts_mean"), &dv) &&
                      dv == 1.0 / (3.0 + i), "double value not bit-exact");
        TLB_CHECK(!tlb_table_double(t, (size_t)i, tlb_table_col(t, "ttft_ms"), &dv),
                  "empty cell must read as not measured");
        TLB_CHECK(tlb_table_samples(t, (size_t)i, tlb_table_col(t, "tg_samples_ts"), &s, &ns) == 1 &&
                      ns == 6, "samples");
        int exact = s[0] == 23.25 + i && s[3] == 1.7976931348623157e308 && s[5] == 1.0 / 3.0 &&
                    s[2] == 1e-300;
        free(s);
        TLB_CHECK(exact, "samples not bit-exact");
    }
    TLB_CHECK(tlb_table_col(t, "no_such") < 0 && !*tlb_table_str(t, 0, -1), "absent column");
    tlb_table_free(t);
    tlb_row_free(r);
    /* The header appears exactly once. */
    size_t n;
    char *text = read_text(path, &n);
    TLB_CHECK(text, "read text");
    int headers = 0;
    for (char *p = text; (p = strstr(p, "schema_version,run_id")); p++) headers++;
    free(text);
    TLB_CHECK(headers == 1, "%d header lines", headers);
}

TLB_TEST(write_row_to_stream) {
    TMP(path, "stream.csv");
    FILE *f = fopen(path, "w");
    TLB_CHECK(f, "fopen");
    struct tlb_row *r = tlb_row_new();
    int ok = r && tlb_row_set_str(r, "board", "a,\"b\"") == 0 && tlb_csv_write_header(f) == 0 &&
             tlb_csv_write_row(f, r) == 0;
    fclose(f);
    tlb_row_free(r);
    TLB_CHECK(ok, "write");
    struct tlb_table *t;
    TLB_CHECK(tlb_csv_read(path, &t) == 0, "read");
    int same = t->n_rows == 1 && !strcmp(tlb_table_str(t, 0, tlb_table_col(t, "board")), "a,\"b\"");
    tlb_table_free(t);
    TLB_CHECK(same, "stream row did not round-trip");
}

/* ---- crash repair ---- */

static int write_rows(const char *path, int n) {
    unlink(path);
    struct tlb_csv_writer *w = tlb_csv_open_append(path);
    struct tlb_row *r = tlb_row_new();
    int rc = w && r ? 0 : -1;
    for (int i = 0; i < n && !rc; i++) {
        tlb_row_reset(r);
        rc = fill_row(r, i) || tlb_csv_append(w, r);
    }
    tlb_row_free(r);
    if (tlb_csv_close(w)) rc = -1;
    return rc;
}

static int append_bytes(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "ab");
    if (!f) return -1;
    int ok = fwrite(s, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A torn last line (prefix of a real row, even inside a quoted newline) is cut on open. */
TLB_TEST(torn_last_line_repaired) {
    TMP(path, "torn.csv");
    TLB_CHECK(write_rows(path, 3) == 0, "write 3 rows");
    size_t good_len;
    char *good = read_text(path, &good_len);
    TLB_CHECK(good, "read");
    /* Every shorter prefix of the last row must be repaired (the whole row without its
     * newline is a complete row: last_row_without_newline_kept). */
    const char *last = good + good_len - 1;
    while (last > good && last[-1] != '\n') last--;
    /* the last row may contain quoted newlines: find its real start via a 2-row file */
    TLB_CHECK(write_rows(path, 2) == 0, "write 2 rows");
    size_t two_len;
    char *two = read_text(path, &two_len);
    TLB_CHECK(two && two_len < good_len && !memcmp(two, good, two_len), "prefix property");
    size_t row_len = good_len - two_len;
    for (size_t cut = 1; cut + 1 < row_len; cut += (cut < 40 ? 1 : 37)) {
        TLB_CHECK(write_text(path, good, two_len + cut) == 0, "write torn");
        tlb_test_capture_begin();
        struct tlb_table *t = NULL;
        int rd = tlb_csv_read(path, &t);
        size_t rows = t ? t->n_rows : 0;
        tlb_table_free(t);
        struct tlb_csv_writer *w = tlb_csv_open_append(path);
        char *err = capture_end();
        int warned = err && strstr(err, "warning") != NULL;
        free(err);
        TLB_CHECK(rd == 0 && rows == 2, "cut %zu: reader must ignore the torn line (rc %d, %zu rows)",
                  cut, rd, rows);
        TLB_CHECK(w, "cut %zu: open_append failed", cut);
        tlb_csv_close(w);
        TLB_CHECK(warned, "cut %zu: no warning", cut);
        size_t n;
        char *now = read_text(path, &n);
        int same = now && n == two_len && !memcmp(now, two, n);
        free(now);
        TLB_CHECK(same, "cut %zu: file not truncated back to 2 complete rows (%zu bytes)", cut, n);
    }
    /* A complete line with the wrong cell count at the end ends in a newline: no write of
     * ours tore it, so appending is refused and the file is left alone. */
    TLB_CHECK(write_text(path, two, two_len) == 0 && append_bytes(path, "\"x\",1,2\n", 8) == 0,
              "write short line");
    tlb_test_capture_begin();
    struct tlb_csv_writer *w = tlb_csv_open_append(path);
    char *err = capture_end();
    int named = err && strstr(err, path) && strstr(err, "cells");
    free(err);
    tlb_csv_close(w);
    size_t n;
    char *now = read_text(path, &n);
    int same = now && n == two_len + 8;
    free(now);
    free(two);
    free(good);
    TLB_CHECK(!w && named, "a terminated short last line must be refused with an error naming the file");
    TLB_CHECK(same, "a refused file was modified");
}

/* A complete last row that only lacks its newline is a row, not a tear: readers count it and
 * the appender keeps it, adding the newline. */
TLB_TEST(last_row_without_newline_kept) {
    TMP(path, "no-newline.csv");
    TLB_CHECK(write_rows(path, 3) == 0, "write 3 rows");
    size_t good_len;
    char *good = read_text(path, &good_len);
    TLB_CHECK(good && good_len > 1 && good[good_len - 1] == '\n', "read");
    TLB_CHECK(write_text(path, good, good_len - 1) == 0, "write without the last newline");
    struct tlb_table *t = NULL;
    tlb_test_capture_begin();
    int rd = tlb_csv_read(path, &t);
    free(capture_end());
    size_t rows = t ? t->n_rows : 0;
    tlb_table_free(t);
    tlb_test_capture_begin();
    struct tlb_csv_writer *w = tlb_csv_open_append(path);
    free(capture_end());
    struct tlb_row *r = tlb_row_new();
    int appended = w && r && fill_row(r, 3) == 0 && tlb_csv_append(w, r) == 0;
    tlb_row_free(r);
    tlb_csv_close(w);
    size_t n;
    char *now = read_text(path, &n);
    int kept = now && n > good_len && !memcmp(now, good, good_len);
    free(now);
    free(good);
    TLB_CHECK(rd == 0 && rows == 3, "reader: rc %d, %zu rows (want 3)", rd, rows);
    TLB_CHECK(appended, "append after a row without newline");
    TLB_CHECK(kept, "the complete last row was cut or rewritten");
    TLB_CHECK(tlb_csv_read(path, &t) == 0 && t->n_rows == 4, "4 rows after the append");
    tlb_table_free(t);
}

/* A file that is not a tlbench results file is never truncated by the appender (`-o`). */
TLB_TEST(foreign_file_never_truncated) {
    TMP(path, "notes.txt");
    static const char *const texts[] = {
        "my notes, one line, no newline",
        "line one\nline two\n",
        "schema_version,run_id,something else",  /* looks like ours, but is not a header prefix */
        "a,b\n1,2",
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(texts); i++) {
        size_t len = strlen(texts[i]);
        TLB_CHECK(write_text(path, texts[i], len) == 0, "write");
        tlb_test_capture_begin();
        struct tlb_csv_writer *w = tlb_csv_open_append(path);
        char *err = capture_end();
        int named = err && strstr(err, path) != NULL;
        free(err);
        tlb_csv_close(w);
        size_t n;
        char *now = read_text(path, &n);
        int same = now && n == len && !memcmp(now, texts[i], n);
        free(now);
        TLB_CHECK(!w && named, "text %zu: appending must be refused naming the file", i);
        TLB_CHECK(same, "text %zu: a foreign file was modified", i);
    }
}

/* A file holding only part of a header is started over. */
TLB_TEST(torn_header_rewritten) {
    TMP(path, "torn-header.csv");
    TLB_CHECK(write_text(path, "schema_version,run_i", 20) == 0, "write");
    tlb_test_capture_begin();
    struct tlb_csv_writer *w = tlb_csv_open_append(path);
    free(capture_end());
    TLB_CHECK(w, "open_append");
    tlb_csv_close(w);
    struct tlb_table *t;
    TLB_CHECK(tlb_csv_read(path, &t) == 0 && t->n_rows == 0, "header-only file must read");
    tlb_table_free(t);
}

/* ---- refusals ---- */

static int read_fails_with(const char *path, const char *needle) {
    tlb_test_capture_begin();
    struct tlb_table *t = NULL;
    int rc = tlb_csv_read(path, &t);
    char *err = capture_end();
    int ok = rc != 0 && t == NULL && err && strstr(err, needle) && strstr(err, path);
    if (!ok) fprintf(stderr, "expected '%s' in: %s\n", needle, err ? err : "(nothing)");
    free(err);
    tlb_table_free(t);
    return ok;
}

TLB_TEST(unknown_version_refused) {
    TLB_CHECK(read_fails_with("tests/fixtures/csv/other-version.csv", "tlbench-csv-9"),
              "a file of an unknown schema version must be refused, naming file and version");
    TMP(path, "v9.csv");
    char text[16384], hdr[8192];
    header_v1(hdr, sizeof hdr);
    snprintf(text, sizeof text, "%s\n", hdr);
    size_t n = strlen(text);
    data_line(text + n, sizeof text - n, "\"tlbench-csv-1\"", 1);
    n = strlen(text);
    data_line(text + n, sizeof text - n, "\"tlbench-csv-2\"", 1);
    TLB_CHECK(write_text(path, text, strlen(text)) == 0, "write");
    TLB_CHECK(read_fails_with(path, "tlbench-csv-2"), "rows of mixed versions must be refused");
}

TLB_TEST(bad_files_refused) {
    char hdr[8192], text[32768], line[8192];
    header_v1(hdr, sizeof hdr);
    TMP(p, "bad.csv");
    /* empty */
    TLB_CHECK(write_text(p, "", 0) == 0 && read_fails_with(p, "empty"), "empty file");
    /* not ours */
    TLB_CHECK(write_text(p, "a,b\n1,2\n", 8) == 0 && read_fails_with(p, "not a tlbench"),
              "foreign CSV");
    /* header with a renamed column */
    snprintf(text, sizeof text, "%s\n", hdr);
    char *col = strstr(text, ",board,");
    memcpy(col + 1, "BOARD", 5);
    TLB_CHECK(write_text(p, text, strlen(text)) == 0 && read_fails_with(p, "BOARD"),
              "renamed column");
    /* invalid number */
    snprintf(text, sizeof text, "%s\n", hdr);
    char cells[256];
    snprintf(cells, sizeof cells, "\"tlbench-csv-1\",,,,,,,,not-a-number");
    data_line(line, sizeof line, cells, 9);
    strcat(text, line);
    TLB_CHECK(write_text(p, text, strlen(text)) == 0 && read_fails_with(p, "n_cpus"),
              "invalid int must be refused naming the column");
    /* unknown status */
    snprintf(text, sizeof text, "%s\n", hdr);
    int st = tlb_column_index("status");
    snprintf(cells, sizeof cells, "\"tlbench-csv-1\"");
    for (int i = 1; i < st; i++) strcat(cells, ",");
    strcat(cells, ",exploded");
    data_line(line, sizeof line, cells, st + 1);
    strcat(text, line);
    TLB_CHECK(write_text(p, text, strlen(text)) == 0 && read_fails_with(p, "exploded"),
              "unknown status");
    /* a short line in the middle is damage, not a torn end */
    snprintf(text, sizeof text, "%s\n\"tlbench-csv-1\",x\n", hdr);
    data_line(line, sizeof line, "\"tlbench-csv-1\"", 1);
    strcat(text, line);
    TLB_CHECK(write_text(p, text, strlen(text)) == 0 && read_fails_with(p, "line 2"),
              "short middle line");
    /* malformed quoting */
    snprintf(text, sizeof text, "%s\n", hdr);
    data_line(line, sizeof line, "\"tlbench-csv-1\",ab\"c", 2);
    strcat(text, line);
    TLB_CHECK(write_text(p, text, strlen(text)) == 0 && read_fails_with(p, "malformed"),
              "quote in unquoted cell");
    /* appending to a file of another layout is refused and leaves it alone */
    TLB_CHECK(write_text(p, "a,b\n1,2\n", 8) == 0, "write");
    tlb_test_capture_begin();
    struct tlb_csv_writer *w = tlb_csv_open_append(p);
    free(capture_end());
    TLB_CHECK(w == NULL, "append to a foreign file must be refused");
    size_t n;
    char *now = read_text(p, &n);
    int untouched = now && n == 8;
    free(now);
    TLB_CHECK(untouched, "refused file was modified");
}

TLB_TEST(crlf_file_reads) {
    char hdr[8192], text[32768], line[8192];
    header_v1(hdr, sizeof hdr);
    snprintf(text, sizeof text, "%s\r\n", hdr);
    data_line(line, sizeof line, "\"tlbench-csv-1\",\"r1\"", 2);
    line[strlen(line) - 1] = '\0';
    strcat(text, line);
    strcat(text, "\r\n");
    TMP(p, "crlf.csv");
    TLB_CHECK(write_text(p, text, strlen(text)) == 0, "write");
    struct tlb_table *t;
    TLB_CHECK(tlb_csv_read(p, &t) == 0, "CRLF file refused");
    int ok = t->n_rows == 1 && !strcmp(tlb_table_str(t, 0, 1), "r1");
    tlb_table_free(t);
    TLB_CHECK(ok, "CRLF content");
}

TLB_TEST(oversized_input_bounded) {
    TMP(p, "huge.csv");
    /* A sparse 300 MiB file: refused from its size, without reading it. */
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    TLB_CHECK(fd >= 0, "create");
    int ok = ftruncate(fd, (off_t)300 << 20) == 0;
    close(fd);
    TLB_CHECK(ok, "ftruncate");
    TLB_CHECK(read_fails_with(p, "MiB"), "oversized file");
    /* One cell over 1 MiB. */
    size_t big = (1u << 20) + 100;
    char hdr[8192];
    header_v1(hdr, sizeof hdr);
    char *text = malloc(big + 16384);
    TLB_CHECK(text, "malloc");
    size_t n = (size_t)sprintf(text, "%s\n\"tlbench-csv-1\",\"", hdr);
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\"\n");
    ok = write_text(p, text, n) == 0;
    free(text);
    TLB_CHECK(ok && read_fails_with(p, "1 MiB"), "oversized cell");
    /* Too many cells in the header. */
    text = malloc(5000 * 3 + 2);
    TLB_CHECK(text, "malloc");
    n = 0;
    for (int i = 0; i < 5000; i++) n += (size_t)sprintf(text + n, "%sa", i ? "," : "");
    text[n++] = '\n';
    ok = write_text(p, text, n) == 0;
    free(text);
    TLB_CHECK(ok && read_fails_with(p, "4096"), "too many columns");
}

/* Seeded random damage to a real file (byte flips, quotes, separators, newlines, cuts):
 * the reader must refuse or accept, never crash (run under ASan by make sanitize). */
TLB_TEST(random_damage_never_crashes) {
    size_t n;
    char *orig = read_text("tests/fixtures/csv/base.csv", &n);
    TLB_CHECK(orig && n > 100, "tests/fixtures/csv/base.csv missing");
    char *buf = malloc(n + 64);
    TLB_CHECK(buf, "malloc");
    TMP(p, "fuzz.csv");
    uint64_t s = 0x9E3779B97F4A7C15ull;
    static const char specials[] = "\",\n\r;e-.0x\0\xff";
    int accepted = 0, refused = 0;
    tlb_test_capture_begin(); /* the refusals print one line each */
    for (int it = 0; it < 800; it++) {
        memcpy(buf, orig, n);
        size_t len = n;
        int edits = 1 + it % 6;
        for (int k = 0; k < edits; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(s >> 33) % len;
            int what = (int)((s >> 20) % 4);
            if (what == 0) buf[at] = (char)(s >> 8);
            else if (what == 1) buf[at] = specials[(s >> 12) % (sizeof specials - 1)];
            else if (what == 2) len = at + 1; /* cut */
            else if (len + 1 < n + 64) {     /* insert */
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = specials[(s >> 12) % (sizeof specials - 1)];
                len++;
            }
        }
        if (write_text(p, buf, len) != 0) break;
        struct tlb_table *t = NULL;
        int rc = tlb_csv_read(p, &t);
        if (rc == 0) {
            accepted++;
            /* whatever was accepted must be readable through the typed getters */
            for (size_t r = 0; r < t->n_rows; r++)
                for (int c = 0; c < t->n_cols; c++) {
                    double d, *v;
                    size_t k;
                    int64_t i;
                    tlb_table_double(t, r, c, &d);
                    tlb_table_int(t, r, c, &i);
                    if (tlb_table_samples(t, r, c, &v, &k) == 1) free(v);
                }
        } else {
            refused++;
        }
        tlb_table_free(t);
    }
    free(capture_end());
    free(buf);
    free(orig);
    TLB_CHECK(accepted > 0 && refused > 0, "accepted %d, refused %d", accepted, refused);
}

/* Remove the temporary directory after all tests (whatever subset ran). */
__attribute__((destructor)) static void cleanup(void) {
    if (!tmpdir[0]) return;
    static const char *const names[] = {"rt.csv", "stream.csv", "torn.csv", "torn-header.csv",
                                        "no-newline.csv", "notes.txt",
                                        "v9.csv", "bad.csv", "crlf.csv", "huge.csv", "stderr.txt",
                                        "fuzz.csv"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(names); i++) {
        TMP(path, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

TLB_TEST_MAIN()
