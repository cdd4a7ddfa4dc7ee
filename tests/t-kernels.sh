#!/usr/bin/env bash
# t-kernels.sh — `tlbench kernels` benchmark mode end to end, on tiny settings: the probes are
# sampled 3 times first and once more before every weight type and shape (so the yardstick is
# the best of samples taken between the kernel runs), every row carries the best sample, the
# bandwidth spread and the sample of the round just before its shape (never above the best),
# and --no-probes leaves those cells empty; 1-thread decode rows (and
# only they) carry the pace from cache; two threads pinned to one CPU (as two vCPUs on one
# host core) are called out; the probe's figure is remembered per CPU, thread count and buffer,
# and a run whose figure is far from the last one says so; decode repetitions are paired with a
# plain read of the same bytes in the stream pattern the probe read fastest; rows are not
# appended to a CSV of other columns. No timing is asserted.
# $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
if [ ! -x "$T" ]; then echo "FAIL kernels_bench: $T not built"; exit 1; fi

small=(--kernel tiled -m 1 -t 1 -r 1 --budget-ms 1 --probe-mb 16 --flush-mb 0)
# 2 weight types x 2 shapes = 4 blocks: 3 + 4 = 7 samples per thread count
if "$T" kernels "${small[@]}" --quant q8_0,f16 --shapes 64x256,32x512 --format csv \
       -o "$tmp/k.csv" 2>"$tmp/err"; then
    n=$(sed -n 's/^tlbench: probe: 1 thread: read bandwidth [0-9.]* GB\/s (best of \([0-9]*\),.*/\1/p' "$tmp/err")
    if [ "$n" = 7 ]; then ok kernels_probe_sampled_between_runs
    else fail kernels_probe_sampled_between_runs "want best of 7 samples, stderr: $(grep probe "$tmp/err" | head -2)"; fi
    # every row: the best bandwidth sample and a spread in [0, 100]
    bad=$(awk -f scripts/csv.awk -f /dev/stdin "$tmp/k.csv" <<'EOF'
FNR == 1 { nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i; next }
{
    csvsplit($0, f); rows++
    bw = f[col["bw_probe_gbps"]]; sp = f[col["bw_probe_spread_pct"]]
    if (!(bw + 0 > 0) || sp == "" || sp + 0 < 0 || sp + 0 > 100 || f[col["status"]] != "ok") bad++
    # the sample of the round before the row's shape: one of the samples the best is taken over
    sh = f[col["bw_probe_shape_gbps"]]
    if (!(sh + 0 > 0) || sh + 0 > bw + 0) bad++
}
END { print (rows == 4 && !bad && ("bw_probe_spread_pct" in col) && ("bw_probe_shape_gbps" in col)) ? "" : rows " rows, " bad + 0 " bad" }
EOF
)
    if [ -z "$bad" ]; then ok kernels_rows_carry_probe; else fail kernels_rows_carry_probe "$bad"; fi
else
    fail kernels_probe_sampled_between_runs "exit $?: $(head -c 300 "$tmp/err")"
fi

if "$T" kernels "${small[@]}" --quant q4_0 --shapes 64x256 --no-probes --format csv \
       -o "$tmp/n.csv" 2>"$tmp/err"; then
    cells=$(awk -f scripts/csv.awk -f /dev/stdin "$tmp/n.csv" <<'EOF'
FNR == 1 { nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i; next }
{ csvsplit($0, f); printf "%s|%s|%s|%s", f[col["bw_probe_gbps"]], f[col["bw_probe_spread_pct"]], f[col["bw_probe_shape_gbps"]], f[col["status"]] }
EOF
)
    if [ "$cells" = "|||ok" ] && ! grep -q 'probe:' "$tmp/err"; then ok kernels_no_probes
    else fail kernels_no_probes "cells '$cells', stderr: $(grep probe "$tmp/err" | head -1)"; fi
else
    fail kernels_no_probes "exit $?: $(head -c 300 "$tmp/err")"
fi
# Both threads on CPU 0: the 2-thread FMA probe gets one core's arithmetic, as when a host runs
# two vCPUs on SMT siblings, and the output must say the 2-thread rows measure that.
if ! command -v taskset >/dev/null; then
    echo "skip kernels_shared_core_warned: no taskset (util-linux)"
elif [ "$(nproc --all)" -lt 2 ]; then
    echo "skip kernels_shared_core_warned: one CPU, no 2-thread run"
