#!/usr/bin/env bash
# ci-gate-eval.sh — how often the CI gate of docs/ci.md cries wolf and how often it catches a
# real slowdown, measured on this machine through exactly that path: `tlbench ab` then
# `tlbench compare` (default threshold 5 %). N A/A pairs run the same build as BASE and NEW; N
# A/B pairs run a build made with HOOKS=1 as NEW, with TLBENCH_TEST_SLOWDOWN making every decoded
# token of one configuration take PCT % more wall time (harness/sweep/test-hooks.h). The pairs
# alternate (A/A, A/B, A/A, ...) so both kinds meet the same machine.
#
#   scripts/ci-gate-eval.sh [-n N] [-o DIR] [-s WTYPE/KERNEL@dDEPTH:PCT] [-- SWEEP OPTIONS]
#
# -t SEC is ab's --max-time (default: ab's own, 540 s). Defaults: N = 10, DIR a new directory
# under /tmp, slowdown q4_0/avx512@d0:10 (one
# configuration) and the sweep of docs/ci.md for a 2-vCPU x86 machine with AVX-512: --quant
# q8_0,q4_0 --kernel avx512 -t 2 --ctx 0,256 -p 64 -n 16 -r 3 --warmup 1 --no-accuracy (four
# configurations). Builds build/ (release) and build-hooks/ first.
#
# Per pair it prints compare's exit code and verdicts; at the end the false-alarm rate (A/A
# pairs that failed the gate, and A/B pairs that failed it on another configuration), the
# detection rate (A/B pairs in which the slowed configuration's decode was a regression), the
# wall time of each A/B run, the 1-minute load average around the runs, and the machine.
set -u
n=10 dir= slow=q4_0/avx512@d0:10 abopt=()
while getopts n:o:s:t: opt; do
    case $opt in
    n) n=$OPTARG ;;
    o) dir=$OPTARG ;;
    s) slow=$OPTARG ;;
    t) abopt=(--max-time "$OPTARG") ;;
    *) sed -n '2,/^set -u/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
if [ $# -gt 0 ]; then sweep=("$@")
else sweep=(--quant q8_0,q4_0 --kernel avx512 -t 2 --ctx 0,256 -p 64 -n 16 -r 3 --warmup 1 --no-accuracy); fi
case $slow in */*:*) ;; *) echo "ci-gate-eval: -s wants WTYPE/KERNEL[@dDEPTH]:PCT, not '$slow'" >&2; exit 2 ;; esac
wtype=${slow%%/*} rest=${slow#*/} kernel=${rest%%:*} depth=0
case $kernel in *@d*) depth=${kernel#*@d}; kernel=${kernel%@d*} ;; esac
# compare's label of the slowed configuration: "q4_0/f32 avx512 t2 pp64+tg16@d0"
re="^$wtype/f32 $kernel t[0-9]+ pp[0-9]+[+]tg[0-9]+@d$depth "
[ -n "$dir" ] || dir=$(mktemp -d /tmp/ci-gate-eval.XXXXXX)
mkdir -p "$dir"
cd "$(dirname "$0")/.." || exit 2

echo "ci-gate-eval: building build/ and build-hooks/ (HOOKS=1)" >&2
make -s -j2 >/dev/null && make -s -j2 HOOKS=1 BUILD=build-hooks >/dev/null || {
    echo "ci-gate-eval: build failed" >&2; exit 2; }
T=build/tlbench H=build-hooks/tlbench

load() { cut -d' ' -f1 /proc/loadavg; }
# the compare report's verdict for (label regex, metric)
verdict() {
    awk -v c="$2" -v m="$3" '$0 ~ c && $0 ~ ("  " m "  ") {
        for (v = 1; v <= NF; v++) if ($v == "regression" || $v == "improvement" || $v == "inconclusive") { print $v; exit }
        if ($0 ~ /no change/) { print "no change"; exit } }' "$1"
}

