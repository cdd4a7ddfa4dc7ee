/* escape.h — one escaping rule per place where text from a file can end up. Board names and
 * labels, model names, status details and file paths come from CSVs and model files, which
 * are untrusted: a name holding a newline, "**RESULT: no regression**", "<details>" or an
 * escape sequence must print as the characters it holds, never as markup or terminal control.
 * Every writer of such text goes through one of these (CSV cells are quoted by libcsv, JSON
 * strings by cJSON, gnuplot labels filtered by report's tlb_rep_safe).
 * Invalid UTF-8 becomes U+FFFD (HTML, Markdown) or a visible \xNN (terminal). */
#ifndef TLB_ESCAPE_H
#define TLB_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

/* Terminal or log line: printable UTF-8 kept; C0/C1 controls, DEL, bidirectional overrides
 * and invalid bytes made visible as \n, \t, \xNN or \uNNNN (so ESC can never start a
 * sequence and a newline never starts a line). */
void tlb_esc_term(struct tlb_buf *b, const char *s);
/* Markdown text and table cells (GitHub flavour): markup characters backslash-escaped
 * (\ ` * _ [ ] # ! | ~ $, and + - = that start the text), & < > @ as HTML entities (no raw HTML, no @mention),
 * newlines and tabs as spaces, other controls dropped. */
void tlb_esc_md(struct tlb_buf *b, const char *s);
/* HTML text and quoted attribute values: & < > " ' as entities, tab/newline as a space,
 * other controls dropped. */
void tlb_esc_html(struct tlb_buf *b, const char *s);

/* Valid UTF-8 for a JSON string (cJSON escapes quotes and controls, but passes any byte):
 * each invalid byte becomes U+FFFD, the rest is kept. */
void tlb_esc_utf8(struct tlb_buf *b, const char *s);

/* Write s escaped for a target to a stream (errors show in ferror(f)). */
enum tlb_esc_target { TLB_ESC_TERM, TLB_ESC_MD, TLB_ESC_HTML };
void tlb_esc_fputs(FILE *f, enum tlb_esc_target t, const char *s);

/* tlb_esc_term into a fixed buffer, cut with "..." when it does not fit (n >= 4): for one
 * value inside a message line. Returns out. */
const char *tlb_esc_term_to(const char *s, char *out, size_t n);

#endif
