/* sysinfo.c — collects board, CPU, memory, OS and cpufreq facts from a root-prefixed tree
 * (sysinfo.h). Arm CPUs are named from MIDR (sysfs midr_el1, else cpuinfo implementer/part)
 * because their /proc/cpuinfo has no "model name". */
#include "sysinfo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cpu.h"
#include "sysfs.h"
#include "util.h"

#define MAX_CPUINFO (8u << 20)

struct arm_part {
    unsigned impl, part;
    const char *name;
};

/* MIDR implementer/part numbers from the Arm Technical Reference Manuals (and the Linux
 * arch/arm64/include/asm/cputype.h list). */
static const struct arm_part arm_parts[] = {
    {0x41, 0xd03, "Cortex-A53"},   {0x41, 0xd04, "Cortex-A35"},
    {0x41, 0xd05, "Cortex-A55"},   {0x41, 0xd07, "Cortex-A57"},
    {0x41, 0xd08, "Cortex-A72"},   {0x41, 0xd09, "Cortex-A73"},
    {0x41, 0xd0a, "Cortex-A75"},   {0x41, 0xd0b, "Cortex-A76"},
    {0x41, 0xd0c, "Neoverse-N1"},  {0x41, 0xd0d, "Cortex-A77"},
    {0x41, 0xd0e, "Cortex-A76AE"}, {0x41, 0xd40, "Neoverse-V1"},
    {0x41, 0xd41, "Cortex-A78"},   {0x41, 0xd42, "Cortex-A78AE"},
    {0x41, 0xd43, "Cortex-A65AE"}, {0x41, 0xd44, "Cortex-X1"},
    {0x41, 0xd46, "Cortex-A510"},  {0x41, 0xd47, "Cortex-A710"},
    {0x41, 0xd48, "Cortex-X2"},    {0x41, 0xd49, "Neoverse-N2"},
    {0x41, 0xd4a, "Neoverse-E1"},  {0x41, 0xd4b, "Cortex-A78C"},
    {0x41, 0xd4c, "Cortex-X1C"},   {0x41, 0xd4d, "Cortex-A715"},
    {0x41, 0xd4e, "Cortex-X3"},    {0x41, 0xd4f, "Neoverse-V2"},
    {0x41, 0xd80, "Cortex-A520"},  {0x41, 0xd81, "Cortex-A720"},
    {0x41, 0xd82, "Cortex-X4"},    {0x41, 0xd84, "Neoverse-V3"},
    {0x41, 0xd85, "Cortex-X925"},  {0x41, 0xd87, "Cortex-A725"},
    {0x41, 0xd8e, "Neoverse-N3"},  {0x4e, 0x004, "NVIDIA Carmel"},
    {0x46, 0x001, "Fujitsu A64FX"}, {0xc0, 0xac3, "Ampere-1"},
    {0xc0, 0xac4, "Ampere-1A"},
};

const char *tlb_arm_core_name(unsigned implementer, unsigned part) {
    for (size_t i = 0; i < TLB_ARRAY_LEN(arm_parts); i++)
        if (arm_parts[i].impl == implementer && arm_parts[i].part == part)
            return arm_parts[i].name;
    return NULL;
}

const char *tlb_midr_core_name(unsigned long long midr) {
    return tlb_arm_core_name((unsigned)((midr >> 24) & 0xff), (unsigned)((midr >> 4) & 0xfff));
}

/* Truncating copy (these fields are for display; a cut model name is acceptable). */
static void copy_str(char *dst, size_t n, const char *src) {
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len) memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Value of "key : value" on one cpuinfo line starting at line (up to the newline). */
static int line_value(const char *line, const char *key, char *out, size_t n) {
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) != 0) return 0;
    const char *p = line + kl;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != ':') return 0;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    size_t len = strcspn(p, "\n");
    if (len >= n) len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
    while (len > 0 && isspace((unsigned char)out[len - 1])) out[--len] = '\0';
    return 1;
}

/* One /proc/cpuinfo "processor" block's Arm identity. */
struct arm_cpu {
    unsigned impl, part;
    int have;
};

#define MAX_ARM_CPUS 1024
#define MAX_CORE_IDS 4096

