/* runner.c — one benchmark configuration in the calling process (see runner.h): engine,
 * untimed depth fill and warm-up, timed repetitions of prefill + decode with monitor marks
 * and counters at the phase boundaries, then statistics, memory and power into a row. */
#include "runner.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "build-info.h"
#include "counters.h"
#include "cpuload.h"
#include "engine.h"
#include "monitor.h"
#include "phase-cells.h"
#include "probe.h"
#include "quant.h"
#include "sampler.h"
#include "stats.h"
#include "sysfs.h"
#include "test-hooks.h"
#include "util.h"

/* The warm-up's prefill takes at most this many prompt tokens. Every matmul streams all of W
 * whatever the batch, so a short prefill touches each weight page, code path and pool thread
 * as a long one does. With 32 the warm-ups were 60-66 s of the default sweep's rows; an
 * 8-token prefill costs 51-98 % of a 32-token one (blis packs all of W either way), so about
 * 20 s less. */
#define WARMUP_PROMPT_MAX 8

/* ---- tokens ---- */

void tlb_runner_tokens(int *out, int n, int vocab, uint64_t seed, uint64_t stream) {
    struct tlb_rng rng;
    tlb_rng_seed(&rng, seed ^ (stream * 0x9E3779B97F4A7C15ull));
    /* ids 0-2 are unk/BOS/EOS in llama2.c and SentencePiece vocabularies: avoided when there
     * are other tokens; a vocabulary of 3 or fewer has nothing else to offer */
    const int first = vocab > 3 ? 3 : 0;
    const uint64_t span = vocab > first ? (uint64_t)(vocab - first) : 1;
    for (int i = 0; i < n; i++) out[i] = first + (int)(tlb_rng_next(&rng) % span);
}

/* ---- memory facts ---- */

/* "Key:   123 kB" lines of a /proc file into bytes; -1 when the key is absent. */
static long long proc_kb(const char *text, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            char *end;
            long long v = strtoll(p + kl + 1, &end, 10);
            if (end == p + kl + 1 || v < 0) return -1;
            return v * 1024;
        }
    }
    return -1;
}

int tlb_proc_mem_read(struct tlb_proc_mem *pm) {
    pm->hwm = pm->rss = pm->rss_anon = pm->rss_file = pm->vm_size = -1;
    char *s = tlb_sysfs_slurp("", "/proc/self/status", 1 << 20, NULL);
    if (!s) return -1;
    pm->hwm = proc_kb(s, "VmHWM");
    pm->rss = proc_kb(s, "VmRSS");
    pm->rss_anon = proc_kb(s, "RssAnon");
    pm->rss_file = proc_kb(s, "RssFile");
    pm->vm_size = proc_kb(s, "VmSize");
    free(s);
    return 0;
}

static long long meminfo(const char *key) {
    char *s = tlb_sysfs_slurp("", "/proc/meminfo", 1 << 20, NULL);
    if (!s) return -1;
    long long v = proc_kb(s, key);
    free(s);
    return v;
}

long long tlb_mem_available(void) {
    /* tests pretend to be a small board: TLBENCH_FAKE_MEMAVAILABLE=<bytes> */
    const char *fake = getenv("TLBENCH_FAKE_MEMAVAILABLE");
    if (fake && *fake) {
        char *end;
        long long v = strtoll(fake, &end, 10);
        if (!*end && v >= 0) return v;
    }
    return meminfo("MemAvailable");
}
long long tlb_mem_total(void) { return meminfo("MemTotal"); }

long long tlb_mem_margin(void) {
    long long total = tlb_mem_total(), m = 128LL << 20;
    if (total > 0 && total / 20 > m) m = total / 20;
    return m;
}

int tlb_runner_max_batch(int n_prompt, int n_depth) {
    int mb = n_depth < 128 ? n_depth : 128;
    if (mb < n_prompt) mb = n_prompt;
    return mb < 512 ? mb : 512;
}

/* ---- row helpers: a failed setter is a programming error, counted in *rc ---- */

static void set_d(struct tlb_row *r, const char *col, double v, int *rc) {
    if (isfinite(v)) *rc |= tlb_row_set_double(r, col, v);
}
static void set_i(struct tlb_row *r, const char *col, long long v, int *rc) {
    *rc |= tlb_row_set_int(r, col, v);
}
static void set_s(struct tlb_row *r, const char *col, const char *v, int *rc) {
    *rc |= tlb_row_set_str(r, col, v);
}

