/* test-sysinfo.c — system information on fake trees (tests/fixtures/sysfs/<board>): board
 * from devicetree and DMI, Arm core names from MIDR (sysfs and cpuinfo), x86 topology, ISA
 * flags, memory, OS, cpufreq; platform profile parsing (good and broken files under
 * tests/fixtures/profiles) and board-kind detection with the real platforms/ profiles. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "profile.h"
#include "sysfs.h"
#include "sysinfo.h"
#include "test.h"

#define FIX "tests/fixtures/sysfs/"

TLB_TEST(midr_core_names) {
    TLB_CHECK(!strcmp(tlb_midr_core_name(0x414fd0b1ULL), "Cortex-A76"), "Pi 5 MIDR");
    TLB_CHECK(!strcmp(tlb_midr_core_name(0x410fd421ULL), "Cortex-A78AE"), "Orin MIDR");
    TLB_CHECK(!strcmp(tlb_arm_core_name(0x41, 0xd03), "Cortex-A53"), "A53");
    TLB_CHECK(!strcmp(tlb_arm_core_name(0x41, 0xd05), "Cortex-A55"), "A55");
    TLB_CHECK(!strcmp(tlb_arm_core_name(0x41, 0xd08), "Cortex-A72"), "A72");
    TLB_CHECK(!strcmp(tlb_arm_core_name(0x41, 0xd0c), "Neoverse-N1"), "N1");
    TLB_CHECK(!strcmp(tlb_arm_core_name(0x41, 0xd40), "Neoverse-V1"), "V1");
    TLB_CHECK(!strcmp(tlb_arm_core_name(0x41, 0xd49), "Neoverse-N2"), "N2");
    TLB_CHECK(tlb_arm_core_name(0x41, 0xfff) == NULL, "unknown part must be NULL");
    TLB_CHECK(tlb_arm_core_name(0x42, 0xd0b) == NULL, "implementer matters");
}

TLB_TEST(cpulist_count) {
    TLB_CHECK(tlb_cpulist_count("0-3") == 4, "0-3");
    TLB_CHECK(tlb_cpulist_count("0") == 1, "0");
    TLB_CHECK(tlb_cpulist_count("0-3,6,8-9") == 7, "mixed");
    TLB_CHECK(tlb_cpulist_count("3-1") == -1, "reversed range");
    TLB_CHECK(tlb_cpulist_count("a") == -1, "garbage");
}

TLB_TEST(rpi5_devicetree_and_midr) {
    struct tlb_sysinfo si;
    TLB_CHECK(tlb_sysinfo_read(FIX "rpi5", &si) == 0, "read");
    TLB_CHECK(!strcmp(si.board, "Raspberry Pi 5 Model B Rev 1.0"), "board '%s'", si.board);
    TLB_CHECK(!strcmp(si.board_source, "devicetree"), "source %s", si.board_source);
    TLB_CHECK(!strcmp(si.arch, "aarch64"), "arch %s", si.arch);
    TLB_CHECK(!strcmp(si.cpu_model, "4x Cortex-A76"), "cpu '%s'", si.cpu_model);
    TLB_CHECK(!strcmp(si.cpu_vendor, "ARM"), "vendor %s", si.cpu_vendor);
    TLB_CHECK(si.n_cpus == 4 && si.n_cores == 4, "cpus %d cores %d", si.n_cpus, si.n_cores);
    TLB_CHECK(tlb_sysinfo_has_isa(&si, "neon") && tlb_sysinfo_has_isa(&si, "dotprod") &&
                  tlb_sysinfo_has_isa(&si, "fp16") && !tlb_sysinfo_has_isa(&si, "sve"),
              "isa '%s'", si.isa);
    TLB_CHECK(!strcmp(si.isa_source, "cpuinfo"), "isa source %s", si.isa_source);
    TLB_CHECK(si.mem_total_bytes == 8245680LL * 1024, "mem %lld", si.mem_total_bytes);
    TLB_CHECK(si.mem_available_bytes == 7456000LL * 1024, "avail %lld", si.mem_available_bytes);
    TLB_CHECK(!strcmp(si.os, "Debian GNU/Linux 12 (bookworm)"), "os '%s'", si.os);
    TLB_CHECK(!strcmp(si.kernel, "Linux 6.6.51+rpt-rpi-2712"), "kernel '%s'", si.kernel);
    TLB_CHECK(!strcmp(si.governor, "ondemand"), "governor %s", si.governor);
    TLB_CHECK(si.freq_min_khz == 1500000 && si.freq_max_khz == 2400000, "freq %ld..%ld",
              si.freq_min_khz, si.freq_max_khz);
    TLB_CHECK(si.freq_cur_khz == 1500000, "cur %ld (min over CPUs)", si.freq_cur_khz);
    TLB_CHECK(!strcmp(si.thp, "madvise"), "thp %s", si.thp);
    TLB_CHECK(!strcmp(si.smt, "unknown"), "smt %s", si.smt);
    TLB_CHECK(!si.hypervisor, "not a VM");
}

TLB_TEST(jetson_cpuinfo_core_names) {
    struct tlb_sysinfo si;
    TLB_CHECK(tlb_sysinfo_read(FIX "jetson-orin-nano", &si) == 0, "read");
    TLB_CHECK(!strcmp(si.board, "NVIDIA Jetson Orin Nano Developer Kit"), "board '%s'", si.board);
    /* no regs/identification in this tree: names come from cpuinfo implementer/part */
    TLB_CHECK(!strcmp(si.cpu_model, "6x Cortex-A78AE"), "cpu '%s'", si.cpu_model);
    TLB_CHECK(si.n_cpus == 6, "cpus %d", si.n_cpus);
    TLB_CHECK(si.freq_cur_khz == 729600, "cur %ld", si.freq_cur_khz);
    struct tlb_sysinfo old;
    TLB_CHECK(tlb_sysinfo_read(FIX "jetson-ina3221x", &old) == 0, "read old");
    TLB_CHECK(!strcmp(old.cpu_model, "2x NVIDIA Carmel"), "cpu '%s'", old.cpu_model);
    TLB_CHECK(!strcmp(old.cpu_vendor, "NVIDIA"), "vendor %s", old.cpu_vendor);
    TLB_CHECK(old.freq_max_khz == -1 && old.governor[0] == '\0', "no cpufreq");
}

