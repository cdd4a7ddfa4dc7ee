/* results-lock.h — one writer per results file: a sweep (or `bench -o`) claims its results
 * file for its whole run, so two sweeps on one file (two `--resume` runs, say) cannot both run
 * every configuration, each measured under the other's load. The claim is a POSIX record lock
 * on "<file>.lock": the kernel drops it when the process ends in any way (SIGKILL included),
 * so a stale lock file never blocks, and it tells a refused sweep the holder's pid. */
#ifndef TLB_RESULTS_LOCK_H
#define TLB_RESULTS_LOCK_H

struct tlb_results_lock;

/* Claim the results file at path. Returns 0 and *out, or -1 after one error line: held by
 * another process ("... is being written by another tlbench (pid N) ..."), or the lock file
 * cannot be made. Never waits. */
int tlb_results_lock(const char *path, struct tlb_results_lock **out);
/* Release the claim and remove the lock file. NULL is ignored. */
void tlb_results_unlock(struct tlb_results_lock *l);

#endif
