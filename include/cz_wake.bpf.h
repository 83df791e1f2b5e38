/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wake-up preemption with a granularity, for the vtime schedulers: what
 * the fair class does for a sleeper that wakes while every CPU is busy.
 *
 * A waking task that found no idle CPU preempts, of the CPUs it may run
 * on, the one whose task is furthest ahead of it in vtime, but only if by
 * more than CZ_WAKE_GRAN_NS (the fair class's base wakeup granularity).
 * Without the granularity every wakeup in a wake-heavy load (pipes,
 * hackbench) preempts a partner that is ahead by a few microseconds, and
 * the load spends its time switching; with it, only a task owed real CPU
 * time (a sleeper credited up to a slice, next to hogs) preempts. Nor does a synchronous wakeup preempt (the waker, a
 * pipe's or socket's writer, is about to sleep and leave its CPU): that
 * is what a wake-heavy load such as hackbench does all the time, and its
 * sleepers are owed as much as a timer's.
 *
 * A running task's vtime is the one it started with (or was last charged
 * at, cz_wake_running() again), not that plus the time since: in a VM,
 * a vCPU the host has descheduled seems to run its task for as long as
 * it is away, so the estimate would pick the one CPU that cannot take
 * the kick now, and the woken task would wait for it or a slice's end.
 *
 * A scheduler includes this after cz_cpu.bpf.h, calls cz_wake_select()
 * from ops.select_cpu, cz_wake_running() from ops.running (saying whether
 * the task may be preempted this way: a scheduler's own latency-critical
 * tasks may not), cz_wake_stopping() from ops.stopping, and
 * cz_wake_preempt() after queueing a waking task.
 * CPUs are the scheduler's (cids in the cid form), as cz_kick() takes them.
 */
#ifndef __CZ_WAKE_BPF_H
#define __CZ_WAKE_BPF_H

#define CZ_WAKE_GRAN_NS	(1000 * 1000ULL)

struct cz_wake_cpu {
	bool	running;	/* a task runs there */
	bool	preemptible;	/* and a waking task may preempt it */
	u64	vtime;		/* its vtime when it started or was charged */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CZ_MAX_CPUS);
	__type(key, u32);
	__type(value, struct cz_wake_cpu);
} cz_wake_cpus SEC(".maps");

/* Whether a task's wakeup under way is synchronous (select_cpu to enqueue). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, u8);
} cz_wake_sync SEC(".maps");

static __always_inline void cz_wake_select(struct task_struct *p, u64 wake_flags)
{
	u8 *sync = bpf_task_storage_get(&cz_wake_sync, p, 0,
					BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (sync)
		*sync = !!(wake_flags & SCX_WAKE_SYNC);
}

static __always_inline struct cz_wake_cpu *cz_wake_cpu(s32 cpu)
{
	u32 key = cpu;

	return bpf_map_lookup_elem(&cz_wake_cpus, &key);
}

/*
 * @p starts on @cpu (ops.running may run elsewhere: the caller knows), or
 * was charged there while it keeps running.
 */
static __always_inline void cz_wake_running(const struct task_struct *p,
					    s32 cpu, bool preemptible)
{
	struct cz_wake_cpu *w = cz_wake_cpu(cpu);

	if (!w)
		return;
	w->running = true;
	w->preemptible = preemptible;
	w->vtime = p->scx.dsq_vtime;
}

static __always_inline void cz_wake_stopping(s32 cpu)
{
	struct cz_wake_cpu *w = cz_wake_cpu(cpu);

	if (w)
		w->running = false;
}

/*
 * @p, queued with @vtime after a wakeup that found no idle CPU, of @nr
 * CPUs: kick the CPU whose task is furthest ahead of it by more than the
 * granularity. The victim's dispatch then finds @p owed more. The victim,
 * or -1.
 */
static __always_inline s32 cz_wake_preempt(struct task_struct *p, u64 vtime,
					   u32 nr)
{
	u8 *sync = bpf_task_storage_get(&cz_wake_sync, p, 0, 0);
	u64 ahead = vtime + CZ_WAKE_GRAN_NS;
	s32 cpu, victim = -1;

	/*
	 * Cleared once read, so that a later wakeup that skips select_cpu (a
	 * task allowed one CPU) does not inherit it. One whose enqueue never
	 * got here (it found an idle CPU) leaves it set: such a task's next
	 * select-less wakeup then forgoes one preemption.
	 */
	if (sync && *sync) {
		*sync = 0;
		return -1;
	}

	bpf_for(cpu, 0, nr) {
		struct cz_wake_cpu *w = cz_wake_cpu(cpu);

		if (!w || !w->running || !w->preemptible || !cz_may_run(p, cpu))
			continue;
		if (cz_vtime_before(ahead, w->vtime)) {
			ahead = w->vtime;
			victim = cpu;
		}
	}
	if (victim >= 0)
		cz_kick(victim, SCX_KICK_PREEMPT);
	return victim;
}

#endif /* __CZ_WAKE_BPF_H */
