/* engine.h — runs a loaded model on one kernel with one thread pool: the Llama-2 forward pass
 * (RMSNorm, RoPE, grouped-query attention with a KV cache, SwiGLU) in two paths that agree: a
 * batched prefill (each matmul sees X with m = chunk rows) and one-token decode (m = 1).
 * The only hot call is the kernel's matmul; attention runs on the same pool.
 * Layer engine/: models (model.h, one loader per format: GGUF, safetensors, llama2.c,
 * synthetic), the tokenizer, this forward pass and the sampler. It uses base/ and kernels/;
 * nothing in it knows about sweeps, CSVs or sensors. */
#ifndef TLB_ENGINE_H
#define TLB_ENGINE_H

#include <stddef.h>

#include "kernel.h"
#include "model.h"

struct tlb_engine_opts {
    const struct tlb_kernel *kernel; /* resolved kernel (tlb_kernel_select) */
    int n_threads;                   /* pool size, >= 1 */
    int ctx_len;                     /* KV cache capacity in tokens; 0 = model seq_len */
    int max_batch;                   /* tokens per prefill chunk; 0 = 512 */
    enum tlb_type kv_type;           /* TLB_TYPE_F32 or TLB_TYPE_F16 */
};

struct tlb_engine;

/* Returns 0, or -1 with the reason printed (unusable kernel, out of memory, bad options). */
int tlb_engine_create(struct tlb_engine **out, const struct tlb_model *m,
                      const struct tlb_engine_opts *o);
void tlb_engine_free(struct tlb_engine *e);
/* Switch the engine to kernel k, keeping the KV cache (the sweep fills a long context with a
 * fast kernel, untimed, before timing a slow one). Returns 0, or -1 with the reason printed,
 * leaving the engine on its old kernel. */
int tlb_engine_set_kernel(struct tlb_engine *e, const struct tlb_kernel *k);

/* The KV cache of positions [0, n), layer by layer (K rows then V rows, in the engine's KV
 * type), so that a cache filled once can be handed to other engines of the same model and
 * KV type: the sweep fills a context depth once per weight type. 0, or -1 when layer or n is
 * out of range. dst/src hold tlb_engine_kv_layer_bytes(e, n) bytes. */
size_t tlb_engine_kv_layer_bytes(const struct tlb_engine *e, int n);
int tlb_engine_kv_save_layer(const struct tlb_engine *e, int layer, int n, void *dst);
int tlb_engine_kv_load_layer(struct tlb_engine *e, int layer, int n, const void *src);

/* Run tokens[0..n) at positions pos..pos+n-1 (KV cache entries before pos must have been
 * filled by earlier calls). logits: if all_logits, (n, vocab) — every position's logits;
 * otherwise (vocab) — the last token's only (the classifier runs for that row alone).
 * Returns 0, or -1 (position past the context, token id out of range, kernel failure). */
int tlb_engine_forward(struct tlb_engine *e, const int *tokens, int n, int pos, float *logits,
                       int all_logits);

const struct tlb_kernel *tlb_engine_kernel(const struct tlb_engine *e);
/* The kernel's version string ("" when it has none). */
const char *tlb_engine_kernel_version(const struct tlb_engine *e);
/* The engine's thread pool (NULL with one thread). */
struct tlb_pool *tlb_engine_pool(const struct tlb_engine *e);
/* Bytes of the KV cache and of activation/kernel scratch buffers (computed, not measured). */
size_t tlb_engine_kv_bytes(const struct tlb_engine *e);
size_t tlb_engine_scratch_bytes(const struct tlb_engine *e);
/* Bytes of activation scratch an engine allocates for this model, thread count, KV context and
 * prefill chunk (0 = 512): the formula behind tlb_engine_scratch_bytes, before the kernel's own
 * scratch, so memory can be predicted without creating an engine. */
size_t tlb_engine_scratch_bytes_for(const struct tlb_config *c, int n_threads, int ctx_len,
                                    int max_batch);
/* KV bytes a context of n tokens needs for this model and KV type. */
size_t tlb_kv_bytes_for(const struct tlb_config *c, enum tlb_type kv_type, int n_tokens);

#endif
