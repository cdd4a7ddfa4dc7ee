#!/usr/bin/env bash
# t-report.sh — `tlbench report` end to end: charts (valid PNG and well-formed SVG) and the
# summary (Markdown + self-contained HTML5) from one board, from two boards with power and a
# kernels CSV, and from a sweep run now; a hostile CSV (system(), backticks, quotes,
# newlines, <script>) runs nothing and is escaped everywhere; a missing gnuplot is a clear
# error that still writes the tables; bad options; a headless-chromium render of the page
# (skipped loudly without chromium). The fixtures are synthetic (tests/fixtures/report/).
# $1 = build dir.
set -u
B=${1:-build}; T="$(cd "$(dirname "$B/tlbench")" && pwd)/tlbench"
F=tests/fixtures/report
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
have_py=0; command -v python3 >/dev/null && have_py=1

# check_charts DIR NAME... : every NAME has a PNG (signature + IHDR, > 2 KB) and a
# well-formed SVG; prints the first problem.
check_charts() {
    local dir=$1; shift
    for n in "$@"; do
        local png="$dir/charts/$n.png" svg="$dir/charts/$n.svg"
        [ -s "$png" ] || { echo "$n.png missing"; return 1; }
        [ -s "$svg" ] || { echo "$n.svg missing"; return 1; }
        [ "$(stat -c %s "$png")" -gt 2048 ] || { echo "$n.png only $(stat -c %s "$png") bytes"; return 1; }
        [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
            || { echo "$n.png: not a PNG signature"; return 1; }
        [ "$(head -c 16 "$png" | tail -c 4)" = IHDR ] || { echo "$n.png: no IHDR"; return 1; }
        if [ $have_py = 1 ]; then
            python3 - "$png" "$svg" <<'EOF' || { echo "$n: $(cat "$tmp/pyerr")"; return 1; }
import struct, sys, xml.etree.ElementTree as ET
d = open(sys.argv[1], "rb").read(32)
w, h = struct.unpack(">II", d[16:24])
if not (100 <= w <= 10000 and 100 <= h <= 10000):
    open("/dev/stderr", "w").write("bad PNG size %dx%d\n" % (w, h)); sys.exit(1)
root = ET.parse(sys.argv[2]).getroot()
if not root.tag.endswith("svg"):
    sys.exit(1)
EOF
        fi
    done
}

# HTML5 sanity: doctype, charset, every non-void element closed in order, no script,
# no external resource (src/href other than data: URIs, anchors and charts/ links).
check_html() {
    [ $have_py = 1 ] || return 0
    python3 - "$1" <<'EOF'
import sys
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
if not text.startswith("<!DOCTYPE html>"):
    print("no <!DOCTYPE html>"); sys.exit(1)
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.err = None; self.ids = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script": self.err = self.err or "a <script> element"
        if "id" in a:
            if a["id"] in self.ids: self.err = self.err or "duplicate id " + a["id"]
            self.ids.add(a["id"])
        for k in ("src", "href"):
            v = a.get(k)
            if v and not (v.startswith("data:image/png;base64,") or v.startswith("#") or v.startswith("charts/")):
                self.err = self.err or "external %s=%.60s" % (k, v)
        if any(k.startswith("on") for k in a): self.err = self.err or "event handler attribute"
        if tag not in VOID: self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.err = self.err or "</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing")
        else: self.stack.pop()
p = P(); p.feed(text); p.close()
if p.err or p.stack:
    print(p.err or "unclosed " + " ".join(p.stack)); sys.exit(1)
if "tlbench-report" not in p.ids:
    print("no #tlbench-report"); sys.exit(1)
EOF
}

ALL7=(decode-threads prefill-threads quant-kernel decode-depth memory accuracy-memory kernels-roofline)

