/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_netaware: what the BPF side and the loader share: the statistics
 * (slot, JSON key, kind, description), the live tunables (slot, name,
 * range, default, description), each declared once, and the task sets.
 */
#ifndef __NETAWARE_H
#define __NETAWARE_H

#include "cz_shared.h"

#define NETAWARE_STATS(X)						\
	X(ST_WAKEUPS, "wakeups", CZ_STAT_COUNTER,				\
	  "task wakeups the scheduler placed")					\
	X(ST_NET_WOKEN, "net_woken", CZ_STAT_COUNTER,				\
	  "wakeups from NET_RX processing or a network thread (net-woken)")	\
	X(ST_RX_LOCAL, "rx_local", CZ_STAT_COUNTER,				\
	  "net-woken tasks placed next on the RX CPU or on an idle CPU of its core or LLC") \
	X(ST_BOOSTED, "boosted", CZ_STAT_COUNTER,				\
	  "net-woken wakeups given a boost: queued ahead of CPU-bound work")	\
	X(ST_BOOST_DENIED, "boost_denied", CZ_STAT_COUNTER,			\
	  "net-woken wakeups refused a boost by the task's rate limit")	\
	X(ST_BOOST_REVOKED, "boost_revoked", CZ_STAT_COUNTER,			\
	  "boosts taken back because the task ran boost_us since its wakeup")	\
	X(ST_PREEMPT, "preempt", CZ_STAT_COUNTER,				\
	  "CPUs running a non-boosted task preempted for a boosted one")	\
	X(ST_NET_THREAD, "net_thread", CZ_STAT_COUNTER,			\
	  "ksoftirqd, napi/* and vhost-* wakeups queued ahead of everything")	\
	X(ST_BOOST_LATE, "boost_late", CZ_STAT_COUNTER,			\
	  "boosts that ran over 5 ms past boost_us (timer and tick held up)")	\
	X(ST_BOOST_RUN_US, "boost_run_us", CZ_STAT_COUNTER,			\
	  "CPU time run with a boost, in microseconds")				\
	X(ST_BOOST_MAX_US, "boost_max_us", CZ_STAT_GAUGE,			\
	  "longest CPU time one wakeup kept its boost, since start (us)")	\
	X(ST_WAKE_PREEMPT, "wake_preempt", CZ_STAT_COUNTER,			\
	  "CPUs preempted for a waking task owed over 1 ms more than the one running")

enum netaware_stat {
	NETAWARE_STATS(CZ_STAT_ENUM)
	NR_NETAWARE_STATS
};

#define NETAWARE_TUNABLES(X)						\
	X(TUN_BOOST_US, "boost_us", 1, 100 * 1000, 200,			\
	  "Boost in microseconds: CPU time a net-woken task keeps priority after its wakeup") \
	X(TUN_BOOST_PCT, "boost_pct", 1, 100, 50,				\
	  "Rate limit: percent of one CPU a task may run boosted over time")	\
	X(TUN_SLICE_US, "slice_us", 100, 10 * 1000 * 1000, 5000,		\
	  "Time slice in microseconds for tasks without a boost")

enum netaware_tunable {
	NETAWARE_TUNABLES(CZ_TUNABLE_ENUM)
	NR_NETAWARE_TUNABLES
};

/* Task sets (--net-pid/--net-comm/--net-cgroup): set i is bit 1 << i. */
enum netaware_set {
	SET_NET,	/* net-woken on every wakeup, whatever woke it */
	NR_NETAWARE_SETS
};

#endif /* __NETAWARE_H */
