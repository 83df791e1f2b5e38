/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_central: one CPU makes every dispatch decision.
 *
 * Policy
 * - Runnable tasks wait in one vtime-ordered queue: weighted fairness, a
 *   task is charged runtime * 100 / weight, and a sleeper's credit is capped
 *   at one slice.
 * - The central CPU (--central-cpu) walks that queue in vtime order and
 *   hands each task to a worker CPU that asked for work, preferring the CPU
 *   it last ran on. Workers run what they are given with an infinite slice,
 *   so that under nohz_full they can run without a tick.
 * - A worker asks when it has nothing to run, and also when it starts the
 *   last task of its local queue while tasks wait: the central CPU then
 *   queues the next task behind the running one without waking the worker,
 *   which runs it as soon as its current task sleeps. The round trip to the
 *   central CPU overlaps useful work instead of idling the worker. Idle
 *   workers are served before workers that asked ahead.
 * - A BPF timer on the central CPU preempts workers that have run longer
 *   than the slice (--slice-us, tunable live) while tasks wait, centrally or behind them.
 * - A waking task that is owed CPU time (its vtime trails the system's by
 *   more than a quarter slice) and finds no idle worker is not made to wait
 *   for a slice to expire: the central CPU puts it at the head of the CPU
 *   running the longest CPU burst, preempting that task at once, if it is a
 *   hog (it ran an eighth of a slice without sleeping). Not while more tasks
 *   wait than there are workers: every task waits then, and reordering them
 *   would only add context switches and IPI round trips.
 * - Per-CPU kthreads go straight to the head of their own CPU's local queue:
 *   they can run nowhere else and must never wait behind a hog. Other tasks
 *   that may run only on the central CPU run there, with a finite slice; the
 *   central CPU runs nothing else.
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
	CENTRAL_DSQ		= 0,	/* the one queue every task waits in */
	HUNGRY_NONE		= 0,
	HUNGRY_NEXT		= 1,	/* running, nothing queued behind it */
	HUNGRY_IDLE		= 2,	/* nothing to run at all */
	TIMER_TICKS_PER_SLICE	= 4,	/* slice expiry is enforced to 1/4 */
	WAKE_GRAN_DIV		= 4,	/* owed CPU: trails by slice / 4 */
	VICTIM_MIN_RUN_DIV	= 8,	/* a hog: ran slice / 8 without sleeping */
	MAX_PLACE_SCAN		= 64,	/* queued tasks looked at per decision */
};

const volatile u32 central_cpu;
const volatile u32 nr_cpus = 1;		/* possible CPUs, set by the loader */

/* The slice is a live tunable (czctl set slice_us=N): read at each use. */
static __always_inline u64 slice_ns(void)
{
	return cz_tunable(TUN_SLICE_US) * NSEC_PER_USEC;
}

/* The newest vtime a task started with: the fair "now" of the system. */
static u64 vtime_now;
/* Not static: clang would shrink a two-valued static to one byte, which
 * the kernel's BTF check rejects. */
u64 timer_flags = BPF_F_TIMER_CPU_PIN;

/* What the central CPU knows about each CPU; written by that CPU. */
struct cpu_ctx {
	u64	started_at;	/* start of the current task; 0: none */
	u64	curr_burst;	/* its CPU time since it last woke, at its start */
	bool	preemptible;	/* the current task is not a per-CPU kthread */
	bool	claimed;	/* a waking task is on its way to preempt it */
	u32	hungry;		/* HUNGRY_*: asked the central CPU for work */
};

/* Workers with hungry set; lets enqueue skip kicks nobody can act on. */
static s32 nr_hungry;

static struct cpu_ctx cpu_ctxs[CZ_MAX_CPUS];