# ---- one board (no power), kernels CSV by option ----
"$T" report "$F/x86.csv" --kernels-csv "$F/kernels-x86.csv" -o "$tmp/one" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q "^report: $tmp/one/summary.html (7 of 7 charts drawn" "$tmp/out"; then ok report_one_board_exit
else fail report_one_board_exit "exit $rc: $(cat "$tmp/out" "$tmp/err" | head -5)"; fi
why=$(check_charts "$tmp/one" "${ALL7[@]}") && ok report_one_board_charts_valid || fail report_one_board_charts_valid "$why"
[ ! -e "$tmp/one/charts/energy.png" ] && grep -q 'no row has power measurements' "$tmp/one/summary.md" \
    && grep -q 'no row has power measurements' "$tmp/one/summary.html" \
    && ok report_no_power_says_so || fail report_no_power_says_so "energy chart drawn or no note"
why=$(check_html "$tmp/one/summary.html") && ok report_html_valid || fail report_html_valid "$why"
n_img=$(grep -o '<img [^>]*src="data:image/png;base64,' "$tmp/one/summary.html" | wc -l)
[ "$n_img" -eq 7 ] && ok report_html_embeds_charts || fail report_html_embeds_charts "$n_img embedded PNGs"
grep -q '^| 1 | QEMU Standard PC (Q35 + ICH9, 2009) | q4\\_0, avx512, 2 threads | 38.5 ± 0.4 |' "$tmp/one/summary.md" \
    && ok report_ranking_best_config || fail report_ranking_best_config "$(grep -A3 'Under 2 GiB' "$tmp/one/summary.md" | tail -1)"
# every chart names the board, the model, the date and the tlbench version
bad=""
for n in "${ALL7[@]}"; do
    grep -q "QEMU Standard PC (Q35 + ICH9, 2009).*model tinyllama-1.1b .*2026-11-27 | tlbench 0.1.0" \
        "$tmp/one/charts/$n.gp" || bad="$bad $n"
done
# the roofline names the machine of the kernels CSV instead
bad=${bad/ kernels-roofline/}
grep -q "'CPU AMD EPYC'.*model tinyllama-1.1b .*2026-11-27 | tlbench 0.1.0" "$tmp/one/charts/kernels-roofline.gp" \
    || bad="$bad kernels-roofline"
[ -z "$bad" ] && ok report_chart_titles || fail report_chart_titles "missing in:$bad"
grep -q 'with yerrorlines' "$tmp/one/charts/decode-threads.gp" && grep -q 'histogram errorbars' "$tmp/one/charts/quant-kernel.gp" \
    && ok report_error_bars || fail report_error_bars "no error bars"
grep -q "set arrow 1 from graph 0, first 1 " "$tmp/one/charts/memory.gp" && grep -q "'8 GiB budget'" "$tmp/one/charts/memory.gp" \
    && ok report_budget_lines || fail report_budget_lines "$(grep -c arrow "$tmp/one/charts/memory.gp") arrows"

# ---- two boards: rpi5 with power, kernels CSV among the inputs, prices ----
"$T" report "$F/x86.csv" "$F/rpi5.csv" "$F/kernels-x86.csv" --price 'QEMU Standard PC (Q35 + ICH9, 2009)=1200' \
    --ram-budget 1,4G --title 'Board choice <2026>' -o "$tmp/two" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && grep -q "(8 of 8 charts drawn" "$tmp/out"; then ok report_two_boards_exit
else fail report_two_boards_exit "exit $rc: $(cat "$tmp/out" "$tmp/err" | head -5)"; fi
why=$(check_charts "$tmp/two" "${ALL7[@]}" energy) && ok report_two_boards_charts_valid || fail report_two_boards_charts_valid "$why"
grep -q "title 'Raspberry Pi 5 Model B Rev 1.0'" "$tmp/two/charts/memory.gp" \
    && grep -q "title 'QEMU Standard PC (Q35 + ICH9, 2009)'" "$tmp/two/charts/memory.gp" \
    && ok report_series_per_board || fail report_series_per_board "memory chart lacks a board series"
