/* probe.h — this machine's limits, measured at run time by `tlbench kernels` so kernel
 * figures can be stated as a share of them: memory read bandwidth (a buffer much larger than
 * the caches, read by every thread of a pool at once) and f32 FMA peak (independent FMA
 * chains in registers, the widest vector ISA usable here). */
#ifndef TLB_PROBE_H
#define TLB_PROBE_H

#include <stddef.h>

struct tlb_pool;

/* Read bandwidth in GB/s (1e9 bytes/s): after an untimed read of twice the last-level cache
 * (so that nothing comes from cache), every thread of pool reads its contiguous share of each
 * 8 MiB piece of the rest of buf (bytes long, 64-byte aligned, already written once) with the
 * widest loads usable here, piece by piece as 4 streams side by side, one sequential stream,
 * 6 streams or 2 (the decode kernels read 2-6 W rows, or 2 groups of 16 R16 rows, side by
 * side); the best piece of all passes. */
double tlb_probe_read_bw(struct tlb_pool *pool, const void *buf, size_t bytes, int passes);

/* f32 FMA peak in GFLOP/s, all threads of pool running at once (the total, not per thread);
 * the best of 6 runs of a few milliseconds. *isa names the instructions used ("avx512", "avx2", "neon", "scalar"). */
double tlb_probe_fma_peak(struct tlb_pool *pool, const char **isa);

/* FMA throughput of pool's n threads as a share of n times one thread's: about 1 when every
 * thread has a core of its own; far less when they share cores (a VM host running two vCPUs on
 * one core's SMT siblings, more threads than cores, throttling), which no load or steal figure
 * shows. About 50 ms (two probes). NAN when the one-thread probe measured nothing. */
double tlb_probe_core_share(struct tlb_pool *pool);

/* N threads whose FMA peak is below this share of N x one thread's did not get N cores
 * (kernels warns; the results column core_share; compare notes it). */
#define TLB_CORE_SHARE_LOW 0.75

/* Size of the last-level cache in bytes (sysfs cache/index*, else sysconf), 0 when unknown. */
size_t tlb_probe_llc_bytes(void);

#endif
