/* options.h — every setting of `tlbench sweep` and `tlbench bench` in one table, in the style
 * of fio's fio_options[]: name (the long option, the sweep-file key and the profile key
 * alike), short option, type, the field it fills, range, default, help, and where it may
 * be given. The getopt tables, the --help text of both commands, the defaults, the
 * sweep-file keys and a profile's sweep settings all come from tlb_options[]; adding a
 * setting adds a field and one entry.
 *
 * A spec is read in layers (sweep-plan.h): defaults <- platform profile <- sweep file <-
 * command line. Every value is untrusted: a bad one is one error line naming where it came
 * from ("-t", "sweeps/x.conf:12: threads", "platforms/rpi5.conf:20: quant"). */
#ifndef TLB_OPTIONS_H
#define TLB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profile.h"
#include "sweep-plan.h"

enum tlb_opt_type {
    TLB_OPT_NAMES,   /* comma list of names (models): char *[] + count */
    TLB_OPT_KERNELS, /* comma list of kernels (auto, all, usable or a name): char *[] + count */
    TLB_OPT_TYPES,   /* comma list of weight types: enum tlb_type[] + count */
    TLB_OPT_INTS,    /* comma list of integers and llama-bench ranges: int[] + count */
    TLB_OPT_INT,     /* int in [min, max] */
    TLB_OPT_DOUBLE,  /* double in [min, max] */
    TLB_OPT_U64,     /* uint64_t */
    TLB_OPT_STR,     /* char * (owned), "" = unset */
    TLB_OPT_KERNEL,  /* char * (owned): one registered kernel */
    TLB_OPT_BOOL,    /* int: on/off, yes/no, 1/0 */
    TLB_OPT_PHASES,  /* struct tlb_phases: PROMPT,GEN,REPETITIONS */
    TLB_OPT_ENGINES, /* comma list of engines (tlbench, llama.cpp): enum tlb_engine_id[] + count */
    TLB_OPT_ARG,     /* command line only: const char * into argv, checked by ->check */
    TLB_OPT_FLAG,    /* command line only: no value; int set to 1, or ->sets = ->sets_value */
};

/* Where a setting may be given, and a few rules (bits of tlb_option.where). */
enum {
    TLB_IN_CLI = 1 << 0,      /* a command-line option */
    TLB_IN_FILE = 1 << 1,     /* a sweep-file key */
    TLB_IN_PROFILE = 1 << 2,  /* a sweep setting of a platform profile */
    TLB_IN_SWEEP = 1 << 3,    /* `tlbench sweep` takes it */
    TLB_IN_BENCH = 1 << 4,    /* `tlbench bench` takes it */
    TLB_REQ_PROFILE = 1 << 5, /* every profile must give it */
    TLB_KV_ONLY = 1 << 6,     /* types: only KV cache types (f32, f16) */
    TLB_EMPTY_OK = 1 << 7,    /* lists: '' empties the list */
    TLB_MAX_OK = 1 << 8,      /* integer lists: 'max' is every online CPU */
};

/* Who gives a value. Profiles are written for a board kind, not one board: there 'max'
 * threads and counts above this machine's CPUs are dropped, and kernels this build does not
 * know are kept (their configurations become unsupported rows). */
enum tlb_opt_source { TLB_SRC_DEFAULT, TLB_SRC_CLI, TLB_SRC_FILE, TLB_SRC_PROFILE };

enum tlb_cmd_mode { TLB_CMD_SWEEP, TLB_CMD_BENCH };

/* What only the command line says: which layers to read and how the session runs. The
 * strings point into argv. */
struct tlb_sweep_args {
    const char *profile, *sweep_file, *out_path, *power, *format, *board_label;
    const char *ab_sync, *run_id; /* set by tlbench ab (cmd-ab.c, ab-sync.h) */
    int resume, dry_run, no_monitor, no_counters;
};

