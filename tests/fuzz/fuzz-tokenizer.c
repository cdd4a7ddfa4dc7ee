/* fuzz-tokenizer.c — libFuzzer target for the tokenizer files: the public loader (which sniffs
 * a llama2.c tokenizer .bin or a SentencePiece tokenizer.model) on a memfd, and the protobuf
 * reader directly on the bytes; a loaded tokenizer then encodes and decodes a fixed text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tokenizer.h"

static void exercise(struct tlb_tokenizer *t) {
    int ids[96];
    int n = tlb_tokenize(t, "Once upon a time, \xe2\x96\x81 <unk> \x00\xff\xe4\xb8\xad", 33, 1, 1,
                         ids, 96);
    for (int i = 1; i < n; i++) {
        size_t len;
        const char *p = tlb_token_piece(t, ids[i - 1], ids[i], &len);
        (void)tlb_piece_printable(p, len);
    }
    tlb_tokenizer_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct tlb_tokenizer *t = NULL;
    if (tlb_spm_model_parse(&t, "fuzz.model", data, size, 0) == 0) exercise(t);
    int fd = memfd_create("fuzz-tokenizer", 0);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int expected = size ? (int)data[0] * 3 : 0; /* sometimes a vocab size is required */
    if (tlb_tokenizer_load(&t, path, expected & 1 ? expected : 0) == 0) exercise(t);
    close(fd);
    return 0;
}