TLB_TEST(x86_server_dmi_topology_isa) {
    struct tlb_sysinfo si;
    TLB_CHECK(tlb_sysinfo_read(FIX "x86-server", &si) == 0, "read");
    TLB_CHECK(!strcmp(si.board, "Dell Inc. PowerEdge R760"), "board '%s'", si.board);
    TLB_CHECK(!strcmp(si.board_source, "dmi"), "source %s", si.board_source);
    TLB_CHECK(!strcmp(si.cpu_model, "Intel(R) Xeon(R) Gold 6430"), "cpu '%s'", si.cpu_model);
    TLB_CHECK(!strcmp(si.cpu_vendor, "GenuineIntel"), "vendor");
    TLB_CHECK(!strcmp(si.arch, "x86_64"), "arch %s", si.arch);
    TLB_CHECK(si.n_cpus == 8 && si.n_cores == 4, "cpus %d cores %d (2 sockets x 2 cores x HT)",
              si.n_cpus, si.n_cores);
    TLB_CHECK(!strcmp(si.smt, "on"), "smt %s", si.smt);
    TLB_CHECK(tlb_sysinfo_has_isa(&si, "avx512f") && tlb_sysinfo_has_isa(&si, "avxvnni") &&
                  tlb_sysinfo_has_isa(&si, "avx512vnni") && tlb_sysinfo_has_isa(&si, "avx512bf16"),
              "isa '%s'", si.isa);
    TLB_CHECK(!tlb_sysinfo_has_isa(&si, "avx512"), "whole words only");
    TLB_CHECK(si.freq_cur_khz == 2100000 && si.freq_max_khz == 3400000, "freq");
    TLB_CHECK(!strcmp(si.governor, "performance"), "governor %s", si.governor);
    TLB_CHECK(!si.hypervisor, "bare metal");
}

