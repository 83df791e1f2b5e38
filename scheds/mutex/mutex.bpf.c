/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_mutex: latency-critical (LC) and best-effort (BE) work never run at
 * the same time on the two SMT siblings of one physical core.
 *
 * Policy
 * - A task is LC if a task-set rule puts it in set "lc" (--lc-pid,
 *   --lc-comm, --lc-cgroup, or at run time `czctl add lc-pid=PID`). The
 *   rules are looked up at every enqueue, so a change applies from a
 *   task's next wakeup or slice end. Every other user task is BE. Kernel
 *   threads and this loader's own threads are neither: per-CPU ones go
 *   straight to their CPU, a woken loader thread to the head of its CPU,
 *   the others run first from a queue of their own; none waits for a
 *   sibling.
 * - LC and BE tasks wait in two vtime-ordered queues: weighted fairness
 *   inside each class, a sleeper's credit capped at one slice. A CPU runs
 *   LC work before BE work.
 * - The two siblings (lanes) of a core agree through a per-core record
 *   under a spin lock. A lane claims a class in ops.dispatch before it
 *   takes a task; ops.running and ops.stopping record what really runs. A
 *   lane holds a class while it has claimed it or runs it.
 * - BE is claimed only while the sibling holds no LC and waits for none:
 *   BE borrows the lane of an LC task that sleeps, and no lane is left
 *   idle while there is work it may run.
 * - An LC claim next to a sibling holding BE kicks the sibling (preempt).
 *   Default mode: the LC task starts at once and the BE task stops when
 *   the kick lands, a co-run window of about one IPI. --strict: the lane
 *   waits idle until the sibling's BE task has stopped, which kicks it
 *   back; LC and BE never overlap. The handshake needs no SCX_KICK_WAIT,
 *   whose mutual-wait deadlock was fixed only in 6.19/7.0.
 * - A BE task that starts while its sibling holds or waits for LC (a race
 *   lost to the other lane, or a task the kernel restarts after a property
 *   change without asking ops.dispatch) preempts itself at once; so does,
 *   with --strict, an LC task that starts next to BE.
 * - A waking LC task that finds no idle CPU preempts a CPU running BE; a
 *   waking BE task one running a BE task ahead of it in vtime by over 1
 *   ms, unless the wakeup is synchronous (cz_wake.bpf.h): a timer-woken
 *   sleeper does not wait a hog's slice out.
 * - Starvation guard: when the BE queue's head has waited be_max_wait_ms,
 *   BE is claimed with LC's authority, ahead of LC work, so that LC work
 *   saturating every core cannot starve BE into the kernel's watchdog.
 * - SCX_OPS_ENQ_LAST: a BE task whose slice ends is put back and checked
 *   again, never silently continued next to a sibling's new LC task.
 * - --strict releases a lane's class only once it has switched away from
 *   the task (a sched_switch program in this object), not at ops.stopping,
 *   which comes a little earlier; and a waking LC task that preempts a BE
 *   CPU kicks that CPU's BE sibling at the same time.
 * - ops.cpu_release: when a higher sched class takes a CPU, the tasks left
 *   in its local queue go back through ops.enqueue; otherwise the kernel
 *   would restart them later without asking ops.dispatch, past the claims.
 * - A 10 ms timer kicks lanes that have been parked for 20 ms to look
 *   again: a safety net, so that a lost wake-up would cost milliseconds,
 *   never a watchdog ejection.
 *
 * Statistics include the scheduler's own account of co-run time (corun_ns,
 * from ops.running/ops.stopping); tools/corun measures the same from
 * sched_switch, independently of this code.
 *
 * Limits: cores of at most two lanes (the loader refuses more). Without
 * SMT every core has one lane and the policy is plain LC-first. Work the
 * kernel does for a BE task (softirqs, unbound kernel threads) is not
 * held back.
 */
