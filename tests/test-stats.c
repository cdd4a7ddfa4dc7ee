/* test-stats.c — statistics against values computed independently: Python's statistics
 * module and a pure-Python Mann-Whitney reference (exact p by enumerating all
 * C(n1+n2, n1) splits; the asymptotic p by the tie-corrected normal formula), plus the
 * published scipy.stats.mannwhitneyu documentation example. scipy itself is not installed
 * on the build machine, so the reference values were computed once and are quoted here. */
#include <stdint.h>

#include "stats.h"
#include "test.h"

static const double x7[] = {3.1, 1.2, 9.7, 4.4, 5.0, 2.2, 8.8};

TLB_TEST(descriptive) {
    /* python3: statistics.mean/stdev/median */
    TLB_CHECK_NEAR(tlb_stat_mean(x7, 7), 4.914285714285715, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_stddev(x7, 7), 3.233382424762327, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_median(x7, 7), 4.4, 1e-12);
    double even[] = {4, 1, 3, 2};
    TLB_CHECK_NEAR(tlb_stat_median(even, 4), 2.5, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_cv_pct(x7, 7), 100 * 3.233382424762327 / 4.914285714285715, 1e-9);
    TLB_CHECK(isnan(tlb_stat_stddev(x7, 1)), "stddev of one value must be undefined");
    TLB_CHECK(isnan(tlb_stat_mean(x7, 0)) && isnan(tlb_stat_median(x7, 0)), "empty input");
    TLB_CHECK(x7[0] == 3.1 && x7[6] == 8.8, "input modified");
}

TLB_TEST(percentiles_linear_interpolation) {
    /* numpy-default (type 7) values, computed by hand/python: h = (n-1) p / 100 */
    TLB_CHECK_NEAR(tlb_stat_percentile(x7, 7, 0), 1.2, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_percentile(x7, 7, 10), 1.8, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_percentile(x7, 7, 50), 4.4, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_percentile(x7, 7, 90), 9.16, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_percentile(x7, 7, 99), 9.646, 1e-12);
    TLB_CHECK_NEAR(tlb_stat_percentile(x7, 7, 100), 9.7, 1e-12);
    double one = 5;
    TLB_CHECK_NEAR(tlb_stat_percentile(&one, 1, 99), 5, 0);
    TLB_CHECK(isnan(tlb_stat_percentile(x7, 7, 101)), "p > 100 accepted");
}

TLB_TEST(mad_outliers) {
    double a[] = {10, 10.1, 9.9, 10.05, 9.95, 15};
    TLB_CHECK_NEAR(tlb_stat_mad(a, 6), 0.075, 1e-12);
    TLB_CHECK(tlb_stat_outliers(a, 6) == 1, "15 among ~10 is one outlier, got %zu",
              tlb_stat_outliers(a, 6));
    double tight[] = {40.0, 40.2, 39.9, 40.1, 39.8, 40.05, 39.95};
    TLB_CHECK(tlb_stat_outliers(tight, 7) == 0, "no outliers in tight data");
    /* MAD = 0: the mean absolute deviation takes over: |9-5| / (1.253314 x 0.8) = 3.99 */
    double flat[] = {5, 5, 5, 5, 9};
    TLB_CHECK(tlb_stat_outliers(flat, 5) == 1, "MAD=0 fallback");
    double same[] = {3, 3, 3, 3};
    TLB_CHECK(tlb_stat_outliers(same, 4) == 0, "identical values");
    /* Modified z just under / over 3.5: median 0, MAD 1, x = 5.18 -> 3.494, 5.2 -> 3.507 */
    double under[] = {-2, -1, -1, 0, 1, 1, 5.18}, over[] = {-2, -1, -1, 0, 1, 1, 5.2};
    TLB_CHECK_NEAR(tlb_stat_mad(under, 7), 1, 1e-12);
    TLB_CHECK(tlb_stat_outliers(under, 7) == 0 && tlb_stat_outliers(over, 7) == 1,
              "threshold 3.5 not applied as documented");
}

