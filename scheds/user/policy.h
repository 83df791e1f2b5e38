/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_user's policy interface: what a scheduling policy written in plain C
 * implements. A policy is one file in policies/ that fills a struct
 * cz_user_policy and registers it with CZ_USER_POLICY(); the loader finds
 * every registered policy (a linker section), and --policy NAME picks one.
 * No BPF change is ever needed: the BPF side hands over every runnable
 * task and runs whatever the policy returns, in the order of its keys.
 *
 * The callbacks all run on the loader's one policy thread, so a policy
 * needs no locking. They must not block: the whole machine's tasks wait
 * for the thread (a task the policy has not decided on within max_wait_ms
 * runs from the BPF side's fallback queue, and is counted there).
 *
 *   enqueue   a task became runnable (it woke up, its slice ended, or it
 *             was preempted). Keep what you need: @t is a copy that dies
 *             after the call.
 *   stopped   CPU time @t ran since its previous report (t->ran_ns); comes
 *             right before the enqueue it belongs to.
 *   dispatch  the loader asks for the next decision; fill @run and return
 *             true, or return false to hold the rest back for now. Asked
 *             after every batch of messages and every tick, until it
 *             returns false. The key orders decided tasks among themselves
 *             (smaller runs first), also against ones decided earlier that
 *             still wait for a CPU.
 *   exited    the task is gone: forget it.
 *   tick      every CZ_USER_TICK_MS, with the time (CLOCK_MONOTONIC ns).
 *   queued    how many tasks the policy holds back (the user_queued stat).
 *
 * Every callback but dispatch and enqueue may be NULL. A task may be
 * enqueued again before its decision (it was dequeued meanwhile); the
 * stale decision is dropped by the BPF side, so a policy need not track
 * that.
 */
#ifndef __CZ_USER_POLICY_H
#define __CZ_USER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "user.h"

enum {
	CZ_USER_TICK_MS		= 20,
};

/* A runnable task, as its enqueue message describes it. */
struct cz_user_task {
	s32	pid;		/* thread id */
	s32	tgid;		/* process id */
	u32	weight;		/* 100 for nice 0; 1..10000 */
	u32	sets;		/* task-set bits: 1u << SET_LC for --lc-* rules */
	u64	cgid;		/* cgroup v2 id */
	u64	ran_ns;		/* CPU time since its previous message */
	u64	enq_ns;		/* when it became runnable (CLOCK_MONOTONIC) */
	u64	seq;		/* copy into the decision */
	s32	cpu;		/* CPU it last ran on */
	bool	wakeup;		/* it woke up (else: slice ended, preempted) */
};

/* A decision: run task @pid (its enqueue @seq) ahead of larger keys. */
struct cz_user_run {
	s32	pid;
	u64	seq;
	u64	key;
	u64	slice_ns;	/* 0: the slice_us tunable */
};

struct cz_user_policy {
	const char	*name;		/* --policy NAME */
	const char	*doc;		/* one line for --help */
	int		(*init)(void);	/* 0, or -1 after saying why */
	void		(*enqueue)(const struct cz_user_task *t);
	void		(*stopped)(const struct cz_user_task *t);
	bool		(*dispatch)(struct cz_user_run *run);
	void		(*exited)(s32 pid);
	void		(*tick)(u64 now_ns);
	u64		(*queued)(void);
};

#define CZ_USER_POLICY(pol)						\
	static const struct cz_user_policy *const __cz_user_##pol	\
	__attribute__((used, section("cz_user_policies"))) = &(pol)

/* A live tunable's current value (refreshed every tick). */
u64 cz_user_tunable(enum user_tunable t);
/* The slice_us tunable in ns. */
u64 cz_user_slice_ns(void);

/*
 * Helpers a policy may use (ulib.c).
 *
 * A binary min-heap of tasks by key; equal keys come out in push order.
 */
struct cz_user_heap_item {
	u64			key;
	u64			order;
	struct cz_user_task	task;
};

struct cz_user_heap {
	struct cz_user_heap_item	*v;
	size_t				n, cap;
	u64				pushed;
};

/* 0, or -1 when out of memory (the task then waits for the fallback). */
int cz_user_heap_push(struct cz_user_heap *h, u64 key, const struct cz_user_task *t);
/* The smallest key's item into @out; false when empty. */
bool cz_user_heap_pop(struct cz_user_heap *h, struct cz_user_heap_item *out);

/*
 * Per-task state by pid: two u64 a policy uses as it likes (a vtime, a
 * class), created zeroed on first use; NULL when out of memory.
 */
struct cz_user_pid {
	s32	pid;
	u64	vtime;
	u64	aux;
};

struct cz_user_pid *cz_user_pid_get(void **table, s32 pid);
void cz_user_pid_del(void **table, s32 pid);

/*
 * Weighted virtual time with a bounded lag, the core of a fair policy. A
 * task is charged ran_ns * 100 / weight. When it becomes runnable, its
 * virtual time is raised to one slice before the least-served task that
 * is running or decided and waiting (the floor): a task that slept runs
 * ahead of the hogs, promptly, but banks at most one slice of credit.
 *
 *   key = cz_user_vclock_enqueue(&c, t);	in enqueue (charges t->ran_ns)
 *   cz_user_vclock_decided(&c, &task, key);	in dispatch
 *   cz_user_vclock_exited(&c, pid);		in exited
 */
struct cz_user_vclock {
	struct cz_user_heap	decided;	/* by key; entries go stale */
	void			*tasks;		/* pid -> vtime, aux: decided seq */
	u64			vmax;		/* largest key decided */
};

u64 cz_user_vclock_enqueue(struct cz_user_vclock *c, const struct cz_user_task *t);
void cz_user_vclock_decided(struct cz_user_vclock *c, const struct cz_user_task *t,
			    u64 key);
void cz_user_vclock_exited(struct cz_user_vclock *c, s32 pid);

#endif /* __CZ_USER_POLICY_H */
