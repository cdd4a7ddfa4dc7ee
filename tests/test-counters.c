/* test-counters.c — event counters: "auto" always yields a set (PAPI hardware, PAPI perf
 * software, or OS software events), counts move in the right direction for known work
 * (CPU time, page faults), explicit event lists are honoured or refused with a reason,
 * and the PAPI support/paranoid descriptions are never empty. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "counters.h"
#include "test.h"

static volatile double sink;

/* Spin until this thread has used ms of CPU time (not wall time: the machine may be busy). */
static void burn_cpu_ms(int ms) {
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    double x = 1;
    do {
        for (int i = 0; i < 10000; i++) x = x * 1.0000001 + 1e-9;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
    sink = x;
}

/* Touch fresh anonymous pages: each first touch is a page fault (4 KiB pages; MADV_NOHUGEPAGE
 * so transparent huge pages cannot merge them). */
static int touch_pages(size_t pages) {
    size_t len = pages * 4096;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
#ifdef MADV_NOHUGEPAGE
    madvise(p, len, MADV_NOHUGEPAGE);
#endif
    for (size_t i = 0; i < len; i += 4096) p[i] = (unsigned char)i;
    munmap(p, len);
    return 0;
}

TLB_TEST(auto_set_counts_work) {
    char why[256], note[512];
    struct tlb_counters *c = tlb_counters_open(NULL, why, sizeof why, note, sizeof note);
    TLB_CHECK(c, "no counters at all: %s", why);
    int n = tlb_counters_count(c);
    TLB_CHECK(n > 0 && n <= TLB_CTR_MAX_EVENTS, "count %d", n);
    TLB_CHECK(tlb_counters_events(c)[0], "empty event list");
    long long v[TLB_CTR_MAX_EVENTS], by[TLB_CTR_ROLE_COUNT];
    TLB_CHECK(tlb_counters_start(c, why, sizeof why) == 0, "start: %s", why);
    burn_cpu_ms(30);
    TLB_CHECK(touch_pages(512) == 0, "mmap");
    int r = tlb_counters_stop(c, v, why, sizeof why);
    tlb_counters_by_role(c, v, by);
    char events[512];
    snprintf(events, sizeof events, "%s", tlb_counters_events(c));
    tlb_counters_close(c);
    TLB_CHECK(r == 0, "stop: %s", why);
    /* whichever set was chosen, the software events are in it (design: task clock, page
     * faults and context switches everywhere) */
    TLB_CHECK(by[TLB_CTR_TASK_CLOCK_NS] >= 29000000, "task clock %lld ns after 30 ms of CPU (%s)",
              by[TLB_CTR_TASK_CLOCK_NS], events);
    TLB_CHECK(by[TLB_CTR_PAGE_FAULTS] >= 256, "page faults %lld after touching 512 pages (%s)",
              by[TLB_CTR_PAGE_FAULTS], events);
    TLB_CHECK(by[TLB_CTR_CTX_SWITCHES] >= 0, "context switches not measured (%s)", events);
    if (by[TLB_CTR_INSTRUCTIONS] >= 0)
        TLB_CHECK(by[TLB_CTR_INSTRUCTIONS] > 1000000, "instructions %lld",
                  by[TLB_CTR_INSTRUCTIONS]);
    if (strstr(events, "os:")) TLB_CHECK(note[0], "OS fallback without saying why");
}

TLB_TEST(restart_counts_from_zero) {
    char why[256];
    struct tlb_counters *c = tlb_counters_open("os:task-clock", why, sizeof why, NULL, 0);
    TLB_CHECK(c, "open: %s", why);
    TLB_CHECK(tlb_counters_count(c) == 1 && tlb_counters_role(c, 0) == TLB_CTR_TASK_CLOCK_NS &&
                  !strcmp(tlb_counters_events(c), "os:task-clock"), "one event");
    long long a, b;
    tlb_counters_start(c, why, sizeof why);
    burn_cpu_ms(40);
    tlb_counters_stop(c, &a, why, sizeof why);
    tlb_counters_start(c, why, sizeof why);
    tlb_counters_stop(c, &b, why, sizeof why);
    long long v;
    int r = tlb_counters_stop(c, &v, why, sizeof why);
    tlb_counters_close(c);
    TLB_CHECK(a > b, "a second, empty interval (%lld ns) is not below the busy one (%lld ns)", b, a);
    TLB_CHECK(r == -1 && strstr(why, "without being started"), "double stop: %s", why);
}

TLB_TEST(explicit_lists) {
    char why[256];
    struct tlb_counters *c =
        tlb_counters_open("os:page-faults, os:context-switches", why, sizeof why, NULL, 0);
    TLB_CHECK(c && tlb_counters_count(c) == 2, "two os events: %s", c ? "" : why);
    TLB_CHECK(!strcmp(tlb_counters_events(c), "os:page-faults;os:context-switches"), "%s",
              tlb_counters_events(c));
    tlb_counters_close(c);
    c = tlb_counters_open("os:bogus", why, sizeof why, NULL, 0);
    TLB_CHECK(!c && strstr(why, "unknown OS event 'os:bogus'"), "bogus: %s", why);
    c = tlb_counters_open(" , ", why, sizeof why, NULL, 0);
    TLB_CHECK(!c, "empty list accepted");
    /* a PAPI event either works or is refused with a reason (never silently dropped) */
    c = tlb_counters_open("PAPI_TOT_INS", why, sizeof why, NULL, 0);
    if (c) {
        TLB_CHECK(!strcmp(tlb_counters_events(c), "PAPI_TOT_INS"), "%s", tlb_counters_events(c));
        tlb_counters_close(c);
    } else {
        TLB_CHECK(strstr(why, "PAPI"), "reason: %s", why);
    }
}

TLB_TEST(support_descriptions) {
    char buf[512], why[256];
    tlb_counters_support(buf, sizeof buf);
    TLB_CHECK(strstr(buf, "PAPI"), "support: '%s'", buf);
    tlb_counters_paranoid(buf, sizeof buf);
    TLB_CHECK(buf[0], "paranoid empty");
#ifdef TLB_HAVE_PAPI
    TLB_CHECK(tlb_papi_init(why, sizeof why) == 0, "PAPI built in but init failed: %s", why);
#else
    TLB_CHECK(tlb_papi_init(why, sizeof why) == -1 && strstr(why, "not built in"), "%s", why);
#endif
}

TLB_TEST_MAIN()
