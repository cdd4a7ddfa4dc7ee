/* schema.h — the results CSV contract: one versioned, append-only table of columns
 * {name, unit, type, since, description}. Version N's columns are the columns with
 * since <= N, in table order; columns are never reordered or removed within a version, and
 * appending columns adds a new version. docs/csv-schema.md documents every column (a test
 * checks it). Status values and the noise rule every writer uses live here too.
 * Layer harness/results/: what a row is and how rows are kept (this schema, results-csv.h,
 * the results-file lock, statistics, text tables, the memory model). It uses base/, kernels/
 * and engine/ (for shapes and types); sweep and report build on it, sensors are beside it. */
#ifndef TLB_SCHEMA_H
#define TLB_SCHEMA_H

#include <stddef.h>

/* The version this build writes. */
#define TLB_SCHEMA_VERSION "tlbench-csv-6"

enum tlb_col_type {
    TLB_COL_STR,     /* free text (any UTF-8, quoted by libcsv when needed) */
    TLB_COL_INT,     /* signed 64-bit decimal integer */
    TLB_COL_FLOAT,   /* finite decimal floating point, shortest round-trip form */
    TLB_COL_SAMPLES, /* finite numbers separated by ';' inside one cell, in repetition order */
};

struct tlb_column {
    const char *name;  /* llama-bench's name where the meaning is the same */
    const char *unit;  /* "" when the value has no unit */
    enum tlb_col_type type;
    int since;         /* first schema version (1, 2, ...) that has this column */
    const char *desc;  /* one sentence for docs/csv-schema.md */
};

extern const struct tlb_column tlb_columns[];
extern const int tlb_n_columns; /* columns of the current version */

/* Index of a column of the current version by name, or -1. */
int tlb_column_index(const char *name);
/* "string", "int", "float", "samples". */
const char *tlb_col_type_name(enum tlb_col_type t);

/* The values a measurement in this unit can have, e.g. bytes [0, 2^50], tokens [0, 2^30],
 * tokens/s [0, 1e9]: a number outside is damage or forgery, never a measurement. Returns 0
 * and the closed range, or -1 for a unit without one (free numbers such as the seed). */
int tlb_unit_range(const char *unit, double *lo, double *hi);

struct tlb_schema_version {
    const char *name;  /* "tlbench-csv-1" */
    int number;        /* 1 */
    int n_columns;     /* its columns are tlb_columns[0 .. n_columns-1] */
};
/* Known versions, oldest first; the last is TLB_SCHEMA_VERSION. */
extern const struct tlb_schema_version tlb_schema_versions[];
extern const int tlb_n_schema_versions;
/* The known version of that name, or NULL. */
const struct tlb_schema_version *tlb_schema_find(const char *name);
/* Comma-separated list of known version names, for error messages. */
const char *tlb_schema_known_list(void);

/* Row status: what happened to this configuration. */
enum tlb_status {
    TLB_STATUS_OK,             /* measured */
    TLB_STATUS_UNSUPPORTED,    /* the kernel/type/platform combination cannot run */
    TLB_STATUS_CRASHED,        /* the worker died on a signal */
    TLB_STATUS_TIMEOUT,        /* the worker was killed after the time limit */
    TLB_STATUS_OOM,            /* allocation failed or the worker was OOM-killed */
    TLB_STATUS_SKIPPED_MEMORY, /* not run: predicted memory exceeds the machine's RAM */
    TLB_STATUS_INVALID,        /* ran, but the measurement is not trustworthy (throttled...) */
    TLB_STATUS_ERROR,          /* any other failure (bad model file, I/O error, ...) */
    TLB_STATUS_COUNT
};
const char *tlb_status_name(enum tlb_status s);
/* Returns 0, or -1 for an unknown name. */
int tlb_status_from_name(const char *name, enum tlb_status *out);

/* A phase is flagged noisy when its coefficient of variation exceeds this many percent or
 * any repetition is a MAD outlier (stats.h); the `noisy` column is the OR of both phases. */
#define TLB_NOISY_CV_PCT 5.0

/* board_label (--board-label): free text for people (UTF-8 allowed) that must stay one short
 * CSV cell and one line in reports: 1..TLB_BOARD_LABEL_MAX bytes, no control characters. */
#define TLB_BOARD_LABEL_MAX 64
/* NULL when s is a valid label, else why not (not echoing s: it may hold a newline). */
const char *tlb_board_label_problem(const char *s);
/* Values of the `engine` column. Rows of files before it (and rows that leave it empty)
 * were measured by tlbench's own engine. */
#define TLB_ENGINE_TLBENCH "tlbench"
#define TLB_ENGINE_LLAMA_CPP "llama.cpp"
/* The `kernel` of llama.cpp rows: llama.cpp chooses its own (ggml) kernels. */
#define TLB_KERNEL_GGML "ggml"

/* Separator between numbers in a samples cell. */
#define TLB_SAMPLES_SEP ';'

#endif
