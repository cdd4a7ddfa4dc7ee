/* sweep-plan.c — the cross product of a sweep spec, the plan a sweep runs, and what --resume
 * finds already done in a results file (see sweep-plan.h). */
#include "sweep-plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llama-bench.h"
#include "model.h"
#include "results-csv.h"
#include "util.h"

static const char *const engine_names[TLB_ENGINE_ID_COUNT] = {
    [TLB_ENGINE_ID_TLBENCH] = TLB_ENGINE_TLBENCH, [TLB_ENGINE_ID_LLAMA_CPP] = TLB_ENGINE_LLAMA_CPP,
};

const char *tlb_engine_name(enum tlb_engine_id e) {
    return (unsigned)e < TLB_ENGINE_ID_COUNT ? engine_names[e] : "?";
}

int tlb_engine_from_name(const char *name, enum tlb_engine_id *out) {
    for (int i = 0; i < TLB_ENGINE_ID_COUNT; i++) {
        if (!strcmp(name, engine_names[i])) {
            *out = (enum tlb_engine_id)i;
            return 0;
        }
    }
    return -1;
}

int tlb_spec_max_threads(const struct tlb_sweep_spec *s) {
    int t = 1;
    for (int i = 0; i < s->n_threads; i++)
        if (s->threads[i] > t) t = s->threads[i];
    return t;
}

/* ---- the plan ---- */

void tlb_plan_free(struct tlb_plan *p) {
    free(p->items);
    free(p->llama);
    for (int m = 0; m < TLB_PLAN_MAX_LIST; m++)
        for (int t = 0; t < TLB_TYPE_COUNT; t++) free(p->gguf[m][t]);
    memset(p, 0, sizeof *p);
}

/* Kernels a spec's kernel list expands to. "auto" (k NULL, name "auto") resolves per weight
 * type; "all" is every registered kernel; "usable" every kernel that can run here, for the
 * weight types it takes (avx512x16: f16 and bf16 only); a name this build does not know
 * (possible only from a profile) stays a name. */
struct kentry {
    const struct tlb_kernel *k;
    const char *name;
    int usable; /* from "usable": left out of weight types it does not take (no row) */
};

static int expand_kernels(const struct tlb_sweep_spec *s, struct kentry *out, int cap) {
    int n = 0;
    for (int i = 0; i < s->n_kernels; i++) {
        const char *name = s->kernels[i];
        int all = !strcmp(name, "all"), usable = !strcmp(name, "usable");
        if (all || usable) {
            for (int k = 0; k < tlb_kernel_count(); k++) {
                const struct tlb_kernel *kk = tlb_kernel_at(k);
                char why[256];
                if (usable && kk->probe && kk->probe(why, sizeof why) != 0) continue;
                int dup = 0;
                for (int j = 0; j < n; j++) dup |= out[j].k == kk;
                if (!dup && n < cap) out[n++] = (struct kentry){kk, kk->name, usable};
            }
            continue;
        }
        const struct tlb_kernel *kk = strcmp(name, "auto") ? tlb_kernel_find(name) : NULL;
        int dup = 0;
        for (int j = 0; j < n; j++) dup |= kk ? out[j].k == kk : !strcmp(out[j].name, name);
        if (!dup && n < cap) out[n++] = (struct kentry){kk, name, 0};
    }
    return n;
}

/* Whether kernel k of weight type t is measured at depth index di (depth-kernels). */
static int at_depth(const struct tlb_sweep_spec *s, int di, const struct tlb_kernel *k,
                    enum tlb_type t) {
    if (di == 0 || s->n_depth_kernels == 0) return 1;
    if (s->kernels_explicit && !s->depth_kernels_explicit) return 1;
    for (int i = 0; i < s->n_depth_kernels; i++) {
        const char *n = s->depth_kernels[i];
        if (!strcmp(n, "all") || !strcmp(n, "usable") || !strcmp(n, k->name)) return 1;
        char why[256];
        if (!strcmp(n, "auto") && tlb_kernel_select("auto", TLB_TYPE_BIT(t), why, sizeof why) == k)
            return 1;
    }
    return 0;
}

