/* report-charts.c — the charts of `tlbench report` as gnuplot scripts plus data files.
 * Every CSV value goes to DIR/charts/NAME.tsv as gnuplot DATA (tab-separated numbers, or
 * labels passed through tlb_rep_safe); the script NAME.gp holds only this file's own
 * commands, names only relative files, and quotes the few sanitized labels it shows in
 * single quotes. Each script draws NAME.png (pngcairo) and then NAME.svg (svg). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory-model.h"
#include "report.h"
#include "util.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define PALETTE_N 10
static const char *const palette[PALETTE_N] = {"#4E79A7", "#F28E2B", "#59A14F", "#E15759",
                                               "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7",
                                               "#9C755F", "#BAB0AC"};
static const int point_types[] = {7, 5, 9, 13, 11, 15, 6, 4};

/* One chart being written. */
struct gp {
    const struct tlb_rep_data *d;
    const struct tlb_rep_opts *o;
    struct tlb_buf body;  /* commands, run once per terminal */
    struct tlb_buf data;  /* NAME.tsv */
    int blocks;               /* data blocks so far (gnuplot `index`) */
    struct tlb_rep_chart *c;
    int width, height;
    int font;                 /* points; larger when panels are scaled down on the page */
    const char *skip;         /* why the chart is not drawn, when chart-list.h cannot say */
};

/* ---------------------------------------------------------------- small writers */

static void num(struct tlb_buf *b, double v) {
    if (isfinite(v)) tlb_buf_printf(b, "%.6g", v);
    else tlb_buf_puts(b, "NaN");
}

/* Points not to be trusted (tlb_rep_untrusted: noisy, a wide spread or an outlier over the
 * repetitions, or a busy machine; invalid, measured while throttled; threads that shared
 * cores) carry 1 in their data line's last column; each series gets an overlay circling them,
 * and the panel a legend entry. */
static void circle_overlay(struct gp *g, struct tlb_buf *plot, int idx, int flag_col) {
    tlb_buf_printf(plot, ", \\\n     '%s.tsv' index %d using 1:($%d > 0 ? $2 : 1/0) with points "
                   "pt 6 ps 2.6 lc rgb '#333333' notitle", g->c->name, idx, flag_col);
}

static void circled_note(struct gp *g, int flagged) {
    snprintf(g->c->note, sizeof g->c->note, "%d circled point%s measured on a noisy or busy "
             "machine, while throttled, or with threads sharing cores: do not read differences "
             "into %s.", flagged, flagged == 1 ? " was" : "s were", flagged == 1 ? "it" : "them");
}

static void circle_legend(struct tlb_buf *plot) {
    tlb_buf_puts(plot, ", \\\n     1/0 with points pt 6 ps 2.6 lc rgb '#333333' "
                       "title 'circled: noisy, invalid or shared cores'");
}

/* A new data block; returns its index. */
static int block(struct gp *g) {
    if (g->blocks) tlb_buf_puts(&g->data, "\n\n");
    return g->blocks++;
}

/* A sanitized label (from a CSV value) into buf. */
static const char *lab(char buf[TLB_REP_LABEL], const char *s) {
    tlb_rep_safe(s, buf, TLB_REP_LABEL, 24);
    return buf;
}

/* The boards of the charted rows, joined with " vs " (labels are already safe). */
static void boards_line(const struct tlb_rep_data *d, char *out, size_t n, int only_power) {
    out[0] = '\0';
    for (int b = 0; b < d->n_boards; b++) {
        if (!d->boards[b].n_charted || (only_power && !d->boards[b].has_power)) continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", l ? " vs " : "", d->boards[b].label);
    }
}

static void common(struct gp *g);

/* Common settings, then the multiplot line with the title and a subtitle naming boards,
 * model, workload, dates and tlbench version ("%d,%d" is the layout, see layout()). */
static void quote_twice(const char *s, char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 3 < n; s++) {
        if (*s == '\'') out[k++] = '\'';
        out[k++] = *s;
    }
    out[k] = '\0';
}

static void titles_for(struct gp *g, const char *title, const char *what, const char *boards,
                       const char *dates, const char *versions) {
    const struct tlb_rep_data *d = g->d;
    common(g);
    /* title and what are this file's text (with sanitized labels): double any quote for
     * gnuplot's single-quoted strings */
    char tq[200], wq[400];
    quote_twice(title, tq, sizeof tq);
    quote_twice(what, wq, sizeof wq);
    tlb_buf_printf(&g->body,
                   "set multiplot layout %%d,%%d title '%s'.\"\\n\".'%s'.\"\\n\".'model %s%s | %s | "
                   "%s | tlbench %s' font ',12'\n",
                   tq, boards, d->model_label, d->synthetic ? " (synthetic weights)" : "", wq,
                   dates, versions);
    snprintf(g->c->title, sizeof g->c->title, "%s", title);
}

/* The same for charts of the results CSVs: their boards, dates and versions. */
static void titles(struct gp *g, const char *title, const char *what, int only_power) {
    const struct tlb_rep_data *d = g->d;
    char boards[400], dates[32];
    boards_line(d, boards, sizeof boards, only_power);
    if (strcmp(d->date_lo, d->date_hi) != 0)
        snprintf(dates, sizeof dates, "%s to %s", d->date_lo, d->date_hi);
    else
        snprintf(dates, sizeof dates, "%s", *d->date_lo ? d->date_lo : "date unknown");
    titles_for(g, title, what, boards, dates, *d->versions ? d->versions : "?");
}

/* The multiplot line has %d,%d for the layout: fill them in (done once per chart). */
static void layout(struct gp *g, int rows, int cols) {
    char *p = strstr(g->body.p, "%d,%d");
    if (!p) return;
    char lay[32];
    int k = snprintf(lay, sizeof lay, "%d,%d", rows, cols);
    struct tlb_buf nb = {0};
    tlb_buf_add(&nb, g->body.p, (size_t)(p - g->body.p));
    tlb_buf_add(&nb, lay, (size_t)k);
    tlb_buf_puts(&nb, p + 5);
    if (nb.failed) g->body.failed = 1;
    tlb_buf_free(&g->body);
    g->body = nb;
}

static void common(struct gp *g) {
    struct tlb_buf *b = &g->body;
    tlb_buf_puts(b, "reset\nset encoding utf8\nset datafile separator \"\\t\"\n"
                   "set border 3 lc rgb '#606060'\nset tics nomirror out scale 0.6\n"
                   "set grid ytics lc rgb '#e3e3e3' lw 1 dt 1\n"
                   "set key noopaque nobox font ',9' samplen 2 spacing 1.1\n"
                   "set style fill solid 0.88 border rgb '#404040'\n");
    for (int i = 0; i < PALETTE_N; i++)
        tlb_buf_printf(b, "set style line %d lc rgb '%s' lw 2 pt %d ps 1.1\n", i + 1, palette[i],
                       point_types[i % (int)TLB_ARRAY_LEN(point_types)]);
}

