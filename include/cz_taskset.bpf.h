/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Task sets, BPF side: which sets a task belongs to, decided from three
 * hash maps that userspace (lib/cz_taskset.c) fills from --*-pid,
 * --*-comm and --*-cgroup rules, and may change at any time:
 *
 *   cz_ts_tgid    tgid -> sets        every thread of that process
 *   cz_ts_comm    comm -> sets        tasks whose comm is exactly that
 *   cz_ts_cgroup  cgroup id -> sets   tasks in that cgroup or below it
 *
 * A value is a mask of set bits (1 << set), so two sets (say latency-
 * critical and best-effort) share the maps and cost one lookup per key.
 *
 * Key choices:
 * - Nothing is cached per task: every call looks the maps up, so a rule
 *   that userspace adds or removes applies from the next call on.
 * - Cgroups are matched by walking the task's cgroup2 (default hierarchy)
 *   ancestors from the root down, through struct cgroup's ancestors[], with
 *   CO-RE reads and one hash lookup per level. The kfunc route
 *   (bpf_cgroup_from_id, bpf_task_under_cgroup, bpf_cgroup_release) would
 *   look up and reference every rule cgroup on every call, and needs a
 *   trusted task pointer; plain reads work in any program type, on a task
 *   pointer of any provenance, on every supported kernel. The walk stops
 *   CZ_TS_MAX_DEPTH levels below the root; userspace refuses rule cgroups
 *   deeper than that.
 *
 * Include after vmlinux.h, <bpf/bpf_helpers.h> and <bpf/bpf_core_read.h>
 * (cz_common.bpf.h brings all three), so that a tool without sched_ext
 * can use it too.
 */
#ifndef __CZ_TASKSET_BPF_H
#define __CZ_TASKSET_BPF_H

#include "cz_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CZ_TS_MAX_TGIDS);
	__type(key, u32);
	__type(value, u32);
} cz_ts_tgid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CZ_TS_MAX_COMMS);
	__type(key, struct cz_ts_comm);
	__type(value, u32);
} cz_ts_comm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CZ_TS_MAX_CGROUPS);
	__type(key, u64);
	__type(value, u32);
} cz_ts_cgroup SEC(".maps");

static __always_inline u32 cz_ts_sets_of(void *map, const void *key)
{
	u32 *sets = bpf_map_lookup_elem(map, key);

	return sets ? *sets : 0;
}

static __always_inline u32 cz_ts_cgroup_sets(struct task_struct *p)
{
	struct cgroup *cgrp = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	u32 sets = 0;
	int level, i;

	if (!cgrp)
		return 0;
	level = BPF_CORE_READ(cgrp, level);
	for (i = 0; i <= CZ_TS_MAX_DEPTH && i <= level; i++) {
		struct cgroup *anc = NULL;
		u64 id;

		if (bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[i]) || !anc)
			break;
		/* A cgroup's id is its kernfs node's: the directory's inode. */
		id = BPF_CORE_READ(anc, kn, id);
		sets |= cz_ts_sets_of(&cz_ts_cgroup, &id);
	}
	return sets;
}

/* The mask of sets @p is in; 0 for none. */
static __always_inline u32 cz_ts_match(struct task_struct *p)
{
	struct cz_ts_comm comm = {};
	u32 tgid = BPF_CORE_READ(p, tgid);
	u32 sets;

	sets = cz_ts_sets_of(&cz_ts_tgid, &tgid);
	/* Zeroed first: the key must be NUL-padded as userspace writes it. */
	BPF_CORE_READ_STR_INTO(&comm.name, p, comm);
	sets |= cz_ts_sets_of(&cz_ts_comm, &comm);
	return sets | cz_ts_cgroup_sets(p);
}

#endif /* __CZ_TASKSET_BPF_H */
