/* cpuload.h — was anything else running while we measured? A benchmark on a small board or
 * a VM is only as good as the quiet it ran in: with 2 cores, one busy neighbour halves a
 * 2-thread result (the pool's static row split waits for the descheduled thread). The runner
 * samples the machine's CPU time (/proc/stat, under a root for tests) and its own process's
 * (getrusage) around the timed repetitions; what the machine spent beyond us, plus time the
 * hypervisor stole, is the interference, in CPUs (1.0 = one core kept busy all along). */
#ifndef TLB_CPULOAD_H
#define TLB_CPULOAD_H

struct tlb_cpuload_sample {
    double busy_s;  /* all CPUs: user + nice + system + irq + softirq */
    double steal_s; /* all CPUs: time the hypervisor ran something else */
    double self_s;  /* this process (all threads): user + system */
    double wall_s;  /* monotonic clock */
};

/* Read "<root>/proc/stat" and this process's usage. Returns 0, or -1 with errno set when
 * /proc/stat is unreadable or malformed. */
int tlb_cpuload_sample(const char *root, struct tlb_cpuload_sample *s);

/* The same, counting also the CPU time of process pid (all its threads, from
 * "<root>/proc/PID/stat") as ours: a child we run and measure, such as llama-bench. The child
 * may be a zombie not yet reaped (its times are still there). */
int tlb_cpuload_sample_with(const char *root, int pid, struct tlb_cpuload_sample *s);

/* utime + stime in seconds from a /proc/PID/stat text; -1 when malformed. */
int tlb_cpuload_parse_pid_stat(const char *text, double ticks_per_s, double *cpu_s);

/* Parse the aggregate "cpu " line of a /proc/stat text into busy and steal seconds
 * (ticks_per_s: sysconf(_SC_CLK_TCK)). Returns 0, or -1 when the line is missing or short. */
int tlb_cpuload_parse(const char *stat_text, double ticks_per_s, double *busy_s,
                      double *steal_s);

/* Interference between two samples, in CPUs: others = (busy - self) / wall and
 * steal = steal / wall (both >= 0). Returns 0, or -1 when the window is too short to say
 * (under 0.2 s: /proc/stat counts in 10 ms ticks). */
int tlb_cpuload_between(const struct tlb_cpuload_sample *a, const struct tlb_cpuload_sample *b,
                        double *others_cpus, double *steal_cpus);

/* The level above which a measurement is flagged: a quarter of a core used by others or
 * stolen, on average over the timed window. */
#define TLB_CPULOAD_BUSY_CPUS 0.25

#endif
