/* monitor.h — power, temperature, frequency and throttle monitoring around benchmark
 * phases, for the sweep. A background thread samples at a known rate (default 10 Hz): the
 * power source (power.h), the hottest temperature and the lowest CPU frequency
 * (thermal.h). Energy counters (RAPL, hwmon energy) are also read directly at each phase
 * boundary, so phase energy is exact; samplers (Jetson, Pi PMIC, meter) are integrated
 * with the trapezoidal rule, the last reading held until the boundary.
 *
 * Typical use (one configuration):
 *     struct tlb_monitor_opts mo = {.root = "", .power = {.source = "auto"}};
 *     struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
 *     double idle_w = tlb_monitor_idle_power(m, 2.0, why, sizeof why);  // NAN: no source
 *     tlb_monitor_reset(m);                  // window start: temp_start, throttle baseline
 *     double e0 = tlb_monitor_mark(m);       // J since start, NAN without a source
 *     ... prefill ...
 *     double e1 = tlb_monitor_mark(m);       // prefill energy = e1 - e0
 *     ... decode ...
 *     double e2 = tlb_monitor_mark(m);       // decode energy = e2 - e1
 *     struct tlb_monitor_stats st;
 *     tlb_monitor_window(m, &st);            // temps, freq, throttle, samples since reset
 *     if (!st.valid) ... st.invalid_reason ...
 *     tlb_monitor_stop(m);
 *
 * Rules: a sensor that fails mid-run (file vanished, command failed) is dropped: later
 * marks return NAN (if it was the power source) and every later window is invalid with the
 * reason. New throttling (x86 throttle counts, Pi get_throttled sticky bits or active bits)
 * makes the window throttled and invalid. Start the monitor in the process that calls
 * mark (a fork()ed child does not inherit the thread). Pi and meter sources spawn child
 * processes and wait for them by pid: a caller that reaps with waitpid(-1) or ignores
 * SIGCHLD breaks them. All functions are thread-safe with respect to the sampler thread;
 * call them from one thread. */
#ifndef TLB_MONITOR_H
#define TLB_MONITOR_H

#include <stddef.h>

#include "power.h"

struct tlb_monitor_opts {
    const char *root;          /* sysfs root, "" or NULL = this machine (also power.root) */
    struct tlb_power_opts power; /* which power source; .source "none" disables power */
    const char *thermal_zones; /* thermal zone types to watch, NULL = all (thermal.h); when
                                  none of them exists, every zone is watched */
    double sample_hz;          /* background sampling rate, 0 = 10 Hz (max 1000) */
    int n_cpus;                /* CPUs to read frequencies and throttle counts of, 0 = all
                                  online (from /sys/devices/system/cpu/online) */
    int min_samples;           /* a sampler window with fewer samples is invalid; 0 = 2 */
    int no_throttle;           /* 1: do not read throttle state (e.g. vcgencmd is slow) */
};

struct tlb_monitor_stats {
    /* power, over the window (since tlb_monitor_reset) */
    char power_source[160];    /* e.g. "rapl:package-0", or "none" */
    char power_scope[16];      /* "package", "module", "board-pmic", "wall", "hwmon", "none" */
    int power_is_energy;       /* 1: energy counter, 0: sampler (or none) */
    double energy_j;           /* energy over the window, NAN without a usable source */
    double avg_power_w;        /* energy_j / window_s, NAN without a source */
    long samples;              /* background samples taken in the window */
    double sample_hz;          /* samples / window_s (achieved rate) */
    double max_gap_ms;         /* longest time without a sample in the window (includes
                                  window start to first sample and last sample to end) */
    double window_s;           /* window length */
    /* thermal and frequency */
    double temp_start_c;       /* hottest sensor at reset, NAN when no sensor */
    double temp_max_c;         /* hottest reading during the window */
    double temp_end_c;         /* hottest sensor at tlb_monitor_window() */
    long freq_min_khz;         /* lowest scaling_cur_freq over CPUs and samples, -1 none */
    /* throttling */
    int throttled;             /* 1 when throttling started or was active in the window */
    char throttle_source[96];  /* "vcgencmd get_throttled", "x86 thermal_throttle ...",
                                  or "none" */
    char throttle_reason[256];
    unsigned throttle_bits_before, throttle_bits_after; /* Pi get_throttled values */
    long long throttle_count_delta;                     /* x86 event count, -1 unknown */
    /* verdict */
    int valid;                 /* 0 when throttled, a sensor failed or too few samples */
    char invalid_reason[384];
};

struct tlb_monitor;

/* Open the sensors and start the sampling thread. Missing sensors are not an error (their
 * stats say "none"/NAN); returns NULL with why only when the thread cannot be started or
 * memory runs out. */
struct tlb_monitor *tlb_monitor_start(const struct tlb_monitor_opts *o, char *why,
                                      size_t why_len);
/* The power source in use, or NULL; why_none() says why there is none. */
const struct tlb_power_info *tlb_monitor_power(const struct tlb_monitor *m);
const char *tlb_monitor_power_why_none(const struct tlb_monitor *m);
/* Cumulative energy in joules since tlb_monitor_start, at this instant; NAN without a
 * usable power source (none found, or it failed). */
double tlb_monitor_mark(struct tlb_monitor *m);
/* Start a new window: records temp_start, the throttle baseline, clears sample counts. */
void tlb_monitor_reset(struct tlb_monitor *m);
/* Statistics of the window since the last reset (or start). Does not reset. Returns 0, or
 * -1 when the window is invalid (st is filled either way). */
int tlb_monitor_window(struct tlb_monitor *m, struct tlb_monitor_stats *st);
/* Sleep `seconds` doing nothing and return the average power over it in watts (idle power
 * before a test); NAN with why when there is no usable source. */
double tlb_monitor_idle_power(struct tlb_monitor *m, double seconds, char *why,
                              size_t why_len);
/* Stop the thread and close every sensor. NULL is fine. */
void tlb_monitor_stop(struct tlb_monitor *m);

#endif