elif taskset -c 0 "$T" kernels "${small[@]}" -t 1,2 --quant f32 --shapes 32x256 \
         -o "$tmp/s.txt" 2>"$tmp/err"; then
    if grep -q 'probe: 2 threads reached .* they did not get 2 cores' "$tmp/err"; then
        ok kernels_shared_core_warned
    else fail kernels_shared_core_warned "no warning; stderr: $(grep probe "$tmp/err" | head -3)"; fi
else
    fail kernels_shared_core_warned "exit $?: $(head -c 300 "$tmp/err")"
fi
# The table ends with each type's lowest-highest decode share over the shapes: it must agree
# with the rows' own %bw column (both rounded from the same figures).
if "$T" kernels "${small[@]}" --quant q8_0,f16 --shapes 64x256,32x512,48x256 -o "$tmp/t.txt" 2>"$tmp/err"; then
    want=$(awk '$4 == 1 && $9 ~ /%$/ { v = $9 + 0; k = $2; if (!(k in lo) || v < lo[k]) lo[k] = v
                                       if (!(k in hi) || v > hi[k]) hi[k] = v }
                END { for (k in lo) print k, lo[k] "-" hi[k] }' "$tmp/t.txt" | sort)
    got=$(sed -n '/^decode (m = 1), share of the probe/,$p' "$tmp/t.txt" |
          awk '/thread/ { print $2, $5 }' | sort)
    if [ -n "$want" ] && [ "$want" = "$got" ] && [ "$(echo "$got" | wc -l)" = 2 ]; then
        ok kernels_decode_summary
    else fail kernels_decode_summary "rows say '$want', summary says '$got'"; fi
    # ... and the same share of the probe round just before each shape: never below the share
    # of the best sample (that round's sample is one of those the best is taken over)
    bad=$(awk '/thread.*% of the probe just before/ {
                   split($5, a, "-"); match($0, /; [0-9]+-[0-9]+ % of the probe just before/)
                   split(substr($0, RSTART + 2, RLENGTH - 2), b, /[- ]/)
                   n++; if (b[1] + 0 < a[1] + 0 || b[2] + 0 < a[2] + 0) bad++ }
               END { print (n == 2 && !bad) ? "" : n + 0 " lines, " bad + 0 " bad" }' "$tmp/t.txt")
    if [ -z "$bad" ]; then ok kernels_summary_shape_probe
    else fail kernels_summary_shape_probe "$bad: $(grep 'thread' "$tmp/t.txt" | tail -2)"; fi
else
    fail kernels_decode_summary "exit $?: $(head -c 300 "$tmp/err")"
fi
# 1-thread decode rows are timed once more on a slice that stays in cache (gbps_cached), other
# rows not; the table's summary gives that pace as a multiple of the probe.
if "$T" kernels --kernel tiled -m 1,4 -t 1,2 -r 1 --budget-ms 1 --probe-mb 16 --flush-mb 0 \
       --quant q8_0,f32 --shapes 64x256 --format csv -o "$tmp/c.csv" 2>"$tmp/err"; then
    bad=$(awk -f scripts/csv.awk -f /dev/stdin "$tmp/c.csv" <<'EOF'
FNR == 1 { nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i; next }
{
    csvsplit($0, f); rows++; c = f[col["gbps_cached"]]
    if (f[col["m"]] == 1 && f[col["n_threads"]] == 1 ? !(c + 0 > 0) : c != "") bad++
}
END { print (rows == 8 && !bad && ("gbps_cached" in col)) ? "" : rows " rows, " bad + 0 " bad" }
EOF
)
    if [ -z "$bad" ]; then ok kernels_cached_pace_decode_only; else fail kernels_cached_pace_decode_only "$bad"; fi
else
    fail kernels_cached_pace_decode_only "exit $?: $(head -c 300 "$tmp/err")"
