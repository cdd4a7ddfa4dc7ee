/* sweep-run.c — the sweep driver (see sweep-run.h): for each model and weight type in plan
 * order, a model process; per configuration, the accuracy pass of its (weight type,
 * kernel) when due, then the run; one row per configuration, whatever happened to it. */
#include "sweep-run.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accuracy.h"
#include "llama-bench.h"
#include "memory-model.h"
#include "model-process.h"
#include "runner.h"
#include "hash-cache.h"
#include "sha256.h"
#include "util.h"

volatile sig_atomic_t tlb_sweep_interrupted;

/* Copy every set cell of src into dst (src may be NULL). */
static void row_merge(struct tlb_row *dst, const struct tlb_row *src) {
    if (!src) return;
    for (int i = 1; i < tlb_n_columns; i++) {
        const char *v = tlb_row_get(src, tlb_columns[i].name);
        if (v && *v) tlb_row_set_str(dst, tlb_columns[i].name, v);
    }
}

struct driver {
    struct tlb_sweep_env *env;
    char model_hash[160];
    /* accuracy of the current weight type, per kernel (computed once: with rounds a kernel
     * comes back every round); cells NULL when it was not or could not be computed */
    struct acc_entry {
        const struct tlb_kernel *kernel;
        struct tlb_row *cells;
    } acc[TLB_PLAN_MAX_LIST];
    int n_acc;
    char acc_ref[64];
    int ref_ok;
    /* llama.cpp rows of the current model: its name and format as tlbench names them */
    struct tlb_row *llama_cells;
};

static struct acc_entry *find_acc(struct driver *d, const struct tlb_kernel *k) {
    for (int i = 0; i < d->n_acc; i++)
        if (d->acc[i].kernel == k) return &d->acc[i];
    return NULL;
}

/* A new (empty) entry for kernel k, or NULL when the table is full (never: a plan has at most
 * TLB_PLAN_MAX_LIST kernels). */
static struct acc_entry *add_acc(struct driver *d, const struct tlb_kernel *k) {
    if (d->n_acc >= TLB_PLAN_MAX_LIST) return NULL;
    d->acc[d->n_acc] = (struct acc_entry){k, NULL};
    return &d->acc[d->n_acc++];
}

static void clear_acc(struct driver *d) {
    for (int i = 0; i < d->n_acc; i++) tlb_row_free(d->acc[i].cells);
    d->n_acc = 0;
}

static int emit(struct driver *d, int idx, enum tlb_status st, const char *detail,
                const struct tlb_row *model_cells, const struct tlb_row *worker) {
    struct tlb_sweep_env *env = d->env;
    const struct tlb_sweep_spec *s = env->spec;
    const struct tlb_plan_item *it = &env->plan->items[idx];
    struct tlb_row *row = tlb_row_new();
    if (!row) return -1;
    struct tlb_run_ident id = {
        .run_id = env->run_id, .si = env->si, .board_kind = env->board_kind,
        .board_label = env->board_label,
        .model_spec = s->models[it->model], .model_hash = d->model_hash[0] ? d->model_hash : NULL,
        .wtype = it->wtype, .kv_type = it->kv_type, .kernel = it->kernel_name,
        .n_threads = it->n_threads, .n_depth = it->n_depth, .n_prompt = it->n_prompt,
        .n_gen = it->n_gen, .reps = it->reps, .warmup = it->warmup, .seed = s->seed,
        .engine = tlb_engine_name(it->engine)};
    tlb_runner_identity(row, &id);
    tlb_row_set_int(row, "n_ctx", (int64_t)it->n_depth + it->n_prompt + it->n_gen);
    if (it->round > 0) tlb_row_set_int(row, "round", it->round);
    row_merge(row, model_cells);
    row_merge(row, worker);
    const struct acc_entry *a =
        it->engine == TLB_ENGINE_ID_TLBENCH ? find_acc(d, it->kernel) : NULL;
    if (a && a->cells && st != TLB_STATUS_UNSUPPORTED) {
        row_merge(row, a->cells);
        tlb_row_set_str(row, "acc_ref", d->acc_ref);
    }
    tlb_row_set_str(row, "status", tlb_status_name(st));
    tlb_row_set_str(row, "status_detail", st == TLB_STATUS_OK ? "" : detail);
    if (st != TLB_STATUS_OK && st != TLB_STATUS_INVALID && !tlb_row_get(row, "power_source")[0])
        tlb_row_set_str(row, "power_source", "none");
    int rc = env->on_row(env->cb, idx, row, st);
    tlb_row_free(row);
    env->plan->items[idx].done = 1;
    return rc;
}

