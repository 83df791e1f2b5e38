/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_mutex: what the BPF side and the loader share: the statistics, the
 * live tunables, the task set and the topology tables, each declared once.
 */
#ifndef __MUTEX_H
#define __MUTEX_H

#include "cz_shared.h"

#define MUTEX_STATS(X)								\
	X(ST_LC_RUNNING, "lc_running", CZ_STAT_GAUGE,				\
	  "CPUs running a latency-critical task")				\
	X(ST_BE_RUNNING, "be_running", CZ_STAT_GAUGE,				\
	  "CPUs running a best-effort task")					\
	X(ST_LC_QUEUED, "lc_queued", CZ_STAT_GAUGE,				\
	  "latency-critical tasks waiting for a CPU")				\
	X(ST_BE_QUEUED, "be_queued", CZ_STAT_GAUGE,				\
	  "best-effort tasks waiting for a CPU")				\
	X(ST_LC_RUNS, "lc_runs", CZ_STAT_COUNTER,				\
	  "latency-critical tasks started")					\
	X(ST_BE_RUNS, "be_runs", CZ_STAT_COUNTER,				\
	  "best-effort tasks started")						\
	X(ST_LC_NS, "lc_ns", CZ_STAT_COUNTER,					\
	  "CPU time of latency-critical tasks (ns)")				\
	X(ST_BE_NS, "be_ns", CZ_STAT_COUNTER,					\
	  "CPU time of best-effort tasks (ns)")					\
	X(ST_SIBLING_KICK, "sibling_kick", CZ_STAT_COUNTER,			\
	  "SMT siblings preempted so that their best-effort task stops")	\
	X(ST_KICK_STOPS, "kick_stops", CZ_STAT_COUNTER,			\
	  "best-effort tasks that stopped after such a kick")			\
	X(ST_KICK_STOP_NS, "kick_stop_ns", CZ_STAT_COUNTER,			\
	  "sum of kick-to-stop latencies (ns; / kick_stops = average)")	\
	X(ST_KICK_STOP_MAX_NS, "kick_stop_max_ns", CZ_STAT_GAUGE,		\
	  "longest kick-to-stop latency since attach (ns)")			\
	X(ST_CORUN_NS, "corun_ns", CZ_STAT_COUNTER,				\
	  "time a latency-critical and a best-effort task ran on the two "	\
	  "siblings of one core (ns; 0 in --strict mode)")			\
	X(ST_BE_BORROWED_NS, "be_borrowed_ns", CZ_STAT_COUNTER,		\
	  "best-effort CPU time next to a sibling whose latency-critical "	\
	  "task was sleeping (ns)")						\
	X(ST_LC_WAIT, "lc_wait", CZ_STAT_COUNTER,				\
	  "--strict: times a CPU waited for its sibling's best-effort task "	\
	  "to stop before running latency-critical work")			\
	X(ST_BE_HELD, "be_held", CZ_STAT_COUNTER,				\
	  "times a CPU left best-effort work queued because its sibling runs "	\
	  "latency-critical work")						\
	X(ST_BE_FORCED, "be_forced", CZ_STAT_COUNTER,				\
	  "best-effort tasks run ahead of latency-critical ones after "	\
	  "waiting be_max_wait_ms")						\
	X(ST_SELF_KICK, "self_kick", CZ_STAT_COUNTER,				\
	  "tasks preempted as they started next to the rival class "	\
	  "(a race, or a restart the kernel did not ask about)")		\
	X(ST_LC_PREEMPT, "lc_preempt", CZ_STAT_COUNTER,			\
	  "CPUs running best-effort work preempted for a waking "		\
	  "latency-critical task that found no idle CPU")			\
	X(ST_WAKE_PREEMPT, "wake_preempt", CZ_STAT_COUNTER,			\
	  "CPUs running best-effort work preempted for a waking "		\
	  "best-effort task owed over 1 ms more")			\
	X(ST_RESCUE_KICK, "rescue_kick", CZ_STAT_COUNTER,			\
	  "CPUs parked for 20 ms that the safety timer kicked to look "	\
	  "again (a long LC run next to them, or a lost wake-up)")		\
	X(ST_DIRECT, "direct", CZ_STAT_COUNTER,					\
	  "kernel and loader threads run outside the classes")		\
	X(ST_SMT, "smt", CZ_STAT_GAUGE,						\
	  "1 if the CPUs have SMT siblings to keep apart; 0: LC-first only")

enum mutex_stat {
	MUTEX_STATS(CZ_STAT_ENUM)
	NR_MUTEX_STATS
};

#define MUTEX_TUNABLES(X)								\
	X(TUN_LC_SLICE_US, "lc_slice_us", 100, 1000 * 1000, 5000,		\
	  "Time slice of latency-critical tasks in microseconds")		\
	X(TUN_BE_SLICE_US, "be_slice_us", 100, 1000 * 1000, 10000,		\
	  "Time slice of best-effort tasks in microseconds")			\
	X(TUN_BE_MAX_WAIT_MS, "be_max_wait_ms", 1, 20000, 2000,		\
	  "A best-effort task that waited this long runs ahead of "		\
	  "latency-critical work (below the kernel's 30 s watchdog)")

enum mutex_tunable {
	MUTEX_TUNABLES(CZ_TUNABLE_ENUM)
	NR_MUTEX_TUNABLES
};

/* Set 0 of the task-set maps: the latency-critical tasks. */
#define MUTEX_SET_LC	(1u << 0)

/* CPUs and cores the BPF side's tables cover. */
#define MUTEX_MAX_CPUS	1024
#define MUTEX_NO_CORE	0xffffffffu	/* CZ_NO_CORE of lib/cz_topo.h */

enum mutex_class {
	CLS_NONE,	/* idle, a kernel thread, or nothing claimed */
	CLS_LC,		/* latency-critical */
	CLS_BE,		/* best-effort */
};

#endif /* __MUTEX_H */