/* ---- measurements around the timed phases (also llama-bench's, llama-bench.h) ---- */

static struct tlb_span span_of(const struct tlb_tensor *t) {
    return (struct tlb_span){t->data, t->data ? tlb_type_row_bytes(t->type, t->cols) * (size_t)t->rows : 0};
}

/* The matrices every decode step reads, layer by layer and then the classifier: *n spans
 * (NULL: out of memory). */
static struct tlb_span *decode_spans(const struct tlb_model *m, int *n) {
    struct tlb_span *sp = tlb_calloc((size_t)m->cfg.n_layers * 7 + 1, sizeof *sp, "decode spans");
    if (!sp) return NULL;
    int k = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
        const struct tlb_tensor *t[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w1, &L->w2, &L->w3};
        for (size_t i = 0; i < TLB_ARRAY_LEN(t); i++) sp[k++] = span_of(t[i]);
    }
    sp[k++] = span_of(&m->output);
    *n = k;
    return sp;
}

/* The memory's level (mem_bw_gbps) over the matrices every decode step reads (spans, from
 * decode_spans): resident and the run's own, so reading them allocates nothing and the row's
 * peak RSS stays the run's. NAN when they hold less than the probe's lead and 4 pieces (4 x the
 * LLC and 32 MiB: 160 MiB on the dev VM; the tiny test models) or spans is NULL. */
static double weights_level(const struct tlb_span *sp, int n, struct tlb_pool *pool) {
    return sp ? tlb_probe_mem_level(pool, sp, n) : NAN;
}

double tlb_runner_busy(const struct tlb_cpuload_sample *a, const struct tlb_cpuload_sample *b,
                       char *busy, size_t n) {
    double others_cpus, steal_cpus;
    busy[0] = '\0';
    if (tlb_cpuload_between(a, b, &others_cpus, &steal_cpus) != 0) return NAN;
    if (others_cpus + steal_cpus > TLB_CPULOAD_BUSY_CPUS) {
        snprintf(busy, n,
                 "busy machine: other processes used %.2f CPUs and the hypervisor stole %.2f "
                 "on average while measuring",
                 others_cpus, steal_cpus);
        tlb_warn("%s", busy);
    }
    return others_cpus + steal_cpus;
}

int tlb_runner_power_cells(struct tlb_row *row, struct tlb_monitor *mon, const double *pp_j,
                           const double *tg_j, size_t reps, int n_gen, double timed_s,
                           double idle_w, const char *busy, enum tlb_status *st, char *detail,
                           size_t dn) {
    int rc = 0;
    set_d(row, "idle_w", idle_w, &rc);
    if (mon) {
        struct tlb_monitor_stats ms;
        tlb_monitor_window(mon, &ms);
        set_s(row, "power_source", ms.power_source[0] ? ms.power_source : "none", &rc);
        set_s(row, "power_scope", ms.power_scope[0] ? ms.power_scope : "none", &rc);
        double ppe = pp_j ? tlb_stat_median(pp_j, reps) : NAN;
        double tge = tg_j ? tlb_stat_median(tg_j, reps) : NAN;
        if (isfinite(ppe) && isfinite(ms.energy_j)) {
            set_d(row, "pp_energy_j", ppe, &rc);
            set_d(row, "tg_energy_j", tge, &rc);
            double tot = 0;
            for (size_t r = 0; r < reps; r++) tot += pp_j[r] + (tg_j ? tg_j[r] : 0);
            if (timed_s > 0) set_d(row, "avg_w", tot / timed_s, &rc);
            if (n_gen > 0 && tge > 0) {
                set_d(row, "j_per_token", tge / n_gen, &rc);
                set_d(row, "tokens_per_j", n_gen / tge, &rc);
            }
        }
        if (strcmp(ms.power_source, "none") && ms.power_source[0]) {
            set_i(row, "power_samples", ms.samples, &rc);
            set_d(row, "power_hz", ms.sample_hz, &rc);
        }
        set_d(row, "temp_start_c", ms.temp_start_c, &rc);
        set_d(row, "temp_max_c", ms.temp_max_c, &rc);
        set_d(row, "temp_end_c", ms.temp_end_c, &rc);
        if (ms.freq_min_khz > 0) set_d(row, "freq_min_mhz", ms.freq_min_khz / 1000.0, &rc);
        if (strcmp(ms.throttle_source, "none") && ms.throttle_source[0])
            set_i(row, "throttled", ms.throttled, &rc);
        if (!ms.valid) {
            if (busy[0]) { /* one cell for both reasons */
                char both[sizeof ms.invalid_reason + 256];
                snprintf(both, sizeof both, "%s; %s", ms.invalid_reason, busy);
                set_s(row, "invalid_reason", both, &rc);
                busy = "";
            } else {
                set_s(row, "invalid_reason", ms.invalid_reason, &rc);
            }
            if (ms.throttled) {
                *st = TLB_STATUS_INVALID;
                snprintf(detail, dn, "throttled while measuring: %s", ms.throttle_reason);
            }
        }
    } else {
        set_s(row, "power_source", "none", &rc);
        set_s(row, "power_scope", "none", &rc);
    }
    if (busy[0]) set_s(row, "invalid_reason", busy, &rc);
    return rc ? -1 : 0;
}

