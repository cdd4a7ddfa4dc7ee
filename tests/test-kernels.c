/* test-kernels.c — every usable registered kernel, every weight type it claims, against naive
 * on odd shapes, 1..3 threads and TinyLlama shapes, judged by the harness's own check
 * (kernels/kernel-check.h: NaN/Inf, then its NMSE bounds; our kernels must match naive's q8_0
 * activations, BLAS ones may match the f32 product instead); CPU feature masking, selection
 * by name and "auto", the non-VNNI paths. Unusable kernels print "skip". Env:
 * TLB_KERNEL_TEST_QUICK=1 fewer shapes (qemu), TLB_KERNEL_TEST_ONLY=a,b only these kernels
 * (t-dispatch.sh: on qemu64 OpenBLAS picks AVX2 code and dies). */
#include <stdint.h>
#include <stdlib.h>

#include "cpu.h"
#include "kernel-check.h"
#include "kernel.h"
#include "test.h"
#include "threadpool.h"
#include "util.h"

static uint32_t rng = 2463534242u;

/* Random values with a per-32-block magnitude between 2^-4 and 2^4, so quantization scales
 * differ from block to block. */
static void fill(float *v, size_t n) {
    float scale = 1.0f;
    for (size_t i = 0; i < n; i++) {
        if (i % 32 == 0) scale = (float)(1 << (tlb_xorshift32(&rng) % 9)) / 16.0f;
        v[i] = tlb_rand_pm1(&rng) * scale;
    }
}