TLB_TEST(mann_whitney_known_values) {
    struct tlb_mwu r;
    /* scipy.stats.mannwhitneyu docs: statistic 17.0, exact p 0.1111111111111111,
     * asymptotic 0.11134688653314041 */
    double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    TLB_CHECK(tlb_stat_mann_whitney(males, 5, females, 4, &r) == 0, "mwu");
    TLB_CHECK(r.exact && r.u == 17, "U=%g exact=%d", r.u, r.exact);
    TLB_CHECK_NEAR(r.p, 0.1111111111111111, 1e-12);
    /* complete separation, 5 vs 5: p = 2 / C(10,5) = 2/252 */
    double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
    TLB_CHECK(tlb_stat_mann_whitney(a, 5, b, 5, &r) == 0 && r.u == 0 && r.exact, "mwu");
    TLB_CHECK_NEAR(r.p, 2.0 / 252.0, 1e-15);
    /* no ties, 7 vs 6 and 9 vs 9: exact by enumeration in python */
    double c[] = {20.1, 19.8, 20.3, 20.0, 19.95, 20.2, 20.4}, d[] = {19.5, 19.9, 19.7, 20.05, 19.6, 19.85};
    TLB_CHECK(tlb_stat_mann_whitney(c, 7, d, 6, &r) == 0 && r.u == 37 && r.exact, "U=%g", r.u);
    TLB_CHECK_NEAR(r.p, 0.022144522144522144, 1e-12);
    double e[] = {10.2, 11.5, 9.8, 10.9, 12.1, 10.4, 11.0, 9.5, 10.7},
           f[] = {9.9, 9.1, 10.1, 8.7, 9.4, 10.3, 8.9, 9.6, 9.2};
    TLB_CHECK(tlb_stat_mann_whitney(e, 9, f, 9, &r) == 0 && r.u == 73 && r.exact, "U=%g", r.u);
    TLB_CHECK_NEAR(r.p, 0.002756067461949815, 1e-12);
    /* ties -> normal approximation with tie correction and continuity correction */
    double g[] = {1, 2, 2, 3, 4}, h[] = {2, 3, 5, 6, 7};
    TLB_CHECK(tlb_stat_mann_whitney(g, 5, h, 5, &r) == 0 && r.u == 4.5 && !r.exact, "U=%g", r.u);
    TLB_CHECK_NEAR(r.p, 0.11161176829829222, 1e-12);
    double k[] = {20.1, 19.8, 20.3, 20.0, 19.9, 20.2, 20.4}, l[] = {19.5, 19.9, 19.7, 20.05, 19.6, 19.85};
    TLB_CHECK(tlb_stat_mann_whitney(k, 7, l, 6, &r) == 0 && r.u == 36.5 && !r.exact, "U=%g", r.u);
    TLB_CHECK_NEAR(r.p, 0.031888403341330765, 1e-12);
    /* everything tied: no evidence */
    double s[] = {1, 1, 1}, t[] = {1, 1};
    TLB_CHECK(tlb_stat_mann_whitney(s, 3, t, 2, &r) == 0 && r.p == 1.0, "all tied p=%g", r.p);
}

TLB_TEST(mann_whitney_symmetry_and_large) {
    struct tlb_mwu ab, ba;
    double e[] = {10.2, 11.5, 9.8, 10.9, 12.1, 10.4, 11.0, 9.5, 10.7},
           f[] = {9.9, 9.1, 10.1, 8.7, 9.4, 10.3, 8.9, 9.6, 9.2};
    tlb_stat_mann_whitney(e, 9, f, 9, &ab);
    tlb_stat_mann_whitney(f, 9, e, 9, &ba);
    TLB_CHECK(ab.u + ba.u == 81 && fabs(ab.p - ba.p) < 1e-15, "not symmetric");
    /* 50 vs 50 (largest exact case): the exact p must agree with the normal
     * approximation closely, and the approximation is used beyond 50 */
    double x[60], y[60];
    for (int i = 0; i < 60; i++) {
        x[i] = i * 1.0 + 0.25;
        y[i] = i * 1.0 + 9.5; /* shifted */
    }
    struct tlb_mwu ex, ap;
    TLB_CHECK(tlb_stat_mann_whitney(x, 50, y, 50, &ex) == 0 && ex.exact, "50x50 exact");
    TLB_CHECK(tlb_stat_mann_whitney(x, 51, y, 51, &ap) == 0 && !ap.exact, "51x51 approximate");
    TLB_CHECK(ex.p > 0 && ex.p < 0.2 && ap.p > 0 && ap.p < 0.2, "p %g %g", ex.p, ap.p);
    /* the same data through the approximation: add a tie far away to force it */
    struct tlb_mwu ex2;
    double x2[51], y2[51];
    memcpy(x2, x, sizeof(double) * 50);
    memcpy(y2, y, sizeof(double) * 50);
    x2[50] = y2[50] = 1000;
    tlb_stat_mann_whitney(x2, 51, y2, 51, &ex2);
    TLB_CHECK(fabs(ex.p - ex2.p) < 0.01, "exact %g vs normal %g", ex.p, ex2.p);
    TLB_CHECK(tlb_stat_mann_whitney(x, 0, y, 3, &ex) != 0, "empty sample accepted");
}

