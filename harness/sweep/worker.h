/* worker.h — the worker: a process forked by the model process (model-process.h) for one
 * request, which runs it on the shared weights, writes one message (messages.h) and exits;
 * and how such a process ended, as a row status. */
#ifndef TLB_WORKER_H
#define TLB_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "schema.h"
#include "sweep-run.h"

/* The worker's body: run request (type, index) of env's plan on model m (ref_fd: the
 * accuracy reference file; kv_fill: the KV cache at the item's depth, filled once by the
 * model process, or NULL), send the result on out_fd, exit. Never returns. */
_Noreturn void tlb_worker_main(const struct tlb_sweep_env *env, const struct tlb_model *m,
                               int ref_fd, uint32_t type, uint32_t index, const void *kv_fill,
                               int out_fd);

/* How a worker ended, as a row status with its detail: timed_out (killed by the
 * timeout), wstatus (waitpid), msg_ok/msg_status/msg_detail (the row message, if one
 * arrived), oom_delta (rise of the kernel's OOM-kill counters while it ran), err_tail (the
 * last line it printed on stderr). A SIGKILL with oom_delta > 0 is oom; other signals are
 * crashed; exit TLB_WORKER_EXIT_OOM or an error mentioning "out of memory" is oom. */
enum tlb_status tlb_worker_classify(int timed_out, double timeout_s, int wstatus, int msg_ok,
                                    enum tlb_status msg_status, const char *msg_detail,
                                    long long oom_delta, const char *err_tail, char *detail,
                                    size_t n);

/* "SIGSEGV" etc. for a signal number ("signal N" when unknown). */
const char *tlb_signal_name(int sig);
/* The kernel's OOM kills so far (system-wide plus this memory cgroup's): a rise while a
 * process ran says the OOM killer took it. */
long long tlb_oom_kill_count(void);
/* The last non-empty line written to fd (a child's captured stderr), without "tlbench: ". */
void tlb_last_line(int fd, char *out, size_t n);

#endif
