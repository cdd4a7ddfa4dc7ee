/* report-doc.c — a small document (headings, paragraphs, notes, lists, tables, figures)
 * rendered twice: as Markdown (summary.md, charts linked) and as one self-contained HTML5
 * file (summary.html, charts embedded as PNG data: URIs, styles inline, no script, nothing
 * fetched). All text is escaped for the output it goes to. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

enum kind { K_HEAD, K_PARA, K_NOTE, K_ITEM, K_TABLE, K_FIG };

struct block {
    enum kind kind;
    int level;
    char *id, *lead, *text;
    int n_cols;
    char *align;
    char **cells;             /* headers, then rows */
    size_t n_cells, cap_cells;
    struct tlb_rep_chart chart;
};

struct tlb_doc {
    char *title, *subtitle;
    struct block *b;
    size_t n, cap;
};

static char *dup_or_null(const char *s) {
    if (!s) return NULL;
    char *p = strdup(s);
    if (!p) tlb_error("out of memory");
    return p;
}

struct tlb_doc *tlb_doc_new(const char *title, const char *subtitle) {
    struct tlb_doc *d = tlb_calloc(1, sizeof *d, "report document");
    if (!d) return NULL;
    d->title = dup_or_null(title ? title : "");
    d->subtitle = dup_or_null(subtitle ? subtitle : "");
    if (!d->title || !d->subtitle) {
        tlb_doc_free(d);
        return NULL;
    }
    return d;
}

void tlb_doc_free(struct tlb_doc *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        struct block *b = &d->b[i];
        free(b->id);
        free(b->lead);
        free(b->text);
        free(b->align);
        for (size_t c = 0; c < b->n_cells; c++) free(b->cells[c]);
        free(b->cells);
    }
    free(d->b);
    free(d->title);
    free(d->subtitle);
    free(d);
}

static struct block *add(struct tlb_doc *d, enum kind k) {
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 32;
        struct block *nb = realloc(d->b, cap * sizeof *nb);
        if (!nb) {
            tlb_error("out of memory");
            return NULL;
        }
        d->b = nb;
        d->cap = cap;
    }
    struct block *b = &d->b[d->n++];
    memset(b, 0, sizeof *b);
    b->kind = k;
    return b;
}

static int set_text(struct block *b, const char *lead, const char *text) {
    b->lead = dup_or_null(lead);
    b->text = dup_or_null(text ? text : "");
    return (lead && !b->lead) || !b->text ? -1 : 0;
}

int tlb_doc_heading(struct tlb_doc *d, int level, const char *id, const char *text) {
    struct block *b = add(d, K_HEAD);
    if (!b) return -1;
    b->level = level < 2 ? 2 : level > 3 ? 3 : level;
    b->id = dup_or_null(id);
    return set_text(b, NULL, text) || (id && !b->id) ? -1 : 0;
}

int tlb_doc_para(struct tlb_doc *d, const char *lead, const char *text) {
    struct block *b = add(d, K_PARA);
    return b ? set_text(b, lead, text) : -1;
}

int tlb_doc_note(struct tlb_doc *d, const char *text) {
    struct block *b = add(d, K_NOTE);
    return b ? set_text(b, NULL, text) : -1;
}

int tlb_doc_item(struct tlb_doc *d, const char *lead, const char *text) {
    struct block *b = add(d, K_ITEM);
    return b ? set_text(b, lead, text) : -1;
}

static int add_cell(struct block *b, const char *s) {
    if (b->n_cells == b->cap_cells) {
        size_t cap = b->cap_cells ? b->cap_cells * 2 : 64;
        char **c = realloc(b->cells, cap * sizeof *c);
        if (!c) {
            tlb_error("out of memory");
            return -1;
        }
        b->cells = c;
        b->cap_cells = cap;
    }
    char *p = dup_or_null(s ? s : "");
    if (!p) return -1;
    b->cells[b->n_cells++] = p;
    return 0;
}

int tlb_doc_table(struct tlb_doc *d, int n_cols, const char *const *headers, const char *align) {
    struct block *b = add(d, K_TABLE);
    if (!b) return -1;
    b->n_cols = n_cols;
    b->align = dup_or_null(align);
    if (!b->align || strlen(align) != (size_t)n_cols) return -1;
    for (int i = 0; i < n_cols; i++)
        if (add_cell(b, headers[i])) return -1;
    return 0;
}

