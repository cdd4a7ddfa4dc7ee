#!/usr/bin/env bash
# t-sweep.sh — `tlbench sweep` and `tlbench bench` end to end on synthetic:tiny: rows for every
# configuration (unsupported ones with their reason), accuracy joined to rows, one parseable
# progress line per row, a sweep killed with SIGKILL and resumed (completed rows kept, a torn
# last line dropped, only missing configurations run, no process left behind), the run's peak
# RSS (worker or load) agreeing with /usr/bin/time, and one clear error for each kind of bad
# input. $1 = build dir.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
Q=(--model synthetic:tiny -p 4 -n 2 -r 2 --warmup 0 --power none --kv-type f32)
P=(--profile none)   # the sweeps below do not depend on this machine's profile
rows() { echo $(( $(wc -l <"$1") - 1 )); }              # data rows of a results file
col() { awk -v c="$2" '$1 == c { print $2 }' "$1"; }    # a value from bench's table
col_csv() { python3 -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); print(r[-1][sys.argv[2]] if r else "")' "$1" "$2"; }  # last row's

# ---- a small sweep: every configuration gets a row, in plan order ----
"$T" sweep "${P[@]}" "${Q[@]}" --quant f32,q4_0 --kernel naive,neon -t 1 --ctx 0,8 \
    -o "$tmp/a.csv" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(rows "$tmp/a.csv")" -eq 8 ]; then ok sweep_rows_for_every_config
else fail sweep_rows_for_every_config "exit $rc, $(rows "$tmp/a.csv" 2>/dev/null) rows: $(tail -3 "$tmp/err")"; fi
head -1 "$tmp/a.csv" | grep -q '^schema_version,run_id,' && ok sweep_csv_header \
    || fail sweep_csv_header "$(head -c 100 "$tmp/a.csv")"
grep -q "^results: $tmp/a.csv (8 rows" "$tmp/out" && ok sweep_prints_results_path \
    || fail sweep_prints_results_path "stdout: $(cat "$tmp/out")"
n_lines=$(grep -c '^\[[0-9]*/8\] ' "$tmp/err")
[ "$n_lines" -eq 8 ] && grep -q '^\[1/8\] f32 naive t=1 d=0: ok pp [0-9.]* t/s tg [0-9.]* t/s$' "$tmp/err" \
    && ok sweep_progress_lines || fail sweep_progress_lines "$n_lines lines: $(head -5 "$tmp/err")"
if [ "$(uname -m)" = aarch64 ]; then
    echo "skip sweep_unsupported_rows: neon may be usable on this machine"
else
    n_uns=$(grep -c '"unsupported","[^"]*neon[^"]*"' "$tmp/a.csv")
    [ "$n_uns" -eq 4 ] && grep -q '^\[[0-9]/8\] f32 neon t=1 d=0: unsupported (.*neon' "$tmp/err" \
        && ok sweep_unsupported_rows || fail sweep_unsupported_rows "$n_uns unsupported rows"
fi
[ "$(grep -c '"ok",' "$tmp/a.csv")" -eq 4 ] && ok sweep_ok_rows || fail sweep_ok_rows "$(grep -c '"ok",' "$tmp/a.csv") ok rows"
# f32 first (it is the accuracy reference), then q4_0; accuracy joined to ok rows only
sed -n 2p "$tmp/a.csv" | grep -q '"f32","f32","naive"' && ok sweep_f32_first || fail sweep_f32_first "$(sed -n 2p "$tmp/a.csv" | cut -c1-200)"
grep '"ok",' "$tmp/a.csv" | grep -c '"f32/naive"' | grep -qx 4 && ok sweep_accuracy_joined \
    || fail sweep_accuracy_joined "acc_ref missing on ok rows"
grep -q 'accuracy reference f32/naive: 128 positions' "$tmp/err" && ok sweep_accuracy_reference_note \
    || fail sweep_accuracy_reference_note "$(grep accuracy "$tmp/err")"

# ---- sweep file + command line override; --dry-run runs nothing ----
cat >"$tmp/s.conf" <<'EOF'
# test sweep
model = synthetic:tiny
quant = q8_0, q4_0
kernel = naive
threads = 1
ctx = 0, 4, 8   # three depths
EOF
"$T" sweep "${P[@]}" --sweep "$tmp/s.conf" --ctx 0 -p 4 -n 2 --dry-run -o "$tmp/d.csv" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c 'synthetic:tiny .*naive t=1 d=0$' "$tmp/out")" -eq 2 ] && [ ! -e "$tmp/d.csv" ] \
    && grep -q "^results: $tmp/d.csv" "$tmp/out"; then ok sweep_file_and_dry_run
