/* worker.c — the sweep's processes (see worker.h): the driver loop in the tlbench process,
 * one model process per (model, weight type) that loads once and forks one worker per
 * configuration, the length-prefixed messages they exchange (rows travel as name/value
 * cells, so nothing is truncated), the timeout, and the classification of every way a
 * worker can end. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accuracy.h"
#include "memory-model.h"
#include "model.h"
#include "runner.h"
#include "sha256.h"
#include "sysfs.h"
#include "util.h"

volatile sig_atomic_t tlb_sweep_interrupted;

enum { REQ_RUN = 1, REQ_ACC, REQ_REF };
enum { MSG_LOADED = 1, MSG_RESULT };
#define MSG_MAX ((size_t)64 << 20)
#define MSG_MAGIC 0x544C424Du /* "TLBM" */
#define GRACE_S 60.0          /* the driver waits this much beyond the worker timeout */
#define BIG_MODEL_PARAMS 100000000ull

/* ---------------------------------------------------------------- signals */

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

/* ---------------------------------------------------------------- I/O helpers */

/* Read exactly n bytes. deadline: tlb_now_ns() value, 0 = none. Returns 0, -1 on EOF or
 * error, -2 on timeout, -3 when interrupted (tlb_sweep_interrupted, if interruptible). */
static int read_exact(int fd, void *p, size_t n, int64_t deadline, int interruptible) {
    char *c = p;
    while (n) {
        if (interruptible && tlb_sweep_interrupted) return -3;
        int wait_ms = 200;
        if (deadline) {
            int64_t left = (deadline - tlb_now_ns()) / 1000000;
            if (left <= 0) return -2;
            if (left < wait_ms) wait_ms = (int)left;
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int pr = poll(&pf, 1, interruptible || deadline ? wait_ms : -1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) return -1;
        if (pr == 0) continue;
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---------------------------------------------------------------- messages */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static int buf_add(struct buf *b, const void *d, size_t n) {
    if (b->len + n > MSG_MAX) return -1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int buf_u32(struct buf *b, uint32_t v) { return buf_add(b, &v, sizeof v); }

static int buf_str(struct buf *b, const char *s) {
    size_t n = strlen(s);
    return buf_u32(b, (uint32_t)n) || buf_add(b, s, n);
}

struct msg {
    uint32_t type, index;
    int32_t status;
    char detail[1024];
    struct tlb_row *row; /* cells that were set (owned) */
};

/* Frame: u32 length, then magic, type, index, status, detail, n_cells, (name, value)... */
static int msg_send(int fd, uint32_t type, uint32_t index, int32_t status, const char *detail,
                    const struct tlb_row *row) {
    struct buf b = {0};
    uint32_t n_cells = 0;
    int rc = -1;
    if (buf_u32(&b, 0) || buf_u32(&b, MSG_MAGIC) || buf_u32(&b, type) || buf_u32(&b, index) ||
        buf_add(&b, &status, sizeof status) || buf_str(&b, detail ? detail : ""))
        goto out;
    size_t count_at = b.len;
    if (buf_u32(&b, 0)) goto out;
    for (int i = 0; row && i < tlb_n_columns; i++) {
        const char *v = tlb_row_get(row, tlb_columns[i].name);
        if (!v || !*v || i == 0) continue; /* schema_version is implicit */
        if (buf_str(&b, tlb_columns[i].name) || buf_str(&b, v)) goto out;
        n_cells++;
    }
    memcpy(b.p + count_at, &n_cells, sizeof n_cells);
    uint32_t len = (uint32_t)(b.len - 4);
    memcpy(b.p, &len, sizeof len);
    rc = tlb_write_full(fd, b.p, b.len);
out:
    free(b.p);
    return rc;
}

static void msg_free(struct msg *m) {
    tlb_row_free(m->row);
    m->row = NULL;
}

/* Decode a frame body (after the length). 0 or -1 (malformed). */
static int msg_decode(const unsigned char *p, size_t n, struct msg *m) {
    size_t off = 0;
    uint32_t magic, dl, nc;
#define TAKE(dst, sz)                         \
    do {                                      \
        if (n - off < (sz)) return -1;        \
        memcpy((dst), p + off, (sz));         \
        off += (sz);                          \
    } while (0)
    TAKE(&magic, 4);
    if (magic != MSG_MAGIC) return -1;
    TAKE(&m->type, 4);
    TAKE(&m->index, 4);
    TAKE(&m->status, 4);
    TAKE(&dl, 4);
    if (n - off < dl) return -1;
    snprintf(m->detail, sizeof m->detail, "%.*s", (int)(dl < sizeof m->detail ? dl : sizeof m->detail - 1),
             (const char *)p + off);
    off += dl;
    TAKE(&nc, 4);
    if (!(m->row = tlb_row_new())) return -1;
    for (uint32_t i = 0; i < nc; i++) {
        uint32_t kl, vl;
        TAKE(&kl, 4);
        if (kl == 0 || kl > 128 || n - off < kl) return -1;
        char key[129];
        memcpy(key, p + off, kl);
        key[kl] = '\0';
        off += kl;
        TAKE(&vl, 4);
        if (n - off < vl) return -1;
        char *v = malloc((size_t)vl + 1);
        if (!v) return -1;
        memcpy(v, p + off, vl);
        v[vl] = '\0';
        off += vl;
        int rc = tlb_row_set_str(m->row, key, v);
        free(v);
        if (rc) return -1;
    }
#undef TAKE
    if (m->status < 0 || m->status >= TLB_STATUS_COUNT) return -1;
    return off == n ? 0 : -1;
}

/* Receive one message. Returns 0, -1 EOF/malformed, -2 timeout, -3 interrupted. */
static int msg_recv(int fd, struct msg *m, int64_t deadline, int interruptible) {
    memset(m, 0, sizeof *m);
    uint32_t len;
    int rc = read_exact(fd, &len, sizeof len, deadline, interruptible);
    if (rc) return rc;
    if (len > MSG_MAX || len < 24) return -1;
    unsigned char *p = malloc(len);
    if (!p) return -1;
    rc = read_exact(fd, p, len, deadline, interruptible);
    if (rc == 0 && msg_decode(p, len, m) != 0) {
        msg_free(m);
        rc = -1;
    }
    free(p);
    return rc;
}

/* Copy every set cell of src into dst (src may be NULL). */
static void row_merge(struct tlb_row *dst, const struct tlb_row *src) {
    if (!src) return;
    for (int i = 1; i < tlb_n_columns; i++) {
        const char *v = tlb_row_get(src, tlb_columns[i].name);
        if (v && *v) tlb_row_set_str(dst, tlb_columns[i].name, v);
    }
}

/* ---------------------------------------------------------------- small facts */

static long long oom_kill_count(void) {
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
static void last_line(int fd, char *out, size_t n) {
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

static int anon_tmpfile(void) { return tlb_acc_tmpfile(); }

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

/* ---------------------------------------------------------------- the model process */

struct server {
    struct tlb_sweep_env *env;
    const struct tlb_model *m;
    int model_index;
    enum tlb_type wtype;
    int req_fd, resp_fd, ref_fd;
};

static int max_threads(const struct tlb_sweep_spec *s) {
    int t = 1;
    for (int i = 0; i < s->n_threads; i++)
        if (s->threads[i] > t) t = s->threads[i];
    return t;
}

static void set_cell_d(struct tlb_row *r, const char *col, double v) {
    if (isfinite(v)) tlb_row_set_double(r, col, v);
}

/* The worker process body: one request, one message, exit. */
static void worker_main(struct server *sv, uint32_t type, uint32_t index, int out_fd) {
    struct tlb_sweep_env *env = sv->env;
    const struct tlb_sweep_spec *s = env->spec;
    struct tlb_row *row = tlb_row_new();
    char detail[1024] = "";
    enum tlb_status st = TLB_STATUS_ERROR;
    if (!row) _exit(TLB_WORKER_EXIT_OOM);
    if (type == REQ_RUN) {
        const struct tlb_plan_item *it = &env->plan->items[index];
        maybe_fault((int)index + 1);
        struct tlb_run_opts ro = {
            .kernel = it->kernel, .n_threads = it->n_threads, .n_depth = it->n_depth,
            .kv_type = it->kv_type, .n_prompt = it->n_prompt, .n_gen = it->n_gen,
            .reps = it->reps, .warmup = it->warmup, .seed = s->seed, .monitor = env->monitor,
            .root = env->root, .power_source = env->power_source,
            .power_prefer = env->power_prefer, .power_cmd = s->power_cmd,
            .power_rails = env->power_rails, .thermal_zones = env->thermal_zones,
            .counters = env->counters, .idle_w = env->idle_w};
        st = tlb_runner_run(sv->m, &ro, row, detail, sizeof detail);
    } else if (type == REQ_ACC) {
        const struct tlb_plan_item *it = &env->plan->items[index];
        struct tlb_acc_stats a;
        if (tlb_acc_compare(sv->m, it->kernel, max_threads(s), sv->ref_fd, &a, NULL) == 0) {
            st = TLB_STATUS_OK;
            set_cell_d(row, "kld_mean", a.kld_mean);
            set_cell_d(row, "kld_p99", a.kld_p99);
            set_cell_d(row, "top1_agree", a.top1);
            set_cell_d(row, "max_logit_err", a.max_logit_err);
            if (a.ppl_tokens && strcmp(sv->m->format, "synthetic") != 0) {
                set_cell_d(row, "ppl", a.ppl);
                tlb_row_set_int(row, "ppl_tokens", (int64_t)a.ppl_tokens);
            }
        } else {
            snprintf(detail, sizeof detail, "accuracy pass failed");
        }
    } else { /* REQ_REF */
        const char *kname = s->acc_ref ? s->acc_ref : "naive";
        /* the naive kernel would take minutes on a big model: unless a reference kernel
         * was asked for explicitly, use the fastest f32 kernel (tested against naive) */
        int explicit_ref = (s->set & (1u << TLB_SF_ACC_REF)) != 0;
        if (!explicit_ref && tlb_model_n_params(sv->m) > BIG_MODEL_PARAMS) kname = "auto";
        char why[256];
        const struct tlb_kernel *k =
            tlb_kernel_select(kname, TLB_TYPE_BIT(TLB_TYPE_F32), why, sizeof why);
        struct tlb_acc_source src = {.text_path = s->eval_text, .tokenizer_path = s->tokenizer,
                                     .model_path = sv->m->path[0] ? sv->m->path : NULL,
                                     .window = env->acc_window < sv->m->cfg.seq_len
                                                   ? env->acc_window
                                                   : sv->m->cfg.seq_len,
                                     .chunks = env->acc_chunks,
                                     .seed = s->seed, .n_threads = max_threads(s)};
        struct tlb_acc_ref_info info;
        if (!k) {
            snprintf(detail, sizeof detail, "reference kernel %s: %s", kname, why);
        } else if (tlb_acc_reference(sv->m, k, &src, sv->ref_fd, &info) == 0) {
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
    if (msg_send(out_fd, MSG_RESULT, index, (int32_t)st, detail, row) != 0) _exit(1);
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

/* KV and engine-buffer bytes of a configuration, computed from the shapes (memory-model.h). */
static void item_memory(const struct tlb_config *c, const struct tlb_plan_item *it,
                        long long *kv, long long *scratch) {
    int64_t ctx = (int64_t)it->n_depth + it->n_prompt + it->n_gen;
    int mb = tlb_runner_max_batch(it->n_prompt, it->n_depth);
    *kv = (long long)(tlb_mem_kv_per_token(c, it->kv_type) * (uint64_t)ctx);
    *scratch = (long long)tlb_mem_scratch(c, ctx, it->n_threads, mb);
}

/* The memory columns of a configuration that is not run (skipped-memory): weights as
 * given, KV and engine buffers computed. */
static struct tlb_row *memory_cells(const struct tlb_config *c, long long weights,
                                    const struct tlb_plan_item *it) {
    struct tlb_row *r = tlb_row_new();
    if (!r) return NULL;
    long long kv, sc;
    item_memory(c, it, &kv, &sc);
    if (weights >= 0) tlb_row_set_int(r, "weights_bytes", weights);
    tlb_row_set_int(r, "kv_bytes", kv);
    tlb_row_set_int(r, "scratch_bytes", sc);
    if (weights >= 0) tlb_row_set_int(r, "predicted_bytes", weights + kv + sc);
    return r;
}

/* Predicted extra memory of a request beyond the shared weights. */
static long long predict_extra(const struct server *sv, uint32_t type, uint32_t index) {
    const struct tlb_sweep_spec *s = sv->env->spec;
    const struct tlb_config *c = &sv->m->cfg;
    if (type == REQ_RUN) {
        const struct tlb_plan_item *it = &sv->env->plan->items[index];
        if ((int64_t)it->n_depth + it->n_prompt + it->n_gen > c->seq_len)
            return 0; /* the worker reports it unsupported */
        long long kv, sc;
        item_memory(c, it, &kv, &sc);
        return kv + sc + (long long)TLB_MEM_DEFAULT_OVERHEAD;
    }
    int w = sv->env->acc_window > 0 ? sv->env->acc_window : c->seq_len;
    if (w > c->seq_len) w = c->seq_len;
    return (long long)(2ull * (uint64_t)w * (uint64_t)c->vocab_size * sizeof(float) +
                       tlb_mem_kv_per_token(c, TLB_TYPE_F32) * (uint64_t)w +
                       tlb_mem_scratch(c, w, max_threads(s), w) + TLB_MEM_DEFAULT_OVERHEAD);
}

static void serve_one(struct server *sv, uint32_t type, uint32_t index) {
    const struct tlb_sweep_spec *s = sv->env->spec;
    char detail[1024];
    long long need = predict_extra(sv, type, index), avail = tlb_mem_available();
    long long margin = tlb_mem_margin();
    if (avail >= 0 && need > avail - margin) {
        char a[32], b[32], c[32];
        snprintf(detail, sizeof detail,
                 "predicted %s beyond the loaded weights, MemAvailable %s minus margin %s",
                 tlb_format_size((uint64_t)need, a, sizeof a),
                 tlb_format_size((uint64_t)avail, b, sizeof b),
                 tlb_format_size((uint64_t)margin, c, sizeof c));
        struct tlb_row *cells =
            type == REQ_RUN ? memory_cells(&sv->m->cfg, (long long)tlb_model_weight_bytes(sv->m),
                                           &sv->env->plan->items[index])
                            : NULL;
        msg_send(sv->resp_fd, MSG_RESULT, index, TLB_STATUS_SKIPPED_MEMORY, detail, cells);
        tlb_row_free(cells);
        return;
    }
    int pfd[2];
    int errfd = anon_tmpfile();
    if (errfd < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(detail, sizeof detail, "cannot create the worker's pipes: %s", strerror(errno));
        msg_send(sv->resp_fd, MSG_RESULT, index, TLB_STATUS_ERROR, detail, NULL);
        if (errfd >= 0) close(errfd);
        return;
    }
    long long oom0 = oom_kill_count();
    pid_t self = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(detail, sizeof detail, "fork failed: %s", strerror(errno));
        msg_send(sv->resp_fd, MSG_RESULT, index,
                 errno == ENOMEM ? TLB_STATUS_OOM : TLB_STATUS_ERROR, detail, NULL);
        close(pfd[0]);
        close(pfd[1]);
        close(errfd);
        return;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != self) _exit(1);
        close(pfd[0]);
        close(sv->req_fd);
        close(sv->resp_fd); /* so the driver sees EOF if the model process dies */
        dup2(errfd, 2);
        close(errfd);
        /* the OOM killer should pick the worker, not the process holding the weights */
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "500", 3) < 0) { /* best effort */ }
            close(fd);
        }
        worker_main(sv, type, index, pfd[1]);
        _exit(1);
    }
    close(pfd[1]);
    /* read the result until EOF (the worker exited) or the deadline */
    int64_t deadline = tlb_now_ns() + (int64_t)(s->timeout_s * 1e9);
    struct buf b = {0};
    int timed_out = 0, overflow = 0;
    for (;;) {
        unsigned char chunk[8192];
        int64_t left = (deadline - tlb_now_ns()) / 1000000;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
        int pr = poll(&pf, 1, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR) break;
        if (pr <= 0) continue;
        ssize_t r = read(pfd[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (!overflow && buf_add(&b, chunk, (size_t)r) != 0) overflow = 1;
    }
    if (timed_out) kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
    close(pfd[0]);
    long long oom_delta = oom_kill_count() - oom0;
    char tail[512];
    last_line(errfd, tail, sizeof tail);
    close(errfd);
    struct msg m;
    memset(&m, 0, sizeof m);
    int msg_ok = 0;
    if (!timed_out && !overflow && b.len >= 4) {
        uint32_t len;
        memcpy(&len, b.p, 4);
        if ((size_t)len + 4 == b.len && msg_decode(b.p + 4, len, &m) == 0) msg_ok = 1;
    }
    free(b.p);
    enum tlb_status st = tlb_worker_classify(timed_out, s->timeout_s, wstatus, msg_ok,
                                             (enum tlb_status)m.status, m.detail, oom_delta,
                                             tail, detail, sizeof detail);
    msg_send(sv->resp_fd, MSG_RESULT, index, (int32_t)st, detail, msg_ok ? m.row : NULL);
    msg_free(&m);
}

struct sweep_group_args {
    struct tlb_sweep_env *env;
    int model_index;
    enum tlb_type wtype;
    int req_fd, resp_fd, ref_fd;
    pid_t parent;
};

static void server_main(struct sweep_group_args *a) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != a->parent) _exit(1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    const struct tlb_sweep_spec *s = a->env->spec;
    /* load with stderr captured, so a load error becomes the rows' status detail */
    int errfd = anon_tmpfile(), saved = dup(2);
    if (errfd >= 0 && saved >= 0) dup2(errfd, 2);
    struct tlb_model *m = NULL;
    struct tlb_load_opts lo = {.spec = s->models[a->model_index], .convert = 1,
                               .wtype = a->wtype, .seed = s->seed,
                               .n_threads = max_threads(s)};
    int64_t t0 = tlb_now_ns();
    int rc = tlb_model_load(&m, &lo);
    double load_ms = (double)(tlb_now_ns() - t0) / 1e6;
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    char tail[512] = "";
    if (errfd >= 0) {
        last_line(errfd, tail, sizeof tail);
        close(errfd);
    }
    if (rc != 0) {
        enum tlb_status st = strstr(tail, "out of memory") ? TLB_STATUS_OOM : TLB_STATUS_ERROR;
        char detail[700];
        snprintf(detail, sizeof detail, "model load failed: %s", tail[0] ? tail : "unknown error");
        msg_send(a->resp_fd, MSG_LOADED, 0, st, detail, NULL);
        _exit(0);
    }
    struct tlb_row *cells = tlb_row_new();
    if (cells) {
        const char *name = m->name;
        if (!strncmp(name, "synthetic:", 10)) name += 10;
        tlb_row_set_str(cells, "model_name", name);
        tlb_row_set_str(cells, "model_format", m->format);
        tlb_row_set_str(cells, "weight_mapping", m->mapping);
        tlb_row_set_int(cells, "model_n_params", (int64_t)tlb_model_n_params(m));
        tlb_row_set_int(cells, "model_size", (int64_t)tlb_model_weight_bytes(m));
        tlb_row_set_double(cells, "load_ms", load_ms);
    }
    msg_send(a->resp_fd, MSG_LOADED, 0, TLB_STATUS_OK, "", cells);
    tlb_row_free(cells);
    struct server sv = {.env = a->env, .m = m, .model_index = a->model_index,
                        .wtype = a->wtype, .req_fd = a->req_fd, .resp_fd = a->resp_fd,
                        .ref_fd = a->ref_fd};
    for (;;) {
        uint32_t req[2];
        if (read_exact(a->req_fd, req, sizeof req, 0, 0) != 0) break; /* driver closed */
        if (req[0] != REQ_REF && req[1] >= (uint32_t)a->env->plan->n) break;
        serve_one(&sv, req[0], req[1]);
    }
    _exit(0);
}

/* ---------------------------------------------------------------- driver side */

struct group {
    pid_t pid;
    int req_fd, resp_fd;
    int alive;
    struct tlb_row *model_cells; /* from the LOADED message */
};

/* Reap a dead or killed model process and describe how it ended. */
static enum tlb_status reap_group(struct group *g, long long oom0, char *detail, size_t n) {
    int ws = 0;
    enum tlb_status st = TLB_STATUS_ERROR;
    if (g->pid > 0) {
        while (waitpid(g->pid, &ws, 0) < 0 && errno == EINTR) {}
        long long oom = oom_kill_count() - oom0;
        if (WIFSIGNALED(ws)) {
            int sig = WTERMSIG(ws);
            st = sig == SIGKILL && oom > 0 ? TLB_STATUS_OOM : TLB_STATUS_CRASHED;
            snprintf(detail, n, "the model process was killed by %s%s", tlb_signal_name(sig),
                     st == TLB_STATUS_OOM ? " (kernel OOM killer)" : "");
        } else {
            snprintf(detail, n, "the model process exited unexpectedly (status %d)",
                     WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
        }
    }
    if (g->req_fd >= 0) close(g->req_fd);
    if (g->resp_fd >= 0) close(g->resp_fd);
    g->req_fd = g->resp_fd = -1;
    g->pid = -1;
    g->alive = 0;
    return st;
}

static void group_kill(struct group *g) {
    if (g->pid > 0) {
        kill(-g->pid, SIGKILL);
        kill(g->pid, SIGKILL);
    }
    char d[64];
    reap_group(g, 0, d, sizeof d);
    tlb_row_free(g->model_cells);
    g->model_cells = NULL;
}

static void group_stop(struct group *g) {
    if (!g->alive) {
        tlb_row_free(g->model_cells);
        g->model_cells = NULL;
        return;
    }
    close(g->req_fd); /* the model process sees EOF and exits */
    g->req_fd = -1;
    int64_t deadline = tlb_now_ns() + 10 * 1000000000LL;
    int ws;
    while (waitpid(g->pid, &ws, WNOHANG) == 0) {
        if (tlb_now_ns() > deadline) {
            kill(-g->pid, SIGKILL);
            kill(g->pid, SIGKILL);
        }
        usleep(10000);
    }
    g->pid = -1;
    close(g->resp_fd);
    g->resp_fd = -1;
    g->alive = 0;
    tlb_row_free(g->model_cells);
    g->model_cells = NULL;
}

/* Start a model process and wait for its LOADED message. Returns 0 (loaded), 1 when the
 * load failed (status/detail set), 3 when interrupted, -1 on a local error (printed). */
static int group_start(struct tlb_sweep_env *env, int mi, enum tlb_type wtype, int ref_fd,
                       struct group *g, enum tlb_status *st, char *detail, size_t dn) {
    memset(g, 0, sizeof *g);
    g->pid = -1;
    g->req_fd = g->resp_fd = -1;
    int req[2], resp[2];
    if (pipe2(req, O_CLOEXEC) != 0) goto pipe_fail;
    if (pipe2(resp, O_CLOEXEC) != 0) {
        close(req[0]);
        close(req[1]);
        goto pipe_fail;
    }
    long long oom0 = oom_kill_count();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(req[0]);
        close(req[1]);
        close(resp[0]);
        close(resp[1]);
        *st = errno == ENOMEM ? TLB_STATUS_OOM : TLB_STATUS_ERROR;
        snprintf(detail, dn, "fork failed: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(req[1]);
        close(resp[0]);
        struct sweep_group_args a = {env, mi, wtype, req[0], resp[1], ref_fd, getppid()};
        server_main(&a);
        _exit(1);
    }
    setpgid(pid, pid); /* also done by the child: whichever runs first */
    close(req[0]);
    close(resp[1]);
    g->pid = pid;
    g->req_fd = req[1];
    g->resp_fd = resp[0];
    g->alive = 1;
    struct msg m;
    int64_t deadline = tlb_now_ns() + (int64_t)((env->spec->timeout_s + GRACE_S) * 1e9);
    int rc = msg_recv(g->resp_fd, &m, deadline, 1);
    if (rc == -3) {
        group_kill(g);
        return 3;
    }
    if (rc == -2) {
        group_kill(g);
        *st = TLB_STATUS_TIMEOUT;
        snprintf(detail, dn, "model load took longer than %g s: killed", env->spec->timeout_s);
        return 1;
    }
    if (rc != 0) {
        *st = reap_group(g, oom0, detail, dn);
        return 1;
    }
    if (m.type != MSG_LOADED || m.status != TLB_STATUS_OK) {
        *st = (enum tlb_status)m.status;
        snprintf(detail, dn, "%s", m.detail);
        msg_free(&m);
        group_stop(g);
        return 1;
    }
    g->model_cells = m.row;
    return 0;
pipe_fail:
    tlb_error("cannot create pipes: %s", strerror(errno));
    return -1;
}

/* Send a request and wait for its result. Returns 0 (msg filled), 1 when the model process
 * died or stopped answering (status/detail set, group reaped), 3 when interrupted. */
static int group_request(struct tlb_sweep_env *env, struct group *g, uint32_t type,
                         uint32_t index, struct msg *m, enum tlb_status *st, char *detail,
                         size_t dn) {
    uint32_t req[2] = {type, index};
    long long oom0 = oom_kill_count();
    if (tlb_write_full(g->req_fd, req, sizeof req) != 0) {
        *st = reap_group(g, oom0, detail, dn);
        return 1;
    }
    int64_t deadline = tlb_now_ns() + (int64_t)((env->spec->timeout_s + GRACE_S) * 1e9);
    int rc = msg_recv(g->resp_fd, m, deadline, 1);
    if (rc == -3) {
        group_kill(g);
        return 3;
    }
    if (rc == -2) {
        group_kill(g);
        *st = TLB_STATUS_TIMEOUT;
        snprintf(detail, dn, "the model process stopped answering: killed");
        return 1;
    }
    if (rc != 0 || m->type != MSG_RESULT || m->index != index) {
        if (rc == 0) msg_free(m);
        *st = reap_group(g, oom0, detail, dn);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the sweep */

struct driver {
    struct tlb_sweep_env *env;
    char model_hash[160];
    struct tlb_row *acc_cells; /* accuracy of the current (weight type, kernel) */
    const struct tlb_kernel *acc_kernel; /* the kernel acc_cells belong to */
    char acc_ref[64];
    int ref_ok;
};

static int emit(struct driver *d, int idx, enum tlb_status st, const char *detail,
                const struct tlb_row *model_cells, const struct tlb_row *worker) {
    struct tlb_sweep_env *env = d->env;
    const struct tlb_sweep_spec *s = env->spec;
    const struct tlb_plan_item *it = &env->plan->items[idx];
    struct tlb_row *row = tlb_row_new();
    if (!row) return -1;
    struct tlb_run_ident id = {
        .run_id = env->run_id, .si = env->si, .board_kind = env->board_kind,
        .board_label = env->board_label,
        .model_spec = s->models[it->model], .model_hash = d->model_hash[0] ? d->model_hash : NULL,
        .wtype = it->wtype, .kv_type = it->kv_type, .kernel = it->kernel_name,
        .n_threads = it->n_threads, .n_depth = it->n_depth, .n_prompt = it->n_prompt,
        .n_gen = it->n_gen, .reps = it->reps, .warmup = it->warmup, .seed = s->seed};
    tlb_runner_identity(row, &id);
    tlb_row_set_int(row, "n_ctx", (int64_t)it->n_depth + it->n_prompt + it->n_gen);
    row_merge(row, model_cells);
    row_merge(row, worker);
    if (d->acc_cells && it->kernel == d->acc_kernel && st != TLB_STATUS_UNSUPPORTED) {
        row_merge(row, d->acc_cells);
        tlb_row_set_str(row, "acc_ref", d->acc_ref);
    }
    tlb_row_set_str(row, "status", tlb_status_name(st));
    tlb_row_set_str(row, "status_detail", st == TLB_STATUS_OK ? "" : detail);
    if (st != TLB_STATUS_OK && st != TLB_STATUS_INVALID && !tlb_row_get(row, "power_source")[0])
        tlb_row_set_str(row, "power_source", "none");
    int rc = env->on_row(env->cb, idx, row, st);
    tlb_row_free(row);
    env->plan->items[idx].done = 1;
    return rc;
}

__attribute__((format(printf, 2, 3))) static void note(struct tlb_sweep_env *env,
                                                       const char *fmt, ...) {
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (env->on_note) env->on_note(env->cb, buf);
}

static void model_hash(struct driver *d, const char *spec, uint64_t seed) {
    d->model_hash[0] = '\0';
    if (!strncmp(spec, "synthetic:", 10)) {
        snprintf(d->model_hash, sizeof d->model_hash, "%s:seed=%llu", spec,
                 (unsigned long long)seed);
        return;
    }
    struct stat sb;
    if (stat(spec, &sb) == 0 && S_ISREG(sb.st_mode)) {
        char hex[65];
        if (tlb_sha256_file(spec, hex) == 0) snprintf(d->model_hash, sizeof d->model_hash, "%s", hex);
    }
}

/* Predicted weights of (model, type) for the load check: exact for built-in shapes, the
 * file size otherwise (a conversion holds more, briefly). -1 when unknown. */
static long long predict_weights(const char *spec, enum tlb_type wtype) {
    struct tlb_config c;
    if (!strncmp(spec, "synthetic:", 10) && tlb_synthetic_config(spec + 10, &c) == 0)
        return (long long)tlb_mem_weights(&c, wtype, 0);
    struct stat sb;
    if (stat(spec, &sb) == 0 && S_ISREG(sb.st_mode)) return (long long)sb.st_size;
    return -1;
}

static int pending(const struct tlb_plan_item *it) { return !it->done; }

/* Run the reference pass with a group that holds the f32 model. 0 ok, 3 interrupted. */
static int run_ref(struct driver *d, struct group *g, int ref_fd) {
    struct msg m;
    enum tlb_status st;
    char detail[1024];
    if (ftruncate(ref_fd, 0) != 0) { /* a fresh reference per model */ }
    int rc = group_request(d->env, g, REQ_REF, 0, &m, &st, detail, sizeof detail);
    if (rc == 3) return 3;
    if (rc == 0) {
        st = (enum tlb_status)m.status;
        snprintf(detail, sizeof detail, "%s", m.detail);
        if (st == TLB_STATUS_OK) {
            snprintf(d->acc_ref, sizeof d->acc_ref, "%s", tlb_row_get(m.row, "acc_ref"));
            d->ref_ok = 1;
            note(d->env, "accuracy reference %s: %s", d->acc_ref, detail);
        }
        msg_free(&m);
    }
    if (!d->ref_ok)
        note(d->env, "accuracy columns left empty: the reference pass failed (%s)", detail);
    return 0;
}

int tlb_sweep_execute(struct tlb_sweep_env *env) {
    struct tlb_plan *p = env->plan;
    const struct tlb_sweep_spec *s = env->spec;
    struct driver d = {.env = env};
    int ref_fd = -1, result = 0;
    struct group g = {.pid = -1, .req_fd = -1, .resp_fd = -1};
    char detail[1024];
    enum tlb_status st;

    for (int mi = 0; mi < s->n_models && result == 0; mi++) {
        int any = 0, acc = 0;
        for (int i = 0; i < p->n; i++) {
            if (p->items[i].model != mi || !pending(&p->items[i])) continue;
            any = 1;
            if (p->items[i].pre_status == TLB_STATUS_OK) acc = s->accuracy;
        }
        if (!any) continue;
        model_hash(&d, s->models[mi], s->seed);
        d.ref_ok = 0;
        if (acc) {
            /* the reference needs the f32 weights in memory: say so when they cannot fit */
            long long w = predict_weights(s->models[mi], TLB_TYPE_F32), avail = tlb_mem_available();
            long long margin = tlb_mem_margin();
            if (w >= 0 && avail >= 0 && w + (long long)TLB_MEM_DEFAULT_OVERHEAD > avail - margin) {
                char a[32], b[32];
                note(env, "accuracy columns left empty: the f32 reference needs %s, MemAvailable "
                     "is %s", tlb_format_size((uint64_t)w, a, sizeof a),
                     tlb_format_size((uint64_t)avail, b, sizeof b));
                acc = 0;
            }
            if (acc && ref_fd < 0 && (ref_fd = anon_tmpfile()) < 0) acc = 0;
            /* without f32 among the weight types, a model process serves the reference only */
            int f32_runs = 0;
            for (int i = 0; i < p->n; i++)
                f32_runs |= p->items[i].model == mi && p->items[i].wtype == TLB_TYPE_F32 &&
                            pending(&p->items[i]) && p->items[i].pre_status == TLB_STATUS_OK;
            if (acc && !f32_runs) {
                int rc = group_start(env, mi, TLB_TYPE_F32, ref_fd, &g, &st, detail,
                                     sizeof detail);
                if (rc == 3) {
                    result = 1;
                    break;
                }
                if (rc == 0) {
                    if (run_ref(&d, &g, ref_fd) == 3) {
                        result = 1;
                        break;
                    }
                    group_stop(&g);
                } else {
                    note(env, "accuracy columns left empty: the f32 reference model: %s",
                         detail);
                }
            }
        }
        /* weight types in plan order; each gets one model process */
        for (int i = 0; i < p->n && result == 0;) {
            const struct tlb_plan_item *first = &p->items[i];
            if (first->model != mi) {
                i++;
                continue;
            }
            int end = i;
            while (end < p->n && p->items[end].model == mi && p->items[end].wtype == first->wtype)
                end++;
            enum tlb_type wtype = first->wtype;
            int need_group = 0;
            for (int j = i; j < end; j++)
                need_group |= pending(&p->items[j]) && p->items[j].pre_status == TLB_STATUS_OK;
            enum tlb_status group_st = TLB_STATUS_OK;
            char group_detail[1024] = "";
            if (need_group) {
                long long w = predict_weights(s->models[mi], wtype), avail = tlb_mem_available();
                long long margin = tlb_mem_margin();
                if (w >= 0 && avail >= 0 &&
                    w + (long long)TLB_MEM_DEFAULT_OVERHEAD > avail - margin) {
                    char a[32], b[32], c[32];
                    group_st = TLB_STATUS_SKIPPED_MEMORY;
                    snprintf(group_detail, sizeof group_detail,
                             "predicted weights %s, MemAvailable %s minus margin %s",
                             tlb_format_size((uint64_t)w, a, sizeof a),
                             tlb_format_size((uint64_t)avail, b, sizeof b),
                             tlb_format_size((uint64_t)margin, c, sizeof c));
                }
            }
            d.acc_kernel = NULL;
            for (int j = i; j < end && result == 0; j++) {
                struct tlb_plan_item *it = &p->items[j];
                if (!pending(it)) continue;
                if (it->pre_status != TLB_STATUS_OK) {
                    if (emit(&d, j, it->pre_status, it->pre_detail, g.model_cells, NULL))
                        result = -1;
                    continue;
                }
                if (group_st != TLB_STATUS_OK) {
                    struct tlb_config cfg;
                    const char *spec = s->models[mi];
                    struct tlb_row *cells = NULL;
                    if (group_st == TLB_STATUS_SKIPPED_MEMORY && !strncmp(spec, "synthetic:", 10) &&
                        tlb_synthetic_config(spec + 10, &cfg) == 0)
                        cells = memory_cells(&cfg, predict_weights(spec, wtype), it);
                    if (emit(&d, j, group_st, group_detail, NULL, cells)) result = -1;
                    tlb_row_free(cells);
                    continue;
                }
                if (env->before_run && env->before_run(env->cb) != 0) {
                    result = 1;
                    break;
                }
                if (!g.alive) {
                    int rc = group_start(env, mi, wtype, ref_fd, &g, &st, group_detail,
                                         sizeof group_detail);
                    if (rc == 3) {
                        result = 1;
                        break;
                    }
                    if (rc != 0) {
                        group_st = rc < 0 ? TLB_STATUS_ERROR : st;
                        if (emit(&d, j, group_st, group_detail, NULL, NULL)) result = -1;
                        continue;
                    }
                    if (acc && wtype == TLB_TYPE_F32 && !d.ref_ok && ref_fd >= 0) {
                        if (run_ref(&d, &g, ref_fd) == 3) {
                            result = 1;
                            break;
                        }
                    }
                }
                /* short kernels (the naive reference on a big model) would spend minutes on
                 * the accuracy pass too: their accuracy columns stay empty */
                if (acc && d.ref_ok && d.acc_kernel != it->kernel && it->short_phases) {
                    tlb_row_free(d.acc_cells);
                    d.acc_cells = NULL;
                    d.acc_kernel = it->kernel;
                    char lbl[96];
                    tlb_plan_item_label(it, lbl, sizeof lbl);
                    note(env, "accuracy of %s not computed: %s runs with short phases "
                              "(short-kernels)", lbl, it->kernel_name);
                }
                /* accuracy once per (weight type, kernel), before its first row */
                if (acc && d.ref_ok && d.acc_kernel != it->kernel) {
                    tlb_row_free(d.acc_cells);
                    d.acc_cells = NULL;
                    d.acc_kernel = it->kernel;
                    struct msg m;
                    int rc = group_request(env, &g, REQ_ACC, (uint32_t)j, &m, &st, detail,
                                           sizeof detail);
                    if (rc == 3) {
                        result = 1;
                        break;
                    }
                    if (rc == 0) {
                        if (m.status == TLB_STATUS_OK) {
                            d.acc_cells = m.row;
                            m.row = NULL;
                        } else {
                            snprintf(detail, sizeof detail, "%s", m.detail);
                        }
                        msg_free(&m);
                    }
                    if (!d.acc_cells) {
                        char lbl[96];
                        tlb_plan_item_label(it, lbl, sizeof lbl);
                        note(env, "accuracy of %s failed: %s", lbl, detail);
                    }
                    if (!g.alive) {
                        j--; /* the model process died: restart it for this item */
                        continue;
                    }
                }
                if (env->on_begin) env->on_begin(env->cb, j);
                struct msg m;
                int rc = group_request(env, &g, REQ_RUN, (uint32_t)j, &m, &st, detail,
                                       sizeof detail);
                if (rc == 3) {
                    result = 1;
                    break;
                }
                if (rc == 0) {
                    if (emit(&d, j, (enum tlb_status)m.status, m.detail, g.model_cells, m.row))
                        result = -1;
                    msg_free(&m);
                } else if (emit(&d, j, st, detail, NULL, NULL)) {
                    result = -1;
                }
            }
            if (result == 0) group_stop(&g);
            tlb_row_free(d.acc_cells);
            d.acc_cells = NULL;
            i = end;
        }
    }
    if (g.alive || g.pid > 0) group_kill(&g);
    tlb_row_free(d.acc_cells);
    if (ref_fd >= 0) close(ref_fd);
    return result;
}
