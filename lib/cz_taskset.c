/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Task-set rules: parsing and checking (before anything is loaded), and
 * writing them into the BPF maps (after load, or at any time later). See
 * cz_taskset.h for the choices.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "cz_taskset.h"

int cz_ts_parse_pid(const char *arg, u32 *tgid, char *err, size_t errlen)
{
	char path[64], line[256];
	unsigned long pid;
	bool found = false;
	char *end;
	FILE *f;

	errno = 0;
	pid = strtoul(arg, &end, 10);
	/* isdigit first: strtoul would take " 1", "+1" and "-1". */
	if (!isdigit((unsigned char)*arg) || *end || errno || !pid ||
	    pid > INT_MAX) {
		snprintf(err, errlen, "'%s' is not a process id", arg);
		return -1;
	}
	/* /proc/TID/status exists for threads too, and names their group. */
	snprintf(path, sizeof(path), "/proc/%lu/status", pid);
	f = fopen(path, "r");
	if (f) {
		while (!found && fgets(line, sizeof(line), f))
			found = sscanf(line, "Tgid: %u", tgid) == 1;
		fclose(f);
	}
	if (!found) {
		snprintf(err, errlen, "no process %lu", pid);
		return -1;
	}
	return 0;
}

int cz_ts_parse_comm(const char *arg, struct cz_ts_comm *comm, char *err,
		     size_t errlen)
{
	size_t len = strlen(arg);

	if (!len || len >= sizeof(comm->name)) {
		snprintf(err, errlen, "'%s' is %zu characters; a comm has 1 to %zu",
			 arg, len, sizeof(comm->name) - 1);
		return -1;
	}
	/* The BPF side compares all 16 bytes: pad with NULs like the kernel. */
	memset(comm, 0, sizeof(*comm));
	memcpy(comm->name, arg, len);
	return 0;
}

/*
 * Levels below the root of its cgroup2 mount: ".." is followed until it
 * leaves the file system. Inside a cgroup namespace the kernel's level is
 * deeper than this by the namespace root's depth.
 */
static int cgroup_depth(const char *dir, dev_t dev)
{
	char path[PATH_MAX];
	struct stat st;
	int depth;

	snprintf(path, sizeof(path), "%s", dir);
	for (depth = 0; depth <= CZ_TS_MAX_DEPTH; depth++) {
		if (strlen(path) + 4 >= sizeof(path))
			break;
		strcat(path, "/..");
		if (stat(path, &st) || st.st_dev != dev)
			return depth;
	}
	return INT_MAX;
}

int cz_ts_parse_cgroup(const char *arg, u64 *cgid, char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;

	if (stat(arg, &st)) {
		snprintf(err, errlen, "%s: %s", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", arg);
		return -1;
	}
	if (statfs(arg, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen, "%s: not a cgroup2 directory", arg);
		return -1;
	}
	if (cgroup_depth(arg, st.st_dev) > CZ_TS_MAX_DEPTH) {
		snprintf(err, errlen, "%s: more than %d levels below the cgroup2 root",
			 arg, CZ_TS_MAX_DEPTH);
		return -1;
	}
	/* kernfs numbers a cgroup's directory inode with the cgroup id. */
	*cgid = st.st_ino;
	return 0;
}

static bool same_key(const struct cz_ts_rule *a, const struct cz_ts_rule *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case CZ_TS_PID:
		return a->tgid == b->tgid;
	case CZ_TS_COMM:
		return !memcmp(&a->comm, &b->comm, sizeof(a->comm));
	default:
		return a->cgid == b->cgid;
	}
}

const char *const cz_ts_kind_names[NR_CZ_TS_KINDS] = {
	[CZ_TS_PID] = "pid",
	[CZ_TS_COMM] = "comm",
	[CZ_TS_CGROUP] = "cgroup",
};

int cz_ts_rule_parse(enum cz_ts_kind kind, const char *arg,
		     struct cz_ts_rule *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	switch (kind) {
	case CZ_TS_PID:
		return cz_ts_parse_pid(arg, &r->tgid, err, errlen);
	case CZ_TS_COMM:
		return cz_ts_parse_comm(arg, &r->comm, err, errlen);
	case CZ_TS_CGROUP:
		return cz_ts_parse_cgroup(arg, &r->cgid, err, errlen);
	default:
		snprintf(err, errlen, "unknown rule kind %d", kind);
		return -1;
	}
}

