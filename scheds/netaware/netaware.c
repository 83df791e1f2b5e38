/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_netaware loader: the policy's topology (from sysfs, into rodata), its
 * statistics, tunables and task set; libcz does the rest. Its tracing
 * programs (fentry/fexit of net_rx_action) are attached by libcz right
 * after the scheduler.
 *
 * With --cgroup it opens the cid form of the same BPF source
 * (include/cz_cpu.bpf.h), which the kernel attaches as a sub-scheduler.
 *
 * Topology: cores from lib/cz_topo (a CPU offline at start is in no core),
 * LLCs likewise (such a CPU is its own); the kernel asks for a restart when
 * CPUs come and go, and the re-open reads the topology again.
 */
#include <stdlib.h>
#include "cz.h"
#include "cz_topo.h"
#include "netaware.h"
#include "netaware.skel.h"
#include "netaware_cid.skel.h"

enum {
	MAX_LANES	= 8,	/* SMT threads per core this loader accepts */
};

static struct netaware *skel;
static struct netaware_cid *skel_cid;	/* the cid form, for --cgroup */

static void netaware_destroy(void)
{
	CZ_DESTROY_FORMS(netaware, skel, skel_cid);
}

static struct bpf_object_skeleton *netaware_open(const struct cz_opts *o)
{
	int nr_cpus = libbpf_num_possible_cpus();
	struct netaware__rodata *ro;
	size_t max = sizeof(ro->cpu_core) / sizeof(ro->cpu_core[0]);
	static u32 lanes[sizeof(ro->cpu_core) / sizeof(u32)];
	struct bpf_object_skeleton *s;
	struct cz_topo topo;
	char err[256];

	if (nr_cpus < 1 || (size_t)nr_cpus > max) {
		fprintf(stderr, "scx_netaware: %d possible CPUs; this build handles 1 to %zu\n",
			nr_cpus, max);
		return NULL;
	}
	s = CZ_OPEN_FORMS(netaware, o, skel, skel_cid, ro);
	if (!s)
		return NULL;
	ro->nr_cpus = nr_cpus;
	if (cz_topo_read("/sys", nr_cpus, MAX_LANES, (u32 *)ro->cpu_core,
			 lanes, &topo, err, sizeof(err))) {
		fprintf(stderr, "scx_netaware: %s\n", err);
		netaware_destroy();
		return NULL;
	}
	cz_topo_read_llc("/sys", nr_cpus, (u32 *)ro->cpu_llc);
	return s;
}

static const struct cz_stat_desc stats[] = { NETAWARE_STATS(CZ_STAT_DESC) };
static const struct cz_tunable_desc tunables[] = { NETAWARE_TUNABLES(CZ_TUNABLE_DESC) };
static const struct cz_set_desc sets[NR_NETAWARE_SETS] = {
	[SET_NET] = { "net", "network-latency-critical: net-woken on every wakeup" },
};

static const struct cz_sched netaware_sched = {
	.name		= "netaware",
	.doc		= "scx_netaware: tasks woken by network receive run first and "
			  "near the receiving CPU, for a bounded boost.",
	.sub		= true,
	.open		= netaware_open,
	.destroy	= netaware_destroy,
	.stats		= stats,
	.nr_stats	= NR_NETAWARE_STATS,
	.tunables	= tunables,
	.nr_tunables	= NR_NETAWARE_TUNABLES,
	.sets		= sets,
	.nr_sets	= NR_NETAWARE_SETS,
};

int main(int argc, char **argv)
{
	return cz_main(&netaware_sched, argc, argv);
}
