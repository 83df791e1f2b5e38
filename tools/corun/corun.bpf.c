/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-corun, BPF side: on every context switch, charge the time since the
 * core's last change to the classes its lanes (SMT siblings) were running,
 * and to co-run when one lane ran set A while the other ran set B; then
 * note the class of the task coming in.
 *
 * Key choices:
 * - tp_btf/sched_switch and nothing of sched_ext: the meter measures
 *   whatever scheduler is running, the fair class included.
 * - One record per physical core (corun.h), changed by both siblings under
 *   its spin lock, so both lanes' classes and the interval start are always
 *   seen together.
 * - A lane that never switches (a lone hog) is never seen by the
 *   tracepoint, so after attach a task iterator (corun_seed) finds what
 *   runs on the lanes not seen yet: no kernel symbols (rq->curr would
 *   need CONFIG_KALLSYMS_ALL), only task fields. corun_start then zeroes
 *   the counters, so the window starts at one instant on every core;
 *   corun_stop ends it at one instant the same way, and later switches
 *   are not counted.
 * - Timestamps are taken before the lock (no helper may run under it), so
 *   a sibling can have moved `since` past ours: that interval counts as
 *   zero, not as a wrapped-around negative number.
 * - A task in both sets counts as A.
 */
/* Some kernels' BTF dumps contain empty forward declarations in structs. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wmissing-declarations"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cz_taskset.bpf.h"
#include "corun.h"

char _license[] SEC("license") = "GPL";

/* Linux's PF_KTHREAD; not in BTF because it is a #define. */
#define PF_KTHREAD	0x00200000

const volatile u32 nr_cpus = 1;
const volatile u32 cpu_core[CORUN_MAX_CPUS];	/* index into cores, or CORUN_NO_CORE */
const volatile u32 cpu_lane[CORUN_MAX_CPUS];
const volatile bool b_is_rest;	/* no B rules: B is every user task not in A */

u64 start_ns, stop_ns;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CORUN_MAX_CPUS);
	__type(key, u32);
	__type(value, struct corun_core);
} cores SEC(".maps");

static __always_inline u32 classify(struct task_struct *p)
{
	u32 sets;

	/* pid 0 is each CPU's idle task, whatever its comm matches. */
	if (!p || !BPF_CORE_READ(p, pid))
		return CORUN_OTHER;
	sets = cz_ts_match(p);
	if (sets & CORUN_SET_A)
		return CORUN_A;
	if (b_is_rest ? !(BPF_CORE_READ(p, flags) & PF_KTHREAD) :
			!!(sets & CORUN_SET_B))
		return CORUN_B;
	return CORUN_OTHER;
}

static __always_inline struct corun_core *core_of(u32 cpu, u32 *lane)
{
	u32 idx;

	if (cpu >= CORUN_MAX_CPUS)
		return NULL;
	idx = cpu_core[cpu];
	if (idx == CORUN_NO_CORE)
		return NULL;
	*lane = cpu_lane[cpu] & 1;
	return bpf_map_lookup_elem(&cores, &idx);
}

/* Charge [since, now) to what both lanes ran. Called under c->lock. */
static __always_inline void advance(struct corun_core *c, u64 now)
{
	u32 c0 = c->cls[0], c1 = c->cls[1];
	u64 d;

	if ((s64)(now - c->since) <= 0)
		return;
	d = now - c->since;
	c->since = now;
	if (c0 < NR_CORUN_CLASSES)
		c->ns[c0] += d;
	if (c1 < NR_CORUN_CLASSES)
		c->ns[c1] += d;
	if ((c0 == CORUN_A && c1 == CORUN_B) || (c0 == CORUN_B && c1 == CORUN_A)) {
		c->corun_ns += d;
		c->corun_spans++;
		if (d > c->corun_max_ns)
			c->corun_max_ns = d;
	}
}

SEC("tp_btf/sched_switch")
int BPF_PROG(corun_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	u32 cls = classify(next), lane = 0;
	u64 now = bpf_ktime_get_ns();
	struct corun_core *c = core_of(bpf_get_smp_processor_id(), &lane);

	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	if (c->phase == CORUN_MEASURING)
		advance(c, now);
	if (c->phase != CORUN_STOPPED)
		c->cls[lane] = cls;
	bpf_spin_unlock(&c->lock);
	return 0;
}

/*
 * Run once by userspace after attach, over every task: a task on a CPU
 * whose lane has not switched since attach is what that lane is running.
 * (on_cpu is set only after the switch tracepoint has fired on that CPU,
 * so a lane that switched since attach is never overwritten with stale
 * news.) Lanes that see no task stay unseen: they run their idle task.
 */
SEC("iter/task")
int corun_seed(struct bpf_iter__task *ctx)
{
	struct task_struct *p = ctx->task;
	struct corun_core *c;
	u32 cls, lane = 0;

	/* on_cpu is an int on 6.16 and a u8 on 7.3: read it by its size. */
	if (!p || !BPF_CORE_READ_BITFIELD_PROBED(p, on_cpu))
		return 0;
	c = core_of(BPF_CORE_READ(p, thread_info.cpu), &lane);
	if (!c)
		return 0;
	cls = classify(p);
	bpf_spin_lock(&c->lock);
	if (c->cls[lane] == CORUN_UNSEEN)
		c->cls[lane] = cls;
	bpf_spin_unlock(&c->lock);
	return 0;
}

/* Run once by userspace after corun_seed: open the window on every core. */
SEC("syscall")
int corun_start(void *ctx)
{
	u64 now = bpf_ktime_get_ns();
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		struct corun_core *c;
		u32 lane = 0;

		c = core_of(cpu, &lane);
		if (!c)
			continue;
		bpf_spin_lock(&c->lock);
		if (c->cls[lane] == CORUN_UNSEEN)
			c->cls[lane] = CORUN_OTHER;
		__builtin_memset(c->ns, 0, sizeof(c->ns));
		c->corun_ns = 0;
		c->corun_spans = 0;
		c->corun_max_ns = 0;
		c->since = now;
		c->phase = CORUN_MEASURING;
		bpf_spin_unlock(&c->lock);
	}
	start_ns = now;
	return 0;
}

/* Run once by userspace before detach: close every core's open interval. */
SEC("syscall")
int corun_stop(void *ctx)
{
	u64 now = bpf_ktime_get_ns();
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		struct corun_core *c;
		u32 lane = 0;

		c = core_of(cpu, &lane);
		if (!c)
			continue;
		bpf_spin_lock(&c->lock);
		if (c->phase == CORUN_MEASURING) {
			advance(c, now);
			c->phase = CORUN_STOPPED;
		}
		bpf_spin_unlock(&c->lock);
	}
	stop_ns = now;
	return 0;
}
