/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a scheduler names a CPU: the same policy source built in two forms.
 *
 * - The CPU form (the default) is a plain sched_ext_ops scheduler: every
 *   kernel we support, the whole machine. The helpers below are the
 *   kernel's CPU kfuncs and its built-in idle tracking.
 * - The cid form (compiled with -DCZ_CID, 7.3 and later) is a
 *   sched_ext_ops_cid scheduler, the only kind the kernel attaches as a
 *   sub-scheduler of a cgroup. Its callbacks and kfuncs number CPUs by
 *   "cid" (a topology-ordered renumbering), the kernel's CPU kfuncs and
 *   built-in idle tracking are not allowed, and it may only use the CPUs
 *   its parent granted (capabilities per cid). So here a scheduler's
 *   "cpu" is a cid, this file keeps the idle cids (ops.update_idle) and
 *   the usable ones (ops.sub_ecaps_updated: those it holds SCX_CAP_ENQ
 *   on), and cz_real_cpu() turns a cid into a CPU where one is needed
 *   (sysfs topology tables, a task's cpumask).
 *
 * A scheduler includes this after cz_common.bpf.h, uses cz_this_cpu(),
 * cz_task_cpu(), cz_kick(), cz_may_run(), cz_test_and_clear_idle(),
 * cz_pick_idle() and cz_select_cpu_dfl() instead of the kfuncs,
 * cz_set_slice() and cz_set_vtime() instead of storing into p->scx, calls
 * cz_rescue_stranded() in ops.enqueue before queueing a task, and
 * declares its ops table with CZ_OPS_DEFINE(), which adds this file's
 * callbacks in the cid form. The form adds no read-only data, so a loader
 * sets the same .rodata in either form's skeleton.
 *
 * A cid-form scheduler must own a BPF arena map (the kernel keeps the
 * scheduler's capability masks in it); cz_arena is that map. Masks here
 * are plain .bss words, updated with atomics: they are read on every
 * placement and need no arena.
 */
#ifndef __CZ_CPU_BPF_H
#define __CZ_CPU_BPF_H

#define CZ_CPU_WORDS	(CZ_MAX_CPUS / 64)

#ifdef CZ_CID

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 64);		/* pages, at most */
} cz_arena SEC(".maps");

/* The kernel ties an arena to a program that loads its address. */
#define CZ_TOUCH_ARENA()	asm volatile("" :: "r"(&cz_arena))

static u64 cz_idle_cids[CZ_CPU_WORDS];
static u64 cz_usable_cids[CZ_CPU_WORDS];

/* Bounds on the word index itself: the verifier keeps those. */
static __always_inline bool cz_mask_test(const u64 *mask, s32 cid)
{
	u32 w = (u32)cid / 64;

	if (w >= CZ_CPU_WORDS)
		return false;
	return mask[w] & (1ULL << ((u32)cid % 64));
}

static __always_inline void cz_mask_assign(u64 *mask, s32 cid, bool on)
{
	u32 w = (u32)cid / 64;

	if (w >= CZ_CPU_WORDS)
		return;
	if (on)
		__sync_fetch_and_or(&mask[w], 1ULL << ((u32)cid % 64));
	else
		__sync_fetch_and_and(&mask[w], ~(1ULL << ((u32)cid % 64)));
}

static __always_inline s32 cz_this_cpu(void)
{
	return scx_bpf_this_cid();
}

static __always_inline s32 cz_task_cpu(const struct task_struct *p)
{
	return scx_bpf_task_cid(p);
}

static __always_inline s32 cz_real_cpu(s32 cid)
{
	return scx_bpf_cid_to_cpu(cid);
}

/* The other way: a CPU's cid, for a scheduler whose tables are by CPU. */
static __always_inline s32 cz_cid_of(s32 cpu)
{
	return scx_bpf_cpu_to_cid(cpu);
}

static __always_inline void cz_kick(s32 cid, u64 flags)
{
	scx_bpf_kick_cid(cid, flags);
}