/* Is kernel name listed in TLB_KERNEL_TEST_ONLY (or is that unset)? */
static int selected(const char *name) {
    const char *only = getenv("TLB_KERNEL_TEST_ONLY");
    if (!only || !*only) return 1;
    const size_t n = strlen(name);
    for (const char *p = only; (p = strstr(p, name)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return 1;
    return 0;
}

static int quick(void) {
    const char *q = getenv("TLB_KERNEL_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

struct problem {
    enum tlb_type t;
    int n, k, m;
    void *w;       /* (n, row bytes) */
    float *x;      /* (m, k) */
    struct tlb_tensor tensor;
};

static void problem_free(struct problem *p) {
    free(p->w);
    free(p->x);
    memset(p, 0, sizeof *p);
}

/* Run kernel kn with nth threads on a fresh pool and state. Returns 0, or -1. */
static int run_kernel(const struct tlb_kernel *kn, int nth, float *y, const struct problem *p) {
    struct tlb_pool *pool = tlb_pool_create(nth);
    if (!pool) return -1;
    void *st = NULL;
    int rc = kn->init ? kn->init(&st, pool) : 0;
    if (rc == 0) rc = kn->matmul(st, pool, y, p->x, &p->tensor, p->m);
    if (kn->release) kn->release(st);
    tlb_pool_free(pool);
    return rc;
}

static int problem_make(struct problem *p, enum tlb_type t, int n, int k, int m) {
    memset(p, 0, sizeof *p);
    const size_t rb = tlb_type_row_bytes(t, k);
    float *wf = malloc((size_t)n * (size_t)k * sizeof *wf);
    p->t = t, p->n = n, p->k = k, p->m = m;
    p->w = malloc((size_t)n * rb);
    p->x = malloc((size_t)m * (size_t)k * sizeof *p->x);
    if (!wf || !p->w || !p->x) {
        free(wf);
        problem_free(p);
        return -1;
    }
    fill(wf, (size_t)n * (size_t)k);
    tlb_type_traits(t)->from_f32(wf, p->w, (int64_t)n * k);
    fill(p->x, (size_t)m * (size_t)k);
    p->tensor = (struct tlb_tensor){.type = t, .rows = n, .cols = k, .data = p->w, .name = "test"};
    free(wf);
    return 0;
}

/* Our kernels must use q8_0 activations like naive; others may use f32 activations. */
static int must_use_q8(const struct tlb_kernel *kn) {
    return !strcmp(kn->name, "tiled") || !strcmp(kn->name, "avx2") ||
           !strcmp(kn->name, "avx512") || !strcmp(kn->name, "neon");
}

/* The harness's check of y (every output row) for kernel kn; on failure writes why to msg
 * (prefixed by what) and returns 0. */
static int judge(const struct tlb_kernel *kn, const struct problem *p, const float *y,
                 double *worst, const char *what, char *msg, size_t len) {
    struct tlb_kcheck kc;
    if (tlb_kcheck_rows(&p->tensor, p->x, p->m, y, 0, p->n, &kc) != 0) {
        snprintf(msg, len, "%s: check ran out of memory", what);
        return 0;
    }
    if (!kc.finite) {
        snprintf(msg, len, "%s: NaN/Inf in the output", what);
        return 0;
    }
    /* ours: naive's q8_0 activations, or (avx512's bf16 prefill) activations rounded to bf16 */
    const int ours_ok = !strcmp(kc.ref, "naive") ||
                        (p->t == TLB_TYPE_BF16 && !strcmp(kc.ref, "bf16 activations"));
    if (!kc.passed || (must_use_q8(kn) && !ours_ok)) {
        snprintf(msg, len, "%s: NMSE %.3g vs %s (bounds: kernel-check.h)", what, kc.nmse,
                 kc.ref);
        return 0;
    }
    if (kc.nmse > *worst) *worst = kc.nmse;
    return 1;
}

/* Compare one kernel (state st on pool) on one problem; on failure writes msg and returns 0.
 * *worst tracks the largest NMSE seen. */
static int check_one(const struct tlb_kernel *kn, void *st, struct tlb_pool *pool,
                     struct problem *p, double *worst, char *msg, size_t len) {
    const size_t cells = (size_t)p->m * (size_t)p->n;
    float *y = malloc(cells * sizeof *y);
    if (!y) {
        snprintf(msg, len, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < cells; i++) y[i] = NAN; /* every output must be written */
    char what[160];
    snprintf(what, sizeof what, "%s %s n=%d k=%d m=%d t=%d", kn->name,
             tlb_type_traits(p->t)->name, p->n, p->k, p->m, tlb_pool_size(pool));
    /* W in the layout the kernel asks for (as the engine gives it), judged against rows */
    struct tlb_tensor w = p->tensor;
    void *copy = NULL;
    w.layout = tlb_kernel_layout(kn, p->t, p->n, p->k);
    if (w.layout != TLB_LAYOUT_ROWS) {
        const size_t bytes = tlb_type_row_bytes(p->t, p->k) * (size_t)p->n;
        copy = malloc(bytes);
        if (!copy) {
            free(y);
            snprintf(msg, len, "out of memory");
            return 0;
        }
        memcpy(copy, p->w, bytes);
        w.data = copy;
        snprintf(what + strlen(what), sizeof what - strlen(what), " layout %s",
                 tlb_layout_name(w.layout));
    }
    int ok = 0;
    if (copy && tlb_layout_convert(copy, p->t, p->n, p->k, TLB_LAYOUT_ROWS, w.layout) != 0)
        snprintf(msg, len, "%s: layout conversion failed", what);
    else if (kn->matmul(st, pool, y, p->x, &w, p->m) != 0)
        snprintf(msg, len, "%s: matmul failed", what);
    else
        ok = judge(kn, p, y, worst, what, msg, len);
    free(copy);
    free(y);
    return ok;
}

#define MAX_KERNELS 32
#define MAX_THREADS 4

struct tally {
    int runs, bad;
    double worst, seconds;
    char msg[300];
};

/* Every usable kernel (but naive) on every shape it can take: one pool per thread count and
 * one state per (kernel, pool) reused across all shapes, as the engine does. Prints one line
 * per kernel and type; returns the number of failing (kernel, type) pairs. Kernels that own
 * their threads (BLAS) run on 1 thread only: test-blas tests their threading. */
static int sweep(const char *tag, const int *ns, int nn, const int *ks_q, const int *ks_f, int nk,
                 const int *ms, int nm, const int *ths, int nt, char *first_fail, size_t ff_len) {
    const struct tlb_kernel *kl[MAX_KERNELS];
    struct tlb_pool *pools[MAX_THREADS] = {NULL};
    void *st[MAX_KERNELS][MAX_THREADS] = {{NULL}};
    int inited[MAX_KERNELS][MAX_THREADS] = {{0}};
    static struct tally tl[MAX_KERNELS][TLB_TYPE_COUNT];
    memset(tl, 0, sizeof tl);
    int nkern = 0, fails = 0;
    char why[256];
    for (int ki = 0; ki < tlb_kernel_count() && nkern < MAX_KERNELS; ki++) {
        const struct tlb_kernel *kn = tlb_kernel_at(ki);
        if (!strcmp(kn->name, "naive") || !selected(kn->name)) continue;
        if (kn->probe && kn->probe(why, sizeof why) != 0)
            printf("skip %s_%s: %s\n", kn->name, tag, why);
        else
            kl[nkern++] = kn;
    }
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    for (int d = 0; d < nt; d++) {
        pools[d] = tlb_pool_create(ths[d]);
        if (!pools[d]) {
            snprintf(first_fail, ff_len, "cannot create a pool of %d threads", ths[d]);
            fails = 1;
            goto done;
        }
        for (int i = 0; i < nkern; i++) {
            if (kl[i]->init && kl[i]->init(&st[i][d], pools[d]) != 0) {
                snprintf(first_fail, ff_len, "%s init failed", kl[i]->name);
                fails = 1;
                goto done;
            }
            inited[i][d] = 1;
        }
    }
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        const int quant = tlb_type_traits((enum tlb_type)t)->is_quantized;
        for (int a = 0; a < nn; a++)
            for (int b = 0; b < nk; b++)
                for (int c = 0; c < nm; c++) {
                    struct problem p;
                    const int k = quant ? ks_q[b] : ks_f[b];
                    if (problem_make(&p, (enum tlb_type)t, ns[a], k, ms[c]) != 0) {
                        snprintf(first_fail, ff_len, "out of memory");
                        fails = 1;
                        goto done;
                    }
                    for (int i = 0; i < nkern; i++) {
                        struct tally *y = &tl[i][t];
                        if (!(kl[i]->wtypes & TLB_TYPE_BIT(t)) || y->bad) continue;
                        for (int d = 0; d < nt && !y->bad; d++) {
                            if (!must_use_q8(kl[i]) && ths[d] > 1) continue;
                            const int64_t t0 = tlb_now_ns();
                            if (!check_one(kl[i], st[i][d], pools[d], &p, &y->worst, y->msg,
                                           sizeof y->msg))
                                y->bad = 1;
                            y->seconds += (double)(tlb_now_ns() - t0) * 1e-9;
                            y->runs++;
                        }
                    }
                    problem_free(&p);
                }
    }
    for (int i = 0; i < nkern; i++)
        for (int t = 0; t < TLB_TYPE_COUNT; t++) {
            const struct tally *y = &tl[i][t];
            const char *tn = tlb_type_traits((enum tlb_type)t)->name;
            if (!(kl[i]->wtypes & TLB_TYPE_BIT(t))) continue;
            if (y->bad) {
                printf("FAIL %s_%s_%s: %s\n", kl[i]->name, tn, tag, y->msg);
                if (!fails) snprintf(first_fail, ff_len, "%s", y->msg);
                fails++;
            } else {
                printf("ok %s_%s_%s (%d runs, worst NMSE %.2g, %.2f s)\n", kl[i]->name, tn, tag,
                       y->runs, y->worst, y->seconds);
            }
        }
done:
    for (int d = 0; d < nt; d++) {
        for (int i = 0; i < nkern; i++)
            if (inited[i][d] && kl[i]->release) kl[i]->release(st[i][d]);
        tlb_pool_free(pools[d]);
    }
    fflush(stdout);
    return fails;
}

TLB_TEST(kernels_odd_shapes) {
    /* 48 and 160: whole 16-row groups, which avx512 takes in the R16 layout */
    static const int ns[] = {1, 3, 17, 48, 67, 160, 257};
    static const int ks_q[] = {32, 64, 96, 160, 2080};
    static const int ks_f[] = {7, 33, 100, 160, 2080};
    static const int ms[] = {1, 2, 7, 33};
    static const int ths[] = {1, 2, 3};
    /* quick (emulators): smaller k, still odd block counts (17 blocks = 544) */
    static const int ns_q[] = {1, 17, 48, 67};
    static const int ks_qq[] = {32, 96, 160, 544};
    static const int ks_qf[] = {7, 33, 100, 544};
    static const int ms_q[] = {1, 7, 33};
    static const int ths_q[] = {1, 3};
    char ff[300] = "";
    int fails = quick() ? sweep("odd", ns_q, 4, ks_qq, ks_qf, 4, ms_q, 3, ths_q, 2, ff, sizeof ff)
                        : sweep("odd", ns, 7, ks_q, ks_f, 5, ms, 4, ths, 3, ff, sizeof ff);
    TLB_CHECK(fails == 0, "%d kernel/type combinations failed; first: %s", fails, ff);
}

TLB_TEST(kernels_tinyllama_shapes) {
    if (quick()) TLB_SKIP("TLB_KERNEL_TEST_QUICK set (too slow under emulation)");
    /* n x k: attention 2048x2048, k/v 256x2048, ffn up 5632x2048, ffn down 2048x5632 */
    static const struct { int n, k, m; } sh[] = {
        {2048, 2048, 1}, {256, 2048, 1}, {5632, 2048, 1}, {5632, 2048, 4}, {2048, 5632, 1},
        {256, 2048, 128}};
    int fails = 0;
    char first[300] = "";
    for (size_t s = 0; s < TLB_ARRAY_LEN(sh); s++) {
        const int n = sh[s].n, k = sh[s].k, m = sh[s].m;
        int ns[] = {n}, ks[] = {k}, ms[] = {m}, ths[] = {2};
        char tag[64];
        snprintf(tag, sizeof tag, "%dx%d_m%d", n, k, m);
        fails += sweep(tag, ns, 1, ks, ks, 1, ms, 1, ths, 1, first, sizeof first);
    }
    TLB_CHECK(fails == 0, "%d failed; first: %s", fails, first);
}

/* tiled quantized accumulates in naive's order: results must be identical bit for bit. */
TLB_TEST(tiled_quantized_bit_exact) {
    const struct tlb_kernel *kn = tlb_kernel_find("tiled");
    TLB_CHECK(kn != NULL, "tiled kernel not registered");
    static const struct { int n, k, m, t; } sh[] = {{67, 2080, 1, 2}, {17, 160, 33, 3},
                                                   {257, 1056, 7, 1}};
    for (int t = TLB_TYPE_Q8_0; t <= TLB_TYPE_Q4_0; t++)
        for (size_t s = 0; s < TLB_ARRAY_LEN(sh); s++) {
            struct problem p;
            TLB_CHECK(problem_make(&p, (enum tlb_type)t, sh[s].n, sh[s].k, sh[s].m) == 0, "oom");
            const size_t cells = (size_t)p.m * (size_t)p.n;
            float *y = malloc(cells * sizeof *y), *ref = malloc(cells * sizeof *ref);
            int rc = y && ref ? run_kernel(kn, sh[s].t, y, &p) : -1;
            if (rc == 0) rc = run_kernel(tlb_kernel_find("naive"), 1, ref, &p);
            int same = rc == 0 && memcmp(y, ref, cells * sizeof *y) == 0;
            free(y);
            free(ref);
            problem_free(&p);
            TLB_CHECK(same, "tiled %s n=%d k=%d m=%d differs from naive",
                      tlb_type_traits((enum tlb_type)t)->name, sh[s].n, sh[s].k, sh[s].m);
        }
}

/* The integer paths that do not use VNNI (Haswell, Skylake-X): mask VNNI and rerun. */
TLB_TEST(kernels_without_vnni) {
    if (!tlb_cpu_has(TLB_CPU_AVXVNNI) && !tlb_cpu_has(TLB_CPU_AVX512VNNI))
        TLB_SKIP("no VNNI here: the odd-shape test already ran the non-VNNI paths");
    setenv("TLBENCH_CPU_MASK", "avxvnni,avx512vnni", 1);
    tlb_cpu_redetect();
    const int vnni_gone = !tlb_cpu_has(TLB_CPU_AVXVNNI) && !tlb_cpu_has(TLB_CPU_AVX512VNNI);
    static const int ns[] = {3, 67}, ks[] = {32, 2080}, ms[] = {1, 7, 33}, ths[] = {1, 2};
    char ff[300] = "";
    int fails = 0;
    if (vnni_gone) fails = sweep("novnni", ns, 2, ks, ks, 2, ms, 3, ths, 2, ff, sizeof ff);
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(vnni_gone, "TLBENCH_CPU_MASK=avxvnni,avx512vnni did not hide VNNI");
    TLB_CHECK(fails == 0, "%d failed; first: %s", fails, ff);
}

/* The avx512 decode paths without VBMI byte permutes (Skylake-X, Cascade Lake): mask it. */
TLB_TEST(kernels_without_vbmi) {
    if (!tlb_cpu_has(TLB_CPU_AVX512VBMI))
        TLB_SKIP("no AVX512-VBMI here: the odd-shape test already ran the paths without it");
    setenv("TLBENCH_CPU_MASK", "avx512vbmi", 1);
    tlb_cpu_redetect();
    const int gone = !tlb_cpu_has(TLB_CPU_AVX512VBMI);
    static const int ns[] = {3, 67}, ks[] = {32, 96, 2080}, ms[] = {1, 2}, ths[] = {1, 2};
    char ff[300] = "";
    int fails = 0;
    if (gone) fails = sweep("novbmi", ns, 2, ks, ks, 3, ms, 2, ths, 2, ff, sizeof ff);
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(gone, "TLBENCH_CPU_MASK=avx512vbmi did not hide VBMI");
    TLB_CHECK(fails == 0, "%d failed; first: %s", fails, ff);
}

/* With AVX512-BF16, avx512's bf16 prefill multiplies with vdpbf16ps: its result is the product
 * of activations rounded to bf16 (not naive's f32 one), and decode (m = 1) stays exact. */
TLB_TEST(avx512_bf16_prefill_uses_dot_product) {
    const struct tlb_kernel *kn = tlb_kernel_find("avx512");
    char why[256];
    if (!kn || (kn->probe && kn->probe(why, sizeof why) != 0))
        TLB_SKIP("avx512 kernel not usable here");
    if (!tlb_cpu_has(TLB_CPU_AVX512BF16)) TLB_SKIP("no AVX512-BF16 on this CPU");
    static const int ms[] = {33, 1};
    for (size_t i = 0; i < TLB_ARRAY_LEN(ms); i++) {
        struct problem p;
        TLB_CHECK(problem_make(&p, TLB_TYPE_BF16, 67, 2080, ms[i]) == 0, "oom");
        float *y = malloc((size_t)p.m * (size_t)p.n * sizeof *y);
        struct tlb_kcheck kc = {0};
        int rc = y ? run_kernel(kn, 2, y, &p) : -1;
        if (rc == 0) rc = tlb_kcheck_rows(&p.tensor, p.x, p.m, y, 0, p.n, &kc);
        free(y);
        problem_free(&p);
        TLB_CHECK(rc == 0, "avx512 bf16 m=%d failed", ms[i]);
        const char *want = ms[i] > 1 ? "bf16 activations" : "naive";
        TLB_CHECK(kc.passed && !strcmp(kc.ref, want), "m=%d: matched %s (NMSE %.3g), want %s",
                  ms[i], kc.ref, kc.nmse, want);
    }
}

/* ---- dispatch ---- */

static const struct tlb_kernel *best_usable(void) {
    const struct tlb_kernel *best = NULL;
    char why[256];
    for (int i = 0; i < tlb_kernel_count(); i++) {
        const struct tlb_kernel *k = tlb_kernel_at(i);
        if (tlb_kernel_select(k->name, TLB_ALL_TYPES, why, sizeof why) == NULL) continue;
        if (!best || k->priority > best->priority) best = k;
    }
    return best;
}

TLB_TEST(dispatch_features_string) {
    char buf[512];
    tlb_cpu_features_string(buf, sizeof buf);
    printf("# cpu features: %s\n", buf[0] ? buf : "(none)");
    for (int f = 0; f < TLB_CPU_FEATURE_COUNT; f++) {
        const char *nm = tlb_cpu_feature_name((enum tlb_cpu_feature)f);
        TLB_CHECK(strcmp(nm, "?") != 0, "feature %d has no name", f);
        char pad[64], padded[520];
        snprintf(pad, sizeof pad, " %s ", nm);
        snprintf(padded, sizeof padded, " %s ", buf);
        TLB_CHECK(!!strstr(padded, pad) == tlb_cpu_has((enum tlb_cpu_feature)f),
                  "'%s' listed=%d but tlb_cpu_has=%d", nm, !!strstr(padded, pad),
                  tlb_cpu_has((enum tlb_cpu_feature)f));
    }
    TLB_CHECK(!strcmp(tlb_cpu_feature_name(TLB_CPU_FEATURE_COUNT), "?"), "bad name for count");
#if defined(__x86_64__)
    /* AVX-512 implies the AVX2 family on every real CPU; the masks keep that consistent */
    if (tlb_cpu_has(TLB_CPU_AVX512F)) TLB_CHECK(tlb_cpu_has(TLB_CPU_AVX), "avx512f without avx");
    if (tlb_cpu_has(TLB_CPU_AVX2)) TLB_CHECK(tlb_cpu_has(TLB_CPU_AVX), "avx2 without avx");
#endif
}

TLB_TEST(dispatch_mask_and_select) {
    const struct tlb_kernel *before = best_usable();
    TLB_CHECK(before != NULL, "no usable kernel at all");
    char why[256];
    const struct tlb_kernel *au = tlb_kernel_select("auto", TLB_ALL_TYPES, why, sizeof why);
    TLB_CHECK(au == before, "auto picked %s, highest-priority usable is %s",
              au ? au->name : "(none)", before->name);
    printf("# auto: %s\n", au->name);

    /* mask everything: only kernels without CPU requirements remain */
    setenv("TLBENCH_CPU_MASK", "all", 1);
    tlb_cpu_redetect();
    char buf[512];
    tlb_cpu_features_string(buf, sizeof buf);
    int simd_refused = 1;
    for (int i = 0; i < tlb_kernel_count(); i++) {
        const struct tlb_kernel *k = tlb_kernel_at(i);
        if (strcmp(k->name, "avx2") && strcmp(k->name, "avx512") && strcmp(k->name, "neon"))
            continue;
        why[0] = '\0';
        if (tlb_kernel_select(k->name, TLB_ALL_TYPES, why, sizeof why) != NULL || !why[0])
            simd_refused = 0;
        else
            printf("# masked: %s refused: %s\n", k->name, why);
    }
    const struct tlb_kernel *au_all = tlb_kernel_select("auto", TLB_ALL_TYPES, why, sizeof why);
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(buf[0] == '\0', "TLBENCH_CPU_MASK=all left features: %s", buf);
    TLB_CHECK(simd_refused, "a SIMD kernel was selectable with every feature masked");
    TLB_CHECK(au_all && au_all->priority <= before->priority, "auto with mask=all failed");

    const struct tlb_kernel *k512 = tlb_kernel_find("avx512");
    if (!k512 || !tlb_cpu_has(TLB_CPU_AVX512F)) {
        TLB_SKIP("avx512 kernel not usable here (mask-all part passed)");
    }
    setenv("TLBENCH_CPU_MASK", "avx512f", 1);
    tlb_cpu_redetect();
    why[0] = '\0';
    const struct tlb_kernel *got = tlb_kernel_select("avx512", TLB_ALL_TYPES, why, sizeof why);
    const int bw_hidden = !tlb_cpu_has(TLB_CPU_AVX512BW);
    const char *removed = tlb_cpu_mask_string();
    const int removed_ok = strstr(removed, "avx512f") != NULL;
    char why2[256];
    const struct tlb_kernel *fallback = tlb_kernel_select("auto", TLB_ALL_TYPES, why2, sizeof why2);
    const struct tlb_kernel *fallback_best = best_usable();
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(got == NULL, "avx512 selectable with avx512f masked");
    TLB_CHECK(strstr(why, "avx512f") && strstr(why, "TLBENCH_CPU_MASK"),
              "reason does not name the masked feature: '%s'", why);
    TLB_CHECK(bw_hidden, "masking avx512f must hide the other AVX-512 features");
    TLB_CHECK(removed_ok, "tlb_cpu_mask_string() = '%s'", removed);
    TLB_CHECK(fallback && fallback == fallback_best && strcmp(fallback->name, "avx512"),
              "auto under the mask picked %s", fallback ? fallback->name : "(none)");
    printf("# avx512f masked: '%s'; auto -> %s\n", why, fallback->name);
    TLB_CHECK(tlb_kernel_select("auto", TLB_ALL_TYPES, why, sizeof why) == before,
              "auto did not return to %s after unmasking", before->name);
}

TLB_TEST(dispatch_unknown_names) {
    char why[256] = "";
    TLB_CHECK(tlb_kernel_select("no-such-kernel", TLB_ALL_TYPES, why, sizeof why) == NULL,
              "unknown kernel selected");
    TLB_CHECK(strstr(why, "unknown kernel"), "reason: '%s'", why);
    /* unknown mask names are reported (stderr) and ignored */
    setenv("TLBENCH_CPU_MASK", "bogus,avx2", 1);
    tlb_cpu_redetect();
    const int avx2 = tlb_cpu_has(TLB_CPU_AVX2);
    char buf[512];
    tlb_cpu_features_string(buf, sizeof buf);
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(!avx2, "avx2 still usable with TLBENCH_CPU_MASK=bogus,avx2");
    TLB_CHECK(!strstr(buf, "avx2"), "features string lists avx2 under the mask: %s", buf);
}

/* PANELS (layout.h) on shapes avx512 takes it for: rows in whole 128-row groups, k past one
 * panel with a last panel of 1, 4 and 32 values; decode, the small-m rows and prefill */
TLB_TEST(kernels_panels_shapes) {
    if (quick()) TLB_SKIP("TLB_KERNEL_TEST_QUICK set (too slow under emulation)");
    static const int ns[] = {128, 384};
    static const int ks_f[] = {2049, 2080, 4100};
    static const int ks_q[] = {2080, 4096, 4128}; /* whole blocks: rows in any case */
    static const int ms[] = {1, 2, 4, 5, 33};
    static const int ths[] = {1, 3};
    char first[300] = "";
    const int fails = sweep("panels", ns, 2, ks_q, ks_f, 3, ms, 5, ths, 2, first, sizeof first);
    TLB_CHECK(fails == 0, "%d kernel/type combinations failed; first: %s", fails, first);
}

/* ROWS -> l -> ROWS on a random n x k matrix of type t: 1 when l rewrote the bytes, its rows
 * read back as the original rows and the way back restored every byte; else 0 and what went
 * wrong in msg. */
static int layout_round_trip(enum tlb_type t, int n, int k, enum tlb_layout l, char *msg,
                             size_t len) {
    struct problem p;
    if (problem_make(&p, t, n, k, 1) != 0) {
        snprintf(msg, len, "out of memory");
        return 0;
    }
    const size_t bytes = tlb_type_row_bytes(p.t, p.k) * (size_t)p.n;
    char *c = malloc(bytes);
    float *a = malloc((size_t)p.k * sizeof *a), *b = malloc((size_t)p.k * sizeof *b);
    int ok = c && a && b;
    if (ok) memcpy(c, p.w, bytes);
    ok = ok && tlb_layout_convert(c, p.t, p.n, p.k, TLB_LAYOUT_ROWS, l) == 0;
    const int moved = ok && memcmp(c, p.w, bytes) != 0;
    int rows_same = ok;
    for (int r = 0; ok && r < p.n; r += 7) {
        tlb_layout_row_f32(c, p.t, p.k, l, r, a);
        tlb_layout_row_f32(p.w, p.t, p.k, TLB_LAYOUT_ROWS, r, b);
        rows_same = rows_same && memcmp(a, b, (size_t)p.k * sizeof *a) == 0;
    }
    ok = ok && tlb_layout_convert(c, p.t, p.n, p.k, l, TLB_LAYOUT_ROWS) == 0;
    const int back = ok && memcmp(c, p.w, bytes) == 0;
    free(c), free(a), free(b);
    problem_free(&p);
    const char *what = !ok ? "conversion failed" : !moved ? "left the bytes as they were"
                       : !rows_same ? "a row reads back differently"
                       : !back ? "the way back is not the original" : NULL;
    if (what) snprintf(msg, len, "%s %dx%d %s: %s", tlb_type_traits(t)->name, n, k,
                       tlb_layout_name(l), what);
    return what == NULL;
}

/* R16 (layout.h): a real rewrite of the bytes, undone exactly; its rows read back as the
 * original rows; shapes and types it cannot take are refused. */
TLB_TEST(layout_r16_round_trip) {
    static const struct { int n, k; } sh[] = {{16, 32}, {48, 96}, {160, 2080}};
    char msg[160];
    for (int t = TLB_TYPE_Q8_0; t <= TLB_TYPE_Q4_0; t++)
        for (size_t s = 0; s < TLB_ARRAY_LEN(sh); s++)
            TLB_CHECK(layout_round_trip((enum tlb_type)t, sh[s].n, sh[s].k, TLB_LAYOUT_R16, msg,
                                        sizeof msg),
                      "%s", msg);
    char buf[64];
    TLB_CHECK(!tlb_layout_fits(TLB_LAYOUT_R16, TLB_TYPE_Q8_0, 17, 32), "17 rows fit R16");
    TLB_CHECK(!tlb_layout_fits(TLB_LAYOUT_R16, TLB_TYPE_F16, 16, 32), "f16 fits R16");
    fprintf(stderr, "(expected error follows)\n");
    TLB_CHECK(tlb_layout_convert(buf, TLB_TYPE_F16, 16, 2, TLB_LAYOUT_ROWS, TLB_LAYOUT_R16) == -1,
              "f16 converted to R16");
}

/* PANELS: as R16, for f32/f16/bf16 (a last panel of 1, 4 and 1536 values); narrow matrices,
 * partial groups and quantized types are refused. */
TLB_TEST(layout_panels_round_trip) {
    static const struct { int n, k; } sh[] = {{128, 2049}, {256, 4100}, {128, 5632}};
    char msg[160];
    for (int t = TLB_TYPE_F32; t <= TLB_TYPE_BF16; t++)
        for (size_t s = 0; s < TLB_ARRAY_LEN(sh); s++)
            TLB_CHECK(layout_round_trip((enum tlb_type)t, sh[s].n, sh[s].k, TLB_LAYOUT_PANELS,
                                        msg, sizeof msg),
                      "%s", msg);
    TLB_CHECK(!tlb_layout_fits(TLB_LAYOUT_PANELS, TLB_TYPE_F16, 128, 2048), "2048 wide fits");
    TLB_CHECK(!tlb_layout_fits(TLB_LAYOUT_PANELS, TLB_TYPE_F16, 64, 4096), "64 rows fit");
    TLB_CHECK(!tlb_layout_fits(TLB_LAYOUT_PANELS, TLB_TYPE_Q8_0, 128, 4096), "q8_0 fits");
    char buf[64];
    fprintf(stderr, "(expected error follows)\n");
    TLB_CHECK(tlb_layout_convert(buf, TLB_TYPE_F32, 1, 4, TLB_LAYOUT_ROWS, TLB_LAYOUT_PANELS) == -1,
              "a 1 x 4 matrix converted to PANELS");
}

/* avx512 asks for PANELS for float matrices wider than 2048 (any AVX-512 CPU); with VNNI, R16
 * for q8_0/q4_0 of whole groups, rows otherwise; without VNNI (masked) no R16. */
TLB_TEST(avx512_layout_choice) {
    const struct tlb_kernel *kn = tlb_kernel_find("avx512");
    char why[256];
    if (!kn || kn->probe(why, sizeof why) != 0) TLB_SKIP("avx512 kernel not usable here");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_F16, 2048, 5632) == TLB_LAYOUT_PANELS, "f16 w2 rows");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_BF16, 2048, 5632) == TLB_LAYOUT_PANELS, "bf16 rows");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_F32, 2048, 2048) == TLB_LAYOUT_ROWS, "f32 2048 panels");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_Q8_0, 2048, 5632) != TLB_LAYOUT_PANELS, "q8_0 panels");
    if (!tlb_cpu_has(TLB_CPU_AVX512VNNI)) TLB_SKIP("no AVX512-VNNI here: avx512 reads rows only");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_Q8_0, 2048, 2048) == TLB_LAYOUT_R16, "q8_0 not R16");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_Q4_0, 256, 2048) == TLB_LAYOUT_R16, "q4_0 not R16");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_Q8_0, 17, 2048) == TLB_LAYOUT_ROWS, "17 rows R16");
    TLB_CHECK(tlb_kernel_layout(kn, TLB_TYPE_F16, 2048, 2048) == TLB_LAYOUT_ROWS, "f16 R16");
    setenv("TLBENCH_CPU_MASK", "avx512vnni", 1);
    tlb_cpu_redetect();
    const enum tlb_layout masked = tlb_kernel_layout(kn, TLB_TYPE_Q8_0, 2048, 2048);
    unsetenv("TLBENCH_CPU_MASK");
    tlb_cpu_redetect();
    TLB_CHECK(masked == TLB_LAYOUT_ROWS, "R16 asked for without VNNI");
}