TLB_TEST(vm_and_arm_dmi) {
    struct tlb_sysinfo si;
    TLB_CHECK(tlb_sysinfo_read(FIX "vm-x86", &si) == 0, "read");
    TLB_CHECK(si.hypervisor == 1, "hypervisor flag not seen");
    TLB_CHECK(!strcmp(si.board, "unknown") && !strcmp(si.board_source, "none"), "board %s",
              si.board);
    TLB_CHECK(si.freq_cur_khz == -1 && si.freq_max_khz == -1, "no cpufreq in a VM");
    TLB_CHECK(!strcmp(si.smt, "notsupported"), "smt %s", si.smt);
    TLB_CHECK(tlb_sysinfo_read(FIX "arm-server-dmi", &si) == 0, "read arm");
    TLB_CHECK(!strcmp(si.board, "Ampere(R) Mt.Jade") && !strcmp(si.board_source, "dmi"),
              "board '%s'", si.board);
    TLB_CHECK(!strcmp(si.cpu_model, "4x Neoverse-N1"), "cpu '%s'", si.cpu_model);
}

/* The comparability facts a row carries: boost/turbo and the Jetson power mode. */
TLB_TEST(boost_and_power_mode) {
    struct tlb_sysinfo si;
    TLB_CHECK(tlb_sysinfo_read(FIX "x86-server", &si) == 0, "read");
    TLB_CHECK(si.boost == 1 && !si.power_mode[0], "cpufreq/boost 1: boost %d, mode '%s'",
              si.boost, si.power_mode);
    TLB_CHECK(tlb_sysinfo_read(FIX "intel-ai-pc", &si) == 0, "read");
    TLB_CHECK(si.boost == 1, "intel_pstate no_turbo 0 is boost on: %d", si.boost);
    TLB_CHECK(tlb_sysinfo_read(FIX "vm-x86", &si) == 0, "read");
    TLB_CHECK(si.boost == -1, "no boost file: unknown, got %d", si.boost);
    TLB_CHECK(tlb_sysinfo_read(FIX "jetson-orin-nano", &si) == 0, "read");
    TLB_CHECK(!strcmp(si.power_mode, "MAXN_SUPER (nvpmodel 2)"), "mode '%s'", si.power_mode);

    /* without nvpmodel's status file the conf's boot default is the mode; a status naming a
     * mode the conf lacks still gives its number; a malformed status gives nothing */
    char dir[256], cmd[700];
    snprintf(dir, sizeof dir, "%s/tlb-nvp-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r " FIX "jetson-orin-nano %s && rm %s/var/lib/nvpmodel/status",
             dir, dir, dir);
    TLB_CHECK(system(cmd) == 0, "copy the tree");
    int ok1 = tlb_sysinfo_read(dir, &si) == 0 && !strcmp(si.power_mode, "15W (nvpmodel 0)");
    char got1[80];
    snprintf(got1, sizeof got1, "%s", si.power_mode);
    snprintf(cmd, sizeof cmd, "echo pmode:0007 > %s/var/lib/nvpmodel/status", dir);
    int ok2 = system(cmd) == 0 && tlb_sysinfo_read(dir, &si) == 0 &&
              !strcmp(si.power_mode, "nvpmodel 7");
    char got2[80];
    snprintf(got2, sizeof got2, "%s", si.power_mode);
    snprintf(cmd, sizeof cmd, "echo pmode:x > %s/var/lib/nvpmodel/status && rm %s/etc/nvpmodel.conf",
             dir, dir);
    int ok3 = system(cmd) == 0 && tlb_sysinfo_read(dir, &si) == 0 && !si.power_mode[0];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) { /* best effort */ }
    TLB_CHECK(ok1, "boot default: '%s'", got1);
    TLB_CHECK(ok2, "unnamed mode: '%s'", got2);
    TLB_CHECK(ok3, "malformed status, no conf: '%s'", si.power_mode);
}

