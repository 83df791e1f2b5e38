/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Task-set rules: what --X-pid, --X-comm and --X-cgroup accept and how
 * they resolve (a thread id to its process, a comm to its padded key, a
 * cgroup2 directory to its id), the one-line errors for everything else,
 * and how rules for several sets merge. Real /proc and file systems, no
 * BPF: the cgroup2 success case is skipped where none is mounted.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <mntent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cz_taskset.h"

static char err[256];

static void pid_bad(const char *arg, const char *want)
{
	u32 tgid = 0;

	err[0] = '\0';
	cr_assert_eq(cz_ts_parse_pid(arg, &tgid, err, sizeof(err)), -1,
		     "'%s' accepted as tgid %u", arg, tgid);
	cr_assert(strstr(err, want), "error for '%s' is '%s', want '%s'", arg,
		  err, want);
	cr_assert(!strchr(err, '\n'), "error for '%s' is not one line", arg);
}

Test(taskset, pid_of_this_process)
{
	char arg[32];
	u32 tgid = 0;

	snprintf(arg, sizeof(arg), "%d", getpid());
	cr_assert_eq(cz_ts_parse_pid(arg, &tgid, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tgid, (u32)getpid());
}

static pid_t thread_tid;
static pthread_mutex_t thread_done = PTHREAD_MUTEX_INITIALIZER;

static void *thread_fn(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	/* Stay alive until the test has looked the thread up. */
	pthread_mutex_lock(&thread_done);
	pthread_mutex_unlock(&thread_done);
	return NULL;
}

Test(taskset, thread_id_means_its_process)
{
	pthread_t t;
	char arg[32];
	u32 tgid = 0;
	int ret;

	pthread_mutex_lock(&thread_done);
	cr_assert_eq(pthread_create(&t, NULL, thread_fn, NULL), 0);
	while (!__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	snprintf(arg, sizeof(arg), "%d", thread_tid);
	ret = cz_ts_parse_pid(arg, &tgid, err, sizeof(err));
	pthread_mutex_unlock(&thread_done);
	pthread_join(t, NULL);
	cr_assert_neq(thread_tid, getpid());
	cr_assert_eq(ret, 0, "%s", err);
	cr_assert_eq(tgid, (u32)getpid(), "thread %d resolved to %u, not %d",
		     thread_tid, tgid, getpid());
}

Test(taskset, pid_rejected)
{
	char arg[32];
	pid_t child;

	pid_bad("", "is not a process id");
	pid_bad("abc", "'abc' is not a process id");
	pid_bad("0", "is not a process id");
	pid_bad("-1", "is not a process id");
	pid_bad("+5", "is not a process id");
	pid_bad(" 5", "is not a process id");
	pid_bad("12x", "is not a process id");
	pid_bad("0x10", "is not a process id");
	pid_bad("99999999999", "is not a process id");
	/* Above the kernel's PID_MAX_LIMIT: never a process. */
	pid_bad("4194305", "no process 4194305");

	/* A child that has exited and been reaped is gone. */
	child = fork();
	if (!child)
		_exit(0);
	cr_assert_gt(child, 0);
	waitpid(child, NULL, 0);
	snprintf(arg, sizeof(arg), "%d", child);
	pid_bad(arg, "no process");
}

Test(taskset, comm_padded)
{
	struct cz_ts_comm c;
	const char *max = "abcdefghijklmno";	/* 15 */

	memset(&c, 'x', sizeof(c));
	cr_assert_eq(cz_ts_parse_comm("stress-ng", &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.name, "stress-ng");
	for (size_t i = strlen("stress-ng"); i < sizeof(c.name); i++)
		cr_assert_eq(c.name[i], '\0', "byte %zu is not padding", i);

	cr_assert_eq(cz_ts_parse_comm(max, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(c.name, max, 15), 0);
	cr_assert_eq(c.name[15], '\0');
}

Test(taskset, comm_rejected)
{
	struct cz_ts_comm c;

	cr_assert_eq(cz_ts_parse_comm("abcdefghijklmnop", &c, err, sizeof(err)), -1);
	cr_assert(strstr(err, "is 16 characters; a comm has 1 to 15"), "%s", err);
	cr_assert_eq(cz_ts_parse_comm("", &c, err, sizeof(err)), -1);
	cr_assert(strstr(err, "is 0 characters"), "%s", err);
}

static void cgroup_bad(const char *arg, const char *want)
{
	u64 id = 0;

	err[0] = '\0';
	cr_assert_eq(cz_ts_parse_cgroup(arg, &id, err, sizeof(err)), -1,
		     "'%s' accepted as cgroup %llu", arg, (unsigned long long)id);
	cr_assert(strstr(err, want), "error for '%s' is '%s', want '%s'", arg,
		  err, want);
}

/* The first cgroup2 mount point, or NULL. */
static const char *cgroup2_mount(void)
{
	static char dir[4096];
	struct mntent *m;
	FILE *f = setmntent("/proc/mounts", "r");
	const char *found = NULL;

	while (f && (m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(dir, sizeof(dir), "%s", m->mnt_dir);
			found = dir;
			break;
		}
	}
	if (f)
		endmntent(f);
	return found;
}

Test(taskset, cgroup_rejected)
{
	const char *cg = cgroup2_mount();
	char file[4200];

	cgroup_bad("/no/such/cgroup", "/no/such/cgroup: No such file or directory");
	cgroup_bad("/proc/self/status", "not a directory");
	cgroup_bad("/proc", "/proc: not a cgroup2 directory");
	if (cg) {
		/* A control file of a real cgroup is not a cgroup. */
		snprintf(file, sizeof(file), "%s/cgroup.procs", cg);
		cgroup_bad(file, "not a directory");
	}
}

Test(taskset, cgroup_id_is_the_inode)
{
	const char *cg = cgroup2_mount();
	struct stat st;
	u64 id = 0;

	if (!cg)
		cr_skip_test("no cgroup2 mounted here");
	cr_assert_eq(stat(cg, &st), 0);
	cr_assert_eq(cz_ts_parse_cgroup(cg, &id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(id, (u64)st.st_ino);
	cr_assert_neq(id, 0);
}

Test(taskset, rules_merge_by_key)
{
	struct cz_taskset ts = { 0 };
	char self[32];

	snprintf(self, sizeof(self), "%d", getpid());
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_PID, self, 1u << 0, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, "worker", 1u << 0, err, sizeof(err)), 0);
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_PID, self, 1u << 1, err, sizeof(err)), 0);
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, "worker", 1u << 0, err, sizeof(err)), 0);
	cr_assert_eq(ts.nr, 2, "same keys must merge, got %u rules", ts.nr);
	cr_assert_eq(ts.rules[0].kind, CZ_TS_PID);
	cr_assert_eq(ts.rules[0].sets, 3u, "pid in both sets: mask %#x", ts.rules[0].sets);
	cr_assert_eq(ts.rules[1].sets, 1u);
	cr_assert_eq(cz_ts_sets(&ts), 3u);

	/* A bad rule adds nothing and names the value. */
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_PID, "4194305", 1u << 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "4194305"), "%s", err);
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_CGROUP, "/proc", 1u << 1, err, sizeof(err)), -1);
	cr_assert_eq(ts.nr, 2);
	cz_ts_free(&ts);
	cr_assert_eq(ts.nr, 0);
	cr_assert_null(ts.rules);
}

