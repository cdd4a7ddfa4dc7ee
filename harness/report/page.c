/* report-page.c — what the summary page of `tlbench report` says: the key findings, the
 * machines, the ranking of boards under each RAM budget, a table per weight type, the
 * charts with a "how to read this" each, the rows that did not run, and the method. The
 * text goes into a tlb_doc (report-doc.c), which escapes it for Markdown and HTML. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "report.h"
#include "stats.h"
#include "util.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* "q4_0, avx512, 2 threads, KV f32" */
static void config_text(const struct tlb_rep_data *d, const struct tlb_rep_row *r, char *buf,
                        size_t n) {
    snprintf(buf, n, "%s, %s, %lld thread%s%s%s%s", r->wtype, r->kernel, (long long)r->threads,
             r->threads == 1 ? "" : "s", d->n_kv > 1 ? ", KV " : "", d->n_kv > 1 ? r->kv : "",
             tlb_rep_flags(r, 1));
}

/* "12.4 ± 0.2": the spread with as many decimals as the value. */
static const char *pm(double v, double sd, char *buf, size_t n) {
    char a[32];
    tlb_rep_num(v, a, sizeof a);
    if (!isfinite(v) || !isfinite(sd) || sd <= 0) {
        snprintf(buf, n, "%s", a);
        return buf;
    }
    const char *dot = strchr(a, '.');
    if (strchr(a, 'e')) snprintf(buf, n, "%s ± %.1e", a, sd);
    else snprintf(buf, n, "%s ± %.*f", a, dot ? (int)strlen(dot + 1) : 0, sd);
    return buf;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The user's label, else the detected name, else "kind / cpu" (the key after its prefix). */
static const char *board_name(const struct tlb_rep_board *b) {
    if (*b->user_label) return b->user_label;
    return *b->name && strcmp(b->name, "unknown") != 0 ? b->name : strchr(b->key, ':') + 1;
}

/* ---------------------------------------------------------------- sections */

static int findings(struct tlb_doc *doc, const struct tlb_rep_data *d, const struct tlb_rep_opts *o) {
    char bud[32], cfg[160], t[512], a[32], b2[32], c[32];
    tlb_rep_budget_name(o->budgets[0], bud, sizeof bud);
    int best_board = -1, eff_board = -1, usd_board = -1, second_board = -1;
    double best_tg = 0, best_tpj = 0, best_usd = 0, second_tg = 0, best_sd = NAN, second_sd = NAN;
    int rc = 0;
    for (int bi = 0; bi < d->n_boards; bi++) {
        const struct tlb_rep_board *bd = &d->boards[bi];
        if (!bd->n_charted) {
            snprintf(t, sizeof t, "no configuration of this model and workload was measured "
                     "(%zu rows; see Rows without measurements).", bd->n_rows);
            rc |= tlb_doc_item(doc, board_name(bd), t);
            continue;
        }
        struct tlb_rep_best best;
        tlb_rep_best_under(d, bi, o->budgets[0], &best);
        if (best.row < 0) {
            snprintf(t, sizeof t, "no measured configuration fits in %s%s%s.", bud,
                     best.smallest >= 0 ? "; the smallest needs " : "",
                     best.smallest >= 0 ? tlb_rep_bytes(d->rows[best.smallest].peak, a, sizeof a) : "");
            rc |= tlb_doc_item(doc, board_name(bd), t);
            continue;
        }
        const struct tlb_rep_row *r = &d->rows[best.row];
        config_text(d, r, cfg, sizeof cfg);
        char kld[32] = "", tpj[32] = "";
        snprintf(t, sizeof t, "best under %s is %s: %s decode tokens/s, %s prefill tokens/s, "
                 "%s peak memory (fits up to a %lld-token context as measured)", bud, cfg,
                 tlb_rep_num(r->tg, a, sizeof a), tlb_rep_num(r->pp, b2, sizeof b2),
                 tlb_rep_bytes(r->peak, c, sizeof c), (long long)best.fit_ctx);
        size_t l = strlen(t);
        if (isfinite(r->kld))
            l += (size_t)snprintf(t + l, sizeof t - l, ", mean KL divergence %s",
                                  tlb_rep_num(r->kld, kld, sizeof kld));
        if (isfinite(r->tpj) && l < sizeof t)
            l += (size_t)snprintf(t + l, sizeof t - l, ", %s tokens/J",
                                  tlb_rep_num(r->tpj, tpj, sizeof tpj));
        if (l + 1 < sizeof t) strcat(t, ".");
        rc |= tlb_doc_item(doc, board_name(bd), t);
        if (r->tg > best_tg) {
            second_tg = best_tg, second_sd = best_sd, second_board = best_board;
            best_tg = r->tg, best_sd = r->tg_sd, best_board = bi;
        } else if (r->tg > second_tg) {
            second_tg = r->tg, second_sd = r->tg_sd, second_board = bi;
        }
        if (isfinite(r->tpj) && r->tpj > best_tpj) best_tpj = r->tpj, eff_board = bi;
        if (isfinite(bd->price_usd) && bd->price_usd > 0 && r->tg / bd->price_usd > best_usd)
            best_usd = r->tg / bd->price_usd, usd_board = bi;
    }
    int n_b = 0;
    for (int bi = 0; bi < d->n_boards; bi++) n_b += d->boards[bi].n_charted > 0;
    if (n_b > 1 && best_board >= 0) {
        if (second_tg > 0 && tlb_rep_within_noise(best_tg, best_sd, second_tg, second_sd))
            snprintf(t, sizeof t, "%s and %s decode at the same speed under %s within the noise "
                     "(%s and %s tokens/s): no ranking between them.",
                     board_name(&d->boards[best_board]), board_name(&d->boards[second_board]),
                     bud, pm(best_tg, best_sd, a, sizeof a), pm(second_tg, second_sd, b2, sizeof b2));
        else if (second_tg > 0)
            snprintf(t, sizeof t, "%s decodes fastest under %s, %.2fx the next board (%s).",
                     board_name(&d->boards[best_board]), bud, best_tg / second_tg,
                     board_name(&d->boards[second_board]));
        else
            snprintf(t, sizeof t, "%s is the only board with a configuration under %s.",
                     board_name(&d->boards[best_board]), bud);
        rc |= tlb_doc_item(doc, "Speed:", t);
        if (eff_board >= 0) {
            snprintf(t, sizeof t, "%s gives the most tokens per joule under %s (%s tokens/J).",
                     board_name(&d->boards[eff_board]), bud, tlb_rep_num(best_tpj, a, sizeof a));
            rc |= tlb_doc_item(doc, "Energy:", t);
        }
        if (usd_board >= 0) {
            snprintf(t, sizeof t, "%s gives the most decode tokens/s per USD under %s (%s).",
                     board_name(&d->boards[usd_board]), bud, tlb_rep_num(best_usd, a, sizeof a));
            rc |= tlb_doc_item(doc, "Cost:", t);
        }
    }
    return rc;
}

static int machines(struct tlb_doc *doc, const struct tlb_rep_data *d) {
    const char *hdr[TLB_REP_MAX_BOARDS + 1];
    char align[TLB_REP_MAX_BOARDS + 2];
    hdr[0] = "";
    align[0] = 'l';
    for (int b = 0; b < d->n_boards; b++) {
        hdr[b + 1] = board_name(&d->boards[b]);
        align[b + 1] = 'l';
    }
    align[d->n_boards + 1] = '\0';
    int rc = tlb_doc_table(doc, d->n_boards + 1, hdr, align);
    static const char *const fields[] = {"Board",   "Profile", "CPU",    "CPUs",
                                         "Operating system",   "Compiler", "CFLAGS",
                                         "tlbench", "Tested",  "Rows",   "Power source",
                                         "Price",   "Files"};
    char cells[TLB_REP_MAX_BOARDS + 1][600];
    const char *row[TLB_REP_MAX_BOARDS + 1];
    for (size_t f = 0; f < TLB_ARRAY_LEN(fields); f++) {
        snprintf(cells[0], sizeof cells[0], "%s", fields[f]);
        for (int b = 0; b < d->n_boards; b++) {
            const struct tlb_rep_board *bd = &d->boards[b];
            char *c = cells[b + 1];
            size_t n = sizeof cells[b + 1];
            switch (f) {
            case 0: snprintf(c, n, "%s", *bd->name ? bd->name : "unknown"); break;
            case 1: snprintf(c, n, "%s", bd->kind); break;
            case 2: snprintf(c, n, "%s", bd->cpu); break;
            case 3: snprintf(c, n, "%lld", (long long)bd->n_cpus); break;
            case 4: snprintf(c, n, "%s", bd->os); break;
            case 5: snprintf(c, n, "%s", bd->compiler); break;
            case 6: snprintf(c, n, "%s", bd->cflags); break;
            case 7: snprintf(c, n, "%s", bd->versions); break;
            case 8:
                if (strcmp(bd->date_lo, bd->date_hi)) snprintf(c, n, "%s to %s", bd->date_lo, bd->date_hi);
                else snprintf(c, n, "%s", *bd->date_lo ? bd->date_lo : "-");
                break;
            case 9:
                snprintf(c, n, "%zu charted of %zu (%zu ok)", bd->n_charted, bd->n_rows,
                         bd->status_counts[TLB_STATUS_OK]);
                break;
            case 10:
                if (bd->has_power) snprintf(c, n, "%s (scope %s)", bd->power_source, bd->power_scope);
                else snprintf(c, n, "none (energy not measured)");
                break;
            case 11:
                if (isfinite(bd->price_usd)) snprintf(c, n, "%.0f USD (%s)", bd->price_usd, bd->price_src);
                else snprintf(c, n, "- (give --price)");
                break;
            case 12: snprintf(c, n, "%s", bd->files); break;
            }
        }
        for (int i = 0; i <= d->n_boards; i++) row[i] = cells[i];
        rc |= tlb_doc_row(doc, row);
    }
    return rc;
}

/* The fleet run (fleet/fleet.yml): every board's status, including those without results. */
static int fleet_run(struct tlb_doc *doc, const struct tlb_rep_data *d) {
    static const char *const hdr[] = {"board", "host", "status", "detail"};
    const char *run = NULL, *commit = NULL;
    for (int k = 0; k < d->n_kvs && !run; k++) {
        run = tlb_rep_kv_get(&d->kvs[k], "fleet_run");
        commit = tlb_rep_kv_get(&d->kvs[k], "fleet_commit");
    }
    char t[400];
    snprintf(t, sizeof t, "How each board of the fleet run %.60s (tlbench commit %.40s, "
             "fleet/fleet.yml) ended. A board that could not be reached or whose sweep failed "
             "has no rows, or only some, in the rest of this report.", run ? run : "-",
             commit ? commit : "-");
    int rc = tlb_doc_para(doc, NULL, t);
    rc |= tlb_doc_table(doc, 4, hdr, "llll");
    for (int k = 0; k < d->n_kvs; k++) {
        const struct tlb_rep_kv *kv = &d->kvs[k];
        const char *status = tlb_rep_kv_get(kv, "fleet_status");
        if (!status) continue;
        const char *label = tlb_rep_kv_get(kv, "board_label"), *host = tlb_rep_kv_get(kv, "fleet_host"),
                   *detail = tlb_rep_kv_get(kv, "fleet_detail");
        char why[400];
        snprintf(why, sizeof why, "%.390s", detail && *detail ? detail : "-");
        const char *row[4] = {label && *label ? label : "-", host && *host ? host : "-", status, why};
        rc |= tlb_doc_row(doc, row);
    }
    return rc;
}

/* A property of a board for the differences table: a results column or an info key. */
enum prop_src { P_NAME, P_KIND, P_CPU, P_NCPUS, P_OS, P_COMPILER, P_CFLAGS, P_VERSION, P_POWER,
                P_INFO };
struct prop {
    const char *title;
    enum prop_src src;
    const char *key; /* info key (P_INFO) */
};

static void prop_value(const struct tlb_rep_data *d, const struct tlb_rep_board *bd,
                       const struct prop *p, char *buf, size_t n) {
    const char *v = NULL;
    switch (p->src) {
    case P_NAME: v = bd->name; break;
    case P_KIND: v = bd->kind; break;
    case P_CPU: v = bd->cpu; break;
    case P_NCPUS: snprintf(buf, n, "%lld", (long long)bd->n_cpus); return;
    case P_OS: v = bd->os; break;
    case P_COMPILER: v = bd->compiler; break;
    case P_CFLAGS: v = bd->cflags; break;
    case P_VERSION: v = bd->versions; break;
    case P_POWER:
        if (bd->has_power) snprintf(buf, n, "%s (scope %s)", bd->power_source, bd->power_scope);
        else snprintf(buf, n, "none");
        return;
    case P_INFO:
        if (bd->info >= 0) v = tlb_rep_kv_get(&d->kvs[bd->info], p->key);
        if (v && *v && !strcmp(p->key, "mem_total_bytes")) {
            tlb_rep_bytes(strtod(v, NULL), buf, n);
            return;
        }
        if (v && *v && !strcmp(p->key, "cpu_freq_max_khz")) {
            snprintf(buf, n, "%.0f MHz", strtod(v, NULL) / 1000);
            return;
        }
        break;
    }
    snprintf(buf, n, "%s", v && *v ? v : "-");
}

/* What differed between the boards: the properties whose values are not the same on every
 * board (CPU, governor, power mode, kernel, libraries...), the others in one sentence. */
static int differences(struct tlb_doc *doc, const struct tlb_rep_data *d) {
    static const struct prop fixed[] = {
        {"Board (detected)", P_NAME, NULL}, {"Profile", P_KIND, NULL}, {"CPU", P_CPU, NULL},
        {"Architecture", P_INFO, "arch"}, {"Logical CPUs", P_NCPUS, NULL},
        {"CPU cores", P_INFO, "cores"}, {"SMT", P_INFO, "smt"}, {"ISA features", P_INFO, "isa"},
        {"RAM", P_INFO, "mem_total_bytes"}, {"CPU governor", P_INFO, "cpu_governor"},
        {"CPU max frequency", P_INFO, "cpu_freq_max_khz"}, {"CPU boost", P_INFO, "cpu_boost"},
        {"Power mode", P_INFO, "power_mode"},
        {"Virtualization", P_INFO, "virtualization"}, {"Operating system", P_OS, NULL},
        {"Linux kernel", P_INFO, "kernel"}, {"Transparent huge pages", P_INFO, "transparent_hugepages"},
        {"Power source", P_POWER, NULL}, {"Thermal sensor", P_INFO, "thermal"},
        {"Compiler", P_COMPILER, NULL}, {"CFLAGS", P_CFLAGS, NULL}, {"tlbench", P_VERSION, NULL},
        {"tlbench commit", P_INFO, "build_commit"}};
    struct prop props[TLB_ARRAY_LEN(fixed) + TLB_REP_MAX_VALUES];
    char keys[TLB_REP_MAX_VALUES][48], titles[TLB_REP_MAX_VALUES][64];
    size_t np = 0;
    for (size_t i = 0; i < TLB_ARRAY_LEN(fixed); i++) props[np++] = fixed[i];
    for (int k = 0; k < d->n_kernels; k++) { /* the charted kernels' versions */
        snprintf(keys[k], sizeof keys[k], "kernel.%s", d->kernels[k]);
        snprintf(titles[k], sizeof titles[k], "Kernel %s", d->kernels[k]);
        props[np++] = (struct prop){titles[k], P_INFO, keys[k]};
    }
    int bs[TLB_REP_MAX_BOARDS], nb = 0;
    for (int b = 0; b < d->n_boards; b++)
        if (d->boards[b].n_rows) bs[nb++] = b;
    const char *hdr[TLB_REP_MAX_BOARDS + 1];
    char align[TLB_REP_MAX_BOARDS + 2];
    hdr[0] = "";
    align[0] = 'l';
    for (int i = 0; i < nb; i++) hdr[i + 1] = board_name(&d->boards[bs[i]]), align[i + 1] = 'l';
    align[nb + 1] = '\0';
    char same[1500] = "", cells[TLB_REP_MAX_BOARDS + 1][300];
    const char *row[TLB_REP_MAX_BOARDS + 1];
    int rc = 0, n_diff = 0;
    for (size_t p = 0; p < np; p++) {
        int differ = 0, known = 0;
        snprintf(cells[0], sizeof cells[0], "%s", props[p].title);
        for (int i = 0; i < nb; i++) {
            prop_value(d, &d->boards[bs[i]], &props[p], cells[i + 1], sizeof cells[i + 1]);
            differ |= strcmp(cells[i + 1], cells[1]) != 0;
            known |= strcmp(cells[i + 1], "-") != 0;
        }
        if (!known) continue;
        if (!differ) {
            size_t l = strlen(same);
            snprintf(same + l, sizeof same - l, "%s%s %.80s", l ? "; " : "", props[p].title, cells[1]);
            continue;
        }
        if (n_diff++ == 0) rc |= tlb_doc_table(doc, nb + 1, hdr, align);
        for (int i = 0; i <= nb; i++) row[i] = cells[i];
        rc |= tlb_doc_row(doc, row);
    }
    if (!n_diff) rc |= tlb_doc_para(doc, NULL, "Nothing recorded differs between the boards.");
    if (*same) rc |= tlb_doc_para(doc, "Same on every board:", same);
    int infos = 0;
    for (int i = 0; i < nb; i++) infos += d->boards[bs[i]].info >= 0;
    if (infos < nb)
        rc |= tlb_doc_para(doc, NULL, "Governor, RAM, power mode and library versions come from "
                           "each board's `tlbench info --format json` file given to the report "
                           "(make fleet fetches them); boards without one show -.");
    return rc;
}

static int ranking(struct tlb_doc *doc, const struct tlb_rep_data *d, const struct tlb_rep_opts *o) {
    int rc = 0;
    static const char *const hdr[] = {"rank", "board", "configuration", "decode tokens/s",
                                      "prefill tokens/s", "peak memory", "fits up to ctx (tokens)",
                                      "mean KLD (nats)", "tokens/J", "price", "decode tokens/s per USD"};
    for (int bi = 0; bi < o->n_budgets; bi++) {
        char bud[32], h[96];
        tlb_rep_budget_name(o->budgets[bi], bud, sizeof bud);
        snprintf(h, sizeof h, "Under %s of RAM", bud);
        rc |= tlb_doc_heading(doc, 3, NULL, h);
        struct tlb_rep_best best[TLB_REP_MAX_BOARDS];
        int order[TLB_REP_MAX_BOARDS], n = 0;
        for (int b = 0; b < d->n_boards; b++) {
            if (!d->boards[b].n_charted) continue;
            tlb_rep_best_under(d, b, o->budgets[bi], &best[b]);
            order[n++] = b;
        }
        /* by decode tokens/s, boards where nothing fits last */
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0; j--) {
                const struct tlb_rep_best *x = &best[order[j]], *y = &best[order[j - 1]];
                double tx = x->row >= 0 ? d->rows[x->row].tg : -1, ty = y->row >= 0 ? d->rows[y->row].tg : -1;
                if (!(tx > ty)) break;
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
            }
        rc |= tlb_doc_table(doc, (int)TLB_ARRAY_LEN(hdr), hdr, "rllrrrrrrrr");
        int rank_shown = 0;
        for (int i = 0; i < n; i++) {
            const struct tlb_rep_board *bd = &d->boards[order[i]];
            const struct tlb_rep_best *bs = &best[order[i]];
            char c[11][160];
            const char *row[11];
            for (int k = 0; k < 11; k++) row[k] = c[k], c[k][0] = '\0';
            snprintf(c[1], sizeof c[1], "%s", board_name(bd));
            if (bs->row < 0) {
                snprintf(c[0], sizeof c[0], "-");
                snprintf(c[2], sizeof c[2], "nothing measured fits");
                if (bs->smallest >= 0)
                    tlb_rep_bytes(d->rows[bs->smallest].peak, c[5], sizeof c[5]);
            } else {
                const struct tlb_rep_row *r = &d->rows[bs->row];
                /* a board within the noise of the one above shares its rank */
                const struct tlb_rep_row *above =
                    i > 0 && best[order[i - 1]].row >= 0 ? &d->rows[best[order[i - 1]].row] : NULL;
                if (above && tlb_rep_within_noise(above->tg, above->tg_sd, r->tg, r->tg_sd))
                    rank_shown = rank_shown ? rank_shown : i;
                else
                    rank_shown = i + 1;
                snprintf(c[0], sizeof c[0], "%d%s", rank_shown,
                         above && rank_shown != i + 1 ? " (tie)" : "");
                config_text(d, r, c[2], sizeof c[2]);
                pm(r->tg, r->tg_sd, c[3], sizeof c[3]);
                pm(r->pp, r->pp_sd, c[4], sizeof c[4]);
                tlb_rep_bytes(r->peak, c[5], sizeof c[5]);
                snprintf(c[6], sizeof c[6], "%lld", (long long)bs->fit_ctx);
                tlb_rep_num(r->kld, c[7], sizeof c[7]);
                tlb_rep_num(r->tpj, c[8], sizeof c[8]);
                if (isfinite(bd->price_usd)) {
                    snprintf(c[9], sizeof c[9], "%.0f USD", bd->price_usd);
                    tlb_rep_num(r->tg / bd->price_usd, c[10], sizeof c[10]);
                }
            }
            for (int k = 0; k < 11; k++)
                if (!c[k][0]) snprintf(c[k], sizeof c[k], "-");
            rc |= tlb_doc_row(doc, row);
        }
    }
    return rc;
}