static int is_short(const struct tlb_sweep_spec *s, const char *kernel) {
    for (int i = 0; i < s->n_short; i++)
        if (!strcmp(s->short_kernels[i], kernel)) return 1;
    return 0;
}

/* Repeat each (model, weight type) group of the plan round after round, in place (the items
 * array has room for every round): round 1 is the group as built, later rounds its runnable
 * items again. */
static void expand_rounds(struct tlb_plan *p, int rounds) {
    int total = 0;
    for (int i = 0; i < p->n;) { /* count first, then fill from the end backwards */
        int end = i, ok = 0;
        while (end < p->n && p->items[end].model == p->items[i].model &&
               p->items[end].wtype == p->items[i].wtype)
            ok += p->items[end++].pre_status == TLB_STATUS_OK;
        total += (end - i) + ok * (rounds - 1);
        i = end;
    }
    int out = total, i = p->n;
    while (i > 0) {
        int start = i - 1;
        while (start > 0 && p->items[start - 1].model == p->items[i - 1].model &&
               p->items[start - 1].wtype == p->items[i - 1].wtype)
            start--;
        for (int r = rounds; r >= 1; r--)
            for (int j = i - 1; j >= start; j--) {
                if (r > 1 && p->items[j].pre_status != TLB_STATUS_OK) continue;
                struct tlb_plan_item it = p->items[j];
                it.round = r;
                p->items[--out] = it;
            }
        i = start;
    }
    p->n = total;
}

/* The same configuration on another engine: the pair the report's per-round ratio divides. */
static int same_config(const struct tlb_plan_item *a, const struct tlb_plan_item *b) {
    return a->kv_type == b->kv_type && a->n_depth == b->n_depth &&
           a->n_threads == b->n_threads && a->n_prompt == b->n_prompt && a->n_gen == b->n_gen;
}

/* With llama.cpp in a (model, weight type, round) block: each configuration's rows of the
 * two engines back to back, and which engine goes first alternating from configuration to
 * configuration and round to round (tlbench, llama.cpp | llama.cpp, tlbench | ...). On a VM
 * whose memory level the host changes every few seconds to minutes, rows a minute apart met
 * different levels (the first 6-round run: 2-thread f16 rounds 2-4 had tlbench at 16 tokens/s
 * and llama.cpp at 23); adjacent rows share more of it, and the alternation leaves neither
 * engine always second after a change. tlbench's own items keep their order. Returns 0 or -1
 * (out of memory, printed). */
static int pair_engines(struct tlb_plan *p) {
    struct tlb_plan_item *tmp = NULL;
    unsigned char *used = NULL;
    if (p->n > 0 && (!(tmp = tlb_calloc((size_t)p->n, sizeof *tmp, "sweep plan")) ||
                     !(used = tlb_calloc((size_t)p->n, 1, "sweep plan")))) {
        free(tmp);
        return -1;
    }
    for (int i = 0, end; i < p->n; i = end) {
        const struct tlb_plan_item *f = &p->items[i];
        int both = 0;
        for (end = i; end < p->n && p->items[end].model == f->model &&
                      p->items[end].wtype == f->wtype && p->items[end].round == f->round;
             end++)
            both |= p->items[end].engine == TLB_ENGINE_ID_LLAMA_CPP ? 2 : 1;
        if (both != 3) continue;
        int n = 0, slot = 0, round = f->round > 0 ? f->round : 1;
        for (int j = i; j < end; j++) {
            if (used[j]) continue;
            /* tlbench first in odd slots of odd rounds and even slots of even ones */
            const enum tlb_engine_id tl = TLB_ENGINE_ID_TLBENCH, ll = TLB_ENGINE_ID_LLAMA_CPP;
            const int flip = (round + slot++) % 2 == 0;
            const enum tlb_engine_id order[2] = {flip ? ll : tl, flip ? tl : ll};
            const struct tlb_plan_item *key = &p->items[j]; /* items stay put until the copy */
            for (int e = 0; e < 2; e++)
                for (int k = j; k < end; k++)
                    if (!used[k] && p->items[k].engine == order[e] &&
                        same_config(&p->items[k], key)) {
                        tmp[n++] = p->items[k];
                        used[k] = 1;
                    }
        }
        memcpy(p->items + i, tmp, (size_t)n * sizeof *tmp);
    }
    free(tmp);
    free(used);
    return 0;
}

