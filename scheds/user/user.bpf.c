/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_user: the scheduling policy lives in user space, in the loader; this
 * side keeps only what must not wait for it.
 *
 * Policy (of this side)
 * - A runnable task is handed to the loader: one message in the ring
 *   buffer "to_user" with its pid, weight, task sets, cgroup and the CPU
 *   time it ran since its last message. The loader's policy answers with
 *   decisions in the user ring buffer "from_user": run this task, before
 *   tasks with a larger key, for this slice. ops.dispatch drains them into
 *   one shared queue ordered by the keys, so the policy orders tasks
 *   without having to hold them back, and a late decision for a task with
 *   a small key still runs first. The CPU that drains decisions wakes idle
 *   CPUs for the ones it cannot run itself.
 * - Except: a waking task that finds an idle CPU runs there at once
 *   (idle_direct, on by default), as the kernel's scx_userland does; the
 *   policy is charged its CPU time with its next message.
 * - A message wakes the loader; its threads are served first: a woken
 *   loader thread runs next on the CPU that woke it, preempting what runs
 *   there (cz_loader_wakeup()). That CPU just enqueued the task to decide
 *   on, usually its own: once the loader sleeps again, the same CPU drains
 *   the decision and runs it, with no IPI on the way. That preemption is
 *   what lets a woken task run promptly when every CPU is busy. Per-CPU
 *   kthreads and the loader's threads never go through user space.
 * - Nothing waits for user space beyond a bound. Every task handed over
 *   is also on a FIFO wait list (a BPF queue map). ops.dispatch looks at
 *   its head: a task not decided on within max_wait_ms, or any task once
 *   the loader has been silent for stall_ms (it stamps user_seen_ns at
 *   least every tick), moves to a FIFO fallback queue served first, and
 *   while the loader stays silent new tasks go there directly. A BPF
 *   timer wakes an idle CPU when the head is late, so an idle machine
 *   does not sit on it. A stopped loader leaves a working round-robin
 *   scheduler; a killed one takes the scheduler with it (its link closes)
 *   and the kernel falls back to the fair class.
 * - Except after a synchronous wakeup (the waker said it is about to
 *   sleep): the loader then queues first on that CPU without preempting,
 *   and runs when the waker stops, deciding for all it woke in one batch
 *   (sync_wait). Timer and network wakeups are not synchronous.
 * - A decided task that cannot run on the CPU draining its decision
 *   preempts its own CPU if that runs a task with a larger key.
 * - A decision is only honoured for the enqueue it answers: each enqueue
 *   of a task bumps its sequence number, and the decision carries the
 *   number it was made for. Anything else (the task was dequeued, ran from
 *   the fallback queue, or exited) is dropped and counted as stale.
 *
 * Limits: one loader thread decides for all CPUs, and every wakeup costs a
 * round trip through it (rtt_p50_us/rtt_p99_us in the stats); the shared
 * queues suit a zone of tens of CPUs. A task allowed on few CPUs, with a
 * key no smaller than what its CPU runs, waits in the shared queue until
 * one of them dispatches.
 */
#include "cz_common.bpf.h"
#include "cz_taskset.bpf.h"
#include "user.h"

char _license[] SEC("license") = "GPL";

enum {
	USER_DSQ	= 0,	/* decided tasks, by the policy's key */
	FALLBACK_DSQ	= 1,	/* FIFO: tasks the policy was late on */
	/*
	 * Per ops.dispatch: decisions taken, wait-list entries looked at.
	 * Together at most the kernel's dispatch buffer (32 inserts).
	 */
	DRAIN_MAX	= 16,
	SCAN_MAX	= 16,
	KICK_MAX	= 8,	/* idle CPUs woken per ops.dispatch */
	WAIT_MAX	= 65536,
	SCAN_AGE_NS	= 1000 * NSEC_PER_USEC,
	TIMER_NS	= 10 * NSEC_PER_MSEC,
	SYNC_NS		= 1000 * NSEC_PER_USEC,	/* a sync wakeup's loader wakeup follows within */
};

const volatile u32 nr_cpus = 1;

/*
 * Written by the loader through the mmapped .bss: when it last looked at
 * the ring buffer (CLOCK_MONOTONIC, as bpf_ktime_get_ns()), and how many
 * tasks its policy holds back.
 */
