/* worker.c — the worker process of one request (see worker.h): runs a configuration, its
 * accuracy pass or the accuracy reference, sends the row and exits; fault injection for
 * tests; and the classification of every way a worker can end. */
#include "worker.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accuracy.h"
#include "gguf.h"
#include "loaders.h"
#include "messages.h"
#include "options.h"
#include "runner.h"
#include "sysfs.h"
#include "util.h"

#define BIG_MODEL_PARAMS 100000000ull

const char *tlb_signal_name(int sig) {
    static const struct { int sig; const char *name; } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGILL, "SIGILL"}, {SIGFPE, "SIGFPE"},
        {SIGABRT, "SIGABRT"}, {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
        {SIGHUP, "SIGHUP"},   {SIGPIPE, "SIGPIPE"}, {SIGQUIT, "SIGQUIT"}, {SIGTRAP, "SIGTRAP"},
        {SIGSYS, "SIGSYS"},   {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGALRM, "SIGALRM"},
        {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},
    };
    for (size_t i = 0; i < TLB_ARRAY_LEN(names); i++)
        if (names[i].sig == sig) return names[i].name;
    static char buf[32];
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}

long long tlb_oom_kill_count(void) {
    long long total = 0;
    char *s = tlb_sysfs_slurp("", "/proc/vmstat", 1 << 20, NULL);
    if (s) {
        char *p = strstr(s, "\noom_kill ");
        if (p) total += strtoll(p + 10, NULL, 10);
        free(s);
    }
    /* cgroup v2: an OOM kill inside our memory cgroup (memory.max) */
    char *cg = tlb_sysfs_slurp("", "/proc/self/cgroup", 1 << 16, NULL);
    if (cg) {
        char *p = strstr(cg, "0::");
        if (p) {
            char path[TLB_PATH_MAX], *nl = strchr(p, '\n');
            if (nl) *nl = '\0';
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.events", p + 3);
            char *ev = tlb_sysfs_slurp("", path, 1 << 16, NULL);
            if (ev) {
                char *q = strstr(ev, "oom_kill ");
                if (q) total += strtoll(q + 9, NULL, 10);
                free(ev);
            }
        }
        free(cg);
    }
    return total;
}

/* Append src to the NUL-terminated dst of size n, cutting what does not fit. */
static void append_cut(char *dst, size_t n, const char *src) {
    size_t have = strlen(dst), l = strlen(src);
    if (have + 1 >= n) return;
    if (l > n - 1 - have) l = n - 1 - have;
    memcpy(dst + have, src, l);
    dst[have + l] = '\0';
}

/* The last non-empty line written to fd (a worker's stderr), without "tlbench: ". */
void tlb_last_line(int fd, char *out, size_t n) {
    out[0] = '\0';
    off_t end = lseek(fd, 0, SEEK_END);
    if (end <= 0) return;
    char buf[2048];
    off_t start = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t r = pread(fd, buf, (size_t)(end - start), start);
    if (r <= 0) return;
    buf[r] = '\0';
    char *e = buf + r;
    while (e > buf && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ')) *--e = '\0';
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    if (!strncmp(line, "tlbench: ", 9)) line += 9;
    append_cut(out, n, line);
}

/* ---------------------------------------------------------------- fault injection */

static void maybe_fault(int plan_pos) {
    const char *f = getenv("TLBENCH_FAULT");
    if (!f || !*f) return;
    char kind[16];
    const char *at = strchr(f, '@');
    size_t kl = at ? (size_t)(at - f) : strlen(f);
    if (kl >= sizeof kind) return;
    memcpy(kind, f, kl);
    kind[kl] = '\0';
    if (at && atoi(at + 1) != plan_pos) return;
    if (!strcmp(kind, "crash")) {
        signal(SIGSEGV, SIG_DFL); /* past any sanitizer's handler: a real signal death */
        raise(SIGSEGV);
    } else if (!strcmp(kind, "hang")) {
        for (;;) pause();
    } else if (!strcmp(kind, "exit")) {
        _exit(7);
    } else if (!strcmp(kind, "oom")) {
        /* allocate and touch until the address-space limit stops us: a real ENOMEM, without
         * pushing the machine into its OOM killer */
        struct tlb_proc_mem pm;
        tlb_proc_mem_read(&pm);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)(pm.vm_size > 0 ? pm.vm_size : 0) + (256u << 20);
        setrlimit(RLIMIT_AS, &rl);
        size_t mib = 0;
        for (;;) {
            void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
            if (p == MAP_FAILED) break;
            memset(p, 1, 1 << 20);
            mib++;
        }
        tlb_error("out of memory after %zu MiB (TLBENCH_FAULT=oom under RLIMIT_AS)", mib);
        _exit(TLB_WORKER_EXIT_OOM);
    }
}

