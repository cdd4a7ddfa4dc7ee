/* test-options.c — the settings table of sweep and bench (harness/sweep/options.h) and what is
 * generated from it: --help lists every entry a command takes and no other, every option is
 * accepted where the table allows it and refused with one line elsewhere, every sweep-file
 * key reads from a file, the defaults parse, and layers merge setting by setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "test.h"
#include "util.h"

/* A value each type accepts. */
static const char *sample(const struct tlb_option *o) {
    switch (o->type) {
    case TLB_OPT_NAMES: return "synthetic:tiny";
    case TLB_OPT_KERNELS:
    case TLB_OPT_KERNEL: return "naive";
    case TLB_OPT_TYPES: return "f32";
    case TLB_OPT_INTS:
    case TLB_OPT_INT:
    case TLB_OPT_DOUBLE:
    case TLB_OPT_U64: return o->min > 1 ? "2" : "1";
    case TLB_OPT_STR: return "text";
    case TLB_OPT_BOOL: return "off";
    case TLB_OPT_PHASES: return "4,4,2";
    case TLB_OPT_ENGINES: return "tlbench";
    case TLB_OPT_ARG:
        return !strcmp(o->name, "format") ? "csv" : !strcmp(o->name, "power") ? "none" : "x";
    case TLB_OPT_FLAG: return NULL;
    }
    return NULL;
}

static char *help_text(enum tlb_cmd_mode mode) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return NULL;
    tlb_options_help(f, mode);
    fclose(f);
    return buf;
}

/* "--name" as a whole word of the help text */
static int lists(const char *help, const char *name) {
    char want[64];
    snprintf(want, sizeof want, "--%s", name);
    for (const char *p = help; (p = strstr(p, want)); p++) {
        char after = p[strlen(want)];
        if (after == ' ' || after == '\n' || after == '\0') return 1;
    }
    return 0;
}

TLB_TEST(help_lists_every_entry) {
    const enum tlb_cmd_mode modes[] = {TLB_CMD_SWEEP, TLB_CMD_BENCH};
    for (int m = 0; m < 2; m++) {
        char *help = help_text(modes[m]);
        TLB_CHECK(help, "help text");
        unsigned bit = modes[m] == TLB_CMD_BENCH ? TLB_IN_BENCH : TLB_IN_SWEEP;
        int listed = 0;
        for (int i = 0; i < tlb_n_options; i++) {
            const struct tlb_option *o = &tlb_options[i];
            int takes = (o->where & TLB_IN_CLI) && (o->where & bit);
            TLB_CHECK(lists(help, o->name) == takes, "%s --help: --%s %s", m ? "bench" : "sweep",
                      o->name, takes ? "missing" : "listed but not taken");
            TLB_CHECK(o->help && *o->help, "--%s has no help", o->name);
            listed += takes;
        }
        TLB_CHECK(listed > 20, "only %d options listed", listed);
        TLB_CHECK(!strstr(help, "%s") && !strstr(help, "(null)"), "unfilled help: %s", help);
        free(help);
    }
}

