/* probe.c — bandwidth and FMA-peak probes for `tlbench kernels` (see probe.h). The x86 read
 * and FMA loops use per-function target attributes and run only after tlb_cpu_has() said yes;
 * the rest of this file is baseline code. */
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "sysfs.h"
#include "threadpool.h"
#include "util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

/* ---- read bandwidth ---- */

struct bw_job {
    const uint64_t *buf;
    size_t words;
    int kind; /* 0 baseline C, 1 avx2, 2 avx512 */
    int streams; /* parts of each thread's share read side by side (1: one sequential stream) */
    uint64_t sink[64];
};

/* 8 independent sums so loads are never serialised; gcc vectorises it. */
static uint64_t read_c(const uint64_t *p, size_t words) {
    uint64_t s[8] = {0};
    for (size_t i = 0; i + 8 <= words; i += 8)
        for (int l = 0; l < 8; l++) s[l] += p[i + l];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

/* The widest loads measure more: one core's misses in flight go further with fewer, wider
 * loads (Zen 5, 1 GiB: 16-17 GB/s with 16-byte loads, 24-26 with 64-byte loads), and the
 * kernels stream with the widest loads too. So do several streams far apart: the decode
 * kernels read 2-6 W rows side by side, which on a Zen 4 core beat one sequential stream (f16
 * 2048 x 2048: 36 against 33 GB/s), so the probe reads STREAMS quarters of each thread's share
 * side by side (each quarter sequential), or it would not be the limit. Which pattern the
 * memory system serves faster changes with the machine and the moment (on the same VM another
 * day one sequential stream per thread read 32.5-33.3 GB/s against 30.4-31.8 for 4 streams),
 * so the segments take turns between 4 streams, one sequential stream, 6 streams (the
 * decode kernels' widest: a row of f16 at 2048x2048 reached 101 % of a probe without it) and
 * 2 streams (avx512's R16 decode reads 2 groups of 16 rows side by side: a q4_0 2048x2048 row
 * reached 102 % of a probe without it), and the best of all counts. */
static const int stream_patterns[TLB_PROBE_PATTERNS] = {4, 1, 6, 2};

int tlb_probe_pattern_streams(unsigned turn) { return stream_patterns[turn % TLB_PROBE_PATTERNS]; }
#if defined(__x86_64__)
/* The reads of `streams` equal parts of [p, p + words) side by side, each part sequential
 * (streams = 1: one sequential stream), 2 vectors per part and step. */
__attribute__((target("avx2"))) static uint64_t read_avx2(const uint64_t *p, size_t words,
                                                          int streams) {
    __m256i a = _mm256_setzero_si256(), b = a;
    const size_t q = words / (size_t)streams / 8 * 8; /* words per part, whole 64-byte lines */
    for (size_t i = 0; i + 8 <= q; i += 8)
        for (int s = 0; s < streams; s++) {
            const uint64_t *ps = p + (size_t)s * q + i;
            a = _mm256_add_epi64(a, _mm256_load_si256((const __m256i *)(const void *)ps));
            b = _mm256_add_epi64(b, _mm256_load_si256((const __m256i *)(const void *)(ps + 4)));
        }
    uint64_t v[4], sum = 0;
    _mm256_storeu_si256((__m256i *)(void *)v, _mm256_add_epi64(a, b));
    for (int i = 0; i < 4; i++) sum += v[i];
    return sum;
}

__attribute__((target("avx512f"))) static uint64_t read_avx512(const uint64_t *p, size_t words,
                                                               int streams) {
    __m512i a = _mm512_setzero_si512(), b = a;
    const size_t q = words / (size_t)streams / 16 * 16; /* words per part, whole 128-byte pairs */
    for (size_t i = 0; i + 16 <= q; i += 16)
        for (int s = 0; s < streams; s++) {
            const uint64_t *ps = p + (size_t)s * q + i;
            a = _mm512_add_epi64(a, _mm512_load_si512((const void *)ps));
            b = _mm512_add_epi64(b, _mm512_load_si512((const void *)(ps + 8)));
        }
    uint64_t v[8], sum = 0; /* unsigned: the reduce intrinsic adds as signed (UB on overflow) */
    _mm512_storeu_si512((void *)v, _mm512_add_epi64(a, b));
    for (int i = 0; i < 8; i++) sum += v[i];
    return sum;
}
#endif

/* Thread ith reads its contiguous share, in whole 256-byte pieces (64-byte aligned); the
 * bytes counted are those of the whole share (the streams' rounding leaves < 1 KiB unread). */
static void bw_read(void *arg, int ith, int nth) {
    struct bw_job *j = arg;
    long lo, hi;
    tlb_split_range((long)(j->words / 32), ith, nth, &lo, &hi);
    const uint64_t *p = j->buf + (size_t)lo * 32;
    const size_t words = (size_t)(hi - lo) * 32;
    uint64_t s;
    switch (j->kind) {
#if defined(__x86_64__)
    case 2: s = read_avx512(p, words, j->streams); break;
    case 1: s = read_avx2(p, words, j->streams); break;
#endif
    default: s = read_c(p, words); break;
    }
    j->sink[ith % 64] = s;
}

/* Each pass is timed in pieces of this size, read one after the other: 8 MiB is 120-330 us,
 * as long as one decode repetition of a 2048-row matrix, so a moment when other processes
 * leave the memory bus alone is as likely to be caught by the probe as by a kernel row. Timed
 * in 64 MiB segments (2 ms) the probe missed such moments: an R16 q8_0 decode, whose
 * repetitions are 120-330 us, streamed 102 % of it. (One 1 GiB sweep, 35-70 ms, was nearly
 * always disturbed on a busy machine.) */
#define PIECE_BYTES ((size_t)8 << 20)

/* Before the timed pieces each pass reads this much untimed: twice the last-level cache, so
 * that no piece is served from what the kernels (which use the same buffer) left in the
 * cache. Timed from the start, 16 MiB pieces read up to 45 GB/s on one Zen 4 core whose DRAM
 * gives 37. */
static size_t lead_bytes(void) {
    const size_t llc = tlb_probe_llc_bytes();
    return 2 * (llc ? llc : (size_t)32 << 20);
}

/* The widest reads usable here */
static int read_kind(void) {
#if defined(__x86_64__)
    return tlb_cpu_has(TLB_CPU_AVX512F) ? 2 : tlb_cpu_has(TLB_CPU_AVX2) ? 1 : 0;
#else
    return 0;
#endif
}

/* Read [p, p + bytes) (64-byte aligned, whole 256-byte pieces) with pool, as `streams` streams;
 * returns GB/s. */
static double read_span(struct tlb_pool *pool, struct bw_job *j, const char *p, size_t bytes,
                        int streams) {
    j->buf = (const uint64_t *)(const void *)p;
    j->words = bytes / 8;
    j->streams = streams;
    const int64_t t0 = tlb_now_ns();
    tlb_pool_run(pool, bw_read, j);
    const double sec = (double)(tlb_now_ns() - t0) * 1e-9;
    return sec > 0 ? (double)(j->words / 32 * 32 * 8) / sec * 1e-9 : 0;
}

double tlb_probe_read_bw(struct tlb_pool *pool, const void *buf, size_t bytes, int passes,
                         double pattern_median[TLB_PROBE_PATTERNS]) {
    struct bw_job j;
    memset(&j, 0, sizeof j);
    j.kind = read_kind();
    /* a buffer too small for the lead and 4 pieces is read whole, every piece timed */
    const size_t lead = bytes >= lead_bytes() + 4 * PIECE_BYTES ? lead_bytes() : 0;
    const size_t npiece = (bytes - lead) / PIECE_BYTES > 0 ? (bytes - lead) / PIECE_BYTES : 1;
    const size_t piece = (bytes - lead) / npiece / 256 * 256;
    enum { MAX_PER_PATTERN = 256 };
    double by_pattern[TLB_PROBE_PATTERNS][MAX_PER_PATTERN];
    int n_pattern[TLB_PROBE_PATTERNS] = {0};
    double best = 0;
    size_t turn = 0; /* which stream pattern: one after the other over the timed pieces */
    for (int p = 0; p < (passes > 0 ? passes : 1); p++) {
        if (lead) read_span(pool, &j, buf, lead, 1); /* untimed, one sequential stream */
        for (size_t s = 0; s < npiece; s++, turn++) {
            const size_t k = turn % TLB_PROBE_PATTERNS;
            const double gbps = read_span(pool, &j, (const char *)buf + lead + s * piece, piece,
                                          stream_patterns[k]);
            if (gbps > best) best = gbps;
            if (n_pattern[k] < MAX_PER_PATTERN) by_pattern[k][n_pattern[k]++] = gbps;
        }
    }
    for (int k = 0; pattern_median && k < TLB_PROBE_PATTERNS; k++) {
        qsort(by_pattern[k], (size_t)n_pattern[k], sizeof by_pattern[k][0], tlb_cmp_double);
        pattern_median[k] = tlb_median_sorted(by_pattern[k], (size_t)n_pattern[k]);
    }
    return best;
}

double tlb_probe_read_once(struct tlb_pool *pool, const void *buf, size_t bytes, unsigned turn) {
    struct bw_job j;
    memset(&j, 0, sizeof j);
    j.kind = read_kind();
    if (bytes < 256) return 0;
    return read_span(pool, &j, buf, bytes / 256 * 256, stream_patterns[turn % TLB_PROBE_PATTERNS]);
}

/* One walk, nothing read twice: an untimed lead of 4 x the last-level cache, then 16 timed
 * pieces. Not the kernels probe's passes over 2 x the LLC and 8 pieces: two vCPUs may sit on
 * two L3s (the LLC sysfs names is one of them), and re-read pieces then came partly from
 * cache (2 threads up to 91 GB/s on the dev VM, whose 1 GiB probe never exceeded 70). */
#define LEVEL_PIECES 16

static size_t level_lead(void) { return 2 * lead_bytes(); }

size_t tlb_probe_mem_level_bytes(void) { return level_lead() + LEVEL_PIECES * PIECE_BYTES; }

double tlb_probe_mem_level(struct tlb_pool *pool, const struct tlb_span *spans, int n) {
    struct bw_job j;
    memset(&j, 0, sizeof j);
    j.kind = read_kind();
    const size_t lead = level_lead();
    size_t untimed = 0, turn = 0;
    int pieces = 0;
    double best = 0;
    for (int i = 0; i < n && pieces < LEVEL_PIECES; i++) {
        const uintptr_t a = ((uintptr_t)spans[i].p + 63) & ~(uintptr_t)63;
        const size_t skip = (size_t)(a - (uintptr_t)spans[i].p);
        if (!spans[i].p || spans[i].len <= skip) continue;
        const char *p = (const char *)a;
        size_t len = (spans[i].len - skip) / 256 * 256;
        while (len > 0 && pieces < LEVEL_PIECES) {
            size_t c;
            if (untimed < lead) { /* untimed: what follows comes from memory */
                c = len < lead - untimed ? len : lead - untimed;
                read_span(pool, &j, p, c, 1);
                untimed += c;
            } else {
                c = len < PIECE_BYTES ? len : PIECE_BYTES;
                if (c < PIECE_BYTES / 2) break; /* too short to time alone */
                const double gbps =
                    read_span(pool, &j, p, c, stream_patterns[turn++ % TLB_ARRAY_LEN(stream_patterns)]);
                if (gbps > best) best = gbps;
                pieces++;
            }
            p += c;
            len -= c;
        }
    }
    return pieces >= 4 && best > 0 ? best : NAN; /* fewer: the spans hold too little */
}

double tlb_probe_mem_level_own(struct tlb_pool *pool) {
    const size_t bytes = tlb_probe_mem_level_bytes();
    char *buf = tlb_alloc_aligned(bytes, "memory-level probe buffer");
    if (!buf) return NAN;
    memset(buf, 1, bytes); /* resident before it is timed */
    const struct tlb_span span = {buf, bytes};
    const double gbps = tlb_probe_mem_level(pool, &span, 1);
    tlb_free_aligned(buf);
    return gbps;
}

/* ---- FMA peak ---- */

#define FMA_ITERS 1000000L /* ~4 ms per thread on a 2-FMA-pipe core: short, like the reads */
#define FMA_CHAINS 16 /* > FMA latency x pipes (4 x 2 on current x86 cores) */

struct fma_job {
    int kind; /* 0 scalar, 1 avx2, 2 avx512, 3 neon */
    float seed;
    double flops[256];
    float sink[256];
};

static double fma_scalar(float seed, float *sink) {
    float a[FMA_CHAINS][4];
    for (int c = 0; c < FMA_CHAINS; c++)
        for (int l = 0; l < 4; l++) a[c][l] = seed * (float)(c + l);
    const float b = 0.999999f, d = 1e-7f;
    for (long i = 0; i < FMA_ITERS / 4; i++)
        for (int c = 0; c < FMA_CHAINS; c++)
            for (int l = 0; l < 4; l++) a[c][l] = a[c][l] * b + d;
    float s = 0;
    for (int c = 0; c < FMA_CHAINS; c++)
        for (int l = 0; l < 4; l++) s += a[c][l];
    *sink = s;
    return (double)(FMA_ITERS / 4) * FMA_CHAINS * 4 * 2;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double fma_avx2(float seed, float *sink) {
    __m256 a[FMA_CHAINS];
    for (int c = 0; c < FMA_CHAINS; c++) a[c] = _mm256_set1_ps(seed * (float)c);
    const __m256 b = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < FMA_ITERS; i++)
        for (int c = 0; c < FMA_CHAINS; c++) a[c] = _mm256_fmadd_ps(a[c], b, d);
    __m256 s = a[0];
    for (int c = 1; c < FMA_CHAINS; c++) s = _mm256_add_ps(s, a[c]);
    *sink = _mm256_cvtss_f32(s);
    return (double)FMA_ITERS * FMA_CHAINS * 8 * 2;
}

__attribute__((target("avx512f,fma"))) static double fma_avx512(float seed, float *sink) {
    __m512 a[FMA_CHAINS];
    for (int c = 0; c < FMA_CHAINS; c++) a[c] = _mm512_set1_ps(seed * (float)c);
    const __m512 b = _mm512_set1_ps(0.999999f), d = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < FMA_ITERS; i++)
        for (int c = 0; c < FMA_CHAINS; c++) a[c] = _mm512_fmadd_ps(a[c], b, d);
    __m512 s = a[0];
    for (int c = 1; c < FMA_CHAINS; c++) s = _mm512_add_ps(s, a[c]);
    *sink = _mm512_reduce_add_ps(s);
    return (double)FMA_ITERS * FMA_CHAINS * 16 * 2;
}
#endif