aa_fail=0 aa_nothing=0 ab_caught=0 ab_other=0 ab_nothing=0 loads=() ab_times=()
for i in $(seq 1 "$n"); do
    for kind in aa ab; do
        d="$dir/$kind-$i"
        rm -rf "$d"
        l0=$(load)
        t0=$(date +%s)
        if [ $kind = aa ]; then
            "$T" ab -o "$d" ${abopt[@]+"${abopt[@]}"} "$T" "$T" -- "${sweep[@]}" >"$d.ab.out" 2>"$d.ab.err"; abrc=$?
        else
            TLBENCH_TEST_SLOWDOWN=$slow "$T" ab -o "$d" ${abopt[@]+"${abopt[@]}"} "$T" "$H" -- "${sweep[@]}" \
                >"$d.ab.out" 2>"$d.ab.err"; abrc=$?
        fi
        secs=$(( $(date +%s) - t0 ))
        "$T" compare "$d/base.csv" "$d/new.csv" -o "$d/compare.txt" 2>"$d/compare.err"; rc=$?
        l1=$(load)
        loads+=("$l0" "$l1")
        pairs=$(sed -n 's/^tlbench ab: [0-9]* configuration(s), \([0-9]*\) clean round(s) (\([0-9]*\) pairs of repetitions), \([0-9]*\) disturbed.*/\1 clean rounds, \2 pairs, \3 disturbed/p' "$d.ab.out")
        slowed=$(verdict "$d/compare.txt" "$re" tg_ts)
        regs=$(grep -c '  regression  ' "$d/compare.txt" 2>/dev/null)
        printf '%s %2d: ab exit %d, %3d s (%s), load %s..%s, compare exit %d, %s@d%s tg_ts: %s, %d regression line(s)\n' \
            "$kind" "$i" "$abrc" "$secs" "${pairs:-?}" "$l0" "$l1" "$rc" "$wtype/$kernel" "$depth" "${slowed:-?}" "$regs"
        if [ $kind = aa ]; then
            [ $rc -eq 1 ] && aa_fail=$((aa_fail + 1))
            [ $rc -eq 2 ] && aa_nothing=$((aa_nothing + 1))
        else
            ab_times+=("$secs")
            [ $rc -eq 2 ] && ab_nothing=$((ab_nothing + 1))
            [ $rc -eq 1 ] && [ "$slowed" = regression ] && ab_caught=$((ab_caught + 1))
            # a regression anywhere but the slowed decode is a false alarm too
            other=$(grep '  regression  ' "$d/compare.txt" 2>/dev/null | grep -Evc "${re}.*tg_ts ")
            [ "$other" -gt 0 ] && ab_other=$((ab_other + 1))
        fi
    done
done

sorted=$(printf '%s\n' "${ab_times[@]}" | sort -n)
lsorted=$(printf '%s\n' "${loads[@]}" | sort -g)
echo
echo "machine: $("$T" info | awk '$1 == "cpu_model" { $1 = ""; m = $0 } $1 == "cpus" { c = $2 } $1 == "virtualization" { $1 = ""; v = $0 } END { printf "%s, %s vCPUs,%s", m, c, v }')"
echo "sweep: ${sweep[*]}; ab ${abopt[*]:-(defaults)}"
echo "slowdown in the A/B pairs: $slow (each decoded token of $wtype/$kernel at depth $depth takes that much more wall time)"
echo "false alarms: $aa_fail of $n A/A pairs failed the gate ($aa_nothing measured nothing: exit 2); $ab_other of $n A/B pairs flagged another configuration or metric"
echo "detection: $ab_caught of $n A/B pairs caught the slowdown as a regression ($ab_nothing measured nothing: exit 2)"
echo "A/B wall time: median $(echo "$sorted" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') s, max $(echo "$sorted" | tail -1) s"
echo "load average (1 min) before/after the runs: min $(echo "$lsorted" | head -1), median $(echo "$lsorted" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'), max $(echo "$lsorted" | tail -1)"
echo "runs kept in $dir"
