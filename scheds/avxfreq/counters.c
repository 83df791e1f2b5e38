/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq: opening the per-CPU counters (see counters.h).
 *
 * Key choices:
 * - A set counts only if every online CPU has it: the BPF side would
 *   otherwise mix measured and unmeasured periods. A CPU that is offline
 *   (perf_event_open says ENODEV) is skipped; if it comes online, the
 *   kernel restarts the scheduler and the loader opens the sets again.
 * - Events are not pinned: a pinned event that loses its counter goes
 *   into an error state for good, while a multiplexed one only misses
 *   periods, which the BPF side sees (enabled != running) and skips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cz_util.h"
#include "counters.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define MSR_PMU		"/sys/bus/event_source/devices/msr"

enum {
	FP_ARITH	= 0xc7,		/* FP_ARITH_INST_RETIRED */
	FP_256B		= 0x10 | 0x20,	/* 256B_PACKED_DOUBLE | _SINGLE */
	FP_512B		= 0x40 | 0x80,	/* 512B_PACKED_DOUBLE | _SINGLE */
	NO_FD		= -1,
};

/*
 * Intel family 6 models with AVX-512 whose FP_ARITH_INST_RETIRED has the
 * 256- and 512-bit packed bits (Intel's event lists for these cores).
 */
static const unsigned int wide_models[] = {
	0x55,		/* Skylake-SP, Cascade Lake, Cooper Lake */
	0x6a, 0x6c,	/* Ice Lake-SP */
	0x7d, 0x7e,	/* Ice Lake client */
	0x8c, 0x8d,	/* Tiger Lake */
	0xa7,		/* Rocket Lake */
	0x8f, 0xcf,	/* Sapphire Rapids, Emerald Rapids */
};

static int fds[NR_CTRS][CZ_MAX_CPUS];
static int nr_cpus;

int avxf_ctr_mode_parse(const char *arg, enum avxf_ctr_mode *mode)
{
	static const char *const names[] = {
		[CTR_MODE_AUTO] = "auto",
		[CTR_MODE_OFF] = "off",
		[CTR_MODE_SOFTWARE] = "software",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(arg, names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -1;
}

int avxf_pmu_event_config(const char *text, unsigned long long *config)
{
	char *end;

	if (strncmp(text, "event=", 6))
		return -1;
	text += 6;
	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	*config = strtoull(text, &end, 0);
	if (errno || end == text || (*end && *end != '\n'))
		return -1;
	return 0;
}

bool avxf_intel_wide_model(unsigned int family, unsigned int model)
{
	if (family != 6)
		return false;
	for (unsigned int i = 0; i < sizeof(wide_models) / sizeof(wide_models[0]); i++)
		if (wide_models[i] == model)
			return true;
	return false;
}

/* This CPU's Intel family and model; false on any other vendor. */
static bool intel_cpu(unsigned int *family, unsigned int *model)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	if (!__get_cpuid(0, &a, &b, &c, &d) ||
	    b != 0x756e6547 || d != 0x49656e69 || c != 0x6c65746e)	/* GenuineIntel */
		return false;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	*family = (a >> 8) & 0xf;
	*model = (a >> 4) & 0xf;
	if (*family == 6 || *family == 15)
		*model |= ((a >> 16) & 0xf) << 4;
	return true;
#else
	(void)family;
	(void)model;
	return false;
#endif
}

static void close_set(unsigned int set)
{
	for (int k = 0; k < NR_CTRS; k++) {
		if (!(set & (1u << k)))
			continue;
		for (int cpu = 0; cpu < nr_cpus; cpu++) {
			if (fds[k][cpu] >= 0)
				close(fds[k][cpu]);
			fds[k][cpu] = NO_FD;
		}
	}
}

/*
 * Counter @k on every online CPU as @type/@config: 0, or -1 with errno
 * from the first CPU that refused (what it opened is closed again).
 */
static int open_ctr(int k, unsigned int type, unsigned long long config)
{
	struct perf_event_attr attr = {
		.type = type, .size = sizeof(attr), .config = config,
	};
	int opened = 0;

	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
				 PERF_FLAG_FD_CLOEXEC);

		if (fd < 0 && errno == ENODEV)
			continue;
		if (fd < 0) {
			int err = errno;

			close_set(1u << k);
			errno = err;
			return -1;
		}
		fds[k][cpu] = fd;
		opened++;
	}
	if (!opened) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