/* A panel with nothing to show (keeps the grid of small multiples regular). */
static void empty_panel(struct gp *g, const char *title, const char *why) {
    tlb_buf_printf(&g->body,
                   "set title '%s' font ',10'\nunset border\nunset tics\nunset grid\nunset key\n"
                   "set label 99 '%s' at graph 0.5, graph 0.5 center tc rgb '#888888'\n"
                   "set xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\nunset label 99\n"
                   "set border 3 lc rgb '#606060'\nset xtics\nset ytics\n"
                   "set tics nomirror out scale 0.6\nset grid ytics\nset key\n",
                   title, why);
}

static int index_of(const char *const *list, int n, const char *v) {
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], v) == 0) return i;
    return 0;
}

static int kernel_style(const struct tlb_rep_data *d, const char *k) {
    return index_of(d->kernels, d->n_kernels, k) % PALETTE_N + 1;
}

/* Kernels of a kernels CSV keep their results-CSV colour; others get the next free ones. */
static int kfile_style(const struct tlb_rep_data *d, const char *k, int i) {
    for (int j = 0; j < d->n_kernels; j++)
        if (!strcmp(d->kernels[j], k)) return j % PALETTE_N + 1;
    return (d->n_kernels + i) % PALETTE_N + 1;
}

static int wtype_style(const struct tlb_rep_data *d, const char *w) {
    return index_of(d->wtypes, d->n_wtypes, w) % PALETTE_N + 1;
}

/* Row of (board, wtype, kernel, threads, depth) at the charted KV type; NULL when absent.
 * A later row of the same configuration wins (a resumed or repeated sweep). */
static const struct tlb_rep_row *find(const struct tlb_rep_data *d, int board, const char *w,
                                      const char *k, int64_t threads, int64_t depth) {
    const struct tlb_rep_row *hit = NULL;
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (r->board == board && r->threads == threads && r->depth == depth &&
            !strcmp(r->wtype, w) && !strcmp(r->kernel, k) && !strcmp(r->kv, d->kv))
            hit = r;
    }
    return hit;
}

/* Distinct sorted values of threads or depths for a board (at the charted KV type). */
static int distinct(const struct tlb_rep_data *d, int board, int depths, int64_t *out, int max) {
    int n = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if ((board >= 0 && r->board != board) || strcmp(r->kv, d->kv) != 0) continue;
        int64_t v = depths ? r->depth : r->threads;
        int at = 0;
        while (at < n && out[at] < v) at++;
        if (at < n && out[at] == v) continue;
        if (n == max) continue;
        memmove(out + at + 1, out + at, (size_t)(n - at) * sizeof *out);
        out[at] = v;
        n++;
    }
    return n;
}

static void xtics_list(struct tlb_buf *b, const int64_t *v, int n) {
    tlb_buf_puts(b, "set xtics (");
    for (int i = 0; i < n; i++) tlb_buf_printf(b, "%s%lld", i ? ", " : "", (long long)v[i]);
    tlb_buf_puts(b, ")\n");
}

/* ---------------------------------------------------------------- 1, 2: t/s vs threads */

static int chart_threads(struct gp *g, int prefill) {
    const struct tlb_rep_data *d = g->d;
    char what[200], l1[TLB_REP_LABEL], l2[TLB_REP_LABEL];
    snprintf(what, sizeof what, "%lld-token prompt, %lld generated | KV %s | shortest context",
             (long long)d->n_prompt, (long long)d->n_gen, lab(l1, d->kv));
    titles(g, prefill ? "Prefill tokens/s vs threads" : "Decode tokens/s vs threads", what, 0);
    int nb = 0;
    for (int b = 0; b < d->n_boards; b++) nb += d->boards[b].n_charted > 0;
    int cols = nb == 1 ? (d->n_wtypes <= 2 ? d->n_wtypes : d->n_wtypes == 4 ? 2 : 3) : d->n_wtypes;
    int rows = nb == 1 ? (d->n_wtypes + cols - 1) / cols : nb;
    layout(g, rows, cols);
    g->width = cols <= 2 ? 1100 : 360 * cols + 60;
    g->font = cols > 3 ? 11 : 10;
    g->height = 330 * rows + 110;
    /* One y scale per weight type so that boards compare at a glance. */
    double ymax[TLB_REP_MAX_VALUES] = {0};
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (r->depth != d->boards[r->board].min_depth || strcmp(r->kv, d->kv)) continue;
        double v = prefill ? r->pp : r->tg, sd = prefill ? r->pp_sd : r->tg_sd;
        int w = index_of(d->wtypes, d->n_wtypes, r->wtype);
        if (isfinite(v) && v + (isfinite(sd) ? sd : 0) > ymax[w]) ymax[w] = v + (isfinite(sd) ? sd : 0);
    }
    int panel = 0, flagged = 0, legend_at = 0;
    for (int b = 0; b < d->n_boards; b++) {
        if (!d->boards[b].n_charted) continue;
        int64_t th[64];
        int nth = distinct(d, b, 0, th, 64);
        for (int wi = 0; wi < d->n_wtypes; wi++, panel++) {
            const char *w = d->wtypes[wi];
            char ptitle[160];
            if (nb == 1) snprintf(ptitle, sizeof ptitle, "%s weights", lab(l1, w));
            else snprintf(ptitle, sizeof ptitle, "%s | %s", d->boards[b].label, lab(l1, w));
            struct tlb_buf plot = {0};
            int series = 0;
            for (int ki = 0; ki < d->n_kernels; ki++) {
                const char *k = d->kernels[ki];
                int have = 0;
                for (int t = 0; t < nth; t++) have |= find(d, b, w, k, th[t], d->boards[b].min_depth) != NULL;
                if (!have) continue;
                int idx = block(g);
                for (int t = 0; t < nth; t++) {
                    const struct tlb_rep_row *r = find(d, b, w, k, th[t], d->boards[b].min_depth);
                    if (!r) continue;
                    double v = prefill ? r->pp : r->tg, sd = prefill ? r->pp_sd : r->tg_sd;
                    tlb_buf_printf(&g->data, "%lld\t", (long long)th[t]);
                    num(&g->data, v);
                    tlb_buf_puts(&g->data, "\t");
                    num(&g->data, isfinite(sd) ? sd : 0);
                    tlb_buf_printf(&g->data, "\t%d\n", tlb_rep_untrusted(r));
                    flagged += tlb_rep_untrusted(r);
                }
                tlb_buf_printf(&plot, "%s'%s.tsv' index %d using 1:2:3 with yerrorlines ls %d "
                               "title '%s'", series++ ? ", \\\n     " : "plot ", g->c->name, idx,
                               kernel_style(d, k), lab(l2, k));
                circle_overlay(g, &plot, idx, 4);
            }
            if (flagged > legend_at) {
                circle_legend(&plot);
                legend_at = flagged;
            }
            if (!series) {
                tlb_buf_free(&plot);
                empty_panel(g, ptitle, "not measured");
                continue;
            }
            tlb_buf_printf(&g->body, "set title '%s' font ',10'\n", ptitle);
            xtics_list(&g->body, th, nth);
            if (nth > 1 && th[nth - 1] >= 8 * (th[0] > 0 ? th[0] : 1))
                tlb_buf_printf(&g->body, "set logscale x 2\nset xrange [%g:%g]\n",
                               (double)th[0] / 1.3, (double)th[nth - 1] * 1.3);
            else
                tlb_buf_printf(&g->body, "unset logscale x\nset xrange [%g:%g]\n",
                               (double)th[0] - 0.5, (double)th[nth - 1] + 0.5);
            tlb_buf_printf(&g->body, "set yrange [0:%g]\nset xlabel 'threads'\n",
                           ymax[wi] > 0 ? ymax[wi] * 1.15 : 1);
            tlb_buf_printf(&g->body, "set ylabel '%s'\nset key top left\n",
                           panel % cols == 0 ? (prefill ? "prefill tokens/s" : "decode tokens/s") : "");
            tlb_buf_add(&g->body, plot.p ? plot.p : "", plot.len);
            tlb_buf_puts(&g->body, "\n");
            if (plot.failed) g->body.failed = 1;
            tlb_buf_free(&plot);
        }
    }
    tlb_buf_puts(&g->body, "unset multiplot\n");
    snprintf(g->c->how, sizeof g->c->how,
             "Each line is one matmul kernel; each point is the median %s rate over the "
             "repetitions, the error bar one standard deviation. Higher is better. %s "
             "A line that stops rising means more threads no longer help: %s",
             prefill ? "prefill (prompt processing)" : "decode (generation)",
             nb > 1 ? "Panels in one column share their y scale, so boards compare directly."
                    : "",
             prefill ? "prefill is compute-bound, so it should scale with cores until the "
                       "vector units or the memory system saturate."
                     : "decode is memory-bandwidth-bound, so it flattens once the threads "
                       "saturate DRAM bandwidth.");
    if (flagged)
        circled_note(g, flagged);
    return 1;
}

