/* kernel-check.c — compare a kernel's output rows with naive and with the f32 product (kernel-check.h). */
#include "kernel-check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int tlb_kcheck_rows(const struct tlb_tensor *w, const float *x, int m, const float *y,
                    int64_t r0, int64_t nr, struct tlb_kcheck *out) {
    const struct tlb_type_traits *tr = tlb_type_traits(w->type);
    const int64_t n = w->rows, k = w->cols;
    const size_t rb = tlb_type_row_bytes(w->type, k);
    const struct tlb_kernel *naive = tlb_kernel_find("naive");
    out->nmse = INFINITY;
    out->passed = 0;
    out->ref = "naive";
    out->finite = 1;
    if (nr <= 0 || r0 < 0 || r0 + nr > n || !naive) return 0;
    /* the checked rows as a tensor of their own: naive computes only those. A matrix in
     * another layout: the whole groups around them, copied and put back into rows. */
    const char *rows = (const char *)w->data + (size_t)r0 * rb;
    char *copy = NULL;
    if (w->layout != TLB_LAYOUT_ROWS) {
        const int gr = tlb_layout_group_rows(w->layout);
        const int64_t g0 = r0 / gr, g1 = (r0 + nr + gr - 1) / gr;
        const size_t gb = rb * (size_t)gr;
        copy = tlb_malloc((size_t)(g1 - g0) * gb, "check rows");
        if (!copy) return -1;
        memcpy(copy, (const char *)w->data + (size_t)g0 * gb, (size_t)(g1 - g0) * gb);
        if (tlb_layout_convert(copy, w->type, (g1 - g0) * gr, k, w->layout, TLB_LAYOUT_ROWS) != 0) {
            free(copy);
            return -1;
        }
        rows = copy + (size_t)(r0 - g0 * gr) * rb;
    }
    const struct tlb_tensor sub = {.type = w->type, .rows = nr, .cols = k, .data = rows,
                                   .name = "check rows"};
    float *ref = tlb_malloc((size_t)m * (size_t)nr * sizeof *ref, "check reference");
    float *wf = tlb_malloc((size_t)k * sizeof *wf, "check row");
    void *st = NULL;
    int rc = -1;
    double energy = 0, err_naive = 0, err_f32 = 0, err_half = 0;
    /* 16-bit weights: also the product with X rounded to their type (avx512's bf16 prefill,
     * avx512x16's decode), whose difference from the f32 product is that rounding */
    const int bf16 = w->type == TLB_TYPE_BF16, half = bf16 || w->type == TLB_TYPE_F16;
    if (!ref || !wf) goto done;
    if (naive->init && naive->init(&st, NULL) != 0) goto done;
    if (naive->matmul(st, NULL, ref, x, &sub, m) != 0) goto done;
    for (int64_t i = 0; i < nr; i++) {
        tr->to_f32((const char *)sub.data + (size_t)i * rb, wf, k);
        for (int r = 0; r < m; r++) {
            const float *xr = x + (size_t)r * (size_t)k;
            double s = 0, e = 0, sb = 0;
            for (int64_t c = 0; c < k; c++) {
                const double v = (double)wf[c] * xr[c];
                s += v;
                e += v * v;
                if (half)
                    sb += (double)wf[c] * (bf16 ? tlb_bf16_to_f32(tlb_f32_to_bf16(xr[c]))
                                                : tlb_f16_to_f32(tlb_f32_to_f16(xr[c])));
            }
            const double yv = y[(size_t)r * (size_t)n + (size_t)(r0 + i)];
            if (!isfinite(yv)) out->finite = 0;
            const double dn = yv - ref[(size_t)r * (size_t)nr + (size_t)i], df = yv - s;
            energy += e;
            err_naive += dn * dn;
            err_f32 += df * df;
            err_half += (yv - sb) * (yv - sb);
        }
    }
    if (energy <= 0) energy = 1;
    const double bound = tr->is_quantized ? TLB_KCHECK_NMSE_Q8 : TLB_KCHECK_NMSE_FLOAT;
    out->nmse = err_naive / energy;
    out->passed = out->finite && out->nmse <= bound;
    if (!out->passed && out->finite && tr->is_quantized && err_f32 / energy <= TLB_KCHECK_NMSE_F32X) {
        out->nmse = err_f32 / energy;
        out->ref = "f32 activations";
        out->passed = 1;
    }
    if (!out->passed && out->finite && half && err_half / energy <= TLB_KCHECK_NMSE_FLOAT) {
        out->nmse = err_half / energy;
        out->ref = bf16 ? "bf16 activations" : "f16 activations";
        out->passed = 1;
    }
    rc = 0;
done:
    if (st && naive->release) naive->release(st);
    free(ref);
    free(wf);
    free(copy);
    return rc;
}
