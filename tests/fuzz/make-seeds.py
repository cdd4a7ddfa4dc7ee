#!/usr/bin/env python3
"""make-seeds.py — writes the small seed files of tests/fuzz/corpus/<parser>/ (tiny valid GGUF
models and vocabularies, llama2.c checkpoints, tokenizer .bin / tokenizer.model files and
safetensors images). Standard library only; run from the repository root:
    python3 tests/fuzz/make-seeds.py
"""
import os
import struct

OUT = "tests/fuzz/corpus"


def w(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def val(i):
    return ((i * 2654435761) % 1000 - 500) / 1000.0


# ---- GGUF ----

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f",
          BOOL: "<B", U64: "<Q", I64: "<q", F64: "<d"}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gval(t, v):
    if t == STR:
        return gstr(v)
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gval(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def f16(x):
    return struct.pack("<e", x)


def q8_0_row(xs):
    out = b""
    for b in range(0, len(xs), 32):
        blk = xs[b:b + 32]
        amax = max(abs(x) for x in blk)
        d = amax / 127.0
        inv = 1.0 / d if d else 0.0
        out += f16(d) + bytes((round(x * inv) & 0xFF) for x in blk)
    return out


def gguf(kvs, tensors, align=32):
    """kvs: [(key, type, value)]; tensors: [(name, [ne...], ggml_type, bytes)]"""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        head += gstr(k) + struct.pack("<I", t) + gval(t, v)
    off, infos = 0, b""
    for name, ne, gt, data in tensors:
        infos += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", gt, off)
        off += (len(data) + align - 1) // align * align
    out = head + infos
    out += b"\0" * ((-len(out)) % align)
    for i, (_, _, _, data) in enumerate(tensors):
        out += data
        if i + 1 < len(tensors):
            out += b"\0" * ((-len(data)) % align)
    return out


def f32s(n, seed):
    return [val(i + seed * 7919) for i in range(n)]


def llama_kvs(dim, hidden, layers, heads, kv_heads, ctx, extra=()):
    return [("general.architecture", STR, "llama"), ("general.name", STR, "seed"),
            ("llama.embedding_length", U32, dim), ("llama.feed_forward_length", U32, hidden),
            ("llama.block_count", U32, layers), ("llama.attention.head_count", U32, heads),
            ("llama.attention.head_count_kv", U32, kv_heads), ("llama.context_length", U32, ctx),
            ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
            ("llama.rope.freq_base", F32, 10000.0),
            ("llama.rope.dimension_count", U32, dim // heads)] + list(extra)


def llama_tensors(dim, hidden, layers, kv, vocab, gt=0, tied=True):
    def mat(name, cols, rows, seed):
        xs = f32s(cols * rows, seed)
        if gt == 8:
            data = b"".join(q8_0_row(xs[r * cols:(r + 1) * cols]) for r in range(rows))
        elif gt == 1:
            data = b"".join(f16(x) for x in xs)
        else:
            data = struct.pack("<%df" % len(xs), *xs)
        return (name, [cols, rows], gt, data)

    def norm(name):
        return (name, [dim], 0, struct.pack("<%df" % dim, *([1.0] * dim)))

    t = [mat("token_embd.weight", dim, vocab, 1)]
    for l in range(layers):
        p = "blk.%d." % l
        t += [norm(p + "attn_norm.weight"), mat(p + "attn_q.weight", dim, dim, 2),
              mat(p + "attn_k.weight", dim, kv, 3), mat(p + "attn_v.weight", dim, kv, 4),
              mat(p + "attn_output.weight", dim, dim, 5), norm(p + "ffn_norm.weight"),
              mat(p + "ffn_gate.weight", dim, hidden, 6), mat(p + "ffn_up.weight", dim, hidden, 7),
              mat(p + "ffn_down.weight", hidden, dim, 8)]
    t.append(norm("output_norm.weight"))
    if not tied:
        t.append(mat("output.weight", dim, vocab, 9))
    return t


def vocab_kvs(n):
    pieces = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    merges = ["\u2581", "t", "h", "e", "\u2581t", "he", "\u2581the", "\u2581a", "o", "n", "ce"]
    pieces += merges[:max(0, n - len(pieces))]
    pieces += ["\u2581w%d" % i for i in range(len(pieces), n)]
    types = [2, 3, 3] + [6] * 256 + [1] * (n - 259)
    scores = [0.0] * 259 + [-float(i) for i in range(n - 259)]
    return [("tokenizer.ggml.model", STR, "llama"), ("tokenizer.ggml.pre", STR, "default"),
            ("tokenizer.ggml.tokens", ARR, (STR, pieces)),
            ("tokenizer.ggml.scores", ARR, (F32, scores)),
            ("tokenizer.ggml.token_type", ARR, (I32, types)),
            ("tokenizer.ggml.bos_token_id", U32, 1), ("tokenizer.ggml.eos_token_id", U32, 2),
            ("tokenizer.ggml.unknown_token_id", U32, 0),
            ("tokenizer.ggml.add_bos_token", BOOL, 1)]


def make_gguf():
    d = OUT + "/gguf/"
    w(d + "tiny-f32.gguf", gguf(llama_kvs(8, 16, 1, 2, 1, 16), llama_tensors(8, 16, 1, 4, 32)))
    w(d + "tiny-f16-untied.gguf",
      gguf(llama_kvs(8, 16, 1, 2, 2, 16), llama_tensors(8, 16, 1, 8, 16, gt=1, tied=False)))
    w(d + "tiny-q8_0.gguf", gguf(llama_kvs(32, 32, 1, 4, 2, 8), llama_tensors(32, 32, 1, 16, 16, gt=8)))
    w(d + "vocab-only.gguf", gguf([("general.architecture", STR, "llama")] + vocab_kvs(267), []))
    w(d + "tiny-with-vocab.gguf",
      gguf(llama_kvs(8, 16, 1, 2, 1, 16, vocab_kvs(262)), llama_tensors(8, 16, 1, 4, 262)))
    every = [("k.%s" % n, t, v) for n, t, v in [
        ("u8", U8, 1), ("i8", I8, -1), ("u16", U16, 2), ("i16", I16, -2), ("u32", U32, 3),
        ("i32", I32, -3), ("f32", F32, 0.5), ("bool", BOOL, 1), ("str", STR, "x\ny"),
        ("u64", U64, 4), ("i64", I64, -4), ("f64", F64, 0.25),
        ("arr", ARR, (ARR, [(U8, [1, 2]), (STR, ["a", "b"])])),
        ("empty", ARR, (I32, []))]]
    w(d + "all-types.gguf", gguf([("general.alignment", U32, 64)] + every, []))


# ---- llama2.c checkpoints ----

def make_llama2c():
    def ckpt(dim, hidden, layers, heads, kv_heads, vocab, seq):
        hs, kv = dim // heads, dim // heads * kv_heads
        v = abs(vocab)
        n = (v * dim + layers * dim + layers * dim * dim + 2 * layers * kv * dim +
             layers * dim * dim + layers * dim + 3 * layers * hidden * dim + dim + seq * hs)
        if vocab < 0:
            n += v * dim
        return struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab, seq) + \
            struct.pack("<%df" % n, *f32s(n, 0))
    w(OUT + "/llama2c/tiny.bin", ckpt(8, 16, 1, 2, 1, 16, 4))
    w(OUT + "/llama2c/tiny-unshared.bin", ckpt(8, 12, 2, 4, 2, -8, 2))


# ---- tokenizer files ----

def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def pb_field(num, wire, payload):
    tag = varint(num << 3 | wire)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def make_tokenizer():
    pieces = ["<unk>", "\n<s>\n", "\n</s>\n"] + ["<0x%02X>" % b for b in range(256)] + \
             [" ", "t", "h", "e", "a", "o", "n", "c", " t", "he", " the", " a", "on", "ce", " on"]
    binf = struct.pack("<i", 7)
    for i, p in enumerate(pieces):
        b = p.encode()
        binf += struct.pack("<fi", 0.0 if i < 259 else -float(i), len(b)) + b
    w(OUT + "/tokenizer/tiny-tok.bin", binf)
    small = struct.pack("<i", 5)
    for i, p in enumerate(["<unk>", "a", "b", "ab"]):
        small += struct.pack("<fi", -float(i), len(p)) + p.encode()
    w(OUT + "/tokenizer/four-tok.bin", small)
    model = b""
    for i, p in enumerate(pieces):
        sp = p.strip("\n").replace(" ", "\u2581").encode()
        t = 2 if i == 0 else 3 if i < 3 else 6 if i < 259 else 1
        piece = pb_field(1, 2, sp) + pb_field(2, 5, struct.pack("<f", 0.0 if i < 259 else -float(i)))
        piece += pb_field(3, 0, varint(t))
        model += pb_field(1, 2, piece)
    trainer = pb_field(3, 0, varint(2)) + pb_field(35, 0, varint(1)) + \
        pb_field(40, 0, varint(0)) + pb_field(41, 0, varint(1)) + pb_field(42, 0, varint(2))
    normalizer = pb_field(1, 2, b"identity") + pb_field(3, 0, varint(1)) + pb_field(4, 0, varint(0))
    model += pb_field(2, 2, trainer) + pb_field(3, 2, normalizer)
    w(OUT + "/tokenizer/tiny.model", model)


# ---- safetensors ----

def make_safetensors():
    import json
    tensors = {"model.embed_tokens.weight": ("F32", [4, 8]), "model.norm.weight": ("BF16", [8]),
               "model.layers.0.self_attn.q_proj.weight": ("F16", [8, 8])}
    hdr, data = {"__metadata__": {"format": "pt"}}, b""
    for name, (dt, shape) in tensors.items():
        n = 1
        for s in shape:
            n *= s
        size = n * (4 if dt == "F32" else 2)
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += bytes((i * 7) & 0xFF for i in range(size))
    h = json.dumps(hdr).encode()
    h += b" " * ((-len(h)) % 8)
    w(OUT + "/safetensors/tiny.safetensors", struct.pack("<Q", len(h)) + h + data)
    cfg = {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 160,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "vocab_size": 512, "max_position_embeddings": 128, "rms_norm_eps": 1e-5,
           "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32"}
    w(OUT + "/safetensors/config.json", json.dumps(cfg, indent=2).encode())


if __name__ == "__main__":
    make_gguf()
    make_llama2c()
    make_tokenizer()
    make_safetensors()


# ---- CSV (compare / fit / report): the fixtures, and issue 12's hostile cases. A NUL byte
# splits an input into BASE and NEW for compare (see fuzz-csv.c).
def fixture(name, folder="tests/fixtures/csv"):
    with open(os.path.join(folder, name), "rb") as f:
        return f.read()


base = fixture("base.csv")
w(f"{OUT}/csv/base.csv", base)
w(f"{OUT}/csv/base-vs-regress.csv", base + b"\0" + fixture("new-regress.csv"))
w(f"{OUT}/csv/base-vs-hostile.csv", base + b"\0" + fixture("compare-hostile.csv"))
w(f"{OUT}/csv/fit-rows.csv", fixture("fit-rows.csv"))
w(f"{OUT}/csv/fit-hostile.csv", fixture("fit-hostile.csv"))
w(f"{OUT}/csv/fit-absurd.csv", fixture("fit-absurd.csv"))
w(f"{OUT}/csv/kernels.csv", fixture("kernels-x86.csv", "tests/fixtures/report"))
# one cell of 100,000 samples (compare bootstrapped it for minutes before the cap)
lines = base.split(b"\n")
header = lines[0].split(b",")
col = header.index(b"tg_samples_ts")
row = lines[1].split(b",")   # no quoted commas before this column in the fixture
row[col] = b";".join(b"%d" % (40 + i % 3) for i in range(100000))
w(f"{OUT}/csv/samples-100k.csv", b"\n".join([lines[0], b",".join(row)]) + b"\n")