int tlb_doc_row(struct tlb_doc *d, const char *const *cells) {
    if (!d->n || d->b[d->n - 1].kind != K_TABLE) return -1;
    struct block *b = &d->b[d->n - 1];
    for (int i = 0; i < b->n_cols; i++)
        if (add_cell(b, cells[i])) return -1;
    return 0;
}

int tlb_doc_figure(struct tlb_doc *d, const struct tlb_rep_chart *chart) {
    struct block *b = add(d, K_FIG);
    if (!b) return -1;
    b->chart = *chart;
    return 0;
}

/* ---------------------------------------------------------------- Markdown */

int tlb_doc_write_md(const struct tlb_doc *d, const char *path) {
    struct tlb_buf o = {0};
    tlb_buf_puts(&o, "# ");
    tlb_esc_md(&o, d->title);
    tlb_buf_puts(&o, "\n\n");
    if (*d->subtitle) {
        tlb_esc_md(&o, d->subtitle);
        tlb_buf_puts(&o, "\n\n");
    }
    for (size_t i = 0; i < d->n; i++) {
        const struct block *b = &d->b[i];
        switch (b->kind) {
        case K_HEAD:
            tlb_buf_puts(&o, b->level == 2 ? "## " : "### ");
            tlb_esc_md(&o, b->text);
            tlb_buf_puts(&o, "\n\n");
            break;
        case K_PARA:
        case K_NOTE:
        case K_ITEM:
            if (b->kind == K_NOTE) tlb_buf_puts(&o, "> **Note:** ");
            if (b->kind == K_ITEM) tlb_buf_puts(&o, "- ");
            if (b->lead) {
                tlb_buf_puts(&o, "**");
                tlb_esc_md(&o, b->lead);
                tlb_buf_puts(&o, "** ");
            }
            tlb_esc_md(&o, b->text);
            /* a list ends with a blank line */
            tlb_buf_puts(&o, b->kind == K_ITEM && i + 1 < d->n && d->b[i + 1].kind == K_ITEM ? "\n"
                                                                                          : "\n\n");
            break;
        case K_TABLE:
            for (size_t c = 0; c < b->n_cells; c++) {
                int col = (int)(c % (size_t)b->n_cols);
                tlb_buf_puts(&o, col ? " | " : "| ");
                tlb_esc_md(&o, *b->cells[c] ? b->cells[c] : " ");
                if (col == b->n_cols - 1) {
                    tlb_buf_puts(&o, " |\n");
                    if (c + 1 == (size_t)b->n_cols) {
                        for (int k = 0; k < b->n_cols; k++)
                            tlb_buf_puts(&o, b->align[k] == 'r' ? "|---:" : "|:---");
                        tlb_buf_puts(&o, "|\n");
                    }
                }
            }
            tlb_buf_puts(&o, "\n");
            break;
        case K_FIG: {
            const struct tlb_rep_chart *c = &b->chart;
            if (c->drawn) {
                tlb_buf_puts(&o, "![");
                tlb_esc_md(&o, c->title);
                tlb_buf_printf(&o, "](charts/%s.png)\n\n", c->name);
            } else {
                tlb_buf_puts(&o, "*Chart not drawn (see the note at the top); its data and "
                                "gnuplot script are in charts/.*\n\n");
            }
            tlb_buf_puts(&o, "*How to read this:* ");
            tlb_esc_md(&o, c->how);
            tlb_buf_puts(&o, "\n\n");
            if (*c->note) {
                tlb_buf_puts(&o, "> **Note:** ");
                tlb_esc_md(&o, c->note);
                tlb_buf_puts(&o, "\n\n");
            }
            tlb_buf_printf(&o, "Files: %s[SVG](charts/%s.svg), [data](charts/%s.tsv), "
                               "[gnuplot script](charts/%s.gp)\n\n",
                           c->drawn ? "" : "(after gnuplot runs) ", c->name, c->name, c->name);
            break;
        }
        }
    }
    int rc = tlb_rep_buf_save(&o, path);
    tlb_buf_free(&o);
    return rc;
}

/* ---------------------------------------------------------------- HTML */

