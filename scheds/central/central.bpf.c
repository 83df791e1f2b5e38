/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_central: one CPU makes every dispatch decision.
 *
 * Policy
 * - Runnable tasks wait in one vtime-ordered queue: weighted fairness, a
 *   task is charged runtime * 100 / weight, and a sleeper's credit is capped
 *   at one slice. Every enqueue kicks the central CPU (--central-cpu).
 * - The central CPU walks that queue in vtime order and hands each task to
 *   a worker CPU that asked for work, preferring the CPU it last ran on,
 *   then kicks the worker. Workers run what they are given with an infinite
 *   slice, so that under nohz_full they can run without a tick.
 * - A BPF timer on the central CPU preempts workers that have run longer
 *   than the slice (--slice-us) while other tasks wait.
 * - A waking task that is owed CPU time (its vtime trails the system's by
 *   more than a quarter slice) is not made to wait for a slice to expire:
 *   the central CPU places it on the CPU of a task that has run for at
 *   least an eighth of a slice and is furthest ahead in vtime, preempting
 *   it at once. Short-running tasks are never preempted this way, so
 *   message-passing loads keep their batching.
 * - The central CPU is kicked only when a decision is possible: a worker
 *   asked for work, or a waking task is owed CPU time.
 * - With nothing left to place, the central CPU runs the next queued task
 *   itself, with a finite slice; the next enqueue preempts it to decide.
 * - Per-CPU kthreads go straight to the head of their own CPU's local queue:
 *   they can run nowhere else and must never wait behind a hog.
 *
 * Limits: a decision costs an IPI round trip (waker -> central -> worker),
 * and one CPU deciding scales to tens of CPUs, not hundreds. The timer is
 * pinned to the central CPU with BPF_F_TIMER_CPU_PIN (6.7+); where the
 * kernel lacks it the timer runs unpinned, which works but lands on
 * whichever CPU armed it, and the timer_unpinned stat says so.
 */
#include "cz_common.bpf.h"
#include "central.h"

char _license[] SEC("license") = "GPL";

enum {
	NSEC_PER_USEC		= 1000ULL,
	NSEC_PER_MSEC		= 1000 * NSEC_PER_USEC,
	CENTRAL_DSQ		= 0,	/* the one queue every task waits in */
	TIMER_TICKS_PER_SLICE	= 4,	/* slice expiry is enforced to 1/4 */
	WAKE_GRAN_DIV		= 4,	/* wakeup preemption gap: slice / 4 */
	VICTIM_MIN_RUN_DIV	= 8,	/* preemptible after slice / 8 */
	MAX_PLACE_SCAN		= 64,	/* queued tasks looked at per decision */
	CLOCK_MONOTONIC		= 1,
	EINVAL			= 22,
};

const volatile u32 central_cpu;
const volatile u32 nr_cpus = 1;		/* possible CPUs, set by the loader */
const volatile u64 slice_ns = 20 * NSEC_PER_MSEC;

/* The newest vtime a task started with: the fair "now" of the system. */
static u64 vtime_now;
/* Not static: clang would shrink a two-valued static to one byte, which
 * the kernel's BTF check rejects. */
u64 timer_flags = BPF_F_TIMER_CPU_PIN;

/* What the central CPU knows about each CPU; written by that CPU. */
struct cpu_ctx {
	u64	started_at;	/* start of the current task; 0: none */
	u64	curr_vtime;	/* the current task's vtime at its start */
	u32	curr_weight;
	bool	preemptible;	/* the current task is not a per-CPU kthread */
	u32	hungry;		/* has nothing to run and asked for work */
};

/* Workers with hungry set; lets enqueue skip kicks nobody can act on. */
static s32 nr_hungry;

static struct cpu_ctx cpu_ctxs[CZ_MAX_CPUS];

struct task_ctx {
	bool	woken;		/* queued by a wakeup, not a preemption */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

struct central_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct central_timer);
} central_timer SEC(".maps");

static __always_inline struct cpu_ctx *cpu_ctx(s32 cpu)
{
	if (cpu < 0 || cpu >= CZ_MAX_CPUS)
		return NULL;
	return &cpu_ctxs[cpu];
}

static __always_inline bool is_worker(s32 cpu)
{
	return cpu != central_cpu;
}

static void set_hungry(struct cpu_ctx *c)
{
	if (__sync_val_compare_and_swap(&c->hungry, 0, 1) == 0)
		__sync_fetch_and_add(&nr_hungry, 1);
}

static void clear_hungry(struct cpu_ctx *c)
{
	if (__sync_val_compare_and_swap(&c->hungry, 1, 0) == 1)
		__sync_fetch_and_sub(&nr_hungry, 1);
}

static void kick_central(void)
{
	scx_bpf_kick_cpu(central_cpu, SCX_KICK_PREEMPT);
	cz_stat_inc(ST_CENTRAL_KICK);
}

