/* cmd-generate.c — `tlbench generate`: text from a prompt, printed exactly as llama2.c's run
 * prints it (proves the engine is real; used for accuracy checks). Text goes to stdout; load
 * time, prefill and decode speed and memory go to stderr. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "engine.h"
#include "loaders.h"
#include "model.h"
#include "sampler.h"
#include "tokenizer.h"
#include "threadpool.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench generate --model M [--tokenizer T] [--prompt TEXT] [--steps N]\n"
        "                        [--temp F] [--top-p F] [--seed N] [--threads N]\n"
        "                        [--kernel NAME] [--quant TYPE] [--kv-type TYPE]\n\n"
        "Generates text and prints it to stdout exactly as llama2.c's run does for the same\n"
        "model, tokenizer, prompt, steps and temperature 0. Timings go to stderr.\n\n"
        "  --model M        llama2.c .bin, GGUF, safetensors, or synthetic:tinyllama-1.1b\n"
        "                   (also synthetic:small, synthetic:tiny)\n"
        "  --tokenizer T    tokenizer file (llama2.c .bin, tokenizer.model or GGUF); default:\n"
        "                   a GGUF model's own vocabulary; without any (synthetic models)\n"
        "                   token ids are printed instead of text\n"
        "  --prompt TEXT    prompt (default: empty; generation starts from BOS)\n"
        "  --steps N        positions to run, counting the BOS position, like run's -n\n"
        "                   (default 256; capped at the model's context length)\n"
        "  --temp F         temperature, 0 = greedy (argmax, lowest id on ties); default 1.0\n"
        "  --top-p F        nucleus sampling threshold in [0, 1]; default 0.9 (1 = off)\n"
        "  --seed N         random seed for sampling and synthetic weights (default 42)\n"
        "  --threads N      threads in the engine's pool (default 1)\n"
        "  --kernel NAME    matmul kernel, or auto (default: auto). See 'tlbench info'.\n"
        "  --quant TYPE     convert weights at load: f32 f16 bf16 q8_0 q4_0 (default: as\n"
        "                   stored)\n"
        "  --kv-type TYPE   KV cache type: f32 or f16 (default f32)\n");
}

int tlb_cmd_generate(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"tokenizer", required_argument, 0, 'z'},
        {"prompt", required_argument, 0, 'i'},  {"steps", required_argument, 0, 'n'},
        {"temp", required_argument, 0, 't'},    {"top-p", required_argument, 0, 'p'},
        {"seed", required_argument, 0, 's'},    {"threads", required_argument, 0, 'T'},
        {"kernel", required_argument, 0, 'k'},  {"quant", required_argument, 0, 'q'},
        {"kv-type", required_argument, 0, 'K'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model_spec = NULL, *tok_path = NULL, *prompt = "", *kernel_name = "auto";
    long steps = 256, threads = 1;
    double temp = 1.0, topp = 0.9;
    uint64_t seed = 42;
    int convert = 0;
    enum tlb_type wtype = TLB_TYPE_F32, kv_type = TLB_TYPE_F32;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_spec = optarg; break;
        case 'z': tok_path = optarg; break;
        case 'i': prompt = optarg; break;
        case 'n':
            if (tlb_parse_int_msg("--steps", optarg, 1, 1 << 20, &steps)) return TLB_EXIT_USAGE;
            break;
        case 't':
            if (tlb_parse_double_msg("--temp", optarg, 0, 1e6, &temp)) return TLB_EXIT_USAGE;
            break;
        case 'p':
            if (tlb_parse_double_msg("--top-p", optarg, 0, 1, &topp)) return TLB_EXIT_USAGE;
            break;
        case 's': if (tlb_parse_u64_msg("--seed", optarg, &seed)) return TLB_EXIT_USAGE; break;
        case 'T':
            if (tlb_parse_int_msg("--threads", optarg, 1, TLB_MAX_THREADS, &threads))
                return TLB_EXIT_USAGE;
            break;
        case 'k': kernel_name = optarg; break;
        case 'q':
            if (tlb_type_from_name_msg("--quant", optarg, &wtype)) return TLB_EXIT_USAGE;
            convert = 1;
            break;
        case 'K':
            if (tlb_type_from_name_msg("--kv-type", optarg, &kv_type)) return TLB_EXIT_USAGE;
            if (kv_type != TLB_TYPE_F32 && kv_type != TLB_TYPE_F16) {
                tlb_error("--kv-type: must be f32 or f16 (got %s)", optarg);
                return TLB_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return TLB_EXIT_OK;
        default: usage(stderr); return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("generate: unexpected argument '%s'", argv[optind]);
        return TLB_EXIT_USAGE;
    }
    if (!model_spec) {
        tlb_error("generate: --model is required (e.g. --model synthetic:tinyllama-1.1b)");
        return TLB_EXIT_USAGE;
    }

    int rc = TLB_EXIT_FAIL;
    struct tlb_model *model = NULL;
    struct tlb_tokenizer *tok = NULL;
    struct tlb_engine *eng = NULL;
    struct tlb_sampler sampler = {0};
    int *prompt_ids = NULL;
    float *logits = NULL;

    int64_t t0 = tlb_now_ns();
    struct tlb_load_opts lo = {.spec = model_spec, .convert = convert, .wtype = wtype,
                               .seed = seed, .n_threads = (int)threads};
    if (tlb_model_load(&model, &lo) != 0) goto out;
    int64_t t_load = tlb_now_ns() - t0;
    const struct tlb_config *cfg = &model->cfg;
    if (tok_path && tlb_tokenizer_open(&tok, tok_path, cfg->vocab_size) != 0) goto out;
    if (!tok_path && tlb_model_tokenizer(model, &tok) < 0) goto out; /* a GGUF's own vocab */
    if (!tok && *prompt) {
        tlb_error("generate: --prompt needs --tokenizer (this model carries no vocabulary)");
        rc = TLB_EXIT_USAGE;
        goto out;
    }

    char why[256];
    const struct tlb_kernel *k = tlb_kernel_select(kernel_name, model->types_used, why, sizeof why);
    if (!k) {
        tlb_error("--kernel %s: %s", kernel_name, why);
        rc = TLB_EXIT_USAGE;
        goto out;
    }
    if (steps > cfg->seq_len) steps = cfg->seq_len;
    if (tlb_model_set_layouts(model, k) < 0) goto out;
    struct tlb_engine_opts eo = {.kernel = k, .n_threads = (int)threads, .ctx_len = (int)steps,
                                 .kv_type = kv_type};
    if (tlb_engine_create(&eng, model, &eo) != 0) goto out;
    if (tlb_sampler_init(&sampler, cfg->vocab_size, (float)temp, (float)topp, seed) != 0) goto out;

    /* prompt -> ids, BOS first (run.c: encode(prompt, bos=1, eos=0)) */
    size_t plen = strlen(prompt);
    int cap = (int)TLB_MIN(plen + 3, (size_t)1 << 24), n_prompt = 1;
    prompt_ids = tlb_malloc((size_t)cap * sizeof(int), "prompt tokens");
    logits = tlb_malloc((size_t)cfg->vocab_size * sizeof(float), "logits");
    if (!prompt_ids || !logits) goto out;
    const int bos = tok ? tlb_tokenizer_bos(tok) : 1;
    if (tok) {
        n_prompt = tlb_tokenize(tok, prompt, plen, 1, 0, prompt_ids, cap);
        if (n_prompt < 1) {
            tlb_error("generate: cannot tokenize the prompt");
            goto out;
        }
    } else {
        prompt_ids[0] = bos;
    }
    if (!tok) fprintf(stderr, "tlbench: no --tokenizer: printing token ids\n");

    /* prefill the prompt positions that will be run, in one batched forward */
    int n_pre = (int)TLB_MIN((long)n_prompt, steps);
    int64_t t1 = tlb_now_ns();
    if (tlb_engine_forward(eng, prompt_ids, n_pre, 0, logits, 0) != 0) goto out;
    int64_t t_prefill = tlb_now_ns() - t1, t_decode_start = tlb_now_ns();
    int n_decoded = 0;
    int token = prompt_ids[0];
    for (int pos = 0; pos < steps; pos++) {
        int next;
        if (pos < n_prompt - 1) {
            next = prompt_ids[pos + 1];
        } else {
            if (pos >= n_pre) {
                if (tlb_engine_forward(eng, &token, 1, pos, logits, 0) != 0) goto out;
                n_decoded++;
            }
            next = tlb_sample(&sampler, logits);
        }
        if (next == bos) break; /* run.c: BOS delimits sequences */
        if (tok) {
            size_t len;
            const char *piece = tlb_token_piece(tok, token, next, &len);
            if (tlb_piece_printable(piece, len)) fwrite(piece, 1, len, stdout);
        } else {
            printf("%s%d", pos ? " " : "", next);
        }
        fflush(stdout);
        token = next;
    }
    printf("\n");
    int64_t t_decode = tlb_now_ns() - t_decode_start;
    fprintf(stderr,
            "model %s (%s, %s weights, %.3f GB), kernel %s%s%s, %ld thread%s\n"
            "load %.3f s | prefill %d tokens %.3f s (%.2f tok/s) | decode %d tokens %.3f s "
            "(%.2f tok/s) | KV cache %.1f MB\n",
            model->name, model->format, tlb_type_traits(model->wtype)->name,
            (double)tlb_model_weight_bytes(model) / 1e9, k->name,
            *tlb_engine_kernel_version(eng) ? " " : "", tlb_engine_kernel_version(eng), threads,
            threads == 1 ? "" : "s", (double)t_load / 1e9, n_pre, (double)t_prefill / 1e9,
            n_pre / ((double)t_prefill / 1e9), n_decoded, (double)t_decode / 1e9,
            n_decoded ? n_decoded / ((double)t_decode / 1e9) : 0.0,
            (double)tlb_engine_kv_bytes(eng) / 1e6);
    rc = TLB_EXIT_OK;
out:
    free(prompt_ids);
    free(logits);
    tlb_sampler_free(&sampler);
    tlb_engine_free(eng);
    tlb_tokenizer_free(tok);
    tlb_model_free(model);
    return rc;
}