__attribute__((format(printf, 2, 3))) static void note(struct tlb_sweep_env *env,
                                                       const char *fmt, ...) {
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (env->on_note) env->on_note(env->cb, buf);
}

static void model_hash(struct driver *d, const char *spec, uint64_t seed) {
    d->model_hash[0] = '\0';
    if (!strncmp(spec, "synthetic:", 10)) {
        snprintf(d->model_hash, sizeof d->model_hash, "%s:seed=%llu", spec,
                 (unsigned long long)seed);
        return;
    }
    struct stat sb;
    if (stat(spec, &sb) == 0 && S_ISREG(sb.st_mode)) {
        char hex[65];
        if (tlb_sha256_file_cached(spec, hex, NULL) == 0)
            snprintf(d->model_hash, sizeof d->model_hash, "%s", hex);
    }
}

/* Predicted weights of (model, type) for the load check: exact for built-in shapes, the
 * file size otherwise (a conversion holds more, briefly). -1 when unknown. */
static long long predict_weights(const char *spec, enum tlb_type wtype) {
    struct tlb_config c;
    if (!strncmp(spec, "synthetic:", 10) && tlb_synthetic_config(spec + 10, &c) == 0)
        return (long long)tlb_mem_weights(&c, wtype, 0);
    struct stat sb;
    if (stat(spec, &sb) == 0 && S_ISREG(sb.st_mode)) return (long long)sb.st_size;
    return -1;
}

static int pending(const struct tlb_plan_item *it) { return !it->done; }

/* Run the reference pass in a model process that holds the f32 model. 0 ok, 3 interrupted. */
static int run_ref(struct driver *d, struct tlb_model_proc *g, int ref_fd) {
    struct tlb_msg m;
    enum tlb_status st;
    char detail[1024];
    if (ftruncate(ref_fd, 0) != 0) { /* a fresh reference per model */ }
    int rc = tlb_model_proc_request(d->env, g, TLB_REQ_REF, 0, &m, &st, detail, sizeof detail);
    if (rc == 3) return 3;
    if (rc == 0) {
        st = (enum tlb_status)m.status;
        snprintf(detail, sizeof detail, "%s", m.detail);
        if (st == TLB_STATUS_OK) {
            snprintf(d->acc_ref, sizeof d->acc_ref, "%s", tlb_row_get(m.row, "acc_ref"));
            d->ref_ok = 1;
            note(d->env, "accuracy reference %s: %s", d->acc_ref, detail);
        }
        tlb_msg_free(&m);
    }
    if (!d->ref_ok)
        note(d->env, "accuracy columns left empty: the reference pass failed (%s)", detail);
    return 0;
}

/* The GGUF of a (model, weight type) group for llama-bench: looked at once per group. */
struct gguf_state {
    int done;
    enum tlb_status st;
    char detail[1024];
};

/* Make sure the group's GGUF exists: when tlbench must write it and a valid one is not there
 * yet, the group's model process (started if needed) writes it. 0, or 3 when interrupted. */
