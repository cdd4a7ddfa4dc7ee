#!/usr/bin/env bash
# t-sweep-lock.sh — one sweep per results file, and --resume finds the file of the interrupted
# run. A second sweep (or --resume, or bench -o) on a file another sweep is writing is refused
# at once with that sweep's pid; two --resume runs started together run each configuration
# once; the lock of a SIGKILLed sweep does not block the next one; --resume without -o finds
# the default file of the last sweep even when the date in the current time zone differs.
# $1 = build directory.
set -u
B=${1:-build}; T="$(cd "$(dirname "$B/tlbench")" && pwd)/tlbench"
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
rows() { echo $(( $(wc -l <"$1") - 1 )); }
S=(sweep --profile none --model synthetic:tiny --quant f32 --kernel naive -t 1
   -p 4 -n 2 -r 2 --warmup 0 --power none --kv-type f32 --no-accuracy)
wait_rows() { # file n: until the file has n data rows (10 s at most)
    for _ in $(seq 1 100); do
        [ -f "$1" ] && [ "$(rows "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
stop() { # pid: SIGINT, then wait
    kill -INT "$1" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null
}

# ---- a second sweep on a file being written is refused with the first one's pid ----
f="$tmp/a.csv"
TLBENCH_FAULT=hang@2 "$T" "${S[@]}" --ctx 0,4,8 --timeout 60 -o "$f" >/dev/null 2>"$tmp/e1" &
p1=$!; pids+=("$p1")
if ! wait_rows "$f" 1; then fail lock_setup "the first sweep wrote no row: $(tail -2 "$tmp/e1")"; fi
for mode in plain resume; do
    extra=(); [ $mode = resume ] && extra=(--resume)
    start=$EPOCHSECONDS
    "$T" "${S[@]}" --ctx 0,4,8 -o "$f" "${extra[@]}" >/dev/null 2>"$tmp/e2"; rc=$?
    if [ $rc -ne 1 ]; then fail "lock_refuses_second_sweep_$mode" "exit $rc (wanted 1): $(tail -2 "$tmp/e2")"
    elif ! grep -q "$f.*pid $p1\b" "$tmp/e2"; then fail "lock_refuses_second_sweep_$mode" "no pid $p1 in: $(tail -2 "$tmp/e2")"
    elif [ $((EPOCHSECONDS - start)) -gt 5 ]; then fail "lock_refuses_second_sweep_$mode" "waited instead of refusing"
    elif [ "$(rows "$f")" -ne 1 ]; then fail "lock_refuses_second_sweep_$mode" "$(rows "$f") rows: the second sweep wrote"
    else ok "lock_refuses_second_sweep_$mode"; fi
done
"$T" bench --model synthetic:tiny --quant f32 --kernel naive -t 1 -p 4 -n 2 -r 2 --warmup 0 \
    --power none --no-accuracy -o "$f" >/dev/null 2>"$tmp/e2"; rc=$?
[ $rc -eq 1 ] && grep -q "pid $p1\b" "$tmp/e2" && [ "$(rows "$f")" -eq 1 ] && ok lock_refuses_bench \
    || fail lock_refuses_bench "exit $rc, $(rows "$f") rows: $(tail -2 "$tmp/e2")"
stop "$p1"

# ---- the lock dies with its sweep, even on SIGKILL ----
TLBENCH_FAULT=hang@2 "$T" "${S[@]}" --ctx 0,4,8 --timeout 60 -o "$f" --resume >/dev/null 2>"$tmp/e1" &
p1=$!; pids+=("$p1")
sleep 1.5
kill -9 "$p1"; wait "$p1" 2>/dev/null
"$T" "${S[@]}" --ctx 0,4,8 -o "$f" --resume >/dev/null 2>"$tmp/e2"; rc=$?
[ $rc -eq 0 ] && [ "$(rows "$f")" -eq 3 ] && [ ! -e "$f.lock" ] && ok lock_released_by_sigkill \
    || fail lock_released_by_sigkill "exit $rc, $(rows "$f") rows, lock file $(ls "$f.lock" 2>&1): $(tail -2 "$tmp/e2")"

# ---- two --resume runs started together: every configuration exactly once ----
g="$tmp/b.csv"
for i in 1 2; do
    "$T" "${S[@]}" --ctx 0,4,8,12 -o "$g" --resume >/dev/null 2>"$tmp/r$i" &
    pids+=("$!")
done
wait "${pids[-1]}" "${pids[-2]}"
depths=$(grep -o '"naive",,1,4,2,[0-9]*,' "$g" | cut -d, -f6 | sort -n | tr '\n' ' ')
refused=$(grep -l 'is being written by another tlbench (pid [0-9]*)' "$tmp/r1" "$tmp/r2" | wc -l)
[ "$depths" = "0 4 8 12 " ] && ok lock_two_resumes_run_each_once \
    || fail lock_two_resumes_run_each_once "depths '$depths' ($refused refused)"

# ---- --resume without -o: the default file of the interrupted run, whatever the date ----
w="$tmp/work"; mkdir -p "$w"
(cd "$w" && TZ=Etc/GMT-14 TLBENCH_FAULT=hang@2 exec "$T" "${S[@]}" --ctx 0,4,8 --timeout 60 \
    >/dev/null 2>"$tmp/d1") &
p1=$!; pids+=("$p1")
for _ in $(seq 1 100); do
    first=$(ls "$w"/results/*.csv 2>/dev/null | head -1)
    [ -n "$first" ] && [ "$(rows "$first")" -ge 1 ] && break; sleep 0.1
done
stop "$p1"
# 26 hours west: the local date differs from the first run's
(cd "$w" && TZ=Etc/GMT+12 "$T" "${S[@]}" --ctx 0,4,8 --resume >"$tmp/d2.out" 2>"$tmp/d2"); rc=$?
n_files=$(ls "$w"/results/*.csv 2>/dev/null | wc -l)
if [ -z "$first" ]; then fail resume_finds_default_file "the first sweep wrote no file: $(tail -2 "$tmp/d1")"
elif [ $rc -ne 0 ] || [ "$n_files" -ne 1 ] || [ "$(rows "$first")" -ne 3 ] \
    || ! grep -q "1 of 3 configurations already in results/$(basename "$first")" "$tmp/d2"; then
    fail resume_finds_default_file "exit $rc, $n_files files ($(cd "$w/results" && ls)), $(rows "$first") rows: $(grep -h 'resume\|error' "$tmp/d2" | head -3)"
else ok resume_finds_default_file; fi
# a hostile pointer is ignored with a warning (never followed out of results/)
board=$(sed -n 's/^results\/\.last-//p' <<<"$(cd "$w" && ls -d results/.last-* 2>/dev/null | head -1)")
if [ -z "$board" ]; then fail resume_pointer_checked "no results/.last-<board> pointer written"
else
    echo "../../etc/passwd" >"$w/results/.last-$board"
    (cd "$w" && "$T" "${S[@]}" --ctx 0 --resume --dry-run >"$tmp/d3.out" 2>"$tmp/d3"); rc=$?
    [ $rc -eq 0 ] && grep -q 'not a results file name' "$tmp/d3" && grep -q "^results: results/$board-[0-9]*\.csv" "$tmp/d3.out" \
        && ok resume_pointer_checked || fail resume_pointer_checked "exit $rc: $(cat "$tmp/d3" "$tmp/d3.out" | tail -3)"
fi
