/* monitor.c — the sampling thread and window statistics behind monitor.h. Two locks:
 * src_lock serialises power-source reads (the thread and mark() both read energy counters);
 * lock guards the statistics, so mark() on a sampler never waits for a slow reading. */
#include "monitor.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sysfs.h"
#include "thermal.h"
#include "util.h"

struct tlb_monitor {
    char root[TLB_PATH_MAX];
    int n_cpus, min_samples;
    int64_t period_ns;

    struct tlb_power_source *power; /* NULL: none */
    struct tlb_thermal *thermal;    /* NULL: none */
    struct tlb_throttle *throttle;  /* NULL: none */
    char power_why[512];

    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock, src_lock;
    pthread_cond_t wake;
    int stopping;

    /* guarded by lock */
    int power_dead, thermal_dead;
    char dead_reason[384];
    int64_t t_start;
    /* energy counter: joules at start (source counts since its open) */
    double e_base;
    /* sampler: integral up to the last sample, and that sample */
    double e_integral, p_last;
    int64_t t_last;
    int have_sample;
    /* window */
    int64_t w_start, w_last_sample;
    double w_energy_start;
    long w_samples;
    int64_t w_max_gap;
    double w_temp_start, w_temp_max;
    long w_freq_min;
    struct tlb_throttle_state w_thr;
    int w_thr_ok;
    char w_thr_err[256];
};

static double now_s_since(int64_t t0) { return (double)(tlb_now_ns() - t0) * 1e-9; }

/* Append "; msg" (or msg when empty), truncating at the buffer end. */
static void add_reason(char *buf, size_t n, const char *msg) {
    size_t off = strlen(buf);
    const char *parts[2] = {off ? "; " : "", msg};
    for (int k = 0; k < 2; k++)
        for (const char *p = parts[k]; *p && off + 1 < n; p++) buf[off++] = *p;
    buf[off] = '\0';
}

/* Record a failure that ends a sensor's use (lock held). */
static void mark_dead(struct tlb_monitor *m, int *flag, const char *why) {
    if (*flag) return;
    *flag = 1;
    add_reason(m->dead_reason, sizeof m->dead_reason, why);
}

static int is_dead(struct tlb_monitor *m, const int *flag) {
    pthread_mutex_lock(&m->lock);
    int d = *flag;
    pthread_mutex_unlock(&m->lock);
    return d;
}

static int is_energy(const struct tlb_monitor *m) {
    return m->power && tlb_power_source_info(m->power)->type == TLB_POWER_ENERGY;
}

/* Energy since start for a sampler at time t (lock held). */
static double sampler_energy_at(const struct tlb_monitor *m, int64_t t) {
    if (!m->have_sample) return NAN;
    double held = t > m->t_last ? (double)(t - m->t_last) * 1e-9 * m->p_last : 0.0;
    return m->e_integral + held;
}

/* Read the energy counter now (src_lock taken here). NAN on failure (marks it dead). */
static double counter_energy_now(struct tlb_monitor *m) {
    double v;
    char why[256];
    int dead = is_dead(m, &m->power_dead);
    pthread_mutex_lock(&m->src_lock);
    int r = dead ? -1 : tlb_power_read(m->power, &v, why, sizeof why);
    pthread_mutex_unlock(&m->src_lock);
    pthread_mutex_lock(&m->lock);
    if (r != 0 && !m->power_dead) {
        char msg[300];
        snprintf(msg, sizeof msg, "power sensor failed: %s", why);
        mark_dead(m, &m->power_dead, msg);
    }
    double e = m->power_dead ? NAN : v - m->e_base;
    pthread_mutex_unlock(&m->lock);
    return e;
}

double tlb_monitor_mark(struct tlb_monitor *m) {
    if (!m->power) return NAN;
    if (is_energy(m)) return counter_energy_now(m);
    pthread_mutex_lock(&m->lock);
    double e = m->power_dead ? NAN : sampler_energy_at(m, tlb_now_ns());
    pthread_mutex_unlock(&m->lock);
    return e;
}

/* One background sample: power (samplers integrate; counters keep wrap tracking fresh),
 * temperature and frequency. */
