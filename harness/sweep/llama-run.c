/* llama-run.c — one configuration run by llama-bench (see llama-bench.h). The driver forks an
 * adapter process, as it starts a model process; the adapter runs llama-bench as its own
 * child (own process group, PR_SET_PDEATHSIG, killed at the timeout), reads its --progress
 * lines to mark the monitor at the start of every timed repetition and its jsonl records to
 * mark their ends, samples its memory, then reaps it with wait4 (peak RSS) and sends the
 * driver one message: the row's cells, status and detail. */
#include "llama-bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accuracy.h"
#include "buf.h"
#include "cpuload.h"
#include "llama-records.h"
#include "monitor.h"
#include "probe.h"
#include "runner.h"
#include "threadpool.h"
#include "util.h"
#include "worker.h"

#define GRACE_S 60.0                 /* the driver waits this much beyond the timeout */
#define OUT_MAX ((size_t)16 << 20)   /* llama-bench's stdout kept */
#define LINE_MAX_KEPT 2048           /* one stderr line kept */
#define MAX_ARGV 32

/* ---------------------------------------------------------------- in the adapter */

/* Marks of one phase: energy and time at the start of each repetition and at its end. */
struct marks {
    double *e, *t;
    unsigned char *set;
};

struct watch {
    const struct tlb_plan_item *it;
    struct tlb_monitor *mon;
    const char *root;
    int pid;
    struct marks pp, tg;
    int phase;                 /* 0 none, 1 prefill test running, 2 decode test running */
    int started, records, want_records;
    struct tlb_cpuload_sample load0, load1;
    int have_load0, have_load1;
    long long rss_anon, rss_file;
    char tail[512];            /* the last stderr line that is not a progress line */
    char line[LINE_MAX_KEPT];  /* the stderr line being read */
    size_t line_len;
    struct tlb_buf out;        /* stdout */
    size_t out_done;           /* bytes of out already split into lines */
};

static int marks_alloc(struct marks *m, int reps) {
    m->e = tlb_calloc((size_t)reps + 1, sizeof *m->e, "marks");
    m->t = tlb_calloc((size_t)reps + 1, sizeof *m->t, "marks");
    m->set = tlb_calloc((size_t)reps + 1, 1, "marks");
    return m->e && m->t && m->set ? 0 : -1;
}

static void marks_free(struct marks *m) {
    free(m->e);
    free(m->t);
    free(m->set);
}

static void mark(struct watch *w, struct marks *m, int i) {
    m->e[i] = w->mon ? tlb_monitor_mark(w->mon) : NAN;
    m->t[i] = (double)tlb_now_ns() / 1e9;
    m->set[i] = 1;
}

/* Per-repetition energies of a phase into out; 1 when every mark was seen. */
static int phase_energy(const struct marks *m, int reps, double *out, double *timed_s) {
    for (int i = 0; i <= reps; i++)
        if (!m->set[i]) return 0;
    for (int i = 0; i < reps; i++) out[i] = m->e[i + 1] - m->e[i];
    *timed_s += m->t[reps] - m->t[0];
    return 1;
}

/* RssAnon and RssFile of llama-bench now ("at the end of the measured phases"). */
static void sample_rss(struct watch *w) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", w->pid);
    char *s = tlb_sysfs_slurp("", path, 1 << 20, NULL);
    if (!s) return;
    const char *keys[2] = {"\nRssAnon:", "\nRssFile:"};
    long long *dst[2] = {&w->rss_anon, &w->rss_file};
    for (int k = 0; k < 2; k++) {
        const char *p = strstr(s, keys[k]);
        char *end;
        long long v = p ? strtoll(p + strlen(keys[k]), &end, 10) : -1;
        if (p && end != p + strlen(keys[k]) && v >= 0) *dst[k] = v * 1024;
    }
    free(s);
}

/* "llama-bench: benchmark 1/2: prompt run 2/3": repetition 2 of the prefill test starts. */
static void on_stderr_line(struct watch *w, const char *line) {
    const char *p = strstr(line, ": prompt run "), *g = strstr(line, ": generation run ");
    if (strncmp(line, "llama-bench: ", 13) != 0 || (!p && !g)) {
        if (*line) snprintf(w->tail, sizeof w->tail, "%s", line);
        return;
    }
    int i, r;
    if (sscanf(p ? p + 13 : g + 17, "%d/%d", &i, &r) != 2 || r != w->it->reps || i < 1 || i > r)
        return;
    if (!w->started) { /* the measured window starts with the first timed repetition */
        w->started = 1;
        if (w->mon) tlb_monitor_reset(w->mon);
        w->have_load0 = tlb_cpuload_sample_with(w->root, w->pid, &w->load0) == 0;
    }
    w->phase = p ? 1 : 2;
    mark(w, p ? &w->pp : &w->tg, i - 1);
}

