/* test-gguf.c — GGUF reading, writing and hostile input. A tiny GGUF builder makes valid files
 * in memory; each attack class then bends one thing and asserts that loading fails with -1
 * (and that `tlbench inspect` exits 1 naming the file), that every truncation of a valid file
 * fails cleanly, that written files read back bit-identical, that stories260K gives the same
 * greedy tokens from GGUF as from its .bin, and that llama.cpp's vocabulary GGUF tokenizes
 * its own test vectors. Also llama2.c .bin truncation and header lies. */
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "gguf.h"
#include "kernel.h"
#include "loaders.h"
#include "model.h"
#include "sampler.h"
#include "test.h"
#include "tokenizer.h"
#include "util.h"

/* ---- a tiny GGUF builder ---- */

struct gb {
    unsigned char *p;
    size_t n, cap;
};

static void b_put(struct gb *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap) b->cap = b->cap ? 2 * b->cap : 4096;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static void b_le(struct gb *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        b_put(b, &c, 1);
    }
}
static void b_str(struct gb *b, const char *s) {
    b_le(b, strlen(s), 8);
    b_put(b, s, strlen(s));
}
static void set_le(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* What to build; the attack tests bend one field. */
struct recipe {
    uint32_t version;
    const char *arch;
    int64_t dim, hidden, layers, heads, kv_heads, ctx; /* written hyperparameters */
    int64_t t_dim, t_hidden, t_kvd; /* sizes used for the tensor shapes */
    int hyper_as_string;         /* write embedding_length as a string */
    int64_t rope_dims;           /* 0: key absent */
    int alignment_type;          /* 0 absent, else the value type of general.alignment */
    uint64_t alignment;
    int vocab;                   /* 0: no tokenizer keys; else tokens (>= 262 for the layout) */
    int scores_type, types_type; /* element types of scores / token_type */
    const char *byte_piece;      /* replaces the piece of token 3 (<0x00>) */
    int byte_piece_type;         /* its token type */
    int64_t bos_id;
    uint32_t wtype;              /* ggml type of the matrices (0 f32, 1 f16, 8 q8_0, 12 q4_K) */
    const char *skip;            /* tensor left out */
    const char *dup;             /* tensor written twice */
    int with_output;             /* separate output.weight */
    int dup_key;                 /* general.architecture twice */
    int nest_depth;              /* an extra key holding arrays nested this deep */
};

static struct recipe base_recipe(void) {
    return (struct recipe){.version = 3, .arch = "llama", .dim = 8, .hidden = 16, .layers = 1,
                           .heads = 2, .kv_heads = 1, .ctx = 16, .t_dim = 8, .t_hidden = 16, .t_kvd = 4, .rope_dims = 4,
                           .vocab = 262, .scores_type = TLB_GGUF_F32,
                           .types_type = TLB_GGUF_I32, .bos_id = 1, .wtype = 0,
                           .with_output = 1};
}

struct built {
    struct gb b;
    size_t n_tensors_pos, n_kv_pos;
    size_t tinfo[64];            /* position of each tensor info */
    int n_t;
};

struct tdesc {
    char name[64];
    uint64_t ne0, ne1;
    int n_dims;
    uint32_t type;
};

static float val(uint64_t i) { return (float)((int)((i * 2654435761u) % 1000) - 500) / 1000.0f; }

/* Data for a tensor of n elements in ggml type t (f32 values quantized as tlbench does). */
static void tensor_data(struct gb *b, uint32_t t, uint64_t ne0, uint64_t ne1, uint64_t seed) {
    enum tlb_type tt;
    uint64_t n = ne0 * ne1;
    float *f = malloc(n * sizeof *f);
    for (uint64_t i = 0; i < n; i++) f[i] = val(i + seed * 7919);
    if (tlb_type_from_ggml(t, &tt) == 0) {
        size_t rb = tlb_type_row_bytes(tt, (int64_t)ne0);
        unsigned char *q = malloc(rb * ne1 + 1);
        for (uint64_t r = 0; r < ne1; r++) tlb_type_traits(tt)->from_f32(f + r * ne0, q + r * rb, (int64_t)ne0);
        b_put(b, q, rb * ne1);
        free(q);
    } else { /* q4_K and other types tlbench cannot run: 144 bytes per 256 values */
        uint64_t bytes = n / 256 * 144;
        unsigned char *q = calloc(1, bytes + 1);
        b_put(b, q, bytes);
        free(q);
    }
    free(f);
}

static void build(struct built *o, const struct recipe *r) {
    memset(o, 0, sizeof *o);
    struct gb kv = {0};
    uint64_t n_kv = 0;
#define KEY(k, t) (b_str(&kv, k), b_le(&kv, t, 4), n_kv++)
    KEY("general.architecture", TLB_GGUF_STRING);
    b_str(&kv, r->arch);
    if (r->dup_key) {
        KEY("general.architecture", TLB_GGUF_STRING);
        b_str(&kv, r->arch);
    }
    KEY("general.name", TLB_GGUF_STRING);
    b_str(&kv, "tiny test");
    if (r->alignment_type) {
        KEY("general.alignment", (uint32_t)r->alignment_type);
        if (r->alignment_type == TLB_GGUF_STRING) b_str(&kv, "32");
        else b_le(&kv, r->alignment, (int)tlb_gguf_vtype_size((uint32_t)r->alignment_type));
    }
    if (r->hyper_as_string) {
        KEY("llama.embedding_length", TLB_GGUF_STRING);
        b_str(&kv, "8");
    } else {
        KEY("llama.embedding_length", TLB_GGUF_U64);
        b_le(&kv, (uint64_t)r->dim, 8);
    }
    KEY("llama.feed_forward_length", TLB_GGUF_U32); b_le(&kv, (uint64_t)r->hidden, 4);
    KEY("llama.block_count", TLB_GGUF_U32); b_le(&kv, (uint64_t)r->layers, 4);
    KEY("llama.attention.head_count", TLB_GGUF_U32); b_le(&kv, (uint64_t)r->heads, 4);
    KEY("llama.attention.head_count_kv", TLB_GGUF_I32); b_le(&kv, (uint64_t)r->kv_heads, 4);
    KEY("llama.context_length", TLB_GGUF_U32); b_le(&kv, (uint64_t)r->ctx, 4);
    KEY("llama.attention.layer_norm_rms_epsilon", TLB_GGUF_F32);
    float eps = 1e-5f;
    uint32_t eu;
    memcpy(&eu, &eps, 4);
    b_le(&kv, eu, 4);
    if (r->rope_dims) {
        KEY("llama.rope.dimension_count", TLB_GGUF_U32);
        b_le(&kv, (uint64_t)r->rope_dims, 4);
    }
    if (r->nest_depth) { /* [[[...[u8 x 1]...]]] */
        KEY("test.nested", TLB_GGUF_ARRAY);
        for (int d = 1; d < r->nest_depth; d++) {
            b_le(&kv, TLB_GGUF_ARRAY, 4);
            b_le(&kv, 1, 8);
        }
        b_le(&kv, TLB_GGUF_U8, 4);
        b_le(&kv, 1, 8);
        b_le(&kv, 7, 1);
    }
    if (r->vocab) {
        KEY("tokenizer.ggml.model", TLB_GGUF_STRING);
        b_str(&kv, "llama");
        KEY("tokenizer.ggml.tokens", TLB_GGUF_ARRAY);
        b_le(&kv, TLB_GGUF_STRING, 4);
        b_le(&kv, (uint64_t)r->vocab, 8);
        for (int i = 0; i < r->vocab; i++) {
            char p[32];
            if (i == 3 && r->byte_piece) snprintf(p, sizeof p, "%s", r->byte_piece);
            else if (i < 3) snprintf(p, sizeof p, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
            else if (i < 259) snprintf(p, sizeof p, "<0x%02X>", i - 3);
            else snprintf(p, sizeof p, "\xe2\x96\x81w%d", i);
            b_str(&kv, p);
        }
        KEY("tokenizer.ggml.scores", TLB_GGUF_ARRAY);
        b_le(&kv, (uint64_t)r->scores_type, 4);
        b_le(&kv, (uint64_t)r->vocab, 8);
        size_t ss = tlb_gguf_vtype_size((uint32_t)r->scores_type);
        for (int i = 0; i < r->vocab; i++) {
            float s = i < 259 ? 0.0f : -(float)i;
            uint32_t u;
            memcpy(&u, &s, 4);
            b_le(&kv, ss == 4 ? u : (uint64_t)(i & 0x7f), (int)ss);
        }
        KEY("tokenizer.ggml.token_type", TLB_GGUF_ARRAY);
        b_le(&kv, (uint64_t)r->types_type, 4);
        b_le(&kv, (uint64_t)r->vocab, 8);
        size_t ts = tlb_gguf_vtype_size((uint32_t)r->types_type);
        for (int i = 0; i < r->vocab; i++) {
            int t = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
            if (i == 3 && r->byte_piece) t = r->byte_piece_type;
            b_le(&kv, (uint64_t)t, (int)ts);
        }
        KEY("tokenizer.ggml.bos_token_id", TLB_GGUF_I64);
        b_le(&kv, (uint64_t)r->bos_id, 8);
        KEY("tokenizer.ggml.eos_token_id", TLB_GGUF_U32);
        b_le(&kv, 2, 4);
    }
#undef KEY

    /* tensors: llama.cpp names, ne0 = row length */
    struct tdesc t[64];
    int nt = 0;
    const int64_t d = r->t_dim, h = r->t_hidden, kvd = r->t_kvd;
    const uint64_t V = r->vocab ? (uint64_t)r->vocab : 32;
#define T(nm, a, bb, nd, ty) (snprintf(t[nt].name, 64, "%s", nm), t[nt].ne0 = (uint64_t)(a), \
                              t[nt].ne1 = (uint64_t)(bb), t[nt].n_dims = nd, t[nt].type = ty, nt++)
    T("token_embd.weight", d, V, 2, r->wtype);
    for (int64_t l = 0; l < r->layers && l < 4; l++) {
        char n[64];
#define L(s, a, bb, nd, ty) (snprintf(n, 64, "blk.%d." s ".weight", (int)l), T(n, a, bb, nd, ty))
        L("attn_norm", d, 1, 1, 0);
        L("attn_q", d, d, 2, r->wtype);
        L("attn_k", d, kvd, 2, r->wtype);
        L("attn_v", d, kvd, 2, r->wtype);
        L("attn_output", d, d, 2, r->wtype);
        L("ffn_norm", d, 1, 1, 0);
        L("ffn_gate", d, h, 2, r->wtype);
        L("ffn_up", d, h, 2, r->wtype);
        L("ffn_down", h, d, 2, r->wtype);
#undef L
    }
    T("output_norm.weight", d, 1, 1, 0);
    if (r->with_output) T("output.weight", d, V, 2, r->wtype);
#undef T
    /* leave out / duplicate */
    for (int i = 0; i < nt; i++) {
        if (r->skip && !strcmp(t[i].name, r->skip)) {
            memmove(&t[i], &t[i + 1], (size_t)(nt - i - 1) * sizeof t[0]);
            nt--;
            i--;
        }
    }
    for (int i = 0; i < nt && r->dup; i++)
        if (!strcmp(t[i].name, r->dup)) {
            t[nt++] = t[i];
            break;
        }

    struct gb *b = &o->b;
    b_put(b, "GGUF", 4);
    b_le(b, r->version, 4);
    o->n_tensors_pos = b->n;
    b_le(b, (uint64_t)nt, 8);
    o->n_kv_pos = b->n;
    b_le(b, n_kv, 8);
    b_put(b, kv.p, kv.n);
    free(kv.p);
    uint64_t align = r->alignment_type == TLB_GGUF_U32 && r->alignment && !(r->alignment & (r->alignment - 1)) ? r->alignment : 32;
    uint64_t off = 0, sizes[64];
    for (int i = 0; i < nt; i++) {
        enum tlb_type tt;
        uint64_t bytes = tlb_type_from_ggml(t[i].type, &tt) == 0
                             ? tlb_type_row_bytes(tt, (int64_t)t[i].ne0) * t[i].ne1
                             : t[i].ne0 * t[i].ne1 / 256 * 144;
        sizes[i] = bytes;
        o->tinfo[i] = b->n;
        b_str(b, t[i].name);
        b_le(b, (uint64_t)t[i].n_dims, 4);
        b_le(b, t[i].ne0, 8);
        if (t[i].n_dims == 2) b_le(b, t[i].ne1, 8);
        b_le(b, t[i].type, 4);
        b_le(b, off, 8);
        off += (bytes + align - 1) / align * align;
    }
    o->n_t = nt;
    static const unsigned char zeros[4096];
    b_put(b, zeros, (size_t)((align - b->n % align) % align));
    for (int i = 0; i < nt; i++) {
        size_t start = b->n;
        tensor_data(b, t[i].type, t[i].ne0, t[i].ne1, (uint64_t)i);
        TLB_ASSERT(b->n - start == sizes[i]);
        if (i + 1 < nt) b_put(b, zeros, (size_t)((align - sizes[i] % align) % align));
    }
}

/* Position of a field of tensor info i: 0 name, 1 n_dims, 2 dims, 3 type, 4 offset. */
static size_t tfield(const struct built *o, int i, int field) {
    const unsigned char *p = o->b.p + o->tinfo[i];
    uint64_t nl = 0;
    for (int k = 7; k >= 0; k--) nl = nl << 8 | p[k];
    size_t pos = o->tinfo[i] + 8 + nl;
    if (field == 1) return pos;
    uint32_t nd = (uint32_t)(p[8 + nl] | p[9 + nl] << 8);
    pos += 4;
    if (field == 2) return pos;
    pos += 8 * nd;
    if (field == 3) return pos;
    return pos + 4;
}

/* ---- helpers ---- */

static char tmpdir[256];

/* Silence fd 2 (expected errors by the thousand); returns the saved descriptor. */
static int quiet_stderr(void) {
    fflush(stderr);
    int saved = dup(2), nul = open("/dev/null", O_WRONLY);
    if (nul >= 0) {
        dup2(nul, 2);
        close(nul);
    }
    return saved;
}

static void restore_stderr(int saved) {
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
}

static void remove_tmpdir(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* name inside a fresh temporary directory; a ring of 8 buffers, so a caller may hold a few */
static const char *tmp_path(const char *name) {
    static char buf[8][512];
    static int k;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/tlb-test-gguf-XXXXXX");
        if (!mkdtemp(tmpdir)) abort();
        atexit(remove_tmpdir);
    }
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static struct tlb_model *load_opts(const char *path, int convert, enum tlb_type t, int map) {
    struct tlb_load_opts o = {.spec = path, .convert = convert, .wtype = t, .n_threads = 1,
                              .map_weights = map};
    struct tlb_model *m = NULL;
    return tlb_model_load(&m, &o) == 0 ? m : NULL;
}

/* The default load: matrices copied into allocated memory. */
static struct tlb_model *load_path(const char *path, int convert, enum tlb_type t) {
    return load_opts(path, convert, t, 0);
}

/* Matrices left in the file mapping where their type allows (llama.cpp's mmap). */
static struct tlb_model *load_mapped(const char *path, int convert, enum tlb_type t) {
    return load_opts(path, convert, t, 1);
}

/* Run `tlbench ARGS...` (the binary next to the tests directory); returns the exit status and
 * the first bytes of stderr in err. -2 when the binary is absent. */
static int run_tlbench(char *err, size_t errn, const char *a1, const char *a2, const char *a3,
                       const char *a4, const char *a5) {
    char exe[PATH_MAX], bin[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -2;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -2;
    *slash = '\0';
    snprintf(bin, sizeof bin, "%s/../tlbench", exe);
    if (access(bin, X_OK) != 0) return -2;
    static char errf[512], outf[512]; /* not from tmp_path's ring: callers hold its paths */
    snprintf(errf, sizeof errf, "%s", tmp_path("stderr.txt"));
    snprintf(outf, sizeof outf, "%s", tmp_path("stdout.txt"));
    pid_t pid = fork();
    if (pid == 0) {
        int fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fo = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fe < 0 || fo < 0) _exit(126);
        dup2(fe, 2);
        dup2(fo, 1);
        execl(bin, bin, a1, a2, a3, a4, a5, (char *)NULL);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -3;
    err[0] = '\0';
    FILE *f = fopen(errf, "r");
    if (f) {
        size_t k = fread(err, 1, errn - 1, f);
        err[k] = '\0';
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The file must fail to load as a model (mode 0) or as a tokenizer (mode 1), from memory and
 * from a file, and `tlbench inspect` must exit 1 with a message naming it. Returns NULL when
 * all hold, else what went wrong. */
static const char *expect_bad(const struct built *o, int mode, const char *name) {
    static char why[600];
    const char *path = tmp_path(name);
    if (write_file(path, o->b.p, o->b.n)) return "cannot write the test file";
    struct tlb_gguf *g = NULL;
    int parsed = tlb_gguf_parse(&g, o->b.p, o->b.n, path) == 0;
    if (parsed) {
        if (mode == 0) {
            struct tlb_model *m = calloc(1, sizeof *m);
            struct tlb_load_opts lo = {.spec = path};
            int rc = tlb_gguf_model_from(m, g, &lo);
            tlb_model_free(m);
            if (rc != -1) return tlb_gguf_free(g), "model loaded from memory";
        } else {
            struct tlb_tokenizer *t = NULL;
            int rc = tlb_gguf_tokenizer_from(&t, g);
            tlb_tokenizer_free(t);
            if (rc != -1) return tlb_gguf_free(g), "tokenizer loaded from memory";
        }
        tlb_gguf_free(g);
    }
    if (mode == 0) {
        struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
        if (m) return tlb_model_free(m), "model loaded from the file";
    } else {
        struct tlb_tokenizer *t = NULL;
        if (tlb_tokenizer_open(&t, path, 0) != -1) return tlb_tokenizer_free(t), "tokenizer loaded";
    }
    char err[512];
    int rc = run_tlbench(err, sizeof err, "inspect", path, NULL, NULL, NULL);
    if (rc == -2) return NULL; /* binary not built (TEST= run of the library only) */
    if (rc != 1 || !strstr(err, path)) {
        snprintf(why, sizeof why, "inspect exited %d with stderr '%.400s'", rc, err);
        return why;
    }
    return NULL;
}

#define EXPECT_BAD(r, mode, name)                                                 \
    do {                                                                          \
        struct built o_;                                                          \
        build(&o_, &(r));                                                         \
        const char *w_ = expect_bad(&o_, mode, name);                             \
        free(o_.b.p);                                                             \
        TLB_CHECK(!w_, "%s: %s", name, w_);                                        \
    } while (0)

/* ---- the valid tiny file ---- */

TLB_TEST(tiny_valid_file_loads_copied_or_in_place) {
    struct recipe r = base_recipe();
    struct built o;
    build(&o, &r);
    const char *path = tmp_path("valid.gguf");
    TLB_CHECK(write_file(path, o.b.p, o.b.n) == 0, "write");
    free(o.b.p);
    /* mapped: the matrices point into the file's bytes; default: the same bytes, copied */
    struct tlb_model *mm = load_mapped(path, 0, TLB_TYPE_F32);
    TLB_CHECK(mm && !strcmp(mm->mapping, "mmap"), "mapped load: mapping '%s'",
              mm ? mm->mapping : "(failed)");
    struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
    TLB_CHECK(m, "valid tiny GGUF did not load");
    const struct tlb_tensor *a = &m->layers[0].w2, *b = &mm->layers[0].w2;
    int same = a->type == b->type && a->data != b->data &&
               !memcmp(a->data, b->data, tlb_type_row_bytes(a->type, a->cols) * (size_t)a->rows);
    tlb_model_free(mm);
    TLB_CHECK(same, "copied and mapped matrices differ (or the copy is the mapping)");
    int ok = m->cfg.dim == 8 && m->cfg.hidden_dim == 16 && m->cfg.vocab_size == 262 &&
             m->cfg.n_kv_heads == 1 && !strcmp(m->mapping, "copy") && !m->shared_classifier &&
             !strcmp(m->name, "tiny test");
    char mapping[64];
    snprintf(mapping, sizeof mapping, "%s", m->mapping);
    struct tlb_tokenizer *t = NULL;
    int trc = tlb_model_tokenizer(m, &t);
    tlb_model_free(m);
    TLB_CHECK(ok, "wrong config or mapping '%s'", mapping);
    TLB_CHECK(trc == 0 && t && tlb_tokenizer_vocab_size(t) == 262, "model's own vocabulary");
    tlb_tokenizer_free(t);
    char err[512];
    int rc = run_tlbench(err, sizeof err, "inspect", path, NULL, NULL, NULL);
    TLB_CHECK(rc == 0 || rc == -2, "inspect of a valid file exited %d: %s", rc, err);
    /* version 2 has the same layout (v3 only added big-endian files): it loads too */
    r.version = 2;
    build(&o, &r);
    struct tlb_gguf *g = NULL;
    rc = tlb_gguf_parse(&g, o.b.p, o.b.n, "v2");
    m = calloc(1, sizeof *m);
    struct tlb_load_opts lo = {.spec = "v2"};
    int mrc = rc == 0 ? tlb_gguf_model_from(m, g, &lo) : -1;
    tlb_model_free(m);
    tlb_gguf_free(g);
    free(o.b.p);
    TLB_CHECK(rc == 0 && mrc == 0, "a GGUF v2 file did not load");
}

/* ---- attack classes ---- */

TLB_TEST(hostile_header) {
    struct recipe r = base_recipe();
    struct built o;
    const char *w;
    build(&o, &r);
    memcpy(o.b.p, "GGUG", 4);
    w = expect_bad(&o, 0, "magic.gguf");
    TLB_CHECK(!w, "bad magic: %s", w);
    memcpy(o.b.p, "GGUF", 4);
    uint32_t versions[] = {0, 1, 4, 0x03000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        set_le(o.b.p + 4, versions[i], 4);
        w = expect_bad(&o, 0, "version.gguf");
        TLB_CHECK(!w, "version %u: %s", versions[i], w);
    }
    set_le(o.b.p + 4, 3, 4);
    /* tensor and key counts far beyond the file */
    uint64_t counts[] = {1ull << 20, 1ull << 40, UINT64_MAX, 100000};
    for (size_t i = 0; i < 4; i++) {
        set_le(o.b.p + o.n_tensors_pos, counts[i], 8);
        w = expect_bad(&o, 0, "ntensors.gguf");
        TLB_CHECK(!w, "n_tensors %llu: %s", (unsigned long long)counts[i], w);
    }
    set_le(o.b.p + o.n_tensors_pos, (uint64_t)o.n_t, 8);
    uint64_t nkv;
    memcpy(&nkv, o.b.p + o.n_kv_pos, 8);
    for (size_t i = 0; i < 4; i++) {
        set_le(o.b.p + o.n_kv_pos, counts[i], 8);
        w = expect_bad(&o, 0, "nkv.gguf");
        TLB_CHECK(!w, "n_kv %llu: %s", (unsigned long long)counts[i], w);
    }
    set_le(o.b.p + o.n_kv_pos, nkv + 1, 8); /* one key more than present */
    w = expect_bad(&o, 0, "nkv1.gguf");
    TLB_CHECK(!w, "n_kv + 1: %s", w);
    free(o.b.p);
}

TLB_TEST(hostile_string_and_array_lengths) {
    struct recipe r = base_recipe();
    struct built o;
    const char *w;
    build(&o, &r);
    /* the first key's length (offset 24) and the architecture string's length */
    uint64_t lens[] = {1ull << 62, UINT64_MAX, 0, (uint64_t)o.b.n};
    for (size_t i = 0; i < 4; i++) {
        unsigned char save[8];
        memcpy(save, o.b.p + 24, 8);
        set_le(o.b.p + 24, lens[i], 8);
        w = expect_bad(&o, 0, "keylen.gguf");
        TLB_CHECK(!w, "key length %llu: %s", (unsigned long long)lens[i], w);
        memcpy(o.b.p + 24, save, 8);
        size_t vpos = 24 + 8 + strlen("general.architecture") + 4;
        memcpy(save, o.b.p + vpos, 8);
        set_le(o.b.p + vpos, lens[i] ? lens[i] : 1ull << 33, 8);
        w = expect_bad(&o, 0, "strlen.gguf");
        TLB_CHECK(!w, "string length %llu: %s", (unsigned long long)lens[i], w);
        memcpy(o.b.p + vpos, save, 8);
    }
    /* the tokens array count: find "tokenizer.ggml.tokens" and patch the count after it */
    unsigned char *k = memmem(o.b.p, o.b.n, "tokenizer.ggml.tokens", 21);
    TLB_CHECK(k, "tokens key not found");
    unsigned char *cnt = k + 21 + 4 + 4;
    uint64_t counts[] = {1ull << 61, UINT64_MAX, 263, 1ull << 32};
    for (size_t i = 0; i < 4; i++) {
        set_le(cnt, counts[i], 8);
        w = expect_bad(&o, 1, "arrlen.gguf");
        TLB_CHECK(!w, "array count %llu: %s", (unsigned long long)counts[i], w);
    }
    set_le(cnt, 262, 8);
    set_le(cnt - 4, 13, 4); /* element type that is not a GGUF type */
    w = expect_bad(&o, 1, "arrtype.gguf");
    TLB_CHECK(!w, "array element type 13: %s", w);
    set_le(cnt - 4, TLB_GGUF_U32, 4); /* tokens as u32: the strings are then nonsense */
    w = expect_bad(&o, 1, "arru32.gguf");
    TLB_CHECK(!w, "tokens as u32: %s", w);
    set_le(cnt - 4, TLB_GGUF_STRING, 4);
    set_le(k + 21, 99, 4);    /* the key's value type */
    w = expect_bad(&o, 1, "vtype.gguf");
    TLB_CHECK(!w, "value type 99: %s", w);
    free(o.b.p);
}

TLB_TEST(hostile_metadata_types) {
    struct recipe r = base_recipe();
    r.scores_type = TLB_GGUF_U8;
    EXPECT_BAD(r, 1, "scores-u8.gguf");
    r = base_recipe();
    r.types_type = TLB_GGUF_I16;
    EXPECT_BAD(r, 1, "types-i16.gguf");
    r = base_recipe();
    r.hyper_as_string = 1;
    EXPECT_BAD(r, 0, "dim-string.gguf");
    r = base_recipe();
    r.arch = "gpt2";
    EXPECT_BAD(r, 0, "arch.gguf");
    r = base_recipe();
    r.dup_key = 1;
    EXPECT_BAD(r, 0, "dupkey.gguf");
    r = base_recipe();
    r.bos_id = 262;
    EXPECT_BAD(r, 1, "bos.gguf");
    r.bos_id = -5;
    EXPECT_BAD(r, 1, "bos-neg.gguf");
}

TLB_TEST(hostile_nested_arrays) {
    struct recipe r = base_recipe();
    r.nest_depth = 2; /* allowed: parses and loads */
    struct built o;
    build(&o, &r);
    struct tlb_gguf *g = NULL;
    int rc = tlb_gguf_parse(&g, o.b.p, o.b.n, "nested2");
    tlb_gguf_free(g);
    free(o.b.p);
    TLB_CHECK(rc == 0, "2-deep nested array rejected");
    r.nest_depth = TLB_GGUF_MAX_ARRAY_DEPTH + 1;
    EXPECT_BAD(r, 0, "nested-deep.gguf");
    r.nest_depth = 1000;
    EXPECT_BAD(r, 0, "nested-1000.gguf");
}

TLB_TEST(hostile_alignment) {
    struct recipe r = base_recipe();
    r.alignment_type = TLB_GGUF_U32;
    r.alignment = 64; /* valid and honoured */
    struct built o;
    build(&o, &r);
    const char *path = tmp_path("align64.gguf");
    TLB_CHECK(write_file(path, o.b.p, o.b.n) == 0, "write");
    free(o.b.p);
    struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
    TLB_CHECK(m, "alignment 64 rejected");
    tlb_model_free(m);
    uint64_t bad[] = {0, 3, 48, 0x80000001u};
    for (size_t i = 0; i < 4; i++) {
        r.alignment = bad[i];
        EXPECT_BAD(r, 0, "align.gguf");
    }
    r.alignment = 32;
    r.alignment_type = TLB_GGUF_U64;
    EXPECT_BAD(r, 0, "align-u64.gguf");
    r.alignment_type = TLB_GGUF_STRING;
    EXPECT_BAD(r, 0, "align-str.gguf");
    r.alignment_type = TLB_GGUF_I32;
    EXPECT_BAD(r, 0, "align-i32.gguf");
}

TLB_TEST(hostile_tensor_infos) {
    struct recipe r = base_recipe();
    struct built o;
    build(&o, &r);
    const char *w;
    unsigned char save[64];
    /* dimension products that overflow; zero dimensions */
    size_t dp = tfield(&o, 0, 2); /* token_embd.weight's two dimensions */
    memcpy(save, o.b.p + dp, 16);
    uint64_t dims[][2] = {{1ull << 32, 1ull << 32}, {UINT64_MAX, 1}, {8, 1ull << 61},
                          {0, 262}, {8, 0}, {1ull << 62, 4}};
    for (size_t i = 0; i < 6; i++) {
        set_le(o.b.p + dp, dims[i][0], 8);
        set_le(o.b.p + dp + 8, dims[i][1], 8);
        w = expect_bad(&o, 0, "dims.gguf");
        TLB_CHECK(!w, "dims %llu x %llu: %s", (unsigned long long)dims[i][0],
                  (unsigned long long)dims[i][1], w);
    }
    memcpy(o.b.p + dp, save, 16);
    /* n_dims 0 and 5 */
    size_t np = tfield(&o, 0, 1);
    uint32_t nds[] = {0, 5, 0xFFFFFFFFu};
    for (size_t i = 0; i < 3; i++) {
        set_le(o.b.p + np, nds[i], 4);
        w = expect_bad(&o, 0, "ndims.gguf");
        TLB_CHECK(!w, "n_dims %u: %s", nds[i], w);
    }
    set_le(o.b.p + np, 2, 4);
    /* unknown type ids, and a ggml type tlbench cannot run */
    size_t tp = tfield(&o, 0, 3);
    uint32_t types[] = {4, 5, 31, 43, 1000, 0xFFFFFFFFu, 12, 8};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        set_le(o.b.p + tp, types[i], 4);
        w = expect_bad(&o, 0, "type.gguf");
        TLB_CHECK(!w, "type %u: %s", types[i], w);
    }
    set_le(o.b.p + tp, 0, 4);
    /* offsets: past the end, wrapping around, misaligned, overlapping */
    size_t op = tfield(&o, o.n_t - 1, 4);
    uint64_t last_off;
    memcpy(&last_off, o.b.p + op, 8);
    uint64_t offs[] = {last_off + 32, (uint64_t)o.b.n, UINT64_MAX - 31, UINT64_MAX,
                       (1ull << 63), last_off + 4, last_off - 32, 0};
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
        set_le(o.b.p + op, offs[i], 8);
        w = expect_bad(&o, 0, "offset.gguf");
        TLB_CHECK(!w, "offset %llu: %s", (unsigned long long)offs[i], w);
    }
    set_le(o.b.p + op, last_off, 8);
    /* tensor name: empty, too long (length points into other data) */
    size_t nmp = o.tinfo[0];
    memcpy(save, o.b.p + nmp, 8);
    set_le(o.b.p + nmp, 0, 8);
    w = expect_bad(&o, 0, "name0.gguf");
    TLB_CHECK(!w, "empty name: %s", w);
    set_le(o.b.p + nmp, 200, 8);
    w = expect_bad(&o, 0, "name200.gguf");
    TLB_CHECK(!w, "long name: %s", w);
    free(o.b.p);
}

TLB_TEST(hostile_hyperparameters) {
    struct recipe r;
    struct { const char *name; int64_t *field; int64_t v; } cases[] = {
        {"layers0", &r.layers, 0},        {"layers-huge", &r.layers, 1ll << 31},
        {"layers-u32max", &r.layers, 0xFFFFFFFFll},
        {"heads0", &r.heads, 0},          {"heads3", &r.heads, 3},
        {"heads-huge", &r.heads, 1ll << 30},
        {"kv0", &r.kv_heads, 0},          {"kv3", &r.kv_heads, 3},
        {"kv-more", &r.kv_heads, 4},      {"kv-neg", &r.kv_heads, -1},
        {"dim0", &r.dim, 0},              {"dim-huge", &r.dim, 1ll << 40},
        {"hidden-mismatch", &r.hidden, 32}, {"ctx0", &r.ctx, 0},
        {"rope-dims", &r.rope_dims, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        r = base_recipe();
        *cases[i].field = cases[i].v; /* the builder writes at most 4 blocks of tensors */
        char name[64];
        snprintf(name, sizeof name, "%s.gguf", cases[i].name);
        EXPECT_BAD(r, 0, name);
    }
    /* a hidden size that disagrees with the tensor shapes */
    r = base_recipe();
    r.t_hidden = 24;
    EXPECT_BAD(r, 0, "tensor-hidden.gguf");
    /* two layers declared, tensors for one... the builder writes min(layers, 4) blocks, so
     * declare 5 blocks: blk.4 is missing */
    r = base_recipe();
    r.layers = 5;
    EXPECT_BAD(r, 0, "layers5.gguf");
}

TLB_TEST(hostile_missing_and_duplicate_tensors) {
    const char *names[] = {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight",
                           "blk.0.attn_norm.weight", "output_norm.weight"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct recipe r = base_recipe();
        r.skip = names[i];
        EXPECT_BAD(r, 0, "missing.gguf");
        r = base_recipe();
        r.dup = names[i];
        EXPECT_BAD(r, 0, "dup.gguf");
    }
    /* output.weight absent is not an attack: the classifier is tied to token_embd */
    struct recipe r = base_recipe();
    r.with_output = 0;
    struct built o;
    build(&o, &r);
    const char *path = tmp_path("tied.gguf");
    TLB_CHECK(write_file(path, o.b.p, o.b.n) == 0, "write");
    free(o.b.p);
    struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
    TLB_CHECK(m && m->shared_classifier, "tied classifier not accepted");
    tlb_model_free(m);
}

TLB_TEST(hostile_byte_tokens) {
    const char *bad[] = {"<0x-1>", "<0xZZ>", "<0x1>", "<0x100>", "<0X41>", "0x41"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct recipe r = base_recipe();
        r.byte_piece = bad[i];
        r.byte_piece_type = TLB_TOK_BYTE; /* claims to be a byte token: refused */
        EXPECT_BAD(r, 1, "bytetok.gguf");
        /* as a normal piece it loads, and is not treated as a byte */
        r.byte_piece_type = TLB_TOK_NORMAL;
        struct built o;
        build(&o, &r);
        struct tlb_gguf *g = NULL;
        struct tlb_tokenizer *t = NULL;
        int rc = tlb_gguf_parse(&g, o.b.p, o.b.n, "bytetok") == 0 ? tlb_gguf_tokenizer_from(&t, g) : -1;
        int type = 0;
        size_t len = 0;
        if (rc == 0) tlb_tokenizer_piece_raw(t, 3, &len, NULL, &type);
        /* byte 0x00 has no token now: encoding it must not produce token 3 */
        int ids[8], n = rc == 0 ? tlb_tokenize(t, "\0", 1, 0, 0, ids, 8) : -1;
        tlb_tokenizer_free(t);
        tlb_gguf_free(g);
        free(o.b.p);
        TLB_CHECK(rc == 0 && type == TLB_TOK_NORMAL, "%s as a normal piece: rc %d type %d", bad[i],
                  rc, type);
        for (int k = 0; k < n; k++) TLB_CHECK(ids[k] != 3, "%s used as byte 0x00", bad[i]);
    }
}

TLB_TEST(unsupported_ggml_type_refused) {
    /* q4_K is a real ggml type: the file parses, but the model is refused by name */
    struct recipe r = base_recipe();
    r.wtype = 12;
    r.dim = r.t_dim = 256;
    r.hidden = r.t_hidden = 256;
    r.t_kvd = 128;
    r.rope_dims = 128;
    struct built o;
    build(&o, &r);
    struct tlb_gguf *g = NULL;
    int rc = tlb_gguf_parse(&g, o.b.p, o.b.n, "q4K");
    tlb_gguf_free(g);
    const char *w = expect_bad(&o, 0, "q4K.gguf");
    free(o.b.p);
    TLB_CHECK(rc == 0, "a valid q4_K file did not parse");
    TLB_CHECK(!w, "q4_K: %s", w);
}

TLB_TEST(requantize_refused_dequantize_allowed) {
    struct recipe r = base_recipe();
    r.wtype = 8; /* q8_0 matrices: dim 8 is not a multiple of 32 */
    EXPECT_BAD(r, 0, "q8-rows8.gguf");
    r.dim = r.t_dim = 32;
    r.heads = 4;
    r.kv_heads = 2;
    r.t_kvd = 16;
    r.rope_dims = 8;
    r.hidden = r.t_hidden = 64;
    struct built o;
    build(&o, &r);
    const char *path = tmp_path("q8.gguf");
    TLB_CHECK(write_file(path, o.b.p, o.b.n) == 0, "write");
    free(o.b.p);
    struct tlb_model *m = load_mapped(path, 0, TLB_TYPE_F32);
    TLB_CHECK(m && m->wtype == TLB_TYPE_Q8_0 && !strcmp(m->mapping, "mmap"), "q8_0 in place");
    tlb_model_free(m);
    m = load_path(path, 1, TLB_TYPE_Q4_0);
    TLB_CHECK(!m, "q8_0 -> q4_0 requantization was not refused");
    m = load_path(path, 1, TLB_TYPE_F16);
    TLB_CHECK(!m, "q8_0 -> f16 was not refused");
    m = load_path(path, 1, TLB_TYPE_F32);
    TLB_CHECK(m && m->layers[0].wq.type == TLB_TYPE_F32 && !strcmp(m->mapping, "copy"),
              "q8_0 -> f32 dequantization refused");
    tlb_model_free(m);
    m = load_mapped(path, 1, TLB_TYPE_Q8_0);
    TLB_CHECK(m && !strcmp(m->mapping, "mmap"), "q8_0 -> q8_0 not in place");
    tlb_model_free(m);
    setenv("TLBENCH_MMAP", "1", 1); /* the environment's way to ask for the mapping */
    m = load_path(path, 1, TLB_TYPE_Q8_0);
    unsetenv("TLBENCH_MMAP");
    TLB_CHECK(m && !strcmp(m->mapping, "mmap"), "TLBENCH_MMAP=1 did not keep the mapping");
    tlb_model_free(m);
}

/* ---- truncation at every byte ---- */

TLB_TEST(truncation_every_prefix_fails) {
    struct recipe r = base_recipe();
    struct built o;
    build(&o, &r);
    struct tlb_gguf *g = NULL;
    TLB_CHECK(tlb_gguf_parse(&g, o.b.p, o.b.n, "full") == 0, "the full file does not parse");
    tlb_gguf_free(g);
    int loaded = 0, tok = 0;
    int saved = quiet_stderr(); /* thousands of (expected) one-line errors */
    for (size_t n = 0; n < o.b.n; n++) {
        unsigned char *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, o.b.p, n);
        if (tlb_gguf_parse(&g, copy, n, "prefix") == 0) {
            struct tlb_model *m = calloc(1, sizeof *m);
            struct tlb_load_opts lo = {.spec = "prefix"};
            if (tlb_gguf_model_from(m, g, &lo) == 0) loaded++;
            struct tlb_tokenizer *t = NULL;
            if (tlb_gguf_tokenizer_from(&t, g) == 0) tok++;
            tlb_tokenizer_free(t);
            tlb_model_free(m);
            tlb_gguf_free(g);
        }
        free(copy);
    }
    restore_stderr(saved);
    free(o.b.p);
    TLB_CHECK(loaded == 0 && tok == 0, "%d truncated files loaded as models, %d as tokenizers",
              loaded, tok);
}

/* ---- round trips ---- */

static int same_tensor(const struct tlb_tensor *a, const struct tlb_tensor *b) {
    if (a->type != b->type || a->rows != b->rows || a->cols != b->cols) return 0;
    size_t n = tlb_type_row_bytes(a->type, a->cols) * (size_t)a->rows;
    return memcmp(a->data, b->data, n) == 0;
}

TLB_TEST(synthetic_roundtrip_bit_identical) {
    enum tlb_type types[] = {TLB_TYPE_F32, TLB_TYPE_F16, TLB_TYPE_BF16, TLB_TYPE_Q8_0,
                             TLB_TYPE_Q4_0};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        struct tlb_load_opts lo = {.spec = "synthetic:tiny", .convert = 1, .wtype = types[i],
                                   .seed = 7, .n_threads = 2};
        struct tlb_model *a = NULL, *b = NULL;
        TLB_CHECK(tlb_model_load(&a, &lo) == 0, "synthetic load");
        const char *path = tmp_path("synth.gguf");
        TLB_CHECK(tlb_gguf_write_model(path, a, NULL) == 0, "write %s",
                  tlb_type_traits(types[i])->name);
        b = load_path(path, 0, TLB_TYPE_F32);
        TLB_CHECK(b, "read back %s", tlb_type_traits(types[i])->name);
        int ok = same_tensor(&a->tok_embd, &b->tok_embd) && same_tensor(&a->output, &b->output) &&
                 !memcmp(a->final_norm, b->final_norm, (size_t)a->cfg.dim * 4) &&
                 !memcmp(&a->cfg, &b->cfg, sizeof a->cfg) && b->wtype == types[i] &&
                 !strcmp(b->mapping, "copy");
        for (int l = 0; ok && l < a->cfg.n_layers; l++) {
            const struct tlb_layer *x = &a->layers[l], *y = &b->layers[l];
            ok = same_tensor(&x->wq, &y->wq) && same_tensor(&x->wk, &y->wk) &&
                 same_tensor(&x->wv, &y->wv) && same_tensor(&x->wo, &y->wo) &&
                 same_tensor(&x->w1, &y->w1) && same_tensor(&x->w2, &y->w2) &&
                 same_tensor(&x->w3, &y->w3) &&
                 !memcmp(x->attn_norm, y->attn_norm, (size_t)a->cfg.dim * 4) &&
                 !memcmp(x->ffn_norm, y->ffn_norm, (size_t)a->cfg.dim * 4);
        }
        /* the generated vocabulary: Llama layout, loads as a tokenizer */
        struct tlb_tokenizer *t = NULL;
        int trc = tlb_model_tokenizer(b, &t);
        size_t len = 0;
        int type = 0;
        const char *p = trc == 0 ? tlb_tokenizer_piece_raw(t, 3 + 0x41, &len, NULL, &type) : NULL;
        int vocab_ok = p && len == 6 && !memcmp(p, "<0x41>", 6) && type == TLB_TOK_BYTE &&
                       tlb_tokenizer_bos(t) == 1 && tlb_tokenizer_eos(t) == 2;
        tlb_tokenizer_free(t);
        tlb_model_free(a);
        tlb_model_free(b);
        TLB_CHECK(ok, "%s tensors differ after a round trip", tlb_type_traits(types[i])->name);
        TLB_CHECK(vocab_ok, "generated vocabulary wrong");
    }
}

static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Copying out of the file mapping must not hold both: the copied tensors' file pages are
 * dropped as the load goes, so the load's peak RSS grows by about one model, not two. */
TLB_TEST(copying_load_peak_is_one_model) {
    struct tlb_load_opts lo = {.spec = "synthetic:small", .seed = 3, .n_threads = 1};
    struct tlb_model *a = NULL;
    TLB_CHECK(tlb_model_load(&a, &lo) == 0, "synthetic load");
    const char *path = tmp_path("peak.gguf");
    TLB_CHECK(tlb_gguf_write_model(path, a, NULL) == 0, "write");
    const double wbytes = (double)tlb_model_weight_bytes(a);
    tlb_model_free(a);
    if (status_kb("VmHWM") < 0) {
        printf("  skipped: no VmHWM in /proc/self/status\n");
        return;
    }
    int fd[2];
    TLB_CHECK(pipe(fd) == 0, "pipe");
    pid_t pid = fork();
    if (pid == 0) { /* a fresh high-water mark: the child's starts at its RSS now */
        close(fd[0]);
        long before = status_kb("VmHWM");
        struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
        long grew[2] = {m ? status_kb("VmHWM") - before : -1, m ? (long)strcmp(m->mapping, "copy") : 1};
        tlb_model_free(m);
        _exit(write(fd[1], grew, sizeof grew) == (ssize_t)sizeof grew ? 0 : 1);
    }
    close(fd[1]);
    long grew[2] = {-1, 1};
    ssize_t got = read(fd[0], grew, sizeof grew);
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    TLB_CHECK(got == (ssize_t)sizeof grew && grew[0] >= 0 && grew[1] == 0, "child load failed");
    const double ratio = (double)grew[0] * 1024.0 / wbytes;
    printf("  load peak RSS grew %.1f MiB for %.1f MiB of weights (%.2fx)\n",
           (double)grew[0] / 1024.0, wbytes / 1048576.0, ratio);
    TLB_CHECK(ratio > 0.8 && ratio < 1.4, "load peak grew %.2fx the weights (want ~1x: copy "
              "without holding the mapped file as well)", ratio);
}

TLB_TEST(writer_leaves_no_partial_file) {
    struct tlb_load_opts lo = {.spec = "synthetic:tiny", .seed = 1, .n_threads = 1};
    struct tlb_model *a = NULL;
    TLB_CHECK(tlb_model_load(&a, &lo) == 0, "synthetic load");
    int rc = tlb_gguf_write_model("/nonexistent-dir/x.gguf", a, NULL);
    TLB_CHECK(rc == -1, "write into a missing directory succeeded");
    /* a full disk, simulated by a 4 KB file size limit in a child: the write fails, and
     * neither the target nor the temporary file may remain */
    {
        const char *path = tmp_path("full.gguf");
        unlink(path);
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {4096, 4096};
            setrlimit(RLIMIT_FSIZE, &rl);
            _exit(tlb_gguf_write_model(path, a, NULL) == -1 ? 0 : 1);
        }
        int st;
        waitpid(pid, &st, 0);
        TLB_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer did not report the failure");
        TLB_CHECK(access(path, F_OK) != 0, "a partial %s was left behind", path);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "ls %s | grep -q 'full.gguf.tmp'", tmpdir);
        TLB_CHECK(system(cmd) != 0, "a temporary file was left behind");
    }
    tlb_model_free(a);
}