TLB_TEST(real_machine_and_bad_root) {
    struct tlb_sysinfo si;
    TLB_CHECK(tlb_sysinfo_read("", &si) == 0, "read this machine");
    TLB_CHECK(si.n_cpus >= 1 && si.n_cores >= 1, "cpus %d", si.n_cpus);
    TLB_CHECK(!strcmp(si.isa_source, "cpu.h"), "the real machine uses kernels/cpu.h");
    TLB_CHECK(strcmp(si.arch, "unknown") != 0, "uname arch");
    /* a root that does not exist is an error (printed), not silently "unknown" */
    char err[512];
    tlb_test_capture_begin();
    int r = tlb_sysinfo_read(FIX "no-such-board", &si);
    tlb_test_capture_end(err, sizeof err);
    TLB_CHECK(r == -1, "missing root accepted");
    TLB_CHECK(strstr(err, "no-such-board") && strchr(err, '\n') == strrchr(err, '\n'),
              "one error line naming the root: %s", err);
}

/* ---- profiles ---- */

/* Load path and read its sweep settings as a profile layer for a machine with n_cpus CPUs
 * (the sweep's view of a profile), with stderr captured into err. */
static int load_capture_cpus(const char *path, struct tlb_profile *p, struct tlb_sweep_spec *sw,
                             int n_cpus, char *err, size_t n) {
    memset(sw, 0, sizeof *sw);
    tlb_test_capture_begin();
    int r = tlb_profile_load(path, p);
    if (r == 0) r = tlb_spec_from_profile(sw, p, n_cpus, 1);
    tlb_test_capture_end(err, n);
    return r;
}

static int load_capture(const char *path, struct tlb_profile *p, char *err, size_t n) {
    struct tlb_sweep_spec sw;
    int r = load_capture_cpus(path, p, &sw, 4, err, n);
    tlb_spec_free(&sw);
    return r;
}

TLB_TEST(profiles_shipped_are_valid) {
    static const char *const names[] = {"generic", "x86-avx512-server", "intel-ai-pc", "rpi5",
                                        "jetson-orin-nano"};
    struct tlb_profile p;
    struct tlb_sweep_spec sw;
    char err[1024], path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "platforms/%s.conf", names[i]);
        TLB_CHECK(load_capture_cpus(path, &p, &sw, 64, err, sizeof err) == 0, "%s: %s",
                  names[i], err);
        TLB_CHECK(!err[0], "%s: said something on loading (old keys?): %s", names[i], err);
        TLB_CHECK(!strcmp(p.name, names[i]), "name %s", p.name);
        TLB_CHECK(sw.n_kernels > 0 && sw.n_quants == 4 && sw.n_threads > 0 && sw.n_depths > 0 &&
                      sw.reps > 0 && sw.n_prompt > 0 && sw.n_gen > 0,
                  "%s: default sweep incomplete", names[i]);
        tlb_spec_free(&sw);
    }
    TLB_CHECK(load_capture_cpus("platforms/rpi5.conf", &p, &sw, 4, err, sizeof err) == 0, "rpi5");
    TLB_CHECK(!strcmp(p.power_sources, "rpi-pmic,hwmon"), "power '%s'", p.power_sources);
    TLB_CHECK(!strcmp(p.cross_prefix, "aarch64-linux-gnu-"), "cross '%s'", p.cross_prefix);
    TLB_CHECK(p.throttle_temp_c == 80 && p.price_usd == 80, "temp/price");
    TLB_CHECK(sw.quants[0] == TLB_TYPE_F32 && sw.quants[3] == TLB_TYPE_Q4_0, "quants order");
    TLB_CHECK(sw.max_temp_c == 80 && tlb_spec_is_set(&sw, "max-temp"),
              "the throttle temperature is the sweep's max-temp");
    tlb_spec_free(&sw);
}

