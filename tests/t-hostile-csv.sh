#!/usr/bin/env bash
# t-hostile-csv.sh — report on CSVs holding numbers no measurement can have: each such row is
# skipped with one warning naming the file, the line and the column, and the report is built
# from the rest (results CSVs: tests/fixtures/csv/fit-hostile.csv; a kernels CSV with negative
# GFLOP/s, a 1e300 bandwidth and a negative size, made here from the report fixture). Under
# `make sanitize` the same runs prove no out-of-range cast happens. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
F=tests/fixtures/csv
export TLBENCH_GNUPLOT=/nonexistent   # charts are not what this tests: no gnuplot needed

"$T" report "$F/fit-hostile.csv" -o "$tmp/rep" >"$tmp/out" 2>"$tmp/err"; rc=$?
n=$(grep -c "warning: $F/fit-hostile.csv: line [0-9]*: column [a-z_]*: .*skipping the row" "$tmp/err")
if [ $rc -ne 0 ] && ! [ -f "$tmp/rep/summary.md" ]; then fail report_hostile_rows "exit $rc: $(tail -3 "$tmp/err")"
elif [ "$n" -ne 5 ]; then fail report_hostile_rows "$n warnings (want 5): $(head -5 "$tmp/err")"
elif grep -qiE 'runtime error|nan|inf\b' "$tmp/err" "$tmp/rep/summary.md"; then fail report_hostile_rows "$(grep -iE 'runtime error|nan|inf\b' "$tmp/err" "$tmp/rep/summary.md" | head -3)"
elif grep -q '9000000000000000000\|1e+300' "$tmp/rep/summary.md"; then fail report_hostile_rows "an impossible number reached the summary"
else ok report_hostile_rows; fi

K=tests/fixtures/report/kernels-x86.csv
{
    head -3 "$K"
    sed -n 4p "$K" | awk -F, 'BEGIN{OFS=","} {$15 = "-5"; print}'      # gflops < 0
    sed -n 5p "$K" | awk -F, 'BEGIN{OFS=","} {$16 = "1e300"; print}'   # gbps 1e300
    sed -n 6p "$K" | awk -F, 'BEGIN{OFS=","} {$7 = "-1"; print}'       # n < 0
    tail -n +7 "$K"
} >"$tmp/k.csv"
"$T" report tests/fixtures/report/x86.csv --kernels-csv "$tmp/k.csv" -o "$tmp/rep2" >"$tmp/out" 2>"$tmp/err"; rc=$?
n=$(grep -c "warning: $tmp/k.csv: line [4-6]: column \(gflops\|gbps\|n\): .*skipping the row" "$tmp/err")
if [ ! -f "$tmp/rep2/summary.md" ]; then fail report_hostile_kernels_rows "exit $rc, no summary: $(tail -3 "$tmp/err")"
elif [ "$n" -ne 3 ]; then fail report_hostile_kernels_rows "$n warnings (want 3): $(grep -i warning "$tmp/err" | head -4)"
elif grep -q 'runtime error' "$tmp/err"; then fail report_hostile_kernels_rows "$(grep 'runtime error' "$tmp/err" | head -2)"
else ok report_hostile_kernels_rows; fi