static void set_cell_d(struct tlb_row *r, const char *col, double v) {
    if (isfinite(v)) tlb_row_set_double(r, col, v);
}

/* tlbench ab's turns, through the driver's callbacks (sweep-run.h), for configuration item. */
struct turns {
    const struct tlb_sweep_env *env;
    int item;
};

static int turn(void *ctx, int rep) {
    const struct turns *t = ctx;
    return t->env->rep_turn(t->env->cb, t->item, rep);
}

static void turn_done(void *ctx, int rep, double pp_ts, double tg_ts) {
    const struct turns *t = ctx;
    if (t->env->rep_done) t->env->rep_done(t->env->cb, t->item, rep, pp_ts, tg_ts);
}

/* The worker process body: one request, one message, exit. */
_Noreturn void tlb_worker_main(const struct tlb_sweep_env *env, const struct tlb_model *m,
                               int ref_fd, uint32_t type, uint32_t index, const void *kv_fill,
                               int out_fd) {
    const struct tlb_sweep_spec *s = env->spec;
    struct tlb_row *row = tlb_row_new();
    char detail[1024] = "";
    enum tlb_status st = TLB_STATUS_ERROR;
    if (!row) _exit(TLB_WORKER_EXIT_OOM);
    if (type == TLB_REQ_RUN) {
        const struct tlb_plan_item *it = &env->plan->items[index];
        maybe_fault((int)index + 1);
        struct tlb_run_opts ro = {
            .kernel = it->kernel, .n_threads = it->n_threads, .n_depth = it->n_depth,
            .kv_type = it->kv_type, .n_prompt = it->n_prompt, .n_gen = it->n_gen,
            .reps = it->reps, .warmup = it->warmup, .seed = s->seed, .monitor = env->monitor,
            .root = env->root, .power_source = env->power_source,
            .power_prefer = env->power_prefer, .power_cmd = s->power_cmd,
            .power_rails = env->power_rails, .thermal_zones = env->thermal_zones,
            .counters = env->counters, .idle_w = env->idle_w, .kv_fill = kv_fill};
        struct turns tt = {env, (int)index};
        if (env->rep_turn) {
            ro.turn = turn;
            ro.turn_done = turn_done;
            ro.turn_ctx = &tt;
        }
        st = tlb_runner_run(m, &ro, row, detail, sizeof detail);
    } else if (type == TLB_REQ_ACC) {
        const struct tlb_plan_item *it = &env->plan->items[index];
        struct tlb_acc_stats a;
        if (tlb_acc_compare(m, it->kernel, tlb_spec_max_threads(s), ref_fd, &a, NULL) == 0) {
            st = TLB_STATUS_OK;
            set_cell_d(row, "kld_mean", a.kld_mean);
            set_cell_d(row, "kld_p99", a.kld_p99);
            set_cell_d(row, "top1_agree", a.top1);
            set_cell_d(row, "max_logit_err", a.max_logit_err);
            if (a.ppl_tokens && strcmp(m->format, "synthetic") != 0) {
                set_cell_d(row, "ppl", a.ppl);
                tlb_row_set_int(row, "ppl_tokens", (int64_t)a.ppl_tokens);
            }
        } else {
            snprintf(detail, sizeof detail, "accuracy pass failed");
        }
    } else if (type == TLB_REQ_GGUF) {
        /* the GGUF llama-bench runs: this model as loaded for the item's weight type, with
         * its own vocabulary when it has one (what `tlbench convert` writes) */
        const struct tlb_plan_item *it = &env->plan->items[index];
        const char *path = env->plan->gguf[it->model][it->wtype];
        struct tlb_tokenizer *tok = NULL;
        if (!path) {
            snprintf(detail, sizeof detail, "no GGUF path planned for this configuration");
        } else if (tlb_model_tokenizer(m, &tok) < 0 || tlb_gguf_write_model(path, m, tok) != 0) {
            snprintf(detail, sizeof detail, "writing %s failed", path);
        } else {
            st = TLB_STATUS_OK;
        }
        tlb_tokenizer_free(tok);
    } else { /* TLB_REQ_REF */
        const char *kname = s->acc_ref ? s->acc_ref : "naive";
        /* the naive kernel would take minutes on a big model: unless a reference kernel
         * was asked for explicitly, use the fastest f32 kernel (tested against naive) */
        int explicit_ref = tlb_spec_is_set(s, "acc-ref");
        if (!explicit_ref && tlb_model_n_params(m) > BIG_MODEL_PARAMS) kname = "auto";
        char why[256];
        const struct tlb_kernel *k =
            tlb_kernel_select(kname, TLB_TYPE_BIT(TLB_TYPE_F32), why, sizeof why);
        struct tlb_acc_source src = {.text_path = s->eval_text, .tokenizer_path = s->tokenizer,
                                     .model_path = m->path[0] ? m->path : NULL,
                                     .window = env->acc_window < m->cfg.seq_len
                                                   ? env->acc_window
                                                   : m->cfg.seq_len,
                                     .chunks = env->acc_chunks,
                                     .seed = s->seed, .n_threads = tlb_spec_max_threads(s)};
        struct tlb_acc_ref_info info;
        if (!k) {
            snprintf(detail, sizeof detail, "reference kernel %s: %s", kname, why);
        } else if (tlb_acc_reference(m, k, &src, ref_fd, &info) == 0) {
            st = TLB_STATUS_OK;
            char ref[64];
            snprintf(ref, sizeof ref, "f32/%s", k->name);
            tlb_row_set_str(row, "acc_ref", ref);
            if (info.from_text)
                snprintf(detail, sizeof detail,
                         "%d window%s of %d tokens from %s (tokenized with BOS)",
                         info.n_windows, info.n_windows == 1 ? "" : "s", info.window,
                         s->eval_text);
            else
                snprintf(detail, sizeof detail,
                         "%d positions: BOS + %d seeded tokens, then the reference's greedy "
                         "continuation",
                         info.window, info.window / 2 - 1);
        } else {
            snprintf(detail, sizeof detail, "reference pass failed");
        }
    }
    if (tlb_msg_send(out_fd, TLB_MSG_RESULT, index, (int32_t)st, detail, row) != 0) _exit(1);
    _exit(0);
}

