/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run-state: what czctl records about the scheduler it started, in
 * /run/controlzone/current, so that a later czctl can show, stop or
 * replace it (and restore it when a switch fails).
 *
 * The file is one JSON object (json-c, which czctl links anyway):
 *
 *   {"pid":412,"sched":"scx_central","binary":"/cz/bin/scx_central",
 *    "args":["--slice-us","5000"],"started":1718000000.25,
 *    "log":"/run/controlzone/scx_central.log"}
 *
 * and "root":"/cz/images/scheduler" when the scheduler runs from an
 * image's files (czctl start --root), its binary then under that root.
 *
 * Key choices:
 * - JSON rather than one value a line: arguments may hold any byte but NUL,
 *   newlines included, and readers other than czctl get a known format.
 * - Written atomically (a temporary file in the same directory, then
 *   rename), so a reader never sees half a file, even if czctl dies.
 * - A recorded pid is trusted only while /proc/PID/cmdline still names the
 *   recorded binary: a stale file (the loader was killed, the machine kept
 *   /run) or a reused pid is told apart from a running scheduler.
 * - czctl's own: json-c, no libbpf.
 */
#ifndef __CZCTL_RUNSTATE_H
#define __CZCTL_RUNSTATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CZ_RUN_DIR		"/run/controlzone"
#define CZ_RUN_CURRENT		"current"
#define CZ_RUN_LOCK		"lock"

enum {
	/* "scx_" and the ops name: sched_ext's ops name is at most 128. */
	CZ_SCHED_NAME_MAX	= 132,
};

struct cz_runstate {
	pid_t	pid;				/* the loader */
	char	sched[CZ_SCHED_NAME_MAX];	/* "scx_central" */
	char	binary[PATH_MAX];		/* what was executed */
	char	root[PATH_MAX];			/* chrooted there; "": not */
	char	log[PATH_MAX];			/* its stdout and stderr */
	double	started;			/* CLOCK_REALTIME, seconds */
	int	argc;				/* the scheduler's own args */
	char	**argv;				/* malloc'd, argc entries */
};

/*
 * A scheduler name as the user typed it ("scx_central" or "central") into
 * its executable name "scx_central". Only [a-z0-9_-] after the prefix, so
 * a name never reaches outside the search directories. 0, or -1 if
 * invalid.
 */
int cz_sched_name(const char *in, char *out, size_t len);
/* The ops name a scheduler registers: its name without "scx_". */
const char *cz_sched_ops(const char *sched);

/* A JSON object on one line with '\n' (malloc'd); NULL: out of memory. */
char *cz_runstate_encode(const struct cz_runstate *rs);
/* 0, or -1 with @err saying what is wrong with @text. */
int cz_runstate_decode(const char *text, struct cz_runstate *rs,
		       char *err, size_t errlen);
/* Copy @argc args into @rs (replacing any); -1 when out of memory. */
int cz_runstate_set_args(struct cz_runstate *rs, int argc, char *const *argv);
void cz_runstate_free(struct cz_runstate *rs);
/* The args as one shell-like string (quoted where needed), for messages. */
void cz_runstate_args(const struct cz_runstate *rs, char *buf, size_t len);

/*
 * @dir/current: written atomically (mode 0644, @dir created 0755), read,
 * removed. cz_runstate_read() returns 0, 1 if there is no file, or -1
 * with @err filled.
 */
int cz_runstate_write(const char *dir, const struct cz_runstate *rs,
		      char *err, size_t errlen);
int cz_runstate_read(const char *dir, struct cz_runstate *rs,
		     char *err, size_t errlen);
int cz_runstate_remove(const char *dir);

/*
 * Whether @pid is a live process whose argv[0] names @binary (same
 * basename: a wrapper may exec it by another path). A zombie has an empty
 * cmdline, so it counts as gone.
 */
bool cz_pid_runs(pid_t pid, const char *binary);

#endif /* __CZCTL_RUNSTATE_H */
