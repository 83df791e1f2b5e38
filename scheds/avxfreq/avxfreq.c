/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq loader: the frequency model (--model), the SMT topology and
 * the report of what detection the machine allows; libcz does the rest.
 *
 * Key choices:
 * - The model is parsed while the command line is, so a bad file is one
 *   line naming its line and problem, exit 2, nothing loaded. Without
 *   --model the built-in default (the figures) goes through the
 *   same parser.
 * - SMT siblings come from lib/cz_topo (sysfs), never from a CPU number
 *   stride. Operator hints are libcz task sets (avx2, avx512): their rule
 *   options and czctl add/del come from there.
 * - Counters (counters.c): opened per CPU in open(), handed to the BPF
 *   side once its perf event array exists (loaded()), and closed with the
 *   skeleton; what was found is said once at start. --counters off keeps
 *   the model and the XSAVE state even on a machine with a PMU.
 * - --cgroup opens the cid form of the same BPF source (a sub-scheduler,
 *   include/cz_cpu.bpf.h); its per-CPU state stays by real CPU.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "cz.h"
#include "cz_topo.h"
#include "avxfreq.h"
#include "counters.h"
#include "model.h"
#include "avxfreq.skel.h"
#include "avxfreq_cid.skel.h"

#define PROG	"scx_avxfreq"

enum {
	OPT_MODEL	= 'm',
	OPT_COUNTERS	= 0x100,
	NO_SIBLING	= -1,
	MAX_LANES	= 8,	/* SMT threads per core we accept */
};

static struct {
	struct avxf_model	model;
	const char		*model_name;
	enum avxf_ctr_mode	counters;
} opts;

static struct avxfreq *skel;
static struct avxfreq_cid *skel_cid;	/* the cid form, for --cgroup */
static struct bpf_object *obj;		/* whichever form is open */

static void avxfreq_destroy(void)
{
	CZ_DESTROY_FORMS(avxfreq, skel, skel_cid);
	obj = NULL;
	avxf_ctrs_close();
}