fi
# Each timed decode repetition is paired with a plain read of another weight copy: decode rows
# with probes carry that read's GB/s and the median, lowest and highest share of it (ordered);
# prefill rows and runs without probes leave the cells empty. The reads' streams per thread
# (bw_paired_streams) are those stderr names for the row's thread count, the pattern the probe
# rounds read fastest. The second run appends to the first's CSV (same columns). The table's
# %pair column and the summary's "paired lo-hi %" agree.
if "$T" kernels --kernel tiled -m 1,4 -t 1,2 -r 3 --budget-ms 1 --probe-mb 16 --flush-mb 4 \
       --quant q4_0,f16 --shapes 64x256,128x512 --format csv -o "$tmp/p.csv" 2>"$tmp/err" &&
   "$T" kernels --kernel tiled -m 1 -t 1 -r 3 --budget-ms 1 --no-probes --flush-mb 4 \
       --quant q4_0 --shapes 64x256 --format csv -o "$tmp/p.csv" 2>>"$tmp/err"; then
    s1=$(sed -n 's/^tlbench: probe: 1 thread: decode repetitions are paired with reads of \([0-9]*\) stream.*/\1/p' "$tmp/err")
    s2=$(sed -n 's/^tlbench: probe: 2 threads: decode repetitions are paired with reads of \([0-9]*\) stream.*/\1/p' "$tmp/err")
    bad=$(awk -v s1="$s1" -v s2="$s2" -f scripts/csv.awk -f /dev/stdin "$tmp/p.csv" <<'EOF'
FNR == 1 { nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i; next }
{
    csvsplit($0, f); rows++
    g = f[col["bw_paired_gbps"]]; p = f[col["pct_bw_paired"]]
    lo = f[col["pct_bw_paired_min"]]; hi = f[col["pct_bw_paired_max"]]
    s = f[col["bw_paired_streams"]]; ws = f[col["n_threads"]] == 1 ? s1 : s2
    want = f[col["m"]] == 1 && f[col["bw_probe_gbps"]] != ""
    if (want) {
        paired++
        if (!(g + 0 > 0 && lo + 0 > 0 && lo + 0 <= p + 0 && p + 0 <= hi + 0)) bad++
        if (ws !~ /^(1|2|4|6)$/ || s != ws) bad++
    } else if (g p lo hi s != "") bad++
}
END { print (rows == 17 && paired == 8 && !bad && ("bw_paired_streams" in col)) ? "" : \
      rows " rows, " paired + 0 " paired, " bad + 0 " bad" }
EOF
)
    if [ -z "$bad" ]; then ok kernels_decode_paired_read; else fail kernels_decode_paired_read "$bad"; fi
else
    fail kernels_decode_paired_read "exit $?: $(head -c 300 "$tmp/err")"
fi
# Next to the best probe piece stderr gives the best round's median piece: never above the
# best piece, and its share of it as printed. 128 MiB: a 64 MiB lead and 8 timed pieces.
if "$T" kernels --kernel tiled -m 1 -t 1,2 -r 1 --budget-ms 1 --probe-mb 128 --flush-mb 4 \
       --quant q8_0 --shapes 64x256 -o "$tmp/m.txt" 2>"$tmp/err"; then
    bad=""
    for t in "1 thread" "2 threads"; do
        best=$(sed -n "s/^tlbench: probe: $t: read bandwidth \([0-9.]*\) GB.*/\1/p" "$tmp/err")
        line=$(sed -n "s/^tlbench: probe: $t: the median piece read \([0-9.]*\) GB\/s (\([0-9]*\) % of the best piece.*/\1 \2/p" "$tmp/err")
        awk -v b="$best" -v l="$line" 'BEGIN { split(l, a, " ")
            exit !(b > 0 && a[1] > 0 && a[1] <= b + 0.05 && (a[2] - 100 * a[1] / b) ^ 2 < 4) }' ||
            bad="$bad $t: best '$best', median line '$line';"
    done
    if [ -z "$bad" ]; then ok kernels_probe_median_piece; else fail kernels_probe_median_piece "$bad"; fi
else
    fail kernels_probe_median_piece "exit $?: $(head -c 300 "$tmp/err")"
fi
# Appending rows to a CSV whose header is not this version's columns would put values under
# other names: refused, naming the file, and the file is left as it was.
printf 'test_time,tlbench_version,cpu,kernel\n2026-01-01T00:00:00Z,0.0.1,x,naive\n' > "$tmp/old.csv"
cp "$tmp/old.csv" "$tmp/old.bak"
if "$T" kernels "${small[@]}" --quant f16 --shapes 64x256 --format csv -o "$tmp/old.csv" \
       2>"$tmp/err"; then
    fail kernels_csv_append_other_header "exit 0 appending to a CSV of other columns"
elif grep -q "old.csv.*header is not this version's columns" "$tmp/err" &&
     cmp -s "$tmp/old.csv" "$tmp/old.bak"; then
    ok kernels_csv_append_other_header
