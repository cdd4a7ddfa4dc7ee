#!/usr/bin/env bash
# kernels-ab.sh — two tlbench binaries (or one binary with two option sets) compared on
# `tlbench kernels`, interleaved so that drift and other load hit both alike: rounds run
# A B, B A, A B, ... and each row's ratio B/A (time A / time B: above 1 means B is faster) is
# taken per round; the median ratio and its range over the rounds are printed with each
# side's median GB/s. Use it for "speed unchanged" claims on a shared machine.
#
#   scripts/kernels-ab.sh [-n ROUNDS] [-o DIR] A_BIN B_BIN [kernels options...]
#   scripts/kernels-ab.sh -n 5 /tmp/old/tlbench build/tlbench --kernel avx512 -m 1
#
# A_BIN/B_BIN may carry options of their own in quotes ("build/tlbench --x"); the kernels
# options after them are given to both. CSVs are kept in DIR (default a temporary directory,
# printed). Prints the 1-minute load average before each run: above the CPU count, figures
# are unreliable.
set -eu
rounds=3
dir=
while getopts n:o: opt; do
    case $opt in
    n) rounds=$OPTARG ;;
    o) dir=$OPTARG ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then sed -n '2,14p' "$0" >&2; exit 2; fi
a=$1 b=$2
shift 2
[ -n "$dir" ] || dir=$(mktemp -d /tmp/kernels-ab.XXXXXX)
mkdir -p "$dir"
echo "kernels-ab: $rounds rounds, CSVs in $dir" >&2

run() { # run SIDE ROUND
    local bin
    if [ "$1" = A ]; then bin=$a; else bin=$b; fi
    echo "round $2 $1: load $(cut -d' ' -f1 /proc/loadavg)" >&2
    # shellcheck disable=SC2086 # the binary string may carry its own options
    $bin kernels "${@:3}" --format csv -o "$dir/$1-$2.csv" 2>/dev/null || {
        echo "kernels-ab: $bin failed in round $2" >&2; exit 1; }
}
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then run A "$r" "$@"; run B "$r" "$@"; else run B "$r" "$@"; run A "$r" "$@"; fi
done

# One line per configuration: median time ratio A/B over the rounds, its range, median GB/s.
awk -f "$(dirname "$0")/csv.awk" -f /dev/stdin "$dir"/A-*.csv "$dir"/B-*.csv <<'EOF'
FNR == 1 {
    nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i
    np = split(FILENAME, parts, "/"); side = substr(parts[np], 1, 1); next
}
{
    csvsplit($0, f)
    if (f[col["status"]] != "ok") next
    key = f[col["kernel"]] " " f[col["weight_type"]] " " f[col["n"]] "x" f[col["k"]] " m=" f[col["m"]] " t=" f[col["n_threads"]]
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    n = ++cnt[side, key]
    t[side, key, n] = f[col["time_us_median"]] + 0; g[side, key, n] = f[col["gbps"]] + 0
}
END {
    printf "%-40s %8s %15s %9s %9s\n", "configuration", "B/A", "range", "A GB/s", "B GB/s"
    for (i = 1; i <= nk; i++) {
        key = order[i]; n = cnt["A", key] < cnt["B", key] ? cnt["A", key] : cnt["B", key]
        if (n == 0) continue
        lo = 1e9; hi = 0
        for (r = 1; r <= n; r++) {
            q = t["A", key, r] / t["B", key, r]; ratio[r] = q
            if (q < lo) lo = q; if (q > hi) hi = q
            ga[r] = g["A", key, r]; gb[r] = g["B", key, r]
        }
        printf "%-40s %8.3f %7.3f-%-7.3f %9.2f %9.2f\n", key, median(ratio, n), lo, hi, median(ga, n), median(gb, n)
        all[++na] = median(ratio, n)
    }
    if (na) printf "median over %d configurations: %.3f (B/A > 1: B faster)\n", na, median(all, na)
}
EOF