/* Scratch grows with m and is reported; a second, larger call on the same state works
 * (tiled, avx2, avx512: the kernels that keep q8_0 activations in their state). */
TLB_TEST(kernels_scratch_growth) {
    int tested = 0;
    for (int i = 0; i < tlb_kernel_count(); i++) {
        const struct tlb_kernel *kn = tlb_kernel_at(i);
        char why[256];
        if (strcmp(kn->name, "tiled") && strcmp(kn->name, "avx2") && strcmp(kn->name, "avx512"))
            continue;
        if (kn->probe && kn->probe(why, sizeof why) != 0) continue;
        struct problem a, b;
        TLB_CHECK(problem_make(&a, TLB_TYPE_Q4_0, 40, 256, 1) == 0, "oom");
        if (problem_make(&b, TLB_TYPE_Q4_0, 40, 256, 20) != 0) {
            problem_free(&a);
            TLB_CHECK(0, "oom");
        }
        struct tlb_pool *pool = tlb_pool_create(2);
        void *st = NULL;
        float ya[40], yb[40 * 20];
        int rc = pool && kn->init(&st, pool) == 0 ? 0 : -1;
        size_t s1 = 0, s2 = 0;
        if (rc == 0) rc = kn->matmul(st, pool, ya, a.x, &a.tensor, 1);
        if (rc == 0 && kn->scratch_bytes) s1 = kn->scratch_bytes(st);
        if (rc == 0) rc = kn->matmul(st, pool, yb, b.x, &b.tensor, 20);
        if (rc == 0 && kn->scratch_bytes) s2 = kn->scratch_bytes(st);
        double worst = 0;
        char msg[300] = "";
        const int good = rc == 0 && judge(kn, &a, ya, &worst, "m=1", msg, sizeof msg) &&
                         judge(kn, &b, yb, &worst, "m=20", msg, sizeof msg);
        if (st) kn->release(st);
        tlb_pool_free(pool);
        problem_free(&a);
        problem_free(&b);
        TLB_CHECK(rc == 0, "%s matmul failed", kn->name);
        TLB_CHECK(kn->scratch_bytes && s1 > 0 && s2 >= s1, "%s scratch %zu then %zu", kn->name,
                  s1, s2);
        TLB_CHECK(good, "%s %s", kn->name, msg);
        tested++;
    }
    TLB_CHECK(tested > 0, "no kernel tested");
}

