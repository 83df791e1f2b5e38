/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_netaware loader: the policy's topology (from sysfs, into rodata), its
 * statistics, tunables and task set; libcz does the rest. Its tracing
 * programs (softirq_entry/exit, sched_waking) are attached by libcz right
 * after the scheduler.
 *
 * A CPU whose core or LLC sysfs does not give (offline at start) is its own
 * core and LLC; the kernel asks for a restart when CPUs come and go, and
 * the re-open reads the topology again.
 */
#include <stdlib.h>
#include "cz.h"
#include "netaware.h"
#include "netaware.skel.h"

static struct netaware *skel;

static struct bpf_object_skeleton *netaware_open(const struct cz_opts *o)
{
	int nr_cpus = libbpf_num_possible_cpus();
	size_t max = sizeof(skel->rodata->cpu_core) / sizeof(skel->rodata->cpu_core[0]);

	(void)o;
	if (nr_cpus < 1 || (size_t)nr_cpus > max) {
		fprintf(stderr, "scx_netaware: %d possible CPUs; this build handles 1 to %zu\n",
			nr_cpus, max);
		return NULL;
	}
	skel = netaware__open();
	if (!skel)
		return NULL;
	skel->rodata->nr_cpus = nr_cpus;
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int core = cz_topo_first_cpu(cpu, CZ_TOPO_CORE);
		int llc = cz_topo_first_cpu(cpu, CZ_TOPO_LLC);

		skel->rodata->cpu_core[cpu] = core < 0 ? cpu : core;
		skel->rodata->cpu_llc[cpu] = llc < 0 ? cpu : llc;
	}
	return skel->skeleton;
}

static void netaware_destroy(void)
{
	netaware__destroy(skel);
	skel = NULL;
}

static const struct cz_stat_desc stats[] = { NETAWARE_STATS(CZ_STAT_DESC) };
static const struct cz_knob_desc knobs[] = { NETAWARE_KNOBS(CZ_KNOB_DESC) };

static const struct cz_sched netaware_sched = {
	.name		= "netaware",
	.doc		= "scx_netaware: tasks woken by network receive run first and "
			  "near the receiving CPU, for a bounded boost.",
	.open		= netaware_open,
	.destroy	= netaware_destroy,
	.stats		= stats,
	.nr_stats	= NR_NETAWARE_STATS,
	.knobs		= knobs,
	.nr_knobs	= NR_NETAWARE_KNOBS,
};

int main(int argc, char **argv)
{
	return cz_main(&netaware_sched, argc, argv);
}
