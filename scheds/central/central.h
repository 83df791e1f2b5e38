/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_central: what the BPF side and the loader share: the statistics
 * (slot, JSON key, kind, description) and the live tunables (slot, name,
 * range, default, description), each declared once.
 */
#ifndef __CENTRAL_H
#define __CENTRAL_H

#include "cz_shared.h"

#define CENTRAL_STATS(X)							\
	X(ST_DISPATCH, "dispatch", CZ_STAT_PERCPU,				\
	  "tasks handed to a CPU by a dispatch decision, by deciding CPU")	\
	X(ST_DIRECT, "direct", CZ_STAT_COUNTER,					\
	  "per-CPU kthreads and woken loader threads inserted straight into their CPU's local queue") \
	X(ST_KICK, "kick", CZ_STAT_COUNTER,					\
	  "worker CPUs kicked by the central CPU to run a task it placed")	\
	X(ST_QUEUED_NEXT, "queued_next", CZ_STAT_COUNTER,			\
	  "tasks queued behind a running task for a worker that asked ahead") \
	X(ST_WAKE_PREEMPT, "wake_preempt", CZ_STAT_COUNTER,			\
	  "workers preempted at once for a waking task that is owed CPU time")	\
	X(ST_TIMER_PREEMPT, "timer_preempt", CZ_STAT_COUNTER,			\
	  "workers preempted by the central timer after their slice ran out")	\
	X(ST_CENTRAL_KICK, "central_kick", CZ_STAT_COUNTER,			\
	  "times the central CPU was kicked to make decisions")		\
	X(ST_QUEUED, "queued", CZ_STAT_GAUGE,					\
	  "tasks waiting in the central queue")					\
	X(ST_RUNS, "runs", CZ_STAT_PERCPU,					\
	  "tasks started, by CPU")						\
	X(ST_MOVE_FAILED, "move_failed", CZ_STAT_COUNTER,			\
	  "placements that failed: the task left the queue or its CPU")	\
	X(ST_TIMER_UNPINNED, "timer_unpinned", CZ_STAT_GAUGE,			\
	  "1 if the kernel could not pin the timer to the central CPU")

enum central_stat {
	CENTRAL_STATS(CZ_STAT_ENUM)
	NR_CENTRAL_STATS
};

#define CENTRAL_TUNABLES(X)						\
	X(TUN_SLICE_US, "slice_us", 1, 10 * 1000 * 1000, 20000,		\
	  "Time slice in microseconds: how long a task runs while others wait")

enum central_tunable {
	CENTRAL_TUNABLES(CZ_TUNABLE_ENUM)
	NR_CENTRAL_TUNABLES
};

#endif /* __CENTRAL_H */
