/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_user: what the BPF side and the loader share: the statistics, the
 * live tunables, the task set, and the two message formats between them:
 *
 *   BPF -> loader   struct user_msg, ring buffer "to_user": a task became
 *                   runnable (with what it ran since its last message), or
 *                   a task exited.
 *   loader -> BPF   struct user_run, user ring buffer "from_user": run this
 *                   task, ordered by this key, for this slice.
 */
#ifndef __USER_H
#define __USER_H

#include "cz_shared.h"

#define USER_STATS(X)								\
	X(ST_TO_USER, "to_user", CZ_STAT_COUNTER,				\
	  "runnable tasks handed to the user-space policy")			\
	X(ST_DECISIONS, "decisions", CZ_STAT_COUNTER,				\
	  "dispatch decisions received from the policy")			\
	X(ST_USER_RUN, "user_run", CZ_STAT_COUNTER,				\
	  "tasks queued to run by a decision of the policy")			\
	X(ST_STALE, "stale", CZ_STAT_COUNTER,					\
	  "decisions dropped: the task had left, re-queued or been run by the fallback") \
	X(ST_FB_TIMEOUT, "fb_timeout", CZ_STAT_COUNTER,			\
	  "fallback: a task the policy had not decided on within max_wait_ms")	\
	X(ST_FB_STALLED, "fb_stalled", CZ_STAT_COUNTER,			\
	  "fallback: tasks run while the policy was silent for stall_ms")	\
	X(ST_FB_FULL, "fb_full", CZ_STAT_COUNTER,				\
	  "fallback: tasks the ring buffer or the wait list had no room for")	\
	X(ST_IDLE_DIRECT, "idle_direct", CZ_STAT_COUNTER,			\
	  "waking tasks run at once on the idle CPU they found (idle_direct)") \
	X(ST_SYNC_WAIT, "sync_wait", CZ_STAT_COUNTER,				\
	  "loader wakeups queued behind a synchronous waker instead of preempting it") \
	X(ST_DIRECT, "direct", CZ_STAT_COUNTER,					\
	  "per-CPU kthreads and loader threads run without asking the policy")	\
	X(ST_PREEMPT, "preempt", CZ_STAT_COUNTER,				\
	  "CPUs preempted for a decided task with a smaller key that could not run where decided") \
	X(ST_KICK, "kick", CZ_STAT_COUNTER,					\
	  "idle CPUs woken to run queued decisions or the fallback")		\
	X(ST_LOST_EXIT, "lost_exit", CZ_STAT_COUNTER,				\
	  "task exits the ring buffer had no room for")				\
	X(ST_STALLED, "stalled", CZ_STAT_GAUGE,				\
	  "1 while the policy has been silent for stall_ms")			\
	X(ST_QUEUED, "queued", CZ_STAT_GAUGE,					\
	  "decided tasks waiting for a CPU")					\
	X(ST_USER_QUEUED, "user_queued", CZ_STAT_GAUGE,			\
	  "tasks the policy holds (user-space queue depth)")			\
	X(ST_RTT_P50_US, "rtt_p50_us", CZ_STAT_GAUGE,				\
	  "enqueue to decision, median over the last interval (us)")		\
	X(ST_RTT_P99_US, "rtt_p99_us", CZ_STAT_GAUGE,				\
	  "enqueue to decision, 99th percentile over the last interval (us)")

enum user_stat {
	USER_STATS(CZ_STAT_ENUM)
	NR_USER_STATS
};

#define USER_TUNABLES(X)							\
	X(TUN_SLICE_US, "slice_us", 100, 1000 * 1000, 5000,			\
	  "Time slice in microseconds of a decision that names none")		\
	X(TUN_STALL_MS, "stall_ms", 10, 10000, 100,				\
	  "The policy silent this long: tasks skip it and run from the fallback queue") \
	X(TUN_MAX_WAIT_MS, "max_wait_ms", 10, 20000, 1000,			\
	  "A task the policy has not decided on this long runs from the fallback queue") \
	X(TUN_SYNC_WAIT, "sync_wait", 0, 1, 1,					\
	  "1: after a synchronous wakeup the loader waits for the waker to sleep instead of preempting it") \
	X(TUN_IDLE_DIRECT, "idle_direct", 0, 1, 1,				\
	  "1: a waking task that finds an idle CPU runs there without asking the policy") \
	X(TUN_LC_PCT, "lc_pct", 1, 100, 80,					\
	  "lc policy: share of the CPU time latency-critical tasks may take first")

enum user_tunable {
	USER_TUNABLES(CZ_TUNABLE_ENUM)
	NR_USER_TUNABLES
};

/* Task sets (--lc-pid/--lc-comm/--lc-cgroup): set i is bit 1 << i. */
enum user_set {
	SET_LC,		/* latency-critical, for policies that care (lc) */
	NR_USER_SETS
};

enum user_msg_kind {
	USER_MSG_ENQUEUE,	/* runnable: decide when it runs */
	USER_MSG_EXIT,		/* gone: forget it */
};

/* user_msg.flags */
#define USER_WAKEUP	(1u << 0)	/* it woke up; else its slice ended or it was preempted */

struct user_msg {
	u32	kind;		/* enum user_msg_kind */
	s32	pid;		/* thread id */
	s32	tgid;
	u32	weight;		/* 100 for nice 0 */
	u32	sets;		/* task-set bits */
	u32	flags;		/* USER_WAKEUP */
	s32	cpu;		/* CPU it last ran on */
	u32	pad;
	u64	seq;		/* which enqueue of the task this is */
	u64	enq_ns;		/* when it became runnable (CLOCK_MONOTONIC) */
	u64	ran_ns;		/* CPU time since its previous message */
	u64	cgid;		/* cgroup v2 id */
};

struct user_run {
	s32	pid;
	u32	pad;
	u64	seq;		/* the user_msg's: a stale decision is dropped */
	u64	key;		/* run before tasks with a larger key */
	u64	slice_ns;	/* 0: slice_us */
};

/*
 * Enqueue-to-decision latency histogram: bucket b covers
 * [2^(b/4) .. 2^((b+1)/4)) ns, roughly (4 per power of two).
 */
#define USER_RTT_BUCKETS	192

#endif /* __USER_H */
