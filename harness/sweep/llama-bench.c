/* llama-bench.c — finding and probing llama-bench, the GGUF file each configuration runs,
 * and its command line (see llama-bench.h). The run itself is llama-run.c. */
#include "llama-bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "runcmd.h"
#include "sha256.h"
#include "util.h"

#define PROBE_TIMEOUT_MS 20000
#define HELP_MAX 65536

/* ---------------------------------------------------------------- finding and probing */

static int executable_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* "name" on $PATH into out. 0, or -1 when not there. */
static int on_path(const char *name, char *out, size_t n) {
    const char *path = getenv("PATH");
    if (!path || !*path) return -1;
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char cand[TLB_PATH_MAX];
        int w = snprintf(cand, sizeof cand, "%.*s/%s", (int)len, len ? p : ".", name);
        if (w > 0 && (size_t)w < sizeof cand && (size_t)w < n && executable_file(cand)) {
            snprintf(out, n, "%s", cand);
            return 0;
        }
        if (!colon) return -1;
        p = colon + 1;
    }
}

/* Run `path ARGS --help` (args already shell-quoted). 0 when it exited 0. */
static int run_help(const char *path, const char *args, char *out, size_t out_n, char *why,
                    size_t wn) {
    char cmd[TLB_PATH_MAX * 2 + 64] = "";
    if (tlb_shell_quote_append(cmd, sizeof cmd, path) != 0) {
        snprintf(why, wn, "path too long");
        return -1;
    }
    size_t l = strlen(cmd);
    snprintf(cmd + l, sizeof cmd - l, "%s%s --help", *args ? " " : "", args);
    return tlb_run_capture(cmd, PROBE_TIMEOUT_MS, out, out_n, why, wn);
}

void tlb_llama_bench_probe(const char *given, const char *from, struct tlb_llama_bench *lb) {
    memset(lb, 0, sizeof *lb);
    const char *env = getenv("TLBENCH_LLAMA_BENCH");
    const char *name = given;
    if (given) {
        snprintf(lb->from, sizeof lb->from, "%s", from ? from : "--llama-bench");
    } else if (env && *env) {
        name = env;
        snprintf(lb->from, sizeof lb->from, "TLBENCH_LLAMA_BENCH");
    } else {
        name = "llama-bench";
        snprintf(lb->from, sizeof lb->from, "PATH");
    }
    if (strlen(name) >= sizeof lb->path) {
        snprintf(lb->why, sizeof lb->why, "%.150s: the llama-bench path is too long", lb->from);
        return;
    }
    if (!strchr(name, '/')) {
        if (on_path(name, lb->path, sizeof lb->path) != 0) {
            if (given || (env && *env))
                snprintf(lb->why, sizeof lb->why, "%.150s: no '%.300s' on PATH", lb->from, name);
            else
                snprintf(lb->why, sizeof lb->why,
                         "no llama-bench: give --llama-bench PATH, set llama_bench in the "
                         "platform profile or TLBENCH_LLAMA_BENCH, or put llama-bench on PATH");
            return;
        }
    } else {
        snprintf(lb->path, sizeof lb->path, "%s", name);
    }
    if (!executable_file(lb->path)) {
        snprintf(lb->why, sizeof lb->why, "%.150s: %.500s is not an executable file", lb->from,
                 lb->path);
        return;
    }
    char *help = tlb_malloc(HELP_MAX, "llama-bench --help");
    char why[512];
    if (!help) {
        snprintf(lb->why, sizeof lb->why, "out of memory");
        return;
    }
    if (run_help(lb->path, "", help, HELP_MAX, why, sizeof why) != 0) {
        snprintf(lb->why, sizeof lb->why, "%.300s --help failed: %.300s", lb->path, why);
        free(help);
        return;
    }
    /* the options tlbench passes must all be there */
    static const char *const needed[] = {"-m, --model", "-p, --n-prompt", "-n, --n-gen",
                                         "-t, --threads", "-r, --repetitions",
                                         "-ctk, --cache-type-k", "jsonl"};
    for (size_t i = 0; i < TLB_ARRAY_LEN(needed); i++) {
        if (!strstr(help, needed[i])) {
            snprintf(lb->why, sizeof lb->why,
                     "%.400s does not answer --help like llama-bench (no '%s')", lb->path,
                     needed[i]);
            free(help);
            return;
        }
    }
    lb->has_depth = strstr(help, "--n-depth") != NULL;
    lb->has_progress = strstr(help, "--progress") != NULL;
    lb->has_no_warmup = strstr(help, "--no-warmup") != NULL;
    /* KV cache types: `-ctk T -ctv T --help` exits 0 only when T parses */
    static const enum tlb_type kv[] = {TLB_TYPE_F32, TLB_TYPE_F16};
    for (size_t i = 0; i < TLB_ARRAY_LEN(kv); i++) {
        char args[64];
        const char *t = tlb_type_traits(kv[i])->name;
        snprintf(args, sizeof args, "-ctk %s -ctv %s", t, t);
        if (run_help(lb->path, args, help, HELP_MAX, why, sizeof why) == 0)
            lb->kv_types |= TLB_TYPE_BIT(kv[i]);
    }
    free(help);
    lb->found = 1;
}

