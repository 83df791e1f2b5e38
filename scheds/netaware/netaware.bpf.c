/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_netaware: network activity as a scheduling signal.
 *
 * Policy
 * - A task woken by NET_RX processing is "net-woken": its waker ran in the
 *   NET_RX softirq (on an interrupt's way out or in ksoftirqd), or was a
 *   threaded NAPI poller (napi/...) or a vhost worker (vhost-...). Two
 *   tracing programs in this object, fentry/fexit of net_rx_action (the
 *   NET_RX softirq handler), keep a per-CPU "in NET_RX since" mark; the wakeup
 *   callbacks, which run in the waker's context, read it and note the
 *   waker's CPU as the RX CPU. O(1) per wakeup and per softirq run, nothing
 *   per packet.
 * - Placement: a net-woken task goes to an idle CPU of the RX CPU's core
 *   (cache-hot: the data was just received there), then of its LLC, else to
 *   its previous CPU. Topology comes from sysfs via the loader. When no CPU
 *   is idle and the waker is a request/response partner about to sleep (a
 *   synchronous wakeup from a task that has run less than boost_us since
 *   its own wakeup), the wakee runs next on the RX CPU instead: no
 *   preemption, no IPI, and neither side queues behind a hog.
 * - Priority: a net-woken task gets a boost of --boost-us (live tunable,
 *   default 200) of CPU time: it waits in a FIFO queue served before every
 *   other one, and when no CPU is idle it preempts a CPU running a task
 *   without a boost (its RX CPU first: the packet's data is hot there and
 *   the kick needs no IPI; then that CPU's core, LLC, any). Once it
 *   has run boost_us since its wakeup, a per-CPU timer (the tick as a
 *   backstop) takes the boost back: the task runs out its slice as an
 *   ordinary one, which a boosted task may preempt, and then queues by
 *   vtime. A CPU hog that happens to receive packets gets no lasting
 *   priority. A per-task token bucket (refilled at --boost-pct percent of
 *   one CPU, holding BOOST_BURST boosts) caps the boosted CPU share of a
 *   task woken by packets all the time.
 * - ksoftirqd, napi/ and vhost- threads are never starved: a per-CPU one
 *   goes to the head of its CPU and preempts it, others to the boost queue,
 *   without a budget.
 * - Everything else: weighted vtime fairness in one shared queue (a task is
 *   charged runtime * 100 / weight; a sleeper's credit is capped at one
 *   slice, --slice-us), an idle CPU for a waking task when there is one,
 *   else it preempts the CPU whose task (not boosted, not a net thread) is
 *   furthest ahead of it in vtime, if by over 1 ms and the wakeup is not
 *   synchronous (cz_wake.bpf.h): a timer-woken sleeper does not wait a
 *   hog's slice out.
 * - --net-pid/--net-comm/--net-cgroup rules (task set "net") make a task
 *   net-woken on every wakeup, whatever woke it; its RX CPU is then the
 *   waker's CPU.
 *
 * Limits: the queues are global, fine for a zone of tens of CPUs, not
 * hundreds; finding an idle CPU near the RX CPU or a victim scans the CPUs
 * once. A hardirq that interrupts a NET_RX softirq and wakes a task makes
 * that task look net-woken. Wakeups by sockets processed in process context
 * (a socket owned by its reader when the packet came, busy polling) and
 * wakeups of a task allowed on one CPU that go through a remote CPU's wake
 * list are not seen. The
 * boost ends at the timer's expiry plus its latency, not to the
 * nanosecond; boost_max_us shows what it really was. Boosted time is still
 * charged to the task's vtime, so over time a boosted task is not favoured
 * beyond its rate limit.
 */
#include "cz_common.bpf.h"
#include "cz_taskset.bpf.h"
#include "cz_wake.bpf.h"
#include "netaware.h"

char _license[] SEC("license") = "GPL";

enum {
	SHARED_DSQ		= 0,	/* vtime-ordered: tasks without a boost */
	BOOST_DSQ		= 1,	/* FIFO, served first: boosted and net threads */
	BOOST_BURST		= 8,	/* boosts a full token bucket holds */
	BOOST_LATE_NS		= 5000 * NSEC_PER_USEC,	/* boost_late: past this */
	/*
	 * net_rx_action stops after netdev_budget_usecs (2 ms) or 2 jiffies:
	 * an "in NET_RX" mark older than this lost its fexit (it was entered
	 * between the attach of the fentry and of the fexit program).
	 */
	NET_RX_MAX_NS		= 20 * 1000 * NSEC_PER_USEC,
	SCORE_RX		= 4,	/* victim preference: the RX CPU, */
	SCORE_CORE		= 3,	/* its core, */
	SCORE_LLC		= 2,	/* then its LLC, */
	SCORE_ANY		= 1,	/* then anywhere */
};

const volatile u32 nr_cpus = 1;			/* possible CPUs */
/* Topology from sysfs, set by the loader: the lowest CPU of each CPU's
 * core and of its last-level cache. */
const volatile u32 cpu_core[CZ_MAX_CPUS];
const volatile u32 cpu_llc[CZ_MAX_CPUS];

/* Per CPU: when its running NET_RX softirq began; 0: not in one. */
static u64 net_rx_since[CZ_MAX_CPUS];

/* The newest vtime a task started with: the fair "now" of the system. */
static u64 vtime_now;
/* Longest boosted run after one wakeup, for the boost_max_us gauge. */
static u64 boost_max_ns;

struct cpu_ctx {
	u64	started_at;	/* start of the current task; 0: none */
	u64	boost_end;	/* when the timer ended its boost; 0: it did not */
	u64	awake_base;	/* its CPU time since its wakeup, at its start */
	u64	handoff_at;	/* when a net-woken task began to wait for it */
	u32	seq;		/* bumped at each start: tells the timer whose turn */
	bool	stint_boosted;	/* the current task started with a boost */
	bool	boosted;	/* ... and still holds it */
	bool	preemptible;	/* not a network or per-CPU kernel thread */
	bool	claimed;	/* a boosted task is on its way to preempt it */
};

static struct cpu_ctx cpu_ctxs[CZ_MAX_CPUS];

struct task_ctx {
	u64	tokens;		/* boost budget, ns of CPU time */
	u64	refill_at;	/* when tokens were last topped up */
	u64	boost_left;	/* boost left from this wakeup, ns; 0: none */
	u64	boost_run;	/* ns run with the boost since this wakeup */
	u64	awake_ns;	/* CPU time since this wakeup */
	s32	rx_cpu;		/* where the waking packet was processed */
	bool	net_woken;	/* this wakeup is net-woken */
	bool	classified;	/* this wakeup was looked at */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

struct boost_timer {
	struct bpf_timer	timer;
	u32			seq;	/* cpu_ctx.seq of the run it was armed for */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CZ_MAX_CPUS);
	__type(key, int);
	__type(value, struct boost_timer);
} boost_timers SEC(".maps");

static __always_inline u64 slice_ns(void)
{
	return cz_tunable(TUN_SLICE_US) * NSEC_PER_USEC;
}

static __always_inline u64 boost_ns(void)
{
	return cz_tunable(TUN_BOOST_US) * NSEC_PER_USEC;
}

static __always_inline struct cpu_ctx *cpu_ctx(s32 cpu)
{
	u32 i = cpu;	/* one unsigned bound the verifier keeps */

	return i < CZ_MAX_CPUS ? &cpu_ctxs[i] : NULL;
}

static __always_inline struct task_ctx *task_ctx(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

/* The topology tables are by CPU; @cpu is a cid in the cid form. */
static __always_inline u32 core_of(s32 cpu)
{
	u32 i = cz_real_cpu(cpu);

	return i < CZ_MAX_CPUS ? cpu_core[i] : (u32)-1;
}

static __always_inline u32 llc_of(s32 cpu)
{
	u32 i = cz_real_cpu(cpu);

	return i < CZ_MAX_CPUS ? cpu_llc[i] : (u32)-1;
}

static __always_inline bool comm_starts(const struct task_struct *p,
					const char *prefix, int len)
{
	int i;

	for (i = 0; i < len && i < CZ_TS_COMM_LEN; i++)
		if (p->comm[i] != prefix[i])
			return false;
	return true;
}

#define COMM_STARTS(p, lit)	comm_starts(p, lit, sizeof(lit) - 1)

/* A thread that processes packets and wakes their readers. */
static __always_inline bool is_net_waker(const struct task_struct *p)
{
	return COMM_STARTS(p, "napi/") || COMM_STARTS(p, "vhost-");
}

/* A thread that must never wait behind CPU hogs. */
static __always_inline bool is_net_thread(const struct task_struct *p)
{
	return is_net_waker(p) ||
	       ((p->flags & CZ_PF_KTHREAD) && COMM_STARTS(p, "ksoftirqd/"));
}

/* ---- the signal: tracing programs ---- */

/*
 * The NET_RX softirq's handler, entered and left: the hook runs only while
 * packets arrive. (The softirq_entry/exit and sched_waking tracepoints run
 * on every softirq and wakeup, and attaching or detaching them patches
 * those hot paths.)
 */
static __always_inline void mark_net_rx(u64 since)
{
	u32 cpu = bpf_get_smp_processor_id();

	if (cpu < CZ_MAX_CPUS)
		net_rx_since[cpu] = since;
}

SEC("fentry/net_rx_action")
int BPF_PROG(netaware_rx_enter)
{
	mark_net_rx(bpf_ktime_get_ns());
	return 0;
}

SEC("fexit/net_rx_action")
int BPF_PROG(netaware_rx_exit)
{
	mark_net_rx(0);
	return 0;
}

/* This CPU runs the NET_RX softirq. */
static __always_inline bool in_net_rx(u32 cpu)
{
	u64 since;

	if (cpu >= CZ_MAX_CPUS)
		return false;
	since = net_rx_since[cpu];
	return since && bpf_ktime_get_ns() - since < NET_RX_MAX_NS;
}

/* ---- wakeup classification and the boost budget ---- */

static void refill(struct task_ctx *tctx, u64 now)
{
	u64 cap = BOOST_BURST * boost_ns();
	u64 elapsed = now - tctx->refill_at;

	tctx->refill_at = now;
	if (elapsed >= cap * 100) {
		tctx->tokens = cap;
		return;
	}
	tctx->tokens += elapsed * cz_tunable(TUN_BOOST_PCT) / 100;
	if (tctx->tokens > cap)
		tctx->tokens = cap;
}

/*
 * Once per wakeup, from whichever of select_cpu and enqueue comes first;
 * both run in the waker's context, on the waker's CPU (but for an enqueue
 * through a remote CPU's wake list, which then sees that CPU's state).
 */
static void classify_wakeup(struct task_struct *p, struct task_ctx *tctx)
{
	u64 boost = boost_ns();

	if (tctx->classified)
		return;
	tctx->classified = true;
	tctx->boost_left = 0;
	tctx->boost_run = 0;
	tctx->awake_ns = 0;
	cz_stat_inc(ST_WAKEUPS);

	/* The tracing programs mark real CPUs. */
	tctx->net_woken = in_net_rx(bpf_get_smp_processor_id()) ||
			  is_net_waker(bpf_get_current_task_btf()) ||
			  (cz_ts_match(p) & (1 << SET_NET));
	if (!tctx->net_woken)
		return;
	tctx->rx_cpu = cz_this_cpu();
	cz_stat_inc(ST_NET_WOKEN);

	refill(tctx, bpf_ktime_get_ns());
	if (tctx->tokens < boost) {
		cz_stat_inc(ST_BOOST_DENIED);
		return;
	}
	tctx->boost_left = boost;
	cz_stat_inc(ST_BOOSTED);
}

/* ---- placement ---- */


/* An idle CPU of @rx's core, then of its LLC, claimed; -1 if none. */
static s32 pick_idle_near(struct task_struct *p, s32 rx)
{
	u32 core = core_of(rx), llc = llc_of(rx);
	s32 cpu;

	if (rx < 0 || rx >= nr_cpus)
		return -1;
	bpf_for(cpu, 0, nr_cpus) {
		if (core_of(cpu) == core && cz_may_run(p, cpu) &&
		    cz_test_and_clear_idle(cpu))
			return cpu;
	}
	bpf_for(cpu, 0, nr_cpus) {
		if (llc_of(cpu) == llc && cz_may_run(p, cpu) &&
		    cz_test_and_clear_idle(cpu))
			return cpu;
	}
	return -1;
}

/*
 * No CPU is idle for a boosted task: a CPU running a task without a boost,
 * closest to @near first. -1 if every allowed CPU runs something that
 * must not be preempted.
 */
static s32 pick_victim(struct task_struct *p, s32 near)
{
	u32 core = core_of(near), llc = llc_of(near);
	s32 cpu, victim = -1;
	u32 best = 0;

	bpf_for(cpu, 0, nr_cpus) {
		struct cpu_ctx *c = cpu_ctx(cpu);
		u32 score;

		if (!c || !c->started_at || c->boosted || !c->preemptible ||
		    c->claimed || !cz_may_run(p, cpu))
			continue;
		score = cpu == near ? SCORE_RX :
			core_of(cpu) == core ? SCORE_CORE :
			llc_of(cpu) == llc ? SCORE_LLC : SCORE_ANY;
		if (score > best) {
			best = score;
			victim = cpu;
		}
	}
	return victim;
}

/* Get a CPU to a task just put in the boost queue: an idle one, or a victim. */
static void kick_for_boosted(struct task_struct *p, s32 near)
{
	struct cpu_ctx *c;
	s32 cpu;

	cpu = cz_pick_idle(p);
	if (cpu >= 0) {
		cz_kick(cpu, SCX_KICK_IDLE);
		return;
	}
	cpu = pick_victim(p, near);
	c = cpu_ctx(cpu);
	if (!c)
		return;
	c->claimed = true;
	cz_kick(cpu, SCX_KICK_PREEMPT);
	cz_stat_inc(ST_PREEMPT);
}

/*
 * A synchronous wakeup (the waker says it is about to sleep, as a socket's
 * reader wakeup does) from a task on the RX CPU that has run less than
 * boost_us since its own wakeup, a request/response partner rather than a
 * hog: the wakee runs next on that CPU, where the data is, without
 * preempting anybody. Should the waker not sleep within boost_us after
 * all, the tick ends its slice.
 */
static bool handoff(struct task_struct *p, s32 rx, u64 wake_flags)
{
	struct cpu_ctx *c = cpu_ctx(rx);
	u64 awake, now;

	if (!(wake_flags & SCX_WAKE_SYNC) || !c || !c->started_at ||
	    rx != cz_this_cpu() || !cz_may_run(p, rx))
		return false;
	now = bpf_ktime_get_ns();
	awake = c->awake_base + now - c->started_at;
	if (awake >= boost_ns())
		return false;
	if (!c->handoff_at)
		c->handoff_at = now;
	return true;
}

s32 BPF_STRUCT_OPS(netaware_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	struct task_ctx *tctx = task_ctx(p);
	bool is_idle = false;
	s32 cpu;

	cz_wake_select(p, wake_flags);

	if (tctx && (wake_flags & SCX_WAKE_TTWU) && !is_net_thread(p)) {
		classify_wakeup(p, tctx);
		if (tctx->net_woken) {
			cpu = pick_idle_near(p, tctx->rx_cpu);
			if (cpu >= 0) {
				cz_stat_inc(ST_RX_LOCAL);
				cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), 0);
				return cpu;
			}
			if (cz_test_and_clear_idle(prev_cpu)) {
				cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), 0);
				return prev_cpu;
			}
			if (handoff(p, tctx->rx_cpu, wake_flags)) {
				cz_stat_inc(ST_RX_LOCAL);
				cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), SCX_ENQ_HEAD);
				return tctx->rx_cpu;
			}
			/* enqueue queues it, boosted or not. */
			return prev_cpu;
		}
	}
	cpu = cz_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	if (is_idle)
		cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), 0);
	return cpu;
}

