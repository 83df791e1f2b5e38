/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-spawn: forks CPU hogs at a steady rate, for the test that detaches a
 * scheduler while new tasks keep appearing (tests/vm/t-switch.sh).
 *
 *   cz-spawn COUNT INTERVAL_US
 *
 * Forks COUNT children that spin until killed, one every INTERVAL_US
 * microseconds, then waits for a signal. A shell loop forks too slowly
 * (milliseconds per fork under emulation) to land several new tasks in
 * the fraction of a second a detach takes; a C loop does. The children
 * are named cz-hog and die with the parent (PR_SET_PDEATHSIG), so killing
 * cz-spawn ends them all. Exit 2: bad usage; 1: fork failed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "cz_util.h"

enum {
	MAX_COUNT	= 10000,
	MAX_INTERVAL_US	= 10000000,
};

static long number(const char *s, long max, const char *what)
{
	char err[128];
	double v;

	if (cz_parse_num(s, 0, max, true, &v, err, sizeof(err))) {
		fprintf(stderr, "cz-spawn: %s: %s\n", what, err);
		exit(CZ_EXIT_USAGE);
	}
	return (long)v;
}

static void hog(void)
{
	volatile unsigned long n = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "cz-hog");
	/* The parent may have died before the line above. */
	if (getppid() == 1)
		_exit(0);
	for (;;)
		n++;
}

int main(int argc, char **argv)
{
	long count, interval_us, i;

	if (argc != 3) {
		fprintf(stderr, "usage: cz-spawn COUNT INTERVAL_US\n");
		return CZ_EXIT_USAGE;
	}
	count = number(argv[1], MAX_COUNT, "COUNT");
	interval_us = number(argv[2], MAX_INTERVAL_US, "INTERVAL_US");

	for (i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("cz-spawn: fork");
			return 1;
		}
		if (pid == 0)
			hog();
		if (interval_us)
			usleep(interval_us);
	}
	for (;;)
		pause();
}