else fail sweep_file_and_dry_run "exit $rc: $(cat "$tmp/out" "$tmp/err" | head -5)"; fi

# ---- kill -9 mid-run, torn last line, --resume ----
R=("${P[@]}" "${Q[@]}" --quant f32 --kernel naive -t 1 --ctx 0,4,8,12,16,20 --no-accuracy --timeout 60 -o "$tmp/r.csv")
TLBENCH_FAULT=hang@4 "$T" sweep "${R[@]}" >/dev/null 2>"$tmp/err1" &
pid=$!
for _ in $(seq 1 200); do   # until 3 rows are on disk (config 4 then hangs)
    [ -f "$tmp/r.csv" ] && [ "$(rows "$tmp/r.csv")" -ge 3 ] && break
    sleep 0.1
done
sleep 0.3
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
sleep 0.5
if pgrep -f -- "$tmp/r.csv" >/dev/null; then
    fail sweep_kill9_leaves_nothing "processes still running: $(pgrep -af -- "$tmp/r.csv" | head -3)"
else ok sweep_kill9_leaves_nothing; fi
n_before=$(rows "$tmp/r.csv")
head -n $((n_before + 1)) "$tmp/r.csv" >"$tmp/r-before.csv"
printf '"tlbench-csv-1","torn-row' >>"$tmp/r.csv"     # a write cut short by the kill
"$T" sweep "${R[@]}" --resume >"$tmp/out" 2>"$tmp/err"; rc=$?
n_after=$(rows "$tmp/r.csv")
if [ $rc -eq 0 ] && [ "$n_before" -eq 3 ] && [ "$n_after" -eq 6 ] \
    && [ "$(head -n 4 "$tmp/r.csv")" = "$(cat "$tmp/r-before.csv")" ] \
    && ! grep -q 'torn-row' "$tmp/r.csv" && grep -q 'already in' "$tmp/err" \
    && [ "$(grep -c '^\[[0-9]*/3\]' "$tmp/err")" -eq 3 ]; then ok sweep_resume_after_kill9
else fail sweep_resume_after_kill9 "exit $rc, rows $n_before -> $n_after: $(tail -4 "$tmp/err")"; fi
# each configuration exactly once: kernel,kernel_version,n_threads,n_prompt,n_gen,n_depth
depths=$(grep -o '"naive",,1,4,2,[0-9]*,' "$tmp/r.csv" | cut -d, -f6 | sort -n | tr '\n' ' ')
[ "$depths" = "0 4 8 12 16 20 " ] && ok sweep_resume_no_duplicates || fail sweep_resume_no_duplicates "depths: $depths"
"$T" sweep "${R[@]}" --resume >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q 'nothing left to run' "$tmp/out" && [ "$(rows "$tmp/r.csv")" -eq 6 ] \
    && ok sweep_resume_complete_is_noop || fail sweep_resume_complete_is_noop "exit $rc: $(cat "$tmp/out")"

# ---- bench: one configuration, table or CSV ----
"$T" bench "${Q[@]}" --quant q8_0 --kernel naive -t 1 >"$tmp/b.txt" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(col "$tmp/b.txt" status)" = ok ] && [ -n "$(col "$tmp/b.txt" tg_ts_median)" ] \
    && [ -n "$(col "$tmp/b.txt" kld_mean)" ] && [ -n "$(col "$tmp/b.txt" peak_rss_bytes)" ]; then ok bench_table
else fail bench_table "exit $rc: $(head -5 "$tmp/b.txt") $(tail -2 "$tmp/err")"; fi
"$T" bench "${Q[@]}" --quant q8_0 --kernel naive -t 1 --no-accuracy --format csv -o "$tmp/b.csv" \
    --board-label 'pi 5 #1' >"$tmp/b2.csv" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/b2.csv")" -eq 2 ] && [ "$(rows "$tmp/b.csv")" -eq 1 ] \
    && head -1 "$tmp/b2.csv" | grep -q '^schema_version,'; then ok bench_csv
else fail bench_csv "exit $rc: $(head -c 300 "$tmp/b2.csv") $(tail -2 "$tmp/err")"; fi
# the user's label lands in board_label (and in the default file name of a sweep)
head -1 "$tmp/b.csv" | grep -q ',board_label' && tail -1 "$tmp/b.csv" | grep -q ',"pi 5 #1"' \
    && ok bench_board_label || fail bench_board_label "$(tail -1 "$tmp/b.csv" | tail -c 200)"
"$T" sweep "${P[@]}" "${Q[@]}" --board-label 'Rack 7/Pi' --dry-run >"$tmp/out" 2>/dev/null
grep -q '^results: results/rack-7-pi-[0-9]*\.csv$' "$tmp/out" && ok sweep_label_names_file \
    || fail sweep_label_names_file "$(tail -1 "$tmp/out")"

