/* sha256.h — SHA-256 (FIPS 180-4) of a buffer or a file, for the results' model_hash: the
 * identity of a model file, so rows from different boards can be matched to the same
 * weights. Streaming, so multi-gigabyte files need no memory. */
#ifndef TLB_SHA256_H
#define TLB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct tlb_sha256 {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    unsigned char blk[64]; /* pending partial block */
    size_t n;              /* bytes in blk */
};

void tlb_sha256_init(struct tlb_sha256 *s);
void tlb_sha256_update(struct tlb_sha256 *s, const void *data, size_t n);
void tlb_sha256_final(struct tlb_sha256 *s, unsigned char out[32]);
/* Hex digest (64 characters + NUL) of n bytes. */
void tlb_sha256_hex(const void *data, size_t n, char hex[65]);
/* Hex digest of a whole file. Returns 0, or -1 with an error naming the file. */
int tlb_sha256_file(const char *path, char hex[65]);
/* Use the CPU's SHA instructions when on != 0 and the CPU has them (the default), else the
 * portable code; returns 1 when the instructions are in use. For tests and comparisons. */
int tlb_sha256_set_hw(int on);

#endif
