/* blis.c — the blis kernel: BLIS through its own typed API (bli_sgemm, bli_sgemv), loaded
 * privately with dlopen(RTLD_LOCAL); BLIS's BLAS/CBLAS layer, whose names clash with
 * OpenBLAS's, is never called. Each pool thread calls it single-threaded on its share of W:
 * f32 directly, other types after dequantizing to f32 tiles (blas-common.c). The version
 * string records BLIS's active configuration (e.g. skx, haswell, zen3, generic): BLIS 0.9
 * reads BLIS_ARCH_TYPE as a *number* (its arch_t id, e.g. 0 = skx, 3 = haswell), so check
 * the recorded name. Set TLBENCH_BLIS=/path/libblis.so to choose a build. On AVX-512 CPUs
 * tlbench sets BLIS_ARCH_TYPE to skx when it is unset (see tlb_blas_choose_avx512). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas-common.h"
#include "util.h"

#if defined(__x86_64__)
#define MULTIARCH "/usr/lib/x86_64-linux-gnu/"
#elif defined(__aarch64__)
#define MULTIARCH "/usr/lib/aarch64-linux-gnu/"
#else
#define MULTIARCH "/usr/lib/"
#endif

/* blis.h types and values, declared here so no header is needed to build: dim_t and inc_t
 * are gint_t, 64-bit in every LP64 build we accept (checked at load). */
typedef int64_t blis_dim;
enum { BLIS_NO_TRANS = 0x0, BLIS_TRANS = 0x8, BLIS_NO_CONJ = 0x0 };

typedef void (*sgemm_fn)(int ta, int tb, blis_dim m, blis_dim n, blis_dim k, float *alpha,
                         float *a, blis_dim rsa, blis_dim csa, float *b, blis_dim rsb,
                         blis_dim csb, float *beta, float *c, blis_dim rsc, blis_dim csc);
typedef void (*sgemv_fn)(int ta, int cx, blis_dim m, blis_dim n, float *alpha, float *a,
                         blis_dim rsa, blis_dim csa, float *x, blis_dim incx, float *beta,
                         float *y, blis_dim incy);
typedef void (*void_fn)(void);
typedef void (*set_threads_fn)(blis_dim n);
typedef int64_t (*get_int_fn)(void);
typedef int (*arch_id_fn)(void);
typedef char *(*arch_string_fn)(int id);
typedef char *(*get_str_fn)(void);

static struct {
    sgemm_fn sgemm;
    sgemv_fn sgemv;
    set_threads_fn set_num_threads;
    int threads; /* last value given to bli_thread_set_num_threads, 0 = never */
    int ok;
    char why[512];
    char version[256];
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* BLIS aborts the whole process when BLIS_ARCH_TYPE is not the number of a configuration it
 * was built with. When the variable is set, initialize BLIS in a child first, so that a bad
 * value becomes a probe failure instead. 1: fine (or cannot tell), 0: BLIS would abort. */
static int arch_type_ok(void_fn init, char *why, size_t why_len) {
    const char *env = getenv("BLIS_ARCH_TYPE");
    if (!env) return 1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 2); /* BLIS's own abort message: the reason below says more */
        init();
        _exit(0);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 1;
    snprintf(why, why_len,
             "BLIS aborts with BLIS_ARCH_TYPE=%s: BLIS 0.9 wants the number of a configuration "
             "it was built with (Debian amd64: 0 skx, 3 haswell, 6 zen3, 7 zen2, 8 zen, 25 "
             "generic)", env);
    return 0;
}