# ---- where the weights sat: copied by default, the file mapping with TLBENCH_MMAP=1 ----
M=(-p 4 -n 2 -r 1 --warmup 0 --power none --no-accuracy --quant f32 --kernel naive -t 1)
if "$T" convert --model synthetic:tiny --quant f32 --out "$tmp/tiny.gguf" 2>"$tmp/err"; then
    "$T" bench --model "$tmp/tiny.gguf" "${M[@]}" >"$tmp/m1.txt" 2>>"$tmp/err"
    TLBENCH_MMAP=1 "$T" bench --model "$tmp/tiny.gguf" "${M[@]}" >"$tmp/m2.txt" 2>>"$tmp/err"
    "$T" bench --model synthetic:tiny "${M[@]}" >"$tmp/m3.txt" 2>>"$tmp/err"
    got="$(col "$tmp/m1.txt" weight_mapping) $(col "$tmp/m2.txt" weight_mapping) $(col "$tmp/m3.txt" weight_mapping)"
    [ "$got" = "copy mmap generated" ] && ok bench_weight_mapping \
        || fail bench_weight_mapping "got '$got', want 'copy mmap generated': $(tail -2 "$tmp/err")"
else fail bench_weight_mapping "convert failed: $(tail -2 "$tmp/err")"; fi

# ---- the run's peak (the larger of the worker's and the load's) vs /usr/bin/time -v, which
# reports the largest RSS of the whole process tree ----
run_peak() { # bytes: max(peak_rss_bytes, load_peak_rss_bytes) of a bench table
    awk '$1 == "peak_rss_bytes" || $1 == "load_peak_rss_bytes" { if ($2 > m) m = $2 } END { print m }' "$1"
}
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= p * b) }'; }
if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$T" bench --model synthetic:small --quant f32 --kernel naive -t 1 -p 16 -n 4 \
        -r 1 --warmup 0 --power none --no-accuracy >"$tmp/t.txt" 2>"$tmp/time.txt"
    ours=$(run_peak "$tmp/t.txt")
    theirs=$(awk -F': ' '/Maximum resident set size/ { print $2 * 1024 }' "$tmp/time.txt")
    if [ -n "$ours" ] && [ -n "$theirs" ] && [ -n "$(col "$tmp/t.txt" load_peak_rss_bytes)" ] && \
        within "$ours" "$theirs" 0.05; then
        ok "bench_run_peak_matches_time ($ours vs $theirs bytes)"
    else fail bench_run_peak_matches_time "run peak $ours vs /usr/bin/time $theirs"; fi
    # TinyLlama-1.1B q4_0 from a GGUF file (copied at load): loading holds the copy and the file
    # pages in flight, more than the worker ever does; the row must still name the whole peak
    if [ "$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')" -gt 2000000 ] && \
        "$T" convert --model synthetic:tinyllama-1.1b --quant q4_0 --threads 2 \
            --out "$tmp/tl.gguf" >/dev/null 2>"$tmp/cerr"; then
        /usr/bin/time -v "$T" bench --model "$tmp/tl.gguf" --quant q4_0 --kernel auto -t 1 -p 1 \
            -n 1 -r 1 --warmup 0 --power none --no-accuracy >"$tmp/t.txt" 2>"$tmp/time.txt"
        ours=$(run_peak "$tmp/t.txt")
        worker=$(col "$tmp/t.txt" peak_rss_bytes); load=$(col "$tmp/t.txt" load_peak_rss_bytes)
        theirs=$(awk -F': ' '/Maximum resident set size/ { print $2 * 1024 }' "$tmp/time.txt")
        if [ -n "$ours" ] && [ -n "$theirs" ] && within "$ours" "$theirs" 0.02; then
            ok "bench_load_peak_1.1b (worker $worker, load $load, /usr/bin/time $theirs bytes)"
        else fail bench_load_peak_1.1b "worker $worker, load $load vs /usr/bin/time $theirs"; fi
        # the memory's level, read over the model's own matrices just before the repetitions
        lv=$(col "$tmp/t.txt" mem_bw_gbps)
        if awk -v v="$lv" 'BEGIN { exit !(v > 0.1 && v < 100000) }'; then ok "bench_mem_level_1.1b ($lv GB/s)"
        else fail bench_mem_level_1.1b "mem_bw_gbps '$lv' (want a read bandwidth in GB/s)"; fi
        # decode's traffic: a step at position 1 reads TinyLlama's matrices (22 layers of
        # q, o 2048x2048, k, v 256x2048, w1, w3 5632x2048, w2 2048x5632, and the 32000x2048
        # classifier) in q4_0 (18 bytes per 32) and 2 positions of KV cache (45 KiB in f16, 90
        # in f32): tg_gbps / tg_ts_median is that within 0.1 %; its share of the level a percentage
        tgb=$(col "$tmp/t.txt" tg_gbps); tgt=$(col "$tmp/t.txt" tg_ts_median)
        pct=$(col "$tmp/t.txt" tg_pct_mem_bw)
        if awk -v g="$tgb" -v t="$tgt" -v p="$pct" 'BEGIN { b = (22 * (2 * 2048 * 2048 + 2 * 256 * 2048 + 3 * 5632 * 2048) + 32000 * 2048) * 18 / 32;
               r = g * 1e9 / t; d = r - b; if (d < 0) d = -d;
               exit !(t > 0 && d < 0.001 * b && p > 1 && p < 1000) }'; then
            ok "bench_decode_traffic_1.1b ($tgb GB/s, $pct % of the level)"
        else fail bench_decode_traffic_1.1b "tg_gbps '$tgb', tg_ts_median '$tgt', tg_pct_mem_bw '$pct' (want 581.9 MB per token and a share in %)"; fi
        rm -f "$tmp/tl.gguf"
    else
        echo "skip bench_load_peak_1.1b: no 2 GB free in $tmp, or convert failed: $(tail -1 "$tmp/cerr" 2>/dev/null)"
    fi
