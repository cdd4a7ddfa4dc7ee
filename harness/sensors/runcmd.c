/* runcmd.c — external commands under a guard and a hard deadline (see runcmd.h). */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

/* The guard script: on SIGTERM (our PR_SET_PDEATHSIG) kill the whole process group; else run
 * the command in the background and exit with its status. "$1" is a shell command, "$@" an
 * argument vector. */
static const char GUARD_SH[] = "trap 'kill -KILL 0' TERM; eval \"$1\" & wait $!";
static const char GUARD_ARGV[] = "trap 'kill -KILL 0' TERM; \"$@\" & wait $!";

int tlb_shell_quote_append(char *buf, size_t n, const char *s) {
    size_t off = strlen(buf);
    if (off + 1 >= n) return -1;
    buf[off++] = '\'';
    for (; *s; s++) {
        const char *piece = *s == '\'' ? "'\\''" : NULL;
        size_t pl = piece ? 4 : 1;
        if (off + pl + 2 > n) return -1;
        if (piece) memcpy(buf + off, piece, pl);
        else buf[off] = *s;
        off += pl;
    }
    if (off + 2 > n) return -1;
    buf[off++] = '\'';
    buf[off] = '\0';
    return 0;
}

/* Start /bin/sh with argv under the guard's conditions: own process group, parent-death
 * signal, default signal dispositions, nothing blocked; stdin /dev/null; stdout/stderr to
 * out_fd/err_fd, or (out_fd < 0) to out_name in dir, or /dev/null. Returns the pid or -1.
 * vfork: the child borrows our memory until exec, so it makes only system calls. */
static pid_t spawn_guard(char *const argv[], const char *dir, const char *out_name, int out_fd,
                         int err_fd) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* no handler may run in the vfork child */
    const pid_t parent = getpid();
    pid_t pid = vfork();
    if (pid == 0) {
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(125);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL); /* EINVAL for KILL/STOP: fine */
        if (dir && chdir(dir) != 0) _exit(125);
        int in = open("/dev/null", O_RDONLY);
        int o = out_fd >= 0 ? out_fd
                            : open(out_name ? out_name : "/dev/null",
                                   O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_NOCTTY, 0644);
        int e = out_fd >= 0 ? err_fd : o;
        if (in < 0 || o < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(125);
        if (in > 2) close(in);
        if (out_fd < 0 && o > 2) close(o);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve("/bin/sh", argv, environ);
        _exit(127);
    }
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid > 0) setpgid(pid, pid); /* also here, so a kill of the group never misses it */
    errno = e;
    return pid;
}

/* Has pid exited (left as a zombie, not reaped)? */
static int exited(pid_t pid) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        if (errno != EINTR) return 1; /* gone already: nothing to wait for */
    return si.si_pid == pid;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* After the output is closed: wait for the guard's exit until the deadline; then kill the
 * whole group (the deadline passed, or leftovers of a finished command) and reap the guard.
 * Returns its wait status, or -1 when it did not exit in time (*timed_out set). */
static int finish(pid_t pid, int64_t deadline, int *timed_out) {
    while (!*timed_out && !exited(pid)) {
        if (tlb_now_ns() >= deadline) *timed_out = 1;
        else sleep_ms(2);
    }
    kill(-pid, SIGKILL); /* the group still exists while its leader is an unreaped zombie */
    int status = 0;
    for (int i = 0; i < 500; i++) { /* a process in uninterruptible sleep: give up after 1 s */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return *timed_out ? -1 : status;
        if (w < 0 && errno != EINTR) return -1;
        sleep_ms(2);
    }
    return -1;
}

static void set_why(char *why, size_t n, const char *cmd, const char *msg) {
    if (why && n) snprintf(why, n, "'%.80s' %s", cmd, msg);
}

