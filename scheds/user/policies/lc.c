/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy "lc": latency-critical tasks first, within a bounded share.
 *
 * Tasks in the "lc" task set (--lc-pid, --lc-comm, --lc-cgroup, or
 * `czctl add` at run time) are decided ahead of every other task: their
 * keys are their virtual times, the others' are theirs plus BE_OFFSET, so
 * the BPF side runs a waiting latency-critical task before any other that
 * waits. Within each class: weighted virtual time as in "vtime", with one
 * virtual time for both classes, so a task moving between them is neither
 * owed nor owing.
 *
 * The bound: while latency-critical tasks used more than lc_pct percent of
 * the CPU time run recently (a window halved every WINDOW_MS), their
 * decisions get ordinary keys and they compete with the others by virtual
 * time alone. Nothing is ever held back (work-conserving), and a
 * latency-critical task that turns into a CPU hog gets lc_pct, not the
 * machine.
 */
#include "policy.h"

enum {
	WINDOW_MS	= 100,
};

/* Above any virtual time a run reaches (2^47 ns: 39 hours of nice-0 CPU
 * time), and far from wrapping around. */
#define BE_OFFSET	(1ULL << 47)

static struct cz_user_heap queue;
static struct cz_user_vclock clock;
static u64 lc_ns, all_ns;	/* CPU time run in the window */
static u64 window_at;

static bool is_lc(const struct cz_user_task *t)
{
	return t->sets & (1u << SET_LC);
}

static void lc_stopped(const struct cz_user_task *t)
{
	all_ns += t->ran_ns;
	if (is_lc(t))
		lc_ns += t->ran_ns;
}

static void lc_enqueue(const struct cz_user_task *t)
{
	cz_user_heap_push(&queue, cz_user_vclock_enqueue(&clock, t), t);
}

static bool lc_over_share(void)
{
	return lc_ns * 100 > all_ns * cz_user_tunable(TUN_LC_PCT);
}

static bool lc_dispatch(struct cz_user_run *run)
{
	struct cz_user_heap_item it;
	bool first;

	if (!cz_user_heap_pop(&queue, &it))
		return false;
	cz_user_vclock_decided(&clock, &it.task, it.key);
	first = is_lc(&it.task) && !lc_over_share();
	*run = (struct cz_user_run){ .pid = it.task.pid, .seq = it.task.seq,
				     .key = first ? it.key : it.key + BE_OFFSET };
	return true;
}

static void lc_tick(u64 now)
{
	if (now - window_at < WINDOW_MS * 1000000ULL)
		return;
	window_at = now;
	lc_ns /= 2;
	all_ns /= 2;
}

static void lc_exited(s32 pid)
{
	cz_user_vclock_exited(&clock, pid);
}

static u64 lc_queued(void)
{
	return queue.n;
}

static const struct cz_user_policy lc_policy = {
	.name		= "lc",
	.doc		= "latency-critical tasks (--lc-*) first, up to lc_pct of the CPU time",
	.enqueue	= lc_enqueue,
	.stopped	= lc_stopped,
	.dispatch	= lc_dispatch,
	.exited		= lc_exited,
	.tick		= lc_tick,
	.queued		= lc_queued,
};
CZ_USER_POLICY(lc_policy);
