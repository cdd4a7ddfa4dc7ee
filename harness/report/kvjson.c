/* report-kvjson.c — the flat JSON files `tlbench report` takes besides CSVs: `tlbench info
 * --format json` (governor, RAM, ISA features, Linux kernel, library versions of a board) and
 * the fleet's per-board status (fleet/fleet.yml writes fleet.json: board_label, fleet_host,
 * fleet_status, fleet_detail). Each is one object whose values are strings, numbers,
 * booleans or null; the file, the keys and the values are bounded and anything nested is
 * refused, since inputs are untrusted. Parsed with cJSON (libcjson, as safetensors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

#if defined(TLB_HAVE_CJSON) && TLB_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#define KV_MAX_BYTES ((size_t)1 << 20)
#define KV_MAX_KEYS 512
#define KV_MAX_KEY 128
#define KV_MAX_VALUE 4096

int tlb_rep_json_is(const char *path) {
    FILE *f = tlb_fopen_regular(path); /* a FIFO or device is refused, never waited on */
    if (!f) return -1;
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\t' || c == '\n' || c == '\r') {}
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        tlb_error("%s: read error", path);
        return -1;
    }
    return c == '{';
}

const char *tlb_rep_kv_get(const struct tlb_rep_kv *kv, const char *key) {
    for (int i = 0; i < kv->n; i++)
        if (strcmp(kv->keys[i], key) == 0) return kv->vals[i];
    return NULL;
}

void tlb_rep_kv_free(struct tlb_rep_kv *kv) {
    if (!kv) return;
    for (int i = 0; i < kv->n; i++) {
        free(kv->keys[i]);
        free(kv->vals[i]);
    }
    free(kv->keys);
    free(kv->vals);
    free(kv->path);
    memset(kv, 0, sizeof *kv);
}

#if defined(TLB_HAVE_CJSON) && TLB_HAVE_CJSON

/* The value as text: strings as they are, numbers in shortest form, null as "". */
static char *value_text(const cJSON *v) {
    char buf[64];
    const char *s = NULL;
    if (cJSON_IsString(v)) s = v->valuestring;
    else if (cJSON_IsNull(v)) s = "";
    else if (cJSON_IsTrue(v)) s = "true";
    else if (cJSON_IsFalse(v)) s = "false";
    else if (cJSON_IsNumber(v) && tlb_format_double(v->valuedouble, buf, sizeof buf) == 0) s = buf;
    return s ? strdup(s) : NULL;
}

int tlb_rep_json_read(const char *path, struct tlb_rep_kv *out) {
    memset(out, 0, sizeof *out);
    out->board = -1;
    size_t len;
    char *text = tlb_read_file(path, KV_MAX_BYTES, &len);
    if (!text) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const char *why = NULL;
    int n = 0;
    if (!root) why = "malformed JSON";
    else if (!cJSON_IsObject(root)) why = "not a JSON object";
    for (const cJSON *c = root ? root->child : NULL; !why && c; c = c->next) n++;
    if (!why && n > KV_MAX_KEYS) why = "more than 512 keys";
    if (!why) {
        out->keys = tlb_calloc(n ? (size_t)n : 1, sizeof *out->keys, "JSON keys");
        out->vals = tlb_calloc(n ? (size_t)n : 1, sizeof *out->vals, "JSON values");
        out->path = strdup(path);
        if (!out->keys || !out->vals || !out->path) why = "out of memory";
    }
    for (const cJSON *c = root ? root->child : NULL; !why && c; c = c->next) {
        if (!c->string || !*c->string || strlen(c->string) > KV_MAX_KEY) {
            why = "a key is empty or longer than 128 bytes";
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            why = "a value is an object or an array (a flat object is expected)";
        } else {
            char *k = strdup(c->string), *v = value_text(c);
            if (!k || !v) why = "out of memory";
            else if (strlen(v) > KV_MAX_VALUE) why = "a value is longer than 4096 bytes";
            out->keys[out->n] = k;
            out->vals[out->n] = v;
            if (k && v) out->n++;
            else free(k), free(v);
        }
    }
    cJSON_Delete(root);
    if (why) {
        tlb_error("%s: %s", path, why);
        tlb_rep_kv_free(out);
        return -1;
    }
    return 0;
}

#else

int tlb_rep_json_read(const char *path, struct tlb_rep_kv *out) {
    memset(out, 0, sizeof *out);
    out->board = -1;
    tlb_warn("%s: this tlbench was built without cJSON (libcjson-dev): JSON inputs are "
             "ignored", path);
    return 1;
}

#endif