/* ---------------------------------------------------------------- 3: by weight type and kernel */

static int chart_quant_kernel(struct gp *g) {
    const struct tlb_rep_data *d = g->d;
    char what[200], l1[TLB_REP_LABEL];
    snprintf(what, sizeof what, "most threads measured | KV %s | shortest context", lab(l1, d->kv));
    titles(g, "Tokens/s by weight type and kernel", what, 0);
    int nb = 0;
    for (int b = 0; b < d->n_boards; b++) nb += d->boards[b].n_charted > 0;
    layout(g, nb, 2);
    g->width = 1200;
    g->height = 360 * nb + 110;
    double ymax[2] = {0, 0};
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        const struct tlb_rep_board *bd = &d->boards[r->board];
        if (r->depth != bd->min_depth || r->threads != bd->max_threads || strcmp(r->kv, d->kv))
            continue;
        for (int ph = 0; ph < 2; ph++) {
            double v = ph ? r->pp : r->tg, sd = ph ? r->pp_sd : r->tg_sd;
            if (isfinite(v) && v + (isfinite(sd) ? sd : 0) > ymax[ph]) ymax[ph] = v + (isfinite(sd) ? sd : 0);
        }
    }
    tlb_buf_puts(&g->body, "set style data histograms\nset style histogram errorbars gap 1.5 lw 1\n"
                          "set boxwidth 0.92\nset xtics nomirror scale 0\n"
                          "set key inside top left\n");
    for (int b = 0; b < d->n_boards; b++) {
        const struct tlb_rep_board *bd = &d->boards[b];
        if (!bd->n_charted) continue;
        for (int ph = 0; ph < 2; ph++) {
            int idx = block(g);
            const char *ks[TLB_REP_MAX_VALUES];
            int nk = 0;
            for (int ki = 0; ki < d->n_kernels; ki++)
                for (int wi = 0; wi < d->n_wtypes; wi++)
                    if (find(d, b, d->wtypes[wi], d->kernels[ki], bd->max_threads, bd->min_depth)) {
                        ks[nk++] = d->kernels[ki];
                        break;
                    }
            for (int wi = 0; wi < d->n_wtypes; wi++) {
                tlb_buf_puts(&g->data, lab(l1, d->wtypes[wi]));
                for (int ki = 0; ki < nk; ki++) {
                    const struct tlb_rep_row *r =
                        find(d, b, d->wtypes[wi], ks[ki], bd->max_threads, bd->min_depth);
                    double v = r ? (ph ? r->pp : r->tg) : NAN, sd = r ? (ph ? r->pp_sd : r->tg_sd) : NAN;
                    tlb_buf_puts(&g->data, "\t");
                    num(&g->data, v);
                    tlb_buf_puts(&g->data, "\t");
                    num(&g->data, isfinite(sd) ? sd : 0);
                }
                tlb_buf_puts(&g->data, "\n");
            }
            char ptitle[160];
            snprintf(ptitle, sizeof ptitle, "%s%s%s, %lld threads", nb > 1 ? bd->label : "",
                     nb > 1 ? " | " : "", ph ? "prefill" : "decode", (long long)bd->max_threads);
            if (!nk) {
                empty_panel(g, ptitle, "not measured");
                continue;
            }
            tlb_buf_printf(&g->body,
                           "set title '%s' font ',10'\nset ylabel '%s tokens/s'\n"
                           "set yrange [0:%g]\nset xrange [-0.6:%g]\n",
                           ptitle, ph ? "prefill" : "decode",
                           ymax[ph] > 0 ? ymax[ph] * 1.3 : 1, d->n_wtypes - 0.4);
            for (int ki = 0; ki < nk; ki++)
                tlb_buf_printf(&g->body, "%s'%s.tsv' index %d using %d:%d%s ls %d title '%s'",
                               ki ? ", \\\n     " : "plot ", g->c->name, idx, 2 + 2 * ki,
                               3 + 2 * ki, ki ? "" : ":xtic(1)", kernel_style(d, ks[ki]),
                               lab(l1, ks[ki]));
            tlb_buf_puts(&g->body, "\n");
        }
    }
    tlb_buf_puts(&g->body, "unset multiplot\n");
    snprintf(g->c->how, sizeof g->c->how,
             "Bars are the median tokens/s at the largest thread count measured on each board, "
             "grouped by weight type; colours are kernels, error bars one standard deviation. "
             "Left: decode (generation, what a user waits for per token); right: prefill "
             "(prompt processing). Smaller weight types move fewer bytes per token, so decode "
             "should rise from f32 to q4_0 when the kernel keeps up.%s",
             nb > 1 ? " Boards share the y scale of each column." : "");
    return 1;
}

/* ---------------------------------------------------------------- 4: decode vs depth */

