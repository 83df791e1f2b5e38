/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_central loader: the policy's options and statistics; libcz does the
 * rest. The loader pins itself to the central CPU before attaching, because
 * ops.init arms the BPF timer on the CPU it runs on.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include "cz.h"
#include "central.h"
#include "central.skel.h"

enum {
	OPT_CENTRAL_CPU = 'c',
};

static struct {
	unsigned int	central_cpu;
} opts = {
	.central_cpu = 0,
};

static struct central *skel;

static const struct argp_option options[] = {
	{ "central-cpu", OPT_CENTRAL_CPU, "CPU", 0,
	  "The CPU that makes every dispatch decision (default 0)", 0 },
	{ 0 }
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_CENTRAL_CPU:
		opts.central_cpu = cz_opt_uint(state, "--central-cpu", arg, 0,
					       libbpf_num_possible_cpus() - 1);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct bpf_object_skeleton *central_open(const struct cz_opts *o)
{
	cpu_set_t set;

	(void)o;
	CPU_ZERO(&set);
	CPU_SET(opts.central_cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return NULL;

	skel = central__open();
	if (!skel)
		return NULL;
	skel->rodata->central_cpu = opts.central_cpu;
	skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	return skel->skeleton;
}

static void central_destroy(void)
{
	central__destroy(skel);
	skel = NULL;
}

static const struct cz_stat_desc stats[] = { CENTRAL_STATS(CZ_STAT_DESC) };
static const struct cz_tunable_desc tunables[] = { CENTRAL_TUNABLES(CZ_TUNABLE_DESC) };

static const struct cz_sched central_sched = {
	.name		= "central",
	.doc		= "scx_central: one CPU makes every dispatch decision; "
			  "the others run tickless with long slices.",
	.no_sub		= "its central CPU and tickless workers would have to come "
			  "from CPUs the root grants only after it attached (not "
			  "supported yet)",
	.options	= options,
	.parse		= parse,
	.open		= central_open,
	.destroy	= central_destroy,
	.stats		= stats,
	.nr_stats	= NR_CENTRAL_STATS,
	.tunables	= tunables,
	.nr_tunables	= NR_CENTRAL_TUNABLES,
};

int main(int argc, char **argv)
{
	return cz_main(&central_sched, argc, argv);
}
