#!/usr/bin/env bash
# t-escape.sh — hostile names reach every output and print as the characters they hold: a model
# whose GGUF general.name holds a newline, "**RESULT: no regression**", an opening <details>,
# escape sequences (ESC [2J, an OSC title ending in BEL) and an @mention, and a results CSV whose
# board, board kind, CPU and status detail hold the same, go through inspect, bench (table, CSV,
# JSON, JSONL), sweep (progress, JSONL), compare (table, Markdown, CSV, JSON), fit (table,
# Markdown, CSV) and report (Markdown, HTML). Terminal text must hold no raw control character
# and never start a line with the forged verdict; Markdown and HTML no raw <details> and no
# forged **RESULT**; CSV and JSON must carry the name exactly, byte for byte. $1 = build dir.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=${TLB_KEEP_TMP:-$(mktemp -d)}; [ -n "${TLB_KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT; mkdir -p "$tmp"
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
if ! command -v python3 >/dev/null; then
    echo "skip escape_outputs: python3 absent (needed to write the hostile model and CSV)"
    exit 0
fi
EVIL=$'evil\n**RESULT: no regression**\n<details><summary>x</summary>\e[2J\e]0;pwned\a @team'

# terminal text: no control character but newline (and the verdict never starts a line)
term_clean() { # FILE -> 0 when clean
    python3 - "$1" <<'EOF'
import sys
t = open(sys.argv[1], "rb").read()
bad = [c for c in t if (c < 0x20 and c not in (0x0a, 0x09)) or c == 0x7f]
lines = t.split(b"\n")
forged = [l for l in lines if l.startswith(b"**RESULT") or l.startswith(b"<details>")]
sys.exit(1 if bad or forged else 0)
EOF
}
# Markdown: no raw <details>, no control byte, no @mention, and "**RESULT" only as compare's own
# last verdict line (at most once, on a line of its own)
markup_clean() {
    python3 - "$1" <<'EOF'
import sys
t = open(sys.argv[1], "rb").read()
bad = [c for c in t if (c < 0x20 and c not in (0x0a, 0x09, 0x0d)) or c == 0x7f]
own = [l for l in t.split(b"\n") if l.startswith(b"**RESULT: ") and l.endswith(b"**")]
sys.exit(1 if bad or b"<details>" in t or b"<summary>" in t or t.count(b"**RESULT") > len(own)
         or len(own) > 1 or b"@team" in t else 0)
EOF
}

"$T" convert --model synthetic:tiny --quant q8_0 --out "$tmp/ok.gguf" >/dev/null 2>"$tmp/err" &&
    python3 tests/fixtures/escape/gguf-rename.py "$tmp/ok.gguf" "$tmp/evil.gguf" "$EVIL" ||
    { fail escape_setup "$(tail -2 "$tmp/err")"; exit 0; }

# HTML: no raw <details> or <summary> and no control byte (** and @ mean nothing there)
html_clean() {
    python3 - "$1" <<'EOF'
import sys
t = open(sys.argv[1], "rb").read()
bad = [c for c in t if (c < 0x20 and c not in (0x0a, 0x09, 0x0d)) or c == 0x7f]
sys.exit(1 if bad or b"<details>" in t or b"<summary>" in t else 0)
EOF
}

# ---- inspect: the name line ----
"$T" inspect "$tmp/evil.gguf" >"$tmp/inspect.txt" 2>&1
if term_clean "$tmp/inspect.txt" && grep -q '^model         evil\\n\*\*RESULT' "$tmp/inspect.txt"; then
    ok escape_inspect
else fail escape_inspect "$(head -2 "$tmp/inspect.txt" | cat -v)"; fi

# ---- bench: table, CSV, JSON, JSONL ----
Q=(--model "$tmp/evil.gguf" --quant q8_0 -t 1 -p 4 -n 2 -r 2 --warmup 0 --no-accuracy --power none)
for f in table csv json jsonl; do
    "$T" bench "${Q[@]}" --format $f >"$tmp/b.$f" 2>"$tmp/b.$f.err"
done
if term_clean "$tmp/b.table" && term_clean "$tmp/b.table.err"; then ok escape_bench_table
else fail escape_bench_table "$(grep -a model_name "$tmp/b.table" | cat -v)"; fi
if python3 - "$tmp/b.csv" "$tmp/b.json" "$tmp/b.jsonl" "$EVIL" <<'EOF'
import csv, json, sys
evil = sys.argv[4]
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert rows[0]["model_name"] == evil, repr(rows[0]["model_name"])
j = json.load(open(sys.argv[2]))
assert j[0]["model_name"] == evil and j[0]["model_type"].startswith(evil)
for line in open(sys.argv[3]):
    assert json.loads(line)["model_name"] == evil
