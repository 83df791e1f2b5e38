/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq: weighted fair scheduling that compensates for the frequency
 * drop AVX code causes (Gottschlag et al., "Fair Scheduling for AVX2 and
 * AVX-512 Workloads", USENIX ATC 2021).
 *
 * Policy
 * - Weighted virtual time: runnable tasks wait in one vtime-ordered queue;
 *   a task is charged its CPU time (the kernel's sum_exec_runtime) * 100 /
 *   weight, and a waking task's credit is capped at one slice. A waking
 *   task that finds an idle CPU goes straight there; one that does not
 *   preempts, of the CPUs it may use, the one whose task has run furthest
 *   ahead of it in vtime, if by more than 1 ms and the wakeup is not
 *   synchronous (cz_wake.bpf.h), instead of waiting up to a slice
 *   (preempt_on_wake=0 turns this off).
 * - When a slice runs out the task is charged at once and keeps its CPU
 *   for another slice unless a task that may run there has a smaller
 *   vtime: the kernel asks for work before it puts the task back, so
 *   consuming the queue every time would make two hogs alternate slice by
 *   slice whatever they were charged, and compensation would change
 *   nothing.
 * - Compensation: on many Intel server CPUs, 256- and 512-bit code lowers
 *   the core's frequency (license levels); the lower level is held for a
 *   while after that code stops, and it also slows the SMT sibling. A task
 *   that is not itself wide-vector but ran while its CPU held a license
 *   left by someone else's AVX code, or while its sibling ran AVX code,
 *   got less work done per ns. For that slowed part of its runtime it is
 *   charged runtime * f_level / f_nominal, clamped to [min_charge_pct, 1];
 *   AVX tasks pay in full: the slowdown is their own doing.
 * - Frequencies per level and the hold time come from a model (loader:
 *   --model FILE, default the figures), as Q16 ratios in rodata.
 *   Where the loader opened clock counters (APERF/MPERF or cycles/
 *   ref-cycles on every CPU), the ratios are measured instead: at each
 *   context switch the period just ended ran at core/reference clock
 *   ticks; periods of AVX tasks feed a running average of their level's
 *   frequency, periods of scalar tasks nobody slowed one of the scalar
 *   frequency, and a level's ratio is the quotient of the two once both
 *   have MIN_SAMPLES periods (the model until then).
 *
 * Detection of wide-vector tasks, best first
 * - Instruction counters (Intel CPUs whose FP_ARITH_INST_RETIRED the
 *   loader knows): a period that retired at least one 256-bit (512-bit)
 *   FP instruction per AVXF_WIDE_CYCLES core cycles makes its task AVX2
 *   (AVX-512) for its next run. Integer vector code is not counted.
 *   With these counters the XSAVE state is not looked at.
 * - The task's saved XSAVE state: at each run, the header's xfeatures of
 *   the state saved at its last switch-out. AVX-512 if any of the opmask,
 *   ZMM_Hi256 or Hi16_ZMM components is in use; AVX2 if the YMM component
 *   is in use and the saved upper halves of the YMM registers are not all
 *   zero. The content check is there because the in-use bit alone is not
 *   reliable: qemu's TCG sets it for every component on every XSAVE (it
 *   does not track XINUSE), and scalar code that called an AVX2 libc
 *   routine leaves the upper halves zeroed by VZEROUPPER. On hardware
 *   with init tracking, a clear bit means the area was not written and is
 *   not looked at.
 * - Operator hints: tasks in set avx2 or avx512 (--avx2-pid/-comm/-cgroup,
 *   --avx512-..., czctl add/del at run time) are at least that level. For
 *   code the XSAVE state cannot show: a CPU without XINUSE-reliable state,
 *   or AVX-512 work whose state happens to be clean when it is switched out.
 * - Where the state lives: kernels since 6.15 place struct fpu right after
 *   task_struct, older ones embed it as thread.fpu; both are found by CO-RE, and fpu->fpstate points to the
 *   buffer in both.
 *
 * Counters are read from a tp_btf sched_switch program: struct_ops
 * programs may call bpf_perf_event_read_value() only since 6.15 (it moved
 * into the base helpers then), tracing programs on every kernel with
 * sched_ext. The switch comes after ops.stopping, so what a period
 * measured applies from the task's next run on; a hinted task's periods
 * count as its level's. The counter path is written from Intel's and the
 * kernel's documentation; where there is no PMU, --counters software runs
 * its plumbing with the CPU's software clock as both clocks, so every
 * measured ratio must be 1.0.
 *
 * Limits: the classification lags one run (it reads the state saved when
 * the task last stopped). The license of a core is modelled, not measured:
 * held hold_us after an AVX task stops on a CPU, and for as long as an AVX
 * task runs on the sibling. The slowed time is charged at the ratio of the
 * highest level involved. 128-bit code is not detected (XMM state is in use
 * in nearly every task), so its level is never charged. Cores of more than
 * two threads use their first sibling only.
 */
#include "cz_common.bpf.h"
#include "cz_taskset.bpf.h"
#include "cz_wake.bpf.h"
#include "avxfreq.h"

char _license[] SEC("license") = "GPL";

enum {
	SHARED_DSQ		= 0,	/* the one vtime-ordered queue */
	NO_SIBLING		= -1,
	MAX_SCAN		= 64,	/* queued tasks looked at per dispatch */
	/* XSAVE state components (Intel SDM vol. 1, 13.1). */
	AVXF_XF_YMM		= 1ULL << 2,
	AVXF_XF_AVX512		= (1ULL << 5) | (1ULL << 6) | (1ULL << 7),
	/*
	 * The YMM upper halves: 16 registers x 16 bytes, the first extended
	 * component, at the same offset in standard and compacted format.
	 */
	YMM_HI_BYTES		= 16 * 16,
	YMM_CHUNK_WORDS		= 8,	/* read 64 bytes at a time */
	/* Measured frequencies: periods per level before they are used. */
	MIN_SAMPLES		= 16,
};

/* Set by the loader. */
const volatile u32 nr_cpus = 1;			/* possible CPUs */
const volatile s32 sibling_of[CZ_MAX_CPUS];	/* NO_SIBLING: none */
const volatile u32 ratio_q16[NR_LIC_LEVELS];	/* f_level / f_nominal */
const volatile u64 hold_ns;
const volatile u32 ctr_mask;	/* CTRS_* sets open on every CPU */

/* Is the whole counter set @set (CTRS_*) open? */
static __always_inline bool ctrs_open(u32 set)
{
	return (ctr_mask & set) == set;
}

/* The loader's perf events: CTR k of CPU c at k * CZ_MAX_CPUS + c. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
	__uint(max_entries, NR_CTRS * CZ_MAX_CPUS);
} counters SEC(".maps");

static u64 vtime_now;
static s64 nr_avx2, nr_avx512;	/* tasks classified, by level */

/*
 * Measured core/reference clock ratio of each level's periods (Q16),
 * and how many periods went in. Updated from every CPU without a lock:
 * a lost update only loses one sample.
 */
static u32 freq_q16[NR_LIC_LEVELS];
static u32 freq_samples[NR_LIC_LEVELS];

struct ctr_last {
	u64	count, enabled, running;
};

struct cpu_ctx {
	u64	started_at;	/* the current task's start; 0: none */
	u64	avx_since;	/* ... if it is wide-vector; 0: it is not */
	u32	cur_level;	/* its level */
	u32	held_level;	/* license held after wide code stopped here */
	u64	held_until;
	/* Counter readings at the last context switch ... */
	struct ctr_last	ctr[NR_CTRS];
	u64	ctr_at;		/* ... when they began (0: none yet) */
	u64	ctr_took;	/* ... and how long they took, in ns */
};

static struct cpu_ctx cpu_ctxs[CZ_MAX_CPUS];

struct task_ctx {
	u64	charged_sum;	/* se.sum_exec_runtime when last charged */
	u32	level;		/* enum avxfreq_level at its last run */
	u32	ctr_level;	/* ... its last period's instruction counts show */
	bool	slowed;		/* someone else's AVX code slowed this run */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

/* Kernels before 6.15 embed the FPU state in thread_struct. */
struct thread_struct___cz_fpu_embedded {
	struct fpu fpu;
} __attribute__((preserve_access_index));

struct task_struct___cz_fpu_embedded {
	struct thread_struct___cz_fpu_embedded thread;
} __attribute__((preserve_access_index));

static __always_inline u64 slice_ns(void)
{
	return cz_tunable(TUN_SLICE_US) * NSEC_PER_USEC;
}

static __always_inline struct cpu_ctx *cpu_ctx(s32 cpu)
{
	if (cpu < 0 || cpu >= CZ_MAX_CPUS)
		return NULL;
	/*
	 * A no-op after the check, but clang may index before it (and the
	 * verifier then sees an unbounded offset): the mask bounds it anyway.
	 */
	return &cpu_ctxs[cpu & (CZ_MAX_CPUS - 1)];
}

/* The task's saved FPU state buffer, or NULL. */
static struct fpstate *task_fpstate(struct task_struct *p)
{
	struct fpu *fpu;

	if (bpf_core_field_exists(struct thread_struct___cz_fpu_embedded, fpu))
		fpu = (void *)__builtin_preserve_access_index(
			&((struct task_struct___cz_fpu_embedded *)p)->thread.fpu);
	else
		fpu = (void *)p + bpf_core_type_size(struct task_struct);
	return BPF_CORE_READ(fpu, fpstate);
}

/* Any upper half of a YMM register not zero in the saved state? */
static bool ymm_dirty(struct fpstate *fps)
{
	u8 *area = (void *)__builtin_preserve_access_index(
		&fps->regs.xsave.extended_state_area);
	u64 w[YMM_CHUNK_WORDS];
	int off, i;

	for (off = 0; off < YMM_HI_BYTES; off += sizeof(w)) {
		if (bpf_probe_read_kernel(w, sizeof(w), area + off)) {
			cz_stat_inc(ST_XSAVE_FAIL);
			return false;
		}
		for (i = 0; i < YMM_CHUNK_WORDS; i++)
			if (w[i])
				return true;
	}
	return false;
}

/* The level the task's saved XSAVE state shows. */
static u32 xsave_level(struct task_struct *p)
{
	struct fpstate *fps;
	u64 in_use, enabled;

	if (p->flags & CZ_PF_KTHREAD)
		return LIC_NONE;
	fps = task_fpstate(p);
	if (!fps)
		return LIC_NONE;
	enabled = BPF_CORE_READ(fps, xfeatures);
	in_use = BPF_CORE_READ(fps, regs.xsave.header.xfeatures) & enabled;
	if (in_use & AVXF_XF_AVX512)
		return LIC_AVX512;
	if ((in_use & AVXF_XF_YMM) && ymm_dirty(fps))
		return LIC_AVX2;
	return LIC_NONE;
}

/* Count a task into (@delta 1) or out of (-1) the class of @level. */
static void class_add(u32 level, s64 delta)
{
	if (level == LIC_AVX2)
		__sync_fetch_and_add(&nr_avx2, delta);
	else if (level == LIC_AVX512)
		__sync_fetch_and_add(&nr_avx512, delta);
	else
		return;
	cz_stat_set(ST_AVX2_TASKS, nr_avx2);
	cz_stat_set(ST_AVX512_TASKS, nr_avx512);
}

/*
 * The task's level at this run: the higher of what its saved XSAVE state
 * shows and what an operator hint (task sets avx2, avx512) says.
 */
static void classify(struct task_struct *p, struct task_ctx *tctx)
{
	u32 level, hint = LIC_NONE, sets;

	if (ctrs_open(CTRS_WIDE)) {
		level = tctx->ctr_level;
		if (level != LIC_NONE)
			cz_stat_inc(ST_BY_COUNTER);
	} else {
		level = xsave_level(p);
		if (level != LIC_NONE)
			cz_stat_inc(ST_BY_XSAVE);
	}
	sets = cz_ts_match(p);
	if (sets & AVXF_SET_AVX512)
		hint = LIC_AVX512;
	else if (sets & AVXF_SET_AVX2)
		hint = LIC_AVX2;
	if (hint > level) {
		level = hint;
		cz_stat_inc(ST_BY_HINT);
	}
	if (level == tctx->level)
		return;
	class_add(tctx->level, -1);
	class_add(level, 1);
	tctx->level = level;
}

/* A sleeper may be owed at most one slice of CPU time. */
static u64 credited_vtime(const struct task_struct *p)
{
	return cz_credited_vtime(p, vtime_now, slice_ns());
}

s32 BPF_STRUCT_OPS(avxfreq_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	bool idle = false;
	s32 cpu = cz_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);

	cz_wake_select(p, wake_flags);
	if (idle) {
		/* The sleeper's cap holds for a direct start too. */
		cz_set_vtime(p, credited_vtime(p));
		cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), 0);
		cz_stat_inc(ST_DIRECT);
	}
	return cpu;
}

