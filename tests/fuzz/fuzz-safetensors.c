/* fuzz-safetensors.c — libFuzzer target for the safetensors reader (safetensors.c): the bytes
 * as a whole .safetensors image (header length, JSON header, dtypes, shapes, data ranges),
 * and as config.json text. An image whose header passes is also assembled into a model against
 * a fixed config (the micro model of tests/fixtures/safetensors; corpus seed micro.safetensors
 * is its model.safetensors), as stored and converted, so the shape checks, the q/k RoPE
 * permutation and the conversions run on fuzzed tensors. Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"

static const char micro_config[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8, \"intermediate_size\": 16,"
    " \"max_position_embeddings\": 16, \"num_attention_heads\": 2, \"num_hidden_layers\": 1,"
    " \"num_key_value_heads\": 1, \"rms_norm_eps\": 1e-05, \"vocab_size\": 16}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct tlb_config cfg;
    int tied;
    (void)tlb_safetensors_config_mem("fuzz/config.json", (const char *)data, size, &cfg, &tied);
    if (tlb_safetensors_check_mem("fuzz.safetensors", data, size) < 0) return 0;
    for (int convert = 0; convert < 2; convert++) {
        struct tlb_model *m = calloc(1, sizeof *m);
        if (!m) break;
        struct tlb_load_opts o = {.spec = "fuzz.safetensors", .convert = convert,
                                  .wtype = TLB_TYPE_Q8_0, .n_threads = 1};
        if (tlb_safetensors_model_mem(m, micro_config, strlen(micro_config), data, size, &o) == 0) {
            tlb_model_update_types(m);
            (void)tlb_model_weight_bytes(m);
        }
        tlb_model_free(m);
    }
    return 0;
}
