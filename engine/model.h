/* model.h — a loaded Llama-2-architecture model: hyperparameters and weights, whatever file
 * format they came from. Loaders (llama2c.c, synthetic.c, gguf.c, safetensors.c) fill a
 * tlb_model; the engine (engine.h) runs it. Weight matrices are tlb_tensors in one weight
 * type each; norm vectors are always f32. */
#ifndef TLB_MODEL_H
#define TLB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "quant.h"

struct tlb_config {
    int dim;         /* model width (TinyLlama: 2048) */
    int hidden_dim;  /* feed-forward width (5632) */
    int n_layers;    /* (22) */
    int n_heads;     /* query heads (32) */
    int n_kv_heads;  /* key/value heads (4): grouped-query attention */
    int vocab_size;  /* (32000) */
    int seq_len;     /* maximum context (2048) */
    float rms_eps;   /* RMSNorm epsilon (1e-5) */
    float rope_theta;/* RoPE base (10000) */
};

static inline int tlb_head_dim(const struct tlb_config *c) { return c->dim / c->n_heads; }
static inline int tlb_kv_dim(const struct tlb_config *c) {
    return c->n_kv_heads * (c->dim / c->n_heads);
}

struct tlb_layer {
    float *attn_norm;       /* (dim) */
    struct tlb_tensor wq;   /* (dim, dim) rows are n_heads*head_dim, interleaved RoPE pairs */
    struct tlb_tensor wk;   /* (kv_dim, dim) */
    struct tlb_tensor wv;   /* (kv_dim, dim) */
    struct tlb_tensor wo;   /* (dim, dim) */
    float *ffn_norm;        /* (dim) */
    struct tlb_tensor w1;   /* gate (hidden_dim, dim) */
    struct tlb_tensor w2;   /* down (dim, hidden_dim) */
    struct tlb_tensor w3;   /* up   (hidden_dim, dim) */
};

/* Memory the model owns: allocations and file mappings, freed together. */
struct tlb_region {
    void *ptr;
    size_t len;
    int is_mmap;
};

struct tlb_model {
    struct tlb_config cfg;
    struct tlb_tensor tok_embd;  /* (vocab_size, dim), any weight type */
    struct tlb_layer *layers;    /* (n_layers) */
    float *final_norm;           /* (dim) */
    struct tlb_tensor output;    /* (vocab_size, dim); may share data with tok_embd */
    int shared_classifier;       /* output is tok_embd */

    char name[128];              /* e.g. "stories260K" or "synthetic:tinyllama-1.1b" */
    char format[32];             /* "llama2c", "gguf", "safetensors", "synthetic" */
    char path[512];              /* file or directory it came from ("" for synthetic) */
    enum tlb_type wtype;         /* the requested/main weight type of the matrices */
    uint32_t types_used;         /* TLB_TYPE_BIT of every type among the matrices */
    char mapping[64];            /* how matrices sit in memory: "mmap" (in the file mapping),
                                  * "copy" (allocated, huge pages), "mmap+copy", "generated" */
    uint64_t seed;               /* synthetic weights' seed (0 otherwise) */

    struct tlb_region *regions;
    int n_regions, cap_regions;
};

/* What to load and how. */
struct tlb_load_opts {
    const char *spec;            /* path, or "synthetic:tinyllama-1.1b", "synthetic:tiny" ... */
    int convert;                 /* convert matrices to wtype at load */
    enum tlb_type wtype;         /* target weight type when convert (f32 by default) */
    uint64_t seed;               /* synthetic weights */
    int n_threads;               /* threads used to generate/convert weights */
    /* 1: matrices stored in the wanted type stay in the file mapping (llama.cpp's default
     * mmap); 0 (default): every matrix is copied into huge-page memory. Decoding from the
     * 4 KiB pages of a file mapping streams slower and less steadily (measured on the dev
     * VM, f16 GGUF, 2 threads: 17-20 vs 22-26 tokens/s). TLBENCH_MMAP=1 sets it too. */
    int map_weights;
};

/* Load a model (dispatches on the spec and the file's magic). Returns 0, or -1 with a
 * one-line error naming the file and the problem. */
int tlb_model_load(struct tlb_model **out, const struct tlb_load_opts *opts);
void tlb_model_free(struct tlb_model *m);

/* Validate hyperparameters (ranges, divisibility) — every loader calls this before
 * allocating. source names the file for the message. */
int tlb_config_check(const struct tlb_config *c, const char *source);

/* Bytes of all weights as stored (matrices + norms; a shared classifier counted once). */
size_t tlb_model_weight_bytes(const struct tlb_model *m);
/* Parameter count (a shared classifier counted once). */
uint64_t tlb_model_n_params(const struct tlb_model *m);

/* Helpers for loaders. */
int tlb_model_add_region(struct tlb_model *m, void *ptr, size_t len, int is_mmap);
/* Allocate an owned, aligned buffer (huge pages for big ones). */
void *tlb_model_alloc(struct tlb_model *m, size_t len, const char *what);
/* Weight type a matrix of `cols` columns gets when `want` is requested: want when the row
 * length fits its blocks, else f16 (llama.cpp's quantizer falls back likewise), else f32. */
enum tlb_type tlb_model_type_for(enum tlb_type want, int64_t cols);
/* Fill t (rows x cols, type) from f32 source rows, converting; allocates owned memory. */
int tlb_model_tensor_from_f32(struct tlb_model *m, struct tlb_tensor *t, const char *name,
                              enum tlb_type type, int64_t rows, int64_t cols,
                              const float *src);
/* Rewrite the model's matrices in place into the layouts kernel k asks for (layout.h;
 * k == NULL: ROWS everywhere). Matrices in a file mapping stay ROWS, which every kernel reads.
 * Only for the model's owner, with no engine running on it: engines read the new layout.
 * Returns how many matrices changed, or -1 with a message. */
int tlb_model_set_layouts(struct tlb_model *m, const struct tlb_kernel *k);
/* 1 when kernel k can read every matrix as it sits, else 0. */
int tlb_model_readable_by(const struct tlb_model *m, const struct tlb_kernel *k);
/* "rows", "r16" (every matrix), or "r16 N of M matrices", into buf. */
const char *tlb_model_layouts(const struct tlb_model *m, char *buf, size_t len);
/* Recompute types_used from the matrices. */
void tlb_model_update_types(struct tlb_model *m);

/* Known synthetic shapes (synthetic.c). */
int tlb_synthetic_config(const char *name, struct tlb_config *out);
int tlb_synthetic_load(struct tlb_model *m, const char *name, const struct tlb_load_opts *o);
/* llama2.c checkpoints (llama2c.c). */
int tlb_llama2c_load(struct tlb_model *m, const char *path, const struct tlb_load_opts *o);

#endif