static int per_type(struct tlb_doc *doc, const struct tlb_rep_data *d, const struct tlb_rep_opts *o) {
    int rc = 0;
    static const char *const hdr[] = {"weights", "fastest kernel", "threads", "decode tokens/s",
                                      "decode % of memory", "prefill tokens/s",
                                      "peak memory (shortest ctx)",
                                      "peak memory (longest ctx)", "mean KLD (nats)", "top-1 agreement",
                                      "J/token", "smallest budget that fits"};
    for (int b = 0; b < d->n_boards; b++) {
        const struct tlb_rep_board *bd = &d->boards[b];
        if (!bd->n_charted) continue;
        char h[300];
        snprintf(h, sizeof h, "%s", board_name(bd));
        if (d->n_boards > 1) rc |= tlb_doc_heading(doc, 3, NULL, h);
        rc |= tlb_doc_table(doc, (int)TLB_ARRAY_LEN(hdr), hdr, "llrrrrrrrrrl");
        for (int wi = 0; wi < d->n_wtypes; wi++) {
            long bi = tlb_rep_best_for_type(d, b, d->wtypes[wi]);
            if (bi < 0) continue;
            const struct tlb_rep_row *r = &d->rows[bi];
            char c[12][160];
            const char *row[12];
            for (int k = 0; k < 12; k++) row[k] = c[k], c[k][0] = '\0';
            snprintf(c[0], sizeof c[0], "%s", r->wtype);
            snprintf(c[1], sizeof c[1], "%s%s", r->kernel, tlb_rep_flags(r, 0));
            snprintf(c[2], sizeof c[2], "%lld", (long long)r->threads);
            pm(r->tg, r->tg_sd, c[3], sizeof c[3]);
            if (isfinite(r->tg_pct_bw)) snprintf(c[4], sizeof c[4], "%.0f%%", r->tg_pct_bw);
            pm(r->pp, r->pp_sd, c[5], sizeof c[5]);
            tlb_rep_bytes(r->peak, c[6], sizeof c[6]);
            int64_t ctx;
            double mx = tlb_rep_peak_max(d, b, r->wtype, &ctx);
            char m[32];
            if (isfinite(mx)) snprintf(c[7], sizeof c[7], "%s at %lld", tlb_rep_bytes(mx, m, sizeof m),
                                       (long long)ctx);
            tlb_rep_num(r->kld, c[8], sizeof c[8]);
            if (isfinite(r->top1)) snprintf(c[9], sizeof c[9], "%.1f%%", 100 * r->top1);
            tlb_rep_num(r->jpt, c[10], sizeof c[10]);
            /* the smallest budget (of the chart lines) the longest context measured fits in */
            for (int i = 0; i < o->n_lines && isfinite(mx); i++) {
                if (mx > (double)o->lines[i]) continue;
                tlb_rep_budget_name(o->lines[i], c[11], sizeof c[11]);
                break;
            }
            for (int k = 0; k < 12; k++)
                if (!c[k][0]) snprintf(c[k], sizeof c[k], "-");
            rc |= tlb_doc_row(doc, row);
        }
    }
    return rc;
}

