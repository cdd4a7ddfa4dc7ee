#!/usr/bin/env bash
# t-llama.sh — llama-bench run by a sweep leaves nothing behind when the sweep itself is
# stopped: SIGINT (Ctrl-C) and SIGKILL of the sweep while the stand-in llama-bench
# (tests/fixtures/llama-bench/llama-bench) hangs with a child of its own. The hung processes
# are a copy of sleep whose path carries a marker, so what survives can be counted. Then the
# report's side-by-side ratio leaves out a round in which one engine's threads shared cores.
# (The rows themselves, faults inside a sweep and the import are tests/test-llama.c.)
# $1 = build dir.
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

# The side-by-side ratio per round leaves out a round in which either engine's threads shared
# cores (core_share below 0.75; set here in the llama.cpp row of round 1), and says so; when
# every round shared (all three set), all are used and the cell says that. The same for a
# round whose engines met memory levels more than 25 % apart (mem_bw_gbps: every row's is set
# to 30 GB/s here, the tiny model's rows have none; round 2's llama.cpp row to 15), and
# both kinds are counted apart. And the fastest-decode column takes each engine's fastest
# repetition over all its rounds, whichever round it was in.
unset LLAMA_STANDIN_FAULT
if "$T" sweep --profile none --engine tlbench,llama.cpp --model synthetic:tiny --quant q8_0 \
       --kernel tiled -t 1 -p 8 -n 4 -r 3 --kv-type f16 --gguf-dir "$tmp/gguf" --power none \
       --no-accuracy --rounds 3 -o "$tmp/rounds.csv" >/dev/null 2>"$tmp/err" &&
   python3 - "$tmp/rounds.csv" "$tmp/shared.csv" "$tmp/all-shared.csv" "$tmp/levels.csv" \
       "$tmp/all-levels.csv" "$tmp/same.csv" "$tmp/fastest.csv" <<'PY'
import csv, sys
for out, shared, low in ((sys.argv[2], ("1",), ()), (sys.argv[3], ("1", "2", "3"), ()),
                         (sys.argv[4], ("1",), ("2",)), (sys.argv[5], (), ("1", "2", "3")),
                         (sys.argv[6], (), ())):
    rows = list(csv.reader(open(sys.argv[1])))
    h = rows[0]
    e, rd, c, lv = h.index("engine"), h.index("round"), h.index("core_share"), h.index("mem_bw_gbps")
    for r in rows[1:]:
        r[lv] = "30"
        if r[e] == "llama.cpp" and r[rd] in shared:
            r[c] = "0.5"
        if r[e] == "llama.cpp" and r[rd] in low:
            r[lv] = "15"
    csv.writer(open(out, "w", newline=""), lineterminator="\n").writerows(rows)
# each engine's decode repetitions: tlbench's fastest (20) in round 2, llama.cpp's (16) in round 3
rows = list(csv.reader(open(sys.argv[1])))
h = rows[0]
e, rd, tg = h.index("engine"), h.index("round"), h.index("tg_samples_ts")
for r in rows[1:]:
    if r[e] == "llama.cpp":
        r[tg] = "15;16;14" if r[rd] == "3" else "12;13;11"
    else:
        r[tg] = "10;20;11" if r[rd] == "2" else "8;9;10"
