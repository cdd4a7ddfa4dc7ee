/* report-kcsv.c — reads `tlbench kernels --format csv` files for the roofline chart of
 * `tlbench report`. Parsed with libcsv (cmd-kernels.c writes them with libcsv); columns are
 * found by name, every number is validated like a results-CSV float, and the file, its
 * cells and its rows are bounded, since input files are untrusted. */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

#define KCSV_MAX_BYTES ((size_t)64 << 20)
#define KCSV_MAX_CELL 4096
#define KCSV_MAX_COLS 256
#define KCSV_MAX_ROWS 200000

struct kscan {
    const char *path;
    struct tlb_buf text;   /* cells, each NUL-terminated */
    size_t *off;               /* cell offsets */
    size_t n_off, cap_off;
    size_t n_cols;             /* header cells */
    size_t rec_cells, rows, line;
    int header_only, done, err;
};

static void kfail(struct kscan *s, const char *msg) {
    /* quiet when only peeking at the header: the results reader will say what is wrong */
    if (!s->err && !s->header_only) tlb_error("%s: line %zu: %s", s->path, s->line, msg);
    s->err = 1;
}

static void kcell(void *data, size_t len, void *ud) {
    struct kscan *s = ud;
    if (s->err || s->done) return;
    if (len > KCSV_MAX_CELL) return kfail(s, "cell longer than 4096 bytes");
    if (++s->rec_cells > KCSV_MAX_COLS) return kfail(s, "more than 256 cells");
    if (s->n_off == s->cap_off) {
        size_t cap = s->cap_off ? s->cap_off * 2 : 256;
        size_t *o = realloc(s->off, cap * sizeof *o);
        if (!o) return kfail(s, "out of memory");
        s->off = o;
        s->cap_off = cap;
    }
    s->off[s->n_off++] = s->text.len;
    tlb_buf_add(&s->text, data ? data : "", len);
    tlb_buf_add(&s->text, "", 1);
    if (s->text.failed) kfail(s, "out of memory");
}

static void krec(int c, void *ud) {
    struct kscan *s = ud;
    (void)c;
    if (s->err || s->done) return;
    if (s->n_cols == 0) {
        s->n_cols = s->rec_cells;
        if (s->header_only) s->done = 1;
    } else if (s->rec_cells != s->n_cols) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu cells, but the header has %zu", s->rec_cells, s->n_cols);
        kfail(s, msg);
    } else if (++s->rows > KCSV_MAX_ROWS) {
        kfail(s, "more than 200000 rows");
    }
    s->rec_cells = 0;
    s->line++;
}

static int kscan_buf(const char *path, struct kscan *s, const char *buf, size_t len,
                     int header_only) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->header_only = header_only;
    s->line = 1;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        kfail(s, "cannot initialise the CSV parser");
        return -1;
    }
    /* Feed line by line so that messages name the line. */
    size_t i = 0;
    while (i < len && !s->err && !s->done) {
        size_t j = i;
        while (j < len && buf[j] != '\n') j++;
        size_t n = (j < len ? j + 1 : len) - i;
        if (csv_parse(&p, buf + i, n, kcell, krec, s) != n && !s->err) kfail(s, "malformed CSV");
        i += n;
    }
    if (!s->err && !s->done && !header_only && csv_fini(&p, kcell, krec, s) != 0)
        kfail(s, "a quoted cell is not closed at the end of the file");
    csv_free(&p);
    if (!s->err && s->n_cols == 0 && !header_only) {
        tlb_error("%s: empty file", path);
        s->err = 1;
    }
    return s->err ? -1 : 0;
}

static int kscan_file(const char *path, struct kscan *s) {
    size_t len;
    char *buf = tlb_read_file(path, KCSV_MAX_BYTES, &len);
    if (!buf) {
        memset(s, 0, sizeof *s);
        return -1;
    }
    int rc = kscan_buf(path, s, buf, len, 0);
    free(buf);
    return rc;
}

static void kscan_free(struct kscan *s) {
    tlb_buf_free(&s->text);
    free(s->off);
}

static const char *kcell_at(const struct kscan *s, size_t row, int col) {
    if (col < 0) return "";
    return s->text.p + s->off[(row + 1) * s->n_cols + (size_t)col];
}

static int kcol(const struct kscan *s, const char *name) {
    for (size_t c = 0; c < s->n_cols; c++)
        if (strcmp(s->text.p + s->off[c], name) == 0) return (int)c;
    return -1;
}

/* The header of the CSV at path into *s: 1 scanned, 0 no complete first line in its first
 * 64 KiB (not a kernels CSV), -1 unreadable (error printed). */
static int kscan_header(const char *path, struct kscan *s) {
    memset(s, 0, sizeof *s);
    FILE *f = tlb_fopen_regular(path);
    if (!f) return -1;
    char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        tlb_error("%s: read error", path);
        return -1;
    }
    size_t end = 0;
    while (end < len && buf[end] != '\n') end++;
    if (end == len) return 0;
    return kscan_buf(path, s, buf, end + 1, 1) == 0 ? 1 : 0;
}

int tlb_rep_kcsv_is(const char *path) {
    struct kscan s;
    const int got = kscan_header(path, &s);
    const int yes = got == 1 && kcol(&s, "gflops") >= 0 && kcol(&s, "gbps") >= 0 &&
                    kcol(&s, "kernel") >= 0 && kcol(&s, "schema_version") < 0;
    kscan_free(&s);
    return got < 0 ? -1 : yes;
}

