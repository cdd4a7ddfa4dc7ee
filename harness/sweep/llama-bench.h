/* llama-bench.h — llama.cpp's llama-bench as an engine of the sweep. tlbench does not build
 * or ship llama.cpp: it runs an installed llama-bench (--llama-bench PATH, the profile's
 * llama-bench setting, $TLBENCH_LLAMA_BENCH, or llama-bench on PATH) as the worker of a
 * configuration, in the same forked, timed-out, fault-isolated way as its own worker, on a
 * GGUF file of the configuration's weight type, and turns its records (llama-records.h) into
 * one row. What tlbench measures around it, llama-bench does not: peak RSS of the llama-bench
 * process (wait4), power and temperatures from tlbench's monitor over the timed phases (marked
 * by llama-bench's --progress lines), interference from other processes.
 *
 * Probe: llama-bench --help says which options this build has (-d/--n-depth, --progress,
 * --no-warmup); `-ctk T -ctv T --help` exits 0 only when it takes KV cache type T (the
 * c392e50 build refuses f32). What it cannot express becomes an unsupported row.
 *
 * GGUF: llama-bench runs GGUF files as they are. A GGUF model whose matrices are of the wanted
 * weight type is run directly; any other model (synthetic, safetensors, llama2.c, or a GGUF of
 * another type) is converted by tlbench — the model process writes the model it loaded for
 * that weight type as GGUF (what `tlbench convert` writes), once, into the GGUF directory,
 * where later sweeps find it again. Requantizing a quantized file is refused, as by tlbench
 * itself: that configuration is unsupported. */
#ifndef TLB_LLAMA_BENCH_H
#define TLB_LLAMA_BENCH_H

#include <stddef.h>

#include "messages.h"
#include "sweep-plan.h"
#include "sweep-run.h"
#include "sysfs.h"

struct tlb_llama_bench {
    int found;                    /* 1: path answered --help as llama-bench does */
    char path[TLB_PATH_MAX];
    char from[TLB_PATH_MAX + 32]; /* "--llama-bench", "TLBENCH_LLAMA_BENCH", "PATH", ... */
    char why[768];                /* why it is not usable (found = 0) */
    int has_depth, has_progress, has_no_warmup;
    unsigned kv_types;            /* TLB_TYPE_BIT of each KV cache type it accepts */
};

/* Find and probe llama-bench: given (a path, from `from`; NULL: $TLBENCH_LLAMA_BENCH, else
 * "llama-bench" on PATH). Never fails: lb->found = 0 with lb->why when there is none or it
 * does not answer like llama-bench. */
void tlb_llama_bench_probe(const char *given, const char *from, struct tlb_llama_bench *lb);

/* The directory GGUF files for llama-bench are written to: dir when given, else
 * $TLBENCH_GGUF_DIR, $XDG_CACHE_HOME/tlbench/gguf or ~/.cache/tlbench/gguf. 0, or -1 with
 * why. */
int tlb_llama_gguf_dir(const char *dir, char *out, size_t n, char *why, size_t why_n);

/* Decide the GGUF of (model spec, weight type) for llama-bench: *path (malloc'd) and
 * *convert (1: tlbench writes it into gguf_dir first). Returns 0, 1 when the conversion is
 * one tlbench cannot do (requantizing; why says so), -1 on an error (why). */
int tlb_llama_gguf_for(const char *spec, enum tlb_type wtype, uint64_t seed,
                       const char *gguf_dir, char **path, int *convert, char *why,
                       size_t why_n);
/* Is path a GGUF whose matrices are of type wtype? 1 yes, 0 no (missing, unreadable, other
 * type), with why. */
int tlb_llama_gguf_ok(const char *path, enum tlb_type wtype, char *why, size_t why_n);

/* model_name and model_format for llama.cpp rows of a model spec, as tlbench's own rows
 * name it (the synthetic shape; a GGUF's general.name, else the file name without its
 * extension); format "" when tlbench did not look inside. */
void tlb_llama_model_ident(const char *spec, char *name, size_t nn, char *format, size_t fn);

/* Create the directories above path (mkdir -p of its directory). 0, or -1 with why. */
int tlb_llama_gguf_prepare(const char *path, char *why, size_t why_n);

/* In the driver: run plan item idx with llama-bench on gguf, in a forked process that runs
 * llama-bench as its child (own process group, killed on timeout or when tlbench dies) and
 * measures around it. Returns 0 with *m (status, detail, the row's cells), 1 when the forked
 * process itself failed (st/detail set), 3 when interrupted (everything killed). */
int tlb_llama_bench_run(struct tlb_sweep_env *env, int idx, const char *gguf,
                        struct tlb_msg *m, enum tlb_status *st, char *detail, size_t dn);

/* The command line of a configuration (argv NULL-terminated, strings in buf): for --dry-run
 * and tests. Returns argc, or -1 when buf is too small. */
int tlb_llama_bench_argv(const struct tlb_llama_bench *lb, const struct tlb_plan_item *it,
                         const char *gguf, char **argv, int max_argv, char *buf, size_t n);

#endif