/* Both counters of the pair @a, @b, or neither: 0, or -1 with errno. */
static int open_pair(int a, unsigned int type_a, unsigned long long cfg_a,
		     int b, unsigned int type_b, unsigned long long cfg_b)
{
	int err;

	if (open_ctr(a, type_a, cfg_a))
		return -1;
	if (!open_ctr(b, type_b, cfg_b))
		return 0;
	err = errno;
	close_set(1u << a);
	errno = err;
	return -1;
}

/* The msr PMU's event @name: its type and config; false if absent. */
static bool msr_event(const char *name, unsigned int *type,
		      unsigned long long *config)
{
	char path[128], line[64];

	if (cz_read_line(MSR_PMU "/type", line, sizeof(line)))
		return false;
	*type = strtoul(line, NULL, 10);
	snprintf(path, sizeof(path), MSR_PMU "/events/%s", name);
	return !cz_read_line(path, line, sizeof(line)) &&
	       !avxf_pmu_event_config(line, config);
}

/* The clock pair: which events, into @what; false if none opened. */
static bool open_clocks(enum avxf_ctr_mode mode, char *what, size_t len)
{
	unsigned long long ca, cm;
	unsigned int ta, tm;

	if (mode == CTR_MODE_SOFTWARE) {
		if (open_pair(CTR_CYCLES, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
			      CTR_REF, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK)) {
			snprintf(what, len, "none (perf_event_open(cpu-clock): %s)",
				 strerror(errno));
			return false;
		}
		snprintf(what, len, "software cpu-clock as both clocks "
			 "(a self-test: every measured ratio is 1.0)");
		return true;
	}
	if (msr_event("aperf", &ta, &ca) && msr_event("mperf", &tm, &cm) &&
	    !open_pair(CTR_CYCLES, ta, ca, CTR_REF, tm, cm)) {
		snprintf(what, len, "frequency from msr/aperf/ and msr/mperf/");
		return true;
	}
	if (open_pair(CTR_CYCLES, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES,
		      CTR_REF, PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES)) {
		snprintf(what, len, "none (no msr/aperf/; perf_event_open(cycles, "
			 "ref-cycles): %s)", strerror(errno));
		return false;
	}
	snprintf(what, len, "frequency from cycles and ref-cycles");
	return true;
}

unsigned int avxf_ctrs_open(enum avxf_ctr_mode mode, int ncpus, char *what,
			    size_t len)
{
	unsigned int family, model, mask = 0;
	size_t n;

	nr_cpus = ncpus < CZ_MAX_CPUS ? ncpus : CZ_MAX_CPUS;
	for (int k = 0; k < NR_CTRS; k++)
		for (int cpu = 0; cpu < CZ_MAX_CPUS; cpu++)
			fds[k][cpu] = NO_FD;
	if (mode == CTR_MODE_OFF) {
		snprintf(what, len, "off (--counters off)");
		return 0;
	}
	if (!open_clocks(mode, what, len))
		return 0;
	mask = CTRS_FREQ;
	n = strlen(what);
	if (mode == CTR_MODE_SOFTWARE)
		return mask;
	if (!intel_cpu(&family, &model) || !avxf_intel_wide_model(family, model)) {
		snprintf(what + n, len - n, "; no wide-vector instruction counter "
			 "known for this CPU");
		return mask;
	}
	if (open_pair(CTR_WIDE256, PERF_TYPE_RAW, FP_256B << 8 | FP_ARITH,
		      CTR_WIDE512, PERF_TYPE_RAW, FP_512B << 8 | FP_ARITH)) {
		snprintf(what + n, len - n, "; FP_ARITH_INST_RETIRED: %s",
			 strerror(errno));
		return mask;
	}
	snprintf(what + n, len - n, "; wide-vector instructions from "
		 "FP_ARITH_INST_RETIRED (Intel model 0x%x)", model);
	return mask | CTRS_WIDE;
}

int avxf_ctrs_fill(int map_fd)
{
	for (unsigned int k = 0; k < NR_CTRS; k++) {
		for (int cpu = 0; cpu < nr_cpus; cpu++) {
			unsigned int key = k * CZ_MAX_CPUS + cpu;

			if (fds[k][cpu] < 0)
				continue;
			if (bpf_map_update_elem(map_fd, &key, &fds[k][cpu], BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

void avxf_ctrs_close(void)
{
	close_set(CTRS_FREQ | CTRS_WIDE);
}
