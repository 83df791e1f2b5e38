/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF side's common header: every scheduler's <name>.bpf.c includes
 * this first.
 *
 * - vmlinux.h is generated at build time from the target kernel's BTF and
 *   already carries __ksym prototypes of every kfunc, so kfuncs are not
 *   redeclared here, except where their signature differs between the
 *   kernels we support (see "compat" below).
 * - Statistics live in one per-CPU array map, "cz_stats", indexed by the
 *   scheduler's stat enum; userspace sums or lists the CPUs.
 * - The exit record the kernel hands to ops.exit is copied into the
 *   one-element map "cz_exit", which the loader library reads.
 * - Live tunables live in the array map "cz_tunables", indexed by the
 *   scheduler's tunable enum, which the loader writes before attach and on
 *   every `czctl set`; read them with cz_tunable() where they are used, so
 *   a change takes effect at the next decision without reloading.
 * - The loader's pid is in the one-element map "cz_self": its threads are
 *   served first (cz_loader_wakeup()).
 * - Kernel constants that are #defines (so not in BTF) and that several
 *   schedulers use are defined here once: time units, clock ids, errnos.
 *
 * Compat: one object, built against one kernel's BTF, must load on every
 * kernel in vmconfigs/kernels (6.16.x and 7.3.x today). kfuncs whose
 * signature changed are declared under a flavour suffix: libbpf strips the
 * last "___suffix" when it looks a kfunc up in the kernel and leaves a weak
 * extern unresolved when the prototype does not match, so
 * bpf_ksym_exists() tells which variant the running kernel has, and the
 * verifier drops the other branch as dead code.
 */
#ifndef __CZ_COMMON_BPF_H
#define __CZ_COMMON_BPF_H

/* Some kernels' BTF dumps contain empty forward declarations in structs. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wmissing-declarations"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cz_shared.h"

#define BPF_STRUCT_OPS(name, args...)	\
	SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...)	\
	SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x)	(sizeof(x) / sizeof((x)[0]))
#endif
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/*
 * Inside bpf_for_each(scx_dsq, ...), the iterator the loop runs on: libbpf's
 * macro names it ___it, and scx_bpf_dsq_move*() take it as an argument.
 */
#define CZ_DSQ_ITER	(&___it)

/* Linux's PF_KTHREAD; not in BTF because it is a #define. */
#define CZ_PF_KTHREAD	0x00200000

/* #defines of the kernel's, so not in vmlinux.h. */
enum {
	NSEC_PER_USEC	= 1000ULL,
	NSEC_PER_MSEC	= 1000 * NSEC_PER_USEC,
	CLOCK_MONOTONIC	= 1,	/* for bpf_timer_init() */
	EINVAL		= 22,
	ENOMEM		= 12,
	ENOENT		= 2,
};

/*
 * scx_bpf_error()/scx_bpf_exit() take a format and an array of u64s; pack
 * the variadic arguments the way bpf_helpers.h's printing macros do.
 */
#define cz_error(fmt, args...)						\
({									\
	static char ___fmt[] = fmt;					\
	unsigned long long ___param[___bpf_narg(args)];			\
									\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")		\
	___bpf_fill(___param, args);					\
	_Pragma("GCC diagnostic pop")					\
	scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));		\
})

/* ---- compat ---- */

/* 6.19 made inserting return whether it succeeded (old name kept as void). */
bool scx_bpf_dsq_insert___v2___cz(struct task_struct *p, u64 dsq_id,
				  u64 slice, u64 enq_flags) __ksym __weak;

static inline bool cz_dsq_insert(struct task_struct *p, u64 dsq_id,
				 u64 slice, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert___v2___cz))
		return scx_bpf_dsq_insert___v2___cz(p, dsq_id, slice, enq_flags);
	scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags);
	return true;
}

/*
 * 6.19 passes vtime insertion's arguments in a struct (BPF's five-argument
 * limit left no room to say which scheduler calls). With a sub-scheduler
 * attached (7.3) the old kfunc cannot tell and fails the caller's
 * scheduler, so this form is used wherever it exists.
 */
static inline void cz_dsq_insert_vtime(struct task_struct *p, u64 dsq_id,
				       u64 slice, u64 vtime, u64 enq_flags)
{
	if (bpf_ksym_exists(__scx_bpf_dsq_insert_vtime)) {
		struct scx_bpf_dsq_insert_vtime_args args = {
			.dsq_id = dsq_id, .slice = slice, .vtime = vtime,
			.enq_flags = enq_flags,
		};

		__scx_bpf_dsq_insert_vtime(p, &args);
		return;
	}
	scx_bpf_dsq_insert_vtime(p, dsq_id, slice, vtime, enq_flags);
}

/* 7.1 gave moving a DSQ's head to the local DSQ an enq_flags argument. */
bool scx_bpf_dsq_move_to_local___v2___cz(u64 dsq_id, u64 enq_flags) __ksym __weak;

static inline bool cz_dsq_move_to_local(u64 dsq_id)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move_to_local___v2___cz))
		return scx_bpf_dsq_move_to_local___v2___cz(dsq_id, 0);
	return scx_bpf_dsq_move_to_local(dsq_id);
}

/* 7.x renamed re-enqueueing the local DSQ; the old name stays on 6.x. */
void scx_bpf_reenqueue_local___v2___cz(void) __ksym __weak;
u32 scx_bpf_reenqueue_local___cz(void) __ksym __weak;

static inline void cz_reenqueue_local(void)
{
	if (bpf_ksym_exists(scx_bpf_reenqueue_local___v2___cz))
		scx_bpf_reenqueue_local___v2___cz();
	else if (bpf_ksym_exists(scx_bpf_reenqueue_local___cz))
		scx_bpf_reenqueue_local___cz();
}

