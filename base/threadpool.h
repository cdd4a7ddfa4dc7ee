/* threadpool.h — the engine's persistent worker threads. Workers are created once; a matmul
 * hands them work instead of spawning threads, and the calling thread takes part as thread 0.
 *
 * Work is divided dynamically: a job is a number of chunks, cut into one contiguous range per
 * thread; each thread claims the chunks of its own range one after the other, then those left
 * in the others' ranges (work stealing), so a thread that the OS does not run (a competing
 * process on its core) simply runs fewer chunks instead of holding up the others with its
 * share. Waiting threads poll for TLB_POOL_SPIN_NS, yielding the core, then sleep. A worker
 * that finds itself on the caller's CPU moves to another CPU its affinity allows, or sleeps
 * while the caller runs the chunks (threadpool.c says why). */
#ifndef TLB_THREADPOOL_H
#define TLB_THREADPOOL_H

/* The most threads anything in tlbench runs with (-t, profiles, the engine's pool). */
#define TLB_MAX_THREADS 1024

/* How long a waiting thread polls (pause + sched_yield) before it sleeps: a worker for the
 * next job, the caller for chunks still running elsewhere (threadpool.c says why 1 s). */
#define TLB_POOL_SPIN_NS 1000000000LL

struct tlb_pool;

/* One chunk of a job: fn(arg, chunk, thread), thread = 0..size-1 (0 is the caller) names the
 * thread that runs it, for per-thread scratch. */
typedef void (*tlb_chunk_fn)(void *arg, long chunk, int thread);
/* Part ith of nth (ith = 0..nth-1, nth = the pool's size): one call per part. */
typedef void (*tlb_task_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (including the caller). Returns NULL with an error printed on failure. */
struct tlb_pool *tlb_pool_create(int n_threads);
void tlb_pool_free(struct tlb_pool *pool);
int tlb_pool_size(const struct tlb_pool *pool);

/* Run fn once for every chunk in [0, n_chunks) (n_chunks < 2^31), each on whichever thread
 * claims it, and return when all have finished. Not reentrant: fn must not start another job
 * on the same pool. A NULL pool runs every chunk on the caller. */
void tlb_pool_run_chunks(struct tlb_pool *pool, long n_chunks, tlb_chunk_fn fn, void *arg);

/* Let the workers sleep now rather than poll out TLB_POOL_SPIN_NS: for a caller about to wait
 * a long while with nothing for them (tlbench ab's turns: polling threads would take CPU from
 * the other build's repetition). The next job wakes them. NULL: nothing. */
void tlb_pool_rest(struct tlb_pool *pool);

/* Run fn(arg, ith, nth) for the pool's nth parts (tlb_pool_run_chunks with one chunk per
 * part: a part's index, not the thread running it; scratch indexed by ith is still private). */
void tlb_pool_run(struct tlb_pool *pool, tlb_task_fn fn, void *arg);

/* Split [0, n) into nth nearly equal ranges; part ith gets [*lo, *hi). */
static inline void tlb_split_range(long n, int ith, int nth, long *lo, long *hi) {
    long per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem ? 1 : 0);
}

/* How many chunks to cut n units of work into for a pool of nth threads: about `per_thread`
 * chunks per thread (so a slow or descheduled thread costs little), but none smaller than
 * min_units, and 1 when nth == 1. */
static inline long tlb_pool_chunk_count(long n, int nth, int per_thread, long min_units) {
    if (nth <= 1 || n <= min_units) return 1;
    long c = (long)nth * per_thread, most = n / (min_units > 0 ? min_units : 1);
    return c < most ? c : most;
}

#endif
