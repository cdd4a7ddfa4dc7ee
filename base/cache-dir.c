/* cache-dir.c — the cache directory and its files (see cache-dir.h). */
#include "cache-dir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int tlb_cache_dir_make(const char *dir) {
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) return 0;
    /* the parent (~/.cache) may be missing too */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent) return -1;
    *slash = '\0';
    if (mkdir(parent, 0755) != 0 && errno != EEXIST) return -1;
    return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int tlb_cache_file(const char *name, char *dir, size_t dn, char *file, size_t fn) {
    const char *e = getenv("TLBENCH_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"),
               *h = getenv("HOME");
    int w;
    if (e && *e) w = snprintf(dir, dn, "%s", e);
    else if (x && *x == '/') w = snprintf(dir, dn, "%s/tlbench", x);
    else if (h && *h == '/') w = snprintf(dir, dn, "%s/.cache/tlbench", h);
    else return -1;
    if (w < 0 || (size_t)w >= dn) return -1;
    w = snprintf(file, fn, "%s/%s", dir, name);
    return w < 0 || (size_t)w >= fn ? -1 : 0;
}

char *tlb_cache_read(const char *file, size_t max, size_t *len) {
    int fd = tlb_open_regular(file, 1); /* absent (the usual first run): no message */
    if (fd < 0) return NULL;
    close(fd);
    return tlb_read_file(file, max, len);
}
