/* power-meter.c — an external power meter: a shell command (--power-cmd) that prints the
 * current power in watts on stdout (e.g. a script reading a USB or network wall meter).
 * Sampler, scope "wall"; each read runs the command once with a 2 s time limit. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power-impl.h"
#include "runcmd.h"

struct meter {
    char cmd[1024];
};

static int meter_read(void *state, double *value, char *why, size_t why_len) {
    struct meter *m = state;
    char out[256];
    if (tlb_run_capture(m->cmd, 2000, out, sizeof out, why, why_len) != 0) return -1;
    /* first line: a number, optionally followed by "W" */
    const char *p = out;
    while (isspace((unsigned char)*p)) p++;
    char *end;
    errno = 0;
    double w = strtod(p, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end == 'W') end++;
    while (*end == ' ' || *end == '\t' || *end == '\r') end++;
    if (errno || end == p || (*end && *end != '\n') || !isfinite(w) || w < 0 || w > 1e6) {
        char shown[48];
        snprintf(shown, sizeof shown, "%.*s", (int)strcspn(p, "\n"), p);
        snprintf(why, why_len, "power command '%.60s' printed '%s', not watts", m->cmd, shown);
        return -1;
    }
    *value = w;
    return 0;
}

static void *meter_open(const struct tlb_power_opts *o, struct tlb_power_info *info, char *why,
                        size_t why_len) {
    if (!o->meter_cmd || !*o->meter_cmd) {
        snprintf(why, why_len, "no external meter command (--power-cmd)");
        return NULL;
    }
    struct meter *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (snprintf(m->cmd, sizeof m->cmd, "%s", o->meter_cmd) >= (int)sizeof m->cmd) {
        snprintf(why, why_len, "power command too long");
        free(m);
        return NULL;
    }
    double w;
    if (meter_read(m, &w, why, why_len) != 0) {
        free(m);
        return NULL;
    }
    tlb_power_set_info(info, "meter", TLB_SCOPE_WALL, TLB_POWER_SAMPLER, "meter:%.120s",
                       o->meter_cmd);
    return m;
}

static void meter_close(void *state) { free(state); }

const struct tlb_power_backend tlb_power_backend_meter = {"meter", meter_open, meter_read,
                                                           meter_close};