TLB_TEST(bootstrap_ratio_ci) {
    double base[] = {40.1, 39.8, 40.3, 40.0, 39.9, 40.2, 40.05, 39.95, 40.15};
    double slow[9], same[9];
    for (int i = 0; i < 9; i++) {
        slow[i] = base[(i + 4) % 9] * 0.8;
        same[i] = base[(i + 2) % 9];
    }
    double lo, hi, lo2, hi2;
    TLB_CHECK(tlb_stat_bootstrap_ratio(base, 9, slow, 9, 5000, 0.95, 7, &lo, &hi) == 0, "boot");
    TLB_CHECK(lo <= 0.8 + 1e-9 && hi >= 0.8 - 1e-9, "CI %g..%g must contain the ratio 0.8", lo, hi);
    TLB_CHECK(hi < 0.95, "a clear 20%% slowdown must exclude 0.95: CI %g..%g", lo, hi);
    /* deterministic for a seed */
    TLB_CHECK(tlb_stat_bootstrap_ratio(base, 9, slow, 9, 5000, 0.95, 7, &lo2, &hi2) == 0 &&
                  lo2 == lo && hi2 == hi, "not reproducible");
    TLB_CHECK(tlb_stat_bootstrap_ratio(base, 9, same, 9, 5000, 0.95, 7, &lo, &hi) == 0, "boot");
    TLB_CHECK(lo <= 1 && hi >= 1, "same data: CI %g..%g must contain 1", lo, hi);
    double zero[] = {0, 0, 0};
    TLB_CHECK(tlb_stat_bootstrap_ratio(zero, 3, base, 3, 100, 0.95, 1, &lo, &hi) != 0,
              "median 0 base must fail");
}

/* Extreme but finite values never turn a median or percentile into NaN or infinity. */
TLB_TEST(percentiles_of_extreme_values) {
    double a[] = {-1e308, -1e308, 1e308};
    double m = tlb_stat_median(a, 3);
    TLB_CHECK(m == -1e308, "median of -1e308,-1e308,1e308 is %g", m);
    double b[] = {1.7e308, 1.7e308};
    m = tlb_stat_median(b, 2);
    TLB_CHECK(m == 1.7e308, "median of two 1.7e308 is %g", m);
    double c[] = {-1.7e308, 1.7e308};
    m = tlb_stat_median(c, 2);
    TLB_CHECK(m == 0, "median of -1.7e308, 1.7e308 is %g", m);
    double p = tlb_stat_percentile(a, 3, 90);
    TLB_CHECK(isfinite(p), "p90 is %g", p);
}

/* Evenly spaced order statistics: the cap compare bootstraps on. */
TLB_TEST(quantile_subsample) {
    enum { N = 100000, K = 1000 };
    double *x = malloc(N * sizeof *x), *s = NULL;
    TLB_CHECK(x, "alloc");
    for (int i = 0; i < N; i++) x[i] = (double)((i * 7919) % N); /* a permutation of 0..N-1 */
    s = tlb_stat_subsample(x, N, K);
    int ok = s != NULL;
    for (int i = 0; ok && i < K; i++) ok = s[i] == (double)((2 * i + 1) * (N / K) / 2);
    free(x);
    free(s);
    TLB_CHECK(ok, "subsample must be the sorted values at the centres of K equal slices");
}

TLB_TEST(rng_reproducible) {
    struct tlb_rng a, b, c;
    tlb_rng_seed(&a, 42);
    tlb_rng_seed(&b, 42);
    tlb_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = tlb_rng_next(&a);
        TLB_CHECK(x == tlb_rng_next(&b), "same seed, different stream");
        differ += x != tlb_rng_next(&c);
    }
    TLB_CHECK(differ > 990, "different seeds gave the same stream");
    /* roughly uniform: mean of the top bit over 10000 draws near 0.5 */
    int ones = 0;
    for (int i = 0; i < 10000; i++) ones += (int)(tlb_rng_next(&a) >> 63);
    TLB_CHECK(ones > 4700 && ones < 5300, "top bit set %d/10000 times", ones);
}

/* Paired rounds: Hodges-Lehmann ratio, signed-rank p and the Walsh-average interval, checked
 * against values worked out by hand from the definitions (stats.h). */