#if defined(__aarch64__)
static double fma_neon(float seed, float *sink) {
    float32x4_t a[FMA_CHAINS];
    for (int c = 0; c < FMA_CHAINS; c++) a[c] = vdupq_n_f32(seed * (float)c);
    const float32x4_t b = vdupq_n_f32(0.999999f), d = vdupq_n_f32(1e-7f);
    for (long i = 0; i < FMA_ITERS / 2; i++)
        for (int c = 0; c < FMA_CHAINS; c++) a[c] = vfmaq_f32(d, a[c], b);
    float32x4_t s = a[0];
    for (int c = 1; c < FMA_CHAINS; c++) s = vaddq_f32(s, a[c]);
    *sink = vgetq_lane_f32(s, 0);
    return (double)(FMA_ITERS / 2) * FMA_CHAINS * 4 * 2;
}
#endif

static void fma_run(void *arg, int ith, int nth) {
    struct fma_job *j = arg;
    (void)nth;
    double f = 0;
    float *sink = &j->sink[ith % 256];
    switch (j->kind) {
#if defined(__x86_64__)
    case 2: f = fma_avx512(j->seed, sink); break;
    case 1: f = fma_avx2(j->seed, sink); break;
#endif
#if defined(__aarch64__)
    case 3: f = fma_neon(j->seed, sink); break;
#endif
    default: f = fma_scalar(j->seed, sink); break;
    }
    j->flops[ith % 256] = f;
}

