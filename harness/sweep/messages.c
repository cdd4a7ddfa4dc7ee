/* messages.c — the framed messages and requests between the sweep's processes (see
 * messages.h). */
#include "messages.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#define MSG_MAGIC 0x544C424Du /* "TLBM" */
#define MSG_MIN 24            /* magic, type, index, status, detail length, cell count */

/* Read exactly n bytes. deadline: a tlb_now_ns() value, 0 = none. stop: a flag that ends the
 * wait when set (NULL: wait on). Returns 0, -1 on EOF or error, -2 on timeout, -3 when *stop
 * was set. */
static int read_exact(int fd, void *p, size_t n, int64_t deadline,
                      const volatile sig_atomic_t *stop) {
    char *c = p;
    while (n) {
        if (stop && *stop) return -3;
        int wait_ms = 200;
        if (deadline) {
            int64_t left = (deadline - tlb_now_ns()) / 1000000;
            if (left <= 0) return -2;
            if (left < wait_ms) wait_ms = (int)left;
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int pr = poll(&pf, 1, stop || deadline ? wait_ms : -1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr < 0) return -1;
        if (pr == 0) continue;
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

int tlb_req_send(int fd, uint32_t type, uint32_t index) {
    uint32_t req[2] = {type, index};
    return tlb_write_full(fd, req, sizeof req);
}

int tlb_req_recv(int fd, uint32_t *type, uint32_t *index) {
    uint32_t req[2];
    if (read_exact(fd, req, sizeof req, 0, NULL) != 0) return -1;
    *type = req[0];
    *index = req[1];
    return 0;
}

static int buf_u32(struct tlb_buf *b, uint32_t v) { return tlb_buf_add(b, &v, sizeof v); }

static int buf_str(struct tlb_buf *b, const char *s) {
    size_t n = strlen(s);
    return buf_u32(b, (uint32_t)n) || tlb_buf_add(b, s, n);
}

int tlb_msg_send(int fd, uint32_t type, uint32_t index, int32_t status, const char *detail,
                 const struct tlb_row *row) {
    struct tlb_buf b = {.max = TLB_MSG_MAX};
    uint32_t n_cells = 0;
    int rc = -1;
    if (buf_u32(&b, 0) || buf_u32(&b, MSG_MAGIC) || buf_u32(&b, type) || buf_u32(&b, index) ||
        tlb_buf_add(&b, &status, sizeof status) || buf_str(&b, detail ? detail : ""))
        goto out;
    size_t count_at = b.len;
    if (buf_u32(&b, 0)) goto out;
    for (int i = 0; row && i < tlb_n_columns; i++) {
        const char *v = tlb_row_get(row, tlb_columns[i].name);
        if (!v || !*v || i == 0) continue; /* schema_version is implicit */
        if (buf_str(&b, tlb_columns[i].name) || buf_str(&b, v)) goto out;
        n_cells++;
    }
    memcpy(b.p + count_at, &n_cells, sizeof n_cells);
    uint32_t len = (uint32_t)(b.len - 4);
    memcpy(b.p, &len, sizeof len);
    rc = tlb_write_full(fd, b.p, b.len);
out:
    tlb_buf_free(&b);
    return rc;
}

void tlb_msg_free(struct tlb_msg *m) {
    tlb_row_free(m->row);
    m->row = NULL;
}

/* Decode a frame body (after the length). 0 or -1 (malformed). */
static int decode(const unsigned char *p, size_t n, struct tlb_msg *m) {
    size_t off = 0;
    uint32_t magic, dl, nc;
#define TAKE(dst, sz)                         \
    do {                                      \
        if (n - off < (sz)) return -1;        \
        memcpy((dst), p + off, (sz));         \
        off += (sz);                          \
    } while (0)
    TAKE(&magic, 4);
    if (magic != MSG_MAGIC) return -1;
    TAKE(&m->type, 4);
    TAKE(&m->index, 4);
    TAKE(&m->status, 4);
    TAKE(&dl, 4);
    if (n - off < dl) return -1;
    snprintf(m->detail, sizeof m->detail, "%.*s", (int)(dl < sizeof m->detail ? dl : sizeof m->detail - 1),
             (const char *)p + off);
    off += dl;
    TAKE(&nc, 4);
    if (!(m->row = tlb_row_new())) return -1;
    for (uint32_t i = 0; i < nc; i++) {
        uint32_t kl, vl;
        TAKE(&kl, 4);
        if (kl == 0 || kl > 128 || n - off < kl) return -1;
        char key[129];
        memcpy(key, p + off, kl);
        key[kl] = '\0';
        off += kl;
        TAKE(&vl, 4);
        if (n - off < vl) return -1;
        char *v = malloc((size_t)vl + 1);
        if (!v) return -1;
        memcpy(v, p + off, vl);
        v[vl] = '\0';
        off += vl;
        int rc = tlb_row_set_str(m->row, key, v);
        free(v);
        if (rc) return -1;
    }
#undef TAKE
    if (m->status < 0 || m->status >= TLB_STATUS_COUNT) return -1;
    return off == n ? 0 : -1;
}

int tlb_msg_decode_frame(const void *frame, size_t n, struct tlb_msg *m) {
    memset(m, 0, sizeof *m);
    uint32_t len;
    if (n < 4) return -1;
    memcpy(&len, frame, 4);
    if ((size_t)len + 4 != n || decode((const unsigned char *)frame + 4, len, m) != 0) {
        tlb_msg_free(m);
        return -1;
    }
    return 0;
}

int tlb_msg_recv(int fd, struct tlb_msg *m, int64_t deadline,
                 const volatile sig_atomic_t *stop) {
    memset(m, 0, sizeof *m);
    uint32_t len;
    int rc = read_exact(fd, &len, sizeof len, deadline, stop);
    if (rc) return rc;
    if (len > TLB_MSG_MAX || len < MSG_MIN) return -1;
    unsigned char *p = malloc(len);
    if (!p) return -1;
    rc = read_exact(fd, p, len, deadline, stop);
    if (rc == 0 && decode(p, len, m) != 0) {
        tlb_msg_free(m);
        rc = -1;
    }
    free(p);
    return rc;
}