static int has_engine(const struct tlb_sweep_spec *s, enum tlb_engine_id e) {
    for (int i = 0; i < s->n_engines; i++)
        if (s->engines[i] == e) return 1;
    return 0;
}

/* Kernel entries a llama.cpp item stands for: one "ggml" item (llama.cpp picks its own
 * kernels) unless llama.cpp is the only engine and the user named tlbench kernels, which it
 * cannot honour: those become unsupported items. names[0] = NULL stands for ggml. */
static int llama_kernels(const struct tlb_sweep_spec *s, const char **names, int cap) {
    int n = 0, ggml = 0;
    int sole = !has_engine(s, TLB_ENGINE_ID_TLBENCH);
    for (int i = 0; i < s->n_kernels; i++) {
        const char *k = s->kernels[i];
        int generic = !strcmp(k, "auto") || !strcmp(k, "all") || !strcmp(k, "usable") ||
                      !strcmp(k, TLB_KERNEL_GGML);
        if (generic || !sole || !s->kernels_explicit) ggml = 1;
        else if (n < cap - 1) names[n++] = k;
    }
    if (ggml || n == 0) {
        memmove(names + 1, names, (size_t)n * sizeof *names);
        names[0] = NULL;
        n++;
    }
    return n;
}

__attribute__((format(printf, 2, 3))) static void unsupported(struct tlb_plan_item *it,
                                                              const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    it->pre_status = TLB_STATUS_UNSUPPORTED;
    vsnprintf(it->pre_detail, sizeof it->pre_detail, fmt, ap);
    va_end(ap);
}

/* The llama.cpp items of one (model, weight type): KV type x depth x threads (x named
 * kernels it refuses). */
static void add_llama_items(const struct tlb_sweep_spec *s, struct tlb_plan *p, int mi,
                            enum tlb_type wtype, const struct tlb_config *cfg,
                            const char *gguf_dir, const char *dir_why) {
    const struct tlb_llama_bench *lb = p->llama;
    const char *kn[TLB_PLAN_MAX_LIST];
    int nk = llama_kernels(s, kn, TLB_PLAN_MAX_LIST);
    char why[512] = "";
    int gguf_rc = 0;
    if (lb->found && gguf_dir && !p->gguf[mi][wtype]) {
        gguf_rc = tlb_llama_gguf_for(s->models[mi], wtype, s->seed, gguf_dir, &p->gguf[mi][wtype],
                                     &p->gguf_convert[mi][wtype], why, sizeof why);
    }
    for (int ki = 0; ki < nk; ki++)
        for (int vi = 0; vi < s->n_kv; vi++)
            for (int di = 0; di < s->n_depths; di++)
                for (int ti = 0; ti < s->n_threads; ti++) {
                    struct tlb_plan_item *it = &p->items[p->n++];
                    it->model = mi;
                    it->wtype = wtype;
                    it->engine = TLB_ENGINE_ID_LLAMA_CPP;
                    it->kv_type = s->kv_types[vi];
                    it->n_depth = s->depths[di];
                    it->n_threads = s->threads[ti];
                    it->n_prompt = s->n_prompt;
                    it->n_gen = s->n_gen;
                    it->reps = s->reps;
                    /* llama-bench warms up once (prompt + one token); --no-warmup, where it
                     * exists, for none */
                    it->warmup = s->warmup == 0 && lb->has_no_warmup ? 0 : 1;
                    it->pre_status = TLB_STATUS_OK;
                    snprintf(it->kernel_name, sizeof it->kernel_name, "%s",
                             kn[ki] ? kn[ki] : TLB_KERNEL_GGML);
                    long need = (long)it->n_depth + it->n_prompt + it->n_gen;
                    if (!lb->found) {
                        unsupported(it, "%.250s", lb->why);
                    } else if (kn[ki]) {
                        unsupported(it, "llama.cpp chooses its own kernels: '%s' is one of "
                                    "tlbench's (add --engine tlbench, or --kernel auto)", kn[ki]);
                    } else if (!gguf_dir) {
                        unsupported(it, "no directory for llama-bench's GGUF files: %.200s",
                                    dir_why);
                    } else if (gguf_rc > 0) {
                        unsupported(it, "%.250s", why);
                    } else if (gguf_rc < 0) {
                        it->pre_status = TLB_STATUS_ERROR;
                        snprintf(it->pre_detail, sizeof it->pre_detail, "%.250s", why);
                    } else if (it->n_depth > 0 && !lb->has_depth) {
                        unsupported(it, "this llama-bench has no -d/--n-depth option: a KV depth "
                                    "of %d tokens cannot be expressed", it->n_depth);
                    } else if (!(lb->kv_types & TLB_TYPE_BIT(it->kv_type))) {
                        unsupported(it, "this llama-bench refuses KV cache type %s (-ctk/-ctv "
                                    "%s); try --kv-type f16", tlb_type_traits(it->kv_type)->name,
                                    tlb_type_traits(it->kv_type)->name);
                    } else if (cfg && need > cfg->seq_len) {
                        unsupported(it, "context %ld (depth %d + prompt %d + gen %d) exceeds the "
                                    "model's maximum of %d tokens", need, it->n_depth,
                                    it->n_prompt, it->n_gen, cfg->seq_len);
                    }
                }
}

