#!/usr/bin/env bash
# t-hostile.sh — `tlbench inspect` on damaged model files: a GGUF written by `tlbench convert`
# and the shared llama2.c stories260K.bin, each bent at the byte level (magic, version, counts,
# lengths, truncation, header lies). Every one must exit 1 with one error line naming the file
# (never a crash); the intact files must exit 0. The per-class GGUF attacks are in test-gguf.c.
# Usage: tests/t-hostile.sh BUILD_DIR
build=${1:-build}
bin=$build/tlbench
if [ ! -x "$bin" ]; then echo "skip hostile: $bin is not built"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME FILE: inspect exits 1 with a message naming FILE
expect_bad() {
    local name=$1 file=$2
    "$bin" inspect "$file" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne 1 ]; then
        echo "FAIL $name: inspect exited $rc (expected 1): $(head -c 300 "$tmp/err")"
    elif ! grep -q "tlbench: .*$file" "$tmp/err"; then
        echo "FAIL $name: no error line naming $file: $(head -c 300 "$tmp/err")"
    elif grep -qiE 'internal error|sanitizer|runtime error' "$tmp/err"; then
        echo "FAIL $name: $(head -c 300 "$tmp/err")"
    else
        echo "ok $name"
    fi
}

# patch SRC DST OFFSET BYTES(printf format): a copy of SRC with bytes replaced at OFFSET
patch() {
    cp "$1" "$2" && printf "$4" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}

ok="$tmp/ok.gguf"
if ! "$bin" convert --model synthetic:tiny --quant q8_0 --out "$ok" 2>"$tmp/err"; then
    echo "FAIL hostile_setup: convert failed: $(head -c 300 "$tmp/err")"
    exit 1
fi
if "$bin" inspect "$ok" >/dev/null 2>"$tmp/err"; then echo "ok inspect_valid_gguf"
else echo "FAIL inspect_valid_gguf: $(head -c 300 "$tmp/err")"; fi
size=$(stat -c %s "$ok")

patch "$ok" "$tmp/magic.gguf" 0 'GGUX';                    expect_bad gguf_bad_magic "$tmp/magic.gguf"
patch "$ok" "$tmp/v1.gguf" 4 '\x01\x00\x00\x00';           expect_bad gguf_version_1 "$tmp/v1.gguf"
patch "$ok" "$tmp/v4.gguf" 4 '\x04\x00\x00\x00';           expect_bad gguf_version_4 "$tmp/v4.gguf"
patch "$ok" "$tmp/be.gguf" 4 '\x00\x00\x00\x03';           expect_bad gguf_big_endian "$tmp/be.gguf"
patch "$ok" "$tmp/nt.gguf" 8 '\xff\xff\xff\xff\xff\xff\xff\xff';  expect_bad gguf_tensor_count "$tmp/nt.gguf"
patch "$ok" "$tmp/nkv.gguf" 16 '\x00\x00\x00\x00\x01\x00\x00\x00'; expect_bad gguf_kv_count "$tmp/nkv.gguf"
patch "$ok" "$tmp/klen.gguf" 24 '\xf0\xff\xff\xff\xff\xff\xff\x7f'; expect_bad gguf_key_length "$tmp/klen.gguf"
# the first key's value type (after the 8-byte length and "general.architecture")
patch "$ok" "$tmp/vt.gguf" 52 '\x2a\x00\x00\x00';          expect_bad gguf_value_type "$tmp/vt.gguf"
# "llama" -> "llamb": an architecture tlbench does not run
patch "$ok" "$tmp/arch.gguf" 68 'b';                      expect_bad gguf_architecture "$tmp/arch.gguf"
for n in 0 3 24 100 1000 $((size / 2)) $((size - 1)); do
    head -c "$n" "$ok" >"$tmp/trunc$n.gguf"
    expect_bad "gguf_truncated_$n" "$tmp/trunc$n.gguf"
done

bin260=${TLBENCH_DATA:-../shared/data}/stories260K/stories260K.bin
if [ -f "$bin260" ]; then
    cp "$bin260" "$tmp/s.bin"
    if "$bin" inspect "$tmp/s.bin" >/dev/null 2>"$tmp/err"; then echo "ok inspect_valid_llama2c"
    else echo "FAIL inspect_valid_llama2c: $(head -c 300 "$tmp/err")"; fi
    bsize=$(stat -c %s "$bin260")
    for n in 0 27 28 $((bsize / 2)) $((bsize - 1)); do
        head -c "$n" "$bin260" >"$tmp/t$n.bin"
        expect_bad "llama2c_truncated_$n" "$tmp/t$n.bin"
    done
    patch "$bin260" "$tmp/dim.bin" 0 '\x00\x01\x00\x00';    expect_bad llama2c_dim_lie "$tmp/dim.bin"
    patch "$bin260" "$tmp/heads.bin" 12 '\x07\x00\x00\x00'; expect_bad llama2c_heads_lie "$tmp/heads.bin"
    patch "$bin260" "$tmp/kv.bin" 16 '\x00\x00\x00\x00';    expect_bad llama2c_kv_heads_zero "$tmp/kv.bin"
    patch "$bin260" "$tmp/voc.bin" 20 '\x00\x00\x00\x80';   expect_bad llama2c_vocab_int_min "$tmp/voc.bin"
    patch "$bin260" "$tmp/seq.bin" 24 '\xff\xff\xff\x7f';   expect_bad llama2c_seq_len_lie "$tmp/seq.bin"
else
    echo "skip hostile_llama2c: needs $bin260 (shared data absent)"
fi