double tlb_probe_fma_peak(struct tlb_pool *pool, const char **isa) {
    static struct fma_job j; /* large; one probe at a time */
    memset(&j, 0, sizeof j);
    j.seed = (float)(getpid() % 7 + 1) * 1e-3f; /* not a compile-time constant */
    j.kind = 0;
    *isa = "scalar";
#if defined(__x86_64__)
    if (tlb_cpu_has(TLB_CPU_AVX512F) && tlb_cpu_has(TLB_CPU_FMA)) {
        j.kind = 2;
        *isa = "avx512";
    } else if (tlb_cpu_has(TLB_CPU_AVX2) && tlb_cpu_has(TLB_CPU_FMA)) {
        j.kind = 1;
        *isa = "avx2";
    }
#elif defined(__aarch64__)
    j.kind = 3;
    *isa = "neon";
#endif
    const int nth = tlb_pool_size(pool);
    double best = 0;
    for (int rep = 0; rep < 6; rep++) {
        const int64_t t0 = tlb_now_ns();
        tlb_pool_run(pool, fma_run, &j);
        const double s = (double)(tlb_now_ns() - t0) * 1e-9;
        double flops = 0;
        for (int i = 0; i < nth && i < 256; i++) flops += j.flops[i];
        if (flops / s * 1e-9 > best) best = flops / s * 1e-9;
    }
    return best;
}

