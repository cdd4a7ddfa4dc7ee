/* test.h — the project's tiny test framework (no dependency).
 * A test file defines tests with TLB_TEST(name) { ... } and ends with TLB_TEST_MAIN().
 * Each test prints one line: "ok NAME", "FAIL NAME: why" or "skip NAME: why".
 * tests/run-tests.sh adds the lines of every test binary and script into one summary.
 * Checks: TLB_CHECK(cond, fmt, ...) fails the test (and returns) when cond is false;
 * TLB_SKIP(fmt, ...) ends the test as skipped — use it only when something the test needs
 * is absent (data file, CPU feature, library), and say what. */
#ifndef TLB_TEST_H
#define TLB_TEST_H

#include <math.h>
#include <stdio.h>
/* Failure messages are cut to fit tlb_test_msg; that is fine, so do not warn about it. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results-csv.h"
#include "schema.h"

typedef void (*tlb_test_fn)(void);
struct tlb_test_entry {
    const char *name;
    tlb_test_fn fn;
};

enum { TLB_T_PASS, TLB_T_FAIL, TLB_T_SKIP };
extern int tlb_test_state;
extern char tlb_test_msg[512];

#define TLB_MAX_TESTS 512
extern struct tlb_test_entry tlb_tests[TLB_MAX_TESTS];
extern int tlb_n_tests;

#define TLB_TEST(name)                                                      \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void register_##name(void) {        \
        if (tlb_n_tests < TLB_MAX_TESTS)                                    \
            tlb_tests[tlb_n_tests++] = (struct tlb_test_entry){#name, test_##name}; \
    }                                                                       \
    static void test_##name(void)

#define TLB_CHECK(cond, ...)                                                          \
    do {                                                                              \
        if (!(cond)) {                                                                \
            int tlb_off_ = snprintf(tlb_test_msg, sizeof tlb_test_msg, "%s:%d: ",     \
                                    __FILE__, __LINE__);                              \
            snprintf(tlb_test_msg + tlb_off_, sizeof tlb_test_msg - (size_t)tlb_off_, \
                     __VA_ARGS__);                                                    \
            tlb_test_state = TLB_T_FAIL;                                              \
            return;                                                                   \
        }                                                                             \
    } while (0)

#define TLB_CHECK_NEAR(a, b, tol)                                                    \
    TLB_CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s=%.9g vs %s=%.9g (tol %g)", \
              #a, (double)(a), #b, (double)(b), (double)(tol))

#define TLB_SKIP(...)                                                    \
    do {                                                                 \
        snprintf(tlb_test_msg, sizeof tlb_test_msg, __VA_ARGS__);        \
        tlb_test_state = TLB_T_SKIP;                                     \
        return;                                                          \
    } while (0)

/* Capture what the code under test writes to stderr (to check its error lines):
 * tlb_test_capture_begin(), the call, then tlb_test_capture_end(buf, n) restores stderr and
 * puts what was written into buf (cut to n - 1 bytes). Not nested. */
static int tlb_test_capture_fd_ = -1, tlb_test_saved_fd_ = -1;
static inline void tlb_test_capture_begin(void) {
    fflush(stderr);
    char path[] = "/tmp/tlb-test-stderr-XXXXXX";
    tlb_test_capture_fd_ = mkstemp(path);
    if (tlb_test_capture_fd_ >= 0) unlink(path);
    tlb_test_saved_fd_ = dup(2);
    if (tlb_test_capture_fd_ >= 0) dup2(tlb_test_capture_fd_, 2);
}
static inline void tlb_test_capture_end(char *buf, size_t n) {
    fflush(stderr);
    buf[0] = '\0';
    if (tlb_test_saved_fd_ >= 0) {
        dup2(tlb_test_saved_fd_, 2);
        close(tlb_test_saved_fd_);
        tlb_test_saved_fd_ = -1;
    }
    if (tlb_test_capture_fd_ >= 0) {
        ssize_t r = pread(tlb_test_capture_fd_, buf, n - 1, 0);
        buf[r > 0 ? r : 0] = '\0';
        close(tlb_test_capture_fd_);
        tlb_test_capture_fd_ = -1;
    }
}

/* Path of the shared data directory: $TLBENCH_DATA or ../shared/data relative to the
 * repository root (tests run from the repository root). */
static inline const char *tlb_test_data_dir(void) {
    const char *d = getenv("TLBENCH_DATA");
    return d && *d ? d : "../shared/data";
}

