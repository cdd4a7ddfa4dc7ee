/* test-cpuload.c — interference detection: the /proc/stat parser on recorded and broken
 * lines, the window arithmetic, a fake root, and a live check that a busy child process is
 * seen while our own work is not counted as interference. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpuload.h"
#include "test.h"
#include "util.h"

/* recorded from a 2-vCPU VM (Linux 6.x), trimmed after the per-CPU lines */
static const char stat_vm[] =
    "cpu  183519 211 62133 2204398 1911 0 1325 9702 0 0\n"
    "cpu0 91806 101 31027 1101763 951 0 771 4881 0 0\n"
    "cpu1 91712 110 31106 1102634 960 0 554 4821 0 0\n"
    "intr 24177219 0 9 0\n"
    "ctxt 48103561\n";

TLB_TEST(parse_aggregate_line) {
    double busy, steal;
    TLB_CHECK(tlb_cpuload_parse(stat_vm, 100.0, &busy, &steal) == 0, "recorded stat rejected");
    /* user + nice + system + irq + softirq = 183519 + 211 + 62133 + 0 + 1325 ticks */
    TLB_CHECK_NEAR(busy, 2471.88, 1e-9);
    TLB_CHECK_NEAR(steal, 97.02, 1e-9);
    /* the per-CPU lines must not be taken for the aggregate when it comes later */
    const char later[] = "cpu0 5 0 5 100 0 0 0 0\ncpu  10 0 10 200 0 0 0 3\n";
    TLB_CHECK(tlb_cpuload_parse(later, 100.0, &busy, &steal) == 0, "aggregate after cpu0");
    TLB_CHECK_NEAR(busy, 0.2, 1e-12);
    TLB_CHECK_NEAR(steal, 0.03, 1e-12);
    /* a pre-2.6.11 line without steal */
    TLB_CHECK(tlb_cpuload_parse("cpu  1 2 3 4 5 6 7\n", 1.0, &busy, &steal) == 0, "7 fields");
    TLB_CHECK_NEAR(busy, 1 + 2 + 3 + 6 + 7, 1e-12);
    TLB_CHECK_NEAR(steal, 0, 0);
}

TLB_TEST(parse_rejects_broken_text) {
    double busy = -1, steal = -1;
    const char *bad[] = {"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu  1 2 3\n", "cpu  x y z\n",
                         "cpu  1 2 3 4 5 6 99999999999999999999999\n", "intr 5\n"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(bad); i++)
        TLB_CHECK(tlb_cpuload_parse(bad[i], 100.0, &busy, &steal) != 0, "accepted '%s'", bad[i]);
    TLB_CHECK(tlb_cpuload_parse(NULL, 100.0, &busy, &steal) != 0, "NULL accepted");
    TLB_CHECK(tlb_cpuload_parse(stat_vm, 0.0, &busy, &steal) != 0, "zero tick rate accepted");
}

TLB_TEST(window_arithmetic) {
    struct tlb_cpuload_sample a = {.busy_s = 100, .steal_s = 5, .self_s = 10, .wall_s = 50};
    struct tlb_cpuload_sample b = {.busy_s = 104, .steal_s = 5.5, .self_s = 12, .wall_s = 52};
    double others, steal;
    TLB_CHECK(tlb_cpuload_between(&a, &b, &others, &steal) == 0, "2 s window refused");
    TLB_CHECK_NEAR(others, 1.0, 1e-12); /* 4 s busy - 2 s ours over 2 s */
    TLB_CHECK_NEAR(steal, 0.25, 1e-12);
    /* /proc/stat ticks lag getrusage: ours may exceed the machine's; never negative */
    b.busy_s = 101.5;
    TLB_CHECK(tlb_cpuload_between(&a, &b, &others, &steal) == 0, "window refused");
    TLB_CHECK_NEAR(others, 0, 0);
    b.wall_s = 50.1;
    TLB_CHECK(tlb_cpuload_between(&a, &b, &others, &steal) != 0, "0.1 s window judged");
}