/* A complete jsonl record: the running test ended. */
static void on_record(struct watch *w) {
    if (w->phase) mark(w, w->phase == 1 ? &w->pp : &w->tg, w->it->reps);
    w->phase = 0;
    w->records++;
    sample_rss(w);
    if (w->records == w->want_records)
        w->have_load1 = tlb_cpuload_sample_with(w->root, w->pid, &w->load1) == 0;
}

static void feed_stderr(struct watch *w, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' || p[i] == '\r') {
            w->line[w->line_len] = '\0';
            on_stderr_line(w, w->line);
            w->line_len = 0;
        } else if (w->line_len + 1 < sizeof w->line) {
            w->line[w->line_len++] = p[i];
        }
    }
}

static void feed_stdout(struct watch *w) {
    for (;;) {
        const char *start = w->out.p + w->out_done;
        const char *nl = memchr(start, '\n', w->out.len - w->out_done);
        if (!nl) return;
        size_t len = (size_t)(nl - start);
        w->out_done += len + 1;
        while (len && (*start == ' ' || *start == '\t')) start++, len--;
        if (len && *start == '{') on_record(w);
    }
}

/* Is the record's configuration what was asked for? "" when it is, else the mismatch. */
static void check_config(const struct tlb_lb_config *c, const struct tlb_plan_item *it,
                         char *why, size_t n) {
    why[0] = '\0';
    const char *kv = tlb_type_traits(it->kv_type)->name;
    const struct tlb_lb_record *r[2] = {c->pp, c->tg};
    for (int k = 0; k < 2; k++) {
        if (!r[k]) continue;
        size_t ns = r[k]->samples_ts ? r[k]->n_samples_ts : r[k]->n_samples_ns;
        if (r[k]->n_threads != it->n_threads)
            snprintf(why, n, "llama-bench reported n_threads %lld for -t %d",
                     (long long)r[k]->n_threads, it->n_threads);
        else if (strcmp(r[k]->type_k, kv) || (r[k]->type_v[0] && strcmp(r[k]->type_v, kv)))
            snprintf(why, n, "llama-bench reported KV types %s/%s for -ctk %s", r[k]->type_k,
                     r[k]->type_v, kv);
        else if (r[k]->n_depth != it->n_depth)
            snprintf(why, n, "llama-bench reported n_depth %lld for depth %d",
                     (long long)r[k]->n_depth, it->n_depth);
        else if (ns != (size_t)it->reps)
            snprintf(why, n, "llama-bench gave %zu samples for -r %d", ns, it->reps);
        if (why[0]) return;
    }
    if (!c->pp || c->pp->n_prompt != it->n_prompt)
        snprintf(why, n, "llama-bench printed no pp%d record", it->n_prompt);
    else if (it->n_gen > 0 && (!c->tg || c->tg->n_gen != it->n_gen))
        snprintf(why, n, "llama-bench printed no tg%d record", it->n_gen);
    else if (it->n_gen == 0 && c->tg)
        snprintf(why, n, "llama-bench printed a tg record for -n 0");
}

/* Turn llama-bench's stdout into the row's measured cells. OK, or ERROR with why. */
static enum tlb_status results_of(struct watch *w, struct tlb_row *row, char *why, size_t n) {
    struct tlb_lb_set set;
    if (tlb_lb_parse(w->out.p ? w->out.p : "", w->out.len, TLB_LB_JSONL, "llama-bench output",
                     &set) != 0) {
        snprintf(why, n, "llama-bench's output could not be read (see below)");
        return TLB_STATUS_ERROR;
    }
    struct tlb_lb_config *cfg = NULL;
    long nc = tlb_lb_pair(&set, &cfg);
    enum tlb_status st = TLB_STATUS_ERROR;
    if (nc != 1) {
        snprintf(why, n, "llama-bench printed %zu records making %ld configurations, not the "
                 "pp%d%s one asked for", set.n, nc, w->it->n_prompt,
                 w->it->n_gen > 0 ? " + tg" : "");
    } else {
        check_config(&cfg[0], w->it, why, n);
        if (!why[0]) {
            if (tlb_lb_fill_results(row, &cfg[0]) == 0) st = TLB_STATUS_OK;
            else snprintf(why, n, "internal error: a result column could not be set");
        }
    }
    free(cfg);
    tlb_lb_free(&set);
    return st;
}

