/* cmd-fit.c — `tlbench fit --ram SIZE`: which weight types, KV types and context lengths fit
 * a RAM budget, ranked by accuracy (kld_mean) then decode speed. Memory is the measured
 * peak RSS where a results row exists at that context, else the memory model
 * (memory-model.h) with per-type sizes from the rows (or the model's shapes) and the
 * runtime overhead fitted to the measured rows. Every number says where it came from. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "escape.h"
#include "memory-model.h"
#include "model.h"
#include "out-table.h"
#include "quant.h"
#include "results-csv.h"
#include "stats.h"
#include "threadpool.h"
#include "util.h"

#define N_KV 2
static const enum tlb_type kv_types[N_KV] = {TLB_TYPE_F32, TLB_TYPE_F16};
#define UNLIMITED_CTX ((int64_t)1 << 24)

struct opts {
    uint64_t ram;
    double headroom;      /* fraction */
    int64_t ctx;          /* 0 = not given */
    int quant, kv;        /* type or -1 */
    const char *results, *model, *shape, *engine;
    int threads;
    enum tlb_ofmt fmt;
    const char *output;
};

/* What the rows of one results file say about the model. */
struct measured {
    struct tlb_table *t;
    size_t *rows;         /* ok rows of the model */
    size_t n;
    int have_w[TLB_TYPE_COUNT], have_k[N_KV], have_s;
    double w[TLB_TYPE_COUNT], k[N_KV], s; /* medians: weights, KV per token, scratch */
};

struct cand {
    enum tlb_type w, kv;
    double weights, kv_tok, scratch; /* scratch < 0: from shapes at each ctx */
    const char *size_src;            /* "rows" or "shapes" */
    double mem;                      /* at the evaluated context */
    size_t mem_rows;                 /* > 0: measured peak RSS (max of these rows) */
    double load_peak;                /* the largest peak of the process that loaded these
                                      * weights (load_peak_rss_bytes), 0 when none: a floor */
    int load_bound;                  /* mem is that load peak (larger than the run's) */
    int fits;
    int64_t max_ctx;
    int have_kld, have_tg;
    int kld_is_ref;                  /* f32 weights, not measured: the reference */
    double kld, tg;
    char tg_cfg[64];
};

static void usage(FILE *f) {
    fprintf(f,
        "usage: tlbench fit --ram SIZE [options]\n"
        "\n"
        "Which weight types (quantizations), KV cache types and context lengths fit in SIZE of\n"
        "RAM, ranked by accuracy (kld_mean, lower is better) and then decode speed.\n"
        "Memory at a context of ctx tokens (ctx = n_depth + n_prompt + n_gen of a row):\n"
        "  measured  the peak of results rows at exactly that context (the largest; a row's\n"
        "            peak is the larger of its worker's and its load's, peak_rss_bytes and\n"
        "            load_peak_rss_bytes), or\n"
        "  predicted weights + kv_per_token x ctx + scratch + overhead, where weights,\n"
        "            kv_per_token and scratch come from the results rows (weights_bytes,\n"
        "            kv_bytes / n_ctx, scratch_bytes) or, for types not measured, from the\n"
        "            model's shapes; the overhead (a + b x weights) is fitted by least squares\n"
        "            to the rows with a peak RSS, or assumed to be 32 MiB without any.\n"
        "  load peak the peak of the process that loaded those weights (load_peak_rss_bytes),\n"
        "            when it is larger: a type whose load does not fit fits at no context.\n"
        "Without --results, everything is predicted from the built-in shapes of the model\n"
        "(TinyLlama-1.1B by default) and accuracy is ranked by type precision.\n"
        "\n"
        "options:\n"
        "  --ram SIZE         RAM of the target (required). Units are binary: K/KB/KiB = 1024,\n"
        "                     M/MB/MiB = 1024^2, G/GB/GiB = 1024^3, T; e.g. 1G, 2GB, 1536M, 4GiB\n"
        "  --headroom PCT     RAM kept free for the OS and the application (default 10%%)\n"
        "  --ctx N            evaluate at this context length (default: the model's maximum)\n"
        "  --quant TYPE       only this weight type (f32 f16 bf16 q8_0 q4_0): prints the largest\n"
        "                     context that fits\n"
        "  --kv TYPE          only this KV cache type (f32 or f16)\n"
        "  --results CSV      measured rows (tlbench sweep output)\n"
        "  --model NAME       model_name to use from the results, or built-in shapes\n"
        "                     (tinyllama-1.1b, small, tiny; 'synthetic:' prefix allowed)\n"
        "  --engine NAME      rows of this engine (tlbench, llama.cpp; default: tlbench when\n"
        "                     the results have its rows, else the engine they have). Rows of\n"
        "                     llama.cpp carry no KV or buffer sizes: their weights are\n"
        "                     llama-bench's model_size\n"
        "  --shape NAME       built-in shapes (tinyllama-1.1b, small, tiny) of a model whose\n"
        "                     rows do not say (e.g. imported llama-bench results of a\n"
        "                     TinyLlama GGUF)\n"
        "  --threads N        threads assumed for scratch buffers from shapes (default 4)\n"
        "  -f, --format FMT   table (default), md, csv\n"
        "  -o, --output FILE  write the report to FILE instead of stdout\n"
        "  -h, --help         this text\n"
        "\n"
        "exit status: 0 something fits at the evaluated context (without --ctx: at any\n"
        "context), 1 nothing fits, 2 usage or input error.\n");
}

