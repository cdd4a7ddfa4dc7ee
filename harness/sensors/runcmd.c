/* runcmd.c — time-limited shell command with captured stdout/stderr (see runcmd.h). */
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

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
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    /* own process group, so a timeout kills the whole pipeline; default signal dispositions */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        char m[128];
        snprintf(m, sizeof m, "could not be started: %s", strerror(rc));
        set_why(why, why_len, cmd, m);
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    int64_t deadline = tlb_now_ns() + (int64_t)timeout_ms * 1000000;
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
            timed_out = r == 0;
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
    if (timed_out) kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            set_why(why, why_len, cmd, "could not be waited for");
            return -1;
        }
    }
    if (timed_out) {
        char m[64];
        snprintf(m, sizeof m, "did not finish within %d ms", timeout_ms);
        set_why(why, why_len, cmd, m);
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    err[strcspn(err, "\n")] = '\0';
    char m[400];
    if (WIFSIGNALED(status))
        snprintf(m, sizeof m, "was killed by signal %d", WTERMSIG(status));
    else
        snprintf(m, sizeof m, "exited with status %d%s%.200s", WEXITSTATUS(status),
                 err[0] ? ": " : "", err);
    set_why(why, why_len, cmd, m);
    return -1;
}
