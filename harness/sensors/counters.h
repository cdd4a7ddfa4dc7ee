/* counters.h — hardware and software event counters around a timed phase.
 * Sources, in the order "auto" tries them:
 *   1. PAPI hardware presets PAPI_TOT_INS, PAPI_TOT_CYC, PAPI_L3_TCM (else PAPI_L2_TCM),
 *      plus the three OS software events below;
 *   2. PAPI perf_event software events perf::TASK-CLOCK, perf::PAGE-FAULTS,
 *      perf::CONTEXT-SWITCHES (machines without a hardware PMU, e.g. most VMs);
 *   3. OS software events without PAPI: os:task-clock (CPU time of all threads, ns, from
 *      CLOCK_PROCESS_CPUTIME_ID), os:page-faults and os:context-switches (getrusage).
 * PAPI is used only when built in (TLB_HAVE_PAPI, libpapi-dev present at build time).
 * Scope: PAPI events count the thread that opened them and, where PAPI accepts the
 * inherit option, threads it creates afterwards — so open counters BEFORE creating the
 * engine's thread pool. os:* events always cover the whole process.
 * Not thread-safe: one thread opens, starts and stops a set. */
#ifndef TLB_COUNTERS_H
#define TLB_COUNTERS_H

#include <stddef.h>

/* What an event measures, so results can fill their columns (ctr_instructions, ...). */
enum tlb_ctr_role {
    TLB_CTR_INSTRUCTIONS,
    TLB_CTR_CYCLES,
    TLB_CTR_CACHE_MISSES, /* last-level cache misses */
    TLB_CTR_TASK_CLOCK_NS,
    TLB_CTR_PAGE_FAULTS,
    TLB_CTR_CTX_SWITCHES,
    TLB_CTR_OTHER,
    TLB_CTR_ROLE_COUNT
};

#define TLB_CTR_MAX_EVENTS 8

struct tlb_counters;

/* Open a set. events NULL/"auto": the order above; otherwise a comma list of PAPI event
 * names and/or os:task-clock, os:page-faults, os:context-switches, used exactly (an event
 * that cannot be added is an error). Returns NULL with why set when nothing can be counted.
 * note (may be NULL) receives why better sources were not used, e.g. "PAPI perf_event
 * component disabled: no default PMU found (VM without a virtual PMU?)". */
struct tlb_counters *tlb_counters_open(const char *events, char *why, size_t why_len,
                                       char *note, size_t note_len);
/* Events in use, ';'-separated in value order (the `papi_events` CSV cell). */
const char *tlb_counters_events(const struct tlb_counters *c);
int tlb_counters_count(const struct tlb_counters *c);
enum tlb_ctr_role tlb_counters_role(const struct tlb_counters *c, int i);
/* Start counting from zero. 0 or -1 with why. */
int tlb_counters_start(struct tlb_counters *c, char *why, size_t why_len);
/* Stop and store tlb_counters_count() values (counts since start) in values. 0 or -1. */
int tlb_counters_stop(struct tlb_counters *c, long long *values, char *why, size_t why_len);
void tlb_counters_close(struct tlb_counters *c);

/* Scatter values (from stop) into by_role[TLB_CTR_ROLE_COUNT]; roles not measured get -1.
 * When two events share a role the first wins. */
void tlb_counters_by_role(const struct tlb_counters *c, const long long *values,
                          long long *by_role);

/* One paragraph for `tlbench info`: PAPI version or "PAPI not built in", the perf_event
 * component state and why it is disabled, what perf_event_paranoid allows this user. */
void tlb_counters_support(char *buf, size_t n);
/* perf_event_paranoid value and what it means for this process, e.g. "2 (running as root:
 * no restriction)". */
void tlb_counters_paranoid(char *buf, size_t n);

/* PAPI library initialisation shared by counters and the PAPI power source: 0 when PAPI
 * is usable, -1 with why ("PAPI not built in", version mismatch...). Thread-safe, once. */
int tlb_papi_init(char *why, size_t why_len);
/* All PAPI calls in tlbench are made under this lock (PAPI is not initialised for
 * threads, and the monitor thread may read a PAPI power source). */
void tlb_papi_lock(void);
void tlb_papi_unlock(void);

#endif