else
    echo "skip bench_run_peak_matches_time: /usr/bin/time absent (Debian package time)"
    echo "skip bench_load_peak_1.1b: /usr/bin/time absent (Debian package time)"
fi

# ---- JSON for other tools: every column typed, llama-bench's fields where they mean the same ----
# (the keys llama.cpp's scripts/compare-llama-bench.py requires: its LLAMA_BENCH_KEY_PROPERTIES
# plus build_commit, test_time and avg_ts)
if ! command -v python3 >/dev/null; then
    echo "skip json_outputs: python3 absent (needed to parse the JSON)"
elif ! "$T" bench "${Q[@]}" --no-accuracy --format json >"$tmp/b.json" 2>"$tmp/err" && \
    grep -q 'needs cJSON' "$tmp/err"; then
    echo "skip json_outputs: this build has no cJSON: $(head -1 "$tmp/err")"
else
    "$T" sweep "${P[@]}" "${Q[@]}" --quant f32,q4_0 --kernel naive -t 1 --no-accuracy \
        -o "$tmp/j.csv" --format jsonl >"$tmp/s.jsonl" 2>"$tmp/serr"
    if python3 - "$tmp/b.json" "$tmp/s.jsonl" "$tmp/j.csv" >"$tmp/perr" 2>&1 <<'EOF'
import csv, json, sys
need = ("cpu_info gpu_info backends n_gpu_layers tensor_buft_overrides model_filename model_type "
        "n_batch n_ubatch embeddings cpu_mask cpu_strict poll n_threads type_k type_v use_mmap "
        "no_kv_offload split_mode main_gpu tensor_split flash_attn n_prompt n_gen n_depth "
        "build_commit test_time avg_ts").split()
bench = json.load(open(sys.argv[1]))
assert isinstance(bench, list) and len(bench) == 1, "bench --format json: an array of one row"
lines = [json.loads(l) for l in open(sys.argv[2])]
rows = list(csv.DictReader(open(sys.argv[3])))
assert len(lines) == len(rows) == 2, f"jsonl {len(lines)} lines, CSV {len(rows)} rows"
for r in bench + lines:
    missing = [k for k in need if k not in r]
    assert not missing, f"missing {missing}"
    assert r["schema_version"].startswith("tlbench-csv-"), r["schema_version"]
    assert isinstance(r["n_threads"], int) and isinstance(r["avg_ts"], float)
    assert isinstance(r["samples_ts"], list) and isinstance(r["samples_ns"], list)
    assert len(r["samples_ns"]) == r["repetitions"], "one sample per repetition"
    assert r["model_type"] == r["model_name"] + " " + r["weight_type"].upper()
for r, c in zip(lines, rows):  # the same rows as the CSV file, the same numbers
    assert r["weight_type"] == c["weight_type"] and r["avg_ts"] == float(c["avg_ts"]), (r, c)
EOF
    then ok json_outputs
    else fail json_outputs "$(tail -3 "$tmp/perr") $(tail -2 "$tmp/serr")"; fi
fi

