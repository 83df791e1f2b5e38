/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq: what the BPF side, the loader and the unit tests share: the
 * statistics and live tunables (each declared once), the license levels,
 * and the compensation arithmetic. The arithmetic is here, not in the BPF
 * file, so that the unit tests check the very code the policy runs.
 *
 * Fixed point: frequency ratios are Q16 (AVXF_ONE = 1.0). A ratio is
 * f_actual / f_nominal of one license level; a task that ran @ran ns, of
 * which @slowed ns on a core slowed by someone else's wide-vector code, is
 * charged ran - slowed * (1 - ratio). Every product is split so that no
 * u64 overflows, whatever the runtime.
 *
 * Counters: where the loader could open them, per-CPU perf events give
 * each on-CPU period's core and reference clock ticks (their quotient is
 * the frequency the period ran at) and its 256- and 512-bit FP
 * instructions retired (the task's own wide-vector work).
 */
#ifndef __AVXFREQ_H
#define __AVXFREQ_H

#include "cz_shared.h"

#define AVXFREQ_STATS(X)						\
	X(ST_AVX2_TASKS, "avx2_tasks", CZ_STAT_GAUGE,			\
	  "tasks classified AVX2 (256-bit) at their last run")		\
	X(ST_AVX512_TASKS, "avx512_tasks", CZ_STAT_GAUGE,		\
	  "tasks classified AVX-512 at their last run")			\
	X(ST_SOURCE, "source", CZ_STAT_GAUGE,				\
	  "best detection source in use: 1 XSAVE state, 2 operator hints only, " \
	  "3 wide-vector instruction counters")				\
	X(ST_FREQ_SOURCE, "freq_source", CZ_STAT_GAUGE,		\
	  "frequencies from: 1 the model, 2 clock counters (model until measured)") \
	X(ST_RATIO_AVX2_PM, "ratio_avx2_pm", CZ_STAT_GAUGE,		\
	  "256-bit frequency over scalar frequency in use, per mille")	\
	X(ST_RATIO_AVX512_PM, "ratio_avx512_pm", CZ_STAT_GAUGE,	\
	  "512-bit frequency over scalar frequency in use, per mille")	\
	X(ST_CTR_PERIODS, "ctr_periods", CZ_STAT_COUNTER,		\
	  "on-CPU periods measured with the counters")			\
	X(ST_CTR_SKIPPED, "ctr_skipped", CZ_STAT_COUNTER,		\
	  "on-CPU periods not measured: a counter read failed or was multiplexed") \
	X(ST_CTR_LOOSE, "ctr_loose", CZ_STAT_COUNTER,			\
	  "measured periods not taken as frequency samples: the clocks' "	\
	  "readings took over 1/128 of the period (a stalled CPU)")	\
	X(ST_BY_COUNTER, "by_counter", CZ_STAT_COUNTER,		\
	  "runs classified wide-vector from the instruction counters")	\
	X(ST_BY_XSAVE, "by_xsave", CZ_STAT_COUNTER,			\
	  "runs classified wide-vector from the task's saved XSAVE state") \
	X(ST_BY_HINT, "by_hint", CZ_STAT_COUNTER,			\
	  "runs classified wide-vector by an operator hint (task sets)")	\
	X(ST_CREDIT_NS, "credit_ns", CZ_STAT_COUNTER,			\
	  "compensation: ns of CPU time not charged to slowed tasks")	\
	X(ST_SLOWED_NS, "slowed_ns", CZ_STAT_COUNTER,			\
	  "ns that non-AVX tasks ran on a core slowed by others' AVX code") \
	X(ST_CPU_SCALAR_NS, "cpu_scalar_ns", CZ_STAT_COUNTER,		\
	  "CPU time of tasks not classified wide-vector")		\
	X(ST_CPU_AVX2_NS, "cpu_avx2_ns", CZ_STAT_COUNTER,		\
	  "CPU time of tasks classified AVX2")				\
	X(ST_CPU_AVX512_NS, "cpu_avx512_ns", CZ_STAT_COUNTER,		\
	  "CPU time of tasks classified AVX-512")			\
	X(ST_DIRECT, "direct", CZ_STAT_COUNTER,			\
	  "wakeups placed straight on an idle CPU")			\
	X(ST_WAKE_PREEMPT, "wake_preempt", CZ_STAT_COUNTER,		\
	  "CPUs preempted for a waking task owed over 1 ms more than the one running") \
	X(ST_KEPT, "kept", CZ_STAT_COUNTER,				\
	  "slices renewed because no task that may run there was owed more") \
	X(ST_XSAVE_FAIL, "xsave_fail", CZ_STAT_COUNTER,		\
	  "saved XSAVE states that could not be read")

enum avxfreq_stat {
	AVXFREQ_STATS(CZ_STAT_ENUM)
	NR_AVXFREQ_STATS
};

#define AVXFREQ_TUNABLES(X)						\
	X(TUN_SLICE_US, "slice_us", 100, 10 * 1000 * 1000, 20000,	\
	  "Time slice in microseconds")					\
	X(TUN_MIN_CHARGE_PCT, "min_charge_pct", 1, 100, 50,		\
	  "Lowest charge for slowed time, in percent of the runtime (clamp)") \
	X(TUN_COMPENSATE, "compensate", 0, 1, 1,			\
	  "1: charge slowed tasks by the frequency they got; 0: plain vtime") \
	X(TUN_WAKE_PREEMPT, "preempt_on_wake", 0, 1, 1,			\
	  "1: a waking task owed more than a running one preempts it; "	\
	  "0: it waits for a slice to end")

enum avxfreq_tunable {
	AVXFREQ_TUNABLES(CZ_TUNABLE_ENUM)
	NR_AVXFREQ_TUNABLES
};

/* License levels: what the widest vector code that ran does to a core. */
enum avxfreq_level {
	LIC_NONE,	/* scalar or 128-bit: no AVX frequency drop modelled */
	LIC_AVX2,	/* 256-bit */
	LIC_AVX512,	/* 512-bit */
	NR_LIC_LEVELS,
};

/* Values of the "source" statistic. */
enum avxfreq_source {
	SRC_XSAVE	= 1,
	SRC_HINTS	= 2,
	SRC_COUNTERS	= 3,
};

/* Values of the "freq_source" statistic. */
enum avxfreq_freq_source {
	FREQ_MODEL	= 1,
	FREQ_COUNTERS	= 2,
};

/*
 * Per-CPU counters the loader may open; counter k of CPU c is entry
 * k * CZ_MAX_CPUS + c of the BPF side's perf event array.
 */
enum avxfreq_ctr {
	CTR_CYCLES,	/* core clock while not halted (APERF, cycles) */
	CTR_REF,	/* reference clock while not halted (MPERF, ref-cycles) */
	CTR_WIDE256,	/* 256-bit packed FP instructions retired */
	CTR_WIDE512,	/* 512-bit packed FP instructions retired */
	NR_CTRS,
};

/* Counter sets, as bits of ctr_mask: the loader opens whole sets only. */
enum {
	CTRS_FREQ	= (1u << CTR_CYCLES) | (1u << CTR_REF),
	CTRS_WIDE	= (1u << CTR_WIDE256) | (1u << CTR_WIDE512),
};

/* Task sets of the operator hints (bit i: the loader's sets[i]). */
enum {
	AVXF_SET_AVX2	= 1u << 0,
	AVXF_SET_AVX512	= 1u << 1,
};

enum {
	AVXF_SHIFT	= 16,
	AVXF_ONE	= 1u << AVXF_SHIFT,	/* ratio 1.0 in Q16 */
	AVXF_FRAC_MASK	= AVXF_ONE - 1,
	AVXF_EWMA_SHIFT	= 3,	/* a new frequency sample weighs 1/8 */
	/*
	 * A period is wide-vector if it retired at least one wide FP
	 * instruction per this many core cycles. A guess (dense AVX loops
	 * retire about one per cycle, scalar code that calls a vectorised
	 * libc routine far fewer), not calibrated on hardware.
	 */
	AVXF_WIDE_CYCLES = 1000,
	AVXF_TIGHT_SHIFT = 7,	/* see avxf_reads_tight() */
};

/* Q16 of @pct percent (0-100). */
static inline u32 avxf_pct_q16(u32 pct)
{
	return (u32)(((u64)pct << AVXF_SHIFT) / 100);
}

/* Q16 ratio of @f to @base (any positive u32s); 0 if base is 0. */
static inline u32 avxf_ratio_q16(u32 f, u32 base)
{
	u64 r;

	if (!base)
		return 0;
	r = ((u64)f << AVXF_SHIFT) / base;
	return r > 0xffffffffull ? 0xffffffffu : (u32)r;
}

/*
 * Q16 of @num / @den for 64-bit counts (deltas of clock counters, which
 * may be large): both are scaled down until @num << 16 fits. 0 if @den is
 * 0; saturates at the u32 maximum.
 */
static inline u32 avxf_ratio64(u64 num, u64 den)
{
	u64 r;
	int i;

	if (!den)
		return 0;
	for (i = 0; i < AVXF_SHIFT + 1 && (num >> (63 - AVXF_SHIFT)); i++) {
		num >>= 1;
		den >>= 1;
	}
	if (!den)
		return 0xffffffffu;
	r = (num << AVXF_SHIFT) / den;
	return r > 0xffffffffull ? 0xffffffffu : (u32)r;
}

/* The running average @avg moved 1/8 of the way to @sample. */
static inline u32 avxf_ewma(u32 avg, u32 sample)
{
	if (sample >= avg)
		return avg + ((sample - avg) >> AVXF_EWMA_SHIFT);
	return avg - ((avg - sample) >> AVXF_EWMA_SHIFT);
}

/*
 * The level of one on-CPU period from its own counts: its 256-bit and
 * 512-bit FP instructions retired and the core cycles it ran.
 */
static inline u32 avxf_wide_level(u64 w256, u64 w512, u64 cycles)
{
	u64 min = cycles / AVXF_WIDE_CYCLES;

	if (!min)
		min = 1;
	if (w512 >= min)
		return LIC_AVX512;
	if (w256 + w512 >= min)
		return LIC_AVX2;
	return LIC_NONE;
}

/*
 * May a period of @period_ns count as a frequency sample when reading its
 * clocks took @took_start ns at its start and @took_end ns at its end?
 * The clocks are read one after the other, so its ratio is off by up to
 * the two readings' time over its length: at most 1/2^AVXF_TIGHT_SHIFT
 * (0.8%) is allowed, so that a stall between the two readings (a vCPU
 * descheduled by its host) is not averaged into the level's ratio.
 */
static inline bool avxf_reads_tight(u64 took_start, u64 took_end, u64 period_ns)
{
	u64 took = took_start + took_end;

	return took <= period_ns >> AVXF_TIGHT_SHIFT;
}

/* Q16 @q in per mille, for statistics. */
static inline u64 avxf_q16_pm(u32 q)
{
	return ((u64)q * 1000 + AVXF_ONE / 2) >> AVXF_SHIFT;
}

/* @ratio clamped to [@min, 1.0]; @min above 1.0 counts as 1.0. */
static inline u32 avxf_clamp(u32 ratio, u32 min)
{
	if (min > AVXF_ONE)
		min = AVXF_ONE;
	if (ratio < min)
		return min;
	return ratio > AVXF_ONE ? AVXF_ONE : ratio;
}

/*
 * @ns * @q / 1.0 for q <= 1.0, exact to within 1 ns and without overflow:
 * the high and low 16 bits of @ns are scaled separately.
 */
static inline u64 avxf_scale(u64 ns, u32 q)
{
	if (q >= AVXF_ONE)
		return ns;
	return (ns >> AVXF_SHIFT) * q + (((ns & AVXF_FRAC_MASK) * q) >> AVXF_SHIFT);
}

/*
 * What a task that ran @ran ns pays, @slowed of them (at most @ran) on a
 * core running at @ratio of its nominal frequency: the slowed part is
 * charged at the clamped ratio, the rest in full.
 */
static inline u64 avxf_charge(u64 ran, u64 slowed, u32 ratio, u32 min)
{
	if (slowed > ran)
		slowed = ran;
	return ran - slowed + avxf_scale(slowed, avxf_clamp(ratio, min));
}

/*
 * Length of the union of [a0, a1) and [b0, b1) (an interval whose end is
 * not after its start is empty): how long a task was slowed when two
 * causes (its own CPU's held license, its SMT sibling's) may overlap.
 */
static inline u64 avxf_union(u64 a0, u64 a1, u64 b0, u64 b1)
{
	u64 la = a1 > a0 ? a1 - a0 : 0, lb = b1 > b0 ? b1 - b0 : 0;
	u64 lo, hi;

	if (!la)
		return lb;
	if (!lb)
		return la;
	lo = a0 > b0 ? a0 : b0;
	hi = a1 < b1 ? a1 : b1;
	return la + lb - (hi > lo ? hi - lo : 0);
}

#endif /* __AVXFREQ_H */
