/* command-list.h — every subcommand, one line each, in the order `tlbench --help` lists them:
 * TLB_COMMAND(name, summary) runs `int tlb_cmd_<name>(int argc, char **argv)` in
 * harness/cli/cmd-<name>.c (declared in command.h); the summary is its line in --help. */
TLB_COMMAND(info, "show the platform, usable kernels, power/thermal sensors and counters")
TLB_COMMAND(generate, "generate text from a prompt (llama2.c-exact greedy output)")
TLB_COMMAND(bench, "benchmark one configuration: latency, memory, power, accuracy, counters")
TLB_COMMAND(sweep, "benchmark every model x quant x kernel x threads x ctx combination to CSV")
TLB_COMMAND(eval, "accuracy of a quant/kernel vs the f32 reference: KLD, top-1, perplexity")
TLB_COMMAND(tokenize, "print the token ids of a text (tokenizer check)")
TLB_COMMAND(kernels, "matmul micro-benchmark: GFLOP/s, GB/s and share of measured machine limits")
TLB_COMMAND(ab, "measure two tlbench builds in turns (the CI gate's data; docs/ci.md)")
TLB_COMMAND(import, "turn llama-bench results (json, jsonl, csv) into tlbench rows")
TLB_COMMAND(compare, "compare two results CSVs; exit 1 on a significant regression")
TLB_COMMAND(fit, "which quantization and context fit a RAM budget (measured + memory model)")
TLB_COMMAND(inspect, "list a model's format, shapes, tensors, memory per weight type, metadata")
TLB_COMMAND(convert, "write a model as GGUF (optionally requantized) for other engines")
TLB_COMMAND(report, "charts (PNG/SVG) and a summary page (Markdown/HTML) from results CSVs")