# ---- bad input: one clear error line each ----
expect_error() { # name expected_exit pattern args...
    local name=$1 want=$2 pat=$3; shift 3
    "$T" "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
    local lines; lines=$(wc -l <"$tmp/e")
    if [ $rc -ne "$want" ]; then fail "$name" "exit $rc, wanted $want: $(head -c 200 "$tmp/e")"
    elif ! grep -q -- "$pat" "$tmp/e"; then fail "$name" "message lacks '$pat': $(head -c 200 "$tmp/e")"
    elif [ "$lines" -ne 1 ]; then fail "$name" "$lines lines on stderr, wanted 1: $(head -c 300 "$tmp/e")"
    else ok "$name"; fi
}
expect_error sweep_bad_thread_list 2 "-t: 'x' is not" sweep -t 1,2,x --dry-run
expect_error sweep_bad_range 2 "must go upwards" sweep --ctx 8-2 --dry-run
expect_error sweep_unknown_kernel 2 "unknown kernel 'nope'" sweep --kernel naive,nope --dry-run
expect_error sweep_bad_quant 2 "unknown type 'q3'" sweep --quant f32,q3 --dry-run
expect_error sweep_bad_kv 2 "KV cache type must be" sweep --kv-type q8_0 --dry-run
expect_error sweep_unknown_option 2 "unknown option" sweep --frobnicate
expect_error bench_list_refused 2 "takes one value" bench -t 1,2
expect_error sweep_bad_board_label 2 "--board-label: .* without control characters" \
    sweep --board-label "$(printf 'a\nb')" --dry-run
expect_error bench_no_resume 2 "option --resume is not available" bench --resume
printf 'model = synthetic:tiny\n\nthreds = 2\n' >"$tmp/bad.conf"
expect_error sweep_file_unknown_key 1 "bad.conf:3: unknown key 'threds'" sweep --sweep "$tmp/bad.conf" --dry-run
printf 'threads = 1,zz\n' >"$tmp/bad2.conf"
expect_error sweep_file_bad_value 1 "bad2.conf:1: threads: 'zz'" sweep --sweep "$tmp/bad2.conf" --dry-run
expect_error sweep_missing_sweep_file 1 "nope.conf" sweep --sweep "$tmp/nope.conf" --dry-run
printf 'not,a,results,file\n1,2,3,4\n' >"$tmp/bad.csv"
expect_error sweep_resume_bad_csv 1 "bad.csv" sweep "${Q[@]}" --kernel naive -t 1 --resume -o "$tmp/bad.csv"
expect_error eval_no_model 2 "--model is required" eval
expect_error eval_ctx_too_long 2 "exceeds the model's context" eval --model synthetic:tiny --ctx 4096
"$T" sweep --help | grep -q -- "--resume" && "$T" bench --help | grep -q -- "--format" \
    && "$T" eval --help | grep -q -- "--chunks" && ok sweep_bench_eval_help || fail sweep_bench_eval_help "options not explained"

# ---- a profile's sweep settings: the sweep-file vocabulary, and the old keys with a note ----
mkdir -p "$tmp/plat"
printf '%s\n' 'name = generic' 'description = test profile' 'kernel = naive, warp9' \
    'quant = q4_0' 'threads = 1' 'ctx = 0, 4' 'n-prompt = 4' 'n-gen = 2' 'repetitions = 1' \
    >"$tmp/plat/generic.conf"
TLBENCH_PLATFORMS="$tmp/plat" "$T" sweep --profile generic --model synthetic:tiny --dry-run \
    -o "$tmp/p.csv" >"$tmp/o" 2>"$tmp/e"; rc=$?
if [ $rc -eq 0 ] && ! grep -q 'note\|error\|warning' "$tmp/e" \
    && [ "$(grep -c 'q4_0 naive t=1 d=[04]$' "$tmp/o")" -eq 2 ] \
    && [ "$(grep -c 'q4_0 warp9 t=1 d=[04]  -> unsupported$' "$tmp/o")" -eq 2 ]; then ok sweep_profile_settings
else fail sweep_profile_settings "exit $rc: $(head -c 300 "$tmp/e") $(head -5 "$tmp/o")"; fi
sed -i 's/^kernel =/kernels =/; s/^quant =/quants =/; s/^n-prompt =/n_prompt =/; s/^repetitions =/reps =/' \
    "$tmp/plat/generic.conf"
TLBENCH_PLATFORMS="$tmp/plat" "$T" sweep --profile generic --model synthetic:tiny --dry-run \
    -o "$tmp/p.csv" >"$tmp/o2" 2>"$tmp/e"; rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/o" "$tmp/o2" \
    && [ "$(grep -c "^tlbench: note: $tmp/plat/generic.conf:[0-9]*: the profile key '" "$tmp/e")" -eq 4 ] \
    && [ "$(grep -c -v '^tlbench: sweep of 4 configurations' "$tmp/e")" -eq 4 ] \
    && grep -q "generic.conf:9: the profile key 'reps' is now 'repetitions'" "$tmp/e"; then ok sweep_profile_old_keys_noted
