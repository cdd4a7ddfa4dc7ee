/* model-process.c — the model process and the driver's handle on it (see
 * model-process.h). */
#include "model-process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accuracy.h"
#include "buf.h"
#include "memory-model.h"
#include "runner.h"
#include "util.h"
#include "worker.h"

#define GRACE_S 60.0 /* the driver waits this much beyond the worker timeout */

/* ---------------------------------------------------------------- in the model process */

/* A KV cache filled once for a (depth, KV type), in a shared mapping the workers inherit. */
struct kv_snap {
    int depth;
    enum tlb_type kv_type;
    void *mem; /* NULL: the fill failed or did not fit; workers fill their own */
};
#define MAX_KV_SNAPS 16

struct server {
    struct tlb_sweep_env *env;
    struct tlb_model *m;        /* owned: rewritten into each request's layouts */
    int model_index;
    enum tlb_type wtype;
    int req_fd, resp_fd, ref_fd;
    struct kv_snap snaps[MAX_KV_SNAPS];
    int n_snaps;
};

/* KV and engine-buffer bytes of a configuration, computed from the shapes (memory-model.h). */
static void item_memory(const struct tlb_config *c, const struct tlb_plan_item *it,
                        long long *kv, long long *scratch) {
    int64_t ctx = (int64_t)it->n_depth + it->n_prompt + it->n_gen;
    int mb = tlb_runner_max_batch(it->n_prompt, it->n_depth);
    *kv = (long long)(tlb_mem_kv_per_token(c, it->kv_type) * (uint64_t)ctx);
    *scratch = (long long)tlb_mem_scratch(c, ctx, it->n_threads, mb);
}

struct tlb_row *tlb_item_memory_cells(const struct tlb_config *c, long long weights,
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
    if (type == TLB_REQ_RUN) {
        const struct tlb_plan_item *it = &sv->env->plan->items[index];
        if ((int64_t)it->n_depth + it->n_prompt + it->n_gen > c->seq_len)
            return 0; /* the worker reports it unsupported */
        long long kv, sc;
        item_memory(c, it, &kv, &sc);
        return kv + sc + (long long)TLB_MEM_DEFAULT_OVERHEAD;
    }
    if (type == TLB_REQ_GGUF) return (long long)TLB_MEM_DEFAULT_OVERHEAD; /* it streams */
    int w = sv->env->acc_window > 0 ? sv->env->acc_window : c->seq_len;
    if (w > c->seq_len) w = c->seq_len;
    return (long long)(2ull * (uint64_t)w * (uint64_t)c->vocab_size * sizeof(float) +
                       tlb_mem_kv_per_token(c, TLB_TYPE_F32) * (uint64_t)w +
                       tlb_mem_scratch(c, w, tlb_spec_max_threads(s), w) + TLB_MEM_DEFAULT_OVERHEAD);
}


/* The KV cache at a configuration's depth: filled once per (depth, KV type) of this weight
 * type, by a child process (a crash or hang there costs no row: the workers then fill their
 * own cache as before) into a shared mapping that every later worker inherits. Filling the
 * same 256 positions again in each of a weight type's configurations was the largest cost of
 * the default sweep that measured nothing. NULL when there is none. */
