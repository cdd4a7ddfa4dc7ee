/* fuzz-csv.c — libFuzzer target for what compare, fit and report do with a CSV: the results
 * reader (tlb_csv_read, typed getters, tlb_table_drop_out_of_range), `tlbench compare` and
 * `tlbench fit` run on it as the commands themselves (to /dev/null), the report's data loader,
 * chart data and summary page, and the kernels CSV reader. An input holding a NUL byte is two
 * files (BASE before it, NEW after it) for compare; otherwise the file is compared with
 * itself. Seeds (tests/fuzz/corpus/csv/) include issue 12's cases: hostile fit rows, samples
 * -1e308;-1e308;1e308, a 100,000-sample cell. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "report.h"
#include "results-csv.h"

static char charts_dir[64];

/* A memfd holding the bytes, by path; fd -1 when that fails. */
static int as_file(const uint8_t *p, size_t n, char *path, size_t path_len) {
    int fd = memfd_create("fuzz-csv", 0);
    if (fd < 0) return -1;
    if (n && write(fd, p, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    snprintf(path, path_len, "/proc/self/fd/%d", fd);
    return fd;
}

/* Remove the chart files of the last run (libFuzzer ends with exit()). */
static void remove_charts(void) {
    DIR *dir = opendir(charts_dir);
    struct dirent *e;
    while (dir && (e = readdir(dir)) != NULL) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", charts_dir, e->d_name);
        if (e->d_name[0] != '.') unlink(p);
    }
    if (dir) closedir(dir);
    rmdir(charts_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* tlbench's warnings would flood the log: its stderr stream goes to /dev/null, while
     * libFuzzer (its own copy of the stream) and the sanitizers (fd 2) still report. */
    FILE *null = fopen("/dev/null", "w");
    if (null) stderr = null;
    snprintf(charts_dir, sizeof charts_dir, "/tmp/tlb-fuzz-csv-%d", (int)getpid());
    mkdir(charts_dir, 0700);
    atexit(remove_charts);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t na = nul ? (size_t)(nul - data) : size;
    char a[64], b[64];
    int fa = as_file(data, na, a, sizeof a);
    int fb = nul ? as_file(nul + 1, size - na - 1, b, sizeof b) : -1;
    if (fa < 0 || (nul && fb < 0)) goto out;
    if (!nul) snprintf(b, sizeof b, "%s", a);

    struct tlb_table *t = NULL;
    if (tlb_csv_read(a, &t) == 0) {
        tlb_table_drop_out_of_range(t);
        for (size_t r = 0; r < t->n_rows; r++)
            for (int c = 0; c < t->n_cols; c++) {
                double d, *v;
                size_t k;
                int64_t i;
                tlb_table_double(t, r, c, &d);
                tlb_table_int(t, r, c, &i);
                if (tlb_table_samples(t, r, c, &v, &k) == 1) free(v);
            }
    }
    tlb_table_free(t);

    char *cmp[] = {"compare", a, b, "--cross", "--resamples", "100", "--output", "/dev/null",
                   NULL};
    tlb_cmd_compare(8, cmp);
    /* fit and report scan their rows linearly: big inputs (kept for compare's sample cap)
     * would only slow the search down */
    if (size > ((size_t)64 << 10)) goto out;
    char *fit[] = {"fit", "--ram", "2G", "--results", a, "--output", "/dev/null", NULL};
    tlb_cmd_fit(7, fit);
    char *fit_q[] = {"fit", "--ram", "700M", "--quant", "q4_0", "--results", a, "--format",
                     "csv", "--output", "/dev/null", NULL};
    tlb_cmd_fit(11, fit_q);

    struct tlb_rep_data d;
    const char *files[] = {a};
    if (tlb_rep_load(&d, files, 1, NULL, NULL) == 0) {
        struct tlb_rep_opts o;
        memset(&o, 0, sizeof o);
        o.budgets[o.n_budgets++] = (uint64_t)1 << 30; /* as report's --ram-budget 1G,4G */
        o.budgets[o.n_budgets++] = (uint64_t)4 << 30;
        for (int i = 0; i < 4; i++) o.lines[o.n_lines++] = (uint64_t)1 << (30 + i);
        struct tlb_rep_chart charts[TLB_REP_MAX_CHARTS];
        char skipped[2048];
        int n = tlb_rep_charts_write(&d, &o, charts_dir, charts, skipped, sizeof skipped);
        if (n >= 0) tlb_doc_free(tlb_rep_page(&d, &o, charts, n, skipped, NULL));
    }
    tlb_rep_free(&d);
    struct tlb_rep_kfile kf;
    if (tlb_rep_kcsv_read(a, &kf) == 0) tlb_rep_kcsv_free(&kf);
out:
    if (fa >= 0) close(fa);
    if (fb >= 0) close(fb);
    return 0;
}
