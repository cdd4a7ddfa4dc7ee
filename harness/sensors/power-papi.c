/* power-papi.c — RAPL package energy through PAPI's powercap component
 * (powercap:::ENERGY_UJ:ZONE0). Only with TLB_HAVE_PAPI; PAPI returns energy since start,
 * which still wraps at MAX_ENERGY_RANGE_UJ, so the same wrap rule as power-rapl.c applies.
 * Many PAPI builds (Debian's included) ship without this component: then it says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "power-impl.h"

#ifdef TLB_HAVE_PAPI
#include <papi.h>

struct papi_power {
    int set;
    uint64_t max, prev, total;
};

static int papi_power_read(void *state, double *value, char *why, size_t why_len) {
    struct papi_power *p = state;
    long long v[2];
    tlb_papi_lock();
    int r = PAPI_read(p->set, v);
    tlb_papi_unlock();
    if (r != PAPI_OK) {
        snprintf(why, why_len, "PAPI_read(powercap): %s", PAPI_strerror(r));
        return -1;
    }
    if (v[0] < 0) {
        snprintf(why, why_len, "PAPI powercap returned negative energy");
        return -1;
    }
    p->total += tlb_energy_delta(p->prev, (uint64_t)v[0], p->max);
    p->prev = (uint64_t)v[0];
    *value = (double)p->total * 1e-6;
    return 0;
}

static void papi_power_close(void *state) {
    struct papi_power *p = state;
    if (!p) return;
    long long v[2];
    tlb_papi_lock();
    PAPI_stop(p->set, v);
    PAPI_cleanup_eventset(p->set);
    PAPI_destroy_eventset(&p->set);
    tlb_papi_unlock();
    free(p);
}

static void *papi_power_open(const struct tlb_power_opts *o, struct tlb_power_info *info,
                             char *why, size_t why_len) {
    if (o->root && *o->root) {
        snprintf(why, why_len, "PAPI reads the real /sys only (a --root tree is in use)");
        return NULL;
    }
    if (tlb_papi_init(why, why_len) != 0) return NULL;
    tlb_papi_lock();
    int cid = PAPI_get_component_index("powercap");
    const PAPI_component_info_t *ci = cid >= 0 ? PAPI_get_component_info(cid) : NULL;
    if (!ci || ci->disabled) {
        if (!ci) snprintf(why, why_len, "this PAPI build has no powercap component");
        else snprintf(why, why_len, "PAPI powercap component disabled: %s", ci->disabled_reason);
        tlb_papi_unlock();
        return NULL;
    }
    struct papi_power *p = calloc(1, sizeof *p);
    if (!p) {
        tlb_papi_unlock();
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    p->set = PAPI_NULL;
    long long v[2] = {0, 0};
    int r = PAPI_create_eventset(&p->set);
    if (r == PAPI_OK) r = PAPI_add_named_event(p->set, "powercap:::ENERGY_UJ:ZONE0");
    if (r == PAPI_OK) r = PAPI_add_named_event(p->set, "powercap:::MAX_ENERGY_RANGE_UJ:ZONE0");
    if (r == PAPI_OK) r = PAPI_start(p->set);
    if (r == PAPI_OK) r = PAPI_read(p->set, v);
    tlb_papi_unlock();
    if (r != PAPI_OK || v[1] <= 0) {
        snprintf(why, why_len, "PAPI powercap ENERGY_UJ:ZONE0: %s",
                 r != PAPI_OK ? PAPI_strerror(r) : "no energy range");
        papi_power_close(p);
        return NULL;
    }
    p->max = (uint64_t)v[1];
    p->prev = v[0] > 0 ? (uint64_t)v[0] : 0;
    tlb_power_set_info(info, "papi", TLB_SCOPE_PACKAGE, TLB_POWER_ENERGY,
                       "papi:powercap:::ENERGY_UJ:ZONE0");
    return p;
}
#else
static void *papi_power_open(const struct tlb_power_opts *o, struct tlb_power_info *info,
                             char *why, size_t why_len) {
    (void)o;
    (void)info;
    snprintf(why, why_len, "PAPI not built in");
    return NULL;
}
static int papi_power_read(void *state, double *value, char *why, size_t why_len) {
    (void)state;
    (void)value;
    snprintf(why, why_len, "PAPI not built in");
    return -1;
}
static void papi_power_close(void *state) { (void)state; }
#endif

const struct tlb_power_backend tlb_power_backend_papi = {"papi", papi_power_open,
                                                          papi_power_read, papi_power_close};
