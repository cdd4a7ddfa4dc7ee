/* command.h — subcommands of the tlbench binary. Each subcommand is one file
 * harness/cmd-<name>.c defining `const struct tlb_command tlb_command_<name>` and has one line
 * in harness/command-list.h. Exit codes: 0 success, 1 failure (bad input file, run error),
 * 2 usage error (unknown or impossible option). */
#ifndef TLB_COMMAND_H
#define TLB_COMMAND_H

struct tlb_command {
    const char *name;
    const char *summary;               /* one line for `tlbench --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name; handles --help */
};

enum { TLB_EXIT_OK = 0, TLB_EXIT_FAIL = 1, TLB_EXIT_USAGE = 2 };

#endif
