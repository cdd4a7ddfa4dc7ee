/* cmd-inspect.c — `tlbench inspect MODEL`: what a model file holds and what it costs: format,
 * architecture, hyperparameters, parameter count, every tensor (name, type, shape, bytes),
 * the weight memory in each weight type, and for GGUF files the metadata keys. Works from the
 * loaded struct tlb_model, so every format tlbench loads is covered; format-specific listings
 * (GGUF metadata) are added after. A file that fails validation exits 1 with the reason. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "command.h"
#include "escape.h"
#include "engine.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"
#include "util.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tlbench inspect [--model] MODEL [--quant TYPE] [--items N] [--seed N]\n\n"
        "Prints the model's format, architecture, hyperparameters, parameter count, every\n"
        "tensor (name, type, shape with the row length first as GGUF lists it, bytes), the\n"
        "memory its weights need in each weight type, and for GGUF files every metadata key.\n"
        "A vocabulary-only GGUF is listed too. Files are validated as when loading them.\n\n"
        "  MODEL, --model M  llama2.c .bin, GGUF, safetensors, or synthetic:tinyllama-1.1b\n"
        "  --quant TYPE      inspect the model as loaded with --quant TYPE (f32 f16 bf16 q8_0\n"
        "                    q4_0); default: as stored\n"
        "  --items N         array elements shown per GGUF metadata array (default 8)\n"
        "  --seed N          seed of synthetic weights (default 42)\n\n"
        "exit status: 0 ok, 1 unreadable or invalid model, 2 usage error\n");
}

static void print_bytes(double b) {
    if (b >= 1e9) printf("%8.3f GB", b / 1e9);
    else if (b >= 1e6) printf("%8.3f MB", b / 1e6);
    else printf("%8.3f kB", b / 1e3);
}

static void tensor_line(const char *name, const struct tlb_tensor *t) {
    size_t bytes = tlb_type_row_bytes(t->type, t->cols) * (size_t)t->rows;
    char shape[64];
    snprintf(shape, sizeof shape, "[%lld, %lld]", (long long)t->cols, (long long)t->rows);
    printf("  %-28s %-5s %-16s %12zu\n", name, tlb_type_traits(t->type)->name, shape, bytes);
}

static void norm_line(const char *name, int dim) {
    char shape[32];
    snprintf(shape, sizeof shape, "[%d]", dim);
    printf("  %-28s %-5s %-16s %12zu\n", name, "f32", shape, (size_t)dim * 4);
}

/* Weight bytes of the model's shapes in type `want` (with the f16/f32 row-length fallbacks);
 * *fallbacks counts matrices that cannot take `want`. */
static uint64_t bytes_in(const struct tlb_config *c, int shared, enum tlb_type want,
                         int *fallbacks) {
    const int64_t d = c->dim, h = c->hidden_dim, kv = tlb_kv_dim(c), V = c->vocab_size;
    const int64_t shapes[][3] = {/* rows, cols, count */
        {V, d, shared ? 1 : 2}, {d, d, 2 * c->n_layers}, {kv, d, 2 * c->n_layers},
        {h, d, 2 * c->n_layers}, {d, h, c->n_layers}};
    uint64_t b = (uint64_t)d * 4 * (2 * (uint64_t)c->n_layers + 1); /* norms stay f32 */
    *fallbacks = 0;
    for (size_t i = 0; i < TLB_ARRAY_LEN(shapes); i++) {
        enum tlb_type t = tlb_model_type_for(want, shapes[i][1]);
        if (t != want) *fallbacks += (int)shapes[i][2];
        b += (uint64_t)tlb_type_row_bytes(t, shapes[i][1]) * (uint64_t)shapes[i][0] *
             (uint64_t)shapes[i][2];
    }
    return b;
}

