/* buf.h — a growable byte buffer: messages between processes, CSV and GGUF writers, report
 * pages. Capacity doubles; the bytes are always followed by a NUL (text users print p).
 * Failure is sticky, so a writer may add many pieces and check once (tlb_buf.failed). */
#ifndef TLB_BUF_H
#define TLB_BUF_H

#include <stddef.h>

struct tlb_buf {
    char *p;          /* len bytes and a NUL; NULL until the first byte is added */
    size_t len, cap;
    size_t max;       /* refuse to hold more than max bytes (0: no limit but memory) */
    int failed;       /* an add failed (out of memory or past max): later adds do nothing */
};

/* Room for extra more bytes (and the NUL). 0, or -1 (failed set). */
int tlb_buf_reserve(struct tlb_buf *b, size_t extra);
/* Append n bytes / a string / formatted text. 0, or -1 (failed set). */
int tlb_buf_add(struct tlb_buf *b, const void *d, size_t n);
int tlb_buf_puts(struct tlb_buf *b, const char *s);
int tlb_buf_printf(struct tlb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empty b for reuse: keeps the memory, forgets an earlier failure. */
void tlb_buf_clear(struct tlb_buf *b);
/* Free the bytes and reset b to empty (max kept). */
void tlb_buf_free(struct tlb_buf *b);

#endif
