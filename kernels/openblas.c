/* openblas.c — the openblas kernel: OpenBLAS's cblas_sgemm/cblas_sgemv, loaded privately with
 * dlopen(RTLD_LOCAL) so that it never meets BLIS's identically named BLAS symbols and the
 * binary runs without it. Each pool thread calls it single-threaded on its share of W: f32
 * directly, other types after dequantizing to f32 tiles (blas-common.c). Set
 * TLBENCH_OPENBLAS=/path/libopenblas.so to choose a build; OPENBLAS_CORETYPE (OpenBLAS's own
 * variable) overrides its CPU detection. When it is unset and OpenBLAS's own core dies of
 * SIGILL here (core_dies), tlbench sets it from its own CPU detection before loading. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas-common.h"
#include "cpu.h"
#include "util.h"

#if defined(__x86_64__)
#define MULTIARCH "/usr/lib/x86_64-linux-gnu/"
#elif defined(__aarch64__)
#define MULTIARCH "/usr/lib/aarch64-linux-gnu/"
#else
#define MULTIARCH "/usr/lib/"
#endif

/* The cblas.h values (CBLAS_ORDER, CBLAS_TRANSPOSE); no header is needed to build. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
typedef void (*sgemv_fn)(int order, int ta, int m, int n, float alpha, const float *a, int lda,
                         const float *x, int incx, float beta, float *y, int incy);
typedef void (*set_threads_fn)(int n);
typedef int (*get_int_fn)(void);
typedef char *(*get_str_fn)(void);

static struct {
    sgemm_fn sgemm;
    sgemv_fn sgemv;
    set_threads_fn set_num_threads;
    int threads; /* last value given to openblas_set_num_threads, 0 = never */
    int ok;
    char why[512];
    char version[256];
} lib;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static const char *const names[] = {
        "libopenblas.so.0",  /* Debian/Ubuntu (the alternatives link), Arch */
        "libopenblasp.so.0", /* Fedora's pthread build */
        MULTIARCH "openblas-pthread/libopenblas.so.0",
        MULTIARCH "openblas-openmp/libopenblas.so.0",
        MULTIARCH "openblas-serial/libopenblas.so.0",
        "libopenblas.so",
        NULL,
};

/* OpenBLAS picks its core from the CPU's vendor, family and model, and not every core checks
 * that the CPU has the instructions its kernels use: under `qemu-x86_64 -cpu qemu64` (AMD
 * family 15 without 3DNow!) it picks Opteron, whose sgemm dies of SIGILL. The choice is made
 * when the library loads, so it is tried first in a child process: load, one small sgemm and
 * sgemv. Returns the signal that killed the child (0: it ran, or it could not tell) and the
 * core the child saw in core[n]. */
static int core_dies(char *core, size_t n) {
    int pfd[2];
    core[0] = '\0';
    if (pipe(pfd) != 0) return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        alarm(60); /* never outlive a stuck probe */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* its death is expected: no core file */
        char why[256];
        void *h = tlb_blas_dlopen("OpenBLAS", names, "TLBENCH_OPENBLAS", "openblas_get_config",
                                  why, sizeof why);
        get_str_fn name = h ? (get_str_fn)dlsym(h, "openblas_get_corename") : NULL;
        sgemm_fn gemm = h ? (sgemm_fn)dlsym(h, "cblas_sgemm") : NULL;
        sgemv_fn gemv = h ? (sgemv_fn)dlsym(h, "cblas_sgemv") : NULL;
        if (!name || !gemm || !gemv) _exit(0); /* the parent's load will say why */
        const char *c = name();
        if (c && write(pfd[1], c, strnlen(c, n - 1)) < 0) _exit(0);
        static float a[64 * 64], b[64 * 64], y[64 * 64];
        gemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, 64, 64, 64, 1.0f, a, 64, b, 64, 0.0f,
             y, 64);
        gemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, 64, 64, 1.0f, a, 64, b, 1, 0.0f, y, 1);
        _exit(0);
    }
    close(pfd[1]);
    if (pid < 0) {
        close(pfd[0]);
        return 0;
    }
    ssize_t got, len = 0;
    while (len < (ssize_t)n - 1 && (got = read(pfd[0], core + len, (size_t)n - 1 - (size_t)len)) != 0) {
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break;
        len += got;
    }
    core[len] = '\0';
    close(pfd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 0;
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGILL ? SIGILL : 0;
}

/* The OpenBLAS core for what this CPU can run (tlbench's own detection), or NULL. */
static const char *safe_core(void) {
#if defined(__x86_64__)
    if (tlb_cpu_has(TLB_CPU_AVX512F) && tlb_cpu_has(TLB_CPU_AVX512BW) &&
        tlb_cpu_has(TLB_CPU_AVX512VL) && tlb_cpu_has(TLB_CPU_AVX512DQ))
        return tlb_cpu_has(TLB_CPU_AVX512BF16) ? "Cooperlake" : "SkylakeX";
    if (tlb_cpu_has(TLB_CPU_AVX2) && tlb_cpu_has(TLB_CPU_FMA)) return "Haswell";
    if (tlb_cpu_has(TLB_CPU_AVX)) return "Sandybridge";
    return "Prescott"; /* SSE3: the oldest core of a DYNAMIC_ARCH x86-64 build */
#elif defined(__aarch64__)
    return "ARMV8";
#else
    return NULL;
#endif
}

