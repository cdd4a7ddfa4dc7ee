/* thermal.h — temperature, CPU frequency and throttling state, each read from a root-
 * prefixed tree ("" = this machine):
 *   temperature  /sys/class/thermal/thermal_zoneN/temp (m°C), else CPU hwmon tempN_input
 *                (coretemp, k10temp, cpu_thermal, ...); the hottest sensor is reported;
 *   frequency    min over CPUs of cpufreq/scaling_cur_freq (kHz);
 *   throttling   Raspberry Pi `vcgencmd get_throttled` bits, else x86
 *                thermal_throttle/{core,package}_throttle_count summed over CPUs.
 * A sensor that vanishes after open makes reads fail with a reason; nothing crashes. */
#ifndef TLB_THERMAL_H
#define TLB_THERMAL_H

#include <stddef.h>

/* ---- temperature ---- */
struct tlb_thermal;

/* zones: comma list of thermal zone types to use (a profile's thermal_zones, e.g.
 * "cpu-thermal"), NULL/"" = every readable zone. NULL with why when there is no sensor. */
struct tlb_thermal *tlb_thermal_open(const char *root, const char *zones, char *why,
                                     size_t why_len);
int tlb_thermal_count(const struct tlb_thermal *t);
/* "thermal_zone0:cpu-thermal" or "hwmon2:k10temp:Tctl" */
const char *tlb_thermal_name(const struct tlb_thermal *t, int i);
/* Hottest sensor now in °C. 0, or -1 with why when a sensor can no longer be read. */
int tlb_thermal_read_max(struct tlb_thermal *t, double *celsius, char *why, size_t why_len);
/* One sensor now in °C (for `tlbench info`). 0 or -1 with why. */
int tlb_thermal_read_one(struct tlb_thermal *t, int i, double *celsius, char *why,
                         size_t why_len);
void tlb_thermal_close(struct tlb_thermal *t);

/* ---- frequency ---- */
/* Lowest scaling_cur_freq over CPUs 0..n_cpus-1 in kHz, or -1 when there is no cpufreq. */
long tlb_cpufreq_min_khz(const char *root, int n_cpus);

/* ---- throttling ---- */
struct tlb_throttle;

struct tlb_throttle_state {
    int have_bits;    /* Pi get_throttled value valid */
    unsigned bits;
    int have_counts;  /* x86 throttle count sum valid */
    long long counts;
};

/* vcgencmd: command override as in vcgencmd.h (tests), NULL = find it. NULL with why when
 * this machine has no throttle indicator. */
struct tlb_throttle *tlb_throttle_open(const char *root, const char *vcgencmd, int n_cpus,
                                       char *why, size_t why_len);
/* "vcgencmd get_throttled" or "x86 thermal_throttle counts (N CPUs)" */
const char *tlb_throttle_name(const struct tlb_throttle *t);
/* Current state. 0, or -1 with why (command failed, counter file vanished). */
int tlb_throttle_read(struct tlb_throttle *t, struct tlb_throttle_state *st, char *why,
                      size_t why_len);
void tlb_throttle_close(struct tlb_throttle *t);

/* Did throttling happen between before and after? Returns 1 with a reason in why (new
 * sticky Pi bits, Pi bits active now, or new x86 throttle events), else 0. */
int tlb_throttle_compare(const struct tlb_throttle_state *before,
                         const struct tlb_throttle_state *after, char *why, size_t why_len);

#endif
