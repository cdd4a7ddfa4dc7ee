/* probe-history.c — the probes' last figures (see probe-history.h). One line per entry:
 *   <threads> <GB/s> <unix time> <CPU model, to the end of the line>
 * written whole to a temporary file and renamed, newest first. */
#include "probe-history.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-dir.h"
#include "util.h"

#define MAX_ENTRIES 64
#define LINE_MAX_LEN 256

/* Parse one line; 0 when well formed (cpu points into line). */
static int parse_line(char *line, int *threads, double *gbps, long long *when, char **cpu) {
    int used = 0;
    if (sscanf(line, "%d %lf %lld %n", threads, gbps, when, &used) != 3 || used == 0) return -1;
    if (*threads < 1 || !(*gbps > 0 && *gbps < 1e6) || *when <= 0 || !line[used]) return -1;
    *cpu = line + used;
    return 0;
}

static char *read_history(char *file, size_t fn) {
    char dir[PATH_MAX];
    if (tlb_cache_file("probes", 0, dir, sizeof dir, file, fn) != 0) return NULL;
    int fd = tlb_open_regular(file, 1);
    if (fd < 0) return NULL;
    close(fd);
    size_t len;
    return tlb_read_file(file, (size_t)MAX_ENTRIES * LINE_MAX_LEN, &len);
}

int tlb_probe_history_last(const char *cpu, int threads, double *gbps, time_t *when) {
    char file[PATH_MAX + 16];
    char *text = read_history(file, sizeof file), *save = NULL;
    int found = 0;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        int t;
        double g;
        long long w;
        char *c;
        if (parse_line(line, &t, &g, &w, &c) == 0 && t == threads && !strcmp(c, cpu)) {
            *gbps = g;
            *when = (time_t)w;
            found = 1;
        }
    }
    free(text);
    return found;
}

void tlb_probe_history_put(const char *cpu, int threads, double gbps, time_t when) {
    if (!*cpu || strchr(cpu, '\n') || strlen(cpu) > LINE_MAX_LEN - 64) return;
    char dir[PATH_MAX], file[PATH_MAX + 16], tmp[PATH_MAX + 48];
    if (tlb_cache_file("probes", 1, dir, sizeof dir, file, sizeof file) != 0) return;
    char *old = read_history(file, sizeof file), *save = NULL;
    snprintf(tmp, sizeof tmp, "%s.%ld", file, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(old);
        return;
    }
    fprintf(f, "%d %.3f %lld %s\n", threads, gbps, (long long)when, cpu);
    int kept = 1;
    for (char *line = old ? strtok_r(old, "\n", &save) : NULL; line && kept < MAX_ENTRIES;
         line = strtok_r(NULL, "\n", &save)) {
        int t;
        double g;
        long long w;
        char *c, copy[LINE_MAX_LEN];
        snprintf(copy, sizeof copy, "%s", line);
        if (parse_line(copy, &t, &g, &w, &c) != 0 || (t == threads && !strcmp(c, cpu))) continue;
        fprintf(f, "%s\n", line);
        kept++;
    }
    free(old);
    if (fclose(f) != 0 || rename(tmp, file) != 0) unlink(tmp);
}