static int chart_depth(struct gp *g) {
    const struct tlb_rep_data *d = g->d;
    int nb = 0, multi = 0;
    for (int b = 0; b < d->n_boards; b++) {
        if (!d->boards[b].n_charted) continue;
        nb++;
        int64_t dep[4];
        if (distinct(d, b, 1, dep, 4) > 1) multi = 1;
    }
    if (!multi) return 0;
    char what[200], l1[TLB_REP_LABEL], l2[TLB_REP_LABEL];
    snprintf(what, sizeof what, "fastest kernel per weight type | KV %s", lab(l1, d->kv));
    titles(g, "Decode tokens/s vs context depth", what, 0);
    int cols = nb <= 3 ? nb : 2, rows = (nb + cols - 1) / cols;
    layout(g, rows, cols);
    g->width = nb == 1 ? 1000 : 1200;
    g->height = 400 * rows + 110;
    double ymax = 0, xmax = 0;
    int flagged = 0, legend_at = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (strcmp(r->kv, d->kv)) continue;
        if (isfinite(r->tg) && r->tg + (isfinite(r->tg_sd) ? r->tg_sd : 0) > ymax)
            ymax = r->tg + (isfinite(r->tg_sd) ? r->tg_sd : 0);
        if ((double)r->depth > xmax) xmax = (double)r->depth;
    }
    int panel = 0;
    for (int b = 0; b < d->n_boards; b++) {
        const struct tlb_rep_board *bd = &d->boards[b];
        if (!bd->n_charted) continue;
        int64_t dep[64];
        int nd = distinct(d, b, 1, dep, 64);
        struct tlb_buf plot = {0};
        int series = 0;
        for (int wi = 0; wi < d->n_wtypes; wi++) {
            long best = tlb_rep_best_for_type(d, b, d->wtypes[wi]);
            if (best < 0) continue;
            const struct tlb_rep_row *br = &d->rows[best];
            int idx = block(g);
            for (int di = 0; di < nd; di++) {
                const struct tlb_rep_row *r = find(d, b, br->wtype, br->kernel, br->threads, dep[di]);
                if (!r) continue;
                tlb_buf_printf(&g->data, "%lld\t", (long long)dep[di]);
                num(&g->data, r->tg);
                tlb_buf_puts(&g->data, "\t");
                num(&g->data, isfinite(r->tg_sd) ? r->tg_sd : 0);
                tlb_buf_printf(&g->data, "\t%d\n", tlb_rep_untrusted(r));
                flagged += tlb_rep_untrusted(r);
            }
            tlb_buf_printf(&plot, "%s'%s.tsv' index %d using 1:2:3 with yerrorlines ls %d "
                           "title '%s (%s, %lld thr)'", series++ ? ", \\\n     " : "plot ",
                           g->c->name, idx, wtype_style(d, br->wtype), lab(l1, br->wtype),
                           lab(l2, br->kernel), (long long)br->threads);
            circle_overlay(g, &plot, idx, 4);
        }
        if (flagged > legend_at) {
            circle_legend(&plot);
            legend_at = flagged;
        }
        if (!series) {
            tlb_buf_free(&plot);
            empty_panel(g, bd->label, "not measured");
            panel++;
            continue;
        }
        tlb_buf_printf(&g->body,
                       "set title '%s' font ',10'\nset xlabel 'context depth (tokens already in "
                       "the KV cache)'\nset ylabel '%s'\nset xrange [%g:%g]\nset yrange [0:%g]\n"
                       "set key inside top right\n",
                       nb > 1 ? bd->label : "", panel % cols == 0 ? "decode tokens/s" : "",
                       -xmax * 0.03, xmax * 1.05 + 1, ymax > 0 ? ymax * 1.3 : 1);
        if (nb == 1 && nd <= 12) xtics_list(&g->body, dep, nd);
        else tlb_buf_puts(&g->body, "set xtics autofreq\n");
        tlb_buf_add(&g->body, plot.p ? plot.p : "", plot.len);
        tlb_buf_puts(&g->body, "\n");
        if (plot.failed) g->body.failed = 1;
        tlb_buf_free(&plot);
        panel++;
    }
    tlb_buf_puts(&g->body, "unset multiplot\n");
    snprintf(g->c->how, sizeof g->c->how,
             "Decode speed when the KV cache already holds that many tokens (a long chat or "
             "document). One line per weight type, each with its fastest kernel and thread "
             "count (in the legend); error bars one standard deviation. Attention reads the "
             "whole cache for every new token, so the lines fall with depth; a steep fall "
             "means long contexts will feel slow on that board.");
    if (flagged)
        circled_note(g, flagged);
    return 1;
}

/* ---------------------------------------------------------------- 5: memory */

static int chart_memory(struct gp *g) {
    const struct tlb_rep_data *d = g->d;
    const struct tlb_rep_opts *o = g->o;
    double maxpeak = 0;
    int bs[TLB_REP_MAX_BOARDS], nb = 0;
    for (int b = 0; b < d->n_boards; b++) {
        int any = 0;
        for (int wi = 0; wi < d->n_wtypes; wi++) {
            double p = tlb_rep_peak_max(d, b, d->wtypes[wi], NULL);
            if (isfinite(p)) {
                any = 1;
                if (p > maxpeak) maxpeak = p;
            }
        }
        if (any) bs[nb++] = b;
    }
    if (!nb) return 0;
    char what[200], l1[TLB_REP_LABEL];
    snprintf(what, sizeof what, "largest peak RSS measured per weight type | KV %s", lab(l1, d->kv));
    titles(g, "Peak memory by weight type, with RAM budgets", what, 0);
    layout(g, 1, 1);
    g->width = 1100;
    g->height = 620;
    maxpeak /= GIB;
    double ymax = maxpeak * 1.25;
    for (int i = 0; i < o->n_lines; i++) {
        double bgib = (double)o->lines[i] / GIB;
        if (bgib >= maxpeak && bgib <= maxpeak * 2.5 && bgib * 1.1 > ymax) {
            ymax = bgib * 1.1;
            break;
        }
    }
    int idx = block(g);
    for (int wi = 0; wi < d->n_wtypes; wi++) {
        tlb_buf_puts(&g->data, lab(l1, d->wtypes[wi]));
        for (int i = 0; i < nb; i++) {
            tlb_buf_puts(&g->data, "\t");
            num(&g->data, tlb_rep_peak_max(d, bs[i], d->wtypes[wi], NULL) / GIB);
        }
        tlb_buf_puts(&g->data, "\n");
    }
    tlb_buf_printf(&g->body,
                   "set style data histograms\nset style histogram clustered gap 1\n"
                   "set boxwidth 0.92\nset xtics nomirror scale 0\n"
                   "set key outside top center horizontal\nset ylabel 'peak memory (GiB)'\nset xlabel 'weight type'\n"
                   "set yrange [0:%g]\nset xrange [-0.6:%g]\n",
                   ymax, d->n_wtypes - 0.4);
    int tag = 1;
    for (int i = 0; i < o->n_lines; i++) {
        double bgib = (double)o->lines[i] / GIB;
        if (bgib > ymax) continue;
        char name[32];
        tlb_rep_budget_name(o->lines[i], name, sizeof name);
        tlb_buf_printf(&g->body,
                       "set arrow %d from graph 0, first %g to graph 1, first %g nohead "
                       "lc rgb '#C0392B' lw 1.5 dt 2 front\n"
                       "set label %d '%s budget' at graph 0.995, first %g right offset 0,0.55 "
                       "tc rgb '#C0392B' font ',9' front\n",
                       tag, bgib, bgib, tag, name, bgib);
        tag++;
    }
    for (int i = 0; i < nb; i++)
        tlb_buf_printf(&g->body, "%s'%s.tsv' index %d using %d%s ls %d title '%s'",
                       i ? ", \\\n     " : "plot ", g->c->name, idx, 2 + i, i ? "" : ":xtic(1)",
                       bs[i] % PALETTE_N + 1, d->boards[bs[i]].label);
    /* the value on top of each bar */
    tlb_buf_printf(&g->body,
                   ", \\\n     for [j=0:%d] '%s.tsv' index %d using ($0 + (j - %g)/%g):"
                   "(column(2+j)):(sprintf('%%.2f', column(2+j))) with labels offset 0,0.6 "
                   "font ',8' notitle\nunset multiplot\n",
                   nb - 1, g->c->name, idx, (nb - 1) / 2.0, nb + 1.0);
    snprintf(g->c->how, sizeof g->c->how,
             "Bars are the largest peak resident memory measured for each weight type (the "
             "VmHWM of the benchmark process, or of the process that loaded the weights when "
             "that was larger), i.e. at the longest context swept; dashed lines "
             "are RAM budgets. A configuration fits a board when its bar is under the budget "
             "with room to spare for the operating system and the application (tlbench fit "
             "keeps 10%% headroom by default). Memory grows with the context length through "
             "the KV cache.");
    return 1;
}