int tlb_run_capture(const char *cmd, int timeout_ms, char *out, size_t out_len, char *why,
                    size_t why_len) {
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    char err[256] = "";
    size_t out_n = 0, err_n = 0;
    if (out_len) out[0] = '\0';
    if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
        set_why(why, why_len, cmd, "could not be started: pipe failed");
        if (po[0] >= 0) {
            close(po[0]);
            close(po[1]);
        }
        return -1;
    }
    char *argv[] = {"sh", "-c", (char *)GUARD_SH, "tlbench-guard", (char *)cmd, NULL};
    int64_t deadline = tlb_now_ns() + (int64_t)timeout_ms * 1000000;
    pid_t pid = spawn_guard(argv, NULL, NULL, po[1], pe[1]);
    int spawn_err = errno;
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
        char m[128];
        snprintf(m, sizeof m, "could not be started: %s", strerror(spawn_err));
        set_why(why, why_len, cmd, m);
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    int open_fds = 2, timed_out = 0;
    struct pollfd pfd[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    while (open_fds > 0) {
        int64_t left = (deadline - tlb_now_ns()) / 1000000;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(pfd, 2, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            timed_out = 1; /* the deadline, or poll failed: stop either way */
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char tmp[512];
            ssize_t got = read(pfd[i].fd, tmp, sizeof tmp);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open_fds--;
                continue;
            }
            /* keep what fits, drain the rest so the child never blocks on a full pipe */
            char *dst = i == 0 ? out : err;
            size_t cap = i == 0 ? out_len : sizeof err;
            size_t *n = i == 0 ? &out_n : &err_n;
            size_t take = cap > *n + 1 ? TLB_MIN((size_t)got, cap - 1 - *n) : 0;
            if (take) {
                memcpy(dst + *n, tmp, take);
                *n += take;
                dst[*n] = '\0';
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0) close(pfd[i].fd);
    int status = finish(pid, deadline, &timed_out);
    if (timed_out || status < 0) {
        char m[64];
        if (timed_out) snprintf(m, sizeof m, "did not finish within %d ms", timeout_ms);
        else snprintf(m, sizeof m, "could not be waited for");
        set_why(why, why_len, cmd, m);
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    err[strcspn(err, "\n")] = '\0';
    char m[400];
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code > 128 && code < 128 + 65) /* the guard reports a signal death as 128 + N */
        snprintf(m, sizeof m, "was killed by signal %d", code - 128);
    else
        snprintf(m, sizeof m, "exited with status %d%s%.200s", code, err[0] ? ": " : "", err);
    set_why(why, why_len, cmd, m);
    return -1;
}

int tlb_run_argv(const char *const *argv, const char *dir, const char *out_name, int timeout_ms,
                 struct tlb_cmd_end *end, char *why, size_t why_len) {
    memset(end, 0, sizeof *end);
    end->status = -1;
    if (why_len) why[0] = '\0';
    char *args[64];
    size_t n = 0;
    args[n++] = "sh";
    args[n++] = "-c";
    args[n++] = (char *)GUARD_ARGV;
    args[n++] = "tlbench-guard";
    for (size_t i = 0; argv[i]; i++) {
        if (n + 2 > TLB_ARRAY_LEN(args)) {
            snprintf(why, why_len, "%s: too many arguments", argv[0]);
            return -1;
        }
        args[n++] = (char *)argv[i];
    }
    args[n] = NULL;
    int64_t deadline = tlb_now_ns() + (int64_t)timeout_ms * 1000000;
    pid_t pid = spawn_guard(args, dir, out_name, -1, -1);
    if (pid < 0) {
        snprintf(why, why_len, "%s could not be started: %s", argv[0], strerror(errno));
        return -1;
    }
    int status = finish(pid, deadline, &end->timed_out);
    if (end->timed_out) {
        snprintf(why, why_len, "%s did not finish within %d ms; killed", argv[0], timeout_ms);
        return -1;
    }
    if (status < 0) {
        snprintf(why, why_len, "%s could not be waited for", argv[0]);
        return -1;
    }
    end->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}