else fail sweep_profile_old_keys_noted "exit $rc: $(head -c 400 "$tmp/e")"; fi
sed -i 's/^kernels =/kernel =/; s/^quants =/quant =/; s/^n_prompt =/n-prompt =/; s/^reps =/repetitions =/' \
    "$tmp/plat/generic.conf"
printf 'thread = 2\n' >>"$tmp/plat/generic.conf"
TLBENCH_PLATFORMS="$tmp/plat" expect_error sweep_profile_unknown_key 1 "generic.conf:10: unknown key 'thread'" \
    sweep --profile generic --dry-run

# ---- the example sweep files are valid ----
# ---- core_share: 1-thread rows leave it empty; 2 threads pinned to one CPU (as two vCPUs
# on one host core) measure about one core's FMA for two threads ----
if ! command -v taskset >/dev/null; then
    echo "skip bench_core_share: no taskset (util-linux)"
elif [ "$(nproc --all)" -lt 2 ]; then
    echo "skip bench_core_share: one CPU, no 2-thread row"
else
    "$T" bench "${Q[@]}" --kernel naive -t 1 --no-accuracy >"$tmp/c1.txt" 2>&1
    "$T" bench "${Q[@]}" --kernel naive -t 2 --no-accuracy -o "$tmp/free.csv" >/dev/null 2>&1
    taskset -c 0 "$T" bench "${Q[@]}" --kernel naive -t 2 --no-accuracy -o "$tmp/pin.csv" \
        >"$tmp/c2.txt" 2>&1
    one=$(col "$tmp/c1.txt" core_share); pinned=$(col "$tmp/c2.txt" core_share)
    if [ "$(col "$tmp/c1.txt" status)" = ok ] && [ -z "$one" ] && [ -n "$pinned" ] && \
       awk -v s="$pinned" 'BEGIN { exit !(s > 0 && s < 0.75) }'; then ok bench_core_share
    else fail bench_core_share "1 thread '$one' (want empty), 2 threads on one CPU '$pinned' (want < 0.75)"; fi
    # compare says which side's threads shared cores (both, if this machine's vCPUs share one)
    "$T" compare "$tmp/free.csv" "$tmp/pin.csv" >"$tmp/cmp.txt" 2>&1
    if grep -Eq 'threads shared cores \(core_share on (NEW|both sides), 0\.[0-9]' "$tmp/cmp.txt"; then
        ok compare_notes_shared_cores
    else fail compare_notes_shared_cores "$(grep tg_ts "$tmp/cmp.txt" | head -2)"; fi
    # and the report says how many configurations it concerns
    if "$T" report "$tmp/pin.csv" -o "$tmp/pin-report" >/dev/null 2>&1 && \
       grep -q '1 of the 1 multi-thread configurations were measured, in at least one round, while their threads shared cores' \
           "$tmp/pin-report/summary.md"; then ok report_notes_shared_cores
    else fail report_notes_shared_cores "$(grep -i 'shared' "$tmp/pin-report/summary.md" 2>/dev/null | head -2)"; fi
    # ... and marks that configuration: "(shared cores)" in the tables, circled on the charts
    # (the 2-thread point's flag column is 1), while the same configuration with a core per
    # thread is not marked (unless this machine's vCPUs share one: nothing to tell apart then)
    "$T" report "$tmp/free.csv" -o "$tmp/free-report" >/dev/null 2>&1
    free_share=$(col_csv "$tmp/free.csv" core_share)
    # (tiny runs are often also noisy: "(noisy, shared cores)", and circled for that too, so
    # the free run's point is only checked for the words)
    if grep -q 'naive (\(noisy, \)\?shared cores)' "$tmp/pin-report/summary.md" && \
       awk -F'\t' '$1 == 2 && $NF == 1 { f = 1 } END { exit !f }' "$tmp/pin-report/charts/decode-threads.tsv" && \
       { awk -v s="$free_share" 'BEGIN { exit !(s != "" && s < 0.75) }' ||
         ! grep -q 'shared cores)' "$tmp/free-report/summary.md"; }; then
        ok report_marks_shared_cores
    else fail report_marks_shared_cores "free core_share '$free_share'; $(grep -c 'shared cores)' "$tmp/pin-report/summary.md") marks; tsv: $(tail -2 "$tmp/pin-report/charts/decode-threads.tsv" | tr '\t\n' ' |')"; fi
    # two rounds of one configuration, the low share in the first and none in the last: compare
    # and report take the lowest over the rounds, not the last row's
    python3 - "$tmp/free.csv" "$tmp/rounds-b.csv" "$tmp/rounds-n.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
