/* messages.h — what the sweep's processes say to each other over pipes (see sweep-run.h for
 * the process tree). The driver sends a request, two u32 (type, plan index); the model
 * process answers every request, and once after loading, with one framed message: u32
 * length, then magic, type, index, status, a detail string and the row cells that were set
 * as (name, value) strings, so nothing is truncated and no struct layout crosses a pipe.
 * Every frame read is untrusted: lengths, counts and the status are checked. */
#ifndef TLB_MESSAGES_H
#define TLB_MESSAGES_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "results-csv.h"

/* RUN: a configuration; ACC: its accuracy pass; REF: the accuracy reference; GGUF: write the
 * loaded model as the GGUF file llama-bench runs for that plan item (llama-bench.h) */
enum tlb_req_type { TLB_REQ_RUN = 1, TLB_REQ_ACC, TLB_REQ_REF, TLB_REQ_GGUF };
enum tlb_msg_type { TLB_MSG_LOADED = 1, TLB_MSG_RESULT };

#define TLB_MSG_MAX ((size_t)64 << 20) /* longest frame either side accepts */

struct tlb_msg {
    uint32_t type, index;
    int32_t status;      /* enum tlb_status */
    char detail[1024];
    struct tlb_row *row; /* cells that were set (owned; tlb_msg_free) */
};

/* Requests (driver -> model process). 0, or -1 when the pipe is closed. */
int tlb_req_send(int fd, uint32_t type, uint32_t index);
int tlb_req_recv(int fd, uint32_t *type, uint32_t *index);

/* One message (model process or worker -> its parent); row may be NULL. 0 or -1. */
int tlb_msg_send(int fd, uint32_t type, uint32_t index, int32_t status, const char *detail,
                 const struct tlb_row *row);
/* Receive one message. deadline: a tlb_now_ns() value, 0 = none; stop: a flag that ends the
 * wait when set (NULL: wait on). Returns 0, -1 EOF or malformed, -2 timeout, -3 stopped. */
int tlb_msg_recv(int fd, struct tlb_msg *m, int64_t deadline,
                 const volatile sig_atomic_t *stop);
/* Decode one whole frame, length prefix included (what a worker wrote before it exited).
 * 0, or -1 when it is not exactly one well-formed message. */
int tlb_msg_decode_frame(const void *frame, size_t n, struct tlb_msg *m);
void tlb_msg_free(struct tlb_msg *m);

#endif
