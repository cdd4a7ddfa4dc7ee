/* cmd-tokenize.c — `tlbench tokenize`: encode a text with a tokenizer (llama2.c .bin,
 * SentencePiece tokenizer.model, or GGUF once the GGUF reader is wired in) and print the ids
 * on one line, separated by single spaces. Used to check the tokenizer against other engines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "tokenizer.h"
#include "util.h"

#define MAX_TEXT_FILE (256u << 20)

static void usage(FILE *out) {
    fprintf(out,
            "usage: tlbench tokenize --tokenizer FILE (--text TEXT | --text-file FILE) [--bos] "
            "[--eos]\n\n"
            "Encode a text and print its token ids on one line, separated by single spaces.\n"
            "The encoding is llama2.c run.c's / SentencePiece BPE: a dummy-prefix space, then\n"
            "byte fallback for characters without a piece, then merges by score.\n\n"
            "options:\n"
            "  -z, --tokenizer FILE   tokenizer: a llama2.c tokenizer .bin, a SentencePiece\n"
            "                         tokenizer.model, or a GGUF file (format sniffed from the\n"
            "                         content)\n"
            "  -i, --text TEXT        the text to encode (as given, UTF-8)\n"
            "  -f, --text-file FILE   encode the bytes of FILE exactly (no newline stripping);\n"
            "                         give exactly one of --text and --text-file\n"
            "      --bos              start with the BOS token (default: no BOS)\n"
            "      --eos              end with the EOS token (default: no EOS)\n"
            "  -h, --help             show this help\n\n"
            "exit status: 0 ok, 1 unreadable or invalid file, 2 usage error\n");
}

int tlb_cmd_tokenize(int argc, char **argv) {
    enum { OPT_BOS = 256, OPT_EOS };
    static const struct option longopts[] = {
        {"tokenizer", required_argument, NULL, 'z'},
        {"text", required_argument, NULL, 'i'},
        {"text-file", required_argument, NULL, 'f'},
        {"bos", no_argument, NULL, OPT_BOS},
        {"eos", no_argument, NULL, OPT_EOS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tok_path = NULL, *text = NULL, *text_file = NULL;
    int bos = 0, eos = 0;
    optind = 0; /* glibc: full re-initialisation, so run() can be called more than once */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":z:i:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'z': tok_path = optarg; break;
        case 'i': text = optarg; break;
        case 'f': text_file = optarg; break;
        case OPT_BOS: bos = 1; break;
        case OPT_EOS: eos = 1; break;
        case 'h': usage(stdout); return TLB_EXIT_OK;
        case ':':
            tlb_error("tokenize: option '%s' needs a value (see 'tlbench tokenize --help')",
                      argv[optind - 1]);
            return TLB_EXIT_USAGE;
        default:
            tlb_error("tokenize: unknown or incomplete option '%s' (see 'tlbench tokenize "
                      "--help')", argv[optind - 1]);
            return TLB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tlb_error("tokenize: unexpected argument '%s' (quote the text and pass it with --text)",
                  argv[optind]);
        return TLB_EXIT_USAGE;
    }
    if (!tok_path) {
        tlb_error("tokenize: --tokenizer FILE is required");
        return TLB_EXIT_USAGE;
    }
    if (!text == !text_file) {
        tlb_error("tokenize: give exactly one of --text and --text-file");
        return TLB_EXIT_USAGE;
    }

    char *file_text = NULL;
    size_t len;
    if (text_file) {
        file_text = tlb_read_file(text_file, MAX_TEXT_FILE, &len);
        if (!file_text) return TLB_EXIT_FAIL;
        text = file_text;
    } else {
        len = strlen(text);
    }
    struct tlb_tokenizer *t = NULL;
    if (tlb_tokenizer_open(&t, tok_path, 0)) {
        free(file_text);
        return TLB_EXIT_FAIL;
    }
    int rc = TLB_EXIT_FAIL;
    size_t cap = len + 3; /* always enough: BOS, dummy prefix, one per byte, EOS */
    int *ids = tlb_malloc(cap * sizeof *ids, "token ids");
    int n = ids ? tlb_tokenize(t, text, len, bos, eos, ids, (int)cap) : -1;
    if (n >= 0) {
        for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
        if (fflush(stdout) == 0 && !ferror(stdout)) rc = TLB_EXIT_OK;
        else tlb_error("tokenize: cannot write the ids to standard output");
    } else if (ids) {
        tlb_error("tokenize: encoding failed");
    }
    free(ids);
    tlb_tokenizer_free(t);
    free(file_text);
    return rc;
}