TLB_TEST(profile_minimal_and_threads) {
    struct tlb_profile p;
    struct tlb_sweep_spec sw;
    char err[1024];
    TLB_CHECK(load_capture_cpus("tests/fixtures/profiles/good-minimal.conf", &p, &sw, 6, err,
                                sizeof err) == 0,
              "good profile rejected: %s", err);
    TLB_CHECK(!strcmp(p.description, "minimal test profile"), "desc '%s'", p.description);
    TLB_CHECK(sw.n_kernels == 2 && !strcmp(sw.kernels[0], "tiled") &&
                  !strcmp(sw.kernels[1], "naive"),
              "kernels");
    TLB_CHECK(!tlb_spec_is_set(&sw, "kv-type") && !tlb_spec_is_set(&sw, "warmup") &&
                  isnan(p.throttle_temp_c) && !tlb_spec_is_set(&sw, "max-temp") &&
                  isnan(p.price_usd),
              "unset keys stay unset (the sweep's defaults apply)");
    TLB_CHECK(sw.n_threads == 2 && sw.threads[0] == 6 && sw.threads[1] == 1,
              "max,1 on 6 CPUs -> %d items", sw.n_threads);
    tlb_spec_free(&sw);
    TLB_CHECK(load_capture_cpus("platforms/x86-avx512-server.conf", &p, &sw, 2, err,
                                sizeof err) == 0,
              "load");
    TLB_CHECK(sw.n_threads == 2 && sw.threads[0] == 1 && sw.threads[1] == 2,
              "server list on 2 CPUs: n=%d", sw.n_threads);
    tlb_spec_free(&sw);
}

/* Profiles written with the old keys (n_prompt, reps, quants, ...) still load to the same
 * sweep, with one note per old key naming file, line, old and new key. */
TLB_TEST(profile_old_keys_noted) {
    struct tlb_profile p;
    struct tlb_sweep_spec old, cur;
    char err[2048], err2[512];
    TLB_CHECK(load_capture_cpus("tests/fixtures/profiles/old-keys.conf", &p, &old, 4, err,
                                sizeof err) == 0,
              "old keys refused: %s", err);
    TLB_CHECK(load_capture_cpus("tests/fixtures/profiles/new-keys.conf", &p, &cur, 4, err2,
                                sizeof err2) == 0 && !err2[0],
              "new keys: %s", err2);
    static const struct {
        int line;
        const char *old, *new_key;
    } notes[] = {{5, "kernels", "kernel"},      {6, "quants", "quant"},
                 {7, "kv_types", "kv-type"},    {10, "n_prompt", "n-prompt"},
                 {11, "n_gen", "n-gen"},        {12, "reps", "repetitions"},
                 {14, "short_kernels", "short-kernels"}, {15, "short_phases", "short-phases"}};
    int lines = 0;
    for (const char *c = err; *c; c++) lines += *c == '\n';
    TLB_CHECK(lines == (int)(sizeof notes / sizeof notes[0]), "%d lines: %s", lines, err);
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        char want[160];
        snprintf(want, sizeof want, "note: tests/fixtures/profiles/old-keys.conf:%d: the profile "
                 "key '%s' is now '%s'", notes[i].line, notes[i].old, notes[i].new_key);
        TLB_CHECK(strstr(err, want), "no '%s' in: %s", want, err);
    }
    TLB_CHECK(old.set == cur.set && old.n_kernels == 2 && cur.n_kernels == 2 &&
                  old.n_quants == 2 && old.quants[1] == cur.quants[1] &&
                  old.n_threads == cur.n_threads && old.threads[1] == 4 &&
                  old.n_depths == 2 && old.depths[1] == 8 && old.n_prompt == 8 &&
                  old.n_gen == 4 && old.reps == 2 && old.warmup == 0 && cur.warmup == 0 &&
                  old.n_short == 1 && old.short_phases.reps == 1 && cur.short_phases.reps == 1,
              "old and new vocabulary give different sweeps");
    tlb_spec_free(&old);
    tlb_spec_free(&cur);
}

