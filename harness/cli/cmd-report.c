/* cmd-report.c — `tlbench report CSV... -o DIR`: charts (gnuplot, PNG and SVG) and a summary
 * page (summary.md, and summary.html with the charts embedded) from results CSVs of one or
 * many boards, plus `tlbench kernels` CSVs for a roofline. The parts are in report-*.c
 * (report.h). Exit 0 when everything was drawn, 1 when gnuplot is missing or failed (the
 * page is still written, without those charts) or an input is bad, 2 for usage errors. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command.h"
#include "memory-model.h"
#include "report.h"
#include "util.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: tlbench report CSV... -o DIR [--kernels-csv FILE] [--title T] [--model NAME]\n"
        "                      [--price BOARD=USD ...] [--ram-budget LIST] [--timeout SEC]\n"
        "\n"
        "Turns results CSVs (tlbench sweep/bench) from one or many boards into charts and a\n"
        "one-page summary:\n"
        "  DIR/summary.html   self-contained page (charts embedded, no external resources)\n"
        "  DIR/summary.md     the same in Markdown (charts linked from charts/)\n"
        "  DIR/charts/        NAME.png and NAME.svg of every chart, with its data (NAME.tsv)\n"
        "                     and gnuplot script (NAME.gp) to re-draw or restyle it\n"
        "Charts: decode and prefill tokens/s vs threads per kernel; tokens/s by weight type\n"
        "and kernel; decode tokens/s vs context depth; peak memory by weight type with RAM\n"
        "budget lines; KL divergence vs memory; energy per token and tokens per joule (when\n"
        "power was measured); the kernel roofline (with a kernels CSV). With several boards\n"
        "the charts compare them, and a ranking table gives each board's best configuration\n"
        "under each RAM budget, with tokens/J and tokens/s per USD where known.\n"
        "\n"
        "  CSV...              results CSVs; a `tlbench kernels --format csv` file among them\n"
        "                      is recognised by its header and used for the roofline; JSON\n"
        "                      files are `tlbench info --format json` output (a table of what\n"
        "                      differed between the boards: governor, RAM, kernel...) and\n"
        "                      make fleet's per-board status (a table of the fleet run),\n"
        "                      matched to boards by board_label, else by the board name\n"
        "  -o, --output DIR    output directory (created; files in it are replaced)\n"
        "  --kernels-csv FILE  a `tlbench kernels --format csv` file for the roofline chart\n"
        "  --title T           page title (default: the boards' names)\n"
        "  --model NAME        model_name to report (default: the one with most measured rows)\n"
        "  --price BOARD=USD   price of a board, by its label, board name or profile\n"
        "                      (board_kind), e.g. --price rpi5=80; repeatable. Default:\n"
        "                      price_usd of the board's platform profile\n"
        "                      (platforms/<board_kind>.conf)\n"        "  --ram-budget LIST   RAM budgets for the ranking, comma-separated sizes (K/M/G/T are\n"
        "                      binary; a bare number is GiB), e.g. 1,2,4 or 512M,2G (default\n"
        "                      2G). The memory chart draws 1, 2, 4, 8 GiB and these\n"
        "  --timeout SEC       time limit for one gnuplot run (default 60)\n"
        "  -h, --help          this text\n"
        "\n"
        "gnuplot (Debian package gnuplot-nox) draws the charts; it is run without a shell on\n"
        "scripts that contain no CSV text but sanitized labels, and CSV values are data only.\n"
        "Without gnuplot the page and every chart's data and script are still written.\n"
        "\n"
        "Exit status: 0 report complete, 1 an input could not be read or a chart could not be\n"
        "drawn (gnuplot missing or failing; the page is still written), 2 usage error.\n");
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sort and drop duplicates; returns the new count. */
static int uniq(uint64_t *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i]) v[k++] = v[i];
    return k;
}

