/* fuzz-safetensors.c — libFuzzer target for the safetensors reader (safetensors.c): the bytes
 * as a whole .safetensors image (header length, JSON header, dtypes, shapes, data ranges),
 * and as config.json text. */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)tlb_safetensors_check_mem("fuzz.safetensors", data, size);
    struct tlb_config cfg;
    int tied;
    (void)tlb_safetensors_config_mem("fuzz/config.json", (const char *)data, size, &cfg, &tied);
    return 0;
}