/* ---------------------------------------------------------------- options */

static int parse_args(int argc, char **argv, struct opts *o) {
    enum { O_RAM = 256, O_HEADROOM, O_CTX, O_QUANT, O_KV, O_RESULTS, O_MODEL, O_THREADS, O_FMT,
           O_OUT, O_SHAPE, O_ENGINE };
    static const struct option lo[] = {
        {"ram", required_argument, NULL, O_RAM},
        {"headroom", required_argument, NULL, O_HEADROOM},
        {"ctx", required_argument, NULL, O_CTX},
        {"quant", required_argument, NULL, O_QUANT},
        {"kv", required_argument, NULL, O_KV},
        {"results", required_argument, NULL, O_RESULTS},
        {"model", required_argument, NULL, O_MODEL},
        {"shape", required_argument, NULL, O_SHAPE},
        {"engine", required_argument, NULL, O_ENGINE},
        {"threads", required_argument, NULL, O_THREADS},
        {"format", required_argument, NULL, O_FMT},
        {"output", required_argument, NULL, O_OUT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->headroom = 0.10;
    o->quant = o->kv = -1;
    o->threads = 4;
    o->fmt = TLB_OFMT_TABLE;
    optind = 0; /* full getopt reset: commands may run more than once in a process */
    int c;
    long lv;
    enum tlb_type t;
    while ((c = getopt_long(argc, argv, "hf:o:", lo, NULL)) != -1) {
        switch (c) {
        case O_RAM:
            if (tlb_parse_size(optarg, &o->ram) != 0) {
                tlb_error("--ram: '%s' is not a size such as 1G, 2GB, 1536M or 4GiB", optarg);
                return -1;
            }
            break;
        case O_HEADROOM: {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", optarg);
            size_t n = strlen(buf);
            if (n && buf[n - 1] == '%') buf[n - 1] = '\0';
            if (tlb_parse_double(buf, &o->headroom) != 0 || o->headroom < 0 || o->headroom >= 95) {
                tlb_error("--headroom: '%s' is not a percentage in [0, 95)", optarg);
                return -1;
            }
            o->headroom /= 100;
            break;
        }
        case O_CTX:
            if (tlb_parse_int(optarg, 1, UNLIMITED_CTX, &lv) != 0) {
                tlb_error("--ctx: '%s' is not a token count in [1, %lld]", optarg,
                          (long long)UNLIMITED_CTX);
                return -1;
            }
            o->ctx = lv;
            break;
        case O_QUANT:
        case O_KV:
            if (tlb_type_from_name(optarg, &t) != 0 ||
                (c == O_KV && t != TLB_TYPE_F32 && t != TLB_TYPE_F16)) {
                tlb_error("--%s: unknown type '%s' (%s)", c == O_KV ? "kv" : "quant", optarg,
                          c == O_KV ? "f32 or f16" : "f32 f16 bf16 q8_0 q4_0");
                return -1;
            }
            *(c == O_KV ? &o->kv : &o->quant) = (int)t;
            break;
        case O_RESULTS: o->results = optarg; break;
        case O_MODEL: o->model = optarg; break;
        case O_SHAPE: o->shape = optarg; break;
        case O_ENGINE: o->engine = optarg; break;
        case O_THREADS:
            if (tlb_parse_int_msg("--threads", optarg, 1, TLB_MAX_THREADS, &lv) != 0) return -1;
            o->threads = (int)lv;
            break;
        case 'f':
        case O_FMT:
            if (tlb_ofmt_parse(optarg, &o->fmt) != 0) {
                tlb_error("--format: '%s' is not table, md or csv", optarg);
                return -1;
            }
            break;
        case 'o':
        case O_OUT: o->output = optarg; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        tlb_error("fit: unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    if (!o->ram) {
        tlb_error("fit: --ram SIZE is required (see --help)");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- results rows */

static int kv_index(enum tlb_type t) { return t == TLB_TYPE_F32 ? 0 : t == TLB_TYPE_F16 ? 1 : -1; }

static double col_d(const struct tlb_table *t, size_t r, const char *name, int *ok) {
    double v = NAN;
    *ok = tlb_table_double(t, r, tlb_table_col(t, name), &v);
    return v;
}

static const char *col_s(const struct tlb_table *t, size_t r, const char *name) {
    return tlb_table_str(t, r, tlb_table_col(t, name));
}

static int row_types(const struct tlb_table *t, size_t r, enum tlb_type *w, enum tlb_type *kv) {
    return tlb_type_from_name(col_s(t, r, "weight_type"), w) == 0 &&
           tlb_type_from_name(col_s(t, r, "kv_type"), kv) == 0 && kv_index(*kv) >= 0;
}

static double row_ctx(const struct tlb_table *t, size_t r) {
    int a, b, c;
    double d = col_d(t, r, "n_depth", &a), p = col_d(t, r, "n_prompt", &b),
           g = col_d(t, r, "n_gen", &c);
    return (a ? d : 0) + (b ? p : 0) + (c ? g : 0);
}

/* Sizes fit computes with: present and not positive, they cannot be a measurement. Returns the
 * first such column, or NULL. */
static const char *impossible_size(const struct tlb_table *t, size_t r) {
    static const char *const cols[] = {"weights_bytes", "kv_bytes", "scratch_bytes",
                                       "predicted_bytes", "peak_rss_bytes", "n_ctx"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(cols); i++) {
        int ok;
        double v = col_d(t, r, cols[i], &ok);
        if (ok && !(v > 0)) return cols[i];
    }
    return NULL;
}

/* Choose the model's ok rows of one engine; fills m->rows. model may be NULL (one model in
 * the file); engine NULL: tlbench when it has rows, else the first row's engine (memory and
 * speed belong to an engine: llama.cpp's buffers are not tlbench's). */
static int select_rows(struct measured *m, const char **model, const char **engine) {
    const struct tlb_table *t = m->t;
    const char *pick = *model;
    if (!*engine) {
        for (size_t r = 0; r < t->n_rows && !*engine; r++)
            if (!strcmp(tlb_table_engine(t, r), TLB_ENGINE_TLBENCH)) *engine = TLB_ENGINE_TLBENCH;
        if (!*engine) *engine = t->n_rows ? tlb_table_engine(t, 0) : TLB_ENGINE_TLBENCH;
    }
    for (size_t r = 0; r < t->n_rows && !pick; r++) pick = col_s(t, r, "model_name");
    if (!*model) {
        for (size_t r = 0; r < t->n_rows; r++) {
            if (strcmp(col_s(t, r, "model_name"), pick) != 0) {
                tlb_error("%s: rows of several models ('%s', '%s', ...); choose one with --model",
                          t->path, pick, col_s(t, r, "model_name"));
                return -1;
            }
        }
    }
    m->rows = tlb_calloc(t->n_rows ? t->n_rows : 1, sizeof *m->rows, "fit rows");
    if (!m->rows) return -1;
    for (size_t r = 0; pick && r < t->n_rows; r++) {
        const char *st = col_s(t, r, "status");
        if (strcmp(col_s(t, r, "model_name"), pick) != 0 || (*st && strcmp(st, "ok") != 0) ||
            strcmp(tlb_table_engine(t, r), *engine) != 0)
            continue;
        const char *bad = impossible_size(t, r);
        if (bad) {
            tlb_warn("%s: line %zu: column %s: %s is not a size an ok row can have; skipping "
                     "the row", t->path, tlb_table_line(t, r), bad, col_s(t, r, bad));
            continue;
        }
        m->rows[m->n++] = r;
    }
    if (m->n == 0) {
        tlb_error("%s: no usable rows with status ok for model '%s' and engine %s", t->path,
                  pick ? pick : "", *engine);
        return -1;
    }
    *model = pick;
    return 0;
}

/* Median of a column over the chosen rows matching (w, kv) (-1 = any); per_ctx divides
 * by the row's n_ctx (or its context when n_ctx is empty). Returns 1 when any value. */
static int median_of(const struct measured *m, const char *col, int w, int kv, int per_ctx,
                     double *out) {
    double *v = tlb_malloc(m->n * sizeof *v, "fit");
    if (!v) return 0;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t r = m->rows[i];
        enum tlb_type rw, rkv;
        int ok;
        if (!row_types(m->t, r, &rw, &rkv)) continue;
        if ((w >= 0 && (int)rw != w) || (kv >= 0 && (int)rkv != kv)) continue;
        double x = col_d(m->t, r, col, &ok);
        if (!ok) continue;
        if (per_ctx) {
            double n = col_d(m->t, r, "n_ctx", &ok);
            if (!ok || n <= 0) n = row_ctx(m->t, r);
            if (n <= 0) continue;
            x /= n;
        }
        v[k++] = x;
    }
    if (k) *out = tlb_stat_median(v, k);
    free(v);
    return k > 0;
}

/* Least-squares overhead from rows with a peak RSS and the engine's own byte counts. */
static int fit_overhead(const struct measured *m, struct tlb_mem_fit *fit) {
    double *buf = tlb_malloc(3 * m->n * sizeof *buf, "fit");
    if (!buf) return -1;
    double *known = buf, *wts = buf + m->n, *peak = buf + 2 * m->n;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t r = m->rows[i];
        int a, b, c, d, e;
        double pk = col_d(m->t, r, "peak_rss_bytes", &a), w = col_d(m->t, r, "weights_bytes", &b);
        double kv = col_d(m->t, r, "kv_bytes", &c), s = col_d(m->t, r, "scratch_bytes", &d);
        double pred = col_d(m->t, r, "predicted_bytes", &e);
        if (!a || !b || pk <= 0) continue;
        if (!e) {
            if (!c || !d) continue;
            pred = w + kv + s;
        }
        known[k] = pred;
        wts[k] = w;
        peak[k] = pk;
        k++;
    }
    int rc = k ? tlb_mem_fit(known, wts, peak, k, fit) : 1;
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- prediction */

struct model_info {
    int have_shape;
    struct tlb_config cfg;
    int64_t limit;          /* largest context (model seq_len), or UNLIMITED_CTX */
    int have_fit;
    struct tlb_mem_fit fit;
    int threads;
};

static double predict(const struct model_info *mi, const struct cand *c, int64_t ctx) {
    double s = c->scratch >= 0 ? c->scratch
                               : (double)tlb_mem_scratch(&mi->cfg, ctx, mi->threads, 512);
    double over = mi->have_fit ? tlb_mem_fit_overhead(&mi->fit, c->weights)
                               : (double)TLB_MEM_DEFAULT_OVERHEAD;
    return c->weights + c->kv_tok * (double)ctx + s + over;
}

/* Largest context in [0, limit] whose prediction fits (predict grows with ctx). */
static int64_t max_ctx_for(const struct model_info *mi, const struct cand *c, double budget) {
    if (predict(mi, c, 1) > budget) return 0;
    int64_t lo = 1, hi = mi->limit;
    if (predict(mi, c, hi) <= budget) return hi;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (predict(mi, c, mid) <= budget) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Precision order used when no KLD is measured: f32, f16, bf16, q8_0, q4_0. */
static int precision_rank(enum tlb_type t) {
    switch (t) {
    case TLB_TYPE_F32: return 0;
    case TLB_TYPE_F16: return 1;
    case TLB_TYPE_BF16: return 2;
    case TLB_TYPE_Q8_0: return 3;
    default: return 4;
    }
}

static int cmp_cand(const void *pa, const void *pb) {
    const struct cand *a = pa, *b = pb;
    if (a->fits != b->fits) return b->fits - a->fits;
    if (!a->fits) return (a->mem > b->mem) - (a->mem < b->mem);
    if (a->have_kld != b->have_kld) return b->have_kld - a->have_kld;
    if (a->have_kld && a->kld != b->kld) return (a->kld > b->kld) - (a->kld < b->kld);
    if (!a->have_kld) {
        int pa_ = precision_rank(a->w) * 2 + (a->kv == TLB_TYPE_F16);
        int pb_ = precision_rank(b->w) * 2 + (b->kv == TLB_TYPE_F16);
        if (pa_ != pb_) return pa_ - pb_;
    }
    if (a->kv != b->kv) return a->kv == TLB_TYPE_F16 ? 1 : -1; /* same KLD: f32 KV is exact */
    if (a->have_tg != b->have_tg) return b->have_tg - a->have_tg;
    if (a->have_tg && a->tg != b->tg) return (a->tg < b->tg) - (a->tg > b->tg);
    return (a->mem > b->mem) - (a->mem < b->mem);
}

/* ---------------------------------------------------------------- main */

int tlb_cmd_fit(int argc, char **argv) {
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc > 0 ? TLB_EXIT_OK : TLB_EXIT_USAGE;

    int exit_code = TLB_EXIT_USAGE;
    struct measured m = {0};
    struct cand cands[TLB_TYPE_COUNT * N_KV];
    int n_cands = 0;
    struct tlb_otable *ot = NULL;
    FILE *out = stdout;
    struct model_info mi = {.threads = o.threads, .limit = UNLIMITED_CTX};
    const char *model = o.model;
    double budget = (double)o.ram * (1 - o.headroom);

    if (o.results) {
        if (tlb_csv_read(o.results, &m.t) != 0) goto done;
        tlb_table_drop_out_of_range(m.t); /* no cast or sum below sees an impossible number */
        if (select_rows(&m, &model, &o.engine) != 0) goto done;
    } else if (!model) {
        model = "tinyllama-1.1b";
    }
    const char *shape = o.shape ? o.shape : model;
    if (!strncmp(shape, "synthetic:", 10)) shape += 10;
    if (o.shape && tlb_synthetic_config(shape, &mi.cfg) != 0) {
        tlb_error("--shape: no built-in shapes '%s' (known: tinyllama-1.1b, small, tiny)",
                  o.shape);
        goto done;
    }
    mi.have_shape = tlb_synthetic_config(shape, &mi.cfg) == 0;
    if (mi.have_shape) mi.limit = mi.cfg.seq_len;
    if (!o.results && !mi.have_shape) {
        tlb_error("fit: no built-in shapes for model '%s' (known: tinyllama-1.1b, small, tiny); "
                  "give --results with measured rows", model);
        goto done;
    }
    if (m.t) {
        /* weights: what tlbench's engine holds, else the weights as stored (llama-bench's
         * model_size, the same bytes) */
        for (int t = 0; t < TLB_TYPE_COUNT; t++)
            m.have_w[t] = median_of(&m, "weights_bytes", t, -1, 0, &m.w[t]) ||
                          median_of(&m, "model_size", t, -1, 0, &m.w[t]);
        for (int k = 0; k < N_KV; k++)
            m.have_k[k] = median_of(&m, "kv_bytes", -1, (int)kv_types[k], 1, &m.k[k]);
        m.have_s = median_of(&m, "scratch_bytes", -1, -1, 0, &m.s);
        int f = fit_overhead(&m, &mi.fit);
        if (f < 0) goto done;
        mi.have_fit = f == 0;
    }
    int64_t ctx = o.ctx;
    if (ctx > mi.limit) {
        tlb_error("--ctx %lld: more than the model's maximum context (%lld tokens)",
                  (long long)ctx, (long long)mi.limit);
        goto done;
    }
    if (!ctx) {
        if (mi.have_shape) {
            ctx = mi.cfg.seq_len;
        } else {
            for (size_t i = 0; i < m.n; i++) ctx = TLB_MAX(ctx, (int64_t)row_ctx(m.t, m.rows[i]));
            if (ctx <= 0) {
                tlb_error("fit: the model's context limit is unknown; give --ctx N");
                goto done;
            }
        }
    }

    /* Candidates: every (weight type, KV type) we can size from rows or shapes. */
    for (int w = 0; w < TLB_TYPE_COUNT; w++) {
        if (o.quant >= 0 && w != o.quant) continue;
        for (int k = 0; k < N_KV; k++) {
            if (o.kv >= 0 && (int)kv_types[k] != o.kv) continue;
            struct cand c = {.w = (enum tlb_type)w, .kv = kv_types[k], .scratch = -1};
            int from_rows = m.t && m.have_w[w] && m.have_k[k] && m.have_s;
            if (from_rows) {
                c.weights = m.w[w];
                c.kv_tok = m.k[k];
                c.scratch = m.s;
                c.size_src = "rows";
            } else if (mi.have_shape) {
                c.weights = (double)tlb_mem_weights(&mi.cfg, c.w, 0);
                c.kv_tok = (double)tlb_mem_kv_per_token(&mi.cfg, c.kv);
                c.size_src = "shapes";
                if (m.t && m.have_w[w]) c.weights = m.w[w];
                if (m.t && m.have_k[k]) c.kv_tok = m.k[k];
                if (m.t && m.have_s) c.scratch = m.s;
            } else {
                continue; /* nothing to size it from */
            }
            c.mem = predict(&mi, &c, ctx);
            c.max_ctx = max_ctx_for(&mi, &c, budget);
            /* Loading the weights (a copy, a conversion, file pages in flight) can need more
             * than running them at any context: that peak is a floor for every context. */
            for (size_t i = 0; i < m.n; i++) {
                enum tlb_type rw, rkv;
                int ok;
                double lp = col_d(m.t, m.rows[i], "load_peak_rss_bytes", &ok);
                if (ok && row_types(m.t, m.rows[i], &rw, &rkv) && (int)rw == w && lp > c.load_peak)
                    c.load_peak = lp;
            }
            /* Measured rows: at the evaluated context, and any that contradict max_ctx. */
            double kld[4096], best_tg = -1;
            int64_t fit_measured = 0, fail_measured = INT64_MAX;
            size_t n_kld = 0;
            for (size_t i = 0; i < m.n; i++) {
                size_t r = m.rows[i];
                enum tlb_type rw, rkv;
                int ok;
                if (!row_types(m.t, r, &rw, &rkv) || (int)rw != w) continue;
                double kl = col_d(m.t, r, "kld_mean", &ok);
                if (ok && rkv == c.kv && n_kld < 4096) kld[n_kld++] = kl;
                if (rkv != c.kv) continue;
                double tg = col_d(m.t, r, "tg_ts_median", &ok);
                if (!ok) tg = col_d(m.t, r, "tg_ts_mean", &ok);
                if (ok && tg > best_tg) {
                    best_tg = tg;
                    snprintf(c.tg_cfg, sizeof c.tg_cfg, "%.24s t%.8s", col_s(m.t, r, "kernel"),
                             col_s(m.t, r, "n_threads"));
                }
                double pk;
                if (!tlb_table_run_peak(m.t, r, &pk)) continue; /* worker's or load's peak */
                int64_t rc_ctx = (int64_t)row_ctx(m.t, r);
                if (rc_ctx == ctx) {
                    c.mem = c.mem_rows ? fmax(c.mem, pk) : pk;
                    c.mem_rows++;
                }
                if (pk <= budget) fit_measured = TLB_MAX(fit_measured, rc_ctx);
                else fail_measured = TLB_MIN(fail_measured, rc_ctx);
            }
            /* Measurements overrule the model: a measured fit raises max_ctx, a measured
             * failure caps it. */
            if (fit_measured <= mi.limit) c.max_ctx = TLB_MAX(c.max_ctx, fit_measured);
            if (fail_measured <= c.max_ctx) c.max_ctx = fail_measured - 1;
            if (n_kld == 0) /* KLD barely depends on the KV type: use any row of this type */
                for (size_t i = 0; i < m.n && n_kld < 4096; i++) {
                    enum tlb_type rw, rkv;
                    int ok;
                    if (!row_types(m.t, m.rows[i], &rw, &rkv) || (int)rw != w) continue;
                    double kl = col_d(m.t, m.rows[i], "kld_mean", &ok);
                    if (ok) kld[n_kld++] = kl;
                }
            if (n_kld) {
                c.have_kld = 1;
                c.kld = tlb_stat_median(kld, n_kld);
            } else if (c.w == TLB_TYPE_F32) {
                c.have_kld = c.kld_is_ref = 1; /* the accuracy reference itself: KLD 0 */
                c.kld = 0;
            }
            if (best_tg >= 0) {
                c.have_tg = 1;
                c.tg = best_tg;
            }
            if (c.load_peak > 0 && c.load_peak >= c.mem) { /* measured or not, the load rules */
                c.mem = c.load_peak;
                c.load_bound = 1;
            }
            if (c.load_peak > budget) c.max_ctx = 0; /* it cannot even be loaded */
            c.fits = c.mem <= budget;
            cands[n_cands++] = c;
        }
    }
    if (n_cands == 0) {
        tlb_error("fit: no candidate can be sized (no rows with weights_bytes, kv_bytes and "
                  "scratch_bytes for the chosen types, and no built-in shapes for '%s'; give "
                  "them with --shape NAME)", model);
        goto done;
    }
    qsort(cands, (size_t)n_cands, sizeof cands[0], cmp_cand);

    /* Report. */
    int csv = o.fmt == TLB_OFMT_CSV, md = o.fmt == TLB_OFMT_MD;
    char a[64], b[64], ctxh[48], memh[48];
    snprintf(ctxh, sizeof ctxh, "fits %lld", (long long)ctx);
    snprintf(memh, sizeof memh, "memory @%lld", (long long)ctx);
    static const char *const csv_h[] = {
        "rank", "weight_type", "kv_type", "ctx", "memory_bytes", "memory_source", "fits",
        "max_ctx", "weights_bytes", "kv_bytes_per_token", "sizes_source", "kld_mean",
        "tg_ts", "tg_config"};
    const char *tab_h[] = {"rank", "weights", "kv", memh, "source", ctxh, "max ctx",
                           "kld_mean", "tg t/s"};
    ot = csv ? tlb_otable_new(14, csv_h) : tlb_otable_new(9, tab_h);
    if (!ot) goto done;
    if (o.output && !(out = tlb_fopen_output(o.output, "w"))) {
        out = stdout;
        goto done;
    }
    int any_kld = 0, any_tg = 0;
    for (int i = 0; i < n_cands; i++) {
        const struct cand *c = &cands[i];
        any_kld |= c->have_kld && !c->kld_is_ref;
        any_tg |= c->have_tg;
        char rank[16], mem[48], src[48], maxc[48], kld[48], tg[96], wb[48], kvb[48], cx[32];
        if (c->fits) snprintf(rank, sizeof rank, "%d", i + 1);
        else snprintf(rank, sizeof rank, "-");
        snprintf(cx, sizeof cx, "%lld", (long long)ctx);
        if (c->load_bound) snprintf(src, sizeof src, "load peak");
        else if (c->mem_rows) snprintf(src, sizeof src, "measured%s", c->mem_rows > 1 ? " (max)" : "");
        else snprintf(src, sizeof src, "predicted");
        int at_limit = c->max_ctx == mi.limit && mi.have_shape;
        snprintf(maxc, sizeof maxc, "%lld%s", (long long)c->max_ctx,
                 at_limit && !csv ? " (model max)" : "");
        if (!c->have_kld) snprintf(kld, sizeof kld, "%s", csv ? "" : "-");
        else if (c->kld_is_ref) snprintf(kld, sizeof kld, "%s", csv ? "0" : "0 (ref)");
        else if (csv) tlb_format_double(c->kld, kld, sizeof kld);
        else snprintf(kld, sizeof kld, "%.4g", c->kld);
        if (!c->have_tg) snprintf(tg, sizeof tg, "%s", csv ? "" : "-");
        else if (csv) tlb_format_double(c->tg, tg, sizeof tg);
        else snprintf(tg, sizeof tg, "%.2f (%s)", c->tg, c->tg_cfg);
        if (csv) {
            snprintf(mem, sizeof mem, "%.0f", c->mem);
            snprintf(wb, sizeof wb, "%.0f", c->weights);
            snprintf(kvb, sizeof kvb, "%.0f", c->kv_tok);
            const char *cells[] = {rank, tlb_type_traits(c->w)->name, tlb_type_traits(c->kv)->name,
                                   cx, mem,
                                   c->load_bound ? "load" : c->mem_rows ? "measured" : "predicted",
                                   c->fits ? "yes" : "no", maxc, wb, kvb, c->size_src, kld, tg,
                                   c->have_tg ? c->tg_cfg : ""};
            if (tlb_otable_add(ot, cells)) goto done;
        } else {
            tlb_format_size(c->mem > 0 ? (uint64_t)c->mem : 0, mem, sizeof mem);
            const char *cells[] = {rank, tlb_type_traits(c->w)->name, tlb_type_traits(c->kv)->name,
                                   mem, src, c->fits ? "yes" : "no",
                                   maxc, kld, tg};
            if (tlb_otable_add(ot, cells)) goto done;
        }
    }
    if (!csv) {
        fprintf(out, "%sRAM %s - %g%% headroom = %s usable (%.0f bytes)\n", md ? "### " : "",
               tlb_format_size(o.ram, a, sizeof a), 100 * o.headroom,
               tlb_format_size((uint64_t)budget, b, sizeof b), budget);
        /* the model name and the path come from files: escaped for the format */
        enum tlb_esc_target esc = md ? TLB_ESC_MD : TLB_ESC_TERM;
        fputs("model ", out);
        tlb_esc_fputs(out, esc, model);
        if (mi.have_shape)
            fprintf(out, ": dim %d, %d layers, %d heads, %d KV heads, FFN %d, vocab %d, "
                   "max context %d\n", mi.cfg.dim, mi.cfg.n_layers, mi.cfg.n_heads,
                   mi.cfg.n_kv_heads, mi.cfg.hidden_dim, mi.cfg.vocab_size, mi.cfg.seq_len);
        else
            fprintf(out, ": shapes unknown, context limit unknown (max ctx is memory-bound "
                   "only)\n");
        if (m.t) {
            fputs("results ", out);
            tlb_esc_fputs(out, esc, o.results);
            fprintf(out, ": %zu ok rows of this model\n", m.n);
        }
        if (mi.have_fit)
            fprintf(out, "overhead = %.1f MiB %c %.4f x weights, least squares over %zu measured "
                   "rows (in-sample error: max %.1f%%, rms %.1f%%)\n", mi.fit.a / (1 << 20),
                   mi.fit.b < 0 ? '-' : '+', fabs(mi.fit.b), mi.fit.n,
                   100 * mi.fit.max_rel_err, 100 * mi.fit.rms_rel_err);
        else
            fprintf(out, "overhead assumed %s (no measured peak RSS to fit it)\n",
                   tlb_format_size(TLB_MEM_DEFAULT_OVERHEAD, a, sizeof a));
        fprintf(out, "memory: 'measured' = peak RSS of rows at that context; 'predicted' = weights + "
               "KV/token x ctx + scratch + overhead (sizes from %s)\n\n",
               m.t ? "the rows where measured, else the shapes" : "the model's shapes");
    }
    if (tlb_otable_print(ot, out, o.fmt) != 0) {
        tlb_error("fit: write error");
        goto done;
    }
    const struct cand *best = cands[0].fits ? &cands[0] : NULL;
    FILE *sum = csv ? stderr : out;
    fprintf(sum, "\n");
    if (!any_kld)
        fprintf(sum, "accuracy: no kld_mean measured; ranked by type precision (f32 > f16 > bf16 "
                     "> q8_0 > q4_0; KV f32 > f16) - run 'tlbench eval' for KLD\n");
    else
        fprintf(sum, "accuracy: measured kld_mean first (f32 weights, the reference, count as "
                     "0), then unmeasured types by precision\n");
    if (!any_tg)
        fprintf(sum, "speed: no decode rate measured (decode is memory-bound: smaller weights "
                     "decode faster)\n");
    if (o.quant >= 0) {
        for (int i = 0; i < n_cands; i++)
            fprintf(sum, "largest context for %s weights, %s KV: %lld tokens%s\n",
                    tlb_type_traits(cands[i].w)->name, tlb_type_traits(cands[i].kv)->name,
                    (long long)cands[i].max_ctx,
                    cands[i].max_ctx == mi.limit && mi.have_shape ? " (the model's maximum)" : "");
    }
    if (best) {
        char mb[48], bb[48];
        fprintf(sum, "%sbest%s: %s weights, %s KV cache at %lld tokens: %s %s of %s usable%s\n",
                md ? "**" : "", md ? "**" : "", tlb_type_traits(best->w)->name,
                tlb_type_traits(best->kv)->name, (long long)ctx,
                tlb_format_size((uint64_t)best->mem, mb, sizeof mb),
                best->mem_rows ? "measured" : "predicted",
                tlb_format_size((uint64_t)budget, bb, sizeof bb),
                best->have_kld && !best->kld_is_ref ? "" : " (accuracy by type precision)");
        exit_code = TLB_EXIT_OK;
    } else {
        const struct cand *longest = NULL;
        for (int i = 0; i < n_cands; i++)
            if (!longest || cands[i].max_ctx > longest->max_ctx) longest = &cands[i];
        fprintf(sum, "nothing fits %lld tokens: the smallest, %s/%s, needs %s of %s usable\n",
                (long long)ctx, tlb_type_traits(cands[0].w)->name,
                tlb_type_traits(cands[0].kv)->name,
                tlb_format_size((uint64_t)cands[0].mem, a, sizeof a),
                tlb_format_size((uint64_t)budget, b, sizeof b));
        if (!o.ctx && longest->max_ctx >= 1) {
            fprintf(sum, "longest context that fits: %s weights, %s KV cache, %lld tokens\n",
                    tlb_type_traits(longest->w)->name, tlb_type_traits(longest->kv)->name,
                    (long long)longest->max_ctx);
            exit_code = TLB_EXIT_OK;
        } else {
            exit_code = TLB_EXIT_FAIL;
        }
    }
done:
    if (out != stdout && fclose(out) != 0) {
        tlb_error("%s: write error", o.output);
        exit_code = TLB_EXIT_USAGE;
    }
    tlb_otable_free(ot);
    free(m.rows);
    tlb_table_free(m.t);
    return exit_code;
}