int tlb_rep_kcsv_columns_are(const char *path, const char *const *cols, size_t n) {
    struct kscan s;
    const int got = kscan_header(path, &s);
    int same = got == 1 && s.n_cols == n;
    for (size_t c = 0; same && c < n; c++) same = strcmp(s.text.p + s.off[c], cols[c]) == 0;
    kscan_free(&s);
    return got < 0 ? -1 : same;
}

void tlb_rep_kcsv_free(struct tlb_rep_kfile *f) {
    if (!f) return;
    free(f->path);
    free(f->text);
    free(f->rows);
    memset(f, 0, sizeof *f);
}

/* An optional number cell: NAN when empty; -1 when not a finite decimal. */
static int knum(const struct kscan *s, size_t row, int col, double *out) {
    const char *c = kcell_at(s, row, col);
    *out = NAN;
    if (!*c) return 0;
    if (tlb_cell_valid(TLB_COL_FLOAT, c) != 0) return -1;
    *out = strtod(c, NULL);
    return isfinite(*out) ? 0 : -1;
}

int tlb_rep_kcsv_read(const char *path, struct tlb_rep_kfile *out) {
    memset(out, 0, sizeof *out);
    struct kscan s;
    if (kscan_file(path, &s) != 0) {
        kscan_free(&s);
        return -1;
    }
    static const char *const need[] = {"kernel", "weight_type", "n", "k", "m", "n_threads",
                                       "gflops", "gbps", "status"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(need); i++) {
        if (kcol(&s, need[i]) < 0) {
            tlb_error("%s: not a tlbench kernels CSV (no '%s' column)", path, need[i]);
            kscan_free(&s);
            return -1;
        }
    }
    int c_kernel = kcol(&s, "kernel"), c_type = kcol(&s, "weight_type"), c_status = kcol(&s, "status");
    int c_int[4] = {kcol(&s, "n"), kcol(&s, "k"), kcol(&s, "m"), kcol(&s, "n_threads")};
    int c_num[8] = {kcol(&s, "time_us_median"), kcol(&s, "time_us_min"), kcol(&s, "time_us_max"),
                    kcol(&s, "gflops"), kcol(&s, "gbps"), kcol(&s, "bw_probe_gbps"),
                    kcol(&s, "peak_probe_gflops"), kcol(&s, "pct_bw")};
    static const char *const num_names[8] = {"time_us_median", "time_us_min", "time_us_max",
                                             "gflops", "gbps", "bw_probe_gbps",
                                             "peak_probe_gflops", "pct_bw"};
    out->rows = tlb_calloc(s.rows ? s.rows : 1, sizeof *out->rows, "kernels rows");
    out->path = strdup(path);
    if (!out->rows || !out->path) {
        if (!out->path) tlb_error("out of memory");
        goto fail;
    }
    size_t kept = 0;
    for (size_t r = 0; r < s.rows; r++) {
        struct tlb_rep_krow *k = &out->rows[kept];
        /* a value no measurement can have skips its row (line r + 2: after the header) */
        int64_t iv[4];
        int bad = 0;
        for (int i = 0; i < 4 && !bad; i++) {
            long v;
            if (tlb_parse_int(kcell_at(&s, r, c_int[i]), 0, 1L << 30, &v) != 0) {
                tlb_warn("%s: line %zu: column %s: '%.40s' is not an integer in [0, 2^30]; "
                         "skipping the row", path, r + 2, need[2 + i], kcell_at(&s, r, c_int[i]));
                bad = 1;
            }
            iv[i] = v;
        }
        double nv[8];
        for (int i = 0; i < 8 && !bad; i++) {
            /* times in us, GFLOP/s, GB/s, percentages: none of them negative or beyond 1e12 */
            if (knum(&s, r, c_num[i], &nv[i]) != 0 || nv[i] < 0 || nv[i] > 1e12) {
                tlb_warn("%s: line %zu: column %s: '%.40s' is not a number in [0, 1e12]; "
                         "skipping the row", path, r + 2, num_names[i],
                         kcell_at(&s, r, c_num[i]));
                bad = 1;
            }
        }
        if (bad) continue;
        kept++;
        k->n = iv[0], k->k = iv[1], k->m = iv[2], k->threads = iv[3];
        k->t_med = nv[0], k->t_min = nv[1], k->t_max = nv[2], k->gflops = nv[3];
        k->gbps = nv[4], k->bw_probe = nv[5], k->peak_probe = nv[6], k->pct_bw = nv[7];
        /* the scan is over: the text no longer moves, and out->text takes it over */
        k->kernel = kcell_at(&s, r, c_kernel);
        k->wtype = kcell_at(&s, r, c_type);
        k->status = kcell_at(&s, r, c_status);
    }
    out->n_rows = kept;
    if (s.rows) {
        tlb_rep_safe(kcell_at(&s, 0, kcol(&s, "cpu")), out->cpu, sizeof out->cpu, 40);
        tlb_rep_safe(kcell_at(&s, 0, kcol(&s, "tlbench_version")), out->version,
                     sizeof out->version, 24);
        /* "YYYY-MM-DD" from the RFC 3339 test_time, when it is one */
        const char *t = kcell_at(&s, 0, kcol(&s, "test_time"));
        int ok = strlen(t) >= 10;
        for (int i = 0; ok && i < 10; i++)
            ok = (i == 4 || i == 7) ? t[i] == '-' : (t[i] >= '0' && t[i] <= '9');
        if (ok) {
            memcpy(out->date, t, 10);
            out->date[10] = '\0';
        }
    }
    out->text = s.text.p;
    s.text.p = NULL;
    kscan_free(&s);
    return 0;
fail:
    kscan_free(&s);
    tlb_rep_kcsv_free(out);
    return -1;
}