#include "cz_common.bpf.h"
#include "cz_taskset.bpf.h"
#include "cz_wake.bpf.h"
#include "mutex.h"

char _license[] SEC("license") = "GPL";

enum {
	LC_DSQ		= 0,
	BE_DSQ		= 1,
	SYS_DSQ		= 2,	/* kernel threads that may run on several CPUs */
	NR_CLASSES	= 3,
	RESCUE_PERIOD_NS = 10 * NSEC_PER_MSEC,	/* the parked-lane check */
	RESCUE_AFTER_NS	= 20 * NSEC_PER_MSEC,	/* parked this long: look again */
};

/* What a claim tells the dispatching lane. */
enum claim {
	CLAIM_RUN,		/* take a task of the class */
	CLAIM_RUN_KICK,		/* take it, and kick the sibling off its BE */
	CLAIM_WAIT_KICK,	/* --strict: kick the sibling, run nothing yet */
	CLAIM_DENIED,		/* the sibling holds or waits for the rival */
};

const volatile bool strict;
const volatile bool smt;
const volatile u32 nr_cpus = 1;
const volatile u32 cpu_core[MUTEX_MAX_CPUS];	/* or MUTEX_NO_CORE */
const volatile u32 cpu_lane[MUTEX_MAX_CPUS];
const volatile s32 core_cpu[MUTEX_MAX_CPUS][2];	/* a lane's CPU, or -1 */
const volatile u32 nr_cores = 1;

/*
 * Set by the sched_switch program the first time it runs: until then (it
 * is attached after the scheduler) no lane may wait for a switch.
 */
static bool switch_seen;

/*
 * One physical core, lanes 0 and 1 its SMT siblings (a core without a
 * sibling uses lane 0 only). Every field is read and written under @lock.
 */
struct mutex_core {
	struct bpf_spin_lock	lock;
	u8	resv[2];	/* class a lane's last dispatch granted it */
	u8	run[2];		/* class of the task running on a lane */
	u8	wait[2];	/* --strict: class a lane waits to run */
	u8	parked[2];	/* a lane that found nothing it may run */
	u8	last[2];	/* class a lane ran last (for borrowing) */
	u8	draining[2];	/* --strict: class stopped, not yet switched out */
	u64	parked_at[2];	/* when a lane parked */
	u64	since[2];	/* when run[] last changed, by lane */
	u64	kicked_at[2];	/* when a lane was kicked to stop BE */
	u64	corun_since;	/* LC on one lane and BE on the other since */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MUTEX_MAX_CPUS);
	__type(key, u32);
	__type(value, struct mutex_core);
} cores SEC(".maps");

