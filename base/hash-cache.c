/* hash-cache.c — model file digests remembered by file identity (see hash-cache.h). The cache
 * is untrusted input like any file: a line that does not parse is ignored. One line per file:
 *   <64 hex> <dev> <ino> <size> <mtime s> <mtime ns> <ctime s> <ctime ns>
 * Written whole to a temporary file and renamed, newest first, at most MAX_ENTRIES lines. */
#include "hash-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache-dir.h"
#include "sha256.h"
#include "util.h"

#define MAX_ENTRIES 256
#define LINE_MAX_LEN 200

struct key {
    unsigned long long dev, ino, size, mt_s, mt_ns, ct_s, ct_ns;
};

static void key_of(const struct stat *sb, struct key *k) {
    *k = (struct key){(unsigned long long)sb->st_dev, (unsigned long long)sb->st_ino,
                      (unsigned long long)sb->st_size, (unsigned long long)sb->st_mtim.tv_sec,
                      (unsigned long long)sb->st_mtim.tv_nsec,
                      (unsigned long long)sb->st_ctim.tv_sec,
                      (unsigned long long)sb->st_ctim.tv_nsec};
}

/* Parse one cache line; 0 when it is well formed. */
static int parse_line(const char *line, char hex[65], struct key *k) {
    int used = 0;
    if (sscanf(line, "%64[0-9a-f] %llu %llu %llu %llu %llu %llu %llu%n", hex, &k->dev, &k->ino,
               &k->size, &k->mt_s, &k->mt_ns, &k->ct_s, &k->ct_ns, &used) != 8)
        return -1;
    return strlen(hex) == 64 && line[used] == '\0' ? 0 : -1;
}

static int same_key(const struct key *a, const struct key *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

static void remember(const char *dir, const char *file, const char *hex, const struct key *k,
                     char *old) {
    if (tlb_cache_dir_make(dir) != 0) return;
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.%ld", file, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fprintf(f, "%s %llu %llu %llu %llu %llu %llu %llu\n", hex, k->dev, k->ino, k->size, k->mt_s,
            k->mt_ns, k->ct_s, k->ct_ns);
    int kept = 1;
    char *save = NULL;
    for (char *line = old ? strtok_r(old, "\n", &save) : NULL; line && kept < MAX_ENTRIES;
         line = strtok_r(NULL, "\n", &save)) {
        char h2[65];
        struct key k2;
        if (parse_line(line, h2, &k2) != 0 || (k2.dev == k->dev && k2.ino == k->ino)) continue;
        fprintf(f, "%s\n", line);
        kept++;
    }
    if (fclose(f) != 0 || rename(tmp, file) != 0) unlink(tmp);
}

int tlb_sha256_file_cached(const char *path, char hex[65], int *cached) {
    if (cached) *cached = 0;
    struct stat sb;
    int fd = tlb_open_regular(path, 0);
    if (fd < 0) return -1;
    int st = fstat(fd, &sb);
    close(fd);
    if (st != 0) {
        tlb_error("%s: %s", path, strerror(errno));
        return -1;
    }
    struct key k;
    key_of(&sb, &k);
    char dir[PATH_MAX], file[PATH_MAX + 16];
    int have_cache = tlb_cache_file("sha256", dir, sizeof dir, file, sizeof file) == 0;
    size_t len = 0;
    char *text = have_cache ? tlb_cache_read(file, (size_t)MAX_ENTRIES * LINE_MAX_LEN, &len) : NULL;
    if (text) {
        char *copy = strdup(text), *save = NULL;
        for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
            struct key k2;
            if (parse_line(line, hex, &k2) == 0 && same_key(&k, &k2)) {
                free(copy);
                free(text);
                if (cached) *cached = 1;
                return 0;
            }
        }
        free(copy);
    }
    int rc = tlb_sha256_file(path, hex);
    /* remember it only if the file did not change while it was read */
    struct stat after;
    struct key k3;
    if (rc == 0 && have_cache && stat(path, &after) == 0) {
        key_of(&after, &k3);
        if (same_key(&k, &k3)) remember(dir, file, hex, &k, text);
    }
    free(text);
    return rc;
}
