/* loaders.c — chooses the loader for a model spec: "synthetic:NAME", a GGUF file (magic
 * "GGUF"), a safetensors checkpoint (directory, *.safetensors or config.json), otherwise a
 * llama2.c checkpoint. */
#include "loaders.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "safetensors.h"
#include "tokenizer.h"
#include "gguf.h"
#include "util.h"

int tlb_load_dispatch(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o) {
    if (strncmp(spec, "synthetic:", 10) == 0) return tlb_synthetic_load(m, spec + 10, o);
    if (!*spec) {
        tlb_error("no model given (use --model FILE or --model synthetic:tinyllama-1.1b)");
        return -1;
    }
    struct stat st;
    if (stat(spec, &st) != 0) {
        tlb_error("%s: cannot open model: %s", spec, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode) || tlb_ends_with(spec, ".safetensors") || tlb_ends_with(spec, ".json"))
        return tlb_safetensors_load(m, spec, o);
    unsigned char magic[4] = {0};
    long got = tlb_read_magic(spec, magic, 4);
    if (got < 0) return -1;
    if (got == 4 && memcmp(magic, "GGUF", 4) == 0) return tlb_gguf_load(m, spec, o);
    return tlb_llama2c_load(m, spec, o);
}

int tlb_model_tokenizer(const struct tlb_model *m, struct tlb_tokenizer **out) {
    *out = NULL;
    if (strcmp(m->format, "safetensors") == 0) { /* HF layout: tokenizer.model beside it */
        char p[4096];
        if (tlb_safetensors_tokenizer_path(m->path, p, sizeof p) != 0) return 1;
        return tlb_tokenizer_load(out, p, m->cfg.vocab_size) == 0 ? 0 : -1;
    }
    if (strcmp(m->format, "gguf") != 0) return 1;
    struct tlb_gguf *g;
    if (tlb_gguf_open(&g, m->path)) return -1;
    int rc = tlb_gguf_has_vocab(g) ? tlb_gguf_tokenizer_from(out, g) : 1;
    tlb_gguf_free(g);
    return rc;
}
