#!/usr/bin/env bash
# vs-llama.sh — tlbench against llama.cpp's llama-bench on the same GGUF files, side by side:
# per round, weight type and thread count, `llama-bench -m F -p 128 -n 32 -r 3 -t T` and
# `tlbench bench --model F --quant TYPE --kernel K -t T -p 128 -n 32 -r 3 --no-accuracy` run
# back to back (which goes first alternates between rounds), and the ratio tlbench / llama.cpp
# is taken within the round (--quant TYPE: the file's own type; bench's default is q4_0).
# Prints a Markdown table: each side's tokens/s (range over the rounds) and the ratio's median
# and range, for prefill (pp128) and decode (tg32); then the weakest ratio. llama.cpp is not part of this project: build it elsewhere and pass its llama-bench.
#
#   scripts/vs-llama.sh -b LLAMA_BENCH -d MODELS_DIR [-n ROUNDS] [-t "1 2"]
#                       [-q "f32 f16 bf16 q8_0 q4_0"] [-k avx512] [-B build/tlbench] [-o DIR]
#
# MODELS_DIR holds tinyllama-synth-<type>.gguf for each type: `tlbench convert --model
# synthetic:tinyllama-1.1b --out DIR/tinyllama-synth-f32.gguf`, then for the others
# `llama-quantize --pure DIR/tinyllama-synth-f32.gguf DIR/tinyllama-synth-<type>.gguf TYPE`
# (F16, BF16, Q8_0, Q4_0). Rows are kept in DIR (default a temporary directory, printed). Other
# processes skew both sides, llama.cpp's busy-polling threads most: the 1-minute load average
# is printed per run; measure on a quiet machine.
set -eu
rounds=2 threads="1 2" types="f32 f16 bf16 q8_0 q4_0" kernel=avx512 tlb=build/tlbench
lb= models= out=
while getopts b:d:n:t:q:k:B:o: opt; do
    case $opt in
    b) lb=$OPTARG ;; d) models=$OPTARG ;; n) rounds=$OPTARG ;; t) threads=$OPTARG ;;
    q) types=$OPTARG ;; k) kernel=$OPTARG ;; B) tlb=$OPTARG ;; o) out=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
    esac
done
if [ -z "$lb" ] || [ -z "$models" ] || [ ! -x "$lb" ]; then sed -n '2,20p' "$0" >&2; exit 2; fi
[ -n "$out" ] || out=$(mktemp -d /tmp/vs-llama.XXXXXX)
mkdir -p "$out"
here=$(dirname "$0")
load() { cut -d' ' -f1 /proc/loadavg; }

# one_llama TYPE T ROUND: pp and tg tokens/s -> $out/llama.txt as "type t round pp tg"
one_llama() {
    local f=$models/tinyllama-synth-$1.gguf
    echo "  llama.cpp $1 -t $2 (load $(load))" >&2
    "$lb" -m "$f" -p 128 -n 32 -r 3 -t "$2" -o csv >"$out/llama-$1-$2-$3.csv" 2>/dev/null ||
        { echo "vs-llama: llama-bench failed on $f" >&2; return 1; }
    awk -f "$here/csv.awk" -f /dev/stdin -v key="$1 $2 $3" "$out/llama-$1-$2-$3.csv" >>"$out/llama.txt" <<'EOF'
NR == 1 { nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i; next }
{ csvsplit($0, f); if (f[col["n_prompt"]] > 0) pp = f[col["avg_ts"]]; else tg = f[col["avg_ts"]] }
END { print key, pp + 0, tg + 0 }
EOF
}
# one_tlb TYPE T ROUND: the same for tlbench -> $out/tlbench.txt
one_tlb() {
    local f=$models/tinyllama-synth-$1.gguf
    echo "  tlbench $1 -t $2 (load $(load))" >&2
    "$tlb" bench --model "$f" --quant "$1" --kernel "$kernel" -t "$2" -p 128 -n 32 -r 3 --no-accuracy \
        --format csv >"$out/tlbench-$1-$2-$3.csv" 2>/dev/null ||
        { echo "vs-llama: tlbench failed on $f" >&2; return 1; }
    awk -f "$here/csv.awk" -f /dev/stdin -v key="$1 $2 $3" "$out/tlbench-$1-$2-$3.csv" >>"$out/tlbench.txt" <<'EOF'
NR == 1 { nf = csvsplit($0, h); for (i = 1; i <= nf; i++) col[h[i]] = i; next }
{ csvsplit($0, f); pp = f[col["pp_ts_median"]]; tg = f[col["tg_ts_median"]] }
END { print key, pp + 0, tg + 0 }
EOF
}

for q in $types; do
    [ -f "$models/tinyllama-synth-$q.gguf" ] || { echo "vs-llama: $models/tinyllama-synth-$q.gguf missing" >&2; exit 1; }
done
echo "vs-llama: $rounds rounds, rows in $out" >&2
for r in $(seq 1 "$rounds"); do
    echo "round $r" >&2
    for q in $types; do
        for t in $threads; do
            if [ $((r % 2)) = 1 ]; then one_llama "$q" "$t" "$r"; one_tlb "$q" "$t" "$r"
            else one_tlb "$q" "$t" "$r"; one_llama "$q" "$t" "$r"; fi
        done
    done
done

awk -f "$here/csv.awk" -f /dev/stdin "$out/llama.txt" "$out/tlbench.txt" <<'EOF'
FILENAME ~ /llama\.txt$/ { L[$1 " " $2, $3] = $4 " " $5; if (!(($1 " " $2) in seen)) { seen[$1 " " $2] = 1; order[++n] = $1 " " $2 }; next }
{ T[$1 " " $2, $3] = $4 " " $5 }
function range(a, m,   i, lo, hi) { lo = 1e30; hi = 0; for (i = 1; i <= m; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] } return sprintf(lo >= 100 ? "%.0f-%.0f" : "%.1f-%.1f", lo, hi) }
function stat(a, m,   i, b, lo, hi) { lo = 1e30; hi = 0; for (i = 1; i <= m; i++) { b[i] = a[i]; if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] } return sprintf("%.2f (%.2f-%.2f)", median(b, m), lo, hi) }
END {
    print "| weights | threads | prefill llama.cpp | prefill tlbench | ratio | decode llama.cpp | decode tlbench | ratio |"
    print "|---|---|---|---|---|---|---|---|"
    weakest = 1e30
    for (i = 1; i <= n; i++) {
        key = order[i]; m = 0
        for (r = 1; (key, r) in L; r++) {
            if (!((key, r) in T)) continue
            split(L[key, r], l, " "); split(T[key, r], t, " ")
            m++; lp[m] = l[1]; lt[m] = l[2]; tp[m] = t[1]; tt[m] = t[2]
            rp[m] = l[1] > 0 ? t[1] / l[1] : 0; rt[m] = l[2] > 0 ? t[2] / l[2] : 0
        }
        if (!m) continue
        split(key, kk, " ")
        sp = stat(rp, m); st = stat(rt, m)
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", kk[1], kk[2], range(lp, m), range(tp, m), sp, range(lt, m), range(tt, m), st
        split(sp, a, " "); if (a[1] + 0 < weakest) { weakest = a[1] + 0; wk = kk[1] " prefill, " kk[2] " thread(s)" }
        split(st, a, " "); if (a[1] + 0 < weakest) { weakest = a[1] + 0; wk = kk[1] " decode, " kk[2] " thread(s)" }
    }
    if (n) printf "\nweakest ratio: %.2f (%s)\n", weakest, wk
}
EOF
