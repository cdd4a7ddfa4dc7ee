/* command-list.h — every subcommand, one line each, in the order `tlbench --help` lists them. */
TLB_COMMAND(info)
TLB_COMMAND(generate)
TLB_COMMAND(tokenize)
