/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_user loader: --policy, the policy thread started after attach and
 * stopped after detach (core.c), the "lc" task set; libcz does the rest.
 *
 * The policy list in --help comes from the registered policies, so a new
 * policies/NAME.c shows up there by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cz.h"
#include "core.h"
#include "user.h"
#include "user.skel.h"

enum {
	OPT_POLICY	= 0x100,
};

static const struct cz_user_policy *policy;
static struct user *skel;

static const struct argp_option options[] = {
	{ "policy", OPT_POLICY, "NAME", 0,
	  "The scheduling policy run in user space (default vtime; the list "
	  "is below)", 0 },
	{ 0 }
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case OPT_POLICY:
		policy = cz_user_policy_find(arg);
		if (!policy)
			cz_usage_error(state, "--policy: no policy called '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct bpf_object_skeleton *user_open(const struct cz_opts *o)
{
	(void)o;
	if (!policy)
		policy = cz_user_policy_find("vtime");
	skel = user__open();
	if (!skel)
		return NULL;
	skel->rodata->nr_cpus = libbpf_num_possible_cpus();
	return skel->skeleton;
}

/* Until the policy thread stamps it, the BPF side must not see a stall. */
static int user_loaded(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	skel->bss->user_seen_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return 0;
}

static int user_attached(void)
{
	return user_core_start(skel, policy);
}

static void user_detached(void)
{
	user_core_stop();
}

static void user_destroy(void)
{
	user__destroy(skel);
	skel = NULL;
}

static const struct cz_stat_desc stats[] = { USER_STATS(CZ_STAT_DESC) };
static const struct cz_tunable_desc tunables[] = { USER_TUNABLES(CZ_TUNABLE_DESC) };
static const struct cz_set_desc sets[NR_USER_SETS] = {
	[SET_LC] = { "lc", "latency-critical, for the lc policy" },
};

static struct cz_sched user_sched = {
	.name		= "user",
	.options	= options,
	.parse		= parse,
	.open		= user_open,
	.loaded		= user_loaded,
	.attached	= user_attached,
	.detached	= user_detached,
	.destroy	= user_destroy,
	.stats		= stats,
	.nr_stats	= NR_USER_STATS,
	.tunables	= tunables,
	.nr_tunables	= NR_USER_TUNABLES,
	.sets		= sets,
	.nr_sets	= NR_USER_SETS,
};

int main(int argc, char **argv)
{
	static char doc[1024];
	const struct cz_user_policy *const *p;
	size_t nr, i, len;

	len = snprintf(doc, sizeof(doc), "scx_user: the scheduling policy runs "
		       "in user space, as plain C; BPF keeps the fast path and a "
		       "fallback.\vPolicies:");
	p = cz_user_policies(&nr);
	for (i = 0; i < nr && len < sizeof(doc); i++)
		len += snprintf(doc + len, sizeof(doc) - len, "\n  %-8s %s",
				p[i]->name, p[i]->doc);
	user_sched.doc = doc;
	return cz_main(&user_sched, argc, argv);
}
