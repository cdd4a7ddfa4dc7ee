#!/usr/bin/env bash
# run-tests.sh — runs every test binary (build/tests/test-*) and every test script
# (tests/t-*.sh), each of which prints "ok NAME", "FAIL NAME: why" or "skip NAME: why" lines,
# and ends with one summary line: "N passed, N failed, N skipped". Exit 1 on any failure.
# A binary or script that crashes or exits non-zero without printing a FAIL line counts as
# one failure, so a crash can never look like a pass.
# Usage: tests/run-tests.sh BUILD_DIR [FILTER]
set -u
build=${1:-build}
filter=${2:-}
pass=0; fail=0; skip=0
log=$(mktemp)
# model digests that sweeps remember (base/hash-cache.h) and the probes' last figures
# (harness/sensors/probe-history.h) go to a cache of the test run's own,
# not the user's ~/.cache
TLBENCH_CACHE_DIR=$(mktemp -d); export TLBENCH_CACHE_DIR
trap 'rm -f "$log"; rm -rf "$TLBENCH_CACHE_DIR"' EXIT
run_one() {
    local name=$1; shift
    local start=$EPOCHREALTIME
    "$@" >"$log" 2>"$log.err"
    local rc=$?
    local p f s
    p=$(grep -c '^ok ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^skip ' "$log")
    grep -E '^(FAIL|skip) ' "$log" | sed "s|^|  [$name] |"
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "  [$name] FAIL $name: exited with status $rc"; tail -5 "$log.err" | sed 's/^/    /'
        f=1
    elif [ "$f" -gt 0 ]; then
        tail -5 "$log.err" | sed 's/^/    /'
    fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    printf '%-28s %3d ok %3d failed %3d skipped  (%.1fs)\n' "$name" "$p" "$f" "$s" \
        "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{print b-a}')"
    rm -f "$log.err"
}
for t in "$build"/tests/test-*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue;; esac
    n=$(basename "$t")
    [ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
    run_one "$n" "$t"
done
for t in tests/t-*.sh; do
    [ -f "$t" ] || continue
    n=$(basename "$t" .sh)
    [ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
    run_one "$n" bash "$t" "$build"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