static void take_sample(struct tlb_monitor *m) {
    double value = 0, temp = NAN;
    char pwhy[256] = "", twhy[256] = "";
    int pr = 1, tr = 1;
    if (m->power && !is_dead(m, &m->power_dead)) {
        pthread_mutex_lock(&m->src_lock);
        pr = tlb_power_read(m->power, &value, pwhy, sizeof pwhy);
        pthread_mutex_unlock(&m->src_lock);
    }
    int64_t t = tlb_now_ns();
    if (m->thermal && !is_dead(m, &m->thermal_dead))
        tr = tlb_thermal_read_max(m->thermal, &temp, twhy, sizeof twhy);
    long freq = tlb_cpufreq_min_khz(m->root, m->n_cpus);

    pthread_mutex_lock(&m->lock);
    if (pr < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "power sensor failed: %s", pwhy);
        mark_dead(m, &m->power_dead, msg);
    } else if (pr == 0 && !is_energy(m) && !m->power_dead) {
        if (m->have_sample)
            m->e_integral += 0.5 * (m->p_last + value) * (double)(t - m->t_last) * 1e-9;
        m->p_last = value;
        m->t_last = t;
        m->have_sample = 1;
    }
    if (tr < 0) {
        mark_dead(m, &m->thermal_dead, twhy);
    } else if (tr == 0 && !(temp <= m->w_temp_max)) {
        m->w_temp_max = temp; /* also replaces the NAN of an empty window */
    }
    if (freq > 0 && (m->w_freq_min < 0 || freq < m->w_freq_min)) m->w_freq_min = freq;
    m->w_samples++;
    if (t - m->w_last_sample > m->w_max_gap) m->w_max_gap = t - m->w_last_sample;
    m->w_last_sample = t;
    pthread_mutex_unlock(&m->lock);
}