static int issues(struct tlb_doc *doc, const struct tlb_rep_data *d) {
    int rc = 0;
    if (!d->n_issues) {
        return tlb_doc_para(doc, NULL, "Every configuration in the inputs was measured "
                                       "(status ok).");
    }
    rc |= tlb_doc_para(doc, NULL, "Configurations that produced no trustworthy measurement. "
                                  "They are not in the charts; a crash, timeout or out-of-memory "
                                  "here is a finding in itself.");
    const char *hdr[TLB_STATUS_COUNT + 1];
    char align[TLB_STATUS_COUNT + 2];
    hdr[0] = "board";
    align[0] = 'l';
    for (int s = 0; s < TLB_STATUS_COUNT; s++) hdr[s + 1] = tlb_status_name((enum tlb_status)s), align[s + 1] = 'r';
    align[TLB_STATUS_COUNT + 1] = '\0';
    rc |= tlb_doc_table(doc, TLB_STATUS_COUNT + 1, hdr, align);
    for (int b = 0; b < d->n_boards; b++) {
        char c[TLB_STATUS_COUNT + 1][300];
        const char *row[TLB_STATUS_COUNT + 1];
        snprintf(c[0], sizeof c[0], "%s", board_name(&d->boards[b]));
        row[0] = c[0];
        for (int s = 0; s < TLB_STATUS_COUNT; s++) {
            snprintf(c[s + 1], sizeof c[s + 1], "%zu", d->boards[b].status_counts[s]);
            row[s + 1] = c[s + 1];
        }
        rc |= tlb_doc_row(doc, row);
    }
    static const char *const h2[] = {"board", "model", "weights", "kernel", "threads", "depth",
                                     "status", "why"};
    rc |= tlb_doc_table(doc, 8, h2, "lllllrll");
    size_t shown = 0;
    for (size_t i = 0; i < d->n_issues && shown < 40; i++, shown++) {
        const struct tlb_rep_issue *is = &d->issues[i];
        char th[24], dp[24], why[200];
        snprintf(th, sizeof th, "%lld", (long long)is->threads);
        snprintf(dp, sizeof dp, "%lld", (long long)is->depth);
        snprintf(why, sizeof why, "%.190s", *is->detail ? is->detail : "-");
        const char *row[8] = {board_name(&d->boards[is->board]), is->model, is->wtype, is->kernel,
                              th, dp, is->status, why};
        rc |= tlb_doc_row(doc, row);
    }
    if (d->n_issues > shown) {
        char t[96];
        snprintf(t, sizeof t, "... and %zu more (see the CSVs).", d->n_issues - shown);
        rc |= tlb_doc_para(doc, NULL, t);
    }
    return rc;
}