struct task_ctx {
	u64	burst;		/* CPU time since it last woke */
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

/* Only the CPU itself sets or raises its hunger; the central CPU clears it. */
static void set_hungry(struct cpu_ctx *c, u32 level)
{
	u32 old = __sync_lock_test_and_set(&c->hungry, level);

	if (old == HUNGRY_NONE)
		__sync_fetch_and_add(&nr_hungry, 1);
}

static void clear_hungry(struct cpu_ctx *c)
{
	u32 old = __sync_lock_test_and_set(&c->hungry, HUNGRY_NONE);

	if (old != HUNGRY_NONE)
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
	return cz_credited_vtime(p, vtime_now, slice_ns());
}

/* A waking task that trails the system's vtime: a candidate to preempt. */
static bool owed_cpu(const struct task_struct *p, u64 vtime)
{
	return cz_vtime_before(vtime + slice_ns() / WAKE_GRAN_DIV, vtime_now);
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
		cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(),
			      enq_flags | SCX_ENQ_PREEMPT);
		cz_stat_inc(ST_DIRECT);
		return;
	}
	/*
	 * The loader is pinned to the central CPU: queued centrally, it would
	 * wait behind every task in vtime order (decide() looks at the first
	 * MAX_PLACE_SCAN), which under overload took its stats replies to
	 * hundreds of ms.
	 */
	if (cz_loader_wakeup(p, enq_flags, slice_ns(), true)) {
		cz_stat_inc(ST_DIRECT);
		return;
	}

	tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	if (tctx) {
		tctx->woken = woken;
		if (woken)
			tctx->burst = 0;
	}

	vtime = credited_vtime(p);
	cz_dsq_insert_vtime(p, CENTRAL_DSQ, slice_ns(), vtime, enq_flags);

	/*
	 * The central CPU putting back its own preempted task is already on
	 * its way to decide; anywhere else, kick it only if it can act.
	 */
	if (!woken && bpf_get_smp_processor_id() == central_cpu)
		return;
	if (nr_hungry > 0 || (woken && owed_cpu(p, vtime)))
		kick_central();
}

static __noinline bool hungry_for(s32 cpu, struct task_struct *p, u32 level)
{
	struct cpu_ctx *c = cpu_ctx(cpu);

	return c && c->hungry == level && is_worker(cpu) &&
	       bpf_cpumask_test_cpu(cpu, p->cpus_ptr);
}

/* A worker that asked for work at @level and may run @p; its last CPU first. */
static s32 pick_hungry_cpu(struct task_struct *p, u32 level)
{
	s32 prev = scx_bpf_task_cpu(p);
	s32 cpu;

	/* The common case under load: nobody asked. */
	if (!nr_hungry)
		return -1;
	if (hungry_for(prev, p, level))
		return prev;
	bpf_for(cpu, 0, nr_cpus) {
		if (hungry_for(cpu, p, level))
			return cpu;
	}
	return -1;
}

/* Too many tasks wait for reordering them to be worth a preemption. */
static bool overloaded(void)
{
	return scx_bpf_dsq_nr_queued(CENTRAL_DSQ) > nr_cpus - 1;
}

/* CPU time the task running on @c has used since it last woke. */
static u64 running_burst(const struct cpu_ctx *c, u64 now)
{
	return c->curr_burst + (now - c->started_at);
}

/*
 * For a waking task owed CPU time: the worker running the longest CPU burst,
 * if that task is a hog (it has run slice / VICTIM_MIN_RUN_DIV without
 * sleeping). How long it has run since it was last placed does not matter:
 * a hog put back on a CPU a moment ago is still a hog.
 */
