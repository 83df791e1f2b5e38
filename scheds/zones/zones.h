/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_zones: what the BPF side and the loader share: the zones' layout,
 * the statistics and the live tunables, each declared once.
 */
#ifndef __ZONES_H
#define __ZONES_H

#include "cz_shared.h"

enum {
	ZONES_MAX	= 4,	/* cgroup zones one root partitions among */
	ZONES_WORDS	= CZ_MAX_CPUS / 64,
};

/* A cgroup zone: its cgroup's id and the CPUs it owns (a CPU bitmap). */
struct zone_cfg {
	u64	cgid;
	u64	cpus[ZONES_WORDS];
};

/*
 * Per zone: whether its sub-scheduler is attached, CPUs, runs, lends, and
 * its cgroup's CPU time (which the loader reads from cpu.stat).
 */
#define ZONE_STATS(X, n)						\
	X(ST_Z##n##_UP, "z" #n "_up", CZ_STAT_GAUGE,				\
	  "zone " #n ": 1 while its sub-scheduler is attached")			\
	X(ST_Z##n##_CPUS, "z" #n "_cpus", CZ_STAT_GAUGE,			\
	  "zone " #n ": CPUs granted to its sub-scheduler")			\
	X(ST_Z##n##_RUNS, "z" #n "_runs", CZ_STAT_COUNTER,			\
	  "zone " #n ": dispatches its sub-scheduler made on its CPUs")		\
	X(ST_Z##n##_LENT, "z" #n "_lent", CZ_STAT_COUNTER,			\
	  "zone " #n ": tasks outside the zones run on its idle CPUs")		\
	X(ST_Z##n##_RECLAIMED, "z" #n "_reclaimed", CZ_STAT_COUNTER,		\
	  "zone " #n ": its CPUs back to its own tasks right after a lent run") \
	X(ST_Z##n##_CPU_US, "z" #n "_cpu_us", CZ_STAT_COUNTER,			\
	  "zone " #n ": CPU time of its cgroup's tasks in us (cpu.stat, by the loader)")

#define ZONES_STATS(X)							\
	X(ST_ROOT_RUNS, "root_runs", CZ_STAT_COUNTER,				\
	  "tasks outside the zones started on the CPUs no zone owns")		\
	ZONE_STATS(X, 0) ZONE_STATS(X, 1) ZONE_STATS(X, 2) ZONE_STATS(X, 3)

enum zones_stat {
	ZONES_STATS(CZ_STAT_ENUM)
	NR_ZONES_STATS,
	/* Zone z's slot of a statistic: zone 0's plus z strides. */
	ZONE_STAT_STRIDE = ST_Z1_UP - ST_Z0_UP,
};

#define ZONES_TUNABLES(X)						\
	X(TUN_SLICE_US, "slice_us", 100, 10 * 1000 * 1000, 5000,		\
	  "Time slice in microseconds for tasks outside the zones")		\
	X(TUN_LEND_US, "lend_us", 100, 100 * 1000, 1000,			\
	  "Slice in microseconds of a task run on a zone's idle CPU: how long the zone may wait for it back")

enum zones_tunable {
	ZONES_TUNABLES(CZ_TUNABLE_ENUM)
	NR_ZONES_TUNABLES
};

#endif /* __ZONES_H */
