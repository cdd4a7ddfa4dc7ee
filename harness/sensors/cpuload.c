/* cpuload.c — see cpuload.h. */
#include "cpuload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sysfs.h"
#include "util.h"

#define STAT_MAX_BYTES ((size_t)1 << 20)

int tlb_cpuload_parse(const char *stat_text, double ticks_per_s, double *busy_s,
                      double *steal_s) {
    if (!stat_text || !(ticks_per_s > 0)) return -1;
    const char *p = stat_text;
    /* the aggregate line is "cpu" followed by spaces; "cpu0".. are the per-CPU lines */
    while (p && !(strncmp(p, "cpu", 3) == 0 && (p[3] == ' ' || p[3] == '\t'))) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p) return -1;
    p += 3;
    /* user nice system idle iowait irq softirq steal */
    unsigned long long v[8];
    int n = 0;
    for (; n < 8; n++) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p < '0' || *p > '9') break;
        char *end;
        errno = 0;
        v[n] = strtoull(p, &end, 10);
        if (errno || end == p) return -1;
        p = end;
    }
    if (n < 7) return -1; /* steal appeared in Linux 2.6.11; older lines have 7 fields */
    *busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / ticks_per_s;
    *steal_s = n >= 8 ? (double)v[7] / ticks_per_s : 0.0;
    return 0;
}

int tlb_cpuload_sample(const char *root, struct tlb_cpuload_sample *s) {
    memset(s, 0, sizeof *s);
    char *text = tlb_sysfs_slurp(root, "/proc/stat", STAT_MAX_BYTES, NULL);
    if (!text) return -1;
    long tck = sysconf(_SC_CLK_TCK);
    int rc = tlb_cpuload_parse(text, tck > 0 ? (double)tck : 100.0, &s->busy_s, &s->steal_s);
    free(text);
    if (rc != 0) {
        errno = EINVAL;
        return -1;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    s->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    s->wall_s = (double)tlb_now_ns() * 1e-9;
    return 0;
}

int tlb_cpuload_between(const struct tlb_cpuload_sample *a, const struct tlb_cpuload_sample *b,
                        double *others_cpus, double *steal_cpus) {
    double wall = b->wall_s - a->wall_s;
    if (!(wall >= 0.2)) return -1;
    double others = (b->busy_s - a->busy_s) - (b->self_s - a->self_s);
    double steal = b->steal_s - a->steal_s;
    *others_cpus = others > 0 ? others / wall : 0.0;
    *steal_cpus = steal > 0 ? steal / wall : 0.0;
    return 0;
}

int tlb_cpuload_parse_pid_stat(const char *text, double ticks_per_s, double *cpu_s) {
    /* "pid (comm) state ppid ..." — comm may hold spaces and parentheses: fields count from
     * the last ')'; utime and stime are fields 14 and 15 */
    const char *p = text ? strrchr(text, ')') : NULL;
    if (!p || !(ticks_per_s > 0)) return -1;
    p++;
    unsigned long long v[2];
    for (int field = 3, got = 0; got < 2; field++) {
        while (*p == ' ') p++;
        if (!*p || *p == '\n') return -1;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (field >= 14) {
            if (errno || end == p) return -1;
            v[got++] = x;
        }
        p = end;
        while (*p && *p != ' ' && *p != '\n') p++; /* the state letter is not a number */
    }
    *cpu_s = (double)(v[0] + v[1]) / ticks_per_s;
    return 0;
}

int tlb_cpuload_sample_with(const char *root, int pid, struct tlb_cpuload_sample *s) {
    if (tlb_cpuload_sample(root, s) != 0) return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    char *text = tlb_sysfs_slurp(root, path, STAT_MAX_BYTES, NULL);
    if (!text) return -1;
    long tck = sysconf(_SC_CLK_TCK);
    double cpu;
    int rc = tlb_cpuload_parse_pid_stat(text, tck > 0 ? (double)tck : 100.0, &cpu);
    free(text);
    if (rc != 0) {
        errno = EINVAL;
        return -1;
    }
    s->self_s += cpu;
    return 0;
}
