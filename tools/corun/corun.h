/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-corun: what its BPF side and its userspace side share, the classes a
 * running task falls into and the per-core record of who ran when.
 *
 * One record per physical core, with one lane per SMT sibling (a core
 * without a sibling uses lane 0 only). Both lanes' accounting shares one
 * timestamp and one lock, so a co-run interval is counted once, by
 * whichever sibling switches first.
 */
#ifndef __CORUN_H
#define __CORUN_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h>	/* struct bpf_spin_lock */
#endif
#include "cz_shared.h"

enum corun_class {
	CORUN_UNSEEN,	/* this lane has not switched since we attached */
	CORUN_OTHER,	/* idle, or a task in neither set */
	CORUN_A,
	CORUN_B,
	NR_CORUN_CLASSES,
};

/* Task-set bits (cz_taskset.bpf.h) of the two sets. */
#define CORUN_SET_A	(1u << 0)
#define CORUN_SET_B	(1u << 1)

enum corun_phase {
	CORUN_TRACKING,		/* attached: lanes learn their class */
	CORUN_MEASURING,	/* between the start and stop programs */
	CORUN_STOPPED,
};

/* CPUs the BPF side's per-CPU tables cover. */
#define CORUN_MAX_CPUS	1024

/* cpu_core[] for a CPU that is offline or has no topology in sysfs. */
#define CORUN_NO_CORE	0xffffffffu	/* CZ_NO_CORE of lib/cz_topo.h */

struct corun_core {
	struct bpf_spin_lock	lock;
	u32			phase;		/* enum corun_phase */
	u32			cls[2];		/* enum corun_class, by lane */
	u64			since;		/* when ns[]/corun_ns were last advanced */
	u64			ns[NR_CORUN_CLASSES];	/* CPU time by class, both lanes */
	u64			corun_ns;	/* one lane ran A while the other ran B */
	u64			corun_spans;	/* intervals counted to corun_ns */
	u64			corun_max_ns;	/* the longest of them */
};

#endif /* __CORUN_H */
