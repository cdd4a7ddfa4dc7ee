/* cli.c — shared option parsing helpers (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int tlb_cli_int(const char *opt, const char *val, long min, long max, long *out) {
    if (tlb_parse_int(val, min, max, out) != 0) {
        tlb_error("%s: '%s' is not an integer in [%ld, %ld]", opt, val ? val : "", min, max);
        return -1;
    }
    return 0;
}

int tlb_cli_double(const char *opt, const char *val, double min, double max, double *out) {
    double v;
    if (tlb_parse_double(val, &v) != 0 || v < min || v > max) {
        tlb_error("%s: '%s' is not a number in [%g, %g]", opt, val ? val : "", min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int tlb_cli_type(const char *opt, const char *val, enum tlb_type *out) {
    if (tlb_type_from_name(val, out) != 0) {
        char known[128] = "";
        for (int t = 0; t < TLB_TYPE_COUNT; t++) {
            strncat(known, " ", sizeof known - strlen(known) - 1);
            strncat(known, tlb_type_traits((enum tlb_type)t)->name,
                    sizeof known - strlen(known) - 1);
        }
        tlb_error("%s: unknown type '%s' (known:%s)", opt, val ? val : "", known);
        return -1;
    }
    return 0;
}

int tlb_cli_u64(const char *opt, const char *val, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (!val || !*val || *val == '-') goto bad;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || *end) goto bad;
    *out = v;
    return 0;
bad:
    tlb_error("%s: '%s' is not a non-negative integer", opt, val ? val : "");
    return -1;
}
