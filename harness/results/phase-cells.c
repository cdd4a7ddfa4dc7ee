/* phase-cells.c — one phase's samples into a row's latency cells (see phase-cells.h). */
#include "phase-cells.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"

static int set_d(struct tlb_row *r, const char *col, double v) {
    return isfinite(v) ? tlb_row_set_double(r, col, v) : 0;
}

int tlb_phase_cells(struct tlb_row *r, const char *phase, const double *ms, const double *ts,
                    size_t n, int *noisy) {
    char col[64];
    int rc = 0;
    snprintf(col, sizeof col, "%s_ts_mean", phase);
    rc |= set_d(r, col, tlb_stat_mean(ts, n));
    snprintf(col, sizeof col, "%s_ts_median", phase);
    rc |= set_d(r, col, tlb_stat_median(ts, n));
    snprintf(col, sizeof col, "%s_ts_stddev", phase);
    rc |= set_d(r, col, tlb_stat_stddev(ts, n));
    snprintf(col, sizeof col, "%s_samples_ts", phase);
    rc |= tlb_row_set_samples(r, col, ts, n);
    double cv = tlb_stat_cv_pct(ts, n);
    size_t out = tlb_stat_outliers(ts, n);
    snprintf(col, sizeof col, "%s_cv_pct", phase);
    rc |= set_d(r, col, cv);
    snprintf(col, sizeof col, "%s_outliers", phase);
    rc |= tlb_row_set_int(r, col, (int64_t)out);
    if ((isfinite(cv) && cv > TLB_NOISY_CV_PCT) || out > 0) *noisy = 1;
    if (ms && !strcmp(phase, "pp")) {
        rc |= set_d(r, "pp_ms_median", tlb_stat_median(ms, n));
        rc |= set_d(r, "pp_ms_mean", tlb_stat_mean(ms, n));
        rc |= set_d(r, "pp_ms_stddev", tlb_stat_stddev(ms, n));
    }
    return rc ? -1 : 0;
}