struct task_ctx {
	u32	cls;		/* class decided at its last enqueue */
	u32	run_cls;	/* class it runs as, from ops.running */
	bool	woke_idle;	/* ops.select_cpu found it an idle CPU */
	u64	queued_at;
	u64	started_at;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

/* The newest vtime a task of each class started with. */
static u64 vtime_now[NR_CLASSES];
static s64 nr_running[NR_CLASSES];
static u64 kick_stop_max;

/* ---- classes ---- */

static u32 task_class(struct task_struct *p)
{
	if ((p->flags & CZ_PF_KTHREAD) || cz_is_loader(p))
		return CLS_NONE;
	return (cz_ts_match(p) & MUTEX_SET_LC) ? CLS_LC : CLS_BE;
}

static __always_inline u32 rival(u32 cls)
{
	return cls == CLS_LC ? CLS_BE : CLS_LC;
}

static __always_inline u64 dsq_of(u32 cls)
{
	return cls == CLS_LC ? LC_DSQ : BE_DSQ;
}

/* Slices are live tunables: read at each use. */
static __always_inline u64 slice_of(u32 cls)
{
	return NSEC_PER_USEC * (cls == CLS_LC ? cz_tunable(TUN_LC_SLICE_US) :
						cz_tunable(TUN_BE_SLICE_US));
}

static struct task_ctx *task_ctx(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

/* ---- the per-core record ---- */

/* Not inlined: the bound check stays next to the loads it guards. */
static __noinline struct mutex_core *core_of(s32 cpu, u32 *core, u32 *lane)
{
	u32 idx = cpu;

	if (idx >= MUTEX_MAX_CPUS)
		return NULL;
	*core = cpu_core[idx];
	*lane = cpu_lane[idx] & 1;
	if (*core >= MUTEX_MAX_CPUS)
		return NULL;
	return bpf_map_lookup_elem(&cores, core);
}

static s32 lane_cpu(u32 core, u32 lane)
{
	if (core >= MUTEX_MAX_CPUS)
		return -1;
	return core_cpu[core][lane & 1];
}

/* Under the core's lock from here to the lock-free part below. */

static __always_inline bool holds(struct mutex_core *c, u32 l, u32 cls)
{
	return c->resv[l & 1] == cls || c->run[l & 1] == cls ||
	       c->draining[l & 1] == cls;
}

/* The classes lane @l holds, as a mask, to see what a change released. */
static __always_inline u32 held(struct mutex_core *c, u32 l)
{
	return (holds(c, l, CLS_LC) ? 1 : 0) | (holds(c, l, CLS_BE) ? 2 : 0);
}

static __always_inline bool corunning(struct mutex_core *c)
{
	return (c->run[0] == CLS_LC && c->run[1] == CLS_BE) ||
	       (c->run[0] == CLS_BE && c->run[1] == CLS_LC);
}

/*
 * Lane @l released a class it held (@before, from held()): a sibling that
 * found nothing it may run gets another look. True: kick the sibling.
 */
static __always_inline bool unpark_sibling(struct mutex_core *c, u32 l,
					   u32 before)
{
	u32 o = (l ^ 1) & 1;

	if (!(before & ~held(c, l)) || !c->parked[o])
		return false;
	c->parked[o] = 0;
	return true;
}

/*
 * Lane @l wants to run @cls. @authority: LC, or BE past its wait budget,
 * which may push the sibling's rival class off the core; plain BE only
 * borrows. Sets *@wake when the sibling should look again.
 */
static __always_inline enum claim claim(struct mutex_core *c, u32 l, u32 cls,
					bool authority, u64 now, bool *wake)
{
	u32 o = (l ^ 1) & 1, riv = rival(cls), before;
	enum claim ret;

	l &= 1;
	before = held(c, l);
	c->wait[l] = CLS_NONE;
	c->parked[l] = 0;
	if (c->wait[o] == riv || (holds(c, o, riv) && !authority)) {
		c->resv[l] = CLS_NONE;
		c->parked[l] = 1;
		c->parked_at[l] = now;
		ret = CLAIM_DENIED;
	} else if (!holds(c, o, riv)) {
		c->resv[l] = cls;
		ret = CLAIM_RUN;
	} else if (!strict) {
		c->resv[l] = cls;
		c->kicked_at[o] = now;
		ret = CLAIM_RUN_KICK;
	} else {
		c->resv[l] = CLS_NONE;
		c->wait[l] = cls;
		c->parked[l] = 1;
		c->parked_at[l] = now;
		c->kicked_at[o] = now;
		ret = CLAIM_WAIT_KICK;
	}
	*wake = unpark_sibling(c, l, before);
	return ret;
}

/* ---- lock-free wrappers: take the lock, act on the outcome ---- */

static void kick_lane(u32 core, u32 lane, u64 flags)
{
	s32 cpu = lane_cpu(core, lane);

	if (cpu >= 0)
		cz_kick(cz_cid_of(cpu), flags);
}

/* Lane of @cpu claims nothing (a kernel thread, or no work). */
static void release(s32 cpu)
{
	struct mutex_core *c;
	u32 core, l, before;
	bool wake;

	c = core_of(cpu, &core, &l);
	if (!c)
		return;
	bpf_spin_lock(&c->lock);
	before = held(c, l);
	c->resv[l & 1] = CLS_NONE;
	c->wait[l & 1] = CLS_NONE;
	wake = unpark_sibling(c, l, before);
	bpf_spin_unlock(&c->lock);
	if (wake)
		kick_lane(core, l ^ 1, 0);
}

/*
 * The class @prev runs as if it may go on running, else CLS_NONE. A task
 * whose rules changed while it ran (czctl add/del) may not: a fresh slice
 * would keep it in its old class for as long as it spins, so it goes back
 * through ops.enqueue (SCX_ENQ_LAST) and its new class's queue.
 */
static u32 prev_class(struct task_struct *prev)
{
	struct task_ctx *t;

	if (!prev || !(prev->scx.flags & SCX_TASK_QUEUED))
		return CLS_NONE;
	t = task_ctx(prev);
	if (!t || t->run_cls != task_class(prev))
		return CLS_NONE;
	return t->run_cls;
}

/*
 * Claim @cls for @cpu and take its queue's head, or keep @prev running if
 * it is of that class and the queue is empty. True when the lane has its
 * answer (a task, or a --strict wait); false: try another class.
 */
static bool try_class(s32 cpu, struct task_struct *prev, u32 prev_cls,
		      u32 cls, bool authority)
{
	struct mutex_core *c;
	u32 core, l;
	enum claim ret = CLAIM_RUN;
	bool wake = false;
	u64 now = bpf_ktime_get_ns();

	c = core_of(cpu, &core, &l);
	if (c) {
		bpf_spin_lock(&c->lock);
		ret = claim(c, l, cls, authority, now, &wake);
		bpf_spin_unlock(&c->lock);
	}
	if (wake)
		kick_lane(core, l ^ 1, 0);

	switch (ret) {
	case CLAIM_DENIED:
		if (cls == CLS_BE)
			cz_stat_inc(ST_BE_HELD);
		return false;
	case CLAIM_WAIT_KICK:
		kick_lane(core, l ^ 1, SCX_KICK_PREEMPT);
		cz_stat_inc(ST_SIBLING_KICK);
		if (cls == CLS_LC)
			cz_stat_inc(ST_LC_WAIT);
		return true;
	case CLAIM_RUN_KICK:
		kick_lane(core, l ^ 1, SCX_KICK_PREEMPT);
		cz_stat_inc(ST_SIBLING_KICK);
		break;
	default:
		break;
	}
	if (cz_dsq_move_to_local(dsq_of(cls))) {
		if (authority && cls == CLS_BE)
			cz_stat_inc(ST_BE_FORCED);
		return true;
	}
	/* Nobody else of the class waits: a fresh slice keeps @prev on. */
	if (prev_cls == cls) {
		cz_set_slice(prev, slice_of(cls));
		return true;
	}
	release(cpu);
	return false;
}

/* The BE queue's head has waited longer than the budget. */
static bool be_starved(u64 now)
{
	u64 budget = cz_tunable(TUN_BE_MAX_WAIT_MS) * NSEC_PER_MSEC;
	struct task_struct *p;
	bool starved = false;

	bpf_for_each(scx_dsq, p, BE_DSQ, 0) {
		struct task_ctx *t = task_ctx(p);

		starved = t && now - t->queued_at > budget;
		break;
	}
	return starved;
}

void BPF_STRUCT_OPS(mutex_dispatch, s32 cid, struct task_struct *prev)
{
	s32 cpu = cz_real_cpu(cid);	/* the cores' records are by real CPU */
	u32 prev_cls = prev_class(prev);
	s32 nr_lc = scx_bpf_dsq_nr_queued(LC_DSQ);
	s32 nr_be = scx_bpf_dsq_nr_queued(BE_DSQ);
	bool lc = nr_lc > 0 || prev_cls == CLS_LC;
	bool be = nr_be > 0 || prev_cls == CLS_BE;

	cz_stat_set(ST_LC_QUEUED, nr_lc);
	cz_stat_set(ST_BE_QUEUED, nr_be);

	if (cz_dsq_move_to_local(SYS_DSQ)) {
		release(cpu);
		return;
	}
	if (be && lc && be_starved(bpf_ktime_get_ns())) {
		if (try_class(cpu, prev, prev_cls, CLS_BE, true))
			return;
		be = false;
	}
	if (lc && try_class(cpu, prev, prev_cls, CLS_LC, true))
		return;
	if (be && try_class(cpu, prev, prev_cls, CLS_BE, false))
		return;
	if (!lc && !be)
		release(cpu);
}

/* ---- waking and queueing ---- */

static u64 credited_vtime(struct task_struct *p, u32 cls)
{
	return cz_credited_vtime(p, vtime_now[cls], slice_of(cls));
}

s32 BPF_STRUCT_OPS(mutex_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	struct task_ctx *t = task_ctx(p);
	bool idle = false;
	s32 cpu;

	cz_wake_select(p, wake_flags);

	/* An idle core first (SMT-aware), then an idle CPU; no insert here:
	 * only ops.dispatch may start a task, after its claim. */
	cpu = cz_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
	if (t)
		t->woke_idle = idle;
	return cpu;
}

/* The sibling of @cpu holds or waits for LC (read without the lock). */
static bool sibling_lc(s32 cpu)
{
	struct mutex_core *c;
	u32 core, l, o;

	c = core_of(cpu, &core, &l);
	if (!c)
		return false;
	o = (l ^ 1) & 1;
	return c->resv[o] == CLS_LC || c->run[o] == CLS_LC || c->wait[o] == CLS_LC;
}

/* A CPU running BE that @p may run on, its own CPU first; -1: none. */
static s32 be_victim(struct task_struct *p)
{
	s32 prev = cz_real_cpu(cz_task_cpu(p)), cpu;
	struct mutex_core *c;
	u32 core, l;

	c = core_of(prev, &core, &l);
	if (c && c->run[l & 1] == CLS_BE)
		return prev;
	bpf_for(cpu, 0, nr_cpus) {
		c = core_of(cpu, &core, &l);
		if (c && c->run[l & 1] == CLS_BE && cz_may_run(p, cz_cid_of(cpu)))
			return cpu;
	}
	return -1;
}

static void kick_be_sibling(s32 cpu)
{
	struct mutex_core *c;
	u32 core, l;

	c = core_of(cpu, &core, &l);
	if (c && c->run[(l ^ 1) & 1] == CLS_BE) {
		kick_lane(core, l ^ 1, SCX_KICK_PREEMPT);
		cz_stat_inc(ST_SIBLING_KICK);
	}
}

/* Get a CPU to look at the queue @p just joined. */
static void wake_a_cpu(struct task_struct *p, struct task_ctx *t, u32 cls,
		       u64 enq_flags)
{
	s32 cpu;

	/* The CPU @p ran on is going idle: ENQ_LAST asks us to follow up. */
	if (enq_flags & SCX_ENQ_LAST) {
		cz_kick(cz_task_cpu(p), 0);
		return;
	}
	cpu = cz_task_cpu(p);
	if (t && t->woke_idle && !(cls == CLS_BE && sibling_lc(cz_real_cpu(cpu)))) {
		t->woke_idle = false;
		cz_kick(cpu, SCX_KICK_IDLE);
		return;
	}
	cpu = cz_pick_idle_core(p);
	if (cpu < 0)
		cpu = cz_pick_idle(p);
	if (cpu >= 0) {
		cz_kick(cpu, SCX_KICK_IDLE);
		return;
	}
	if (!(enq_flags & SCX_ENQ_WAKEUP))
		return;
	/* BE: a sleeper owed more than a running BE task (cz_wake.bpf.h). */
	if (cls == CLS_BE) {
		if (cz_wake_preempt(p, p->scx.dsq_vtime, nr_cpus) >= 0)
			cz_stat_inc(ST_WAKE_PREEMPT);
		return;
	}
	if (cls != CLS_LC)
		return;
	cpu = be_victim(p);
	if (cpu < 0)
		return;
	cz_kick(cz_cid_of(cpu), SCX_KICK_PREEMPT);
	cz_stat_inc(ST_LC_PREEMPT);
	/* --strict: its sibling must stop BE too; kick both at once rather
	 * than one after the other. */
	if (strict)
		kick_be_sibling(cpu);
}

void BPF_STRUCT_OPS(mutex_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *t = task_ctx(p);
	u32 cls = task_class(p);

	if (cls == CLS_NONE) {
		if (t)
			t->cls = CLS_NONE;
		cz_stat_inc(ST_DIRECT);
		if (cz_loader_wakeup(p, enq_flags, slice_of(CLS_BE), true) ||
		    cz_rescue_stranded(p, slice_of(CLS_BE), enq_flags))
			return;
		if (p->nr_cpus_allowed == 1) {
			cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_of(CLS_BE), enq_flags);
			return;
		}
		cz_dsq_insert(p, SYS_DSQ, slice_of(CLS_BE), enq_flags);
		wake_a_cpu(p, t, cls, enq_flags);
		return;
	}
	if (t) {
		/* A task that changed class starts level with its new class. */
		if (t->cls != cls)
			cz_set_vtime(p, vtime_now[cls]);
		t->cls = cls;
		t->queued_at = bpf_ktime_get_ns();
	}
	if (cz_rescue_stranded(p, slice_of(cls), enq_flags))
		return;
	cz_dsq_insert_vtime(p, dsq_of(cls), slice_of(cls),
			    credited_vtime(p, cls), enq_flags);
	wake_a_cpu(p, t, cls, enq_flags);
}

/* ---- what runs ---- */

/*
 * ops.running and ops.stopping may run on another CPU than @p's (a property
 * change of a running task): the lane is @p's CPU's.
 */
void BPF_STRUCT_OPS(mutex_running, struct task_struct *p)
{
	s32 cpu = cz_real_cpu(cz_task_cpu(p));
	struct task_ctx *t = task_ctx(p);
	u64 now = bpf_ktime_get_ns();
	u32 cls = t ? t->cls : CLS_NONE, core, l, o, before;
	struct mutex_core *c;
	bool wake = false, yield = false;

	if (cls >= NR_CLASSES)
		return;
	if (t) {
		t->run_cls = cls;
		t->started_at = now;
	}
	if (cls != CLS_NONE && cz_vtime_before(vtime_now[cls], p->scx.dsq_vtime))
		vtime_now[cls] = p->scx.dsq_vtime;
	/* BE's vtime is BE's alone: only a BE task is a victim for a BE one. */
	cz_wake_running(p, cz_task_cpu(p), cls == CLS_BE);

	c = core_of(cpu, &core, &l);
	if (c) {
		o = (l ^ 1) & 1;
		bpf_spin_lock(&c->lock);
		before = held(c, l);
		c->run[l & 1] = cls;
		/* Only a task of the claimed class consumes the claim: a kernel
		 * thread queued ahead of it must not let the sibling in. */
		if (c->resv[l & 1] == cls)
			c->resv[l & 1] = CLS_NONE;
		c->since[l & 1] = now;
		if (corunning(c) && !c->corun_since)
			c->corun_since = now;
		/* Claims keep these apart; a task the kernel starts without
		 * asking (after a property change) may not be. */
		yield = (cls == CLS_BE && (holds(c, o, CLS_LC) || c->wait[o] == CLS_LC)) ||
			(cls == CLS_LC && strict && holds(c, o, CLS_BE));
		wake = unpark_sibling(c, l, before);
		bpf_spin_unlock(&c->lock);
		if (wake)
			kick_lane(core, l ^ 1, 0);
	}
	if (yield) {
		cz_kick(cz_cid_of(cpu), SCX_KICK_PREEMPT);
		cz_stat_inc(ST_SELF_KICK);
	}
	if (cls != CLS_NONE) {
		__sync_fetch_and_add(&nr_running[cls], 1);
		cz_stat_inc(cls == CLS_LC ? ST_LC_RUNS : ST_BE_RUNS);
		cz_stat_set(cls == CLS_LC ? ST_LC_RUNNING : ST_BE_RUNNING,
			    nr_running[cls]);
	}
}

/* The kick-to-stop latency of a BE task kicked off its lane. */
static void record_kick_stop(u64 ns)
{
	cz_stat_inc(ST_KICK_STOPS);
	cz_stat_add(ST_KICK_STOP_NS, ns);
	if (ns > kick_stop_max) {
		kick_stop_max = ns;
		cz_stat_set(ST_KICK_STOP_MAX_NS, ns);
	}
}

void BPF_STRUCT_OPS(mutex_stopping, struct task_struct *p, bool runnable)
{
	s32 cpu = cz_real_cpu(cz_task_cpu(p));
	struct task_ctx *t = task_ctx(p);
	u64 now = bpf_ktime_get_ns(), ran, corun = 0, kicked = 0;
	u32 cls = t ? t->run_cls : CLS_NONE, core, l, o, before;
	struct mutex_core *c;
	bool wake = false, borrowed = false;

	cz_wake_stopping(cz_task_cpu(p));
	if (!t || cls >= NR_CLASSES)
		return;
	ran = now - t->started_at;
	t->run_cls = CLS_NONE;

	c = core_of(cpu, &core, &l);
	if (c) {
		o = (l ^ 1) & 1;
		bpf_spin_lock(&c->lock);
		before = held(c, l);
		c->run[l & 1] = CLS_NONE;
		if (cls != CLS_NONE)
			c->last[l & 1] = cls;
		/* --strict: the lane holds the class until it has really
		 * switched away from the task. */
		if (strict && switch_seen)
			c->draining[l & 1] = cls;
		if (c->corun_since && !corunning(c)) {
			corun = now - c->corun_since;
			c->corun_since = 0;
		}
		/* The kick's clock was read on another CPU: it may be ahead. */
		if (cls == CLS_BE && c->kicked_at[l & 1]) {
			if (cz_vtime_before(c->kicked_at[l & 1], now))
				kicked = now - c->kicked_at[l & 1];
			c->kicked_at[l & 1] = 0;
		}
		borrowed = cls == CLS_BE && c->last[o] == CLS_LC &&
			   c->run[o] != CLS_LC;
		wake = unpark_sibling(c, l, before);
		bpf_spin_unlock(&c->lock);
		if (wake)
			kick_lane(core, l ^ 1, 0);
	}
	if (corun)
		cz_stat_add(ST_CORUN_NS, corun);
	if (kicked)
		record_kick_stop(kicked);
	if (cls == CLS_NONE)
		return;

	if (p->scx.weight)
		cz_set_vtime(p, p->scx.dsq_vtime + ran * 100 / p->scx.weight);
	__sync_fetch_and_sub(&nr_running[cls], 1);
	cz_stat_set(cls == CLS_LC ? ST_LC_RUNNING : ST_BE_RUNNING, nr_running[cls]);
	cz_stat_add(cls == CLS_LC ? ST_LC_NS : ST_BE_NS, ran);
	if (borrowed)
		cz_stat_add(ST_BE_BORROWED_NS, ran);
}

/*
 * --strict: ops.stopping runs before the CPU has switched away from its
 * task; the lane keeps holding the task's class until here, once the
 * switch happens, so that the rival class never starts on the core's other
 * lane while this one is still on its way out, not even for the few
 * microseconds between the two.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(mutex_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct mutex_core *c;
	u32 core, l, before;
	bool wake;

	switch_seen = true;
	c = core_of(bpf_get_smp_processor_id(), &core, &l);
	if (!c || !c->draining[l & 1])
		return 0;
	bpf_spin_lock(&c->lock);
	before = held(c, l);
	c->draining[l & 1] = CLS_NONE;
	wake = unpark_sibling(c, l, before);
	bpf_spin_unlock(&c->lock);
	if (wake)
		kick_lane(core, l ^ 1, 0);
	return 0;
}

/*
 * A safety net, not part of the protocol: a lane parked for longer than
 * RESCUE_AFTER_NS is kicked to look again, so that a lost wake-up costs
 * milliseconds, never a watchdog ejection. rescue_kick counts them.
 */
struct rescue_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct rescue_timer);
} rescue_timer SEC(".maps");

