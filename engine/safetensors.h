/* safetensors.h — Hugging Face safetensors checkpoints of Llama models (as TinyLlama-1.1B is
 * published): config.json + model.safetensors, or shards listed by model.safetensors.index.json.
 * q_proj/k_proj rows are permuted at load from HF's rotate-half RoPE order to the engine's
 * interleaved pairs. Everything read is untrusted; parsing uses cJSON (libcjson-dev). */
#ifndef TLB_SAFETENSORS_H
#define TLB_SAFETENSORS_H

#include <stddef.h>

#include "model.h"

/* Load spec: a directory (config.json + model.safetensors or model.safetensors.index.json), a
 * .safetensors file (config.json from its directory), config.json, or the index .json. Returns
 * 0, or -1 with a one-line error naming the file and the problem. Without cJSON in the build
 * it always fails with "safetensors support needs libcjson-dev (not built in)". */
int tlb_safetensors_load(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o);

/* The tokenizer.model next to a safetensors checkpoint spec: writes its path to buf and
 * returns 0 when that file exists, else -1 (nothing printed). */
int tlb_safetensors_tokenizer_path(const char *spec, char *buf, size_t n);

/* ---- for tests and fuzzing ---- */

/* Parse and validate a whole safetensors file image held in memory (header length, JSON
 * header, every tensor's dtype, shape and data range against size). source names it in
 * errors. Returns the number of tensors (>= 0), or -1 with an error printed. */
int tlb_safetensors_check_mem(const char *source, const void *data, size_t size);

/* Parse config.json text (len bytes) into cfg (validated by tlb_config_check) and *tied
 * (tie_word_embeddings). Returns 0, or -1 with an error naming source. */
int tlb_safetensors_config_mem(const char *source, const char *text, size_t len,
                               struct tlb_config *cfg, int *tied);

/* Build m (fresh, zeroed) from config.json text and one whole safetensors image in memory:
 * every check and conversion of the file loader, without files. Tensors may point into data,
 * so free the model before data. Returns 0, or -1 with an error. */
int tlb_safetensors_model_mem(struct tlb_model *m, const char *config_text, size_t config_len,
                              const void *data, size_t size, const struct tlb_load_opts *o);

/* Test-only: on = 0 disables the q/k RoPE row permutation, so a test can prove it matters.
 * Never used outside tests. */
void tlb_safetensors_test_set_permute(int on);

#endif