static const char css[] =
    ":root{--ink:#1f2933;--muted:#5f6b7a;--line:#d9dee5;--accent:#2f5d8a;--bg:#f6f8fa}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.55 -apple-system,"
    "'Segoe UI',Roboto,'DejaVu Sans','Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1240px;margin:0 auto;padding:0 24px 48px;background:#fff;"
    "box-shadow:0 0 0 1px var(--line)}"
    "header{border-bottom:4px solid var(--accent);padding:28px 0 16px;margin-bottom:8px}"
    "h1{font-size:28px;margin:0 0 6px;font-weight:650;letter-spacing:-.01em}"
    ".sub{color:var(--muted);margin:0}"
    "h2{font-size:21px;margin:36px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}"
    "h3{font-size:17px;margin:24px 0 8px}"
    "p{margin:8px 0 12px;max-width:80em}"
    "h1,h2,h3,p,li,.note{overflow-wrap:anywhere}"
    "nav{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px 18px;"
    "margin:18px 0}"
    "nav strong{display:block;margin-bottom:4px}"
    "nav ol{margin:0;padding-left:20px;columns:2;column-gap:40px}"
    "a{color:var(--accent)}"
    ".note{border-left:4px solid #d4a017;background:#fff8e1;padding:10px 14px;margin:12px 0;"
    "border-radius:0 4px 4px 0}"
    ".table-wrap{overflow-x:auto;margin:10px 0 18px}"
    "table{border-collapse:collapse;font-size:14px;min-width:50%}"
    "th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:top}"
    "th{background:#eef2f6;font-weight:600;vertical-align:bottom}"
    "tbody tr:nth-child(even){background:#fafbfc}"
    "td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}td.r{white-space:nowrap}"
    "figure{margin:18px 0 30px;padding:12px;border:1px solid var(--line);border-radius:6px}"
    "figure img{display:block;max-width:100%;height:auto;margin:0 auto}"
    "figcaption{margin-top:10px;color:var(--ink);font-size:14px}"
    "figcaption .how{display:block}"
    "figcaption .files{display:block;color:var(--muted);margin-top:4px}"
    ".missing{padding:40px;text-align:center;color:var(--muted);background:var(--bg);"
    "border-radius:4px}"
    "footer{margin-top:40px;padding-top:12px;border-top:1px solid var(--line);"
    "color:var(--muted);font-size:13px}"
    "@media print{body{background:#fff}main{box-shadow:none}nav{display:none}"
    "figure{break-inside:avoid}}";

/* PNG width and height from the IHDR chunk; 0 when the bytes are not a PNG. */
static int png_size(const unsigned char *p, size_t n, unsigned *w, unsigned *h) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 24 || memcmp(p, sig, 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0) return 0;
    *w = (unsigned)p[16] << 24 | (unsigned)p[17] << 16 | (unsigned)p[18] << 8 | p[19];
    *h = (unsigned)p[20] << 24 | (unsigned)p[21] << 16 | (unsigned)p[22] << 8 | p[23];
    return *w > 0 && *h > 0;
}

static void html_figure(struct tlb_buf *o, const struct tlb_rep_chart *c, const char *dir) {
    tlb_buf_printf(o, "<figure id=\"fig-%s\">\n", c->name);
    int embedded = 0;
    if (c->drawn) {
        char path[4096];
        size_t n = 0;
        snprintf(path, sizeof path, "%s/charts/%s.png", dir, c->name);
        unsigned char *png = (unsigned char *)tlb_read_file(path, (size_t)32 << 20, &n);
        unsigned w, h;
        if (png && png_size(png, n, &w, &h)) {
            tlb_buf_puts(o, "<img alt=\"");
            tlb_esc_html(o, c->title);
            tlb_buf_printf(o, "\" width=\"%u\" height=\"%u\" src=\"data:image/png;base64,", w, h);
            tlb_rep_put_base64(o, png, n);
            tlb_buf_puts(o, "\">\n");
            embedded = 1;
        }
        free(png);
    }
    if (!embedded) {
        tlb_buf_puts(o, "<div class=\"missing\">Chart not drawn: ");
        tlb_esc_html(o, c->title);
        tlb_buf_puts(o, " (see the note at the top; its data and gnuplot script are in charts/)"
                       "</div>\n");
    }
    tlb_buf_puts(o, "<figcaption><span class=\"how\"><strong>How to read this.</strong> ");
    tlb_esc_html(o, c->how);
    tlb_buf_puts(o, "</span>");
    if (*c->note) {
        tlb_buf_puts(o, "<span class=\"how\"><strong>Note.</strong> ");
        tlb_esc_html(o, c->note);
        tlb_buf_puts(o, "</span>");
    }
    tlb_buf_printf(o, "<span class=\"files\">Files: <a href=\"charts/%s.svg\">SVG</a> · "
                      "<a href=\"charts/%s.png\">PNG</a> · <a href=\"charts/%s.tsv\">data</a> · "
                      "<a href=\"charts/%s.gp\">gnuplot script</a></span></figcaption>\n"
                      "</figure>\n",
                   c->name, c->name, c->name, c->name);
}

