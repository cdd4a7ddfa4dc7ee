/* stats.h — statistics for benchmark repetitions and A/B decisions: median, mean, sample
 * standard deviation, percentiles, coefficient of variation, MAD outliers, the
 * Mann-Whitney U test and a seeded bootstrap CI of a ratio of medians.
 * Functions never modify their inputs; NAN means "not defined for this input" (too few
 * values, or out of memory after an error line). */
#ifndef TLB_STATS_H
#define TLB_STATS_H

#include <stddef.h>
#include <stdint.h>

double tlb_stat_mean(const double *x, size_t n);   /* NAN when n == 0 */
double tlb_stat_stddev(const double *x, size_t n); /* sample SD (n - 1); NAN when n < 2 */
double tlb_stat_median(const double *x, size_t n); /* NAN when n == 0 */
/* p-th percentile, p in [0, 100], linear interpolation between closest ranks
 * (numpy's default, Hyndman-Fan type 7): rank h = (n - 1) p / 100. */
double tlb_stat_percentile(const double *x, size_t n, double p);
/* 100 x stddev / |mean|; NAN when n < 2 or mean == 0. */
double tlb_stat_cv_pct(const double *x, size_t n);
/* Median absolute deviation from the median (unscaled). */
double tlb_stat_mad(const double *x, size_t n);

/* Outliers by the modified z-score of Iglewicz and Hoaglin: M = 0.6745 (x - median) / MAD,
 * outlier when |M| > 3.5. When MAD is 0 (more than half the values equal) the mean
 * absolute deviation is used instead, M = (x - median) / (1.253314 MeanAD); when that is 0
 * too, every value equals the median and there are none. (hyperfine flags
 * |x - median| / MAD > 14.826, i.e. |M| > 10: far more lenient.) */
#define TLB_OUTLIER_Z 3.5
size_t tlb_stat_outliers(const double *x, size_t n);

/* Mann-Whitney U test, two-sided. u is U of sample a: the number of pairs (a_i, b_j) with
 * a_i > b_j, plus half the tied pairs. exact = 1 when the p-value comes from the exact
 * null distribution of U (no ties and both samples of at most TLB_MWU_EXACT_MAX values):
 * p = min(1, 2 P(U <= min(U, na nb - U))). Otherwise the normal approximation with the
 * tie-corrected variance and a continuity correction of 0.5 (as scipy.stats.mannwhitneyu
 * method="asymptotic"). Returns 0, or -1 when a sample is empty or out of memory. */
#define TLB_MWU_EXACT_MAX 50
struct tlb_mwu {
    double u;
    double p;
    int exact;
};
int tlb_stat_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                          struct tlb_mwu *out);

/* Small, fast, seeded generator (xoshiro256**, seeded through splitmix64). */
struct tlb_rng {
    uint64_t s[4];
};
void tlb_rng_seed(struct tlb_rng *r, uint64_t seed);
uint64_t tlb_rng_next(struct tlb_rng *r);

/* Percentile bootstrap CI of median(cand) / median(base): n_boot times, resample each
 * sample with replacement (same sizes) and take the ratio of the medians; lo and hi are
 * the (1-conf)/2 and (1+conf)/2 percentiles of those ratios. Deterministic for a seed.
 * Returns 0, or -1 (empty sample, base median 0 in a resample, out of memory). */
int tlb_stat_bootstrap_ratio(const double *base, size_t nb, const double *cand, size_t nc,
                             int n_boot, double conf, uint64_t seed, double *lo, double *hi);

/* A bootstrap costs n_boot x n log n: samples beyond this many per side are first reduced to
 * this many evenly spaced order statistics (tlb_stat_subsample). Repetitions of a benchmark
 * are far fewer; a file claiming 100,000 took minutes per metric. */
#define TLB_BOOT_MAX_SAMPLES 1000
/* The k sorted values at the centres of k equal slices of sorted x (n > k > 0): element
 * floor((2i + 1) n / 2k) for i = 0..k-1. Same distribution shape, deterministic. A malloc'd
 * array of k values, or NULL when out of memory. */
double *tlb_stat_subsample(const double *x, size_t n, size_t k);

/* Paired comparison over n pairs (the rounds of an interleaved A/B run, where base_i and
 * cand_i were measured minutes apart at most): on the log ratios d_i = ln(cand_i / base_i),
 * the Hodges-Lehmann estimate (median of the Walsh averages (d_i + d_j) / 2, i <= j), the
 * Wilcoxon signed-rank test (two-sided; zeros dropped, ties given average ranks; exact null
 * distribution for up to TLB_PAIRED_EXACT_MAX non-zero pairs without ties, else the normal
 * approximation with tie correction and continuity correction) and the distribution-free
 * confidence interval from the Walsh averages: [A(c+1), A(M-c)] with c the largest count
 * with P(W+ <= c) <= (1-conf)/2 (exact null distribution of n; normal approximation beyond
 * TLB_PAIRED_EXACT_MAX). Everything is returned as ratios (exp of the log values). With too few
 * pairs for the confidence asked (fewer than 6 at 95 %), lo/hi are NAN: no interval, so
 * nothing can be significant. Inputs must be finite and > 0. Returns 0, or -1 (n = 0, n >
 * TLB_PAIRED_MAX, a value <= 0 or not finite, out of memory). */
#define TLB_PAIRED_EXACT_MAX 60
#define TLB_PAIRED_MAX 1000
struct tlb_paired {
    double ratio;  /* exp(Hodges-Lehmann estimate of the log ratio) */
    double lo, hi; /* confidence interval of the ratio, NAN when n is too small */
    double p;      /* signed-rank p-value, two-sided */
    size_t n;      /* pairs */
};
int tlb_stat_paired_ratio(const double *base, const double *cand, size_t n, double conf,
                          struct tlb_paired *out);

/* Pairs (base[i], cand[i]) collected one at a time, for tlb_stat_paired_ratio. */
struct tlb_pairs {
    double *base, *cand;
    size_t n, cap;
};
/* Append one pair: 0, or -1 when out of memory (the pairs so far are kept). */
int tlb_pairs_add(struct tlb_pairs *p, double base, double cand);
void tlb_pairs_free(struct tlb_pairs *p);

#endif
