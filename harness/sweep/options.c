/* options.c — the settings table of sweep and bench and everything read through it (see
 * options.h): values from text, defaults, layers, sweep files, profile settings, getopt and
 * --help. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-out.h"
#include "kernel.h"
#include "kv.h"
#include "power.h"
#include "schema.h"
#include "threadpool.h"
#include "util.h"

#define SWEEP_FILE_MAX ((size_t)1 << 20)
#define LIST_TEXT_MAX 4096 /* longest list value */
#define STR(x) #x
#define XSTR(x) STR(x)

/* ---------------------------------------------------------------- checks of ARG values */

static int check_power(const char *what, const char *v) {
    if (!strcmp(v, "auto") || !strcmp(v, "none")) return 0;
    char tmp[256], *items[32];
    snprintf(tmp, sizeof tmp, "%s", v);
    int n = tlb_split_list(tmp, items, (int)TLB_ARRAY_LEN(items));
    for (int i = 0; i < n; i++) {
        if (!tlb_power_kind_known(items[i])) {
            tlb_error("%s: unknown source '%s' (auto, none, %s)", what, items[i],
                      tlb_power_kinds());
            return -1;
        }
    }
    return 0;
}

static int check_format(const char *what, const char *v) {
    if (!strcmp(v, "json") || !strcmp(v, "jsonl")) return tlb_json_check(what);
    if (!strcmp(v, "table") || !strcmp(v, "csv")) return 0;
    tlb_error("%s: '%s' is not table, csv, json or jsonl", what, v);
    return -1;
}

/* A run id names one run in many rows (and one ab run in two files): printable, no spaces. */
static int check_run_id(const char *what, const char *v) {
    size_t n = strlen(v);
    int ok = n > 0 && n < 60;
    for (const char *c = v; ok && *c; c++) ok = *c > 0x20 && *c < 0x7f;
    if (ok) return 0;
    tlb_error("%s: 1 to 59 printable characters without spaces", what);
    return -1;
}

/* The column's rule (schema.h), shared with `tlbench info --board-label`. */
static int check_board_label(const char *what, const char *v) {
    const char *why = tlb_board_label_problem(v);
    if (why) tlb_error("%s: %s", what, why);
    return why ? -1 : 0;
}

/* ---------------------------------------------------------------- the table */

#define SPEC(f) 0, offsetof(struct tlb_sweep_spec, f), 0
#define SPEC_LIST(f, n) 0, offsetof(struct tlb_sweep_spec, f), offsetof(struct tlb_sweep_spec, n)
#define ARGS(f) 1, offsetof(struct tlb_sweep_args, f), 0
#define BOTH (TLB_IN_SWEEP | TLB_IN_BENCH)
#define EVERYWHERE (TLB_IN_CLI | TLB_IN_FILE | BOTH)

