/* safetensors.h — Hugging Face safetensors checkpoints of Llama models (as TinyLlama-1.1B is
 * published): config.json + model.safetensors, or shards listed by model.safetensors.index.json.
 * As for GGUF, the container (safetensors.c: file layout, JSON header, shard index) is apart
 * from what the tensors mean (safetensors-model.c: config.json, the Llama tensor names and
 * shapes, conversion). q_proj/k_proj rows are permuted at load from HF's rotate-half RoPE
 * order to the engine's interleaved pairs. Everything read is untrusted; parsing uses cJSON
 * (libcjson-dev). */
#ifndef TLB_SAFETENSORS_H
#define TLB_SAFETENSORS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Load spec: a directory (config.json + model.safetensors or model.safetensors.index.json), a
 * .safetensors file (config.json from its directory), config.json, or the index .json. Returns
 * 0, or -1 with a one-line error naming the file and the problem. Without cJSON in the build
 * it always fails with "safetensors support needs libcjson-dev (not built in)". */
int tlb_safetensors_load(struct tlb_model *m, const char *spec, const struct tlb_load_opts *o);

/* The tokenizer.model next to a safetensors checkpoint spec: writes its path to buf and
 * returns 0 when that file exists, else -1 (nothing printed). */
int tlb_safetensors_tokenizer_path(const char *spec, char *buf, size_t n);

/* ---- for tests and fuzzing ---- */

/* Parse and validate a whole safetensors file image held in memory (header length, JSON
 * header, every tensor's dtype, shape and data range against size). source names it in
 * errors. Returns the number of tensors (>= 0), or -1 with an error printed. */
int tlb_safetensors_check_mem(const char *source, const void *data, size_t size);

/* Parse config.json text (len bytes) into cfg (validated by tlb_config_check) and *tied
 * (tie_word_embeddings). Returns 0, or -1 with an error naming source. */
int tlb_safetensors_config_mem(const char *source, const char *text, size_t len,
                               struct tlb_config *cfg, int *tied);

/* Build m (fresh, zeroed) from config.json text and one whole safetensors image in memory:
 * every check and conversion of the file loader, without files. Tensors may point into data,
 * so free the model before data. Returns 0, or -1 with an error. */
int tlb_safetensors_model_mem(struct tlb_model *m, const char *config_text, size_t config_len,
                              const void *data, size_t size, const struct tlb_load_opts *o);

/* Test-only: on = 0 disables the q/k RoPE row permutation, so a test can prove it matters.
 * Never used outside tests. */
void tlb_safetensors_test_set_permute(int on);

/* ---- the container (safetensors.c), for the Llama mapping ---- */

/* What a build without cJSON says for every safetensors input. */
#define tlb_safetensors_no_cjson "safetensors support needs libcjson-dev (not built in)"

struct cJSON;

#define TLB_ST_MAX_DIMS 8

struct tlb_st_tensor {
    const char *name;     /* owned by the file's cJSON tree */
    enum tlb_type type;   /* F32, F16 or BF16 */
    int ndim;
    int64_t shape[TLB_ST_MAX_DIMS];
    uint64_t begin, end;  /* byte range in the data buffer */
};

/* One safetensors file, mapped or in memory. */
struct tlb_st_file {
    char path[PATH_MAX];
    void *map;                  /* the file mapping (NULL when parsing memory) */
    size_t map_len;
    const unsigned char *data;  /* data buffer: after the header */
    size_t data_len;
    struct cJSON *root;
    struct tlb_st_tensor *t;    /* sorted by name */
    size_t n;
    int in_place;               /* some model tensor points into the mapping (the loader
                                   then takes the mapping over) */
};

size_t tlb_st_elem_size(enum tlb_type t);
/* "[2048, 64]" */
const char *tlb_st_shape(const struct tlb_st_tensor *t, char *buf, size_t n);
#define TLB_ST_SHAPE(t) tlb_st_shape((t), (char[128]){0}, 128)

/* The tensor files of a checkpoint: one file, or the shards an index.json names. */
struct tlb_st_entry {
    const char *name; /* tensor name (owned by the index's cJSON tree) */
    int file;         /* index into files */
};
struct tlb_st_files {
    char dir[PATH_MAX];            /* the checkpoint's directory (shards are looked up here) */
    char index[PATH_MAX];          /* the index.json, "" for a single file */
    struct cJSON *index_root;
    struct tlb_st_entry *entries;  /* sharded: tensor -> shard, sorted by name */
    size_t n_entries;
    struct tlb_st_file *files;
    int n_files;
};
/* Read c->index and open every shard it names in c->dir. 0 or -1 (error printed). */
int tlb_st_files_open_index(struct tlb_st_files *c);
/* One file, or one image in memory named name. 0 or -1 (error printed). */
int tlb_st_files_open_single(struct tlb_st_files *c, const char *path);
int tlb_st_files_from_mem(struct tlb_st_files *c, const char *name, const void *data,
                          size_t size);
/* Does the checkpoint list this tensor (in the index, or in the single file)? */
int tlb_st_files_has(const struct tlb_st_files *c, const char *name);
/* Find a tensor and its file, or print why it is missing (NULL). */
const struct tlb_st_tensor *tlb_st_files_find(struct tlb_st_files *c, const char *name,
                                              struct tlb_st_file **fp);
void tlb_st_files_close(struct tlb_st_files *c);

/* "dir/name" into out; -1 with an error when it does not fit. */
int tlb_st_path(char *out, size_t n, const char *dir, const char *name);

/* Bounded JSON: names come from files, so they are printed on one line, cut short. */
const char *tlb_st_printable(const char *s, char *buf, size_t n);
#define TLB_ST_SAFE(s) tlb_st_printable((s), (char[100]){0}, 100)
/* Parse n bytes of JSON nested at most max_depth deep, which must be an object followed by
 * nothing but whitespace. NULL with an error naming src and what. */
struct cJSON *tlb_json_parse(const char *src, const char *what, const char *text, size_t n,
                             int max_depth);
/* Readers disagree on which of two equal keys wins, so a duplicate is an error. */
int tlb_json_check_dup_keys(const char *src, const char *what, const struct cJSON *obj);
/* "a number", "an object", "missing" ... for messages. */
const char *tlb_json_kind(const struct cJSON *v);

#endif
