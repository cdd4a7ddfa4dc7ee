/* cmd-bench.c — `tlbench bench`: one configuration with every metric, through the same
 * worker path as a sweep (own process, timeout, crash classification). Prints a table of
 * every measured column, or with --format csv one CSV row with its header; -o FILE.csv
 * appends the row to a results file. */
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "json-out.h"
#include "out-table.h"
#include "results-csv.h"
#include "results-lock.h"
#include "sweep-cli.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench bench [--model M] [--quant T] [--kernel K] [-t N] [--ctx D]\n"
        "                     [--kv-type T] [-p N] [-n N] [-r N] [--warmup N] [--timeout SEC]\n"
        "                     [-o FILE.csv] [--format table|csv|json|jsonl] [--eval-text F]\n"
        "                     [--tokenizer T] [--seed N] [--power-cmd CMD]\n\n"
        "Benchmarks one configuration exactly as one row of 'tlbench sweep' (the same worker\n"
        "process, warm-up, repetitions and columns: see docs/csv-schema.md) and prints every\n"
        "measured value. Defaults: synthetic:tinyllama-1.1b, q4_0, kernel auto, all CPUs,\n"
        "depth 0, -p 64 -n 16 -r 5.\n\n");
    tlb_sweep_cli_help(out, TLB_CMD_BENCH);
    fprintf(out, "\nWith --engine tlbench,llama.cpp the configuration runs on each engine: one row\n"
                 "each, printed side by side. Exit status: 0 when every row is ok, 1 otherwise.\n");
}

#define MAX_ROWS 4 /* one per engine */

struct bench_out {
    const char *format;
    struct tlb_csv_writer *w;
    int all_ok, got, header_done;
    struct tlb_row *rows[MAX_ROWS];
    int n_rows;
    struct tlb_json_stream js;
};

/* Every measured column, one value column per row (one per engine), with its unit. */
static int print_table(struct tlb_row *const *rows, int n) {
    const char *hdr[MAX_ROWS + 2];
    char names[MAX_ROWS][64];
    hdr[0] = "column";
    for (int r = 0; r < n; r++) {
        snprintf(names[r], sizeof names[r], "%s", n > 1 ? tlb_row_get(rows[r], "engine") : "value");
        hdr[r + 1] = names[r];
    }
    hdr[n + 1] = "unit";
    struct tlb_otable *t = tlb_otable_new(n + 2, hdr);
    if (!t) return -1;
    int rc = 0;
    for (int i = 0; i < tlb_n_columns && rc == 0; i++) {
        const char *cells[MAX_ROWS + 2];
        int any = 0;
        cells[0] = tlb_columns[i].name;
        for (int r = 0; r < n; r++) {
            const char *v = tlb_row_get(rows[r], tlb_columns[i].name);
            cells[r + 1] = v && *v ? v : "";
            any |= v && *v;
        }
        cells[n + 1] = tlb_columns[i].unit;
        if (any) rc = tlb_otable_add(t, cells);
    }
    if (rc == 0) rc = tlb_otable_print(t, stdout, TLB_OFMT_TABLE);
    tlb_otable_free(t);
    return rc;
}

static int on_row(void *cb, int item, struct tlb_row *row, enum tlb_status st) {
    (void)item;
    struct bench_out *o = cb;
    o->all_ok &= st == TLB_STATUS_OK;
    o->got = 1;
    if (o->w && tlb_csv_append(o->w, row) != 0) return -1;
    if (o->format && !strcmp(o->format, "csv")) {
        if (!o->header_done && tlb_csv_write_header(stdout) != 0) return -1;
        o->header_done = 1;
        return tlb_csv_write_row(stdout, row);
    }
    if (o->format && !strncmp(o->format, "json", 4)) /* one array (or lines) for every row */
        return tlb_json_stream_row(&o->js, row);
    /* the table waits for every engine's row */
    if (o->n_rows >= MAX_ROWS) return -1;
    struct tlb_row *copy = tlb_row_new();
    if (!copy) return -1;
    for (int i = 1; i < tlb_n_columns; i++) {
        const char *v = tlb_row_get(row, tlb_columns[i].name);
        if (v && *v && tlb_row_set_str(copy, tlb_columns[i].name, v) != 0) {
            tlb_row_free(copy);
            return -1;
        }
    }
    o->rows[o->n_rows++] = copy;
    return 0;
}

static void on_note(void *cb, const char *msg) {
    (void)cb;
    fprintf(stderr, "tlbench: %s\n", msg);
}

int tlb_cmd_bench(int argc, char **argv) {
    struct tlb_sweep_cli c;
    int rc = tlb_sweep_cli_parse(argc, argv, TLB_CMD_BENCH, &c, usage);
    if (rc) {
        tlb_sweep_cli_free(&c);
        return rc == 1 ? TLB_EXIT_OK : rc;
    }
    struct tlb_session s;
    struct bench_out o = {.format = c.args.format, .all_ok = 1};
    o.js = (struct tlb_json_stream){stdout, o.format && !strcmp(o.format, "jsonl"), 0};
    struct tlb_results_lock *lock = NULL;
    rc = tlb_session_open(&s, &c, TLB_CMD_BENCH);
    if (rc) goto out;
    if (c.args.dry_run) {
        tlb_session_print_plan(&s, stdout);
        goto out;
    }
    if (c.args.out_path && (tlb_results_lock(c.args.out_path, &lock) != 0 ||
                       !(o.w = tlb_csv_open_append(c.args.out_path)))) {
        rc = TLB_EXIT_FAIL;
        goto out;
    }
    s.cb = &o;
    s.on_row = on_row;
    s.on_note = on_note;
    int er = tlb_session_run(&s, &c);
    if (er == 0 && o.n_rows && print_table(o.rows, o.n_rows) != 0) er = -1;
    if (er == 0 && o.format && !strncmp(o.format, "json", 4) && tlb_json_stream_end(&o.js) != 0)
        er = -1;
    if (o.w && tlb_csv_close(o.w) != 0) er = -1;
    o.w = NULL;
    if (er == 1) {
        tlb_error("interrupted");
        rc = TLB_EXIT_FAIL;
    } else if (er < 0 || !o.got) {
        rc = TLB_EXIT_FAIL;
    } else {
        rc = o.all_ok ? TLB_EXIT_OK : TLB_EXIT_FAIL;
    }
out:
    for (int i = 0; i < o.n_rows; i++) tlb_row_free(o.rows[i]);
    tlb_csv_close(o.w);
    tlb_results_unlock(lock);
    tlb_session_close(&s);
    tlb_sweep_cli_free(&c);
    return rc;
}
