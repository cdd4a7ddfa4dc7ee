/* ab-sync.h — the line protocol between `tlbench ab` (the driver) and the two sweeps it
 * interleaves (`tlbench sweep --ab-sync IN,OUT`, one per build), on two pipes. The sweep:
 *   plan N                      then N lines "item I ROUND GROUP KEY" (its plan: GROUP numbers
 *                               the (model, weight type) blocks, KEY names the configuration)
 *   ready I                     before running item I, then waits for the driver's answer:
 *                                 run    run it, then say "row I STATUS TG PP BUSY" (decode and
 *                                        prefill tokens/s medians and busy_cpus, '-' when empty)
 *                                 skip   leave it out (no row)
 *   rep I K                     (its worker, while running) before the warm-up (K = 0) and
 *                               each timed repetition K: waits for "go", then runs it and
 *                               says "done I K PP TG" (its prefill and decode tokens/s)
 * EOF on either side ends it. Both sweeps get the same options, so their plans are the same.
 * The driver tells both "run", then lets their workers measure one repetition at a time, in
 * turn (BASE and NEW repetitions interleaved, a second or so apart): one measures while the
 * other waits. */
#ifndef TLB_AB_SYNC_H
#define TLB_AB_SYNC_H

#include <stdio.h>

#include "results-csv.h"
#include "sweep-plan.h"

#define TLB_SYNC_LINE 512

/* ---- the sweep's side ---- */

struct tlb_sync {
    FILE *in, *out; /* NULL when the sweep is not driven */
    int ran;        /* the current item was told to run */
};

/* "--ab-sync IN,OUT": open the two inherited descriptors. 0, or -1 after an error line. */
int tlb_sync_open(struct tlb_sync *s, const char *fds);
void tlb_sync_close(struct tlb_sync *s);
/* Send the plan. 0 or -1. */
int tlb_sync_send_plan(struct tlb_sync *s, const struct tlb_plan *p);
/* "ready I" and the answer: 0 run, 1 skip, -1 the driver is gone or said something else. */
int tlb_sync_ready(struct tlb_sync *s, int item);
/* After a run item's row: "row I STATUS TG PP BUSY". 0 or -1. */
int tlb_sync_row(struct tlb_sync *s, int item, const struct tlb_row *row, enum tlb_status st);

/* In the worker: "rep I K" and wait for "go" (0), or -1 when the driver is gone; then after
 * the repetition "done I K PP TG" (its prefill and decode tokens/s, '-' when none). */
int tlb_sync_rep(struct tlb_sync *s, int item, int rep);
void tlb_sync_rep_done(struct tlb_sync *s, int item, int rep, double pp_ts, double tg_ts);

/* ---- the driver's side ---- */

/* One line without its newline into buf (n >= TLB_SYNC_LINE); 0, or -1 at EOF, on a read error
 * or a line too long. */
int tlb_sync_read_line(FILE *f, char *buf, size_t n);

#endif
