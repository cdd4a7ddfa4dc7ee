/* runner.h — run one benchmark configuration on an already prepared model, in the calling
 * (worker) process: create the engine, fill the KV cache to n_depth (untimed, once), warm
 * up, then time `reps` repetitions of one batched prefill of n_prompt tokens and n_gen
 * greedy decode steps, with power/thermal monitoring and event counters around the timed
 * phases; summarise into the measured columns of a results row (results-csv.h). Also the
 * memory facts of a process (/proc/self/status, /proc/meminfo) and the identity columns. */
#ifndef TLB_RUNNER_H
#define TLB_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "cpuload.h"
#include "kernel.h"
#include "model.h"
#include "monitor.h"
#include "results-csv.h"
#include "schema.h"
#include "sysinfo.h"

struct tlb_run_opts {
    const struct tlb_kernel *kernel;
    int n_threads, n_depth;
    enum tlb_type kv_type;
    int n_prompt;          /* >= 1 */
    int n_gen;             /* >= 0 */
    int reps;              /* >= 1 */
    int warmup;            /* untimed prefill + a few decode steps, >= 0 */
    uint64_t seed;         /* prompt and depth tokens */
    /* monitoring */
    int monitor;           /* 1: power/thermal monitor around the phases */
    const char *root;      /* sysfs root ("" = this machine) */
    const char *power_source;  /* NULL/"auto", "none", or kinds (power.h) */
    const char *power_prefer;  /* profile's preference order, NULL = default */
    const char *power_cmd;     /* --power-cmd, NULL = none */
    const char *power_rails;   /* profile's Jetson rails, NULL = default */
    const char *thermal_zones; /* profile's zones, NULL = all */
    int counters;          /* 1: PAPI/OS event counters */
    double idle_w;         /* idle power measured before the sweep, NAN = unknown */
    const void *kv_fill;   /* the KV cache of n_depth positions in kv_type, filled once by
                              tlb_runner_fill_kv (a sweep's model process); NULL: fill here */
    /* Turns (tlbench ab runs two builds' workers at once, one repetition each in turn):
     * before the warm-up (rep 0) and before each timed repetition (1..reps) the runner calls
     * turn(turn_ctx, rep) and waits for it to return, after each turn_done(turn_ctx, rep,
     * prefill t/s, decode t/s of that repetition; NAN for the warm-up). NULL: no turns. turn
     * returns 0 to go on, -1 to give up (the row is an error). */
    int (*turn)(void *ctx, int rep);
    void (*turn_done)(void *ctx, int rep, double pp_ts, double tg_ts);
    void *turn_ctx;
};

/* Run one configuration and fill the measured columns of row (latency, samples, noise,
 * memory, power, thermal, counters, kernel_version, n_ctx). Returns the row's status:
 * OK, INVALID (throttled while measuring), UNSUPPORTED (kernel cannot run the model's
 * weight types here, context too long), OOM (an allocation failed) or ERROR; detail gets
 * the reason when not OK. Status and detail columns are set too. */
enum tlb_status tlb_runner_run(const struct tlb_model *m, const struct tlb_run_opts *o,
                               struct tlb_row *row, char *detail, size_t detail_len);

/* Fill a KV cache of n_depth positions with the configuration's depth tokens (seed), using
 * the fastest kernel for the model's weights on n_threads, and write it to dst
 * (tlb_runner_kv_fill_bytes, layer by layer as the engine's kv_save_layer) for
 * tlb_run_opts.kv_fill. 0, or -1 after an error message. */
size_t tlb_runner_kv_fill_bytes(const struct tlb_config *c, enum tlb_type kv_type, int n_depth);
int tlb_runner_fill_kv(const struct tlb_model *m, int n_depth, enum tlb_type kv_type,
                       uint64_t seed, int n_threads, void *dst);

/* What every engine's row gets from tlbench's own measurements around the timed phases.
 * tlb_runner_busy: the CPUs other processes and the hypervisor took between samples a and b
 * (NAN when the window is too short to say), and the "busy machine: ..." reason (warned) when
 * that is more than TLB_CPULOAD_BUSY_CPUS, else "".
 * tlb_runner_power_cells: idle_w, power source and scope, the median energy of one prefill
 * (pp_j) and one decode phase (tg_j, NULL without decode) over reps repetitions, average
 * power over timed_s seconds of timed phases, J/token, samples and rate, temperatures,
 * minimum frequency, throttling from the monitor's window (mon NULL: "none"), and
 * invalid_reason (the window's and busy). Throttling makes *st INVALID with detail. 0 or -1. */
double tlb_runner_busy(const struct tlb_cpuload_sample *a, const struct tlb_cpuload_sample *b,
                       char *busy, size_t n);
int tlb_runner_power_cells(struct tlb_row *row, struct tlb_monitor *mon, const double *pp_j,
                           const double *tg_j, size_t reps, int n_gen, double timed_s,
                           double idle_w, const char *busy, enum tlb_status *st, char *detail,
                           size_t dn);

/* Seeded pseudo-random token ids in [3, vocab): never <unk>, BOS or EOS, so synthetic and
 * real models are both fine; in [0, vocab) for a vocabulary of 3 tokens or fewer (any size
 * the loader accepts can be benchmarked). */
void tlb_runner_tokens(int *out, int n, int vocab, uint64_t seed, uint64_t stream);

/* ---- process memory ---- */

struct tlb_proc_mem {
    long long hwm, rss, rss_anon, rss_file, vm_size; /* bytes; -1 unknown */
};
/* Read /proc/self/status (VmHWM, VmRSS, RssAnon, RssFile, VmSize). 0, or -1 when absent. */
int tlb_proc_mem_read(struct tlb_proc_mem *pm);
/* MemAvailable and MemTotal from /proc/meminfo in bytes; -1 when unknown. For tests,
 * TLBENCH_FAKE_MEMAVAILABLE=<bytes> replaces MemAvailable (a board with less RAM). */
long long tlb_mem_available(void);
long long tlb_mem_total(void);
/* Memory that must stay free when deciding whether a configuration fits: max(128 MiB, 5%
 * of MemTotal). */
long long tlb_mem_margin(void);

/* ---- identity columns ---- */

struct tlb_run_ident {
    const char *run_id;
    const struct tlb_sysinfo *si;   /* may be NULL */
    const char *board_kind;         /* profile name, NULL = "unknown" */
    const char *board_label;        /* the user's name for the board, NULL = none */
    const char *model_spec;         /* as given */
    const char *model_hash;         /* sha256 hex or synthetic:NAME:seed=N, may be NULL */
    enum tlb_type wtype, kv_type;
    const char *kernel;             /* resolved name */
    const char *engine;             /* "tlbench" (NULL too) or "llama.cpp" */
    int n_threads, n_depth, n_prompt, n_gen, reps, warmup;
    uint64_t seed;
};
/* Fill the identity and configuration columns (test_time is set to now). 0 or -1. */
int tlb_runner_identity(struct tlb_row *row, const struct tlb_run_ident *id);

/* Worker exit code meaning "an allocation failed" (the row is status oom). */
#define TLB_WORKER_EXIT_OOM 3

/* The engine's prefill chunk (max_batch) for a configuration: the prompt length, or up to 128
 * rows when a longer KV depth is filled first (with 32-token chunks a 256-token fill streams
 * every weight 8 times; 4-token chunks, 64 times), at most 512. The memory prediction uses
 * the same value. */
int tlb_runner_max_batch(int n_prompt, int n_depth);

#endif