/* A sleeper may be owed at most one slice of CPU time. */
static u64 credited_vtime(const struct task_struct *p)
{
	u64 floor = vtime_now - slice_ns;

	if (cz_vtime_before(p->scx.dsq_vtime, floor))
		return floor;
	return p->scx.dsq_vtime;
}

/* A waking task that trails the system's vtime: a candidate to preempt. */
static bool owed_cpu(const struct task_struct *p, u64 vtime)
{
	return cz_vtime_before(vtime + slice_ns / WAKE_GRAN_DIV, vtime_now);
}

/* vtime of the task running on @c now, charging what it ran so far. */
static u64 running_vtime(const struct cpu_ctx *c, u64 now)
{
	u32 weight = c->curr_weight ?: 100;

	return c->curr_vtime + (now - c->started_at) * 100 / weight;
}

s32 BPF_STRUCT_OPS(central_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	/* Placement is the central CPU's decision, not the waker's. */
	return prev_cpu;
}

void BPF_STRUCT_OPS(central_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx;
	bool woken = enq_flags & SCX_ENQ_WAKEUP;
	u64 vtime;

	if (cz_is_percpu_kthread(p)) {
		cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns,
			      enq_flags | SCX_ENQ_PREEMPT);
		cz_stat_inc(ST_DIRECT);
		return;
	}

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	if (tctx)
		tctx->woken = woken;

	vtime = credited_vtime(p);
	scx_bpf_dsq_insert_vtime(p, CENTRAL_DSQ, slice_ns, vtime, enq_flags);

	/*
	 * The central CPU putting back its own preempted task is already on
	 * its way to decide; anywhere else, kick it only if it can act.
	 */
	if (!woken && bpf_get_smp_processor_id() == central_cpu)
		return;
	if (nr_hungry > 0 || (woken && owed_cpu(p, vtime)))
		kick_central();
}

