/* gguf-write.c — writes a model as GGUF v3 the way llama.cpp's convert_hf_to_gguf.py lays it out
 * (architecture llama, llama.* hyperparameters, tokenizer.ggml.* vocabulary, llama.cpp tensor
 * names and shapes, data aligned to 32). Metadata is assembled in memory (it is small); tensor
 * data is streamed straight from the model, so a 4.4 GB f32 model is never held twice. Output
 * goes to a temporary file renamed into place only when every write succeeded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "gguf.h"
#include "util.h"

#define ALIGN 32u

/* ---- metadata: a growable buffer and the key/value pairs counted as they are added ---- */

struct wbuf {
    struct tlb_buf b;
    uint64_t n_kv;
};

static void put(struct wbuf *b, const void *src, size_t n) { tlb_buf_add(&b->b, src, n); }

static void put_le(struct wbuf *b, uint64_t v, int n) {
    unsigned char t[8];
    for (int i = 0; i < n; i++) t[i] = (unsigned char)(v >> (8 * i));
    put(b, t, (size_t)n);
}

static void put_str(struct wbuf *b, const char *s, size_t n) {
    put_le(b, n, 8);
    put(b, s, n);
}

static void key(struct wbuf *b, const char *k, uint32_t type) {
    put_str(b, k, strlen(k));
    put_le(b, type, 4);
    b->n_kv++;
}

static void kv_u32(struct wbuf *b, const char *k, uint32_t v) {
    key(b, k, TLB_GGUF_U32);
    put_le(b, v, 4);
}

static void kv_f32(struct wbuf *b, const char *k, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    key(b, k, TLB_GGUF_F32);
    put_le(b, u, 4);
}

static void kv_bool(struct wbuf *b, const char *k, int v) {
    key(b, k, TLB_GGUF_BOOL);
    put_le(b, v ? 1 : 0, 1);
}

static void kv_str(struct wbuf *b, const char *k, const char *s) {
    key(b, k, TLB_GGUF_STRING);
    put_str(b, s, strlen(s));
}

static void arr_head(struct wbuf *b, const char *k, uint32_t et, uint64_t n) {
    key(b, k, TLB_GGUF_ARRAY);
    put_le(b, et, 4);
    put_le(b, n, 8);
}

int tlb_gguf_file_type(enum tlb_type t) {
    switch (t) {
    case TLB_TYPE_F32: return 0;   /* LLAMA_FTYPE_ALL_F32 */
    case TLB_TYPE_F16: return 1;   /* LLAMA_FTYPE_MOSTLY_F16 */
    case TLB_TYPE_Q4_0: return 2;  /* LLAMA_FTYPE_MOSTLY_Q4_0 */
    case TLB_TYPE_Q8_0: return 7;  /* LLAMA_FTYPE_MOSTLY_Q8_0 */
    case TLB_TYPE_BF16: return 32; /* LLAMA_FTYPE_MOSTLY_BF16 */
    default: return 0;
    }
}

/* ---- vocabulary ---- */

/* One piece as GGUF stores it: ' ' -> U+2581, and BOS/EOS without the "\n...\n" rendering
 * llama2.c's export gave them. */
static void put_piece(struct wbuf *b, const char *p, size_t n, int type) {
    if (type == TLB_TOK_CONTROL && n >= 2 && p[0] == '\n' && p[n - 1] == '\n') {
        p++;
        n -= 2;
    }
    size_t spaces = 0;
    for (size_t i = 0; i < n; i++) spaces += p[i] == ' ';
    put_le(b, n + 2 * spaces, 8);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ' ') put(b, "\xe2\x96\x81", 3);
        else put(b, &p[i], 1);
    }
}

