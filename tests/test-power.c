/* test-power.c — power sources, thermal/throttle readers and the monitor on fake sysfs
 * trees (tests/fixtures/sysfs): RAPL (normal, wrap-around, permission denied), hwmon power
 * and energy, Jetson INA3221 (VDD_IN chosen, never summed; old ina3221x layout), Pi 5 PMIC
 * and get_throttled through a fake vcgencmd, an external meter command, thermal zones, and
 * sensors that disappear while the monitor runs. Trees that a test changes are copied to
 * a temporary directory first. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "power.h"
#include "runcmd.h"
#include "sysfs.h"
#include "test.h"
#include "thermal.h"
#include "util.h"
#include "vcgencmd.h"

#define FIX "tests/fixtures/sysfs/"

/* Copy a fixture tree to a fresh temporary directory (dst gets its path). */
static int copy_fixture(const char *board, char *dst, size_t n) {
    snprintf(dst, n, "/tmp/tlb-fix-XXXXXX");
    if (!mkdtemp(dst)) return -1;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp -a '" FIX "%s/.' '%s/'", board, dst);
    return system(cmd) == 0 ? 0 : -1;
}

static void remove_tree(const char *dir) {
    char cmd[512];
    if (strncmp(dir, "/tmp/tlb-fix-", 13) != 0) return; /* never anything else */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static int write_file(const char *root, const char *path, const char *text) {
    char p[TLB_PATH_MAX];
    snprintf(p, sizeof p, "%s%s", root, path);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static struct tlb_power_source *open_kind(const char *root, const char *kind, char *why,
                                          size_t n) {
    struct tlb_power_opts o = {.root = root, .source = kind};
    return tlb_power_open(&o, why, n);
}

/* ---- RAPL ---- */

TLB_TEST(energy_delta_rule) {
    TLB_CHECK(tlb_energy_delta(100, 250, 1000) == 150, "normal");
    TLB_CHECK(tlb_energy_delta(900, 100, 1000) == 200, "wrap: 100 + (1000 - 900)");
    TLB_CHECK(tlb_energy_delta(5, 5, 1000) == 0, "no change");
}

TLB_TEST(rapl_normal) {
    char root[64], why[512];
    TLB_CHECK(copy_fixture("x86-server", root, sizeof root) == 0, "copy");
    struct tlb_power_source *s = open_kind(root, "rapl", why, sizeof why);
    TLB_CHECK(s, "rapl unusable: %s", why);
    const struct tlb_power_info *pi = tlb_power_source_info(s);
    TLB_CHECK(!strcmp(pi->name, "rapl:package-0+package-1"), "name %s (psys must be skipped)",
              pi->name);
    TLB_CHECK(pi->scope == TLB_SCOPE_PACKAGE && pi->type == TLB_POWER_ENERGY, "scope/type");
    double j = -1;
    TLB_CHECK(tlb_power_read(s, &j, why, sizeof why) == 0 && j == 0, "first read %g", j);
    /* +1.5 J on package 0, +0.5 J on package 1; sub-zones and psys move but do not count */
    write_file(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "2500000\n");
    write_file(root, "/sys/class/powercap/intel-rapl:1/energy_uj", "2500000\n");
    write_file(root, "/sys/class/powercap/intel-rapl:0:0/energy_uj", "99400000\n");
    write_file(root, "/sys/class/powercap/intel-rapl:2/energy_uj", "99999999\n");
    int r = tlb_power_read(s, &j, why, sizeof why);
    tlb_power_close(s);
    remove_tree(root);
    TLB_CHECK(r == 0, "read: %s", why);
    TLB_CHECK_NEAR(j, 2.0, 1e-9);
}

TLB_TEST(rapl_wraparound) {
    char root[64], why[512];
    TLB_CHECK(copy_fixture("intel-ai-pc", root, sizeof root) == 0, "copy");
    /* a 1000 J counter 1 J before its end */
    write_file(root, "/sys/class/powercap/intel-rapl:0/max_energy_range_uj", "1000000000\n");
    write_file(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "999000000\n");
    struct tlb_power_source *s = open_kind(root, "rapl", why, sizeof why);
    TLB_CHECK(s, "rapl unusable: %s", why);
    double j = -1;
    int r1 = tlb_power_read(s, &j, why, sizeof why);
    double j0 = j;
    /* it passes the end and restarts: 1 J before the wrap + 0.5 J after */
    write_file(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "500000\n");
    int r2 = tlb_power_read(s, &j, why, sizeof why);
    double j1 = j;
    write_file(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "2500000\n");
    int r3 = tlb_power_read(s, &j, why, sizeof why);
    tlb_power_close(s);
    remove_tree(root);
    TLB_CHECK(r1 == 0 && r2 == 0 && r3 == 0, "read failed: %s", why);
    TLB_CHECK_NEAR(j0, 0.0, 1e-12);
    TLB_CHECK_NEAR(j1, 1.5, 1e-9);
    TLB_CHECK_NEAR(j, 3.5, 1e-9);
}

static int deny_energy(const char *path) {
    size_t n = strlen(path);
    return n >= 10 && !strcmp(path + n - 10, "/energy_uj") ? EACCES : 0;
}

TLB_TEST(rapl_permission_denied_chmod) {
    if (geteuid() == 0) TLB_SKIP("running as root: chmod 000 does not block reads "
                                 "(rapl_permission_denied_injected covers it)");
    char root[64], why[512], p[TLB_PATH_MAX];
    TLB_CHECK(copy_fixture("x86-server", root, sizeof root) == 0, "copy");
    snprintf(p, sizeof p, "%s/sys/class/powercap/intel-rapl:0/energy_uj", root);
    chmod(p, 0);
    struct tlb_power_source *s = open_kind(root, "rapl", why, sizeof why);
    chmod(p, 0644);
    remove_tree(root);
    TLB_CHECK(!s, "a root-only counter was read");
    TLB_CHECK(strstr(why, "CVE-2020-8694") && strstr(why, "root"), "reason: %s", why);
}

TLB_TEST(rapl_permission_denied_injected) {
    char why[512];
    tlb_sysfs_open_hook = deny_energy;
    struct tlb_power_source *s = open_kind(FIX "x86-server", "rapl", why, sizeof why);
    tlb_sysfs_open_hook = NULL;
    TLB_CHECK(!s, "EACCES ignored");
    TLB_CHECK(strstr(why, "RAPL energy_uj is root-only (CVE-2020-8694); run as root or chmod"),
              "reason: %s", why);
    TLB_CHECK(strstr(why, "intel-rapl:0/energy_uj"), "reason names no file: %s", why);
}

/* ---- hwmon ---- */

TLB_TEST(hwmon_power_sampler) {
    char why[512];
    struct tlb_power_source *s = open_kind(FIX "hwmon-power", "hwmon", why, sizeof why);
    TLB_CHECK(s, "hwmon unusable: %s", why);
    const struct tlb_power_info *pi = tlb_power_source_info(s);
    TLB_CHECK(!strcmp(pi->name, "hwmon:power_meter:power1"), "name %s", pi->name);
    TLB_CHECK(pi->type == TLB_POWER_SAMPLER && pi->scope == TLB_SCOPE_HWMON, "type/scope");
    double w;
    int r = tlb_power_read(s, &w, why, sizeof why);
    tlb_power_close(s);
    TLB_CHECK(r == 0, "read: %s", why);
    TLB_CHECK_NEAR(w, 12.345, 1e-9);
}

TLB_TEST(hwmon_energy_socket_only) {
    char root[64], why[512];
    TLB_CHECK(copy_fixture("hwmon-energy", root, sizeof root) == 0, "copy");
    struct tlb_power_source *s = open_kind(root, "hwmon", why, sizeof why);
    TLB_CHECK(s, "hwmon unusable: %s", why);
    struct tlb_power_info info = *tlb_power_source_info(s);
    /* cores +100 J each (parts of the socket), socket +2 J */
    write_file(root, "/sys/class/hwmon/hwmon2/energy1_input", "211000000\n");
    write_file(root, "/sys/class/hwmon/hwmon2/energy2_input", "322000000\n");
    write_file(root, "/sys/class/hwmon/hwmon2/energy3_input", "5002000000\n");
    double j = -1;
    int r = tlb_power_read(s, &j, why, sizeof why);
    tlb_power_close(s);
    remove_tree(root);
    TLB_CHECK(!strcmp(info.name, "hwmon:amd_energy:Esocket0"), "name %s", info.name);
    TLB_CHECK(info.type == TLB_POWER_ENERGY, "not an energy counter");
    TLB_CHECK(r == 0, "read: %s", why);
    TLB_CHECK_NEAR(j, 2.0, 1e-9);
}

/* ---- Jetson ---- */

TLB_TEST(jetson_vdd_in_not_summed) {
    char why[512];
    struct tlb_power_source *s = open_kind(FIX "jetson-orin-nano", "jetson", why, sizeof why);
    TLB_CHECK(s, "jetson unusable: %s", why);
    const struct tlb_power_info *pi = tlb_power_source_info(s);
    TLB_CHECK(!strcmp(pi->name, "ina3221:1-0040:VDD_IN"), "name %s", pi->name);
    TLB_CHECK(pi->scope == TLB_SCOPE_MODULE && pi->type == TLB_POWER_SAMPLER, "scope/type");
    double w;
    int r = tlb_power_read(s, &w, why, sizeof why);
    tlb_power_close(s);
    TLB_CHECK(r == 0, "read: %s", why);
    /* VDD_IN alone: 5064 mV x 1104 mA; the three rails summed would be ~10.3 W */
    TLB_CHECK_NEAR(w, 5.064 * 1.104, 1e-9);
}

TLB_TEST(jetson_rail_choice_and_missing_rail) {
    char why[512];
    struct tlb_power_opts o = {.root = FIX "jetson-orin-nano", .source = "jetson",
                               .rails = "VDD_SOC"};
    struct tlb_power_source *s = tlb_power_open(&o, why, sizeof why);
    TLB_CHECK(s, "VDD_SOC: %s", why);
    double w;
    int r = tlb_power_read(s, &w, why, sizeof why);
    int scope = tlb_power_source_info(s)->scope;
    tlb_power_close(s);
    TLB_CHECK(r == 0, "read");
    TLB_CHECK_NEAR(w, 5.048 * 0.520, 1e-9);
    TLB_CHECK(scope == TLB_SCOPE_HWMON, "a child rail is not the module scope");
    o.rails = "VDD_GPU";
    s = tlb_power_open(&o, why, sizeof why);
    TLB_CHECK(!s, "a missing rail was opened");
    TLB_CHECK(strstr(why, "no rail named VDD_GPU") && strstr(why, "VDD_IN,VDD_CPU_GPU_CV,VDD_SOC"),
              "reason: %s", why);
}

TLB_TEST(jetson_old_ina3221x_layout) {
    char why[512];
    struct tlb_power_source *s = open_kind(FIX "jetson-ina3221x", "jetson", why, sizeof why);
    TLB_CHECK(s, "jetson unusable: %s", why);
    const struct tlb_power_info *pi = tlb_power_source_info(s);
    TLB_CHECK(!strcmp(pi->name, "ina3221x:7-0040:VDD_IN"), "name %s", pi->name);
    double w;
    int r = tlb_power_read(s, &w, why, sizeof why);
    tlb_power_close(s);
    TLB_CHECK(r == 0, "read: %s", why);
    TLB_CHECK_NEAR(w, 4.2, 1e-9);
}

/* ---- Raspberry Pi 5 ---- */

TLB_TEST(pmic_parse) {
    char why[256];
    double w = 0;
    int n = tlb_pmic_parse("   VDD_CORE_A current(7)=2.00000000A\n"
                           "   VDD_CORE_V volt(15)=0.85000000V\n"
                           "   EXT5V_V volt(24)=5.10000000V\n"
                           "   HDMI_A current(22)=0.10000000A\n",
                           &w, why, sizeof why);
    TLB_CHECK(n == 1, "rails %d (HDMI has no voltage, EXT5V no current)", n);
    TLB_CHECK_NEAR(w, 1.7, 1e-12);
    TLB_CHECK(tlb_pmic_parse("EXT5V_V volt(24)=5.1V\n", &w, why, sizeof why) == -1, "no rails");
    TLB_CHECK(tlb_pmic_parse("VDD_CORE_A current(7)=x.yA\nVDD_CORE_V volt(15)=0.8V\n", &w, why,
                             sizeof why) == -1 && strstr(why, "line 1"),
              "malformed value: %s", why);
    unsigned bits;
    TLB_CHECK(tlb_throttled_parse("throttled=0x50005\n", &bits, why, sizeof why) == 0 &&
                  bits == 0x50005, "0x50005");
    TLB_CHECK(tlb_throttled_parse("throttled=0x0", &bits, why, sizeof why) == 0 && bits == 0,
              "0x0");
    TLB_CHECK(tlb_throttled_parse("error=1", &bits, why, sizeof why) == -1, "garbage");
    char d[128];
    tlb_throttled_describe(0x50005, d, sizeof d);
    TLB_CHECK(!strcmp(d, "under-voltage, throttled"), "describe '%s'", d);
}

TLB_TEST(rpi5_pmic_through_fake_vcgencmd) {
    char why[512];
    struct tlb_power_source *s = open_kind(FIX "rpi5", "rpi-pmic", why, sizeof why);
    TLB_CHECK(s, "rpi-pmic unusable: %s", why);
    const struct tlb_power_info *pi = tlb_power_source_info(s);
    TLB_CHECK(!strcmp(pi->name, "vcgencmd:pmic_read_adc:12 rails"), "name %s", pi->name);
    TLB_CHECK(pi->scope == TLB_SCOPE_BOARD_PMIC && pi->type == TLB_POWER_SAMPLER, "scope");
    double w;
    int r = tlb_power_read(s, &w, why, sizeof why);
    tlb_power_close(s);
    TLB_CHECK(r == 0, "read: %s", why);
    TLB_CHECK_NEAR(w, 2.9426684, 1e-6); /* the recorded rails' sum of V*I */
    /* without a vcgencmd: a clear reason, not a shell error */
    s = open_kind(FIX "x86-server", "rpi-pmic", why, sizeof why);
    TLB_CHECK(!s && strstr(why, "vcgencmd"), "reason: %s", why);
}

/* ---- meter, selection ---- */

TLB_TEST(meter_command) {
    char why[512];
    struct tlb_power_opts o = {.root = FIX "vm-x86", .meter_cmd = "echo 7.25 W"};
    struct tlb_power_source *s = tlb_power_open(&o, why, sizeof why);
    TLB_CHECK(s, "meter: %s", why);
    const struct tlb_power_info *pi = tlb_power_source_info(s);
    TLB_CHECK(pi->scope == TLB_SCOPE_WALL && !strcmp(pi->kind, "meter"), "auto picks the meter");
    double w;
    TLB_CHECK(tlb_power_read(s, &w, why, sizeof why) == 0, "read: %s", why);
    tlb_power_close(s);
    TLB_CHECK_NEAR(w, 7.25, 1e-12);
    o.meter_cmd = "echo lots";
    TLB_CHECK(!tlb_power_open(&o, why, sizeof why) && strstr(why, "printed 'lots', not watts"),
              "garbage: %s", why);
    o.meter_cmd = "echo broken >&2; exit 3";
    TLB_CHECK(!tlb_power_open(&o, why, sizeof why) && strstr(why, "status 3") &&
                  strstr(why, "broken"),
              "failure: %s", why);
}

TLB_TEST(runcmd_timeout_and_quote) {
    char out[64], why[256];
    TLB_CHECK(tlb_run_capture("sleep 5", 100, out, sizeof out, why, sizeof why) == -1 &&
                  strstr(why, "did not finish"),
              "timeout: %s", why);
    TLB_CHECK(tlb_run_capture("printf 'a%sb' x", 2000, out, sizeof out, why, sizeof why) == 0 &&
                  !strcmp(out, "axb"), "output '%s'", out);
    char q[64] = "echo ";
    TLB_CHECK(tlb_shell_quote_append(q, sizeof q, "it's") == 0, "quote");
    TLB_CHECK(tlb_run_capture(q, 2000, out, sizeof out, why, sizeof why) == 0 &&
                  !strcmp(out, "it's\n"), "quoted output '%s'", out);
}

/* Processes whose command line contains marker (scanning /proc): what a command left behind. */
static int count_procs(const char *marker) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char p[64], buf[512];
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        int fd = open(p, O_RDONLY);
        if (fd < 0) continue;
        ssize_t k = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (k <= 0) continue;
        for (ssize_t i = 0; i < k; i++) if (!buf[i]) buf[i] = ' ';
        buf[k] = '\0';
        if (strstr(buf, marker)) n++;
    }
    closedir(d);
    return n;
}

