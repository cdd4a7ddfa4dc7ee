#!/usr/bin/env bash
# t-llama.sh — llama-bench run by a sweep leaves nothing behind when the sweep itself is
# stopped: SIGINT (Ctrl-C) and SIGKILL of the sweep while the stand-in llama-bench
# (tests/fixtures/llama-bench/llama-bench) hangs with a child of its own. The hung processes
# are a copy of sleep whose path carries a marker, so what survives can be counted. (The rows
# themselves, faults inside a sweep and the import are tests/test-llama.c.) $1 = build dir.
set -u
B=${1:-build}; T="$(cd "$(dirname "$B/tlbench")" && pwd)/tlbench"
tmp=$(mktemp -d)
[ -n "$tmp" ] && [ -d "$tmp" ] || { echo "FAIL llama_setup: mktemp"; exit 1; }
SL="$tmp/sleep-tlbllama$$"; cp "$(command -v sleep)" "$SL"
cleanup() { pkill -9 -f -- "$SL" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
marked() { pgrep -f -- "$SL" | wc -l; }
export TLBENCH_LLAMA_BENCH="$PWD/tests/fixtures/llama-bench/llama-bench"
export LLAMA_STANDIN_SLEEP="$SL" LLAMA_STANDIN_FAULT=hang
S=(sweep --profile none --engine llama.cpp --model synthetic:tiny --quant q8_0 -t 1 -p 8 -n 4
   -r 3 --kv-type f16 --gguf-dir "$tmp/gguf" --power none --timeout 60)

for sig in INT KILL; do
    name="llama_sig${sig,,}_leaves_nothing"
    "$T" "${S[@]}" -o "$tmp/$sig.csv" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 1 100); do [ "$(marked)" -ge 2 ] && break; sleep 0.1; done
    if [ "$(marked)" -lt 2 ]; then
        fail "$name" "the hanging llama-bench did not start: $(tail -2 "$tmp/err")"
        kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; continue
    fi
    kill -"$sig" "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name" "the sweep did not stop on SIG$sig"; kill -9 "$pid"
    fi
    wait "$pid" 2>/dev/null; rc=$?
    left=1
    for _ in $(seq 1 30); do left=$(marked); [ "$left" -eq 0 ] && break; sleep 0.1; done
    if [ "$left" -ne 0 ]; then fail "$name" "$left marked processes left: $(pgrep -af -- "$SL" | head -2 | tr '\n' ';')"
    elif [ "$sig" = INT ] && [ $rc -ne 1 ]; then fail "$name" "exit $rc after SIGINT, wanted 1"
    elif [ "$sig" = INT ] && ! grep -q "interrupted: 0 rows written" "$tmp/err"; then fail "$name" "$(tail -2 "$tmp/err")"
    else ok "$name"; fi
done