TLB_TEST(every_option_parses_where_allowed) {
    const enum tlb_cmd_mode modes[] = {TLB_CMD_SWEEP, TLB_CMD_BENCH};
    for (int m = 0; m < 2; m++) {
        unsigned bit = modes[m] == TLB_CMD_BENCH ? TLB_IN_BENCH : TLB_IN_SWEEP;
        for (int i = 0; i < tlb_n_options; i++) {
            const struct tlb_option *o = &tlb_options[i];
            if (!(o->where & TLB_IN_CLI)) continue;
            char opt[64], err[512];
            snprintf(opt, sizeof opt, "--%s", o->name);
            char *argv[] = {m ? "bench" : "sweep", opt, (char *)sample(o), NULL};
            int argc = sample(o) ? 3 : 2;
            struct tlb_sweep_spec cli;
            struct tlb_sweep_args args;
            tlb_test_capture_begin();
            int rc = tlb_options_parse(argc, argv, modes[m], &cli, &args);
            tlb_test_capture_end(err, sizeof err);
            if (o->where & bit) {
                TLB_CHECK(rc == 0 && !err[0], "%s %s %s: rc %d: %s", argv[0], opt,
                          argc == 3 ? argv[2] : "", rc, err);
                if (!o->in_args)
                    TLB_CHECK(tlb_spec_is_set(&cli, o->name), "%s did not set %s", opt, o->name);
                if (o->sets) TLB_CHECK(tlb_spec_is_set(&cli, o->sets), "%s did not set %s", opt,
                                       o->sets);
            } else {
                TLB_CHECK(rc == -1 && strstr(err, "is not available here") &&
                              strchr(err, '\n') == strrchr(err, '\n'),
                          "%s %s: rc %d: %s", argv[0], opt, rc, err);
            }
            tlb_spec_free(&cli);
        }
    }
}

TLB_TEST(short_options_and_alias) {
    char *argv[] = {"sweep", "-t", "1,2", "-d", "0,8", "-p", "4", "-n", "2", "-r", "3",
                    "-o", "x.csv", "--n-depth", "16", NULL};
    struct tlb_sweep_spec cli;
    struct tlb_sweep_args args;
    TLB_CHECK(tlb_options_parse(15, argv, TLB_CMD_SWEEP, &cli, &args) == 0, "parse");
    TLB_CHECK(cli.n_threads == 2 && cli.n_depths == 1 && cli.depths[0] == 16 &&
                  cli.n_prompt == 4 && cli.n_gen == 2 && cli.reps == 3 &&
                  args.out_path && !strcmp(args.out_path, "x.csv"),
              "values");
    tlb_spec_free(&cli);
    char err[512];
    char *bad[] = {"sweep", "--n-depth", "8-2", NULL};
    tlb_test_capture_begin();
    int rc = tlb_options_parse(3, bad, TLB_CMD_SWEEP, &cli, &args);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(rc == -1 && !strncmp(err, "tlbench: -d: range '8-2'", 24), "alias named: %s", err);
    tlb_spec_free(&cli);
    char *one[] = {"bench", "--ctx", "0,8", NULL};
    tlb_test_capture_begin();
    rc = tlb_options_parse(3, one, TLB_CMD_BENCH, &cli, &args);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(rc == -1 && strstr(err, "--ctx takes one value"), "bench list: %s", err);
    tlb_spec_free(&cli);
}

TLB_TEST(every_file_key_reads) {
    char path[] = "/tmp/tlb-keys-XXXXXX";
    int fd = mkstemp(path);
    TLB_CHECK(fd >= 0, "temp file");
    FILE *f = fdopen(fd, "w");
    int n = 0;
    for (int i = 0; i < tlb_n_options; i++) {
        const struct tlb_option *o = &tlb_options[i];
        if (!(o->where & TLB_IN_FILE)) continue;
        TLB_CHECK(!o->in_args && sample(o), "file key %s has no spec field", o->name);
        TLB_CHECK(strstr(tlb_spec_keys(), o->name), "%s not in the keys list", o->name);
        fprintf(f, "%s = %s\n", o->name, sample(o));
        n++;
    }
    fclose(f);
    struct tlb_sweep_spec s;
    memset(&s, 0, sizeof s);
    char err[512];
    tlb_test_capture_begin();
    int rc = tlb_spec_load_file(&s, path);
    tlb_test_capture_end(err, sizeof err);
    unlink(path);
    TLB_CHECK(rc == 0 && !err[0], "file of every key: %s", err);
    for (int i = 0; i < tlb_n_options; i++)
        if (tlb_options[i].where & TLB_IN_FILE)
            TLB_CHECK(tlb_spec_is_set(&s, tlb_options[i].name), "%s not set", tlb_options[i].name);
    TLB_CHECK(n > 15, "%d keys", n);
    tlb_spec_free(&s);
}