static int ensure_gguf(struct driver *d, int j, struct tlb_model_proc *g, int ref_fd,
                       struct gguf_state *gs) {
    struct tlb_sweep_env *env = d->env;
    const struct tlb_plan_item *it = &env->plan->items[j];
    const char *path = env->plan->gguf[it->model][it->wtype];
    char why[600];
    gs->done = 1;
    gs->st = TLB_STATUS_OK;
    if (!path) {
        gs->st = TLB_STATUS_ERROR;
        snprintf(gs->detail, sizeof gs->detail, "no GGUF file planned for llama-bench");
        return 0;
    }
    if (!env->plan->gguf_convert[it->model][it->wtype] ||
        tlb_llama_gguf_ok(path, it->wtype, why, sizeof why))
        return 0;
    if (tlb_llama_gguf_prepare(path, why, sizeof why) != 0) {
        gs->st = TLB_STATUS_ERROR;
        snprintf(gs->detail, sizeof gs->detail, "GGUF for llama-bench: %s", why);
        return 0;
    }
    note(env, "writing %s for llama-bench (%s)", path, tlb_type_traits(it->wtype)->name);
    enum tlb_status st;
    char detail[1024];
    if (!g->alive) {
        int rc = tlb_model_proc_start(env, it->model, it->wtype, ref_fd, g, &st, detail,
                                      sizeof detail);
        if (rc == 3) return 3;
        if (rc != 0) {
            gs->st = rc < 0 ? TLB_STATUS_ERROR : st;
            snprintf(gs->detail, sizeof gs->detail, "converting the model to GGUF for "
                     "llama-bench: %.900s", detail);
            return 0;
        }
    }
    struct tlb_msg m;
    int rc = tlb_model_proc_request(env, g, TLB_REQ_GGUF, (uint32_t)j, &m, &st, detail,
                                    sizeof detail);
    if (rc == 3) return 3;
    if (rc == 0) {
        st = (enum tlb_status)m.status;
        snprintf(detail, sizeof detail, "%s", m.detail);
        tlb_msg_free(&m);
    }
    if (st != TLB_STATUS_OK) {
        gs->st = st;
        snprintf(gs->detail, sizeof gs->detail, "writing the GGUF for llama-bench: %.900s",
                 detail);
    }
    return 0;
}

/* One llama.cpp configuration. 0, 1 when interrupted, -1 when a row could not be written. */
static int run_llama(struct driver *d, int j, enum tlb_status group_st, const char *group_detail,
                     struct tlb_model_proc *g, int ref_fd, struct gguf_state *gs) {
    struct tlb_sweep_env *env = d->env;
    const struct tlb_plan_item *it = &env->plan->items[j];
    if (!d->llama_cells && (d->llama_cells = tlb_row_new())) {
        char name[128], format[16];
        tlb_llama_model_ident(env->spec->models[it->model], name, sizeof name, format,
                              sizeof format);
        tlb_row_set_str(d->llama_cells, "model_name", name);
        if (format[0]) tlb_row_set_str(d->llama_cells, "model_format", format);
        if (env->spec->accuracy)
            note(env, "llama.cpp rows: accuracy columns stay empty (KL divergence needs the "
                  "logits, which llama-bench does not give)");
    }
    if (it->pre_status != TLB_STATUS_OK)
        return emit(d, j, it->pre_status, it->pre_detail, d->llama_cells, NULL) ? -1 : 0;
    if (group_st != TLB_STATUS_OK)
        return emit(d, j, group_st, group_detail, d->llama_cells, NULL) ? -1 : 0;
    int br = env->before_run ? env->before_run(env->cb, j) : 0;
    if (br < 0) return 1;
    if (br > 0) { /* left out (tlbench ab decided it has enough rounds) */
        env->plan->items[j].done = 1;
        return 0;
    }
    if (!gs->done && ensure_gguf(d, j, g, ref_fd, gs) == 3) return 1;
    if (gs->st != TLB_STATUS_OK)
        return emit(d, j, gs->st, gs->detail, d->llama_cells, NULL) ? -1 : 0;
    /* tlbench's weights leave memory before llama-bench loads its own */
    if (g->alive || g->pid > 0) tlb_model_proc_stop(g);
    if (env->on_begin) env->on_begin(env->cb, j);
    struct tlb_msg m;
    enum tlb_status st;
    char detail[1024];
    int rc = tlb_llama_bench_run(env, j, env->plan->gguf[it->model][it->wtype], &m, &st, detail,
                                 sizeof detail);
    if (rc == 3) return 1;
    if (rc == 0) {
        rc = emit(d, j, (enum tlb_status)m.status, m.detail, d->llama_cells, m.row);
        tlb_msg_free(&m);
        return rc ? -1 : 0;
    }
    return emit(d, j, st, detail, d->llama_cells, NULL) ? -1 : 0;
}

