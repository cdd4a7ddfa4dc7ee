/* sweep-plan.h — what a sweep runs. A sweep spec holds the option lists and settings; specs
 * come from built-in defaults, the platform profile, a sweep file and the command line, each
 * layer overriding the fields it sets. The plan is their cross product, model x weight type x
 * kernel x kv type x depth x threads, in the order the configurations run (grouped so each
 * model is prepared once per weight type). Every value is untrusted: a bad one is an error
 * naming where it came from ("-t", "sweeps/x.conf:12"). */
#ifndef TLB_SWEEP_PLAN_H
#define TLB_SWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "quant.h"
#include "schema.h"

#define TLB_PLAN_MAX_LIST 64 /* values in one list */

/* Fields of a spec; bit i of tlb_sweep_spec.set says the layer set field i. */
enum tlb_spec_field {
    TLB_SF_MODEL, TLB_SF_QUANT, TLB_SF_KERNEL, TLB_SF_THREADS, TLB_SF_CTX, TLB_SF_KV_TYPE,
    TLB_SF_N_PROMPT, TLB_SF_N_GEN, TLB_SF_REPS, TLB_SF_WARMUP, TLB_SF_TIMEOUT,
    TLB_SF_COOLDOWN, TLB_SF_MAX_TEMP, TLB_SF_SEED, TLB_SF_EVAL_TEXT, TLB_SF_TOKENIZER,
    TLB_SF_POWER_CMD, TLB_SF_ACC_REF, TLB_SF_ACCURACY, TLB_SF_SHORT_KERNELS,
    TLB_SF_SHORT_PHASES,
    TLB_SF_COUNT
};

struct tlb_sweep_spec {
    unsigned set;                               /* TLB_SF_* bits set by this layer */
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
    /* Kernels measured with short phases (short_np prompt tokens, short_ng generated,
     * short_reps repetitions, no warm-up): the naive reference takes minutes per
     * repetition of the normal phases on a 1.1B model. Their rows say so in n_prompt,
     * n_gen and repetitions. */
    char *short_kernels[TLB_PLAN_MAX_LIST];     /* names (owned) */
    int n_short;
    int short_np, short_ng, short_reps;
};

/* The largest thread count of the spec (at least 1): model loading and the accuracy passes
 * use it. */
int tlb_spec_max_threads(const struct tlb_sweep_spec *s);

/* Built-in defaults (llama-bench-like, sized for a 2-core machine). */
void tlb_spec_defaults(struct tlb_sweep_spec *s);
void tlb_spec_free(struct tlb_sweep_spec *s);
/* Copy every field src set into dst (lists replaced, strings duplicated). 0 or -1 (memory). */
int tlb_spec_merge(struct tlb_sweep_spec *dst, const struct tlb_sweep_spec *src);

/* Set one field from text. key is the long option name ("threads", "quant", "n-prompt",
 * ...); where names the source for errors ("-t", "file.conf:3"). Returns 0, or -1 after one
 * error line "<where>: <problem>". Setting a field twice in one layer replaces it. */
int tlb_spec_set(struct tlb_sweep_spec *s, const char *key, const char *value,
                 const char *where);
/* The kernel list of a platform profile: names this build does not know are kept (their
 * configurations become unsupported rows) instead of being an error. */
int tlb_spec_set_kernels_lenient(struct tlb_sweep_spec *s, const char *value,
                                 const char *where);
/* Read a sweep file: '#' comments, blank lines, `key = value` lines with the keys of
 * tlb_spec_set. Unknown keys, repeated keys and bad values are errors naming file and line.
 * Returns 0 or -1. */
int tlb_spec_load_file(struct tlb_sweep_spec *s, const char *path);
/* The keys a sweep file accepts, space-separated (for --help). */
const char *tlb_spec_keys(void);

/* Integer list "1,2,4", ranges "1-8" (step 1), "1-8+2" (step), "1-8*2" (factor), values in
 * [min, max], no duplicates. Returns the count, or -1 after an error naming what. */
int tlb_parse_int_list(const char *what, const char *s, long min, long max, int *out,
                       int cap);

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
    enum tlb_status pre_status;     /* OK: to run; UNSUPPORTED: decided before running */
    char pre_detail[256];           /* why, when not OK */
    int done;                       /* already in the results file (--resume) */
};

struct tlb_plan {
    struct tlb_plan_item *items;
    int n;
};

/* Cross product of spec's lists. With accuracy on, f32 runs first among the weight types (its
 * prepared model also serves as the accuracy reference). Kernels that cannot run a weight
 * type here, and configurations whose context exceeds a built-in model's maximum, get
 * pre_status UNSUPPORTED with the reason. Returns 0 or -1 (error printed). */
int tlb_plan_build(const struct tlb_sweep_spec *s, struct tlb_plan *p);
void tlb_plan_free(struct tlb_plan *p);

/* --resume: mark items that already have a row in the results file at path (same model
 * source, weight type, kernel, threads, depth, kv type, and the item's n_prompt, n_gen). A missing file
 * marks nothing. Returns the number marked, or -1 when the file cannot be read (error
 * printed). */
int tlb_plan_mark_done(struct tlb_plan *p, const struct tlb_sweep_spec *s, const char *path);

/* "q4_0 avx512 t=2 d=512" (plus " kv=f16" when the KV type is not f32, and
 * " (short: p=4 n=4 r=2)" for a short kernel). */
void tlb_plan_item_label(const struct tlb_plan_item *it, char *buf, size_t n);

#endif