/* In the order --help lists them. */
const struct tlb_option tlb_options[] = {
    {.name = "profile", .type = TLB_OPT_ARG, ARGS(profile), .where = TLB_IN_CLI | BOTH,
     .arg = "NAME",
     .help = "platform profile to take defaults from (platforms/NAME.conf);\n"
             "none: the built-in defaults only",
     .help_bench = "platform profile for the power and thermal sensors (default:\n"
                   "detected; its sweep lists are not used by bench)"},
    {.name = "sweep", .type = TLB_OPT_ARG, ARGS(sweep_file), .where = TLB_IN_CLI | TLB_IN_SWEEP,
     .arg = "FILE", .help = "sweep file: 'key = value' lines, '#' comments; keys:\n%s",
     .fill = tlb_spec_keys},
    {.name = "output", .short_opt = 'o', .type = TLB_OPT_ARG, ARGS(out_path),
     .where = TLB_IN_CLI | BOTH, .arg = "FILE.csv",
     .help = "results file (default results/<board>-<YYYYMMDD>.csv); appended.\n"
             "One sweep per file at a time: a second one is refused",
     .help_bench = "also append the row to a results file (header when new)"},
    {.name = "resume", .type = TLB_OPT_FLAG, ARGS(resume), .where = TLB_IN_CLI | TLB_IN_SWEEP,
     .help = "skip configurations that already have a row in the results file\n"
             "(same model, weight type, kernel, threads, depth, KV type, -p, -n);\n"
             "without -o, the default file the last sweep on this board wrote\n"
             "(results/.last-<board>), whatever the date is now"},
    {.name = "format", .type = TLB_OPT_ARG, ARGS(format), .where = TLB_IN_CLI | BOTH,
     .arg = "F", .check = check_format,
     .help = "what goes to stdout besides the CSV file: table or csv (default:\n"
             "the results path), json (an array, llama-bench -o json) or jsonl\n"
             "(one row a line as it ends): every column, with llama-bench's\n"
             "field names where they mean the same (docs/csv-schema.md)",
     .help_bench = "table (default): one line per column with its unit;\n"
                   "csv: the header and the row on stdout; json (an array of one\n"
                   "object) or jsonl: the row with llama-bench's field names where\n"
                   "they mean the same (docs/csv-schema.md), for llama.cpp's\n"
                   "scripts/compare-llama-bench.py and dashboards"},
    {.name = "rounds", .type = TLB_OPT_INT, SPEC(rounds), .min = 1, .max = 1000, .def = "1",
     .where = TLB_IN_CLI | TLB_IN_FILE | TLB_IN_SWEEP, .arg = "N",
     .help = "measure every configuration N times, round after round (the\n"
             "configurations of a weight type in turn, so that a slow period of\n"
             "the machine is spread over all of them); rows carry their round"},
    {.name = "ab-sync", .type = TLB_OPT_ARG, ARGS(ab_sync), .where = TLB_IN_CLI | TLB_IN_SWEEP,
     .arg = "IN,OUT",
     .help = "set by tlbench ab, which runs two builds' sweeps in turns: wait\n"
             "for its word before each configuration (docs/ci.md)"},
    {.name = "run-id", .type = TLB_OPT_ARG, ARGS(run_id), .where = TLB_IN_CLI | TLB_IN_SWEEP,
     .arg = "ID", .check = check_run_id,
     .help = "the run id of the rows (default: time and pid); tlbench ab gives\n"
             "both of its sweeps one"},
    {.name = "dry-run", .type = TLB_OPT_FLAG, ARGS(dry_run), .where = TLB_IN_CLI | BOTH,
     .help = "print the configurations and the results path, run nothing"},
    {.name = "model", .type = TLB_OPT_NAMES, SPEC_LIST(models, n_models),
     .def = "synthetic:tinyllama-1.1b", .where = EVERYWHERE, .arg = "LIST", .arg_bench = "M",
     .help = "model specs: a .bin/.gguf/safetensors path or synthetic:NAME\n"
             "(synthetic:tinyllama-1.1b, synthetic:small, synthetic:tiny)"},
    {.name = "quant", .old_key = "quants", .type = TLB_OPT_TYPES, SPEC_LIST(quants, n_quants),
     .def = "f32,f16,q8_0,q4_0", .def_bench = "q4_0",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE, .arg = "LIST", .arg_bench = "T",
     .help = "weight types: f32 f16 bf16 q8_0 q4_0 (converted at load)"},
    {.name = "kernel", .old_key = "kernels", .type = TLB_OPT_KERNELS,
     SPEC_LIST(kernels, n_kernels), .def = "usable", .def_bench = "auto",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE, .arg = "LIST", .arg_bench = "K",
     .help = "kernels by name, auto (best for each type),\n"
             "all (every registered kernel) or usable (every kernel that\n"
             "can run here)",
     .help_bench = "a kernel by name, or auto (the best for the type)"},
    {.name = "threads", .short_opt = 't', .old_key = "threads", .type = TLB_OPT_INTS,
     SPEC_LIST(threads, n_threads), .min = 1, .max = TLB_MAX_THREADS, .def = "1,max",
     .def_bench = "max",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE | TLB_MAX_OK, .arg = "LIST",
     .arg_bench = "N",
     .help = "threads: lists like 1,2,4 or ranges 1-8*2, 1-8+2 (llama-bench);\n"
             "max: every online CPU (in a profile, counts above it are dropped)",
     .help_bench = "threads (max: every online CPU)"},
    {.name = "ctx", .alias = "n-depth", .alias_short = 'd', .old_key = "ctx",
     .type = TLB_OPT_INTS, SPEC_LIST(depths, n_depths), .min = 0, .max = 1 << 20, .def = "0",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE, .arg = "LIST", .arg_bench = "D",
     .help = "KV depth: tokens already in the cache before the timed prefill\n"
             "(llama-bench -d; alias -d, --n-depth)"},
    {.name = "kv-type", .old_key = "kv_types", .type = TLB_OPT_TYPES, SPEC_LIST(kv_types, n_kv),
     .def = "f32", .where = EVERYWHERE | TLB_IN_PROFILE | TLB_KV_ONLY, .arg = "LIST",
     .arg_bench = "T", .help = "KV cache type: f32 f16"},
    {.name = "n-prompt", .short_opt = 'p', .old_key = "n_prompt", .type = TLB_OPT_INT,
     SPEC(n_prompt), .min = 1, .max = 1 << 20, .def = "64",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE, .arg = "N",
     .help = "prompt tokens in the timed prefill (llama-bench -p)"},
    {.name = "n-gen", .short_opt = 'n', .old_key = "n_gen", .type = TLB_OPT_INT, SPEC(n_gen),
     .min = 0, .max = 1 << 20, .def = "16",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE, .arg = "N",
     .help = "tokens decoded one at a time after it (llama-bench -n; 0 = none)"},
    {.name = "repetitions", .short_opt = 'r', .old_key = "reps", .type = TLB_OPT_INT,
     SPEC(reps), .min = 1, .max = 100000, .def = "5",
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_REQ_PROFILE, .arg = "N",
     .help = "timed repetitions (each: one prefill + one decode phase)"},
    {.name = "warmup", .old_key = "warmup", .type = TLB_OPT_INT, SPEC(warmup), .min = 0,
     .max = 1000, .def = "1", .where = EVERYWHERE | TLB_IN_PROFILE, .arg = "N",
     .help = "untimed warm-up runs (a prefill of up to 8 prompt tokens + 1\n"
             "decode step) before them"},
    {.name = "timeout", .type = TLB_OPT_DOUBLE, SPEC(timeout_s), .min = 1, .max = 7 * 86400,
     .def = "600", .where = EVERYWHERE, .arg = "SEC",
     .help = "kill a configuration's worker after SEC seconds (status timeout)"},
    {.name = "cooldown", .type = TLB_OPT_DOUBLE, SPEC(cooldown_s), .min = 0, .max = 86400,
     .def = "0", .where = EVERYWHERE, .arg = "SEC", .help = "pause between configurations"},
    {.name = "max-temp", .type = TLB_OPT_DOUBLE, SPEC(max_temp_c), .min = 0, .max = 200,
     .def = "0", .where = EVERYWHERE, .arg = "C",
     .help = "before each configuration wait until the hottest sensor is below\n"
             "C (default: the profile's throttle temperature)"},
    {.name = "seed", .type = TLB_OPT_U64, SPEC(seed), .def = "42", .where = EVERYWHERE,
     .arg = "N", .help = "seed of the synthetic weights and of the prompt/depth tokens"},
    {.name = "eval-text", .type = TLB_OPT_STR, SPEC(eval_text), .where = EVERYWHERE,
     .arg = "F",
     .help = "text for accuracy: KL divergence against the f32 reference on it,\n"
             "and perplexity for real models (else a synthetic sequence)"},
    {.name = "tokenizer", .type = TLB_OPT_STR, SPEC(tokenizer), .where = EVERYWHERE,
     .arg = "T", .help = "tokenizer for --eval-text (llama2.c .bin, tokenizer.model, GGUF)"},
    {.name = "acc-ref", .type = TLB_OPT_KERNEL, SPEC(acc_ref), .def = "naive",
     .where = EVERYWHERE, .arg = "K",
     .help = "kernel of the f32 accuracy reference (default: naive; for models\n"
             "over 100M parameters the fastest f32 kernel unless given)"},
    {.name = "accuracy", .type = TLB_OPT_BOOL, SPEC(accuracy), .def = "on",
     .where = TLB_IN_FILE | BOTH, .help = "accuracy columns: on or off"},
    {.name = "no-accuracy", .type = TLB_OPT_FLAG, .in_args = 1, .where = TLB_IN_CLI | BOTH,
     .sets = "accuracy", .sets_value = "off", .help = "skip the accuracy columns"},
    {.name = "short-kernels", .old_key = "short_kernels", .type = TLB_OPT_KERNELS,
     SPEC_LIST(short_kernels, n_short), .where = EVERYWHERE | TLB_IN_PROFILE | TLB_EMPTY_OK,
     .arg = "LIST",
     .help = "kernels measured with short phases, no warm-up and no\n"
             "accuracy pass (the profiles list naive: minutes per repetition\n"
             "on a 1.1B model); '' for none"},
    {.name = "short-phases", .old_key = "short_phases", .type = TLB_OPT_PHASES,
     SPEC(short_phases), .def = "4,4,2", .where = EVERYWHERE | TLB_IN_PROFILE, .arg = "P,N,R",
     .help = "their prompt tokens, generated tokens, repetitions (4,4,2)"},
    {.name = "depth-kernels", .type = TLB_OPT_KERNELS,
     SPEC_LIST(depth_kernels, n_depth_kernels),
     .where = EVERYWHERE | TLB_IN_PROFILE | TLB_EMPTY_OK, .arg = "LIST",
     .help = "kernels measured at the depths after the first --ctx value\n"
             "(auto: the best kernel of each weight type; the depth changes\n"
             "the attention, not the matmul kernel); '' for every kernel.\n"
             "A profile's list is ignored when the kernels are named"},
    {.name = "power", .type = TLB_OPT_ARG, ARGS(power), .where = TLB_IN_CLI | BOTH,
     .arg = "SRC", .check = check_power, .fill = tlb_power_kinds,
     .help = "power source: auto (default), none, or %s"},
    {.name = "power-cmd", .type = TLB_OPT_STR, SPEC(power_cmd), .where = EVERYWHERE,
     .arg = "CMD", .help = "external meter: a command printing watts (scope: wall)"},
    {.name = "no-monitor", .type = TLB_OPT_FLAG, ARGS(no_monitor), .where = TLB_IN_CLI | BOTH,
     .help = "no power/thermal monitoring in the workers"},
    {.name = "no-counters", .type = TLB_OPT_FLAG, ARGS(no_counters),
     .where = TLB_IN_CLI | BOTH, .help = "no PAPI/OS event counters"},
    {.name = "board-label", .type = TLB_OPT_ARG, ARGS(board_label), .where = TLB_IN_CLI | BOTH,
     .arg = "TEXT", .check = check_board_label,
     .help = "your name for this board (column board_label; reports and\n"
             "compare tell boards apart by it), at most " XSTR(TLB_BOARD_LABEL_MAX) " bytes, no\n"
             "control characters"},
    {.name = "engine", .type = TLB_OPT_ENGINES, SPEC_LIST(engines, n_engines),
     .def = TLB_ENGINE_TLBENCH, .where = EVERYWHERE, .arg = "LIST",
     .help = "engines: tlbench (default), llama.cpp: runs llama.cpp's llama-bench as\n"
             "the worker on a GGUF of each weight type (the kernel list is\n"
             "tlbench's); one row per configuration and engine, same columns",
     .help_bench = "engines: tlbench (default), llama.cpp (llama-bench as the worker);\n"
                   "tlbench,llama.cpp prints both rows side by side"},
    {.name = "llama-bench", .type = TLB_OPT_STR, SPEC(llama_bench),
     .where = EVERYWHERE | TLB_IN_PROFILE, .arg = "PATH",
     .help = "the llama-bench --engine llama.cpp runs (default: the profile's,\n"
             "else $TLBENCH_LLAMA_BENCH, else llama-bench on PATH)"},
    {.name = "gguf-dir", .type = TLB_OPT_STR, SPEC(gguf_dir), .where = EVERYWHERE,
     .arg = "DIR",
     .help = "where tlbench writes the GGUF llama-bench runs when the model is\n"
             "not a GGUF of that weight type (synthetic, another type); kept and\n"
             "reused (default $TLBENCH_GGUF_DIR, else ~/.cache/tlbench/gguf)"},
};
const int tlb_n_options = (int)TLB_ARRAY_LEN(tlb_options);

