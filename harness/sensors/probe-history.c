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
static int parse_line(const char *line, int *threads, double *gbps, long long *when,
                      const char **cpu) {
    int used = 0;
    if (sscanf(line, "%d %lf %lld %n", threads, gbps, when, &used) != 3 || used == 0) return -1;
    if (*threads < 1 || !(*gbps > 0 && *gbps < 1e6) || *when <= 0 || !line[used]) return -1;
    *cpu = line + used;
    return 0;
}

static char *read_history(const char *file) {
    size_t len;
    return tlb_cache_read(file, (size_t)MAX_ENTRIES * LINE_MAX_LEN, &len);
}

int tlb_probe_history_last(const char *cpu, int threads, double *gbps, time_t *when) {
    char dir[PATH_MAX], file[PATH_MAX + 16];
    if (tlb_cache_file("probes", dir, sizeof dir, file, sizeof file) != 0) return 0;
    char *text = read_history(file), *save = NULL;
    int found = 0;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        int t;
        double g;
        long long w;
        const char *c;
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
    if (tlb_cache_file("probes", dir, sizeof dir, file, sizeof file) != 0 ||
        tlb_cache_dir_make(dir) != 0)
        return;
    char *old = read_history(file), *save = NULL;
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
        const char *c;
        if (parse_line(line, &t, &g, &w, &c) != 0 || strlen(line) >= LINE_MAX_LEN ||
            (t == threads && !strcmp(c, cpu)))
            continue;
        fprintf(f, "%s\n", line);
        kept++;
    }
    free(old);
    if (fclose(f) != 0 || rename(tmp, file) != 0) unlink(tmp);
}
