/* power.h — power and energy sources behind one interface. Each source reads a root-
 * prefixed tree ("" = this machine) so tests run on fake sysfs trees:
 *   rapl      Intel/AMD RAPL package zones via powercap sysfs (energy counter, "package")
 *   jetson    NVIDIA Jetson INA3221 module input rail VDD_IN (sampler, "module"); new hwmon
 *             and old ina3221x iio layouts; one rail, never a sum of child rails
 *   rpi-pmic  Raspberry Pi 5 PMIC through `vcgencmd pmic_read_adc`: raw sum of V*I over the
 *             rails (sampler, "board-pmic")
 *   hwmon     hwmon energy*_input (energy counter) or power*_input (sampler), "hwmon"
 *   papi      RAPL through PAPI's powercap component (energy counter, "package")
 *   meter     an external command printing watts on stdout (--power-cmd; sampler, "wall")
 * Usage: tlb_power_open() picks one; tlb_power_read() gives cumulative joules since open
 * (energy counters, wrap-around handled: read at least once per wrap period, which the
 * monitor's sampling thread does) or watts now (samplers). tlb_power_probe() lists every
 * candidate with the reason each unusable one was rejected, for `tlbench info`.
 * A source is not thread-safe: callers serialise reads (monitor.h does). */
#ifndef TLB_POWER_H
#define TLB_POWER_H

#include <stddef.h>
#include <stdint.h>

enum tlb_power_scope {
    TLB_SCOPE_PACKAGE,    /* CPU package(s) only (RAPL) */
    TLB_SCOPE_MODULE,     /* compute module input (Jetson VDD_IN) */
    TLB_SCOPE_BOARD_PMIC, /* sum of the board PMIC rails (Pi 5), below wall power */
    TLB_SCOPE_WALL,       /* whole system at the wall socket (external meter) */
    TLB_SCOPE_HWMON,      /* whatever a hwmon sensor covers (see its name) */
};

enum tlb_power_type {
    TLB_POWER_ENERGY, /* cumulative energy counter: exact energy between two reads */
    TLB_POWER_SAMPLER /* instantaneous power: energy is integrated from samples */
};

struct tlb_power_opts {
    const char *root;      /* sysfs/procfs root prefix, "" or NULL = this machine */
    const char *source;    /* NULL or "auto": first usable in `prefer` order; "none": no
                              source; or one kind ("rapl") or a comma list to try in order */
    const char *prefer;    /* preference order for "auto" (a profile's power_sources), NULL:
                              meter (if meter_cmd), rapl, jetson, rpi-pmic, hwmon, papi */
    const char *meter_cmd; /* --power-cmd: shell command printing watts; NULL: no meter */
    const char *vcgencmd;  /* vcgencmd command prefix override (tests), NULL: find it */
    const char *rails;     /* Jetson rail names to try in order, NULL: "VDD_IN,POM_5V_IN" */
};

struct tlb_power_info {
    char kind[16];   /* "rapl", "jetson", ... */
    char name[160];  /* exact sensor, e.g. "rapl:package-0", "ina3221:1-0040:VDD_IN",
                        "vcgencmd:pmic_read_adc:12 rails", "hwmon:amd_energy:Esocket0" */
    enum tlb_power_scope scope;
    enum tlb_power_type type;
};

struct tlb_power_source;

/* Open the source selected by o (see tlb_power_opts.source). Returns NULL with why set when
 * nothing usable was found (why then lists each kind tried and its reason) or when source
 * is "none". */
struct tlb_power_source *tlb_power_open(const struct tlb_power_opts *o, char *why,
                                        size_t why_len);
const struct tlb_power_info *tlb_power_source_info(const struct tlb_power_source *s);
/* Energy counter: *value = joules since open. Sampler: *value = watts now.
 * Returns 0, or -1 with why set (sensor vanished, command failed, malformed value). */
int tlb_power_read(struct tlb_power_source *s, double *value, char *why, size_t why_len);
void tlb_power_close(struct tlb_power_source *s);

/* One row of `tlbench info`: a candidate kind, usable or not and why. */
struct tlb_power_candidate {
    char kind[16];
    int usable;
    struct tlb_power_info info; /* valid when usable */
    char why[256];              /* reason when not usable */
};
/* Try every kind (opened and closed again); fills up to max rows, returns the count. */
int tlb_power_probe(const struct tlb_power_opts *o, struct tlb_power_candidate *out, int max);

const char *tlb_power_scope_name(enum tlb_power_scope s); /* "package", "module", ... */
const char *tlb_power_type_name(enum tlb_power_type t);   /* "energy-counter", "sampler" */
/* Comma list of every kind, for --help texts. */
const char *tlb_power_kinds(void);
/* Is name a known kind ("rapl", ...)? */
int tlb_power_kind_known(const char *name);

/* Increment of a counter that wraps at max: cur >= prev ? cur - prev : cur + (max - prev). */
uint64_t tlb_energy_delta(uint64_t prev, uint64_t cur, uint64_t max);

#endif