/* ---------------------------------------------------------------- GGUF files */

int tlb_llama_gguf_dir(const char *dir, char *out, size_t n, char *why, size_t wn) {
    const char *env = getenv("TLBENCH_GGUF_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    int w;
    if (dir) w = snprintf(out, n, "%s", dir);
    else if (env && *env) w = snprintf(out, n, "%s", env);
    else if (xdg && *xdg == '/') w = snprintf(out, n, "%s/tlbench/gguf", xdg);
    else if (home && *home == '/') w = snprintf(out, n, "%s/.cache/tlbench/gguf", home);
    else {
        snprintf(why, wn, "no HOME: give --gguf-dir DIR");
        return -1;
    }
    if (w < 0 || (size_t)w >= n) {
        snprintf(why, wn, "the GGUF directory path is too long");
        return -1;
    }
    return 0;
}

/* The weight type of a GGUF's matrices (blk.0.attn_q.weight); *ggml_name names a type
 * tlbench does not know. 0, or -1 with why. */
static int gguf_main_type(const char *path, enum tlb_type *t, const char **ggml_name,
                          char *why, size_t wn) {
    struct tlb_gguf *g = NULL;
    *ggml_name = NULL;
    if (tlb_gguf_open(&g, path) != 0) {
        snprintf(why, wn, "%.400s: not a readable GGUF (see the error above)", path);
        return -1;
    }
    const struct tlb_gguf_tensor *q = tlb_gguf_find_tensor(g, "blk.0.attn_q.weight");
    int rc = 0;
    if (!q) {
        snprintf(why, wn, "%.400s: no tensor blk.0.attn_q.weight (not a Llama GGUF)", path);
        rc = -1;
    } else if (tlb_type_from_ggml(q->ggml_type, t) != 0) {
        *ggml_name = tlb_ggml_type_name(q->ggml_type);
        if (!*ggml_name) *ggml_name = "unknown";
    }
    tlb_gguf_free(g);
    return rc;
}

int tlb_llama_gguf_ok(const char *path, enum tlb_type wtype, char *why, size_t wn) {
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(why, wn, "%.400s: %s", path, strerror(errno ? errno : ENOENT));
        return 0;
    }
    enum tlb_type t;
    const char *other;
    if (gguf_main_type(path, &t, &other, why, wn) != 0) return 0;
    if (other || t != wtype) {
        snprintf(why, wn, "%.400s holds %s matrices, not %s", path,
                 other ? other : tlb_type_traits(t)->name, tlb_type_traits(wtype)->name);
        return 0;
    }
    return 1;
}

static int is_float_type(enum tlb_type t) {
    return t == TLB_TYPE_F32 || t == TLB_TYPE_F16 || t == TLB_TYPE_BF16;
}