/* the set bits of a spec are indexed by table position */
_Static_assert(TLB_ARRAY_LEN(tlb_options) <= 64, "tlb_sweep_spec.set has 64 bits");

/* The entry named name (or its alias); NULL when there is none. */
static const struct tlb_option *find(const char *name) {
    for (int i = 0; i < tlb_n_options; i++)
        if (!strcmp(tlb_options[i].name, name) ||
            (tlb_options[i].alias && !strcmp(tlb_options[i].alias, name)))
            return &tlb_options[i];
    return NULL;
}

/* How errors name an option given on the command line: "-t", "--ctx". */
static const char *shown_name(const struct tlb_option *o, char *buf, size_t n) {
    if (o->short_opt) snprintf(buf, n, "-%c", o->short_opt);
    else snprintf(buf, n, "--%s", o->name);
    return buf;
}

static int index_of(const struct tlb_option *o) { return (int)(o - tlb_options); }

/* The names of the entries allowed where (TLB_IN_*), space-separated, into buf. */
static const char *names_where(unsigned where, char *buf, size_t n) {
    size_t off = 0;
    for (int i = 0; i < tlb_n_options && off < n; i++)
        if (tlb_options[i].where & where)
            off += (size_t)snprintf(buf + off, n - off, "%s%s", off ? " " : "",
                                    tlb_options[i].name);
    return buf;
}

