/* threadpool.c — persistent pthread workers, work stealing over per-thread ranges. A job's
 * chunks are cut into one contiguous range per thread, each with its own word on its own cache
 * line: the job's generation in the high 32 bits, the range's next unclaimed chunk in the low
 * 32. A thread claims its own range's chunks first, then what is left of the others'. A claim
 * is a compare-and-swap on the range's word, so a worker that wakes up late (its core was busy
 * with another process) can never claim a chunk of a job that has moved on; the caller claims
 * chunks like any worker and returns when the count of finished chunks reaches the total,
 * without waiting for threads that found nothing to do.
 *
 * Why ranges, not one shared counter (the pool had one until 2026-12-07): with one counter the
 * two threads of a 2-vCPU guest took every other chunk, each claim and each finished chunk a
 * cache line passed between the cores, and each thread's weights came in every other chunk
 * instead of one run. Measured on a 2-vCPU Zen 4 KVM guest, `tlbench kernels -m 1 -t 2` with
 * both ways in one process (this pool, and all chunks in one range, alternating every 4
 * repetitions, 20 runs): when the host served ~45-65 GB/s to the two vCPUs, ranges decoded
 * 0.4-11 % faster (median per row; q4_0 2048x2048 11 %, q8_0 8 %, f32/f16/bf16 1-5 %), at
 * ~30-38 GB/s 0-3 %.
 *
 * Waiting: workers poll for the next job with pause + sched_yield() (decode issues ~150
 * matmuls per token, too many to pay a futex wake-up for each; the yield hands the core to
 * whatever else wants it, e.g. the caller when both ended up on one core), and sleep on a
 * condition variable after TLB_POOL_SPIN_NS (1 s) without work; the caller, waiting for a
 * chunk still running elsewhere, polls as long (yielding likewise) before it sleeps. Why so long: on a
 * 2-vCPU KVM guest whose host serves 2 threads either ~36 or ~65 GB/s (the vCPUs on one part
 * of the chip or two), threads that slept after 1 ms (worker) and 50 us (caller) decoded f16
 * on 2 threads at a median of 15.8 tokens/s, threads that polled for 1 s at 21.2 (33
 * interleaved rounds, 1.19x per round, 23 of 33 above 1); 1 ms for both, or 1 s for the
 * worker alone, measured as the short waits did. A guest CPU that sleeps is woken by the
 * other's interrupt, and the host's wake-up seems to pull the two together (not measurable
 * from inside).
 *
 * Sharing the caller's CPU: with a CPU-bound process on one core of two (three runnable threads
 * on two CPUs) the scheduler often put the worker on the caller's CPU and left it there; there
 * it took turns with the caller, which runs everything between the matmuls, and the yields did
 * not stop it (the scheduler is fair to a thread that yields). perf sched on a 2-vCPU Zen 4 KVM
 * guest, a busy loop on CPU 1: the worker ran 107-2338 ms of a ~3 s run on the caller's CPU in
 * 43 of 52 runs, and 2-thread decode fell to a median of 0.81x and 0.91x the 1-thread rate (16
 * and 15 interleaved rounds). So a worker that finds itself on the CPU the caller last
 * published a job from moves to another CPU its affinity allows (narrowing its mask, then giving
 * it back), at most every 10 ms, and otherwise sleeps without being woken by jobs, 1 ms and up
 * to 32 ms, while the caller runs the chunks: 1.04x the 1-thread rate over 15 rounds, 12 above 1,
 * the worker working beside the busy loop (scripts/bench-busy-core.sh has the benchmark; its
 * medians over seven sets on 2026-12-07/08 were 0.99-1.044, single rounds 0.71-1.33: the
 * worker beside the busy loop ran 3-4 % of the chunks, so it keeps the 1-thread rate and adds
 * little). */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define YIELD_EVERY 64 /* pauses between sched_yield() calls */
/* A worker on the caller's CPU moves off it at most this often, else sleeps 1 ms, then twice as
 * long each time it wakes there again (see leave_callers_cpu). Chosen, not tuned: the busy-core
 * figures above were measured with these values, no others were tried. */
#define MOVE_EVERY_NS 10000000LL
#define SHARED_CPU_SLEEP_MIN_NS 1000000LL
#define SHARED_CPU_SLEEP_MAX_NS 32000000LL

/* Thread i's words, on a cache line of their own so that while it works on its own range
 * they stay in its cache: range i of the current job (generation << 32 | the next unclaimed
 * chunk) and how many of the job's chunks thread i has finished (written by it alone, after
 * each chunk: a thread the OS stops between two chunks has counted those it ran). */