TLB_TEST(paired_ratio) {
    struct tlb_paired r;
    /* n = 6, every ratio above 1: W+ = 21, exact p = 2/64; c = 0 (P(W+ <= 0) = 1/64 <= 0.025
     * < P(W+ <= 1) = 2/64), so the interval is the smallest and largest Walsh average */
    double one[6] = {1, 1, 1, 1, 1, 1}, up[6] = {1.1, 1.2, 1.3, 1.4, 1.5, 1.6};
    TLB_CHECK(tlb_stat_paired_ratio(one, up, 6, 0.95, &r) == 0, "paired");
    TLB_CHECK_NEAR(r.p, 2.0 / 64, 1e-12);
    TLB_CHECK_NEAR(r.lo, 1.1, 1e-12);
    TLB_CHECK_NEAR(r.hi, 1.6, 1e-12);
    TLB_CHECK(r.n == 6 && r.ratio > 1.3 && r.ratio < 1.4, "ratio %g", r.ratio);
    /* n = 5: P(W+ <= 0) = 1/32 > 0.025, no 95 % interval; p = 2/32 */
    TLB_CHECK(tlb_stat_paired_ratio(one, up, 5, 0.95, &r) == 0, "paired 5");
    TLB_CHECK(isnan(r.lo) && isnan(r.hi), "5 pairs cannot give a 95%% interval");
    TLB_CHECK_NEAR(r.p, 2.0 / 32, 1e-12);
    /* HL of d = {-1, 2, 3}: Walsh averages -1, 0.5, 1, 2, 2.5, 3 -> median 1.5 */
    double b3[3] = {1, 1, 1}, c3[3] = {exp(-1.0), exp(2.0), exp(3.0)};
    TLB_CHECK(tlb_stat_paired_ratio(b3, c3, 3, 0.95, &r) == 0, "paired 3");
    TLB_CHECK_NEAR(log(r.ratio), 1.5, 1e-12);
    /* n = 10, d_i = 0.01 i: the table's two-sided 5 % critical value is 8, so the interval is
     * [A(9), A(47)] of the 55 Walsh averages: 0.01 x 3 and 0.01 x 8 */
    double b10[10], c10[10];
    for (int i = 0; i < 10; i++) {
        b10[i] = 2.0;
        c10[i] = 2.0 * exp(0.01 * (i + 1));
    }
    TLB_CHECK(tlb_stat_paired_ratio(b10, c10, 10, 0.95, &r) == 0, "paired 10");
    TLB_CHECK_NEAR(log(r.lo), 0.03, 1e-12);
    TLB_CHECK_NEAR(log(r.hi), 0.08, 1e-12);
    TLB_CHECK_NEAR(log(r.ratio), 0.055, 1e-12);
    /* identical pairs: ratio 1, p 1, interval [1, 1] */
    TLB_CHECK(tlb_stat_paired_ratio(up, up, 6, 0.95, &r) == 0, "identical");
    TLB_CHECK(r.ratio == 1 && r.p == 1 && r.lo == 1 && r.hi == 1, "identical: %g %g %g..%g",
              r.ratio, r.p, r.lo, r.hi);
    /* many pairs (normal approximation): symmetric noise around -10 % is found, 1 excluded */
    static double bb[200], cc[200];
    struct tlb_rng g;
    tlb_rng_seed(&g, 3);
    for (int i = 0; i < 200; i++) {
        double u = (double)(tlb_rng_next(&g) >> 11) / 9007199254740992.0 - 0.5;
        bb[i] = 20;
        cc[i] = 20 * 0.9 * exp(0.04 * u);
    }
    TLB_CHECK(tlb_stat_paired_ratio(bb, cc, 200, 0.95, &r) == 0, "paired 200");
    TLB_CHECK(r.lo < r.ratio && r.ratio < r.hi && r.hi < 1 && fabs(r.ratio - 0.9) < 0.005 &&
                  r.p < 1e-10, "200 pairs: %g (%g..%g) p %g", r.ratio, r.lo, r.hi, r.p);
    /* bad input */
    double zero[6] = {0, 1, 1, 1, 1, 1};
    TLB_CHECK(tlb_stat_paired_ratio(zero, up, 6, 0.95, &r) != 0, "a zero must be refused");
    TLB_CHECK(tlb_stat_paired_ratio(up, up, 0, 0.95, &r) != 0, "no pairs must be refused");
}

TLB_TEST_MAIN()