double tlb_probe_core_share(struct tlb_pool *pool) {
    const char *isa;
    const double one = tlb_probe_fma_peak(NULL, &isa);
    const double all = tlb_probe_fma_peak(pool, &isa);
    return one > 0 ? all / (tlb_pool_size(pool) * one) : NAN;
}

/* ---- last-level cache ---- */

size_t tlb_probe_llc_bytes(void) {
    size_t best = 0;
    int best_level = 0;
    for (int i = 0; i < 8; i++) {
        char path[128], buf[64];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        long long lv = 0;
        if (tlb_sysfs_read_ll_abs(path, &lv) != 0) {
            if (errno == ENOENT) break;
            lv = 0;
        }
        int level = lv > 0 && lv < 16 ? (int)lv : 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        size_t v = 0;
        if (tlb_sysfs_read_abs(path, buf, sizeof buf) > 0) {
            char unit = 0;
            unsigned long n = 0;
            if (sscanf(buf, "%lu%c", &n, &unit) >= 1 && n < (1ul << 30))
                v = (size_t)n * (unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1);
        }
        if (level >= best_level && v > 0) {
            best_level = level;
            best = v;
        }
    }
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (best == 0) {
        long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
        if (v <= 0) v = sysconf(_SC_LEVEL2_CACHE_SIZE);
        if (v > 0) best = (size_t)v;
    }
#endif
    return best;
}
