/* report-text.c — text handling for `tlbench report`: the gnuplot-safe label filter, a
 * growing buffer with HTML, Markdown and base64 writers, and number formatting for tables.
 * Every string from a CSV goes through one of these before it is written anywhere. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

void tlb_rep_safe(const char *s, char *out, size_t n, size_t max_chars) {
    if (n == 0) return;
    if (!s) s = "";
    size_t limit = n - 1 < max_chars ? n - 1 : max_chars, o = 0;
    int space = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            space = o > 0;
            continue;
        }
        if (c >= 0x80 && (c & 0xC0) == 0x80) continue; /* UTF-8 continuation: one '?' per char */
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 strchr("._+-()/:=,", c) != NULL;
        if (space) {
            if (o >= limit) goto cut;
            out[o++] = ' ';
            space = 0;
        }
        if (o >= limit) goto cut;
        out[o++] = ok ? (char)c : '?';
    }
    out[o] = '\0';
    if (o == 0) snprintf(out, n, "-");
    return;
cut:
    /* cut with "..." (when there is room for it) */
    if (limit >= 4) {
        memcpy(out + limit - 3, "...", 3);
        o = limit;
    }
    out[o] = '\0';
}

/* ---------------------------------------------------------------- writers */

void tlb_rep_put_base64(struct tlb_buf *b, const unsigned char *p, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (tlb_buf_reserve(b, (n + 2) / 3 * 4)) return;
    char *o = b->p + b->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
}

int tlb_rep_buf_save(const struct tlb_buf *b, const char *path) {
    if (b->failed) {
        tlb_error("%s: out of memory while building it", path);
        return -1;
    }
    FILE *f = tlb_fopen_output(path, "w");
    if (!f) return -1;
    int bad = b->len && fwrite(b->p, 1, b->len, f) != b->len;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        tlb_error("%s: write error", path);
        return -1;
    }
    return 0;
}


/* ---------------------------------------------------------------- numbers */

const char *tlb_rep_num(double v, char *buf, size_t n) {
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return buf;
    }
    double a = fabs(v);
    if (a == 0) snprintf(buf, n, "0");
    else if (a >= 1000) snprintf(buf, n, "%.0f", v);
    else if (a >= 100) snprintf(buf, n, "%.0f", v);
    else if (a >= 10) snprintf(buf, n, "%.1f", v);
    else if (a >= 1) snprintf(buf, n, "%.2f", v);
    else if (a >= 0.01) snprintf(buf, n, "%.3f", v);
    else snprintf(buf, n, "%.2e", v);
    return buf;
}

const char *tlb_rep_budget_name(uint64_t b, char *buf, size_t n) {
    if (b % ((uint64_t)1 << 30) == 0) snprintf(buf, n, "%llu GiB", (unsigned long long)(b >> 30));
    else if (b % ((uint64_t)1 << 20) == 0) snprintf(buf, n, "%llu MiB", (unsigned long long)(b >> 20));
    else snprintf(buf, n, "%.2f GiB", (double)b / (1024.0 * 1024 * 1024));
    return buf;
}

const char *tlb_rep_bytes(double v, char *buf, size_t n) {
    if (!isfinite(v) || v < 0) snprintf(buf, n, "-");
    else if (v >= 1024.0 * 1024 * 1024) snprintf(buf, n, "%.2f GiB", v / (1024.0 * 1024 * 1024));
    else if (v >= 1024.0 * 1024) snprintf(buf, n, "%.0f MiB", v / (1024.0 * 1024));
    else snprintf(buf, n, "%.0f KiB", v / 1024.0);
    return buf;
}
