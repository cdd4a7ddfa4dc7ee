/* results-csv.h — write and read results CSVs (schema.h) with libcsv.
 * Writing: build a row by column name, then append it to a file (header written when the
 * file is new, every row flushed and fsync'd; a torn last line left by a crash is cut away
 * on open). Reading: a whole file into a table addressed by column name, for any known
 * schema version; every cell is validated against its column type, since files are
 * untrusted. Cell format: empty = not measured; numbers in shortest round-trip decimal;
 * samples as numbers joined by ';'; strings quoted by libcsv. */
#ifndef TLB_RESULTS_CSV_H
#define TLB_RESULTS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "schema.h"

/* Bounds for untrusted files and for values written. */
#define TLB_CSV_MAX_FILE_BYTES ((size_t)256 << 20) /* whole file */
#define TLB_CSV_MAX_CELL_BYTES ((size_t)1 << 20)   /* one cell */
#define TLB_CSV_MAX_ROWS 1000000
#define TLB_CSV_MAX_COLS 4096
#define TLB_CSV_MAX_SAMPLES 100000                 /* numbers in one samples cell */

/* ---- formatting ---- */

/* Shortest "%.Ng" (N = 1..17) that strtod reads back to exactly v, with whole numbers
 * below 1e16 in plain digits ("40", not "4e+01"). Needs n >= 32.
 * Returns 0, or -1 when v is not finite (no text is produced). */
int tlb_format_double(double v, char *buf, size_t n);
/* RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (n >= 21). Returns 0 or -1. */
int tlb_format_rfc3339(time_t t, char *buf, size_t n);

/* ---- a row to write (current schema version) ---- */

struct tlb_row;
/* A new row with every cell empty except schema_version. NULL when out of memory. */
struct tlb_row *tlb_row_new(void);
void tlb_row_free(struct tlb_row *r);
/* Empty every cell again (schema_version stays). */
void tlb_row_reset(struct tlb_row *r);
/* Setters return 0, or -1 (error printed) for an unknown column, a type mismatch, an
 * invalid value or no memory. A string set on a numeric column must parse as that type;
 * status must be a known status name. Non-finite doubles leave the cell empty. */
int tlb_row_set_str(struct tlb_row *r, const char *col, const char *v);
int tlb_row_set_int(struct tlb_row *r, const char *col, int64_t v);    /* int or float */
int tlb_row_set_double(struct tlb_row *r, const char *col, double v);  /* float only */
int tlb_row_set_samples(struct tlb_row *r, const char *col, const double *v, size_t n);
/* The cell's text ("" when empty), or NULL for an unknown column. */
const char *tlb_row_get(const struct tlb_row *r, const char *col);

/* ---- writing ---- */

/* Header line / one row to a stream (e.g. stdout for `bench`), flushed. 0 or -1. */
int tlb_csv_write_header(FILE *f);
int tlb_csv_write_row(FILE *f, const struct tlb_row *r);

struct tlb_csv_writer;
/* Open (creating if needed) a results file for appending. A new or empty file (or one
 * holding only a torn prefix of the header) gets the header. An existing file must have the
 * current schema's header (else -> NULL, error says why, the file is left alone). At its end:
 * a complete valid row that lacks only its newline is kept (the newline is added); an
 * unterminated prefix of a row (torn by a crash) is truncated away with a warning; a complete
 * line with the wrong number of cells is refused (-> NULL). Holds no lock between calls;
 * each append takes flock(). */
struct tlb_csv_writer *tlb_csv_open_append(const char *path);
/* Append one row in a single write(), then fsync. Returns 0 or -1 (error printed). */
int tlb_csv_append(struct tlb_csv_writer *w, const struct tlb_row *r);
/* Close; returns 0 or -1 when closing failed. NULL is ignored. */
int tlb_csv_close(struct tlb_csv_writer *w);

/* ---- reading ---- */

struct tlb_table {
    const char *path;                            /* as given to tlb_csv_read */
    const struct tlb_schema_version *version;    /* the file's version */
    int n_cols;                                  /* = version->n_columns */
    size_t n_rows;
    /* internal */
    char *text;            /* all cells, NUL-terminated, one after another */
    uint32_t *off;         /* n_rows * n_cols offsets into text */
    size_t *line;          /* line of each row (where it ends), for messages */
    char *path_copy;
};

/* Read and validate a whole results file. Returns 0, or -1 after one error line naming
 * the file (and line/column) — unknown schema version, bad header, malformed CSV, a cell
 * that does not parse as its column's type, over-size input. A torn last line (an
 * unterminated prefix of a row, or too few cells) is ignored with a warning; a valid last
 * row without its newline is read. */
int tlb_csv_read(const char *path, struct tlb_table **out);
void tlb_table_free(struct tlb_table *t);

/* Column index by name in this table's version, or -1 when the version lacks it. */
int tlb_table_col(const struct tlb_table *t, const char *name);
/* Cell text; "" when empty or col < 0. */
const char *tlb_table_str(const struct tlb_table *t, size_t row, int col);
/* Typed getters: 1 and *out set when the cell has a value, 0 when it is empty or the
 * column is absent (col < 0). Values were validated when the file was read. */
int tlb_table_int(const struct tlb_table *t, size_t row, int col, int64_t *out);
int tlb_table_double(const struct tlb_table *t, size_t row, int col, double *out);
/* Samples into a malloc'd array (*n values): 1, 0 when empty, -1 when out of memory. */
int tlb_table_samples(const struct tlb_table *t, size_t row, int col, double **out,
                      size_t *n);
/* The memory a run needs: the larger of the worker's peak RSS (peak_rss_bytes) and the peak of
 * the process that loaded the weights (load_peak_rss_bytes, tlbench-csv-3). 1 and *out set,
 * or 0 when neither is recorded. */
int tlb_table_run_peak(const struct tlb_table *t, size_t row, double *out);
/* The row's engine: its `engine` cell, or TLB_ENGINE_TLBENCH when the cell is empty or the
 * file predates the column. */
const char *tlb_table_engine(const struct tlb_table *t, size_t row);
/* Line number (1-based) where a row ends in the file, for messages. */
size_t tlb_table_line(const struct tlb_table *t, size_t row);

/* Drop every row holding a number outside its column's unit range (tlb_unit_range: a negative
 * count, 9e18 tokens, a 1e300 t/s sample), each with one warning naming the file, line and
 * column. compare, fit and report call this before any arithmetic on the numbers, so every
 * value they cast or add is one a measurement can have. Returns the number of rows dropped. */
size_t tlb_table_drop_out_of_range(struct tlb_table *t);

/* Validate one cell's text against a column type (used by the reader and the row
 * setters). Returns 0 when valid. */
int tlb_cell_valid(enum tlb_col_type type, const char *s);

#endif