const char *tlb_spec_keys(void) {
    static char buf[512];
    return buf[0] ? buf : names_where(TLB_IN_FILE, buf, sizeof buf);
}

/* The settings a profile may give (for errors). */
static const char *profile_keys(void) {
    static char buf[256];
    return buf[0] ? buf : names_where(TLB_IN_PROFILE, buf, sizeof buf);
}

/* ---------------------------------------------------------------- lists */

/* Split s at commas into trimmed items (copied into buf); returns the count or -1 (error
 * printed: too long, an empty item, too many). */
static int split_list(const char *what, const char *s, char *buf, size_t bufn, char **items,
                      int cap) {
    if (!s) s = "";
    size_t len = strlen(s);
    if (len >= bufn) {
        tlb_error("%s: list too long (%zu characters, at most %zu)", what, len, bufn - 1);
        return -1;
    }
    memcpy(buf, s, len + 1);
    int n = tlb_split_list(buf, items, cap);
    if (n < 0) {
        tlb_error("%s: too many values in '%s' (at most %d)", what, s, cap);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (!*items[i]) {
            tlb_error("%s: empty value in list '%s'", what, s);
            return -1;
        }
    }
    return n;
}

static int strict_long(const char *s, long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = v;
    return 0;
}

static int push_unique(const char *what, const char *item, int *out, int *n, int cap,
                       long v) {
    for (int i = 0; i < *n; i++) {
        if (out[i] == v) {
            tlb_error("%s: value %ld appears twice (at '%s')", what, v, item);
            return -1;
        }
    }
    if (*n == cap) {
        tlb_error("%s: too many values (at most %d)", what, cap);
        return -1;
    }
    out[(*n)++] = (int)v;
    return 0;
}

/* One item of an integer list: a value or a range, pushed onto out. */
static int int_item(const char *what, char *it, long min, long max, int *out, int *n,
                    int cap) {
    /* a range is "a-b", "a-b+s" or "a-b*f"; the '-' is searched after the first character
     * so a negative single value still reads as a number (and is rejected by the range
     * check) */
    char *dash = it[0] ? strchr(it + 1, '-') : NULL;
    long a, b, step = 1;
    if (!dash) {
        if (strict_long(it, &a) != 0 || a < min || a > max) {
            tlb_error("%s: '%s' is not an integer in [%ld, %ld]", what, it, min, max);
            return -1;
        }
        return push_unique(what, it, out, n, cap, a);
    }
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", it);
    char *d = tmp + (dash - it), *op = strpbrk(d + 1, "+*");
    *d = '\0';
    char opc = 0;
    if (op) {
        opc = *op;
        *op = '\0';
    }
    if (strict_long(tmp, &a) || strict_long(d + 1, &b) ||
        (op && (strict_long(op + 1, &step) || step < 1))) {
        tlb_error("%s: '%s' is not a value or a range (a-b, a-b+step, a-b*factor)", what, it);
        return -1;
    }
    int mult = opc == '*';
    if (a < min || b > max || a > b) {
        tlb_error("%s: range '%s' must go upwards within [%ld, %ld]", what, it, min, max);
        return -1;
    }
    if (mult && (step < 2 || a < 1)) {
        tlb_error("%s: range '%s' needs a factor >= 2 and a start >= 1", what, it);
        return -1;
    }
    /* a step is a number of the option too: one beyond its range cannot mean anything */
    if (op && step > max) {
        tlb_error("%s: range '%s': the %s %ld is beyond %ld", what, it, mult ? "factor" : "step",
                  step, max);
        return -1;
    }
    /* stop before the next value passes b, so v + step and v * step never overflow */
    for (long v = a;;) {
        if (push_unique(what, it, out, n, cap, v)) return -1;
        if (mult ? v > b / step : v > b - step) break;
        v = mult ? v * step : v + step;
    }
    return 0;
}

int tlb_parse_int_list(const char *what, const char *s, long min, long max, int *out,
                       int cap) {
    char buf[LIST_TEXT_MAX], *items[TLB_PLAN_MAX_LIST];
    int ni = split_list(what, s, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (ni < 0) return -1;
    if (max > 0x7fffffffL) max = 0x7fffffffL;
    int n = 0;
    for (int i = 0; i < ni; i++)
        if (int_item(what, items[i], min, max, out, &n, cap)) return -1;
    return n;
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)TLB_MIN(n, TLB_MAX_THREADS);
}

/* Threads: an integer list where 'max' is every online CPU (added unless listed already);
 * from a profile, counts above the CPUs and repeats are dropped and an empty list is 1. */