int tlb_llama_gguf_for(const char *spec, enum tlb_type wtype, uint64_t seed,
                       const char *gguf_dir, char **path, int *convert, char *why,
                       size_t wn) {
    *path = NULL;
    *convert = 0;
    const char *wname = tlb_type_traits(wtype)->name;
    char name[128], id[32];
    struct stat sb;
    if (!strncmp(spec, "synthetic:", 10)) {
        snprintf(name, sizeof name, "%s", spec + 10);
        snprintf(id, sizeof id, "seed%llu", (unsigned long long)seed);
    } else {
        if (stat(spec, &sb) != 0) {
            snprintf(why, wn, "%.400s: %s", spec, strerror(errno));
            return -1;
        }
        unsigned char magic[4];
        if (S_ISREG(sb.st_mode) && tlb_read_magic(spec, magic, 4) == 4 &&
            !memcmp(magic, "GGUF", 4)) {
            enum tlb_type t;
            const char *other;
            if (gguf_main_type(spec, &t, &other, why, wn) != 0) return -1;
            if (!other && t == wtype) {
                if (!(*path = strdup(spec))) {
                    snprintf(why, wn, "out of memory");
                    return -1;
                }
                return 0;
            }
            /* tlbench converts from f32/f16/bf16 and dequantizes to f32, never requantizes */
            if (other || (!is_float_type(t) && wtype != TLB_TYPE_F32)) {
                snprintf(why, wn,
                         "llama-bench runs GGUF files as they are, and %.300s holds %s "
                         "matrices: converting them to %s would requantize (tlbench does not; "
                         "give an f32 or f16 GGUF)", spec, other ? other : tlb_type_traits(t)->name,
                         wname);
                return 1;
            }
        }
        /* a converted file is known by the source's path, size and time */
        char real[TLB_PATH_MAX], key[TLB_PATH_MAX + 64], hex[65];
        if (!realpath(spec, real)) snprintf(real, sizeof real, "%s", spec);
        snprintf(key, sizeof key, "%s|%lld|%lld.%09ld", real, (long long)sb.st_size,
                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
        tlb_sha256_hex(key, strlen(key), hex);
        snprintf(id, sizeof id, "%.12s", hex);
        const char *base = strrchr(real, '/');
        snprintf(name, sizeof name, "%.100s", base && base[1] ? base + 1 : real);
        char *dot = strrchr(name, '.');
        if (dot && dot != name) *dot = '\0';
    }
    for (char *c = name; *c; c++) /* a file name, whatever the model is called */
        if (!(*c == '-' || *c == '.' || *c == '_' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            *c = '_';
    size_t n = strlen(gguf_dir) + strlen(name) + strlen(id) + strlen(wname) + 16;
    if (!(*path = malloc(n))) {
        snprintf(why, wn, "out of memory");
        return -1;
    }
    snprintf(*path, n, "%s/%s-%s-%s.gguf", gguf_dir, name, id, wname);
    *convert = 1;
    return 0;
}

void tlb_llama_model_ident(const char *spec, char *name, size_t nn, char *format, size_t fn) {
    format[0] = '\0';
    if (!strncmp(spec, "synthetic:", 10)) {
        snprintf(name, nn, "%s", spec + 10);
        snprintf(format, fn, "synthetic");
        return;
    }
    const char *base = strrchr(spec, '/');
    snprintf(name, nn, "%s", base && base[1] ? base + 1 : spec);
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    unsigned char magic[4];
    struct tlb_gguf *g = NULL;
    if (tlb_read_magic(spec, magic, 4) != 4 || memcmp(magic, "GGUF", 4) != 0 ||
        tlb_gguf_open(&g, spec) != 0)
        return;
    snprintf(format, fn, "gguf");
    struct tlb_gguf_str gname;
    if (tlb_gguf_get_str(g, "general.name", &gname) == 0 && gname.n > 0 &&
        !memchr(gname.p, '\0', (size_t)gname.n)) {
        /* as the loader names it (gguf-model.c), without the synthetic: prefix */
        snprintf(name, nn, "%.*s", (int)(gname.n < nn ? gname.n : nn - 1), gname.p);
        if (!strncmp(name, "synthetic:", 10)) memmove(name, name + 10, strlen(name + 10) + 1);
    }
    tlb_gguf_free(g);
}

int tlb_llama_gguf_prepare(const char *path, char *why, size_t wn) {
    char dir[TLB_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        snprintf(why, wn, "path too long");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        struct stat sb;
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            snprintf(why, wn, "cannot create %.400s: %s", dir, strerror(errno));
            return -1;
        }
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(why, wn, "%.400s is not a directory", dir);
            return -1;
        }
        *p = c;
        if (!c) return 0;
    }
}

/* ---------------------------------------------------------------- command line */

int tlb_llama_bench_argv(const struct tlb_llama_bench *lb, const struct tlb_plan_item *it,
                         const char *gguf, char **argv, int max_argv, char *buf, size_t n) {
    const char *kv = tlb_type_traits(it->kv_type)->name;
    char num[5][24];
    snprintf(num[0], sizeof num[0], "%d", it->n_prompt);
    snprintf(num[1], sizeof num[1], "%d", it->n_gen);
    snprintf(num[2], sizeof num[2], "%d", it->reps);
    snprintf(num[3], sizeof num[3], "%d", it->n_threads);
    snprintf(num[4], sizeof num[4], "%d", it->n_depth);
    const char *args[24];
    int na = 0;
    args[na++] = lb->path;
    args[na++] = "-m", args[na++] = gguf;
    args[na++] = "-p", args[na++] = num[0];
    args[na++] = "-n", args[na++] = num[1];
    args[na++] = "-r", args[na++] = num[2];
    args[na++] = "-t", args[na++] = num[3];
    args[na++] = "-ctk", args[na++] = kv;
    args[na++] = "-ctv", args[na++] = kv;
    args[na++] = "-o", args[na++] = "jsonl";
    if (lb->has_progress) args[na++] = "--progress";
    if (it->n_depth > 0) args[na++] = "-d", args[na++] = num[4];
    if (it->warmup == 0) args[na++] = "--no-warmup";
    if (na + 1 > max_argv) return -1;
    size_t off = 0;
    for (int i = 0; i < na; i++) {
        size_t l = strlen(args[i]) + 1;
        if (off + l > n) return -1;
        memcpy(buf + off, args[i], l);
        argv[i] = buf + off;
        off += l;
    }
    argv[na] = NULL;
    return na;
}
