/* test-blas.c — the openblas and blis kernels in ONE process: both loaded, interleaved
 * (openblas, blis, openblas) on the same inputs, each compared with naive, proving that
 * loading them privately keeps their identical BLAS symbols apart. Also: shapes that span
 * several dequantization tiles per thread, f32 and quantized calls alternating on one state
 * and pool, version strings, and the dlopen search's error messages. Skips, naming the
 * library, when one is not installed. */
#include <dlfcn.h>
#include <stdint.h>

#include "blas-common.h"
#include "kernel.h"
#include "test.h"
#include "threadpool.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
/* Under ASan: its dynamic-TLS tracking misreads the TLS of BLIS's OpenMP worker threads
 * (a dlopen'ed library's TLS, glibc 2.36) and LeakSanitizer then crashes at exit ("Tracer
 * caught signal 11", google/sanitizers#1322). Turn off only that interception. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "intercept_tls_get_addr=0"; }
#endif

static uint32_t rng_state = 12345;

struct mat {
    struct tlb_tensor w;
    void *data;
};

/* n x k weights of type t from random f32 values; 0 or -1 (allocation failure). */
static int make_weights(struct mat *mt, enum tlb_type t, int n, int k) {
    size_t rb = tlb_type_row_bytes(t, k);
    float *f = malloc((size_t)n * (size_t)k * sizeof *f);
    mt->data = malloc((size_t)n * rb);
    if (!f || !mt->data) {
        free(f);
        free(mt->data);
        return -1;
    }
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++) f[i] = tlb_rand_pm1(&rng_state);
    tlb_type_traits(t)->from_f32(f, mt->data, (int64_t)n * k);
    free(f);
    mt->w = (struct tlb_tensor){.type = t, .rows = n, .cols = k, .data = mt->data,
                                .name = "test-w"};
    return 0;
}

/* Run kernel kn on (pool of nth threads); y must hold m x n. 0 ok, -1 failure. */
static int run(const char *kn, int nth, float *y, const float *x, const struct tlb_tensor *w,
               int m) {
    const struct tlb_kernel *k = tlb_kernel_find(kn);
    if (!k) return -1;
    struct tlb_pool *pool = tlb_pool_create(nth);
    if (!pool) return -1;
    void *st = NULL;
    int rc = k->init ? k->init(&st, pool) : 0;
    if (rc == 0) rc = k->matmul(st, pool, y, x, w, m);
    if (k->release) k->release(st);
    tlb_pool_free(pool);
    return rc;
}

static double nmse(const float *a, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)ref[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    return den > 0 ? num / den : num;
}

/* f32/f16/bf16: the same f32 products, another summation order. Quantized: naive quantizes X
 * to q8_0 while BLAS multiplies f32 X, which costs about 1e-5 of NMSE. */
static double tolerance(enum tlb_type t) { return tlb_type_traits(t)->is_quantized ? 1e-3 : 1e-9; }

static int have(const char *kn, char *why, size_t n) {
    const struct tlb_kernel *k = tlb_kernel_find(kn);
    if (!k) {
        snprintf(why, n, "kernel '%s' is not registered", kn);
        return 0;
    }
    return !k->probe || k->probe(why, n) == 0;
}

