/* probe-history.h — the read-bandwidth probe's last figure per CPU model and thread count,
 * remembered between runs of `tlbench kernels` (cache file "probes", see cache-dir.h). Two
 * runs should agree on the probe within 10 %; on a shared host they may not (a 2-vCPU VM read
 * 38 GB/s on two threads for half an hour, then 70), and a run spent entirely at one level has
 * no spread of its own to warn about. Against the last run's figure it can say so. */
#ifndef TLB_PROBE_HISTORY_H
#define TLB_PROBE_HISTORY_H

#include <time.h>

/* The last remembered figure for (cpu, threads): 1 with *gbps and *when set, 0 when there is
 * none (or no cache). The file is untrusted: lines that do not parse are ignored. */
int tlb_probe_history_last(const char *cpu, int threads, double *gbps, time_t *when);

/* Remember gbps for (cpu, threads) at time when, replacing the older figure; the file keeps
 * at most 64 entries. Without a place for the cache nothing is remembered (not an error). */
void tlb_probe_history_put(const char *cpu, int threads, double gbps, time_t when);

#endif