/* Greedy ids of n steps from BOS. */
static int greedy(const struct tlb_model *m, int n, int *ids) {
    struct tlb_engine_opts eo = {.kernel = tlb_kernel_find("naive"), .n_threads = 1,
                                 .ctx_len = n, .kv_type = TLB_TYPE_F32};
    struct tlb_engine *e = NULL;
    if (!eo.kernel || tlb_engine_create(&e, m, &eo) != 0) return -1;
    float *logits = malloc((size_t)m->cfg.vocab_size * sizeof(float));
    int token = 1, rc = 0;
    for (int pos = 0; pos < n; pos++) {
        if (tlb_engine_forward(e, &token, 1, pos, logits, 0) != 0) {
            rc = -1;
            break;
        }
        ids[pos] = token = tlb_argmax(logits, m->cfg.vocab_size);
    }
    free(logits);
    tlb_engine_free(e);
    return rc;
}

TLB_TEST(stories260k_gguf_same_tokens_as_bin) {
    char mp[512], tp[512];
    if (!tlb_test_data(mp, sizeof mp, "stories260K/stories260K.bin") ||
        !tlb_test_data(tp, sizeof tp, "stories260K/tok512.bin"))
        TLB_SKIP("needs %s/stories260K (shared data absent)", tlb_test_data_dir());
    struct tlb_model *bin = load_path(mp, 0, TLB_TYPE_F32);
    TLB_CHECK(bin, "load .bin");
    struct tlb_tokenizer *tok = NULL;
    TLB_CHECK(tlb_tokenizer_open(&tok, tp, 512) == 0, "tok512");
    const char *path = tmp_path("s260.gguf");
    TLB_CHECK(tlb_gguf_write_model(path, bin, tok) == 0, "write");
    struct tlb_model *gg = load_path(path, 0, TLB_TYPE_F32);
    TLB_CHECK(gg && gg->shared_classifier, "load the GGUF");
    int a[200], b[200];
    TLB_CHECK(greedy(bin, 200, a) == 0 && greedy(gg, 200, b) == 0, "generation failed");
    int first = -1;
    for (int i = 0; i < 200 && first < 0; i++)
        if (a[i] != b[i]) first = i;
    /* the embedded vocabulary equals tok512.bin piece by piece */
    struct tlb_tokenizer *t2 = NULL;
    TLB_CHECK(tlb_model_tokenizer(gg, &t2) == 0, "the GGUF's vocabulary");
    int bad = -1;
    for (int i = 0; i < 512 && bad < 0; i++) {
        size_t la, lb;
        float sa, sb;
        int ta, tb;
        const char *pa = tlb_tokenizer_piece_raw(tok, i, &la, &sa, &ta);
        const char *pb = tlb_tokenizer_piece_raw(t2, i, &lb, &sb, &tb);
        if (la != lb || memcmp(pa, pb, la) || sa != sb || ta != tb) bad = i;
    }
    tlb_tokenizer_free(t2);
    tlb_tokenizer_free(tok);
    tlb_model_free(bin);
    tlb_model_free(gg);
    TLB_CHECK(first < 0, "greedy ids differ from position %d", first);
    TLB_CHECK(bad < 0, "vocabulary differs at token %d", bad);
}

