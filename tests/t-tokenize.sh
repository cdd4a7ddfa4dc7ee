#!/usr/bin/env bash
# t-tokenize.sh — `tlbench tokenize` end to end: the exact output format for tok512.bin and the
# Llama tokenizer (.bin, .model, .gguf), --text-file taking the file's bytes exactly, and exit
# code 2 / 1 with one error line for usage errors / bad files. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
D=${TLBENCH_DATA:-../shared/data}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

# expect NAME WANT_STDOUT_FILE ARGS...: exit 0 and stdout byte-identical to the file
expect() {
    local name=$1 want=$2; shift 2
    "$T" tokenize "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne 0 ]; then fail "$name" "exit $rc: $(head -1 "$tmp/err")"
    elif cmp -s "$tmp/out" "$want"; then ok "$name"
    else fail "$name" "got '$(head -c 200 "$tmp/out")'"; fi
}

# refuse NAME CODE ARGS...: exit CODE, nothing on stdout, exactly one line on stderr
refuse() {
    local name=$1 code=$2; shift 2
    "$T" tokenize "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne "$code" ]; then fail "$name" "exit $rc, expected $code"
    elif [ -s "$tmp/out" ]; then fail "$name" "wrote to stdout"
    elif [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name" "stderr has $(wc -l <"$tmp/err") lines"
    else ok "$name"; fi
}

if [ -f "$D/stories260K/tok512.bin" ]; then
    tok="$D/stories260K/tok512.bin"
    printf '1 403 407 261 378\n' >"$tmp/w1"
    expect tokenize_tok512_bos "$tmp/w1" --tokenizer "$tok" --text "Once upon a time" --bos
    printf '403 407 261 378\n' >"$tmp/w2"
    expect tokenize_tok512_no_bos "$tmp/w2" --tokenizer "$tok" --text "Once upon a time"
    printf '1 291 376 400 428 2\n' >"$tmp/w3"
    expect tokenize_tok512_bos_eos "$tmp/w3" -z "$tok" -i "The little dog" --bos --eos
    printf '\n' >"$tmp/w4"
    expect tokenize_empty_text "$tmp/w4" --tokenizer "$tok" --text ""
    # --text-file keeps the trailing newline (id 13 = <0x0A>)
    printf 'Once upon a time\n' >"$tmp/text"
    printf '403 407 261 378 13\n' >"$tmp/w5"
    expect tokenize_text_file_exact_bytes "$tmp/w5" --tokenizer "$tok" --text-file "$tmp/text"
    refuse tokenize_missing_text_file 1 --tokenizer "$tok" --text-file "$tmp/nonexistent"
else
    echo "skip tokenize_tok512: $D/stories260K/tok512.bin absent (set TLBENCH_DATA)"
fi

# llama.cpp vector "Hello, world!" -> 15043 29892 3186 29991 with every Llama tokenizer format
printf '15043 29892 3186 29991\n' >"$tmp/hello"
for f in llama2_tokenizer/tokenizer.bin llama2_tokenizer/tokenizer.model \
         tokenizer/ggml-vocab-llama-spm.gguf; do
    n=$(basename "$f" | tr '.-' '__')
    if [ -f "$D/$f" ]; then
        expect "tokenize_llama_$n" "$tmp/hello" --tokenizer "$D/$f" --text "Hello, world!"
    else
        echo "skip tokenize_llama_$n: $D/$f absent (set TLBENCH_DATA)"
    fi
done

# usage errors: exit 2, one line
any="$D/stories260K/tok512.bin"
refuse tokenize_no_text 2 --tokenizer "$any"
refuse tokenize_both_texts 2 --tokenizer "$any" --text a --text-file "$tmp/text"
refuse tokenize_no_tokenizer 2 --text a
refuse tokenize_unknown_option 2 --tokenizer "$any" --text a --frobnicate
refuse tokenize_missing_value 2 --tokenizer "$any" --text
refuse tokenize_stray_argument 2 --tokenizer "$any" --text a extra
# bad files: exit 1, one line
refuse tokenize_missing_tokenizer 1 --tokenizer "$tmp/nonexistent.bin" --text a
printf '\x10\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\x7f' >"$tmp/bad.bin"
refuse tokenize_broken_tokenizer 1 --tokenizer "$tmp/bad.bin" --text a

if "$T" tokenize --help >"$tmp/out" 2>&1 && grep -q -- --text-file "$tmp/out" &&
   grep -q -- --bos "$tmp/out"; then
    ok tokenize_help
else
    fail tokenize_help "--help did not exit 0 explaining the options"
fi
