#!/usr/bin/env bash
# against-llama.sh — measure the README's "Against llama.cpp" table again: one sweep that runs
# tlbench and llama.cpp's llama-bench side by side on the same weights (synthetic TinyLlama-1.1B,
# written once as GGUF per weight type), then `tlbench report`; prints the machine, the load
# and the probes' bandwidth and FMA peak (1 and 2 threads) before and after, the exact
# commands and the report's "Engines side by side" table, ready for the README.
# This project never builds llama.cpp: point at an installed llama-bench.
#
#   scripts/against-llama.sh [more sweep options, e.g. --kernel avx512,openblas --rounds 16]
#
# Default: one repetition per row and 10 rounds (-r 1 --rounds 10), each configuration's two
# engines back to back: a round's ratio then compares rows seconds apart, and 10 rounds give the
# report's 95 % interval per cell. On a 2-vCPU VM whose memory moved between levels within rows,
# 10 rounds of 1 took 21 min against 29 for 6 rounds of 3, and in each of three runs every decode
# cell but at most one kept >= 6 rounds (6 rounds of 3: 2-4 kept in most 2-thread cells).
#
#   LLAMA_BENCH  the llama-bench to run (default: $TLBENCH_LLAMA_BENCH, else llama-bench on PATH)
#   GGUF_DIR     where the GGUF files are written and kept (default: ~/.cache/tlbench/gguf)
#   OUT          results file (default: results/against-llama-cpp-<YYYYMMDD>.csv); the report
#                goes to the same name without .csv, plus -report
set -eu
cd "$(dirname "$0")/.."
T=build/tlbench
[ -x "$T" ] || { echo "against-llama.sh: build tlbench first (make)" >&2; exit 2; }
LB=${LLAMA_BENCH:-${TLBENCH_LLAMA_BENCH:-$(command -v llama-bench || true)}}
[ -n "$LB" ] && [ -x "$LB" ] || {
    echo "against-llama.sh: no llama-bench: set LLAMA_BENCH=/path/to/llama-bench" >&2; exit 2; }
OUT=${OUT:-results/against-llama-cpp-$(date +%Y%m%d).csv}
REP=${OUT%.csv}-report
[ ! -e "$OUT" ] || { echo "against-llama.sh: $OUT exists; move it away or set OUT" >&2; exit 2; }

sweep=("$T" sweep --profile none --engine tlbench,llama.cpp --llama-bench "$LB"
       --model synthetic:tinyllama-1.1b --quant f32,f16,bf16,q8_0,q4_0 --kernel auto -t 1,2
       -p 128 -n 32 -r 1 --rounds 10 --kv-type f16 --no-accuracy)
[ -n "${GGUF_DIR:-}" ] && sweep+=(--gguf-dir "$GGUF_DIR")
sweep+=("$@" -o "$OUT")
report=("$T" report "$OUT" -o "$REP")

# The machine's limits before and after: memory read bandwidth and FMA peak on 1 and 2 threads.
# On a VM the host may run both vCPUs on one core's SMT siblings for minutes (the FMA line then
# says 2 threads did not get 2 cores) and 2-thread figures measured then describe that.
limits() { "$T" kernels --kernel naive --quant f32 --shapes 64x256 -m 1 -t 1,2 -r 1 \
               --budget-ms 1 --probe-mb 256 -o /dev/null 2>&1 | grep 'probe' || true; }
"$T" info | head -20
echo "limits before:"; limits
echo "load before: $(uptime)"
echo "\$ ${sweep[*]}"
"${sweep[@]}"
echo "load after: $(uptime)"
echo "limits after:"; limits
echo "\$ ${report[*]}"
"${report[@]}"
echo
sed -n '/^### .*tlbench vs /,/^## /p' "$REP/summary.md" | sed '$d'
