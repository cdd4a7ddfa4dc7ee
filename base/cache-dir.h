/* cache-dir.h — where tlbench remembers things between runs (model digests, the probes' last
 * figures): $TLBENCH_CACHE_DIR, else $XDG_CACHE_HOME/tlbench, else $HOME/.cache/tlbench. A
 * cache is a convenience: when there is no place for it, callers go on without it. */
#ifndef TLB_CACHE_DIR_H
#define TLB_CACHE_DIR_H

#include <stddef.h>

/* The path of the cache file called name into file (and its directory into dir); with
 * create, the directory (and ~/.cache) is made when missing. 0, or -1 when there is no place
 * for it or it cannot be made. */
int tlb_cache_file(const char *name, int create, char *dir, size_t dn, char *file, size_t fn);

#endif