h, row = rows[0], rows[1]
c, rd, rid = h.index("core_share"), h.index("round"), h.index("run_id")
for out, shares in ((sys.argv[2], ("1.0", "1.0")), (sys.argv[3], ("0.4", ""))):
    w = csv.writer(open(out, "w", newline=""), lineterminator="\n")
    w.writerow(h)
    for k, share in enumerate(shares):
        r = list(row); r[c] = share; r[rd] = str(k + 1); r[rid] = "rounds-" + out[-5]
        w.writerow(r)
PY
    "$T" compare "$tmp/rounds-b.csv" "$tmp/rounds-n.csv" >"$tmp/cmpr.txt" 2>&1
    "$T" report "$tmp/rounds-n.csv" -o "$tmp/rounds-report" >/dev/null 2>&1
    if grep -q 'threads shared cores (core_share on NEW, 0.40)' "$tmp/cmpr.txt" && \
       grep -q '1 of the 1 multi-thread configurations were measured, in at least one round' \
           "$tmp/rounds-report/summary.md"; then ok shared_cores_lowest_over_rounds
    else fail shared_cores_lowest_over_rounds "compare: $(grep -c 'shared cores' "$tmp/cmpr.txt") notes; $(grep -i 'shared' "$tmp/rounds-report/summary.md" | head -1)"; fi
fi

# ---- mem_bw_gbps: a row that ran gets the memory's level measured just before it (a read
# bandwidth in GB/s); compare notes when BASE and NEW met levels more than 25 % apart,
# and not when they are close ----
# (measured over the model's own matrices: a tiny model's are too small to leave the caches,
# so its rows leave the column empty; the 1.1B q4_0 bench below fills it)
"$T" bench "${Q[@]}" --kernel naive -t 1 --no-accuracy -o "$tmp/lv.csv" >/dev/null 2>&1
lv=$(col_csv "$tmp/lv.csv" mem_bw_gbps)
if [ "$(col_csv "$tmp/lv.csv" status)" = ok ] && [ -z "$lv" ]; then ok bench_mem_level_tiny_empty
else fail bench_mem_level_tiny_empty "status '$(col_csv "$tmp/lv.csv" status)', mem_bw_gbps '$lv' (want ok and empty)"; fi
# its decode traffic is measured all the same; the share of a level it has not is empty
tgb=$(col_csv "$tmp/lv.csv" tg_gbps); pct=$(col_csv "$tmp/lv.csv" tg_pct_mem_bw)
if awk -v g="$tgb" 'BEGIN { exit !(g > 0) }' && [ -z "$pct" ]; then ok bench_decode_traffic_tiny
else fail bench_decode_traffic_tiny "tg_gbps '$tgb', tg_pct_mem_bw '$pct' (want a rate and empty)"; fi
python3 - "$tmp/lv.csv" "$tmp/lv-b.csv" "$tmp/lv-near.csv" "$tmp/lv-far.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
h, row = rows[0], rows[1]
c, rid = h.index("mem_bw_gbps"), h.index("run_id")
for out, level in ((sys.argv[2], "60"), (sys.argv[3], "50"), (sys.argv[4], "30")):
    r = list(row); r[c] = level; r[rid] = "lv-" + out[-7:-4]
    csv.writer(open(out, "w", newline=""), lineterminator="\n").writerows([h, r])
PY
"$T" compare "$tmp/lv-b.csv" "$tmp/lv-near.csv" >"$tmp/lv-near.txt" 2>&1
"$T" compare "$tmp/lv-b.csv" "$tmp/lv-far.csv" >"$tmp/lv-far.txt" 2>&1
if grep -q 'memory levels apart (mem_bw_gbps BASE 60.0, NEW 30.0 GB/s)' "$tmp/lv-far.txt" && \
   ! grep -q 'memory levels apart' "$tmp/lv-near.txt"; then ok compare_notes_memory_levels
else fail compare_notes_memory_levels "far: $(grep -c 'memory levels apart' "$tmp/lv-far.txt") notes (want some); near: $(grep -c 'memory levels apart' "$tmp/lv-near.txt") (want 0)"; fi

# a decode regression met at a memory level 25 % lower is inconclusive (the gate passes, the
# note says why), a judged one with --no-mem-level; one against the level (NEW's higher) stands
"$T" bench --model synthetic:tiny -p 4 -n 4 -r 8 --warmup 0 --power none --kv-type f32 \
    --kernel naive -t 1 --no-accuracy -o "$tmp/lr.csv" >/dev/null 2>&1
