/* llama-records.h — llama.cpp's llama-bench output read as records, and records turned into
 * tlbench result rows. llama-bench (`-o json`, `-o jsonl`, `-o csv`) prints one record per
 * test: a prompt test "pp" (n_prompt > 0, n_gen 0), a generation test "tg" (n_prompt 0) or a
 * combined test "pg" (-pg: both). A tlbench row is one configuration measured in both phases,
 * so a pp record and the tg record of the same configuration are paired into one row.
 * json and jsonl carry the per-repetition samples (samples_ns, samples_ts); csv only the
 * averages. Every byte is untrusted: sizes, counts, numbers and strings are bounded and
 * checked, and an error names the source and the line (or record) and the field. */
#ifndef TLB_LLAMA_RECORDS_H
#define TLB_LLAMA_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "results-csv.h"

#define TLB_LB_MAX_RECORDS 100000
#define TLB_LB_MAX_TEXT ((size_t)64 << 20) /* bytes of llama-bench output read */

enum tlb_lb_format { TLB_LB_AUTO, TLB_LB_JSON, TLB_LB_JSONL, TLB_LB_CSV };

struct tlb_lb_record {
    char build_commit[48];
    int64_t build_number;                 /* -1 when absent */
    char cpu_info[256], gpu_info[256], backends[128];
    char model_filename[1024], model_type[128];
    int64_t model_size, model_n_params;   /* -1 when absent */
    int64_t n_threads;                    /* -1 when absent */
    char type_k[16], type_v[16];
    int use_mmap;                         /* 0, 1, -1 when absent */
    int64_t n_prompt, n_gen, n_depth;     /* n_depth 0 when absent (before llama-bench -d) */
    char test_time[32];
    double avg_ns, stddev_ns, avg_ts, stddev_ts; /* NAN when absent */
    double *samples_ns, *samples_ts;      /* per repetition, NULL when absent */
    size_t n_samples_ns, n_samples_ts;
    /* every field that describes the configuration (all but the phase lengths, time and
     * results), "name=value" joined by \x1f in file order: records of one configuration
     * have equal keys */
    char *key;
    size_t where;                         /* line (jsonl, csv) or record number (json) */
};

struct tlb_lb_set {
    struct tlb_lb_record *recs;
    size_t n;
    enum tlb_lb_format format;            /* as detected */
};

/* Parse llama-bench output text[0..len) (need not be NUL-terminated). format AUTO detects
 * json ('['), jsonl ('{') or csv (a header starting with build_commit) and refuses
 * llama-bench's md and sql output with a hint. jsonl lines that are llama-bench --progress
 * messages ("llama-bench: ...") are skipped. Returns 0, or -1 after one error line naming
 * source. json and jsonl need cJSON (built with libcjson-dev). */
int tlb_lb_parse(const char *text, size_t len, enum tlb_lb_format format, const char *source,
                 struct tlb_lb_set *out);
void tlb_lb_free(struct tlb_lb_set *s);
const char *tlb_lb_format_name(enum tlb_lb_format f);

/* One configuration: pp and tg records of it (either may be NULL), or a pg record. */
struct tlb_lb_config {
    const struct tlb_lb_record *pp, *tg, *pg;
};
/* Pair the records: in file order, each pp record takes the first later unpaired tg record
 * with the same key; every other record is a configuration of its own. *out is malloc'd.
 * Returns the count, or -1 (out of memory). */
long tlb_lb_pair(const struct tlb_lb_set *s, struct tlb_lb_config **out);

/* The measured cells of a configuration: engine, engine_version, engine_backends,
 * model_size, model_n_params, weight_mapping, test_time, repetitions, pp_* and tg_* rates,
 * times and samples, the blended avg_ts/stddev_ts/samples_ts (a pg record's own; for a pp and
 * a tg record, per repetition (n_prompt + n_gen) / (prefill + decode time) as tlbench
 * defines it), noise. Cells llama-bench did not measure stay empty. 0 or -1 (error printed). */
int tlb_lb_fill_results(struct tlb_row *r, const struct tlb_lb_config *c);
/* The identity of a configuration measured elsewhere (import): kernel ggml, model (name from
 * the file name, source, format gguf), weight type (from model_type), KV type, threads,
 * n_prompt, n_gen, n_depth, n_ctx, cpu_info. 0 or -1. */
int tlb_lb_fill_identity(struct tlb_row *r, const struct tlb_lb_config *c);

/* tlbench's weight type name for llama.cpp's model_type ("llama 1B Q4_0" -> "q4_0",
 * "all F32" -> "f32", "Q4_K - Medium" -> "q4_k_m"); "" when there is none. */
void tlb_lb_weight_type(const char *model_type, char *out, size_t n);

#endif