/* ---------------------------------------------------------------- engines */

/* The charted row of (board, engine or tlbench kernel, weight type, threads) at the board's
 * shortest depth and the charted KV type (the rounds of an interleaved run are one row, data.c);
 * -1 when there is none. */
static long find_row(const struct tlb_rep_data *d, int board, const char *engine,
                     const char *kernel, const char *wtype, int64_t threads) {
    const struct tlb_rep_board *bd = &d->boards[board];
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct tlb_rep_row *r = &d->rows[i];
        if (r->board == board && !strcmp(r->engine, engine) && !strcmp(r->kernel, kernel) &&
            !strcmp(r->wtype, wtype) && r->threads == threads && r->depth == bd->min_depth &&
            !strcmp(r->kv, d->kv))
            return (long)i;
    }
    return -1;
}

/* One round of an interleaved run: its number and the rates measured in it. */
#define ENG_MAX_ROUNDS 64
struct eng_round {
    int64_t round;
    double pp, tg, busy, share, level; /* share: core_share, level: mem_bw_gbps; NAN: none */
    double tg_best;                    /* its fastest decode repetition (tg_samples_ts) */
};

static double median_rate(const struct tlb_table *t, size_t r, const char *med, const char *mean) {
    double v;
    if (tlb_table_double(t, r, tlb_table_col(t, med), &v)) return v;
    return tlb_table_double(t, r, tlb_table_col(t, mean), &v) ? v : NAN;
}

/* The fastest of a row's decode repetitions (tg_samples_ts), else its median; NAN: none. */
static double fastest_tg(const struct tlb_table *t, size_t r) {
    double *v = NULL, best = NAN;
    size_t n = 0;
    if (tlb_table_samples(t, r, tlb_table_col(t, "tg_samples_ts"), &v, &n) > 0)
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i]) && !(v[i] <= best)) best = v[i];
    free(v);
    return isfinite(best) ? best : median_rate(t, r, "tg_ts_median", "tg_ts_mean");
}

/* The rounds behind a charted row (sweep --rounds): the ok rows of its file with its run id,
 * engine and configuration, each with its round. Returns how many (0: not a run in rounds). */