/* A cid-form scheduler may not store into p->scx: the kernel does it. */
static __always_inline void cz_set_slice(struct task_struct *p, u64 slice)
{
	scx_bpf_task_set_slice(p, slice);
}

static __always_inline void cz_set_vtime(struct task_struct *p, u64 vtime)
{
	scx_bpf_task_set_dsq_vtime(p, vtime);
}

static __always_inline bool cz_usable(s32 cid)
{
	return cz_mask_test(cz_usable_cids, cid);
}

/* @p may run on @cid: its affinity allows it and the parent granted it. */
static __always_inline bool cz_may_run(const struct task_struct *p, s32 cid)
{
	s32 cpu;

	if (!cz_usable(cid))
		return false;
	cpu = scx_bpf_cid_to_cpu(cid);
	return cpu >= 0 && bpf_cpumask_test_cpu(cpu, p->cpus_ptr);
}

static __always_inline bool cz_test_and_clear_idle(s32 cid)
{
	u32 w = (u32)cid / 64;
	u64 bit = 1ULL << ((u32)cid % 64);

	if (w >= CZ_CPU_WORDS || !cz_usable(cid))
		return false;
	return __sync_fetch_and_and(&cz_idle_cids[w], ~bit) & bit;
}

/* An idle cid @p may run on, claimed; -1 if none. */
static __always_inline s32 cz_pick_idle(const struct task_struct *p)
{
	u32 nr = scx_bpf_nr_cids();
	s32 cid;

	bpf_for(cid, 0, nr) {
		if (cid >= CZ_MAX_CPUS)
			break;
		if (!cz_mask_test(cz_idle_cids, cid))
			continue;
		if (cz_may_run(p, cid) && cz_test_and_clear_idle(cid))
			return cid;
	}
	return -1;
}

/* This file keeps no idle cores: the caller falls back to cz_pick_idle(). */
static __always_inline s32 cz_pick_idle_core(const struct task_struct *p)
{
	return -1;
}

/*
 * The built-in select_cpu's simple case: @prev if it is idle, else any
 * idle cid (claimed, *is_idle set), else @prev if usable, else the first
 * usable cid @p may run on (the kernel re-queues a task placed where it
 * may not run, so a wrong guess costs a round trip, not correctness).
 */
static __always_inline s32 cz_select_cpu_dfl(const struct task_struct *p,
					     s32 prev, u64 wake_flags,
					     bool *is_idle)
{
	u32 nr = scx_bpf_nr_cids();
	s32 cid;

	*is_idle = false;
	if (cz_may_run(p, prev) && cz_test_and_clear_idle(prev)) {
		*is_idle = true;
		return prev;
	}
	cid = cz_pick_idle(p);
	if (cid >= 0) {
		*is_idle = true;
		return cid;
	}
	if (cz_may_run(p, prev))
		return prev;
	bpf_for(cid, 0, nr)
		if (cz_may_run(p, cid))
			return cid;
	return prev;
}

/*
 * From ops.enqueue: @p may run on none of the cids this scheduler holds
 * (say, pinned outside its zone). Hand it to the kernel's rescue path,
 * which runs it on a CPU it allows within a bandwidth limit; a plain
 * insert there would be refused and come back forever. True if done.
 */