/* Compare kernel kn with naive for one type/shape/threads; writes a failure into msg. */
static int check_against_naive(const char *kn, enum tlb_type t, int n, int k, int m, int nth,
                               char *msg, size_t msg_len) {
    struct mat mt;
    float *x = malloc((size_t)m * (size_t)k * sizeof *x);
    float *y = malloc((size_t)m * (size_t)n * sizeof *y);
    float *ref = malloc((size_t)m * (size_t)n * sizeof *ref);
    int ok = 0;
    if (!x || !y || !ref || make_weights(&mt, t, n, k) != 0) {
        snprintf(msg, msg_len, "out of memory");
        free(x), free(y), free(ref);
        return 0;
    }
    for (size_t i = 0; i < (size_t)m * (size_t)k; i++) x[i] = tlb_rand_pm1(&rng_state);
    for (size_t i = 0; i < (size_t)m * (size_t)n; i++) y[i] = NAN; /* every cell must be set */
    if (run("naive", 1, ref, x, &mt.w, m) != 0 || run(kn, nth, y, x, &mt.w, m) != 0) {
        snprintf(msg, msg_len, "%s matmul failed", kn);
    } else {
        double e = nmse(y, ref, (size_t)m * (size_t)n);
        if (!(e <= tolerance(t)))
            snprintf(msg, msg_len, "%s %s n=%d k=%d m=%d threads=%d: NMSE %.3g > %.1g", kn,
                     tlb_type_traits(t)->name, n, k, m, nth, e, tolerance(t));
        else
            ok = 1;
    }
    free(x), free(y), free(ref), free(mt.data);
    return ok;
}

static void one_library(const char *kn, const char *expect) {
    char why[256];
    if (!have(kn, why, sizeof why)) TLB_SKIP("%s", why);
    const char *v = tlb_kernel_find(kn)->version(NULL);
    TLB_CHECK(v && *v, "%s version string is empty", kn);
    TLB_CHECK(strstr(v, expect), "%s version '%s' does not name %s", kn, v, expect);
    printf("# %s: %s\n", kn, v);
    char msg[256];
    /* n = 600 with k = 64 gives 256-row tiles: 2 tiles per thread on 2 threads, plus a
     * partial one; m = 1 takes the gemv path. */
    static const int ms[] = {1, 7};
    for (int t = 0; t < TLB_TYPE_COUNT; t++)
        for (size_t i = 0; i < TLB_ARRAY_LEN(ms); i++)
            for (int nth = 1; nth <= 2; nth++)
                TLB_CHECK(check_against_naive(kn, (enum tlb_type)t, 600, 64, ms[i], nth, msg,
                                              sizeof msg),
                          "%s", msg);
    /* a long row: tiles are bounded by bytes, so few rows per tile */
    TLB_CHECK(check_against_naive(kn, TLB_TYPE_Q4_0, 70, 5632, 3, 2, msg, sizeof msg), "%s",
              msg);
}

TLB_TEST(openblas_matches_naive) { one_library("openblas", "OpenBLAS"); }
TLB_TEST(blis_matches_naive) { one_library("blis", "BLIS"); }

/* Both libraries in one process, alternating: a call into one must not land in the other. */
TLB_TEST(openblas_blis_interleaved) {
    char why[256];
    if (!have("openblas", why, sizeof why)) TLB_SKIP("needs both libraries: %s", why);
    if (!have("blis", why, sizeof why)) TLB_SKIP("needs both libraries: %s", why);
    static const char *const order[] = {"openblas", "blis", "openblas", "blis"};
    static const enum tlb_type types[] = {TLB_TYPE_F32, TLB_TYPE_Q8_0};
    char msg[256];
    for (size_t t = 0; t < TLB_ARRAY_LEN(types); t++)
        for (size_t i = 0; i < TLB_ARRAY_LEN(order); i++)
            TLB_CHECK(check_against_naive(order[i], types[t], 67, 96, 33, 2, msg, sizeof msg),
                      "step %zu (%s): %s", i, order[i], msg);
    /* Neither library leaked into the global namespace, where it would interpose the other. */
    TLB_CHECK(dlsym(RTLD_DEFAULT, "sgemm_") == NULL, "sgemm_ is visible globally");
    TLB_CHECK(dlsym(RTLD_DEFAULT, "cblas_sgemm") == NULL, "cblas_sgemm is visible globally");
    /* and each kernel still reports its own library */
    TLB_CHECK(strstr(tlb_kernel_find("openblas")->version(NULL), "OpenBLAS"), "openblas version");
    TLB_CHECK(strstr(tlb_kernel_find("blis")->version(NULL), "BLIS"), "blis version");
}

/* f32 (direct) and q4_0 (dequantized tiles) alternate on one engine state and a 2-thread
 * pool, as the layers of a model do: results stay right and the tiles are reported. */
