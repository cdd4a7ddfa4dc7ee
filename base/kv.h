/* kv.h — the `key = value` text files tlbench reads: sweep files (sweeps/NAME.conf) and platform
 * profiles (platforms/NAME.conf), one reader for both. One setting a line; '#' starts a comment
 * at the start of a line or after white space (so "echo '5#x'" keeps its '#'); blank lines,
 * CR before LF and white space around keys and values are ignored. The file is untrusted:
 * bounded size, no NUL byte, every other line must hold a '='. What the keys mean is the
 * caller's business. */
#ifndef TLB_KV_H
#define TLB_KV_H

#include <stddef.h>

struct tlb_kv_entry {
    const char *key, *value; /* point into the file's text */
    int line;                /* 1-based */
};

struct tlb_kv_file {
    char *text;
    struct tlb_kv_entry *e;
    int n;
};

/* Read path (at most max_bytes). 0, or -1 after one error line naming the file (and the line
 * for a line without '='). */
int tlb_kv_read(const char *path, size_t max_bytes, struct tlb_kv_file *f);
void tlb_kv_free(struct tlb_kv_file *f);

#endif
