/* layout.c — ROWS <-> R16 in place, and one row of an R16 matrix as f32 (layout.h has the
 * byte layout). Plain C: it runs once per matrix at load, not per token. */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *tlb_layout_name(enum tlb_layout l) {
    return l == TLB_LAYOUT_R16 ? "r16" : l == TLB_LAYOUT_ROWS ? "rows" : "?";
}

int tlb_layout_fits(enum tlb_layout l, enum tlb_type t, int64_t rows, int64_t cols) {
    if (l == TLB_LAYOUT_ROWS) return 1;
    return l == TLB_LAYOUT_R16 && (t == TLB_TYPE_Q8_0 || t == TLB_TYPE_Q4_0) && rows > 0 &&
           rows % TLB_R16_ROWS == 0 && cols > 0 && cols % TLB_QK == 0;
}

/* Where quant byte j (of the block's 32 for q8_0, 16 for q4_0) of row i sits in an R16 block */
static size_t r16_quant_at(int i, int j) { return (size_t)(j / 4) * 64 + (size_t)i * 4 + (size_t)(j % 4); }

/* Bytes of one R16 block: the quants, then the 16 scales */
static size_t r16_quant_bytes(int q4) { return q4 ? 4 * 64 : 8 * 64; }

/* 4 quant bytes, the sign bit of each flipped when flip is 0x80 */
static inline void move4(uint8_t *dst, const uint8_t *src, uint8_t flip) {
    uint32_t v;
    memcpy(&v, src, 4);
    v ^= flip * 0x01010101u;
    memcpy(dst, &v, 4);
}

/* One group: 16 rows (ROWS, row stride rb) <-> its R16 bytes. q8_0 quants flip their sign bit
 * (q + 128 as unsigned) both ways. */
static void group_to_r16(const uint8_t *rows, size_t rb, int64_t nb, int q4, uint8_t *out) {
    const size_t bsz = TLB_BLOCK_BYTES(q4), nq = q4 ? TLB_QK / 2 : TLB_QK;
    const size_t qb = r16_quant_bytes(q4);
    const uint8_t flip = q4 ? 0 : 0x80;
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *o = out + (size_t)b * TLB_R16_ROWS * bsz;
        for (int i = 0; i < TLB_R16_ROWS; i++) {
            const uint8_t *blk = rows + (size_t)i * rb + (size_t)b * bsz;
            const uint8_t *qs = blk + TLB_BLOCK_QS(q4);
            for (size_t j = 0; j < nq; j += 4) move4(o + r16_quant_at(i, (int)j), qs + j, flip);
            const uint16_t d = tlb_block_scale(blk);
            memcpy(o + qb + (size_t)i * 2, &d, 2);
        }
    }
}

static void group_from_r16(const uint8_t *in, int64_t nb, int q4, uint8_t *rows, size_t rb) {
    const size_t bsz = TLB_BLOCK_BYTES(q4), nq = q4 ? TLB_QK / 2 : TLB_QK;
    const size_t qb = r16_quant_bytes(q4);
    const uint8_t flip = q4 ? 0 : 0x80;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *g = in + (size_t)b * TLB_R16_ROWS * bsz;
        for (int i = 0; i < TLB_R16_ROWS; i++) {
            uint8_t *blk = rows + (size_t)i * rb + (size_t)b * bsz;
            uint8_t *qs = blk + TLB_BLOCK_QS(q4);
            for (size_t j = 0; j < nq; j += 4) move4(qs + j, g + r16_quant_at(i, (int)j), flip);
            memcpy(blk + offsetof(struct tlb_block_q8_0, d), g + qb + (size_t)i * 2, 2);
        }
    }
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
    const int q4 = t == TLB_TYPE_Q4_0;
    const size_t rb = tlb_type_row_bytes(t, cols), gb = rb * TLB_R16_ROWS;
    const int64_t nb = cols / TLB_QK;
    uint8_t *buf = tlb_malloc(gb, "layout conversion buffer");
    if (!buf) return -1;
    for (int64_t g = 0; g < rows / TLB_R16_ROWS; g++) {
        uint8_t *p = (uint8_t *)data + (size_t)g * gb; /* the group's bytes in both layouts */
        memcpy(buf, p, gb);
        if (to == TLB_LAYOUT_R16)
            group_to_r16(buf, rb, nb, q4, p);
        else
            group_from_r16(buf, nb, q4, p, rb);
    }
    free(buf);
    return 0;
}

void tlb_layout_row_f32(const void *data, enum tlb_type t, int64_t cols, enum tlb_layout l,
                        int64_t r, float *out) {
    const struct tlb_type_traits *tr = tlb_type_traits(t);
    const size_t rb = tlb_type_row_bytes(t, cols);
    if (l != TLB_LAYOUT_R16) {
        tr->to_f32((const char *)data + (size_t)r * rb, out, cols);
        return;
    }
    const int q4 = t == TLB_TYPE_Q4_0;
    const size_t bsz = TLB_BLOCK_BYTES(q4), nq = q4 ? TLB_QK / 2 : TLB_QK;
    const size_t qb = r16_quant_bytes(q4);
    const int i = (int)(r % TLB_R16_ROWS);
    const uint8_t *grp = (const uint8_t *)data + (size_t)(r / TLB_R16_ROWS) * rb * TLB_R16_ROWS;
    for (int64_t b = 0; b < cols / TLB_QK; b++) { /* the row's block b back to ROWS form */
        const uint8_t *g = grp + (size_t)b * TLB_R16_ROWS * bsz;
        uint8_t blk[sizeof(struct tlb_block_q8_0)];
        for (size_t j = 0; j < nq; j += 4)
            move4(blk + TLB_BLOCK_QS(q4) + j, g + r16_quant_at(i, (int)j), q4 ? 0 : 0x80);
        memcpy(blk + offsetof(struct tlb_block_q8_0, d), g + qb + (size_t)i * 2, 2);
        tr->to_f32(blk, out + b * TLB_QK, TLB_QK);
    }
}