int cz_ts_insert(struct cz_taskset *ts, const struct cz_ts_rule *r,
		 char *err, size_t errlen)
{
	static const unsigned int max[NR_CZ_TS_KINDS] = {
		[CZ_TS_PID] = CZ_TS_MAX_TGIDS,
		[CZ_TS_COMM] = CZ_TS_MAX_COMMS,
		[CZ_TS_CGROUP] = CZ_TS_MAX_CGROUPS,
	};
	struct cz_ts_rule *grown;
	unsigned int i, nr_kind = 0;

	for (i = 0; i < ts->nr; i++) {
		if (same_key(&ts->rules[i], r)) {
			ts->rules[i].sets |= r->sets;
			return 0;
		}
		nr_kind += ts->rules[i].kind == r->kind;
	}
	if (nr_kind >= max[r->kind]) {
		snprintf(err, errlen, "more than %u %s rules", max[r->kind],
			 cz_ts_kind_names[r->kind]);
		return -1;
	}
	grown = realloc(ts->rules, (ts->nr + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ts->rules = grown;
	ts->rules[ts->nr++] = *r;
	return 0;
}

int cz_ts_remove(struct cz_taskset *ts, const struct cz_ts_rule *r)
{
	for (unsigned int i = 0; i < ts->nr; i++) {
		struct cz_ts_rule *t = &ts->rules[i];

		if (!same_key(t, r) || !(t->sets & r->sets))
			continue;
		t->sets &= ~r->sets;
		if (!t->sets)
			*t = ts->rules[--ts->nr];
		return 0;
	}
	return -1;
}

int cz_ts_add(struct cz_taskset *ts, enum cz_ts_kind kind, const char *arg,
	      u32 sets, char *err, size_t errlen)
{
	struct cz_ts_rule r;

	if (cz_ts_rule_parse(kind, arg, &r, err, errlen))
		return -1;
	r.sets = sets;
	return cz_ts_insert(ts, &r, err, errlen);
}

int cz_ts_rule_name(const char *const *set_names, unsigned int nr_sets,
		    const char *name, unsigned int *set, enum cz_ts_kind *kind)
{
	for (unsigned int i = 0; i < nr_sets; i++) {
		size_t n = strlen(set_names[i]);

		if (strncmp(name, set_names[i], n) || name[n] != '-')
			continue;
		for (int k = 0; k < NR_CZ_TS_KINDS; k++) {
			if (strcmp(name + n + 1, cz_ts_kind_names[k]))
				continue;
			*set = i;
			*kind = k;
			return 0;
		}
	}
	return -1;
}

u32 cz_ts_sets(const struct cz_taskset *ts)
{
	u32 sets = 0;

	for (unsigned int i = 0; i < ts->nr; i++)
		sets |= ts->rules[i].sets;
	return sets;
}

void cz_ts_free(struct cz_taskset *ts)
{
	free(ts->rules);
	ts->rules = NULL;
	ts->nr = 0;
}

int cz_ts_update(struct bpf_object *obj, const struct cz_ts_rule *rule,
		 bool add)
{
	static const char *const map_names[NR_CZ_TS_KINDS] = {
		[CZ_TS_PID] = "cz_ts_tgid",
		[CZ_TS_COMM] = "cz_ts_comm",
		[CZ_TS_CGROUP] = "cz_ts_cgroup",
	};
	const void *key = rule->kind == CZ_TS_PID ? (const void *)&rule->tgid :
			  rule->kind == CZ_TS_COMM ? (const void *)&rule->comm :
			  (const void *)&rule->cgid;
	struct bpf_map *map;
	u32 sets = 0;
	int fd;

	if ((unsigned int)rule->kind >= NR_CZ_TS_KINDS) {
		errno = EINVAL;
		return -1;
	}
	map = bpf_object__find_map_by_name(obj, map_names[rule->kind]);
	if (!map) {
		errno = ENOENT;
		return -1;
	}
	fd = bpf_map__fd(map);
	if (bpf_map_lookup_elem(fd, key, &sets) && errno != ENOENT)
		return -1;
	sets = add ? sets | rule->sets : sets & ~rule->sets;
	if (sets)
		return bpf_map_update_elem(fd, key, &sets, BPF_ANY);
	if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
		return -1;
	return 0;
}

int cz_ts_write(const struct cz_taskset *ts, struct bpf_object *obj,
		char *err, size_t errlen)
{
	for (unsigned int i = 0; i < ts->nr; i++) {
		if (cz_ts_update(obj, &ts->rules[i], true)) {
			snprintf(err, errlen, "writing task-set rule %u into its map: %s",
				 i + 1, strerror(errno));
			return -1;
		}
	}
	return 0;
}
