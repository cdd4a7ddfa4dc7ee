/* fuzz-gguf.c — libFuzzer target for the GGUF reader: the bytes are parsed from memory
 * (tlb_gguf_parse, the same entry the file loader uses), then loaded as a Llama model as
 * stored and converted to q8_0, read as a vocabulary, and listed as `inspect` lists them.
 * Built and run by `make fuzz` / `make fuzz-smoke`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "model.h"
#include "tokenizer.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!devnull) devnull = fopen("/dev/null", "w");
    struct tlb_gguf *g = NULL;
    if (tlb_gguf_parse(&g, data, size, "fuzz.gguf") != 0) return 0;
    if (devnull) tlb_gguf_print_metadata(devnull, g, 4);
    for (int convert = 0; convert < 2; convert++) {
        struct tlb_model *m = calloc(1, sizeof *m);
        if (!m) break;
        struct tlb_load_opts o = {.spec = "fuzz.gguf", .convert = convert,
                                  .wtype = TLB_TYPE_Q8_0, .n_threads = 1};
        if (tlb_gguf_model_from(m, g, &o) == 0) {
            tlb_model_update_types(m);
            (void)tlb_model_weight_bytes(m);
        }
        tlb_model_free(m);
    }
    struct tlb_tokenizer *t = NULL;
    if (tlb_gguf_tokenizer_from(&t, g) == 0) {
        int ids[64];
        int n = tlb_tokenize(t, "Hello <s> w\xc3\xb6rld \xff", 18, 1, 1, ids, 64);
        for (int i = 1; i < n; i++) {
            size_t len;
            (void)tlb_token_piece(t, ids[i - 1], ids[i], &len);
        }
    }
    tlb_tokenizer_free(t);
    tlb_gguf_free(g);
    return 0;
}
