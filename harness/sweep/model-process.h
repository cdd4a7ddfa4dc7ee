/* model-process.h — the model process of a sweep (see sweep-run.h): one per (model, weight
 * type), it loads or converts the model once and then serves the driver's requests
 * (messages.h), forking one worker (worker.h) for each so the weights are shared
 * copy-on-write. It refuses a request whose predicted memory does not fit (status
 * skipped-memory), enforces the timeout and classifies how the worker ended. The driver
 * holds a struct tlb_model_proc per running model process. */
#ifndef TLB_MODEL_PROCESS_H
#define TLB_MODEL_PROCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "messages.h"
#include "model.h"
#include "sweep-run.h"

struct tlb_model_proc {
    pid_t pid;
    int req_fd, resp_fd;
    int alive;
    struct tlb_row *model_cells; /* from the LOADED message */
};

/* Start the model process of (env->spec->models[mi], wtype) and wait for its LOADED
 * message. ref_fd: the accuracy reference file (-1: none). Returns 0 (loaded), 1 when the
 * load failed (status/detail set), 3 when interrupted, -1 on a local error (printed). */
int tlb_model_proc_start(struct tlb_sweep_env *env, int mi, enum tlb_type wtype, int ref_fd,
                         struct tlb_model_proc *g, enum tlb_status *st, char *detail,
                         size_t dn);
/* Send a request (TLB_REQ_*, plan index) and wait for its result. Returns 0 (m filled), 1
 * when the model process died or stopped answering (status/detail set, process reaped), 3
 * when interrupted. */
int tlb_model_proc_request(struct tlb_sweep_env *env, struct tlb_model_proc *g, uint32_t type,
                           uint32_t index, struct tlb_msg *m, enum tlb_status *st,
                           char *detail, size_t dn);
/* Let the model process end (it sees EOF on its requests; killed after 10 s). */
void tlb_model_proc_stop(struct tlb_model_proc *g);
/* Kill its whole process group now. */
void tlb_model_proc_kill(struct tlb_model_proc *g);

/* The memory columns of a configuration that is not run (skipped-memory): weights as given
 * (-1: unknown), KV and engine buffers computed from the shapes. NULL when out of memory. */
struct tlb_row *tlb_item_memory_cells(const struct tlb_config *c, long long weights,
                                      const struct tlb_plan_item *it);

#endif