/* tg_gbps and tg_pct_mem_bw: the bytes a decode step reads (the n matrices of sp and the KV
 * rows of positions 0..pos) times the median tokens/s, and each repetition's such rate over
 * the memory's level measured just before it, median over the repetitions that have one. */
static int decode_traffic_cells(struct tlb_row *row, const struct tlb_model *m,
                                const struct tlb_span *sp, int n, enum tlb_type kv_type, int pos,
                                const double *tg_ts, const double *level, size_t reps) {
    if (!sp || reps == 0) return 0;
    double gb = 1e-9 * (double)tlb_kv_bytes_for(&m->cfg, kv_type, pos + 1);
    for (int i = 0; i < n; i++) gb += 1e-9 * (double)sp[i].len;
    double *pct = tlb_calloc(reps, sizeof *pct, "samples");
    if (!pct) return -1;
    int rc = 0;
    size_t np = 0;
    for (size_t r = 0; r < reps; r++)
        if (isfinite(level[r]) && level[r] > 0) pct[np++] = 100.0 * tg_ts[r] * gb / level[r];
    set_d(row, "tg_gbps", tlb_stat_median(tg_ts, reps) * gb, &rc);
    if (np) set_d(row, "tg_pct_mem_bw", tlb_stat_median(pct, np), &rc);
    free(pct);
    return rc ? -1 : 0;
}

/* Wait for this process's turn k (tlbench ab; none without turns), its pool asleep meanwhile:
 * polling threads would take CPU from the other build's repetition. 0, or -1: no more turns. */
static int take_turn(const struct tlb_run_opts *o, struct tlb_engine *e, int k) {
    if (!o->turn) return 0;
    tlb_pool_rest(tlb_engine_pool(e));
    return o->turn(o->turn_ctx, k);
}

/* ---- the run ---- */

struct phase_acc {
    long long ctr[TLB_CTR_ROLE_COUNT];
    int have_ctr;
};

static enum tlb_status fail(char *detail, size_t n, enum tlb_status st, const char *fmt,
                            const char *arg) {
    snprintf(detail, n, fmt, arg);
    return st;
}

/* ---- KV depth ---- */

/* Copy a filled cache (tlb_runner_fill_kv's layout) into e layer by layer, dropping each
 * layer's pages of the shared snapshot from this process once copied, so the worker's peak
 * RSS holds its own cache, not the snapshot too. */
static int load_kv(struct tlb_engine *e, int n_layers, const void *snap, int n) {
    const size_t lb = tlb_engine_kv_layer_bytes(e, n);
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int l = 0; l < n_layers; l++) {
        const char *src = (const char *)snap + (size_t)l * lb;
        if (tlb_engine_kv_load_layer(e, l, n, src) != 0) return -1;
        uintptr_t a = ((uintptr_t)src + page - 1) & ~(page - 1), b = ((uintptr_t)src + lb) & ~(page - 1);
        if (b > a) madvise((void *)a, b - a, MADV_DONTNEED); /* shared mapping: data stays */
    }
    return 0;
}

size_t tlb_runner_kv_fill_bytes(const struct tlb_config *c, enum tlb_type kv_type, int n_depth) {
    return tlb_kv_bytes_for(c, kv_type, n_depth);
}