static void load(void) {
    static const char *const names[] = {
        "libblis.so.4", /* Debian 12 / Ubuntu (the alternatives link), BLIS 0.9 */
        "libblis.so.3",
        MULTIARCH "blis-pthread/libblis.so.4",
        MULTIARCH "blis-openmp/libblis.so.4",
        MULTIARCH "blis-serial/libblis.so.4",
        "libblis.so",
        NULL,
    };
    void *h = tlb_blas_dlopen("BLIS", names, "TLBENCH_BLIS", "bli_info_get_version_str",
                              lib.why, sizeof lib.why);
    if (!h) return;
    /* POSIX guarantees dlsym's void * converts to a function pointer. */
#define SYM(var, type, name)                                                    \
    do {                                                                        \
        void *p_ = dlsym(h, name);                                              \
        if (!p_) {                                                              \
            snprintf(lib.why, sizeof lib.why, "BLIS found but lacks %s", name); \
            return;                                                             \
        }                                                                       \
        var = (type)p_;                                                         \
    } while (0)
    void_fn init;
    get_str_fn version_str;
    arch_id_fn arch_id;
    arch_string_fn arch_string;
    get_int_fn int_size;
    SYM(init, void_fn, "bli_init");
    SYM(lib.sgemm, sgemm_fn, "bli_sgemm");
    SYM(lib.sgemv, sgemv_fn, "bli_sgemv");
    SYM(lib.set_num_threads, set_threads_fn, "bli_thread_set_num_threads");
    SYM(version_str, get_str_fn, "bli_info_get_version_str");
    SYM(arch_id, arch_id_fn, "bli_arch_query_id");
    SYM(arch_string, arch_string_fn, "bli_arch_string");
    SYM(int_size, get_int_fn, "bli_info_get_int_type_size");
    get_int_fn omp = (get_int_fn)dlsym(h, "bli_info_get_enable_openmp");       /* optional */
    get_int_fn pthreads = (get_int_fn)dlsym(h, "bli_info_get_enable_pthreads"); /* optional */
#undef SYM
    if (int_size() != 64) {
        snprintf(lib.why, sizeof lib.why,
                 "BLIS found but its dim_t is not 64-bit; tlbench calls the 64-bit typed API");
        return;
    }
    /* BLIS reads BLIS_ARCH_TYPE at init; 0.9 wants the configuration's number, so look up
     * the id of "skx" (the table ends with "generic", which bounds the search) */
    int chosen = 0;
    char skx_id[16] = "";
    for (int i = 0; i < 64; i++) {
        const char *name = arch_string(i);
        if (!name || !strcmp(name, "generic")) break;
        if (!strcmp(name, "skx")) {
            snprintf(skx_id, sizeof skx_id, "%d", i);
            break;
        }
    }
    if (skx_id[0]) chosen = tlb_blas_choose_avx512("BLIS_ARCH_TYPE", skx_id);
    if (!arch_type_ok(init, lib.why, sizeof lib.why)) {
        if (!chosen) return;
        /* this BLIS was built without skx: our choice would abort it, so let it choose */
        unsetenv("BLIS_ARCH_TYPE");
        chosen = 0;
        lib.why[0] = '\0';
    }
    /* Initialize before asking for the configuration: BLIS 0.9 answers "generic" (and
     * aborts when BLIS_ARCH_TYPE is set) if its kernel structures are not set up yet. */
    init();
    int id = arch_id();
    const char *arch = arch_string(id);
    const char *ver = version_str();
    const char *thr = omp && omp() ? "openmp" : pthreads && pthreads() ? "pthreads"
                                                                          : "single-threaded";
    const char *env = getenv("BLIS_ARCH_TYPE");
    snprintf(lib.version, sizeof lib.version, "BLIS %s %s (%s%s%s%s)", ver ? ver : "?",
             arch ? arch : "?", thr, env ? ", BLIS_ARCH_TYPE=" : "", env ? env : "",
             chosen ? " set by tlbench" : "");
    lib.ok = 1;
}

static int blis_probe(char *why, size_t why_len) {
    pthread_once(&load_once, load);
    if (!lib.ok) snprintf(why, why_len, "%s", lib.why);
    return lib.ok ? 0 : -1;
}

/* BLIS takes row and column strides, so transposes are just swapped strides. The product is
 * computed as Y^T (n x m) = W (n x k) X^T (k x m), the big matrix as BLIS's A: on Zen 5 with
 * the skx configuration that ran 1.4-1.5x faster than Y = X W^T (f32 2048x2048, 1 thread:
 * m = 32 15.8 -> 23.6 GFLOP/s, m = 128 51 -> 70). Its typed API takes non-const pointers but
 * does not write to a, b or x. */
static void bl_gemm(int m, int n, int k, const float *x, const float *w, float *y, int ldy) {
    float one = 1.0f, zero = 0.0f;
    lib.sgemm(BLIS_NO_TRANS, BLIS_NO_TRANS, n, m, k, &one, (float *)w, k, 1, (float *)x, 1, k,
              &zero, y, 1, ldy);
}

static void bl_gemv(int n, int k, const float *w, const float *x, float *y) {
    float one = 1.0f, zero = 0.0f;
    lib.sgemv(BLIS_NO_TRANS, BLIS_NO_CONJ, n, k, &one, (float *)w, k, 1, (float *)x, 1, &zero,
              y, 1);
}

/* Global to BLIS (its global runtime, under a mutex). blas-common keeps it at 1 (the pool
 * runs N single-threaded calls); set it only when the value changes. */
static void bl_set_threads(int n) {
    if (n != lib.threads) {
        lib.set_num_threads(n);
        lib.threads = n;
    }
}

static const struct tlb_blas_ops ops = {"blis", bl_gemm, bl_gemv, bl_set_threads};

static int blis_init(void **state, struct tlb_pool *pool) {
    char why[512];
    if (blis_probe(why, sizeof why) != 0) {
        tlb_error("blis kernel: %s", why);
        return -1;
    }
    return tlb_blas_init(state, pool, &ops);
}

static const char *blis_version(void *state) {
    (void)state;
    return lib.ok ? lib.version : NULL;
}

const struct tlb_kernel tlb_kernel_blis = {
    .name = "blis",
    .summary = "BLIS bli_sgemm/sgemv (dlopen) on pool threads; non-f32 W dequantized to f32 "
               "tiles",
    .wtypes = TLB_ALL_TYPES,
    /* Like openblas: below the SIMD kernels for `auto`; just under openblas as well. */
    .priority = 4,
    .probe = blis_probe,
    .init = blis_init,
    .release = tlb_blas_release,
    .matmul = tlb_blas_matmul,
    .version = blis_version,
    .scratch_bytes = tlb_blas_scratch_bytes,
};
