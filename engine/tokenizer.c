/* tokenizer.c — Llama 2 SentencePiece BPE tokenizer: vocabulary building (from a llama2.c
 * tokenizer .bin or in memory), encoding (run.c encode() semantics with a priority-queue merge
 * so 100 KB texts stay fast) and decoding (run.c decode()). The SentencePiece tokenizer.model
 * reader is in spm-model.c. */
#include "tokenizer.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "util.h"

#define MAX_VOCAB (1 << 24)     /* far above any real vocabulary; bounds hostile counts */
#define MAX_PIECE 65535         /* bytes in one piece (real pieces are < 100) */
#define MAX_FILE (256u << 20)   /* tokenizer files are a few MB at most */

struct tlb_tokenizer {
    int n_vocab;
    int bos, eos, unk;
    int add_dummy_prefix;
    char *pool;          /* every piece, spaces as ' ', each followed by a NUL */
    size_t *off;         /* piece i is pool[off[i] .. off[i] + len[i]) */
    uint32_t *len;
    float *scores;
    uint8_t *types;
    int byte_id[256];    /* token of each byte-fallback byte, -1 when absent */
    int32_t *hash;       /* open addressing over mergeable pieces: token id or -1 */
    size_t hash_mask;
    size_t max_piece;    /* longest mergeable piece: longer candidates are never looked up */
    unsigned char byte_chars[256]; /* decode of byte token b points at byte_chars[b] */
};

/* ---- small helpers ---- */

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* A byte-fallback piece is exactly "<0xHH>" (two hex digits); anything else ("<0x-1>",
 * "<0xZZ>", "<0x1>") is an ordinary piece. Returns the byte or -1. */
