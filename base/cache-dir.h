/* cache-dir.h — where tlbench remembers things between runs (model digests, the probes' last
 * figures): $TLBENCH_CACHE_DIR, else $XDG_CACHE_HOME/tlbench, else $HOME/.cache/tlbench. A
 * cache is a convenience: when there is no place for it, callers go on without it. */
#ifndef TLB_CACHE_DIR_H
#define TLB_CACHE_DIR_H

#include <stddef.h>

/* The path of the cache file called name into file, and its directory into dir. 0, or -1
 * when there is no place for it. */
int tlb_cache_file(const char *name, char *dir, size_t dn, char *file, size_t fn);

/* The text of cache file (NUL-terminated, at most max bytes, *len its length; the caller
 * frees it): NULL when absent or not a regular file (quietly), or too long or unreadable
 * (with the error line). */
char *tlb_cache_read(const char *file, size_t max, size_t *len);

/* Make the cache directory dir (from tlb_cache_file), and ~/.cache, when missing. 0, or -1. */
int tlb_cache_dir_make(const char *dir);

#endif
