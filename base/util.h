/* util.h — small helpers every module uses: error reporting, clocks, checked allocation,
 * overflow-checked size arithmetic, files opened safely, numbers and comma lists parsed
 * with one error line.
 * Layer base/: what everything above shares and would otherwise write again (this file, the
 * byte buffer buf.h, the key = value reader kv.h, the weight type traits quant.h, the thread
 * pool threadpool.h, SHA-256). It uses only libc and POSIX; nothing here knows about models,
 * kernels or the harness. */
#ifndef TLB_UTIL_H
#define TLB_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TLB_VERSION "0.1.0"

/* Print "tlbench: <message>\n" to stderr. Every user-facing error goes through here so that
 * errors are one line each, named after the file or option at fault. */
void tlb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, prefixed "tlbench: warning: ". */
void tlb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, prefixed "tlbench: note: ": nothing is wrong, but the user should know. */
void tlb_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC). */
int64_t tlb_now_ns(void);
/* A condition variable whose timed waits count tlb_now_ns's clock, and a wait on it until
 * tlb_now_ns() reaches deadline_ns: 0 when woken (or spuriously), ETIMEDOUT, or another errno
 * (pthread_cond_timedwait's). */
void tlb_cond_init_monotonic(pthread_cond_t *cv);
int tlb_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns);

/* Checked allocation: returns NULL (after printing what failed and how much) when out of
 * memory. Callers must still check the result. */
void *tlb_malloc(size_t n, const char *what);
void *tlb_calloc(size_t count, size_t size, const char *what);
/* 64-byte aligned allocation of n bytes for weights and activations; large buffers get
 * madvise(MADV_HUGEPAGE) (measured: ~6% more decode bandwidth). Free with tlb_free_aligned. */
void *tlb_alloc_aligned(size_t n, const char *what);
void tlb_free_aligned(void *p);
/* Drop the whole pages inside [p, p + len) of a read-only file mapping from this process
 * (MADV_DONTNEED; a later read faults them in again from the file): a loader that copied a
 * tensor out of the mapping keeps its peak RSS near one copy of the model, not two. */
void tlb_drop_mapped(const void *p, size_t len);

/* Overflow-checked arithmetic: return 0 and store the result, or return -1 on overflow. */
int tlb_mul_size(size_t a, size_t b, size_t *out);
int tlb_add_size(size_t a, size_t b, size_t *out);

/* Parse helpers for CLI and config values; return 0 on success, -1 on malformed input. */
int tlb_parse_int(const char *s, long min, long max, long *out);
int tlb_parse_double(const char *s, double *out);
/* The same for a value named what (an option, "file.conf:3: key"): 0, or -1 after one error
 * line "<what>: '<text>' is not an integer in [min, max]" (a number in [min, max], a
 * non-negative integer), so every command and file rejects bad numbers alike. */
int tlb_parse_int_msg(const char *what, const char *text, long min, long max, long *out);
int tlb_parse_double_msg(const char *what, const char *text, double min, double max,
                         double *out);
int tlb_parse_u64_msg(const char *what, const char *text, uint64_t *out);

/* Write all n bytes to fd, retrying short writes and EINTR. Returns 0, or -1 (errno set). */
int tlb_write_full(int fd, const void *buf, size_t n);

/* Every input file is opened by name through these, so that nothing can block on it: the open
 * is O_NONBLOCK (a FIFO with no writer would wait forever in a blocking open), then fstat,
 * and anything but a regular file — FIFO, socket, character or block device, directory — is
 * refused before a byte is read; then O_NONBLOCK is cleared.
 * tlb_open_regular: the fd (O_RDONLY, O_CLOEXEC), or -1 with errno set (EINVAL or EISDIR for
 * the wrong kind of file) and, unless quiet, one error line naming the file and what it is,
 * e.g. "x: is a FIFO (named pipe), not a regular file". */
int tlb_open_regular(const char *path, int quiet);
/* The same (errors printed) with the file's size in *size: what a reader that maps or bounds
 * the file needs next. */
int tlb_open_regular_size(const char *path, uint64_t *size);
/* The same as a stdio stream for reading ("rb"); NULL after the error line. */
FILE *tlb_fopen_regular(const char *path);
/* Up to n leading bytes of a regular file (format sniffing): how many were read, or -1 after
 * the error line. */
long tlb_read_magic(const char *path, void *buf, size_t n);
/* Open an output file by name, mode "w" or "a", without blocking: a FIFO with no reader is
 * refused at once ("x: is a FIFO with no reader"); pipes with a reader, /dev/null and other
 * non-regular outputs are allowed. NULL after one error line naming the file. */
FILE *tlb_fopen_output(const char *path, const char *mode);
/* What kind of file a mode is, for messages: "a FIFO (named pipe)", "a directory", ... */
const char *tlb_file_kind(unsigned mode);

/* Read a whole file into a malloc'd buffer (NUL-terminated for convenience; *len excludes
 * the NUL). Returns NULL with an error printed naming the file. max_bytes caps the size.
 * The file must be a regular file (tlb_open_regular). */
char *tlb_read_file(const char *path, size_t max_bytes, size_t *len);

/* Comma lists ("1,2,4", "f32, q8_0"): split s in place at commas into items trimmed of white
 * space. Returns the number of items (an empty s is one empty item), or -1 when there are more
 * than cap. Empty items stay as "": each caller decides whether "a,,b" is an error. */
int tlb_split_list(char *s, char **items, int cap);
/* Is word one of the items of the comma list? */
int tlb_list_has(const char *list, const char *word);

/* Is w a plain word: letters, digits, '_', '-', '.' only, not empty (names from files)? */
int tlb_is_word(const char *w);
/* Does s end with suffix? */
int tlb_ends_with(const char *s, const char *suffix);
/* qsort comparators: ascending doubles (NaN-free input); C strings through char pointers. */
int tlb_cmp_double(const void *a, const void *b);
int tlb_cmp_strp(const void *a, const void *b);
/* Median of v[0..n) sorted ascending, 0 when n == 0 (stats.h's tlb_stat_median sorts a copy;
 * this is for layers below it and for arrays already sorted). */
double tlb_median_sorted(const double *v, size_t n);

/* Deterministic pseudo-random numbers for test and benchmark data (Marsaglia's xorshift32):
 * reproducible from the seed, not for anything that must be unpredictable. *state != 0. */
static inline uint32_t tlb_xorshift32(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}
/* Uniform in [-1, 1) with 23 bits. */
static inline float tlb_rand_pm1(uint32_t *state) {
    return (float)(tlb_xorshift32(state) >> 8) / (float)(1u << 23) - 1.0f;
}

#define TLB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TLB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TLB_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Compile a portable loop three times (AVX-512, AVX2, baseline) and pick at load time by
 * the CPU (GCC ifunc). For loops whose speed matters on every x86 but that are not kernels:
 * attention, dequantization. Off under ASan (its ifunc resolvers run before ASan is up). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define TLB_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TLB_MULTIVERSION
#endif

/* Internal invariant (programmer error), never for input validation. */
#define TLB_ASSERT(x)                                                                  \
    do {                                                                               \
        if (!(x)) {                                                                    \
            fprintf(stderr, "tlbench: internal error %s:%d: %s\n", __FILE__, __LINE__, \
                    #x);                                                               \
            abort();                                                                   \
        }                                                                              \
    } while (0)

#endif