static int byte_piece_value(const char *p, size_t n) {
    if (n != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
    int hi = hexval(p[3]), lo = hexval(p[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static int mergeable(int type) { return type == TLB_TOK_NORMAL || type == TLB_TOK_USER_DEFINED; }

static int lookup(const struct tlb_tokenizer *t, const char *s, size_t n) {
    if (n == 0 || n > t->max_piece) return -1;
    for (size_t h = hash_bytes(s, n) & t->hash_mask;; h = (h + 1) & t->hash_mask) {
        int id = t->hash[h];
        if (id < 0) return -1;
        if (t->len[id] == n && !memcmp(t->pool + t->off[id], s, n)) return id;
    }
}

/* Bytes a piece takes once U+2581 (E2 96 81) becomes ' '. */
static size_t normalised_len(const char *p, size_t n) {
    size_t out = 0;
    for (size_t i = 0; i < n; out++)
        i += (i + 2 < n && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 &&
              (unsigned char)p[i + 2] == 0x81) ? 3 : 1;
    return out;
}

static void copy_normalised(char *dst, const char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        if (i + 2 < n && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 &&
            (unsigned char)p[i + 2] == 0x81) {
            *dst++ = ' ';
            i += 3;
        } else {
            *dst++ = p[i++];
        }
    }
}

/* ---- building ---- */

void tlb_tokenizer_free(struct tlb_tokenizer *t) {
    if (!t) return;
    free(t->pool);
    free(t->off);
    free(t->len);
    free(t->scores);
    free(t->types);
    free(t->hash);
    free(t);
}

static int build_hash(struct tlb_tokenizer *t, const char *source) {
    size_t n_merge = 0;
    for (int i = 0; i < t->n_vocab; i++)
        if (mergeable(t->types[i]) && t->len[i] > 0) n_merge++;
    size_t size = 16;
    while (size < 2 * n_merge) size *= 2;
    t->hash = tlb_malloc(size * sizeof *t->hash, source);
    if (!t->hash) return -1;
    for (size_t i = 0; i < size; i++) t->hash[i] = -1;
    t->hash_mask = size - 1;
    t->max_piece = 0;
    for (int i = 0; i < t->n_vocab; i++) {
        if (!mergeable(t->types[i]) || t->len[i] == 0) continue;
        const char *p = t->pool + t->off[i];
        size_t h = hash_bytes(p, t->len[i]) & t->hash_mask;
        int dup = 0;
        for (; t->hash[h] >= 0; h = (h + 1) & t->hash_mask) {
            int o = t->hash[h];
            if (t->len[o] == t->len[i] && !memcmp(t->pool + t->off[o], p, t->len[i])) dup = 1;
            if (dup) break;
        }
        if (dup) continue; /* the lowest id of duplicate pieces wins */
        t->hash[h] = i;
        if (t->len[i] > t->max_piece) t->max_piece = t->len[i];
    }
    return 0;
}

int tlb_tokenizer_build(struct tlb_tokenizer **out, const char *source, int n_vocab,
                        const char *const *pieces, const size_t *piece_lens, const float *scores,
                        const int32_t *types, int bos_id, int eos_id,
                        const struct tlb_tokenizer_opts *opts) {
    *out = NULL;
    if (n_vocab < 1 || n_vocab > MAX_VOCAB) {
        tlb_error("%s: vocabulary size %d is out of range (1..%d)", source, n_vocab, MAX_VOCAB);
        return -1;
    }
    if (!pieces || !piece_lens || !scores) {
        tlb_error("%s: tokenizer vocabulary lacks pieces or scores", source);
        return -1;
    }
    if (bos_id < -1 || bos_id >= n_vocab || eos_id < -1 || eos_id >= n_vocab) {
        tlb_error("%s: BOS id %d / EOS id %d outside the vocabulary of %d", source, bos_id,
                  eos_id, n_vocab);
        return -1;
    }
    /* Validate everything and size the pool before allocating. */
    size_t pool_size = 0;
    for (int i = 0; i < n_vocab; i++) {
        if (piece_lens[i] > MAX_PIECE || (piece_lens[i] && !pieces[i])) {
            tlb_error("%s: token %d has a piece of %zu bytes (at most %d allowed)", source, i,
                      piece_lens[i], MAX_PIECE);
            return -1;
        }
        if (!isfinite(scores[i])) {
            tlb_error("%s: token %d has a non-finite score", source, i);
            return -1;
        }
        if (types && (types[i] < TLB_TOK_NORMAL || types[i] > TLB_TOK_BYTE)) {
            tlb_error("%s: token %d has unknown type %d (expected 1..6)", source, i,
                      (int)types[i]);
            return -1;
        }
        pool_size += normalised_len(pieces[i], piece_lens[i]) + 3; /* NUL + "\n..\n" room */
    }

    struct tlb_tokenizer *t = tlb_calloc(1, sizeof *t, source);
    if (!t) return -1;
    t->n_vocab = n_vocab;
    t->bos = bos_id;
    t->eos = eos_id;
    t->add_dummy_prefix = opts ? opts->add_dummy_prefix : 1;
    t->pool = tlb_malloc(pool_size, source);
    t->off = tlb_malloc((size_t)n_vocab * sizeof *t->off, source);
    t->len = tlb_malloc((size_t)n_vocab * sizeof *t->len, source);
    t->scores = tlb_malloc((size_t)n_vocab * sizeof *t->scores, source);
    t->types = tlb_malloc((size_t)n_vocab, source);
    if (!t->pool || !t->off || !t->len || !t->scores || !t->types) goto fail;
    for (int b = 0; b < 256; b++) {
        t->byte_id[b] = -1;
        t->byte_chars[b] = (unsigned char)b;
    }

    size_t pos = 0;
    int render = opts ? opts->render_special : 1;
    for (int i = 0; i < n_vocab; i++) {
        int special = render && (i == bos_id || i == eos_id);
        t->off[i] = pos;
        if (special) t->pool[pos++] = '\n';
        copy_normalised(t->pool + pos, pieces[i], piece_lens[i]);
        pos += normalised_len(pieces[i], piece_lens[i]);
        if (special) t->pool[pos++] = '\n';
        t->len[i] = (uint32_t)(pos - t->off[i]);
        t->pool[pos++] = '\0';
        t->scores[i] = scores[i];
        const char *p = t->pool + t->off[i];
        int type;
        if (types) type = types[i];
        else if (i == bos_id || i == eos_id) type = TLB_TOK_CONTROL;
        else if (t->len[i] == 5 && !memcmp(p, "<unk>", 5)) type = TLB_TOK_UNKNOWN;
        else if (byte_piece_value(p, t->len[i]) >= 0) type = TLB_TOK_BYTE;
        else type = TLB_TOK_NORMAL;
        t->types[i] = (uint8_t)type;
        if (type == TLB_TOK_BYTE) {
            int b = byte_piece_value(p, t->len[i]);
            if (b < 0) {
                tlb_error("%s: token %d has type byte but its piece is not of the form <0xHH>",
                          source, i);
                goto fail;
            }
            if (t->byte_id[b] < 0) t->byte_id[b] = i;
        }
    }

    int unk = opts ? opts->unk_id : -2;
    if (unk == -2) {
        unk = -1;
        for (int i = 0; i < n_vocab && unk < 0; i++)
            if (t->types[i] == TLB_TOK_UNKNOWN) unk = i;
    } else if (unk < -1 || unk >= n_vocab) {
        tlb_error("%s: unknown-token id %d outside the vocabulary of %d", source, unk, n_vocab);
        goto fail;
    }
    t->unk = unk;
    if (unk < 0)
        for (int b = 0; b < 256; b++)
            if (t->byte_id[b] < 0) {
                tlb_error("%s: vocabulary has no <0x%02X> byte token and no unknown token, so "
                          "some text cannot be encoded", source, b);
                goto fail;
            }
    if (build_hash(t, source)) goto fail;
    *out = t;
    return 0;
fail:
    tlb_tokenizer_free(t);
    return -1;
}

int tlb_tokenizer_from_vocab(struct tlb_tokenizer **out, const char *source, int n_vocab,
                             const char *const *pieces, const size_t *piece_lens,
                             const float *scores, const int32_t *types, int bos_id, int eos_id) {
    struct tlb_tokenizer_opts o = {.unk_id = -2, .add_dummy_prefix = 1, .render_special = 1};
    return tlb_tokenizer_build(out, source, n_vocab, pieces, piece_lens, scores, types, bos_id,
                               eos_id, &o);
}

/* ---- llama2.c tokenizer .bin ---- */

static int32_t rd_i32(const unsigned char *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    int32_t s;
    memcpy(&s, &v, sizeof s);
    return s;
}

static float rd_f32(const unsigned char *p) {
    uint32_t v = (uint32_t)rd_i32(p);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

static int load_bin(struct tlb_tokenizer **out, const char *path, const unsigned char *d,
                    size_t n, int expected_vocab) {
    if (n < 4) {
        tlb_error("%s: bad llama2.c tokenizer: only %zu bytes, no header", path, n);
        return -1;
    }
    int32_t max_len = rd_i32(d);
    if (max_len < 1 || max_len > MAX_PIECE) {
        tlb_error("%s: bad llama2.c tokenizer: max_token_length %d is out of range (1..%d)",
                  path, (int)max_len, MAX_PIECE);
        return -1;
    }
    /* Pass 1: walk the records, checking each before using it. */
    int count = 0;
    size_t pos = 4;
    while (pos < n && (expected_vocab <= 0 || count < expected_vocab)) {
        if (count >= MAX_VOCAB) {
            tlb_error("%s: bad llama2.c tokenizer: more than %d tokens", path, MAX_VOCAB);
            return -1;
        }
        if (n - pos < 8) {
            tlb_error("%s: bad llama2.c tokenizer: truncated in the header of token %d "
                      "(offset %zu)", path, count, pos);
            return -1;
        }
        float score = rd_f32(d + pos);
        int32_t len = rd_i32(d + pos + 4);
        if (!isfinite(score)) {
            tlb_error("%s: bad llama2.c tokenizer: token %d has a non-finite score", path,
                      count);
            return -1;
        }
        if (len < 0 || len > max_len) {
            tlb_error("%s: bad llama2.c tokenizer: token %d has length %d (must be "
                      "0..max_token_length %d)", path, count, (int)len, (int)max_len);
            return -1;
        }
        if ((size_t)len > n - pos - 8) {
            tlb_error("%s: bad llama2.c tokenizer: token %d (length %d at offset %zu) runs "
                      "past the end of the file", path, count, (int)len, pos);
            return -1;
        }
        pos += 8 + (size_t)len;
        count++;
    }
    if (expected_vocab > 0 && count < expected_vocab) {
        tlb_error("%s: bad llama2.c tokenizer: %d tokens but the model's vocabulary is %d "
                  "(wrong tokenizer or truncated file)", path, count, expected_vocab);
        return -1;
    }
    if (pos != n) {
        tlb_error("%s: bad llama2.c tokenizer: %zu bytes left after the %d tokens the "
                  "model's vocabulary expects (wrong tokenizer?)", path, n - pos, count);
        return -1;
    }
    if (count == 0) {
        tlb_error("%s: bad llama2.c tokenizer: no tokens", path);
        return -1;
    }

    const char **pieces = tlb_malloc((size_t)count * sizeof *pieces, path);
    size_t *lens = tlb_malloc((size_t)count * sizeof *lens, path);
    float *scores = tlb_malloc((size_t)count * sizeof *scores, path);
    int rc = -1;
    if (pieces && lens && scores) {
        pos = 4;
        for (int i = 0; i < count; i++) {
            scores[i] = rd_f32(d + pos);
            lens[i] = (size_t)rd_i32(d + pos + 4);
            pieces[i] = (const char *)d + pos + 8;
            pos += 8 + lens[i];
        }
        /* run.c's convention: BOS = 1, EOS = 2, pieces already use ' ' and "\n<s>\n". */
        struct tlb_tokenizer_opts o = {.unk_id = -2, .add_dummy_prefix = 1,
                                       .render_special = 0};
        rc = tlb_tokenizer_build(out, path, count, pieces, lens, scores, NULL,
                                 count > 1 ? 1 : -1, count > 2 ? 2 : -1, &o);
    }
    free(pieces);
    free(lens);
    free(scores);
    return rc;
}

/* A protobuf ModelProto starts with a length-delimited field 1..5 whose length and first
 * content byte are non-zero; a .bin starts with a small int32 whose third byte is zero. */
static int looks_like_protobuf(const unsigned char *d, size_t n) {
    if (n < 3) return 0;
    int field = d[0] >> 3, wire = d[0] & 7;
    return wire == 2 && field >= 1 && field <= 5 && d[1] != 0 && d[2] != 0;
}

int tlb_tokenizer_load(struct tlb_tokenizer **out, const char *path, int expected_vocab) {
    *out = NULL;
    size_t n = 0;
    unsigned char *d = (unsigned char *)tlb_read_file(path, MAX_FILE, &n);
    if (!d) return -1;
    int rc;
    if (n >= 4 && !memcmp(d, "GGUF", 4)) {
        tlb_error("%s: is a GGUF file; open it with tlb_tokenizer_open", path);
        rc = -1;
    } else if (looks_like_protobuf(d, n)) {
        rc = tlb_spm_model_parse(out, path, d, n, expected_vocab);
    } else {
        rc = load_bin(out, path, d, n, expected_vocab);
    }
    free(d);
    return rc;
}

int tlb_tokenizer_open(struct tlb_tokenizer **out, const char *path, int expected_vocab) {
    *out = NULL;
    unsigned char magic[4] = {0};
    long got = tlb_read_magic(path, magic, sizeof magic);
    if (got < 0) return -1;
    {
        if (got == 4 && !memcmp(magic, "GGUF", 4)) {
            /* the GGUF reader (gguf-model.c) reads the tokenizer.ggml.* arrays */
            if (tlb_gguf_load_tokenizer(out, path) != 0) return -1;
            if (expected_vocab > 0 && tlb_tokenizer_vocab_size(*out) != expected_vocab) {
                tlb_error("%s: vocabulary has %d tokens but the model expects %d", path,
                          tlb_tokenizer_vocab_size(*out), expected_vocab);
                tlb_tokenizer_free(*out);
                *out = NULL;
                return -1;
            }
            return 0;
        }
    }
    /* Open errors (missing file, ...) are reported by tlb_tokenizer_load. */
    return tlb_tokenizer_load(out, path, expected_vocab);
}

/* ---- accessors ---- */

int tlb_tokenizer_vocab_size(const struct tlb_tokenizer *t) { return t->n_vocab; }
int tlb_tokenizer_bos(const struct tlb_tokenizer *t) { return t->bos; }
int tlb_tokenizer_eos(const struct tlb_tokenizer *t) { return t->eos; }

const char *tlb_tokenizer_piece_raw(const struct tlb_tokenizer *t, int token, size_t *len,
                                    float *score, int *type) {
    if (token < 0 || token >= t->n_vocab) return NULL;
    if (len) *len = t->len[token];
    if (score) *score = t->scores[token];
    if (type) *type = t->types[token];
    return t->pool + t->off[token];
}

/* ---- encoding ---- */

struct sym {
    int id;
    int prev, next;      /* neighbours in the current segmentation, -1 at the ends */
    uint32_t start, len; /* bytes of the (dummy-prefixed) text; len 0 once merged away */
    int frozen;          /* byte-fallback / unknown symbols never merge */
};

struct cand {
    float score;
    int left, id;  /* the right symbol is s[left].next */
    uint32_t size; /* left.len + right.len when queued: a mismatch later means stale */
};

/* Higher score first; on ties the leftmost pair (run.c's strict '>' scan, SentencePiece). */
static int cand_better(const struct cand *a, const struct cand *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void sift_down(struct cand *h, int n, int i) {
    struct cand x = h[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && cand_better(&h[c + 1], &h[c])) c++;
        if (!cand_better(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void heap_push(struct cand *h, int *n, struct cand c) {
    int i = (*n)++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!cand_better(&c, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static struct cand heap_pop(struct cand *h, int *n) {
    struct cand top = h[0];
    h[0] = h[--(*n)];
    if (*n > 0) sift_down(h, *n, 0);
    return top;
}

/* Append the candidate for merging left with its right neighbour, if that is a piece. */
static int make_pair(const struct tlb_tokenizer *t, const char *buf, const struct sym *s,
                     int left, struct cand *out) {
    if (left < 0) return 0;
    int right = s[left].next;
    if (right < 0 || s[left].frozen || s[right].frozen) return 0;
    uint32_t size = s[left].len + s[right].len;
    int id = lookup(t, buf + s[left].start, size);
    if (id < 0) return 0;
    *out = (struct cand){.score = t->scores[id], .left = left, .id = id, .size = size};
    return 1;
}

int tlb_tokenize(const struct tlb_tokenizer *t, const char *text, size_t len, int add_bos,
                 int add_eos, int *ids, int cap) {
    if (!t || (len && !text) || cap < 0 || (cap && !ids)) return -1;
    if (len > (size_t)INT_MAX / 4) {
        tlb_error("text of %zu bytes is too long to tokenize in one call", len);
        return -1;
    }
    int prefix = t->add_dummy_prefix && len > 0;
    size_t n_buf = len + (size_t)prefix;
    char *buf = tlb_malloc(n_buf, "tokenizer text");
    struct sym *s = tlb_malloc(n_buf * sizeof *s, "tokenizer symbols");
    struct cand *heap = tlb_malloc((3 * n_buf + 1) * sizeof *heap, "tokenizer merge queue");
    int n_out = -1;
    if (!buf || !s || !heap) goto done;
    if (prefix) buf[0] = ' ';
    if (len) memcpy(buf + prefix, text, len);

    /* Split into codepoints as run.c does: a byte plus the continuation bytes after it (at
     * most 4 bytes); the dummy prefix is a symbol of its own, even before stray continuation
     * bytes. A codepoint without a piece becomes its byte tokens. */
    int n = 0;
    for (size_t i = 0; i < n_buf;) {
        size_t cl = 1;
        while (i + cl < n_buf && cl < 4 && ((unsigned char)buf[i + cl] & 0xC0) == 0x80 &&
               !(prefix && i == 0))
            cl++;
        int id = lookup(t, buf + i, cl);
        if (id >= 0) {
            s[n++] = (struct sym){.id = id, .start = (uint32_t)i, .len = (uint32_t)cl};
        } else {
            int all_bytes = 1;
            for (size_t k = 0; k < cl; k++)
                if (t->byte_id[(unsigned char)buf[i + k]] < 0) all_bytes = 0;
            if (all_bytes) {
                for (size_t k = 0; k < cl; k++)
                    s[n++] = (struct sym){.id = t->byte_id[(unsigned char)buf[i + k]],
                                          .start = (uint32_t)(i + k), .len = 1, .frozen = 1};
            } else { /* no byte fallback (checked at load: unk exists) */
                s[n++] = (struct sym){.id = t->unk, .start = (uint32_t)i, .len = (uint32_t)cl,
                                      .frozen = 1};
            }
        }
        i += cl;
    }
    for (int i = 0; i < n; i++) {
        s[i].prev = i - 1;
        s[i].next = i + 1 < n ? i + 1 : -1;
    }

    /* Merge the best adjacent pair until none is a piece. Every pair of neighbours is in the
     * queue; entries whose symbols changed since they were queued are skipped. */
    int n_heap = 0;
    for (int i = 0; i + 1 < n; i++) n_heap += make_pair(t, buf, s, i, &heap[n_heap]);
    for (int i = n_heap / 2 - 1; i >= 0; i--) sift_down(heap, n_heap, i); /* heapify */
    while (n_heap > 0) {
        struct cand c = heap_pop(heap, &n_heap);
        struct sym *l = &s[c.left];
        /* stale unless both symbols are unchanged since queued (a merge changes a length) */
        if (l->len == 0 || l->next < 0 || l->len + s[l->next].len != c.size) continue;
        struct sym *r = &s[l->next];
        l->id = c.id;
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = c.left;
        struct cand nc;
        if (make_pair(t, buf, s, l->prev, &nc)) heap_push(heap, &n_heap, nc);
        if (make_pair(t, buf, s, c.left, &nc)) heap_push(heap, &n_heap, nc);
    }

    int count = 0;
    int bos = add_bos && t->bos >= 0, eos = add_eos && t->eos >= 0;
    for (int i = 0; i < n && i >= 0; i = s[i].next) count++;
    if (count + bos + eos > cap) goto done;
    n_out = 0;
    if (bos) ids[n_out++] = t->bos;
    for (int i = 0; i < n && i >= 0; i = s[i].next) ids[n_out++] = s[i].id;
    if (eos) ids[n_out++] = t->eos;
done:
    free(buf);
    free(s);
    free(heap);
    return n_out;
}

/* ---- decoding ---- */

const char *tlb_token_piece(const struct tlb_tokenizer *t, int prev_token, int token,
                            size_t *len) {
    if (!t || token < 0 || token >= t->n_vocab) {
        *len = 0;
        return "";
    }
    const char *p = t->pool + t->off[token];
    size_t n = t->len[token];
    if (t->types[token] == TLB_TOK_BYTE) {
        *len = 1;
        return (const char *)&t->byte_chars[byte_piece_value(p, n)];
    }
    /* run.c: after BOS the leading space of the piece is dropped. */
    if (prev_token == t->bos && t->bos >= 0 && n > 0 && p[0] == ' ') {
        p++;
        n--;
    }
    *len = n;
    return p;
}

int tlb_piece_printable(const char *piece, size_t len) {
    if (!piece || len == 0) return 0;
    if (len == 1) {
        unsigned char c = (unsigned char)piece[0];
        /* isprint || isspace in the C locale, without depending on the current locale */
        return (c >= 0x20 && c < 0x7F) || (c >= '\t' && c <= '\r');
    }
    return 1;
}
