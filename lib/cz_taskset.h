/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Task sets, userspace side: the rules that put tasks into sets, as a
 * loader's command line gives them (--X-pid PID, --X-comm NAME,
 * --X-cgroup PATH), and how they reach the maps of include/cz_taskset.bpf.h.
 *
 * Key choices:
 * - Every rule is checked and resolved while the command line is parsed,
 *   before anything is loaded: a pid must name a live process (its whole
 *   thread group is taken, so a thread id works too), a comm must fit the
 *   kernel's 15 characters, a cgroup must be a directory on cgroup2 and is
 *   kept as its id (the directory's inode number, which is what the
 *   kernel calls the cgroup id on 64-bit machines).
 * - Parsing functions are pure apart from reading /proc and stat()ing the
 *   path, and report one line in @err, so a loader turns them into a usage
 *   error and the unit tests check them without BPF.
 * - Rules with the same key merge: their set masks are OR-ed, and a map
 *   update reads the current mask and adds or removes bits, so rules for
 *   several sets (and later additions at run time) share one entry.
 */
#ifndef __CZ_TASKSET_H
#define __CZ_TASKSET_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include "cz_shared.h"

enum cz_ts_kind {
	CZ_TS_PID,
	CZ_TS_COMM,
	CZ_TS_CGROUP,
	NR_CZ_TS_KINDS,
};

struct cz_ts_rule {
	enum cz_ts_kind		kind;
	u32			sets;	/* mask of set bits */
	union {
		u32			tgid;
		struct cz_ts_comm	comm;
		u64			cgid;
	};
};

struct cz_taskset {
	struct cz_ts_rule	*rules;
	unsigned int		nr;
};

/* Each returns 0, or -1 with one line in @err. */
int cz_ts_parse_pid(const char *arg, u32 *tgid, char *err, size_t errlen);
int cz_ts_parse_comm(const char *arg, struct cz_ts_comm *comm, char *err,
		     size_t errlen);
/* Where cgroup2 is mounted (paths below it name cgroups in messages). */
#define CZ_CGROUP_MOUNT	"/sys/fs/cgroup"

int cz_ts_parse_cgroup(const char *arg, u64 *cgid, char *err, size_t errlen);

/* "pid", "comm", "cgroup": a rule's name is SET-KIND, e.g. "lc-pid". */
extern const char *const cz_ts_kind_names[NR_CZ_TS_KINDS];

/* Parse @arg as a rule of @kind into @r (sets 0). */
int cz_ts_rule_parse(enum cz_ts_kind kind, const char *arg,
		     struct cz_ts_rule *r, char *err, size_t errlen);
/* Add @r's sets to @ts, merging with a rule of the same key. */
int cz_ts_insert(struct cz_taskset *ts, const struct cz_ts_rule *r,
		 char *err, size_t errlen);
/* Take @r's sets off the rule of the same key; -1 if none had them. */
int cz_ts_remove(struct cz_taskset *ts, const struct cz_ts_rule *r);
/* Parse @arg as a rule of @kind and add it to @ts for the sets in @sets. */
int cz_ts_add(struct cz_taskset *ts, enum cz_ts_kind kind, const char *arg,
	      u32 sets, char *err, size_t errlen);
/*
 * Split rule name @name ("lc-pid") into a set index into @set_names and a
 * kind; -1 if it names no rule.
 */
int cz_ts_rule_name(const char *const *set_names, unsigned int nr_sets,
		    const char *name, unsigned int *set, enum cz_ts_kind *kind);
/* The sets any rule of @ts puts tasks into. */
u32 cz_ts_sets(const struct cz_taskset *ts);
void cz_ts_free(struct cz_taskset *ts);

/*
 * After the BPF object is loaded: put every rule of @ts into its maps.
 * Returns 0, or -1 with one line in @err.
 */
int cz_ts_write(const struct cz_taskset *ts, struct bpf_object *obj,
		char *err, size_t errlen);
/*
 * Add (@add) or remove the sets of one rule in @obj's maps, at any time:
 * the BPF side looks the maps up on every call. Not atomic against another
 * process updating the same key. Returns 0, or -1 with errno set.
 */
int cz_ts_update(struct bpf_object *obj, const struct cz_ts_rule *rule,
		 bool add);

#endif /* __CZ_TASKSET_H */
