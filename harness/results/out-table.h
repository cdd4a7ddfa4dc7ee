/* out-table.h — a small table of text cells printed three ways: aligned columns for a
 * terminal or CI log, a Markdown table for pull-request comments, or CSV written with
 * libcsv. Used by the decision commands (compare, fit). */
#ifndef TLB_OUT_TABLE_H
#define TLB_OUT_TABLE_H

#include <stdio.h>

enum tlb_ofmt { TLB_OFMT_TABLE, TLB_OFMT_MD, TLB_OFMT_CSV };
/* "table", "md" (or "markdown"), "csv". Returns 0, or -1 for anything else. */
int tlb_ofmt_parse(const char *s, enum tlb_ofmt *out);

struct tlb_otable;
/* A table with n_cols columns named by headers (copied). NULL when out of memory. */
struct tlb_otable *tlb_otable_new(int n_cols, const char *const *headers);
void tlb_otable_free(struct tlb_otable *t);
/* Append a row of n_cols cells (copied; NULL = ""). Returns 0 or -1 (out of memory). */
int tlb_otable_add(struct tlb_otable *t, const char *const *cells);
/* Print. Table: columns padded to their widest cell (UTF-8 aware), numbers right-aligned.
 * Markdown: '|' in cells escaped, newlines become spaces. CSV: header + rows, every cell
 * quoted by libcsv. Returns 0, or -1 on a write error. */
int tlb_otable_print(const struct tlb_otable *t, FILE *f, enum tlb_ofmt fmt);

#endif
