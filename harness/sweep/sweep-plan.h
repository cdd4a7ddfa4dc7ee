/* Layer harness/sweep/: a sweep from settings to rows. options.h reads the settings (one
 * table for the command line, sweep files and profiles), this file turns them into a plan,
 * sweep-run.h runs it in processes (messages.h, model-process.h, worker.h), runner.h measures
 * one configuration, accuracy.h the f32 comparison, progress.h the terminal line. It uses
 * base/, kernels/, engine/, results/ and sensors/; only cli/ uses it.
 *
 * sweep-plan.h — what a sweep runs. A sweep spec holds the option lists and settings; specs
 * come from built-in defaults, the platform profile, a sweep file and the command line, each
 * layer overriding the fields it sets (options.h reads every layer into a spec, with one
 * table of settings). The plan is their cross product, model x weight type x kernel x kv type
 * x depth x threads, in the order the configurations run (grouped so each model is prepared
 * once per weight type). */
#ifndef TLB_SWEEP_PLAN_H
#define TLB_SWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "quant.h"
#include "schema.h"

#define TLB_PLAN_MAX_LIST 64 /* values in one list */

/* Prompt tokens, generated tokens and repetitions of a short kernel (short-phases). */
struct tlb_phases {
    int n_prompt, n_gen, reps;
};

/* Engines a sweep can run. tlbench runs its own engine in its workers; llama.cpp runs
 * llama-bench as the worker (llama-bench.h). */
enum tlb_engine_id { TLB_ENGINE_ID_TLBENCH, TLB_ENGINE_ID_LLAMA_CPP, TLB_ENGINE_ID_COUNT };
/* "tlbench", "llama.cpp" (the `engine` column's values). */
const char *tlb_engine_name(enum tlb_engine_id e);
/* The engine of that name. 0, or -1 when there is none. */
int tlb_engine_from_name(const char *name, enum tlb_engine_id *out);

struct tlb_sweep_spec {
    uint64_t set;                               /* bit i: this layer set setting i of the
                                                   options table (tlb_spec_is_set) */
    char *models[TLB_PLAN_MAX_LIST];            /* specs as given (owned) */
    int n_models;
    enum tlb_type quants[TLB_PLAN_MAX_LIST];
    int n_quants;
    char *kernels[TLB_PLAN_MAX_LIST];           /* names, "auto", "all" or "usable" (owned) */
    int n_kernels;
    int threads[TLB_PLAN_MAX_LIST];
    int n_threads;
    int depths[TLB_PLAN_MAX_LIST];              /* n_depth values (--ctx) */
    int n_depths;
    enum tlb_type kv_types[TLB_PLAN_MAX_LIST];
    int n_kv;
    int n_prompt, n_gen, reps, warmup;
    double timeout_s, cooldown_s, max_temp_c;   /* max_temp_c <= 0: no temperature wait */
    uint64_t seed;
    char *eval_text, *tokenizer, *power_cmd;    /* owned, NULL when unset */
    char *acc_ref;                              /* reference kernel for accuracy */
    int accuracy;                               /* 1: compute accuracy columns */
    /* Kernels measured with short phases (no warm-up either): the naive reference takes
     * minutes per repetition of the normal phases on a 1.1B model. Their rows say so in
     * n_prompt, n_gen and repetitions. */
    char *short_kernels[TLB_PLAN_MAX_LIST];     /* names (owned) */
    int n_short;
    struct tlb_phases short_phases;
    /* Kernels measured at depths other than the first (--ctx's first value): names, or auto
     * for the best kernel of each weight type; none listed: every kernel. The depth changes the
     * engine's attention, not the matmul kernel, so a profile can measure it with one kernel. */
    char *depth_kernels[TLB_PLAN_MAX_LIST];     /* names (owned) */
    int n_depth_kernels;
    int depth_kernels_explicit; /* from the user, not a profile: a profile's list gives way to
                                 * kernels the user named (--kernel openblas --ctx 0,512 must
                                 * measure openblas at 512) */
    /* Rounds: every configuration of a (model, weight type) is measured once per round, the
     * rounds one after the other (configurations interleaved in time, so that a slow period of
     * the machine is spread over them); rows carry their round. 1: no rounds. */
    int rounds;
    /* engines, in the order given (default: tlbench) */
    enum tlb_engine_id engines[TLB_ENGINE_ID_COUNT];
    int n_engines;
    char *llama_bench;   /* llama-bench to run (owned); NULL: $TLBENCH_LLAMA_BENCH, else PATH */
    char *gguf_dir;      /* where GGUF files for llama-bench are written (owned); NULL: the
                          * default cache (llama-bench.h) */
    int kernels_explicit;/* the kernel list came from the user (command line, sweep file), not
                          * from a profile or a default: llama.cpp alone cannot honour named
                          * kernels */
};