/* A sleeper may be owed at most one slice of CPU time. */
static u64 credited_vtime(const struct task_struct *p)
{
	return cz_credited_vtime(p, vtime_now, slice_ns());
}

void BPF_STRUCT_OPS(netaware_enqueue, struct task_struct *p, u64 enq_flags)
{
	bool woken = enq_flags & SCX_ENQ_WAKEUP;
	struct task_ctx *tctx;
	u64 vtime;
	s32 cpu;

	if (is_net_thread(p)) {
		if (woken)
			cz_stat_inc(ST_NET_THREAD);
		if (p->nr_cpus_allowed == 1) {
			cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(),
				      enq_flags | SCX_ENQ_PREEMPT);
			return;
		}
		cz_dsq_insert(p, BOOST_DSQ, slice_ns(), enq_flags);
		kick_for_boosted(p, cz_task_cpu(p));
		return;
	}
	if (cz_is_percpu_kthread(p)) {
		cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), enq_flags);
		return;
	}
	if (cz_loader_wakeup(p, enq_flags, slice_ns(), true) ||
	    cz_rescue_stranded(p, slice_ns(), enq_flags))
		return;

	tctx = task_ctx(p);
	if (tctx && woken)
		classify_wakeup(p, tctx);
	if (tctx && tctx->boost_left) {
		cz_dsq_insert(p, BOOST_DSQ, slice_ns(), enq_flags);
		kick_for_boosted(p, tctx->rx_cpu);
		return;
	}

	vtime = credited_vtime(p);
	cz_dsq_insert_vtime(p, SHARED_DSQ, slice_ns(), vtime, enq_flags);
	/* Nobody else wakes an idle CPU for a task queued here. */
	cpu = cz_pick_idle(p);
	if (cpu >= 0)
		cz_kick(cpu, SCX_KICK_IDLE);
	else if (woken && cz_wake_preempt(p, vtime, nr_cpus) >= 0)
		cz_stat_inc(ST_WAKE_PREEMPT);
}