int tlb_doc_write_html(const struct tlb_doc *d, const char *dir, const char *path) {
    struct tlb_buf o = {0};
    tlb_buf_puts(&o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<meta name=\"generator\" content=\"tlbench " TLB_VERSION "\">\n<title>");
    tlb_esc_html(&o, d->title);
    tlb_buf_printf(&o, "</title>\n<style>%s</style>\n</head>\n<body>\n<main id=\"tlbench-report\">\n"
                       "<header>\n<h1>",
                   css);
    tlb_esc_html(&o, d->title);
    tlb_buf_puts(&o, "</h1>\n<p class=\"sub\">");
    tlb_esc_html(&o, d->subtitle);
    tlb_buf_puts(&o, "</p>\n</header>\n");
    /* contents: the level-2 headings */
    int any = 0;
    for (size_t i = 0; i < d->n; i++) {
        const struct block *b = &d->b[i];
        if (b->kind != K_HEAD || b->level != 2 || !b->id) continue;
        if (!any++) tlb_buf_puts(&o, "<nav id=\"contents\"><strong>Contents</strong><ol>\n");
        tlb_buf_printf(&o, "<li><a href=\"#%s\">", b->id);
        tlb_esc_html(&o, b->text);
        tlb_buf_puts(&o, "</a></li>\n");
    }
    if (any) tlb_buf_puts(&o, "</ol></nav>\n");
    for (size_t i = 0; i < d->n; i++) {
        const struct block *b = &d->b[i];
        switch (b->kind) {
        case K_HEAD:
            tlb_buf_printf(&o, "<h%d", b->level);
            if (b->id) tlb_buf_printf(&o, " id=\"%s\"", b->id);
            tlb_buf_puts(&o, ">");
            tlb_esc_html(&o, b->text);
            tlb_buf_printf(&o, "</h%d>\n", b->level);
            break;
        case K_PARA:
        case K_NOTE:
        case K_ITEM:
            if (b->kind == K_ITEM && (i == 0 || d->b[i - 1].kind != K_ITEM)) tlb_buf_puts(&o, "<ul>\n");
            tlb_buf_puts(&o, b->kind == K_PARA ? "<p>" : b->kind == K_NOTE ? "<div class=\"note\">"
                                                                          : "<li>");
            if (b->lead) {
                tlb_buf_puts(&o, "<strong>");
                tlb_esc_html(&o, b->lead);
                tlb_buf_puts(&o, "</strong> ");
            }
            tlb_esc_html(&o, b->text);
            tlb_buf_puts(&o, b->kind == K_PARA ? "</p>\n" : b->kind == K_NOTE ? "</div>\n"
                                                                             : "</li>\n");
            if (b->kind == K_ITEM && (i + 1 == d->n || d->b[i + 1].kind != K_ITEM))
                tlb_buf_puts(&o, "</ul>\n");
            break;
        case K_TABLE:
            tlb_buf_puts(&o, "<div class=\"table-wrap\"><table>\n<thead><tr>");
            for (size_t c = 0; c < b->n_cells; c++) {
                int col = (int)(c % (size_t)b->n_cols), head = c < (size_t)b->n_cols;
                if (col == 0 && !head) tlb_buf_puts(&o, "<tr>");
                tlb_buf_printf(&o, "<%s%s>", head ? "th" : "td",
                               b->align[col] == 'r' ? " class=\"r\"" : "");
                tlb_esc_html(&o, b->cells[c]);
                tlb_buf_printf(&o, "</%s>", head ? "th" : "td");
                if (col == b->n_cols - 1)
                    tlb_buf_puts(&o, head ? "</tr></thead>\n<tbody>\n" : "</tr>\n");
            }
            tlb_buf_puts(&o, "</tbody>\n</table></div>\n");
            break;
        case K_FIG:
            html_figure(&o, &b->chart, dir);
            break;
        }
    }
    tlb_buf_puts(&o, "<footer>Generated by tlbench " TLB_VERSION " (tlbench report). Numbers "
                    "are medians over repetitions unless stated; every chart's data and gnuplot "
                    "script are in the charts/ directory next to this page.</footer>\n"
                    "</main>\n</body>\n</html>\n");
    int rc = tlb_rep_buf_save(&o, path);
    tlb_buf_free(&o);
    return rc;
}
