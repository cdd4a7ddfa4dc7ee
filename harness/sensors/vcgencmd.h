/* vcgencmd.h — the Raspberry Pi firmware tool `vcgencmd`: finding it, running it, and
 * parsing `pmic_read_adc` (Pi 5 PMIC rail currents and voltages) and `get_throttled`
 * (under-voltage / frequency-cap / throttling bits). The command is injectable so tests
 * feed recorded outputs through a fake script. */
#ifndef TLB_VCGENCMD_H
#define TLB_VCGENCMD_H

#include <stddef.h>

/* Command prefix to run vcgencmd as, into buf:
 *   override != NULL/"": used as given (a shell command prefix; arguments are appended);
 *   root != "": "<root>/usr/bin/vcgencmd" when that file exists (fake trees in tests);
 *   root == "": the first executable "vcgencmd" on $PATH.
 * Returns 0, or -1 with why set ("vcgencmd not found on PATH (not a Raspberry Pi?)"). */
int tlb_vcgencmd_resolve(const char *root, const char *override, char *buf, size_t n,
                         char *why, size_t why_len);

/* Run "<cmd> <args>" (1 s time limit) and capture stdout into out. 0 or -1 with why. */
int tlb_vcgencmd_run(const char *cmd, const char *args, char *out, size_t n, char *why,
                     size_t why_len);

/* Parse `vcgencmd pmic_read_adc` output: lines such as
 *     VDD_CORE_A current(7)=2.12400000A
 *     VDD_CORE_V volt(15)=0.87000000V
 * and sum V*I over every rail that has both a current and a voltage line (rails with a
 * voltage only, like EXT5V_V, are skipped). This raw sum of the PMIC rails is below wall
 * power; no correction is applied here. Returns the number of rails summed (>= 1) with
 * *watts set, or -1 with why set when no rail has both readings or a value is malformed. */
int tlb_pmic_parse(const char *text, double *watts, char *why, size_t why_len);

/* Parse `vcgencmd get_throttled` output "throttled=0x50005". 0 or -1 with why. */
int tlb_throttled_parse(const char *text, unsigned *bits, char *why, size_t why_len);

/* get_throttled bits: 0..3 are "now", 16..19 the same events "since boot" (sticky). */
#define TLB_THROTTLE_UNDERVOLT_NOW 0x1u
#define TLB_THROTTLE_FREQCAP_NOW 0x2u
#define TLB_THROTTLE_THROTTLED_NOW 0x4u
#define TLB_THROTTLE_SOFTTEMP_NOW 0x8u
#define TLB_THROTTLE_NOW_MASK 0xfu
#define TLB_THROTTLE_STICKY_MASK 0xf0000u

/* "under-voltage, ARM frequency capped, throttled, soft temperature limit" for the events
 * in bits (now or sticky), or "none". */
void tlb_throttled_describe(unsigned bits, char *buf, size_t n);

#endif