int tlb_plan_build(const struct tlb_sweep_spec *s, struct tlb_plan *p) {
    memset(p, 0, sizeof *p);
    if (s->n_models < 1 || s->n_quants < 1 || s->n_kernels < 1 || s->n_threads < 1 ||
        s->n_depths < 1 || s->n_kv < 1 || s->n_engines < 1) {
        tlb_error("the sweep is empty: every list (model, quant, kernel, threads, ctx, "
                  "kv-type, engine) needs at least one value");
        return -1;
    }
    const int own = has_engine(s, TLB_ENGINE_ID_TLBENCH);
    const int llama = has_engine(s, TLB_ENGINE_ID_LLAMA_CPP);
    struct kentry ks[64];
    int nk = own ? expand_kernels(s, ks, 64) : 0;
    if (own && nk < 1) {
        tlb_error("no kernel to run (the kernel list expands to nothing on this machine)");
        return -1;
    }
    /* f32 first when accuracy is on: its prepared model is the accuracy reference */
    enum tlb_type quants[TLB_PLAN_MAX_LIST];
    int nq = 0;
    for (int i = 0; i < s->n_quants; i++)
        if (s->accuracy && s->quants[i] == TLB_TYPE_F32) quants[nq++] = TLB_TYPE_F32;
    for (int i = 0; i < s->n_quants; i++)
        if (!(s->accuracy && s->quants[i] == TLB_TYPE_F32)) quants[nq++] = s->quants[i];
    const char *kn[TLB_PLAN_MAX_LIST];
    size_t per_config = (size_t)s->n_kv * (size_t)s->n_depths * (size_t)s->n_threads;
    size_t total = (size_t)s->n_models * (size_t)nq * per_config *
                   ((size_t)nk + (llama ? (size_t)llama_kernels(s, kn, TLB_PLAN_MAX_LIST) : 0));
    int rounds = s->rounds > 1 ? s->rounds : 1;
    if (total > 1000000 / (size_t)rounds) {
        tlb_error("the sweep has %zu configurations x %d rounds (at most 1000000)", total, rounds);
        return -1;
    }
    p->items = tlb_calloc(total ? total * (size_t)rounds : 1, sizeof *p->items, "sweep plan");
    if (!p->items) return -1;
    char gguf_dir[TLB_PATH_MAX], dir_why[512] = "";
    int have_dir = 0;
    if (llama) {
        if (!(p->llama = tlb_calloc(1, sizeof *p->llama, "llama-bench"))) {
            tlb_plan_free(p);
            return -1;
        }
        tlb_llama_bench_probe(s->llama_bench, "--llama-bench (or the llama-bench setting)", p->llama);
        have_dir = tlb_llama_gguf_dir(s->gguf_dir, gguf_dir, sizeof gguf_dir, dir_why,
                                      sizeof dir_why) == 0;
    }
    for (int mi = 0; mi < s->n_models; mi++) {
        struct tlb_config cfg;
        const char *spec = s->models[mi];
        int known_cfg = !strncmp(spec, "synthetic:", 10) &&
                        tlb_synthetic_config(spec + 10, &cfg) == 0;
        for (int qi = 0; qi < nq; qi++) {
            for (int ki = 0; ki < nk; ki++) {
                for (int vi = 0; vi < s->n_kv; vi++) {
                    for (int di = 0; di < s->n_depths; di++) {
                        for (int ti = 0; ti < s->n_threads; ti++) {
                            struct tlb_plan_item *it = &p->items[p->n++];
                            it->model = mi;
                            it->wtype = quants[qi];
                            it->engine = TLB_ENGINE_ID_TLBENCH;
                            it->kv_type = s->kv_types[vi];
                            it->n_depth = s->depths[di];
                            it->n_threads = s->threads[ti];
                            it->n_prompt = s->n_prompt;
                            it->n_gen = s->n_gen;
                            it->reps = s->reps;
                            it->warmup = s->warmup;
                            it->pre_status = TLB_STATUS_OK;
                            char why[256] = "";
                            const struct tlb_kernel *k = ks[ki].k;
                            if (!k && strcmp(ks[ki].name, "auto") != 0) {
                                snprintf(it->kernel_name, sizeof it->kernel_name, "%s",
                                         ks[ki].name);
                                it->pre_status = TLB_STATUS_UNSUPPORTED;
                                snprintf(it->pre_detail, sizeof it->pre_detail,
                                         "kernel '%s' is not built into this tlbench",
                                         ks[ki].name);
                                continue;
                            }
                            if (!k) {
                                k = tlb_kernel_select("auto", TLB_TYPE_BIT(it->wtype), why,
                                                      sizeof why);
                                if (!k) {
                                    snprintf(it->kernel_name, sizeof it->kernel_name, "auto");
                                    it->pre_status = TLB_STATUS_UNSUPPORTED;
                                    snprintf(it->pre_detail, sizeof it->pre_detail,
                                             "auto: %.200s", why);
                                    continue;
                                }
                            }
                            if (ks[ki].usable && !(k->wtypes & TLB_TYPE_BIT(it->wtype))) {
                                memset(it, 0, sizeof *it); /* not a kernel for this type */
                                p->n--;
                                continue;
                            }
                            if (!at_depth(s, di, k, it->wtype)) {
                                memset(it, 0, sizeof *it);
                                p->n--;
                                p->n_depth_left_out++;
                                continue;
                            }
                            it->kernel = k;
                            snprintf(it->kernel_name, sizeof it->kernel_name, "%s", k->name);
                            if (is_short(s, k->name)) {
                                it->n_prompt = s->short_phases.n_prompt;
                                it->n_gen = s->short_phases.n_gen;
                                it->reps = s->short_phases.reps;
                                it->warmup = 0;
                                it->short_phases = 1;
                            }
                            if (tlb_kernel_usable(k, it->wtype, why, sizeof why) != 0) {
                                it->pre_status = TLB_STATUS_UNSUPPORTED;
                                snprintf(it->pre_detail, sizeof it->pre_detail, "%s%s%.200s",
                                         strstr(why, k->name) ? "" : k->name,
                                         strstr(why, k->name) ? "" : ": ", why);
                                continue;
                            }
                            long need = (long)it->n_depth + it->n_prompt + it->n_gen;
                            if (known_cfg && need > cfg.seq_len) {
                                it->pre_status = TLB_STATUS_UNSUPPORTED;
                                snprintf(it->pre_detail, sizeof it->pre_detail,
                                         "context %ld (depth %d + prompt %d + gen %d) exceeds "
                                         "the model's maximum of %d tokens",
                                         need, it->n_depth, it->n_prompt, it->n_gen,
                                         cfg.seq_len);
                            }
                        }
                    }
                }
            }
            if (llama)
                add_llama_items(s, p, mi, quants[qi], known_cfg ? &cfg : NULL,
                                have_dir ? gguf_dir : NULL, dir_why);
        }
    }
    if (rounds > 1) expand_rounds(p, rounds);
    if (llama && pair_engines(p) != 0) {
        tlb_plan_free(p);
        return -1;
    }
    return 0;
}

