/* layout.c — ROWS <-> R16 and ROWS <-> PANELS in place, and one row of such a matrix as f32
 * (layout.h has the byte layouts). Plain C: it runs once per matrix at load, not per token. */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *tlb_layout_name(enum tlb_layout l) {
    return l == TLB_LAYOUT_R16      ? "r16"
           : l == TLB_LAYOUT_PANELS ? "panels"
           : l == TLB_LAYOUT_ROWS   ? "rows"
                                    : "?";
}

int tlb_layout_group_rows(enum tlb_layout l) {
    return l == TLB_LAYOUT_R16 ? TLB_R16_ROWS : l == TLB_LAYOUT_PANELS ? TLB_PANEL_ROWS : 1;
}

int tlb_layout_fits(enum tlb_layout l, enum tlb_type t, int64_t rows, int64_t cols) {
    if (l == TLB_LAYOUT_ROWS) return 1;
    if (l == TLB_LAYOUT_PANELS) /* narrower matrices: PANELS would be ROWS itself */
        return (t == TLB_TYPE_F32 || t == TLB_TYPE_F16 || t == TLB_TYPE_BF16) && rows > 0 &&
               rows % TLB_PANEL_ROWS == 0 && cols > TLB_PANEL_COLS;
    return l == TLB_LAYOUT_R16 && (t == TLB_TYPE_Q8_0 || t == TLB_TYPE_Q4_0) && rows > 0 &&
           rows % TLB_R16_ROWS == 0 && cols > 0 && cols % TLB_QK == 0;
}

/* One group of 128 rows: ROWS form (row stride rb) <-> PANELS form, value size `size` */
static void panels_move(uint8_t *rows, size_t rb, uint8_t *panels, int64_t cols, size_t size,
                        int to_panels) {
    for (int64_t p0 = 0; p0 < cols; p0 += TLB_PANEL_COLS) {
        const size_t n = (size_t)(tlb_panel_end(TLB_LAYOUT_PANELS, cols, p0) - p0) * size;
        for (int64_t i = 0; i < TLB_PANEL_ROWS; i++) {
            uint8_t *pp = (uint8_t *)(uintptr_t)tlb_float_at(panels, size, cols,
                                                             TLB_LAYOUT_PANELS, i, p0, NULL);
            uint8_t *rp = rows + (size_t)i * rb + (size_t)p0 * size;
            if (to_panels) memcpy(pp, rp, n);
            else memcpy(rp, pp, n);
        }
    }
}

/* Where quant byte j (of the block's 32 for q8_0, 16 for q4_0) of row i sits in an R16 block */
static size_t r16_quant_at(int i, int j) {
    return (size_t)(j / 4) * 64 + (size_t)i * 4 + (size_t)(j % 4);
}

/* 4 quant bytes, the sign bit of each flipped when flip is 0x80 */
static inline void move4(uint8_t *dst, const uint8_t *src, uint8_t flip) {
    uint32_t v;
    memcpy(&v, src, 4);
    v ^= flip * 0x01010101u;
    memcpy(dst, &v, 4);
}

/* Row i's block (blk, ROWS form) <-> its place in an R16 block g: the quants (q8_0's flip
 * their sign bit both ways: q + 128 as unsigned) and the scale after the 16 rows' quants. */
static void block_move(uint8_t *blk, uint8_t *g, int i, int q4, int to_r16) {
    const size_t nq = q4 ? TLB_QK / 2 : TLB_QK, qb = q4 ? 4 * 64 : 8 * 64;
    const uint8_t flip = q4 ? 0 : 0x80;
    uint8_t *qs = blk + TLB_BLOCK_QS(q4), *d = blk + offsetof(struct tlb_block_q8_0, d);
    for (size_t j = 0; j < nq; j += 4) {
        uint8_t *r = g + r16_quant_at(i, (int)j);
        if (to_r16) move4(r, qs + j, flip);
        else move4(qs + j, r, flip);
    }
    if (to_r16) memcpy(g + qb + (size_t)i * 2, d, 2);
    else memcpy(d, g + qb + (size_t)i * 2, 2);
}