static void load(void) {
    /* Unless the user chose the core, make sure OpenBLAS's own choice runs here; if it dies,
     * choose one from what this CPU can run, or leave the kernel unusable. */
    char core[64], forced[160] = "";
    if (!getenv("OPENBLAS_CORETYPE") && core_dies(core, sizeof core)) {
        const char *safe = safe_core();
        char core2[64];
        if (!safe || setenv("OPENBLAS_CORETYPE", safe, 1) != 0 || core_dies(core2, sizeof core2)) {
            snprintf(lib.why, sizeof lib.why, "OpenBLAS's core %s dies of SIGILL on this CPU%s%s%s",
                     *core ? core : "(unknown)", safe ? ", and so does " : "",
                     safe ? safe : "", safe ? " (OPENBLAS_CORETYPE)" : "");
            if (safe) unsetenv("OPENBLAS_CORETYPE");
            return;
        }
        snprintf(forced, sizeof forced, ", set by tlbench: OpenBLAS's own choice %s dies of "
                 "SIGILL here", *core ? core : "(unknown)");
    }
    void *h = tlb_blas_dlopen("OpenBLAS", names, "TLBENCH_OPENBLAS", "openblas_get_config",
                              lib.why, sizeof lib.why);
    if (!h) return;
    /* POSIX guarantees dlsym's void * converts to a function pointer. */
#define SYM(var, type, name)                                                        \
    do {                                                                            \
        void *p_ = dlsym(h, name);                                                  \
        if (!p_) {                                                                  \
            snprintf(lib.why, sizeof lib.why, "OpenBLAS found but lacks %s", name); \
            return;                                                                 \
        }                                                                           \
        var = (type)p_;                                                             \
    } while (0)
    get_str_fn get_config, get_corename;
    get_int_fn get_parallel = NULL;
    SYM(lib.sgemm, sgemm_fn, "cblas_sgemm");
    SYM(lib.sgemv, sgemv_fn, "cblas_sgemv");
    SYM(lib.set_num_threads, set_threads_fn, "openblas_set_num_threads");
    SYM(get_config, get_str_fn, "openblas_get_config");
    SYM(get_corename, get_str_fn, "openblas_get_corename");
    get_parallel = (get_int_fn)dlsym(h, "openblas_get_parallel"); /* optional */
#undef SYM
    const char *config = get_config();
    const char *core_name = get_corename();
    if (!config) config = "OpenBLAS (no config string)";
    if (strstr(config, "USE64BITINT")) {
        snprintf(lib.why, sizeof lib.why,
                 "OpenBLAS found but built with 64-bit integers (USE64BITINT); tlbench calls "
                 "the 32-bit interface (Debian: libopenblas0)");
        return;
    }
    int par = get_parallel ? get_parallel() : -1;
    /* a core forced by the environment is easy to miss (some images set it globally) */
    const char *forced_env = getenv("OPENBLAS_CORETYPE");
    snprintf(lib.version, sizeof lib.version, "%s (core %s, %s%s%s%s)", config,
             core_name ? core_name : "?",
             par == 0 ? "sequential" : par == 1 ? "pthread" : par == 2 ? "openmp" : "?",
             forced_env ? ", OPENBLAS_CORETYPE=" : "", forced_env ? forced_env : "", forced);
    lib.ok = 1;
}

static int openblas_probe(char *why, size_t why_len) {
    pthread_once(&load_once, load);
    if (!lib.ok) snprintf(why, why_len, "%s", lib.why);
    return lib.ok ? 0 : -1;
}

static void ob_gemm(int m, int n, int k, const float *x, const float *w, float *y, int ldy) {
    lib.sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, m, n, k, 1.0f, x, k, w, k, 0.0f,
              y, ldy);
}

static void ob_gemv(int n, int k, const float *w, const float *x, float *y) {
    lib.sgemv(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, n, k, 1.0f, w, k, x, 1, 0.0f, y, 1);
}

/* Global to OpenBLAS. blas-common keeps it at 1 (the pool runs N single-threaded calls);
 * the call is cheap but not free, so it is made only when the value changes. */
static void ob_set_threads(int n) {
    if (n != lib.threads) {
        lib.set_num_threads(n);
        lib.threads = n;
    }
}

static const struct tlb_blas_ops ops = {"openblas", ob_gemm, ob_gemv, ob_set_threads};

static int openblas_init(void **state, struct tlb_pool *pool) {
    char why[512];
    if (openblas_probe(why, sizeof why) != 0) {
        tlb_error("openblas kernel: %s", why);
        return -1;
    }
    return tlb_blas_init(state, pool, &ops);
}

static const char *openblas_version(void *state) {
    (void)state;
    return lib.ok ? lib.version : NULL;
}

const struct tlb_kernel tlb_kernel_openblas = {
    .name = "openblas",
    .summary = "OpenBLAS sgemm/sgemv (dlopen) on pool threads; non-f32 W dequantized to f32 tiles",
    .wtypes = TLB_ALL_TYPES,
    /* Below the SIMD kernels: dequantizing costs more than it saves in decode. `auto` is per
     * weight type, yet for f32 prefill BLAS may well beat them: measure with `kernels`. */
    .priority = 5,
    .probe = openblas_probe,
    .init = openblas_init,
    .release = tlb_blas_release,
    .matmul = tlb_blas_matmul,
    .version = openblas_version,
    .scratch_bytes = tlb_blas_scratch_bytes,
};