/* llama-bench's process group, for the SIGTERM handler: what llama-bench started goes with
 * it (its own PR_SET_PDEATHSIG only reaches llama-bench itself). */
static volatile sig_atomic_t bench_pgid;

static void on_term(int sig) {
    (void)sig;
    if (bench_pgid > 0) kill(-(pid_t)bench_pgid, SIGKILL);
    _exit(1);
}

/* The memory's level (results column mem_bw_gbps; tlbench's rows read it over their own
 * weights, runner.c): pool's threads over a buffer of this process's own, so that the report
 * can leave out rounds whose engines met levels apart. Only for a GGUF at least twice that
 * buffer (the process tree's peak RSS stays llama-bench's; tlbench's rows of a model that
 * small have no level either), and not in tlbench ab (rep_turn: a probe here would run in the
 * other build's turn). */
static double mem_level(const struct tlb_sweep_env *env, const char *gguf, struct tlb_pool *pool) {
    struct stat sb;
    if (env->rep_turn || !gguf || stat(gguf, &sb) != 0 ||
        (unsigned long long)sb.st_size < 2ull * tlb_probe_mem_level_bytes())
        return NAN;
    return tlb_probe_mem_level_own(pool);
}

/* The adapter: run llama-bench for plan item idx, send the row on out_fd, exit. SIGTERM (from
 * the driver, or PR_SET_PDEATHSIG when the driver dies) kills llama-bench's group first. */