else
    fail kernels_csv_append_other_header "file changed or no clear error: $(head -c 300 "$tmp/err")"
fi
if "$T" kernels "${small[@]}" -r 3 --quant q4_0,f16 --shapes 64x256,32x512 -o "$tmp/pt.txt" 2>"$tmp/err"; then
    want=$(awk '$4 == 1 && $10 ~ /%$/ { v = $10 + 0; k = $2; if (!(k in lo) || v < lo[k]) lo[k] = v
                                        if (!(k in hi) || v > hi[k]) hi[k] = v }
                END { for (k in lo) print k, lo[k] "-" hi[k] }' "$tmp/pt.txt" | sort)
    got=$(sed -n 's/^  tiled *\([a-z0-9_]*\) .*; paired \([0-9]*-[0-9]*\) %.*/\1 \2/p' "$tmp/pt.txt" | sort)
    if [ -n "$want" ] && [ "$want" = "$got" ] && [ "$(echo "$got" | wc -l)" = 2 ]; then
        ok kernels_paired_summary
    else fail kernels_paired_summary "rows say '$want', summary says '$got'"; fi
else
    fail kernels_paired_summary "exit $?: $(head -c 300 "$tmp/err")"
fi
if "$T" kernels "${small[@]}" --quant q8_0 --shapes 64x256 -o "$tmp/c.txt" 2>"$tmp/err"; then
    line=$(grep -E '^  tiled +q8_0 +1 thread ' "$tmp/c.txt")
    # numbers as tlb_rep_num prints them, e-notation below 0.01 ("6.04e-03": its '-' is not
    # the range's)
    re='; cached ([0-9.]+(e[-+][0-9]+)?)-([0-9.]+(e[-+][0-9]+)?)x$'
    if [[ $line =~ $re ]] &&
       awk -v a="${BASH_REMATCH[1]}" -v b="${BASH_REMATCH[3]}" 'BEGIN { exit !(a + 0 > 0 && a + 0 <= b + 0) }'; then
        ok kernels_cached_pace_in_summary
    else fail kernels_cached_pace_in_summary "summary line '$line'"; fi
else
    fail kernels_cached_pace_in_summary "exit $?: $(head -c 300 "$tmp/err")"
fi

# The probe's last figure per CPU, thread count and buffer size is remembered between runs
# (run-tests.sh gives the tests a cache of their own); a run whose figure is more than 10 %
# from the last one says so, with both figures. The history is untrusted: junk is ignored.
hist="$TLBENCH_CACHE_DIR/probes"
rm -f "$hist"
probe_run() { "$T" kernels "${small[@]}" --quant f32 --shapes 32x256 -o /dev/null 2>"$1"; }
if probe_run "$tmp/h1.err" && grep -Eq '^1 [0-9.]+ [0-9]+ .*; 16 MiB buffer$' "$hist" 2>/dev/null; then
    ok kernels_probe_remembered
else
    fail kernels_probe_remembered "history: $(head -c 200 "$hist" 2>/dev/null)"
fi
# a last figure 100 times this machine's: the next run must say the two are far apart
awk '{ $2 = $2 * 100; print }' "$hist" >"$tmp/h" && cat "$tmp/h" >"$hist"
if probe_run "$tmp/h2.err" && grep -q 'the last run here measured .*apart, more than the 10 % two runs' "$tmp/h2.err"; then
    ok kernels_probe_far_from_last_said
else
    fail kernels_probe_far_from_last_said "$(grep -i 'last run' "$tmp/h2.err" | head -1)"
fi
# junk in the history: ignored, and replaced by well-formed lines
# (a line longer than the file's lines may be, with a well-formed start: dropped too)
{ head -c 3000 /dev/urandom; printf '\n1 nan 5 x\n-3 20 5 y\n1 20 -1 z\n'
  printf '2 99 5 %0300d\n' 0; } >"$hist"
if probe_run "$tmp/h3.err" && ! grep -q 'last run here' "$tmp/h3.err" &&
   grep -Eq '^1 [0-9.]+ [0-9]+ .*; 16 MiB buffer$' "$hist" && [ "$(wc -l <"$hist")" = 1 ]; then
    ok kernels_probe_history_junk_ignored
else
    fail kernels_probe_history_junk_ignored "exit or stderr: $(grep -iE 'error|last run' "$tmp/h3.err" | head -1)"
fi
exit 0
