/* threadpool.c — persistent pthread workers driven by a generation counter. A worker spins
 * for up to ~1 ms waiting for the next job (decode issues ~150 matmuls per token, too many to
 * pay a futex wake-up for each), then sleeps on a condition variable. */
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util.h"

#define TLB_SPIN_NS 1000000 /* spin this long before sleeping */

struct tlb_pool {
    int n;
    pthread_t *threads;
    struct worker_arg *args;
    atomic_uint gen;  /* bumped once per job */
    atomic_int done;  /* workers (excluding the caller) finished with the current job */
    atomic_int stop;
    atomic_int sleepers;
    tlb_task_fn fn;
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct worker_arg {
    struct tlb_pool *pool;
    int ith;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void *worker_main(void *p) {
    struct worker_arg *wa = p;
    struct tlb_pool *pool = wa->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int64_t spin_start = tlb_now_ns();
        int spins = 0;
        while ((g = atomic_load_explicit(&pool->gen, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return NULL;
            cpu_relax();
            if ((++spins & 255) == 0 && tlb_now_ns() - spin_start > TLB_SPIN_NS) {
                pthread_mutex_lock(&pool->mu);
                atomic_fetch_add(&pool->sleepers, 1);
                while (atomic_load(&pool->gen) == seen && !atomic_load(&pool->stop))
                    pthread_cond_wait(&pool->cv, &pool->mu);
                atomic_fetch_sub(&pool->sleepers, 1);
                pthread_mutex_unlock(&pool->mu);
                spin_start = tlb_now_ns();
            }
        }
        seen = g;
        if (atomic_load(&pool->stop)) return NULL;
        pool->fn(pool->arg, wa->ith, pool->n);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
    }
}

struct tlb_pool *tlb_pool_create(int n_threads) {
    if (n_threads < 1) {
        tlb_error("thread count must be at least 1 (got %d)", n_threads);
        return NULL;
    }
    struct tlb_pool *pool = tlb_calloc(1, sizeof *pool, "thread pool");
    if (!pool) return NULL;
    pool->n = n_threads;
    atomic_init(&pool->gen, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->stop, 0);
    atomic_init(&pool->sleepers, 0);
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    if (n_threads > 1) {
        pool->threads = tlb_calloc((size_t)n_threads, sizeof *pool->threads, "threads");
        pool->args = tlb_calloc((size_t)n_threads, sizeof *pool->args, "thread args");
        if (!pool->threads || !pool->args) {
            free(pool->threads);
            free(pool->args);
            free(pool);
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
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 1; i < pool->n; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool->threads);
    free(pool->args);
    free(pool);
}

int tlb_pool_size(const struct tlb_pool *pool) { return pool ? pool->n : 1; }

void tlb_pool_run(struct tlb_pool *pool, tlb_task_fn fn, void *arg) {
    if (!pool || pool->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
    if (atomic_load(&pool->sleepers)) pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    fn(arg, 0, pool->n);
    int spins = 0;
    while (atomic_load_explicit(&pool->done, memory_order_acquire) < pool->n - 1) {
        cpu_relax();
        /* more threads than cores (tests use 3 on 2): let the others run */
        if (++spins > 4096) sched_yield();
    }
}