static __always_inline bool cz_rescue_stranded(struct task_struct *p,
					       u64 slice, u64 enq_flags)
{
	u32 nr = scx_bpf_nr_cids();
	s32 cid, cpu, home = -1;

	if ((u32)p->nr_cpus_allowed >= nr)
		return false;
	bpf_for(cid, 0, nr) {
		cpu = scx_bpf_cid_to_cpu(cid);
		if (cpu < 0 || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			continue;
		if (cz_usable(cid))
			return false;
		if (home < 0)
			home = cid;
	}
	if (home < 0)
		return false;
	cz_dsq_insert(p, SCX_DSQ_LOCAL_ON | home, slice, enq_flags | SCX_ENQ_RESCUE);
	return true;
}

void BPF_STRUCT_OPS(cz_update_idle, s32 cid, bool idle)
{
	CZ_TOUCH_ARENA();
	cz_mask_assign(cz_idle_cids, cid, idle);
}

/*
 * The caps in effect on @cid changed. With SCX_CAP_ENQ this scheduler
 * may queue any task there; with less (a parent's time share) it leaves
 * the cid alone.
 */
void BPF_STRUCT_OPS(cz_sub_ecaps_updated, s32 cid, u64 before, u64 after)
{
	cz_mask_assign(cz_usable_cids, cid, after & SCX_CAP_ENQ);
}

/*
 * The ops table: struct sched_ext_ops_cid with select_cid, the idle and
 * capability callbacks above and a name in the cid form; struct
 * sched_ext_ops otherwise. @select is the scheduler's select_cpu.
 * CZ_CPU_RELEASE(fn) is ops.cpu_release in the CPU form only: the cid
 * form has none (the kernel points to the sched_switch tracepoint).
 */
#define CZ_CPU_RELEASE(fn)
#define CZ_OPS_DEFINE(var, select, ...)					\
	SEC(".struct_ops.link")						\
	struct sched_ext_ops_cid var = {				\
		.select_cid		= (void *)select,		\
		.update_idle		= (void *)cz_update_idle,	\
		.sub_ecaps_updated	= (void *)cz_sub_ecaps_updated,	\
		__VA_ARGS__						\
	}

#else /* the CPU form */

static __always_inline s32 cz_this_cpu(void)
{
	return bpf_get_smp_processor_id();
}

static __always_inline s32 cz_task_cpu(const struct task_struct *p)
{
	return scx_bpf_task_cpu(p);
}

static __always_inline s32 cz_real_cpu(s32 cpu)
{
	return cpu;
}

static __always_inline s32 cz_cid_of(s32 cpu)
{
	return cpu;
}

static __always_inline void cz_kick(s32 cpu, u64 flags)
{
	scx_bpf_kick_cpu(cpu, flags);
}

static __always_inline void cz_set_slice(struct task_struct *p, u64 slice)
{
	p->scx.slice = slice;
}

static __always_inline void cz_set_vtime(struct task_struct *p, u64 vtime)
{
	p->scx.dsq_vtime = vtime;
}

static __always_inline bool cz_may_run(const struct task_struct *p, s32 cpu)
{
	return cpu >= 0 && bpf_cpumask_test_cpu(cpu, p->cpus_ptr);
}

static __always_inline bool cz_test_and_clear_idle(s32 cpu)
{
	return scx_bpf_test_and_clear_cpu_idle(cpu);
}

static __always_inline s32 cz_pick_idle(const struct task_struct *p)
{
	return scx_bpf_pick_idle_cpu(p->cpus_ptr, 0);
}

/* An idle CPU whose SMT siblings are idle too, claimed; -1 if none. */
static __always_inline s32 cz_pick_idle_core(const struct task_struct *p)
{
	return scx_bpf_pick_idle_cpu(p->cpus_ptr, SCX_PICK_IDLE_CORE);
}

static __always_inline s32 cz_select_cpu_dfl(struct task_struct *p, s32 prev,
					     u64 wake_flags, bool *is_idle)
{
	return scx_bpf_select_cpu_dfl(p, prev, wake_flags, is_idle);
}

/* The whole machine is ours: nothing is stranded. */
static __always_inline bool cz_rescue_stranded(struct task_struct *p,
					       u64 slice, u64 enq_flags)
{
	return false;
}

#define CZ_CPU_RELEASE(fn)	.cpu_release = (void *)fn,

#define CZ_OPS_DEFINE(var, select, ...)					\
	SEC(".struct_ops.link")						\
	struct sched_ext_ops var = {					\
		.select_cpu		= (void *)select,		\
		__VA_ARGS__						\
	}

#endif /* CZ_CID */

#endif /* __CZ_CPU_BPF_H */
