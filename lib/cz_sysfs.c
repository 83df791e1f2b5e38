/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading sysfs files: sched_ext's (state, root/ops, hotplug_seq), one line
 * each, and CPU lists (topology). Shared by the loaders (libcz), the tools
 * and czctl, which links no libbpf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cz_ctl.h"

int cz_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

int cz_parse_cpulist(const char *s, int *cpus, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long c = a; c <= b; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = c;
		}
		if (*end != ',' && *end != '\0')
			return -1;
		s = *end ? end + 1 : end;
	}
	return n;
}

enum {
	CZ_TOPO_MAX_CPUS	= 4096,	/* CPUs one sysfs list may name */
	CZ_TOPO_MAX_CACHES	= 16,	/* cache/indexN looked at */
};

#define CPU_DIR	"/sys/devices/system/cpu/cpu%d"

/* The first CPU of the CPU list in the file at @path. */
static int first_of_list(const char *path)
{
	int cpus[CZ_TOPO_MAX_CPUS];
	char line[4096];

	if (cz_read_line(path, line, sizeof(line)) ||
	    cz_parse_cpulist(line, cpus, CZ_TOPO_MAX_CPUS) < 1)
		return -1;
	return cpus[0];
}

int cz_topo_first_cpu(int cpu, enum cz_topo what)
{
	char path[128], line[32];
	int idx, best = -1, best_level = 0;

	if (what == CZ_TOPO_CORE) {
		snprintf(path, sizeof(path), CPU_DIR "/topology/thread_siblings_list", cpu);
		return first_of_list(path);
	}
	for (idx = 0; idx < CZ_TOPO_MAX_CACHES; idx++) {
		int level;

		snprintf(path, sizeof(path), CPU_DIR "/cache/index%d/level", cpu, idx);
		if (cz_read_line(path, line, sizeof(line)))
			break;
		level = atoi(line);
		if (level > best_level) {
			best_level = level;
			best = idx;
		}
	}
	if (best < 0)
		return -1;
	snprintf(path, sizeof(path), CPU_DIR "/cache/index%d/shared_cpu_list", cpu, best);
	return first_of_list(path);
}