csv.writer(open(sys.argv[7], "w", newline=""), lineterminator="\n").writerows(rows)
PY
then
    for f in same shared all-shared levels all-levels fastest; do
        "$T" report "$tmp/$f.csv" -o "$tmp/r-$f" >/dev/null 2>&1
    done
    n_all=$(grep -c ', 3 rounds |' "$tmp/r-same/summary.md" 2>/dev/null)
    n_left=$(grep -c ', 2 rounds (1 with shared cores left out) |' "$tmp/r-shared/summary.md" 2>/dev/null)
    n_every=$(grep -c ', 3 rounds, all with shared cores |' "$tmp/r-all-shared/summary.md" 2>/dev/null)
    if [ "$n_all" = 1 ] && [ "$n_left" = 1 ] && [ "$n_every" = 1 ]; then ok report_leaves_out_shared_rounds
    else fail report_leaves_out_shared_rounds "rows with all 3 rounds: $n_all (want 1); with round 1 left out: $n_left (want 1); all shared: $n_every (want 1): $(grep '| q8' "$tmp/r-shared/summary.md" | head -1)"; fi
    n_lv=$(grep -c ', 1 rounds (1 with shared cores, 1 at memory levels apart left out) |' "$tmp/r-levels/summary.md" 2>/dev/null)
    n_lv_all=$(grep -c ', 3 rounds, all at memory levels apart |' "$tmp/r-all-levels/summary.md" 2>/dev/null)
    # and the last column gives each engine's median level over the rounds: llama.cpp's 15, tlbench's 30
    n_lv_col=$(grep -c ', 3 rounds, all at memory levels apart | .* | 15.0 / 30.0 |$' "$tmp/r-all-levels/summary.md" 2>/dev/null)
    if [ "$n_lv" = 1 ] && [ "$n_lv_all" = 1 ] && [ "$n_lv_col" = 1 ]; then ok report_leaves_out_rounds_at_levels_apart
    else fail report_leaves_out_rounds_at_levels_apart "round 1 shared and round 2 apart: $n_lv (want 1); all apart: $n_lv_all (want 1), with levels '15.0 / 30.0': $n_lv_col (want 1): $(grep '| q8' "$tmp/r-all-levels/summary.md" | head -1)"; fi
    # From 6 kept rounds on, the decode ratio gives its 95 % interval and a verdict: the 3
    # rounds copied as rounds 4-6, decode rates set: tlbench 10 against llama.cpp 8 in every
    # round (faster), 12.5 (slower), or 8 and 12.5 in turn (not told apart); 3 rounds: none.
    python3 - "$tmp/rounds.csv" "$tmp/v" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
h = rows[0]
e, rd, tg, lv = h.index("engine"), h.index("round"), h.index("tg_ts_median"), h.index("mem_bw_gbps")
six = [r[:] for r in rows[1:]] + [r[:rd] + [str(int(r[rd]) + 3)] + r[rd + 1:] for r in rows[1:]]
for name, other in (("faster", lambda n: 8), ("slower", lambda n: 12.5),
                    ("apart", lambda n: 8 if n % 2 else 12.5)):
    for r in six:
        r[lv] = "30"
        r[tg] = str(other(int(r[rd]))) if r[e] == "llama.cpp" else "10"
    csv.writer(open(sys.argv[2] + "-" + name + ".csv", "w", newline=""),
               lineterminator="\n").writerows([h] + six)
PY
    verdicts=""
    for f in faster slower apart; do
        "$T" report "$tmp/v-$f.csv" -o "$tmp/r-v-$f" >/dev/null 2>&1
        verdicts="$verdicts $(grep -cF -e '| 1.25 (1.25-1.25), 6 rounds; 95 % 1.25-1.25: tlbench faster |' \
            -e '| 0.800 (0.800-0.800), 6 rounds; 95 % 0.800-0.800: tlbench slower |' \
            -e '| 1.02 (0.800-1.25), 6 rounds; 95 % 0.800-1.25: not told apart |' \
            "$tmp/r-v-$f/summary.md" 2>/dev/null)"
    done
    if [ "$verdicts" = " 1 1 1" ] && ! grep -q '95 %' "$tmp/r-same/summary.md"; then
        ok report_ratio_interval_verdict
    else fail report_ratio_interval_verdict "faster/slower/apart cells found:$verdicts (want 1 1 1); 3 rounds with an interval: $(grep -c '95 %' "$tmp/r-same/summary.md") (want 0): $(grep '| q8' "$tmp/r-v-apart/summary.md" | head -1)"; fi
    # the fastest-decode column: each engine's fastest repetition over all its rounds
    if grep -q '| 1.25 (20.0 / 16.0) |' "$tmp/r-fastest/summary.md" 2>/dev/null; then
        ok report_fastest_decode_ratio
    else fail report_fastest_decode_ratio "want '1.25 (20.0 / 16.0)': $(grep '| q8' "$tmp/r-fastest/summary.md" | head -1)"; fi
else
    fail report_leaves_out_shared_rounds "the sweep in rounds failed: $(tail -2 "$tmp/err")"
fi
