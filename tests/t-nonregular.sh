#!/usr/bin/env bash
# t-nonregular.sh — every file tlbench reads by name is checked to be a regular file before
# anything can block on it: a FIFO (named pipe with no writer: opening it for reading would
# wait forever), a directory or a device given as a model, tokenizer, text, profile, sweep
# file, results CSV or kernels CSV gets exit 1 and one error line naming the file and what it
# is, at once. An output FIFO with no reader is refused instead of waited on. $1 = build dir.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
mkfifo "$tmp/fifo"
mkdir -p "$tmp/dir" "$tmp/plat"
cp platforms/generic.conf "$tmp/plat/"

# expect NAME FILE_IN_MESSAGE KIND_PATTERN EXIT -- command...: that exit status within 10 s
# (1, or 2 for compare and fit, whose 1 means a regression / nothing fits), an error naming the
# file and the kind of file
expect() {
    local name=$1 file=$2 kind=$3 want=$4; shift 5
    timeout -k 2 10 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then fail "$name" "blocked (killed after 10 s)"
    elif [ $rc -ne "$want" ]; then fail "$name" "exit $rc (wanted $want): $(head -c 300 "$tmp/err")"
    elif ! grep -q "tlbench: .*$file.*$kind" "$tmp/err"; then fail "$name" "no error naming $file as $kind: $(head -c 300 "$tmp/err")"
    else ok "$name"; fi
}
F=$tmp/fifo
expect inspect_fifo "$F" FIFO 1 -- "$T" inspect "$F"
expect inspect_dir_gguf "$tmp/dir" directory 1 -- "$T" inspect "$tmp/dir/"
expect generate_model_fifo "$F" FIFO 1 -- "$T" generate --model "$F" --steps 2
expect tokenize_tokenizer_fifo "$F" FIFO 1 -- "$T" tokenize --tokenizer "$F" --text hi
expect tokenize_text_fifo "$F" FIFO 1 -- "$T" tokenize --tokenizer "$F" --text-file "$F"
expect tokenize_tokenizer_device /dev/zero "character device" 1 -- "$T" tokenize --tokenizer /dev/zero --text hi
expect sweep_file_fifo "$F" FIFO 1 -- "$T" sweep --profile none --sweep "$F" --dry-run
expect sweep_file_dir "$tmp/dir" directory 1 -- "$T" sweep --profile none --sweep "$tmp/dir" --dry-run
# (the sweep runs; the accuracy pass that needs the text says why its columns are empty)
expect sweep_eval_text_fifo "$F" FIFO 0 -- "$T" sweep --profile none --model synthetic:tiny --quant f32 \
    --kernel naive -t 1 --ctx 0 -p 4 -n 2 -r 1 --warmup 0 --power none --tokenizer "$F" \
    --eval-text "$F" -o "$tmp/e.csv"
mkfifo "$tmp/plat/evil.conf"
expect profile_fifo "evil.conf" FIFO 1 -- env TLBENCH_PLATFORMS="$tmp/plat" "$T" sweep --profile evil --dry-run
expect compare_fifo "$F" FIFO 2 -- "$T" compare "$F" "$F"
expect fit_results_fifo "$F" FIFO 2 -- "$T" fit --ram 4G --results "$F"
expect report_fifo "$F" FIFO 1 -- "$T" report "$F" -o "$tmp/rep"
expect report_kernels_csv_fifo "$F" FIFO 1 -- "$T" report tests/fixtures/csv/base.csv --kernels-csv "$F" -o "$tmp/rep2"
expect resume_fifo "$F" FIFO 1 -- "$T" sweep --profile none --model synthetic:tiny --quant f32 \
    --kernel naive -t 1 --ctx 0 --resume -o "$F"

# profile detection walks every platforms/*.conf: a FIFO there is skipped, never waited on
timeout -k 2 10 env TLBENCH_PLATFORMS="$tmp/plat" "$T" sweep --model synthetic:tiny --dry-run \
    >/dev/null 2>"$tmp/err" </dev/null; rc=$?
[ $rc -ne 124 ] && [ $rc -ne 137 ] && ok profile_detect_skips_fifo || fail profile_detect_skips_fifo "blocked"

# an output FIFO with no reader: refused at once (a pipe with a reader, /dev/null, still work)
expect fit_output_fifo "$F" "FIFO with no reader" 2 -- "$T" fit --ram 4G --model tinyllama-1.1b -o "$F"
"$T" fit --ram 4G --model tinyllama-1.1b -o /dev/null >/dev/null 2>"$tmp/err" && ok fit_output_dev_null \
    || fail fit_output_dev_null "$(head -c 300 "$tmp/err")"