TLB_TEST(stories260k_q8_0_q4_0_fall_back_and_generate) {
    char mp[512];
    if (!tlb_test_data(mp, sizeof mp, "stories260K/stories260K.bin"))
        TLB_SKIP("needs %s/stories260K (shared data absent)", tlb_test_data_dir());
    enum tlb_type types[] = {TLB_TYPE_Q8_0, TLB_TYPE_Q4_0};
    for (int i = 0; i < 2; i++) {
        struct tlb_model *src = load_path(mp, 1, types[i]);
        TLB_CHECK(src, "load with conversion");
        const char *path = tmp_path("s260q.gguf");
        TLB_CHECK(tlb_gguf_write_model(path, src, NULL) == 0, "write");
        tlb_model_free(src);
        struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
        TLB_CHECK(m, "load %s GGUF", tlb_type_traits(types[i])->name);
        /* hidden_dim 172 is not a multiple of 32: ffn_down rows fall back to f16 */
        int ok = m->wtype == types[i] && m->layers[0].w2.type == TLB_TYPE_F16 &&
                 m->layers[0].w1.type == types[i] && m->tok_embd.type == types[i];
        int ids[40];
        int gen = greedy(m, 40, ids);
        int in_range = 1;
        for (int k = 0; gen == 0 && k < 40; k++) in_range &= ids[k] >= 0 && ids[k] < 512;
        tlb_model_free(m);
        TLB_CHECK(ok, "types after fallback wrong");
        TLB_CHECK(gen == 0 && in_range, "generation failed");
        char err[512];
        int rc = run_tlbench(err, sizeof err, "inspect", path, NULL, NULL, NULL);
        if (rc == -2) continue;
        TLB_CHECK(rc == 0, "inspect exited %d: %s", rc, err);
        FILE *f = fopen(tmp_path("stdout.txt"), "r");
        TLB_CHECK(f, "inspect output");
        char line[256];
        int fb = 0, main_type = 0;
        while (fgets(line, sizeof line, f)) {
            if (strstr(line, "blk.0.ffn_down.weight") && strstr(line, " f16 ")) fb = 1;
            if (strstr(line, "blk.0.ffn_gate.weight") &&
                strstr(line, tlb_type_traits(types[i])->name))
                main_type = 1;
        }
        fclose(f);
        TLB_CHECK(fb && main_type, "inspect does not show the f16 fallback of ffn_down");
    }
}