struct thread_words {
    _Alignas(64) atomic_uint_least64_t next;
    atomic_long done;
};

struct tlb_pool {
    int n;
    pthread_t *threads;
    struct worker_arg *args;
    struct thread_words *tw;      /* n of them, thread i's at tw[i] */
    uint32_t gen;                 /* the caller's copy of the current generation */
    /* the job of generation g in slot g & 1, written before the word below publishes it. Two
     * slots, because a worker that saw generation g may read the job's fields late: while the
     * caller sets up g + 1 (the word still says g, all of g's chunks claimed) that worker must
     * still read g's chunk count, or it could claim a chunk of g + 1 under g's generation and
     * count it done twice (seen once under load: a matmul returned with a chunk still running) */
    _Atomic(tlb_chunk_fn) fn[2];
    _Atomic(void *) arg[2];
    atomic_long n_chunks[2];
    _Alignas(64) atomic_uint_least64_t word; /* generation << 32: a new job (workers poll it) */
    atomic_int caller_cpu;        /* the CPU the caller last published a job from, or -1 */
    _Alignas(64) atomic_int caller_waiting; /* the caller sleeps on done_cv */
    _Alignas(64) atomic_int sleepers; /* workers sleeping on job_cv */
    atomic_int rest;              /* tlb_pool_rest: sleep without polling until the next job */
    atomic_int stop;
    pthread_mutex_t mu;
    pthread_cond_t job_cv;
    pthread_cond_t done_cv;
    pthread_cond_t stop_cv;       /* wakes workers out of a shared-CPU sleep (CLOCK_MONOTONIC) */
};

struct worker_arg {
    struct tlb_pool *pool;
    int thread;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline uint32_t word_gen(uint64_t w) { return (uint32_t)(w >> 32); }

/* Claim and run the chunks of range r of job `gen` (n chunks) until none are left there, or
 * the job is no longer current; *ran counts the chunks this thread has finished. */
static void work_range(struct tlb_pool *pool, int r, uint32_t gen, tlb_chunk_fn fn, void *arg,
                       long n, int thread, long *ran) {
    long lo, hi;
    tlb_split_range(n, r, pool->n, &lo, &hi);
    if (lo >= hi) return; /* an empty range: not even a look at its word */
    atomic_uint_least64_t *next = &pool->tw[r].next;
    uint64_t w = atomic_load_explicit(next, memory_order_acquire);
    for (;;) {
        if (word_gen(w) != gen || (long)(uint32_t)w >= hi) return;
        if (!atomic_compare_exchange_weak_explicit(next, &w, w + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* w now holds the current word */
        fn(arg, (long)(uint32_t)w, thread);
        /* seq_cst, as is caller_waiting: either the caller sees this count, or we see it
         * waiting and wake it (it checks the total itself) */
        atomic_store(&pool->tw[thread].done, ++*ran);
        if (atomic_load(&pool->caller_waiting)) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->done_cv);
            pthread_mutex_unlock(&pool->mu);
        }
        w = atomic_load_explicit(next, memory_order_acquire);
    }
}

/* Thread `thread`'s part of job `gen`: its own range first (one sequential stream of weights,
 * and claims that stay in its cache), then what is left of the others' ranges, so a thread
 * that the OS does not run leaves its chunks to the rest. */
static void work(struct tlb_pool *pool, uint32_t gen, tlb_chunk_fn fn, void *arg, long n,
                 int thread) {
    long ran = 0;
    for (int i = 0; i < pool->n; i++)
        work_range(pool, (thread + i) % pool->n, gen, fn, arg, n, thread, &ran);
}

/* Move this thread off `cpu` if its affinity allows another: narrow the mask to the others,
 * which migrates it at once, then give the whole mask back (a wider mask does not move a
 * thread back). Returns whether it moved. */
static int move_off(int cpu) {
    cpu_set_t allowed, others;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    others = allowed;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0 || sched_setaffinity(0, sizeof others, &others) != 0) return 0;
    if (sched_setaffinity(0, sizeof allowed, &allowed) != 0)
        tlb_warn("a pool worker could not restore its CPU affinity");
    return 1;
}

/* While this worker runs on the CPU the caller last published a job from, get off it: move to
 * another CPU the affinity allows (at most once per MOVE_EVERY_NS), else sleep without being
 * woken by jobs (the caller takes its chunks meanwhile), 1 ms and twice as long each time it
 * wakes there again, up to 32 ms; tlb_pool_free wakes it. *last_move is the time of its last
 * move. Returns whether it slept. Why: see "Sharing the caller's CPU" at the top of the file. */