static int put_vocab(struct wbuf *b, const struct tlb_model *m, const struct tlb_tokenizer *tok) {
    const int n = m->cfg.vocab_size;
    int bos = 1, eos = 2, unk = 0;
    if (tok) {
        if (tlb_tokenizer_vocab_size(tok) != n) {
            tlb_error("vocabulary has %d tokens but the model has %d", tlb_tokenizer_vocab_size(tok),
                      n);
            return -1;
        }
        bos = tlb_tokenizer_bos(tok);
        eos = tlb_tokenizer_eos(tok);
        unk = -1;
    } else if (n < 259 + 1) {
        tlb_error("%s: vocabulary of %d tokens is too small for a generated Llama vocabulary "
                  "(<unk> <s> </s>, 256 bytes, pieces): give --tokenizer", m->name, n);
        return -1;
    }
    kv_str(b, "tokenizer.ggml.model", "llama");
    kv_str(b, "tokenizer.ggml.pre", "default");
    arr_head(b, "tokenizer.ggml.tokens", TLB_GGUF_STRING, (uint64_t)n);
    int *types = tlb_malloc((size_t)n * sizeof *types, "vocabulary");
    float *scores = tlb_malloc((size_t)n * sizeof *scores, "vocabulary");
    if (!types || !scores) {
        free(types);
        free(scores);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (tok) {
            size_t len;
            const char *p = tlb_tokenizer_piece_raw(tok, i, &len, &scores[i], &types[i]);
            put_piece(b, p, len, types[i]);
            if (unk < 0 && types[i] == TLB_TOK_UNKNOWN) unk = i;
        } else {
            /* Llama layout: <unk>, <s>, </s>, <0x00>..<0xFF>, then distinct normal pieces */
            char piece[32];
            if (i < 3) {
                snprintf(piece, sizeof piece, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
                types[i] = i == 0 ? TLB_TOK_UNKNOWN : TLB_TOK_CONTROL;
                scores[i] = 0.0f;
            } else if (i < 259) {
                snprintf(piece, sizeof piece, "<0x%02X>", i - 3);
                types[i] = TLB_TOK_BYTE;
                scores[i] = 0.0f;
            } else {
                snprintf(piece, sizeof piece, " tok%d", i);
                types[i] = TLB_TOK_NORMAL;
                scores[i] = -(float)(i - 259);
            }
            put_piece(b, piece, strlen(piece), types[i]);
        }
    }
    arr_head(b, "tokenizer.ggml.scores", TLB_GGUF_F32, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &scores[i], 4);
        put_le(b, u, 4);
    }
    arr_head(b, "tokenizer.ggml.token_type", TLB_GGUF_I32, (uint64_t)n);
    for (int i = 0; i < n; i++) put_le(b, (uint32_t)types[i], 4);
    free(types);
    free(scores);
    if (bos >= 0) kv_u32(b, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    if (eos >= 0) kv_u32(b, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
    if (unk >= 0) kv_u32(b, "tokenizer.ggml.unknown_token_id", (uint32_t)unk);
    kv_bool(b, "tokenizer.ggml.add_bos_token", 1);
    kv_bool(b, "tokenizer.ggml.add_eos_token", 0);
    return 0;
}

/* ---- tensors ---- */

struct wtensor {
    char name[TLB_GGUF_MAX_NAME];
    uint32_t n_dims;
    uint64_t ne[2];
    uint32_t ggml_type;
    const void *data;
    uint64_t bytes, offset;
};

static void add_matrix(struct wtensor *w, int *n, const char *name, const struct tlb_tensor *t) {
    struct wtensor *x = &w[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->n_dims = 2;
    x->ne[0] = (uint64_t)t->cols;
    x->ne[1] = (uint64_t)t->rows;
    x->ggml_type = (uint32_t)tlb_type_traits(t->type)->ggml_type;
    x->data = t->data;
    x->bytes = (uint64_t)tlb_type_row_bytes(t->type, t->cols) * (uint64_t)t->rows;
}

static void add_norm(struct wtensor *w, int *n, const char *name, const float *v, int dim) {
    struct wtensor *x = &w[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->n_dims = 1;
    x->ne[0] = (uint64_t)dim;
    x->ne[1] = 1;
    x->ggml_type = 0;
    x->data = v;
    x->bytes = (uint64_t)dim * 4;
}

static int write_all(FILE *f, const void *p, size_t n, const char *path) {
    if (n && fwrite(p, 1, n, f) != n) {
        tlb_error("%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_pad(FILE *f, uint64_t pos, const char *path) {
    static const unsigned char zeros[ALIGN];
    return write_all(f, zeros, (size_t)((ALIGN - pos % ALIGN) % ALIGN), path);
}

int tlb_gguf_write_model(const char *path, const struct tlb_model *m,
                         const struct tlb_tokenizer *tok) {
    const struct tlb_config *c = &m->cfg;
    char lay[64];
    if (strcmp(tlb_model_layouts(m, lay, sizeof lay), "rows") != 0) { /* GGUF stores rows */
        tlb_error("%s: the model's weights are in layout %s, not rows: not written", path, lay);
        return -1;
    }
    struct wbuf b = {0};
    int rc = -1, fd = -1;
    FILE *f = NULL;
    char *tmp = NULL;
    const int n_max = 3 + 9 * c->n_layers;
    struct wtensor *w = tlb_calloc((size_t)n_max, sizeof *w, "tensor list");
    if (!w) return -1;

    /* metadata, in convert_hf_to_gguf.py's order */
    int quantized = 0;
    for (int t = 0; t < TLB_TYPE_COUNT; t++)
        if ((m->types_used & TLB_TYPE_BIT(t)) && tlb_type_traits((enum tlb_type)t)->is_quantized)
            quantized = 1;
    kv_str(&b, "general.architecture", "llama");
    kv_str(&b, "general.type", "model");
    kv_str(&b, "general.name", m->name[0] ? m->name : "tlbench");
    kv_u32(&b, "general.alignment", ALIGN);
    kv_u32(&b, "llama.block_count", (uint32_t)c->n_layers);
    kv_u32(&b, "llama.context_length", (uint32_t)c->seq_len);
    kv_u32(&b, "llama.embedding_length", (uint32_t)c->dim);
    kv_u32(&b, "llama.feed_forward_length", (uint32_t)c->hidden_dim);
    kv_u32(&b, "llama.attention.head_count", (uint32_t)c->n_heads);
    kv_u32(&b, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    kv_f32(&b, "llama.rope.freq_base", c->rope_theta);
    kv_f32(&b, "llama.attention.layer_norm_rms_epsilon", c->rms_eps);
    kv_u32(&b, "general.file_type", (uint32_t)tlb_gguf_file_type(m->wtype));
    kv_u32(&b, "llama.vocab_size", (uint32_t)c->vocab_size);
    kv_u32(&b, "llama.rope.dimension_count", (uint32_t)tlb_head_dim(c));
    if (put_vocab(&b, m, tok)) goto done;
    if (quantized) kv_u32(&b, "general.quantization_version", 2);

    /* tensors, named and shaped as llama.cpp writes them (ne0 = row length) */
    int n = 0;
    char name[TLB_GGUF_MAX_NAME];
    add_matrix(w, &n, "token_embd.weight", &m->tok_embd);
    for (int l = 0; l < c->n_layers; l++) {
        const struct tlb_layer *L = &m->layers[l];
#define NM(s) (snprintf(name, sizeof name, "blk.%d." s ".weight", l), name)
        add_norm(w, &n, NM("attn_norm"), L->attn_norm, c->dim);
        add_matrix(w, &n, NM("attn_q"), &L->wq);
        add_matrix(w, &n, NM("attn_k"), &L->wk);
        add_matrix(w, &n, NM("attn_v"), &L->wv);
        add_matrix(w, &n, NM("attn_output"), &L->wo);
        add_norm(w, &n, NM("ffn_norm"), L->ffn_norm, c->dim);
        add_matrix(w, &n, NM("ffn_gate"), &L->w1);
        add_matrix(w, &n, NM("ffn_up"), &L->w3);
        add_matrix(w, &n, NM("ffn_down"), &L->w2);
#undef NM
    }
    add_norm(w, &n, "output_norm.weight", m->final_norm, c->dim);
    if (!m->shared_classifier) add_matrix(w, &n, "output.weight", &m->output);
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        w[i].offset = off;
        off += (w[i].bytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    if (b.b.failed) {
        tlb_error("%s: out of memory assembling GGUF metadata", path);
        goto done;
    }

    /* temporary file next to the target, renamed into place at the end */
    size_t plen = strlen(path);
    tmp = tlb_malloc(plen + 16, "path");
    if (!tmp) goto done;
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        tlb_error("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        goto done;
    }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) {
        tlb_error("%s: chmod failed: %s", tmp, strerror(errno));
        goto done;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        tlb_error("%s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    setvbuf(f, NULL, _IOFBF, 1 << 20);

    struct wbuf h = {0};
    put(&h, "GGUF", 4);
    put_le(&h, 3, 4);
    put_le(&h, (uint64_t)n, 8);
    put_le(&h, b.n_kv, 8);
    put(&h, b.b.p, b.b.len);
    for (int i = 0; i < n; i++) {
        put_str(&h, w[i].name, strlen(w[i].name));
        put_le(&h, w[i].n_dims, 4);
        for (uint32_t d = 0; d < w[i].n_dims; d++) put_le(&h, w[i].ne[d], 8);
        put_le(&h, w[i].ggml_type, 4);
        put_le(&h, w[i].offset, 8);
    }
    if (h.b.failed) {
        tlb_buf_free(&h.b);
        tlb_error("%s: out of memory assembling the GGUF header", path);
        goto done;
    }
    int err = write_all(f, h.b.p, h.b.len, tmp) || write_pad(f, h.b.len, tmp);
    tlb_buf_free(&h.b);
    if (err) goto done;
    for (int i = 0; i < n; i++)
        if (write_all(f, w[i].data, (size_t)w[i].bytes, tmp) || write_pad(f, w[i].bytes, tmp))
            goto done;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        tlb_error("%s: write failed: %s", tmp, strerror(errno));
        goto done;
    }
    int cl = fclose(f);
    f = NULL;
    if (cl != 0) {
        tlb_error("%s: write failed: %s", tmp, strerror(errno));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        tlb_error("%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        goto done;
    }
    free(tmp);
    tmp = NULL;
    rc = 0;
done:
    if (f) fclose(f);
    if (fd >= 0) close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    tlb_buf_free(&b.b);
    free(w);
    return rc;
}