int tlb_sweep_execute(struct tlb_sweep_env *env) {
    struct tlb_plan *p = env->plan;
    const struct tlb_sweep_spec *s = env->spec;
    struct driver d = {.env = env};
    int ref_fd = -1, result = 0;
    struct tlb_model_proc g = {.pid = -1, .req_fd = -1, .resp_fd = -1};
    char detail[1024];
    enum tlb_status st;

    for (int mi = 0; mi < s->n_models && result == 0; mi++) {
        int any = 0, acc = 0;
        for (int i = 0; i < p->n; i++) {
            if (p->items[i].model != mi || !pending(&p->items[i])) continue;
            any = 1;
            /* accuracy needs logits: tlbench's own engine only (llama-bench gives none) */
            if (p->items[i].pre_status == TLB_STATUS_OK &&
                p->items[i].engine == TLB_ENGINE_ID_TLBENCH)
                acc = s->accuracy;
        }
        if (!any) continue;
        model_hash(&d, s->models[mi], s->seed);
        d.ref_ok = 0;
        tlb_row_free(d.llama_cells);
        d.llama_cells = NULL;
        if (acc) {
            /* the reference needs the f32 weights in memory: say so when they cannot fit */
            long long w = predict_weights(s->models[mi], TLB_TYPE_F32), avail = tlb_mem_available();
            long long margin = tlb_mem_margin();
            if (w >= 0 && avail >= 0 && w + (long long)TLB_MEM_DEFAULT_OVERHEAD > avail - margin) {
                char a[32], b[32];
                note(env, "accuracy columns left empty: the f32 reference needs %s, MemAvailable "
                     "is %s", tlb_format_size((uint64_t)w, a, sizeof a),
                     tlb_format_size((uint64_t)avail, b, sizeof b));
                acc = 0;
            }
            if (acc && ref_fd < 0 && (ref_fd = tlb_acc_tmpfile()) < 0) acc = 0;
            /* without f32 among the weight types, a model process serves the reference only */
            int f32_runs = 0;
            for (int i = 0; i < p->n; i++)
                f32_runs |= p->items[i].model == mi && p->items[i].wtype == TLB_TYPE_F32 &&
                            pending(&p->items[i]) && p->items[i].pre_status == TLB_STATUS_OK &&
                            p->items[i].engine == TLB_ENGINE_ID_TLBENCH;
            if (acc && !f32_runs) {
                int rc = tlb_model_proc_start(env, mi, TLB_TYPE_F32, ref_fd, &g, &st, detail,
                                              sizeof detail);
                if (rc == 3) {
                    result = 1;
                    break;
                }
                if (rc == 0) {
                    if (run_ref(&d, &g, ref_fd) == 3) {
                        result = 1;
                        break;
                    }
                    tlb_model_proc_stop(&g);
                } else {
                    note(env, "accuracy columns left empty: the f32 reference model: %s",
                         detail);
                }
            }
        }
        /* weight types in plan order; each gets one model process */
        for (int i = 0; i < p->n && result == 0;) {
            const struct tlb_plan_item *first = &p->items[i];
            if (first->model != mi) {
                i++;
                continue;
            }
            int end = i;
            while (end < p->n && p->items[end].model == mi && p->items[end].wtype == first->wtype)
                end++;
            enum tlb_type wtype = first->wtype;
            int need_group = 0;
            for (int j = i; j < end; j++)
                need_group |= pending(&p->items[j]) && p->items[j].pre_status == TLB_STATUS_OK;
            enum tlb_status group_st = TLB_STATUS_OK;
            char group_detail[1024] = "";
            if (need_group) {
                long long w = predict_weights(s->models[mi], wtype), avail = tlb_mem_available();
                long long margin = tlb_mem_margin();
                if (w >= 0 && avail >= 0 &&
                    w + (long long)TLB_MEM_DEFAULT_OVERHEAD > avail - margin) {
                    char a[32], b[32], c[32];
                    group_st = TLB_STATUS_SKIPPED_MEMORY;
                    snprintf(group_detail, sizeof group_detail,
                             "predicted weights %s, MemAvailable %s minus margin %s",
                             tlb_format_size((uint64_t)w, a, sizeof a),
                             tlb_format_size((uint64_t)avail, b, sizeof b),
                             tlb_format_size((uint64_t)margin, c, sizeof c));
                }
            }
            clear_acc(&d);
            struct gguf_state gs = {0};
            for (int j = i; j < end && result == 0; j++) {
                struct tlb_plan_item *it = &p->items[j];
                if (!pending(it)) continue;
                if (it->engine == TLB_ENGINE_ID_LLAMA_CPP) {
                    result = run_llama(&d, j, group_st, group_detail, &g, ref_fd, &gs);
                    continue;
                }
                if (it->pre_status != TLB_STATUS_OK) {
                    if (emit(&d, j, it->pre_status, it->pre_detail, g.model_cells, NULL))
                        result = -1;
                    continue;
                }
                if (group_st != TLB_STATUS_OK) {
                    struct tlb_config cfg;
                    const char *spec = s->models[mi];
                    struct tlb_row *cells = NULL;
                    if (group_st == TLB_STATUS_SKIPPED_MEMORY && !strncmp(spec, "synthetic:", 10) &&
                        tlb_synthetic_config(spec + 10, &cfg) == 0)
                        cells = tlb_item_memory_cells(&cfg, predict_weights(spec, wtype), it);
                    if (emit(&d, j, group_st, group_detail, NULL, cells)) result = -1;
                    tlb_row_free(cells);
                    continue;
                }
                int br = env->before_run ? env->before_run(env->cb, j) : 0;
                if (br < 0) {
                    result = 1;
                    break;
                }
                if (br > 0) { /* left out (tlbench ab decided it has enough rounds) */
                    it->done = 1;
                    continue;
                }
                if (!g.alive) {
                    int rc = tlb_model_proc_start(env, mi, wtype, ref_fd, &g, &st,
                                                  group_detail, sizeof group_detail);
                    if (rc == 3) {
                        result = 1;
                        break;
                    }
                    if (rc != 0) {
                        group_st = rc < 0 ? TLB_STATUS_ERROR : st;
                        if (emit(&d, j, group_st, group_detail, NULL, NULL)) result = -1;
                        continue;
                    }
                    if (acc && wtype == TLB_TYPE_F32 && !d.ref_ok && ref_fd >= 0) {
                        if (run_ref(&d, &g, ref_fd) == 3) {
                            result = 1;
                            break;
                        }
                    }
                }
                /* short kernels (the naive reference on a big model) would spend minutes on
                 * the accuracy pass too: their accuracy columns stay empty */
                if (acc && d.ref_ok && !find_acc(&d, it->kernel) && it->short_phases &&
                    add_acc(&d, it->kernel)) {
                    char lbl[96];
                    tlb_plan_item_label(it, lbl, sizeof lbl);
                    note(env, "accuracy of %s not computed: %s runs with short phases "
                              "(short-kernels)", lbl, it->kernel_name);
                }
                /* accuracy once per (weight type, kernel), before its first row */
                struct acc_entry *ae;
                if (acc && d.ref_ok && !find_acc(&d, it->kernel) &&
                    (ae = add_acc(&d, it->kernel))) {
                    struct tlb_msg m;
                    int rc = tlb_model_proc_request(env, &g, TLB_REQ_ACC, (uint32_t)j, &m, &st,
                                                    detail, sizeof detail);
                    if (rc == 3) {
                        result = 1;
                        break;
                    }
                    if (rc == 0) {
                        if (m.status == TLB_STATUS_OK) {
                            ae->cells = m.row;
                            m.row = NULL;
                        } else {
                            snprintf(detail, sizeof detail, "%s", m.detail);
                        }
                        tlb_msg_free(&m);
                    }
                    if (!ae->cells) {
                        char lbl[96];
                        tlb_plan_item_label(it, lbl, sizeof lbl);
                        note(env, "accuracy of %s failed: %s", lbl, detail);
                    }
                    if (!g.alive) {
                        j--; /* the model process died: restart it for this item */
                        continue;
                    }
                }
                if (env->on_begin) env->on_begin(env->cb, j);
                struct tlb_msg m;
                int rc = tlb_model_proc_request(env, &g, TLB_REQ_RUN, (uint32_t)j, &m, &st,
                                                detail, sizeof detail);
                if (rc == 3) {
                    result = 1;
                    break;
                }
                if (rc == 0) {
                    if (emit(&d, j, (enum tlb_status)m.status, m.detail, g.model_cells, m.row))
                        result = -1;
                    tlb_msg_free(&m);
                } else if (emit(&d, j, st, detail, NULL, NULL)) {
                    result = -1;
                }
            }
            if (result == 0) tlb_model_proc_stop(&g);
            clear_acc(&d);
            i = end;
        }
    }
    if (g.alive || g.pid > 0) tlb_model_proc_kill(&g);
    clear_acc(&d);
    tlb_row_free(d.llama_cells);
    if (ref_fd >= 0) close(ref_fd);
    return result;
}