enum tlb_status tlb_worker_classify(int timed_out, double timeout_s, int wstatus, int msg_ok,
                                    enum tlb_status msg_status, const char *msg_detail,
                                    long long oom_delta, const char *err_tail, char *detail,
                                    size_t n) {
    detail[0] = '\0';
    const char *sep = *err_tail ? ": " : "";
    if (timed_out) {
        snprintf(detail, n, "no result after %g s: killed", timeout_s);
        return TLB_STATUS_TIMEOUT;
    }
    if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        if (sig == SIGKILL && oom_delta > 0) {
            snprintf(detail, n, "killed by the kernel OOM killer (oom_kill +%lld)", oom_delta);
            return TLB_STATUS_OOM;
        }
        snprintf(detail, n, "killed by %s (%s)%s%s", tlb_signal_name(sig), strsignal(sig), sep,
                 err_tail);
        return TLB_STATUS_CRASHED;
    }
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    if (msg_ok && code == 0) {
        enum tlb_status st = msg_status;
        const char *d = msg_detail ? msg_detail : "";
        if (st == TLB_STATUS_ERROR && strstr(err_tail, "out of memory")) st = TLB_STATUS_OOM;
        if ((st == TLB_STATUS_ERROR || st == TLB_STATUS_OOM) && *err_tail &&
            !strstr(d, err_tail)) {
            append_cut(detail, n, d);
            append_cut(detail, n, *d ? ": " : "");
            append_cut(detail, n, err_tail);
        } else {
            append_cut(detail, n, d);
        }
        return st;
    }
    if (code == TLB_WORKER_EXIT_OOM) {
        snprintf(detail, n, "allocation failed%s%s", sep, err_tail);
        return TLB_STATUS_OOM;
    }
    snprintf(detail, n, "worker exited with status %d without a result%s%s", code, sep,
             err_tail);
    return TLB_STATUS_ERROR;
}