/* The n matrices of ps in the layout kernel kn asks for, rewritten in place as the engine
 * gives them; 0, or -1 when a conversion fails. */
static int to_kernel_layout(const struct tlb_kernel *kn, struct problem *ps, int n) {
    for (int i = 0; i < n; i++) {
        struct problem *p = &ps[i];
        p->tensor.layout = tlb_kernel_layout(kn, p->t, p->n, p->k);
        if (p->tensor.layout != TLB_LAYOUT_ROWS &&
            tlb_layout_convert(p->w, p->t, p->n, p->k, TLB_LAYOUT_ROWS, p->tensor.layout) != 0)
            return -1;
    }
    return 0;
}

/* One shared-X call against n separate matmul calls on the same X: byte for byte equal (every
 * row written: the outputs start as NaN). On failure writes why to msg and returns 0. */
static int shared_x_case(const struct tlb_kernel *kn, void *st, struct tlb_pool *pool,
                         const enum tlb_type *types, const int *rows, int n, int k, int m,
                         char *msg, size_t len) {
    struct problem ps[TLB_SHARED_X_MAX];
    float *sep[TLB_SHARED_X_MAX] = {0}, *sh[TLB_SHARED_X_MAX] = {0};
    const struct tlb_tensor *w[TLB_SHARED_X_MAX];
    int made = 0, ready = 1, ok = 0; /* made: problems to free */
    for (int i = 0; i < n && ready; i++) {
        ready = problem_make(&ps[i], types[i], rows[i], k, m) == 0;
        if (!ready) break;
        made++;
        const size_t cells = (size_t)rows[i] * (size_t)m;
        sep[i] = malloc(cells * sizeof(float));
        sh[i] = malloc(cells * sizeof(float));
        ready = sep[i] && sh[i];
        for (size_t c = 0; ready && c < cells; c++) sep[i][c] = sh[i][c] = NAN;
        w[i] = &ps[i].tensor;
    }
    snprintf(msg, len, "%s %s..%s k=%d m=%d t=%d", kn->name, tlb_type_traits(types[0])->name,
             tlb_type_traits(types[n - 1])->name, k, m, tlb_pool_size(pool));
    if (!ready || to_kernel_layout(kn, ps, n) != 0) {
        snprintf(msg + strlen(msg), len - strlen(msg), ": set-up failed");
    } else {
        int rc = 0;
        for (int i = 0; i < n && rc == 0; i++) rc = kn->matmul(st, pool, sep[i], ps[0].x, w[i], m);
        if (rc == 0) rc = kn->matmul_shared_x(st, pool, sh, ps[0].x, w, n, m);
        ok = rc == 0;
        for (int i = 0; i < n && ok; i++)
            ok = !memcmp(sep[i], sh[i], (size_t)rows[i] * (size_t)m * sizeof(float));
        if (!ok)
            snprintf(msg + strlen(msg), len - strlen(msg), "%s",
                     rc ? ": a call failed" : ": outputs differ from separate calls");
    }
    for (int i = 0; i < made; i++) problem_free(&ps[i]);
    for (int i = 0; i < n; i++) {
        free(sep[i]);
        free(sh[i]);
    }
    return ok;
}