TLB_TEST(defaults_and_layers) {
    char err[512];
    struct tlb_sweep_spec d, b, layer, top;
    tlb_test_capture_begin();
    tlb_spec_defaults(&d, TLB_CMD_SWEEP);
    tlb_spec_defaults(&b, TLB_CMD_BENCH);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(!err[0], "a default does not parse: %s", err);
    TLB_CHECK(d.set == 0 && b.set == 0, "defaults count as set");
    TLB_CHECK(d.n_models == 1 && d.n_quants == 4 && d.n_kernels == 1 && d.n_threads >= 1 &&
                  d.threads[0] == 1 && d.n_prompt == 64 && d.n_gen == 16 && d.reps == 5 &&
                  d.warmup == 1 && d.timeout_s == 600 && d.seed == 42 && d.accuracy == 1 &&
                  d.acc_ref && !strcmp(d.acc_ref, "naive") && d.short_phases.n_prompt == 4,
              "sweep defaults");
    TLB_CHECK(b.n_quants == 1 && b.quants[0] == TLB_TYPE_Q4_0 && !strcmp(b.kernels[0], "auto") &&
                  b.n_threads == 1 && b.threads[0] == d.threads[d.n_threads - 1],
              "bench defaults");
    memset(&layer, 0, sizeof layer);
    memset(&top, 0, sizeof top);
    TLB_CHECK(tlb_spec_set(&layer, "quant", "q8_0", "x") == 0 &&
                  tlb_spec_set(&layer, "n-prompt", "7", "x") == 0 &&
                  tlb_spec_set(&top, "n-prompt", "9", "x") == 0 &&
                  tlb_spec_set(&top, "eval-text", "t.txt", "x") == 0,
              "layers");
    TLB_CHECK(tlb_spec_merge(&d, &layer) == 0 && tlb_spec_merge(&d, &top) == 0, "merge");
    TLB_CHECK(d.n_quants == 1 && d.quants[0] == TLB_TYPE_Q8_0 && d.n_prompt == 9 &&
                  d.n_gen == 16 && d.eval_text && !strcmp(d.eval_text, "t.txt") &&
                  tlb_spec_is_set(&d, "quant") && !tlb_spec_is_set(&d, "n-gen"),
              "later layers win setting by setting");
    tlb_spec_free(&d);
    tlb_spec_free(&b);
    tlb_spec_free(&layer);
    tlb_spec_free(&top);
}

TLB_TEST(threads_max) {
    struct tlb_sweep_spec s;
    memset(&s, 0, sizeof s);
    TLB_CHECK(tlb_spec_set_from(&s, "threads", "1,max", "x", TLB_SRC_CLI, 4) == 0 &&
                  s.n_threads == 2 && s.threads[1] == 4,
              "1,max on 4 CPUs");
    TLB_CHECK(tlb_spec_set_from(&s, "threads", "1,max", "x", TLB_SRC_CLI, 1) == 0 &&
                  s.n_threads == 1,
              "1,max on 1 CPU is 1");
    TLB_CHECK(tlb_spec_set_from(&s, "threads", "2,8,max", "x", TLB_SRC_CLI, 4) == 0 &&
                  s.n_threads == 3 && s.threads[1] == 8,
              "the command line keeps counts above the CPUs");
    TLB_CHECK(tlb_spec_set_from(&s, "threads", "2,8,max", "x", TLB_SRC_PROFILE, 4) == 0 &&
                  s.n_threads == 2 && s.threads[1] == 4,
              "a profile drops them");
    char err[256];
    tlb_test_capture_begin();
    int rc = tlb_spec_set_from(&s, "threads", "1,1", "-t", TLB_SRC_CLI, 4);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(rc == -1 && strstr(err, "-t: value 1 appears twice"), "%s", err);
    tlb_spec_free(&s);
}

TLB_TEST_MAIN()
