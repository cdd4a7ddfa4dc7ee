/* schema.c — the results CSV column table (see schema.h). This table IS the contract:
 * never reorder, rename or remove a column of a released version; add columns only at the
 * end, with since = a new version number, and add that version to tlb_schema_versions.
 * tests/test-csv.c checks the table against tests/fixtures/csv/header-v1.csv and
 * docs/csv-schema.md. */
#include "schema.h"

#include <string.h>

#define S TLB_COL_STR
#define I TLB_COL_INT
#define F TLB_COL_FLOAT
#define X TLB_COL_SAMPLES

const struct tlb_column tlb_columns[] = {
    /* ---- identity ---- */
    {"schema_version", "", S, 1, "Version of this schema (`tlbench-csv-6`; `tlbench-csv-1` to `tlbench-csv-5` in older files); always the first column."},
    {"run_id", "", S, 1, "Identifier shared by all rows written by one sweep invocation."},
    {"test_time", "RFC 3339", S, 1, "When the configuration finished, UTC, `YYYY-MM-DDTHH:MM:SSZ` (as llama-bench)."},
    {"tlbench_version", "", S, 1, "tlbench version string."},
    {"build_commit", "", S, 1, "Git commit the tlbench binary was built from."},
    {"board", "", S, 1, "Board or machine model as detected (devicetree model, DMI product name)."},
    {"board_kind", "", S, 1, "Platform profile that matched (e.g. `x86-avx512-server`, `rpi5`, `jetson-orin-nano`, `generic`)."},
    {"cpu_info", "", S, 1, "CPU model name (on Arm, the core name derived from MIDR)."},
    {"n_cpus", "count", I, 1, "Online logical CPUs."},
    {"os", "", S, 1, "Operating system and kernel release."},
    {"compiler", "", S, 1, "Compiler that built tlbench (first line of `--version`)."},
    {"cflags", "", S, 1, "CFLAGS of the build."},
    {"model_name", "", S, 1, "Model name, e.g. `tinyllama-1.1b` or `stories15M`."},
    {"model_source", "", S, 1, "Model file path, or the `synthetic:NAME` spec."},
    {"model_format", "", S, 1, "`gguf`, `safetensors`, `llama2c` or `synthetic`."},
    {"model_hash", "", S, 1, "SHA-256 (hex) of the model file (remembered by device, inode, size and times in ~/.cache/tlbench/sha256, so an unchanged file is not read again); for synthetic models `synthetic:NAME:seed=N`."},
    {"model_n_params", "count", I, 1, "Parameters of the model (a shared classifier counted once), as llama-bench."},
    {"model_size", "bytes", I, 1, "Bytes of all weights as stored for this run's weight type, as llama-bench."},
    {"weight_type", "", S, 1, "Weight type of the matrices: `f32`, `f16`, `bf16`, `q8_0`, `q4_0`."},
    {"kv_type", "", S, 1, "KV cache type: `f32` or `f16`."},
    {"kernel", "", S, 1, "Matmul kernel name (`naive`, `tiled`, `openblas`, `blis`, `avx2`, `avx512`, `neon`); `ggml` for llama.cpp rows (llama.cpp picks its own kernels)."},
    {"kernel_version", "", S, 1, "The kernel's version string, including any library version and configuration."},
    {"n_threads", "count", I, 1, "Threads used by the engine (and given to BLAS libraries)."},
    {"n_prompt", "tokens", I, 1, "Prompt tokens processed in one prefill (llama-bench `-p`)."},
    {"n_gen", "tokens", I, 1, "Tokens generated in one decode phase (llama-bench `-n`)."},
    {"n_depth", "tokens", I, 1, "Tokens already in the KV cache before the prefill (llama-bench `-d`); untimed."},
    {"n_ctx", "tokens", I, 1, "KV cache positions allocated (normally n_depth + n_prompt + n_gen)."},
    {"seed", "", I, 1, "Seed of the synthetic weights and the prompt tokens."},
    {"repetitions", "count", I, 1, "Timed repetitions (each is one prefill plus one decode phase)."},
    {"warmup", "count", I, 1, "Untimed warm-up runs before the repetitions."},
    /* ---- status ---- */
    {"status", "", S, 1, "`ok`, `unsupported`, `crashed`, `timeout`, `oom`, `skipped-memory`, `invalid` or `error`."},
    {"status_detail", "", S, 1, "Why the status is not `ok` (reason, signal, error message); empty when ok."},
    /* ---- latency ---- */
    {"load_ms", "ms", F, 1, "Model load (and weight conversion) time; a sweep loads each (model, weight type) once and repeats that time in each of its rows."},
    {"pp_ms_median", "ms", F, 1, "Time of one prefill of n_prompt tokens at depth n_depth: median over repetitions."},
    {"pp_ms_mean", "ms", F, 1, "Prefill time: mean over repetitions."},
    {"pp_ms_stddev", "ms", F, 1, "Prefill time: sample standard deviation (n-1) over repetitions."},
    {"pp_ts_mean", "tokens/s", F, 1, "Prefill rate n_prompt / prefill time: mean over repetitions."},
    {"pp_ts_median", "tokens/s", F, 1, "Prefill rate: median over repetitions."},
    {"pp_ts_stddev", "tokens/s", F, 1, "Prefill rate: sample standard deviation (n-1)."},
    {"ttft_ms", "ms", F, 1, "Time to first token: start of the prefill to the first generated token, median over repetitions."},
    {"tg_ms_p50", "ms", F, 1, "Decode latency per token (one forward pass of one token plus sampling), 50th percentile over all generated tokens of all repetitions."},
    {"tg_ms_p90", "ms", F, 1, "Decode latency per token, 90th percentile."},
    {"tg_ms_p99", "ms", F, 1, "Decode latency per token, 99th percentile."},
    {"tg_ts_mean", "tokens/s", F, 1, "Decode rate n_gen / decode time: mean over repetitions."},
    {"tg_ts_median", "tokens/s", F, 1, "Decode rate: median over repetitions."},
    {"tg_ts_stddev", "tokens/s", F, 1, "Decode rate: sample standard deviation (n-1)."},
    {"avg_ts", "tokens/s", F, 1, "llama-bench compatible: mean over repetitions of (n_prompt + n_gen) / (prefill + decode time)."},
    {"stddev_ts", "tokens/s", F, 1, "llama-bench compatible: sample standard deviation of the same per-repetition rates."},
    /* ---- per-repetition samples ---- */
    {"pp_samples_ts", "tokens/s", X, 1, "Per-repetition prefill rates, in repetition order, `;`-separated."},
    {"tg_samples_ts", "tokens/s", X, 1, "Per-repetition decode rates, in repetition order, `;`-separated."},
    {"samples_ts", "tokens/s", X, 1, "Per-repetition blended rates behind avg_ts (llama-bench `samples_ts`), `;`-separated."},
    /* ---- noise ---- */
    {"pp_cv_pct", "%", F, 1, "Coefficient of variation of pp_samples_ts: 100 x stddev / mean."},
    {"tg_cv_pct", "%", F, 1, "Coefficient of variation of tg_samples_ts."},
    {"pp_outliers", "count", I, 1, "Prefill repetitions whose modified z-score 0.6745 x |x - median| / MAD exceeds 3.5."},
    {"tg_outliers", "count", I, 1, "Decode repetitions that are MAD outliers (same rule)."},
    {"noisy", "0/1", I, 1, "1 when pp_cv_pct or tg_cv_pct exceeds 5, any repetition is an outlier, or other processes (or the hypervisor) used more than 0.25 CPUs while measuring."},
    /* ---- memory ---- */
    {"weights_bytes", "bytes", I, 1, "Bytes of weights the engine holds (as stored, including any repacked copy)."},
    {"kv_bytes", "bytes", I, 1, "Bytes of the KV cache allocated for n_ctx positions."},
    {"scratch_bytes", "bytes", I, 1, "Bytes of activation and work buffers the engine allocates."},
    {"predicted_bytes", "bytes", I, 1, "weights_bytes + kv_bytes + scratch_bytes: what the engine knows it allocates (tlbench fit adds the runtime overhead)."},
    {"peak_rss_bytes", "bytes", I, 1, "Peak resident set size of the worker process (VmHWM); for llama.cpp rows of the llama-bench process tlbench ran (wait4's ru_maxrss), empty for imported rows."},
    {"rss_anon_bytes", "bytes", I, 1, "Anonymous resident memory (RssAnon) at the end of the measured phases."},
    {"rss_file_bytes", "bytes", I, 1, "File-backed resident memory (RssFile, e.g. mmapped weights) at the end of the measured phases."},
    /* ---- power and thermal ---- */
    {"power_source", "", S, 1, "Where power was read, e.g. `rapl:package-0`, `ina3221:1-0040:VDD_IN`, `meter:CMD`, or `none`."},
    {"power_scope", "", S, 1, "What the source covers: `wall`, `module`, `board-pmic`, `package`, `cpu`, or `none`."},
    {"idle_w", "W", F, 1, "Idle power measured before the test."},
    {"pp_energy_j", "J", F, 1, "Energy of one prefill, median over repetitions, gross (idle included)."},
    {"tg_energy_j", "J", F, 1, "Energy of one decode phase of n_gen tokens, median over repetitions, gross."},
    {"avg_w", "W", F, 1, "Average power over the measured phases."},
    {"j_per_token", "J/token", F, 1, "Decode energy per generated token: tg_energy_j / n_gen."},
    {"tokens_per_j", "tokens/J", F, 1, "Generated tokens per joule: n_gen / tg_energy_j."},
    {"power_samples", "count", I, 1, "Power readings taken during the measured phases."},
    {"power_hz", "Hz", F, 1, "Power sampling rate actually achieved."},
    {"temp_start_c", "degC", F, 1, "Hottest thermal zone at the start of the test."},
    {"temp_max_c", "degC", F, 1, "Hottest thermal zone reading during the test."},
    {"temp_end_c", "degC", F, 1, "Hottest thermal zone at the end of the test."},
    {"freq_min_mhz", "MHz", F, 1, "Lowest CPU frequency seen on the used cores during the test."},
    {"throttled", "0/1", I, 1, "1 when throttling or under-voltage started during the test."},
    {"invalid_reason", "", S, 1, "Why the power or timing measurement is not trustworthy (throttled, too few power samples, a busy machine...)."},
    /* ---- accuracy ---- */
    {"acc_ref", "", S, 1, "Reference the accuracy columns compare against, e.g. `f32/naive` (`f32/avx512`: models over 100M parameters use the fastest f32 kernel unless --acc-ref is given)."},
    {"kld_mean", "nats", F, 1, "Mean KL divergence of the next-token distribution from the reference (teacher forced)."},
    {"kld_p99", "nats", F, 1, "99th percentile of the per-token KL divergence."},
    {"top1_agree", "fraction", F, 1, "Fraction (0..1) of positions whose top-1 token equals the reference's."},
    {"max_logit_err", "logits", F, 1, "Largest absolute logit difference from the reference."},
    {"ppl", "", F, 1, "Perplexity on the evaluation text (real models only)."},
    {"ppl_tokens", "tokens", I, 1, "Tokens scored for ppl."},
    /* ---- counters ---- */
    {"papi_events", "", S, 1, "PAPI/perf events actually read, `;`-separated; empty when none."},
    {"ctr_instructions", "count", I, 1, "Instructions retired, summed over the timed phases of all repetitions."},
    {"ctr_cycles", "count", I, 1, "CPU cycles, summed over the timed phases of all repetitions."},
    {"ctr_cache_misses", "count", I, 1, "Last-level cache misses, summed over the timed phases of all repetitions."},
    {"ctr_task_clock_ms", "ms", F, 1, "CPU time of all threads (task clock), summed over the timed phases."},
    {"ctr_page_faults", "count", I, 1, "Page faults during the timed phases."},
    {"ctr_ctx_switches", "count", I, 1, "Context switches during the timed phases."},
    /* ---- version 2 ---- */
    {"weight_mapping", "", S, 2, "Where the matrices sat: `copy` (copied at load into huge-page memory, the default), `mmap` (used in place from the file mapping, TLBENCH_MMAP=1), `mmap+copy` (both), `generated` (synthetic)."},
    /* ---- version 3 ---- */
    {"board_label", "", S, 3, "The user's name for the board (`--board-label`, e.g. the inventory name of a fleet run); empty when not given. Reports and compare tell boards apart by it when present."},
    {"cpu_governor", "", S, 3, "cpufreq scaling governor of cpu0 (`performance`, `schedutil`, `ondemand`...), `none` when the kernel has no cpufreq (many VMs)."},
    {"cpu_boost", "0/1", I, 3, "1 when frequency boost/turbo is enabled (cpufreq `boost`, or intel_pstate `no_turbo` = 0), 0 when disabled; empty when the kernel does not say."},
    {"thp", "", S, 3, "Transparent huge pages setting (`always`, `madvise`, `never`): the copied weights sit in huge pages only when it is not `never`."},
    {"mem_total_bytes", "bytes", I, 3, "RAM of the machine (MemTotal)."},
    {"virtualization", "", S, 3, "`none` on bare metal, else how a virtual machine was recognised (`cpuinfo hypervisor flag`, `DMI QEMU`...)."},
    {"power_mode", "", S, 3, "Jetson power mode (nvpmodel), e.g. `MAXN_SUPER (nvpmodel 2)`; empty on boards without one."},
    {"build_dirty", "0/1", I, 3, "1 when the binary was built from a git tree with uncommitted changes to its sources (build_commit then does not name the code), 0 when clean; empty when not built from git."},
    {"load_peak_rss_bytes", "bytes", I, 3, "Peak resident set size (VmHWM) of the process that loaded or converted the weights, at the end of loading: the copy plus the file pages in flight. The run needs max(peak_rss_bytes, load_peak_rss_bytes); fit and the memory chart use that."},
    {"busy_cpus", "CPUs", F, 3, "CPUs used by other processes plus the hypervisor's steal time, averaged over the measured window (0 on a quiet machine; above 0.25 the row is `noisy`)."},
    {"round", "count", I, 3, "Round of an interleaved run (sweep `--rounds`, `tlbench ab`): every configuration is measured once per round, rounds in turn; empty otherwise. Rows of one configuration with one run_id and different rounds are repeated measurements, not duplicates; `tlbench ab` pairs BASE and NEW rows by round."},
    {"engine", "", S, 3, "Inference engine that ran the configuration: `tlbench` (its own engine, with `kernel`) or `llama.cpp` (llama-bench run as the worker, or results imported with `tlbench import llama-bench`). Empty in older files: read as `tlbench`."},
    {"engine_version", "", S, 3, "The engine's version: for `tlbench` its version and build commit; for `llama.cpp` llama-bench's `build_commit` and `build_number`, e.g. `c392e5094 (4748)`."},
    {"engine_backends", "", S, 3, "Backends the engine reports (llama-bench `backends`, e.g. `CPU`, `BLAS`, `CUDA`); empty for tlbench rows (their `kernel` says)."},
    {"engine_model", "", S, 3, "The model file the engine read when tlbench did not load `model_source` itself: for llama.cpp rows the GGUF llama-bench ran (`model_source` itself, or the GGUF tlbench wrote from it for this weight type); empty for tlbench rows."},
    /* ---- version 4 ---- */
    {"core_share", "share", F, 4, "FMA throughput of the row's n_threads threads, measured just before its first repetition, as a share of n_threads times one thread's: about 1 when every thread had a core of its own, below 0.75 when they shared cores (a VM host running vCPUs on one core's SMT siblings, more threads than cores, throttling), which neither load nor steal time shows; the row then measures that. Empty for 1-thread rows; for a llama.cpp row tlbench measures it with as many threads of its own just before llama-bench starts."},
    /* ---- version 5 ---- */
    {"mem_bw_gbps", "GB/s", F, 5, "The memory's level just before the configuration's first repetition: the read bandwidth of n_threads threads, the best of 16 pieces of 8 MiB after an untimed read of 4 x the last-level cache (about 10 ms). tlbench rows read the model's own matrices (nothing allocated; empty when they hold less than the probe reads, about 5 x the LLC: the tiny test models); llama.cpp rows a buffer of the sweep's own just before llama-bench starts (GGUFs of at least twice its size). Shared hosts move it by 40 % and more for minutes at a time; rows measured at levels more than 25 % apart compare those moments, not the code (report leaves such rounds out of its engines table; compare says so, and calls a decode change that follows the level inconclusive). Empty for llama.cpp rows in `tlbench ab` and for rows that did not run."},
    /* ---- version 6 ---- */
    {"tg_gbps", "GB/s", F, 6, "Decode's memory traffic: the bytes one decode step reads (every matrix of the layers and the classifier, plus the KV cache rows its attention reads at the middle position of the decode phase) times its tokens/s, median over the repetitions. What a memory-bound decode can reach is the memory's read bandwidth (mem_bw_gbps). Empty for llama.cpp rows and rows without a decode phase."},
    {"tg_pct_mem_bw", "%", F, 6, "Decode against the memory's level of its own moment: each repetition's tg_gbps as a share of the read bandwidth measured over the model's own matrices just before that repetition (the mem_bw_gbps probe, about 10 ms, untimed), median over the repetitions. Near 100 % the decode streams the weights as fast as a plain read of them did; on a shared host whose memory moves between levels within a row the per-repetition level keeps it comparable. Empty where mem_bw_gbps is (the tiny test models, llama.cpp rows) and without a decode phase."},
};
const int tlb_n_columns = (int)(sizeof tlb_columns / sizeof tlb_columns[0]);