volatile u64 user_seen_ns;
volatile u64 user_queued;

/* Enqueue-to-decision latencies (USER_RTT_BUCKETS in user.h), for the loader. */
u64 rtt_hist[USER_RTT_BUCKETS];

/* One CPU at a time looks at the wait list's head (see scan_wait_list()). */
u32 scan_busy;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} to_user SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 1 << 20);
} from_user SEC(".maps");

struct wait_entry {
	s32	pid;
	u32	pad;
	u64	seq;
	u64	enq_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, WAIT_MAX);
	__type(value, struct wait_entry);
} wait_list SEC(".maps");

enum task_state {
	T_NONE,		/* running, sleeping, or queued to run */
	T_WAITING,	/* handed to the policy, not decided on yet */
};

struct task_ctx {
	u64	seq;		/* enqueues so far */
	u64	enq_ns;
	u64	ran_seen;	/* sum_exec_runtime at the last message */
	u32	state;
	bool	keyed;		/* queued by a decision: dsq_vtime is its key */
};

/* The key of what each CPU runs; 0: not preemptible for a decision. */
u64 cpu_key[CZ_MAX_CPUS];
/* When each CPU last made a synchronous wakeup (loader_wakeup()). */
u64 cpu_sync_wake[CZ_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

struct user_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct user_timer);
} user_timer SEC(".maps");

static u64 slice_ns(void)
{
	return cz_tunable(TUN_SLICE_US) * NSEC_PER_USEC;
}

static bool user_stalled(u64 now)
{
	u64 seen = user_seen_ns;

	return now > seen && now - seen > cz_tunable(TUN_STALL_MS) * NSEC_PER_MSEC;
}

static struct task_ctx *task_ctx(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

/* Wake up to @n idle CPUs to look at the queues. */
static void kick_idle(u32 n)
{
	const struct cpumask *online = scx_bpf_get_online_cpumask();
	u32 i;

	bpf_for(i, 0, KICK_MAX) {
		s32 cpu;

		if (i >= n)
			break;
		cpu = scx_bpf_pick_idle_cpu(online, 0);
		if (cpu < 0)
			break;
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		cz_stat_inc(ST_KICK);
	}
	scx_bpf_put_cpumask(online);
}

static void to_fallback(struct task_struct *p, u64 enq_flags, u32 why)
{
	cz_dsq_insert(p, FALLBACK_DSQ, slice_ns(), enq_flags);
	cz_stat_inc(why);
	kick_idle(1);
}

/* log2 of @v, rounded down; 0 for 0. */
static u32 ilog2(u64 v)
{
	u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/* Four buckets per power of two: the top bit and the two below it. */
static void rtt_record(u64 ns)
{
	u32 msb = ilog2(ns), b;

	b = msb < 2 ? (u32)ns : msb * 4 + (u32)((ns >> (msb - 2)) & 3);
	if (b >= USER_RTT_BUCKETS)
		b = USER_RTT_BUCKETS - 1;
	rtt_hist[b]++;
}

s32 BPF_STRUCT_OPS(user_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	s32 this = bpf_get_smp_processor_id(), cpu;
	bool idle;

	/*
	 * A waking task that finds an idle CPU runs there at once: with a CPU
	 * free, the answer of every work-conserving policy is "now", and the
	 * round trip would only delay it. Everything else is the policy's
	 * call, made at dispatch time.
	 */
	if (!cz_is_loader(p)) {
		if ((wake_flags & SCX_WAKE_SYNC) && this < CZ_MAX_CPUS)
			cpu_sync_wake[this] = bpf_ktime_get_ns();
		cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
		if (idle && cz_tunable(TUN_IDLE_DIRECT)) {
			cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), 0);
			cz_stat_inc(ST_IDLE_DIRECT);
		}
		return cpu;
	}
	/*
	 * The loader runs where it was woken: that CPU just enqueued the task
	 * it is to decide on, usually its own, which then runs there as soon
	 * as the loader sleeps again. No IPI on the way, and under qemu TCG,
	 * no waiting for another vCPU's thread to get the host's CPU.
	 */
	if (bpf_cpumask_test_cpu(this, p->cpus_ptr))
		return this;
	return scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
}

