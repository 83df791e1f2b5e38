/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libcz: the userspace side every controlzone loader is built on.
 *
 * A loader describes its scheduler in one struct cz_sched (name, policy
 * options, how to open its skeleton, its statistics) and calls cz_main().
 * libcz does the rest, the same way for every scheduler: the common options
 * (-v, -i, --json, -p, --stats-socket, --version, --help), an option per
 * live tunable, rule options per task set, the root and sched_ext checks,
 * load and attach, SIGINT/SIGTERM, the stats line every interval, the
 * stats socket (cz_stats_proto.h) served from its own thread, the exit
 * report, and re-opening the scheduler when the kernel asks for a restart
 * (e.g. after CPU hotplug).
 *
 * Where it is done: cz_loader.c (the life of the process), cz_opts.c (the
 * command line), cz_ops.c (struct_ops fields), cz_live.c (what the stats
 * socket serves while it runs), cz_exit.c (the exit record).
 *
 * Exit codes: 0 clean exit; 1 the scheduler could not run or was ejected by
 * the kernel (the kernel's reason and message are printed); 2 bad usage
 * (nothing was attached).
 */
#ifndef __CZ_H
#define __CZ_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "cz_shared.h"
#include "cz_stats.h"
#include "cz_util.h"

/*
 * A task set the scheduler treats specially (e.g. "lc", latency-critical):
 * set i of a scheduler's table is bit 1 << i of cz_ts_match() (BPF side,
 * cz_taskset.bpf.h).
 */
struct cz_set_desc {
	const char	*name;	/* options --NAME-pid, --NAME-comm, --NAME-cgroup */
	const char	*desc;	/* what a member is, for --help */
};

/* Options every scheduler has. */
struct cz_opts {
	bool	verbose;	/* -v: libbpf debug output (verifier log) */
	double	interval_s;	/* -i: stats period */
	bool	json;		/* --json: one JSON object per stats line */
	bool	partial;	/* -p: only SCHED_EXT tasks switch */
	double	duration_s;	/* --duration: exit after this long; 0: never */
	const char *stats_socket;	/* --stats-socket: path; NULL: none */
	/*
	 * --cgroup: run as a sub-scheduler of this cgroup2 directory (kernel
	 * 7.3+, under a root such as scx_zones); NULL: the whole machine.
	 */
	const char *cgroup;
	u64	cgroup_id;	/* its id (the directory's inode) */
	char	cgroup_socket[108];	/* the default stats socket with --cgroup */
};

struct cz_sched {
	const char			*name;	/* ops name, e.g. "central" */
	const char			*doc;	/* one line for --help */
	/*
	 * The scheduler has a cid form (include/cz_cpu.bpf.h) and so may run
	 * as a sub-scheduler: libcz offers --cgroup, and open() must open the
	 * cid-form skeleton when opts->cgroup is set.
	 */
	bool				sub;
	/* Without a cid form: why (--cgroup then says so, exit 2). */
	const char			*no_sub;
	const struct argp_option	*options;	/* policy options */
	argp_parser_t			parse;		/* their parser */
	/*
	 * Open the skeleton (the cid form's with opts->cgroup) and set its
	 * read-only data from the options; may be called again after a
	 * kernel-requested restart. NULL on failure.
	 */
	struct bpf_object_skeleton	*(*open)(const struct cz_opts *opts);
	/*
	 * Called once the object is loaded, before anything attaches (NULL:
	 * nothing to do): for what needs the maps to exist, e.g. perf event
	 * fds. 0, or -1 after saying why; the run then fails.
	 */
	int				(*loaded)(void);
	/*
	 * Called right after the scheduler attached and right after it was
	 * detached (NULL: nothing to do), for a loader that works while the
	 * scheduler runs: scx_user's policy thread. attached() returns 0, or
	 * -1 after saying why; the scheduler is then detached and the run
	 * fails. detached() runs before destroy, the maps still there.
	 */
	int				(*attached)(void);
	void				(*detached)(void);
	void				(*destroy)(void);
	const struct cz_stat_desc	*stats;
	unsigned int			nr_stats;
	/*
	 * Live tunables (CZ_TUNABLE_DESC table): libcz makes an option of each
	 * (name with '-' for '_'), writes the values into "cz_tunables" before
	 * attach and serves the socket's "set" request.
	 */
	const struct cz_tunable_desc	*tunables;
	unsigned int			nr_tunables;
	/*
	 * Task sets: libcz makes the rule options of each, writes the rules
	 * into the cz_ts_* maps before attach and serves the socket's "rule"
	 * request (czctl add/del NAME-KIND=VALUE), keeping runtime changes
	 * across a kernel-requested restart.
	 */
	const struct cz_set_desc	*sets;
	unsigned int			nr_sets;
};

int cz_main(const struct cz_sched *sched, int argc, char **argv);

/*
 * For a loader with both forms (.sub): open skeleton NAME, or NAME_cid
 * with --cgroup, into @skel or @skel_cid; point @ro at its .rodata (one
 * layout: both come from one source, which the assertion checks) and
 * yield its bpf_object_skeleton, or NULL. CZ_DESTROY_FORMS undoes it.
 */
#define CZ_OPEN_FORMS(name, o, skel, skel_cid, ro)			\
({									\
	struct bpf_object_skeleton *___s = NULL;			\
									\
	_Static_assert(sizeof(*(skel)->rodata) ==			\
		       sizeof(*(skel_cid)->rodata),			\
		       "both forms of " #name " have the same .rodata");	\
	if ((o)->cgroup) {						\
		(skel_cid) = name##_cid__open();			\
		if (skel_cid) {						\
			(ro) = (struct name##__rodata *)(skel_cid)->rodata; \
			___s = (skel_cid)->skeleton;			\
		}							\
	} else {							\
		(skel) = name##__open();				\
		if (skel) {						\
			(ro) = (skel)->rodata;				\
			___s = (skel)->skeleton;			\
		}							\
	}								\
	___s;								\
})

#define CZ_DESTROY_FORMS(name, skel, skel_cid)				\
do {									\
	name##__destroy(skel);						\
	name##_cid__destroy(skel_cid);					\
	(skel) = NULL;							\
	(skel_cid) = NULL;						\
} while (0)

/*
 * Option values for argp parsers: @arg as a number in [@min, @max]
 * (cz_parse_num()), or a usage error naming @opt.
 */
unsigned long long cz_opt_uint(struct argp_state *state, const char *opt,
			       const char *arg, unsigned long long min,
			       unsigned long long max);
double cz_opt_double(struct argp_state *state, const char *opt,
		     const char *arg, double min, double max);
/* One-line error, short usage, exit 2. */
void cz_usage_error(struct argp_state *state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * A statistic the loader measures, not the BPF side (e.g. a cgroup's CPU
 * time): put @val into slot @idx of @obj's "cz_stats", as CPU 0's value
 * (what the per-CPU sum then reads); a counter's value is its running
 * total. From any thread while the object is loaded; 0, or -1.
 */
int cz_stat_put(struct bpf_object *obj, u32 idx, u64 val);

/* The running kernel's BTF has struct @name (e.g. "sched_ext_ops_cid"). */
bool cz_kernel_has_btf_type(const char *name);

/* The exit record, decoded. */
const char *cz_exit_kind_name(int kind);
int cz_exit_status(const struct cz_exit_info *ei, bool stopped_by_us);
bool cz_exit_wants_restart(const struct cz_exit_info *ei);
void cz_exit_report(FILE *f, const char *prog, const struct cz_exit_info *ei);

#endif /* __CZ_H */