Test(taskset, rules_limited_per_kind)
{
	struct cz_taskset ts = { 0 };
	char name[16];
	int i;

	for (i = 0; i < CZ_TS_MAX_COMMS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, name, 1, err, sizeof(err)), 0,
			     "comm %d: %s", i, err);
	}
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, "one-too-many", 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "more than 256"), "%s", err);
	/* A known key still merges, and other kinds still have room. */
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, "c0", 2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_PID, "1", 2, err, sizeof(err)), 0, "%s", err);
	cz_ts_free(&ts);
}

Test(taskset, remove_takes_off_one_set)
{
	struct cz_taskset ts = { 0 };
	struct cz_ts_rule r;

	cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, "a", 3, err, sizeof(err)), 0);
	cr_assert_eq(cz_ts_add(&ts, CZ_TS_COMM, "b", 1, err, sizeof(err)), 0);
	cr_assert_eq(cz_ts_rule_parse(CZ_TS_COMM, "a", &r, err, sizeof(err)), 0);
	r.sets = 1;
	cr_assert_eq(cz_ts_remove(&ts, &r), 0);
	cr_assert_eq(ts.nr, 2, "set 1 still holds 'a'");
	cr_assert_eq(ts.rules[0].sets, 2u);
	/* Removing what is not there fails and changes nothing. */
	cr_assert_eq(cz_ts_remove(&ts, &r), -1);
	r.sets = 2;
	cr_assert_eq(cz_ts_remove(&ts, &r), 0);
	cr_assert_eq(ts.nr, 1, "a rule in no set is dropped");
	cr_assert_str_eq(ts.rules[0].comm.name, "b");
	cz_ts_free(&ts);
}

Test(taskset, rule_names)
{
	static const char *const sets[] = { "lc", "lc2" };
	enum cz_ts_kind kind;
	unsigned int set;

	cr_assert_eq(cz_ts_rule_name(sets, 2, "lc-pid", &set, &kind), 0);
	cr_assert(set == 0 && kind == CZ_TS_PID);
	cr_assert_eq(cz_ts_rule_name(sets, 2, "lc2-cgroup", &set, &kind), 0);
	cr_assert(set == 1 && kind == CZ_TS_CGROUP);
	cr_assert_eq(cz_ts_rule_name(sets, 2, "lc-comm", &set, &kind), 0);
	cr_assert(set == 0 && kind == CZ_TS_COMM);
	cr_assert_eq(cz_ts_rule_name(sets, 2, "lc", &set, &kind), -1);
	cr_assert_eq(cz_ts_rule_name(sets, 2, "lc-", &set, &kind), -1);
	cr_assert_eq(cz_ts_rule_name(sets, 2, "lc-pids", &set, &kind), -1);
	cr_assert_eq(cz_ts_rule_name(sets, 2, "be-pid", &set, &kind), -1);
	cr_assert_eq(cz_ts_rule_name(sets, 0, "lc-pid", &set, &kind), -1);
}