static int parse_budgets(const char *list, struct tlb_rep_opts *o) {
    char buf[256];
    if (strlen(list) >= sizeof buf) {
        tlb_error("--ram-budget: list too long");
        return -1;
    }
    strcpy(buf, list);
    o->n_budgets = 0;
    char *items[128];
    int ni = tlb_split_list(buf, items, (int)TLB_ARRAY_LEN(items));
    for (int i = 0; i < ni; i++) {
        const char *t = items[i];
        if (!*t) continue;
        char item[64];
        /* a bare number is GiB */
        int bare = *t != '\0' && strspn(t, "0123456789.") == strlen(t);
        snprintf(item, sizeof item, "%s%s", t, bare ? "G" : "");
        uint64_t v;
        if (tlb_parse_size(item, &v) != 0 || v < ((uint64_t)1 << 20)) {
            tlb_error("--ram-budget: '%s' is not a RAM size of at least 1 MiB (e.g. 2G, 512M)", t);
            return -1;
        }
        if (o->n_budgets == TLB_REP_MAX_BUDGETS) {
            tlb_error("--ram-budget: at most %d budgets", TLB_REP_MAX_BUDGETS);
            return -1;
        }
        o->budgets[o->n_budgets++] = v;
    }
    if (o->n_budgets == 0) {
        tlb_error("--ram-budget: empty list");
        return -1;
    }
    o->n_budgets = uniq(o->budgets, o->n_budgets);
    return 0;
}

static int parse_price(const char *s, struct tlb_rep_opts *o) {
    const char *eq = strrchr(s, '=');
    double v;
    if (!eq || eq == s || tlb_parse_double(eq + 1, &v) != 0 || !(v > 0) || v > 1e9) {
        tlb_error("--price: '%s' is not BOARD=USD with a positive price (e.g. rpi5=80)", s);
        return -1;
    }
    if (o->n_prices == TLB_REP_MAX_PRICES) {
        tlb_error("--price: at most %d prices", TLB_REP_MAX_PRICES);
        return -1;
    }
    char *name = strndup(s, (size_t)(eq - s));
    if (!name) {
        tlb_error("out of memory");
        return -1;
    }
    o->prices[o->n_prices++] = (struct tlb_rep_price){name, v};
    return 0;
}

static void free_opts(struct tlb_rep_opts *o) {
    for (int i = 0; i < o->n_prices; i++) free((char *)o->prices[i].board);
    o->n_prices = 0;
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) {
        tlb_error("%s: path too long", path);
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            tlb_error("cannot create directory %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = c;
        if (!c) break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        tlb_error("%s: not a directory", path);
        return -1;
    }
    return 0;
}

