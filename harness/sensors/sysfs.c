/* sysfs.c — root-prefixed reads of small kernel text files (see sysfs.h). Uses open/read
 * rather than stdio so errno tells the caller exactly why a sensor is unreadable, and
 * O_NONBLOCK so a FIFO planted in a fake tree cannot hang a reader. */
#include "sysfs.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int (*tlb_sysfs_open_hook)(const char *abspath);

int tlb_sysfs_path(char *buf, size_t n, const char *root, const char *path) {
    int w = snprintf(buf, n, "%s%s", root ? root : "", path);
    if (w < 0 || (size_t)w >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int tlb_pathf(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int tlb_sysfs_read_abs(const char *abspath, char *buf, size_t n) {
    if (n == 0) {
        errno = EINVAL;
        return -1;
    }
    buf[0] = '\0';
    if (tlb_sysfs_open_hook) {
        int e = tlb_sysfs_open_hook(abspath);
        if (e) {
            errno = e;
            return -1;
        }
    }
    int fd = tlb_open_regular(abspath, 1);
    if (fd < 0) return -1;
    size_t len = 0;
    while (len + 1 < n) {
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    /* device-tree strings end in NUL; sysfs values end in a newline */
    while (len > 0 && (buf[len - 1] == '\0' || isspace((unsigned char)buf[len - 1]))) len--;
    buf[len] = '\0';
    /* an embedded NUL (device-tree string lists) ends the first string */
    return (int)strlen(buf);
}

int tlb_sysfs_read(const char *root, const char *path, char *buf, size_t n) {
    char p[TLB_PATH_MAX];
    if (tlb_sysfs_path(p, sizeof p, root, path)) return -1;
    return tlb_sysfs_read_abs(p, buf, n);
}

int tlb_sysfs_read_ll_abs(const char *abspath, long long *out) {
    char buf[64];
    if (tlb_sysfs_read_abs(abspath, buf, sizeof buf) < 0) return -1;
    const char *s = buf;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) {
        errno = EINVAL;
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end != '\0') {
        errno = EINVAL;
        return -1;
    }
    *out = v;
    return 0;
}

int tlb_sysfs_read_ll(const char *root, const char *path, long long *out) {
    char p[TLB_PATH_MAX];
    if (tlb_sysfs_path(p, sizeof p, root, path)) return -1;
    return tlb_sysfs_read_ll_abs(p, out);
}

char *tlb_sysfs_slurp(const char *root, const char *path, size_t max_bytes, size_t *len) {
    char p[TLB_PATH_MAX];
    if (tlb_sysfs_path(p, sizeof p, root, path)) return NULL;
    if (tlb_sysfs_open_hook) {
        int e = tlb_sysfs_open_hook(p);
        if (e) {
            errno = e;
            return NULL;
        }
    }
    int fd = tlb_open_regular(p, 1);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= max_bytes) {
                free(buf);
                close(fd);
                errno = EFBIG;
                return NULL;
            }
            size_t ncap = cap * 2 > max_bytes ? max_bytes : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int tlb_sysfs_exists(const char *root, const char *path) {
    char p[TLB_PATH_MAX];
    struct stat st;
    if (tlb_sysfs_path(p, sizeof p, root, path)) return 0;
    return stat(p, &st) == 0;
}

int tlb_cpulist_count(const char *list) {
    int count = 0;
    const char *s = list;
    while (*s) {
        char *end;
        if (!isdigit((unsigned char)*s)) return -1;
        long a = strtol(s, &end, 10), b = a;
        s = end;
        if (*s == '-') {
            s++;
            if (!isdigit((unsigned char)*s)) return -1;
            b = strtol(s, &end, 10);
            s = end;
        }
        if (b < a || b - a > 65536) return -1;
        count += (int)(b - a + 1);
        if (*s == ',') s++;
        else if (*s && !isspace((unsigned char)*s)) return -1;
        else if (*s) break;
    }
    return count;
}

int tlb_sysfs_list_numbered(const char *dir, const char *prefix, int *nums, int max) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t pl = strlen(prefix);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max)
        if (!strncmp(e->d_name, prefix, pl) && e->d_name[pl] >= '0' && e->d_name[pl] <= '9')
            nums[n++] = atoi(e->d_name + pl);
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
            int t = nums[j];
            nums[j] = nums[j - 1];
            nums[j - 1] = t;
        }
    return n;
}
