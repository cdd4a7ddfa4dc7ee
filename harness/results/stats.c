/* stats.c — descriptive statistics, MAD outliers, Mann-Whitney U, bootstrap ratio CI
 * (see stats.h for the exact definitions). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Sorted copy (caller frees), or NULL. */
static double *sorted_copy(const double *x, size_t n) {
    double *c = tlb_malloc(n * sizeof *c, "statistics");
    if (!c) return NULL;
    memcpy(c, x, n * sizeof *c);
    qsort(c, n, sizeof *c, tlb_cmp_double);
    return c;
}

static double percentile_sorted(const double *s, size_t n, double p) {
    double h = (double)(n - 1) * p / 100.0;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n) return s[n - 1];
    double f = h - (double)lo;
    if (f == 0 || s[lo] == s[lo + 1]) return s[lo];
    /* weights, not s[lo] + f * (s[lo+1] - s[lo]): that difference overflows for values of
     * opposite sign near DBL_MAX (-1e308, 1e308 gave NaN) */
    return (1 - f) * s[lo] + f * s[lo + 1];
}

double tlb_stat_mean(const double *x, size_t n) {
    if (n == 0) return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    return sum / (double)n;
}

double tlb_stat_stddev(const double *x, size_t n) {
    if (n < 2) return NAN;
    double m = tlb_stat_mean(x, n), ss = 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - 1));
}

double tlb_stat_percentile(const double *x, size_t n, double p) {
    if (n == 0 || !(p >= 0 && p <= 100)) return NAN;
    double *s = sorted_copy(x, n);
    if (!s) return NAN;
    double v = percentile_sorted(s, n, p);
    free(s);
    return v;
}

double tlb_stat_median(const double *x, size_t n) { return tlb_stat_percentile(x, n, 50); }

double tlb_stat_cv_pct(const double *x, size_t n) {
    double m = tlb_stat_mean(x, n), sd = tlb_stat_stddev(x, n);
    if (isnan(sd) || m == 0) return NAN;
    return 100.0 * sd / fabs(m);
}

double tlb_stat_mad(const double *x, size_t n) {
    if (n == 0) return NAN;
    double med = tlb_stat_median(x, n);
    double *d = tlb_malloc(n * sizeof *d, "statistics");
    if (!d || isnan(med)) {
        free(d);
        return NAN;
    }
    for (size_t i = 0; i < n; i++) d[i] = fabs(x[i] - med);
    double mad = tlb_stat_median(d, n);
    free(d);
    return mad;
}

size_t tlb_stat_outliers(const double *x, size_t n) {
    if (n < 3) return 0;
    double med = tlb_stat_median(x, n), mad = tlb_stat_mad(x, n);
    if (isnan(med) || isnan(mad)) return 0;
    double scale; /* |M| = |x - median| / scale */
    if (mad > 0) {
        scale = mad / 0.6745;
    } else {
        double mean_ad = 0;
        for (size_t i = 0; i < n; i++) mean_ad += fabs(x[i] - med);
        mean_ad /= (double)n;
        if (mean_ad == 0) return 0;
        scale = 1.253314 * mean_ad;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i] - med) / scale > TLB_OUTLIER_Z) k++;
    return k;
}

/* ---------------------------------------------------------------- Mann-Whitney U */

struct ranked {
    double v;
    int from_a;
};

static int cmp_ranked(const void *a, const void *b) {
    return tlb_cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/* P(U <= k) for sample sizes m, n without ties: counts f(m', n', u) of arrangements,
 * built by f(m', n', u) = f(m'-1, n', u - n') + f(m', n'-1, u) (additions only, so no
 * cancellation), divided by C(m+n, m). */
static double exact_cdf(size_t m, size_t n, double k) {
    size_t umax = m * n;
    double *g = tlb_calloc((m + 1) * (umax + 1), sizeof *g, "Mann-Whitney table");
    if (!g) return NAN;
#define G(mi, u) g[(mi) * (umax + 1) + (u)]
    for (size_t mi = 0; mi <= m; mi++) G(mi, 0) = 1; /* n' = 0: U is always 0 */
    for (size_t nn = 1; nn <= n; nn++) {
        /* From n' = nn-1 to nn, in place, m' ascending so G(mi-1, .) is already at nn. */
        for (size_t mi = 1; mi <= m; mi++)
            for (size_t u = umax; u >= nn; u--) {
                G(mi, u) += G(mi - 1, u - nn);
                if (u == nn) break;
            }
    }
    double total = 0, below = 0;
    for (size_t u = 0; u <= umax; u++) {
        total += G(m, u);
        if ((double)u <= k) below += G(m, u);
    }
#undef G
    free(g);
    return below / total;
}

int tlb_stat_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
                          struct tlb_mwu *out) {
    if (na == 0 || nb == 0) return -1;
    size_t n = na + nb;
    struct ranked *r = tlb_malloc(n * sizeof *r, "Mann-Whitney ranks");
    if (!r) return -1;
    for (size_t i = 0; i < na; i++) r[i] = (struct ranked){a[i], 1};
    for (size_t i = 0; i < nb; i++) r[na + i] = (struct ranked){b[i], 0};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Average ranks over ties; collect the tie term sum(t^3 - t). */
    double rank_a = 0, tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v) j++;
        double avg = (double)(i + j) / 2.0 + 1.0, t = (double)(j - i + 1);
        for (size_t k = i; k <= j; k++)
            if (r[k].from_a) rank_a += avg;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    free(r);
    double m1 = (double)na, m2 = (double)nb;
    double u = rank_a - m1 * (m1 + 1) / 2.0;
    double mu = m1 * m2 / 2.0;
    out->u = u;
    if (tie_term == 0 && na <= TLB_MWU_EXACT_MAX && nb <= TLB_MWU_EXACT_MAX) {
        double p = 2.0 * exact_cdf(na, nb, fmin(u, m1 * m2 - u));
        if (isnan(p)) return -1;
        out->p = fmin(1.0, p);
        out->exact = 1;
        return 0;
    }
    double nt = (double)n;
    double var = m1 * m2 / 12.0 * ((nt + 1) - tie_term / (nt * (nt - 1)));
    out->exact = 0;
    if (var <= 0) {
        out->p = 1.0; /* every value tied: no evidence of a difference */
        return 0;
    }
    double z = (fabs(u - mu) - 0.5) / sqrt(var);
    out->p = z <= 0 ? 1.0 : fmin(1.0, erfc(z / sqrt(2.0)));
    return 0;
}