#undef S
#undef I
#undef F
#undef X

const struct tlb_schema_version tlb_schema_versions[] = {
    {"tlbench-csv-1", 1, 93},
    {"tlbench-csv-2", 2, 94},
    {"tlbench-csv-3", 3, 109},
    {"tlbench-csv-4", 4, 110},
    {"tlbench-csv-5", 5, 111},
    {"tlbench-csv-6", 6, (int)(sizeof tlb_columns / sizeof tlb_columns[0])},
};
const int tlb_n_schema_versions =
    (int)(sizeof tlb_schema_versions / sizeof tlb_schema_versions[0]);

int tlb_column_index(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < tlb_n_columns; i++)
        if (strcmp(tlb_columns[i].name, name) == 0) return i;
    return -1;
}

int tlb_unit_range(const char *unit, double *lo, double *hi) {
    static const struct {
        const char *unit;
        double lo, hi;
    } ranges[] = {
        {"bytes", 0, 0x1p50},       {"tokens", 0, 0x1p30},     {"count", 0, 0x1p53},
        {"tokens/s", 0, 1e9},       {"ms", 0, 1e10},           {"nats", -1e-3, 1e6},
        {"W", 0, 1e6},              {"J", 0, 1e12},            {"J/token", 0, 1e9},
        {"tokens/J", 0, 1e12},      {"%", 0, 1e6},             {"degC", -273.15, 1e4},
        {"0/1", 0, 1},              {"fraction", 0, 1},        {"logits", 0, 1e30},
        {"Hz", 0, 1e9},             {"MHz", 0, 1e7},           {"CPUs", 0, 1e5},
    };
    for (size_t i = 0; unit && i < sizeof ranges / sizeof ranges[0]; i++) {
        if (strcmp(unit, ranges[i].unit) == 0) {
            *lo = ranges[i].lo;
            *hi = ranges[i].hi;
            return 0;
        }
    }
    return -1;
}

