/* cmd-import.c — `tlbench import llama-bench FILE...`: results llama.cpp's llama-bench
 * measured elsewhere (`-o json`, `-o jsonl` or `-o csv`) become rows of tlbench's results
 * schema (engine llama.cpp), so compare, fit and report take them next to tlbench's own rows.
 * A pp record and the tg record of the same configuration make one row; cells llama-bench
 * did not measure (memory, power, accuracy, per-token latency) stay empty. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build-info.h"
#include "command.h"
#include "llama-records.h"
#include "results-csv.h"
#include "results-lock.h"
#include "schema.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench import llama-bench FILE... [-o OUT.csv] [--board NAME]\n"
        "                      [--board-label TEXT] [--format auto|json|jsonl|csv]\n\n"
        "Turns llama.cpp llama-bench results (llama-bench -o json, -o jsonl or -o csv) into\n"
        "rows of tlbench's results CSV (schema %s, engine llama.cpp, kernel ggml), so that\n"
        "compare, fit and report work on them next to tlbench's own rows. A prompt test (pp)\n"
        "and the generation test (tg) of the same configuration become one row; a -pg test\n"
        "fills only avg_ts/stddev_ts/samples_ts. json and jsonl carry the per-repetition\n"
        "samples (medians, noise, compare's significance tests); csv only averages. Cells\n"
        "llama-bench does not measure stay empty: peak memory, power, temperatures, per-token\n"
        "latency, time to first token, load time, accuracy (KL divergence needs logits).\n\n"
        "  -o OUT.csv       append the rows to a results file (header when new); default:\n"
        "                   the CSV on stdout\n"
        "  --board NAME     the board column (default: llama-bench's cpu_info)\n"
        "  --board-label T  your name for the board (column board_label; reports and compare\n"
        "                   tell boards apart by it)\n"
        "  --format F       the input format (default: auto, detected from the first byte)\n\n"
        "Exit status: 0 imported, 1 unreadable or invalid input, 2 usage error.\n",
        TLB_SCHEMA_VERSION);
}

struct import_opts {
    const char *out_path, *board, *label;
    enum tlb_lb_format format;
};

/* The rows of one file, through write_row. Returns rows written, or -1. */
static long import_file(const char *path, const struct import_opts *o, const char *run_id,
                        int (*write_row)(void *, const struct tlb_row *), void *w) {
    size_t len;
    char *text = tlb_read_file(path, TLB_LB_MAX_TEXT, &len);
    if (!text) return -1;
    struct tlb_lb_set set;
    int rc = tlb_lb_parse(text, len, o->format, path, &set);
    free(text);
    if (rc) return -1;
    struct tlb_lb_config *cfg = NULL;
    long n = tlb_lb_pair(&set, &cfg), written = 0;
    struct tlb_row *row = n >= 0 ? tlb_row_new() : NULL;
    if (!row) {
        tlb_lb_free(&set);
        free(cfg);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        tlb_row_reset(row);
        const struct tlb_lb_config *c = &cfg[i];
        const struct tlb_lb_record *any = c->pg ? c->pg : c->pp ? c->pp : c->tg;
        rc = tlb_row_set_str(row, "run_id", run_id);
        rc |= tlb_row_set_str(row, "tlbench_version", TLB_VERSION);
        rc |= tlb_row_set_str(row, "build_commit", TLB_BUILD_COMMIT);
        if (TLB_BUILD_DIRTY >= 0) rc |= tlb_row_set_int(row, "build_dirty", TLB_BUILD_DIRTY);
        const char *board = o->board ? o->board : any->cpu_info;
        if (*board) rc |= tlb_row_set_str(row, "board", board);
        if (o->label) rc |= tlb_row_set_str(row, "board_label", o->label);
        rc |= tlb_lb_fill_identity(row, c);
        rc |= tlb_lb_fill_results(row, c);
        rc |= tlb_row_set_str(row, "status", "ok");
        if (rc) {
            tlb_error("%s: record at %s %zu: cannot build its row", path,
                      set.format == TLB_LB_JSON ? "record" : "line", any->where);
            written = -1;
            break;
        }
        if (write_row(w, row) != 0) {
            written = -1;
            break;
        }
        written++;
    }
    if (written >= 0)
        fprintf(stderr, "tlbench: %s: %zu llama-bench records (%s) -> %ld rows\n", path, set.n,
                tlb_lb_format_name(set.format), written);
    tlb_row_free(row);
    free(cfg);
    tlb_lb_free(&set);
    return written;
}