static const struct argp_option options[] = {
	{ "model", OPT_MODEL, "FILE", 0,
	  "Frequency model: base/128/256/512 MHz and hold_us, one per line "
	  "(default: base 3200, 256-bit 3147, 512-bit 2949-2967, hold 2000 us)", 0 },
	{ "counters", OPT_COUNTERS, "MODE", 0,
	  "Per-CPU counters: auto (hardware ones where there are any; default), "
	  "off (model and XSAVE state only), software (self-test of the counter "
	  "path without a PMU: software clocks, every ratio 1.0)", 0 },
	{ 0 }
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	char err[256];

	switch (key) {
	case OPT_MODEL:
		if (avxf_model_load(arg, &opts.model, err, sizeof(err)))
			cz_usage_error(state, "--model: %s", err);
		opts.model_name = arg;
		break;
	case OPT_COUNTERS:
		if (avxf_ctr_mode_parse(arg, &opts.counters))
			cz_usage_error(state, "--counters: '%s' is not auto, off or software",
				       arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/*
 * Fill sibling_of[]: for each CPU, the first other CPU of its core, or
 * NO_SIBLING. Returns 0, or -1 after saying why.
 */
static int read_siblings(volatile s32 *sibling_of, int ncpus)
{
	static u32 core[CZ_MAX_CPUS], lane[CZ_MAX_CPUS];
	struct cz_topo t;
	char err[256];

	if (cz_topo_read("/sys", ncpus, MAX_LANES, core, lane, &t, err, sizeof(err))) {
		fprintf(stderr, PROG ": topology: %s\n", err);
		return -1;
	}
	for (int cpu = 0; cpu < ncpus; cpu++) {
		sibling_of[cpu] = NO_SIBLING;
		for (int o = 0; o < ncpus && core[cpu] != CZ_NO_CORE; o++) {
			if (o != cpu && core[o] == core[cpu]) {
				sibling_of[cpu] = o;
				break;
			}
		}
	}
	return 0;
}

static void report(const struct avxf_model *m, const u32 *ratio,
		   unsigned int ctrs, const char *what)
{
	fprintf(stderr, PROG ": model %s: base %u MHz, 256-bit %u MHz (ratio %.3f), "
		"512-bit %u MHz (ratio %.3f), held %u us\n",
		opts.model_name, m->mhz[W_BASE], m->mhz[W_256],
		ratio[LIC_AVX2] / (double)AVXF_ONE, m->mhz[W_512],
		ratio[LIC_AVX512] / (double)AVXF_ONE, m->hold_us);
	fprintf(stderr, PROG ": counters: %s; frequencies %s\n", what,
		ctrs & CTRS_FREQ ? "measured (the model's until measured)" :
				   "from the model");
	if (ctrs & CTRS_WIDE)
		fprintf(stderr, PROG ": detection: wide-vector instruction counters, "
			"then hints (sets avx2, avx512)\n");
	else
		fprintf(stderr, PROG ": detection: saved XSAVE state (this CPU: AVX2 %s, "
			"AVX-512 %s), then hints (sets avx2, avx512)\n",
			__builtin_cpu_supports("avx2") ? "yes" : "no",
			__builtin_cpu_supports("avx512f") ? "yes" : "no");
}

static struct bpf_object_skeleton *avxfreq_open(const struct cz_opts *o)
{
	static bool reported;
	int ncpus = libbpf_num_possible_cpus();
	struct avxfreq__rodata *ro;
	struct bpf_object_skeleton *s;
	unsigned int ctrs;
	char what[256];

	if (ncpus <= 0 || ncpus > CZ_MAX_CPUS) {
		fprintf(stderr, PROG ": %d possible CPUs; supported: 1 to %d\n",
			ncpus, CZ_MAX_CPUS);
		return NULL;
	}
	s = CZ_OPEN_FORMS(avxfreq, o, skel, skel_cid, ro);
	if (!s)
		return NULL;
	obj = *s->obj;
	ro->nr_cpus = ncpus;
	if (read_siblings(ro->sibling_of, ncpus)) {
		avxfreq_destroy();
		return NULL;
	}
	for (int l = 0; l < NR_LIC_LEVELS; l++)
		ro->ratio_q16[l] = avxf_model_ratio(&opts.model, l);
	ro->hold_ns = (u64)opts.model.hold_us * 1000;
	ctrs = avxf_ctrs_open(opts.counters, ncpus, what, sizeof(what));
	ro->ctr_mask = ctrs;
	/* Without counters the switch program has nothing to read. */
	bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "avxfreq_switch"),
				  ctrs != 0);
	if (!reported) {
		report(&opts.model, (const u32 *)ro->ratio_q16, ctrs, what);
		reported = true;
	}
	return s;
}

static int avxfreq_loaded(void)
{
	int err = avxf_ctrs_fill(bpf_map__fd(bpf_object__find_map_by_name(obj, "counters")));

	if (err)
		fprintf(stderr, PROG ": handing the counters to BPF failed: %s\n",
			strerror(-err));
	return err ? -1 : 0;
}

static const struct cz_stat_desc stats[] = { AVXFREQ_STATS(CZ_STAT_DESC) };
static const struct cz_tunable_desc tunables[] = { AVXFREQ_TUNABLES(CZ_TUNABLE_DESC) };
/* In AVXF_SET_* bit order. */
static const struct cz_set_desc sets[] = {
	{ "avx2", "tasks that run 256-bit (AVX2) code, whatever their XSAVE state shows" },
	{ "avx512", "tasks that run 512-bit (AVX-512) code" },
};

static const struct cz_sched avxfreq_sched = {
	.name		= "avxfreq",
	.doc		= "scx_avxfreq: weighted fair scheduling that charges tasks "
			  "slowed by others' AVX code for the frequency they got.",
	.options	= options,
	.parse		= parse,
	.sub		= true,
	.open		= avxfreq_open,
	.loaded		= avxfreq_loaded,
	.destroy	= avxfreq_destroy,
	.stats		= stats,
	.nr_stats	= NR_AVXFREQ_STATS,
	.tunables	= tunables,
	.nr_tunables	= NR_AVXFREQ_TUNABLES,
	.sets		= sets,
	.nr_sets	= sizeof(sets) / sizeof(sets[0]),
};

int main(int argc, char **argv)
{
	char err[256];

	if (avxf_model_parse(avxf_model_default, "built-in model", &opts.model,
			     err, sizeof(err))) {
		fprintf(stderr, PROG ": %s (a bug)\n", err);
		return CZ_EXIT_FAIL;
	}
	opts.model_name = "built-in";
	return cz_main(&avxfreq_sched, argc, argv);
}