/*
 * A woken loader thread runs next on its CPU (cz_loader_wakeup()),
 * preempting what runs there, unless that CPU just made a synchronous
 * wakeup: its task said it is about to sleep (a pipe's or a socket's
 * writer), and the loader runs when it does, with the decisions for what
 * it woke meanwhile in one batch.
 */
static bool loader_wakeup(struct task_struct *p, u64 enq_flags)
{
	s32 cpu = scx_bpf_task_cpu(p);
	bool preempt = true;
	u64 sync;

	if ((enq_flags & SCX_ENQ_WAKEUP) && cz_tunable(TUN_SYNC_WAIT) &&
	    cpu >= 0 && cpu < CZ_MAX_CPUS && cz_is_loader(p)) {
		sync = cpu_sync_wake[cpu];
		if (sync && bpf_ktime_get_ns() - sync <= SYNC_NS) {
			cpu_sync_wake[cpu] = 0;
			preempt = false;
			cz_stat_inc(ST_SYNC_WAIT);
		}
	}
	return cz_loader_wakeup(p, enq_flags, slice_ns(), preempt);
}

void BPF_STRUCT_OPS(user_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct wait_entry w = { .pid = p->pid };
	struct task_ctx *tctx;
	struct user_msg *m;
	u64 now, ran;

	if (cz_is_percpu_kthread(p) || cz_is_loader(p)) {
		if (!loader_wakeup(p, enq_flags))
			cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), enq_flags);
		cz_stat_inc(ST_DIRECT);
		return;
	}
	tctx = task_ctx(p);
	if (!tctx) {
		to_fallback(p, enq_flags, ST_FB_FULL);
		return;
	}
	now = bpf_ktime_get_ns();
	tctx->seq++;
	tctx->state = T_NONE;
	if (user_stalled(now)) {
		to_fallback(p, enq_flags, ST_FB_STALLED);
		return;
	}
	m = bpf_ringbuf_reserve(&to_user, sizeof(*m), 0);
	if (!m) {
		to_fallback(p, enq_flags, ST_FB_FULL);
		return;
	}
	w.seq = tctx->seq;
	w.enq_ns = now;
	if (bpf_map_push_elem(&wait_list, &w, 0)) {
		bpf_ringbuf_discard(m, 0);
		to_fallback(p, enq_flags, ST_FB_FULL);
		return;
	}
	ran = p->se.sum_exec_runtime - tctx->ran_seen;
	tctx->ran_seen = p->se.sum_exec_runtime;
	tctx->enq_ns = now;
	tctx->state = T_WAITING;

	m->kind = USER_MSG_ENQUEUE;
	m->pid = p->pid;
	m->tgid = p->tgid;
	m->weight = p->scx.weight;
	m->sets = cz_ts_match(p);
	m->flags = enq_flags & SCX_ENQ_WAKEUP ? USER_WAKEUP : 0;
	m->cpu = scx_bpf_task_cpu(p);
	m->pad = 0;
	m->seq = tctx->seq;
	m->enq_ns = now;
	m->ran_ns = ran;
	m->cgid = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
	bpf_ringbuf_submit(m, 0);
	cz_stat_inc(ST_TO_USER);
}

void BPF_STRUCT_OPS(user_dequeue, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *tctx = task_ctx(p);

	/* Whatever the policy says about this enqueue is now stale. */
	if (tctx)
		tctx->state = T_NONE;
}

/*
 * Decisions taken in this ops.dispatch. In a map, not in the callback's
 * context: the verifier would walk the callback once per value of a
 * counter it can see.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} drain_taken SEC(".maps");

/*
 * A decided task that cannot run on the CPU that drains its decision (one
 * pinned elsewhere, say) would wait for its own CPUs' slices to end: if its
 * CPU runs a task with a larger key, preempt that, as the fair class does
 * for a wakee on its target CPU. One that can run here is this CPU's to
 * run, in key order.
 */
static void preempt_for(struct task_struct *p, u64 key)
{
	s32 cpu = scx_bpf_task_cpu(p);
	u64 cur;

	if (bpf_cpumask_test_cpu(bpf_get_smp_processor_id(), p->cpus_ptr) ||
	    cpu < 0 || cpu >= CZ_MAX_CPUS)
		return;
	cur = cpu_key[cpu];
	if (cur && key < cur) {
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
		cz_stat_inc(ST_PREEMPT);
	}
}

