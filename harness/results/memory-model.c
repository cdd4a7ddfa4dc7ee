/* memory-model.c — RAM needed by a configuration (see memory-model.h). The shape rules
 * mirror the loaders (tlb_model_type_for, norms f32) and tlb_engine_create's buffers; if
 * the engine allocates differently, change both (tests/test-fit.c checks the numbers). */
#include "memory-model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

static uint64_t matrix_bytes(enum tlb_type want, int64_t rows, int64_t cols) {
    size_t row = tlb_type_row_bytes(tlb_model_type_for(want, cols), cols);
    if (row == 0 || rows < 0 || (uint64_t)rows > UINT64_MAX / row) return 0;
    return (uint64_t)rows * row;
}

uint64_t tlb_mem_weights(const struct tlb_config *c, enum tlb_type wtype, int shared_classifier) {
    int64_t d = c->dim, h = c->hidden_dim, kv = tlb_kv_dim(c), V = c->vocab_size;
    uint64_t layer = 2 * matrix_bytes(wtype, d, d) + 2 * matrix_bytes(wtype, kv, d) +
                     2 * matrix_bytes(wtype, h, d) + matrix_bytes(wtype, d, h) +
                     2 * (uint64_t)d * 4; /* attention and FFN norms */
    uint64_t embd = matrix_bytes(wtype, V, d);
    if (layer == 0 || embd == 0) return 0;
    uint64_t total = embd + (uint64_t)d * 4 + (uint64_t)c->n_layers * layer;
    if (!shared_classifier) total += embd;
    return total;
}

uint64_t tlb_mem_kv_per_token(const struct tlb_config *c, enum tlb_type kv_type) {
    return (uint64_t)tlb_kv_bytes_for(c, kv_type, 1);
}

uint64_t tlb_mem_scratch(const struct tlb_config *c, int64_t ctx, int n_threads, int max_batch) {
    return (uint64_t)tlb_engine_scratch_bytes_for(c, n_threads, (int)ctx, max_batch);
}

int tlb_mem_fit(const double *known, const double *weights, const double *peak, size_t n,
                struct tlb_mem_fit *out) {
    if (n == 0) return -1;
    memset(out, 0, sizeof *out);
    out->n = n;
    double sr = 0, sw = 0;
    double wmin = weights[0], wmax = weights[0];
    for (size_t i = 0; i < n; i++) {
        sr += peak[i] - known[i];
        sw += weights[i];
        wmin = fmin(wmin, weights[i]);
        wmax = fmax(wmax, weights[i]);
    }
    double mr = sr / (double)n, mw = sw / (double)n;
    out->a = mr;
    out->n_params = 1;
    if (n >= 4 && wmax > wmin) {
        /* Ordinary least squares of r = a + b w, centred for stability. */
        double sxy = 0, sxx = 0;
        for (size_t i = 0; i < n; i++) {
            double dw = weights[i] - mw;
            sxy += dw * (peak[i] - known[i] - mr);
            sxx += dw * dw;
        }
        if (sxx > 0) {
            out->b = sxy / sxx;
            out->a = mr - out->b * mw;
            out->n_params = 2;
        }
    }
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double pred = known[i] + tlb_mem_fit_overhead(out, weights[i]);
        double rel = peak[i] > 0 ? fabs(pred - peak[i]) / peak[i] : 0;
        out->max_rel_err = fmax(out->max_rel_err, rel);
        se += rel * rel;
    }
    out->rms_rel_err = sqrt(se / (double)n);
    return 0;
}

double tlb_mem_fit_overhead(const struct tlb_mem_fit *f, double weights) {
    double o = f->a + f->b * weights;
    return o > 0 ? o : 0; /* a fit over odd rows may dip below 0: a runtime frees nothing */
}

int tlb_parse_size(const char *s, uint64_t *out) {
    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.')) return -1;
    if (strpbrk(s, "xXpP")) return -1; /* no hex floats */
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v <= 0) return -1;
    while (*end == ' ') end++;
    static const struct {
        const char *unit;
        int shift;
    } units[] = {
        {"", 0},   {"b", 0},   {"k", 10},  {"kb", 10}, {"kib", 10}, {"m", 20},
        {"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},
        {"tb", 40}, {"tib", 40},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            double bytes = ldexp(v, units[i].shift);
            if (bytes < 1 || bytes > ldexp(1.0, 60)) return -1;
            *out = (uint64_t)bytes;
            return 0;
        }
    }
    return -1;
}

const char *tlb_format_size(uint64_t bytes, char *buf, size_t n) {
    if (bytes >= ((uint64_t)1 << 30)) snprintf(buf, n, "%.2f GiB", (double)bytes / (1 << 30));
    else if (bytes >= ((uint64_t)1 << 20)) snprintf(buf, n, "%.1f MiB", (double)bytes / (1 << 20));
    else if (bytes >= 1024) snprintf(buf, n, "%.0f KiB", (double)bytes / 1024);
    else snprintf(buf, n, "%llu B", (unsigned long long)bytes);
    return buf;
}