/* ---- per-CPU statistics ---- */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CZ_MAX_STATS);
	__type(key, u32);
	__type(value, u64);
} cz_stats SEC(".maps");

static __always_inline void cz_stat_add(u32 idx, u64 n)
{
	u64 *slot = bpf_map_lookup_elem(&cz_stats, &idx);

	if (slot)
		*slot += n;
}

static __always_inline void cz_stat_inc(u32 idx)
{
	cz_stat_add(idx, 1);
}

/*
 * Gauges hold one current value. It is kept in CPU 0's slot so that the
 * per-CPU sum userspace computes is the value, whichever CPU wrote it.
 */
static __always_inline void cz_stat_set(u32 idx, u64 val)
{
	u64 *slot = bpf_map_lookup_percpu_elem(&cz_stats, &idx, 0);

	if (slot)
		*slot = val;
}

/* ---- live tunables ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CZ_MAX_TUNABLES);
	__type(key, u32);
	__type(value, u64);
} cz_tunables SEC(".maps");

/* The verifier inlines an array lookup with a constant key: this is cheap. */
static __always_inline u64 cz_tunable(u32 idx)
{
	u64 *v = bpf_map_lookup_elem(&cz_tunables, &idx);

	return v ? *v : 0;
}

/* ---- exit record ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct cz_exit_info);
} cz_exit SEC(".maps");

/* Call from ops.exit: keep what the kernel said for the loader to report. */
static __always_inline void cz_record_exit(struct scx_exit_info *ei)
{
	u32 zero = 0;
	struct cz_exit_info *rec = bpf_map_lookup_elem(&cz_exit, &zero);

	if (!rec)
		return;
	bpf_probe_read_kernel_str(rec->reason, sizeof(rec->reason), ei->reason);
	bpf_probe_read_kernel_str(rec->msg, sizeof(rec->msg), ei->msg);
	rec->exit_code = ei->exit_code;
	/* Written last: userspace takes kind != 0 as "the record is complete". */
	rec->kind = ei->kind;
}

/* CPUs in the CPU form, cids in the cid form (sub-schedulers). */
#include "cz_cpu.bpf.h"

/* ---- the loader's own threads ---- */

/*
 * The loader's process id, which the loader library writes before attach.
 * Its threads, the stats server above all, are how a scheduler is asked,
 * tuned, switched and stopped; under the very overload a scheduler is
 * for, they must not wait behind it. So a scheduler runs a woken loader
 * thread next on its CPU (cz_loader_wakeup()), as it does a per-CPU
 * kernel thread. They are light, a stats request is microseconds of work,
 * and only a wakeup gets this: a loader thread that uses up its slice
 * queues like any task.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} cz_self SEC(".maps");

static __always_inline bool cz_is_loader(const struct task_struct *p)
{
	u32 zero = 0, *tgid = bpf_map_lookup_elem(&cz_self, &zero);

	return tgid && *tgid && p->tgid == *tgid;
}

/*
 * From ops.enqueue: if @p is a loader thread that woke up, put it at the
 * head of its CPU, preempting what runs there if @preempt (else it runs as
 * soon as that stops), and return true.
 */
static __always_inline bool cz_loader_wakeup(struct task_struct *p, u64 enq_flags,
					     u64 slice, bool preempt)
{
	s32 cpu;

	if (!(enq_flags & SCX_ENQ_WAKEUP) || !cz_is_loader(p))
		return false;
	cpu = cz_task_cpu(p);
	if (!cz_may_run(p, cpu))
		return false;
	return cz_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, slice,
			     enq_flags | SCX_ENQ_HEAD |
			     (preempt ? SCX_ENQ_PREEMPT : 0));
}

/* ---- small helpers ---- */

/*
 * Create @p's entry in the task-storage map @map (zeroed), for
 * ops.init_task. A NULL there fails the task's fork or, while the
 * scheduler is being enabled, the whole scheduler, so a transient failure
 * must not reach it. Creation can fail with memory to spare: a task whose
 * storage is being emptied on another CPU (say, the previous scheduler's
 * map being freed in the background right after a switch) refuses a new
 * entry until the unlink is done (bpf_local_storage_update()'s -EAGAIN,
 * "a parallel del is happening"), and on 6.16 the allocation comes from a
 * per-CPU cache that refills asynchronously. So retry a bounded number of
 * times. ops.init_task stays non-sleepable although the kernel allows a
 * sleepable one: the enable path calls it with forks locked out, where a
 * GFP_KERNEL allocation may wait for work that needs a new kworker.
 */
enum { CZ_TASK_CTX_TRIES = 64 };

static __always_inline void *cz_task_ctx_create(void *map,
						struct task_struct *p)
{
	void *ctx = NULL;
	int i;

	bpf_for(i, 0, CZ_TASK_CTX_TRIES) {
		ctx = bpf_task_storage_get(map, p, 0,
					   BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (ctx)
			break;
	}
	return ctx;
}

/* vtime comparison that survives u64 wrap-around. */
static inline bool cz_vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

/*
 * The vtime @p waits with: its own, but at most @credit behind @now (the
 * scheduler's fair "now"), so that a long sleep earns one slice of credit,
 * not a burst that starves everyone else.
 */
static inline u64 cz_credited_vtime(const struct task_struct *p, u64 now,
				    u64 credit)
{
	u64 floor = now - credit;

	return cz_vtime_before(p->scx.dsq_vtime, floor) ? floor : p->scx.dsq_vtime;
}

static inline bool cz_is_percpu_kthread(const struct task_struct *p)
{
	return (p->flags & CZ_PF_KTHREAD) && p->nr_cpus_allowed == 1;
}

#endif /* __CZ_COMMON_BPF_H */
