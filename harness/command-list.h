/* command-list.h — every subcommand, one line each, in the order `tlbench --help` lists them. */
TLB_COMMAND(info)
TLB_COMMAND(generate)
TLB_COMMAND(bench)
TLB_COMMAND(sweep)
TLB_COMMAND(eval)
TLB_COMMAND(tokenize)
TLB_COMMAND(kernels)
