/* hash-cache.h — the SHA-256 of a model file, remembered: a sweep or bench names its model by
 * the hash of the whole file (model_hash), and re-reading gigabytes on every start cost seconds
 * with SHA instructions and tens of seconds without (Arm boards). The digest is kept in a small
 * cache file keyed by the file's device, inode, size, modification and change times, so a file
 * that was replaced or rewritten is hashed again. */
#ifndef TLB_HASH_CACHE_H
#define TLB_HASH_CACHE_H

/* Hex SHA-256 of the regular file at path, from the cache when the file is unchanged, else
 * computed and remembered. The cache is $TLBENCH_CACHE_DIR/sha256, else
 * $XDG_CACHE_HOME/tlbench/sha256, else $HOME/.cache/tlbench/sha256; a cache that cannot be
 * read or written only costs the hashing (never an error). *cached: 1 when the digest came
 * from the cache (may be NULL). Returns 0, or -1 with an error naming the file. */
int tlb_sha256_file_cached(const char *path, char hex[65], int *cached);

#endif
