/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy "vtime" (the default): weighted fairness by virtual time, the
 * baseline every other policy is measured against.
 *
 * A task is charged the CPU time it ran, scaled by 100 / weight, so a
 * nice -5 task (weight ~335) advances about 3.4 times slower than a nice
 * 0 one. Its decision's key is its virtual time, so the BPF side runs
 * the one that had least first. A task that slept is placed one slice
 * before the least-served task running or waiting (cz_user_vclock):
 * waking up earns a prompt turn, not a burst that starves everyone else.
 * Nothing is held back: every task is decided as soon as it is runnable.
 */
#include "policy.h"

static struct cz_user_heap queue;
static struct cz_user_vclock clock;

static void vtime_enqueue(const struct cz_user_task *t)
{
	/* Out of memory: not queued; the BPF side's fallback runs it. */
	cz_user_heap_push(&queue, cz_user_vclock_enqueue(&clock, t), t);
}

static bool vtime_dispatch(struct cz_user_run *run)
{
	struct cz_user_heap_item it;

	if (!cz_user_heap_pop(&queue, &it))
		return false;
	cz_user_vclock_decided(&clock, &it.task, it.key);
	*run = (struct cz_user_run){ .pid = it.task.pid, .seq = it.task.seq,
				     .key = it.key };
	return true;
}

static void vtime_exited(s32 pid)
{
	cz_user_vclock_exited(&clock, pid);
}

static u64 vtime_queued(void)
{
	return queue.n;
}

static const struct cz_user_policy vtime_policy = {
	.name		= "vtime",
	.doc		= "weighted fairness by virtual time (default)",
	.enqueue	= vtime_enqueue,
	.dispatch	= vtime_dispatch,
	.exited		= vtime_exited,
	.queued		= vtime_queued,
};
CZ_USER_POLICY(vtime_policy);