/* The largest thread count of the spec (at least 1): model loading and the accuracy passes
 * use it. */
int tlb_spec_max_threads(const struct tlb_sweep_spec *s);

/* One configuration of the cross product. */
struct tlb_plan_item {
    int model;                      /* index into spec->models */
    enum tlb_type wtype;
    const struct tlb_kernel *kernel;/* resolved ("auto" picks per weight type) */
    char kernel_name[32];           /* as resolved or as given when unknown */
    enum tlb_type kv_type;
    int n_depth, n_threads;
    int n_prompt, n_gen, reps, warmup; /* the spec's, or its short phases for short kernels */
    int short_phases;                  /* 1: a short kernel (no accuracy pass either) */
    enum tlb_engine_id engine;            /* llama.cpp items have kernel NULL, kernel_name ggml */
    enum tlb_status pre_status;     /* OK: to run; UNSUPPORTED: decided before running */
    char pre_detail[256];           /* why, when not OK */
    int round;                      /* 1.. with --rounds, 0 without */
    int done;                       /* already in the results file (--resume) */
};

struct tlb_llama_bench;

struct tlb_plan {
    struct tlb_plan_item *items;
    int n;
    int n_depth_left_out; /* configurations depth-kernels left out (not in items) */
    /* llama.cpp items: the llama-bench found (NULL when the plan has none) and, per model
     * and weight type, the GGUF file it runs and whether tlbench must write it first */
    struct tlb_llama_bench *llama;
    char *gguf[TLB_PLAN_MAX_LIST][TLB_TYPE_COUNT];
    int gguf_convert[TLB_PLAN_MAX_LIST][TLB_TYPE_COUNT];
};

/* Cross product of spec's lists. With accuracy on, f32 runs first among the weight types (its
 * prepared model also serves as the accuracy reference). With rounds > 1 the configurations of
 * each (model, weight type) follow round after round (a configuration decided before running,
 * e.g. unsupported, only in round 1). Kernels that cannot run a weight
 * type here, and configurations whose context exceeds a built-in model's maximum, get
 * pre_status UNSUPPORTED with the reason. With llama.cpp among the engines, each (model,
 * weight type) group also has llama.cpp items: one per KV type x depth x threads (the kernel
 * list is tlbench's), after llama-bench was found and probed (llama-bench.h); what it cannot
 * express is UNSUPPORTED with the reason. Each configuration's items of the two engines then
 * run back to back, the engine going first alternating from configuration to configuration
 * and round to round. Returns 0 or -1 (error printed). */
int tlb_plan_build(const struct tlb_sweep_spec *s, struct tlb_plan *p);
void tlb_plan_free(struct tlb_plan *p);

/* --resume: mark items that already have a row in the results file at path (same model
 * source, weight type, kernel, threads, depth, kv type, the item's n_prompt, n_gen and round). A missing file
 * marks nothing. Returns the number marked, or -1 when the file cannot be read (error
 * printed). */
int tlb_plan_mark_done(struct tlb_plan *p, const struct tlb_sweep_spec *s, const char *path);

/* "q4_0 avx512 t=2 d=512" (plus " kv=f16" when the KV type is not f32,
 * " (short: p=4 n=4 r=2)" for a short kernel and " round 3" with rounds); llama.cpp items
 * "q4_0 llama.cpp t=2 d=0". */
void tlb_plan_item_label(const struct tlb_plan_item *it, char *buf, size_t n);

#endif
