/* fuzz-llama2c.c — libFuzzer target for the llama2.c checkpoint reader. The reader takes a
 * path (it maps the file), so the bytes go to a memfd and the loader reads /proc/self/fd/N. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz-llama2c", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    for (int convert = 0; convert < 2; convert++) {
        struct tlb_model *m = calloc(1, sizeof *m);
        if (!m) break;
        struct tlb_load_opts o = {.spec = path, .convert = convert, .wtype = TLB_TYPE_Q4_0,
                                  .n_threads = 1};
        (void)tlb_llama2c_load(m, path, &o);
        tlb_model_free(m);
    }
    close(fd);
    return 0;
}
