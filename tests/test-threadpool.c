/* test-threadpool.c — the pool's contract, not its speed: every chunk of a job runs exactly
 * once, on a thread index inside the pool, and the job is complete when run returns, over many
 * jobs in a row (a late worker must never run a chunk of a job that has moved on), with more
 * threads than CPUs, with one chunk, with none, and with a NULL pool; a worker starts on its
 * own range, and the caller takes over the range of a worker asleep in a chunk; a worker on the
 * caller's CPU leaves the chunks to it; tlb_pool_run gives
 * each part exactly once; tlb_pool_chunk_count stays within its bounds. */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "test.h"
#include "threadpool.h"
#include "util.h"

#define MAX_CHUNKS 4096

static void sleep_ns(long long ns) {
    const struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL);
}

struct count_job {
    atomic_int hits[MAX_CHUNKS];
    atomic_int bad_thread;
    int nth;
    long n;
};

static void count_chunk(void *arg, long chunk, int thread) {
    struct count_job *j = arg;
    if (thread < 0 || thread >= j->nth || chunk < 0 || chunk >= j->n)
        atomic_fetch_add(&j->bad_thread, 1);
    else
        atomic_fetch_add(&j->hits[chunk], 1);
}

/* Run jobs of n chunks `jobs` times on pool; 0 when every chunk ran exactly once each time. */
static int check_jobs(struct tlb_pool *pool, long n, int jobs, char *msg, size_t len) {
    static struct count_job j;
    for (int r = 0; r < jobs; r++) {
        for (long c = 0; c < n; c++) atomic_store(&j.hits[c], 0);
        atomic_store(&j.bad_thread, 0);
        j.nth = tlb_pool_size(pool);
        j.n = n;
        tlb_pool_run_chunks(pool, n, count_chunk, &j);
        /* all done on return: nothing may still be running or run later */
        for (long c = 0; c < n; c++) {
            const int h = atomic_load(&j.hits[c]);
            if (h != 1) {
                snprintf(msg, len, "job %d of %ld chunks: chunk %ld ran %d times", r, n, c, h);
                return -1;
            }
        }
        if (atomic_load(&j.bad_thread)) {
            snprintf(msg, len, "job %d: chunk or thread index out of range", r);
            return -1;
        }
    }
    return 0;
}

TLB_TEST(pool_chunks_each_exactly_once) {
    static const int threads[] = {1, 2, 3, 8}; /* 8: more threads than this machine's CPUs */
    static const long sizes[] = {0, 1, 2, 7, 64, 4096};
    char msg[200] = "";
    for (size_t t = 0; t < TLB_ARRAY_LEN(threads); t++) {
        struct tlb_pool *pool = tlb_pool_create(threads[t]);
        TLB_CHECK(pool != NULL, "cannot create a pool of %d", threads[t]);
        int rc = 0;
        for (size_t s = 0; s < TLB_ARRAY_LEN(sizes) && rc == 0; s++)
            rc = check_jobs(pool, sizes[s], sizes[s] > 64 ? 50 : 2000, msg, sizeof msg);
        tlb_pool_free(pool);
        TLB_CHECK(rc == 0, "%d threads: %s", threads[t], msg);
    }
    TLB_CHECK(check_jobs(NULL, 64, 3, msg, sizeof msg) == 0, "NULL pool: %s", msg);
}

/* Workers that went to sleep (no job for a while) wake up for the next one. */
TLB_TEST(pool_after_idle) {
    struct tlb_pool *pool = tlb_pool_create(3);
    TLB_CHECK(pool != NULL, "no pool");
    char msg[200] = "";
    int rc = check_jobs(pool, 64, 10, msg, sizeof msg);
    if (rc == 0) {
        sleep_ns(TLB_POOL_SPIN_NS + 200 * 1000 * 1000); /* past the polling */
        rc = check_jobs(pool, 64, 10, msg, sizeof msg);
    }
    tlb_pool_free(pool);
    TLB_CHECK(rc == 0, "%s", msg);
}

/* A worker's chunk that outlasts the caller's polling: the caller, done with the other
 * chunks, goes to sleep and must be woken when that chunk ends, not return before it. Meanwhile
 * the caller takes over the rest of the sleeping worker's range: every other chunk runs on
 * thread 0 (the worker's first claim is the slow one; the caller's 15 chunks take ~1.5 ms). */
struct slow_job {
    atomic_int hits[16];
    atomic_int on[16];     /* the thread each chunk ran on */
    atomic_int slow_taken; /* the slow chunk + 1 once a worker took it */
};

