#!/usr/bin/env bash
# t-bounded-work.sh — the work done for an input file is bounded by its size, not its square:
# a safetensors index naming 200,000 distinct shards (6.4 MB) is deduplicated in n log n and
# refused at the first missing shard within seconds (the shard list was deduplicated by linear
# search: 100,000 entries took 53 s, a 64 MB index about 30 minutes). The limit below is 60 s,
# far above the seconds it takes, so a loaded machine does not fail it. (compare's sample cap:
# test-compare huge_sample_cells_capped.) $1 = build directory.
set -u
B=${1:-build}; T="$B/tlbench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
if ! "$T" inspect tests/fixtures/safetensors/micro >/dev/null 2>&1; then
    echo "skip bounded_safetensors_index: this build reads no safetensors (no cJSON)"; exit 0
fi
cp tests/fixtures/safetensors/micro-sharded-bf16/config.json "$tmp/"
awk -v n=200000 'BEGIN { printf "{\"metadata\": {}, \"weight_map\": {";
    for (i = 0; i < n; i++) printf "%s\"t%d\": \"s%07d.safetensors\"", (i ? ", " : ""), i, i;
    print "}}" }' >"$tmp/model.safetensors.index.json"
start=$EPOCHSECONDS
timeout -k 2 60 "$T" inspect "$tmp" >/dev/null 2>"$tmp/err"; rc=$?
took=$((EPOCHSECONDS - start))
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then fail bounded_safetensors_index "still working after 60 s"
elif [ $rc -ne 1 ] || ! grep -q 'names shard s0000000.safetensors, which is missing' "$tmp/err"; then
    fail bounded_safetensors_index "exit $rc after $took s: $(head -c 300 "$tmp/err")"
else ok bounded_safetensors_index; fi
