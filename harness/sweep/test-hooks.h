/* test-hooks.h — a known slowdown for measuring the CI gate (scripts/ci-gate-eval.sh): in a
 * build made with `make HOOKS=1` (-DTLB_TEST_HOOKS=1), TLBENCH_TEST_SLOWDOWN=WTYPE/KERNEL:PCT or
 * WTYPE/KERNEL@dDEPTH:PCT makes every decoded token of that configuration (of that KV depth
 * only, with @d) take PCT % more wall time (the worker spins for PCT % of the token's own time
 * after computing it). Other builds compile it to nothing and
 * ignore the variable: a release binary cannot be slowed by its environment. */
#ifndef TLB_TEST_HOOKS_H
#define TLB_TEST_HOOKS_H

#include <stdint.h>

/* The extra fraction of decode time for (weight type, kernel, depth): 0 when none (always 0
 * without TLB_TEST_HOOKS). A malformed variable is an error line and 0. */
double tlb_test_decode_slowdown(const char *wtype, const char *kernel, int depth);
/* Spin (not sleep: a slower computation keeps its CPU) until ns nanoseconds have passed. */
void tlb_test_burn_ns(int64_t ns);

#endif
