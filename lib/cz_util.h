/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small things every controlzone program needs, in one place: exit codes,
 * clocks, the one-line message, reading a sysfs line, parsing a number or
 * a CPU list, and where sched_ext shows its state.
 *
 * Free of libbpf and json-c (libczutil links nothing else), so a test
 * helper that needs only a number parser links only this.
 */
#ifndef __CZ_UTIL_H
#define __CZ_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit codes shared by the schedulers and the tools. */
enum {
	CZ_EXIT_OK	= 0,
	CZ_EXIT_FAIL	= 1,	/* could not do it (or the kernel ejected it) */
	CZ_EXIT_USAGE	= 2,	/* bad usage: nothing was changed */
};

/*
 * The capabilities loading and attaching a scheduler takes, measured by
 * tests/vm/t-caps.sh, in the words of every message that says it.
 */
#define CZ_CAPS_NEEDED "a scheduler needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN"

/* sched_ext's sysfs: the kernel's word on what runs. */
#define CZ_SCX_SYSFS		"/sys/kernel/sched_ext"
#define CZ_SCX_STATE		CZ_SCX_SYSFS "/state"
#define CZ_SCX_OPS		CZ_SCX_SYSFS "/root/ops"
#define CZ_SCX_HOTPLUG_SEQ	CZ_SCX_SYSFS "/hotplug_seq"

/* Seconds: CLOCK_MONOTONIC for intervals, CLOCK_REALTIME for records. */
double cz_now(void);
double cz_wall(void);
/* Sleep @s seconds (a signal may cut it short). */
void cz_sleep(double s);
/* mkdir -p @path (each missing directory with @mode); 0, or -1 with errno. */
int cz_mkdirs(const char *path, mode_t mode);

/*
 * The program's name in messages: "scx_central", "czctl". Set once from
 * argv[0] (its basename) or a fixed name.
 */
extern const char *cz_prog;
void cz_set_prog(const char *argv0);
/* "PROG: message" and a newline, on stderr. */
void cz_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cz_vsay(const char *fmt, va_list ap);

/* First line of a (sysfs) file, without its newline; -1 if unreadable. */
int cz_read_line(const char *path, char *buf, size_t len);
/*
 * The first @len - 1 bytes of @path (a /proc file, read in one go), as a
 * string in @buf ("" if unreadable); true if anything was read.
 */
bool cz_read_text(const char *path, char *buf, size_t len);

/*
 * sched_ext's state ("disabled", "enabled", ...) and the running ops name
 * into @state and @ops: "unknown" and "none" where a file cannot be read
 * or is empty. -1 when the kernel has no sched_ext at all.
 */
int cz_scx_now(char *state, size_t slen, char *ops, size_t olen);

/*
 * Parse @arg as a number in [@min, @max] (@integer: a non-negative
 * integer, any base strtoull takes). 0, or -1 with @err saying why.
 */
int cz_parse_num(const char *arg, double min, double max, bool integer,
		 double *out, char *err, size_t errlen);

/*
 * A CPU list as sysfs and taskset write it ("0-1", "0,2-3") into @cpus
 * (at most @max); returns how many, or -1 if it is not one.
 */
int cz_parse_cpulist(const char *s, int *cpus, int max);

/*
 * What wait() said, in words: "exited with status 1", "was killed by
 * signal 9".
 */
void cz_wait_text(int status, char *buf, size_t len);

/*
 * /proc/@pid/cmdline into @buf (its arguments NUL-separated, then a NUL);
 * its length, or -1 when @pid is gone or a zombie (an empty command line).
 */
int cz_read_cmdline(int pid, char *buf, size_t len);

/*
 * In a child between fork() and exec(): no signal blocked, SIGPIPE back
 * to its default. A parent that takes signals through a signalfd blocks
 * them, and a blocked mask survives exec: without this a service, an
 * exec'd command or qemu would ignore SIGTERM.
 */
void cz_child_signals(void);

#endif /* __CZ_UTIL_H */
