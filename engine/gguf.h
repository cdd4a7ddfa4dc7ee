/* gguf.h — GGUF files (versions 2 and 3, little-endian): a bounds-checked parser over a byte
 * buffer (a mapped file or memory: every count, length, offset, dimension and type id is
 * validated before use), the Llama model and tokenizer readers built on it (gguf-model.c) and
 * a streaming writer (gguf-write.c). Layout: "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 * n_kv key/value pairs, n_tensors tensor infos, padding to general.alignment, tensor data. */
#ifndef TLB_GGUF_H
#define TLB_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "tokenizer.h"

/* Metadata value types (the GGUF spec's numbering). */
enum tlb_gguf_vtype {
    TLB_GGUF_U8 = 0,
    TLB_GGUF_I8 = 1,
    TLB_GGUF_U16 = 2,
    TLB_GGUF_I16 = 3,
    TLB_GGUF_U32 = 4,
    TLB_GGUF_I32 = 5,
    TLB_GGUF_F32 = 6,
    TLB_GGUF_BOOL = 7,
    TLB_GGUF_STRING = 8,
    TLB_GGUF_ARRAY = 9,
    TLB_GGUF_U64 = 10,
    TLB_GGUF_I64 = 11,
    TLB_GGUF_F64 = 12,
    TLB_GGUF_VTYPE_COUNT
};

#define TLB_GGUF_MAX_DIMS 4
#define TLB_GGUF_MAX_NAME 64         /* tensor names are shorter (ggml's GGML_MAX_NAME) */
#define TLB_GGUF_MAX_ARRAY_DEPTH 4   /* arrays of arrays nest at most this deep */
#define TLB_GGUF_DEFAULT_ALIGNMENT 32

/* A string inside the buffer (not NUL-terminated). */
struct tlb_gguf_str {
    const char *p;
    uint64_t n;
};

struct tlb_gguf_kv {
    struct tlb_gguf_str key;
    uint32_t type;               /* enum tlb_gguf_vtype */
    const unsigned char *val;    /* the value's bytes (scalar, string length, or array header) */
    uint64_t val_bytes;          /* all bytes of the value */
    /* arrays only: element type, count and first element */
    uint32_t arr_type;
    uint64_t arr_n;
    const unsigned char *arr_data;
};

struct tlb_gguf_tensor {
    struct tlb_gguf_str name;
    uint32_t n_dims;
    uint64_t ne[TLB_GGUF_MAX_DIMS]; /* ne[0] = row length; unused dimensions are 1 */
    uint32_t ggml_type;
    uint64_t offset;                /* relative to the data section */
    uint64_t n_elements;
    uint64_t n_bytes;
    const unsigned char *data;      /* in the buffer */
};

struct tlb_gguf {
    char source[512];            /* file name for messages */
    const unsigned char *buf;
    size_t size;
    uint32_t version;
    uint64_t n_kv, n_tensors;
    struct tlb_gguf_kv *kv;
    struct tlb_gguf_tensor *tensors;
    uint32_t *kv_sorted;         /* indices sorted by key (lookups, duplicate check) */
    uint32_t *tensor_sorted;     /* indices sorted by name */
    uint32_t alignment;
    uint64_t data_offset;        /* start of the data section */
    void *map;                   /* the file mapping when opened by tlb_gguf_open */
    size_t map_len;
};

/* Parse a GGUF held in buf[0..size); the parsed view points into buf, which must outlive it.
 * Returns 0, or -1 with a one-line error naming source and the problem. */
int tlb_gguf_parse(struct tlb_gguf **out, const void *buf, size_t size, const char *source);
/* Map a file (read-only) and parse it. */
int tlb_gguf_open(struct tlb_gguf **out, const char *path);
/* Frees the view, and unmaps the file unless the mapping was handed over (map = NULL). */
void tlb_gguf_free(struct tlb_gguf *g);

const struct tlb_gguf_kv *tlb_gguf_find_kv(const struct tlb_gguf *g, const char *key);
const struct tlb_gguf_tensor *tlb_gguf_find_tensor(const struct tlb_gguf *g, const char *name);
/* Size in bytes of one scalar of a value type; 0 for string/array/unknown. */
size_t tlb_gguf_vtype_size(uint32_t vtype);
const char *tlb_gguf_vtype_name(uint32_t vtype);
/* ggml tensor type names, block sizes and bytes per block (every type ggml defines, so files
 * with types tlbench cannot run still parse and can be listed). Returns NULL for unknown ids. */
const char *tlb_ggml_type_name(uint32_t ggml_type);
int tlb_ggml_type_layout(uint32_t ggml_type, uint32_t *block_size, uint32_t *type_size);

/* Typed metadata getters. Each returns 0 (found, stored), 1 (absent) or -1 (present but of
 * the wrong type or out of range; error printed). Integers accept any integer type. */
int tlb_gguf_get_int(const struct tlb_gguf *g, const char *key, int64_t min, int64_t max,
                     int64_t *out);
int tlb_gguf_get_float(const struct tlb_gguf *g, const char *key, double *out);
int tlb_gguf_get_bool(const struct tlb_gguf *g, const char *key, int *out);
int tlb_gguf_get_str(const struct tlb_gguf *g, const char *key, struct tlb_gguf_str *out);
int tlb_gguf_str_eq(struct tlb_gguf_str s, const char *c);

/* Print every metadata key with its type and value (arrays show at most max_items elements,
 * strings are escaped and cut at 120 bytes). */
void tlb_gguf_print_metadata(FILE *out, const struct tlb_gguf *g, int max_items);

/* ---- Llama models and vocabularies (gguf-model.c) ---- */

/* Fill m from a parsed GGUF of architecture "llama". Tensors stored in the type being run are
 * used in place (pointing into g->buf); others are converted from f32/f16/bf16 (quantized
 * tensors are only ever dequantized to f32: requantizing is refused, as llama.cpp does without
 * --allow-requantize). When g owns a file mapping that tensors use, the mapping is handed to
 * m (g->map becomes NULL). Returns 0 or -1 with an error. */
int tlb_gguf_model_from(struct tlb_model *m, struct tlb_gguf *g, const struct tlb_load_opts *o);
/* Open, parse and load a GGUF model file (loaders.c calls this). */
int tlb_gguf_load(struct tlb_model *m, const char *path, const struct tlb_load_opts *o);

/* Does g carry a vocabulary (tokenizer.ggml.tokens)? */
int tlb_gguf_has_vocab(const struct tlb_gguf *g);
/* Build a tokenizer from tokenizer.ggml.model ("llama" only), tokens, scores, token_type,
 * bos/eos/unknown ids and add_space_prefix. */
int tlb_gguf_tokenizer_from(struct tlb_tokenizer **out, const struct tlb_gguf *g);
/* The same from a file: a vocabulary-only or a full GGUF. */
int tlb_gguf_load_tokenizer(struct tlb_tokenizer **out, const char *path);

/* ---- writer (gguf-write.c) ---- */

/* Write m (and its vocabulary tok; NULL = a generated placeholder vocabulary with the Llama
 * layout) as a GGUF v3 file laid out as llama.cpp's convert_hf_to_gguf.py writes it. Streams
 * tensor by tensor into a temporary file in the same directory and renames it into place, so
 * a failure never leaves a partial file. Returns 0 or -1 with an error. */
int tlb_gguf_write_model(const char *path, const struct tlb_model *m,
                         const struct tlb_tokenizer *tok);
/* llama.cpp's general.file_type for a main weight type (LLAMA_FTYPE_ALL_F32 = 0, ...). */
int tlb_gguf_file_type(enum tlb_type t);

#endif
