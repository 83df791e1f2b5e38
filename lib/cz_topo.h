/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SMT topology from sysfs, in the shape BPF programs index it by: for each
 * CPU, its physical core (numbered 0.. in order of the core's lowest CPU)
 * and its lane (its position among the core's SMT siblings).
 *
 * Key choices:
 * - The truth is each CPU's topology/thread_siblings_list, never a stride:
 *   sibling numbering differs between machines (0/1 vs 0/N).
 * - A CPU without topology (offline) gets core CZ_NO_CORE; a loader
 *   leaves it out of its core-wide decisions.
 */
#ifndef __CZ_TOPO_H
#define __CZ_TOPO_H

#include <stddef.h>
#include "cz_shared.h"
#include "cz_util.h"

#define CZ_NO_CORE	0xffffffffu

struct cz_topo {
	int	nr_cores;
	int	nr_smt;		/* cores with more than one lane */
	int	max_lanes;	/* most lanes any core has */
};

/*
 * Fill @cpu_core and @cpu_lane for CPUs 0..@nr_cpus-1 from sysfs under
 * @root ("/sys" normally; tests point it elsewhere). Cores with more than
 * @max_lanes siblings are an error. Returns 0, or -1 with @err saying why.
 */
int cz_topo_read(const char *root, int nr_cpus, int max_lanes, u32 *cpu_core,
		 u32 *cpu_lane, struct cz_topo *t, char *err, size_t errlen);

/*
 * Fill @cpu_llc for CPUs 0..@nr_cpus-1: the lowest CPU sharing the CPU's
 * last-level cache (the cache/index* of the highest level), or the CPU
 * itself where sysfs does not say (offline, no cache information).
 */
void cz_topo_read_llc(const char *root, int nr_cpus, u32 *cpu_llc);

#endif /* __CZ_TOPO_H */