/*
 * Only a task that slept is a sleeper: one put back after its slice keeps
 * its vtime, however far it trails (lifting it would take back the credit
 * compensation gave it).
 */
void BPF_STRUCT_OPS(avxfreq_enqueue, struct task_struct *p, u64 enq_flags)
{
	bool woken = enq_flags & SCX_ENQ_WAKEUP;
	u64 vtime = woken ? credited_vtime(p) : p->scx.dsq_vtime;

	if (cz_loader_wakeup(p, enq_flags, slice_ns(), true) ||
	    cz_rescue_stranded(p, slice_ns(), enq_flags))
		return;
	cz_dsq_insert_vtime(p, SHARED_DSQ, slice_ns(), vtime, enq_flags);
	/* Its dispatch then finds the waking task owed more (waiting_before()). */
	if (woken && cz_tunable(TUN_WAKE_PREEMPT) &&
	    cz_wake_preempt(p, vtime, nr_cpus) >= 0)
		cz_stat_inc(ST_WAKE_PREEMPT);
}

void BPF_STRUCT_OPS(avxfreq_running, struct task_struct *p)
{
	struct cpu_ctx *c = cpu_ctx(bpf_get_smp_processor_id());
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u64 now = bpf_ktime_get_ns();

	if (cz_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	if (!c)
		return;
	c->started_at = now;
	c->avx_since = 0;
	cz_wake_running(p, cz_this_cpu(), true);
	c->cur_level = LIC_NONE;
	if (!tctx)
		return;
	tctx->charged_sum = p->se.sum_exec_runtime;
	tctx->slowed = false;
	classify(p, tctx);
	if (tctx->level != LIC_NONE) {
		c->cur_level = tctx->level;
		c->avx_since = now;
	}
}

/* The level with the larger frequency drop. */
static __always_inline u32 max_level(u32 a, u32 b)
{
	return a > b ? a : b;
}

/*
 * f_level / f_scalar: measured where both have enough samples, else the
 * model's.
 */
static u32 level_ratio(u32 level)
{
	if (level >= NR_LIC_LEVELS)
		return AVXF_ONE;
	if (freq_samples[level] >= MIN_SAMPLES &&
	    freq_samples[LIC_NONE] >= MIN_SAMPLES)
		return avxf_ratio64(freq_q16[level], freq_q16[LIC_NONE]);
	return ratio_q16[level];
}

/*
 * Of [t0, t1), how long this CPU's core was slowed by AVX code of other
 * tasks: a license this CPU still held when the task started, and AVX code
 * running on the SMT sibling (or a license the sibling held). *level is
 * the highest level involved.
 */
static u64 slowed_ns(s32 cpu, struct cpu_ctx *c, u64 t0, u64 t1, u32 *level)
{
	struct cpu_ctx *s = NULL;
	u64 s0 = 0, s1 = 0;
	s32 sib;

	*level = LIC_NONE;
	if (cpu >= 0 && cpu < CZ_MAX_CPUS) {
		sib = sibling_of[cpu];
		s = cpu_ctx(sib);
	}
	if (c->held_until > t0)
		*level = c->held_level;
	if (s) {
		/* Racy reads of the sibling's record: an estimate either way. */
		u64 since = s->avx_since, until = s->held_until;

		if (since) {
			s0 = since > t0 ? since : t0;
			s1 = t1;
			*level = max_level(*level, s->cur_level);
		} else if (until > t0) {
			s0 = t0;
			s1 = until;
			*level = max_level(*level, s->held_level);
		}
	}
	return avxf_union(t0, c->held_until < t1 ? c->held_until : t1,
			  s0, s1 < t1 ? s1 : t1);
}

/*
 * Charge @p, running on @cpu, for its CPU time since the last charge, and
 * start the next one at @now: in full if it is wide-vector (its core then
 * holds the license for hold_ns), at the model's ratio for the part during
 * which other tasks' AVX code slowed its core otherwise.
 */
static void charge(struct task_struct *p, s32 cpu, struct cpu_ctx *c, u64 now)
{
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	u32 level = tctx ? tctx->level : LIC_NONE;
	u64 sum = p->se.sum_exec_runtime, t0 = c->started_at, ran, charged;

	/*
	 * CPU time as the kernel accounts it (what schedstat shows), not wall
	 * time: under a busy hypervisor or heavy interrupts the two differ,
	 * and fairness is about the former.
	 */
	c->started_at = now;
	if (!tctx)
		return;
	ran = sum - tctx->charged_sum;
	tctx->charged_sum = sum;
	charged = ran;

	if (level == LIC_AVX2) {
		cz_stat_add(ST_CPU_AVX2_NS, ran);
	} else if (level == LIC_AVX512) {
		cz_stat_add(ST_CPU_AVX512_NS, ran);
	} else {
		u32 slow_level;
		u64 slowed = slowed_ns(cpu, c, t0, now, &slow_level);

		/* Wall-clock overlap, in CPU time: at most what it ran. */
		if (slowed > ran)
			slowed = ran;
		cz_stat_add(ST_CPU_SCALAR_NS, ran);
		if (slowed && slow_level < NR_LIC_LEVELS) {
			tctx->slowed = true;
			cz_stat_add(ST_SLOWED_NS, slowed);
			if (cz_tunable(TUN_COMPENSATE))
				charged = avxf_charge(ran, slowed, level_ratio(slow_level),
						      avxf_pct_q16(cz_tunable(TUN_MIN_CHARGE_PCT)));
			cz_stat_add(ST_CREDIT_NS, ran - charged);
		}
	}
	if (level != LIC_NONE && level < NR_LIC_LEVELS) {
		c->held_level = level;
		c->held_until = now + hold_ns;
	}
	if (p->scx.weight)
		cz_set_vtime(p, p->scx.dsq_vtime + charged * 100 / p->scx.weight);
}

/* Does a task that may run on @cpu wait with a vtime before @vtime? */
static bool waiting_before(s32 cpu, u64 vtime)
{
	struct task_struct *p;
	u32 scanned = 0;

	bpf_for_each(scx_dsq, p, SHARED_DSQ, 0) {
		if (++scanned > MAX_SCAN)
			return true;	/* unknown: let the queue decide */
		if (bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
			return cz_vtime_before(p->scx.dsq_vtime, vtime);
	}
	return false;
}

/*
 * The kernel asks for work before it puts back a task whose slice ran out,
 * so consuming the queue right away would let two hogs take turns slice by
 * slice, whatever they were charged. Charge it first, and keep it running
 * for another slice while no task that may run here is owed more.
 */
void BPF_STRUCT_OPS(avxfreq_dispatch, s32 cid, struct task_struct *prev)
{
	s32 cpu = cz_real_cpu(cid);	/* the per-CPU state is by real CPU */
	struct cpu_ctx *c = cpu_ctx(cpu);

	if (prev && (prev->scx.flags & SCX_TASK_QUEUED) && c && c->started_at) {
		charge(prev, cpu, c, bpf_ktime_get_ns());
		if (!waiting_before(cpu, prev->scx.dsq_vtime)) {
			cz_set_slice(prev, slice_ns());
			cz_wake_running(prev, cid, true);	/* charged */
			cz_stat_inc(ST_KEPT);
			return;
		}
	}
	cz_dsq_move_to_local(SHARED_DSQ);
}

void BPF_STRUCT_OPS(avxfreq_stopping, struct task_struct *p, bool runnable)
{
	s32 cpu = bpf_get_smp_processor_id();
	struct cpu_ctx *c = cpu_ctx(cpu);

	if (!c || !c->started_at)
		return;
	charge(p, cpu, c, bpf_ktime_get_ns());
	c->started_at = 0;
	c->avx_since = 0;
	cz_wake_stopping(cz_this_cpu());
}

/*
 * Counter @k's increase on @cpu since the last switch there, into *@delta;
 * false if it cannot be read, or was multiplexed off the PMU for part of
 * the period (its count then covers only part of it).
 */
static bool ctr_delta(u32 k, s32 cpu, struct cpu_ctx *c, u64 *delta)
{
	struct bpf_perf_event_value v;
	struct ctr_last *l;
	bool whole;

	if (k >= NR_CTRS)
		return false;
	if (bpf_perf_event_read_value(&counters, k * CZ_MAX_CPUS + cpu, &v, sizeof(v)))
		return false;
	l = &c->ctr[k];
	*delta = v.counter - l->count;
	whole = v.enabled - l->enabled == v.running - l->running;
	l->count = v.counter;
	l->enabled = v.enabled;
	l->running = v.running;
	return whole;
}

/* The period's frequency over the reference clock into @level's average. */
static void learn_freq(u32 level, u32 sample)
{
	if (level >= NR_LIC_LEVELS)
		return;
	freq_q16[level] = freq_samples[level] ?
			  avxf_ewma(freq_q16[level], sample) : sample;
	if (freq_samples[level] < MIN_SAMPLES)
		freq_samples[level]++;
	cz_stat_set(ST_RATIO_AVX2_PM, avxf_q16_pm(level_ratio(LIC_AVX2)));
	cz_stat_set(ST_RATIO_AVX512_PM, avxf_q16_pm(level_ratio(LIC_AVX512)));
}

/*
 * What the period @prev just ran on this CPU measured: its own wide-vector
 * work (its level at its next run) and the frequency it ran at, a sample
 * of its level's frequency unless it was a scalar task someone else's AVX
 * code slowed (that frequency is the AVX level's, by another's doing).
 * The idle task's periods only move the readings on. Loaded only when the
 * loader opened counters: otherwise it would run on every switch for
 * nothing.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(avxfreq_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	s32 cpu = bpf_get_smp_processor_id();
	struct cpu_ctx *c = cpu_ctx(cpu);
	u64 d[NR_CTRS] = {};
	struct task_ctx *tctx;
	u64 at, took, last_at;
	bool whole = true, tight;
	u32 k;

	if (!c)
		return 0;
	at = bpf_ktime_get_ns();
	for (k = 0; k < NR_CTRS; k++)
		if ((ctr_mask & (1u << k)) && !ctr_delta(k, cpu, c, &d[k]))
			whole = false;
	took = bpf_ktime_get_ns() - at;
	last_at = c->ctr_at;
	tight = avxf_reads_tight(c->ctr_took, took, at - last_at);
	c->ctr_at = at;
	c->ctr_took = took;
	if (!last_at || !prev->pid)
		return 0;
	if (!whole) {
		cz_stat_inc(ST_CTR_SKIPPED);
		return 0;
	}
	tctx = bpf_task_storage_get(&task_ctxs, prev, 0, 0);
	if (!tctx)
		return 0;
	cz_stat_inc(ST_CTR_PERIODS);
	if (ctrs_open(CTRS_WIDE))
		tctx->ctr_level = avxf_wide_level(d[CTR_WIDE256], d[CTR_WIDE512],
						  d[CTR_CYCLES]);
	if (tctx->level == LIC_NONE && tctx->slowed)
		return 0;
	if (tight)
		learn_freq(tctx->level, avxf_ratio64(d[CTR_CYCLES], d[CTR_REF]));
	else
		cz_stat_inc(ST_CTR_LOOSE);
	return 0;
}

void BPF_STRUCT_OPS(avxfreq_enable, struct task_struct *p)
{
	cz_set_vtime(p, vtime_now);
}

s32 BPF_STRUCT_OPS(avxfreq_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	if (!cz_task_ctx_create(&task_ctxs, p))
		return -ENOMEM;
	return 0;
}

/* A task that leaves no longer counts in its class. */
void BPF_STRUCT_OPS(avxfreq_exit_task, struct task_struct *p,
		    struct scx_exit_task_args *args)
{
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0, 0);

	if (!tctx)
		return;
	class_add(tctx->level, -1);
	tctx->level = LIC_NONE;
}

s32 BPF_STRUCT_OPS_SLEEPABLE(avxfreq_init)
{
	struct task_struct *self = bpf_get_current_task_btf();
	struct fpstate *fps = task_fpstate(self);
	u64 enabled = fps ? BPF_CORE_READ(fps, xfeatures) : 0;

	/* The loader's own state says whether the kernel saves YMM at all. */
	if (ctrs_open(CTRS_WIDE))
		cz_stat_set(ST_SOURCE, SRC_COUNTERS);
	else
		cz_stat_set(ST_SOURCE, enabled & AVXF_XF_YMM ? SRC_XSAVE : SRC_HINTS);
	cz_stat_set(ST_FREQ_SOURCE, ctrs_open(CTRS_FREQ) ? FREQ_COUNTERS : FREQ_MODEL);
	cz_stat_set(ST_RATIO_AVX2_PM, avxf_q16_pm(ratio_q16[LIC_AVX2]));
	cz_stat_set(ST_RATIO_AVX512_PM, avxf_q16_pm(ratio_q16[LIC_AVX512]));
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

void BPF_STRUCT_OPS(avxfreq_exit, struct scx_exit_info *ei)
{
	cz_record_exit(ei);
}

CZ_OPS_DEFINE(avxfreq_ops, avxfreq_select_cpu,
	.enqueue	= (void *)avxfreq_enqueue,
	.dispatch	= (void *)avxfreq_dispatch,
	.running	= (void *)avxfreq_running,
	.stopping	= (void *)avxfreq_stopping,
	.enable		= (void *)avxfreq_enable,
	.init_task	= (void *)avxfreq_init_task,
	.exit_task	= (void *)avxfreq_exit_task,
	.init		= (void *)avxfreq_init,
	.exit		= (void *)avxfreq_exit,
	.name		= "avxfreq");
