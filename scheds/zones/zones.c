/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_zones loader: the zones from the command line (--zone PATH=CPULIST,
 * up to ZONES_MAX), into the BPF side's read-only data; libcz does the
 * rest.
 *
 * While attached, a thread puts each zone cgroup's CPU time (cpu.stat's
 * usage_usec since attach) into the zN_cpu_us statistics every 250 ms:
 * the BPF side never sees a sub-scheduler's tasks run.
 *
 * Every zone is checked before anything loads: a cgroup2 directory, CPUs
 * that exist, no CPU in two zones, and at least one CPU left to the tasks
 * outside the zones (the root runs them, and the kernel's own threads
 * need somewhere to go). A bad zone is one line and exit 2.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cz.h"
#include "cz_taskset.h"
#include "zones.h"
#include "zones.skel.h"

enum {
	OPT_ZONE = 0x100,
};

static struct zone_cfg cfg[ZONES_MAX];
static const char *cfg_path[ZONES_MAX];
static unsigned int nr_cfg;
static struct zones *skel;

static struct {
	pthread_t	thread;
	atomic_bool	stop;
	bool		running;
	u64		base[ZONES_MAX];	/* usage_usec at attach */
} cpu_time;

static const struct argp_option options[] = {
	{ "zone", OPT_ZONE, "PATH=CPULIST", 0,
	  "A cgroup zone: cgroup2 directory PATH owns the CPUs of CPULIST "
	  "(e.g. 2-3) for the scheduler attached to it with --cgroup "
	  "(repeatable, up to 4)", 0 },
	{ 0 }
};

static void add_zone(struct argp_state *state, char *arg)
{
	int cpus[CZ_MAX_CPUS], n, ncpus = libbpf_num_possible_cpus();
	struct zone_cfg *z = &cfg[nr_cfg];
	char *eq = strrchr(arg, '='), err[256];

	if (nr_cfg >= ZONES_MAX)
		cz_usage_error(state, "--zone: at most %d zones", ZONES_MAX);
	if (!eq || eq == arg || !eq[1])
		cz_usage_error(state, "--zone %s: expected PATH=CPULIST", arg);
	*eq = '\0';
	if (cz_ts_parse_cgroup(arg, &z->cgid, err, sizeof(err)))
		cz_usage_error(state, "--zone: %s", err);
	for (unsigned int j = 0; j < nr_cfg; j++)
		if (cfg[j].cgid == z->cgid)
			cz_usage_error(state, "--zone %s: cgroup given twice", arg);
	n = cz_parse_cpulist(eq + 1, cpus, CZ_MAX_CPUS);
	if (n <= 0)
		cz_usage_error(state, "--zone %s: '%s' is not a CPU list", arg, eq + 1);
	for (int i = 0; i < n; i++) {
		int c = cpus[i];

		if (c >= ncpus)
			cz_usage_error(state, "--zone %s: CPU %d does not exist (%d possible)",
				       arg, c, ncpus);
		for (unsigned int j = 0; j < nr_cfg; j++)
			if (cfg[j].cpus[c / 64] & (1ULL << (c % 64)))
				cz_usage_error(state, "--zone %s: CPU %d is already zone %u's",
					       arg, c, j);
		z->cpus[c / 64] |= 1ULL << (c % 64);
	}
	cfg_path[nr_cfg] = arg;	/* argv's, '=' cut off: lives as long */
	nr_cfg++;
}

/* CPUs the zones leave to the root. */
static int root_cpus(void)
{
	int ncpus = libbpf_num_possible_cpus(), left = 0;

	for (int c = 0; c < ncpus; c++) {
		bool owned = false;

		for (unsigned int j = 0; j < nr_cfg; j++)
			owned |= !!(cfg[j].cpus[c / 64] & (1ULL << (c % 64)));
		left += !owned;
	}
	return left;
}

static error_t parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_ZONE:
		add_zone(state, arg);
		break;
	case ARGP_KEY_END:
		if (nr_cfg && !root_cpus())
			cz_usage_error(state, "--zone: the zones own every CPU; leave one "
				       "to the tasks outside them");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct bpf_object_skeleton *zones_open(const struct cz_opts *o)
{
	(void)o;
	if (!cz_kernel_has_btf_type("sched_ext_ops_cid")) {
		fprintf(stderr, "scx_zones: this kernel has no sched_ext sub-schedulers "
			"(7.3 or later)\n");
		return NULL;
	}
	skel = zones__open();
	if (!skel)
		return NULL;
	skel->rodata->nr_zones = nr_cfg;
	memcpy((void *)skel->rodata->zones, cfg, sizeof(cfg));
	return skel->skeleton;
}

/* A cgroup's usage_usec (the first line of its cpu.stat); 0 if unreadable. */
static u64 cgroup_usage(const char *dir)
{
	char path[4096], line[128];
	unsigned long long us;

	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	if (cz_read_line(path, line, sizeof(line)) ||
	    sscanf(line, "usage_usec %llu", &us) != 1)
		return 0;
	return us;
}

static void *cpu_time_thread(void *arg)
{
	struct timespec period = { 0, 250 * 1000 * 1000 };

	(void)arg;
	while (!atomic_load(&cpu_time.stop)) {
		for (unsigned int z = 0; z < nr_cfg; z++)
			cz_stat_put(skel->obj, ST_Z0_CPU_US + z * ZONE_STAT_STRIDE,
				    cgroup_usage(cfg_path[z]) - cpu_time.base[z]);
		nanosleep(&period, NULL);
	}
	return NULL;
}

static int zones_attached(void)
{
	for (unsigned int z = 0; z < nr_cfg; z++)
		cpu_time.base[z] = cgroup_usage(cfg_path[z]);
	atomic_store(&cpu_time.stop, false);
	cpu_time.running = !pthread_create(&cpu_time.thread, NULL, cpu_time_thread, NULL);
	if (!cpu_time.running)
		fprintf(stderr, "scx_zones: warning: no thread for the zones' CPU time\n");
	return 0;
}

static void zones_detached(void)
{
	if (!cpu_time.running)
		return;
	atomic_store(&cpu_time.stop, true);
	pthread_join(cpu_time.thread, NULL);
	cpu_time.running = false;
}

static void zones_destroy(void)
{
	zones__destroy(skel);
	skel = NULL;
}

static const struct cz_stat_desc stats[] = { ZONES_STATS(CZ_STAT_DESC) };
static const struct cz_tunable_desc tunables[] = { ZONES_TUNABLES(CZ_TUNABLE_DESC) };

static const struct cz_sched zones_sched = {
	.name		= "zones",
	.doc		= "scx_zones: the root of cgroup zones: each zone's CPUs go to "
			  "the scheduler attached to its cgroup (kernel 7.3+), idle "
			  "ones are lent; the rest runs here by weighted vtime.",
	.no_sub		= "it is the root that cgroup zones' schedulers attach under",
	.options	= options,
	.parse		= parse,
	.open		= zones_open,
	.attached	= zones_attached,
	.detached	= zones_detached,
	.destroy	= zones_destroy,
	.stats		= stats,
	.nr_stats	= NR_ZONES_STATS,
	.tunables	= tunables,
	.nr_tunables	= NR_ZONES_TUNABLES,
};

int main(int argc, char **argv)
{
	return cz_main(&zones_sched, argc, argv);
}