static int rescue(void *map, int *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns();
	u32 core;

	bpf_for(core, 0, nr_cores) {
		struct mutex_core *c = bpf_map_lookup_elem(&cores, &core);
		u32 l;

		if (!c)
			continue;
		for (l = 0; l < 2; l++) {
			if (c->parked[l] && now - c->parked_at[l] > RESCUE_AFTER_NS) {
				c->parked_at[l] = now;
				kick_lane(core, l, 0);
				cz_stat_inc(ST_RESCUE_KICK);
			}
		}
	}
	bpf_timer_start(timer, RESCUE_PERIOD_NS, 0);
	return 0;
}

#ifndef CZ_CID	/* the cid form has no ops.cpu_release (CZ_CPU_RELEASE) */
/*
 * A higher sched class took the CPU: the kernel would put the preempted
 * task back at the head of the local queue and restart it later without
 * asking ops.dispatch, past the claims. Send everything local back
 * through ops.enqueue instead.
 */
void BPF_STRUCT_OPS(mutex_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	cz_reenqueue_local();
}
#endif

void BPF_STRUCT_OPS(mutex_enable, struct task_struct *p)
{
	cz_set_vtime(p, vtime_now[CLS_BE]);
}

s32 BPF_STRUCT_OPS(mutex_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	struct task_ctx *t;

	t = cz_task_ctx_create(&task_ctxs, p);
	if (!t)
		return -ENOMEM;
	t->cls = CLS_BE;
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(mutex_init)
{
	struct bpf_timer *timer;
	u32 zero = 0;
	s32 ret;

	cz_stat_set(ST_SMT, smt);
	ret = scx_bpf_create_dsq(LC_DSQ, -1);
	if (!ret)
		ret = scx_bpf_create_dsq(BE_DSQ, -1);
	if (!ret)
		ret = scx_bpf_create_dsq(SYS_DSQ, -1);
	if (ret)
		return ret;
	timer = bpf_map_lookup_elem(&rescue_timer, &zero);
	if (!timer)
		return -EINVAL;
	bpf_timer_init(timer, &rescue_timer, CLOCK_MONOTONIC);
	bpf_timer_set_callback(timer, rescue);
	return bpf_timer_start(timer, RESCUE_PERIOD_NS, 0);
}

void BPF_STRUCT_OPS(mutex_exit, struct scx_exit_info *ei)
{
	cz_record_exit(ei);
}

CZ_OPS_DEFINE(mutex_ops, mutex_select_cpu,
	.enqueue	= (void *)mutex_enqueue,
	.dispatch	= (void *)mutex_dispatch,
	.running	= (void *)mutex_running,
	.stopping	= (void *)mutex_stopping,
	CZ_CPU_RELEASE(mutex_cpu_release)
	.enable		= (void *)mutex_enable,
	.init_task	= (void *)mutex_init_task,
	.init		= (void *)mutex_init,
	.exit		= (void *)mutex_exit,
	.flags		= SCX_OPS_ENQ_LAST,
	.name		= "mutex");
