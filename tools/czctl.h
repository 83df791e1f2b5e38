/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What czctl's two files share: czctl.c (the command line, stats and
 * status: reading) and czctl_run.c (list, start, stop, switch: running
 * schedulers). One exit-code table for both.
 */
#ifndef __CZCTL_H
#define __CZCTL_H

#include <stdbool.h>
#include <stdio.h>

#define SCX_SYSFS	"/sys/kernel/sched_ext"

enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* nothing running, failed to start, no reply... */
	EXIT_USAGE	= 2,	/* czctl's or the scheduler's arguments */
	EXIT_NO_SCX	= 3,	/* the kernel has no sched_ext */
};

/* "czctl: " and one line on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with a pointer to --help; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getopt's '?' and ':' as one usage line. */
int bad_option(char **argv, int opt);
extern const char usage_text[];

int cmd_list(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_switch(int argc, char **argv);
/* status's lines about the scheduler czctl started, if any. */
void print_runstate(FILE *f);

#endif /* __CZCTL_H */