static _Noreturn void adapter_main(struct tlb_sweep_env *env, int idx, const char *gguf,
                                   int out_fd, pid_t parent) {
    setpgid(0, 0); /* not in the terminal's group: Ctrl-C is the driver's to handle */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    /* our own messages (parse errors, monitor warnings) end up in the detail, not the
     * driver's terminal */
    int errfd = tlb_acc_tmpfile();
    if (errfd >= 0) dup2(errfd, 2);
    const struct tlb_plan_item *it = &env->plan->items[idx];
    const struct tlb_sweep_spec *s = env->spec;
    struct tlb_row *row = tlb_row_new();
    char detail[1024] = "", why[512];
    enum tlb_status st = TLB_STATUS_ERROR;
    struct watch w = {.it = it, .root = env->root, .rss_anon = -1, .rss_file = -1,
                      .want_records = it->n_gen > 0 ? 2 : 1, .out = {.max = OUT_MAX}};
    char *argv[MAX_ARGV], argbuf[3 * TLB_PATH_MAX];
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if (!row) _exit(TLB_WORKER_EXIT_OOM);
    if (marks_alloc(&w.pp, it->reps) || marks_alloc(&w.tg, it->reps)) {
        snprintf(detail, sizeof detail, "out of memory for the marks");
        goto send;
    }
    if (tlb_llama_bench_argv(env->plan->llama, it, gguf, argv, MAX_ARGV, argbuf,
                             sizeof argbuf) < 0) {
        snprintf(detail, sizeof detail, "the llama-bench command line is too long");
        goto send;
    }
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        snprintf(detail, sizeof detail, "cannot create pipes: %s", strerror(errno));
        goto send;
    }
    if (env->monitor) {
        struct tlb_monitor_opts mo = {
            .root = env->root,
            .power = {.root = env->root, .source = env->power_source ? env->power_source : "auto",
                      .prefer = env->power_prefer, .meter_cmd = s->power_cmd,
                      .rails = env->power_rails},
            .thermal_zones = env->thermal_zones,
        };
        w.mon = tlb_monitor_start(&mo, why, sizeof why);
        if (!w.mon) tlb_warn("monitor not started: %s", why);
    }
    /* as in tlbench's rows: did the threads get a core each, and what memory level did they
     * meet? Measured just before llama-bench starts, by as many threads in this process (about
     * 50 + 80 ms; they are gone before the fork) */
    double share = NAN, level = NAN;
    struct tlb_pool *pool = it->n_threads > 1 ? tlb_pool_create(it->n_threads) : NULL;
    if (pool) share = tlb_probe_core_share(pool);
    if (pool || it->n_threads == 1) level = mem_level(env, gguf, pool);
    tlb_pool_free(pool);
    long long oom0 = tlb_oom_kill_count();
    pid_t self = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(detail, sizeof detail, "fork failed: %s", strerror(errno));
        st = errno == ENOMEM ? TLB_STATUS_OOM : TLB_STATUS_ERROR;
        goto send;
    }
    if (pid == 0) { /* llama-bench: only async-signal-safe calls until exec */
        setpgid(0, 0);
        signal(SIGTERM, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != self) _exit(126);
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        close_range(3, ~0u, 0); /* the driver's results file and locks are not its business */
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "500", 3) < 0) { /* best effort, as for tlbench's workers */ }
            close(fd);
        }
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        static const char msg[] = "tlbench: cannot run llama-bench (exec failed)\n";
        if (write(2, msg, sizeof msg - 1) < 0) { /* nothing left to tell */ }
        _exit(127);
    }
    setpgid(pid, pid); /* also done by the child: whichever runs first */
    bench_pgid = pid;
    w.pid = pid;
    if (!env->plan->llama->has_progress) { /* no repetition marks: the whole run is the window */
        w.started = 1;
        if (w.mon) tlb_monitor_reset(w.mon);
    }
    close(out[1]);
    close(err[1]);
    out[1] = err[1] = -1;
    int64_t deadline = tlb_now_ns() + (int64_t)(s->timeout_s * 1e9);
    int timed_out = 0, too_much = 0, open_fds = 2;
    struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}};
    while (open_fds > 0) {
        int64_t left = (deadline - tlb_now_ns()) / 1000000;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int pr = poll(pf, 2, left > 200 ? 200 : (int)left);
        if (pr < 0 && errno != EINTR) break;
        if (pr <= 0) continue;
        for (int k = 0; k < 2; k++) {
            if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char chunk[8192];
            ssize_t r = read(pf[k].fd, chunk, sizeof chunk);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                pf[k].fd = -1;
                open_fds--;
                continue;
            }
            if (k == 1) {
                feed_stderr(&w, chunk, (size_t)r);
            } else if (tlb_buf_add(&w.out, chunk, (size_t)r) != 0) {
                too_much = 1;
                open_fds = 0;
                break;
            } else {
                feed_stdout(&w);
            }
        }
    }
    if (timed_out || too_much) kill(-pid, SIGKILL);
    if (w.line_len) { /* a last line without its newline */
        w.line[w.line_len] = '\0';
        on_stderr_line(&w, w.line);
    }
    /* wait for its end without reaping it, so that its process group cannot be reused while
     * we kill what it may have left behind there; then reap it with its resource usage */
    siginfo_t si;
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
    kill(-pid, SIGKILL);
    int ws = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &ws, 0, &ru) < 0 && errno == EINTR) {}
    long long oom_delta = tlb_oom_kill_count() - oom0;
    const char *sep = w.tail[0] ? ": " : "";
    if (timed_out) {
        st = TLB_STATUS_TIMEOUT;
        snprintf(detail, sizeof detail, "llama-bench gave no result after %g s: killed",
                 s->timeout_s);
    } else if (too_much) {
        snprintf(detail, sizeof detail, "llama-bench printed more than %zu MiB: killed",
                 OUT_MAX >> 20);
    } else if (WIFSIGNALED(ws)) {
        int sig = WTERMSIG(ws);
        if (sig == SIGKILL && oom_delta > 0) {
            st = TLB_STATUS_OOM;
            snprintf(detail, sizeof detail, "llama-bench was killed by the kernel OOM killer "
                     "(oom_kill +%lld)", oom_delta);
        } else {
            st = TLB_STATUS_CRASHED;
            snprintf(detail, sizeof detail, "llama-bench killed by %s (%s)%s%s",
                     tlb_signal_name(sig), strsignal(sig), sep, w.tail);
        }
    } else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        snprintf(detail, sizeof detail, "llama-bench exited with status %d%s%s",
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, sep, w.tail);
        if (strstr(w.tail, "failed to allocate") || strstr(w.tail, "out of memory"))
            st = TLB_STATUS_OOM;
    } else if ((st = results_of(&w, row, why, sizeof why)) != TLB_STATUS_OK) {
        char last[512] = "";
        if (errfd >= 0) tlb_last_line(errfd, last, sizeof last);
        snprintf(detail, sizeof detail, "%s%s%s", why, last[0] ? ": " : "", last);
    }
    /* what tlbench measures around llama-bench, for every run that got this far. Peak RSS:
     * wait4's ru_maxrss, the largest resident set llama-bench had (its image before exec was
     * a fork of this few-MiB adapter, far below any model) */
    if (ru.ru_maxrss > 0) tlb_row_set_int(row, "peak_rss_bytes", (int64_t)ru.ru_maxrss * 1024);
    if (st == TLB_STATUS_OK) {
        int rc = 0;
        if (w.rss_anon >= 0) rc |= tlb_row_set_int(row, "rss_anon_bytes", w.rss_anon);
        if (w.rss_file >= 0) rc |= tlb_row_set_int(row, "rss_file_bytes", w.rss_file);
        rc |= tlb_row_set_int(row, "warmup", it->warmup);
        rc |= tlb_row_set_int(row, "n_ctx", (int64_t)it->n_depth +
                                                (it->n_prompt > it->n_gen ? it->n_prompt : it->n_gen));
        rc |= tlb_row_set_str(row, "engine_model", gguf);
        if (isfinite(share)) rc |= tlb_row_set_double(row, "core_share", share);
        if (isfinite(level)) rc |= tlb_row_set_double(row, "mem_bw_gbps", level);
        char busy[200] = "";
        if (w.have_load0 && w.have_load1) {
            double cpus = tlb_runner_busy(&w.load0, &w.load1, busy, sizeof busy);
            if (isfinite(cpus)) rc |= tlb_row_set_double(row, "busy_cpus", cpus);
        }
        if (busy[0]) rc |= tlb_row_set_int(row, "noisy", 1);
        double *pp_j = tlb_calloc((size_t)it->reps, sizeof *pp_j, "energies");
        double *tg_j = tlb_calloc((size_t)it->reps, sizeof *tg_j, "energies");
        double timed_s = 0;
        int have_pp = pp_j && phase_energy(&w.pp, it->reps, pp_j, &timed_s);
        int have_tg = tg_j && it->n_gen > 0 && phase_energy(&w.tg, it->reps, tg_j, &timed_s);
        /* without the decode test's marks there is no decode energy, and no total either */
        if (it->n_gen > 0 && !have_tg) have_pp = 0;
        rc |= tlb_runner_power_cells(row, w.started ? w.mon : NULL, have_pp ? pp_j : NULL,
                                     have_tg ? tg_j : NULL, (size_t)it->reps, it->n_gen, timed_s,
                                     env->idle_w, busy, &st, detail, sizeof detail);
        free(pp_j);
        free(tg_j);
        if (rc) {
            st = TLB_STATUS_ERROR;
            snprintf(detail, sizeof detail, "internal error: a result column could not be set");
        }
    }
