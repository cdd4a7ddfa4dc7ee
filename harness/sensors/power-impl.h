/* power-impl.h — the backend interface behind power.h (internal to harness/sensors/power*.c).
 * Each backend is one file power-<name>.c defining one `const struct tlb_power_backend` and
 * one line in power-list.h. */
#ifndef TLB_POWER_IMPL_H
#define TLB_POWER_IMPL_H

#include <stddef.h>

#include "power.h"

struct tlb_power_backend {
    const char *kind;
    /* Find and open the sensor; fill info. NULL with why when unusable here. */
    void *(*open)(const struct tlb_power_opts *o, struct tlb_power_info *info, char *why,
                  size_t why_len);
    /* Energy counters: joules since open. Samplers: watts now. 0 or -1 with why. */
    int (*read)(void *state, double *value, char *why, size_t why_len);
    void (*close)(void *state);
};

#define TLB_POWER(name, on_request) extern const struct tlb_power_backend tlb_power_backend_##name;
#include "power-list.h"
#undef TLB_POWER

/* Snprintf into info->name etc. without truncation warnings. */
void tlb_power_set_info(struct tlb_power_info *info, const char *kind, enum tlb_power_scope sc,
                        enum tlb_power_type t, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
