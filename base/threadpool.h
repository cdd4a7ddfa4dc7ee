/* threadpool.h — the engine's persistent worker threads. Workers are created once and wait
 * (spinning briefly, then sleeping) for work; a matmul hands them a function instead of
 * spawning threads. The calling thread takes part as worker 0. */
#ifndef TLB_THREADPOOL_H
#define TLB_THREADPOOL_H

/* The most threads anything in tlbench runs with (-t, profiles, the engine's pool). */
#define TLB_MAX_THREADS 1024

struct tlb_pool;

/* fn(arg, ith, nth) runs once on each of the nth threads, ith = 0..nth-1. */
typedef void (*tlb_task_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (including the caller). Returns NULL with an error printed on failure. */
struct tlb_pool *tlb_pool_create(int n_threads);
void tlb_pool_free(struct tlb_pool *pool);
int tlb_pool_size(const struct tlb_pool *pool);
/* Run fn on every thread of the pool and return when all have finished. Not reentrant:
 * fn must not call tlb_pool_run. A NULL pool runs fn(arg, 0, 1) on the caller. */
void tlb_pool_run(struct tlb_pool *pool, tlb_task_fn fn, void *arg);

/* Split [0, n) into nth nearly equal ranges; thread ith gets [*lo, *hi). */
static inline void tlb_split_range(long n, int ith, int nth, long *lo, long *hi) {
    long per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem ? 1 : 0);
}

#endif