/* Kernels that take the matrices reading one X together (q/k/v, w1/w3) give what separate
 * calls give, byte for byte: decode, short and packed prefill, every type, 2 threads, and a
 * mix of types (each then runs alone). */
TLB_TEST(kernels_shared_x_equals_separate) {
    static const enum tlb_type types[] = {TLB_TYPE_F32, TLB_TYPE_F16, TLB_TYPE_BF16,
                                          TLB_TYPE_Q8_0, TLB_TYPE_Q4_0};
    static const int rows[] = {96, 32, 48}, ms[] = {1, 4, 33};
    int tested = 0;
    for (int i = 0; i < tlb_kernel_count(); i++) {
        const struct tlb_kernel *kn = tlb_kernel_at(i);
        char why[256], msg[300];
        if (!kn->matmul_shared_x || (kn->probe && kn->probe(why, sizeof why) != 0)) continue;
        struct tlb_pool *pool = tlb_pool_create(2);
        void *st = NULL;
        TLB_CHECK(pool && (!kn->init || kn->init(&st, pool) == 0), "%s: no pool or state",
                  kn->name);
        int good = 1;
        for (size_t t = 0; t < TLB_ARRAY_LEN(types) && good; t++)
            for (size_t mi = 0; mi < TLB_ARRAY_LEN(ms) && good; mi++) {
                const enum tlb_type same[] = {types[t], types[t], types[t]};
                good = shared_x_case(kn, st, pool, same, rows, 3, 256, ms[mi], msg,
                                     sizeof msg) &&
                       shared_x_case(kn, st, pool, same, rows, 2, 2048 + 64, ms[mi], msg,
                                     sizeof msg);
            }
        const enum tlb_type mixed[] = {TLB_TYPE_Q8_0, TLB_TYPE_Q8_0, TLB_TYPE_Q4_0};
        if (good) good = shared_x_case(kn, st, pool, mixed, rows, 3, 256, 1, msg, sizeof msg);
        if (kn->release) kn->release(st);
        tlb_pool_free(pool);
        TLB_CHECK(good, "%s", msg);
        tested++;
    }
    TLB_CHECK(tested > 0, "no kernel takes matrices sharing X here");
}

TLB_TEST_MAIN()