static int parse_threads(const struct tlb_option *o, const char *what, const char *v,
                         enum tlb_opt_source src, int n_cpus, int *out) {
    char buf[LIST_TEXT_MAX], *items[TLB_PLAN_MAX_LIST];
    int ni = split_list(what, v, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (ni < 0) return -1;
    int n = 0, lenient = src == TLB_SRC_PROFILE;
    for (int i = 0; i < ni; i++) {
        int vals[TLB_PLAN_MAX_LIST], nv = 0;
        if ((o->where & TLB_MAX_OK) && !strcmp(items[i], "max")) {
            vals[nv++] = n_cpus;
        } else if (int_item(what, items[i], (long)o->min, (long)o->max, vals, &nv,
                            TLB_PLAN_MAX_LIST)) {
            return -1;
        }
        for (int k = 0; k < nv; k++) {
            int dup = 0;
            for (int j = 0; j < n; j++) dup |= out[j] == vals[k];
            if (lenient && vals[k] > n_cpus) continue;
            if (dup && (lenient || !strcmp(items[i], "max"))) continue;
            if (push_unique(what, items[i], out, &n, TLB_PLAN_MAX_LIST, vals[k])) return -1;
        }
    }
    if (n == 0 && lenient) out[n++] = 1;
    return n;
}

static int parse_types(const struct tlb_option *o, const char *what, const char *s,
                       enum tlb_type *out) {
    char buf[LIST_TEXT_MAX], *items[TLB_PLAN_MAX_LIST];
    int n = split_list(what, s, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (tlb_type_from_name_msg(what, items[i], &out[i]) != 0) return -1;
        if ((o->where & TLB_KV_ONLY) && out[i] != TLB_TYPE_F32 && out[i] != TLB_TYPE_F16) {
            tlb_error("%s: KV cache type must be f32 or f16 (got %s)", what, items[i]);
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (out[j] == out[i]) {
                tlb_error("%s: type %s appears twice", what, items[i]);
                return -1;
            }
        }
    }
    return n;
}

static void free_strs(char **v, int *n) {
    for (int i = 0; i < *n; i++) free(v[i]);
    *n = 0;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = tlb_malloc(n, "string");
    if (d) memcpy(d, s, n);
    return d;
}

static int kernel_known(const char *name, const char *what) {
    if (!strcmp(name, "auto") || !strcmp(name, "all") || !strcmp(name, "usable") ||
        tlb_kernel_find(name))
        return 1;
    char known[256] = "";
    for (int k = 0; k < tlb_kernel_count(); k++) {
        strncat(known, " ", sizeof known - strlen(known) - 1);
        strncat(known, tlb_kernel_at(k)->name, sizeof known - strlen(known) - 1);
    }
    tlb_error("%s: unknown kernel '%s' (known:%s, or auto, all, usable)", what, name, known);
    return 0;
}

/* A list of names into out (replaced). Kernels must be known kernels, except in a profile,
 * which may name kernels this build lacks (any plain word). */
static int parse_names(const struct tlb_option *o, const char *what, const char *s,
                       enum tlb_opt_source src, char **out, int *nout) {
    char buf[LIST_TEXT_MAX], *items[TLB_PLAN_MAX_LIST];
    int n = split_list(what, s, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        if (o->type == TLB_OPT_KERNELS && src == TLB_SRC_PROFILE) {
            if (!tlb_is_word(items[i]) || strlen(items[i]) >= 32) {
                tlb_error("%s: '%s' is not a kernel name", what, items[i]);
                return -1;
            }
        } else if (o->type == TLB_OPT_KERNELS && !kernel_known(items[i], what)) {
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(items[j], items[i]) == 0) {
                tlb_error("%s: '%s' appears twice", what, items[i]);
                return -1;
            }
        }
    }
    free_strs(out, nout);
    for (int i = 0; i < n; i++) {
        if (!(out[i] = dup_str(items[i]))) return -1;
        *nout = i + 1;
    }
    return n;
}

static int parse_engines(const char *what, const char *v, enum tlb_engine_id *out) {
    char buf[LIST_TEXT_MAX], *items[TLB_PLAN_MAX_LIST];
    int n = split_list(what, v, buf, sizeof buf, items, TLB_PLAN_MAX_LIST);
    if (n < 0) return -1;
    if (n > TLB_ENGINE_ID_COUNT) n = TLB_ENGINE_ID_COUNT + 1; /* a repeat, found below */
    for (int i = 0; i < n; i++) {
        enum tlb_engine_id e;
        if (tlb_engine_from_name(items[i], &e) != 0) {
            tlb_error("%s: unknown engine '%s' (known: %s, %s)", what, items[i],
                      TLB_ENGINE_TLBENCH, TLB_ENGINE_LLAMA_CPP);
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (out[j] == e) {
                tlb_error("%s: engine '%s' appears twice", what, items[i]);
                return -1;
            }
        }
        out[i] = e;
    }
    return n;
}

static int replace_str(char **dst, const char *src) {
    char *d = src ? dup_str(src) : NULL;
    if (src && !d) return -1;
    free(*dst);
    *dst = d;
    return 0;
}

static int parse_phases(const char *what, const char *v, struct tlb_phases *out) {
    /* not an integer list: that one refuses repeated values ("4,4,2") */
    char buf[64], *items[4];
    long ph[3];
    int ok = strlen(v) < sizeof buf;
    if (ok) {
        snprintf(buf, sizeof buf, "%s", v);
        ok = tlb_split_list(buf, items, 4) == 3;
    }
    for (int i = 0; ok && i < 3; i++) ok = tlb_parse_int(items[i], 0, 1 << 20, &ph[i]) == 0;
    if (!ok || ph[0] < 1 || ph[2] < 1) {
        tlb_error("%s: '%s' is not PROMPT,GEN,REPETITIONS (e.g. 4,4,2; prompt and "
                  "repetitions at least 1)", what, v);
        return -1;
    }
    *out = (struct tlb_phases){(int)ph[0], (int)ph[1], (int)ph[2]};
    return 0;
}

/* ---------------------------------------------------------------- setting values */