static const void *kv_snapshot(struct server *sv, const struct tlb_plan_item *it) {
    if (it->n_depth <= 0) return NULL;
    for (int i = 0; i < sv->n_snaps; i++)
        if (sv->snaps[i].depth == it->n_depth && sv->snaps[i].kv_type == it->kv_type)
            return sv->snaps[i].mem;
    if (sv->n_snaps == MAX_KV_SNAPS) return NULL;
    struct kv_snap *k = &sv->snaps[sv->n_snaps++];
    *k = (struct kv_snap){.depth = it->n_depth, .kv_type = it->kv_type, .mem = NULL};
    const struct tlb_sweep_spec *s = sv->env->spec;
    const struct tlb_config *c = &sv->m->cfg;
    const int threads = tlb_spec_max_threads(s);
    const size_t bytes = tlb_runner_kv_fill_bytes(c, it->kv_type, it->n_depth);
    /* the snapshot, and the filling engine's own cache and buffers beside it */
    long long need = 2 * (long long)bytes +
                     (long long)tlb_mem_scratch(c, it->n_depth, threads,
                                                tlb_runner_max_batch(1, it->n_depth)) +
                     (long long)TLB_MEM_DEFAULT_OVERHEAD;
    long long avail = tlb_mem_available();
    if (avail >= 0 && need > avail - tlb_mem_margin()) return NULL;
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return NULL;
    pid_t self = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != self) _exit(1);
        close(sv->req_fd);
        close(sv->resp_fd);
        _exit(tlb_runner_fill_kv(sv->m, it->n_depth, it->kv_type, s->seed, threads, mem) == 0
                  ? 0 : 1);
    }
    int ws = 0, ended = pid > 0 ? 0 : -1;
    int64_t deadline = tlb_now_ns() + (int64_t)(s->timeout_s * 1e9);
    while (ended == 0) {
        pid_t r = waitpid(pid, &ws, WNOHANG);
        if (r == pid) ended = 1;
        else if (r < 0 && errno != EINTR) ended = -1;
        else if (tlb_now_ns() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
            ended = -1;
        } else {
            usleep(5000);
        }
    }
    if (ended == 1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) k->mem = mem;
    else munmap(mem, bytes);
    return k->mem;
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
            type == TLB_REQ_RUN
                ? tlb_item_memory_cells(&sv->m->cfg, (long long)tlb_model_weight_bytes(sv->m),
                                        &sv->env->plan->items[index])
                : NULL;
        tlb_msg_send(sv->resp_fd, TLB_MSG_RESULT, index, TLB_STATUS_SKIPPED_MEMORY, detail, cells);
        tlb_row_free(cells);
        return;
    }
    /* the weights in the layouts this request's kernel streams (R16 for avx512's q8_0), as a
     * one-kernel process would load them; no worker runs now, and each inherits them as they
     * are at its fork. The GGUF writer and the f32 reference take rows. */
    const struct tlb_kernel *lk =
        type == TLB_REQ_RUN || type == TLB_REQ_ACC ? sv->env->plan->items[index].kernel : NULL;
    if (tlb_model_set_layouts(sv->m, lk) < 0) {
        snprintf(detail, sizeof detail, "rewriting the weights into %s%s failed",
                 lk ? "the layout of kernel " : "rows", lk ? lk->name : "");
        tlb_msg_send(sv->resp_fd, TLB_MSG_RESULT, index, TLB_STATUS_ERROR, detail, NULL);
        return;
    }
    const void *kv_fill = type == TLB_REQ_RUN ? kv_snapshot(sv, &sv->env->plan->items[index]) : NULL;
    int pfd[2];
    int errfd = tlb_acc_tmpfile();
    if (errfd < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(detail, sizeof detail, "cannot create the worker's pipes: %s", strerror(errno));
        tlb_msg_send(sv->resp_fd, TLB_MSG_RESULT, index, TLB_STATUS_ERROR, detail, NULL);
        if (errfd >= 0) close(errfd);
        return;
    }
    long long oom0 = tlb_oom_kill_count();
    pid_t self = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(detail, sizeof detail, "fork failed: %s", strerror(errno));
        tlb_msg_send(sv->resp_fd, TLB_MSG_RESULT, index,
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
        tlb_worker_main(sv->env, sv->m, sv->ref_fd, type, index, kv_fill, pfd[1]);
    }
    close(pfd[1]);
    /* read the result until EOF (the worker exited) or the deadline */
    int64_t deadline = tlb_now_ns() + (int64_t)(s->timeout_s * 1e9);
    struct tlb_buf b = {.max = TLB_MSG_MAX};
    int timed_out = 0;
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
        tlb_buf_add(&b, chunk, (size_t)r); /* past TLB_MSG_MAX: b.failed */
    }
    if (timed_out) kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
    close(pfd[0]);
    long long oom_delta = tlb_oom_kill_count() - oom0;
    char tail[512];
    tlb_last_line(errfd, tail, sizeof tail);
    close(errfd);
    struct tlb_msg m;
    memset(&m, 0, sizeof m);
    int msg_ok = !timed_out && !b.failed && tlb_msg_decode_frame(b.p, b.len, &m) == 0;
    tlb_buf_free(&b);
    enum tlb_status st = tlb_worker_classify(timed_out, s->timeout_s, wstatus, msg_ok,
                                             (enum tlb_status)m.status, m.detail, oom_delta,
                                             tail, detail, sizeof detail);
    tlb_msg_send(sv->resp_fd, TLB_MSG_RESULT, index, (int32_t)st, detail, msg_ok ? m.row : NULL);
    tlb_msg_free(&m);
}

struct server_args {
    struct tlb_sweep_env *env;
    int model_index;
    enum tlb_type wtype;
    int req_fd, resp_fd, ref_fd;
    pid_t parent;
};

