/* report-gnuplot.c — finds gnuplot and runs it on one script through tlb_run_argv (runcmd.h):
 * an argument vector (nothing interpolated), the chart directory as working directory so the
 * script names only relative files, stdin from /dev/null, output to a log file, its own
 * process group killed after a time limit or when tlbench dies, and --default-settings so no
 * user init file is read. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "runcmd.h"
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
    const char *const argv[] = {gnuplot, "--default-settings", script, NULL};
    struct tlb_cmd_end end;
    int ms = timeout_s > 0 && timeout_s < INT_MAX / 1000 ? timeout_s * 1000 : INT_MAX;
    if (tlb_run_argv(argv, dir, log_name, ms, &end, why, why_len) != 0) {
        if (end.timed_out)
            snprintf(why, why_len, "gnuplot did not finish %s within %d s; killed", script,
                     timeout_s);
        return -1;
    }
    if (end.status == 0) return 0;
    if (end.status == 125)
        snprintf(why, why_len, "cannot set up gnuplot's directory or log in %s", dir);
    else if (end.status == 126 || end.status == 127)
        snprintf(why, why_len, "cannot execute %s", gnuplot);
    else if (end.status > 128)
        snprintf(why, why_len, "gnuplot killed by signal %d on %s", end.status - 128, script);
    else
        snprintf(why, why_len, "gnuplot exited with status %d on %s", end.status, script);
    first_line(dir, log_name, why, why_len);
    return -1;
}
