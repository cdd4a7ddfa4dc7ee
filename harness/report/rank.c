/* report-rank.c — the decisions `tlbench report` states: the best configuration of each
 * board under a RAM budget, the best kernel for each weight type, and the largest memory a
 * weight type needed. "Best" is the highest median decode tokens/s at the board's shortest
 * measured context; ties go to the lower KL divergence. */
#include <math.h>
#include <string.h>

#include "report.h"

/* Memory a row needs: its peak RSS, else the weights plus the KV cache it allocated. */
static double row_mem(const struct tlb_rep_row *r) {
    if (!isnan(r->peak)) return r->peak;
    if (!isnan(r->weights) && !isnan(r->kv_bytes)) return r->weights + r->kv_bytes;
    return NAN;
}

/* Is a faster than b (NAN loses; equal speed: lower KLD wins)? An invalid row (measured while
 * throttled) is charted, never chosen. */
static int better(const struct tlb_rep_row *a, const struct tlb_rep_row *b) {
    if (isnan(a->tg) || a->invalid) return 0;
    if (!b || isnan(b->tg)) return 1;
    if (a->tg != b->tg) return a->tg > b->tg;
    return !isnan(a->kld) && (isnan(b->kld) || a->kld < b->kld);
}

static int same_config(const struct tlb_rep_row *a, const struct tlb_rep_row *b) {
    return a->board == b->board && a->threads == b->threads && !strcmp(a->wtype, b->wtype) &&
           !strcmp(a->kernel, b->kernel) && !strcmp(a->kv, b->kv);
}

void tlb_rep_best_under(const struct tlb_rep_data *d, int board, uint64_t budget,
                        struct tlb_rep_best *out) {
    const struct tlb_rep_board *b = &d->boards[board];
    out->board = board;
    out->row = -1;
    out->smallest = -1;
    out->fit_ctx = 0;
    double small = INFINITY;
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (r->board != board || r->depth != b->min_depth) continue;
        double m = row_mem(r);
        if (isnan(m)) continue;
        if (m < small) {
            small = m;
            out->smallest = (long)i;
        }
        if (m > (double)budget) continue;
        if (better(r, out->row >= 0 ? &d->rows[out->row] : NULL)) out->row = (long)i;
    }
    if (out->row < 0) return;
    const struct tlb_rep_row *best = &d->rows[out->row];
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        double m = row_mem(r);
        if (same_config(r, best) && !isnan(m) && m <= (double)budget && r->n_ctx > out->fit_ctx)
            out->fit_ctx = r->n_ctx;
    }
}

long tlb_rep_best_for_type(const struct tlb_rep_data *d, int board, const char *wtype) {
    long best = -1;
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (r->board != board || r->depth != d->boards[board].min_depth ||
            strcmp(r->wtype, wtype) != 0 || strcmp(r->kv, d->kv) != 0)
            continue;
        if (better(r, best >= 0 ? &d->rows[best] : NULL)) best = (long)i;
    }
    return best;
}

double tlb_rep_peak_max(const struct tlb_rep_data *d, int board, const char *wtype,
                        int64_t *ctx_out) {
    double best = NAN;
    int64_t ctx = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (r->board != board || strcmp(r->wtype, wtype) != 0 || strcmp(r->kv, d->kv) != 0 ||
            isnan(r->peak))
            continue;
        if (isnan(best) || r->peak > best) {
            best = r->peak;
            ctx = r->n_ctx;
        }
    }
    if (ctx_out) *ctx_out = ctx;
    return best;
}

int tlb_rep_within_noise(double a, double sd_a, double b, double sd_b) {
    if (!isfinite(a) || !isfinite(b)) return 0;
    double diff = fabs(a - b), spread = (isfinite(sd_a) ? sd_a : 0) + (isfinite(sd_b) ? sd_b : 0);
    return diff <= spread || diff < 0.05 * fmax(fabs(a), fabs(b));
}