/* One group: its 16 rows (ROWS form, row stride rb, nb blocks each) <-> its R16 bytes */
static void group_move(uint8_t *rows, size_t rb, uint8_t *r16, int64_t nb, int q4, int to_r16) {
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    for (int64_t b = 0; b < nb; b++)
        for (int i = 0; i < TLB_R16_ROWS; i++)
            block_move(rows + (size_t)i * rb + (size_t)b * bsz,
                       r16 + (size_t)b * TLB_R16_ROWS * bsz, i, q4, to_r16);
}

int tlb_layout_convert(void *data, enum tlb_type t, int64_t rows, int64_t cols,
                       enum tlb_layout from, enum tlb_layout to) {
    if (from == to) return 0;
    const enum tlb_layout other = from == TLB_LAYOUT_ROWS ? to : from;
    if (!tlb_layout_fits(other, t, rows, cols) ||
        (from != TLB_LAYOUT_ROWS && to != TLB_LAYOUT_ROWS)) {
        tlb_error("a %lld x %lld %s matrix cannot be rewritten from layout %s to %s",
                  (long long)rows, (long long)cols, tlb_type_traits(t)->name,
                  tlb_layout_name(from), tlb_layout_name(to));
        return -1;
    }
    const int q4 = t == TLB_TYPE_Q4_0, gr = tlb_layout_group_rows(other);
    const size_t rb = tlb_type_row_bytes(t, cols), gb = rb * (size_t)gr;
    const size_t size = tlb_type_row_bytes(t, 1); /* PANELS: float types, one value */
    const int64_t nb = cols / TLB_QK;
    uint8_t *buf = tlb_malloc(gb, "layout conversion buffer");
    if (!buf) return -1;
    for (int64_t g = 0; g < rows / gr; g++) {
        uint8_t *p = (uint8_t *)data + (size_t)g * gb; /* the group's bytes in both layouts */
        memcpy(buf, p, gb);
        if (other == TLB_LAYOUT_PANELS)
            panels_move(to == TLB_LAYOUT_PANELS ? buf : p, rb, to == TLB_LAYOUT_PANELS ? p : buf,
                        cols, size, to == TLB_LAYOUT_PANELS);
        else if (to == TLB_LAYOUT_R16)
            group_move(buf, rb, p, nb, q4, 1);
        else
            group_move(p, rb, buf, nb, q4, 0);
    }
    free(buf);
    return 0;
}

void tlb_layout_row_f32(const void *data, enum tlb_type t, int64_t cols, enum tlb_layout l,
                        int64_t r, float *out) {
    const struct tlb_type_traits *tr = tlb_type_traits(t);
    const size_t rb = tlb_type_row_bytes(t, cols);
    if (l == TLB_LAYOUT_PANELS) {
        for (int64_t p0 = 0; p0 < cols; p0 += TLB_PANEL_COLS) {
            tr->to_f32(tlb_float_at(data, tlb_type_row_bytes(t, 1), cols, l, r, p0, NULL),
                       out + p0, tlb_panel_end(l, cols, p0) - p0);
        }
        return;
    }
    if (l != TLB_LAYOUT_R16) {
        tr->to_f32((const char *)data + (size_t)r * rb, out, cols);
        return;
    }
    const int q4 = t == TLB_TYPE_Q4_0;
    const size_t bsz = TLB_BLOCK_BYTES(q4);
    /* block_move only reads the R16 side when to_r16 = 0 */
    uint8_t *grp = (uint8_t *)(uintptr_t)data + (size_t)(r / TLB_R16_ROWS) * rb * TLB_R16_ROWS;
    for (int64_t b = 0; b < cols / TLB_QK; b++) { /* the row's block b back to ROWS form */
        uint8_t blk[sizeof(struct tlb_block_q8_0)];
        block_move(blk, grp + (size_t)b * TLB_R16_ROWS * bsz, (int)(r % TLB_R16_ROWS), q4, 0);
        tr->to_f32(blk, out + b * TLB_QK, TLB_QK);
    }
}