static void print_model(const struct tlb_model *m, const struct tlb_gguf *g) {
    const struct tlb_config *c = &m->cfg;
    fputs("model         ", stdout); /* the name and path come from the file: escaped */
    tlb_esc_fputs(stdout, TLB_ESC_TERM, m->name);
    fputc('\n', stdout);
    if (g)
        printf("format        gguf (version %u, %llu metadata keys, %llu tensors, alignment %u, "
               "data at byte %llu of %zu)\n", g->version, (unsigned long long)g->n_kv,
               (unsigned long long)g->n_tensors, g->alignment,
               (unsigned long long)g->data_offset, g->size);
    else
        printf("format        %s\n", m->format);
    if (m->path[0]) {
        fputs("file          ", stdout);
        tlb_esc_fputs(stdout, TLB_ESC_TERM, m->path);
        fputc('\n', stdout);
    }
    if (!strcmp(m->format, "synthetic")) printf("seed          %llu\n", (unsigned long long)m->seed);
    printf("architecture  llama (Llama 2: RMSNorm, RoPE on adjacent pairs, GQA, SwiGLU)\n");
    printf("hyperparameters\n");
    printf("  dim %d, hidden_dim %d, n_layers %d, n_heads %d, n_kv_heads %d (head size %d, "
           "kv dim %d)\n", c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
           tlb_head_dim(c), tlb_kv_dim(c));
    printf("  vocab_size %d, seq_len %d, rms_eps %g, rope_theta %g, classifier %s\n",
           c->vocab_size, c->seq_len, (double)c->rms_eps, (double)c->rope_theta,
           m->shared_classifier ? "tied to token_embd" : "separate");
    uint64_t np = tlb_model_n_params(m);
    printf("parameters    %llu (%.3f M)\n", (unsigned long long)np, (double)np / 1e6);
    char used[96] = "";
    for (int t = 0; t < TLB_TYPE_COUNT; t++)
        if (m->types_used & TLB_TYPE_BIT(t)) {
            strncat(used, used[0] ? " " : "", sizeof used - strlen(used) - 1);
            strncat(used, tlb_type_traits((enum tlb_type)t)->name, sizeof used - strlen(used) - 1);
        }
    printf("weights       %s (types used: %s), mapping %s, ", tlb_type_traits(m->wtype)->name,
           used, m->mapping);
    print_bytes((double)tlb_model_weight_bytes(m));
    printf("\nmemory of the weights in each weight type (--quant TYPE; norms stay f32)\n");
    for (int t = 0; t < TLB_TYPE_COUNT; t++) {
        int fb;
        uint64_t b = bytes_in(c, m->shared_classifier, (enum tlb_type)t, &fb);
        printf("  %-5s ", tlb_type_traits((enum tlb_type)t)->name);
        print_bytes((double)b);
        if (fb) printf("  (%d matrices fall back to f16: rows not a multiple of 32)", fb);
        printf("\n");
    }
    printf("KV cache at the full context of %d tokens: f32 ", c->seq_len);
    print_bytes((double)tlb_kv_bytes_for(c, TLB_TYPE_F32, c->seq_len));
    printf(", f16 ");
    print_bytes((double)tlb_kv_bytes_for(c, TLB_TYPE_F16, c->seq_len));
    printf("\ntensors (shape lists the row length first, as GGUF does)\n");
    printf("  %-28s %-5s %-16s %12s\n", "name", "type", "shape", "bytes");
    tensor_line("token_embd.weight", &m->tok_embd);
    char name[64];
    for (int l = 0; l < c->n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
#define NM(s) (snprintf(name, sizeof name, "blk.%d." s ".weight", l), name)
        norm_line(NM("attn_norm"), c->dim);
        tensor_line(NM("attn_q"), &L->wq);
        tensor_line(NM("attn_k"), &L->wk);
        tensor_line(NM("attn_v"), &L->wv);
        tensor_line(NM("attn_output"), &L->wo);
        norm_line(NM("ffn_norm"), c->dim);
        tensor_line(NM("ffn_gate"), &L->w1);
        tensor_line(NM("ffn_up"), &L->w3);
        tensor_line(NM("ffn_down"), &L->w2);
#undef NM
    }
    norm_line("output_norm.weight", c->dim);
    if (m->shared_classifier) printf("  %-28s (tied to token_embd.weight)\n", "output.weight");
    else tensor_line("output.weight", &m->output);
}