TLB_TEST(blas_f32_and_tiles_alternate) {
    static const char *const kns[] = {"openblas", "blis"};
    int ran = 0;
    char why[256], msg[256];
    for (size_t i = 0; i < TLB_ARRAY_LEN(kns); i++) {
        if (!have(kns[i], why, sizeof why)) continue;
        const struct tlb_kernel *k = tlb_kernel_find(kns[i]);
        struct mat a, b;
        const int n = 130, kk = 256, m = 9;
        float *x = malloc((size_t)m * kk * sizeof *x);
        float *y = malloc((size_t)m * n * sizeof *y), *ref = malloc((size_t)m * n * sizeof *ref);
        struct tlb_pool *pool = tlb_pool_create(2);
        void *st = NULL;
        TLB_CHECK(x && y && ref && pool, "out of memory");
        TLB_CHECK(make_weights(&a, TLB_TYPE_F32, n, kk) == 0, "out of memory");
        TLB_CHECK(make_weights(&b, TLB_TYPE_Q4_0, n, kk) == 0, "out of memory");
        for (int j = 0; j < m * kk; j++) x[j] = tlb_rand_pm1(&rng_state);
        TLB_CHECK(k->init(&st, pool) == 0, "%s init failed", kns[i]);
        for (int rep = 0; rep < 3; rep++) {
            const struct tlb_tensor *w = rep % 2 ? &b.w : &a.w;
            TLB_CHECK(k->matmul(st, pool, y, x, w, m) == 0, "matmul failed");
            TLB_CHECK(run("naive", 1, ref, x, w, m) == 0, "naive failed");
            double e = nmse(y, ref, (size_t)m * n);
            snprintf(msg, sizeof msg, "%s rep %d (%s): NMSE %.3g", kns[i], rep,
                     tlb_type_traits(w->type)->name, e);
            TLB_CHECK(e <= tolerance(w->type), "%s", msg);
        }
        TLB_CHECK(k->scratch_bytes(st) >= (size_t)2 * kk * sizeof(float),
                  "%s reports %zu scratch bytes for two dequantization tiles", kns[i],
                  k->scratch_bytes(st));
        k->release(st);
        tlb_pool_free(pool);
        free(x), free(y), free(ref), free(a.data), free(b.data);
        ran++;
    }
    if (!ran) TLB_SKIP("neither OpenBLAS nor BLIS is installed (%s)", why);
}

/* The search reports what it tried and why a present file was refused. */
TLB_TEST(blas_dlopen_messages) {
    char why[256];
    static const char *const missing[] = {"/nonexistent/libopenblas.so.0", "libnope.so.9", NULL};
    TLB_CHECK(tlb_blas_dlopen("X", missing, NULL, "cblas_sgemm", why, sizeof why) == NULL,
              "a missing library loaded");
    TLB_CHECK(strstr(why, "X not found") && strstr(why, "/nonexistent/libopenblas.so.0") &&
                  strstr(why, "libnope.so.9"),
              "message does not list the names tried: %s", why);
    static const char *const wrong[] = {"libm.so.6", NULL};
    TLB_CHECK(tlb_blas_dlopen("X", wrong, NULL, "cblas_sgemm", why, sizeof why) == NULL,
              "libm was accepted as a BLAS");
    TLB_CHECK(strstr(why, "lacks cblas_sgemm"), "message does not say what is missing: %s", why);
    /* an environment override replaces the list */
    setenv("TLB_TEST_BLAS_PATH", "/nonexistent/override.so", 1);
    TLB_CHECK(tlb_blas_dlopen("X", wrong, "TLB_TEST_BLAS_PATH", "m", why, sizeof why) == NULL,
              "override ignored");
    TLB_CHECK(strstr(why, "/nonexistent/override.so") && strstr(why, "$TLB_TEST_BLAS_PATH") &&
                  !strstr(why, "libm"),
              "override message: %s", why);
    unsetenv("TLB_TEST_BLAS_PATH");
}

TLB_TEST_MAIN()
