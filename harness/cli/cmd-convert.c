/* cmd-convert.c — `tlbench convert`: writes any model tlbench can load (llama2.c .bin, GGUF,
 * safetensors, synthetic) as a GGUF v3 file, optionally in another weight type, so that other
 * engines (llama.cpp) can run the very same weights side by side. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "gguf.h"
#include "loaders.h"
#include "model.h"
#include "tokenizer.h"
#include "threadpool.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench convert --model M --out FILE.gguf [--quant TYPE] [--tokenizer T]\n"
        "                       [--seed N] [--threads N]\n\n"
        "Writes the model as GGUF v3 (architecture llama, llama.cpp's tensor names and\n"
        "metadata), readable by llama.cpp and by tlbench. The file is written to a temporary\n"
        "name next to FILE and renamed when complete.\n\n"
        "  --model M        llama2.c .bin, GGUF, safetensors, or synthetic:tinyllama-1.1b\n"
        "                   (also synthetic:small, synthetic:tiny)\n"
        "  --out FILE       the GGUF file to write (replaced if it exists)\n"
        "  --quant TYPE     weight type of the matrices: f32 f16 bf16 q8_0 q4_0 (default: as\n"
        "                   loaded). Rows whose length is not a multiple of 32 fall back to\n"
        "                   f16 as llama.cpp does. Quantized sources are not requantized.\n"
        "  --tokenizer T    vocabulary to embed (llama2.c .bin, tokenizer.model or GGUF);\n"
        "                   default: the model's own (GGUF), else a generated placeholder\n"
        "                   vocabulary with the Llama layout (<unk> <s> </s>, 256 byte tokens,\n"
        "                   then pieces)\n"
        "  --seed N         seed of synthetic weights (default 42)\n"
        "  --threads N      threads used to generate/convert weights (default 1)\n\n"
        "exit status: 0 ok, 1 unreadable input or failed write, 2 usage error\n");
}

int tlb_cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"out", required_argument, 0, 'o'},
        {"quant", required_argument, 0, 'q'}, {"tokenizer", required_argument, 0, 'z'},
        {"seed", required_argument, 0, 's'},  {"threads", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *model_spec = NULL, *out_path = NULL, *tok_path = NULL;
    enum tlb_type wtype = TLB_TYPE_F32;
    int convert = 0;
    uint64_t seed = 42;
    long threads = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_spec = optarg; break;
        case 'o': out_path = optarg; break;
        case 'z': tok_path = optarg; break;
        case 'q':
            if (tlb_type_from_name_msg("--quant", optarg, &wtype)) return TLB_EXIT_USAGE;
            convert = 1;
            break;
        case 's': if (tlb_parse_u64_msg("--seed", optarg, &seed)) return TLB_EXIT_USAGE; break;
        case 'T':
            if (tlb_parse_int_msg("--threads", optarg, 1, TLB_MAX_THREADS, &threads))
                return TLB_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return TLB_EXIT_OK;
        default: usage(stderr); return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("convert: unexpected argument '%s'", argv[optind]);
        return TLB_EXIT_USAGE;
    }
    if (!model_spec || !out_path) {
        tlb_error("convert: --model and --out are required (see 'tlbench convert --help')");
        return TLB_EXIT_USAGE;
    }
    int rc = TLB_EXIT_FAIL;
    struct tlb_model *m = NULL;
    struct tlb_tokenizer *tok = NULL;
    struct tlb_load_opts lo = {.spec = model_spec, .convert = convert, .wtype = wtype,
                               .seed = seed, .n_threads = (int)threads};
    if (tlb_model_load(&m, &lo) != 0) goto out;
    if (tok_path) {
        if (tlb_tokenizer_open(&tok, tok_path, m->cfg.vocab_size) != 0) goto out;
    } else {
        int t = tlb_model_tokenizer(m, &tok);
        if (t < 0) goto out;
        if (t == 1 && strcmp(m->format, "synthetic") != 0)
            tlb_warn("%s: no --tokenizer and the model carries no vocabulary: writing a "
                     "generated placeholder vocabulary", model_spec);
    }
    if (tlb_gguf_write_model(out_path, m, tok) != 0) goto out;
    fprintf(stderr, "tlbench: wrote %s (%s, %s weights, %.1f MB of weights, vocabulary: %s)\n",
            out_path, m->name, tlb_type_traits(m->wtype)->name,
            (double)tlb_model_weight_bytes(m) / 1e6,
            tok_path ? tok_path : tok ? "the model's own" : "generated");
    rc = TLB_EXIT_OK;
out:
    tlb_tokenizer_free(tok);
    tlb_model_free(m);
    return rc;
}