static int rounds_of(const struct tlb_rep_row *row, struct eng_round *out) {
    const struct tlb_table *t = row->table;
    size_t me = row->table_row;
    int64_t rnd;
    if (!tlb_table_int(t, me, tlb_table_col(t, "round"), &rnd) || rnd <= 0) return 0;
    static const char *const same[] = {"run_id", "model_name", "kernel", "weight_type",
                                       "kv_type", "n_threads", "n_depth", "n_prompt", "n_gen"};
    int n = 0;
    for (size_t r = 0; r < t->n_rows && n < ENG_MAX_ROUNDS; r++) {
        int match = !strcmp(tlb_table_engine(t, r), tlb_table_engine(t, me)) &&
                    !strcmp(tlb_table_str(t, r, tlb_table_col(t, "status")), "ok") &&
                    tlb_table_int(t, r, tlb_table_col(t, "round"), &rnd) && rnd > 0;
        for (size_t k = 0; match && k < TLB_ARRAY_LEN(same); k++) {
            int c = tlb_table_col(t, same[k]);
            match = !strcmp(tlb_table_str(t, r, c), tlb_table_str(t, me, c));
        }
        if (match)
            out[n++] = (struct eng_round){rnd, median_rate(t, r, "pp_ts_median", "pp_ts_mean"),
                                          median_rate(t, r, "tg_ts_median", "tg_ts_mean"),
                                          median_rate(t, r, "busy_cpus", "busy_cpus"),
                                          median_rate(t, r, "core_share", "core_share"),
                                          median_rate(t, r, "mem_bw_gbps", "mem_bw_gbps"),
                                          fastest_tg(t, r)};
    }
    return n;
}

/* "12.4 (11.9-12.8)": median, min and max of values; "-" when there are none. */
static void spread_text(const double *v, int n, char *buf, size_t bn) {
    double s[ENG_MAX_ROUNDS];
    int k = 0;
    for (int i = 0; i < n && k < ENG_MAX_ROUNDS; i++)
        if (isfinite(v[i])) s[k++] = v[i];
    if (!k) {
        snprintf(buf, bn, "-");
        return;
    }
    qsort(s, (size_t)k, sizeof s[0], tlb_cmp_double);
    char a[32], lo[32], hi[32];
    tlb_rep_num(tlb_stat_median(s, (size_t)k), a, sizeof a);
    if (k == 1) snprintf(buf, bn, "%s", a);
    else snprintf(buf, bn, "%s (%s-%s)", a, tlb_rep_num(s[0], lo, sizeof lo),
                  tlb_rep_num(s[k - 1], hi, sizeof hi));
}

/* One engine's rate: over the rounds median (range), else median ± sd of the repetitions. */
static void rate_text(const struct tlb_rep_row *r, const struct eng_round *rd, int n, int pp,
                      char *buf, size_t bn) {
    if (n < 2) {
        pm(pp ? r->pp : r->tg, pp ? r->pp_sd : r->tg_sd, buf, bn);
        return;
    }
    double v[ENG_MAX_ROUNDS];
    for (int i = 0; i < n; i++) v[i] = pp ? rd[i].pp : rd[i].tg;
    spread_text(v, n, buf, bn);
}

/* Appends to buf whether the kept rounds tell the engines apart: "; 95 % 0.98-1.12: not told
 * apart" (or "tlbench faster" / "tlbench slower" when the interval is above / below 1), from
 * the signed-rank interval of the rounds' ratios tlbench (x) / other (y). Nothing when
 * tlb_stat_paired_ratio gives no interval (fewer than 6 rounds; with 6 it is their range). */
static void verdict_text(const double *x, const double *y, int n, char *buf, size_t bn) {
    struct tlb_paired pr;
    if (tlb_stat_paired_ratio(y, x, (size_t)n, 0.95, &pr) != 0 || !isfinite(pr.lo) ||
        !isfinite(pr.hi))
        return;
    char lo[32], hi[32];
    size_t l = strlen(buf);
    snprintf(buf + l, bn - l, "; 95 %% %s-%s: %s", tlb_rep_num(pr.lo, lo, sizeof lo),
             tlb_rep_num(pr.hi, hi, sizeof hi),
             pr.lo > 1 ? "tlbench faster" : pr.hi < 1 ? "tlbench slower" : "not told apart");
}

/* tlbench (a) / other (b). In rounds: the ratio within each round both were measured in,
 * median (range over the rounds). Otherwise the ratio of the medians with a 95 % bootstrap
 * interval from the per-repetition samples. */
static void ratio_text(const struct tlb_rep_row *a, const struct eng_round *ra, int na,
                       const struct tlb_rep_row *b, const struct eng_round *rb, int nb, int pp,
                       char *buf, size_t bn) {
    if (na >= 2 && nb >= 2) {
        /* a round in which either engine's threads shared cores compares placements, not
         * engines (on a VM the host moved both vCPUs onto one core for minutes), and one whose
         * engines met memory levels apart compares the host's moments: left out, unless every
         * round was such */
        double v[ENG_MAX_ROUNDS], vs[ENG_MAX_ROUNDS], xs[ENG_MAX_ROUNDS], ys[ENG_MAX_ROUNDS];
        int k = 0, ks = 0, kl = 0;
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++) {
                double x = pp ? ra[i].pp : ra[i].tg, y = pp ? rb[j].pp : rb[j].tg;
                if (ra[i].round != rb[j].round || !isfinite(x) || !isfinite(y) || y <= 0) continue;
                if (ra[i].share < TLB_CORE_SHARE_LOW || rb[j].share < TLB_CORE_SHARE_LOW) {
                    vs[ks++] = x / y;
                } else if (tlb_mem_levels_apart(ra[i].level, rb[j].level)) {
                    vs[ks++] = x / y;
                    kl++;
                } else {
                    xs[k] = x;
                    ys[k] = y;
                    v[k++] = x / y;
                }
            }
        char t[96];
        if (k) {
            spread_text(v, k, t, sizeof t);
            snprintf(buf, bn, "%s, %d rounds", t, k);
            size_t l = strlen(buf);
            if (ks - kl && kl)
                snprintf(buf + l, bn - l, " (%d with shared cores, %d at memory levels apart left out)",
                         ks - kl, kl);
            else if (ks)
                snprintf(buf + l, bn - l, " (%d %s left out)", ks,
                         kl ? "at memory levels apart" : "with shared cores");
            verdict_text(xs, ys, k, buf, bn);
        } else if (ks) {
            spread_text(vs, ks, t, sizeof t);
            snprintf(buf, bn, "%s, %d rounds, all %s", t, ks,
                     !kl ? "with shared cores" : kl == ks ? "at memory levels apart"
                                                          : "with shared cores or memory levels apart");
        } else {
            snprintf(buf, bn, "-");
        }
        return;
    }
    double va = pp ? a->pp : a->tg, vb = pp ? b->pp : b->tg;
    if (!isfinite(va) || !isfinite(vb) || vb <= 0) {
        snprintf(buf, bn, "-");
        return;
    }
    snprintf(buf, bn, "%.2f", va / vb);
    const char *col = pp ? "pp_samples_ts" : "tg_samples_ts";
    double *sa = NULL, *sb = NULL, lo, hi;
    size_t nsa = 0, nsb = 0;
    if (tlb_table_samples(a->table, a->table_row, tlb_table_col(a->table, col), &sa, &nsa) > 0 &&
        tlb_table_samples(b->table, b->table_row, tlb_table_col(b->table, col), &sb, &nsb) > 0 &&
        nsa >= 2 && nsb >= 2 &&
        tlb_stat_bootstrap_ratio(sb, nsb, sa, nsa, 2000, 0.95, 42, &lo, &hi) == 0) {
        size_t l = strlen(buf);
        snprintf(buf + l, bn - l, " (%.2f-%.2f)", lo, hi);
    }
    free(sa);
    free(sb);
}

/* How busy the machine was while both were measured: other processes' and the hypervisor's
 * CPUs (busy_cpus) over both rows' rounds, median (range); "-" when not recorded. */
static void busy_text(const struct tlb_rep_row *a, const struct eng_round *ra, int na,
                      const struct tlb_rep_row *b, const struct eng_round *rb, int nb, char *buf,
                      size_t bn) {
    double v[2 * ENG_MAX_ROUNDS];
    int k = 0;
    if (na >= 2 && nb >= 2) {
        for (int i = 0; i < na; i++) v[k++] = ra[i].busy;
        for (int i = 0; i < nb; i++) v[k++] = rb[i].busy;
    } else {
        v[k++] = median_rate(a->table, a->table_row, "busy_cpus", "busy_cpus");
        v[k++] = median_rate(b->table, b->table_row, "busy_cpus", "busy_cpus");
    }
    spread_text(v, k, buf, bn);
}

