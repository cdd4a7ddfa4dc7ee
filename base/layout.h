/* layout.h — how a matrix's blocks sit in memory. Every kernel reads ROWS: row after row, as
 * GGUF files store them. R16 (q8_0 and q4_0 with rows a multiple of 16) interleaves 16 rows
 * block by block, so that one 64-byte load holds 4 quants of each of 16 rows and one 512-bit
 * vpdpbusd multiplies all 16 rows by 4 quants of X: no horizontal sums, one scale convert per
 * 16 rows (what llama.cpp's load-time repack does for q4_0). The decode loop over ROWS spends
 * more instructions per byte than one core can stream from DRAM; over R16 it does not.
 * A kernel reads R16 only when its layout_for (kernel.h) asks for it.
 *
 * R16 takes the same bytes as ROWS, so a matrix is rewritten in place. Group g (rows 16g ..
 * 16g + 15), block b (values 32b .. 32b + 31) at byte ((g * nb) + b) * 16 * block bytes, nb
 * blocks per row:
 *   q8_0, 544 bytes: 8 vectors of 64 bytes, vector v's 4-byte lane i = quants 4v .. 4v + 3 of
 *         row 16g + i as unsigned bytes (q + 128); then the 16 rows' f16 scales.
 *   q4_0, 288 bytes: 4 vectors, vector v's lane i = bytes 4v .. 4v + 3 of row 16g + i's qs
 *         (values 4v .. 4v + 3 in the low nibbles, 16 + 4v .. in the high ones); then the 16
 *         f16 scales.
 *
 * PANELS (f32, f16 and bf16 matrices wider than TLB_PANEL_COLS, rows a multiple of
 * TLB_PANEL_ROWS) cuts each block of 128 rows into panels of 2048 columns (the last one
 * narrower) and stores the block panel after panel, each panel its 128 rows' parts one after
 * the other. A decode walks a panel's rows with an X part of 8 KiB that stays in L1 beside the
 * streamed rows, as it does for the 2048-wide matrices, yet the bytes it reads stay one
 * sequential stream per row run. Over ROWS, the 5632-wide matrix's X (22 KiB of f32) left L1
 * between two uses: in three runs on one Zen 4 core, 2048x5632 f16 streamed 20.6-22.9 GB/s over
 * ROWS and 23.3-25.5 over PANELS (README, "Where the cycles go"). Row r, value c, p0 = c
 * rounded down to 2048, w = the panel's width: byte
 * ((r / 128) * 128 * cols + 128 * p0 + (r % 128) * w + c - p0) * size. */
#ifndef TLB_LAYOUT_H
#define TLB_LAYOUT_H

#include <stdint.h>

#include "quant.h"

enum tlb_layout { TLB_LAYOUT_ROWS = 0, TLB_LAYOUT_R16, TLB_LAYOUT_PANELS, TLB_LAYOUT_COUNT };

#define TLB_R16_ROWS 16
#define TLB_PANEL_ROWS 128
#define TLB_PANEL_COLS 2048

/* "rows", "r16", "panels" */
const char *tlb_layout_name(enum tlb_layout l);
/* Can a rows x cols matrix of type t take layout l? (ROWS: always.) */
int tlb_layout_fits(enum tlb_layout l, enum tlb_type t, int64_t rows, int64_t cols);
/* Rows per self-contained group of layout l: 1 (ROWS), 16 (R16), 128 (PANELS). A run of whole
 * groups is a matrix of that layout on its own. */
int tlb_layout_group_rows(enum tlb_layout l);
/* Rewrite data (rows x cols of type t) from layout `from` into `to`, in place, one group at a
 * time through a buffer of one group. Returns 0, or -1 with a message (layout does not fit,
 * out of memory for the buffer). */
int tlb_layout_convert(void *data, enum tlb_type t, int64_t rows, int64_t cols,
                       enum tlb_layout from, enum tlb_layout to);
/* Row r of such a matrix in layout l, as f32 (cols values): embedding lookups in a classifier
 * shared with the token embeddings. */
void tlb_layout_row_f32(const void *data, enum tlb_type t, int64_t cols, enum tlb_layout l,
                        int64_t r, float *out);

/* Value c of row r of a f32/f16/bf16 matrix in ROWS or PANELS (cols values per row, size
 * bytes each), and in *next (unless NULL) the bytes from it to the same value of row r + 1 as
 * long as both sit in one group (layout.h above): ROWS' row stride, or the panel's width.
 * Values c .. up to the panel's end (tlb_panel_end) are contiguous. */
static inline const char *tlb_float_at(const void *data, size_t size, int64_t cols,
                                       enum tlb_layout l, int64_t r, int64_t c, size_t *next) {
    if (l != TLB_LAYOUT_PANELS) {
        if (next) *next = (size_t)cols * size;
        return (const char *)data + ((size_t)r * (size_t)cols + (size_t)c) * size;
    }
    const int64_t p0 = c / TLB_PANEL_COLS * TLB_PANEL_COLS;
    const int64_t w = cols - p0 < TLB_PANEL_COLS ? cols - p0 : TLB_PANEL_COLS;
    const int64_t g = r / TLB_PANEL_ROWS, i = r % TLB_PANEL_ROWS;
    if (next) *next = (size_t)w * size;
    return (const char *)data + ((size_t)(g * TLB_PANEL_ROWS) * (size_t)cols +
                                 (size_t)TLB_PANEL_ROWS * (size_t)p0 + (size_t)(i * w) +
                                 (size_t)(c - p0)) * size;
}
/* The end of the panel holding column c: the next multiple of TLB_PANEL_COLS, or cols (ROWS:
 * always cols). */
static inline int64_t tlb_panel_end(enum tlb_layout l, int64_t cols, int64_t c) {
    if (l != TLB_LAYOUT_PANELS) return cols;
    const int64_t e = (c / TLB_PANEL_COLS + 1) * TLB_PANEL_COLS;
    return e < cols ? e : cols;
}

#endif
