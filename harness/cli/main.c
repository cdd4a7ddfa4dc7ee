/* main.c — the tlbench binary: dispatches to a subcommand (command-list.h). */
#include <stdio.h>
#include <string.h>

#include "build-info.h"
#include "command.h"
#include "util.h"

static const struct tlb_command commands[] = {
#define TLB_COMMAND(name, summary) {#name, summary, tlb_cmd_##name},
#include "command-list.h"
#undef TLB_COMMAND
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *out) {
    fprintf(out,
            "tlbench %s — TinyLlama inference benchmark for edge hardware\n\n"
            "usage: tlbench COMMAND [OPTIONS]\n\ncommands:\n",
            TLB_VERSION);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'tlbench COMMAND --help' explains every option of a command.\n"
            "Models: a llama2.c .bin, a GGUF file, a safetensors checkpoint, or "
            "synthetic:tinyllama-1.1b.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return TLB_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return TLB_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("tlbench %s (%s)\n", TLB_VERSION, TLB_BUILD_COMMIT);
        return TLB_EXIT_OK;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    tlb_error("unknown command '%s' (see 'tlbench --help')", argv[1]);
    return TLB_EXIT_USAGE;
}
