/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl's command line as every command file uses it: its exit codes, its
 * one-line messages, its usage errors and its usage text.
 */
#ifndef __CZCTL_CLI_H
#define __CZCTL_CLI_H

#include "cz_util.h"

/* CZ_EXIT_OK, CZ_EXIT_FAIL, CZ_EXIT_USAGE (cz_util.h), and: */
enum {
	CZ_EXIT_NO_SCX	= 3,	/* the kernel has no sched_ext */
};

/* The message for a kernel without sched_ext, and its exit code. */
int no_sched_ext(void);
/* One line with a pointer to --help; returns CZ_EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getopt's '?' and ':' as one usage line; returns CZ_EXIT_USAGE. */
int bad_option(char **argv, int opt);
/* The usage text on stdout; returns CZ_EXIT_OK. */
int print_usage(void);

#endif /* __CZCTL_CLI_H */