send:
    tlb_monitor_stop(w.mon);
    marks_free(&w.pp);
    marks_free(&w.tg);
    if (tlb_msg_send(out_fd, TLB_MSG_RESULT, (uint32_t)idx, (int32_t)st, detail, row) != 0)
        _exit(1);
    _exit(0);
}

/* ---------------------------------------------------------------- in the driver */

int tlb_llama_bench_run(struct tlb_sweep_env *env, int idx, const char *gguf,
                        struct tlb_msg *m, enum tlb_status *st, char *detail, size_t dn) {
    int resp[2];
    if (pipe2(resp, O_CLOEXEC) != 0) {
        *st = TLB_STATUS_ERROR;
        snprintf(detail, dn, "cannot create pipes: %s", strerror(errno));
        return 1;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        *st = errno == ENOMEM ? TLB_STATUS_OOM : TLB_STATUS_ERROR;
        snprintf(detail, dn, "fork failed: %s", strerror(errno));
        close(resp[0]);
        close(resp[1]);
        return 1;
    }
    if (pid == 0) {
        close(resp[0]);
        adapter_main(env, idx, gguf, resp[1], parent);
    }
    setpgid(pid, pid); /* also done by the child: whichever runs first */
    close(resp[1]);
    int64_t deadline = tlb_now_ns() + (int64_t)((env->spec->timeout_s + GRACE_S) * 1e9);
    int rc = tlb_msg_recv(resp[0], m, deadline, &tlb_sweep_interrupted);
    close(resp[0]);
    int ws = 0, reaped = 0;
    if (rc != 0) { /* SIGTERM: the adapter takes llama-bench's group with it; then SIGKILL */
        kill(pid, SIGTERM);
        int64_t until = tlb_now_ns() + 2000000000LL;
        while (!(reaped = waitpid(pid, &ws, WNOHANG) == pid) && tlb_now_ns() < until)
            usleep(10000);
        if (!reaped) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
        }
    }
    while (!reaped && waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    if (rc == -3) return 3;
    if (rc == 0 && m->type == TLB_MSG_RESULT && m->index == (uint32_t)idx) return 0;
    if (rc == 0) tlb_msg_free(m);
    if (rc == -2) {
        *st = TLB_STATUS_TIMEOUT;
        snprintf(detail, dn, "the llama-bench adapter stopped answering: killed");
    } else if (WIFSIGNALED(ws)) {
        *st = TLB_STATUS_CRASHED;
        snprintf(detail, dn, "the llama-bench adapter was killed by %s",
                 tlb_signal_name(WTERMSIG(ws)));
    } else {
        *st = TLB_STATUS_ERROR;
        snprintf(detail, dn, "the llama-bench adapter exited (status %d) without a result",
                 WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    }
    return 1;
}