/*
 * One decision from the loader: queue its task if it still waits for it.
 * @data: the time ops.dispatch started.
 */
static long take_decision(struct bpf_dynptr *dp, void *data)
{
	u64 *now = data;
	struct task_struct *p;
	struct task_ctx *tctx;
	struct user_run run;
	u32 zero = 0, *taken;

	if (bpf_dynptr_read(&run, sizeof(run), dp, 0, 0))
		return 1;
	cz_stat_inc(ST_DECISIONS);
	p = bpf_task_from_pid(run.pid);
	if (!p) {
		cz_stat_inc(ST_STALE);
		goto next;
	}
	tctx = task_ctx(p);
	if (tctx && tctx->state == T_WAITING && tctx->seq == run.seq) {
		tctx->state = T_NONE;
		tctx->keyed = true;
		rtt_record(*now - tctx->enq_ns);
		cz_dsq_insert_vtime(p, USER_DSQ,
				    run.slice_ns ? run.slice_ns : slice_ns(),
				    run.key, 0);
		cz_stat_inc(ST_USER_RUN);
		preempt_for(p, run.key);
	} else {
		cz_stat_inc(ST_STALE);
	}
	bpf_task_release(p);
next:
	taken = bpf_map_lookup_elem(&drain_taken, &zero);
	return !taken || ++*taken >= DRAIN_MAX;
}

/*
 * Pop what the wait list's head holds that is decided, gone or late; late
 * tasks go to the fallback queue. Entries are in enqueue order, so the
 * first live one that is not late ends the scan. One CPU at a time: a
 * peek and a pop by two CPUs could otherwise take different entries.
 */
static void scan_wait_list(u64 now)
{
	u64 max_wait = cz_tunable(TUN_MAX_WAIT_MS) * NSEC_PER_MSEC;
	bool stalled = user_stalled(now);
	struct wait_entry head;
	u32 i;

	/*
	 * A young head is neither late nor worth a task lookup yet: decided
	 * entries wait SCAN_AGE_NS to be popped in a batch, which keeps the
	 * common dispatch to one peek.
	 */
	if (bpf_map_peek_elem(&wait_list, &head) ||
	    (now < head.enq_ns + SCAN_AGE_NS && !stalled))
		return;
	if (__sync_lock_test_and_set(&scan_busy, 1))
		return;
	bpf_for(i, 0, SCAN_MAX) {
		struct task_struct *p;
		struct task_ctx *tctx;
		struct wait_entry w;
		bool live, late;

		if (bpf_map_peek_elem(&wait_list, &w))
			break;
		late = now > w.enq_ns && now - w.enq_ns > max_wait;
		p = bpf_task_from_pid(w.pid);
		tctx = p ? task_ctx(p) : NULL;
		live = tctx && tctx->state == T_WAITING && tctx->seq == w.seq;
		if (live && !late && !stalled) {
			bpf_task_release(p);
			break;
		}
		bpf_map_pop_elem(&wait_list, &w);
		if (live) {
			tctx->state = T_NONE;
			cz_dsq_insert(p, FALLBACK_DSQ, slice_ns(), 0);
			cz_stat_inc(stalled ? ST_FB_STALLED : ST_FB_TIMEOUT);
		}
		if (p)
			bpf_task_release(p);
	}
	scan_busy = 0;
}

void BPF_STRUCT_OPS(user_dispatch, s32 cpu, struct task_struct *prev)
{
	u32 zero = 0, *taken = bpf_map_lookup_elem(&drain_taken, &zero);
	u64 now = bpf_ktime_get_ns();
	s32 queued;

	if (taken)
		*taken = 0;
	/*
	 * No wakeup: the policy thread never waits for room in from_user, and
	 * a wakeup is an irq_work per draining call.
	 */
	bpf_user_ringbuf_drain(&from_user, take_decision, &now, BPF_RB_NO_WAKEUP);
	scan_wait_list(now);
	/* What the policy was late on has waited longest: it goes first. */
	if (cz_dsq_move_to_local(FALLBACK_DSQ) ||
	    cz_dsq_move_to_local(USER_DSQ)) {
		queued = scx_bpf_dsq_nr_queued(USER_DSQ) +
			 scx_bpf_dsq_nr_queued(FALLBACK_DSQ);
		if (queued > 0)
			kick_idle(queued);
	}
}