static void *sampler_main(void *arg) {
    struct tlb_monitor *m = arg;
    int64_t next = tlb_now_ns() + m->period_ns;
    pthread_mutex_lock(&m->lock);
    while (!m->stopping) {
        int r = tlb_cond_wait_until(&m->wake, &m->lock, next);
        if (m->stopping) break;
        if (r != ETIMEDOUT && tlb_now_ns() < next) continue; /* spurious wake-up */
        pthread_mutex_unlock(&m->lock);
        take_sample(m);
        /* keep a fixed grid; after a slow reading skip missed ticks instead of bursting */
        int64_t now = tlb_now_ns();
        next += m->period_ns;
        if (next <= now) next = now + m->period_ns;
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static void read_thermal_now(struct tlb_monitor *m, double *temp) {
    char why[256];
    *temp = NAN;
    if (!m->thermal || is_dead(m, &m->thermal_dead)) return;
    if (tlb_thermal_read_max(m->thermal, temp, why, sizeof why) != 0) {
        *temp = NAN;
        pthread_mutex_lock(&m->lock);
        mark_dead(m, &m->thermal_dead, why);
        pthread_mutex_unlock(&m->lock);
    }
}

void tlb_monitor_reset(struct tlb_monitor *m) {
    double temp;
    read_thermal_now(m, &temp);
    long freq = tlb_cpufreq_min_khz(m->root, m->n_cpus);
    struct tlb_throttle_state thr;
    char terr[256] = "";
    int thr_ok = m->throttle ? tlb_throttle_read(m->throttle, &thr, terr, sizeof terr) == 0 : 0;
    double e = tlb_monitor_mark(m);
    pthread_mutex_lock(&m->lock);
    int64_t t = tlb_now_ns();
    m->w_start = m->w_last_sample = t;
    m->w_energy_start = e;
    m->w_samples = 0;
    m->w_max_gap = 0;
    m->w_temp_start = m->w_temp_max = temp;
    m->w_freq_min = freq;
    m->w_thr_ok = thr_ok;
    if (thr_ok) m->w_thr = thr;
    snprintf(m->w_thr_err, sizeof m->w_thr_err, "%s", terr);
    pthread_mutex_unlock(&m->lock);
}


int tlb_monitor_window(struct tlb_monitor *m, struct tlb_monitor_stats *st) {
    memset(st, 0, sizeof *st);
    double temp_end;
    read_thermal_now(m, &temp_end);
    long freq = tlb_cpufreq_min_khz(m->root, m->n_cpus);
    struct tlb_throttle_state after;
    char terr[256] = "";
    int after_ok = m->throttle ? tlb_throttle_read(m->throttle, &after, terr, sizeof terr) == 0
                               : 0;
    double e_end = tlb_monitor_mark(m);

    pthread_mutex_lock(&m->lock);
    int64_t t = tlb_now_ns();
    const struct tlb_power_info *pi = m->power ? tlb_power_source_info(m->power) : NULL;
    snprintf(st->power_source, sizeof st->power_source, "%s", pi ? pi->name : "none");
    snprintf(st->power_scope, sizeof st->power_scope, "%s",
             pi ? tlb_power_scope_name(pi->scope) : "none");
    st->power_is_energy = pi && pi->type == TLB_POWER_ENERGY;
    st->window_s = (double)(t - m->w_start) * 1e-9;
    st->energy_j = e_end - m->w_energy_start; /* NAN propagates */
    st->avg_power_w = st->window_s > 0 ? st->energy_j / st->window_s : NAN;
    st->samples = m->w_samples;
    st->sample_hz = st->window_s > 0 ? (double)m->w_samples / st->window_s : 0;
    int64_t gap = TLB_MAX(m->w_max_gap, t - m->w_last_sample);
    st->max_gap_ms = (double)gap * 1e-6;
    st->temp_start_c = m->w_temp_start;
    st->temp_max_c = m->w_temp_max;
    if (!(temp_end <= st->temp_max_c)) st->temp_max_c = temp_end;
    st->temp_end_c = temp_end;
    if (!isnan(st->temp_start_c) && st->temp_start_c > st->temp_max_c)
        st->temp_max_c = st->temp_start_c;
    st->freq_min_khz = m->w_freq_min;
    if (freq > 0 && (st->freq_min_khz < 0 || freq < st->freq_min_khz)) st->freq_min_khz = freq;
    snprintf(st->throttle_source, sizeof st->throttle_source, "%s",
             m->throttle ? tlb_throttle_name(m->throttle) : "none");
    st->throttle_count_delta = -1;
    st->valid = 1;
    if (m->throttle) {
        if (m->w_thr_ok && after_ok) {
            st->throttled = tlb_throttle_compare(&m->w_thr, &after, st->throttle_reason,
                                                 sizeof st->throttle_reason);
            st->throttle_bits_before = m->w_thr.bits;
            st->throttle_bits_after = after.bits;
            if (after.have_counts) st->throttle_count_delta = after.counts - m->w_thr.counts;
        } else {
            st->valid = 0;
            char msg[300];
            snprintf(msg, sizeof msg, "throttle state unreadable: %s",
                     m->w_thr_ok ? terr : m->w_thr_err);
            add_reason(st->invalid_reason, sizeof st->invalid_reason, msg);
        }
    }
    if (st->throttled) {
        st->valid = 0;
        char msg[300];
        snprintf(msg, sizeof msg, "throttled: %s", st->throttle_reason);
        add_reason(st->invalid_reason, sizeof st->invalid_reason, msg);
    }
    if (m->dead_reason[0]) {
        st->valid = 0;
        add_reason(st->invalid_reason, sizeof st->invalid_reason, m->dead_reason);
    }
    if (pi && !st->power_is_energy && !m->power_dead && m->w_samples < m->min_samples) {
        st->valid = 0;
        char msg[160];
        snprintf(msg, sizeof msg, "only %ld power samples in a %.3f s window (need %d)",
                 m->w_samples, st->window_s, m->min_samples);
        add_reason(st->invalid_reason, sizeof st->invalid_reason, msg);
    }
    pthread_mutex_unlock(&m->lock);
    return st->valid ? 0 : -1;
}

double tlb_monitor_idle_power(struct tlb_monitor *m, double seconds, char *why,
                              size_t why_len) {
    if (!m->power) {
        snprintf(why, why_len, "no power source: %s", m->power_why);
        return NAN;
    }
    double e0 = tlb_monitor_mark(m);
    int64_t t0 = tlb_now_ns();
    int64_t end = t0 + (int64_t)(seconds * 1e9);
    for (int64_t now = t0; now < end; now = tlb_now_ns()) {
        int64_t left = end - now;
        struct timespec ts = {(time_t)(left / 1000000000LL), (long)(left % 1000000000LL)};
        nanosleep(&ts, NULL);
    }
    double e1 = tlb_monitor_mark(m);
    double dt = now_s_since(t0);
    if (isnan(e0) || isnan(e1) || dt <= 0) {
        pthread_mutex_lock(&m->lock);
        snprintf(why, why_len, "%s", m->dead_reason[0] ? m->dead_reason : "no power reading");
        pthread_mutex_unlock(&m->lock);
        return NAN;
    }
    return (e1 - e0) / dt;
}

const struct tlb_power_info *tlb_monitor_power(const struct tlb_monitor *m) {
    return m->power ? tlb_power_source_info(m->power) : NULL;
}

const char *tlb_monitor_power_why_none(const struct tlb_monitor *m) { return m->power_why; }

struct tlb_monitor *tlb_monitor_start(const struct tlb_monitor_opts *o, char *why,
                                      size_t why_len) {
    struct tlb_monitor *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    snprintf(m->root, sizeof m->root, "%s", o->root ? o->root : "");
    double hz = o->sample_hz > 0 ? TLB_MIN(o->sample_hz, 1000.0) : 10.0;
    m->period_ns = (int64_t)(1e9 / hz);
    m->min_samples = o->min_samples > 0 ? o->min_samples : 2;
    m->n_cpus = o->n_cpus;
    if (m->n_cpus <= 0) {
        char list[256];
        if (tlb_sysfs_read(m->root, "/sys/devices/system/cpu/online", list, sizeof list) > 0)
            m->n_cpus = tlb_cpulist_count(list);
        if (m->n_cpus <= 0) m->n_cpus = 1;
    }
    struct tlb_power_opts po = o->power;
    po.root = m->root;
    m->power = tlb_power_open(&po, m->power_why, sizeof m->power_why);
    char tw[256];
    m->thermal = tlb_thermal_open(m->root, o->thermal_zones, tw, sizeof tw);
    if (!m->thermal && o->thermal_zones && *o->thermal_zones) /* profile's zones absent */
        m->thermal = tlb_thermal_open(m->root, NULL, tw, sizeof tw);
    if (!o->no_throttle)
        m->throttle = tlb_throttle_open(m->root, o->power.vcgencmd, m->n_cpus, tw, sizeof tw);

    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->src_lock, NULL);
    tlb_cond_init_monotonic(&m->wake);

    m->t_start = tlb_now_ns();
    if (is_energy(m)) {
        double v;
        char w[256];
        if (tlb_power_read(m->power, &v, w, sizeof w) == 0) {
            m->e_base = v;
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "power sensor failed: %s", w);
            mark_dead(m, &m->power_dead, msg);
        }
    }
    /* a first sample at t = 0, so a sampler's integral starts at the start */
    m->w_last_sample = m->t_start;
    m->w_temp_max = NAN;
    m->w_freq_min = -1;
    take_sample(m);
    if (!is_energy(m) && m->have_sample) {
        m->t_last = m->t_start;
        m->e_integral = 0;
    }
    tlb_monitor_reset(m);
    int r = pthread_create(&m->thread, NULL, sampler_main, m);
    if (r != 0) {
        snprintf(why, why_len, "cannot start the monitor thread: %s", strerror(r));
        tlb_monitor_stop(m);
        return NULL;
    }
    m->thread_started = 1;
    return m;
}

void tlb_monitor_stop(struct tlb_monitor *m) {
    if (!m) return;
    if (m->thread_started) {
        pthread_mutex_lock(&m->lock);
        m->stopping = 1;
        pthread_cond_signal(&m->wake);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->thread, NULL);
    }
    tlb_power_close(m->power);
    tlb_thermal_close(m->thermal);
    tlb_throttle_close(m->throttle);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->src_lock);
    pthread_cond_destroy(&m->wake);
    free(m);
}
