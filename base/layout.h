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
 *         f16 scales. */
#ifndef TLB_LAYOUT_H
#define TLB_LAYOUT_H

#include <stdint.h>

#include "quant.h"

enum tlb_layout { TLB_LAYOUT_ROWS = 0, TLB_LAYOUT_R16, TLB_LAYOUT_COUNT };

#define TLB_R16_ROWS 16

/* "rows", "r16" */
const char *tlb_layout_name(enum tlb_layout l);
/* Can a rows x cols matrix of type t take layout l? (ROWS: always.) */
int tlb_layout_fits(enum tlb_layout l, enum tlb_type t, int64_t rows, int64_t cols);
/* Rewrite data (rows x cols of type t) from layout `from` into `to`, in place, 16 rows at a
 * time through a small buffer. Returns 0, or -1 with a message (layout does not fit, out of
 * memory for the 16-row buffer). */
int tlb_layout_convert(void *data, enum tlb_type t, int64_t rows, int64_t cols,
                       enum tlb_layout from, enum tlb_layout to);
/* Row r of such a matrix in layout l, as f32 (cols values): embedding lookups in a classifier
 * shared with the token embeddings. */
void tlb_layout_row_f32(const void *data, enum tlb_type t, int64_t cols, enum tlb_layout l,
                        int64_t r, float *out);

#endif
