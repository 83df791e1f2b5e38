/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_mutex loader: the policy's options (--strict), the SMT topology from
 * sysfs into the BPF side's tables, and the "lc" task set; libcz does the
 * rest (rule options, tunables, stats, the socket, restarts). Topology is
 * read on every open, so a kernel-requested restart after CPU hotplug sees
 * the new one. --cgroup opens the cid form of the same BPF source (a
 * sub-scheduler, include/cz_cpu.bpf.h); the cores' records stay by real
 * CPU.
 */
#include <stdio.h>
#include <bpf/libbpf.h>
#include "cz.h"
#include "cz_topo.h"
#include "mutex.h"
#include "mutex.skel.h"
#include "mutex_cid.skel.h"

enum {
	OPT_STRICT = 0x100,
};

static struct {
	bool	strict;
} opts;

static struct mutex *skel;
static struct mutex_cid *skel_cid;	/* the cid form, for --cgroup */
static struct mutex__rodata *ro;	/* whichever form is open */

static const struct argp_option options[] = {
	{ "strict", OPT_STRICT, NULL, 0,
	  "An LC task waits until its sibling's BE task has stopped (no "
	  "co-run at all) instead of starting at once and kicking it", 0 },
	{ 0 }
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	(void)arg, (void)state;
	switch (key) {
	case OPT_STRICT:
		opts.strict = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* cpu_core/cpu_lane from sysfs, and each core's CPUs by lane. */
static int fill_topology(int nr_cpus)
{
	struct cz_topo t;
	char err[512];

	if (nr_cpus > MUTEX_MAX_CPUS) {
		fprintf(stderr, "scx_mutex: %d CPUs; at most %d are supported\n",
			nr_cpus, MUTEX_MAX_CPUS);
		return -1;
	}
	if (cz_topo_read("/sys", nr_cpus, 2, (u32 *)ro->cpu_core,
			 (u32 *)ro->cpu_lane, &t, err, sizeof(err))) {
		fprintf(stderr, "scx_mutex: %s\n", err);
		return -1;
	}
	for (int i = 0; i < MUTEX_MAX_CPUS; i++)
		ro->core_cpu[i][0] = ro->core_cpu[i][1] = -1;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		u32 core = ro->cpu_core[cpu];

		if (core != CZ_NO_CORE)
			ro->core_cpu[core][ro->cpu_lane[cpu]] = cpu;
	}
	ro->smt = t.nr_smt > 0;
	ro->nr_cores = t.nr_cores;
	if (!t.nr_smt)
		fprintf(stderr, "scx_mutex: warning: no SMT siblings; scheduling "
			"LC work first, with nothing to keep apart\n");
	return 0;
}

static void mutex_destroy(void)
{
	CZ_DESTROY_FORMS(mutex, skel, skel_cid);
	ro = NULL;
}

static struct bpf_object_skeleton *mutex_open(const struct cz_opts *o)
{
	int nr_cpus = libbpf_num_possible_cpus();
	struct bpf_object_skeleton *s;

	s = CZ_OPEN_FORMS(mutex, o, skel, skel_cid, ro);
	if (!s)
		return NULL;
	ro->strict = opts.strict;
	/* Only --strict needs the sched_switch program: spare every context
	 * switch the call otherwise. */
	bpf_program__set_autoload(bpf_object__find_program_by_name(*s->obj, "mutex_switch"),
				  opts.strict);
	ro->nr_cpus = nr_cpus;
	if (fill_topology(nr_cpus)) {
		mutex_destroy();
		return NULL;
	}
	return s;
}

static const struct cz_stat_desc stats[] = { MUTEX_STATS(CZ_STAT_DESC) };
static const struct cz_tunable_desc tunables[] = { MUTEX_TUNABLES(CZ_TUNABLE_DESC) };
static const struct cz_set_desc sets[] = {
	{ "lc", "latency-critical: never shares a physical core with best-effort work" },
};

static const struct cz_sched mutex_sched = {
	.name		= "mutex",
	.doc		= "scx_mutex: latency-critical tasks never share a physical "
			  "core with best-effort ones; best-effort work borrows "
			  "the lanes latency-critical work leaves idle.",
	.options	= options,
	.parse		= parse,
	.sub		= true,
	.open		= mutex_open,
	.destroy	= mutex_destroy,
	.stats		= stats,
	.nr_stats	= NR_MUTEX_STATS,
	.tunables	= tunables,
	.nr_tunables	= NR_MUTEX_TUNABLES,
	.sets		= sets,
	.nr_sets	= 1,
};

int main(int argc, char **argv)
{
	return cz_main(&mutex_sched, argc, argv);
}