/* ---- llama.cpp's vocabulary GGUF ---- */

TLB_TEST(llama_spm_vocab_gguf_vectors) {
    char vp[512], ip[512], op[512];
    if (!tlb_test_data(vp, sizeof vp, "tokenizer/ggml-vocab-llama-spm.gguf") ||
        !tlb_test_data(ip, sizeof ip, "tokenizer/ggml-vocab-llama-spm.gguf.inp") ||
        !tlb_test_data(op, sizeof op, "tokenizer/ggml-vocab-llama-spm.gguf.out"))
        TLB_SKIP("needs %s/tokenizer/ggml-vocab-llama-spm.gguf(.inp/.out)", tlb_test_data_dir());
    struct tlb_tokenizer *t = NULL;
    TLB_CHECK(tlb_tokenizer_open(&t, vp, 32000) == 0, "vocab GGUF did not load");
    TLB_CHECK(tlb_tokenizer_bos(t) == 1 && tlb_tokenizer_eos(t) == 2, "BOS/EOS");
    size_t ni, no;
    char *inp = tlb_read_file(ip, 1 << 20, &ni), *out = tlb_read_file(op, 1 << 20, &no);
    TLB_CHECK(inp && out, "read vectors");
    const char *sep = "\n__ggml_vocab_test__\n";
    char *s = inp, *line = out;
    int cases = 0, failed = -1;
    int *ids = malloc(8192 * sizeof *ids);
    while (failed < 0) {
        char *e = strstr(s, sep);
        if (!e) break;
        char *nl = strchr(line, '\n');
        if (!nl) break;
        *nl = '\0';
        int want[1024], nw = 0;
        for (char *q = line; nw < 1024;) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[nw++] = (int)v;
            q = end;
        }
        int n = tlb_tokenize(t, s, (size_t)(e - s), 0, 0, ids, 8192);
        if (n != nw || memcmp(ids, want, (size_t)nw * sizeof *ids)) failed = cases;
        cases++;
        s = e + strlen(sep);
        line = nl + 1;
    }
    free(ids);
    free(inp);
    free(out);
    tlb_tokenizer_free(t);
    TLB_CHECK(failed < 0, "case %d differs", failed);
    TLB_CHECK(cases == 46, "ran %d cases, expected 46", cases);
    /* and through the CLI */
    char err[512];
    int rc = run_tlbench(err, sizeof err, "tokenize", "--tokenizer", vp, "--text",
                         "Hello world");
    if (rc == -2) return;
    TLB_CHECK(rc == 0, "tokenize exited %d: %s", rc, err);
    FILE *f = fopen(tmp_path("stdout.txt"), "r");
    char got[128] = "";
    TLB_CHECK(f && fgets(got, sizeof got, f), "tokenize output");
    fclose(f);
    TLB_CHECK(!strcmp(got, "15043 3186\n"), "tokenize gave '%s'", got);
}

