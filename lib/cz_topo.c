/* SPDX-License-Identifier: GPL-2.0 */
/* SMT topology from sysfs; see cz_topo.h. */
#include <stdio.h>
#include <stdlib.h>
#include "cz_util.h"
#include "cz_topo.h"

enum {
	MAX_SIBLINGS = 64,
};

/* The lane of @cpu in sibling list @sib of @n CPUs, or -1. */
static int lane_of(const int *sib, int n, int cpu)
{
	for (int i = 0; i < n; i++)
		if (sib[i] == cpu)
			return i;
	return -1;
}

int cz_topo_read(const char *root, int nr_cpus, int max_lanes, u32 *cpu_core,
		 u32 *cpu_lane, struct cz_topo *t, char *err, size_t errlen)
{
	int sib[MAX_SIBLINGS];
	char path[256], line[4096];

	t->nr_cores = t->nr_smt = t->max_lanes = 0;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int n, lane;

		cpu_core[cpu] = CZ_NO_CORE;
		cpu_lane[cpu] = 0;
		snprintf(path, sizeof(path),
			 "%s/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			 root, cpu);
		if (cz_read_line(path, line, sizeof(line)))
			continue;
		n = cz_parse_cpulist(line, sib, MAX_SIBLINGS);
		lane = n > 0 ? lane_of(sib, n, cpu) : -1;
		/* Lists ascend, so a core is met first at its lowest CPU. */
		if (lane < 0 || sib[0] > cpu ||
		    (lane > 0 && cpu_core[sib[0]] == CZ_NO_CORE)) {
			snprintf(err, errlen, "%s: '%s' does not fit CPU %d", path,
				 line, cpu);
			return -1;
		}
		if (n > max_lanes) {
			snprintf(err, errlen, "CPU %d has %d SMT threads; at most %d are supported",
				 cpu, n, max_lanes);
			return -1;
		}
		if (lane == 0) {
			cpu_core[cpu] = t->nr_cores++;
			t->nr_smt += n > 1;
			if (n > t->max_lanes)
				t->max_lanes = n;
		} else {
			cpu_core[cpu] = cpu_core[sib[0]];
		}
		cpu_lane[cpu] = lane;
	}
	return 0;
}

/* cache/indexN directories looked at per CPU. */
#define MAX_CACHES	16
/* CPUs one last-level cache may list. */
#define MAX_LLC_CPUS	4096

/* The lowest CPU of the last-level cache @cpu is in, or -1. */
static int llc_first(const char *root, int cpu)
{
	int cpus[MAX_LLC_CPUS];
	char path[256], line[4096];
	int idx, best = -1, best_level = 0;

	for (idx = 0; idx < MAX_CACHES; idx++) {
		int level;

		snprintf(path, sizeof(path),
			 "%s/devices/system/cpu/cpu%d/cache/index%d/level", root, cpu, idx);
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
	snprintf(path, sizeof(path),
		 "%s/devices/system/cpu/cpu%d/cache/index%d/shared_cpu_list", root, cpu, best);
	if (cz_read_line(path, line, sizeof(line)) ||
	    cz_parse_cpulist(line, cpus, MAX_LLC_CPUS) < 1)
		return -1;
	return cpus[0];
}

void cz_topo_read_llc(const char *root, int nr_cpus, u32 *cpu_llc)
{
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int first = llc_first(root, cpu);

		cpu_llc[cpu] = first < 0 ? (u32)cpu : (u32)first;
	}
}