python3 - "$tmp/lr.csv" "$tmp" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
h, row = rows[0], rows[1]
ix = {c: h.index(c) for c in ("mem_bw_gbps", "run_id", "tg_samples_ts", "tg_ts_median", "tg_ts_mean", "tg_ts_stddev")}
def write(name, level, scale):
    r = list(row)
    r[ix["mem_bw_gbps"]] = level
    r[ix["run_id"]] = "lr-" + name
    r[ix["tg_samples_ts"]] = ";".join(repr(float(v) * scale) for v in row[ix["tg_samples_ts"]].split(";"))
    for c in ("tg_ts_median", "tg_ts_mean", "tg_ts_stddev"):
        r[ix[c]] = repr(float(row[ix[c]]) * scale)
    csv.writer(open(sys.argv[2] + "/lr-" + name + ".csv", "w", newline=""), lineterminator="\n").writerows([h, r])
write("fast", "60", 1.0)
write("slow-low", "30", 0.6)
write("low", "30", 1.0)
write("slow-high", "60", 0.6)
PY
"$T" compare -m tg_ts "$tmp/lr-fast.csv" "$tmp/lr-slow-low.csv" >"$tmp/lr1.txt" 2>&1; rc1=$?
"$T" compare -m tg_ts --no-mem-level "$tmp/lr-fast.csv" "$tmp/lr-slow-low.csv" >"$tmp/lr2.txt" 2>&1; rc2=$?
"$T" compare -m tg_ts "$tmp/lr-low.csv" "$tmp/lr-slow-high.csv" >"$tmp/lr3.txt" 2>&1; rc3=$?
if [ $rc1 = 0 ] && grep -q 'inconclusive.*decode moved with the memory' "$tmp/lr1.txt" && \
   [ $rc2 = 1 ] && grep -q 'regression' "$tmp/lr2.txt" && [ $rc3 = 1 ] && grep -q 'regression' "$tmp/lr3.txt"; then
    ok compare_decode_follows_memory_level
else fail compare_decode_follows_memory_level "exit $rc1/$rc2/$rc3 (want 0/1/1): $(grep tg_ts "$tmp/lr1.txt" | head -1) | $(grep tg_ts "$tmp/lr2.txt" | head -1) | $(grep tg_ts "$tmp/lr3.txt" | head -1)"; fi

# avx512x16 rounds X to the weights' 16-bit type: its accuracy must show that (a kld_mean of
# its own, not avx512's exact-X figure), and a sweep of the "usable" kernels runs it for f16
# and bf16 only, with no unsupported rows for the types it does not take.
if ! "$T" info 2>/dev/null | grep -q '^kernel\.avx512x16 *usable'; then
    echo "skip x16_kl_in_csv: avx512x16 not usable here ($("$T" info 2>/dev/null | grep '^kernel\.avx512x16' | head -1))"
else
    "$T" sweep --profile none --model synthetic:tiny --quant f16 --kernel avx512,avx512x16 -t 1 \
        -p 4 -n 2 -r 1 --warmup 0 --power none -o "$tmp/x16.csv" >/dev/null 2>&1
    kls=$(python3 -c 'import csv, sys; print(" ".join(r["kernel"] + "=" + r["kld_mean"] for r in csv.DictReader(open(sys.argv[1]))))' "$tmp/x16.csv" 2>/dev/null)
    if python3 - "$tmp/x16.csv" <<'PY'
import csv, math, sys
k = {r["kernel"]: r["kld_mean"] for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"}
a, b = float(k["avx512"]), float(k["avx512x16"])
sys.exit(0 if math.isfinite(a) and math.isfinite(b) and b != a else 1)
PY
    then ok x16_kl_in_csv; else fail x16_kl_in_csv "kld_mean: ${kls:-no rows}"; fi
    "$T" sweep --profile none --model synthetic:tiny --quant f32,f16 --kernel usable -t 1 \
        --dry-run -o "$tmp/x16d.csv" >"$tmp/x16d.out" 2>&1
    if grep -q 'f16 avx512x16' "$tmp/x16d.out" && ! grep -q 'f32 avx512x16' "$tmp/x16d.out"; then
        ok usable_kernels_by_type
    else fail usable_kernels_by_type "$(grep -c avx512x16 "$tmp/x16d.out") avx512x16 lines: $(grep avx512x16 "$tmp/x16d.out" | head -3)"; fi
fi

for f in sweeps/*.conf; do
    [ -f "$f" ] || continue
    if "$T" sweep --sweep "$f" --dry-run -o "$tmp/x.csv" >"$tmp/o" 2>"$tmp/e"; then ok "sweep_example_$(basename "$f" .conf)"
    else fail "sweep_example_$(basename "$f" .conf)" "$(head -2 "$tmp/e")"; fi
done
