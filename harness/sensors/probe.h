/* probe.h — this machine's limits, measured at run time by `tlbench kernels` so kernel
 * figures can be stated as a share of them: memory read bandwidth (a buffer much larger than
 * the caches, read by every thread of a pool at once) and f32 FMA peak (independent FMA
 * chains in registers, the widest vector ISA usable here). */
#ifndef TLB_PROBE_H
#define TLB_PROBE_H

#include <math.h>
#include <stddef.h>

struct tlb_pool;

/* Read bandwidth in GB/s (1e9 bytes/s): after an untimed read of twice the last-level cache
 * (so that nothing comes from cache), every thread of pool reads its contiguous share of each
 * 8 MiB piece of the rest of buf (bytes long, 64-byte aligned, already written once) with the
 * widest loads usable here, piece by piece as 4 streams side by side, one sequential stream,
 * 6 streams or 2 (the decode kernels read 2-6 W rows, or 2 groups of 16 R16 rows, side by
 * side); the best piece of all passes. pattern_median (NULL: not wanted) receives each stream
 * pattern's median piece, in GB/s, in the order tlb_probe_read_once's turn names them: which
 * pattern the memory serves fastest, measured side by side in one pass. */
#define TLB_PROBE_PATTERNS 4
double tlb_probe_read_bw(struct tlb_pool *pool, const void *buf, size_t bytes, int passes,
                         double pattern_median[TLB_PROBE_PATTERNS]);

/* Streams per thread that stream pattern `turn` reads side by side. */
int tlb_probe_pattern_streams(unsigned turn);

/* One read of [buf, buf + bytes) (64-byte aligned; whole 256-byte pieces count) by every
 * thread of pool, timed whole, in GB/s: the yardstick `tlbench kernels` pairs with each decode
 * repetition, over a weight copy of the same size (the plain read of the bytes the kernel
 * reads, at the memory's level of that moment). turn picks the stream pattern of
 * tlb_probe_read_bw (turn % TLB_PROBE_PATTERNS). */
double tlb_probe_read_once(struct tlb_pool *pool, const void *buf, size_t bytes, unsigned turn);

/* A stretch of memory the process holds, resident (a weight matrix). */
struct tlb_span {
    const void *p;
    size_t len;
};

/* The memory's level at a moment (the results column mem_bw_gbps): the read bandwidth of
 * pool's threads over spans a run already holds (a model's weights: nothing is allocated, so
 * the run's peak RSS stays its own), walked once: the first 4 x the LLC untimed, then 16
 * pieces of 4-8 MiB (shorter spans are skipped); the best piece counts. About 10 ms (256 MiB
 * on the dev VM). NAN when the spans hold less than the lead and 4 pieces. */
double tlb_probe_mem_level(struct tlb_pool *pool, const struct tlb_span *spans, int n);

/* Bytes tlb_probe_mem_level reads (the lead and 16 pieces). */
size_t tlb_probe_mem_level_bytes(void);

/* The same over a buffer of its own of tlb_probe_mem_level_bytes(), huge pages where the
 * kernel gives them, allocated, written and freed (about 80 ms more): for the llama.cpp
 * adapter, whose process holds no weights. NAN when the buffer could not be had. */
double tlb_probe_mem_level_own(struct tlb_pool *pool);

/* Two rows whose memory levels (mem_bw_gbps) differ by more than this share of the higher
 * compare the host's moments, not the code: the report leaves such rounds out, compare says
 * so. Not 10 %: on the dev VM back-to-back levels in a busy minute spread by up to a fifth,
 * while its slow and fast spells differ by 40 % and more. */
#define TLB_MEM_LEVEL_APART 0.25

/* 1 when levels a and b (GB/s) are more than TLB_MEM_LEVEL_APART apart; 0 when either is NaN. */
static inline int tlb_mem_levels_apart(double a, double b) {
    return fabs(a - b) > TLB_MEM_LEVEL_APART * fmax(a, b);
}

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