static int set_value(struct tlb_sweep_spec *s, const struct tlb_option *o, const char *v,
                     const char *what, enum tlb_opt_source src, int n_cpus) {
    char *field = (char *)s + o->off;
    int *count = o->count_off ? (int *)((char *)s + o->count_off) : NULL;
    long l;
    int n;
    if (!v) v = "";
    if (!*v && (o->where & TLB_EMPTY_OK) && count) {
        if (o->type == TLB_OPT_NAMES || o->type == TLB_OPT_KERNELS)
            free_strs((char **)field, count);
        *count = 0;
        return 0;
    }
    switch (o->type) {
    case TLB_OPT_NAMES:
    case TLB_OPT_KERNELS: return parse_names(o, what, v, src, (char **)field, count) < 0 ? -1 : 0;
    case TLB_OPT_TYPES:
        if ((n = parse_types(o, what, v, (enum tlb_type *)field)) < 0) return -1;
        *count = n;
        return 0;
    case TLB_OPT_INTS:
        n = (o->where & TLB_MAX_OK)
                ? parse_threads(o, what, v, src, n_cpus, (int *)field)
                : tlb_parse_int_list(what, v, (long)o->min, (long)o->max, (int *)field,
                                     TLB_PLAN_MAX_LIST);
        if (n < 0) return -1;
        *count = n;
        return 0;
    case TLB_OPT_INT:
        if (tlb_parse_int_msg(what, v, (long)o->min, (long)o->max, &l)) return -1;
        *(int *)field = (int)l;
        return 0;
    case TLB_OPT_DOUBLE: return tlb_parse_double_msg(what, v, o->min, o->max, (double *)field);
    case TLB_OPT_U64: return tlb_parse_u64_msg(what, v, (uint64_t *)field);
    case TLB_OPT_STR: return replace_str((char **)field, *v ? v : NULL);
    case TLB_OPT_KERNEL:
        if (!tlb_kernel_find(v)) {
            tlb_error("%s: unknown kernel '%s' for the accuracy reference", what, v);
            return -1;
        }
        return replace_str((char **)field, v);
    case TLB_OPT_BOOL:
        if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes")) *(int *)field = 1;
        else if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) *(int *)field = 0;
        else {
            tlb_error("%s: '%s' is not on or off", what, v);
            return -1;
        }
        return 0;
    case TLB_OPT_PHASES: return parse_phases(what, v, (struct tlb_phases *)field);
    case TLB_OPT_ENGINES:
        if ((n = parse_engines(what, v, (enum tlb_engine_id *)field)) < 0) return -1;
        *count = n;
        return 0;
    case TLB_OPT_ARG:
    case TLB_OPT_FLAG: break;
    }
    tlb_error("%s: not a sweep setting", what);
    return -1;
}

int tlb_spec_set_from(struct tlb_sweep_spec *s, const char *key, const char *value,
                      const char *where, enum tlb_opt_source src, int n_cpus) {
    const struct tlb_option *o = find(key);
    if (!o || o->in_args) {
        tlb_error("%s: unknown key '%s' (known: %s)", where, key, tlb_spec_keys());
        return -1;
    }
    if (set_value(s, o, value, where, src, n_cpus > 0 ? n_cpus : online_cpus()) != 0)
        return -1;
    s->set |= (uint64_t)1 << index_of(o);
    /* named kernels from the user (not a profile's, not a default) are a choice llama.cpp
     * alone cannot honour */
    if (!strcmp(o->name, "kernel"))
        s->kernels_explicit = src == TLB_SRC_CLI || src == TLB_SRC_FILE;
    if (!strcmp(o->name, "depth-kernels"))
        s->depth_kernels_explicit = src == TLB_SRC_CLI || src == TLB_SRC_FILE;
    return 0;
}

int tlb_spec_set(struct tlb_sweep_spec *s, const char *key, const char *value,
                 const char *where) {
    return tlb_spec_set_from(s, key, value, where, TLB_SRC_CLI, 0);
}

int tlb_spec_is_set(const struct tlb_sweep_spec *s, const char *key) {
    const struct tlb_option *o = find(key);
    return o && (s->set >> index_of(o) & 1);
}

/* ---------------------------------------------------------------- defaults, free, merge */

void tlb_spec_defaults(struct tlb_sweep_spec *s, enum tlb_cmd_mode mode) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < tlb_n_options; i++) {
        const struct tlb_option *o = &tlb_options[i];
        const char *def = mode == TLB_CMD_BENCH && o->def_bench ? o->def_bench : o->def;
        /* the defaults are ours: an error here (out of memory) is printed and the setting
         * stays empty, which the plan then reports */
        if (def && !o->in_args) set_value(s, o, def, "default", TLB_SRC_DEFAULT, online_cpus());
    }
    s->set = 0;
}

void tlb_spec_free(struct tlb_sweep_spec *s) {
    for (int i = 0; i < tlb_n_options; i++) {
        const struct tlb_option *o = &tlb_options[i];
        char *field = (char *)s + o->off;
        if (o->in_args) continue;
        if (o->type == TLB_OPT_NAMES || o->type == TLB_OPT_KERNELS)
            free_strs((char **)field, (int *)((char *)s + o->count_off));
        else if (o->type == TLB_OPT_STR || o->type == TLB_OPT_KERNEL)
            replace_str((char **)field, NULL);
    }
}

static int copy_strs(char **dst, int *nd, char *const *src, int ns) {
    free_strs(dst, nd);
    for (int i = 0; i < ns; i++) {
        if (!(dst[i] = dup_str(src[i]))) return -1;
        *nd = i + 1;
    }
    return 0;
}