static void slow_chunk(void *arg, long chunk, int thread) {
    struct slow_job *j = arg;
    int no = 0;
    if (thread != 0 && atomic_compare_exchange_strong(&j->slow_taken, &no, (int)chunk + 1)) {
        sleep_ns(TLB_POOL_SPIN_NS + 200 * 1000 * 1000);
    } else { /* 100 us of work, so that the worker claims a chunk before the caller is done */
        const int64_t t0 = tlb_now_ns();
        while (tlb_now_ns() - t0 < 100 * 1000) {
        }
    }
    atomic_store(&j->on[chunk], thread);
    atomic_fetch_add(&j->hits[chunk], 1);
}

TLB_TEST(pool_caller_waits_for_slow_chunk) {
    struct tlb_pool *pool = tlb_pool_create(2);
    TLB_CHECK(pool != NULL, "no pool");
    static struct slow_job j;
    int tries = 0, missing = 0;
    do { /* a worker claims some chunk nearly always; retry a job it missed (under make test's
          * parallel load the caller finished all 16 chunks alone in 5 jobs in a row once; a
          * missed job costs ~1.6 ms) */
        for (int c = 0; c < 16; c++) atomic_store(&j.hits[c], 0);
        atomic_store(&j.slow_taken, 0);
        tlb_pool_run_chunks(pool, 16, slow_chunk, &j);
        missing = 0;
        for (int c = 0; c < 16; c++) missing += atomic_load(&j.hits[c]) != 1;
    } while (!atomic_load(&j.slow_taken) && ++tries < 50 && missing == 0);
    tlb_pool_free(pool);
    TLB_CHECK(atomic_load(&j.slow_taken), "no worker claimed a chunk in %d jobs", tries);
    TLB_CHECK(missing == 0, "%d chunks not done once when the job returned", missing);
    const int slow = atomic_load(&j.slow_taken) - 1;
    for (int c = 0; c < 16; c++)
        TLB_CHECK(c == slow || atomic_load(&j.on[c]) == 0, "chunk %d ran on thread %d while the "
                  "worker slept in chunk %d", c, atomic_load(&j.on[c]), slow);
}

struct first_job {
    atomic_int on[16];        /* the thread each chunk ran on, + 1 (0: not run) */
    atomic_long worker_first; /* the first chunk a worker ran, -1 none yet */
};

static void first_chunk(void *arg, long chunk, int thread) {
    struct first_job *j = arg;
    long none = -1;
    if (thread != 0) atomic_compare_exchange_strong(&j->worker_first, &none, chunk);
    if (thread == 0 && chunk == 0) { /* hold chunk 0 until a worker has claimed something */
        const int64_t t0 = tlb_now_ns();
        while (atomic_load(&j->worker_first) < 0 && tlb_now_ns() - t0 < 5000000000LL) {
        }
    }
    atomic_store(&j->on[chunk], thread + 1);
}

/* Each thread starts on its own range: with the caller holding chunk 0 (the first of its
 * range, [0, 8)), the worker's first chunk is 8, the first of its range [8, 16); with one
 * shared counter it would have been 1. */
TLB_TEST(pool_worker_starts_on_its_own_range) {
    struct tlb_pool *pool = tlb_pool_create(2);
    TLB_CHECK(pool != NULL, "no pool");
    static struct first_job j;
    for (int c = 0; c < 16; c++) atomic_store(&j.on[c], 0);
    atomic_store(&j.worker_first, -1);
    tlb_pool_run_chunks(pool, 16, first_chunk, &j);
    tlb_pool_free(pool);
    const long first = atomic_load(&j.worker_first);
    if (first < 0) TLB_SKIP("the worker got no CPU in 5 s (a busy machine)");
    TLB_CHECK(first == 8, "the worker's first chunk was %ld, not 8 (the start of its range)",
              first);
    for (int c = 0; c < 16; c++)
        TLB_CHECK(atomic_load(&j.on[c]) != 0, "chunk %d did not run", c);
}