static s32 pick_victim_cpu(struct task_struct *p, u64 now)
{
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u64 best = slice_ns() / VICTIM_MIN_RUN_DIV;
	s32 cpu, victim = -1;

	if (!tctx || !tctx->woken || !owed_cpu(p, p->scx.dsq_vtime) ||
	    overloaded())
		return -1;

	bpf_for(cpu, 0, nr_cpus) {
		struct cpu_ctx *c = cpu_ctx(cpu);
		u64 burst;

		if (!c || !is_worker(cpu) || !c->started_at || !c->preemptible ||
		    c->claimed || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		burst = running_burst(c, now);
		if (burst >= best) {
			best = burst;
			victim = cpu;
		}
	}
	return victim;
}

/*
 * Move @p from the central queue to @cpu's local queue and make sure @cpu
 * gets to it: preempting its current task, waking it if it is idle, or, if
 * it asked for a next task, not at all (it runs @p when its current task
 * stops).
 */
static bool place(struct bpf_iter_scx_dsq *it, struct task_struct *p, s32 cpu,
		  bool preempt)
{
	struct cpu_ctx *c = cpu_ctx(cpu);
	u32 hungry;

	if (!c)
		return false;
	hungry = c->hungry;
	/* Workers run tickless; the central CPU's own tasks get a slice. */
	scx_bpf_dsq_move_set_slice(it, is_worker(cpu) ? SCX_SLICE_INF : slice_ns());
	if (!scx_bpf_dsq_move(it, p, SCX_DSQ_LOCAL_ON | cpu,
			      preempt ? SCX_ENQ_HEAD : 0)) {
		cz_stat_inc(ST_MOVE_FAILED);
		return false;
	}
	clear_hungry(c);
	cz_stat_inc(ST_DISPATCH);
	if (!is_worker(cpu))
		return true;

	if (preempt) {
		/* Not preemptible again by the next waking task. */
		c->claimed = true;
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
		cz_stat_inc(ST_WAKE_PREEMPT);
	} else if (hungry == HUNGRY_IDLE) {
		scx_bpf_kick_cpu(cpu, 0);
		cz_stat_inc(ST_KICK);
	} else {
		/* Asked ahead; kick only if it went idle meanwhile. */
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		cz_stat_inc(ST_QUEUED_NEXT);
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
		cpu = pick_hungry_cpu(p, HUNGRY_IDLE);
		if (cpu >= 0) {
			place(CZ_DSQ_ITER, p, cpu, false);
			continue;
		}
		cpu = pick_victim_cpu(p, now);
		if (cpu >= 0) {
			place(CZ_DSQ_ITER, p, cpu, true);
			continue;
		}
		cpu = pick_hungry_cpu(p, HUNGRY_NEXT);
		if (cpu >= 0)
			place(CZ_DSQ_ITER, p, cpu, false);
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
		set_hungry(c, HUNGRY_IDLE);
	if (scx_bpf_dsq_nr_queued(CENTRAL_DSQ))
		kick_central();
}

/*
 * A worker that starts its last local task asks for the next one now, so
 * that the central CPU's answer arrives while it runs, not after it stops.
 * Not behind a hog: the next task would wait for the slice timer while
 * another worker may well free up first.
 */
static void ask_ahead(s32 cpu, struct cpu_ctx *c)
{
	if (!is_worker(cpu) || c->curr_burst >= slice_ns() / VICTIM_MIN_RUN_DIV ||
	    scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL) ||
	    !scx_bpf_dsq_nr_queued(CENTRAL_DSQ))
		return;
	set_hungry(c, HUNGRY_NEXT);
	scx_bpf_kick_cpu(central_cpu, 0);
	cz_stat_inc(ST_CENTRAL_KICK);
}

void BPF_STRUCT_OPS(central_running, struct task_struct *p)
{
	s32 cpu = bpf_get_smp_processor_id();
	struct cpu_ctx *c = cpu_ctx(cpu);
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);

	if (cz_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	if (c) {
		c->curr_burst = tctx ? tctx->burst : 0;
		c->preemptible = !cz_is_percpu_kthread(p);
		c->claimed = false;
		clear_hungry(c);
		c->started_at = bpf_ktime_get_ns();
		ask_ahead(cpu, c);
	}
	cz_stat_inc(ST_RUNS);
}

void BPF_STRUCT_OPS(central_stopping, struct task_struct *p, bool runnable)
{
	struct cpu_ctx *c = cpu_ctx(bpf_get_smp_processor_id());
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u64 now = bpf_ktime_get_ns();
	u64 ran;

	if (!c || !c->started_at)
		return;
	ran = now - c->started_at;
	if (p->scx.weight)
		p->scx.dsq_vtime += ran * 100 / p->scx.weight;
	if (tctx)
		tctx->burst += ran;
	c->started_at = 0;
}

void BPF_STRUCT_OPS(central_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = vtime_now;
}

s32 BPF_STRUCT_OPS(central_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	if (!cz_task_ctx_create(&task_ctxs, p))
		return -ENOMEM;
	return 0;
}

/*
 * Every tick: preempt workers whose slice ran out while tasks wait, and
 * re-kick the central CPU if a worker is hungry and work is queued (a
 * worker may have asked just before it went idle, after a decision round).
 */
static int central_tick(void *map, int *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns(), slice = slice_ns();
	s32 queued = scx_bpf_dsq_nr_queued(CENTRAL_DSQ);
	s32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		struct cpu_ctx *c = cpu_ctx(cpu);
		u64 started;

		if (!c || !is_worker(cpu))
			continue;
		started = c->started_at;
		if (started && c->preemptible && now - started >= slice &&
		    (queued > 0 ||
		     scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL_ON | cpu) > 0)) {
			scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
			cz_stat_inc(ST_TIMER_PREEMPT);
		}
	}
	if (queued > 0 && nr_hungry > 0)
		kick_central();
	cz_stat_set(ST_QUEUED, queued);

	bpf_timer_start(timer, slice / TIMER_TICKS_PER_SLICE, timer_flags);
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
		return -EINVAL;
	bpf_timer_init(timer, &central_timer, CLOCK_MONOTONIC);
	bpf_timer_set_callback(timer, central_tick);

	/* The loader runs on the central CPU, so this pins the timer there. */
	ret = bpf_timer_start(timer, slice_ns() / TIMER_TICKS_PER_SLICE, timer_flags);
	if (ret == -EINVAL) {
		timer_flags = 0;
		cz_stat_set(ST_TIMER_UNPINNED, 1);
		ret = bpf_timer_start(timer, slice_ns() / TIMER_TICKS_PER_SLICE, 0);
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
