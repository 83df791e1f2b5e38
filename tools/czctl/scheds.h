/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The schedulers czctl can run: where their executables are found, and
 * running a program to capture what it says (a scheduler's --describe and
 * --check-args, the zone scripts' answers).
 */
#ifndef __CZCTL_SCHEDS_H
#define __CZCTL_SCHEDS_H

#include <stdbool.h>
#include <stddef.h>

/* czctl's directory, $CZ_SCHED_PATH, $PATH: one colon list (malloc'd). */
char *sched_search_path(void);
bool is_executable(const char *path);
/* The first executable named @sched on the search path into @out; 0, or -1. */
int find_sched(const char *sched, char *out, size_t len);
/*
 * @sched in an image's file tree @root (/usr/sbin, /usr/bin, /sbin, /bin
 * there) into @out, @root included; 0, or -1.
 */
int find_in_root(const char *root, const char *sched, char *out, size_t len);
/*
 * In a child: exec @argv, whose argv[0] is a path, chrooted into @root
 * first when @root is set (argv[0] is then under @root, and the part
 * after it is executed). Never returns: 127 with a line on stderr.
 */
void exec_in_root(const char *root, char *const argv[]) __attribute__((noreturn));
/*
 * Run @argv (not detached), its stdout and stderr into @out; returns the
 * wait status, or -1 if it could not run.
 */
int run_capture(char *const argv[], char *out, size_t len);
/* The same, chrooted into @root when set (exec_in_root()). */
int run_capture_in(const char *root, char *const argv[], char *out, size_t len);
/* The same with only stdout captured; stderr stays ours. */
int run_capture_out(char *const argv[], char *out, size_t len);

#endif /* __CZCTL_SCHEDS_H */