int tlb_runner_fill_kv(const struct tlb_model *m, int n_depth, enum tlb_type kv_type,
                       uint64_t seed, int n_threads, void *dst) {
    char why[256];
    const struct tlb_kernel *k = tlb_kernel_select("auto", m->types_used, why, sizeof why);
    if (!k) {
        tlb_error("KV fill: %s", why);
        return -1;
    }
    if (!tlb_model_readable_by(m, k)) {
        char lay[64];
        tlb_error("KV fill: kernel %s cannot read the weights' layout (%s)", k->name,
                  tlb_model_layouts(m, lay, sizeof lay));
        return -1;
    }
    int *tok = tlb_malloc((size_t)(n_depth > 0 ? n_depth : 1) * sizeof *tok, "depth tokens");
    struct tlb_engine *e = NULL;
    struct tlb_engine_opts eo = {.kernel = k, .n_threads = n_threads, .ctx_len = n_depth,
                                 .max_batch = tlb_runner_max_batch(1, n_depth),
                                 .kv_type = kv_type};
    int rc = -1;
    if (tok && tlb_engine_create(&e, m, &eo) == 0) {
        tlb_runner_tokens(tok, n_depth, m->cfg.vocab_size, seed, 2);
        if (tlb_engine_forward(e, tok, n_depth, 0, NULL, 0) == 0) {
            const size_t lb = tlb_engine_kv_layer_bytes(e, n_depth);
            rc = 0;
            for (int l = 0; l < m->cfg.n_layers && rc == 0; l++)
                rc = tlb_engine_kv_save_layer(e, l, n_depth, (char *)dst + (size_t)l * lb);
        }
    }
    tlb_engine_free(e);
    free(tok);
    return rc;
}

