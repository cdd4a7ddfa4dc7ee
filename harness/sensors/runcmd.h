/* runcmd.h — run an external command with a hard deadline and leave nothing behind. Used for
 * sensors that are programs rather than files (`vcgencmd` on a Raspberry Pi, an external power
 * meter: --power-cmd) and for gnuplot. Safe to call from the monitor thread.
 *
 * Every command runs under a guard: /bin/sh in its own process group, started (vfork + exec,
 * cheap even from a process holding a large model) with PR_SET_PDEATHSIG, that runs the
 * command in the background and waits for it. If the thread that started it dies — a worker
 * killed at its timeout, a sweep killed by SIGINT, SIGTERM or SIGKILL — the guard gets SIGTERM
 * and kills its whole group. At the deadline, and after the command ends (whatever it left
 * running in the background), the caller kills the whole group too. */
#ifndef TLB_RUNCMD_H
#define TLB_RUNCMD_H

#include <stddef.h>

/* Run `/bin/sh -c cmd` with stdin from /dev/null. Its stdout (up to out_len-1 bytes, NUL-
 * terminated) goes to out. Returns 0 when it exited with status 0 within timeout_ms;
 * otherwise -1 with a one-line reason in why (timeout, exit status, signal, or the first
 * line it printed on stderr). The child is waited for by pid, never by waitpid(-1). */
int tlb_run_capture(const char *cmd, int timeout_ms, char *out, size_t out_len, char *why,
                    size_t why_len);

/* How a command run by tlb_run_argv ended. */
struct tlb_cmd_end {
    int timed_out; /* killed, with its group, at the deadline */
    int status;    /* exit status 0..255 (127: not found, 126: not executable, 125: the working
                      directory or the output file could not be set up); -1 otherwise */
};
/* Run argv (argv[0] found on PATH like sh does; no shell interpolation of anything; at most 59
 * arguments) in dir (NULL: here), stdin from /dev/null, stdout and stderr to out_name
 * (relative to dir; created or truncated; NULL: discarded), under the guard and the deadline. Returns 0 when it ran to
 * its end (see end->status), -1 when it could not be started or timed out (why says which). */
int tlb_run_argv(const char *const *argv, const char *dir, const char *out_name, int timeout_ms,
                 struct tlb_cmd_end *end, char *why, size_t why_len);

/* Append s to buf (of size n, holding a NUL-terminated string) quoted for /bin/sh.
 * Returns 0, or -1 when it does not fit. */
int tlb_shell_quote_append(char *buf, size_t n, const char *s);

#endif
