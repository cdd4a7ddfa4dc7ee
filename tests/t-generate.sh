#!/usr/bin/env bash
# t-generate.sh — `tlbench generate` end to end: llama2.c-exact greedy text on stories260K, and
# one clear error line + non-zero exit for each kind of bad input. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
D=${TLBENCH_DATA:-../shared/data}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

if [ -f "$D/stories260K/stories260K.bin" ] && [ -f "$D/expected/stories260K_greedy_empty.txt" ]; then
    for th in 1 2; do
        "$T" generate --model "$D/stories260K/stories260K.bin" --tokenizer "$D/stories260K/tok512.bin" \
            --steps 200 --temp 0 --threads $th >"$tmp/out.txt" 2>"$tmp/err.txt"
        if cmp -s "$tmp/out.txt" "$D/expected/stories260K_greedy_empty.txt"; then ok "generate_stories260k_exact_t$th"
        else fail "generate_stories260k_exact_t$th" "stdout differs from expected/stories260K_greedy_empty.txt"; fi
    done
    grep -q "tok/s" "$tmp/err.txt" && ok generate_reports_speed_on_stderr || fail generate_reports_speed_on_stderr "no tok/s on stderr"
    # the timings must not leak into stdout
    grep -q "tok/s" "$tmp/out.txt" && fail generate_stdout_clean "timings on stdout" || ok generate_stdout_clean
else
    echo "skip generate_stories260k_exact: $D/stories260K or $D/expected absent (set TLBENCH_DATA)"
fi

# Bad input: each must exit non-zero with exactly one line on stderr naming the problem.
expect_error() { # name expected_exit pattern args...
    local name=$1 want=$2 pat=$3; shift 3
    "$T" "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
    local lines; lines=$(wc -l <"$tmp/e")
    if [ $rc -ne "$want" ]; then fail "$name" "exit $rc, wanted $want: $(head -c 200 "$tmp/e")"
    elif ! grep -q -- "$pat" "$tmp/e"; then fail "$name" "message lacks '$pat': $(head -c 200 "$tmp/e")"
    elif [ "$lines" -ne 1 ]; then fail "$name" "$lines lines on stderr, wanted 1: $(head -c 300 "$tmp/e")"
    elif grep -q . "$tmp/o"; then fail "$name" "output on stdout"
    else ok "$name"; fi
}
printf 'abc' >"$tmp/short.bin"
head -c 1000 "$D/stories260K/stories260K.bin" >"$tmp/trunc.bin" 2>/dev/null || printf '\100\0\0\0\254\0\0\0\5\0\0\0\10\0\0\0\4\0\0\0\0\2\0\0\0\2\0\0' >"$tmp/trunc.bin"
printf '\100\0\0\0\254\0\0\0\5\0\0\0\7\0\0\0\4\0\0\0\0\2\0\0\0\2\0\0' >"$tmp/heads.bin"
expect_error gen_missing_model 1 "nope.bin" generate --model "$tmp/nope.bin"
expect_error gen_short_model 1 "short.bin" generate --model "$tmp/short.bin"
expect_error gen_truncated_model 1 "implies" generate --model "$tmp/trunc.bin"
expect_error gen_heads_not_dividing 1 "not divisible" generate --model "$tmp/heads.bin"
expect_error gen_unknown_synthetic 1 "synthetic:nope" generate --model synthetic:nope
expect_error gen_steps_zero 2 "\-\-steps" generate --model synthetic:tiny --steps 0
expect_error gen_threads_zero 2 "\-\-threads" generate --model synthetic:tiny --threads 0
expect_error gen_temp_negative 2 "\-\-temp" generate --model synthetic:tiny --temp -1
expect_error gen_unknown_kernel 2 "unknown kernel" generate --model synthetic:tiny --kernel nope
expect_error gen_unknown_quant 2 "unknown type" generate --model synthetic:tiny --quant q3_x
expect_error gen_missing_tokenizer 1 "nope.tok" generate --model synthetic:tiny --tokenizer "$tmp/nope.tok"
expect_error gen_no_model 2 "\-\-model" generate
expect_error unknown_command 2 "unknown command" frobnicate

# Synthetic model without a tokenizer prints token ids.
"$T" generate --model synthetic:tiny --steps 8 --temp 0 >"$tmp/ids" 2>/dev/null
if [ "$(wc -w <"$tmp/ids")" -eq 8 ] && grep -Eq '^[0-9 ]+$' "$tmp/ids"; then ok gen_synthetic_ids
else fail gen_synthetic_ids "expected 8 ids, got '$(head -c 100 "$tmp/ids")'"; fi
"$T" --help | grep -q generate && ok help_lists_commands || fail help_lists_commands "no generate in --help"
"$T" generate --help | grep -q -- "--top-p" && ok generate_help || fail generate_help "--top-p not explained"
