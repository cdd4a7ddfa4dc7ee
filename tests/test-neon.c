/* test-neon.c — what test-kernels.c cannot see about the neon kernel: which integer path it
 * took (vdotq_s32 with dotprod, vmull_s8 without) and that BOTH paths match naive, the
 * fallback forced with TLBENCH_CPU_MASK=dotprod on a CPU that has dotprod. Shapes hit the
 * 4-row and 2-X-row remainders and the scalar k tails. tests/t-neon-qemu.sh runs it under
 * qemu-aarch64 as a Cortex-A72 (no dotprod) and a Cortex-A76 (dotprod) and sets
 * TLB_EXPECT_DOTPROD to what that CPU has. On x86 the kernel must be a stub that says why. */
#include <stdint.h>

#include "cpu.h"
#include "kernel.h"
#include "test.h"
#include "threadpool.h"
#include "util.h"

#if defined(__aarch64__)

static uint32_t rng_state = 2024;

static int run(const struct tlb_kernel *k, int nth, float *y, const float *x,
               const struct tlb_tensor *w, int m, char *ver, size_t ver_len) {
    struct tlb_pool *pool = tlb_pool_create(nth);
    if (!pool) return -1;
    void *st = NULL;
    int rc = k->init ? k->init(&st, pool) : 0;
    if (rc == 0) rc = k->matmul(st, pool, y, x, w, m);
    if (rc == 0 && ver) snprintf(ver, ver_len, "%s", k->version ? k->version(st) : "");
    if (k->release) k->release(st);
    tlb_pool_free(pool);
    return rc;
}

/* neon vs naive for every type on a few awkward shapes; returns 0 or -1 with msg. The
 * version string of the last neon run is left in ver. */
static int compare_all(char *msg, size_t msg_len, char *ver, size_t ver_len) {
    const struct tlb_kernel *neon = tlb_kernel_find("neon"), *naive = tlb_kernel_find("naive");
    static const int shapes[][3] = {/* n, k (for float types; quantized round up to 32), m */
                                    {7, 37, 1}, {9, 64, 2}, {13, 96, 3}, {4, 8, 5}, {33, 160, 4}};
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        const struct tlb_type_traits *tr = tlb_type_traits((enum tlb_type)t);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int n = shapes[s][0], k = shapes[s][1], m = shapes[s][2];
            if (tr->block_size > 1) k = (k + 31) / 32 * 32;
            size_t rb = tlb_type_row_bytes((enum tlb_type)t, k);
            float *wf = malloc((size_t)n * k * sizeof *wf), *x = malloc((size_t)m * k * 4);
            float *y = malloc((size_t)m * n * 4), *ref = malloc((size_t)m * n * 4);
            void *wd = malloc((size_t)n * rb);
            if (!wf || !x || !y || !ref || !wd) {
                snprintf(msg, msg_len, "out of memory");
                return -1;
            }
            for (int i = 0; i < n * k; i++) wf[i] = tlb_rand_pm1(&rng_state);
            for (int i = 0; i < m * k; i++) x[i] = tlb_rand_pm1(&rng_state);
            tr->from_f32(wf, wd, (int64_t)n * k);
            struct tlb_tensor w = {.type = (enum tlb_type)t, .rows = n, .cols = k, .data = wd,
                                   .name = "test"};
            int rc = 0;
            for (int nth = 1; nth <= 2 && rc == 0; nth++) {
                for (int i = 0; i < m * n; i++) y[i] = NAN;
                if (run(naive, 1, ref, x, &w, m, NULL, 0) != 0 ||
                    run(neon, nth, y, x, &w, m, ver, ver_len) != 0) {
                    snprintf(msg, msg_len, "matmul failed");
                    rc = -1;
                    break;
                }
                double num = 0, den = 0;
                for (int i = 0; i < m * n; i++) {
                    double d = (double)y[i] - ref[i];
                    num += d * d;
                    den += (double)ref[i] * ref[i];
                }
                if (!(num <= 1e-9 * den)) {
                    snprintf(msg, msg_len, "%s n=%d k=%d m=%d threads=%d (%s): NMSE %.3g",
                             tr->name, n, k, m, nth, ver, den > 0 ? num / den : num);
                    rc = -1;
                }
            }
            free(wf), free(x), free(y), free(ref), free(wd);
            if (rc) return -1;
        }
    }
    return 0;
}

/* The path in use is the one this CPU should take, and it matches naive. */
TLB_TEST(neon_active_path) {
    char why[256], msg[300], ver[128];
    const struct tlb_kernel *k = tlb_kernel_find("neon");
    TLB_CHECK(k, "neon kernel not registered");
    TLB_CHECK(k->probe(why, sizeof why) == 0, "neon unusable on aarch64: %s", why);
    int has = tlb_cpu_has(TLB_CPU_DOTPROD);
    const char *expect = getenv("TLB_EXPECT_DOTPROD");
    if (expect && *expect)
        TLB_CHECK(has == atoi(expect), "CPU dotprod = %d but this CPU model should have %s",
                  has, expect);
    TLB_CHECK(compare_all(msg, sizeof msg, ver, sizeof ver) == 0, "%s", msg);
    TLB_CHECK((strstr(ver, "dotprod (vdotq") != NULL) == has,
              "version '%s' names the wrong integer path (dotprod %d)", ver, has);
    printf("# neon: %s\n", ver);
}

/* With dotprod masked, the same binary must take (and pass with) the vmull fallback. */
TLB_TEST(neon_fallback_path) {
    char msg[300], ver[128];
    setenv("TLBENCH_CPU_MASK", "dotprod", 1);
    tlb_cpu_redetect();
    int has = tlb_cpu_has(TLB_CPU_DOTPROD);
    int rc = has ? -1 : compare_all(msg, sizeof msg, ver, sizeof ver);
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(!has, "TLBENCH_CPU_MASK=dotprod did not hide dotprod");
    TLB_CHECK(rc == 0, "%s", msg);
    TLB_CHECK(strstr(ver, "vmull_s8 fallback"), "version '%s' should name the fallback", ver);
}

#else

TLB_TEST(neon_stub_off_arm) {
    char why[256] = "";
    const struct tlb_kernel *k = tlb_kernel_find("neon");
    TLB_CHECK(k, "neon kernel not registered");
    TLB_CHECK(k->probe(why, sizeof why) != 0, "neon claims to be usable on a non-Arm build");
    TLB_CHECK(strstr(why, "Arm-only"), "probe reason '%s' does not say Arm-only", why);
}

#endif

TLB_TEST_MAIN()