/* ---- llama2.c .bin: truncation and header lies ---- */

TLB_TEST(llama2c_truncation_and_header_lies) {
    /* a tiny valid checkpoint: dim 8, hidden 16, 1 layer, 2 heads, 1 kv head, vocab 16, seq 4 */
    int32_t hdr[7] = {8, 16, 1, 2, 1, 16, 4};
    const int d = 8, h = 16, L = 1, kv = 4, V = 16, S = 4, hs = 4;
    size_t floats = (size_t)(V * d + L * d + L * d * d + 2 * L * kv * d + L * d * d + L * d +
                             3 * L * h * d + d + S * hs);
    size_t n = 28 + 4 * floats;
    unsigned char *buf = malloc(n);
    memcpy(buf, hdr, 28);
    for (size_t i = 0; i < floats; i++) {
        float f = val(i);
        memcpy(buf + 28 + 4 * i, &f, 4);
    }
    const char *path = tmp_path("tiny.bin");
    TLB_CHECK(write_file(path, buf, n) == 0, "write");
    struct tlb_model *m = load_path(path, 0, TLB_TYPE_F32);
    TLB_CHECK(m, "valid tiny .bin did not load");
    tlb_model_free(m);
    int saved = quiet_stderr();
    int loaded = 0;
    for (size_t k = 0; k < n; k++) {
        if (write_file(path, buf, k)) break;
        m = load_path(path, 0, TLB_TYPE_F32);
        if (m) loaded++;
        tlb_model_free(m);
    }
    restore_stderr(saved);
    TLB_CHECK(loaded == 0, "%d truncated .bin files loaded", loaded);
    /* header lies: each field bent, file size unchanged */
    int32_t lies[][2] = {{0, 0},  {0, -8},       {0, 16},      {1, 0},       {1, INT32_MAX},
                         {2, 0},  {2, 2},        {2, -1},      {3, 0},       {3, 3},
                         {4, 0},  {4, 3},        {4, 4},       {5, 0},       {5, INT32_MIN},
                         {5, -16}, {6, 0},        {6, INT32_MAX}, {3, 1 << 30}, {0, INT32_MAX}};
    for (size_t i = 0; i < sizeof lies / sizeof *lies; i++) {
        unsigned char *c = malloc(n);
        memcpy(c, buf, n);
        memcpy(c + 4 * lies[i][0], &lies[i][1], 4);
        TLB_CHECK(write_file(path, c, n) == 0, "write");
        free(c);
        m = load_path(path, 0, TLB_TYPE_F32);
        tlb_model_free(m);
        TLB_CHECK(!m, "header field %d = %d accepted", lies[i][0], lies[i][1]);
        char err[512];
        int rc = run_tlbench(err, sizeof err, "inspect", path, NULL, NULL, NULL);
        TLB_CHECK(rc == 1 || rc == -2, "inspect exited %d for field %d = %d", rc, lies[i][0],
                  lies[i][1]);
    }
    free(buf);
}

TLB_TEST_MAIN()