md="$tmp/two/summary.md"
if grep -q '^### Under 1 GiB of RAM' "$md" && grep -q '^### Under 4 GiB of RAM' "$md" \
    && ! grep -q '^### Under 2 GiB' "$md"; then ok report_ram_budget_option
else fail report_ram_budget_option "$(grep '^### Under' "$md")"; fi
# rpi5: 12.4 t/s for 80 USD (profile price) = 0.155 t/s per USD, 1.90 tokens/J; x86 priced by --price
grep -q '^| 2 | Raspberry Pi 5 Model B Rev 1.0 | q4\\_0, neon, 4 threads | 12.4 ± 0.1 | .* | 1.90 | 80 USD | 0.155 |$' "$md" \
    && grep -q '^| 1 | QEMU Standard PC (Q35 + ICH9, 2009) | .* | 1200 USD | 0.032 |$' "$md" \
    && ok report_ranking_tokens_per_usd || fail report_ranking_tokens_per_usd "$(grep -A4 'Under 4 GiB' "$md" | tail -2)"
grep -q '^# Board choice &lt;2026&gt;$' "$md" && grep -q '<h1>Board choice &lt;2026&gt;</h1>' "$tmp/two/summary.html" \
    && ok report_title_option || fail report_title_option "$(head -1 "$md")"
why=$(check_html "$tmp/two/summary.html") && ok report_two_boards_html_valid || fail report_two_boards_html_valid "$why"
grep -q 'rpi-pmic (board-pmic)' "$tmp/two/charts/energy.gp" && ok report_energy_names_power_source \
    || fail report_energy_names_power_source "no power source in the energy chart"

# ---- a sweep run now (the writer's current output) ----
"$T" sweep --profile none --model synthetic:tiny --quant f32,q4_0 --kernel tiled -t 1 --ctx 0,8 \
    -p 4 -n 2 -r 2 --warmup 0 --power none --kv-type f32 -o "$tmp/sweep.csv" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -ne 0 ]; then fail report_fresh_sweep "sweep exit $rc: $(tail -2 "$tmp/err")"
else
    "$T" report "$tmp/sweep.csv" -o "$tmp/fresh" >"$tmp/out" 2>"$tmp/err"; rc=$?
    why=$(check_charts "$tmp/fresh" decode-threads prefill-threads quant-kernel decode-depth memory accuracy-memory)
    if [ $rc -eq 0 ] && [ -z "$why" ] && grep -q 'model tiny' "$tmp/fresh/charts/memory.gp"; then ok report_fresh_sweep
    else fail report_fresh_sweep "exit $rc, $why: $(head -3 "$tmp/err")"; fi
    # "By weight type" gives decode's share of the memory's level (tg_pct_mem_bw): a tiny
    # model's rows have none ("-"); with every row's set to 93.4 the column says 93%
    if [ $have_py = 1 ]; then
        python3 - "$tmp/sweep.csv" "$tmp/pct.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
c = rows[0].index("tg_pct_mem_bw")
for r in rows[1:]:
    r[c] = "93.4"
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)
EOF
        "$T" report "$tmp/pct.csv" -o "$tmp/pct" >/dev/null 2>&1
        n_pct=$(grep -c '^| q4\\_0 | tiled[^|]* | 1 | [^|]* | 93% |' "$tmp/pct/summary.md" 2>/dev/null)
        n_none=$(grep -c '^| q4\\_0 | tiled[^|]* | 1 | [^|]* | \\- |' "$tmp/fresh/summary.md" 2>/dev/null)
        if [ "$n_pct" = 1 ] && [ "$n_none" = 1 ]; then ok report_decode_share_of_memory
        else fail report_decode_share_of_memory "rows with 93%: $n_pct, with -: $n_none (want 1 and 1): $(grep '^| q4' "$tmp/pct/summary.md" | head -2)"; fi
    fi
fi