/* ---------------------------------------------------------------- 6: accuracy vs memory */

static int chart_accuracy(struct gp *g) {
    const struct tlb_rep_data *d = g->d;
    double minpos = INFINITY, maxk = 0;
    int any = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        double k = d->rows[i].kld;
        any |= isfinite(k);
        if (isfinite(k) && k > 0 && k < minpos) minpos = k;
        if (isfinite(k) && k > maxk) maxk = k;
    }
    if (!any) return 0;
    /* Log scale: KLD 0 (the reference itself) is drawn one decade under the smallest
     * positive value, on a tic labelled 0. */
    int e_lo = isfinite(minpos) ? (int)floor(log10(minpos)) - 1 : -8;
    int e_hi = maxk > 0 ? (int)ceil(log10(maxk * 2)) : e_lo + 2;
    if (e_lo < -300) e_lo = -300;
    if (e_hi <= e_lo + 1) e_hi = e_lo + 2;
    double zero_at = pow(10, e_lo);
    char what[200], l1[TLB_REP_LABEL];
    snprintf(what, sizeof what, "KL divergence vs the f32 reference | KV %s | shortest context",
             lab(l1, d->kv));
    titles(g, "Accuracy vs memory: the quantization trade-off", what, 0);
    layout(g, 1, 1);
    g->width = 1100;
    g->height = 640;
    double xmax = 0;
    struct tlb_buf plot = {0};
    int series = 0, labelled[TLB_REP_MAX_VALUES] = {0};
    for (int b = 0; b < d->n_boards; b++) {
        const struct tlb_rep_board *bd = &d->boards[b];
        /* one point per weight type: x = least memory, y = median KLD over kernels */
        struct pt {
            double x, y, lo, hi;
            int w;
        } pts[TLB_REP_MAX_VALUES];
        int np = 0;
        for (int wi = 0; wi < d->n_wtypes; wi++) {
            double mem = INFINITY, k[64];
            int nk = 0;
            const char *seen[64];
            for (size_t i = 0; i < d->n_rows; i++) {
                const struct tlb_rep_row *r = &d->rows[i];
                if (r->board != b || r->depth != bd->min_depth || strcmp(r->wtype, d->wtypes[wi]) ||
                    strcmp(r->kv, d->kv))
                    continue;
                if (isfinite(r->peak) && r->peak < mem) mem = r->peak;
                if (!isfinite(r->kld) || nk == 64) continue;
                int dup = 0;
                for (int j = 0; j < nk; j++) dup |= !strcmp(seen[j], r->kernel);
                if (!dup) {
                    seen[nk] = r->kernel;
                    k[nk++] = r->kld;
                }
            }
            if (!nk || !isfinite(mem)) continue;
            qsort(k, (size_t)nk, sizeof *k, tlb_cmp_double);
            double med = nk % 2 ? k[nk / 2] : (k[nk / 2 - 1] + k[nk / 2]) / 2;
            pts[np++] = (struct pt){mem / GIB, med > 0 ? med : zero_at, k[0] > 0 ? k[0] : zero_at,
                                    k[nk - 1] > 0 ? k[nk - 1] : zero_at, wi};
        }
        if (!np) continue;
        /* by memory, so the line reads as a trade-off curve */
        for (int i = 1; i < np; i++)
            for (int j = i; j > 0 && pts[j].x < pts[j - 1].x; j--) {
                struct pt t = pts[j];
                pts[j] = pts[j - 1];
                pts[j - 1] = t;
            }
        /* block 1: quantized types (a line); block 2: the reference (a point of its own) */
        int idx[2], cnt[2] = {0, 0};
        for (int ref = 0; ref < 2; ref++) {
            idx[ref] = block(g);
            for (int i = 0; i < np; i++) {
                if ((pts[i].y <= zero_at) != ref) continue;
                cnt[ref]++;
                num(&g->data, pts[i].x);
                tlb_buf_puts(&g->data, "\t");
                num(&g->data, pts[i].y);
                tlb_buf_puts(&g->data, "\t");
                num(&g->data, pts[i].lo);
                tlb_buf_puts(&g->data, "\t");
                num(&g->data, pts[i].hi);
                /* each weight type is labelled once (boards often overlap) */
                tlb_buf_printf(&g->data, "\t%s%s\n", labelled[pts[i].w] ? "" : lab(l1, d->wtypes[pts[i].w]),
                               labelled[pts[i].w] || !ref ? "" : " (reference)");
                labelled[pts[i].w] = 1;
                if (pts[i].x > xmax) xmax = pts[i].x;
            }
        }
        int ls = b % PALETTE_N + 1;
        for (int ref = 0; ref < 2; ref++) {
            if (!cnt[ref]) continue;
            if (ref)
                tlb_buf_printf(&plot, "%s'%s.tsv' index %d using 1:2 with points ls %d pt 4 ps 1.6 "
                               "%s%s%s", series++ ? ", \\\n     " : "plot ", g->c->name, idx[1],
                               ls, cnt[0] ? "notitle" : "title '", cnt[0] ? "" : bd->label,
                               cnt[0] ? "" : "'");
            else
                tlb_buf_printf(&plot, "%s'%s.tsv' index %d using 1:2:3:4 with yerrorlines ls %d "
                               "title '%s'", series++ ? ", \\\n     " : "plot ", g->c->name,
                               idx[0], ls, bd->label);
            tlb_buf_printf(&plot, ", \\\n     '%s.tsv' index %d using 1:2:5 with labels offset "
                           "char 1.2,0.7 left font ',9' tc ls %d notitle",
                           g->c->name, idx[ref], ls);
        }
    }
    if (!series) {
        tlb_buf_free(&plot);
        return 0;
    }
    tlb_buf_printf(&g->body, "set logscale y 10\nset ytics ('0 (= f32)' %g", zero_at);
    for (int e = e_lo + 1; e <= e_hi; e++) tlb_buf_printf(&g->body, ", '1e%d' 1e%d", e, e);
    tlb_buf_printf(&g->body,
                   ")\nset yrange [%g:%g]\nset xrange [0:%g]\n"
                   "set xlabel 'peak memory at the shortest context (GiB)'\n"
                   "set ylabel 'mean KL divergence vs f32 (nats, log scale)'\n"
                   "set grid xtics ytics lc rgb '#e3e3e3'\nset key inside top right\n"
                   "set label 90 'better: less memory, closer to f32 (lower left)' at graph 0.02, "
                   "graph 0.04 left tc rgb '#777777' font ',9'\n",
                   zero_at / 2.5, pow(10, e_hi), xmax * 1.2 + 0.05);
    tlb_buf_add(&g->body, plot.p ? plot.p : "", plot.len);
    tlb_buf_puts(&g->body, "\nunset multiplot\n");
    if (plot.failed) g->body.failed = 1;
    tlb_buf_free(&plot);
    snprintf(g->c->how, sizeof g->c->how,
             "Each point is a weight type: x is its peak memory, y the mean KL divergence of "
             "its next-token distribution from the f32 reference on the same tokens (log "
             "scale; lower is more faithful). The vertical bar spans the kernels measured, "
             "since kernels that quantize activations add a little error. f32 is the reference "
             "itself (KL divergence 0): the open square on the tic labelled 0. Points toward the "
             "lower left are better; the line shows what each step down in memory costs in "
             "accuracy.");
    return 1;
}

