/* runcmd.h — run a shell command with a time limit and capture what it prints. Used for
 * sensors that are programs rather than files: `vcgencmd` on a Raspberry Pi and an external
 * power meter (--power-cmd). Safe to call from the monitor thread: the child is started
 * with posix_spawn in its own process group and killed (whole group) when it overruns. */
#ifndef TLB_RUNCMD_H
#define TLB_RUNCMD_H

#include <stddef.h>

/* Run `/bin/sh -c cmd` with stdin from /dev/null. Its stdout (up to out_len-1 bytes, NUL-
 * terminated) goes to out. Returns 0 when it exited with status 0 within timeout_ms;
 * otherwise -1 with a one-line reason in why (timeout, exit status, signal, or the first
 * line it printed on stderr). The child is waited for by pid, never by waitpid(-1). */
int tlb_run_capture(const char *cmd, int timeout_ms, char *out, size_t out_len, char *why,
                    size_t why_len);

/* Append s to buf (of size n, holding a NUL-terminated string) quoted for /bin/sh.
 * Returns 0, or -1 when it does not fit. */
int tlb_shell_quote_append(char *buf, size_t n, const char *s);

#endif