const char *tlb_col_type_name(enum tlb_col_type t) {
    switch (t) {
    case TLB_COL_STR: return "string";
    case TLB_COL_INT: return "int";
    case TLB_COL_FLOAT: return "float";
    case TLB_COL_SAMPLES: return "samples";
    }
    return "?";
}

const struct tlb_schema_version *tlb_schema_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < tlb_n_schema_versions; i++)
        if (strcmp(tlb_schema_versions[i].name, name) == 0) return &tlb_schema_versions[i];
    return NULL;
}

const char *tlb_schema_known_list(void) {
    static char buf[256];
    buf[0] = '\0';
    for (int i = 0; i < tlb_n_schema_versions; i++) {
        if (i) strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
        strncat(buf, tlb_schema_versions[i].name, sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

static const char *const status_names[TLB_STATUS_COUNT] = {
    "ok", "unsupported", "crashed", "timeout", "oom", "skipped-memory", "invalid", "error",
};

const char *tlb_status_name(enum tlb_status s) {
    return (unsigned)s < TLB_STATUS_COUNT ? status_names[s] : "?";
}

int tlb_status_from_name(const char *name, enum tlb_status *out) {
    if (!name) return -1;
    for (int i = 0; i < TLB_STATUS_COUNT; i++) {
        if (strcmp(status_names[i], name) == 0) {
            *out = (enum tlb_status)i;
            return 0;
        }
    }
    return -1;
}

const char *tlb_board_label_problem(const char *s) {
    size_t n = strlen(s);
    int ok = n > 0 && n <= TLB_BOARD_LABEL_MAX;
    for (const char *p = s; ok && *p; p++) ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
#define STR_(x) #x
#define STR(x) STR_(x)
    return ok ? NULL : "the label must be 1 to " STR(TLB_BOARD_LABEL_MAX)
                       " bytes without control characters";
#undef STR
#undef STR_
}