/* A worker that asked for work and may run @p; its last CPU first. */
static s32 pick_hungry_cpu(struct task_struct *p)
{
	s32 prev = scx_bpf_task_cpu(p);
	struct cpu_ctx *c = cpu_ctx(prev);
	s32 cpu;

	if (c && c->hungry && is_worker(prev) &&
	    bpf_cpumask_test_cpu(prev, p->cpus_ptr))
		return prev;

	bpf_for(cpu, 0, nr_cpus) {
		c = cpu_ctx(cpu);
		if (c && c->hungry && is_worker(cpu) &&
		    bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			return cpu;
	}
	return -1;
}

/*
 * For a waking task owed CPU time: the worker whose current task is furthest
 * ahead of it in vtime, if by more than the wakeup granularity.
 */
static s32 pick_victim_cpu(struct task_struct *p, u64 now)
{
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u64 best_gap = slice_ns / WAKE_GRAN_DIV;
	s32 cpu, victim = -1;

	if (!tctx || !tctx->woken || !owed_cpu(p, p->scx.dsq_vtime))
		return -1;

	bpf_for(cpu, 0, nr_cpus) {
		struct cpu_ctx *c = cpu_ctx(cpu);
		s64 gap;

		if (!c || !is_worker(cpu) || !c->started_at || !c->preemptible ||
		    now - c->started_at < slice_ns / VICTIM_MIN_RUN_DIV ||
		    !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		gap = running_vtime(c, now) - p->scx.dsq_vtime;
		if (gap > (s64)best_gap) {
			best_gap = gap;
			victim = cpu;
		}
	}
	return victim;
}

/* Move @p from the central queue to @cpu's local queue and wake @cpu. */
static bool place(struct bpf_iter_scx_dsq *it, struct task_struct *p, s32 cpu,
		  bool preempt)
{
	struct cpu_ctx *c = cpu_ctx(cpu);

	if (!c)
		return false;
	/* Workers run tickless; the central CPU's own tasks get a slice. */
	scx_bpf_dsq_move_set_slice(it, is_worker(cpu) ? SCX_SLICE_INF : slice_ns);
	if (!scx_bpf_dsq_move(it, p, SCX_DSQ_LOCAL_ON | cpu, 0)) {
		cz_stat_inc(ST_MOVE_FAILED);
		return false;
	}
	/* Taken: neither asking for work nor preemptible by the next task. */
	clear_hungry(c);
	c->started_at = 0;
	cz_stat_inc(ST_DISPATCH);

	if (is_worker(cpu)) {
		scx_bpf_kick_cpu(cpu, preempt ? SCX_KICK_PREEMPT : 0);
		cz_stat_inc(preempt ? ST_WAKE_PREEMPT : ST_KICK);
	}
	return true;
}

/* The central CPU's decision round. */
static void decide(void)
{
	u64 now = bpf_ktime_get_ns();
	struct task_struct *p;
	u32 scanned = 0;

	bpf_for_each(scx_dsq, p, CENTRAL_DSQ, 0) {
		s32 cpu;

		if (++scanned > MAX_PLACE_SCAN)
			break;

		/* Tasks that may run only here (e.g. the loader) run here. */
		if (p->nr_cpus_allowed == 1 &&
		    bpf_cpumask_test_cpu(central_cpu, p->cpus_ptr)) {
			place(CZ_DSQ_ITER, p, central_cpu, false);
			continue;
		}
		cpu = pick_hungry_cpu(p);
		if (cpu >= 0) {
			place(CZ_DSQ_ITER, p, cpu, false);
			continue;
		}
		cpu = pick_victim_cpu(p, now);
		if (cpu >= 0)
			place(CZ_DSQ_ITER, p, cpu, true);
	}

	cz_stat_set(ST_QUEUED, scx_bpf_dsq_nr_queued(CENTRAL_DSQ));
}

void BPF_STRUCT_OPS(central_dispatch, s32 cpu, struct task_struct *prev)
{
	struct cpu_ctx *c;

	if (cpu == central_cpu) {
		decide();
		return;
	}

	/* A worker ran out of work: ask the central CPU instead of choosing. */
	c = cpu_ctx(cpu);
	if (c)
		set_hungry(c);
	if (scx_bpf_dsq_nr_queued(CENTRAL_DSQ))
		kick_central();
}

void BPF_STRUCT_OPS(central_running, struct task_struct *p)
{
	struct cpu_ctx *c = cpu_ctx(bpf_get_smp_processor_id());

	if (cz_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	if (c) {
		c->curr_vtime = p->scx.dsq_vtime;
		c->curr_weight = p->scx.weight;
		c->preemptible = !cz_is_percpu_kthread(p);
		clear_hungry(c);
		c->started_at = bpf_ktime_get_ns();
	}
	cz_stat_inc(ST_RUNS);
}

void BPF_STRUCT_OPS(central_stopping, struct task_struct *p, bool runnable)
{
	struct cpu_ctx *c = cpu_ctx(bpf_get_smp_processor_id());
	u64 now = bpf_ktime_get_ns();

	if (!c)
		return;
	if (c->started_at && p->scx.weight)
		p->scx.dsq_vtime += (now - c->started_at) * 100 / p->scx.weight;
	c->started_at = 0;
}

void BPF_STRUCT_OPS(central_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = vtime_now;
}

s32 BPF_STRUCT_OPS(central_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&task_ctxs, p, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -12;	/* -ENOMEM */
	return 0;
}

/*
 * Every tick: preempt workers whose slice ran out while tasks wait, and
 * re-kick the central CPU if a worker is hungry and work is queued (a
 * worker may have asked just before it went idle, after a decision round).
 */
static int central_tick(void *map, int *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns();
	s32 queued = scx_bpf_dsq_nr_queued(CENTRAL_DSQ);
	s32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		struct cpu_ctx *c = cpu_ctx(cpu);
		u64 started;

		if (!c || !is_worker(cpu))
			continue;
		started = c->started_at;
		if (queued > 0 && started && c->preemptible &&
		    now - started >= slice_ns) {
			scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
			cz_stat_inc(ST_TIMER_PREEMPT);
		}
	}
	if (queued > 0 && nr_hungry > 0)
		kick_central();
	cz_stat_set(ST_QUEUED, queued);

	bpf_timer_start(timer, slice_ns / TIMER_TICKS_PER_SLICE, timer_flags);
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(central_init)
{
	u32 zero = 0;
	struct bpf_timer *timer;
	s32 ret;

	ret = scx_bpf_create_dsq(CENTRAL_DSQ, -1);
	if (ret)
		return ret;

	timer = bpf_map_lookup_elem(&central_timer, &zero);
	if (!timer)
		return -22;
	bpf_timer_init(timer, &central_timer, CLOCK_MONOTONIC);
	bpf_timer_set_callback(timer, central_tick);

	/* The loader runs on the central CPU, so this pins the timer there. */
	ret = bpf_timer_start(timer, slice_ns / TIMER_TICKS_PER_SLICE, timer_flags);
	if (ret == -EINVAL) {
		timer_flags = 0;
		cz_stat_set(ST_TIMER_UNPINNED, 1);
		ret = bpf_timer_start(timer, slice_ns / TIMER_TICKS_PER_SLICE, 0);
	}
	return ret;
}

void BPF_STRUCT_OPS(central_exit, struct scx_exit_info *ei)
{
	cz_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops central_ops = {
	.select_cpu	= (void *)central_select_cpu,
	.enqueue	= (void *)central_enqueue,
	.dispatch	= (void *)central_dispatch,
	.running	= (void *)central_running,
	.stopping	= (void *)central_stopping,
	.enable		= (void *)central_enable,
	.init_task	= (void *)central_init_task,
	.init		= (void *)central_init,
	.exit		= (void *)central_exit,
	.name		= "central",
};