# ---- hostile CSV: labels that try to run commands or inject markup ----
if [ $have_py = 1 ]; then
    python3 - "$F/x86.csv" "$tmp/hostile.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
col = {c: i for i, c in enumerate(rows[0])}
evil = ('system("touch PWNED")`touch PWNED`\'; $(touch PWNED) \\ @x #c\n<script>alert(1)</script>'
        ' & "q" ' + "A" * 3000)
for i, r in enumerate(rows[1:]):
    r[col["board"]] = evil
    r[col["model_name"]] = 'm<script>x</script>`touch PWNED`\n"); system("touch PWNED'
    r[col["board_kind"]] = '../../x"; system("touch PWNED")'
    r[col["cpu_info"]] = "<img src=x onerror=alert(1)>"
    r[col["tlbench_version"]] = "1`touch PWNED`"
    if i % 3 == 0:
        r[col["kernel"]] = "k'; system(\"touch PWNED\"); print '"
    if i == 5:
        r[col["status"]], r[col["status_detail"]] = "crashed", "<script>boom</script>"
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(rows)
EOF
    mkdir -p "$tmp/hostile-cwd"
    (cd "$tmp/hostile-cwd" && "$T" report ../hostile.csv -o out) >"$tmp/out" 2>"$tmp/err"; rc=$?
    pwned=$(find "$tmp" -name 'PWNED*' | head -1)
    html="$tmp/hostile-cwd/out/summary.html"
    if [ $rc -eq 0 ] && grep -q '(6 of 6 charts drawn' "$tmp/out" && [ -z "$pwned" ]; then ok report_hostile_runs_nothing
    else fail report_hostile_runs_nothing "exit $rc, PWNED='$pwned': $(head -3 "$tmp/err")"; fi
    if [ -s "$html" ] && ! grep -qi '<script\|<img src=x' "$html" && grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$html" \
        && ! grep -qi '<script\|<img' "$tmp/hostile-cwd/out/summary.md"; then ok report_hostile_escaped
    else fail report_hostile_escaped "unescaped markup in the page"; fi
    why=$(check_html "$html") && ok report_hostile_html_valid || fail report_hostile_html_valid "$why"
    if grep -l '`\|\$(' "$tmp/hostile-cwd/out/charts/"*.gp "$tmp/hostile-cwd/out/charts/"*.tsv >/dev/null 2>&1; then
        fail report_hostile_scripts_clean "a backtick or \$( reached a gnuplot file"
    else ok report_hostile_scripts_clean; fi
else
    echo "skip report_hostile: python3 is needed to write the hostile CSV"
fi

# ---- one row per configuration; noisy, invalid and synthetic said; no ranking inside the noise ----
if [ $have_py = 1 ]; then
    python3 - "$F/x86.csv" "$tmp/dup.csv" "$tmp/tie.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
col = {c: i for i, c in enumerate(rows[0])}
def find(w, k, t, d):
    for r in rows[1:]:
        if (r[col["weight_type"]], r[col["kernel"]], r[col["n_threads"]], r[col["n_depth"]]) == (w, k, t, d):
            return r
best = find("q4_0", "avx512", "2", "0")
# the same configuration twice: first 10x slower, then the real one (appended runs)
early = list(best); early[col["tg_ts_median"]] = str(float(best[col["tg_ts_median"]]) / 10)
out = [rows[0]] + [early] + rows[1:]
noisy = find("q8_0", "avx512", "2", "0"); noisy[col["noisy"]] = "1"
inv = find("q4_0", "tiled", "2", "0"); inv[col["status"]] = "invalid"
inv[col["status_detail"]] = "throttled while measuring"; inv[col["tg_ts_median"]] = "999"
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows(out)
# a second board 2 % slower than the first: a tie, not a ranking
two = [rows[0]] + rows[1:]
for r in rows[1:]:
    s = list(r); s[col["board"]] = "Twin Board"; s[col["board_label"] if "board_label" in col else col["board"]] = "Twin Board"
    s[col["tg_ts_median"]] = str(float(r[col["tg_ts_median"]]) * 0.98)
    two.append(s)