TLB_TEST(fake_root) {
    char dir[] = "/tmp/tlb-cpuload-XXXXXX", path[128];
    TLB_CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    struct tlb_cpuload_sample s;
    TLB_CHECK(tlb_cpuload_sample(dir, &s) != 0, "a root without /proc/stat was sampled");
    snprintf(path, sizeof path, "%s/proc", dir);
    TLB_CHECK(mkdir(path, 0755) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/proc/stat", dir);
    FILE *f = fopen(path, "w");
    TLB_CHECK(f && fputs(stat_vm, f) >= 0 && fclose(f) == 0, "write %s", path);
    long tck = sysconf(_SC_CLK_TCK);
    TLB_CHECK(tlb_cpuload_sample(dir, &s) == 0, "fake /proc/stat not read");
    TLB_CHECK_NEAR(s.busy_s, 247188.0 / (double)tck, 1e-9);
    TLB_CHECK(s.self_s > 0 && s.wall_s > 0, "own usage missing");
    f = fopen(path, "w");
    TLB_CHECK(f && fputs("garbage\n", f) >= 0 && fclose(f) == 0, "rewrite %s", path);
    TLB_CHECK(tlb_cpuload_sample(dir, &s) != 0, "garbage /proc/stat accepted");
    unlink(path);
    snprintf(path, sizeof path, "%s/proc", dir);
    rmdir(path);
    rmdir(dir);
}

static void spin_for(double seconds) {
    int64_t end = tlb_now_ns() + (int64_t)(seconds * 1e9);
    volatile double x = 1;
    while (tlb_now_ns() < end) x = x * 1.0000001 + 1e-9;
}

TLB_TEST(live_busy_child_seen_own_work_not) {
    struct tlb_cpuload_sample a, b;
    if (tlb_cpuload_sample("", &a) != 0) TLB_SKIP("/proc/stat unreadable: %s", strerror(errno));
    /* the comparison below needs a CPU to spare: on a machine whose other processes keep all
     * CPUs busy, own work and a child's are indistinguishable from the load already there */
    struct timespec idle = {0, 300 * 1000 * 1000};
    nanosleep(&idle, NULL);
    TLB_CHECK(tlb_cpuload_sample("", &b) == 0, "idle sample");
    double busy, steal0;
    TLB_CHECK(tlb_cpuload_between(&a, &b, &busy, &steal0) == 0, "idle window");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (busy + steal0 > (double)ncpu - 1.5)
        TLB_SKIP("the machine is busy: other processes used %.2f of %ld CPUs while this test "
                 "slept; it needs one CPU to spare", busy + steal0, ncpu);
    a = b;
    /* our own spinning: counted as self, so it must not look like a neighbour's */
    spin_for(0.6);
    TLB_CHECK(tlb_cpuload_sample("", &b) == 0, "second sample");
    double own_others, steal;
    TLB_CHECK(tlb_cpuload_between(&a, &b, &own_others, &steal) == 0, "window");
    /* a busy child, while we sleep */
    pid_t pid = fork();
    TLB_CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        spin_for(0.8);
        _exit(0);
    }
    TLB_CHECK(tlb_cpuload_sample("", &a) == 0, "third sample");
    struct timespec ts = {0, 700 * 1000 * 1000};
    nanosleep(&ts, NULL);
    TLB_CHECK(tlb_cpuload_sample("", &b) == 0, "fourth sample");
    int status;
    waitpid(pid, &status, 0);
    double child_others;
    TLB_CHECK(tlb_cpuload_between(&a, &b, &child_others, &steal) == 0, "window");
    /* the child kept one CPU busy: ~1.0 (more if the machine is busy anyway) */
    TLB_CHECK(child_others > 0.6, "a spinning child was seen as %.2f CPUs", child_others);
    /* on a machine busy with other work both figures rise; the difference remains */
    TLB_CHECK(own_others < child_others - 0.4,
              "own work counted as interference: %.2f CPUs (child: %.2f)", own_others,
              child_others);
}

TLB_TEST_MAIN()