struct sink {
    struct tlb_csv_writer *w;
    int header_done;
};

static int write_row(void *ud, const struct tlb_row *row) {
    struct sink *s = ud;
    if (s->w) return tlb_csv_append(s->w, row);
    if (!s->header_done) {
        if (tlb_csv_write_header(stdout) != 0) return -1;
        s->header_done = 1;
    }
    return tlb_csv_write_row(stdout, row);
}

int tlb_cmd_import(int argc, char **argv) {
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"board", required_argument, 0, 'b'},
        {"board-label", required_argument, 0, 'l'}, {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    struct import_opts o = {.format = TLB_LB_AUTO};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_path = optarg; break;
        case 'b':
        case 'l': {
            const char *why = tlb_board_label_problem(optarg);
            if (why) {
                tlb_error("%s: %s", c == 'b' ? "--board" : "--board-label", why);
                return TLB_EXIT_USAGE;
            }
            *(c == 'b' ? &o.board : &o.label) = optarg;
            break;
        }
        case 'f':
            if (!strcmp(optarg, "json")) o.format = TLB_LB_JSON;
            else if (!strcmp(optarg, "jsonl")) o.format = TLB_LB_JSONL;
            else if (!strcmp(optarg, "csv")) o.format = TLB_LB_CSV;
            else if (!strcmp(optarg, "auto")) o.format = TLB_LB_AUTO;
            else {
                tlb_error("--format: '%s' is not auto, json, jsonl or csv", optarg);
                return TLB_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return TLB_EXIT_OK;
        case ':':
            tlb_error("import: option %s needs a value", argv[optind - 1]);
            return TLB_EXIT_USAGE;
        default:
            tlb_error("import: unknown option '%s' (see 'tlbench import --help')",
                      argv[optind - 1]);
            return TLB_EXIT_USAGE;
        }
    }
    if (optind >= argc || strcmp(argv[optind], "llama-bench") != 0) {
        tlb_error("import: name the tool the results come from ('%s' is not one): tlbench "
                  "import llama-bench FILE...", optind < argc ? argv[optind] : "");
        return TLB_EXIT_USAGE;
    }
    if (optind + 1 >= argc) {
        tlb_error("import llama-bench: no FILE given");
        return TLB_EXIT_USAGE;
    }
    char run_id[64], ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(run_id, sizeof run_id, "import-%s-%x", ts, (unsigned)getpid());
    struct sink sink = {0};
    struct tlb_results_lock *lock = NULL;
    int rc = TLB_EXIT_OK;
    if (o.out_path && (tlb_results_lock(o.out_path, &lock) != 0 ||
                       !(sink.w = tlb_csv_open_append(o.out_path)))) {
        rc = TLB_EXIT_FAIL;
        goto out;
    }
    long total = 0;
    for (int i = optind + 1; i < argc; i++) {
        long n = import_file(argv[i], &o, run_id, write_row, &sink);
        if (n < 0) {
            rc = TLB_EXIT_FAIL;
            break;
        }
        total += n;
    }
    if (sink.w && tlb_csv_close(sink.w) != 0) rc = TLB_EXIT_FAIL;
    sink.w = NULL;
    if (rc == TLB_EXIT_OK && o.out_path)
        printf("results: %s (%ld rows imported)\n", o.out_path, total);
out:
    tlb_csv_close(sink.w);
    tlb_results_unlock(lock);
    return rc;
}