void BPF_STRUCT_OPS(user_running, struct task_struct *p)
{
	struct task_ctx *tctx = task_ctx(p);
	s32 cpu = scx_bpf_task_cpu(p);

	if (cpu < 0 || cpu >= CZ_MAX_CPUS)
		return;
	cpu_key[cpu] = tctx && tctx->keyed ? p->scx.dsq_vtime : 0;
	if (tctx)
		tctx->keyed = false;
}

s32 BPF_STRUCT_OPS(user_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	struct task_ctx *tctx = cz_task_ctx_create(&task_ctxs, p);

	if (!tctx)
		return -ENOMEM;
	tctx->ran_seen = p->se.sum_exec_runtime;
	return 0;
}

void BPF_STRUCT_OPS(user_exit_task, struct task_struct *p,
		    struct scx_exit_task_args *args)
{
	struct user_msg *m;

	if (cz_is_percpu_kthread(p) || cz_is_loader(p))
		return;
	m = bpf_ringbuf_reserve(&to_user, sizeof(*m), 0);
	if (!m) {
		cz_stat_inc(ST_LOST_EXIT);
		return;
	}
	__builtin_memset(m, 0, sizeof(*m));
	m->kind = USER_MSG_EXIT;
	m->pid = p->pid;
	m->tgid = p->tgid;
	bpf_ringbuf_submit(m, 0);
}

/*
 * Every TIMER_NS: the gauges, and an idle CPU woken if the wait list's
 * head is late or decided tasks wait while CPUs sleep (a dispatch that
 * found nothing and went idle just before a decision came).
 */
static int user_tick(void *map, int *key, struct bpf_timer *timer)
{
	u64 now = bpf_ktime_get_ns();
	s32 queued = scx_bpf_dsq_nr_queued(USER_DSQ) +
		     scx_bpf_dsq_nr_queued(FALLBACK_DSQ);
	u64 bound = cz_tunable(TUN_MAX_WAIT_MS);
	struct wait_entry w;
	bool stalled = user_stalled(now);

	if (cz_tunable(TUN_STALL_MS) < bound)
		bound = cz_tunable(TUN_STALL_MS);
	bound *= NSEC_PER_MSEC;
	cz_stat_set(ST_STALLED, stalled);
	cz_stat_set(ST_QUEUED, queued);
	cz_stat_set(ST_USER_QUEUED, user_queued);
	if (queued > 0 ||
	    (!bpf_map_peek_elem(&wait_list, &w) && now > w.enq_ns &&
	     now - w.enq_ns > bound))
		kick_idle(1);
	bpf_timer_start(timer, TIMER_NS, 0);
	return 0;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(user_init)
{
	struct bpf_timer *timer;
	u32 zero = 0;
	s32 ret;

	ret = scx_bpf_create_dsq(USER_DSQ, -1);
	if (ret)
		return ret;
	ret = scx_bpf_create_dsq(FALLBACK_DSQ, -1);
	if (ret)
		return ret;
	timer = bpf_map_lookup_elem(&user_timer, &zero);
	if (!timer)
		return -EINVAL;
	bpf_timer_init(timer, &user_timer, CLOCK_MONOTONIC);
	bpf_timer_set_callback(timer, user_tick);
	return bpf_timer_start(timer, TIMER_NS, 0);
}

void BPF_STRUCT_OPS(user_exit, struct scx_exit_info *ei)
{
	cz_record_exit(ei);
}

SEC(".struct_ops.link")
struct sched_ext_ops user_ops = {
	.select_cpu	= (void *)user_select_cpu,
	.enqueue	= (void *)user_enqueue,
	.dequeue	= (void *)user_dequeue,
	.dispatch	= (void *)user_dispatch,
	.running	= (void *)user_running,
	.init_task	= (void *)user_init_task,
	.exit_task	= (void *)user_exit_task,
	.init		= (void *)user_init,
	.exit		= (void *)user_exit,
	.name		= "user",
};