/* An engine's fastest decode repetition: over its n rounds, or its row's when not in rounds
 * (n < 2); NAN when none. */
static double engine_fastest(const struct tlb_rep_row *r, const struct eng_round *rd, int n) {
    if (n < 2) return fastest_tg(r->table, r->table_row);
    double best = NAN;
    for (int i = 0; i < n; i++)
        if (isfinite(rd[i].tg_best) && !(rd[i].tg_best <= best)) best = rd[i].tg_best;
    return best;
}

/* tlbench (a) / other (b), each engine's fastest decode repetition, "1.10 (26.7 / 24.2)"; "-"
 * when either has none. On a host whose memory moves between levels within a row, a round's
 * ratio compares whichever levels the engines met; their fastest repetitions both ran at the
 * best level the run saw. */
static void fastest_text(const struct tlb_rep_row *a, const struct eng_round *ra, int na,
                         const struct tlb_rep_row *b, const struct eng_round *rb, int nb,
                         char *buf, size_t bn) {
    const double fa = engine_fastest(a, ra, na), fb = engine_fastest(b, rb, nb);
    if (!isfinite(fa) || !isfinite(fb) || fb <= 0) {
        snprintf(buf, bn, "-");
        return;
    }
    char x[32], y[32];
    snprintf(buf, bn, "%.2f (%s / %s)", fa / fb, tlb_rep_num(fa, x, sizeof x),
             tlb_rep_num(fb, y, sizeof y));
}

/* The memory's level an engine met (mem_bw_gbps, measured just before each row): the median
 * over its n rounds, or its row's when not in rounds (n < 2); NAN when not measured. */
static double engine_level(const struct tlb_rep_row *r, const struct eng_round *rd, int n) {
    if (n < 2) return median_rate(r->table, r->table_row, "mem_bw_gbps", "mem_bw_gbps");
    double v[ENG_MAX_ROUNDS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(rd[i].level)) v[k++] = rd[i].level;
    return k ? tlb_stat_median(v, (size_t)k) : NAN;
}

/* "other / tlbench" levels; "-" for one not measured, "-" alone for neither. */
static void level_text(double other, double own, char *buf, size_t bn) {
    char x[32] = "-", y[32] = "-";
    if (isfinite(other)) tlb_rep_num(other, x, sizeof x);
    if (isfinite(own)) tlb_rep_num(own, y, sizeof y);
    if (isfinite(other) || isfinite(own)) snprintf(buf, bn, "%s / %s", x, y);
    else snprintf(buf, bn, "-");
}

/* tlbench's kernels and another engine, configuration by configuration: the same model,
 * weights, threads and phases, measured by one sweep with one set of sensors. */
