/* results-csv.c — results CSV rows, appends and reads with libcsv (see results-csv.h).
 * Strings are quoted by libcsv's csv_write; numbers are written bare (they are validated
 * digits, signs, '.', 'e' and ';'). Parsing feeds csv_parse one line at a time, so the byte
 * offset where each record ends is known: that is how a torn last line is found and cut. */
#include "results-csv.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#define MAX_STR_WRITE ((size_t)64 << 10) /* longest string cell we write */
#define READ_BLOCK ((size_t)64 << 10)

static int sb_addc(struct tlb_buf *b, char c) { return tlb_buf_add(b, &c, 1); }

/* ---------------------------------------------------------------- formatting */

int tlb_format_double(double v, char *buf, size_t n) {
    if (!isfinite(v) || n < 32) return -1;
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* %g writes 40 as "4e+01" when one digit suffices; write whole numbers below 1e16
     * in plain digits instead (same value, easier on people and spreadsheets). */
    char *e = strchr(buf, 'e');
    if (e && e[1] == '+' && atoi(e + 2) < 16) {
        char alt[40];
        snprintf(alt, sizeof alt, "%.0f", v);
        if (strtod(alt, NULL) == v) snprintf(buf, n, "%s", alt);
    }
    return 0; /* %.17g always round-trips an IEEE double */
}

int tlb_format_rfc3339(time_t t, char *buf, size_t n) {
    struct tm tm;
    if (n < 21 || !gmtime_r(&t, &tm)) return -1;
    return strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}

/* ---------------------------------------------------------------- cell validation */

static int number_chars(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' ||
              c == 'E'))
            return 0;
    }
    return 1;
}

/* One finite decimal number occupying exactly s[0..n). */
static int parse_num(const char *s, size_t n, double *out) {
    char tmp[64];
    if (!number_chars(s, n) || n >= sizeof tmp) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v) || (errno == ERANGE && fabs(v) > 1.0)) return -1;
    *out = v;
    return 0;
}

static int parse_i64(const char *s, int64_t *out) {
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 19) return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = (int64_t)v;
    return 0;
}

/* Count and optionally store the numbers of a samples cell; -1 when malformed. */
static long parse_samples(const char *s, double *out) {
    long n = 0;
    const char *p = s;
    for (;;) {
        const char *q = strchr(p, TLB_SAMPLES_SEP);
        size_t len = q ? (size_t)(q - p) : strlen(p);
        double v;
        if (parse_num(p, len, &v)) return -1;
        if (n >= TLB_CSV_MAX_SAMPLES) return -1;
        if (out) out[n] = v;
        n++;
        if (!q) break;
        p = q + 1;
    }
    return n;
}

