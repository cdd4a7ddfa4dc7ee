/* quant.h — weight types, bit-compatible with GGUF/ggml, and their traits table: the single
 * source of truth for each type's name, GGUF id, block layout, conversions and reference
 * dot products. Kernels may be faster, but must agree with these references. */
#ifndef TLB_QUANT_H
#define TLB_QUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum tlb_type {
    TLB_TYPE_F32 = 0,
    TLB_TYPE_F16,
    TLB_TYPE_BF16,
    TLB_TYPE_Q8_0,
    TLB_TYPE_Q4_0,
    TLB_TYPE_COUNT
};

#define TLB_QK 32 /* elements per block of q8_0 and q4_0 (ggml QK8_0 = QK4_0 = 32) */

/* q8_0: value = d * qs[i]. 34 bytes per 32 values. */
struct tlb_block_q8_0 {
    uint16_t d;         /* f16 scale */
    int8_t qs[TLB_QK];  /* quants */
};
/* q4_0: value = d * (q - 8), q in 0..15; byte j holds element j (low nibble) and element
 * j + 16 (high nibble). 18 bytes per 32 values. */
struct tlb_block_q4_0 {
    uint16_t d;
    uint8_t qs[TLB_QK / 2];
};
_Static_assert(sizeof(struct tlb_block_q8_0) == 34, "q8_0 block must match ggml");
_Static_assert(sizeof(struct tlb_block_q4_0) == 18, "q4_0 block must match ggml");

/* The layouts for SIMD kernels that address a row of blocks as bytes (q4 = 1: q4_0, else
 * q8_0): bytes per block, where the quants start, and the f16 scale (at the same offset in
 * both types) read from any alignment. */
#define TLB_BLOCK_BYTES(q4) ((q4) ? sizeof(struct tlb_block_q4_0) : sizeof(struct tlb_block_q8_0))
#define TLB_BLOCK_QS(q4) \
    ((q4) ? offsetof(struct tlb_block_q4_0, qs) : offsetof(struct tlb_block_q8_0, qs))
_Static_assert(offsetof(struct tlb_block_q4_0, d) == offsetof(struct tlb_block_q8_0, d),
               "q4_0 and q8_0 keep the scale at the same offset");
static inline uint16_t tlb_block_scale(const void *blk) {
    uint16_t d;
    memcpy(&d, (const char *)blk + offsetof(struct tlb_block_q8_0, d), sizeof d);
    return d;
}

struct tlb_type_traits {
    const char *name;      /* "f32", "q4_0", ... as on the command line and in CSVs */
    int ggml_type;         /* the GGUF tensor type id */
    int block_size;        /* elements per block (1 for float types) */
    size_t type_size;      /* bytes per block */
    int is_quantized;      /* uses q8_0 activations in integer dot products */
    /* n values of this type -> f32 (n a multiple of block_size) */
    void (*to_f32)(const void *src, float *dst, int64_t n);
    /* reference f32 -> this type (round to nearest; n a multiple of block_size) */
    void (*from_f32)(const float *src, void *dst, int64_t n);
    /* reference dot of one weight row (n values) with f32 activations */
    float (*dot_f32)(const void *w, const float *x, int64_t n);
    /* (quantized types only) reference dot with a q8_0 activation row, computed block by
     * block as ggml does: sum_b d_w*d_x*int_dot. NULL for float types. */
    float (*dot_q8_0)(const void *w, const struct tlb_block_q8_0 *x, int64_t n);
};

const struct tlb_type_traits *tlb_type_traits(enum tlb_type t);
/* Name -> type; returns 0, or -1 for an unknown name. */
int tlb_type_from_name(const char *name, enum tlb_type *out);
/* The same with one error line naming what and the known types when name is not one. */
int tlb_type_from_name_msg(const char *what, const char *name, enum tlb_type *out);
/* GGUF type id -> type; returns 0, or -1 for an id tlbench does not support. */
int tlb_type_from_ggml(uint32_t ggml_type, enum tlb_type *out);
/* Bytes of a row of n values, or 0 when n is not a multiple of the block size or overflows. */
size_t tlb_type_row_bytes(enum tlb_type t, int64_t n);
/* Can a row of n values be stored in this type (n a multiple of its block size)? */
int tlb_type_fits(enum tlb_type t, int64_t n);

/* Scalar conversions, bit-exact with ggml (round to nearest even; NaN stays NaN). The f16 ->
 * f32 one is inline, branch-free bit arithmetic (Maratea's, as in ggml), so loops over rows
 * vectorize. */
static inline float tlb_f32_of_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline uint32_t tlb_bits_of_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float tlb_f16_to_f32(uint16_t h) {
    const uint32_t w = (uint32_t)h << 16, sign = w & 0x80000000u, two_w = w + w;
    const float normalized = tlb_f32_of_bits((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    const float denormalized = tlb_f32_of_bits((two_w >> 17) | (126u << 23)) - 0.5f;
    return tlb_f32_of_bits(sign | (two_w < (1u << 27) ? tlb_bits_of_f32(denormalized)
                                                      : tlb_bits_of_f32(normalized)));
}
uint16_t tlb_f32_to_f16(float f);
float tlb_bf16_to_f32(uint16_t h);
uint16_t tlb_f32_to_bf16(float f);

/* Quantize n activations (n a multiple of 32) to q8_0 blocks — what quantized kernels do to
 * X once per matmul. */
void tlb_quantize_row_q8_0(const float *x, struct tlb_block_q8_0 *y, int64_t n);

#endif