/* A copy of sleep named after a marker, so that what survives can be counted. */
static int marked_sleep(char *path, size_t n, const char *marker) {
    snprintf(path, n, "/tmp/tlb-%s-%ld", marker, (long)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cp \"$(command -v sleep)\" %s", path);
    return system(cmd) == 0 ? 0 : -1;
}

/* The deadline holds even when the command closes its output early (the meter:
 * `echo 5; exec >/dev/null 2>&1; sleep 6` took 12 s and was called usable), and whatever the
 * command leaves running in its process group is killed when it ends. */
TLB_TEST(runcmd_deadline_and_leftovers) {
    char sl[256], cmd[600], out[64], why[256];
    TLB_CHECK(marked_sleep(sl, sizeof sl, "rcdeadline") == 0, "copy sleep");
    snprintf(cmd, sizeof cmd, "echo 5; exec >/dev/null 2>&1; exec %s 3", sl);
    int64_t t0 = tlb_now_ns();
    int rc = tlb_run_capture(cmd, 300, out, sizeof out, why, sizeof why);
    double took = (double)(tlb_now_ns() - t0) / 1e9;
    int left1 = count_procs(sl);
    snprintf(cmd, sizeof cmd, "%s 30 >/dev/null 2>&1 & echo 5", sl);
    int rc2 = tlb_run_capture(cmd, 2000, out, sizeof out, why, sizeof why);
    usleep(100 * 1000);
    int left2 = count_procs(sl);
    snprintf(cmd, sizeof cmd, "pkill -f %s", sl);
    if (left1 || left2) TLB_ASSERT(system(cmd) >= 0);
    unlink(sl);
    TLB_CHECK(rc == -1 && strstr(why, "did not finish within 300 ms"),
              "closed output: rc %d after %.1f s: %s", rc, took, why);
    TLB_CHECK(left1 == 0, "%d processes left after the deadline", left1);
    TLB_CHECK(rc2 == 0 && !strcmp(out, "5\n"), "background: rc %d out '%s'", rc2, out);
    TLB_CHECK(left2 == 0, "%d background processes survived the command", left2);
}

