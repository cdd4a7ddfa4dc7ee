/* report-gnuplot.c — finds gnuplot and runs it on one script: fork + execv with an argument
 * vector (no shell, nothing interpolated), the chart directory as working directory so the
 * script names only relative files, stdin from /dev/null, output to a log file, its own
 * process group killed after a time limit, and --default-settings so no user init file is
 * read. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "util.h"

static int executable(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int tlb_rep_gnuplot_find(char *buf, size_t n) {
    const char *env = getenv("TLBENCH_GNUPLOT");
    const char *name = env && *env ? env : "gnuplot";
    if (strchr(name, '/')) {
        if (!executable(name) || strlen(name) >= n) return -1;
        snprintf(buf, n, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && len + strlen(name) + 2 <= n) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, name);
            if (executable(buf)) return 0;
        }
        path += len + (end ? 1 : 0);
    }
    return -1;
}

/* First line of dir/name into why (for an error message). */
static void first_line(const char *dir, const char *name, char *why, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = tlb_open_regular(path, 1); /* our own log, but never block on what is there */
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (*line) {
            size_t l = strlen(why);
            snprintf(why + l, n - l, ": %s", line);
            break;
        }
    }
    fclose(f);
}

int tlb_rep_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                        const char *log_name, int timeout_s, char *why, size_t why_len) {
    why[0] = '\0';
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "cannot start gnuplot: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        if (chdir(dir) != 0) _exit(126);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log_name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(126);
        close(in);
        close(out);
        char *const argv[] = {(char *)"gnuplot", (char *)"--default-settings", (char *)script,
                              NULL};
        execv(gnuplot, argv);
        _exit(127);
    }
    setpgid(pid, pid); /* also in the parent: no race with the kill below */
    int64_t deadline = tlb_now_ns() + (int64_t)timeout_s * 1000000000;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) {
            snprintf(why, why_len, "waiting for gnuplot: %s", strerror(errno));
            return -1;
        }
        if (tlb_now_ns() > deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            snprintf(why, why_len, "gnuplot did not finish %s within %d s; killed", script,
                     timeout_s);
            return -1;
        }
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
        snprintf(why, why_len, "cannot set up gnuplot's directory or log in %s", dir);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(why, why_len, "cannot execute %s", gnuplot);
    else if (WIFEXITED(status))
        snprintf(why, why_len, "gnuplot exited with status %d on %s", WEXITSTATUS(status), script);
    else
        snprintf(why, why_len, "gnuplot killed by signal %d on %s", WTERMSIG(status), script);
    first_line(dir, log_name, why, why_len);
    return -1;
}
