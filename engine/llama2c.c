/* llama2c.c — reads llama2.c checkpoints (the "legacy" v0 export run.c reads): a header of 7
 * little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
 * a negative vocab_size means a separate classifier follows), then f32 tensors in a fixed
 * order, including two unused RoPE tables. The file is untrusted: the header is validated and
 * the exact file size it implies is checked before any tensor is touched. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "util.h"

/* Copy (and convert) one matrix out of the mapped file. */
static int take_matrix(struct tlb_model *m, const struct tlb_load_opts *o, struct tlb_tensor *t,
                       const char *name, const float *src, int64_t rows, int64_t cols) {
    enum tlb_type type = o->convert ? tlb_model_type_for(o->wtype, cols) : TLB_TYPE_F32;
    if (tlb_model_tensor_from_f32(m, t, name, type, rows, cols, src)) return -1;
    /* the copy is the model's now (a tied classifier faults the pages in again) */
    tlb_drop_mapped(src, (size_t)rows * (size_t)cols * sizeof(float));
    return 0;
}

static float *take_vector(struct tlb_model *m, const float *src, size_t n, const char *what) {
    float *v = tlb_model_alloc(m, n * sizeof(float), what);
    if (v) memcpy(v, src, n * sizeof(float));
    return v;
}

int tlb_llama2c_load(struct tlb_model *m, const char *path, const struct tlb_load_opts *o) {
    uint64_t fsize;
    int fd = tlb_open_regular_size(path, &fsize);
    if (fd < 0) return -1;
    size_t file_size = (size_t)fsize;
    int32_t hdr[7];
    if (file_size < sizeof hdr || pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) {
        tlb_error("%s: truncated: a llama2.c checkpoint starts with a 28-byte header", path);
        close(fd);
        return -1;
    }
    if (hdr[0] == 0x616b3432) { /* "ak42": llama2.c's newer export versions */
        tlb_error("%s: llama2.c export version %d is not supported (use the legacy export)",
                  path, file_size >= 8 ? (int)hdr[1] : -1);
        close(fd);
        return -1;
    }
    struct tlb_config *c = &m->cfg;
    int shared = hdr[5] > 0;
    *c = (struct tlb_config){
        .dim = hdr[0], .hidden_dim = hdr[1], .n_layers = hdr[2], .n_heads = hdr[3],
        .n_kv_heads = hdr[4], .vocab_size = hdr[5] == INT32_MIN ? 0 : abs(hdr[5]),
        .seq_len = hdr[6], .rms_eps = 1e-5f, .rope_theta = 10000.0f};
    if (tlb_config_check(c, path) != 0) {
        close(fd);
        return -1;
    }
    /* Expected float count, in 64-bit arithmetic: config_check bounds every factor so these
     * products cannot overflow 64 bits. */
    const uint64_t d = (uint64_t)c->dim, h = (uint64_t)c->hidden_dim, L = (uint64_t)c->n_layers;
    const uint64_t kv = (uint64_t)tlb_kv_dim(c), V = (uint64_t)c->vocab_size;
    const uint64_t hs = (uint64_t)tlb_head_dim(c), S = (uint64_t)c->seq_len;
    uint64_t floats = V * d + L * d + L * d * d + 2 * L * kv * d + L * d * d + L * d +
                      3 * L * h * d + d + S * hs;
    if (!shared) floats += V * d;
    uint64_t expect = 28 + 4 * floats;
    if (expect != (uint64_t)file_size) {
        tlb_error("%s: file is %zu bytes but its header (dim %d, hidden %d, layers %d, heads %d, "
                  "kv heads %d, vocab %d, seq_len %d) implies %llu bytes",
                  path, file_size, c->dim, c->hidden_dim, c->n_layers, c->n_heads,
                  c->n_kv_heads, c->vocab_size, c->seq_len, (unsigned long long)expect);
        close(fd);
        return -1;
    }
    void *map = mmap(NULL, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        tlb_error("%s: mmap failed: %s", path, strerror(errno));
        return -1;
    }
    const float *p = (const float *)((const char *)map + 28);
    int rc = -1;
    m->layers = tlb_calloc(L, sizeof *m->layers, "layers");
    if (!m->layers) goto done;
    const float *tok = p;
    p += V * d;
    const float *rms_att = p;   p += L * d;
    const float *wq = p;        p += L * d * d;
    const float *wk = p;        p += L * kv * d;
    const float *wv = p;        p += L * kv * d;
    const float *wo = p;        p += L * d * d;
    const float *rms_ffn = p;   p += L * d;
    const float *w1 = p;        p += L * h * d;
    const float *w2 = p;        p += L * d * h;
    const float *w3 = p;        p += L * h * d;
    const float *rms_final = p; p += d;
    p += S * hs; /* freq_cis_real and freq_cis_imag: S * hs/2 each, unused (RoPE computed) */
    const float *wcls = shared ? tok : p;

    if (take_matrix(m, o, &m->tok_embd, "token_embd", tok, (int64_t)V, (int64_t)d)) goto done;
    for (uint64_t l = 0; l < L; l++) {
        struct tlb_layer *ly = &m->layers[l];
        if (!(ly->attn_norm = take_vector(m, rms_att + l * d, d, "attn_norm")) ||
            !(ly->ffn_norm = take_vector(m, rms_ffn + l * d, d, "ffn_norm")) ||
            take_matrix(m, o, &ly->wq, "attn_q", wq + l * d * d, (int64_t)d, (int64_t)d) ||
            take_matrix(m, o, &ly->wk, "attn_k", wk + l * kv * d, (int64_t)kv, (int64_t)d) ||
            take_matrix(m, o, &ly->wv, "attn_v", wv + l * kv * d, (int64_t)kv, (int64_t)d) ||
            take_matrix(m, o, &ly->wo, "attn_output", wo + l * d * d, (int64_t)d, (int64_t)d) ||
            take_matrix(m, o, &ly->w1, "ffn_gate", w1 + l * h * d, (int64_t)h, (int64_t)d) ||
            take_matrix(m, o, &ly->w2, "ffn_down", w2 + l * d * h, (int64_t)d, (int64_t)h) ||
            take_matrix(m, o, &ly->w3, "ffn_up", w3 + l * h * d, (int64_t)h, (int64_t)d))
            goto done;
    }
    if (!(m->final_norm = take_vector(m, rms_final, d, "output_norm"))) goto done;
    m->shared_classifier = shared;
    if (shared) m->output = m->tok_embd;
    else if (take_matrix(m, o, &m->output, "output", wcls, (int64_t)V, (int64_t)d)) goto done;
    m->output.name = "output";
    snprintf(m->format, sizeof m->format, "llama2c");
    snprintf(m->mapping, sizeof m->mapping, "copy");
    const char *base = strrchr(path, '/');
    snprintf(m->name, sizeof m->name, "%s", base ? base + 1 : path);
    char *dot = strrchr(m->name, '.');
    if (dot && dot != m->name) *dot = '\0';
    rc = 0;
done:
    munmap(map, file_size);
    return rc;
}
