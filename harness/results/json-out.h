/* json-out.h — the JSON tlbench writes for other tools, built with cJSON (never by hand):
 *  - results rows (sweep/bench --format json|jsonl): every column, typed, plus llama-bench's
 *    fields where one means the same thing, so llama.cpp's scripts/compare-llama-bench.py and
 *    llama-bench dashboards read them (docs/csv-schema.md lists the mapping);
 *  - compare's history record in Bencher Metric Format (BMF), docs/ci.md;
 *  - info's key/value object.
 * cJSON is optional in the build (libcjson-dev): without it tlb_json_check() says so and every
 * builder returns NULL. */
#ifndef TLB_JSON_OUT_H
#define TLB_JSON_OUT_H

#include <stdio.h>

#include "results-csv.h"

/* 0 when JSON output is available; else -1 after one error line saying that `what` needs
 * cJSON (libcjson-dev) and this build has none. */
int tlb_json_check(const char *what);

/* One results row as a JSON object (one line when pretty is 0). malloc'd text, or NULL (out of
 * memory, or no cJSON). Empty cells are left out; samples are arrays. */
char *tlb_json_row(const struct tlb_row *r, int pretty);

/* Rows to a stream as each configuration ends: a JSON array (llama-bench -o json: "[", rows
 * separated by ",", "]" at the end) or JSON lines (-o jsonl: one object a line). */
struct tlb_json_stream {
    FILE *f;
    int lines; /* 1: jsonl */
    int n;     /* rows written */
};
/* 0, or -1 (write error or no memory: error printed). */
int tlb_json_stream_row(struct tlb_json_stream *s, const struct tlb_row *r);
/* Close the array ("[]" when no row was written); nothing for lines. 0 or -1. */
int tlb_json_stream_end(struct tlb_json_stream *s);

/* A Bencher Metric Format document: {"BENCHMARK": {"MEASURE": {"value": v, "lower_value": lo,
 * "upper_value": hi}}}; lo/hi are left out when not finite. */
struct tlb_bmf;
struct tlb_bmf *tlb_bmf_new(void);
/* 0, or -1 (out of memory, value not finite). A benchmark's measures keep their order. */
int tlb_bmf_add(struct tlb_bmf *d, const char *benchmark, const char *measure, double value,
                double lo, double hi);
char *tlb_bmf_print(const struct tlb_bmf *d); /* malloc'd, pretty-printed, NULL on failure */
void tlb_bmf_free(struct tlb_bmf *d);

/* A flat object of string and number members, in insertion order (info --format json). */
struct tlb_json_obj;
struct tlb_json_obj *tlb_json_obj_new(void);
int tlb_json_obj_str(struct tlb_json_obj *o, const char *key, const char *v);
int tlb_json_obj_num(struct tlb_json_obj *o, const char *key, double v); /* NAN -> null */
char *tlb_json_obj_print(const struct tlb_json_obj *o); /* malloc'd, pretty, NULL on failure */
void tlb_json_obj_free(struct tlb_json_obj *o);

#endif
