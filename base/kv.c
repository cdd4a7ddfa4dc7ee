/* kv.c — the key = value reader (see kv.h). */
#include "kv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

int tlb_kv_read(const char *path, size_t max_bytes, struct tlb_kv_file *f) {
    memset(f, 0, sizeof *f);
    size_t len;
    char *text = tlb_read_file(path, max_bytes, &len);
    if (!text) return -1;
    if (memchr(text, '\0', len)) {
        tlb_error("%s: not a text file (NUL byte)", path);
        free(text);
        return -1;
    }
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    f->text = text;
    f->e = tlb_calloc(lines, sizeof *f->e, "key = value lines");
    if (!f->e) {
        tlb_kv_free(f);
        return -1;
    }
    int lineno = 0;
    for (char *p = text; *p;) {
        lineno++;
        char *nl = strchr(p, '\n'), *line = p;
        if (nl) *nl = '\0';
        p = nl ? nl + 1 : p + strlen(p);
        for (char *h = line; (h = strchr(h, '#')); h++) {
            if (h == line || isspace((unsigned char)h[-1])) {
                *h = '\0';
                break;
            }
        }
        line = trim(line);
        if (!*line) continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            tlb_error("%s:%d: expected 'key = value', got '%.60s'", path, lineno, line);
            tlb_kv_free(f);
            return -1;
        }
        *eq = '\0';
        f->e[f->n++] = (struct tlb_kv_entry){trim(line), trim(eq + 1), lineno};
    }
    return 0;
}

void tlb_kv_free(struct tlb_kv_file *f) {
    free(f->text);
    free(f->e);
    memset(f, 0, sizeof *f);
}
