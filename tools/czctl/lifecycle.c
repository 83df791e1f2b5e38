/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl start, stop, switch: running schedulers.
 *
 * A scheduler is an scx_* executable found on czctl's search path
 * (scheds.c). czctl starts it detached (own session, stdin /dev/null, stdout and stderr
 * appended to /run/controlzone/NAME.log) and records it in the run-state
 * file (runstate.h) once sched_ext is enabled with its ops name.
 *
 * Key choices:
 * - The kernel's sysfs is the truth about what runs: start succeeds only
 *   when /sys/kernel/sched_ext/state is "enabled" and root/ops is the
 *   scheduler's ops name (its name without "scx_"); stop only when the
 *   loader is gone and the state is "disabled". The loader's own lines in
 *   its log (its errors, the kernel's "exit:" and "exit message:") are the
 *   reason given when that does not happen.
 * - Arguments are checked by the scheduler itself (its hidden
 *   --check-args) before anything is stopped: a switch with bad arguments
 *   leaves the running scheduler alone, same pid, and exits 2 like any
 *   usage error.
 * - A switch preloads: the new loader starts while the old scheduler runs,
 *   with two pipes (CZ_READY_FD, CZ_GO_FD: lib/cz_loader.c). It says on one
 *   that its BPF program loaded; only then is the old one stopped, and
 *   once it is gone (socket and all) the other pipe tells the new one to
 *   attach. Loading takes seconds under
 *   emulation (most of a switch); this way the zone does not spend them on
 *   the fair class, and a scheduler that fails to load leaves the running
 *   one untouched. Only failures after that (attach, an early exit) cost a
 *   stop and a restore.
 * - One exclusive flock on /run/controlzone/lock serialises start, stop
 *   and switch; it is taken before the run-state is read, so a second
 *   switch acts on what the first one left. The descriptor is close-on-exec
 *   so that a loader never inherits (and holds) the lock.
 * - --root DIR runs a scheduler from an image's files: DIR's own binary,
 *   chrooted into DIR (scheds.h: exec_in_root), DIR kept in the run-state
 *   so a rollback restores it the same way.
 * - The loader is our child while we wait for it, so an early exit is seen
 *   with its status; later czctl calls know it only by its pid, checked
 *   against /proc/PID/cmdline so a reused pid is never signalled.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "cli.h"
#include "czctl.h"
#include "runstate.h"
#include "scheds.h"

enum {
	/*
	 * Load + attach. Under TCG with every CPU busy, enabling takes 4-6 s
	 * on 7.3 and 10-13 s on 6.16 (the verifier shares its CPU with a hog).
	 */
	START_TIMEOUT_S	= 30,
	STOP_TIMEOUT_S	= 10,	/* SIGINT to exit; then SIGKILL */
	KILL_TIMEOUT_S	= 5,	/* SIGKILL to disabled */
	GRACE_S		= 2,	/* switch: the new one must stay up this long */
	LOCK_TIMEOUT_S	= 120,	/* a switch and its restore fit in this */
	POLL_MS		= 20,
	LOG_TAIL	= 4,	/* loader lines quoted as the reason */
	LOG_READ_MAX	= 64 * 1024,
	OUT_MAX		= 4096,	/* --describe / --check-args output kept */
};

static bool verbose;
static double t0;	/* when the command began: -v timings count from it */

/* -v: a step and how long after the command it happened, on stderr. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "czctl: [%6.3f s] ", cz_now() - t0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- sched_ext's state ---- */

static bool scx_disabled(void)
{
	char state[64];

	return !cz_read_line(CZ_SCX_STATE, state, sizeof(state)) &&
	       !strcmp(state, "disabled");
}

static bool scx_runs(const char *ops)
{
	char state[64], cur[128];

	cz_scx_now(state, sizeof(state), cur, sizeof(cur));
	return !strcmp(state, "enabled") && !strcmp(cur, ops);
}

enum { OPT_ROOT = 256, OPT_CONTAINER };

static const struct option run_options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static const struct option stop_options[] = {
	{ "container", no_argument, NULL, OPT_CONTAINER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/* ---- what every running command checks first ---- */

static int need_root_and_scx(void)
{
	if (access(CZ_SCX_STATE, F_OK))
		return no_sched_ext();
	if (geteuid()) {
		cz_say("must be run as root (" CZ_CAPS_NEEDED ")");
		return CZ_EXIT_FAIL;
	}
	return 0;
}

/* Exclusive lock on CZ_RUN_DIR/lock, waiting at most LOCK_TIMEOUT_S. */
static int take_lock(void)
{
	double deadline = cz_now() + LOCK_TIMEOUT_S;
	bool waited = false;
	int fd;

	if (mkdir(CZ_RUN_DIR, 0755) && errno != EEXIST) {
		cz_say("%s: %s", CZ_RUN_DIR, strerror(errno));
		return -1;
	}
	fd = open(CZ_RUN_DIR "/" CZ_RUN_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		cz_say("%s: %s", CZ_RUN_DIR "/" CZ_RUN_LOCK, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			cz_say("locking %s: %s", CZ_RUN_DIR "/" CZ_RUN_LOCK, strerror(errno));
			close(fd);
			return -1;
		}
		if (cz_now() > deadline) {
			cz_say("another czctl has held %s for %d s; giving up",
			    CZ_RUN_DIR "/" CZ_RUN_LOCK, LOCK_TIMEOUT_S);
			close(fd);
			return -1;
		}
		if (!waited)
			note("waiting for another czctl (lock held)");
		waited = true;
		cz_sleep(50 / 1e3);
	}
	if (waited)
		note("got the lock");
	return fd;
}

/*
 * The run-state, if it names a live loader: 1 with @rs filled, else 0. A
 * stale or damaged file is removed when @clean (we hold the lock).
 */
static int current(struct cz_runstate *rs, bool clean)
{
	char err[PATH_MAX + 128];
	int ret = cz_runstate_read(CZ_RUN_DIR, rs, err, sizeof(err));

	if (ret == 1)
		return 0;
	if (ret < 0) {
		cz_say("ignoring a damaged run-state: %s", err);
	} else if (cz_pid_runs(rs->pid, rs->binary)) {
		return 1;
	} else {
		note("ignoring a stale run-state: pid %d (%s) is gone", rs->pid, rs->sched);
		cz_runstate_free(rs);
	}
	if (clean)
		cz_runstate_remove(CZ_RUN_DIR);
	return 0;
}

/* ---- one loader ---- */

/*
 * The reason a loader gave: its own last lines ("scx_x: ..." or czctl's
 * exec error) written to @log since @off, indented, on stderr. Stats lines
 * are left out; if there are no such lines, the last lines of any kind.
 */
static void print_log_tail(const struct cz_runstate *rs, off_t off)
{
	char *buf, *lines[LOG_TAIL], *any[LOG_TAIL], *save = NULL;
	char prefix[CZ_SCHED_NAME_MAX + 2];
	int nl = 0, na = 0, fd;
	off_t end;
	ssize_t n;

	fd = open(rs->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end - off > LOG_READ_MAX)
		off = end - LOG_READ_MAX;
	buf = calloc(1, LOG_READ_MAX + 1);
	n = buf && end > off ? pread(fd, buf, end - off, off) : 0;
	close(fd);
	if (n <= 0) {
		fprintf(stderr, "  (%s: nothing new)\n", rs->log);
		free(buf);
		return;
	}
	buf[n] = '\0';
	snprintf(prefix, sizeof(prefix), "%s:", rs->sched);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		any[na++ % LOG_TAIL] = l;
		if (!strncmp(l, prefix, strlen(prefix)) || !strncmp(l, "czctl:", 6))
			lines[nl++ % LOG_TAIL] = l;
	}
	if (!nl) {
		memcpy(lines, any, sizeof(lines));
		nl = na;
	}
	for (int i = nl > LOG_TAIL ? nl - LOG_TAIL : 0; i < nl; i++)
		fprintf(stderr, "  %s\n", lines[i % LOG_TAIL]);
	free(buf);
}

/*
 * Start @rs->binary with @rs->argv detached; fills pid, log, started and
 * *@off (where this start's output begins in the log). @pipes, if not
 * NULL, are the preload pipe ends it inherits: CZ_READY_FD, CZ_GO_FD.
 * 0 or -1 (said).
 */
static int spawn(struct cz_runstate *rs, off_t *off, const int *pipes)
{
	char **argv, when[64];
	time_t t = time(NULL);
	int logfd, devnull;
	pid_t pid;

	snprintf(rs->log, sizeof(rs->log), "%s/%s.log", CZ_RUN_DIR, rs->sched);
	logfd = open(rs->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (logfd < 0) {
		cz_say("%s: %s", rs->log, strerror(errno));
		return -1;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
	/* Tells one run from the next in the appended log. */
	dprintf(logfd, "--- czctl: %s: %s", when, rs->binary);
	for (int i = 0; i < rs->argc; i++)
		dprintf(logfd, " %s", rs->argv[i]);
	dprintf(logfd, "\n");
	*off = lseek(logfd, 0, SEEK_END);

	argv = calloc(rs->argc + 2, sizeof(*argv));
	if (!argv) {
		close(logfd);
		cz_say("out of memory");
		return -1;
	}
	argv[0] = rs->binary;
	memcpy(argv + 1, rs->argv, rs->argc * sizeof(*argv));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cz_say("fork: %s", strerror(errno));
		free(argv);
		close(logfd);
		return -1;
	}
	if (!pid) {
		/* Its own session: no terminal, no signals from ours. */
		setsid();
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		if (pipes) {
			char num[16];

			snprintf(num, sizeof(num), "%d", pipes[0]);
			fcntl(pipes[0], F_SETFD, 0);
			setenv("CZ_READY_FD", num, 1);
			snprintf(num, sizeof(num), "%d", pipes[1]);
			fcntl(pipes[1], F_SETFD, 0);
			setenv("CZ_GO_FD", num, 1);
		}
		exec_in_root(rs->root, argv);
	}
	free(argv);
	close(logfd);
	rs->pid = pid;
	rs->started = cz_wall();
	note("started %s (pid %d), output to %s", rs->sched, pid, rs->log);
	return 0;
}

/*
 * Whether the loader still runs. Our @child is asked with waitpid (its
 * cmdline is czctl's until it has exec'd) and reaped, its status kept.
 */
static bool loader_alive(const struct cz_runstate *rs, bool child, int *status)
{
	if (child)
		return waitpid(rs->pid, status, WNOHANG) == 0;
	return cz_pid_runs(rs->pid, rs->binary);
}

/* Poll until sched_ext is disabled; false after @secs. */
static bool wait_disabled(double secs)
{
	double deadline = cz_now() + secs;

	while (!scx_disabled()) {
		if (cz_now() > deadline)
			return false;
		cz_sleep(POLL_MS / 1e3);
	}
	return true;
}

/*
 * SIGINT the loader, wait for it to exit and for sched_ext to be disabled;
 * SIGKILL if that takes longer than STOP_TIMEOUT_S. 0, or -1 (said).
 */
static int stop_loader(const struct cz_runstate *rs, bool child)
{
	double deadline = cz_now() + STOP_TIMEOUT_S;
	int status = 0;
	bool alive;

	note("stopping %s (pid %d)", rs->sched, rs->pid);
	kill(rs->pid, SIGINT);
	while ((alive = loader_alive(rs, child, &status)) || !scx_disabled()) {
		if (cz_now() > deadline)
			break;
		cz_sleep(POLL_MS / 1e3);
	}
	if (alive) {
		cz_say("%s (pid %d) did not exit %d s after SIGINT; sending SIGKILL",
		    rs->sched, rs->pid, STOP_TIMEOUT_S);
		kill(rs->pid, SIGKILL);
		deadline = cz_now() + KILL_TIMEOUT_S;
		while ((alive = loader_alive(rs, child, &status))) {
			if (cz_now() > deadline)
				break;
			cz_sleep(POLL_MS / 1e3);
		}
		if (alive) {
			cz_say("%s (pid %d) survived SIGKILL", rs->sched, rs->pid);
			return -1;
		}
	}
	/* The kernel disables the scheduler once the loader's link is gone. */
	if (!wait_disabled(KILL_TIMEOUT_S)) {
		char state[64], ops[128];

		cz_scx_now(state, sizeof(state), ops, sizeof(ops));
		cz_say("%s is gone but sched_ext is still %s (ops \"%s\")", rs->sched, state, ops);
		return -1;
	}
	note("%s stopped; sched_ext disabled", rs->sched);
	return 0;
}

/*
 * Start @rs and wait until sched_ext is enabled with its ops; with @grace,
 * it must then stay up that long. 0, or an exit code with the reason said
 * (and the loader gone, sched_ext disabled as far as we can make it).
 */
static int wait_up(struct cz_runstate *rs, off_t off, double grace)
{
	const char *ops = cz_sched_ops(rs->sched);
	double deadline, up_at = 0;
	char how[64], state[64], cur[128];
	int status = 0;

	deadline = cz_now() + START_TIMEOUT_S;
	for (;;) {
		if (!loader_alive(rs, true, &status))
			break;
		if (!up_at && scx_runs(ops)) {
			up_at = cz_now();
			note("%s enabled (ops \"%s\", pid %d): %.3f s after the command",
			     rs->sched, ops, rs->pid, up_at - t0);
			deadline = up_at + grace;
		}
		if (cz_now() >= deadline) {
			/* Up for the grace period, and still up: done. */
			if (up_at && scx_runs(ops))
				return 0;
			break;
		}
		cz_sleep(POLL_MS / 1e3);
	}
	if (loader_alive(rs, true, &status)) {
		cz_scx_now(state, sizeof(state), cur, sizeof(cur));
		cz_say("%s (pid %d) was not enabled with ops \"%s\" within %d s (sched_ext %s, ops \"%s\"); stopping it. From %s:",
		    rs->sched, rs->pid, ops, START_TIMEOUT_S, state, cur, rs->log);
		print_log_tail(rs, off);
		stop_loader(rs, true);
		return CZ_EXIT_FAIL;
	}
	cz_wait_text(status, how, sizeof(how));
	if (up_at)
		cz_say("%s (pid %d) %s %.1f s after it was enabled. From %s:",
		    rs->sched, rs->pid, how, cz_now() - up_at, rs->log);
	else
		cz_say("%s (pid %d) %s before it was enabled. From %s:",
		    rs->sched, rs->pid, how, rs->log);
	print_log_tail(rs, off);
	/* Its link is closed; the kernel disables it on its own. */
	wait_disabled(KILL_TIMEOUT_S);
	return WIFEXITED(status) && WEXITSTATUS(status) == CZ_EXIT_USAGE ?
	       CZ_EXIT_USAGE : CZ_EXIT_FAIL;
}

static int launch(struct cz_runstate *rs, double grace)
{
	off_t off;

	if (spawn(rs, &off, NULL))
		return CZ_EXIT_FAIL;
	return wait_up(rs, off, grace);
}

/* A preloaded loader that has not attached: nothing to undo but itself. */
static void kill_unattached(const struct cz_runstate *rs)
{
	kill(rs->pid, SIGKILL);
	while (waitpid(rs->pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void close_fds(int *fds, int n)
{
	while (n--)
		if (fds[n] >= 0)
			close(fds[n]);
}

/*
 * Start @rs while another scheduler runs and wait until it says its BPF
 * program loaded; *@off as spawn's, *@go: the pipe end on which a byte
 * makes it attach (closing it makes it exit). 0, or an exit code with the
 * reason said and the new loader gone: what runs is untouched.
 */
static int preload(struct cz_runstate *rs, off_t *off, int *go)
{
	double deadline = cz_now() + START_TIMEOUT_S;
	/* The ready pipe's read and write ends, then the go pipe's. */
	int fds[4] = { -1, -1, -1, -1 }, status = 0;
	ssize_t n = -1;
	char how[64], b;

	if (pipe2(fds, O_CLOEXEC) || pipe2(fds + 2, O_CLOEXEC)) {
		cz_say("pipe: %s", strerror(errno));
		close_fds(fds, 4);
		return CZ_EXIT_FAIL;
	}
	if (spawn(rs, off, (int[]){ fds[1], fds[2] })) {
		close_fds(fds, 4);
		return CZ_EXIT_FAIL;
	}
	close_fds(fds + 1, 2);
	*go = fds[3];
	while (cz_now() < deadline) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int r = poll(&pfd, 1, 100);

		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			n = read(fds[0], &b, 1);
			break;
		}
	}
	close(fds[0]);
	if (n == 1) {
		note("%s (pid %d) loaded: %.3f s after the command", rs->sched,
		     rs->pid, cz_now() - t0);
		return 0;
	}
	close(*go);
	*go = -1;
	/* The pipe closed (n == 0): it is exiting; give it a moment. */
	deadline = cz_now() + (n == 0 ? KILL_TIMEOUT_S : 0);
	while (loader_alive(rs, true, &status) && cz_now() < deadline)
		cz_sleep(POLL_MS / 1e3);
	if (loader_alive(rs, true, &status)) {
		cz_say("%s (pid %d) did not say it loaded within %d s; killed it. From %s:",
		    rs->sched, rs->pid, START_TIMEOUT_S, rs->log);
		kill_unattached(rs);
		print_log_tail(rs, *off);
		return CZ_EXIT_FAIL;
	}
	cz_wait_text(status, how, sizeof(how));
	cz_say("%s (pid %d) %s before it loaded. From %s:", rs->sched, rs->pid,
	    how, rs->log);
	print_log_tail(rs, *off);
	return WIFEXITED(status) && WEXITSTATUS(status) == CZ_EXIT_USAGE ?
	       CZ_EXIT_USAGE : CZ_EXIT_FAIL;
}

static int record(const struct cz_runstate *rs)
{
	char err[PATH_MAX + 128];

	if (cz_runstate_write(CZ_RUN_DIR, rs, err, sizeof(err))) {
		cz_say("%s runs (pid %d) but the run-state was not written: %s",
		    rs->sched, rs->pid, err);
		return CZ_EXIT_FAIL;
	}
	return CZ_EXIT_OK;
}

/* ---- start, stop, switch ---- */

/*
 * --root DIR: an image's files (as a zone holds them: cz-agent mounts the
 * zone's /proc, /sys, /dev, /run and /boot there). Without /sys there the
 * scheduler could not attach: refused now, not after a failed start.
 */
static int set_root(struct cz_runstate *rs, const char *dir)
{
	char probe[PATH_MAX + 32];

	if (!realpath(dir, rs->root)) {
		cz_say("--root %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!strcmp(rs->root, "/")) {
		rs->root[0] = '\0';
		return 0;
	}
	snprintf(probe, sizeof(probe), "%s%s", rs->root, CZ_SCX_STATE);
	if (access(probe, F_OK)) {
		cz_say("--root %s: no %s there (mount the system's /sys in it first)",
		    dir, CZ_SCX_STATE);
		return -1;
	}
	return 0;
}

/*
 * [-v] [--root DIR] NAME [-- ARGS]: the scheduler's name, checked, into @rs->sched; its
 * args into @sargc/@sargv. 0 or CZ_EXIT_USAGE (said).
 */
static int parse_run(int argc, char **argv, struct cz_runstate *rs,
		     int *sargc, char ***sargv)
{
	const char *name;
	int opt;

	/* '+': stop at NAME; what follows "--" is the scheduler's. */
	while ((opt = getopt_long(argc, argv, "+:vh", run_options, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case OPT_ROOT:
			if (set_root(rs, optarg))
				return CZ_EXIT_USAGE;
			break;
		case 'h':
			exit(print_usage());
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind >= argc)
		return usage_error("%s: no scheduler given", argv[0]);
	name = argv[optind++];
	if (cz_sched_name(name, rs->sched, sizeof(rs->sched)))
		return usage_error("'%s' is not a scheduler name (scx_NAME: a-z, 0-9, '_', '-')", name);
	if (optind < argc && strcmp(argv[optind], "--"))
		return usage_error("unexpected argument '%s' (the scheduler's arguments go after --)",
				   argv[optind]);
	if (optind < argc)
		optind++;
	*sargc = argc - optind;
	*sargv = argv + optind;
	return 0;
}

/*
 * Find @rs->sched and have it check @sargv, before anything is stopped.
 * 0 with @rs's binary and args set, or an exit code (said).
 */
static int prepare(int sargc, char **sargv, struct cz_runstate *rs)
{
	char out[OUT_MAX], **argv;
	int status;

	if (rs->root[0]) {
		if (find_in_root(rs->root, rs->sched, rs->binary, sizeof(rs->binary))) {
			cz_say("no scheduler '%s' in %s (its /usr/sbin, /usr/bin, /sbin or /bin)",
			    rs->sched, rs->root);
			return CZ_EXIT_FAIL;
		}
	} else if (find_sched(rs->sched, rs->binary, sizeof(rs->binary))) {
		cz_say("unknown scheduler '%s': not in czctl's directory, $CZ_SCHED_PATH or $PATH (see czctl list)",
		    rs->sched);
		return CZ_EXIT_FAIL;
	}
	if (cz_runstate_set_args(rs, sargc, sargv)) {
		cz_say("out of memory");
		return CZ_EXIT_FAIL;
	}
	argv = calloc(sargc + 3, sizeof(*argv));
	if (!argv) {
		cz_say("out of memory");
		return CZ_EXIT_FAIL;
	}
	argv[0] = rs->binary;
	argv[1] = "--check-args";
	memcpy(argv + 2, sargv, sargc * sizeof(*argv));
	status = run_capture_in(rs->root, argv, out, sizeof(out));
	free(argv);
	if (status == 0)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	if (status > 0 && WIFEXITED(status) && WEXITSTATUS(status) == CZ_EXIT_USAGE) {
		cz_say("%s rejects its arguments: %s", rs->sched, out);
		return CZ_EXIT_USAGE;
	}
	cz_say("%s --check-args failed (status %d): %s", rs->binary, status, out);
	return CZ_EXIT_FAIL;
}

/* Refuse to start over a scheduler that runs: one line. */
static int refuse_running(const struct cz_runstate *cur, bool have_cur)
{
	char state[64], ops[128];

	if (have_cur) {
		cz_say("%s is already running (pid %d, started by czctl); use czctl switch or czctl stop",
		    cur->sched, cur->pid);
		return CZ_EXIT_FAIL;
	}
	cz_scx_now(state, sizeof(state), ops, sizeof(ops));
	cz_say("sched_ext is %s with scheduler \"%s\", not started by czctl; stop it first",
	    state, ops);
	return CZ_EXIT_FAIL;
}

/*
 * What start and switch do first: parse, check root and sched_ext, let the
 * scheduler check its arguments, then take the lock. 0 or an exit code.
 */
static int begin_run(int argc, char **argv, struct cz_runstate *rs)
{
	char **sargv = NULL;
	int sargc = 0, ret;

	t0 = cz_now();
	ret = parse_run(argc, argv, rs, &sargc, &sargv);
	if (!ret)
		ret = need_root_and_scx();
	if (!ret)
		ret = prepare(sargc, sargv, rs);
	if (ret)
		return ret;
	umask(022);
	return take_lock() < 0 ? CZ_EXIT_FAIL : 0;
}

int cmd_start(int argc, char **argv)
{
	struct cz_runstate rs = { 0 }, cur = { 0 };
	int ret, have_cur;

	ret = begin_run(argc, argv, &rs);
	if (ret)
		goto out;
	ret = CZ_EXIT_FAIL;
	have_cur = current(&cur, true);
	if (have_cur || !scx_disabled()) {
		ret = refuse_running(&cur, have_cur);
		goto out;
	}
	ret = launch(&rs, 0);
	if (!ret)
		ret = record(&rs);
out:
	cz_runstate_free(&rs);
	cz_runstate_free(&cur);
	return ret;
}

/*
 * The loader of the attached scheduler (its argv[0] is scx_OPS) that runs
 * in our own mount namespace, whoever started it: in a container, the
 * container's scheduler (a Kubernetes preStop hook: deploy/kubernetes),
 * never one of the host's or another container's, even with hostPID. 1
 * with @rs filled, 0 if there is none.
 */
static int find_container_loader(struct cz_runstate *rs, const char *ops)
{
	char mine[64] = "", ns[64], path[64], cmd[PATH_MAX], want[CZ_SCHED_NAME_MAX];
	struct dirent *e;
	DIR *d;
	ssize_t n;

	n = readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 1);
	if (n <= 0 || cz_sched_name(ops, want, sizeof(want)) || !(d = opendir("/proc")))
		return 0;
	mine[n] = '\0';
	while ((e = readdir(d))) {
		pid_t pid = atoi(e->d_name);
		const char *base;

		if (pid <= 1 || pid == getpid() || cz_read_cmdline(pid, cmd, sizeof(cmd)) < 0)
			continue;
		base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		n = readlink(path, ns, sizeof(ns) - 1);
		if (strcmp(base, want) || n <= 0)
			continue;
		ns[n] = '\0';
		if (strcmp(ns, mine))
			continue;
		rs->pid = pid;
		snprintf(rs->sched, sizeof(rs->sched), "%s", want);
		snprintf(rs->binary, sizeof(rs->binary), "%s", cmd);
		closedir(d);
		return 1;
	}
	closedir(d);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	struct cz_runstate cur = { 0 };
	char state[64], ops[128];
	bool container = false;
	int opt, ret;

	t0 = cz_now();
	while ((opt = getopt_long(argc, argv, ":vh", stop_options, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case OPT_CONTAINER:
			container = true;
			break;
		case 'h':
			return print_usage();
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	ret = need_root_and_scx();
	if (ret)
		return ret;
	umask(022);
	/*
	 * In a container (read-only, no /run) there is no other czctl to
	 * wait for: its loader was the container's entrypoint.
	 */
	if (!container && take_lock() < 0)
		return CZ_EXIT_FAIL;
	cz_scx_now(state, sizeof(state), ops, sizeof(ops));
	if (container && strcmp(state, "disabled") && !current(&cur, false) &&
	    !find_container_loader(&cur, ops)) {
		cz_say("sched_ext is %s with \"%s\", but no loader scx_%s runs in this mount namespace",
		    state, ops, ops);
		return CZ_EXIT_FAIL;
	}
	if (!cur.pid && !current(&cur, true)) {
		if (strcmp(state, "disabled"))
			cz_say("nothing running that czctl started (sched_ext is %s with \"%s\")",
			    state, ops);
		else
			cz_say("nothing running");
		return CZ_EXIT_FAIL;
	}
	ret = stop_loader(&cur, false) ? CZ_EXIT_FAIL : CZ_EXIT_OK;
	/* Keep the record only while its loader lives: stop may be retried. */
	if (!cz_pid_runs(cur.pid, cur.binary))
		cz_runstate_remove(CZ_RUN_DIR);
	cz_runstate_free(&cur);
	return ret;
}

int cmd_switch(int argc, char **argv)
{
	struct cz_runstate rs = { 0 }, prev = { 0 };
	char args[1024];
	int ret, err, go = -1;
	off_t off;

	ret = begin_run(argc, argv, &rs);
	if (ret)
		goto out;
	ret = CZ_EXIT_FAIL;
	if (!current(&prev, true)) {
		/* Nothing of ours runs: a start, refused over anyone else's. */
		if (!scx_disabled()) {
			ret = refuse_running(&prev, false);
			goto out;
		}
		note("nothing running: starting %s", rs.sched);
		ret = launch(&rs, 0);
		if (!ret)
			ret = record(&rs);
		goto out;
	}
	err = preload(&rs, &off, &go);
	if (err) {
		cz_say("switch to %s failed; %s (pid %d) left running", rs.sched,
		    prev.sched, prev.pid);
		ret = err;
		goto out;
	}
	if (stop_loader(&prev, false)) {
		close(go);
		kill_unattached(&rs);
		if (!cz_pid_runs(prev.pid, prev.binary))
			cz_runstate_remove(CZ_RUN_DIR);
		goto out;
	}
	cz_runstate_remove(CZ_RUN_DIR);

	/* The old one is gone: go. Should the new one be gone too (EPIPE,
	 * not SIGPIPE), its exit is seen below. */
	signal(SIGPIPE, SIG_IGN);
	if (write(go, "1", 1) != 1)
		note("telling %s to attach failed: %s", rs.sched, strerror(errno));
	close(go);
	err = wait_up(&rs, off, GRACE_S);
	if (!err) {
		note("switched from %s (pid %d) to %s (pid %d): %.3f s in all",
		     prev.sched, prev.pid, rs.sched, rs.pid, cz_now() - t0);
		ret = record(&rs);
		goto out;
	}

	/* The new one failed: bring the previous one back, as it was. */
	cz_runstate_args(&prev, args, sizeof(args));
	note("restoring %s%s%s", prev.sched, prev.argc ? " -- " : "", args);
	if (launch(&prev, 0)) {
		cz_say("restoring %s failed as well: nothing is running", prev.sched);
		ret = CZ_EXIT_FAIL;
		goto out;
	}
	cz_say("switch to %s failed; restored %s%s%s (pid %d)", rs.sched,
	    prev.sched, prev.argc ? " -- " : "", args, prev.pid);
	record(&prev);
	ret = err;
out:
	cz_runstate_free(&rs);
	cz_runstate_free(&prev);
	return ret;
}