csv.writer(open(sys.argv[3], "w", newline=""), lineterminator="\n").writerows(two)
EOF
    "$T" report "$tmp/dup.csv" -o "$tmp/dup" >"$tmp/out" 2>"$tmp/err"; rc=$?
    md="$tmp/dup/summary.md"
    best=$(python3 -c 'import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if (x["weight_type"],x["kernel"],x["n_threads"],x["n_depth"])==("q4_0","avx512","2","0")]; print(round(float(r[-1]["tg_ts_median"]),1))' "$tmp/dup.csv")
    # the table and the chart both use the last row of the repeated configuration
    if [ $rc -eq 0 ] && grep -q 'rows repeat an earlier configuration' "$tmp/err" &&
       grep -q '1 rows repeat a configuration' "$md" && grep -q "q4\\\\_0, avx512, 2 threads | $best" "$md" &&
       awk -v b="$best" '$1 == 2 && ($2 - b < 0.05 && b - $2 < 0.05) { f = 1 } END { exit !f }' "$tmp/dup/charts/decode-threads.tsv"; then
        ok report_last_row_wins
    else fail report_last_row_wins "exit $rc, best $best: $(grep -a 'repeat' "$tmp/err" "$md" | head -2)"; fi
    # the invalid row (999 tokens/s, throttled) is charted with its flag, never ranked
    if grep -q 'avx512 (noisy)' "$md" && grep -q 'never ranked' "$md" &&
       awk -F'\t' '$2 == 999 && $4 == 1 { f = 1 } END { exit !f }' "$tmp/dup/charts/decode-threads.tsv" &&
       grep -q 'circled: noisy, invalid or shared cores' "$tmp/dup/charts/decode-threads.gp" &&
       grep -q "circled points were measured on a noisy" "$md" &&
       ! grep -q '^| 1 | .* q4\\_0, tiled' "$md"; then
        ok report_noisy_invalid_marked
    else fail report_noisy_invalid_marked "$(grep -a -n 'noisy\|invalid' "$md" | head -4)"; fi
    if grep -q 'synthetic weights' "$md" && grep -q 'Synthetic weights: ' "$md" &&
       grep -q 'synthetic weights' "$tmp/dup/charts/accuracy-memory.gp" 2>/dev/null; then
        ok report_says_synthetic
    else fail report_says_synthetic "$(grep -a -c synthetic "$md")"; fi
    "$T" report "$tmp/tie.csv" -o "$tmp/tie" >"$tmp/out" 2>"$tmp/err"; rc=$?
    md="$tmp/tie/summary.md"
    if [ $rc -eq 0 ] && grep -q 'decode at the same speed under .* within the noise' "$md" &&
       ! grep -q 'x the next board' "$md" && grep -q '^| 1 (tie) |\|^| 1 | .*\n| 1 (tie)' "$md"; then
        ok report_no_ranking_inside_noise
    else fail report_no_ranking_inside_noise "exit $rc: $(grep -a -n 'Speed:\|(tie)\|next board' "$md" | head -3)"; fi
else
    echo "skip report_last_row_wins: python3 is needed to write the CSVs"
fi

# ---- gnuplot missing: clear error naming the package, tables still written ----
PATH=/nonexistent TLBENCH_GNUPLOT= "$T" report "$F/x86.csv" -o "$tmp/nognu" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 1 ] && grep -q 'gnuplot not found: install the Debian package gnuplot-nox' "$tmp/err" \
    && grep -q '^### Under 2 GiB of RAM' "$tmp/nognu/summary.md" && [ -s "$tmp/nognu/summary.html" ] \
    && [ -s "$tmp/nognu/charts/memory.gp" ] && [ ! -e "$tmp/nognu/charts/memory.png" ] \
    && grep -q 'gnuplot was not found' "$tmp/nognu/summary.md"; then ok report_gnuplot_missing
