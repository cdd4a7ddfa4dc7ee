#!/usr/bin/env bash
# t-faults.sh — a failing worker costs one row, never the sweep. TLBENCH_FAULT makes the
# worker of the 2nd of 3 configurations crash, hang, run out of memory or exit without a
# result; each must give a row with the right status and reason, the 1st and 3rd rows stay
# ok, and the sweep exits 1 (a failure happened). Ctrl-C (SIGINT) during a hang stops the
# sweep with the finished rows on disk and nothing left running. $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
S=(sweep --profile none --model synthetic:tiny --quant f32 --kernel naive -t 1 --ctx 0,4,8
   -p 4 -n 2 -r 2 --warmup 0 --power none --kv-type f32 --no-accuracy)
status_of() { sed -n "$(( $2 + 1 ))p" "$1" | grep -o '"\(ok\|crashed\|timeout\|oom\|error\)",\("[^"]*"\)\?'; }

check_fault() { # name fault expected_status detail_pattern [extra args]
    local name=$1 fault=$2 want=$3 pat=$4; shift 4
    local out="$tmp/$name.csv"
    TLBENCH_FAULT="$fault@2" "$T" "${S[@]}" -o "$out" "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
    local n; n=$(( $(wc -l <"$out") - 1 ))
    local s1 s2 s3; s1=$(status_of "$out" 1); s2=$(status_of "$out" 2); s3=$(status_of "$out" 3)
    if [ $rc -ne 1 ]; then fail "$name" "exit $rc, wanted 1: $(tail -3 "$tmp/e")"
    elif [ "$n" -ne 3 ]; then fail "$name" "$n rows, wanted 3"
    elif [ "${s1%%,*}" != '"ok"' ] || [ "${s3%%,*}" != '"ok"' ]; then fail "$name" "rows 1/3: $s1 / $s3"
    elif [ "${s2%%,*}" != "\"$want\"" ]; then fail "$name" "row 2: '$s2', wanted $want"
    elif ! echo "$s2" | grep -q -- "$pat"; then fail "$name" "row 2 detail '$s2' lacks '$pat'"
    elif ! grep -q "^\[2/3\] f32 naive t=1 d=4: $want (" "$tmp/e"; then fail "$name" "no progress line: $(grep '^\[2/3\]' "$tmp/e")"
    else ok "$name"; fi
}

check_fault fault_crash crash crashed "SIGSEGV"
check_fault fault_hang hang timeout "no result after 2 s" --timeout 2
check_fault fault_oom oom oom "out of memory"
check_fault fault_exit exit error "exited with status 7 without a result"

# The fault variable is honoured in workers only: the driver and model processes ignore it.
TLBENCH_FAULT=crash "$T" "${S[@]}" --ctx 0 --dry-run >/dev/null 2>&1 && ok fault_not_in_driver \
    || fail fault_not_in_driver "a dry run with TLBENCH_FAULT failed"

# Ctrl-C during a hanging configuration: rows so far kept, exit 1, nothing left running.
TLBENCH_FAULT=hang@2 "$T" "${S[@]}" --timeout 60 -o "$tmp/int.csv" >"$tmp/o" 2>"$tmp/e" &
pid=$!
for _ in $(seq 1 100); do
    [ -f "$tmp/int.csv" ] && [ "$(wc -l <"$tmp/int.csv")" -ge 2 ] && break
    sleep 0.1
done
sleep 0.5
kill -INT "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    fail fault_ctrl_c "the sweep did not stop on SIGINT"; kill -9 "$pid"
fi
wait "$pid"; rc=$?
sleep 0.3
if [ $rc -ne 1 ]; then fail fault_ctrl_c "exit $rc, wanted 1"
elif [ "$(( $(wc -l <"$tmp/int.csv") - 1 ))" -ne 1 ]; then fail fault_ctrl_c "$(wc -l <"$tmp/int.csv") lines in the results"
elif ! grep -q "interrupted: 1 rows written to $tmp/int.csv" "$tmp/e"; then fail fault_ctrl_c "message: $(tail -2 "$tmp/e")"
elif pgrep -f -- "$tmp/int.csv" >/dev/null; then fail fault_ctrl_c "processes left: $(pgrep -af -- "$tmp/int.csv" | head -3)"
else ok fault_ctrl_c; fi

# A configuration that cannot fit in MemAvailable is not run: status skipped-memory, with the
# predicted memory columns filled (TLBENCH_FAKE_MEMAVAILABLE pretends to be a 64 MiB board).
TLBENCH_FAKE_MEMAVAILABLE=$((64 << 20)) "$T" "${S[@]}" --ctx 0 -o "$tmp/mem.csv" >"$tmp/o" 2>"$tmp/e"; rc=$?
row=$(sed -n 2p "$tmp/mem.csv" 2>/dev/null)
if [ $rc -ne 0 ]; then fail fault_skipped_memory "exit $rc: $(tail -2 "$tmp/e")"
elif ! echo "$row" | grep -q '"skipped-memory","predicted weights'; then fail fault_skipped_memory "row: $(echo "$row" | cut -c1-300)"
elif ! grep -q '^\[1/1\] f32 naive t=1 d=0: skipped-memory (' "$tmp/e"; then fail fault_skipped_memory "progress: $(tail -2 "$tmp/e")"
else ok fault_skipped_memory; fi

# The accuracy reference needs the f32 weights: on a board too small for them the rows still
# run, with a note saying why the accuracy columns are empty (q4_0 fits in 40 MiB above the
# margin, f32 synthetic:small does not).
total=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024 ))
margin=$(( total / 20 > (128 << 20) ? total / 20 : (128 << 20) ))
TLBENCH_FAKE_MEMAVAILABLE=$(( margin + (40 << 20) )) "$T" sweep --profile none --model synthetic:small \
    --quant q4_0 --kernel naive -t 1 --ctx 0 -p 4 -n 2 -r 2 --warmup 0 --power none --kv-type f32 \
    -o "$tmp/acc.csv" >"$tmp/o" 2>"$tmp/e"; rc=$?
if [ $rc -eq 0 ] && grep -q '"ok",' "$tmp/acc.csv" && ! grep -q '"f32/naive"' "$tmp/acc.csv" \
    && grep -q 'accuracy columns left empty: the f32 reference needs' "$tmp/e"; then ok fault_no_room_for_reference
else fail fault_no_room_for_reference "exit $rc: $(tail -3 "$tmp/e")"; fi
