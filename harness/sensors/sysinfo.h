/* sysinfo.h — what tlbench knows about the machine it runs on: board, CPU (with Arm core
 * names from MIDR), cores, memory, OS, kernel, cpufreq governor and frequencies, SMT,
 * transparent huge pages, virtualisation, ISA features. Every reader takes a root prefix
 * ("" for the real system) so tests run it on fake trees under tests/fixtures/sysfs/.
 * The board *kind* (rpi5, jetson-orin-nano, ...) is decided by the platform profiles
 * (profile.h), whose match rules test the facts collected here.
 * Layer harness/sensors/: facts about the machine and readings from it (this file, profiles,
 * power backends listed in power-list.h, thermal zones, the monitor thread, counters, CPU
 * load, bandwidth/FLOP probes, external commands under a guard). It uses base/, kernels/ (CPU
 * features) and engine/; sweep and report build on it, results is beside it. */
#ifndef TLB_SYSINFO_H
#define TLB_SYSINFO_H

#include <stddef.h>

struct tlb_sysinfo {
    char board[160];        /* devicetree model, else "DMI-vendor DMI-product", else "unknown" */
    char board_source[16];  /* "devicetree", "dmi", "cpuinfo" or "none" */
    char dt_model[128];     /* /proc/device-tree/model, "" when absent */
    char dmi_vendor[64];    /* /sys/class/dmi/id/sys_vendor, "" when absent */
    char dmi_product[96];   /* /sys/class/dmi/id/product_name, "" when absent */
    char arch[32];          /* "x86_64", "aarch64", ... */
    char cpu_vendor[32];    /* "AuthenticAMD", "GenuineIntel", "ARM", "NVIDIA", ... */
    char cpu_model[160];    /* x86: cpuinfo "model name"; Arm: "4x Cortex-A76" from MIDR,
                               "2x Cortex-A76 + 4x Cortex-A55" on mixed clusters */
    int n_cpus;             /* logical CPUs online (>= 1) */
    int n_cores;            /* physical cores (n_cpus when topology is unknown) */
    char smt[24];           /* /sys/devices/system/cpu/smt/control ("on", "off",
                               "notsupported", ...) or "unknown" */
    long long mem_total_bytes;      /* MemTotal, -1 unknown */
    long long mem_available_bytes;  /* MemAvailable, -1 unknown */
    char os[128];           /* /etc/os-release PRETTY_NAME, or "unknown" */
    char kernel[128];       /* "Linux 6.1.0-18-amd64" */
    char governor[32];      /* cpu0 scaling_governor, "" without cpufreq */
    long freq_min_khz;      /* min over CPUs of cpuinfo_min_freq, -1 unknown */
    long freq_max_khz;      /* max over CPUs of cpuinfo_max_freq, -1 unknown */
    long freq_cur_khz;      /* min over CPUs of scaling_cur_freq, -1 unknown */
    int boost;              /* frequency boost/turbo: 1 on, 0 off, -1 unknown (cpufreq/boost,
                               intel_pstate/no_turbo inverted, cpufreq/policy0/boost) */
    char power_mode[80];    /* Jetson nvpmodel mode, "MAXN_SUPER (nvpmodel 2)", "" elsewhere */
    char thp[16];           /* transparent_hugepage/enabled choice: "always", "madvise",
                               "never", or "unknown" */
    int hypervisor;         /* 1 when running in a virtual machine */
    char virt[64];          /* why we think so ("cpuinfo hypervisor flag", "DMI QEMU"), "" */
    char isa[512];          /* space-separated ISA features, kernels/cpu.h names: on the real
                               machine from cpu.h (cpuid/hwcaps, honours TLBENCH_CPU_MASK),
                               under a fake root from its /proc/cpuinfo flags */
    char isa_source[16];    /* "cpu.h" or "cpuinfo" */
};

/* Fill si from the tree under root ("" = this machine). Never fails: what cannot be read
 * is left "unknown"/-1. Returns 0, or -1 only when root itself does not exist (with an
 * error printed naming it). */
int tlb_sysinfo_read(const char *root, struct tlb_sysinfo *si);

/* Is feature name (e.g. "avx512f", "avx2", "avxvnni", "neon", "dotprod") in si->isa?
 * Names are those of kernels/cpu.h (tlb_cpu_feature_name). */
int tlb_sysinfo_has_isa(const struct tlb_sysinfo *si, const char *feature);

/* Arm core name from the MIDR implementer and part numbers ("Cortex-A76", "Neoverse-N1",
 * "Cortex-A78AE", ...), or NULL when unknown. */
const char *tlb_arm_core_name(unsigned implementer, unsigned part);
/* The same from a whole MIDR_EL1 value (implementer bits 31:24, part bits 15:4). */
const char *tlb_midr_core_name(unsigned long long midr);

#endif
