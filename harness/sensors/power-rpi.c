/* power-rpi.c — Raspberry Pi 5 board power from the PMIC ADCs via `vcgencmd pmic_read_adc`:
 * the raw sum of V*I over the rails (scope "board-pmic", below wall power; corrections are
 * left to reports). There is no sysfs route and no energy counter, so this is a sampler,
 * and each read spawns a process (a few ms). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power-impl.h"
#include "vcgencmd.h"

struct rpi {
    char cmd[1024];
};

static int rpi_read(void *state, double *value, char *why, size_t why_len) {
    struct rpi *r = state;
    char out[4096];
    if (tlb_vcgencmd_run(r->cmd, "pmic_read_adc", out, sizeof out, why, why_len) != 0)
        return -1;
    return tlb_pmic_parse(out, value, why, why_len) > 0 ? 0 : -1;
}

static void *rpi_open(const struct tlb_power_opts *o, struct tlb_power_info *info, char *why,
                      size_t why_len) {
    struct rpi *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (tlb_vcgencmd_resolve(o->root, o->vcgencmd, r->cmd, sizeof r->cmd, why, why_len) != 0) {
        free(r);
        return NULL;
    }
    char out[4096];
    double w;
    int rails;
    if (tlb_vcgencmd_run(r->cmd, "pmic_read_adc", out, sizeof out, why, why_len) != 0 ||
        (rails = tlb_pmic_parse(out, &w, why, why_len)) <= 0) {
        free(r);
        return NULL;
    }
    tlb_power_set_info(info, "rpi-pmic", TLB_SCOPE_BOARD_PMIC, TLB_POWER_SAMPLER,
                       "vcgencmd:pmic_read_adc:%d rails", rails);
    return r;
}

static void rpi_close(void *state) { free(state); }

const struct tlb_power_backend tlb_power_backend_rpi = {"rpi-pmic", rpi_open, rpi_read,
                                                         rpi_close};
