/* sweep-cli.h — what `tlbench sweep` and `tlbench bench` share: their options (the table of
 * sweep/options.h), how the effective sweep is layered (built-in defaults <- platform
 * profile <- sweep file <- command line), and the session around tlb_sweep_execute: machine
 * facts, run id, idle power before the first configuration, cool-down and temperature wait
 * between configurations, Ctrl-C. */
#ifndef TLB_SWEEP_CLI_H
#define TLB_SWEEP_CLI_H

#include <stdio.h>

#include "options.h"
#include "profile.h"
#include "sweep-plan.h"
#include "sysinfo.h"
#include "thermal.h"
#include "sweep-run.h"
#include "ab-sync.h"

struct tlb_sweep_cli {
    struct tlb_sweep_spec cli;  /* the command-line layer */
    struct tlb_sweep_args args; /* --profile, --sweep, -o, --power ("auto" unless given) ... */
};

/* Parse argv (getopt_long). Returns 0, 1 when --help was printed, or TLB_EXIT_USAGE after
 * one error line. */
int tlb_sweep_cli_parse(int argc, char **argv, enum tlb_cmd_mode mode, struct tlb_sweep_cli *c,
                        void (*usage)(FILE *));
void tlb_sweep_cli_free(struct tlb_sweep_cli *c);
/* The option lines both commands' --help print. */
void tlb_sweep_cli_help(FILE *out, enum tlb_cmd_mode mode);

struct tlb_session {
    struct tlb_sweep_spec spec; /* effective */
    struct tlb_plan plan;
    struct tlb_sysinfo si;
    struct tlb_profile prof;
    int have_prof;
    char run_id[64];
    char board_slug[64];        /* slug of the board label, else of the profile name or the
                                 * board, for file names */
    double idle_w;
    struct tlb_thermal *thermal;
    int runs_started, warned_no_thermal;
    /* the command's callbacks, called through the session */
    void *cb;
    int (*on_row)(void *cb, int item, struct tlb_row *row, enum tlb_status st);
    void (*on_begin)(void *cb, int item);
    void (*on_note)(void *cb, const char *msg);
    struct tlb_sync *sync;      /* tlbench ab's turns, or NULL */
};

/* Build the effective spec and the plan. Returns 0, or an exit code (TLB_EXIT_FAIL for a bad
 * profile or sweep file, TLB_EXIT_USAGE for an impossible combination) after an error. */
int tlb_session_open(struct tlb_session *s, const struct tlb_sweep_cli *c,
                     enum tlb_cmd_mode mode);
/* Measure idle power, install the SIGINT/SIGTERM handler and run the plan with the
 * session's callbacks. Returns tlb_sweep_execute's result (0, 1 interrupted, -1). */
int tlb_session_run(struct tlb_session *s, const struct tlb_sweep_cli *c);
void tlb_session_close(struct tlb_session *s);

/* Print the plan (for --dry-run): one line per configuration. */
void tlb_session_print_plan(const struct tlb_session *s, FILE *out);

#endif
