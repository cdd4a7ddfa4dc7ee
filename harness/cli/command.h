/* command.h — the subcommands of the tlbench binary (the cli layer: it may use every layer
 * below it, and nothing uses it). A subcommand is one file harness/cli/cmd-<name>.c defining
 * `int tlb_cmd_<name>(int argc, char **argv)` (argv[0] is the subcommand's name; it handles
 * --help) and one line in command-list.h. Exit codes: 0 success, 1 failure (bad input file,
 * run error), 2 usage error (unknown or impossible option). */
#ifndef TLB_COMMAND_H
#define TLB_COMMAND_H

struct tlb_command {
    const char *name;
    const char *summary;               /* one line for `tlbench --help` */
    int (*run)(int argc, char **argv);
};

enum { TLB_EXIT_OK = 0, TLB_EXIT_FAIL = 1, TLB_EXIT_USAGE = 2 };

#define TLB_COMMAND(name, summary) int tlb_cmd_##name(int argc, char **argv);
#include "command-list.h"
#undef TLB_COMMAND

#endif