int tlb_spec_merge(struct tlb_sweep_spec *d, const struct tlb_sweep_spec *s) {
    int rc = 0;
    for (int i = 0; i < tlb_n_options; i++) {
        const struct tlb_option *o = &tlb_options[i];
        if (o->in_args || !(s->set >> i & 1)) continue;
        char *df = (char *)d + o->off;
        const char *sf = (const char *)s + o->off;
        int *dn = o->count_off ? (int *)((char *)d + o->count_off) : NULL;
        const int *sn = o->count_off ? (const int *)((const char *)s + o->count_off) : NULL;
        switch (o->type) {
        case TLB_OPT_NAMES:
        case TLB_OPT_KERNELS:
            rc |= copy_strs((char **)df, dn, (char *const *)sf, *sn);
            if (!strcmp(o->name, "kernel")) d->kernels_explicit = s->kernels_explicit;
            if (!strcmp(o->name, "depth-kernels"))
                d->depth_kernels_explicit = s->depth_kernels_explicit;
            break;
        case TLB_OPT_ENGINES:
            memcpy(df, sf, (size_t)*sn * sizeof(enum tlb_engine_id));
            *dn = *sn;
            break;
        case TLB_OPT_TYPES:
            memcpy(df, sf, (size_t)*sn * sizeof(enum tlb_type));
            *dn = *sn;
            break;
        case TLB_OPT_INTS:
            memcpy(df, sf, (size_t)*sn * sizeof(int));
            *dn = *sn;
            break;
        case TLB_OPT_INT:
        case TLB_OPT_BOOL: memcpy(df, sf, sizeof(int)); break;
        case TLB_OPT_DOUBLE: memcpy(df, sf, sizeof(double)); break;
        case TLB_OPT_U64: memcpy(df, sf, sizeof(uint64_t)); break;
        case TLB_OPT_PHASES: memcpy(df, sf, sizeof(struct tlb_phases)); break;
        case TLB_OPT_STR:
        case TLB_OPT_KERNEL: rc |= replace_str((char **)df, *(char *const *)sf); break;
        case TLB_OPT_ARG:
        case TLB_OPT_FLAG: break;
        }
    }
    d->set |= s->set;
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- files and profiles */

int tlb_spec_load_file(struct tlb_sweep_spec *s, const char *path) {
    struct tlb_kv_file f;
    if (tlb_kv_read(path, SWEEP_FILE_MAX, &f) != 0) return -1;
    int seen_line[64] = {0}, rc = 0;
    for (int e = 0; e < f.n && rc == 0; e++) {
        const char *k = f.e[e].key;
        const struct tlb_option *o = find(k);
        char where[TLB_PATH_MAX + 100];
        snprintf(where, sizeof where, "%s:%d", path, f.e[e].line);
        if (!o || strcmp(o->name, k) || !(o->where & TLB_IN_FILE)) {
            tlb_error("%s: unknown key '%.60s' (known: %s)", where, k, tlb_spec_keys());
            rc = -1;
        } else if (seen_line[index_of(o)]) {
            tlb_error("%s: '%s' is already set on line %d", where, k, seen_line[index_of(o)]);
            rc = -1;
        } else {
            seen_line[index_of(o)] = f.e[e].line;
            /* errors name the key: "file:3: kernel: ..." */
            char where_key[TLB_PATH_MAX + 200];
            snprintf(where_key, sizeof where_key, "%s: %s", where, k);
            rc = tlb_spec_set_from(s, k, f.e[e].value, where_key, TLB_SRC_FILE, 0);
        }
    }
    tlb_kv_free(&f);
    return rc;
}


int tlb_spec_from_profile(struct tlb_sweep_spec *s, const struct tlb_profile *p, int n_cpus,
                          int notes) {
    int seen_line[64] = {0};
    for (int i = 0; i < p->n_settings; i++) {
        const struct tlb_profile_setting *st = &p->settings[i];
        const struct tlb_option *o = NULL;
        for (int k = 0; k < tlb_n_options && !o; k++) {
            const struct tlb_option *c = &tlb_options[k];
            if ((c->where & TLB_IN_PROFILE) &&
                (!strcmp(c->name, st->key) || (c->old_key && !strcmp(c->old_key, st->key))))
                o = c;
        }
        if (!o) {
            tlb_error("%s:%d: unknown key '%.60s' (a profile's sweep settings: %s)", p->path,
                      st->line, st->key, profile_keys());
            return -1;
        }
        int renamed = strcmp(o->name, st->key) != 0;
        if (seen_line[index_of(o)]) {
            tlb_error("%s:%d: '%s'%s%s%s is already set on line %d", p->path, st->line, st->key,
                      renamed ? " (now '" : "", renamed ? o->name : "", renamed ? "')" : "",
                      seen_line[index_of(o)]);
            return -1;
        }
        seen_line[index_of(o)] = st->line;
        if (renamed && notes)
            tlb_note("%s:%d: the profile key '%s' is now '%s' (as in sweep files and options); "
                     "the old key is still read", p->path, st->line, st->key, o->name);
        char where[TLB_PATH_MAX + 100];
        snprintf(where, sizeof where, "%s:%d: %s", p->path, st->line, st->key);
        if (tlb_spec_set_from(s, o->name, st->value, where, TLB_SRC_PROFILE, n_cpus) != 0)
            return -1;
    }
    for (int k = 0; k < tlb_n_options; k++) {
        if ((tlb_options[k].where & TLB_REQ_PROFILE) && !seen_line[k]) {
            tlb_error("%s: missing required key '%s'", p->path, tlb_options[k].name);
            return -1;
        }
    }
    if (isfinite(p->throttle_temp_c)) {
        /* the board's throttle temperature is where the sweep waits */
        s->max_temp_c = p->throttle_temp_c;
        s->set |= (uint64_t)1 << index_of(find("max-temp"));
    }
    return 0;
}

/* ---------------------------------------------------------------- the command line */

static unsigned mode_bit(enum tlb_cmd_mode mode) {
    return mode == TLB_CMD_BENCH ? TLB_IN_BENCH : TLB_IN_SWEEP;
}

/* getopt values: table index + ALIAS_BASE for an alias long name; short options are their
 * own character. */
#define LONG_BASE 1000
#define ALIAS_BASE 2000

int tlb_options_parse(int argc, char **argv, enum tlb_cmd_mode mode, struct tlb_sweep_spec *cli,
                      struct tlb_sweep_args *args) {
    memset(cli, 0, sizeof *cli);
    memset(args, 0, sizeof *args);
    struct option lo[2 * TLB_ARRAY_LEN(tlb_options) + 2];
    char shorts[64] = ":";
    int nl = 0;
    for (int i = 0; i < tlb_n_options; i++) {
        const struct tlb_option *o = &tlb_options[i];
        if (!(o->where & TLB_IN_CLI)) continue;
        int has_arg = o->type == TLB_OPT_FLAG ? no_argument : required_argument;
        lo[nl++] = (struct option){o->name, has_arg, NULL, LONG_BASE + i};
        if (o->alias) lo[nl++] = (struct option){o->alias, has_arg, NULL, ALIAS_BASE + i};
        char sh = o->short_opt ? o->short_opt : o->alias_short;
        size_t l = strlen(shorts);
        if (sh && l + 3 < sizeof shorts)
            snprintf(shorts + l, sizeof shorts - l, "%c%s", sh,
                     has_arg == required_argument ? ":" : "");
    }
    lo[nl++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[nl] = (struct option){0, 0, 0, 0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        if (c == 'h') return 1;
        if (c == ':') {
            tlb_error("%s: option %s needs a value", argv[0], argv[optind - 1]);
            return -1;
        }
        const struct tlb_option *o = NULL;
        int via_alias = 0;
        if (c >= ALIAS_BASE && c < ALIAS_BASE + tlb_n_options) {
            o = &tlb_options[c - ALIAS_BASE];
            via_alias = 1;
        } else if (c >= LONG_BASE && c < LONG_BASE + tlb_n_options) {
            o = &tlb_options[c - LONG_BASE];
        } else {
            for (int i = 0; i < tlb_n_options && !o; i++) {
                if ((tlb_options[i].where & TLB_IN_CLI) && c == tlb_options[i].short_opt)
                    o = &tlb_options[i];
                else if ((tlb_options[i].where & TLB_IN_CLI) && c == tlb_options[i].alias_short)
                    o = &tlb_options[i], via_alias = 1;
            }
        }
        if (!o) {
            tlb_error("%s: unknown option '%s' (see 'tlbench %s --help')", argv[0],
                      argv[optind - 1], argv[0]);
            return -1;
        }
        if (!(o->where & mode_bit(mode))) {
            tlb_error("%s: option --%s is not available here (see --help)", argv[0], o->name);
            return -1;
        }
        char shown[64];
        if (via_alias) snprintf(shown, sizeof shown, "-%c", o->alias_short);
        else shown_name(o, shown, sizeof shown);
        if (o->type == TLB_OPT_FLAG && o->sets) {
            if (tlb_spec_set(cli, o->sets, o->sets_value, shown)) return -1;
        } else if (o->type == TLB_OPT_FLAG) {
            *(int *)((char *)args + o->off) = 1;
        } else if (o->type == TLB_OPT_ARG) {
            if (o->check && o->check(shown, optarg)) return -1;
            *(const char **)((char *)args + o->off) = optarg;
        } else if (tlb_spec_set(cli, o->name, optarg, shown)) {
            return -1;
        }
    }
    if (optind < argc) {
        tlb_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
        return -1;
    }
    if (mode == TLB_CMD_BENCH) {
        /* bench runs one configuration: every list takes one value (but it may run on each
         * engine) */
        for (int i = 0; i < tlb_n_options; i++) {
            const struct tlb_option *o = &tlb_options[i];
            if (!o->count_off || !(cli->set >> i & 1) || o->type == TLB_OPT_ENGINES) continue;
            char shown[64];
            if (*(const int *)((const char *)cli + o->count_off) > 1) {
                tlb_error("bench runs one configuration: %s takes one value (use tlbench sweep "
                          "for lists)", shown_name(o, shown, sizeof shown));
                return -1;
            }
        }
        if (cli->n_kernels == 1 &&
            (!strcmp(cli->kernels[0], "all") || !strcmp(cli->kernels[0], "usable"))) {
            tlb_error("bench runs one configuration: --kernel %s names several kernels",
                      cli->kernels[0]);
            return -1;
        }
    }
    return 0;
}

#define HELP_COL 19   /* where the help text starts */
#define HELP_WIDTH 92 /* and where its lines wrap */

/* One line of help text from column HELP_COL, wrapped at spaces before HELP_WIDTH. */
static void help_line(FILE *out, const char *p, size_t len) {
    const size_t room = HELP_WIDTH - HELP_COL;
    while (len > room) {
        size_t cut = room;
        while (cut > 0 && p[cut] != ' ') cut--;
        if (cut == 0) break; /* one long word: leave it whole */
        fprintf(out, "%.*s\n%*s", (int)cut, p, HELP_COL, "");
        p += cut + 1;
        len -= cut + 1;
    }
    fprintf(out, "%.*s\n", (int)len, p);
}

void tlb_options_help(FILE *out, enum tlb_cmd_mode mode) {
    const int bench = mode == TLB_CMD_BENCH;
    for (int i = 0; i < tlb_n_options; i++) {
        const struct tlb_option *o = &tlb_options[i];
        if (!(o->where & TLB_IN_CLI) || !(o->where & mode_bit(mode))) continue;
        const char *arg = bench && o->arg_bench ? o->arg_bench : o->arg;
        const char *help = bench && o->help_bench ? o->help_bench : o->help;
        char left[64] = "", text[1024];
        if (o->short_opt) snprintf(left, sizeof left, "-%c, ", o->short_opt);
        size_t l = strlen(left);
        snprintf(left + l, sizeof left - l, "--%s%s%s", o->name, arg ? " " : "", arg ? arg : "");
        int w = fprintf(out, "  %s", left);
        if (w < HELP_COL) fprintf(out, "%*s", HELP_COL - w, "");
        else fprintf(out, "\n%*s", HELP_COL, "");
        snprintf(text, sizeof text, help, o->fill ? o->fill() : "");
        for (const char *p = text; *p;) {
            size_t len = strcspn(p, "\n");
            help_line(out, p, len);
            p += len;
            if (*p == '\n' && *++p) fprintf(out, "%*s", HELP_COL, "");
        }
    }
}