static int nonempty(const char *dir, const char *name, const char *ext) {
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%.4095s/%.31s.%.3s", dir, name, ext);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

int tlb_cmd_report(int argc, char **argv) {
    enum { O_KCSV = 256, O_TITLE, O_PRICE, O_BUDGET, O_MODEL, O_TIMEOUT };
    static const struct option lo[] = {
        {"output", required_argument, NULL, 'o'},
        {"kernels-csv", required_argument, NULL, O_KCSV},
        {"title", required_argument, NULL, O_TITLE},
        {"price", required_argument, NULL, O_PRICE},
        {"ram-budget", required_argument, NULL, O_BUDGET},
        {"model", required_argument, NULL, O_MODEL},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct tlb_rep_opts o;
    memset(&o, 0, sizeof o);
    o.budgets[0] = (uint64_t)2 << 30;
    o.n_budgets = 1;
    o.timeout_s = 60;
    const char *kcsv = NULL;
    optind = 0; /* full getopt reset: commands may run more than once in a process */
    int c;
    long lv;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case O_KCSV: kcsv = optarg; break;
        case O_TITLE: o.title = optarg; break;
        case O_MODEL: o.model = optarg; break;
        case O_PRICE:
            if (parse_price(optarg, &o)) goto usage_err;
            break;
        case O_BUDGET:
            if (parse_budgets(optarg, &o)) goto usage_err;
            break;
        case O_TIMEOUT:
            if (tlb_parse_int(optarg, 1, 3600, &lv)) {
                tlb_error("--timeout: '%s' is not a number of seconds in [1, 3600]", optarg);
                goto usage_err;
            }
            o.timeout_s = (int)lv;
            break;
        case 'h':
            usage(stdout);
            free_opts(&o);
            return TLB_EXIT_OK;
        default:
            usage(stderr);
            goto usage_err;
        }
    }
    if (!o.out_dir || !*o.out_dir) {
        tlb_error("report: -o DIR is required (see --help)");
        goto usage_err;
    }
    if (optind >= argc) {
        tlb_error("report: give at least one results CSV (see --help)");
        goto usage_err;
    }
    /* Budget lines on the memory chart: 1, 2, 4, 8 GiB and the ranking budgets. */
    for (int i = 0; i < 4; i++) o.lines[o.n_lines++] = (uint64_t)1 << (30 + i);
    for (int i = 0; i < o.n_budgets; i++) o.lines[o.n_lines++] = o.budgets[i];
    o.n_lines = uniq(o.lines, o.n_lines);

    struct tlb_rep_data d;
    int exit_code = TLB_EXIT_FAIL;
    struct tlb_doc *doc = NULL;
    char charts_dir[4096], path[4200];
    if (tlb_rep_load(&d, (const char *const *)argv + optind, argc - optind, kcsv, o.model) != 0)
        goto out;
    tlb_rep_prices(&d, &o);
    snprintf(charts_dir, sizeof charts_dir, "%s/charts", o.out_dir);
    if (make_dirs(charts_dir) != 0) goto out;

    struct tlb_rep_chart charts[TLB_REP_MAX_CHARTS];
    char skipped[2048];
    int n = tlb_rep_charts_write(&d, &o, charts_dir, charts, skipped, sizeof skipped);
    if (n < 0) goto out;

    char gnuplot[4096], problem[1024] = "";
    int failed = 0;
    if (n > 0 && tlb_rep_gnuplot_find(gnuplot, sizeof gnuplot) != 0) {
        snprintf(problem, sizeof problem,
                 "gnuplot was not found, so no chart was drawn: install the Debian package "
                 "gnuplot-nox (sudo apt-get install gnuplot-nox, or make deps) and run tlbench "
                 "report again. The tables below are complete, and every chart's data and "
                 "gnuplot script are in charts/.");
        tlb_error("gnuplot not found: install the Debian package gnuplot-nox (apt-get install "
                  "gnuplot-nox, or make deps); writing the summary without charts");
        failed = n;
    } else {
        for (int i = 0; i < n; i++) {
            char script[64], log[64], why[512];
            snprintf(script, sizeof script, "%.31s.gp", charts[i].name);
            snprintf(log, sizeof log, "%.31s.log", charts[i].name);
            if (tlb_rep_gnuplot_run(gnuplot, charts_dir, script, log, o.timeout_s, why,
                                    sizeof why) == 0 &&
                nonempty(charts_dir, charts[i].name, "png") &&
                nonempty(charts_dir, charts[i].name, "svg")) {
                charts[i].drawn = 1;
                /* an empty log is noise */
                char lp[4200];
                struct stat st;
                snprintf(lp, sizeof lp, "%s/%s", charts_dir, log);
                if (stat(lp, &st) == 0 && st.st_size == 0) unlink(lp);
                continue;
            }
            if (!why[0]) snprintf(why, sizeof why, "gnuplot wrote no %.31s.png/.svg", charts[i].name);
            tlb_error("%s/%s: %s", charts_dir, script, why);
            failed++;
            size_t l = strlen(problem);
            snprintf(problem + l, sizeof problem - l, "%sChart %.31s was not drawn: %.400s.",
                     l ? " " : "", charts[i].name, why);
        }
    }

    doc = tlb_rep_page(&d, &o, charts, n, skipped, problem[0] ? problem : NULL);
    if (!doc) goto out;
    snprintf(path, sizeof path, "%s/summary.md", o.out_dir);
    if (tlb_doc_write_md(doc, path) != 0) goto out;
    snprintf(path, sizeof path, "%s/summary.html", o.out_dir);
    if (tlb_doc_write_html(doc, o.out_dir, path) != 0) goto out;
    printf("report: %s/summary.html (%d of %d charts drawn; Markdown: %s/summary.md)\n",
           o.out_dir, n - failed, n, o.out_dir);
    exit_code = failed ? TLB_EXIT_FAIL : TLB_EXIT_OK;
out:
    tlb_doc_free(doc);
    tlb_rep_free(&d);
    free_opts(&o);
    return exit_code;
usage_err:
    free_opts(&o);
    return TLB_EXIT_USAGE;
}
