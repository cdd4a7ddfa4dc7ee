/* tokenizer.h — the Llama 2 SentencePiece BPE tokenizer: loads llama2.c tokenizer .bin files,
 * SentencePiece tokenizer.model files and in-memory vocabularies (GGUF), encodes text exactly as
 * llama2.c run.c encode() / SentencePiece do, and decodes tokens exactly as run.c decode().
 * Internally every piece stores spaces as ' ' (U+2581 from GGUF/tokenizer.model is converted). */
#ifndef TLB_TOKENIZER_H
#define TLB_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

struct tlb_tokenizer;

/* SentencePiece / GGUF token types. */
enum {
    TLB_TOK_NORMAL = 1,
    TLB_TOK_UNKNOWN = 2,
    TLB_TOK_CONTROL = 3,
    TLB_TOK_USER_DEFINED = 4,
    TLB_TOK_UNUSED = 5,
    TLB_TOK_BYTE = 6,
};

/* Load a tokenizer file: llama2.c tokenizer .bin (int32 max_token_length, then per id: f32
 * score, int32 len, len bytes), or a SentencePiece tokenizer.model (protobuf ModelProto). The
 * format is sniffed from the content, not the extension. expected_vocab > 0 requires that vocab
 * size (error naming the file otherwise); with expected_vocab <= 0 a .bin is read to its end.
 * Returns 0, or -1 with a one-line error naming the file and the problem. */
int tlb_tokenizer_load(struct tlb_tokenizer **out, const char *path, int expected_vocab);

/* Like tlb_tokenizer_load, but a GGUF file (magic "GGUF", a vocab-only or a full model) is
 * read with the GGUF reader (tokenizer.ggml.*). This is what commands call for --tokenizer. */
int tlb_tokenizer_open(struct tlb_tokenizer **out, const char *path, int expected_vocab);

/* Build from a vocabulary already in memory (used by the GGUF reader: tokenizer.ggml.tokens /
 * scores / token_type). pieces use SentencePiece's U+2581 for spaces as GGUF stores them (plain
 * spaces are accepted too); types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused,
 * 6 byte (may be NULL: BOS/EOS are control, "<unk>" is unknown, exact "<0xHH>" pieces are
 * bytes, the rest normal). bos_id/eos_id may be -1 (none). The BOS and EOS pieces are rendered
 * "\n<piece>\n" as llama2.c's tokenizer.py exports them, so that decoding matches run.c with
 * its .bin. source names the file for error messages. Returns 0 or -1 with an error. */
int tlb_tokenizer_from_vocab(struct tlb_tokenizer **out, const char *source, int n_vocab,
                             const char *const *pieces, const size_t *piece_lens,
                             const float *scores, const int32_t *types, int bos_id, int eos_id);

void tlb_tokenizer_free(struct tlb_tokenizer *t);
int tlb_tokenizer_vocab_size(const struct tlb_tokenizer *t);
int tlb_tokenizer_bos(const struct tlb_tokenizer *t); /* -1 when the vocab has none */
int tlb_tokenizer_eos(const struct tlb_tokenizer *t); /* -1 when the vocab has none */

/* Encode len bytes of text (UTF-8, not necessarily NUL-terminated; invalid UTF-8 and NUL bytes
 * byte-fall-back) exactly as llama2.c run.c encode() / SentencePiece: optional BOS, the
 * dummy-prefix space for non-empty text, each UTF-8 codepoint to its piece or to byte-fallback
 * <0xNN> tokens, then repeatedly merge the adjacent pair whose concatenation is a normal piece
 * with the highest score (the leftmost pair on ties, as run.c's strict '>' scan and
 * SentencePiece's queue both do). Only normal and user-defined pieces take part in lookups, so
 * text such as "<s>" or "<unk>" never becomes a control token. BOS/EOS are skipped when the
 * vocab has none. Writes at most cap ids; returns the number of ids, or -1 if cap is too small
 * (cap >= len + 3 always suffices) or memory ran out (then an error is printed). */
int tlb_tokenize(const struct tlb_tokenizer *t, const char *text, size_t len, int add_bos,
                 int add_eos, int *ids, int cap);

/* The bytes that token prints after prev_token, exactly as run.c decode(): the piece's leading
 * space is stripped when prev_token is BOS; byte tokens become the raw byte. Control tokens give
 * their rendered piece: "\n<s>\n" for BOS and "\n</s>\n" for EOS with every format (a GGUF or
 * tokenizer.model vocab is rendered the way llama2.c exported its .bin), other control tokens
 * and <unk> their piece text. Out-of-range ids give "" (length 0). The pointer stays valid until
 * the tokenizer is freed; its length is stored in *len. */
const char *tlb_token_piece(const struct tlb_tokenizer *t, int prev_token, int token, size_t *len);

/* run.c's safe_printf rule: is this piece worth printing? (Empty pieces and single bytes that
 * are neither printable ASCII nor whitespace are skipped.) */
int tlb_piece_printable(const char *piece, size_t len);

/* The raw piece of a token (spaces as ' ', byte tokens as their "<0xHH>" text), its score and
 * type, for tests and tools. Returns NULL for out-of-range ids. */
const char *tlb_tokenizer_piece_raw(const struct tlb_tokenizer *t, int token, size_t *len,
                                    float *score, int *type);

/* ---- internal: used by the file readers (tokenizer.c, spm-model.c, gguf) ---- */

/* Options beyond tlb_tokenizer_from_vocab's arguments. */
struct tlb_tokenizer_opts {
    int unk_id;           /* -2: infer from types/"<unk>"; -1: none; else the id */
    int add_dummy_prefix; /* SentencePiece normalizer_spec.add_dummy_prefix (run.c: 1) */
    int render_special;   /* 1: render BOS/EOS pieces as "\n<piece>\n" (not for a .bin) */
};
int tlb_tokenizer_build(struct tlb_tokenizer **out, const char *source, int n_vocab,
                        const char *const *pieces, const size_t *piece_lens, const float *scores,
                        const int32_t *types, int bos_id, int eos_id,
                        const struct tlb_tokenizer_opts *opts);

/* Parse a SentencePiece ModelProto held in data[0..n) (spm-model.c). */
int tlb_spm_model_parse(struct tlb_tokenizer **out, const char *path, const unsigned char *data,
                        size_t n, int expected_vocab);

#endif