else fail report_gnuplot_missing "exit $rc: $(cat "$tmp/err" | head -3)"; fi

# ---- bad input and usage ----
"$T" report "$tmp/none.csv" -o "$tmp/x" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "none.csv: cannot open" "$tmp/err" && ok report_missing_file || fail report_missing_file "exit $rc: $(cat "$tmp/err")"
"$T" report "$F/x86.csv" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- '-o DIR is required' "$tmp/err" && ok report_needs_output || fail report_needs_output "exit $rc: $(cat "$tmp/err")"
"$T" report "$F/x86.csv" -o "$tmp/x" --ram-budget 2X >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--ram-budget: '2X'" "$tmp/err" && ok report_bad_budget || fail report_bad_budget "exit $rc: $(cat "$tmp/err")"
"$T" report "$F/x86.csv" -o "$tmp/x" --price rpi5 >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--price: 'rpi5' is not BOARD=USD" "$tmp/err" && ok report_bad_price || fail report_bad_price "exit $rc: $(cat "$tmp/err")"
"$T" report "$F/x86.csv" -o "$tmp/x" --model nosuch >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "no measured row of model 'nosuch' in the inputs (models: tinyllama-1.1b)" "$tmp/err" \
    && ok report_unknown_model || fail report_unknown_model "exit $rc: $(cat "$tmp/err")"
"$T" report "$F/kernels-x86.csv" -o "$tmp/x" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "no results CSV among the inputs" "$tmp/err" && ok report_kernels_only || fail report_kernels_only "exit $rc: $(cat "$tmp/err")"
"$T" report --help >"$tmp/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q -- '--ram-budget LIST' "$tmp/out" && ok report_help || fail report_help "exit $rc"

# ---- the page in a real browser (headless chromium) ----
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    echo "skip report_chromium_render: chromium is not installed (apt-get install chromium; scripts/install-deps.sh lists it)"
else
    prof=$(mktemp -d); shot="$tmp/shot.png"
    C=("$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$prof")
    (cd "$tmp" && timeout 90 "${C[@]}" --screenshot="$shot" --window-size=1280,2000 "file://$tmp/two/summary.html") >/dev/null 2>&1
    timeout 90 "${C[@]}" --dump-dom "file://$tmp/two/summary.html" >"$tmp/dom.html" 2>/dev/null
    rm -rf "$prof"
    blank=1
    if [ -s "$shot" ] && [ $have_py = 1 ]; then
        # distinct bytes of the decompressed image data: a blank page has almost none
        n=$(python3 -c '
import struct, sys, zlib
d = open(sys.argv[1], "rb").read(); i = 8; idat = b""
while i < len(d):
    n = struct.unpack(">I", d[i:i+4])[0]; t = d[i+4:i+8]
    if t == b"IDAT": idat += d[i+8:i+8+n]
    i += 12 + n
print(len(set(zlib.decompress(idat))))' "$shot")
        [ "$(stat -c %s "$shot")" -gt 20000 ] && [ "$n" -gt 100 ] && blank=0
    elif [ -s "$shot" ] && [ "$(stat -c %s "$shot")" -gt 20000 ]; then blank=0; fi
    [ $blank = 0 ] && ok report_chromium_screenshot || fail report_chromium_screenshot "screenshot missing or blank ($(stat -c %s "$shot" 2>/dev/null) bytes)"
    if grep -q 'id="tlbench-report"' "$tmp/dom.html" && grep -q '<h2 id="ranking">' "$tmp/dom.html" \
        && [ "$(grep -o 'src="data:image/png;base64,' "$tmp/dom.html" | wc -l)" -eq 8 ]; then ok report_chromium_dom
    else fail report_chromium_dom "$(head -c 300 "$tmp/dom.html")"; fi
fi
