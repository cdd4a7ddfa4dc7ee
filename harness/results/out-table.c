/* out-table.c — text tables for terminals, Markdown and CSV (see out-table.h). */
#include "out-table.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

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

static void put_text(FILE *f, const char *s, int md) {
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r') fputc(' ', f);
        else if (md && *s == '|') fputs("\\|", f);
        else fputc(*s, f);
    }
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
    size_t *w = calloc((size_t)t->n_cols, sizeof *w);
    if (!w) return -1;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < t->n_cols; c++) w[c] = TLB_MAX(w[c], width(cell(t, r, c)));
    int md = fmt == TLB_OFMT_MD;
    for (int r = 0; r < rows; r++) {
        if (md) fputs("| ", f);
        for (int c = 0; c < t->n_cols; c++) {
            const char *s = cell(t, r, c);
            size_t pad = w[c] - width(s);
            int right = r > 0 && numeric(s);
            if (right) fprintf(f, "%*s", (int)pad, "");
            put_text(f, s, md);
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
    free(w);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
