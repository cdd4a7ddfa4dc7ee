/* escape.c — escaping for terminals, Markdown and HTML (see escape.h). */
#include "escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at p (1..4), or 0 when invalid (overlong, surrogate, past
 * U+10FFFF, cut short). */
static int utf8_len(const unsigned char *p) {
    if (p[0] < 0x80) return 1;
    int n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && p[0] < 0xC2) || p[0] > 0xF4) return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && p[0] == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
    if (n == 3 && p[0] == 0xED && p[1] >= 0xA0) return 0; /* surrogates */
    if (n == 4 && p[0] == 0xF0 && p[1] < 0x90) return 0;
    if (n == 4 && p[0] == 0xF4 && p[1] >= 0x90) return 0;
    return n;
}

static uint32_t code_point(const unsigned char *p, int n) {
    if (n == 1) return p[0];
    uint32_t c = p[0] & (0x7F >> n);
    for (int i = 1; i < n; i++) c = c << 6 | (p[i] & 0x3F);
    return c;
}

/* Characters that change how the text around them is shown: C1 controls and the
 * bidirectional embeddings, overrides and isolates (a name could reverse a table row). */
static int invisible_control(uint32_t c) {
    return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
}

/* The terminal form of the character at p (n bytes, code point c) into out (at least 7 bytes):
 * the character itself, or \n, \t, \xNN, \uNNNN. Returns the bytes written. */
static size_t term_char(const unsigned char *p, int n, uint32_t c, char *out) {
    if (c == '\n') return (size_t)snprintf(out, 7, "\\n");
    if (c == '\t') return (size_t)snprintf(out, 7, "\\t");
    if (c < 0x20 || c == 0x7F) return (size_t)snprintf(out, 7, "\\x%02x", (unsigned)c);
    if (invisible_control(c)) return (size_t)snprintf(out, 7, "\\u%04x", (unsigned)c);
    memcpy(out, p, (size_t)n);
    return (size_t)n;
}

void tlb_esc_term(struct tlb_buf *b, const char *s) {
    char one[8];
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        int n = utf8_len(p);
        if (n == 0) {
            tlb_buf_printf(b, "\\x%02x", *p++);
            continue;
        }
        tlb_buf_add(b, one, term_char(p, n, code_point(p, n), one));
        p += n;
    }
}

/* Copy the valid UTF-8 character at p (or U+FFFD for an invalid byte); returns what follows
 * it, or NULL when it is a control character the caller handles. */
static const unsigned char *put_char(struct tlb_buf *b, const unsigned char *p) {
    int n = utf8_len(p);
    if (n == 0) {
        tlb_buf_puts(b, "\xEF\xBF\xBD");
        return p + 1;
    }
    uint32_t c = code_point(p, n);
    if (c < 0x20 || c == 0x7F || invisible_control(c)) return p + n; /* dropped */
    tlb_buf_add(b, p, (size_t)n);
    return p + n;
}

void tlb_esc_utf8(struct tlb_buf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        int n = utf8_len(p);
        if (n == 0) {
            tlb_buf_puts(b, "\xEF\xBF\xBD");
            p++;
            continue;
        }
        tlb_buf_add(b, p, (size_t)n);
        p += n;
    }
}

void tlb_esc_html(struct tlb_buf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        const char *e = NULL;
        switch (*p) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        case '\n': case '\r': case '\t': e = " "; break;
        default: break;
        }
        if (e) {
            tlb_buf_puts(b, e);
            p++;
            continue;
        }
        p = put_char(b, p);
    }
}

void tlb_esc_md(struct tlb_buf *b, const char *s) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    if (*p == '+' || *p == '-' || *p == '=') { /* a list item or underline at a line start */
        tlb_buf_printf(b, "\\%c", *p);
        p++;
    }
    while (*p) {
        unsigned char c = *p;
        const char *e = NULL;
        switch (c) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '@': e = "&#64;"; break;
        case '\n': case '\r': case '\t': e = " "; break;
        default: break;
        }
        if (e) {
            tlb_buf_puts(b, e);
            p++;
            continue;
        }
        if (strchr("\\`*_[]#!|~$", c)) {
            tlb_buf_printf(b, "\\%c", c);
            p++;
            continue;
        }
        p = put_char(b, p);
    }
}

const char *tlb_esc_term_to(const char *s, char *out, size_t n) {
    if (n == 0) return out;
    size_t o = 0;
    int cut = 0;
    char one[8];
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        int len = utf8_len(p);
        size_t k = len ? term_char(p, len, code_point(p, len), one)
                       : (size_t)snprintf(one, sizeof one, "\\x%02x", *p);
        if (o + k + 1 > n) {
            cut = 1;
            break;
        }
        memcpy(out + o, one, k);
        o += k;
        p += len ? len : 1;
    }
    if (cut && n >= 4) { /* "..." on a character boundary */
        if (o > n - 4) o = n - 4;
        while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80) o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < n ? o : n - 1] = '\0';
    return out;
}

void tlb_esc_fputs(FILE *f, enum tlb_esc_target t, const char *s) {
    struct tlb_buf b = {0};
    if (t == TLB_ESC_MD) tlb_esc_md(&b, s);
    else if (t == TLB_ESC_HTML) tlb_esc_html(&b, s);
    else tlb_esc_term(&b, s);
    if (b.p && !b.failed) fputs(b.p, f);
    else if (b.failed) fputs("?", f); /* out of memory: nothing raw */
    tlb_buf_free(&b);
}