void BPF_STRUCT_OPS(netaware_dispatch, s32 cpu, struct task_struct *prev)
{
	if (cz_dsq_move_to_local(BOOST_DSQ))
		return;
	cz_dsq_move_to_local(SHARED_DSQ);
}

/* ---- the bound on a boost ---- */

/*
 * The task running on @cpu has used its boost: take it back. It is an
 * ordinary task on its slice from now on, which boosted tasks may preempt;
 * preempted at once only if one already waits. (Preempted at once to queue
 * by vtime, a request's server and client would wait there behind the
 * hogs.)
 */
static void boost_end(s32 cpu, struct cpu_ctx *c)
{
	struct cz_wake_cpu *w = cz_wake_cpu(cpu);

	c->boosted = false;
	if (w)
		w->preemptible = c->preemptible;
	c->boost_end = bpf_ktime_get_ns();
	if (scx_bpf_dsq_nr_queued(BOOST_DSQ) ||
	    scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL_ON | cpu))
		cz_kick(cpu, SCX_KICK_PREEMPT);
}

/* Armed when a boosted task starts, for the boost it has left. */
static int boost_expired(void *map, int *key, struct boost_timer *t)
{
	s32 cpu = *key;
	struct cpu_ctx *c = cpu_ctx(cpu);

	if (c && c->boosted && c->seq == t->seq)
		boost_end(cpu, c);
	return 0;
}