TLB_TEST(profile_broken_files) {
    static const struct {
        const char *file, *expect;
    } cases[] = {
        {"bad-unknown-key.conf", "bad-unknown-key.conf:4: unknown key 'thread'"},
        {"bad-duplicate.conf", "bad-duplicate.conf:9: 'n-prompt' is already set on line 8"},
        {"bad-old-and-new.conf",
         "bad-old-and-new.conf:9: 'n_prompt' (now 'n-prompt') is already set on line 8"},
        {"bad-threads.conf", "bad-threads.conf:6: threads: 'two'"},
        {"bad-quant.conf", "bad-quant.conf:5: quant: unknown type 'q3_k'"},
        {"bad-missing.conf", "missing required key 'repetitions'"},
        {"bad-name.conf", "does not match the file name"},
        {"bad-syntax.conf", "bad-syntax.conf:4: expected 'key = value'"},
        {"bad-power.conf", "bad-power.conf:4: power_sources: unknown source 'watts-up'"},
        {"bad-range.conf", "bad-range.conf:10: repetitions: '0' is not an integer"},
        {"does-not-exist.conf", "does-not-exist.conf"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256], err[1024];
        struct tlb_profile p;
        snprintf(path, sizeof path, "tests/fixtures/profiles/%s", cases[i].file);
        int r = load_capture(path, &p, err, sizeof err);
        TLB_CHECK(r == -1, "%s accepted", cases[i].file);
        TLB_CHECK(strstr(err, cases[i].expect) != NULL, "%s: error '%s' lacks '%s'",
                  cases[i].file, err, cases[i].expect);
        TLB_CHECK(strchr(err, '\n') == strrchr(err, '\n'), "%s: more than one error line",
                  cases[i].file);
    }
}

TLB_TEST(board_kind_detection) {
    static const struct {
        const char *board, *kind;
    } cases[] = {
        {"x86-server", "x86-avx512-server"}, {"vm-x86", "x86-avx512-server"},
        {"intel-ai-pc", "intel-ai-pc"},      {"rpi5", "rpi5"},
        {"jetson-orin-nano", "jetson-orin-nano"},
        {"jetson-ina3221x", "generic"},      /* a Xavier NX is not an Orin Nano */
        {"arm-server-dmi", "generic"},       {"hwmon-power", "generic"}, /* AVX2, no VNNI */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char root[256];
        struct tlb_sysinfo si;
        struct tlb_profile p;
        snprintf(root, sizeof root, FIX "%s", cases[i].board);
        TLB_CHECK(tlb_sysinfo_read(root, &si) == 0, "%s", root);
        TLB_CHECK(tlb_profile_detect("platforms", &si, &p) == 0, "detect %s", cases[i].board);
        TLB_CHECK(!strcmp(p.name, cases[i].kind), "%s detected as %s, expected %s",
                  cases[i].board, p.name, cases[i].kind);
    }
}

TLB_TEST(profile_match_rules) {
    struct tlb_sysinfo si;
    struct tlb_profile p;
    TLB_CHECK(tlb_sysinfo_read(FIX "intel-ai-pc", &si) == 0, "read");
    TLB_CHECK(tlb_profile_load_name("platforms", "intel-ai-pc", &p) == 0, "load");
    TLB_CHECK(tlb_profile_matches(&p, &si), "AI PC must match its own profile");
    /* the same CPU with AVX-512 added is no longer an AI PC */
    snprintf(si.isa + strlen(si.isa), sizeof si.isa - strlen(si.isa), " avx512f");
    TLB_CHECK(!tlb_profile_matches(&p, &si), "match_isa_absent ignored");
    TLB_CHECK(tlb_profile_load_name("platforms", "rpi5", &p) == 0, "load rpi5");
    TLB_CHECK(tlb_sysinfo_read(FIX "rpi5", &si) == 0, "read");
    snprintf(si.dt_model, sizeof si.dt_model, "Raspberry Pi Compute Module 5 Rev 1.0");
    TLB_CHECK(tlb_profile_matches(&p, &si), "CM5 glob");
    snprintf(si.dt_model, sizeof si.dt_model, "Raspberry Pi 4 Model B Rev 1.4");
    TLB_CHECK(!tlb_profile_matches(&p, &si), "a Pi 4 is not a Pi 5");
}

TLB_TEST_MAIN()