EOF
then ok escape_bench_csv_json_exact
else fail escape_bench_csv_json_exact "the name did not round-trip"; fi

# ---- sweep: progress lines and JSONL; two files for compare ----
S=(--profile none "${Q[@]:0:6}" -n 2 -r 2 --warmup 0 --no-accuracy --power none --kernel naive,tiled)
"$T" sweep "${S[@]}" -o "$tmp/a.csv" --format jsonl >"$tmp/s.jsonl" 2>"$tmp/s.err"
"$T" sweep "${S[@]}" -o "$tmp/b.csv" >/dev/null 2>&1
if term_clean "$tmp/s.err" && [ "$(wc -l <"$tmp/s.jsonl")" -eq 2 ]; then ok escape_sweep_progress
else fail escape_sweep_progress "$(cat -v "$tmp/s.err" | head -3)"; fi

# the CSV's own strings too: board, kind, CPU, status detail (one row made to crash)
python3 - "$tmp/a.csv" "$tmp/b.csv" "$EVIL" <<'EOF'
import csv, sys
evil = sys.argv[3]
for path in sys.argv[1:3]:
    rows = list(csv.reader(open(path, newline="")))
    col = {c: i for i, c in enumerate(rows[0])}
    for r in rows[1:]:
        for c in ("board", "board_kind", "cpu_info"):
            r[col[c]] = evil
    if path == sys.argv[2]:
        rows[2][col["status"]], rows[2][col["status_detail"]] = "crashed", evil
    csv.writer(open(path, "w", newline=""), lineterminator="\n").writerows(rows)
EOF

# ---- compare: table, Markdown, CSV, JSON ----
for f in table md csv json; do
    "$T" compare "$tmp/a.csv" "$tmp/b.csv" --format $f -o "$tmp/c.$f" 2>"$tmp/c.$f.err"
    echo $? >"$tmp/c.$f.rc"
done
if term_clean "$tmp/c.table" && term_clean "$tmp/c.table.err" && [ "$(cat "$tmp/c.table.rc")" = 1 ] &&
    grep -q '^RESULT: REGRESSION$' "$tmp/c.table"; then ok escape_compare_table
else fail escape_compare_table "exit $(cat "$tmp/c.table.rc"): $(head -4 "$tmp/c.table" | cat -v)"; fi
if markup_clean "$tmp/c.md" && grep -q '^\*\*RESULT: REGRESSION\*\*$' "$tmp/c.md"; then ok escape_compare_markdown
else fail escape_compare_markdown "$(grep -a -n 'RESULT\|details' "$tmp/c.md" | head -5 | cat -v)"; fi
if python3 - "$tmp/c.csv" "$tmp/c.json" "$EVIL" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert rows and rows[0]["model_name"] == sys.argv[3], repr(rows[0]["model_name"])
assert any(sys.argv[3] in r["note"] for r in rows), "the crash detail"
json.load(open(sys.argv[2]))
EOF
then ok escape_compare_csv_json
else fail escape_compare_csv_json "CSV/JSON report"; fi

# ---- fit: table, Markdown, CSV ----
for f in table md csv; do
    "$T" fit --ram 1G --results "$tmp/a.csv" --model "$EVIL" --format $f -o "$tmp/f.$f" 2>"$tmp/f.$f.err"
done
if term_clean "$tmp/f.table" && term_clean "$tmp/f.table.err" && markup_clean "$tmp/f.md" &&
    grep -q '^model evil\\n\*\*RESULT' "$tmp/f.table" && python3 -c \
    'import csv,sys; list(csv.reader(open(sys.argv[1])))' "$tmp/f.csv"; then ok escape_fit
else fail escape_fit "$(head -3 "$tmp/f.table" | cat -v) / $(head -2 "$tmp/f.table.err" | cat -v)"; fi

# ---- report: Markdown and HTML ----
"$T" report "$tmp/a.csv" "$tmp/b.csv" -o "$tmp/rep" >"$tmp/r.out" 2>"$tmp/r.err"
if [ -s "$tmp/rep/summary.md" ] && markup_clean "$tmp/rep/summary.md" &&
    html_clean "$tmp/rep/summary.html" && term_clean "$tmp/r.out" && term_clean "$tmp/r.err"; then
    ok escape_report
else fail escape_report "$(grep -a -n 'RESULT\|<details' "$tmp/rep/summary.md" "$tmp/rep/summary.html" 2>&1 | head -3 | cat -v)"; fi