/* ---------------------------------------------------------------- 7: energy */

static int chart_energy(struct gp *g) {
    const struct tlb_rep_data *d = g->d;
    int bs[TLB_REP_MAX_BOARDS], nb = 0;
    for (int b = 0; b < d->n_boards; b++)
        if (d->boards[b].has_power) bs[nb++] = b;
    if (!nb) return 0;
    char what[200], l1[TLB_REP_LABEL], l2[TLB_REP_LABEL];
    int k = snprintf(what, sizeof what, "decode phase | KV %s | power:", lab(l1, d->kv));
    for (int i = 0; i < nb && k > 0 && (size_t)k < sizeof what; i++)
        k += snprintf(what + k, sizeof what - (size_t)k, "%s %s (%s)", i ? "," : "",
                      lab(l1, d->boards[bs[i]].power_source), lab(l2, d->boards[bs[i]].power_scope));
    titles(g, "Energy: joules per token and tokens per joule", what, 1);
    layout(g, 1, 2);
    g->width = 1200;
    g->height = 560;
    /* left: least J/token per weight type */
    int idx = block(g);
    double ymax = 0;
    for (int wi = 0; wi < d->n_wtypes; wi++) {
        tlb_buf_puts(&g->data, lab(l1, d->wtypes[wi]));
        for (int i = 0; i < nb; i++) {
            double best = NAN;
            for (size_t r = 0; r < d->n_rows; r++) {
                const struct tlb_rep_row *row = &d->rows[r];
                if (row->board != bs[i] || row->depth != d->boards[bs[i]].min_depth ||
                    strcmp(row->wtype, d->wtypes[wi]) || strcmp(row->kv, d->kv) || !isfinite(row->jpt))
                    continue;
                if (isnan(best) || row->jpt < best) best = row->jpt;
            }
            if (isfinite(best) && best > ymax) ymax = best;
            tlb_buf_puts(&g->data, "\t");
            num(&g->data, best);
        }
        tlb_buf_puts(&g->data, "\n");
    }
    tlb_buf_printf(&g->body,
                   "set style data histograms\nset style histogram clustered gap 1\n"
                   "set boxwidth 0.92\nset xtics nomirror scale 0\n"
                   "set key inside top right\nset title 'Energy per generated token (most efficient configuration)' "
                   "font ',10'\nset ylabel 'J/token (lower is better)'\nset xlabel 'weight type'\n"
                   "set yrange [0:%g]\nset xrange [-0.6:%g]\n",
                   ymax > 0 ? ymax * 1.3 : 1, d->n_wtypes - 0.4);
    for (int i = 0; i < nb; i++)
        tlb_buf_printf(&g->body, "%s'%s.tsv' index %d using %d%s ls %d title '%s'",
                       i ? ", \\\n     " : "plot ", g->c->name, idx, 2 + i, i ? "" : ":xtic(1)",
                       bs[i] % PALETTE_N + 1, d->boards[bs[i]].label);
    tlb_buf_printf(&g->body,
                   ", \\\n     for [j=0:%d] '%s.tsv' index %d using ($0 + (j - %g)/%g):"
                   "(column(2+j)):(sprintf('%%.2f', column(2+j))) with labels offset 0,0.6 "
                   "font ',8' notitle\n",
                   nb - 1, g->c->name, idx, (nb - 1) / 2.0, nb + 1.0);
    /* right: every configuration, tokens/J vs tokens/s */
    tlb_buf_puts(&g->body, "set style data points\nset xtics autofreq\nset xrange [0:*]\nset yrange [0:*]\n"
                          "set title 'Every configuration: efficiency vs speed' font ',10'\n"
                          "set xlabel 'decode tokens/s'\nset ylabel 'tokens per joule (higher is better)'\n"
                          "set grid xtics ytics\nset key inside top left\n");
    for (int i = 0; i < nb; i++) {
        int id = block(g);
        for (size_t r = 0; r < d->n_rows; r++) {
            const struct tlb_rep_row *row = &d->rows[r];
            if (row->board != bs[i] || row->depth != d->boards[bs[i]].min_depth ||
                strcmp(row->kv, d->kv) || !isfinite(row->tpj) || !isfinite(row->tg))
                continue;
            num(&g->data, row->tg);
            tlb_buf_puts(&g->data, "\t");
            num(&g->data, row->tpj);
            tlb_buf_puts(&g->data, "\n");
        }
        tlb_buf_printf(&g->body, "%s'%s.tsv' index %d using 1:2 with points ls %d title '%s'",
                       i ? ", \\\n     " : "plot ", g->c->name, id, bs[i] % PALETTE_N + 1,
                       d->boards[bs[i]].label);
    }
    tlb_buf_puts(&g->body, "\nunset multiplot\n");
    snprintf(g->c->how, sizeof g->c->how,
             "Left: the energy one generated token costs, for the most efficient kernel and "
             "thread count of each weight type (lower is better; battery life and heat follow "
             "it). Right: every measured configuration, decode speed against tokens per joule; "
             "the upper right is both fast and frugal, and points there are the ones to pick. "
             "Energy is gross (idle power included) over the decode phase.");
    return 1;
}

/* ---------------------------------------------------------------- 8: kernel roofline */

