/* out-table.c — text tables for terminals, Markdown and CSV (see out-table.h). */
#include "out-table.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "util.h"

struct tlb_otable {
    int n_cols, n_rows, cap_rows;
    char **cells; /* (n_rows + 1) * n_cols; row 0 is the header */
};

int tlb_ofmt_parse(const char *s, enum tlb_ofmt *out) {
    if (!s) return -1;
    if (!strcmp(s, "table")) *out = TLB_OFMT_TABLE;
    else if (!strcmp(s, "md") || !strcmp(s, "markdown")) *out = TLB_OFMT_MD;
    else if (!strcmp(s, "csv")) *out = TLB_OFMT_CSV;
    else return -1;
    return 0;
}

static char *dup_str(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (c) memcpy(c, s, n + 1);
    return c;
}

static int add_row(struct tlb_otable *t, const char *const *cells) {
    if (t->n_rows + 1 >= t->cap_rows) {
        int cap = t->cap_rows ? t->cap_rows * 2 : 16;
        char **c = realloc(t->cells, (size_t)cap * (size_t)t->n_cols * sizeof *c);
        if (!c) return -1;
        t->cells = c;
        t->cap_rows = cap;
    }
    char **row = t->cells + (size_t)(t->n_rows + 1) * (size_t)t->n_cols;
    for (int i = 0; i < t->n_cols; i++) {
        if (!(row[i] = dup_str(cells[i]))) {
            while (i-- > 0) free(row[i]);
            return -1;
        }
    }
    t->n_rows++;
    return 0;
}

struct tlb_otable *tlb_otable_new(int n_cols, const char *const *headers) {
    struct tlb_otable *t = tlb_calloc(1, sizeof *t, "output table");
    if (!t) return NULL;
    t->n_cols = n_cols;
    t->n_rows = -1; /* the header goes in as row "-1", i.e. slot 0 */
    if (add_row(t, headers) != 0) {
        tlb_error("out of memory building a table");
        free(t->cells);
        free(t);
        return NULL;
    }
    return t;
}

void tlb_otable_free(struct tlb_otable *t) {
    if (!t) return;
    for (size_t i = 0; i < (size_t)(t->n_rows + 1) * (size_t)t->n_cols; i++) free(t->cells[i]);
    free(t->cells);
    free(t);
}

int tlb_otable_add(struct tlb_otable *t, const char *const *cells) {
    if (add_row(t, cells) != 0) {
        tlb_error("out of memory building a table");
        return -1;
    }
    return 0;
}


/* Display width: UTF-8 code points (continuation bytes do not count). */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

static int numeric(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!strchr("0123456789+-.%eEx", *s)) return 0;
    return 1;
}

static const char *cell(const struct tlb_otable *t, int r, int c) {
    return t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
}

/* Cells come from files: escaped for the terminal or for Markdown (escape.h). */
static char *escaped(const char *s, int md) {
    struct tlb_buf b = {0};
    if (md) tlb_esc_md(&b, s);
    else tlb_esc_term(&b, s);
    if (!b.failed && !b.p) return calloc(1, 1);
    if (b.failed) tlb_buf_free(&b);
    return b.p;
}

int tlb_otable_print(const struct tlb_otable *t, FILE *f, enum tlb_ofmt fmt) {
    int rows = t->n_rows + 1;
    if (fmt == TLB_OFMT_CSV) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < t->n_cols; c++) {
                const char *s = cell(t, r, c);
                if ((c && fputc(',', f) == EOF) || csv_fwrite(f, s, strlen(s)) != 0) return -1;
            }
            if (fputc('\n', f) == EOF) return -1;
        }
        return fflush(f) == 0 ? 0 : -1;
    }
    int md = fmt == TLB_OFMT_MD;
    size_t n_cells = (size_t)rows * (size_t)t->n_cols;
    size_t *w = calloc((size_t)t->n_cols, sizeof *w);
    char **esc = calloc(n_cells, sizeof *esc);
    int rc = w && esc ? 0 : -1;
    for (size_t i = 0; i < n_cells && rc == 0; i++)
        if (!(esc[i] = escaped(t->cells[i], md))) rc = -1;
    for (int r = 0; r < rows && rc == 0; r++)
        for (int c = 0; c < t->n_cols; c++)
            w[c] = TLB_MAX(w[c], width(esc[(size_t)r * (size_t)t->n_cols + (size_t)c]));
    for (int r = 0; r < rows && rc == 0; r++) {
        if (md) fputs("| ", f);
        for (int c = 0; c < t->n_cols; c++) {
            const char *s = esc[(size_t)r * (size_t)t->n_cols + (size_t)c];
            size_t pad = w[c] - width(s);
            int right = r > 0 && numeric(cell(t, r, c));
            if (right) fprintf(f, "%*s", (int)pad, "");
            fputs(s, f);
            if (!right && (c + 1 < t->n_cols || md)) fprintf(f, "%*s", (int)pad, "");
            if (c + 1 < t->n_cols) fputs(md ? " | " : "  ", f);
        }
        fputs(md ? " |\n" : "\n", f);
        if (r == 0) {
            if (md) fputs("|", f);
            for (int c = 0; c < t->n_cols; c++) {
                if (md) {
                    fputc(' ', f);
                    for (size_t i = 0; i < TLB_MAX(w[c], 3); i++) fputc('-', f);
                    fputs(" |", f);
                } else {
                    for (size_t i = 0; i < w[c]; i++) fputc('-', f);
                    if (c + 1 < t->n_cols) fputs("  ", f);
                }
            }
            fputc('\n', f);
        }
    }
    for (size_t i = 0; esc && i < n_cells; i++) free(esc[i]);
    free(esc);
    if (rc) tlb_error("out of memory printing a table");
    free(w);
    return rc == 0 && fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