enum tlb_status tlb_runner_run(const struct tlb_model *m, const struct tlb_run_opts *o,
                               struct tlb_row *row, char *detail, size_t dn) {
    const struct tlb_config *c = &m->cfg;
    const int V = c->vocab_size;
    enum tlb_status st = TLB_STATUS_ERROR;
    int rc = 0;
    detail[0] = '\0';
    char why[512];

    /* every weight type of the model must be usable with this kernel here */
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        if ((m->types_used & TLB_TYPE_BIT(t)) &&
            tlb_kernel_usable(o->kernel, (enum tlb_type)t, why, sizeof why) != 0) {
            st = fail(detail, dn, TLB_STATUS_UNSUPPORTED, "%s", why);
            goto finish_status;
        }
    }
    long n_ctx = (long)o->n_depth + o->n_prompt + o->n_gen;
    if (n_ctx > c->seq_len) {
        snprintf(detail, dn,
                 "context %ld (depth %d + prompt %d + gen %d) exceeds the model's maximum of "
                 "%d tokens",
                 n_ctx, o->n_depth, o->n_prompt, o->n_gen, c->seq_len);
        st = TLB_STATUS_UNSUPPORTED;
        goto finish_status;
    }
    set_i(row, "n_ctx", n_ctx, &rc);

    const int reps = o->reps, np = o->n_prompt, ng = o->n_gen;
    int *prompt = NULL, *depth_tok = NULL;
    float *logits = NULL;
    double *pp_ms = NULL, *pp_ts = NULL, *tg_ts = NULL, *all_ts = NULL, *ttft = NULL;
    double *tok_ms = NULL, *pp_j = NULL, *tg_j = NULL, *level = NULL;
    struct tlb_span *spans = NULL; /* the matrices a decode step reads (NULL: none known) */
    int n_spans = 0;
    struct tlb_engine *e = NULL;
    struct tlb_monitor *mon = NULL;
    struct tlb_counters *ctr = NULL;
    size_t n_tok_lat;
    if (tlb_mul_size((size_t)reps, (size_t)(ng > 0 ? ng : 1), &n_tok_lat)) {
        st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "too many repetitions x tokens");
        goto finish_status;
    }
    prompt = tlb_malloc((size_t)np * sizeof *prompt, "prompt tokens");
    depth_tok = tlb_malloc((size_t)(o->n_depth > 0 ? o->n_depth : 1) * sizeof *depth_tok,
                           "depth tokens");
    logits = tlb_malloc((size_t)V * sizeof *logits, "logits");
    pp_ms = tlb_calloc((size_t)reps, sizeof(double), "samples");
    pp_ts = tlb_calloc((size_t)reps, sizeof(double), "samples");
    tg_ts = tlb_calloc((size_t)reps, sizeof(double), "samples");
    all_ts = tlb_calloc((size_t)reps, sizeof(double), "samples");
    ttft = tlb_calloc((size_t)reps, sizeof(double), "samples");
    pp_j = tlb_calloc((size_t)reps, sizeof(double), "samples");
    tg_j = tlb_calloc((size_t)reps, sizeof(double), "samples");
    level = tlb_calloc((size_t)reps, sizeof(double), "samples");
    tok_ms = tlb_calloc(n_tok_lat, sizeof(double), "token latencies");
    if (!prompt || !depth_tok || !logits || !pp_ms || !pp_ts || !tg_ts || !all_ts || !ttft ||
        !pp_j || !tg_j || !level || !tok_ms) {
        st = fail(detail, dn, TLB_STATUS_OOM, "%s", "out of memory for the run's buffers");
        goto done;
    }
    tlb_runner_tokens(prompt, np, V, o->seed, 1);
    tlb_runner_tokens(depth_tok, o->n_depth, V, o->seed, 2);

    /* counters first: PAPI counts threads created after the set is opened */
    char note[256] = "";
    if (o->counters) ctr = tlb_counters_open("auto", why, sizeof why, note, sizeof note);
    if (o->monitor) {
        struct tlb_monitor_opts mo = {
            .root = o->root,
            .power = {.root = o->root, .source = o->power_source ? o->power_source : "auto",
                      .prefer = o->power_prefer, .meter_cmd = o->power_cmd,
                      .rails = o->power_rails},
            .thermal_zones = o->thermal_zones,
        };
        mon = tlb_monitor_start(&mo, why, sizeof why);
        if (!mon) tlb_warn("monitor not started: %s", why);
    }

    /* depth: filled once, untimed, by the fastest kernel for these weights (the naive kernel
     * would spend minutes on 256 tokens of a 1.1B model; what is timed afterwards depends on
     * how many positions are cached, not on which kernel computed them); then the engine
     * switches to the kernel under test, and every repetition rewrites positions after it.
     * A sweep hands over the cache its model process filled once for this depth (kv_fill). */
    const struct tlb_kernel *fill_k = o->kernel;
    if (o->n_depth > 0 && !o->kv_fill) {
        const struct tlb_kernel *fast = tlb_kernel_select("auto", m->types_used, why, sizeof why);
        if (fast && tlb_model_readable_by(m, fast)) fill_k = fast;
    }
    struct tlb_engine_opts eo = {.kernel = fill_k, .n_threads = o->n_threads,
                                 .ctx_len = (int)n_ctx,
                                 .max_batch = tlb_runner_max_batch(np, o->n_depth),
                                 .kv_type = o->kv_type};
    if (tlb_engine_create(&e, m, &eo) != 0) {
        st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "engine creation failed");
        goto done;
    }
    if (o->n_depth > 0 && o->kv_fill) {
        if (load_kv(e, c->n_layers, o->kv_fill, o->n_depth) != 0) {
            st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "loading the filled KV cache failed");
            goto done;
        }
    } else if (o->n_depth > 0 && tlb_engine_forward(e, depth_tok, o->n_depth, 0, NULL, 0) != 0) {
        st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "depth fill failed");
        goto done;
    }
    if (fill_k != o->kernel && tlb_engine_set_kernel(e, o->kernel) != 0) {
        st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "switching to the kernel under test failed");
        goto done;
    }
    set_s(row, "kernel_version", tlb_engine_kernel_version(e), &rc);
    spans = decode_spans(m, &n_spans); /* once: read before every repetition, summed after */
    const int pos0 = o->n_depth;
    if (o->warmup > 0 && take_turn(o, e, 0) != 0) goto turn_fail;
    const int wp = np < WARMUP_PROMPT_MAX ? np : WARMUP_PROMPT_MAX;
    for (int w = 0; w < o->warmup; w++) {
        if (tlb_engine_forward(e, prompt, wp, pos0, logits, 0) != 0) goto fwd_fail;
        int tok = tlb_argmax(logits, V);
        int nw = ng < 1 ? ng : 1; /* as llama-bench: a prefill, then one decode step */
        for (int i = 0; i < nw; i++) {
            if (tlb_engine_forward(e, &tok, 1, pos0 + wp + i, logits, 0) != 0) goto fwd_fail;
            tok = tlb_argmax(logits, V);
        }
    }
    if (o->warmup > 0 && o->turn_done) o->turn_done(o->turn_ctx, 0, NAN, NAN);

    /* test builds only (make HOOKS=1): a known decode slowdown for scripts/ci-gate-eval.sh */
    const double slowdown = tlb_test_decode_slowdown(tlb_type_traits(m->wtype)->name,
                                                     o->kernel->name, o->n_depth);
    struct phase_acc pa;
    memset(&pa, 0, sizeof pa);
    long long vals[TLB_CTR_MAX_EVENTS], by_role[TLB_CTR_ROLE_COUNT];
    if (mon) tlb_monitor_reset(mon);
    /* interference is summed over this process's repetitions only: with turns, the other
     * build's repetitions in between are not someone else's work in our window */
    struct tlb_cpuload_sample in_reps = {0, 0, 0, 0}, before, after;
    int have_load = 1;
    int64_t t_all = 0;
    for (int r = 0; r < reps; r++) {
        if (take_turn(o, e, r + 1) != 0) goto turn_fail;
        /* in this process's own turn (ab's other build waits): the memory's level of this
         * repetition's moment (untimed; the host's level moves within a row) */
        level[r] = weights_level(spans, n_spans, tlb_engine_pool(e));
        if (r == 0) {
            set_d(row, "mem_bw_gbps", level[0], &rc);
            if (o->n_threads > 1)
                set_d(row, "core_share", tlb_probe_core_share(tlb_engine_pool(e)), &rc);
        }
        int64_t t_rep0 = tlb_now_ns();
        have_load = have_load && tlb_cpuload_sample(o->root, &before) == 0;
        if (ctr && tlb_counters_start(ctr, why, sizeof why) != 0) {
            tlb_warn("counters: %s", why);
            tlb_counters_close(ctr);
            ctr = NULL;
        }
        double e0 = mon ? tlb_monitor_mark(mon) : NAN;
        int64_t t0 = tlb_now_ns();
        if (tlb_engine_forward(e, prompt, np, pos0, logits, 0) != 0) goto fwd_fail;
        int64_t t1 = tlb_now_ns();
        int tok = tlb_argmax(logits, V);
        int64_t t2 = tlb_now_ns();
        double e1 = mon ? tlb_monitor_mark(mon) : NAN;
        for (int i = 0; i < ng; i++) {
            int64_t a = tlb_now_ns();
            if (tlb_engine_forward(e, &tok, 1, pos0 + np + i, logits, 0) != 0) goto fwd_fail;
            tok = tlb_argmax(logits, V);
            if (slowdown > 0) tlb_test_burn_ns((int64_t)((double)(tlb_now_ns() - a) * slowdown));
            tok_ms[(size_t)r * (size_t)ng + (size_t)i] = (double)(tlb_now_ns() - a) / 1e6;
        }
        int64_t t3 = tlb_now_ns();
        double e2 = mon ? tlb_monitor_mark(mon) : NAN;
        if (ctr) {
            if (tlb_counters_stop(ctr, vals, why, sizeof why) != 0) {
                tlb_warn("counters: %s", why);
                tlb_counters_close(ctr);
                ctr = NULL;
            } else {
                tlb_counters_by_role(ctr, vals, by_role);
                for (int k = 0; k < TLB_CTR_ROLE_COUNT; k++) {
                    if (by_role[k] < 0) pa.ctr[k] = -1;
                    else if (pa.ctr[k] >= 0) pa.ctr[k] += by_role[k];
                }
                pa.have_ctr = 1;
            }
        }
        double pp_s = (double)(t1 - t0) / 1e9, tg_s = (double)(t3 - t2) / 1e9;
        pp_ms[r] = pp_s * 1e3;
        pp_ts[r] = np / pp_s;
        ttft[r] = (double)(t2 - t0) / 1e6;
        tg_ts[r] = ng > 0 ? ng / tg_s : NAN;
        all_ts[r] = (np + ng) / (pp_s + tg_s);
        pp_j[r] = e1 - e0;
        tg_j[r] = e2 - e1;
        have_load = have_load && tlb_cpuload_sample(o->root, &after) == 0;
        if (have_load) {
            in_reps.busy_s += after.busy_s - before.busy_s;
            in_reps.steal_s += after.steal_s - before.steal_s;
            in_reps.self_s += after.self_s - before.self_s;
            in_reps.wall_s += after.wall_s - before.wall_s;
        }
        t_all += tlb_now_ns() - t_rep0;
        if (o->turn_done) o->turn_done(o->turn_ctx, r + 1, pp_ts[r], tg_ts[r]);
    }

    /* ---- interference: someone else's work in our window makes the timings unreliable ---- */
    char busy[200] = "";
    const struct tlb_cpuload_sample zero = {0, 0, 0, 0};
    if (have_load) set_d(row, "busy_cpus", tlb_runner_busy(&zero, &in_reps, busy, sizeof busy), &rc);

    /* ---- latency ---- */
    int noisy = busy[0] != '\0';
    rc |= tlb_phase_cells(row, "pp", pp_ms, pp_ts, (size_t)reps, &noisy);
    set_d(row, "ttft_ms", tlb_stat_median(ttft, (size_t)reps), &rc);
    if (ng > 0) {
        rc |= tlb_phase_cells(row, "tg", NULL, tg_ts, (size_t)reps, &noisy);
        set_d(row, "tg_ms_p50", tlb_stat_percentile(tok_ms, n_tok_lat, 50), &rc);
        set_d(row, "tg_ms_p90", tlb_stat_percentile(tok_ms, n_tok_lat, 90), &rc);
        set_d(row, "tg_ms_p99", tlb_stat_percentile(tok_ms, n_tok_lat, 99), &rc);
        rc |= decode_traffic_cells(row, m, spans, n_spans, o->kv_type, pos0 + np + ng / 2, tg_ts,
                                   level, (size_t)reps);
    }
    set_d(row, "avg_ts", tlb_stat_mean(all_ts, (size_t)reps), &rc);
    set_d(row, "stddev_ts", tlb_stat_stddev(all_ts, (size_t)reps), &rc);
    rc |= tlb_row_set_samples(row, "samples_ts", all_ts, (size_t)reps);
    set_i(row, "noisy", noisy, &rc);

    /* ---- memory ---- */
    size_t wb = tlb_model_weight_bytes(m), kvb = tlb_engine_kv_bytes(e),
           sb = tlb_engine_scratch_bytes(e);
    set_i(row, "weights_bytes", (long long)wb, &rc);
    set_i(row, "kv_bytes", (long long)kvb, &rc);
    set_i(row, "scratch_bytes", (long long)sb, &rc);
    set_i(row, "predicted_bytes", (long long)(wb + kvb + sb), &rc);
    struct tlb_proc_mem pm;
    if (tlb_proc_mem_read(&pm) == 0) {
        if (pm.hwm >= 0) set_i(row, "peak_rss_bytes", pm.hwm, &rc);
        if (pm.rss_anon >= 0) set_i(row, "rss_anon_bytes", pm.rss_anon, &rc);
        if (pm.rss_file >= 0) set_i(row, "rss_file_bytes", pm.rss_file, &rc);
    }

    /* ---- power and thermal ---- */
    st = TLB_STATUS_OK;
    rc |= tlb_runner_power_cells(row, mon, pp_j, ng > 0 ? tg_j : NULL, (size_t)reps, ng,
                                 (double)t_all / 1e9, o->idle_w, busy, &st, detail, dn);

    /* ---- counters ---- */
    if (ctr && pa.have_ctr) {
        set_s(row, "papi_events", tlb_counters_events(ctr), &rc);
        if (pa.ctr[TLB_CTR_INSTRUCTIONS] >= 0)
            set_i(row, "ctr_instructions", pa.ctr[TLB_CTR_INSTRUCTIONS], &rc);
        if (pa.ctr[TLB_CTR_CYCLES] >= 0) set_i(row, "ctr_cycles", pa.ctr[TLB_CTR_CYCLES], &rc);
        if (pa.ctr[TLB_CTR_CACHE_MISSES] >= 0)
            set_i(row, "ctr_cache_misses", pa.ctr[TLB_CTR_CACHE_MISSES], &rc);
        if (pa.ctr[TLB_CTR_TASK_CLOCK_NS] >= 0)
            set_d(row, "ctr_task_clock_ms", (double)pa.ctr[TLB_CTR_TASK_CLOCK_NS] / 1e6, &rc);
        if (pa.ctr[TLB_CTR_PAGE_FAULTS] >= 0)
            set_i(row, "ctr_page_faults", pa.ctr[TLB_CTR_PAGE_FAULTS], &rc);
        if (pa.ctr[TLB_CTR_CTX_SWITCHES] >= 0)
            set_i(row, "ctr_ctx_switches", pa.ctr[TLB_CTR_CTX_SWITCHES], &rc);
    }
    if (rc) {
        st = TLB_STATUS_ERROR;
        snprintf(detail, dn, "internal error: a result column could not be set");
    }
    goto done;

