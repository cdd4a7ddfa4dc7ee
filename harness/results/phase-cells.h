/* phase-cells.h — the latency cells of a results row that summarise one phase's
 * per-repetition samples (prefill "pp" or decode "tg"): mean, median and stddev of the rates,
 * the samples themselves, their coefficient of variation and MAD outliers, and for prefill the
 * times. tlbench's own runner and llama-bench's records (llama-records.h) fill them alike, so
 * the same column always means the same computation. */
#ifndef TLB_PHASE_CELLS_H
#define TLB_PHASE_CELLS_H

#include <stddef.h>

#include "results-csv.h"

/* Set <phase>_ts_mean/_median/_stddev, <phase>_samples_ts, <phase>_cv_pct, <phase>_outliers
 * from the n rates ts (tokens/s), and for phase "pp" with ms != NULL pp_ms_median/_mean/
 * _stddev from the n times ms. *noisy becomes 1 when the CV exceeds TLB_NOISY_CV_PCT or a
 * repetition is an outlier. Returns 0, or -1 when a cell could not be set (error printed). */
int tlb_phase_cells(struct tlb_row *r, const char *phase, const double *ms, const double *ts,
                    size_t n, int *noisy);

#endif
