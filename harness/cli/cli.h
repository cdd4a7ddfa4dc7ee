/* cli.h — option parsing helpers shared by subcommands: each prints one error line naming
 * the option and the problem, so every command rejects bad values the same way. */
#ifndef TLB_CLI_H
#define TLB_CLI_H

#include <stdint.h>

#include "quant.h"

/* Integer option within [min, max]; returns 0 or -1 (error printed). */
int tlb_cli_int(const char *opt, const char *val, long min, long max, long *out);
/* Floating-point option within [min, max]. */
int tlb_cli_double(const char *opt, const char *val, double min, double max, double *out);
/* Weight/KV type name ("f32", "q4_0", ...). */
int tlb_cli_type(const char *opt, const char *val, enum tlb_type *out);
/* Unsigned 64-bit (seeds). */
int tlb_cli_u64(const char *opt, const char *val, uint64_t *out);

#endif
