/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What libcz's own files share; loaders include cz.h only.
 *
 *   cz_loader.c  the life of a scheduler process (cz_main)
 *   cz_opts.c    its command line
 *   cz_ops.c     fields of the struct_ops map, through the object's BTF
 *   cz_live.c    the live state the stats socket serves while it runs
 *
 * The loader calls the other three; none of them calls the loader.
 */
#ifndef __CZ_PRIV_H
#define __CZ_PRIV_H

#include <pthread.h>
#include "cz.h"
#include "cz_stats_proto.h"
#include "cz_taskset.h"

/* ---- cz_opts.c ---- */

/*
 * Parse the command line of scheduler @s into @opts, @tunables (one value
 * per tunable, defaults already in) and @rules. A usage error, --help,
 * --version and the hidden --describe exit here. Returns 0, 1 when only
 * --check-args was asked (the arguments are fine), or -1 after saying why
 * (an invalid descriptor table, out of memory).
 */
int cz_opts_parse(const struct cz_sched *s, int argc, char **argv,
		  struct cz_opts *opts, u64 *tunables, struct cz_taskset *rules);

/* ---- cz_ops.c ---- */

/* The object's struct_ops map (the scheduler), or NULL. */
struct bpf_map *cz_ops_map(struct bpf_object *obj);
/*
 * Write @val into integer member @member of the ops map's initial value
 * (OR it in when @or_in), before load. 0, or -1 if there is no such member.
 */
int cz_ops_set_u64(struct bpf_object *obj, struct bpf_map *ops,
		   const char *member, u64 val, bool or_in);

/* ---- cz_live.c ---- */

/*
 * What the stats socket's thread reads while the scheduler runs. @map is
 * NULL while no scheduler is attached (before the first attach, and during
 * a kernel-requested restart); clients then get EAGAIN. One mutex guards
 * it all; the loader's thread takes it only to hand the maps over and to
 * take them back.
 */
struct cz_live {
	pthread_mutex_t			lock;
	const struct cz_sched		*sched;
	const char			**set_names;	/* sched's, for lookups */
	unsigned int			nr_cpus;
	struct bpf_map			*map;		/* "cz_stats" */
	struct bpf_map			*tunables_map;	/* "cz_tunables" */
	struct bpf_object		*obj;		/* for rule updates */
	double				started;
	u64				*vals;	/* the server thread's own */
	u64				tunables[CZ_MAX_TUNABLES];	/* the truth */
	u64				tunables_copy[CZ_MAX_TUNABLES];	/* server's */
	struct cz_taskset		rules;	/* the truth */
};

/* Defaults for every tunable, no rules; -1 when out of memory. */
int cz_live_init(struct cz_live *l, const struct cz_sched *s);
/* Room for one snapshot of @nr_cpus CPUs; -1 when out of memory. */
int cz_live_alloc(struct cz_live *l, unsigned int nr_cpus);
void cz_live_free(struct cz_live *l);
/* The socket's answers: stats, and set/rule where the scheduler has them. */
struct cz_stats_source cz_live_source(struct cz_live *l);
/*
 * After load, before attach: every tunable into @tunables_map and every
 * rule into @obj's maps, so the policy never sees a zero or a missing
 * rule. 0, or -1 with @err saying why.
 */
int cz_live_write(struct cz_live *l, struct bpf_object *obj,
		  struct bpf_map *tunables_map, char *err, size_t errlen);
/* Hand the attached scheduler's maps to the server thread (NULLs: take
 * them back, waiting at most for one read in flight). */
void cz_live_attach(struct cz_live *l, struct bpf_object *obj,
		    struct bpf_map *map, struct bpf_map *tunables_map,
		    double started);

/* Read the per-CPU "cz_stats" map into @vals (stat-major). 0, or -1. */
int cz_stats_read(struct bpf_map *map, unsigned int nr_stats,
		  unsigned int nr_cpus, u64 *vals);

#endif /* __CZ_PRIV_H */
