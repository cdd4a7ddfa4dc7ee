/* util.c — error reporting, clocks, checked allocation and parsing helpers. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

/* One message line on stderr. Messages quote file names and file contents, which are
 * untrusted: escaped for the terminal (escape.h), so a name can neither start a line nor send
 * an escape sequence. No allocation: it works out of memory too. */
static void message(const char *prefix, const char *fmt, va_list ap) {
    char raw[2048], shown[4096];
    vsnprintf(raw, sizeof raw, fmt, ap);
    fprintf(stderr, "%s%s\n", prefix, tlb_esc_term_to(raw, shown, sizeof shown));
}

void tlb_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    message("tlbench: ", fmt, ap);
    va_end(ap);
}

void tlb_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    message("tlbench: warning: ", fmt, ap);
    va_end(ap);
}

void tlb_note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("tlbench: note: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int64_t tlb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void tlb_cond_init_monotonic(pthread_cond_t *cv) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

int tlb_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns) {
    const struct timespec ts = {(time_t)(deadline_ns / 1000000000LL),
                                (long)(deadline_ns % 1000000000LL)};
    return pthread_cond_timedwait(cv, mu, &ts);
}

void *tlb_malloc(size_t n, const char *what) {
    void *p = malloc(n ? n : 1);
    if (!p) tlb_error("out of memory allocating %zu bytes for %s", n, what);
    return p;
}

void *tlb_calloc(size_t count, size_t size, const char *what) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) tlb_error("out of memory allocating %zu x %zu bytes for %s", count, size, what);
    return p;
}

#define TLB_HUGEPAGE (2u << 20)

void *tlb_alloc_aligned(size_t n, const char *what) {
    /* Big buffers start on a 2 MiB boundary so transparent huge pages can back them. The size
     * is rounded only to 64 bytes: rounding it to 2 MiB would make THP fault in a whole huge
     * page for each tensor's tail (measured: ~175 MB of RSS for the 201 tensors of TinyLlama). */
    size_t align = n >= TLB_HUGEPAGE ? TLB_HUGEPAGE : 64;
    size_t rounded;
    if (tlb_add_size(n ? n : 1, 63, &rounded)) {
        tlb_error("allocation size overflow for %s", what);
        return NULL;
    }
    rounded &= ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, align, rounded) != 0) {
        tlb_error("out of memory allocating %zu bytes for %s", n, what);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    /* only whole huge pages: advising the partial tail would round it up again */
    size_t whole = rounded & ~(size_t)(TLB_HUGEPAGE - 1);
    if (whole) madvise(p, whole, MADV_HUGEPAGE);
#endif
    return p;
}

void tlb_free_aligned(void *p) { free(p); }

void tlb_drop_mapped(const void *p, size_t len) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (!p || !len || page == 0 || page == (uintptr_t)-1) return;
    const uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    const uintptr_t hi = ((uintptr_t)p + len) & ~(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice: failure only costs RSS */
}

int tlb_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int tlb_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

int tlb_parse_int(const char *s, long min, long max, long *out) {
    if (!s || !*s) return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max) return -1;
    *out = v;
    return 0;
}

int tlb_parse_double(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int tlb_parse_int_msg(const char *what, const char *text, long min, long max, long *out) {
    if (tlb_parse_int(text, min, max, out) != 0) {
        tlb_error("%s: '%s' is not an integer in [%ld, %ld]", what, text ? text : "", min, max);
        return -1;
    }
    return 0;
}

int tlb_parse_double_msg(const char *what, const char *text, double min, double max,
                         double *out) {
    double v;
    if (tlb_parse_double(text, &v) != 0 || !(v >= min && v <= max)) {
        tlb_error("%s: '%s' is not a number in [%g, %g]", what, text ? text : "", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int tlb_parse_u64_msg(const char *what, const char *text, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (!text || !*text || *text == '-') goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end) goto bad;
    *out = v;
    return 0;
bad:
    tlb_error("%s: '%s' is not a non-negative integer", what, text ? text : "");
    return -1;
}

int tlb_write_full(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

const char *tlb_file_kind(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO (named pipe)";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    }
    return "not a regular file";
}

static int open_regular(const char *path, int quiet, uint64_t *size) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (!quiet) tlb_error("%s: cannot open: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        if (!quiet) tlb_error("%s: cannot stat: %s", path, strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        if (!quiet) tlb_error("%s: is %s, not a regular file", path, tlb_file_kind(st.st_mode));
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    if (size) *size = (uint64_t)st.st_size;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); /* regular files never block anyway */
    return fd;
}

int tlb_open_regular(const char *path, int quiet) { return open_regular(path, quiet, NULL); }

int tlb_open_regular_size(const char *path, uint64_t *size) {
    return open_regular(path, 0, size);
}

FILE *tlb_fopen_regular(const char *path) {
    int fd = tlb_open_regular(path, 0);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        tlb_error("%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

long tlb_read_magic(const char *path, void *buf, size_t n) {
    int fd = tlb_open_regular(path, 0);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            tlb_error("%s: read error: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    return (long)got;
}

FILE *tlb_fopen_output(const char *path, const char *mode) {
    int append = mode[0] == 'a';
    int fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
                            (append ? O_APPEND : 0), 0644);
    if (fd < 0) {
        if (errno == ENXIO) tlb_error("%s: is a FIFO with no reader; refusing to wait for one", path);
        else tlb_error("%s: cannot open for writing: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !append && ftruncate(fd, 0) != 0) {
        tlb_error("%s: cannot truncate: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, append ? "a" : "w");
    if (!f) {
        tlb_error("%s: cannot open for writing: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

char *tlb_read_file(const char *path, size_t max_bytes, size_t *len) {
    FILE *f = tlb_fopen_regular(path);
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        tlb_error("%s: cannot stat: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        tlb_error("%s: file is %lld bytes, more than the %zu allowed", path,
                  (long long)st.st_size, max_bytes);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *buf = tlb_malloc(n + 1, path);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    if (n && fread(buf, 1, n, f) != n) {
        tlb_error("%s: read error", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static char *trim_blanks(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

int tlb_split_list(char *s, char **items, int cap) {
    int n = 0;
    for (char *p = s;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (n == cap) return -1;
        items[n++] = trim_blanks(p);
        if (!comma) return n;
        p = comma + 1;
    }
}

int tlb_list_has(const char *list, const char *word) {
    size_t wl = strlen(word);
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        const char *q = p, *e = p + len;
        while (q < e && isspace((unsigned char)*q)) q++;
        while (e > q && isspace((unsigned char)e[-1])) e--;
        if ((size_t)(e - q) == wl && !strncmp(q, word, wl)) return 1;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

int tlb_is_word(const char *w) {
    if (!*w) return 0;
    for (; *w; w++)
        if (!isalnum((unsigned char)*w) && *w != '_' && *w != '-' && *w != '.') return 0;
    return 1;
}

int tlb_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int tlb_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tlb_median_sorted(const double *v, size_t n) {
    return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int tlb_cmp_strp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}
