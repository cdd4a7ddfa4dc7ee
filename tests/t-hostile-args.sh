#!/usr/bin/env bash
# t-hostile-args.sh — numbers from the command line, sweep files and profiles are range-checked
# before any arithmetic: a range whose step overflows (`-t "1-8+9223372036854775807"` put 0 and
# -1 threads into the plan past the range check), or whose step or factor lies beyond the
# option's own range, is refused with one error naming the option, file or profile; so are
# out-of-range single values. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
P=(sweep --profile none --model synthetic:tiny --dry-run)

# expect NAME WANT_EXIT PATTERN -- command...: that exit, one error line matching PATTERN, and
# no configuration with a negative or zero thread count / negative depth in the plan
expect() {
    local name=$1 want=$2 pat=$3; shift 4
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ $rc -ne "$want" ]; then fail "$name" "exit $rc (wanted $want): $(grep -E 't=-?[0-9]+ d=' "$tmp/out" | tail -2 | tr '\n' ' ')$(head -c 200 "$tmp/err")"
    elif ! grep -q -- "$pat" "$tmp/err"; then fail "$name" "error lacks '$pat': $(head -c 300 "$tmp/err")"
    elif grep -qE 't=(0|-[0-9]+) |d=-' "$tmp/out"; then fail "$name" "impossible values in the plan"
    else ok "$name"; fi
}
H=9223372036854775807
expect args_threads_step_overflow 2 "-t: .*1-8+$H" -- "$T" "${P[@]}" -t "1-8+$H"
expect args_ctx_step_overflow 2 "--ctx: .*0-8+$H" -- "$T" "${P[@]}" --ctx "0-8+$H"
expect args_threads_factor_overflow 2 "-t: .*1-8\*$H" -- "$T" "${P[@]}" -t "1-8*$H"
expect args_bench_ctx_overflow 2 "0-8+$H" -- "$T" bench --model synthetic:tiny --dry-run -d "0-8+$H"
expect args_prompt_huge 2 "-p: " -- "$T" "${P[@]}" -p "$H"

printf 'model = synthetic:tiny\nthreads = 1-8+%s\n' "$H" >"$tmp/s.conf"
expect args_sweep_file_step_overflow 1 "$tmp/s.conf:2: " -- "$T" "${P[@]}" --sweep "$tmp/s.conf"
printf 'model = synthetic:tiny\nctx = 1-4096*%s\n' "$H" >"$tmp/s2.conf"
expect args_sweep_file_factor_overflow 1 "$tmp/s2.conf:2: " -- "$T" "${P[@]}" --sweep "$tmp/s2.conf"

mkdir -p "$tmp/plat"
cp platforms/generic.conf "$tmp/plat/"
sed -e 's/^name = generic/name = evil/' -e "s/^threads = .*/threads = 1-8+$H/" \
    platforms/generic.conf >"$tmp/plat/evil.conf"
if ! grep -q "^threads = 1-8+$H" "$tmp/plat/evil.conf"; then
    fail args_profile_step_overflow "setup: no threads line in platforms/generic.conf"
else
    expect args_profile_step_overflow 1 "evil.conf" -- env TLBENCH_PLATFORMS="$tmp/plat" \
        "$T" sweep --profile evil --model synthetic:tiny --dry-run
fi
