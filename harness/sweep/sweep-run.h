/* sweep-run.h — runs a sweep plan in separate processes so that a crash, a hang or an
 * out-of-memory death costs one row, never the sweep. Process tree:
 *   tlbench (driver, sweep-run.c: writes rows, progress, cool-down, Ctrl-C)
 *     └ model process (model-process.c), one per (model, weight type): loads/converts the
 *       model once, in its own process group, then serves requests
 *         └ worker (worker.c), one per configuration (fork: the weights are shared
 *           copy-on-write): runs it, pipes back the row, exits; its VmHWM is the
 *           configuration's peak RSS.
 * They talk through messages.h. The model process enforces the timeout (SIGKILL) and
 * classifies each end: crashed (signal name), timeout, oom (kernel OOM kill, failed
 * allocation), error. Both children die with their parent (PR_SET_PDEATHSIG), so a killed
 * sweep leaves nothing running. TLBENCH_FAULT=crash|hang|oom|exit[@N] (honoured only in
 * workers, for tests) makes the worker of every configuration (or of the N-th of the plan,
 * 1-based) fail that way. */
#ifndef TLB_SWEEP_RUN_H
#define TLB_SWEEP_RUN_H

#include <signal.h>

#include "results-csv.h"
#include "sweep-plan.h"
#include "sysinfo.h"

struct tlb_sweep_env {
    const struct tlb_sweep_spec *spec;
    struct tlb_plan *plan;
    const struct tlb_sysinfo *si;  /* may be NULL */
    const char *board_kind;        /* profile name, NULL = unknown */
    const char *board_label;       /* the user's --board-label, NULL = none */
    const char *run_id;
    /* monitoring in the workers */
    int monitor, counters;
    const char *root, *power_source, *power_prefer, *power_rails, *thermal_zones;
    double idle_w;                 /* NAN when unknown */
    /* accuracy: windows of the evaluation (sweep: 1 window) */
    int acc_window, acc_chunks;
    /* driver callbacks; cb is passed back */
    void *cb;
    /* before configuration `item` is run (cool-down, temperature wait, tlbench ab's turn):
     * 0 run it, 1 leave it out (no row), -1 interrupted */
    int (*before_run)(void *cb, int item);
    /* a configuration starts running (progress) */
    void (*on_begin)(void *cb, int item);
    /* a finished row (any status): write it. 0, or -1 to stop the sweep (write error). */
    int (*on_row)(void *cb, int item, struct tlb_row *row, enum tlb_status st);
    /* a message for the user (accuracy reference done, failures outside rows) */
    void (*on_note)(void *cb, const char *msg);
    /* in the worker of configuration `item`, around its warm-up (rep 0) and each timed
     * repetition: tlbench ab's turns (runner.h; rep_done gets the repetition's prefill and
     * decode tokens/s, NAN for the warm-up). NULL: none. */
    int (*rep_turn)(void *cb, int item, int rep);
    void (*rep_done)(void *cb, int item, int rep, double pp_ts, double tg_ts);
};

/* Set by the driver's SIGINT/SIGTERM handler: the sweep stops, the running worker and model
 * process are killed, and no row is written for the interrupted configuration. */
extern volatile sig_atomic_t tlb_sweep_interrupted;

/* Run every item of env->plan that is not done. Returns 0 when all ran, 1 when interrupted,
 * -1 when on_row failed (error printed). */
int tlb_sweep_execute(struct tlb_sweep_env *env);

#endif
