/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The schedulers czctl can run (scheds.h): scx_* executables in the
 * directory czctl lives in, then $CZ_SCHED_PATH (a colon list), then
 * $PATH; the first of a name wins. Or, with a root (an image's files, as
 * a zone holds them), the image's own, run chrooted there. Relative entries (and the empty ones an
 * unset variable leaves) are skipped, never taken as the working
 * directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "scheds.h"

/* czctl's directory, $CZ_SCHED_PATH, $PATH: one colon list (malloc'd). */
char *sched_search_path(void)
{
	const char *env = getenv("CZ_SCHED_PATH"), *path = getenv("PATH");
	char self[PATH_MAX], *slash, *out;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&out, "%s:%s:%s", self, env ?: "", path ?: "") < 0)
		return NULL;
	return out;
}

bool is_executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* The first @sched executable on the search path; 0, or -1 if none. */
int find_sched(const char *sched, char *out, size_t len)
{
	char *list = sched_search_path(), *save = NULL;

	if (!list)
		return -1;
	/* Empty entries (unset variables) are skipped, not the cwd. */
	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (d[0] != '/')
			continue;
		snprintf(out, len, "%s/%s", d, sched);
		if (is_executable(out)) {
			free(list);
			return 0;
		}
	}
	free(list);
	return -1;
}

/* The image directories a program is looked for in, in this order. */
static const char *const root_dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

int find_in_root(const char *root, const char *sched, char *out, size_t len)
{
	for (size_t i = 0; i < sizeof(root_dirs) / sizeof(root_dirs[0]); i++) {
		snprintf(out, len, "%s%s/%s", root, root_dirs[i], sched);
		if (is_executable(out))
			return 0;
	}
	return -1;
}

void exec_in_root(const char *root, char *const argv[])
{
	const char *path = argv[0];

	if (root && *root) {
		/*
		 * Like a container runtime without namespaces: the program
		 * sees the image's files at /, and the zone's /proc, /sys,
		 * /dev and /run through the mounts its owner made there.
		 */
		if (chroot(root) || chdir("/")) {
			dprintf(2, "czctl: cannot enter %s: %s\n", root, strerror(errno));
			_exit(127);
		}
		path += strlen(root);
	}
	execv(path, argv);
	dprintf(2, "czctl: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * Run @argv (not detached; in @root when set), its stdout (and its stderr
 * when @both) into @out; returns the wait status, or -1 if it could not run.
 */
static int capture(const char *root, char *const argv[], char *out, size_t len,
		   bool both)
{
	int fds[2], status, devnull;
	size_t got = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (!pid) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fds[1], 1);
		if (both)
			dup2(fds[1], 2);
		exec_in_root(root, argv);
	}
	close(fds[1]);
	for (;;) {
		char buf[512];
		ssize_t r = read(fds[0], buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		/* Keep the beginning; drain the rest so the child never blocks. */
		if (got + 1 < len) {
			size_t n = (size_t)r < len - 1 - got ? (size_t)r : len - 1 - got;

			memcpy(out + got, buf, n);
			got += n;
		}
	}
	out[got] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

int run_capture(char *const argv[], char *out, size_t len)
{
	return capture(NULL, argv, out, len, true);
}

int run_capture_in(const char *root, char *const argv[], char *out, size_t len)
{
	return capture(root, argv, out, len, true);
}

int run_capture_out(char *const argv[], char *out, size_t len)
{
	return capture(NULL, argv, out, len, false);
}