int tlb_cmd_inspect(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"quant", required_argument, 0, 'q'},
        {"items", required_argument, 0, 'n'}, {"seed", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *spec = NULL;
    enum tlb_type wtype = TLB_TYPE_F32;
    int convert = 0;
    long items = 8;
    uint64_t seed = 42;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': spec = optarg; break;
        case 'q': if (tlb_type_from_name_msg("--quant", optarg, &wtype)) return TLB_EXIT_USAGE; convert = 1; break;
        case 'n': if (tlb_parse_int_msg("--items", optarg, 0, 1 << 20, &items)) return TLB_EXIT_USAGE; break;
        case 's': if (tlb_parse_u64_msg("--seed", optarg, &seed)) return TLB_EXIT_USAGE; break;
        case 'h': usage(stdout); return TLB_EXIT_OK;
        default: usage(stderr); return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc && !spec) spec = argv[optind++];
    if (optind < argc) {
        tlb_error("inspect: unexpected argument '%s'", argv[optind]);
        return TLB_EXIT_USAGE;
    }
    if (!spec) {
        tlb_error("inspect: give a model (see 'tlbench inspect --help')");
        return TLB_EXIT_USAGE;
    }

    int rc = TLB_EXIT_FAIL;
    struct tlb_gguf *g = NULL;
    struct tlb_model *m = NULL;
    struct tlb_tokenizer *tok = NULL;
    unsigned char magic[4] = {0};
    struct stat st;
    if (strncmp(spec, "synthetic:", 10) && stat(spec, &st) == 0 && !S_ISDIR(st.st_mode)) {
        long got = tlb_read_magic(spec, magic, 4); /* a FIFO or device is refused here */
        if (got < 0) goto out;
        if (got == 4 && !memcmp(magic, "GGUF", 4) && tlb_gguf_open(&g, spec) != 0) goto out;
    }
    if (g && g->n_tensors == 0) {
        /* a vocabulary-only GGUF (llama.cpp's ggml-vocab-*.gguf): not a model, still listable */
        fputs("file          ", stdout);
        tlb_esc_fputs(stdout, TLB_ESC_TERM, spec);
        fputc('\n', stdout);
        printf("format        gguf (version %u, %llu metadata keys, no tensors: vocabulary "
               "only)\n", g->version, (unsigned long long)g->n_kv);
        if (!tlb_gguf_has_vocab(g)) {
            tlb_error("%s: GGUF holds neither tensors nor a vocabulary", spec);
            goto out;
        }
        if (tlb_gguf_tokenizer_from(&tok, g) != 0) goto out;
        printf("vocabulary    %d tokens, BOS %d, EOS %d\n", tlb_tokenizer_vocab_size(tok),
               tlb_tokenizer_bos(tok), tlb_tokenizer_eos(tok));
    } else {
        struct tlb_load_opts lo = {.spec = spec, .convert = convert, .wtype = wtype,
                                   .seed = seed, .n_threads = 2};
        if (tlb_model_load(&m, &lo) != 0) goto out;
        print_model(m, g);
        if (g && tlb_gguf_has_vocab(g)) {
            if (tlb_gguf_tokenizer_from(&tok, g) != 0) goto out;
            printf("vocabulary    %d tokens, BOS %d, EOS %d\n", tlb_tokenizer_vocab_size(tok),
                   tlb_tokenizer_bos(tok), tlb_tokenizer_eos(tok));
        }
    }
    if (g) {
        printf("metadata (arrays show at most %ld items)\n", items);
        tlb_gguf_print_metadata(stdout, g, (int)items);
    }
    rc = fflush(stdout) == 0 ? TLB_EXIT_OK : TLB_EXIT_FAIL;
out:
    tlb_tokenizer_free(tok);
    tlb_model_free(m);
    tlb_gguf_free(g);
    return rc;
}