static int leave_callers_cpu(struct tlb_pool *pool, int64_t *last_move) {
    int64_t sleep_ns = 0;
    for (;;) {
        const int cpu = sched_getcpu(); /* -1: the kernel cannot say */
        if (cpu < 0 || cpu != atomic_load_explicit(&pool->caller_cpu, memory_order_relaxed) ||
            atomic_load(&pool->stop))
            return sleep_ns > 0;
        const int64_t now = tlb_now_ns();
        if (now - *last_move >= MOVE_EVERY_NS && move_off(cpu)) {
            *last_move = now;
            continue;
        }
        sleep_ns = sleep_ns ? sleep_ns * 2 : SHARED_CPU_SLEEP_MIN_NS;
        if (sleep_ns > SHARED_CPU_SLEEP_MAX_NS) sleep_ns = SHARED_CPU_SLEEP_MAX_NS;
        const int64_t until = now + sleep_ns;
        pthread_mutex_lock(&pool->mu);
        while (!atomic_load(&pool->stop) &&
               tlb_cond_wait_until(&pool->stop_cv, &pool->mu, until) == 0) {
        } /* 0: woken early (spuriously, or by tlb_pool_free); else timed out */
        pthread_mutex_unlock(&pool->mu);
    }
}

static void *worker_main(void *p) {
    struct worker_arg *wa = p;
    struct tlb_pool *pool = wa->pool;
    uint32_t seen = 0;
    int64_t last_move = -MOVE_EVERY_NS;
    for (;;) {
        int64_t start = tlb_now_ns();
        unsigned spins = 0;
        uint64_t w;
        while (word_gen(w = atomic_load_explicit(&pool->word, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return NULL;
            cpu_relax();
            if (++spins % YIELD_EVERY) continue;
            sched_yield();
            if (leave_callers_cpu(pool, &last_move)) start = tlb_now_ns(); /* slept: poll afresh */
            if (!atomic_load_explicit(&pool->rest, memory_order_relaxed) &&
                tlb_now_ns() - start < TLB_POOL_SPIN_NS)
                continue;
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->sleepers, 1); /* seq_cst: the caller's check after publishing */
            while (word_gen(atomic_load(&pool->word)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->job_cv, &pool->mu);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mu);
            start = tlb_now_ns();
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = word_gen(w);
        if (leave_callers_cpu(pool, &last_move)) continue; /* slept through it: the caller ran it */
        /* slot seen & 1 holds job `seen`, or job seen + 2 once the word has moved past seen
         * (then every claim fails the generation check) */
        const int slot = seen & 1;
        work(pool, seen, atomic_load_explicit(&pool->fn[slot], memory_order_acquire),
             atomic_load_explicit(&pool->arg[slot], memory_order_acquire),
             atomic_load_explicit(&pool->n_chunks[slot], memory_order_acquire), wa->thread);
    }
}

struct tlb_pool *tlb_pool_create(int n_threads) {
    if (n_threads < 1) {
        tlb_error("thread count must be at least 1 (got %d)", n_threads);
        return NULL;
    }
    /* aligned for the words on cache lines of their own */
    struct tlb_pool *pool = aligned_alloc(64, (sizeof *pool + 63) / 64 * 64);
    struct thread_words *tw = aligned_alloc(64, (size_t)n_threads * sizeof *tw);
    if (!pool || !tw) {
        tlb_error("out of memory for a thread pool of %d threads", n_threads);
        free(pool);
        free(tw);
        return NULL;
    }
    memset(pool, 0, sizeof *pool);
    pool->n = n_threads;
    pool->tw = tw;
    for (int i = 0; i < n_threads; i++) {
        atomic_init(&tw[i].next, 0);
        atomic_init(&tw[i].done, 0);
    }
    for (int i = 0; i < 2; i++) {
        atomic_init(&pool->fn[i], NULL);
        atomic_init(&pool->arg[i], NULL);
        atomic_init(&pool->n_chunks[i], 0);
    }
    atomic_init(&pool->word, 0);
    atomic_init(&pool->caller_cpu, -1);
    atomic_init(&pool->caller_waiting, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->rest, 0);
    atomic_init(&pool->stop, 0);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->job_cv, NULL);
    pthread_cond_init(&pool->done_cv, NULL);
    tlb_cond_init_monotonic(&pool->stop_cv);
    if (n_threads > 1) {
        pool->threads = tlb_calloc((size_t)n_threads, sizeof *pool->threads, "threads");
        pool->args = tlb_calloc((size_t)n_threads, sizeof *pool->args, "thread args");
        if (!pool->threads || !pool->args) {
            pool->n = 1; /* no worker to join */
            tlb_pool_free(pool);
            return NULL;
        }
        for (int i = 1; i < n_threads; i++) {
            pool->args[i] = (struct worker_arg){pool, i};
            if (pthread_create(&pool->threads[i], NULL, worker_main, &pool->args[i]) != 0) {
                tlb_error("cannot create worker thread %d of %d", i, n_threads);
                pool->n = i; /* join only those that started */
                tlb_pool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void tlb_pool_free(struct tlb_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mu);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->job_cv);
    pthread_cond_broadcast(&pool->stop_cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; pool->threads && i < pool->n; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->job_cv);
    pthread_cond_destroy(&pool->done_cv);
    pthread_cond_destroy(&pool->stop_cv);
    free(pool->threads);
    free(pool->args);
    free(pool->tw);
    free(pool);
}

int tlb_pool_size(const struct tlb_pool *pool) { return pool ? pool->n : 1; }

/* Chunks of the current job finished so far, over all threads. */
static long finished(struct tlb_pool *pool) {
    long sum = 0;
    for (int i = 0; i < pool->n; i++) sum += atomic_load(&pool->tw[i].done);
    return sum;
}

/* The caller, its own claims exhausted: wait until every chunk has finished. */
static void wait_done(struct tlb_pool *pool, long n) {
    int64_t start = 0;
    unsigned spins = 0;
    while (finished(pool) < n) {
        cpu_relax();
        if (++spins % YIELD_EVERY) continue;
        sched_yield(); /* a worker holding the last chunk may share this core */
        if (!start) {
            start = tlb_now_ns();
        } else if (tlb_now_ns() - start > TLB_POOL_SPIN_NS) {
            pthread_mutex_lock(&pool->mu);
            atomic_store(&pool->caller_waiting, 1);
            while (finished(pool) < n) pthread_cond_wait(&pool->done_cv, &pool->mu);
            atomic_store(&pool->caller_waiting, 0);
            pthread_mutex_unlock(&pool->mu);
            return;
        }
    }
}

void tlb_pool_run_chunks(struct tlb_pool *pool, long n_chunks, tlb_chunk_fn fn, void *arg) {
    if (n_chunks <= 0) return;
    if (!pool || pool->n == 1 || n_chunks == 1) {
        for (long c = 0; c < n_chunks; c++) fn(arg, c, 0);
        return;
    }
    TLB_ASSERT(n_chunks < ((long)1 << 31));
    const uint32_t gen = ++pool->gen;
    /* release/acquire: a worker that reads a field of this job also sees the words of the
     * jobs before it (every chunk of job gen - 1 was claimed before the caller got here), so
     * its claim with an older generation fails */
    atomic_store_explicit(&pool->fn[gen & 1], fn, memory_order_release);
    atomic_store_explicit(&pool->arg[gen & 1], arg, memory_order_release);
    atomic_store_explicit(&pool->n_chunks[gen & 1], n_chunks, memory_order_release);
    for (int i = 0; i < pool->n; i++) { /* each thread's range: its part of [0, n_chunks) */
        long lo, hi;
        tlb_split_range(n_chunks, i, pool->n, &lo, &hi);
        atomic_store_explicit(&pool->tw[i].done, 0, memory_order_relaxed);
        atomic_store_explicit(&pool->tw[i].next, (uint64_t)gen << 32 | (uint64_t)lo,
                              memory_order_relaxed);
    }
    atomic_store_explicit(&pool->rest, 0, memory_order_relaxed); /* published with the word */
    atomic_store_explicit(&pool->caller_cpu, sched_getcpu(), memory_order_relaxed);
    /* publish (seq_cst), then look for sleepers (seq_cst): a worker either sees the new
     * generation before it sleeps, or is counted here and woken */
    atomic_store(&pool->word, (uint64_t)gen << 32);
    if (atomic_load(&pool->sleepers)) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->job_cv);
        pthread_mutex_unlock(&pool->mu);
    }
    work(pool, gen, fn, arg, n_chunks, 0);
    wait_done(pool, n_chunks);
}

void tlb_pool_rest(struct tlb_pool *pool) {
    if (pool) atomic_store_explicit(&pool->rest, 1, memory_order_relaxed);
}

struct part_job {
    tlb_task_fn fn;
    void *arg;
    int nth;
};

static void run_part(void *arg, long chunk, int thread) {
    const struct part_job *p = arg;
    (void)thread;
    p->fn(p->arg, (int)chunk, p->nth);
}

void tlb_pool_run(struct tlb_pool *pool, tlb_task_fn fn, void *arg) {
    struct part_job p = {fn, arg, tlb_pool_size(pool)};
    tlb_pool_run_chunks(pool, p.nth, run_part, &p);
}
