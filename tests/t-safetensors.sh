#!/usr/bin/env bash
# t-safetensors.sh — safetensors checkpoints through the CLI: the committed micro fixtures
# (tests/fixtures/safetensors, written by test-safetensors) run with `tlbench generate`, named as
# a directory, a .safetensors file, config.json or the index; hostile ones exit 1 with one error
# line naming the file at fault, from `generate` and (when present) `inspect`. $1 = build dir.
set -u
B=${1:-build}; T="$B/tlbench"
F=tests/fixtures/safetensors
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }

if [ ! -d "$F/micro" ]; then
    echo "skip safetensors_cli: $F/micro not found (run from the repository root)"; exit 0
fi
if "$T" generate --model "$F/micro" --steps 1 --temp 0 2>&1 >/dev/null | grep -q "libcjson-dev"; then
    echo "skip safetensors_cli: this build has no cJSON (libcjson-dev)"; exit 0
fi

# Valid checkpoints: 6 greedy ids from every form of the spec, all the same.
run_ids() { "$T" generate --model "$1" --steps 6 --temp 0 2>"$tmp/err"; }
ref=$(run_ids "$F/micro")
if [ "$(echo "$ref" | wc -w)" -ge 1 ] && echo "$ref" | grep -Eq '^[0-9 ]+$'; then ok st_generate_micro_dir
else fail st_generate_micro_dir "no ids: '$ref' $(head -c 200 "$tmp/err")"; fi
for spec in "$F/micro/model.safetensors" "$F/micro/config.json"; do
    n=st_generate_$(basename "$spec" | tr '.' '_')
    got=$(run_ids "$spec")
    [ "$got" = "$ref" ] && ok "$n" || fail "$n" "ids '$got' differ from the directory's '$ref'"
done
# the sharded BF16 copy holds the same values (exact in bf16): same greedy ids
for spec in "$F/micro-sharded-bf16" "$F/micro-sharded-bf16/model.safetensors.index.json"; do
    n=st_generate_sharded_$(basename "$spec" | tr '.-' '__')
    got=$(run_ids "$spec")
    [ "$got" = "$ref" ] && ok "$n" || fail "$n" "ids '$got' differ from the F32 model's '$ref'"
done
got=$("$T" generate --model "$F/micro" --steps 6 --temp 0 --quant q8_0 2>"$tmp/err")
[ -n "$got" ] && ok st_generate_quant_q8_0 || fail st_generate_quant_q8_0 "$(head -c 200 "$tmp/err")"

# Hostile checkpoints: exit 1, exactly one stderr line naming the file and the problem.
expect_error() { # name pattern file args...
    local name=$1 pat=$2 file=$3; shift 3
    "$T" "$@" >"$tmp/o" 2>"$tmp/e"; local rc=$?
    local lines; lines=$(wc -l <"$tmp/e")
    if [ $rc -ne 1 ]; then fail "$name" "exit $rc, wanted 1: $(head -c 200 "$tmp/e")"
    elif ! grep -q -- "$pat" "$tmp/e"; then fail "$name" "message lacks '$pat': $(head -c 200 "$tmp/e")"
    elif ! grep -q -- "$file" "$tmp/e"; then fail "$name" "message does not name $file: $(head -c 200 "$tmp/e")"
    elif [ "$lines" -ne 1 ]; then fail "$name" "$lines lines on stderr, wanted 1: $(head -c 300 "$tmp/e")"
    else ok "$name"; fi
}
cmds="generate"
"$T" inspect --help >/dev/null 2>&1 && cmds="generate inspect"
for cmd in $cmds; do
    expect_error st_${cmd}_header_length "over the 100000000-byte limit" model.safetensors \
        $cmd --model "$F/bad-header-length"
    expect_error st_${cmd}_overlap "overlap" model.safetensors $cmd --model "$F/bad-offsets-overlap"
    expect_error st_${cmd}_shape_overflow "overflows" model.safetensors \
        $cmd --model "$F/bad-shape-overflow"
    expect_error st_${cmd}_dtype "dtype I8" model.safetensors $cmd --model "$F/bad-dtype-i8"
    expect_error st_${cmd}_config_types "must be a positive integer" config.json \
        $cmd --model "$F/bad-cfg-string-int"
    expect_error st_${cmd}_traversal "refused" model.safetensors.index.json \
        $cmd --model "$F/bad-traversal"
done
mkdir "$tmp/empty"
expect_error st_generate_no_config "cannot open" config.json generate --model "$tmp/empty/config.json"
echo '{}' >"$tmp/empty/config.json"
expect_error st_generate_no_weights "no model.safetensors" empty generate --model "$tmp/empty"