static void server_main(struct server_args *a) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != a->parent) _exit(1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    const struct tlb_sweep_spec *s = a->env->spec;
    /* load with stderr captured, so a load error becomes the rows' status detail */
    int errfd = tlb_acc_tmpfile(), saved = dup(2);
    if (errfd >= 0 && saved >= 0) dup2(errfd, 2);
    struct tlb_model *m = NULL;
    struct tlb_load_opts lo = {.spec = s->models[a->model_index], .convert = 1,
                               .wtype = a->wtype, .seed = s->seed,
                               .n_threads = tlb_spec_max_threads(s)};
    int64_t t0 = tlb_now_ns();
    int rc = tlb_model_load(&m, &lo);
    double load_ms = (double)(tlb_now_ns() - t0) / 1e6;
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    char tail[512] = "";
    if (errfd >= 0) {
        tlb_last_line(errfd, tail, sizeof tail);
        close(errfd);
    }
    if (rc != 0) {
        enum tlb_status st = strstr(tail, "out of memory") ? TLB_STATUS_OOM : TLB_STATUS_ERROR;
        char detail[700];
        snprintf(detail, sizeof detail, "model load failed: %s", tail[0] ? tail : "unknown error");
        tlb_msg_send(a->resp_fd, TLB_MSG_LOADED, 0, st, detail, NULL);
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
        /* the load's own peak (a copy or conversion plus the file pages in flight) can exceed
         * what the worker later holds: a run needs both to fit */
        struct tlb_proc_mem pm;
        if (tlb_proc_mem_read(&pm) == 0 && pm.hwm > 0)
            tlb_row_set_int(cells, "load_peak_rss_bytes", pm.hwm);
    }
    tlb_msg_send(a->resp_fd, TLB_MSG_LOADED, 0, TLB_STATUS_OK, "", cells);
    tlb_row_free(cells);
    struct server sv = {.env = a->env, .m = m, .model_index = a->model_index,
                        .wtype = a->wtype, .req_fd = a->req_fd, .resp_fd = a->resp_fd,
                        .ref_fd = a->ref_fd};
    uint32_t type, index;
    while (tlb_req_recv(a->req_fd, &type, &index) == 0) { /* until the driver closes */
        if (type != TLB_REQ_REF && index >= (uint32_t)a->env->plan->n) break;
        serve_one(&sv, type, index);
    }
    _exit(0);
}

/* ---------------------------------------------------------------- in the driver */

/* Reap a dead or killed model process and describe how it ended. */
static enum tlb_status reap(struct tlb_model_proc *g, long long oom0, char *detail, size_t n) {
    int ws = 0;
    enum tlb_status st = TLB_STATUS_ERROR;
    if (g->pid > 0) {
        while (waitpid(g->pid, &ws, 0) < 0 && errno == EINTR) {}
        long long oom = tlb_oom_kill_count() - oom0;
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

void tlb_model_proc_kill(struct tlb_model_proc *g) {
    if (g->pid > 0) {
        kill(-g->pid, SIGKILL);
        kill(g->pid, SIGKILL);
    }
    char d[64];
    reap(g, 0, d, sizeof d);
    tlb_row_free(g->model_cells);
    g->model_cells = NULL;
}

void tlb_model_proc_stop(struct tlb_model_proc *g) {
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

int tlb_model_proc_start(struct tlb_sweep_env *env, int mi, enum tlb_type wtype, int ref_fd,
                         struct tlb_model_proc *g, enum tlb_status *st, char *detail,
                         size_t dn) {
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
    long long oom0 = tlb_oom_kill_count();
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
        struct server_args a = {env, mi, wtype, req[0], resp[1], ref_fd, getppid()};
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
    struct tlb_msg m;
    int64_t deadline = tlb_now_ns() + (int64_t)((env->spec->timeout_s + GRACE_S) * 1e9);
    int rc = tlb_msg_recv(g->resp_fd, &m, deadline, &tlb_sweep_interrupted);
    if (rc == -3) {
        tlb_model_proc_kill(g);
        return 3;
    }
    if (rc == -2) {
        tlb_model_proc_kill(g);
        *st = TLB_STATUS_TIMEOUT;
        snprintf(detail, dn, "model load took longer than %g s: killed", env->spec->timeout_s);
        return 1;
    }
    if (rc != 0) {
        *st = reap(g, oom0, detail, dn);
        return 1;
    }
    if (m.type != TLB_MSG_LOADED || m.status != TLB_STATUS_OK) {
        *st = (enum tlb_status)m.status;
        snprintf(detail, dn, "%s", m.detail);
        tlb_msg_free(&m);
        tlb_model_proc_stop(g);
        return 1;
    }
    g->model_cells = m.row;
    return 0;
pipe_fail:
    tlb_error("cannot create pipes: %s", strerror(errno));
    return -1;
}

int tlb_model_proc_request(struct tlb_sweep_env *env, struct tlb_model_proc *g, uint32_t type,
                           uint32_t index, struct tlb_msg *m, enum tlb_status *st,
                           char *detail, size_t dn) {
    long long oom0 = tlb_oom_kill_count();
    if (tlb_req_send(g->req_fd, type, index) != 0) {
        *st = reap(g, oom0, detail, dn);
        return 1;
    }
    int64_t deadline = tlb_now_ns() + (int64_t)((env->spec->timeout_s + GRACE_S) * 1e9);
    int rc = tlb_msg_recv(g->resp_fd, m, deadline, &tlb_sweep_interrupted);
    if (rc == -3) {
        tlb_model_proc_kill(g);
        return 3;
    }
    if (rc == -2) {
        tlb_model_proc_kill(g);
        *st = TLB_STATUS_TIMEOUT;
        snprintf(detail, dn, "the model process stopped answering: killed");
        return 1;
    }
    if (rc != 0 || m->type != TLB_MSG_RESULT || m->index != index) {
        if (rc == 0) tlb_msg_free(m);
        *st = reap(g, oom0, detail, dn);
        return 1;
    }
    return 0;
}