int tlb_cell_valid(enum tlb_col_type type, const char *s) {
    if (!s) return -1;
    if (!*s) return 0; /* empty = not measured, valid in every column */
    double d;
    int64_t i;
    switch (type) {
    case TLB_COL_STR: return 0;
    case TLB_COL_INT: return parse_i64(s, &i);
    case TLB_COL_FLOAT: return parse_num(s, strlen(s), &d);
    case TLB_COL_SAMPLES: return parse_samples(s, NULL) < 0 ? -1 : 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- rows */

struct tlb_row {
    char **cells; /* tlb_n_columns; NULL = empty */
};

static int lookup(const char *col, const char *what) {
    int i = tlb_column_index(col);
    if (i < 0) tlb_error("%s: unknown results column '%s'", what, col ? col : "(null)");
    return i;
}

/* Store a copy of text (NULL or "" = empty) in cell i. */
static int put(struct tlb_row *r, int i, const char *text) {
    char *copy = NULL;
    if (text && *text) {
        size_t n = strlen(text);
        copy = tlb_malloc(n + 1, "results cell");
        if (!copy) return -1;
        memcpy(copy, text, n + 1);
    }
    free(r->cells[i]);
    r->cells[i] = copy;
    return 0;
}

struct tlb_row *tlb_row_new(void) {
    struct tlb_row *r = tlb_calloc(1, sizeof *r, "results row");
    if (!r) return NULL;
    r->cells = tlb_calloc((size_t)tlb_n_columns, sizeof *r->cells, "results row");
    if (!r->cells || put(r, 0, TLB_SCHEMA_VERSION)) {
        tlb_row_free(r);
        return NULL;
    }
    return r;
}

void tlb_row_free(struct tlb_row *r) {
    if (!r) return;
    if (r->cells)
        for (int i = 0; i < tlb_n_columns; i++) free(r->cells[i]);
    free(r->cells);
    free(r);
}

void tlb_row_reset(struct tlb_row *r) {
    for (int i = 1; i < tlb_n_columns; i++) {
        free(r->cells[i]);
        r->cells[i] = NULL;
    }
}

int tlb_row_set_str(struct tlb_row *r, const char *col, const char *v) {
    int i = lookup(col, "tlb_row_set_str");
    if (i < 0) return -1;
    if (!v) v = "";
    const struct tlb_column *c = &tlb_columns[i];
    if (strlen(v) > MAX_STR_WRITE) {
        tlb_error("results column %s: value of %zu bytes is longer than %zu", col, strlen(v),
                  MAX_STR_WRITE);
        return -1;
    }
    if (i == 0 && strcmp(v, TLB_SCHEMA_VERSION) != 0) {
        tlb_error("results column schema_version: this build writes only %s",
                  TLB_SCHEMA_VERSION);
        return -1;
    }
    if (tlb_cell_valid(c->type, v) != 0) {
        tlb_error("results column %s (%s): '%.40s' is not a valid value", col,
                  tlb_col_type_name(c->type), v);
        return -1;
    }
    enum tlb_status st;
    if (strcmp(col, "status") == 0 && *v && tlb_status_from_name(v, &st) != 0) {
        tlb_error("results column status: unknown status '%.40s'", v);
        return -1;
    }
    return put(r, i, v);
}

int tlb_row_set_int(struct tlb_row *r, const char *col, int64_t v) {
    int i = lookup(col, "tlb_row_set_int");
    if (i < 0) return -1;
    if (tlb_columns[i].type != TLB_COL_INT && tlb_columns[i].type != TLB_COL_FLOAT) {
        tlb_error("results column %s is %s, not a number", col,
                  tlb_col_type_name(tlb_columns[i].type));
        return -1;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return put(r, i, buf);
}

int tlb_row_set_double(struct tlb_row *r, const char *col, double v) {
    int i = lookup(col, "tlb_row_set_double");
    if (i < 0) return -1;
    if (tlb_columns[i].type != TLB_COL_FLOAT) {
        tlb_error("results column %s is %s, not float", col,
                  tlb_col_type_name(tlb_columns[i].type));
        return -1;
    }
    char buf[40];
    if (tlb_format_double(v, buf, sizeof buf) != 0) return put(r, i, NULL);
    return put(r, i, buf);
}

int tlb_row_set_samples(struct tlb_row *r, const char *col, const double *v, size_t n) {
    int i = lookup(col, "tlb_row_set_samples");
    if (i < 0) return -1;
    if (tlb_columns[i].type != TLB_COL_SAMPLES) {
        tlb_error("results column %s is %s, not samples", col,
                  tlb_col_type_name(tlb_columns[i].type));
        return -1;
    }
    if (n > TLB_CSV_MAX_SAMPLES) {
        tlb_error("results column %s: %zu samples, at most %d allowed", col, n,
                  TLB_CSV_MAX_SAMPLES);
        return -1;
    }
    struct tlb_buf b = {0};
    char num[40];
    for (size_t k = 0; k < n; k++) {
        if (tlb_format_double(v[k], num, sizeof num) != 0) {
            tlb_error("results column %s: sample %zu is not finite", col, k);
            tlb_buf_free(&b);
            return -1;
        }
        if ((k && sb_addc(&b, TLB_SAMPLES_SEP)) || tlb_buf_add(&b, num, strlen(num))) {
            tlb_error("out of memory formatting results column %s", col);
            tlb_buf_free(&b);
            return -1;
        }
    }
    if (n && sb_addc(&b, '\0')) {
        tlb_error("out of memory formatting results column %s", col);
        tlb_buf_free(&b);
        return -1;
    }
    int rc = put(r, i, n ? b.p : NULL);
    tlb_buf_free(&b);
    return rc;
}

const char *tlb_row_get(const struct tlb_row *r, const char *col) {
    int i = tlb_column_index(col);
    if (i < 0) return NULL;
    return r->cells[i] ? r->cells[i] : "";
}

/* ---------------------------------------------------------------- serializing */

static int header_text(struct tlb_buf *b) {
    for (int i = 0; i < tlb_n_columns; i++) {
        if ((i && sb_addc(b, ',')) || tlb_buf_add(b, tlb_columns[i].name, strlen(tlb_columns[i].name)))
            return -1;
    }
    return sb_addc(b, '\n');
}

static int row_text(struct tlb_buf *b, const struct tlb_row *r) {
    for (int i = 0; i < tlb_n_columns; i++) {
        if (i && sb_addc(b, ',')) return -1;
        const char *cell = r->cells[i];
        if (!cell || !*cell) continue; /* empty = not measured */
        size_t n = strlen(cell);
        if (tlb_columns[i].type == TLB_COL_STR) {
            size_t need = csv_write(NULL, 0, cell, n);
            if (tlb_buf_reserve(b, need)) return -1;
            b->len += csv_write(b->p + b->len, need, cell, n);
        } else if (tlb_buf_add(b, cell, n)) {
            return -1;
        }
    }
    return sb_addc(b, '\n');
}

static int write_stream(FILE *f, const struct tlb_buf *b) {
    if (fwrite(b->p, 1, b->len, f) != b->len || fflush(f) != 0) {
        tlb_error("cannot write results: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int tlb_csv_write_header(FILE *f) {
    struct tlb_buf b = {0};
    int rc = header_text(&b) ? (tlb_error("out of memory writing results"), -1)
                             : write_stream(f, &b);
    tlb_buf_free(&b);
    return rc;
}

int tlb_csv_write_row(FILE *f, const struct tlb_row *r) {
    struct tlb_buf b = {0};
    int rc = row_text(&b, r) ? (tlb_error("out of memory writing results"), -1)
                             : write_stream(f, &b);
    tlb_buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------- scanning */

/* State while feeding a file to libcsv line by line. */
struct scan {
    const char *path;
    int store;                  /* keep data cells (reader) or only count them (appender) */
    int err;                    /* an error was printed */
    /* header */
    char **hdr;
    size_t n_hdr;
    int have_hdr;
    /* data cells of committed rows (+ the record in progress), when store */
    struct tlb_buf text;
    uint32_t *off;
    size_t n_off, cap_off;
    size_t *lines;
    size_t n_rows, cap_rows;
    /* record in progress */
    size_t rec_cells, rec_text_start, rec_off_start;
    /* positions */
    uint64_t pos;               /* bytes fed, up to the end of the current chunk */
    size_t line;                /* line of the current chunk (1-based) */
    uint64_t good_end;          /* offset after the last good record (header included) */
    uint64_t term_end;          /* offset after the last terminated record, good or not */
    uint64_t content_end;       /* offset after the last byte that is not CR/LF */
    int bad_pending;            /* the last terminated record had the wrong cell count */
    size_t bad_line, bad_cells;
    /* the file ends without a newline: its last record is either a complete valid row
     * (kept: unterminated_row) or a prefix of one torn by a crash (eof_torn) */
    int at_eof, unterminated_row, eof_torn;
};

static void scan_fail(struct scan *s, const char *msg) {
    if (!s->err) tlb_error("%s: line %zu: %s", s->path, s->line, msg);
    s->err = 1;
}

static void on_cell(void *data, size_t len, void *ud) {
    struct scan *s = ud;
    if (s->err) return;
    if (len > TLB_CSV_MAX_CELL_BYTES) return scan_fail(s, "cell longer than 1 MiB");
    if (s->rec_cells >= TLB_CSV_MAX_COLS) return scan_fail(s, "more than 4096 cells");
    s->rec_cells++;
    if (!s->have_hdr) {
        char **h = realloc(s->hdr, (s->n_hdr + 1) * sizeof *h);
        char *c = malloc(len + 1);
        if (h) s->hdr = h;
        if (!h || !c) {
            free(c);
            return scan_fail(s, "out of memory");
        }
        if (len) memcpy(c, data, len);
        c[len] = '\0';
        s->hdr[s->n_hdr++] = c;
        return;
    }
    if (s->text.len > UINT32_MAX - len - 1) return scan_fail(s, "too much text");
    if (s->n_off == s->cap_off) {
        size_t cap = s->cap_off ? s->cap_off * 2 : 1024;
        uint32_t *o = realloc(s->off, cap * sizeof *o);
        if (!o) return scan_fail(s, "out of memory");
        s->off = o;
        s->cap_off = cap;
    }
    s->off[s->n_off++] = (uint32_t)s->text.len;
    if ((len && tlb_buf_add(&s->text, data, len)) || sb_addc(&s->text, '\0'))
        return scan_fail(s, "out of memory");
}

static void end_record(struct scan *s) {
    if (!s->store) { /* the appender keeps only the record in progress (for record_valid) */
        tlb_buf_clear(&s->text);
        s->n_off = 0;
    }
    s->rec_cells = 0;
    s->rec_text_start = s->text.len;
    s->rec_off_start = s->n_off;
}

/* Is the record in progress a whole row: as many cells as the header, a known schema version
 * first, every cell valid for its column? Decides whether an unterminated last line is a
 * row that only lacks its newline or a torn prefix of one. */
static int record_valid(const struct scan *s) {
    if (s->rec_cells != s->n_hdr || s->n_hdr > (size_t)tlb_n_columns || s->n_hdr == 0)
        return 0;
    const uint32_t *o = s->off + s->rec_off_start;
    if (!tlb_schema_find(s->text.p + o[0])) return 0;
    for (size_t c = 1; c < s->rec_cells; c++)
        if (tlb_cell_valid(tlb_columns[c].type, s->text.p + o[c]) != 0) return 0;
    int status_col = tlb_column_index("status");
    enum tlb_status st;
    if ((size_t)status_col < s->rec_cells && s->text.p[o[status_col]] &&
        tlb_status_from_name(s->text.p + o[status_col], &st) != 0)
        return 0;
    return 1;
}

static void on_record(int c, void *ud) {
    struct scan *s = ud;
    (void)c;
    if (s->err) return;
    s->term_end = s->pos;
    if (!s->have_hdr) {
        s->have_hdr = 1;
        s->good_end = s->pos;
        end_record(s);
        return;
    }
    if (s->bad_pending) {
        char msg[128];
        s->line = s->bad_line;
        snprintf(msg, sizeof msg, "%zu cells, but the header has %zu", s->bad_cells, s->n_hdr);
        return scan_fail(s, msg);
    }
    if (s->at_eof && !record_valid(s)) { /* a prefix of a row torn by a crash */
        s->eof_torn = 1;
        s->text.len = s->rec_text_start;
        s->n_off = s->rec_off_start;
        end_record(s);
        return;
    }
    if (s->rec_cells != s->n_hdr) {
        /* Fine only if it turns out to be the last line (torn by a crash). */
        s->bad_pending = 1;
        s->bad_line = s->line;
        s->bad_cells = s->rec_cells;
        s->text.len = s->rec_text_start;
        s->n_off = s->rec_off_start;
        end_record(s);
        return;
    }
    if (s->n_rows >= TLB_CSV_MAX_ROWS) return scan_fail(s, "more than 200000 rows");
    if (s->store) {
        if (s->n_rows == s->cap_rows) {
            size_t cap = s->cap_rows ? s->cap_rows * 2 : 64;
            size_t *l = realloc(s->lines, cap * sizeof *l);
            if (!l) return scan_fail(s, "out of memory");
            s->lines = l;
            s->cap_rows = cap;
        }
        s->lines[s->n_rows] = s->line;
    }
    s->n_rows++;
    s->good_end = s->pos;
    if (s->at_eof) s->unterminated_row = 1;
    end_record(s);
}

static void scan_free(struct scan *s) {
    for (size_t i = 0; i < s->n_hdr; i++) free(s->hdr[i]);
    free(s->hdr);
    tlb_buf_free(&s->text);
    free(s->off);
    free(s->lines);
}

/* Feed the whole file (from offset 0 of fd) to libcsv. Returns 0 or -1 (error printed). */
static int scan_fd(struct scan *s, int fd) {
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        tlb_error("%s: cannot initialise the CSV parser", s->path);
        return -1;
    }
    /* libcsv grows a cell's buffer by blk_size (default 128 bytes) per realloc: long
     * cells would cost quadratic copying. */
    csv_set_blk_size(&p, 64 << 10);
    char *buf = tlb_malloc(READ_BLOCK, "CSV read buffer");
    if (!buf) {
        csv_free(&p);
        return -1;
    }
    s->line = 1;
    int rc = 0;
    for (;;) {
        ssize_t got = pread(fd, buf, READ_BLOCK, (off_t)s->pos);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            tlb_error("%s: read error: %s", s->path, strerror(errno));
            rc = -1;
            break;
        }
        if (got == 0) break;
        if (s->pos + (uint64_t)got > TLB_CSV_MAX_FILE_BYTES) {
            tlb_error("%s: larger than %zu MiB, refusing to read it", s->path,
                      TLB_CSV_MAX_FILE_BYTES >> 20);
            rc = -1;
            break;
        }
        size_t i = 0, n = (size_t)got;
        while (i < n && !s->err) {
            /* One chunk = up to and including the next CR or LF, so on_record fires only
             * on a chunk's last byte and s->pos is exactly where the record ends. */
            size_t j = i;
            while (j < n && buf[j] != '\n' && buf[j] != '\r') j++;
            if (j > i) s->content_end = s->pos + (j - i);
            size_t len = (j < n ? j + 1 : n) - i;
            s->pos += len;
            if (csv_parse(&p, buf + i, len, on_cell, on_record, s) != len && !s->err) {
                char msg[160];
                snprintf(msg, sizeof msg, "malformed CSV (%s: a quote inside an unquoted "
                         "cell, or text after a closing quote)", csv_strerror(csv_error(&p)));
                scan_fail(s, msg);
            }
            if (p.entry_pos > TLB_CSV_MAX_CELL_BYTES) scan_fail(s, "cell longer than 1 MiB");
            if (j < n && buf[j] == '\n') s->line++;
            i += len;
        }
        if (s->err) break;
    }
    if (rc == 0 && !s->err && s->have_hdr && s->content_end > s->term_end) {
        /* The last line has no newline: finish its record (an open quote = torn). */
        s->at_eof = 1;
        if (csv_fini(&p, on_cell, on_record, s) != 0 && !s->err) s->eof_torn = 1;
        if (!s->unterminated_row) s->eof_torn = 1;
    }
    if (s->err) rc = -1;
    free(buf);
    csv_free(&p);
    return rc;
}

/* Is the end of the scanned file torn (an unterminated prefix of a row, or a short last
 * record)? A complete row that only lacks its newline is not. */
static int scan_torn(const struct scan *s) {
    return s->bad_pending || s->eof_torn;
}

/* Are the first n bytes of fd a prefix of the current header line (a header write torn by
 * a crash), so that rewriting the header loses nothing? */
static int is_header_prefix(int fd, uint64_t n) {
    struct tlb_buf hdr = {0};
    int yes = 0;
    if (header_text(&hdr) == 0 && n <= hdr.len) {
        char *buf = malloc(n ? (size_t)n : 1);
        if (buf && pread(fd, buf, (size_t)n, 0) == (ssize_t)n) yes = !memcmp(buf, hdr.p, (size_t)n);
        free(buf);
    }
    tlb_buf_free(&hdr);
    return yes;
}

/* Does the header equal a version's column list? If not, why (into why[n]). */
static int header_matches(const struct scan *s, const struct tlb_schema_version *v, char *why,
                          size_t n) {
    if (s->n_hdr != (size_t)v->n_columns) {
        snprintf(why, n, "the header has %zu columns, schema %s has %d", s->n_hdr, v->name,
                 v->n_columns);
        return 0;
    }
    for (size_t i = 0; i < s->n_hdr; i++) {
        if (strcmp(s->hdr[i], tlb_columns[i].name) != 0) {
            snprintf(why, n, "header column %zu is '%.40s', schema %s has '%s' there", i + 1,
                     s->hdr[i], v->name, tlb_columns[i].name);
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- appending */

struct tlb_csv_writer {
    int fd;
    char *path;
    struct tlb_buf buf;
};

static int lock_fd(int fd, int op) {
    while (flock(fd, op) != 0) {
        if (errno != EINTR) return -1;
    }
    return 0;
}

/* Make a new directory entry durable. */
static void sync_parent_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

struct tlb_csv_writer *tlb_csv_open_append(const char *path) {
    int created = 1;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = open(path, O_RDWR | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    }
    if (fd < 0) {
        tlb_error("%s: cannot open for appending: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        tlb_error("%s: is %s, not a regular file", path,
                  fstat(fd, &st) == 0 ? tlb_file_kind(st.st_mode) : "unreadable");
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (lock_fd(fd, LOCK_EX) != 0) {
        tlb_error("%s: cannot lock: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct scan s = {.path = path, .store = 0};
    struct tlb_buf hdr = {0};
    int ok = scan_fd(&s, fd) == 0;
    if (ok && !s.have_hdr && s.pos > 0 && !is_header_prefix(fd, s.pos)) {
        /* One line that is not the start of our header: someone else's file. */
        tlb_error("%s: not a tlbench results file (its only line is not a %s header); "
                  "refusing to overwrite it, write to a new file", path, TLB_SCHEMA_VERSION);
        ok = 0;
    } else if (ok && !s.have_hdr) {
        /* New, empty, or a header torn before its newline: start over with a header. */
        if (s.content_end > 0)
            tlb_warn("%s: no complete header line (torn write?); rewriting the header", path);
        if (ftruncate(fd, 0) != 0 || header_text(&hdr) || tlb_write_full(fd, hdr.p, hdr.len) ||
            fsync(fd) != 0) {
            tlb_error("%s: cannot write the header: %s", path, strerror(errno));
            ok = 0;
        }
    } else if (ok) {
        const struct tlb_schema_version *cur = tlb_schema_find(TLB_SCHEMA_VERSION);
        char why[160];
        if (!header_matches(&s, cur, why, sizeof why)) {
            tlb_error("%s: not a %s file (%s); rows of this build cannot be appended to it, "
                      "write to a new file", path, TLB_SCHEMA_VERSION, why);
            ok = 0;
        } else if (s.bad_pending) {
            /* It ends with a newline, so no write of ours tore it: not ours to cut. */
            tlb_error("%s: line %zu has %zu cells but the header has %zu, and it is complete "
                      "(not a torn write); refusing to append, repair or move the file", path,
                      s.bad_line, s.bad_cells, s.n_hdr);
            ok = 0;
        } else if (s.eof_torn) {
            tlb_warn("%s: the last line is an incomplete row (no newline; a crash during a "
                     "write?): removing its %llu bytes", path,
                     (unsigned long long)(s.pos - s.good_end));
            if (ftruncate(fd, (off_t)s.good_end) != 0 || fsync(fd) != 0) {
                tlb_error("%s: cannot truncate the torn line: %s", path, strerror(errno));
                ok = 0;
            }
        } else if (s.unterminated_row) {
            /* A complete row whose newline is missing: keep it, end it. */
            if (tlb_write_full(fd, "\n", 1) != 0 || fsync(fd) != 0) {
                tlb_error("%s: cannot end the last row with a newline: %s", path,
                          strerror(errno));
                ok = 0;
            }
        }
    }
    tlb_buf_free(&hdr);
    scan_free(&s);
    lock_fd(fd, LOCK_UN);
    if (!ok) {
        close(fd);
        if (created) unlink(path);
        return NULL;
    }
    if (created) sync_parent_dir(path);
    struct tlb_csv_writer *w = tlb_calloc(1, sizeof *w, "CSV writer");
    char *pc = w ? strdup(path) : NULL;
    if (!w || !pc) {
        if (w && !pc) tlb_error("out of memory");
        free(w);
        close(fd);
        return NULL;
    }
    w->fd = fd;
    w->path = pc;
    return w;
}

int tlb_csv_append(struct tlb_csv_writer *w, const struct tlb_row *r) {
    tlb_buf_clear(&w->buf);
    if (row_text(&w->buf, r)) {
        tlb_error("%s: out of memory formatting a row", w->path);
        return -1;
    }
    if (lock_fd(w->fd, LOCK_EX) != 0) {
        tlb_error("%s: cannot lock: %s", w->path, strerror(errno));
        return -1;
    }
    int rc = 0;
    off_t before = lseek(w->fd, 0, SEEK_END);
    if (tlb_write_full(w->fd, w->buf.p, w->buf.len) != 0 || fsync(w->fd) != 0) {
        tlb_error("%s: cannot append a row: %s", w->path, strerror(errno));
        /* Do not leave a torn line behind if we can help it. */
        if (before >= 0 && ftruncate(w->fd, before) == 0) fsync(w->fd);
        rc = -1;
    }
    lock_fd(w->fd, LOCK_UN);
    return rc;
}

int tlb_csv_close(struct tlb_csv_writer *w) {
    if (!w) return 0;
    int rc = close(w->fd);
    if (rc != 0) tlb_error("%s: close failed: %s", w->path, strerror(errno));
    tlb_buf_free(&w->buf);
    free(w->path);
    free(w);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- reading */

int tlb_table_col(const struct tlb_table *t, const char *name) {
    int i = tlb_column_index(name);
    return i >= 0 && i < t->n_cols ? i : -1;
}

const char *tlb_table_str(const struct tlb_table *t, size_t row, int col) {
    if (col < 0 || col >= t->n_cols || row >= t->n_rows) return "";
    return t->text + t->off[row * (size_t)t->n_cols + (size_t)col];
}

int tlb_table_int(const struct tlb_table *t, size_t row, int col, int64_t *out) {
    const char *s = tlb_table_str(t, row, col);
    if (!*s) return 0;
    if (tlb_columns[col].type == TLB_COL_INT) return parse_i64(s, out) == 0;
    double d;
    if (parse_num(s, strlen(s), &d) != 0 || d != floor(d) || fabs(d) > 9.2e18) return 0;
    *out = (int64_t)d;
    return 1;
}

int tlb_table_double(const struct tlb_table *t, size_t row, int col, double *out) {
    const char *s = tlb_table_str(t, row, col);
    if (!*s) return 0;
    if (tlb_columns[col].type == TLB_COL_INT) {
        int64_t i;
        if (parse_i64(s, &i) != 0) return 0;
        *out = (double)i;
        return 1;
    }
    return parse_num(s, strlen(s), out) == 0;
}

int tlb_table_samples(const struct tlb_table *t, size_t row, int col, double **out,
                      size_t *n) {
    const char *s = tlb_table_str(t, row, col);
    *out = NULL;
    *n = 0;
    if (!*s || tlb_columns[col].type != TLB_COL_SAMPLES) return 0;
    long k = parse_samples(s, NULL);
    if (k <= 0) return 0;
    double *v = tlb_malloc((size_t)k * sizeof *v, "samples");
    if (!v) return -1;
    parse_samples(s, v);
    *out = v;
    *n = (size_t)k;
    return 1;
}

int tlb_table_run_peak(const struct tlb_table *t, size_t row, double *out) {
    double worker, load;
    int hw = tlb_table_double(t, row, tlb_table_col(t, "peak_rss_bytes"), &worker);
    int hl = tlb_table_double(t, row, tlb_table_col(t, "load_peak_rss_bytes"), &load);
    if (!hw && !hl) return 0;
    *out = hw && hl ? (worker > load ? worker : load) : hw ? worker : load;
    return 1;
}

const char *tlb_table_engine(const struct tlb_table *t, size_t row) {
    const char *e = tlb_table_str(t, row, tlb_table_col(t, "engine"));
    return *e ? e : TLB_ENGINE_TLBENCH;
}

size_t tlb_table_line(const struct tlb_table *t, size_t row) {
    return row < t->n_rows ? t->line[row] : 0;
}

/* The first out-of-range value of a row: its column (and the value's text in bad), or -1 when
 * every value is in range. */
static int row_out_of_range(const struct tlb_table *t, size_t row, const char **bad,
                            size_t *bad_len) {
    for (int c = 1; c < t->n_cols; c++) {
        enum tlb_col_type type = tlb_columns[c].type;
        double lo, hi;
        if (type == TLB_COL_STR || tlb_unit_range(tlb_columns[c].unit, &lo, &hi) != 0) continue;
        const char *s = tlb_table_str(t, row, c);
        if (!*s) continue;
        /* one number, or each of a samples cell's (validated when the file was read) */
        for (const char *p = s;;) {
            const char *q = type == TLB_COL_SAMPLES ? strchr(p, TLB_SAMPLES_SEP) : NULL;
            size_t len = q ? (size_t)(q - p) : strlen(p);
            double v = NAN;
            if (parse_num(p, len, &v) != 0 || v < lo || v > hi) {
                *bad = p;
                *bad_len = len;
                return c;
            }
            if (!q) break;
            p = q + 1;
        }
    }
    return -1;
}

size_t tlb_table_drop_out_of_range(struct tlb_table *t) {
    size_t kept = 0, nc = (size_t)t->n_cols;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *bad = "";
        size_t bad_len = 0;
        int c = row_out_of_range(t, r, &bad, &bad_len);
        if (c >= 0) {
            double lo = 0, hi = 0;
            char los[40], his[40];
            tlb_unit_range(tlb_columns[c].unit, &lo, &hi);
            tlb_format_double(lo, los, sizeof los);
            tlb_format_double(hi, his, sizeof his);
            tlb_warn("%s: line %zu: column %s: %.*s is outside what %s can be (%s to %s); "
                     "skipping the row", t->path, t->line[r], tlb_columns[c].name,
                     (int)TLB_MIN(bad_len, (size_t)40), bad, tlb_columns[c].unit, los, his);
            continue;
        }
        if (kept != r) {
            memmove(t->off + kept * nc, t->off + r * nc, nc * sizeof *t->off);
            t->line[kept] = t->line[r];
        }
        kept++;
    }
    size_t dropped = t->n_rows - kept;
    t->n_rows = kept;
    return dropped;
}

void tlb_table_free(struct tlb_table *t) {
    if (!t) return;
    free(t->text);
    free(t->off);
    free(t->line);
    free(t->path_copy);
    free(t);
}

/* Which schema version a file claims: its first row's schema_version, or (no rows) the
 * version whose column list its header matches. */
static const struct tlb_schema_version *detect_version(const struct scan *s) {
    if (s->n_rows > 0) {
        const char *v = s->text.p + s->off[0];
        const struct tlb_schema_version *ver = tlb_schema_find(v);
        if (!ver)
            tlb_error("%s: schema version '%.40s' is not one this tlbench reads (%s); "
                      "was it written by a newer tlbench?",
                      s->path, *v ? v : "(empty)", tlb_schema_known_list());
        return ver;
    }
    char why[160];
    for (int i = 0; i < tlb_n_schema_versions; i++)
        if (header_matches(s, &tlb_schema_versions[i], why, sizeof why))
            return &tlb_schema_versions[i];
    /* explain against the version of the same width, else the newest */
    const struct tlb_schema_version *near = &tlb_schema_versions[tlb_n_schema_versions - 1];
    for (int i = 0; i < tlb_n_schema_versions; i++)
        if ((size_t)tlb_schema_versions[i].n_columns == s->n_hdr) near = &tlb_schema_versions[i];
    header_matches(s, near, why, sizeof why);
    tlb_error("%s: header matches no schema version this tlbench reads (%s): %s", s->path,
              tlb_schema_known_list(), why);
    return NULL;
}

/* Every cell must parse as its column's type; statuses and versions must be known. */
static int validate_cells(const struct scan *s, const struct tlb_schema_version *ver) {
    int status_col = tlb_column_index("status");
    for (size_t r = 0; r < s->n_rows; r++) {
        const uint32_t *o = s->off + r * s->n_hdr;
        if (strcmp(s->text.p + o[0], ver->name) != 0) {
            tlb_error("%s: line %zu: schema_version '%.40s' differs from the file's %s",
                      s->path, s->lines[r], s->text.p + o[0], ver->name);
            return -1;
        }
        for (int c = 1; c < ver->n_columns; c++) {
            const char *cell = s->text.p + o[c];
            if (tlb_cell_valid(tlb_columns[c].type, cell) != 0) {
                tlb_error("%s: line %zu: column %s: '%.40s' is not a valid %s", s->path,
                          s->lines[r], tlb_columns[c].name, cell,
                          tlb_col_type_name(tlb_columns[c].type));
                return -1;
            }
        }
        enum tlb_status st;
        if (status_col < ver->n_columns && s->text.p[o[status_col]] &&
            tlb_status_from_name(s->text.p + o[status_col], &st) != 0) {
            tlb_error("%s: line %zu: unknown status '%.40s'", s->path, s->lines[r],
                      s->text.p + o[status_col]);
            return -1;
        }
    }
    return 0;
}

int tlb_csv_read(const char *path, struct tlb_table **out) {
    *out = NULL;
    uint64_t size;
    int fd = tlb_open_regular_size(path, &size);
    if (fd < 0) return -1;
    if (size > TLB_CSV_MAX_FILE_BYTES) {
        tlb_error("%s: %lld bytes, more than the %zu MiB a results file may have", path,
                  (long long)size, TLB_CSV_MAX_FILE_BYTES >> 20);
        close(fd);
        return -1;
    }
    struct scan s = {.path = path, .store = 1};
    int rc = scan_fd(&s, fd);
    close(fd);
    struct tlb_table *t = NULL;
    const struct tlb_schema_version *ver = NULL;
    if (rc == 0 && !s.have_hdr) {
        tlb_error("%s: %s", path, s.content_end ? "no complete header line" : "empty file");
        rc = -1;
    }
    if (rc == 0 && (s.n_hdr == 0 || strcmp(s.hdr[0], "schema_version") != 0)) {
        tlb_error("%s: not a tlbench results CSV (first column is '%.40s', expected "
                  "schema_version)", path, s.n_hdr ? s.hdr[0] : "");
        rc = -1;
    }
    if (rc == 0 && scan_torn(&s)) {
        if (s.bad_pending)
            tlb_warn("%s: line %zu has %zu cells but the header has %zu (a torn last line?); "
                     "ignoring it", path, s.bad_line, s.bad_cells, s.n_hdr);
        else
            tlb_warn("%s: the last line is an incomplete row (a torn write?); ignoring it",
                     path);
    }
    if (rc == 0 && !(ver = detect_version(&s))) rc = -1;
    char why[160];
    if (rc == 0 && !header_matches(&s, ver, why, sizeof why)) {
        tlb_error("%s: %s", path, why);
        rc = -1;
    }
    if (rc == 0 && validate_cells(&s, ver) != 0) rc = -1;
    if (rc == 0) {
        t = tlb_calloc(1, sizeof *t, "results table");
        char *pc = t ? strdup(path) : NULL;
        if (!t || !pc) {
            if (t) tlb_error("out of memory");
            free(t);
            t = NULL;
            rc = -1;
        } else {
            t->path = t->path_copy = pc;
            t->version = ver;
            t->n_cols = ver->n_columns;
            t->n_rows = s.n_rows;
            /* Hand the buffers over (an empty table still gets valid pointers). */
            if (!s.text.p) sb_addc(&s.text, '\0');
            t->text = s.text.p;
            t->off = s.off;
            t->line = s.lines;
            s.text.p = NULL;
            s.off = NULL;
            s.lines = NULL;
        }
    }
    scan_free(&s);
    *out = t;
    return rc;
}