struct tlb_option {
    const char *name;              /* long option, sweep-file key and profile key */
    char short_opt;                /* 't' for -t, or 0 */
    const char *alias;             /* another long name ("n-depth"), or NULL */
    char alias_short;              /* the alias's short form ('d'), or 0 */
    const char *old_key;           /* the profile key before profiles used these names */
    enum tlb_opt_type type;
    int in_args;                   /* 1: a field of struct tlb_sweep_args, 0: of the spec */
    size_t off, count_off;         /* the field, and a list's count */
    double min, max;               /* numbers, and the items of integer lists */
    const char *def, *def_bench;   /* default, parsed like any value (NULL: none); bench's
                                      when it differs */
    unsigned where;                /* TLB_IN_*, TLB_REQ_PROFILE and the rule bits */
    const char *arg, *arg_bench;   /* value name in --help ("LIST", "N"), NULL for a flag */
    const char *help, *help_bench; /* --help text, lines split by '\n'; "%s" takes fill() */
    const char *(*fill)(void);     /* what the help's "%s" shows (power kinds, file keys) */
    const char *sets, *sets_value; /* a flag that gives another setting a value */
    int (*check)(const char *what, const char *value); /* ARG values: 0, or -1 after an error */
};

extern const struct tlb_option tlb_options[];
extern const int tlb_n_options;

/* ---- specs ---- */

/* The built-in defaults of a command (llama-bench-like, sized for a 2-core machine; bench:
 * q4_0, kernel auto, every CPU). No setting counts as set. */
void tlb_spec_defaults(struct tlb_sweep_spec *s, enum tlb_cmd_mode mode);
void tlb_spec_free(struct tlb_sweep_spec *s);
/* Copy every setting src set into dst (lists replaced, strings duplicated). 0 or -1. */
int tlb_spec_merge(struct tlb_sweep_spec *dst, const struct tlb_sweep_spec *src);
/* Did this layer set the setting named key? */
int tlb_spec_is_set(const struct tlb_sweep_spec *s, const char *key);

/* Set one spec setting from text, as a command line or sweep file gives it. key is its name
 * ("threads", "quant", "n-prompt", ...); where names the source for errors ("-t",
 * "file.conf:3: threads"). Returns 0, or -1 after one error line "<where>: <problem>".
 * Setting a value twice in one layer replaces it. */
int tlb_spec_set(struct tlb_sweep_spec *s, const char *key, const char *value,
                 const char *where);
/* The same for a given source; n_cpus: this machine's CPUs for 'max' and the profile rule
 * (0: the online CPUs). */
int tlb_spec_set_from(struct tlb_sweep_spec *s, const char *key, const char *value,
                      const char *where, enum tlb_opt_source src, int n_cpus);

/* Read a sweep file (kv.h) into s: keys are the settings allowed in files; unknown keys,
 * repeated keys and bad values are errors naming file and line. 0 or -1. */
int tlb_spec_load_file(struct tlb_sweep_spec *s, const char *path);
/* The sweep settings of a platform profile into s: keys are the settings allowed in
 * profiles (the profile keys of before, like n_prompt or reps, are still read, with a note
 * naming file, line, old and new key when notes is 1); the required ones must be there;
 * the profile's throttle temperature becomes max-temp. 0 or -1 (error printed). */
int tlb_spec_from_profile(struct tlb_sweep_spec *s, const struct tlb_profile *p, int n_cpus,
                          int notes);
/* The keys a sweep file takes, space-separated (for --help and errors). */
const char *tlb_spec_keys(void);

/* Integer list "1,2,4", ranges "1-8" (step 1), "1-8+2" (step), "1-8*2" (factor), values in
 * [min, max], no duplicates. Returns the count, or -1 after an error naming what. */
int tlb_parse_int_list(const char *what, const char *s, long min, long max, int *out,
                       int cap);

/* ---- the command line ---- */

/* Parse argv of sweep or bench (getopt_long over the table) into the command-line layer
 * cli and args (zeroed first). Returns 0, 1 when --help was asked for (nothing printed),
 * or -1 after one error line (unknown option, missing or bad value, an option the command
 * does not take, a list where bench takes one value). */
int tlb_options_parse(int argc, char **argv, enum tlb_cmd_mode mode, struct tlb_sweep_spec *cli,
                      struct tlb_sweep_args *args);
/* The option lines of a command's --help: every entry it takes on the command line. */
void tlb_options_help(FILE *out, enum tlb_cmd_mode mode);

#endif