void tlb_plan_item_label(const struct tlb_plan_item *it, char *buf, size_t n) {
    char phases[64] = "";
    if (it->short_phases)
        snprintf(phases, sizeof phases, " (short: p=%d n=%d r=%d)", it->n_prompt, it->n_gen,
                 it->reps);
    char round[24] = "";
    if (it->round > 0) snprintf(round, sizeof round, " round %d", it->round);
    /* llama.cpp items read "llama.cpp", or "llama.cpp/avx512" for a kernel it refused */
    char k[64];
    if (it->engine != TLB_ENGINE_ID_LLAMA_CPP) snprintf(k, sizeof k, "%s", it->kernel_name);
    else if (!strcmp(it->kernel_name, TLB_KERNEL_GGML)) snprintf(k, sizeof k, "llama.cpp");
    else snprintf(k, sizeof k, "llama.cpp/%s", it->kernel_name);
    snprintf(buf, n, "%s %s t=%d d=%d%s%s%s%s", tlb_type_traits(it->wtype)->name, k,
             it->n_threads, it->n_depth, it->kv_type == TLB_TYPE_F32 ? "" : " kv=",
             it->kv_type == TLB_TYPE_F32 ? "" : tlb_type_traits(it->kv_type)->name, phases, round);
}

/* ---- resume ---- */