static int chart_roofline(struct gp *g) {
    const struct tlb_rep_data *d = g->d;
    if (!d->n_kfiles) {
        g->skip = "Kernel roofline: no kernels CSV was given (run `tlbench kernels --format csv "
                  "-o kernels.csv` and pass it with --kernels-csv).";
        return 0;
    }
    /* the machine(s) of the kernels CSVs, not the boards of the results */
    char l1[TLB_REP_LABEL], cpus[200] = "", dates[64] = "", vers[64] = "";
    for (int f = 0; f < d->n_kfiles; f++) {
        const struct tlb_rep_kfile *kf = &d->kfiles[f];
        size_t l = strlen(cpus);
        snprintf(cpus + l, sizeof cpus - l, "%s%s", f ? " vs " : "CPU ", kf->cpu);
        if (*kf->date && !strstr(dates, kf->date)) {
            l = strlen(dates);
            snprintf(dates + l, sizeof dates - l, "%s%s", l ? ", " : "", kf->date);
        }
        if (*kf->version && !strstr(vers, kf->version)) {
            l = strlen(vers);
            snprintf(vers + l, sizeof vers - l, "%s%s", l ? ", " : "", kf->version);
        }
    }
    titles_for(g, "Matmul kernels against the measured limits of the machine",
               "tlbench kernels on the model's matrix shapes", cpus, *dates ? dates : "date unknown",
               *vers ? vers : "?");
    layout(g, d->n_kfiles, 2);
    g->width = 1200;
    g->height = 520 * d->n_kfiles + 110;
    int drawn = 0;
    for (int f = 0; f < d->n_kfiles; f++) {
        const struct tlb_rep_kfile *kf = &d->kfiles[f];
        int64_t thr = 0;
        double bw = NAN, peak = NAN;
        for (size_t r = 0; r < kf->n_rows; r++)
            if (!strcmp(kf->rows[r].status, "ok") && kf->rows[r].threads > thr) thr = kf->rows[r].threads;
        const char *ks[TLB_REP_MAX_VALUES];
        int nk = 0;
        double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymaxv = 0;
        for (size_t r = 0; r < kf->n_rows; r++) {
            const struct tlb_rep_krow *kr = &kf->rows[r];
            if (strcmp(kr->status, "ok") || kr->threads != thr || !(kr->gflops > 0) || !(kr->gbps > 0))
                continue;
            if (isnan(bw) && kr->bw_probe > 0) bw = kr->bw_probe;
            if (isnan(peak) && kr->peak_probe > 0) peak = kr->peak_probe;
            double ai = kr->gflops / kr->gbps;
            xmin = fmin(xmin, ai), xmax = fmax(xmax, ai);
            ymin = fmin(ymin, kr->gflops), ymaxv = fmax(ymaxv, kr->gflops);
            int seen = 0;
            for (int i = 0; i < nk; i++) seen |= !strcmp(ks[i], kr->kernel);
            if (!seen && nk < TLB_REP_MAX_VALUES) ks[nk++] = kr->kernel;
        }
        char ptitle[160];
        snprintf(ptitle, sizeof ptitle, "%s%sroofline, %lld threads", d->n_kfiles > 1 ? kf->cpu : "",
                 d->n_kfiles > 1 ? " | " : "", (long long)thr);
        if (!nk) {
            empty_panel(g, ptitle, "no measured rows");
            empty_panel(g, "decode bandwidth", "no measured rows");
            continue;
        }
        drawn = 1;
        if (isfinite(peak)) ymaxv = fmax(ymaxv, peak);
        tlb_buf_printf(&g->body,
                       "set style data points\nset title '%s (open: decode m = 1, filled: prefill m > 1)' "
                       "font ',10'\nset logscale xy 10\nset format x '%%g'\nset format y '%%g'\n"
                       "set xrange [%g:%g]\nset yrange [%g:%g]\nset xtics autofreq\n"
                       "set xlabel 'arithmetic intensity (FLOP per byte of weights)'\n"
                       "set ylabel 'GFLOP/s'\nset grid xtics ytics\nset key bottom right\n",
                       ptitle, xmin / 2, xmax * 2, ymin / 3, ymaxv * 2.5);
        struct tlb_buf plot = {0};
        int series = 0;
        for (int ki = 0; ki < nk; ki++) {
            for (int pre = 0; pre < 2; pre++) {
                int idx = block(g);
                for (size_t r = 0; r < kf->n_rows; r++) {
                    const struct tlb_rep_krow *kr = &kf->rows[r];
                    if (strcmp(kr->status, "ok") || kr->threads != thr || strcmp(kr->kernel, ks[ki]) ||
                        (kr->m > 1) != pre || !(kr->gflops > 0) || !(kr->gbps > 0))
                        continue;
                    double lo = kr->gflops, hi = kr->gflops;
                    if (kr->t_max > 0 && kr->t_med > 0) lo = kr->gflops * kr->t_med / kr->t_max;
                    if (kr->t_min > 0 && kr->t_med > 0) hi = kr->gflops * kr->t_med / kr->t_min;
                    num(&g->data, kr->gflops / kr->gbps);
                    tlb_buf_puts(&g->data, "\t");
                    num(&g->data, kr->gflops);
                    tlb_buf_puts(&g->data, "\t");
                    num(&g->data, lo);
                    tlb_buf_puts(&g->data, "\t");
                    num(&g->data, hi);
                    tlb_buf_puts(&g->data, "\n");
                }
                int ls = kfile_style(d, ks[ki], ki);
                tlb_buf_printf(&plot, "%s'%s.tsv' index %d using 1:2:3:4 with yerrorbars ls %d "
                               "pt %d ps 1.3 %s", series++ ? ", \\\n     " : "plot ", g->c->name,
                               idx, ls, pre ? 7 : 6, pre ? "title '" : "notitle");
                if (pre) tlb_buf_printf(&plot, "%s'", lab(l1, ks[ki]));
            }
        }
        if (isfinite(bw) && isfinite(peak))
            tlb_buf_printf(&plot, ", \\\n     (x * %g < %g ? x * %g : %g) with lines lc rgb "
                           "'#333333' dt 2 lw 1.5 title 'measured limits: %.1f GB/s, %.0f GFLOP/s f32'",
                           bw, peak, bw, peak, bw, peak);
        tlb_buf_add(&g->body, plot.p ? plot.p : "", plot.len);
        tlb_buf_puts(&g->body, "\n");
        if (plot.failed) g->body.failed = 1;
        tlb_buf_free(&plot);

        /* right: decode GB/s by weight type and kernel, against the bandwidth probe; the
         * weight types of this file, in the usual order */
        static const char *const order[] = {"f32", "f16", "bf16", "q8_0", "q4_0"};
        const char *ws[TLB_REP_MAX_VALUES];
        int nw = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t r = 0; r < kf->n_rows; r++) {
                const char *w = kf->rows[r].wtype;
                int known = 0, seen = 0;
                for (size_t i = 0; i < TLB_ARRAY_LEN(order); i++) known |= !strcmp(w, order[i]);
                for (int i = 0; i < nw; i++) seen |= !strcmp(ws[i], w);
                if (seen || nw == TLB_REP_MAX_VALUES || strcmp(kf->rows[r].status, "ok") ||
                    kf->rows[r].m != 1 || (pass == 0) != known)
                    continue;
                ws[nw++] = w;
            }
        for (int i = 1; i < nw; i++) /* known types by their rank (unknown ones stay last) */
            for (int j = i; j > 0; j--) {
                int ra = (int)TLB_ARRAY_LEN(order), rb = ra;
                for (int k = 0; k < (int)TLB_ARRAY_LEN(order); k++) {
                    if (!strcmp(ws[j], order[k])) ra = k;
                    if (!strcmp(ws[j - 1], order[k])) rb = k;
                }
                if (ra >= rb) break;
                const char *t = ws[j];
                ws[j] = ws[j - 1];
                ws[j - 1] = t;
            }
        if (!nw) {
            empty_panel(g, "decode bandwidth", "no decode (m = 1) rows");
            continue;
        }
        int idx = block(g);
        double barmax = 0;
        for (int wi = 0; wi < nw; wi++) {
            tlb_buf_puts(&g->data, lab(l1, ws[wi]));
            for (int ki = 0; ki < nk; ki++) {
                double sum = 0;
                int n = 0;
                for (size_t r = 0; r < kf->n_rows; r++) {
                    const struct tlb_rep_krow *kr = &kf->rows[r];
                    if (!strcmp(kr->status, "ok") && kr->threads == thr && kr->m == 1 &&
                        !strcmp(kr->kernel, ks[ki]) && !strcmp(kr->wtype, ws[wi]) && kr->gbps > 0)
                        sum += kr->gbps, n++;
                }
                if (n && sum / n > barmax) barmax = sum / n;
                tlb_buf_puts(&g->data, "\t");
                num(&g->data, n ? sum / n : NAN);
            }
            tlb_buf_puts(&g->data, "\n");
        }
        tlb_buf_printf(&g->body,
                       "unset logscale xy\nset format y '%%g'\nset style data histograms\n"
                       "set style histogram clustered gap 1\nset boxwidth 0.92\n"
                       "set xtics nomirror scale 0\nset grid noxtics ytics\n"
                       "set title 'decode (m = 1): weight bytes streamed per second' font ',10'\n"
                       "set xlabel 'weight type'\nset ylabel 'GB/s'\nset xrange [-0.6:%g]\n"
                       "set yrange [0:%g]\nset key inside top left\n",
                       nw - 0.4,
                       fmax(isfinite(bw) ? bw * 1.45 : 0, barmax * 1.3) > 0
                           ? fmax(isfinite(bw) ? bw * 1.45 : 0, barmax * 1.3) : 1);
        if (isfinite(bw))
            tlb_buf_printf(&g->body,
                           "set arrow 1 from graph 0, first %g to graph 1, first %g nohead lc rgb "
                           "'#333333' dt 2 lw 1.5 front\nset label 1 'measured read bandwidth "
                           "%.1f GB/s' at graph 0.99, first %g right offset 0,0.6 font ',9' front\n",
                           bw, bw, bw, bw);
        for (int ki = 0; ki < nk; ki++) {
            int ls = kfile_style(d, ks[ki], ki);
            tlb_buf_printf(&g->body, "%s'%s.tsv' index %d using %d%s ls %d title '%s'",
                           ki ? ", \\\n     " : "plot ", g->c->name, idx, 2 + ki,
                           ki ? "" : ":xtic(1)", ls, lab(l1, ks[ki]));
        }
        tlb_buf_puts(&g->body, "\nunset arrow 1\nunset label 1\n");
    }
    tlb_buf_puts(&g->body, "unset multiplot\n");
    if (!drawn) {
        g->skip = "Kernel roofline: the kernels CSV has no measured row.";
        return 0;
    }
    snprintf(g->c->how, sizeof g->c->how,
             "From `tlbench kernels`, the matmul micro-benchmark on the model's own shapes. "
             "Left, a roofline (log-log): a kernel's GFLOP/s against its arithmetic intensity; "
             "the dashed line is the limit this machine measured in the same run (memory read "
             "bandwidth on the slope, f32 FMA peak on the flat part). Decode (m = 1, open "
             "markers) sits on the bandwidth slope, prefill (filled) near the compute roof; "
             "integer kernels may pass the f32 roof. Right: decode bandwidth per weight type; "
             "the closer a bar to the dashed line, the less there is left to gain.");
    return 1;
}