turn_fail:
    st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "tlbench ab stopped giving turns");
    goto done;
fwd_fail:
    st = fail(detail, dn, TLB_STATUS_ERROR, "%s", "forward pass failed");
done:
    tlb_monitor_stop(mon);
    tlb_engine_free(e);
    tlb_counters_close(ctr);
    free(prompt);
    free(depth_tok);
    free(logits);
    free(pp_ms);
    free(pp_ts);
    free(tg_ts);
    free(all_ts);
    free(ttft);
    free(pp_j);
    free(tg_j);
    free(level);
    free(spans);
    free(tok_ms);
finish_status:
    tlb_row_set_str(row, "status", tlb_status_name(st));
    tlb_row_set_str(row, "status_detail", st == TLB_STATUS_OK ? "" : detail);
    return st;
}

/* ---- identity ---- */

int tlb_runner_identity(struct tlb_row *row, const struct tlb_run_ident *id) {
    int rc = 0;
    char buf[512];
    if (id->run_id) set_s(row, "run_id", id->run_id, &rc);
    if (tlb_format_rfc3339(time(NULL), buf, sizeof buf) == 0) set_s(row, "test_time", buf, &rc);
    set_s(row, "tlbench_version", TLB_VERSION, &rc);
    set_s(row, "build_commit", TLB_BUILD_COMMIT, &rc);
    set_s(row, "board_kind", id->board_kind ? id->board_kind : "unknown", &rc);
    if (id->board_label) set_s(row, "board_label", id->board_label, &rc);
    if (TLB_BUILD_DIRTY >= 0) set_i(row, "build_dirty", TLB_BUILD_DIRTY, &rc);
    if (id->si) {
        const struct tlb_sysinfo *si = id->si;
        set_s(row, "board", si->board, &rc);
        set_s(row, "cpu_info", si->cpu_model, &rc);
        set_i(row, "n_cpus", si->n_cpus, &rc);
        snprintf(buf, sizeof buf, "%s; %s", si->os, si->kernel);
        set_s(row, "os", buf, &rc);
        /* what makes two rows comparable beyond the configuration (compare warns on a change) */
        set_s(row, "cpu_governor", si->governor[0] ? si->governor : "none", &rc);
        if (si->boost >= 0) set_i(row, "cpu_boost", si->boost, &rc);
        if (strcmp(si->thp, "unknown") != 0) set_s(row, "thp", si->thp, &rc);
        if (si->mem_total_bytes > 0) set_i(row, "mem_total_bytes", si->mem_total_bytes, &rc);
        set_s(row, "virtualization", si->hypervisor ? si->virt : "none", &rc);
        if (si->power_mode[0]) set_s(row, "power_mode", si->power_mode, &rc);
    }
    set_s(row, "compiler", TLB_COMPILER, &rc);
    set_s(row, "cflags", TLB_CFLAGS, &rc);
    set_s(row, "model_source", id->model_spec, &rc);
    if (id->model_hash) set_s(row, "model_hash", id->model_hash, &rc);
    set_s(row, "weight_type", tlb_type_traits(id->wtype)->name, &rc);
    set_s(row, "kv_type", tlb_type_traits(id->kv_type)->name, &rc);
    set_s(row, "kernel", id->kernel, &rc);
    /* another engine's version comes from its own output (llama-bench's build_commit) */
    set_s(row, "engine", id->engine ? id->engine : TLB_ENGINE_TLBENCH, &rc);
    if (!id->engine || !strcmp(id->engine, TLB_ENGINE_TLBENCH))
        set_s(row, "engine_version", TLB_VERSION " (" TLB_BUILD_COMMIT ")", &rc);
    set_i(row, "n_threads", id->n_threads, &rc);
    set_i(row, "n_prompt", id->n_prompt, &rc);
    set_i(row, "n_gen", id->n_gen, &rc);
    set_i(row, "n_depth", id->n_depth, &rc);
    set_i(row, "seed", (long long)id->seed, &rc);
    set_i(row, "repetitions", id->reps, &rc);
    set_i(row, "warmup", id->warmup, &rc);
    return rc ? -1 : 0;
}