/* CPU time this process used over the next ms milliseconds of the caller sleeping. */
static double cpu_ms_while_sleeping(int ms) {
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    sleep_ns((long long)ms * 1000000);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    return (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

struct who_job {
    atomic_int ran_on[2];
};

static void who_chunk(void *arg, long chunk, int thread) {
    struct who_job *j = arg;
    (void)chunk;
    sleep_ns(5 * 1000000); /* long enough for both threads to claim */
    atomic_fetch_add(&j->ran_on[thread], 1);
}

/* After a job a 2-thread pool's worker polls (it uses CPU while the caller sleeps); after
 * tlb_pool_rest it sleeps (next to none), and the next job wakes it: both threads run chunks. */
TLB_TEST(pool_rest_stops_polling) {
    struct tlb_pool *pool = tlb_pool_create(2);
    TLB_CHECK(pool != NULL, "no pool");
    static struct who_job j;
    tlb_pool_run_chunks(pool, 8, who_chunk, &j);
    const double polling = cpu_ms_while_sleeping(300);
    tlb_pool_rest(pool);
    cpu_ms_while_sleeping(20); /* the worker notices within microseconds */
    const double resting = cpu_ms_while_sleeping(300);
    atomic_store(&j.ran_on[0], 0);
    atomic_store(&j.ran_on[1], 0);
    tlb_pool_run_chunks(pool, 8, who_chunk, &j);
    const int on0 = atomic_load(&j.ran_on[0]), on1 = atomic_load(&j.ran_on[1]);
    tlb_pool_free(pool);
    TLB_CHECK(on0 + on1 == 8 && on1 > 0, "after rest: %d chunks on the caller, %d on the worker",
              on0, on1);
    /* a worker that could not poll (other processes had the CPU) leaves nothing to tell apart */
    if (polling < 100)
        TLB_SKIP("the polling worker got only %.1f ms of CPU in 300 ms (a busy machine)", polling);
    TLB_CHECK(resting < polling / 10, "a resting pool used %.1f ms of CPU in 300 ms, a polling "
              "one %.1f", resting, polling);
}

struct on_job {
    atomic_int ran_on[2];
};

static void busy_chunk(void *arg, long chunk, int thread) {
    struct on_job *j = arg;
    (void)chunk;
    const int64_t t0 = tlb_now_ns();
    while (tlb_now_ns() - t0 < 50000) { /* 50 us of CPU: the caller never gives its CPU away */
    }
    atomic_fetch_add(&j->ran_on[thread], 1);
}

/* With the caller and the worker on one CPU (both pinned there), the worker sleeps instead of
 * taking turns with the caller: every chunk runs on the caller. A polling worker there would
 * get its share of the CPU and run chunks in it (the scheduler is fair to it). */
TLB_TEST(pool_worker_leaves_callers_cpu) {
    cpu_set_t all, one;
    const int cpu = sched_getcpu();
    if (cpu < 0 || sched_getaffinity(0, sizeof all, &all) != 0)
        TLB_SKIP("cannot read this thread's CPU or affinity");
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        TLB_SKIP("cannot pin this thread to CPU %d", cpu);
    struct tlb_pool *pool = tlb_pool_create(2); /* the worker inherits the pinning */
    static struct on_job j;
    for (int r = 0; pool && r < 200; r++) tlb_pool_run_chunks(pool, 16, busy_chunk, &j);
    tlb_pool_free(pool);
    TLB_CHECK(sched_setaffinity(0, sizeof all, &all) == 0, "cannot restore the affinity");
    TLB_CHECK(pool != NULL, "no pool");
    TLB_CHECK(atomic_load(&j.ran_on[0]) == 200 * 16 && atomic_load(&j.ran_on[1]) == 0,
              "on one CPU the worker ran %d of %d chunks", atomic_load(&j.ran_on[1]),
              atomic_load(&j.ran_on[0]) + atomic_load(&j.ran_on[1]));
}

struct part_job {
    atomic_int hits[16];
    atomic_int bad;
};

static void count_part(void *arg, int ith, int nth) {
    struct part_job *j = arg;
    if (ith < 0 || ith >= nth || nth != 3) atomic_fetch_add(&j->bad, 1);
    else atomic_fetch_add(&j->hits[ith], 1);
}

TLB_TEST(pool_run_parts) {
    struct tlb_pool *pool = tlb_pool_create(3);
    TLB_CHECK(pool != NULL, "no pool");
    static struct part_job j;
    int ok = 1;
    for (int r = 0; r < 500 && ok; r++) {
        for (int i = 0; i < 3; i++) atomic_store(&j.hits[i], 0);
        tlb_pool_run(pool, count_part, &j);
        for (int i = 0; i < 3; i++) ok &= atomic_load(&j.hits[i]) == 1;
    }
    tlb_pool_free(pool);
    TLB_CHECK(ok && atomic_load(&j.bad) == 0, "a part ran other than once (bad %d)",
              atomic_load(&j.bad));
}

TLB_TEST(pool_chunk_count) {
    TLB_CHECK(tlb_pool_chunk_count(1000, 1, 8, 1) == 1, "one thread: one chunk");
    TLB_CHECK(tlb_pool_chunk_count(1000, 2, 8, 1) == 16, "2 threads x 8");
    TLB_CHECK(tlb_pool_chunk_count(1000, 2, 8, 100) == 10, "capped by the minimum chunk");
    TLB_CHECK(tlb_pool_chunk_count(50, 4, 8, 100) == 1, "less than one minimum chunk");
    TLB_CHECK(tlb_pool_chunk_count(7, 4, 8, 0) == 7, "never more chunks than units");
}

TLB_TEST_MAIN()
