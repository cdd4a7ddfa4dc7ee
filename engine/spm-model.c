/* spm-model.c — reads a SentencePiece tokenizer.model (protobuf ModelProto) by hand: the
 * pieces (text, score, type), trainer_spec's model type and unk/bos/eos ids, and
 * normalizer_spec's add_dummy_prefix (a normalizer other than Llama's identity one is warned
 * about, not implemented). The file is untrusted: every length is checked against
 * the bytes left, varints are bounded, unknown fields are skipped by wire type, and only the
 * three known sub-messages are entered (one level, no recursion). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"
#include "util.h"

#define MAX_PIECES (1 << 24)

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct pb {
    const unsigned char *p, *end;
    const char *path;
};

static int pb_fail(const struct pb *b, const unsigned char *base, const char *what) {
    tlb_error("%s: bad SentencePiece model: %s at byte %zu", b->path, what,
              (size_t)(b->p - base));
    return -1;
}

/* A varint is at most 10 bytes; the 10th may only carry the top bit of a uint64. */
static int pb_varint(struct pb *b, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (b->p >= b->end) return -1;
        unsigned char c = *b->p++;
        if (i == 9 && c > 1) return -1;
        x |= (uint64_t)(c & 0x7F) << (7 * i);
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Read a tag; field numbers are 1..2^29-1. */
static int pb_tag(struct pb *b, uint32_t *field, int *wire) {
    uint64_t v;
    if (pb_varint(b, &v) || (v >> 3) == 0 || (v >> 3) > 0x1FFFFFFF) return -1;
    *field = (uint32_t)(v >> 3);
    *wire = (int)(v & 7);
    return 0;
}

/* A length-delimited payload: sub covers it and b moves past it. */
static int pb_len(struct pb *b, struct pb *sub) {
    uint64_t n;
    if (pb_varint(b, &n) || n > (uint64_t)(b->end - b->p)) return -1;
    sub->p = b->p;
    sub->end = b->p + n;
    sub->path = b->path;
    b->p += n;
    return 0;
}

static int pb_skip(struct pb *b, int wire) {
    uint64_t v;
    struct pb sub;
    switch (wire) {
    case WT_VARINT: return pb_varint(b, &v);
    case WT_I64:
        if (b->end - b->p < 8) return -1;
        b->p += 8;
        return 0;
    case WT_LEN: return pb_len(b, &sub);
    case WT_I32:
        if (b->end - b->p < 4) return -1;
        b->p += 4;
        return 0;
    default: return -1; /* groups (3, 4) are not used by SentencePiece; 6, 7 do not exist */
    }
}

/* int32 fields are varints of the sign-extended 64-bit value. */
static int pb_int32(struct pb *b, int32_t *out) {
    uint64_t v;
    if (pb_varint(b, &v)) return -1;
    int64_t s = (int64_t)v;
    if (s < INT32_MIN || s > INT32_MAX) return -1;
    *out = (int32_t)s;
    return 0;
}

struct spm {
    const char **pieces;
    size_t *lens;
    float *scores;
    int32_t *types;
    int n, cap;
    int32_t model_type, unk, bos, eos; /* model_type 0: not given */
    int add_dummy_prefix;
    int has_normalizer, identity, remove_extra_ws; /* normalizer_spec: what we cannot do */
};

static int grow(struct spm *m, const char *path) {
    if (m->n < m->cap) return 0;
    if (m->cap >= MAX_PIECES) {
        tlb_error("%s: more than %d pieces", path, MAX_PIECES);
        return -1;
    }
    int cap = m->cap ? m->cap * 2 : 1024;
    const char **p = realloc(m->pieces, (size_t)cap * sizeof *p);
    if (p) m->pieces = p;
    size_t *l = realloc(m->lens, (size_t)cap * sizeof *l);
    if (l) m->lens = l;
    float *s = realloc(m->scores, (size_t)cap * sizeof *s);
    if (s) m->scores = s;
    int32_t *t = realloc(m->types, (size_t)cap * sizeof *t);
    if (t) m->types = t;
    if (!p || !l || !s || !t) {
        tlb_error("%s: out of memory reading pieces", path);
        return -1;
    }
    m->cap = cap;
    return 0;
}

static int parse_piece(struct pb *b, const unsigned char *base, struct spm *m) {
    const char *piece = NULL;
    size_t len = 0;
    float score = 0;
    int32_t type = TLB_TOK_NORMAL;
    while (b->p < b->end) {
        uint32_t f;
        int w;
        if (pb_tag(b, &f, &w)) return pb_fail(b, base, "bad tag in a piece");
        if (f == 1 && w == WT_LEN) {
            struct pb s;
            if (pb_len(b, &s)) return pb_fail(b, base, "piece text runs past its message");
            piece = (const char *)s.p;
            len = (size_t)(s.end - s.p);
        } else if (f == 2 && w == WT_I32) {
            if (b->end - b->p < 4) return pb_fail(b, base, "truncated piece score");
            uint32_t v = (uint32_t)b->p[0] | (uint32_t)b->p[1] << 8 |
                         (uint32_t)b->p[2] << 16 | (uint32_t)b->p[3] << 24;
            memcpy(&score, &v, sizeof score);
            b->p += 4;
        } else if (f == 3 && w == WT_VARINT) {
            if (pb_int32(b, &type)) return pb_fail(b, base, "bad piece type");
        } else if (f <= 3) {
            return pb_fail(b, base, "piece field with the wrong wire type");
        } else if (pb_skip(b, w)) {
            return pb_fail(b, base, "bad field in a piece");
        }
    }
    if (!piece || len == 0) {
        tlb_error("%s: bad SentencePiece model: piece %d has no text", b->path, m->n);
        return -1;
    }
    if (grow(m, b->path)) return -1;
    m->pieces[m->n] = piece;
    m->lens[m->n] = len;
    m->scores[m->n] = score;
    m->types[m->n] = type; /* range-checked by tlb_tokenizer_build */
    m->n++;
    return 0;
}

static int parse_trainer(struct pb *b, const unsigned char *base, struct spm *m) {
    while (b->p < b->end) {
        uint32_t f;
        int w;
        if (pb_tag(b, &f, &w)) return pb_fail(b, base, "bad tag in trainer_spec");
        int32_t *dst = f == 3 ? &m->model_type : f == 40 ? &m->unk : f == 41 ? &m->bos
                     : f == 42 ? &m->eos : NULL;
        if (dst && w == WT_VARINT) {
            if (pb_int32(b, dst)) return pb_fail(b, base, "bad integer in trainer_spec");
        } else if (dst) {
            return pb_fail(b, base, "trainer_spec field with the wrong wire type");
        } else if (pb_skip(b, w)) {
            return pb_fail(b, base, "bad field in trainer_spec");
        }
    }
    return 0;
}

static int parse_normalizer(struct pb *b, const unsigned char *base, struct spm *m) {
    m->has_normalizer = 1;
    while (b->p < b->end) {
        uint32_t f;
        int w;
        if (pb_tag(b, &f, &w)) return pb_fail(b, base, "bad tag in normalizer_spec");
        if (f == 3 && w == WT_VARINT) {
            uint64_t v;
            if (pb_varint(b, &v)) return pb_fail(b, base, "bad add_dummy_prefix");
            m->add_dummy_prefix = v != 0;
        } else if (f == 4 && w == WT_VARINT) {
            uint64_t v;
            if (pb_varint(b, &v)) return pb_fail(b, base, "bad remove_extra_whitespaces");
            m->remove_extra_ws = v != 0;
        } else if (f == 1 && w == WT_LEN) {
            struct pb name;
            if (pb_len(b, &name)) return pb_fail(b, base, "normalizer name runs past its end");
            m->identity = name.end - name.p == 8 && !memcmp(name.p, "identity", 8);
        } else if (f == 1 || f == 3 || f == 4) {
            return pb_fail(b, base, "normalizer_spec field with the wrong wire type");
        } else if (pb_skip(b, w)) {
            return pb_fail(b, base, "bad field in normalizer_spec");
        }
    }
    return 0;
}

int tlb_spm_model_parse(struct tlb_tokenizer **out, const char *path, const unsigned char *data,
                        size_t n, int expected_vocab) {
    *out = NULL;
    /* SentencePiece defaults: unk 0, bos 1, eos 2, add_dummy_prefix true. */
    struct spm m = {.unk = 0, .bos = 1, .eos = 2, .add_dummy_prefix = 1, .remove_extra_ws = 1};
    struct pb b = {data, data + n, path};
    int rc = -1;
    while (b.p < b.end) {
        uint32_t f;
        int w;
        struct pb sub;
        if (pb_tag(&b, &f, &w)) {
            pb_fail(&b, data, "bad field tag");
            goto done;
        }
        if (f >= 1 && f <= 3 && w != WT_LEN) {
            pb_fail(&b, data, "ModelProto field with the wrong wire type");
            goto done;
        }
        if (f >= 1 && f <= 3) {
            if (pb_len(&b, &sub)) {
                pb_fail(&b, data, "message length runs past the end of the file");
                goto done;
            }
            int err = f == 1   ? parse_piece(&sub, data, &m)
                      : f == 2 ? parse_trainer(&sub, data, &m)
                               : parse_normalizer(&sub, data, &m);
            if (err) goto done;
        } else if (pb_skip(&b, w)) {
            pb_fail(&b, data, "bad or truncated field");
            goto done;
        }
    }
    if (m.n == 0) {
        tlb_error("%s: SentencePiece model has no pieces", path);
        goto done;
    }
    /* Only BPE is implemented; a model without trainer_spec is assumed to be BPE. */
    if (m.model_type != 0 && m.model_type != 2) {
        tlb_error("%s: SentencePiece model type %d is not BPE (2); only BPE is supported", path,
                  (int)m.model_type);
        goto done;
    }
    if (expected_vocab > 0 && m.n != expected_vocab) {
        tlb_error("%s: has %d pieces but the model's vocabulary is %d (wrong tokenizer?)", path,
                  m.n, expected_vocab);
        goto done;
    }
    if (m.unk < -1 || m.unk >= m.n || m.bos < -1 || m.bos >= m.n || m.eos < -1 ||
        m.eos >= m.n) {
        tlb_error("%s: unk/bos/eos ids %d/%d/%d outside the %d pieces", path, (int)m.unk,
                  (int)m.bos, (int)m.eos, m.n);
        goto done;
    }
    /* Llama's model uses the identity normalizer and keeps whitespace; others are encoded as
     * if it did (NFKC tables and whitespace folding are not implemented). */
    if (m.has_normalizer && (!m.identity || m.remove_extra_ws))
        tlb_warn("%s: SentencePiece normalizer (%s%s) is not implemented: text is encoded "
                 "unnormalized", path, m.identity ? "identity" : "not identity",
                 m.remove_extra_ws ? ", remove_extra_whitespaces" : "");
    struct tlb_tokenizer_opts o = {.unk_id = m.unk, .add_dummy_prefix = m.add_dummy_prefix,
                                   .render_special = 1};
    rc = tlb_tokenizer_build(out, path, m.n, m.pieces, m.lens, m.scores, m.types, m.bos, m.eos,
                             &o);
done:
    free(m.pieces);
    free(m.lens);
    free(m.scores);
    free(m.types);
    return rc;
}
