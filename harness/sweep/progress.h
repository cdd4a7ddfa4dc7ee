/* progress.h — sweep progress on stderr. On a terminal: a bar with done/total, elapsed time
 * and an ETA (wall time per configuration run so far x those left to run), redrawn
 * under each finished row's line. Elsewhere (CI logs, pipes): one parseable line per
 * configuration, "[3/48] q4_0 avx512 t=2 d=512: ok tg 41.2 t/s". */
#ifndef TLB_PROGRESS_H
#define TLB_PROGRESS_H

#include <stdio.h>

struct tlb_progress;

/* total: rows the sweep will write; to_run: of those, configurations that will actually
 * run (the others are written at once: unsupported, ...). tty: -1 = detect on out. */
struct tlb_progress *tlb_progress_new(FILE *out, int total, int to_run, int tty);
void tlb_progress_free(struct tlb_progress *p);
/* A configuration starts running (label shown in the bar). */
void tlb_progress_begin(struct tlb_progress *p, const char *label);
/* A row was written: prints "[k/total] text"; ran = 1 when it was run (for the ETA). */
void tlb_progress_row(struct tlb_progress *p, const char *text, int ran);
/* A message line (kept above the bar). */
void tlb_progress_note(struct tlb_progress *p, const char *msg);
/* Clear the bar (before the final summary). */
void tlb_progress_done(struct tlb_progress *p);
/* "1h02m", "3m05s", "12s" */
void tlb_format_duration(double seconds, char *buf, size_t n);

#endif
