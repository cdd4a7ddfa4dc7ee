/* loaders.h — model format dispatch: which loader reads a model spec. Each format is one file
 * (llama2c.c, synthetic.c, gguf.c, safetensors.c); adding a format adds a file and one branch
 * in loaders.c. */
#ifndef TLB_LOADERS_H
#define TLB_LOADERS_H

#include "model.h"

/* Pick the loader for spec (synthetic name, file magic, directory/extension) and run it. */
int tlb_load_dispatch(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o);

struct tlb_tokenizer;
/* The vocabulary a model file carries (GGUF: tokenizer.ggml.*), for when no tokenizer file is
 * given. Returns 0 with *out set, 1 when the model carries none (llama2.c, synthetic, a GGUF
 * without tokenizer keys), or -1 with an error. */
int tlb_model_tokenizer(const struct tlb_model *m, struct tlb_tokenizer **out);

#endif