struct cpuinfo {
    char model[160], vendor[32], flags[4096];
    int n_proc;
    int is_arm, is_x86;
    struct arm_cpu *arm;  /* MAX_ARM_CPUS entries */
    int n_cores;          /* distinct (physical id, core id) pairs, 0 unknown */
};

static void parse_cpuinfo(const char *text, struct cpuinfo *ci) {
    long *core_keys = calloc(MAX_CORE_IDS, sizeof *core_keys);
    int n_keys = 0, phys = 0, core = -1;
    char v[4096];
    int cur = -1;
    for (const char *line = text; line && *line;) {
        if (line_value(line, "processor", v, sizeof v)) {
            cur = ci->n_proc++;
            phys = 0;
            core = -1;
        } else if (line_value(line, "model name", v, sizeof v)) {
            if (!ci->model[0]) copy_str(ci->model, sizeof ci->model, v);
        } else if (line_value(line, "vendor_id", v, sizeof v)) {
            ci->is_x86 = 1;
            if (!ci->vendor[0]) copy_str(ci->vendor, sizeof ci->vendor, v);
        } else if (line_value(line, "flags", v, sizeof v) ||
                   line_value(line, "Features", v, sizeof v)) {
            if (!ci->flags[0]) copy_str(ci->flags, sizeof ci->flags, v);
        } else if (line_value(line, "CPU implementer", v, sizeof v)) {
            ci->is_arm = 1;
            if (cur >= 0 && cur < MAX_ARM_CPUS) {
                ci->arm[cur].impl = (unsigned)strtoul(v, NULL, 0);
                ci->arm[cur].have |= 1;
            }
        } else if (line_value(line, "CPU part", v, sizeof v)) {
            if (cur >= 0 && cur < MAX_ARM_CPUS) {
                ci->arm[cur].part = (unsigned)strtoul(v, NULL, 0);
                ci->arm[cur].have |= 2;
            }
        } else if (line_value(line, "physical id", v, sizeof v)) {
            phys = atoi(v);
        } else if (line_value(line, "core id", v, sizeof v)) {
            core = atoi(v);
            long key = (long)phys * 100000L + core;
            int seen = 0;
            for (int i = 0; i < n_keys; i++) seen |= core_keys && core_keys[i] == key;
            if (!seen && core_keys && n_keys < MAX_CORE_IDS) core_keys[n_keys++] = key;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    ci->n_cores = n_keys;
    free(core_keys);
}

static const char *arm_vendor(unsigned impl) {
    switch (impl) {
    case 0x41: return "ARM";
    case 0x42: return "Broadcom";
    case 0x46: return "Fujitsu";
    case 0x4e: return "NVIDIA";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0xc0: return "Ampere";
    default: return "unknown";
    }
}

/* "4x Cortex-A76" or "2x Cortex-A76 + 4x Cortex-A55": groups in first-seen order. */
static void arm_model_string(const struct arm_cpu *cpus, int n, char *out, size_t len) {
    unsigned key[16];
    int count[16], groups = 0;
    for (int i = 0; i < n; i++) {
        if (cpus[i].have != 3) continue;
        unsigned k = cpus[i].impl << 12 | cpus[i].part;
        int g = 0;
        while (g < groups && key[g] != k) g++;
        if (g == groups) {
            if (groups == 16) continue;
            key[groups] = k;
            count[groups++] = 0;
        }
        count[g]++;
    }
    out[0] = '\0';
    size_t off = 0;
    for (int g = 0; g < groups && off < len; g++) {
        unsigned impl = key[g] >> 12, part = key[g] & 0xfff;
        const char *name = tlb_arm_core_name(impl, part);
        char unk[48];
        if (!name) {
            snprintf(unk, sizeof unk, "Arm core 0x%02x:0x%03x", impl, part);
            name = unk;
        }
        int w = snprintf(out + off, len - off, "%s%dx %s", g ? " + " : "", count[g], name);
        if (w < 0) break;
        off += (size_t)w;
    }
}

/* cpuinfo flag names of the kernels/cpu.h features, for fake trees (tests, --root): the
 * real machine uses cpu.h's run-time detection instead, so there is one feature vocabulary. */
static const char *cpuinfo_flag(enum tlb_cpu_feature f, int arm) {
    switch (f) {
    case TLB_CPU_AVXVNNI: return arm ? NULL : "avx_vnni";
    case TLB_CPU_AVX512VNNI: return arm ? NULL : "avx512_vnni";
    case TLB_CPU_AVX512BF16: return arm ? NULL : "avx512_bf16";
    case TLB_CPU_NEON: return arm ? "asimd" : NULL;
    case TLB_CPU_DOTPROD: return arm ? "asimddp" : NULL;
    case TLB_CPU_FP16: return arm ? "asimdhp" : NULL;
    case TLB_CPU_I8MM:
    case TLB_CPU_SVE: return arm ? tlb_cpu_feature_name(f) : NULL;
    default: return arm ? NULL : tlb_cpu_feature_name(f);
    }
}

static int has_word(const char *list, const char *w) {
    size_t wl = strlen(w);
    for (const char *p = list; wl && (p = strstr(p, w)) != NULL; p += wl)
        if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
            (p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\t'))
            return 1;
    return 0;
}

static void isa_from_flags(const char *flags, int arm, char *out, size_t n) {
    size_t off = 0;
    out[0] = '\0';
    for (int f = 0; f < TLB_CPU_FEATURE_COUNT; f++) {
        const char *flag = cpuinfo_flag((enum tlb_cpu_feature)f, arm);
        if (!flag || !has_word(flags, flag)) continue;
        int w = snprintf(out + off, n - off, "%s%s", off ? " " : "",
                         tlb_cpu_feature_name((enum tlb_cpu_feature)f));
        if (w < 0 || (size_t)w >= n - off) break;
        off += (size_t)w;
    }
}

int tlb_sysinfo_has_isa(const struct tlb_sysinfo *si, const char *feature) {
    return has_word(si->isa, feature);
}

static void read_os(const char *root, struct tlb_sysinfo *si) {
    char *text = tlb_sysfs_slurp(root, "/etc/os-release", 65536, NULL);
    if (!text) text = tlb_sysfs_slurp(root, "/usr/lib/os-release", 65536, NULL);
    if (!text) return;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
            char *v = line + 12;
            size_t len = strlen(v);
            if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
                v[len - 1] = '\0';
                v++;
            }
            copy_str(si->os, sizeof si->os, v);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
}

static void read_meminfo(const char *root, struct tlb_sysinfo *si) {
    char *text = tlb_sysfs_slurp(root, "/proc/meminfo", 1u << 20, NULL);
    if (!text) return;
    char v[128];
    for (const char *line = text; line && *line;) {
        long long kb;
        if (line_value(line, "MemTotal", v, sizeof v) && sscanf(v, "%lld", &kb) == 1)
            si->mem_total_bytes = kb * 1024;
        else if (line_value(line, "MemAvailable", v, sizeof v) && sscanf(v, "%lld", &kb) == 1)
            si->mem_available_bytes = kb * 1024;
        line = strchr(line, '\n');
        if (line) line++;
    }
    free(text);
}

/* Frequencies over every CPU that has cpufreq (big.LITTLE clusters differ). */
static void read_cpufreq(const char *root, struct tlb_sysinfo *si) {
    char path[128];
    int ncpu = si->n_cpus > 0 ? si->n_cpus : 1;
    for (int c = 0; c < ncpu && c < 4096; c++) {
        long long v;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/cpuinfo_min_freq", c);
        if (tlb_sysfs_read_ll(root, path, &v) == 0 && v > 0 &&
            (si->freq_min_khz < 0 || v < si->freq_min_khz))
            si->freq_min_khz = (long)v;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/cpuinfo_max_freq", c);
        if (tlb_sysfs_read_ll(root, path, &v) == 0 && v > si->freq_max_khz)
            si->freq_max_khz = (long)v;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq", c);
        if (tlb_sysfs_read_ll(root, path, &v) == 0 && v > 0 &&
            (si->freq_cur_khz < 0 || v < si->freq_cur_khz))
            si->freq_cur_khz = (long)v;
    }
    tlb_sysfs_read(root, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", si->governor,
                   sizeof si->governor);
}

/* Boost/turbo: intel_pstate says "no_turbo", acpi-cpufreq and amd-pstate say "boost" (global or
 * per policy). */
static void read_boost(const char *root, struct tlb_sysinfo *si) {
    long long v;
    si->boost = -1;
    if (tlb_sysfs_read_ll(root, "/sys/devices/system/cpu/intel_pstate/no_turbo", &v) == 0 &&
        (v == 0 || v == 1))
        si->boost = v == 0;
    else if (tlb_sysfs_read_ll(root, "/sys/devices/system/cpu/cpufreq/boost", &v) == 0 &&
             (v == 0 || v == 1))
        si->boost = (int)v;
    else if (tlb_sysfs_read_ll(root, "/sys/devices/system/cpu/cpufreq/policy0/boost", &v) == 0 &&
             (v == 0 || v == 1))
        si->boost = (int)v;
}

/* The number after key in s (e.g. "ID=" in "< POWER_MODEL ID=2 NAME=MAXN_SUPER >"), or -1. */
static long key_number(const char *s, const char *key) {
    const char *p = strstr(s, key);
    if (!p) return -1;
    p += strlen(key);
    if (*p < '0' || *p > '9') return -1;
    char *end;
    long v = strtol(p, &end, 10);
    return v >= 0 && v < 1000 ? v : -1;
}

/* Each line of text starting with '<' (nvpmodel.conf's definitions), NUL-terminated in line;
 * returns the next position or NULL. */
static const char *conf_line(const char *l, char *line, size_t n) {
    while (l && *l) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        const char *next = nl ? nl + 1 : l + len;
        if (len < n && *l == '<') {
            memcpy(line, l, len);
            line[len] = '\0';
            return next;
        }
        l = next;
    }
    return NULL;
}

/* Jetson power mode: the active mode id is in /var/lib/nvpmodel/status ("pmode:0002", written
 * by nvpmodel), else the boot default of /etc/nvpmodel.conf ("< PM_CONFIG DEFAULT=0 >"); the
 * name comes from the conf's "< POWER_MODEL ID=2 NAME=MAXN_SUPER >". No root needed. */
static void read_power_mode(const char *root, struct tlb_sysinfo *si) {
    char status[64], line[256], name[48] = "";
    long id = -1;
    if (tlb_sysfs_read(root, "/var/lib/nvpmodel/status", status, sizeof status) > 0)
        id = key_number(status, "pmode:");
    char *conf = tlb_sysfs_slurp(root, "/etc/nvpmodel.conf", 1u << 20, NULL);
    for (const char *l = conf; id < 0 && (l = conf_line(l, line, sizeof line));)
        if (strstr(line, "PM_CONFIG")) id = key_number(line, "DEFAULT=");
    for (const char *l = conf; id >= 0 && (l = conf_line(l, line, sizeof line));) {
        const char *n = strstr(line, "NAME=");
        if (!strstr(line, "POWER_MODEL") || !n || key_number(line, "ID=") != id) continue;
        size_t k = 0;
        for (n += 5; k + 1 < sizeof name && (isalnum((unsigned char)*n) || *n == '_' || *n == '-');)
            name[k++] = *n++;
        name[k] = '\0';
        break;
    }
    free(conf);
    if (id < 0) return;
    if (name[0]) snprintf(si->power_mode, sizeof si->power_mode, "%s (nvpmodel %ld)", name, id);
    else snprintf(si->power_mode, sizeof si->power_mode, "nvpmodel %ld", id);
}

static void read_thp(const char *root, struct tlb_sysinfo *si) {
    char buf[128];
    if (tlb_sysfs_read(root, "/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf) <= 0)
        return;
    char *l = strchr(buf, '['), *r = l ? strchr(l, ']') : NULL;
    if (l && r && r > l + 1) {
        *r = '\0';
        copy_str(si->thp, sizeof si->thp, l + 1);
    } else {
        copy_str(si->thp, sizeof si->thp, buf);
    }
}

static void read_board(const char *root, struct tlb_sysinfo *si, const char *cpuinfo_model) {
    tlb_sysfs_read(root, "/proc/device-tree/model", si->dt_model, sizeof si->dt_model);
    if (!si->dt_model[0])
        tlb_sysfs_read(root, "/sys/firmware/devicetree/base/model", si->dt_model,
                       sizeof si->dt_model);
    tlb_sysfs_read(root, "/sys/class/dmi/id/sys_vendor", si->dmi_vendor, sizeof si->dmi_vendor);
    tlb_sysfs_read(root, "/sys/class/dmi/id/product_name", si->dmi_product,
                   sizeof si->dmi_product);
    if (si->dt_model[0]) {
        copy_str(si->board, sizeof si->board, si->dt_model);
        copy_str(si->board_source, sizeof si->board_source, "devicetree");
    } else if (si->dmi_vendor[0] || si->dmi_product[0]) {
        snprintf(si->board, sizeof si->board, "%s%s%s", si->dmi_vendor,
                 si->dmi_vendor[0] && si->dmi_product[0] ? " " : "", si->dmi_product);
        copy_str(si->board_source, sizeof si->board_source, "dmi");
    } else if (cpuinfo_model && cpuinfo_model[0]) {
        /* Raspberry Pi kernels also print "Model : Raspberry Pi 5 ..." in cpuinfo */
        copy_str(si->board, sizeof si->board, cpuinfo_model);
        copy_str(si->board_source, sizeof si->board_source, "cpuinfo");
    }
}

static void detect_virt(const char *root, struct tlb_sysinfo *si, const char *flags) {
    static const char *const vm_vendors[] = {"QEMU", "innotek", "VMware", "Xen",
                                             "Microsoft Corporation", "Parallels",
                                             "Amazon EC2", "Google", "BHYVE", "KVM"};
    const char *p = strstr(flags, "hypervisor");
    if (p && (p == flags || p[-1] == ' ') && (p[10] == '\0' || p[10] == ' ')) {
        si->hypervisor = 1;
        copy_str(si->virt, sizeof si->virt, "cpuinfo hypervisor flag");
        return;
    }
    for (size_t i = 0; i < TLB_ARRAY_LEN(vm_vendors); i++) {
        if (strstr(si->dmi_vendor, vm_vendors[i]) || strstr(si->dmi_product, vm_vendors[i])) {
            /* physical Microsoft/Google machines exist: only their VM products count */
            if ((!strcmp(vm_vendors[i], "Microsoft Corporation") ||
                 !strcmp(vm_vendors[i], "Google")) &&
                !strstr(si->dmi_product, "Virtual") && !strstr(si->dmi_product, "Compute"))
                continue;
            si->hypervisor = 1;
            snprintf(si->virt, sizeof si->virt, "DMI %s", vm_vendors[i]);
            return;
        }
    }
    char type[32];
    if (tlb_sysfs_read(root, "/sys/hypervisor/type", type, sizeof type) > 0) {
        si->hypervisor = 1;
        snprintf(si->virt, sizeof si->virt, "/sys/hypervisor %s", type);
    }
}

int tlb_sysinfo_read(const char *root, struct tlb_sysinfo *si) {
    memset(si, 0, sizeof *si);
    if (!root) root = "";
    if (root[0]) {
        struct stat st;
        if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
            tlb_error("%s: root directory for system information does not exist", root);
            return -1;
        }
    }
    copy_str(si->board, sizeof si->board, "unknown");
    copy_str(si->board_source, sizeof si->board_source, "none");
    copy_str(si->cpu_model, sizeof si->cpu_model, "unknown");
    copy_str(si->cpu_vendor, sizeof si->cpu_vendor, "unknown");
    copy_str(si->os, sizeof si->os, "unknown");
    copy_str(si->smt, sizeof si->smt, "unknown");
    copy_str(si->thp, sizeof si->thp, "unknown");
    copy_str(si->arch, sizeof si->arch, "unknown");
    copy_str(si->kernel, sizeof si->kernel, "unknown");
    si->mem_total_bytes = si->mem_available_bytes = -1;
    si->freq_min_khz = si->freq_max_khz = si->freq_cur_khz = -1;

    struct cpuinfo ci;
    memset(&ci, 0, sizeof ci);
    ci.arm = calloc(MAX_ARM_CPUS, sizeof *ci.arm);
    char pi_model[128] = "";
    char *text = ci.arm ? tlb_sysfs_slurp(root, "/proc/cpuinfo", MAX_CPUINFO, NULL) : NULL;
    if (text) {
        parse_cpuinfo(text, &ci);
        for (const char *line = text; line && *line;) {
            if (line_value(line, "Model", pi_model, sizeof pi_model)) break;
            line = strchr(line, '\n');
            if (line) line++;
        }
        free(text);
    }

    /* online CPUs: the kernel's list, else the cpuinfo blocks */
    char list[256];
    if (tlb_sysfs_read(root, "/sys/devices/system/cpu/online", list, sizeof list) > 0)
        si->n_cpus = tlb_cpulist_count(list);
    if (si->n_cpus <= 0) si->n_cpus = ci.n_proc > 0 ? ci.n_proc : 1;
    si->n_cores = ci.n_cores > 0 ? ci.n_cores : si->n_cpus;

    if (!root[0]) {
        struct utsname u;
        if (uname(&u) == 0) {
            snprintf(si->kernel, sizeof si->kernel, "%.60s %.60s", u.sysname, u.release);
            copy_str(si->arch, sizeof si->arch, u.machine);
        }
    } else {
        char type[32] = "Linux", rel[96];
        tlb_sysfs_read(root, "/proc/sys/kernel/ostype", type, sizeof type);
        if (tlb_sysfs_read(root, "/proc/sys/kernel/osrelease", rel, sizeof rel) > 0)
            snprintf(si->kernel, sizeof si->kernel, "%.30s %.90s", type[0] ? type : "Linux",
                     rel);
        copy_str(si->arch, sizeof si->arch,
                 ci.is_arm ? "aarch64" : ci.is_x86 ? "x86_64" : "unknown");
    }

    if (ci.is_arm) {
        /* per-CPU MIDR from sysfs is authoritative; cpuinfo blocks fill the gaps */
        int n = si->n_cpus < MAX_ARM_CPUS ? si->n_cpus : MAX_ARM_CPUS;
        for (int c = 0; c < n; c++) {
            char path[128];
            long long midr;
            snprintf(path, sizeof path,
                     "/sys/devices/system/cpu/cpu%d/regs/identification/midr_el1", c);
            if (tlb_sysfs_read_ll(root, path, &midr) == 0) {
                ci.arm[c].impl = (unsigned)((midr >> 24) & 0xff);
                ci.arm[c].part = (unsigned)((midr >> 4) & 0xfff);
                ci.arm[c].have = 3;
            }
        }
        int nn = TLB_MAX(n, TLB_MIN(ci.n_proc, MAX_ARM_CPUS));
        arm_model_string(ci.arm, nn, si->cpu_model, sizeof si->cpu_model);
        if (!si->cpu_model[0]) copy_str(si->cpu_model, sizeof si->cpu_model,
                                        ci.model[0] ? ci.model : "unknown Arm CPU");
        for (int c = 0; c < nn; c++)
            if (ci.arm[c].have & 1) {
                copy_str(si->cpu_vendor, sizeof si->cpu_vendor, arm_vendor(ci.arm[c].impl));
                break;
            }
    } else {
        if (ci.model[0]) copy_str(si->cpu_model, sizeof si->cpu_model, ci.model);
        if (ci.vendor[0]) copy_str(si->cpu_vendor, sizeof si->cpu_vendor, ci.vendor);
    }

    if (!root[0]) {
        tlb_cpu_features_string(si->isa, sizeof si->isa);
        copy_str(si->isa_source, sizeof si->isa_source, "cpu.h");
    } else {
        isa_from_flags(ci.flags, ci.is_arm || !strcmp(si->arch, "aarch64"), si->isa,
                       sizeof si->isa);
        copy_str(si->isa_source, sizeof si->isa_source, "cpuinfo");
    }

    tlb_sysfs_read(root, "/sys/devices/system/cpu/smt/control", si->smt, sizeof si->smt);
    if (!si->smt[0]) copy_str(si->smt, sizeof si->smt, "unknown");
    read_meminfo(root, si);
    read_os(root, si);
    read_cpufreq(root, si);
    read_thp(root, si);
    read_boost(root, si);
    read_power_mode(root, si);
    read_board(root, si, pi_model);
    detect_virt(root, si, ci.flags);
    free(ci.arm);
    return 0;
}