/* ---------------------------------------------------------------- files */

static int write_file(const char *dir, const char *name, const char *ext,
                      const struct tlb_buf *b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    return tlb_rep_buf_save(b, path);
}

static int finish(struct gp *g, const char *dir) {
    struct tlb_buf s = {0};
    tlb_buf_printf(&s,
                   "# %s.gp - written by tlbench report. Data: %s.tsv (tab-separated; labels "
                   "from the CSVs are sanitized).\n# Re-draw: cd to this directory and run "
                   "'gnuplot %s.gp'.\n",
                   g->c->name, g->c->name, g->c->name);
    static const char *const term[2][2] = {
        {"pngcairo", "png"},
        {"svg", "svg"},
    };
    for (int i = 0; i < 2; i++) {
        tlb_buf_printf(&s,
                       "set terminal %s size %d,%d font 'DejaVu Sans,%d' noenhanced background "
                       "rgb 'white'\nset output '%s.%s'\n",
                       term[i][0], g->width, g->height, g->font > 0 ? g->font : 10, g->c->name,
                       term[i][1]);
        tlb_buf_add(&s, g->body.p ? g->body.p : "", g->body.len);
        tlb_buf_puts(&s, "unset output\n");
    }
    if (g->body.failed || g->data.failed) s.failed = 1;
    tlb_buf_puts(&g->data, "\n");
    int rc = write_file(dir, g->c->name, "tsv", &g->data) || write_file(dir, g->c->name, "gp", &s);
    tlb_buf_free(&s);
    return rc ? -1 : 0;
}

static void note_skip(char *skipped, size_t n, const char *msg) {
    size_t l = strlen(skipped);
    snprintf(skipped + l, n - l, "%s%s", l ? "\n" : "", msg);
}

static int chart_decode_threads(struct gp *g) { return chart_threads(g, 0); }
static int chart_prefill_threads(struct gp *g) { return chart_threads(g, 1); }

static const struct {
    const char *file;
    int (*draw)(struct gp *g);
    int needs_rows;
    const char *skip_note;
} charts_list[] = {
#define TLB_CHART(fn, file, needs_rows, note) {file, chart_##fn, needs_rows, note},
#include "chart-list.h"
#undef TLB_CHART
};

int tlb_rep_charts_write(const struct tlb_rep_data *d, const struct tlb_rep_opts *o,
                         const char *charts_dir, struct tlb_rep_chart *charts, char *skipped,
                         size_t skipped_len) {
    skipped[0] = '\0';
    int n = 0;
    if (d->n_rows == 0) {
        note_skip(skipped, skipped_len, "No configuration was measured (no row with status ok "
                                        "for the selected model), so there is nothing to chart.");
    }
    for (size_t c = 0; c < TLB_ARRAY_LEN(charts_list) && n < TLB_REP_MAX_CHARTS; c++) {
        if (charts_list[c].needs_rows && d->n_rows == 0) continue;
        struct tlb_rep_chart *ch = &charts[n];
        memset(ch, 0, sizeof *ch);
        snprintf(ch->name, sizeof ch->name, "%s", charts_list[c].file);
        struct gp g = {.d = d, .o = o, .c = ch, .width = 1100, .height = 620};
        int made = charts_list[c].draw(&g);
        const char *why = g.skip ? g.skip : charts_list[c].skip_note;
        if (!made && why) note_skip(skipped, skipped_len, why);
        if (made && finish(&g, charts_dir) != 0) {
            tlb_buf_free(&g.body);
            tlb_buf_free(&g.data);
            return -1;
        }
        tlb_buf_free(&g.body);
        tlb_buf_free(&g.data);
        if (made) n++;
    }
    return n;
}
