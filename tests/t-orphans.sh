#!/usr/bin/env bash
# t-orphans.sh — nothing tlbench starts outlives it, and every external command has a hard
# deadline. The meter (--power-cmd) and gnuplot used here start a copy of sleep whose name
# carries a marker, so what survives can be counted: after a sweep, after a worker is killed in
# the middle of a meter reading, after SIGINT, SIGTERM or SIGKILL of the sweep, after a gnuplot
# that outruns report's --timeout, and after SIGTERM of report, no marked process (and no
# tlbench process of the run) may be left. $1 = build directory.
set -u
B=${1:-build}; T="$(cd "$(dirname "$B/tlbench")" && pwd)/tlbench"
tmp=$(mktemp -d)
[ -n "$tmp" ] && [ -d "$tmp" ] || { echo "FAIL orphans_setup: mktemp"; exit 1; }
MARK="tlborphan$$"
SL="$tmp/sleep-$MARK"; cp "$(command -v sleep)" "$SL"
cleanup() { pkill -9 -f -- "$SL" 2>/dev/null; pkill -9 -f -- "$tmp/r" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
marked() { pgrep -f -- "$SL" | wc -l; }
parent_of() { awk '{print $4}' "/proc/$1/stat" 2>/dev/null; }
comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
# how many tlbench processes are above pid (1: the sweep, 3: sweep > model process > worker)
tlbench_depth() {
    local p=$1 n=0
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        p=$(parent_of "$p")
        if [ -z "$p" ] || [ "$p" -le 1 ]; then break; fi
        [ "$(comm_of "$p")" = tlbench ] && n=$((n + 1))
    done
    echo $n
}
# The meter prints 5 W. Without HANG_AT it leaves a marked sleep running in the background; with
# HANG_AT, called at tlbench depth $HANG_AT it keeps reading (a marked sleep holding its output)
# until the deadline or a kill.
{
    echo '#!/bin/sh'
    echo 'p=$$; n=0'
    echo 'for i in 1 2 3 4 5 6 7 8 9 10; do'
    echo '    p=$(awk "{print \$4}" /proc/$p/stat 2>/dev/null)'
    echo '    if [ -z "$p" ] || [ "$p" -le 1 ]; then break; fi'
    echo '    [ "$(cat /proc/$p/comm 2>/dev/null)" = tlbench ] && n=$((n + 1))'
    echo 'done'
    echo 'echo 5'
    echo "if [ \"\$n\" = \"\${HANG_AT:-0}\" ]; then exec '$SL' 30; fi"
    echo "[ \"\${HANG_AT:-0}\" = 0 ] && '$SL' 40 >/dev/null 2>&1 &"
} >"$tmp/meter.sh"
chmod +x "$tmp/meter.sh"
S=(sweep --profile none --model synthetic:tiny --quant f32 --kernel naive -t 1 --ctx 0
   -p 4 -n 2 -r 2 --warmup 0 --kv-type f32 --no-accuracy --power meter --power-cmd "$tmp/meter.sh")

# gone NAME: no marked process and no tlbench process of this run within 1 s
gone() {
    local m t
    for _ in $(seq 1 10); do
        m=$(marked); t=$(pgrep -f -- "$tmp/r" | wc -l)
        [ "$m" -eq 0 ] && [ "$t" -eq 0 ] && break
        sleep 0.1
    done
    if [ "$m" -eq 0 ] && [ "$t" -eq 0 ]; then ok "$1"
    else
        fail "$1" "$m marked and $t tlbench processes left: $(pgrep -af -- "$SL" | head -3 | tr '\n' ';')"
        pkill -9 -f -- "$SL"; pkill -9 -f -- "$tmp/r"
    fi
}

# ---- a whole sweep: the meter's background leftovers die with each reading ----
"$T" "${S[@]}" -o "$tmp/r0.csv" >/dev/null 2>"$tmp/e0"; rc=$?
if [ $rc -ne 0 ] || ! grep -q 'meter:' "$tmp/r0.csv"; then
    fail orphans_sweep_setup "exit $rc, meter not used: $(tail -3 "$tmp/e0")"
fi
gone orphans_after_sweep

# Start the sweep and wait until a meter reading at tlbench depth $1 hangs. Sets sp (the
# sweep) and wp (the tlbench process running the reading, 0 when none was seen).
start_hanging() {
    local depth=$1 out=$2 p q
    HANG_AT=$depth "$T" "${S[@]}" -o "$out" >/dev/null 2>"$out.err" &
    sp=$!; wp=0
    for _ in $(seq 1 300); do
        for p in $(pgrep -f -- "$SL 30"); do
            [ "$(tlbench_depth "$p")" -eq "$depth" ] || continue
            q=$p
            for _ in 1 2 3 4 5 6; do
                [ "$(comm_of "$q")" = tlbench ] && break
                q=$(parent_of "$q"); [ -n "$q" ] || q=0
            done
            [ "$(comm_of "$q")" = tlbench ] && wp=$q && return 0
        done
        sleep 0.02
    done
}

# ---- a worker killed in the middle of a meter reading ----
start_hanging 3 "$tmp/r1.csv"
if [ "$wp" -eq 0 ]; then fail orphans_killed_worker "no hanging meter reading in a worker"
else kill -9 "$wp"; fi
wait "$sp" 2>/dev/null
gone orphans_killed_worker

# ---- the sweep stopped by SIGINT, SIGTERM, SIGKILL during a worker's meter reading ----
for sig in INT TERM KILL; do
    start_hanging 3 "$tmp/r-$sig.csv"
    [ "$wp" -eq 0 ] && fail "orphans_sweep_sig$sig" "no hanging meter reading in a worker"
    kill -"$sig" "$sp"; wait "$sp" 2>/dev/null
    gone "orphans_sweep_sig$sig"
done
# ---- SIGKILL of the sweep during its own (idle power) meter reading ----
start_hanging 1 "$tmp/r-idle.csv"
[ "$wp" -eq 0 ] && fail orphans_sweep_sigKILL_idle "no hanging meter reading in the sweep"
kill -KILL "$sp"; wait "$sp" 2>/dev/null
gone orphans_sweep_sigKILL_idle

# ---- gnuplot: report's --timeout is a hard deadline on its process group ----
{
    echo '#!/bin/sh'
    echo "'$SL' 50 &"
    echo "exec '$SL' 60"
} >"$tmp/gnuplot"
chmod +x "$tmp/gnuplot"
start=$EPOCHSECONDS
TLBENCH_GNUPLOT="$tmp/gnuplot" "$T" report tests/fixtures/csv/base.csv -o "$tmp/rep" --timeout 1 \
    >/dev/null 2>"$tmp/e3"; rc=$?
took=$((EPOCHSECONDS - start))
if [ "$took" -gt 30 ]; then fail orphans_gnuplot_deadline "report took $took s with --timeout 1"
elif ! grep -q 'did not finish .* within 1 s' "$tmp/e3"; then fail orphans_gnuplot_deadline "$(tail -2 "$tmp/e3")"
else ok orphans_gnuplot_deadline; fi
gone orphans_after_gnuplot_deadline
TLBENCH_GNUPLOT="$tmp/gnuplot" "$T" report tests/fixtures/csv/base.csv -o "$tmp/rep2" --timeout 60 \
    >/dev/null 2>&1 &
rp=$!
for _ in $(seq 1 100); do [ "$(marked)" -ge 2 ] && break; sleep 0.05; done
kill -TERM "$rp"; wait "$rp" 2>/dev/null
gone orphans_report_sigterm