static int engines(struct tlb_doc *doc, const struct tlb_rep_data *d) {
    int rc = 0;
    char t[2600];
    snprintf(t, sizeof t, "Each engine ran the same model and weight type with the same threads, "
             "%lld prompt tokens and %lld generated tokens, in the same sweep, measured by the "
             "same sensors. Tokens/s are medians over the repetitions; ratio = tlbench / other "
             "engine. From a sweep in rounds (--rounds: every configuration of a weight type "
             "measured once per round, the rounds in turn, each configuration's two rows back "
             "to back) each cell is the median over the "
             "rounds with its range, and the ratio is taken within each round, leaving out "
             "rounds in which either engine's threads shared cores (core_share below 0.75, "
             "measured for both just before they ran) or the two engines met memory levels "
             "more than 25%% apart (mem_bw_gbps, the read bandwidth measured just before each "
             "ran: a shared host's memory moves for minutes at a time) unless all did; otherwise "
             "values are ± one standard deviation and the ratio has a 95%% bootstrap interval "
             "of the ratio of medians. From 6 kept rounds on, a ratio also gives its 95%% "
             "interval (Wilcoxon signed-rank over the rounds' ratios; with 6 rounds their range) "
             "and whether it tells the engines apart: 'tlbench faster' when the interval lies "
             "above 1, 'tlbench slower' below 1, else 'not told apart' (a tie at this run's "
             "resolution, e.g. two engines reading the same bytes at the memory's limit). "
             "Peak memory is the peak resident set of each engine's "
             "own process. others' CPUs: what other processes and the hypervisor used while "
             "both were measured (busy_cpus, median and range; above 0.25 a row is noisy): a "
             "run on every core loses most when others take CPU time, and engines differ in "
             "how much. memory GB/s: the read bandwidth each engine met just before its rows "
             "(mem_bw_gbps; median over the rounds), other engine / tlbench. fastest decode: "
             "each engine's fastest decode repetition over all its rounds, tlbench / other "
             "engine (the two tokens/s in brackets): where the host's memory changes level "
             "within a row (the level before it does not tell), a round's ratio compares "
             "whichever levels the two met, their fastest repetitions the best level the run "
             "saw. llama-bench "
             "times its decode test from an empty KV cache, tlbench "
             "decodes after the prompt (depth + %lld tokens), so decode ratios are "
             "conservative for tlbench.", (long long)d->n_prompt, (long long)d->n_gen,
             (long long)d->n_prompt);
    rc |= tlb_doc_para(doc, NULL, t);
    for (int e = 0; e < d->n_engines; e++) {
        const char *other = d->engines[e];
        if (!strcmp(other, TLB_ENGINE_TLBENCH)) continue;
        char h[12][64];
        const char *hdr[12];
        snprintf(h[0], sizeof h[0], "weights");
        snprintf(h[1], sizeof h[1], "threads");
        snprintf(h[2], sizeof h[2], "tlbench kernel");
        snprintf(h[3], sizeof h[3], "prefill %s", other);
        snprintf(h[4], sizeof h[4], "prefill tlbench");
        snprintf(h[5], sizeof h[5], "ratio");
        snprintf(h[6], sizeof h[6], "decode %s", other);
        snprintf(h[7], sizeof h[7], "decode tlbench");
        snprintf(h[8], sizeof h[8], "ratio");
        snprintf(h[9], sizeof h[9], "fastest decode");
        snprintf(h[10], sizeof h[10], "others' CPUs");
        snprintf(h[11], sizeof h[11], "memory GB/s");
        for (int k = 0; k < 12; k++) hdr[k] = h[k];
        for (int b = 0; b < d->n_boards; b++) {
            const struct tlb_rep_board *bd = &d->boards[b];
            int64_t th[TLB_REP_MAX_VALUES];
            int nth = 0;
            for (size_t i = 0; i < d->n_rows; i++) { /* thread counts of the other engine */
                const struct tlb_rep_row *r = &d->rows[i];
                if (r->board != b || strcmp(r->engine, other)) continue;
                int seen = 0;
                for (int k = 0; k < nth; k++) seen |= th[k] == r->threads;
                if (!seen && nth < TLB_REP_MAX_VALUES) th[nth++] = r->threads;
            }
            if (!nth) continue;
            qsort(th, (size_t)nth, sizeof th[0], cmp_i64);
            char head[300];
            snprintf(head, sizeof head, "%s: tlbench vs %s", board_name(bd), other);
            rc |= tlb_doc_heading(doc, 3, NULL, head);
            rc |= tlb_doc_table(doc, 12, hdr, "lrlrrrrrrrrr");
            for (int wi = 0; wi < d->n_wtypes; wi++) {
                for (int ti = 0; ti < nth; ti++) {
                    long oi = find_row(d, b, other, other, d->wtypes[wi], th[ti]);
                    if (oi < 0) continue;
                    const struct tlb_rep_row *o = &d->rows[oi];
                    struct eng_round ro[ENG_MAX_ROUNDS], rm[ENG_MAX_ROUNDS];
                    int no = rounds_of(o, ro);
                    for (int ki = 0; ki < d->n_kernels; ki++) {
                        long mi = find_row(d, b, TLB_ENGINE_TLBENCH, d->kernels[ki],
                                           d->wtypes[wi], th[ti]);
                        if (mi < 0) continue;
                        const struct tlb_rep_row *m = &d->rows[mi];
                        int nm = rounds_of(m, rm);
                        int byr = nm >= 2 && no >= 2;
                        char c[12][192];
                        const char *row[12];
                        for (int k = 0; k < 12; k++) row[k] = c[k];
                        snprintf(c[0], sizeof c[0], "%s", m->wtype);
                        snprintf(c[1], sizeof c[1], "%lld", (long long)m->threads);
                        snprintf(c[2], sizeof c[2], "%s", m->kernel);
                        rate_text(o, ro, byr ? no : 0, 1, c[3], sizeof c[3]);
                        rate_text(m, rm, byr ? nm : 0, 1, c[4], sizeof c[4]);
                        ratio_text(m, rm, byr ? nm : 0, o, ro, byr ? no : 0, 1, c[5], sizeof c[5]);
                        rate_text(o, ro, byr ? no : 0, 0, c[6], sizeof c[6]);
                        rate_text(m, rm, byr ? nm : 0, 0, c[7], sizeof c[7]);
                        ratio_text(m, rm, byr ? nm : 0, o, ro, byr ? no : 0, 0, c[8], sizeof c[8]);
                        fastest_text(m, rm, byr ? nm : 0, o, ro, byr ? no : 0, c[9], sizeof c[9]);
                        busy_text(m, rm, byr ? nm : 0, o, ro, byr ? no : 0, c[10], sizeof c[10]);
                        level_text(engine_level(o, ro, byr ? no : 0),
                                   engine_level(m, rm, byr ? nm : 0), c[11], sizeof c[11]);
                        rc |= tlb_doc_row(doc, row);
                    }
                }
            }
            /* memory: one line per weight type at the largest thread count (rounds: the
             * largest peak, data.c; tlbench: its smallest kernel) */
            char mem[900] = "";
            for (int wi = 0; wi < d->n_wtypes; wi++) {
                long oi = find_row(d, b, other, other, d->wtypes[wi], th[nth - 1]);
                if (oi < 0 || !isfinite(d->rows[oi].peak)) continue;
                double best = NAN;
                for (int ki = 0; ki < d->n_kernels; ki++) {
                    long mi = find_row(d, b, TLB_ENGINE_TLBENCH, d->kernels[ki], d->wtypes[wi],
                                       th[nth - 1]);
                    if (mi >= 0 && isfinite(d->rows[mi].peak) && !(d->rows[mi].peak >= best))
                        best = d->rows[mi].peak;
                }
                char a[32], bb[32];
                size_t l = strlen(mem);
                snprintf(mem + l, sizeof mem - l, "%s%s %s (%s) vs %s (tlbench)", l ? "; " : "",
                         d->wtypes[wi], tlb_rep_bytes(d->rows[oi].peak, a, sizeof a), other,
                         isfinite(best) ? tlb_rep_bytes(best, bb, sizeof bb) : "-");
            }
            if (mem[0]) {
                snprintf(t, sizeof t, "Peak memory at %lld threads: %s.", (long long)th[nth - 1],
                         mem);
                rc |= tlb_doc_para(doc, NULL, t);
            }
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- the page */

struct tlb_doc *tlb_rep_page(const struct tlb_rep_data *d, const struct tlb_rep_opts *o,
                             const struct tlb_rep_chart *charts, int n_charts,
                             const char *skipped, const char *gnuplot_problem) {
    char title[400], sub[600], dates[40], t[1024];
    int n_b = 0;
    for (int b = 0; b < d->n_boards; b++) n_b += d->boards[b].n_charted > 0 || d->n_boards == 1;
    if (o->title) {
        snprintf(title, sizeof title, "%s", o->title);
    } else {
        snprintf(title, sizeof title, "tlbench report: ");
        for (int b = 0, k = 0; b < d->n_boards; b++) {
            size_t l = strlen(title);
            snprintf(title + l, sizeof title - l, "%s%s", k++ ? " vs " : "", board_name(&d->boards[b]));
        }
    }
    if (strcmp(d->date_lo, d->date_hi)) snprintf(dates, sizeof dates, "%s to %s", d->date_lo, d->date_hi);
    else snprintf(dates, sizeof dates, "%s", *d->date_lo ? d->date_lo : "unknown date");
    if (d->n_rows)
        snprintf(sub, sizeof sub, "Model %s%s · %lld-token prompt, %lld generated tokens · "
                 "measured %s · tlbench %s · %d board%s",
                 d->model, d->synthetic ? " (synthetic weights)" : "", (long long)d->n_prompt,
                 (long long)d->n_gen, dates,
                 *d->versions ? d->versions : "?", n_b, n_b == 1 ? "" : "s");
    else
        snprintf(sub, sizeof sub, "No configuration was measured: every row of the inputs failed "
                 "or was skipped (see Rows without measurements)");
    struct tlb_doc *doc = tlb_doc_new(title, sub);
    if (!doc) return NULL;
    int rc = 0;
    if (gnuplot_problem) rc |= tlb_doc_note(doc, gnuplot_problem);
    if (d->n_other_model) {
        snprintf(t, sizeof t, "%zu measured rows of other models are not shown (this page is "
                 "about %s; choose another with --model).", d->n_other_model, d->model);
        rc |= tlb_doc_note(doc, t);
    }
    if (d->n_other_workload) {
        snprintf(t, sizeof t, "%zu measured rows with another prompt/generation length are not "
                 "shown (the page uses the most common: %lld prompt and %lld generated tokens).",
                 d->n_other_workload, (long long)d->n_prompt, (long long)d->n_gen);
        rc |= tlb_doc_note(doc, t);
    }
    if (d->synthetic)
        rc |= tlb_doc_note(doc, "Synthetic weights: the model has TinyLlama's exact shapes, so "
                                "its speed and memory are the real model's, but its weights are "
                                "pseudo-random. The accuracy figures (KL divergence, top-1) only "
                                "compare weight types and kernels on these weights; they say "
                                "nothing about the quality of a real model.");
    if (d->n_invalid) {
        snprintf(t, sizeof t, "%zu rows were marked invalid (throttling, too few power samples...): "
                 "charted with an open marker and \"(invalid)\" in the tables, never ranked; see "
                 "Rows without measurements.", d->n_invalid);
        rc |= tlb_doc_note(doc, t);
    }
    if (d->n_repeats) {
        snprintf(t, sizeof t, "%zu rows repeat a configuration measured again later (the same "
                 "board, weight type, kernel, KV type, threads and depth): the last of each is "
                 "shown, as tlbench compare does.", d->n_repeats);
        rc |= tlb_doc_note(doc, t);
    }

    rc |= tlb_doc_heading(doc, 2, "summary", "Summary");
    char bud[32];
    snprintf(t, sizeof t, "The best configuration of each board under a %s RAM budget: the "
             "highest median decode rate (tokens/s a user sees while text is generated) at the "
             "shortest context measured, among configurations whose measured peak memory fits.",
             tlb_rep_budget_name(o->budgets[0], bud, sizeof bud));
    rc |= tlb_doc_para(doc, NULL, t);
    rc |= findings(doc, d, o);
    /* Say what is and is not measured: buyers compare boards whose accelerators sit idle. */
    char gpu[300] = "";
    for (int b = 0; b < d->n_boards; b++) {
        const char *k = d->boards[b].kind;
        if (strncmp(k, "jetson", 6) && strcmp(k, "intel-ai-pc")) continue;
        size_t l = strlen(gpu);
        snprintf(gpu + l, sizeof gpu - l, "%s%s", l ? ", " : " Here that concerns ",
                 board_name(&d->boards[b]));
    }
    snprintf(t, sizeof t, "tlbench measures the CPU path only: every kernel (NEON, AVX2, "
             "AVX-512, OpenBLAS, BLIS...) runs on the CPU cores. On a Jetson or an Intel AI PC "
             "the GPU or NPU is not used, so these figures are not what such a board reaches "
             "with its accelerator.%s%s", gpu, *gpu ? "." : "");
    rc |= tlb_doc_note(doc, t);
    int fleet = 0;
    for (int k = 0; k < d->n_kvs; k++) fleet |= tlb_rep_kv_get(&d->kvs[k], "fleet_status") != NULL;
    if (fleet) {
        rc |= tlb_doc_heading(doc, 2, "fleet", "Fleet run");
        rc |= fleet_run(doc, d);
    }
    int with_rows = 0;
    for (int b = 0; b < d->n_boards; b++) with_rows += d->boards[b].n_rows > 0;
    if (with_rows > 1) {
        rc |= tlb_doc_heading(doc, 2, "differences", "What differed between the boards");
        rc |= differences(doc, d);
    }

    rc |= tlb_doc_heading(doc, 2, "machines", "Machines");
    rc |= machines(doc, d);

    rc |= tlb_doc_heading(doc, 2, "ranking", "Ranking under a RAM budget");
    rc |= tlb_doc_para(doc, NULL, "One row per board: its fastest configuration whose peak "
                       "memory (VmHWM at the shortest context) fits the budget. \"fits up to ctx\" "
                       "is the longest context measured for that configuration that still fits. "
                       "Decode and prefill are median tokens/s ± one standard deviation over the "
                       "repetitions; mean KLD is the KL divergence from the f32 reference (nats, "
                       "lower is more accurate); tokens/J is generated tokens per joule of the "
                       "decode phase. Add budgets with --ram-budget and prices with --price.");
    rc |= ranking(doc, d, o);

    if (d->n_engines > 1) {
        rc |= tlb_doc_heading(doc, 2, "engines", "Engines side by side");
        rc |= engines(doc, d);
    }

    rc |= tlb_doc_heading(doc, 2, "weight-types", "By weight type");
    rc |= tlb_doc_para(doc, NULL, "For each weight type (quantization), its fastest kernel and "
                       "thread count at the shortest context, with memory at the shortest and the "
                       "longest context measured, accuracy against f32, and the smallest RAM budget "
                       "the longest context fits in. decode % of memory: the bytes a decode step "
                       "reads per second as a share of the memory's read bandwidth measured just "
                       "before each repetition (tg_pct_mem_bw, median): near 100 % the decode is "
                       "bound by the memory, and faster memory, not more cores, makes it faster.");
    rc |= per_type(doc, d, o);

    rc |= tlb_doc_heading(doc, 2, "charts", "Charts");
    size_t noisy = 0;
    for (size_t i = 0; i < d->n_rows; i++) noisy += d->rows[i].noisy != 0;
    if (noisy) {
        snprintf(t, sizeof t, "%zu of the %zu measured configurations are flagged noisy (their "
                 "repetitions vary by more than %g%% or include an outlier; marked \"(noisy)\" "
                 "in the tables): their error bars are wide and single comparisons between them "
                 "are not reliable. Rerun on an idle machine, with more repetitions (-r).",
                 noisy, d->n_rows, TLB_NOISY_CV_PCT);
        rc |= tlb_doc_note(doc, t);
    }
    size_t shared = 0, multi = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        multi += d->rows[i].threads > 1;
        shared += tlb_rep_shared_cores(&d->rows[i]) != 0;
    }
    if (shared) {
        snprintf(t, sizeof t, "%zu of the %zu multi-thread configurations were measured, in at least "
                 "one round, while their threads shared cores (core_share below %g: FMA throughput of n threads "
                 "under %g x n times one thread's; on a VM the host ran its vCPUs on SMT siblings "
                 "of one core, or there were more threads than cores): they show that "
                 "placement, not what the threads reach with a core each (marked \"(shared "
                 "cores)\" in the tables, circled on the speed charts).",
                 shared, multi, TLB_CORE_SHARE_LOW, TLB_CORE_SHARE_LOW);
        rc |= tlb_doc_note(doc, t);
    }
    for (int i = 0; i < n_charts; i++) {
        rc |= tlb_doc_heading(doc, 3, NULL, charts[i].title);
        rc |= tlb_doc_figure(doc, &charts[i]);
    }
    for (const char *p = skipped; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(t, sizeof t, "%.*s", (int)(len < sizeof t - 1 ? len : sizeof t - 1), p);
        rc |= tlb_doc_note(doc, t);
        p += len + (nl ? 1 : 0);
    }

    rc |= tlb_doc_heading(doc, 2, "issues", "Rows without measurements");
    rc |= issues(doc, d);

    rc |= tlb_doc_heading(doc, 2, "method", "How these numbers were measured");
    rc |= tlb_doc_item(doc, "Speed:", "each configuration ran in its own process: warm-up, then "
                       "repetitions of one prefill of the prompt at the given KV depth and one "
                       "decode phase; rates are medians over the repetitions, error bars one "
                       "sample standard deviation.");
    rc |= tlb_doc_item(doc, "Memory:", "peak resident set size (VmHWM) of that process "
                       "(weights, KV cache, buffers and the runtime), or of the process that "
                       "loaded the weights when that was larger (a copy plus the file pages in "
                       "flight).");
    rc |= tlb_doc_item(doc, "Accuracy:", d->synthetic
                       ? "mean KL divergence of the next-token distribution and top-1 agreement "
                         "against the f32 weights on the reference kernel, teacher forced on the "
                         "same tokens; here on synthetic weights, where it ranks weight types and "
                         "kernels but says nothing about a real model."
                       : "mean KL divergence of the next-token distribution and top-1 agreement "
                         "against the f32 weights on the reference kernel, teacher forced on the "
                         "same tokens.");
    rc |= tlb_doc_item(doc, "Energy:", "integrated from the board's power source over the decode "
                       "phase, idle power included; the scope (package, board PMIC, module, wall) "
                       "differs between sources, so compare boards with the same scope.");
    if (d->n_engines > 1 || (d->n_engines == 1 && strcmp(d->engines[0], TLB_ENGINE_TLBENCH)))
        rc |= tlb_doc_item(doc, "Engines:", "rows of llama.cpp are llama-bench's own timings "
                           "(run by tlbench as the worker on a GGUF of the same weights, or "
                           "imported with tlbench import); when tlbench ran it, the peak memory "
                           "and energy are tlbench's measurements of that process. llama-bench "
                           "gives no logits, so these rows have no accuracy.");
    rc |= tlb_doc_item(doc, "Schema:", "the CSV columns are documented in docs/csv-schema.md of "
                       "tlbench; compare two runs with tlbench compare, size a RAM budget with "
                       "tlbench fit.");
    if (rc) {
        tlb_error("out of memory while building the report");
        tlb_doc_free(doc);
        return NULL;
    }
    return doc;
}