/* Build "<data dir>/<rel>" into buf; returns buf, or NULL when the file is absent. */
static inline const char *tlb_test_data(char *buf, size_t n, const char *rel) {
    snprintf(buf, n, "%s/%s", tlb_test_data_dir(), rel);
    FILE *f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

/* Copy a tlbench-csv-1 fixture (one row per line) to a file of the current schema whose rows
 * carry board_label = label (label needs no CSV quoting; every later column else stays empty).
 * Returns 0, or -1 when src is not such a file or dst cannot be written. */
static inline int tlb_test_csv_v3_labelled(const char *src, const char *dst, const char *label) {
    FILE *in = fopen(src, "r"), *out = in ? fopen(dst, "w") : NULL;
    char *line = NULL;
    size_t cap = 0;
    int rc = in && out ? 0 : -1, first = 1;
    ssize_t n;
    while (rc == 0 && (n = getline(&line, &cap, in)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (first) fputs(line, out);
        else if (!strncmp(line, "tlbench-csv-1,", 14))
            fprintf(out, "%s%s", TLB_SCHEMA_VERSION, line + 13);
        else rc = -1;
        for (int i = 0; i < tlb_n_columns; i++) {
            if (tlb_columns[i].since == 1) continue;
            if (first) fprintf(out, ",%s", tlb_columns[i].name);
            else fprintf(out, ",%s", strcmp(tlb_columns[i].name, "board_label") ? "" : label);
        }
        fputc('\n', out);
        first = 0;
    }
    free(line);
    if (in) fclose(in);
    if (out && fclose(out) != 0) rc = -1;
    return first ? -1 : rc;
}

/* A row of the current schema copied from row r of a results table (any version). */
static inline struct tlb_row *tlb_test_row_from(const struct tlb_table *t, size_t r) {
    struct tlb_row *row = tlb_row_new();
    for (int c = 1; row && c < t->n_cols; c++) {
        const char *v = tlb_table_str(t, r, c);
        if (*v && tlb_row_set_str(row, tlb_columns[c].name, v) != 0) {
            tlb_row_free(row);
            return NULL;
        }
    }
    return row;
}

/* Write the rows of results file src to dst in the current schema, with edit() applied to each
 * (row r of src; edit returns 0 to leave the row out; NULL: copy). 0 or -1. */
static inline int tlb_test_rewrite(const char *src, const char *dst,
                                   int (*edit)(struct tlb_row *row, size_t r, void *ctx),
                                   void *ctx) {
    struct tlb_table *t;
    if (tlb_csv_read(src, &t) != 0) return -1;
    struct tlb_csv_writer *w = tlb_csv_open_append(dst);
    int rc = w ? 0 : -1;
    for (size_t r = 0; r < t->n_rows && rc == 0; r++) {
        struct tlb_row *row = tlb_test_row_from(t, r);
        if (!row) rc = -1;
        else if (!edit || edit(row, r, ctx)) rc = tlb_csv_append(w, row);
        tlb_row_free(row);
    }
    if (tlb_csv_close(w) != 0) rc = -1;
    tlb_table_free(t);
    return rc;
}

#define TLB_TEST_MAIN()                                                              \
    int tlb_test_state;                                                              \
    char tlb_test_msg[512];                                                          \
    struct tlb_test_entry tlb_tests[TLB_MAX_TESTS];                                  \
    int tlb_n_tests;                                                                 \
    int main(int argc, char **argv) {                                                \
        int failed = 0;                                                              \
        for (int i = 0; i < tlb_n_tests; i++) {                                      \
            if (argc > 1 && !strstr(tlb_tests[i].name, argv[1])) continue;           \
            tlb_test_state = TLB_T_PASS;                                             \
            tlb_test_msg[0] = '\0';                                                  \
            tlb_tests[i].fn();                                                       \
            fflush(stderr);                                                          \
            if (tlb_test_state == TLB_T_PASS) printf("ok %s\n", tlb_tests[i].name);  \
            else if (tlb_test_state == TLB_T_SKIP)                                   \
                printf("skip %s: %s\n", tlb_tests[i].name, tlb_test_msg);            \
            else {                                                                   \
                printf("FAIL %s: %s\n", tlb_tests[i].name, tlb_test_msg);            \
                failed++;                                                            \
            }                                                                        \
            fflush(stdout);                                                          \
        }                                                                            \
        return failed ? 1 : 0;                                                       \
    }

#endif