int tlb_plan_mark_done(struct tlb_plan *p, const struct tlb_sweep_spec *s, const char *path) {
    if (access(path, F_OK) != 0) return 0;
    struct tlb_table *t = NULL;
    if (tlb_csv_read(path, &t) != 0) return -1;
    const int c_model = tlb_table_col(t, "model_source"), c_w = tlb_table_col(t, "weight_type"),
              c_k = tlb_table_col(t, "kernel"), c_t = tlb_table_col(t, "n_threads"),
              c_d = tlb_table_col(t, "n_depth"), c_kv = tlb_table_col(t, "kv_type"),
              c_p = tlb_table_col(t, "n_prompt"), c_n = tlb_table_col(t, "n_gen"),
              c_round = tlb_table_col(t, "round");
    if (c_model < 0 || c_w < 0 || c_k < 0 || c_t < 0 || c_d < 0 || c_kv < 0 || c_p < 0 ||
        c_n < 0) {
        tlb_error("%s: cannot resume: the file lacks the configuration columns", path);
        tlb_table_free(t);
        return -1;
    }
    int marked = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        int64_t th, d, np, ng, round = 0;
        if (!tlb_table_int(t, r, c_t, &th) || !tlb_table_int(t, r, c_d, &d) ||
            !tlb_table_int(t, r, c_p, &np) || !tlb_table_int(t, r, c_n, &ng))
            continue;
        tlb_table_int(t, r, c_round, &round); /* absent or empty: 0, no rounds */
        const char *model = tlb_table_str(t, r, c_model), *w = tlb_table_str(t, r, c_w),
                   *k = tlb_table_str(t, r, c_k), *kv = tlb_table_str(t, r, c_kv);
        const char *engine = tlb_table_engine(t, r);
        for (int i = 0; i < p->n; i++) {
            struct tlb_plan_item *it = &p->items[i];
            if (it->done || it->n_threads != th || it->n_depth != d || it->n_prompt != np ||
                it->n_gen != ng || it->round != round ||
                strcmp(tlb_engine_name(it->engine), engine) ||
                strcmp(s->models[it->model], model) ||
                strcmp(tlb_type_traits(it->wtype)->name, w) ||
                strcmp(it->kernel_name, k) || strcmp(tlb_type_traits(it->kv_type)->name, kv))
                continue;
            it->done = 1;
            marked++;
        }
    }
    tlb_table_free(t);
    return marked;
}