/* ---------------------------------------------------------------- RNG and bootstrap */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void tlb_rng_seed(struct tlb_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tlb_rng_next(struct tlb_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double *tlb_stat_subsample(const double *x, size_t n, size_t k) {
    if (k == 0 || k > n) return NULL;
    double *s = sorted_copy(x, n);
    double *out = s ? tlb_malloc(k * sizeof *out, "subsample") : NULL;
    if (out)
        for (size_t i = 0; i < k; i++) out[i] = s[(2 * i + 1) * n / (2 * k)];
    free(s);
    return out;
}

/* Median of a resample of x (n values) drawn into tmp. */
static double resample_median(struct tlb_rng *rng, const double *x, size_t n, double *tmp) {
    for (size_t i = 0; i < n; i++) tmp[i] = x[tlb_rng_next(rng) % n];
    qsort(tmp, n, sizeof *tmp, tlb_cmp_double);
    return percentile_sorted(tmp, n, 50);
}

int tlb_stat_bootstrap_ratio(const double *base, size_t nb, const double *cand, size_t nc,
                             int n_boot, double conf, uint64_t seed, double *lo, double *hi) {
    if (nb == 0 || nc == 0 || n_boot < 1 || !(conf > 0 && conf < 1)) return -1;
    double *ratios = tlb_malloc((size_t)n_boot * sizeof *ratios, "bootstrap");
    double *tmp = tlb_malloc((nb > nc ? nb : nc) * sizeof *tmp, "bootstrap");
    int rc = -1;
    if (!ratios || !tmp) goto out;
    struct tlb_rng rng;
    tlb_rng_seed(&rng, seed);
    for (int i = 0; i < n_boot; i++) {
        double mb = resample_median(&rng, base, nb, tmp);
        double mc = resample_median(&rng, cand, nc, tmp);
        if (mb == 0) goto out;
        ratios[i] = mc / mb;
    }
    qsort(ratios, (size_t)n_boot, sizeof *ratios, tlb_cmp_double);
    *lo = percentile_sorted(ratios, (size_t)n_boot, 100.0 * (1 - conf) / 2);
    *hi = percentile_sorted(ratios, (size_t)n_boot, 100.0 * (1 + conf) / 2);
    rc = 0;
out:
    free(ratios);
    free(tmp);
    return rc;
}

/* ---------------------------------------------------------------- paired: signed rank */

/* Null distribution of W+ for n pairs without ties: counts[w] = subsets of {1..n} with sum
 * w, w = 0..n(n+1)/2 (doubles: 2^60 is still exact). NULL when out of memory. */
static double *signed_rank_counts(size_t n) {
    size_t m = n * (n + 1) / 2;
    double *c = tlb_calloc(m + 1, sizeof *c, "signed-rank table");
    if (!c) return NULL;
    c[0] = 1;
    for (size_t k = 1; k <= n; k++)
        for (size_t w = k * (k + 1) / 2; w >= k; w--) {
            c[w] += c[w - k];
            if (w == k) break;
        }
    return c;
}

static int cmp_abs(const void *a, const void *b) {
    double x = fabs(*(const double *)a), y = fabs(*(const double *)b);
    return (x > y) - (x < y);
}

/* Two-sided signed-rank p-value of the log ratios d (n values, any order). */
static double signed_rank_p(const double *d, size_t n) {
    double *nz = tlb_malloc((n ? n : 1) * sizeof *nz, "signed rank");
    if (!nz) return NAN;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0) nz[k++] = d[i];
    if (k == 0) {
        free(nz);
        return 1.0; /* every pair equal: no evidence of a change */
    }
    qsort(nz, k, sizeof *nz, cmp_abs);
    double w_plus = 0, tie_term = 0;
    for (size_t i = 0; i < k;) {
        size_t j = i;
        while (j + 1 < k && fabs(nz[j + 1]) == fabs(nz[i])) j++;
        double avg = (double)(i + j) / 2.0 + 1.0, t = (double)(j - i + 1);
        for (size_t q = i; q <= j; q++)
            if (nz[q] > 0) w_plus += avg;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    free(nz);
    double kk = (double)k, mean = kk * (kk + 1) / 4.0;
    if (tie_term == 0 && k <= TLB_PAIRED_EXACT_MAX) {
        double *c = signed_rank_counts(k);
        if (!c) return NAN;
        double lo_tail = fmin(w_plus, kk * (kk + 1) / 2.0 - w_plus), below = 0, total = 0;
        for (size_t w = 0; w <= k * (k + 1) / 2; w++) {
            total += c[w];
            if ((double)w <= lo_tail) below += c[w];
        }
        free(c);
        return fmin(1.0, 2.0 * below / total);
    }
    double var = kk * (kk + 1) * (2 * kk + 1) / 24.0 - tie_term / 48.0;
    if (var <= 0) return 1.0;
    double z = (fabs(w_plus - mean) - 0.5) / sqrt(var);
    return z <= 0 ? 1.0 : fmin(1.0, erfc(z / sqrt(2.0)));
}

/* The critical count c of the Walsh-average interval: the largest c with P(W+ <= c) <=
 * alpha/2, or -1 when even c = 0 is too likely (too few pairs). */
static long walsh_critical(size_t n, double alpha) {
    if (n <= TLB_PAIRED_EXACT_MAX) {
        double *c = signed_rank_counts(n);
        if (!c) return -2;
        double total = ldexp(1.0, (int)n), cum = 0;
        long crit = -1;
        for (size_t w = 0; w <= n * (n + 1) / 2; w++) {
            cum += c[w];
            if (cum / total > alpha / 2) break;
            crit = (long)w;
        }
        free(c);
        return crit;
    }
    /* normal approximation: W+ ~ N(n(n+1)/4, n(n+1)(2n+1)/24) */
    double nn = (double)n, z = 1.959963984540054; /* two-sided 95 % */
    if (fabs(alpha - 0.05) > 1e-12) {
        /* invert erfc by bisection for other levels */
        double lo = 0, hi = 10;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (erfc(mid / sqrt(2.0)) > alpha) lo = mid;
            else hi = mid;
        }
        z = (lo + hi) / 2;
    }
    double c = nn * (nn + 1) / 4.0 - 0.5 - z * sqrt(nn * (nn + 1) * (2 * nn + 1) / 24.0);
    return c < 0 ? -1 : (long)floor(c);
}

int tlb_stat_paired_ratio(const double *base, const double *cand, size_t n, double conf,
                          struct tlb_paired *out) {
    if (n == 0 || n > TLB_PAIRED_MAX || !(conf > 0 && conf < 1)) return -1;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(base[i]) || !isfinite(cand[i]) || base[i] <= 0 || cand[i] <= 0) return -1;
    size_t m = n * (n + 1) / 2;
    double *d = tlb_malloc(n * sizeof *d, "paired ratios");
    double *walsh = tlb_malloc(m * sizeof *walsh, "Walsh averages");
    int rc = -1;
    if (!d || !walsh) goto out;
    for (size_t i = 0; i < n; i++) d[i] = log(cand[i] / base[i]);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) walsh[k++] = (d[i] + d[j]) / 2.0;
    qsort(walsh, m, sizeof *walsh, tlb_cmp_double);
    out->n = n;
    out->ratio = exp(percentile_sorted(walsh, m, 50));
    out->p = signed_rank_p(d, n);
    long c = walsh_critical(n, 1 - conf);
    if (c < -1 || isnan(out->p)) goto out;
    if (c < 0) {
        out->lo = out->hi = NAN;
    } else {
        out->lo = exp(walsh[c]);              /* the (c+1)-th smallest */
        out->hi = exp(walsh[m - 1 - (size_t)c]); /* the (M-c)-th smallest */
    }
    rc = 0;
out:
    free(d);
    free(walsh);
    return rc;
}

int tlb_pairs_add(struct tlb_pairs *p, double base, double cand) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        double *b = realloc(p->base, cap * sizeof *b);
        if (b) p->base = b;
        double *c = b ? realloc(p->cand, cap * sizeof *c) : NULL;
        if (c) p->cand = c;
        if (!b || !c) return -1;
        p->cap = cap;
    }
    p->base[p->n] = base;
    p->cand[p->n] = cand;
    p->n++;
    return 0;
}

void tlb_pairs_free(struct tlb_pairs *p) {
    free(p->base);
    free(p->cand);
    *p = (struct tlb_pairs){0};
}
