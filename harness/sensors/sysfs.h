/* sysfs.h — reading small kernel text files (sysfs, procfs) under a root prefix.
 * Every sensor and system-information reader takes a root ("" for the real system, or a
 * fake tree such as tests/fixtures/sysfs/rpi5) and reads "<root><path>" through these
 * helpers, so tests run the same code on recorded trees. Nothing here prints: callers
 * decide whether a missing file is an error, and errno says why a read failed. */
#ifndef TLB_SYSFS_H
#define TLB_SYSFS_H

#include <stddef.h>

#define TLB_PATH_MAX 1024

/* Join root and path into buf. Returns 0, or -1 (errno = ENAMETOOLONG) when it does not fit. */
int tlb_sysfs_path(char *buf, size_t n, const char *root, const char *path);

/* snprintf for paths: returns 0, or -1 (errno = ENAMETOOLONG, buf truncated) when the
 * result does not fit. Callers check it instead of silently using a cut path. */
int tlb_pathf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read "<root><path>" into buf (NUL-terminated, at most n-1 bytes; trailing whitespace and
 * NUL bytes, as in device-tree strings, removed). Returns the length, or -1 with errno set
 * (ENOENT: absent, EACCES: permission denied, EISDIR, ...). */
int tlb_sysfs_read(const char *root, const char *path, char *buf, size_t n);

/* Read a file holding one integer (decimal, or 0x-hex). Returns 0, or -1 with errno set
 * (EINVAL when the content is not an integer). */
int tlb_sysfs_read_ll(const char *root, const char *path, long long *out);

/* Same for an already joined absolute path (root included). */
int tlb_sysfs_read_abs(const char *abspath, char *buf, size_t n);
int tlb_sysfs_read_ll_abs(const char *abspath, long long *out);

/* Read a whole file of unknown size (procfs reports size 0) into a malloc'd NUL-terminated
 * buffer; *len (may be NULL) gets its length. Returns NULL with errno set (EFBIG when it is
 * longer than max_bytes). The caller frees. */
char *tlb_sysfs_slurp(const char *root, const char *path, size_t max_bytes, size_t *len);

/* Does "<root><path>" exist? */
int tlb_sysfs_exists(const char *root, const char *path);

/* Test hook: when set, every read first calls it with the absolute path; a non-zero return
 * is used as the errno of a failed open. Lets tests simulate EACCES when they run as root
 * (where chmod 000 does not block reads). NULL (the default) disables it. */
extern int (*tlb_sysfs_open_hook)(const char *abspath);

/* Parse a kernel CPU list such as "0-3,6,8-9" and return how many CPUs it names, or -1
 * when it is malformed. */
int tlb_cpulist_count(const char *list);

/* The numbers N of the entries "<prefix>N" of dir (hwmon3, thermal_zone12), sorted; at most
 * max. Returns the count (0 when dir cannot be read). */
int tlb_sysfs_list_numbered(const char *dir, const char *prefix, int *nums, int max);

#endif
