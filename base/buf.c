/* buf.c — the growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tlb_buf_reserve(struct tlb_buf *b, size_t extra) {
    if (b->failed) return -1;
    size_t need = b->len + extra;
    if (need < b->len || need == SIZE_MAX || (b->max && need > b->max)) goto fail;
    need++; /* the NUL */
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) goto fail;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) goto fail;
    b->p = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = 1;
    return -1;
}

int tlb_buf_add(struct tlb_buf *b, const void *d, size_t n) {
    if (tlb_buf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int tlb_buf_puts(struct tlb_buf *b, const char *s) { return tlb_buf_add(b, s, strlen(s)); }

int tlb_buf_printf(struct tlb_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->failed = 1;
        return -1;
    }
    if (tlb_buf_reserve(b, (size_t)k)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)k;
    return 0;
}

void tlb_buf_clear(struct tlb_buf *b) {
    b->len = 0;
    b->failed = 0;
    if (b->p) b->p[0] = '\0';
}

void tlb_buf_free(struct tlb_buf *b) {
    size_t max = b->max;
    free(b->p);
    memset(b, 0, sizeof *b);
    b->max = max;
}
