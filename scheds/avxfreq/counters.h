/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq: the per-CPU perf events the BPF side reads at each context
 * switch (see CTR_* in avxfreq.h), opened and handed to it by the loader.
 *
 * Two sets, each open on every online CPU or not at all:
 * - clocks (CTRS_FREQ): the msr PMU's aperf/mperf where the kernel offers
 *   them (free-running MSRs that take no PMU counter), else the generic
 *   cycles/ref-cycles events; --counters software puts the CPU's software
 *   clock in both places, a self-test of the plumbing for machines without
 *   a PMU (every ratio it measures is 1.0).
 * - wide-vector instructions (CTRS_WIDE): FP_ARITH_INST_RETIRED with its
 *   256-bit and 512-bit umasks, as raw events, on the Intel models listed
 *   in counters.c only (raw event codes are model-specific).
 */
#ifndef __AVXFREQ_COUNTERS_H
#define __AVXFREQ_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include "avxfreq.h"

enum avxf_ctr_mode {
	CTR_MODE_AUTO,		/* hardware counters where there are any */
	CTR_MODE_OFF,		/* none: model and XSAVE state */
	CTR_MODE_SOFTWARE,	/* software clocks (plumbing self-test) */
};

/* Parse --counters: 0, or -1 for an unknown mode. */
int avxf_ctr_mode_parse(const char *arg, enum avxf_ctr_mode *mode);

/*
 * The config of a PMU event from its sysfs description ("event=0x01",
 * as in /sys/bus/event_source/devices/msr/events/aperf): 0, or -1 if the
 * text is not a single event term.
 */
int avxf_pmu_event_config(const char *text, unsigned long long *config);

/*
 * Does Intel family 6 model @model have FP_ARITH_INST_RETIRED (event 0xc7)
 * with the 256-bit (umask 0x30) and 512-bit (0xc0) packed bits?
 */
bool avxf_intel_wide_model(unsigned int family, unsigned int model);

/*
 * Open what @mode asks for on CPUs 0..@ncpus-1 (offline CPUs are skipped).
 * Returns the CTRS_* mask that is open; @what describes it in one phrase
 * ("none (...)" when nothing is).
 */
unsigned int avxf_ctrs_open(enum avxf_ctr_mode mode, int ncpus, char *what,
			    size_t len);

/* Put the open events into the BPF side's array (map fd): 0 or -errno. */
int avxf_ctrs_fill(int map_fd);

void avxf_ctrs_close(void);

#endif /* __AVXFREQ_COUNTERS_H */
