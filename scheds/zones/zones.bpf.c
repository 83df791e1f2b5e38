/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_zones: the root scheduler of cgroup zones (kernel 7.3 sub-schedulers).
 *
 * Policy
 * - The loader names up to ZONES_MAX zones: a cgroup and the CPUs it owns.
 *   When a controlzone scheduler attaches to a zone's cgroup as a
 *   sub-scheduler (scx_NAME --cgroup PATH), this root grants it the zone's
 *   CPUs with every queueing capability (ENQ, ENQ_IMMED, PREEMPT): from then
 *   on that scheduler alone decides what the zone's tasks run and where,
 *   within those CPUs. A cgroup that is not a configured zone is refused.
 * - Work-conserving: a zone CPU whose scheduler has nothing to run is lent
 *   to the tasks outside the zones, for a short slice (lend_us, live), so
 *   the zone gets it back within lend_us; with PREEMPT the zone's scheduler
 *   may also take it back at once.
 * - Everything outside the zones (and a zone's tasks before its scheduler
 *   attaches, and after it goes) is scheduled here: weighted vtime in one
 *   queue (runtime * 100 / weight, a sleeper's credit capped at one slice),
 *   on the CPUs no zone owns, an idle one for a waking task when there is
 *   one. Per-CPU kernel threads run where they must, zone CPUs included.
 *
 * This is the cid form only (CZ_CID): the kernel attaches sub-schedulers
 * only under a sched_ext_ops_cid root. CPUs are cids here; the zones'
 * CPU lists are turned into cids when a zone's scheduler attaches.
 */
#include "cz_common.bpf.h"
#include "zones.h"

char _license[] SEC("license") = "GPL";

enum {
	ROOT_DSQ	= 0,
	GRANT_CAPS	= SCX_CAP_ENQ_IMMED | SCX_CAP_ENQ | SCX_CAP_PREEMPT,
};

const volatile u32 nr_zones;
const volatile struct zone_cfg zones[ZONES_MAX];

/* Per cid: 0, the root's; z + 1, granted to zone z's scheduler. */
static u32 cid_owner[CZ_MAX_CPUS];
/* Per cid: a root task lent to the zone runs there; when it started. */
static bool cid_lent[CZ_MAX_CPUS];
static u64 cid_started[CZ_MAX_CPUS];
/* The newest vtime a task started with: the fair "now". */
static u64 vtime_now;

/* The zone's capability mask for scx_bpf_sub_grant(): in the arena. */
union grant_mask {
	struct scx_cmask	m;
	u64			raw[2 + ZONES_WORDS + 1];
};
static union grant_mask __attribute__((address_space(1))) grant;

static __always_inline u64 slice_ns(void)
{
	return cz_tunable(TUN_SLICE_US) * NSEC_PER_USEC;
}

static __always_inline u64 lend_ns(void)
{
	return cz_tunable(TUN_LEND_US) * NSEC_PER_USEC;
}

static __always_inline u32 owner_of(s32 cid)
{
	u32 i = cid;	/* one unsigned bound the verifier keeps */

	return i < CZ_MAX_CPUS ? cid_owner[i] : 0;
}

/* The zone stat of zone @z: the slot of zone 0's plus a stride. */
static __always_inline void zone_stat(u32 z, u32 zone0_slot, u64 n)
{
	cz_stat_add(zone0_slot + z * ZONE_STAT_STRIDE, n);
}

static __always_inline void zone_gauge(u32 z, u32 zone0_slot, u64 v)
{
	cz_stat_set(zone0_slot + z * ZONE_STAT_STRIDE, v);
}

/*
 * An idle CPU for a task outside the zones: @prev if it is the root's and
 * idle, else any idle CPU of the root's, else an idle zone CPU (lent).
 */
static s32 pick_idle(const struct task_struct *p, s32 prev)
{
	u32 nr = scx_bpf_nr_cids(), lend;
	s32 cid;

	if (!owner_of(prev) && cz_may_run(p, prev) && cz_test_and_clear_idle(prev))
		return prev;
	bpf_for(lend, 0, 2) {
		bpf_for(cid, 0, nr) {
			if (!owner_of(cid) == !lend && cz_may_run(p, cid) &&
			    cz_test_and_clear_idle(cid))
				return cid;
		}
	}
	return -1;
}

s32 BPF_STRUCT_OPS(zones_select_cpu, struct task_struct *p, s32 prev,
		   u64 wake_flags)
{
	s32 cid;

	if (cz_is_percpu_kthread(p))
		return prev;
	cid = pick_idle(p, prev);
	if (cid < 0)
		return prev;
	cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), 0);
	return cid;
}

void BPF_STRUCT_OPS(zones_enqueue, struct task_struct *p, u64 enq_flags)
{
	s32 cid;

	if (cz_is_percpu_kthread(p)) {
		cz_dsq_insert(p, SCX_DSQ_LOCAL, slice_ns(), enq_flags);
		return;
	}
	if (cz_loader_wakeup(p, enq_flags, slice_ns(), true))
		return;
	cz_dsq_insert_vtime(p, ROOT_DSQ, slice_ns(),
			    cz_credited_vtime(p, vtime_now, slice_ns()), enq_flags);
	/* Nobody else wakes an idle CPU for a task queued here. */
	cid = pick_idle(p, cz_task_cpu(p));
	if (cid >= 0)
		cz_kick(cid, SCX_KICK_IDLE);
}

