/* test-hooks.c — the known decode slowdown of test builds (see test-hooks.h). */
#include "test-hooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#if TLB_TEST_HOOKS
double tlb_test_decode_slowdown(const char *wtype, const char *kernel, int depth) {
    const char *v = getenv("TLBENCH_TEST_SLOWDOWN");
    if (!v || !*v) return 0;
    char want[64], pct_text[32];
    const char *colon = strrchr(v, ':');
    double pct;
    if (!colon || (size_t)(colon - v) >= sizeof want || strlen(colon + 1) >= sizeof pct_text ||
        tlb_parse_double(colon + 1, &pct) != 0 || pct < 0 || pct > 1000) {
        tlb_error("TLBENCH_TEST_SLOWDOWN: '%.60s' is not WTYPE/KERNEL[@dDEPTH]:PERCENT", v);
        return 0;
    }
    memcpy(want, v, (size_t)(colon - v));
    want[colon - v] = '\0';
    char have[64], have_depth[80];
    snprintf(have, sizeof have, "%s/%s", wtype, kernel);
    snprintf(have_depth, sizeof have_depth, "%s@d%d", have, depth);
    return strcmp(want, have) == 0 || strcmp(want, have_depth) == 0 ? pct / 100.0 : 0;
}

void tlb_test_burn_ns(int64_t ns) {
    int64_t end = tlb_now_ns() + ns;
    while (tlb_now_ns() < end) {
    }
}
#else
double tlb_test_decode_slowdown(const char *wtype, const char *kernel, int depth) {
    (void)wtype;
    (void)kernel;
    (void)depth;
    return 0;
}

void tlb_test_burn_ns(int64_t ns) { (void)ns; }
#endif
