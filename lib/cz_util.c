/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small things every controlzone program needs (cz_util.h): clocks, the
 * one-line message, reading a sysfs line, sched_ext's state, parsing a
 * number.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "cz_util.h"

const char *cz_prog = "cz";

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double cz_now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

double cz_wall(void)
{
	return clock_s(CLOCK_REALTIME);
}

void cz_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

int cz_mkdirs(const char *path, mode_t mode)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = dir + 1; ; p++) {
		char c = *p;

		if (c && c != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) && errno != EEXIST)
			return -1;
		*p = c;
		if (!c)
			return 0;
	}
}

void cz_set_prog(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	if (argv0 && *argv0)
		cz_prog = slash ? slash + 1 : argv0;
}

void cz_vsay(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", cz_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cz_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cz_vsay(fmt, ap);
	va_end(ap);
}

bool cz_read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n > 0;
}

int cz_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

int cz_scx_now(char *state, size_t slen, char *ops, size_t olen)
{
	int ret = 0;

	if (cz_read_line(CZ_SCX_STATE, state, slen)) {
		snprintf(state, slen, "unknown");
		ret = access(CZ_SCX_STATE, F_OK) ? -1 : 0;
	}
	if (cz_read_line(CZ_SCX_OPS, ops, olen) || !ops[0])
		snprintf(ops, olen, "none");
	return ret;
}

int cz_parse_num(const char *arg, double min, double max, bool integer,
		 double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	if (!arg || !*arg) {
		snprintf(err, errlen, "a value is required");
		return -1;
	}
	errno = 0;
	if (integer) {
		/* strtoull accepts "-1"; reject signs so it cannot wrap. */
		if (strchr(arg, '-')) {
			snprintf(err, errlen, "'%s' is not a non-negative integer", arg);
			return -1;
		}
		v = (double)strtoull(arg, &end, 0);
	} else {
		v = strtod(arg, &end);
	}
	if (errno || end == arg || *end || isnan(v)) {
		snprintf(err, errlen, "'%s' is not a%s number", arg,
			 integer ? "n integer" : "");
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s is out of range [%.15g, %.15g]", arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cz_parse_cpulist(const char *s, int *cpus, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long c = a; c <= b; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = c;
		}
		if (*end != ',' && *end != '\0')
			return -1;
		s = *end ? end + 1 : end;
	}
	return n;
}

void cz_wait_text(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "stopped");
}

int cz_read_cmdline(int pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (pid <= 0 || len < 2)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

void cz_child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}
