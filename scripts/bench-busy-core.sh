#!/usr/bin/env bash
# bench-busy-core.sh — decode with one core taken by another CPU-bound process: does a
# second thread still help, or at least not hurt? A busy loop is pinned to the last CPU
# (taskset) for the whole run; tlbench itself is not pinned. Per round and binary,
# `tlbench bench` runs with 1 and then 2 threads (the order alternates between rounds);
# printed: median decode and prefill tokens/s over the rounds with their range, and the
# 2-thread / 1-thread decode ratio per round (median and range). Without -b the same
# configurations also run with the machine otherwise idle, for reference.
#
#   scripts/bench-busy-core.sh [-n ROUNDS] [-q QUANT] [-k KERNEL] [-b] [-m MODEL] [BIN...]
#   scripts/bench-busy-core.sh -n 3 -q q4_0 /tmp/old/tlbench build/tlbench
#
# Defaults: 3 rounds, q4_0, kernel auto, synthetic:tinyllama-1.1b, BIN build/tlbench;
# phases -p 16 -n 32 -r 3 (BENCH_ARGS overrides). Needs taskset (util-linux) and >= 2 CPUs.
# Load from other processes skews everything: the 1-minute load average is printed per run.
set -eu
rounds=3 quant=q4_0 kernel=auto model=synthetic:tinyllama-1.1b busy_only=0
while getopts n:q:k:m:b opt; do
    case $opt in
    n) rounds=$OPTARG ;;
    q) quant=$OPTARG ;;
    k) kernel=$OPTARG ;;
    m) model=$OPTARG ;;
    b) busy_only=1 ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- build/tlbench
here=$(dirname "$0")
ncpu=$(nproc)
if [ "$ncpu" -lt 2 ] || ! command -v taskset >/dev/null; then
    echo "bench-busy-core: needs 2 or more CPUs and taskset" >&2
    exit 1
fi
out=$(mktemp -d /tmp/busy-core.XXXXXX)
hog=
stop_hog() { [ -z "$hog" ] || { kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null || true; hog=; }; }
trap 'stop_hog' EXIT
start_hog() { taskset -c $((ncpu - 1)) sh -c 'while :; do :; done' & hog=$!; sleep 1; }

# bench LABEL BIN THREADS: one tlbench bench, its CSV row appended to $out/LABEL.csv
bench() {
    echo "  $1 $2 -t $3 (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    # shellcheck disable=SC2086 # BENCH_ARGS is a word list
    "$2" bench --model "$model" --quant "$quant" --kernel "$kernel" -t "$3" \
        ${BENCH_ARGS:--p 16 -n 32 -r 3} --no-accuracy -o "$out/$1.csv" >/dev/null 2>&1 ||
        echo "bench-busy-core: $2 -t $3 failed (row kept with its status)" >&2
}
round() { # round MODE R BIN...: every binary, 1 and 2 threads, order alternating with R
    local mode=$1 r=$2 b i=0
    shift 2
    for b in "$@"; do
        i=$((i + 1))
        if [ $((r % 2)) = 1 ]; then bench "$mode-$i-t1" "$b" 1; bench "$mode-$i-t2" "$b" 2
        else bench "$mode-$i-t2" "$b" 2; bench "$mode-$i-t1" "$b" 1; fi
    done
}
modes="busy"
[ "$busy_only" = 1 ] || modes="idle busy"
for r in $(seq 1 "$rounds"); do
    for mode in $modes; do
        echo "round $r, $mode" >&2
        if [ "$mode" = busy ]; then start_hog; fi
        round "$mode" "$r" "$@"
        stop_hog
    done
done

i=0
for b in "$@"; do
    i=$((i + 1))
    for mode in $modes; do
        awk -f "$here/csv.awk" -f /dev/stdin -v label="$mode $b" \
            "$out/$mode-$i-t1.csv" "$out/$mode-$i-t2.csv" <<'EOF'
FNR == 1 { nf = csvsplit($0, h); for (c = 1; c <= nf; c++) col[h[c]] = c; t = FILENAME ~ /-t2\.csv$/ ? 2 : 1; next }
{
    csvsplit($0, f)
    n[t]++
    tg[t, n[t]] = f[col["status"]] == "ok" ? f[col["tg_ts_median"]] + 0 : 0
    pp[t, n[t]] = f[col["status"]] == "ok" ? f[col["pp_ts_median"]] + 0 : 0
}
function show(name, arr, t,   a, k, lo, hi) {
    lo = 1e30; hi = 0
    for (k = 1; k <= n[t]; k++) { a[k] = arr[t, k]; if (a[k] < lo) lo = a[k]; if (a[k] > hi) hi = a[k] }
    printf "  %-8s %d thread%s: %7.2f t/s (%.2f-%.2f)\n", name, t, (t > 1 ? "s" : " "), median(a, n[t]), lo, hi
}
END {
    print label ":"
    for (t = 1; t <= 2; t++) { show("decode", tg, t); show("prefill", pp, t) }
    m = n[1] < n[2] ? n[1] : n[2]; lo = 1e30; hi = 0
    for (k = 1; k <= m; k++) { r[k] = tg[1, k] > 0 ? tg[2, k] / tg[1, k] : 0; if (r[k] < lo) lo = r[k]; if (r[k] > hi) hi = r[k] }
    if (m) printf "  decode 2 threads / 1 thread: %.2f (%.2f-%.2f over %d rounds)\n", median(r, m), lo, hi, m
}
EOF
    done
done
echo "rows: $out" >&2