void BPF_STRUCT_OPS(zones_dispatch, s32 cid, struct task_struct *prev)
{
	u32 owner = owner_of(cid), z, i = cid;
	bool lent;

	if (!owner) {
		cz_dsq_move_to_local(ROOT_DSQ);
		return;
	}
	z = owner - 1;
	if (z >= ZONES_MAX)
		return;
	lent = i < CZ_MAX_CPUS && cid_lent[i];
	if (scx_bpf_sub_dispatch(zones[z].cgid)) {
		zone_stat(z, ST_Z0_RUNS, 1);
		if (lent)
			zone_stat(z, ST_Z0_RECLAIMED, 1);
		return;
	}
	/* The zone has nothing to run here: lend the CPU. */
	if (cz_dsq_move_to_local(ROOT_DSQ))
		zone_stat(z, ST_Z0_LENT, 1);
}

void BPF_STRUCT_OPS(zones_running, struct task_struct *p)
{
	u32 cid = cz_this_cpu();

	if (cz_vtime_before(vtime_now, p->scx.dsq_vtime))
		vtime_now = p->scx.dsq_vtime;
	if (cid >= CZ_MAX_CPUS)
		return;
	cid_started[cid] = bpf_ktime_get_ns();
	cid_lent[cid] = cid_owner[cid] != 0;
	if (!cid_lent[cid]) {
		cz_stat_inc(ST_ROOT_RUNS);
		return;
	}
	/* On a zone's CPU: only until the zone may want it back. */
	if (p->scx.slice > lend_ns())
		cz_set_slice(p, lend_ns());
}

void BPF_STRUCT_OPS(zones_stopping, struct task_struct *p, bool runnable)
{
	u32 cid = cz_this_cpu();

	if (cid >= CZ_MAX_CPUS || !cid_started[cid])
		return;
	if (p->scx.weight)
		cz_set_vtime(p, p->scx.dsq_vtime +
			     (bpf_ktime_get_ns() - cid_started[cid]) *
			     100 / p->scx.weight);
	cid_started[cid] = 0;
	cid_lent[cid] = false;
}

void BPF_STRUCT_OPS(zones_enable, struct task_struct *p)
{
	cz_set_vtime(p, vtime_now);
}

static s32 zone_of_cgroup(u64 cgid)
{
	u32 z;

	bpf_for(z, 0, nr_zones) {
		if (z < ZONES_MAX && zones[z].cgid == cgid)
			return z;
	}
	return -1;
}

/*
 * A scheduler attaches to a cgroup below this root: if it is a zone's,
 * grant it the zone's CPUs (as cids); else refuse it.
 */
s32 BPF_STRUCT_OPS(zones_sub_attach, struct scx_sub_attach_args *args)
{
	u64 cgid = args->ops->sub_cgroup_id;
	u32 nr = scx_bpf_nr_cids(), n = 0, i;
	s32 z = zone_of_cgroup(cgid), cid, cpu, ret;

	if (z < 0 || z >= ZONES_MAX)
		return -ENOENT;
	grant.m.base = 0;
	grant.m.nr_cids = nr;
	grant.m.alloc_words = ZONES_WORDS + 1;
	bpf_for(i, 0, ZONES_WORDS + 1)
		grant.raw[2 + i] = 0;
	bpf_for(cid, 0, nr) {
		cpu = scx_bpf_cid_to_cpu(cid);
		if (cid >= CZ_MAX_CPUS || cpu < 0 || cpu >= CZ_MAX_CPUS ||
		    !(zones[z].cpus[(u32)cpu / 64] & (1ULL << ((u32)cpu % 64))))
			continue;
		grant.raw[2 + (u32)cid / 64] |= 1ULL << ((u32)cid % 64);
		cid_owner[cid] = z + 1;
		n++;
	}
	/* From the arena to a kernel pointer: PTR_TO_ARENA to the verifier. */
	ret = scx_bpf_sub_grant(cgid, GRANT_CAPS, (struct scx_cmask *)&grant.m, NULL);
	if (ret) {
		bpf_for(cid, 0, nr)
			if (cid < CZ_MAX_CPUS && cid_owner[cid] == z + 1)
				cid_owner[cid] = 0;
		return ret;
	}
	zone_gauge(z, ST_Z0_UP, 1);
	zone_gauge(z, ST_Z0_CPUS, n);
	return 0;
}

/* Its scheduler went: the zone's CPUs, and its tasks, are the root's again. */
void BPF_STRUCT_OPS(zones_sub_detach, struct scx_sub_detach_args *args)
{
	s32 z = zone_of_cgroup(args->ops->sub_cgroup_id), cid;
	u32 nr = scx_bpf_nr_cids();

	if (z < 0 || z >= ZONES_MAX)
		return;
	bpf_for(cid, 0, nr)
		if (cid < CZ_MAX_CPUS && cid_owner[cid] == z + 1)
			cid_owner[cid] = 0;
	zone_gauge(z, ST_Z0_UP, 0);
	zone_gauge(z, ST_Z0_CPUS, 0);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(zones_init)
{
	u32 nr = scx_bpf_nr_cids();
	s32 cid;

	/* The root holds every capability on every cid. */
	bpf_for(cid, 0, nr)
		cz_mask_assign(cz_usable_cids, cid, true);
	return scx_bpf_create_dsq(ROOT_DSQ, -1);
}

void BPF_STRUCT_OPS(zones_exit, struct scx_exit_info *ei)
{
	cz_record_exit(ei);
}

CZ_OPS_DEFINE(zones_ops, zones_select_cpu,
	.enqueue	= (void *)zones_enqueue,
	.dispatch	= (void *)zones_dispatch,
	.running	= (void *)zones_running,
	.stopping	= (void *)zones_stopping,
	.enable		= (void *)zones_enable,
	.sub_attach	= (void *)zones_sub_attach,
	.sub_detach	= (void *)zones_sub_detach,
	.init		= (void *)zones_init,
	.exit		= (void *)zones_exit,
	.name		= "zones");