/* A command (and all it started) dies with the thread that ran it: the worker killed in the
 * middle of a meter reading takes the meter with it. */
TLB_TEST(runcmd_dies_with_its_caller) {
    char sl[256], cmd[600], out[64], why[256];
    TLB_CHECK(marked_sleep(sl, sizeof sl, "rcparent") == 0, "copy sleep");
    snprintf(cmd, sizeof cmd, "%s 30 | %s 31; echo 5", sl, sl);
    pid_t pid = fork();
    TLB_CHECK(pid >= 0, "fork");
    if (pid == 0) {
        tlb_run_capture(cmd, 20000, out, sizeof out, why, sizeof why);
        _exit(0);
    }
    int started = 0;
    for (int i = 0; i < 200 && !started; i++) {
        usleep(10 * 1000);
        started = count_procs(sl) >= 2; /* the two sleeps (and the shell naming them) */
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    int left = -1;
    for (int i = 0; i < 100 && left != 0; i++) { /* the kernel's signal needs a moment */
        usleep(10 * 1000);
        left = count_procs(sl);
    }
    snprintf(cmd, sizeof cmd, "pkill -f %s", sl);
    if (left) TLB_ASSERT(system(cmd) >= 0);
    unlink(sl);
    TLB_CHECK(started, "the pipeline did not start");
    TLB_CHECK(left == 0, "%d processes of the command outlived the process that ran it", left);
}

TLB_TEST(selection_and_probe) {
    char why[1024];
    struct tlb_power_opts o = {.root = FIX "x86-server", .source = "none"};
    TLB_CHECK(!tlb_power_open(&o, why, sizeof why) && strstr(why, "disabled"), "none");
    o.source = "bogus";
    TLB_CHECK(!tlb_power_open(&o, why, sizeof why) && strstr(why, "unknown power source 'bogus'"),
              "unknown: %s", why);
    o.source = NULL;
    o.prefer = "hwmon,rapl";
    struct tlb_power_source *s = tlb_power_open(&o, why, sizeof why);
    TLB_CHECK(s && !strcmp(tlb_power_source_info(s)->kind, "rapl"), "prefer order");
    tlb_power_close(s);
    o.root = FIX "vm-x86";
    o.prefer = NULL;
    TLB_CHECK(!tlb_power_open(&o, why, sizeof why), "a VM has no power source");
    TLB_CHECK(strstr(why, "rapl:") && strstr(why, "jetson:") && strstr(why, "hwmon:"),
              "every reason listed: %s", why);
    struct tlb_power_candidate c[8];
    o.root = FIX "jetson-orin-nano";
    int n = tlb_power_probe(&o, c, 8);
    int usable = 0, jetson = 0;
    for (int i = 0; i < n; i++) {
        usable += c[i].usable;
        if (!strcmp(c[i].kind, "jetson")) jetson = c[i].usable;
        TLB_CHECK(c[i].usable || c[i].why[0], "%s unusable without a reason", c[i].kind);
    }
    TLB_CHECK(n == 6 && jetson && usable == 1, "n=%d usable=%d (hwmon must leave INA3221 alone)",
              n, usable);
}

/* ---- thermal and throttle ---- */

TLB_TEST(thermal_zones_and_hwmon) {
    char why[256];
    double c;
    struct tlb_thermal *t = tlb_thermal_open(FIX "jetson-orin-nano", NULL, why, sizeof why);
    TLB_CHECK(t && tlb_thermal_count(t) == 4, "zones: %s", why);
    TLB_CHECK(tlb_thermal_read_max(t, &c, why, sizeof why) == 0, "read");
    TLB_CHECK_NEAR(c, 52.1, 1e-9); /* tj-thermal is the hottest */
    TLB_CHECK(!strcmp(tlb_thermal_name(t, 3), "thermal_zone3:tj-thermal"), "%s",
              tlb_thermal_name(t, 3));
    tlb_thermal_close(t);
    t = tlb_thermal_open(FIX "jetson-orin-nano", "gpu-thermal", why, sizeof why);
    TLB_CHECK(t && tlb_thermal_count(t) == 1, "zone filter");
    TLB_CHECK(tlb_thermal_read_max(t, &c, why, sizeof why) == 0, "read");
    TLB_CHECK_NEAR(c, 49.8, 1e-9);
    tlb_thermal_close(t);
    /* no zones: the CPU hwmon sensor (coretemp), not other devices */
    t = tlb_thermal_open(FIX "intel-ai-pc", NULL, why, sizeof why);
    TLB_CHECK(t && tlb_thermal_count(t) == 2, "coretemp: %s", why);
    TLB_CHECK(!strcmp(tlb_thermal_name(t, 0), "hwmon3:coretemp:Package id 0"), "%s",
              tlb_thermal_name(t, 0));
    tlb_thermal_close(t);
    t = tlb_thermal_open(FIX "hwmon-power", NULL, why, sizeof why);
    TLB_CHECK(!t && strstr(why, "no readable"), "an nvme sensor is not a CPU temperature");
    TLB_CHECK(tlb_cpufreq_min_khz(FIX "x86-server", 8) == 2100000, "min freq");
    TLB_CHECK(tlb_cpufreq_min_khz(FIX "vm-x86", 2) == -1, "no cpufreq");
}

TLB_TEST(x86_throttle_counts) {
    char root[64], why[256];
    TLB_CHECK(copy_fixture("x86-server", root, sizeof root) == 0, "copy");
    struct tlb_throttle *t = tlb_throttle_open(root, NULL, 8, why, sizeof why);
    TLB_CHECK(t, "no throttle source: %s", why);
    struct tlb_throttle_state a, b;
    TLB_CHECK(tlb_throttle_read(t, &a, why, sizeof why) == 0 && a.counts == 16, "sum %lld",
              a.counts);
    TLB_CHECK(tlb_throttle_read(t, &b, why, sizeof why) == 0, "read");
    TLB_CHECK(!tlb_throttle_compare(&a, &b, why, sizeof why), "no change is not throttling");
    write_file(root, "/sys/devices/system/cpu/cpu3/thermal_throttle/core_throttle_count", "3\n");
    int r = tlb_throttle_read(t, &b, why, sizeof why);
    int thr = tlb_throttle_compare(&a, &b, why, sizeof why);
    tlb_throttle_close(t);
    remove_tree(root);
    TLB_CHECK(r == 0 && thr == 1 && strstr(why, "3 new thermal throttle events"), "%s", why);
}

/* Poll the monitor until pred holds (the sampler thread runs on its own clock); the limit
 * is only a safety net against a hang, not a timing assertion. */
static int wait_samples(struct tlb_monitor *m, long n) {
    for (int i = 0; i < 500; i++) {
        struct tlb_monitor_stats st;
        tlb_monitor_window(m, &st);
        if (st.samples >= n) return 0;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

TLB_TEST(monitor_pi_throttle_bits) {
    char root[64], why[256];
    TLB_CHECK(copy_fixture("rpi5", root, sizeof root) == 0, "copy");
    struct tlb_monitor_opts mo = {.root = root, .sample_hz = 50};
    struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
    TLB_CHECK(m, "start: %s", why);
    const struct tlb_power_info *pi = tlb_monitor_power(m);
    int power_ok = pi && !strcmp(pi->kind, "rpi-pmic");
    tlb_monitor_reset(m);
    int waited = wait_samples(m, 2);
    struct tlb_monitor_stats quiet, hot;
    tlb_monitor_window(m, &quiet);
    /* under-voltage and throttling happen during the "test" */
    char src[TLB_PATH_MAX], cmd[2 * TLB_PATH_MAX];
    snprintf(src, sizeof src, "%s/usr/bin/get_throttled-0x50005.txt", root);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/usr/bin/get_throttled.txt'", src, root);
    int cp = system(cmd);
    tlb_monitor_window(m, &hot);
    tlb_monitor_stop(m);
    remove_tree(root);
    TLB_CHECK(power_ok, "power source is not the PMIC");
    TLB_CHECK(waited == 0 && cp == 0, "setup");
    TLB_CHECK(quiet.valid && !quiet.throttled, "0x0 -> 0x0 flagged: %s", quiet.invalid_reason);
    TLB_CHECK(!strcmp(quiet.throttle_source, "vcgencmd get_throttled"), "%s",
              quiet.throttle_source);
    TLB_CHECK(quiet.energy_j > 0 && quiet.temp_start_c == 58.25, "energy %g temp %g",
              quiet.energy_j, quiet.temp_start_c);
    TLB_CHECK(hot.throttled && !hot.valid, "0x0 -> 0x50005 not flagged");
    TLB_CHECK(hot.throttle_bits_before == 0 && hot.throttle_bits_after == 0x50005, "bits");
    TLB_CHECK(strstr(hot.invalid_reason, "under-voltage") && strstr(hot.invalid_reason, "throttled"),
              "reason: %s", hot.invalid_reason);
}

TLB_TEST(monitor_energy_counter_marks) {
    char root[64], why[256];
    TLB_CHECK(copy_fixture("x86-server", root, sizeof root) == 0, "copy");
    struct tlb_monitor_opts mo = {.root = root, .sample_hz = 100};
    struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
    TLB_CHECK(m, "start: %s", why);
    tlb_monitor_reset(m);
    double e0 = tlb_monitor_mark(m);
    write_file(root, "/sys/class/powercap/intel-rapl:0/energy_uj", "4000000\n");
    double e1 = tlb_monitor_mark(m);
    struct tlb_monitor_stats st;
    tlb_monitor_window(m, &st);
    tlb_monitor_stop(m);
    remove_tree(root);
    TLB_CHECK_NEAR(e0, 0.0, 1e-12);
    TLB_CHECK_NEAR(e1, 3.0, 1e-9);
    TLB_CHECK_NEAR(st.energy_j, 3.0, 1e-9);
    TLB_CHECK(st.power_is_energy && !strcmp(st.power_scope, "package"), "scope %s",
              st.power_scope);
    TLB_CHECK(st.valid, "invalid: %s", st.invalid_reason);
    TLB_CHECK(st.temp_max_c == 47.0 && st.freq_min_khz == 2100000, "temp %g freq %ld",
              st.temp_max_c, st.freq_min_khz);
}

TLB_TEST(monitor_sampler_integration_and_idle) {
    char why[256];
    struct tlb_monitor_opts mo = {.root = FIX "hwmon-power", .sample_hz = 200};
    struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
    TLB_CHECK(m, "start: %s", why);
    double idle = tlb_monitor_idle_power(m, 0.05, why, sizeof why);
    tlb_monitor_reset(m);
    int waited = wait_samples(m, 3);
    struct tlb_monitor_stats st;
    int r = tlb_monitor_window(m, &st);
    tlb_monitor_stop(m);
    TLB_CHECK(waited == 0, "no samples");
    /* constant 12.345 W: the integral over any interval is 12.345 W x its length */
    TLB_CHECK_NEAR(idle, 12.345, 0.01);
    TLB_CHECK(r == 0 && st.valid, "invalid: %s", st.invalid_reason);
    TLB_CHECK_NEAR(st.avg_power_w, 12.345, 0.05);
    TLB_CHECK(st.samples >= 3 && st.sample_hz > 0 && st.max_gap_ms > 0, "samples %ld",
              st.samples);
    TLB_CHECK(isnan(st.temp_start_c), "no CPU temperature in this tree");
}

TLB_TEST(monitor_power_sensor_disappears) {
    char root[64], why[256], p[TLB_PATH_MAX];
    TLB_CHECK(copy_fixture("hwmon-power", root, sizeof root) == 0, "copy");
    struct tlb_monitor_opts mo = {.root = root, .sample_hz = 200};
    struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
    TLB_CHECK(m, "start: %s", why);
    tlb_monitor_reset(m);
    int w1 = wait_samples(m, 2);
    snprintf(p, sizeof p, "%s/sys/class/hwmon/hwmon1/power1_input", root);
    int rm = unlink(p);
    tlb_monitor_reset(m);
    int w2 = wait_samples(m, 2); /* the sampler meets the missing file */
    struct tlb_monitor_stats st;
    int r = tlb_monitor_window(m, &st);
    double e = tlb_monitor_mark(m);
    tlb_monitor_stop(m);
    remove_tree(root);
    TLB_CHECK(w1 == 0 && rm == 0 && w2 == 0, "setup");
    TLB_CHECK(r == -1 && !st.valid, "a vanished sensor left the window valid");
    TLB_CHECK(strstr(st.invalid_reason, "power1_input"), "reason: %s", st.invalid_reason);
    TLB_CHECK(isnan(e) && isnan(st.energy_j), "energy after the loss must be NAN");
}

TLB_TEST(monitor_thermal_sensor_disappears) {
    char root[64], why[256], p[TLB_PATH_MAX];
    TLB_CHECK(copy_fixture("x86-server", root, sizeof root) == 0, "copy");
    struct tlb_monitor_opts mo = {.root = root, .sample_hz = 200};
    struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
    TLB_CHECK(m, "start: %s", why);
    tlb_monitor_reset(m);
    snprintf(p, sizeof p, "%s/sys/class/thermal/thermal_zone1/temp", root);
    int rm = unlink(p);
    int w = wait_samples(m, 2);
    struct tlb_monitor_stats st;
    int r = tlb_monitor_window(m, &st);
    double e = tlb_monitor_mark(m);
    tlb_monitor_stop(m);
    remove_tree(root);
    TLB_CHECK(rm == 0 && w == 0, "setup");
    TLB_CHECK(r == -1 && strstr(st.invalid_reason, "thermal_zone1/temp"), "reason: %s",
              st.invalid_reason);
    TLB_CHECK(!isnan(e), "the power source still works");
}

TLB_TEST(monitor_without_sensors) {
    char why[256];
    struct tlb_monitor_opts mo = {.root = FIX "vm-x86", .sample_hz = 100};
    struct tlb_monitor *m = tlb_monitor_start(&mo, why, sizeof why);
    TLB_CHECK(m, "start: %s", why);
    TLB_CHECK(!tlb_monitor_power(m) && strstr(tlb_monitor_power_why_none(m), "rapl"),
              "why none: %s", tlb_monitor_power_why_none(m));
    double e = tlb_monitor_mark(m);
    double idle = tlb_monitor_idle_power(m, 0.01, why, sizeof why);
    struct tlb_monitor_stats st;
    int r = tlb_monitor_window(m, &st);
    tlb_monitor_stop(m);
    TLB_CHECK(isnan(e) && isnan(idle) && strstr(why, "no power source"), "NAN without source");
    TLB_CHECK(r == 0 && st.valid, "no sensors is not invalid: %s", st.invalid_reason);
    TLB_CHECK(!strcmp(st.power_source, "none") && !strcmp(st.power_scope, "none"), "none");
    TLB_CHECK(isnan(st.temp_max_c) && st.freq_min_khz == -1 && !strcmp(st.throttle_source, "none"),
              "thermal none");
}

TLB_TEST_MAIN()