static void arm_boost_timer(s32 cpu, struct cpu_ctx *c, u64 left)
{
	struct boost_timer *t = bpf_map_lookup_elem(&boost_timers, &cpu);

	if (!t)
		return;
	t->seq = c->seq;
	bpf_timer_start(&t->timer, left, 0);
}

void BPF_STRUCT_OPS(netaware_running, struct task_struct *p)
{
	s32 cpu = cz_this_cpu();
	struct cpu_ctx *c = cpu_ctx(cpu);
	struct task_ctx *tctx = task_ctx(p);
	bool boosted = tctx && tctx->boost_left;

	if (cz_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	if (tctx)
		tctx->classified = false;	/* the next wakeup is a new one */
	if (!c)
		return;
	c->seq++;
	c->started_at = bpf_ktime_get_ns();
	c->boost_end = 0;
	c->stint_boosted = boosted;
	c->boosted = boosted;
	c->preemptible = !is_net_thread(p) && !cz_is_percpu_kthread(p);
	c->claimed = false;
	c->handoff_at = 0;
	c->awake_base = tctx ? tctx->awake_ns : 0;
	cz_wake_running(p, cpu, c->preemptible && !boosted);
	if (boosted)
		arm_boost_timer(cpu, c, tctx->boost_left);
}

/*
 * Every tick: the backstop of the boost timer, should its soft interrupt be
 * held up, and of a handoff whose waker did not go to sleep.
 */
void BPF_STRUCT_OPS(netaware_tick, struct task_struct *p)
{
	s32 cpu = cz_this_cpu();
	struct cpu_ctx *c = cpu_ctx(cpu);
	struct task_ctx *tctx;

	if (!c)
		return;
	if (c->handoff_at && !c->boosted &&
	    bpf_ktime_get_ns() - c->handoff_at >= boost_ns()) {
		c->handoff_at = 0;
		cz_set_slice(p, 0);
	}
	if (!c->boosted)
		return;
	tctx = task_ctx(p);
	if (tctx && bpf_ktime_get_ns() - c->started_at >= tctx->boost_left)
		boost_end(cpu, c);
}

/* Account a run that started with a boost: budget, what is left, stats. */
static void boost_account(struct task_ctx *tctx, struct cpu_ctx *c, u64 now)
{
	u64 end = c->boost_end ? c->boost_end : now;
	u64 ran = end - c->started_at;

	tctx->boost_run += ran;
	tctx->tokens -= ran < tctx->tokens ? ran : tctx->tokens;
	cz_stat_add(ST_BOOST_RUN_US, ran / NSEC_PER_USEC);
	if (ran >= tctx->boost_left || c->boost_end) {
		if (ran > tctx->boost_left + BOOST_LATE_NS)
			cz_stat_inc(ST_BOOST_LATE);
		tctx->boost_left = 0;
		cz_stat_inc(ST_BOOST_REVOKED);
	} else {
		tctx->boost_left -= ran;
	}
	if (tctx->boost_run > boost_max_ns) {
		boost_max_ns = tctx->boost_run;
		cz_stat_set(ST_BOOST_MAX_US, boost_max_ns / NSEC_PER_USEC);
	}
}

void BPF_STRUCT_OPS(netaware_stopping, struct task_struct *p, bool runnable)
{
	struct cpu_ctx *c = cpu_ctx(cz_this_cpu());
	struct task_ctx *tctx = task_ctx(p);
	u64 now = bpf_ktime_get_ns();

	if (!c || !c->started_at)
		return;
	if (p->scx.weight)
		cz_set_vtime(p, p->scx.dsq_vtime +
			     (now - c->started_at) * 100 / p->scx.weight);
	if (tctx)
		tctx->awake_ns += now - c->started_at;
	if (tctx && c->stint_boosted)
		boost_account(tctx, c, now);
	c->started_at = 0;
	c->stint_boosted = false;
	c->boosted = false;
	cz_wake_stopping(cz_this_cpu());
}

void BPF_STRUCT_OPS(netaware_enable, struct task_struct *p)
{
	cz_set_vtime(p, vtime_now);
}

s32 BPF_STRUCT_OPS(netaware_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	struct task_ctx *tctx;

	tctx = cz_task_ctx_create(&task_ctxs, p);
	if (!tctx)
		return -ENOMEM;
	tctx->tokens = BOOST_BURST * boost_ns();
	tctx->refill_at = bpf_ktime_get_ns();
	tctx->rx_cpu = -1;
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(netaware_init)
{
	s32 cpu, ret;

	ret = scx_bpf_create_dsq(SHARED_DSQ, -1);
	if (ret)
		return ret;
	ret = scx_bpf_create_dsq(BOOST_DSQ, -1);
	if (ret)
		return ret;
	bpf_for(cpu, 0, nr_cpus) {
		struct boost_timer *t = bpf_map_lookup_elem(&boost_timers, &cpu);

		if (!t)
			return -EINVAL;
		bpf_timer_init(&t->timer, &boost_timers, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&t->timer, boost_expired);
	}
	return 0;
}

void BPF_STRUCT_OPS(netaware_exit, struct scx_exit_info *ei)
{
	cz_record_exit(ei);
}

CZ_OPS_DEFINE(netaware_ops, netaware_select_cpu,
	.enqueue	= (void *)netaware_enqueue,
	.dispatch	= (void *)netaware_dispatch,
	.running	= (void *)netaware_running,
	.stopping	= (void *)netaware_stopping,
	.tick		= (void *)netaware_tick,
	.enable		= (void *)netaware_enable,
	.init_task	= (void *)netaware_init_task,
	.init		= (void *)netaware_init,
	.exit		= (void *)netaware_exit,
	.name		= "netaware");
