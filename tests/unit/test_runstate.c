/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run-state czctl keeps (tools/czctl/runstate.c): scheduler names, encode
 * and decode round trips (args with any byte but NUL), the strict decoder
 * refusing damaged files, the atomic write (mode, directory, no temporary
 * left behind) and read, and the live-pid check (binary, zombies).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "runstate.h"

/* ---- names ---- */

static void name_ok(const char *in, const char *want)
{
	char out[CZ_SCHED_NAME_MAX];

	cr_assert_eq(cz_sched_name(in, out, sizeof(out)), 0, "'%s' refused", in);
	cr_assert_str_eq(out, want);
}

static void name_bad(const char *in)
{
	char out[CZ_SCHED_NAME_MAX];

	cr_assert_eq(cz_sched_name(in, out, sizeof(out)), -1, "'%s' accepted", in);
}

Test(names, scx_prefix_is_optional)
{
	name_ok("scx_central", "scx_central");
	name_ok("central", "scx_central");
	name_ok("scx_a-b_9", "scx_a-b_9");
	cr_assert_str_eq(cz_sched_ops("scx_central"), "central");
	cr_assert_str_eq(cz_sched_ops("central"), "central");
}

Test(names, nothing_that_leaves_the_search_directory)
{
	char long_name[CZ_SCHED_NAME_MAX + 8];

	name_bad("");
	name_bad("scx_");
	name_bad("../scx_central");
	name_bad("scx_central/x");
	name_bad("scx_Central");
	name_bad("scx_cen tral");
	name_bad("scx_central\n");
	name_bad("scx_.");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	name_bad(long_name);
}

/* ---- encode, decode ---- */

static struct cz_runstate sample(void)
{
	struct cz_runstate rs = { .pid = 412, .started = 1718000000.25 };
	char *args[] = { "--slice-us", "5000", "", "a b\n\"c\"\\/" };

	strcpy(rs.sched, "scx_central");
	strcpy(rs.binary, "/cz/bin/scx_central");
	strcpy(rs.log, "/run/controlzone/scx_central.log");
	cr_assert_eq(cz_runstate_set_args(&rs, 4, args), 0);
	return rs;
}

static void same(const struct cz_runstate *a, const struct cz_runstate *b)
{
	cr_assert_eq(a->pid, b->pid);
	cr_assert_str_eq(a->sched, b->sched);
	cr_assert_str_eq(a->binary, b->binary);
	cr_assert_str_eq(a->root, b->root);
	cr_assert_str_eq(a->log, b->log);
	cr_assert_float_eq(a->started, b->started, 1e-6);
	cr_assert_eq(a->argc, b->argc);
	for (int i = 0; i < a->argc; i++)
		cr_assert_str_eq(a->argv[i], b->argv[i], "arg %d", i);
}

Test(runstate, round_trip)
{
	struct cz_runstate rs = sample(), back;
	char err[256] = "";
	char *line = cz_runstate_encode(&rs);

	cr_assert_not_null(line);
	/* One line: the newline inside an argument is escaped. */
	cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "%s", line);
	cr_assert(strstr(line, "\"args\":[\"--slice-us\",\"5000\",\"\","), "%s", line);
	cr_assert_eq(cz_runstate_decode(line, &back, err, sizeof(err)), 0, "%s", err);
	same(&rs, &back);
	free(line);
	cz_runstate_free(&rs);
	cz_runstate_free(&back);
}

Test(runstate, no_args)
{
	struct cz_runstate rs = sample(), back;
	char err[256], *line;

	cz_runstate_free(&rs);
	line = cz_runstate_encode(&rs);
	cr_assert(strstr(line, "\"args\":[]"), "%s", line);
	cr_assert_eq(cz_runstate_decode(line, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.argc, 0);
	free(line);
	cz_runstate_free(&back);
}

/* A scheduler run from an image's files: its root, kept; none, none. */
Test(runstate, root)
{
	struct cz_runstate rs = sample(), back;
	char err[256] = "", *line = cz_runstate_encode(&rs);

	cr_assert_null(strstr(line, "\"root\""), "%s", line);
	free(line);
	strcpy(rs.root, "/cz/images/0");
	strcpy(rs.binary, "/cz/images/0/usr/sbin/scx_central");
	line = cz_runstate_encode(&rs);
	cr_assert(strstr(line, "\"root\":\"/cz/images/0\""), "%s", line);
	cr_assert_eq(cz_runstate_decode(line, &back, err, sizeof(err)), 0, "%s", err);
	same(&rs, &back);
	free(line);
	cz_runstate_free(&rs);
	cz_runstate_free(&back);
}

static void decode_bad(const char *text, const char *want)
{
	struct cz_runstate rs;
	char err[256] = "";

	cr_assert_eq(cz_runstate_decode(text, &rs, err, sizeof(err)), -1,
		     "accepted: %s", text);
	cr_assert(strstr(err, want), "error for %s is '%s', want '%s'", text, err, want);
	cr_assert_null(rs.argv);
}

#define OK_REST "\"sched\":\"scx_central\",\"binary\":\"/cz/bin/scx_central\"," \
		"\"started\":1.5,\"log\":\"/run/controlzone/scx_central.log\""

Test(runstate, damaged_files_are_refused)
{
	struct cz_runstate rs;
	char err[256];

	/* The reference: valid. */
	cr_assert_eq(cz_runstate_decode("{\"pid\":7," OK_REST ",\"args\":[\"x\"]}\n",
					&rs, err, sizeof(err)), 0, "%s", err);
	cz_runstate_free(&rs);

	decode_bad("", "not JSON");
	decode_bad("{\"pid\":7,", "not JSON");
	decode_bad("[1]", "not a JSON object");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":[]} x", "data after");
	decode_bad("{" OK_REST ",\"args\":[]}", "pid");
	decode_bad("{\"pid\":1," OK_REST ",\"args\":[]}", "pid");
	decode_bad("{\"pid\":-5," OK_REST ",\"args\":[]}", "pid");
	decode_bad("{\"pid\":\"7\"," OK_REST ",\"args\":[]}", "pid");
	decode_bad("{\"pid\":99999999999," OK_REST ",\"args\":[]}", "pid");
	decode_bad("{\"pid\":7,\"sched\":\"../x\",\"binary\":\"/b\",\"started\":1,"
		   "\"log\":\"l\",\"args\":[]}", "sched");
	decode_bad("{\"pid\":7,\"sched\":\"central\",\"binary\":\"/b\",\"started\":1,"
		   "\"log\":\"l\",\"args\":[]}", "sched");
	decode_bad("{\"pid\":7,\"sched\":\"scx_c\",\"binary\":\"b\",\"started\":1,"
		   "\"log\":\"l\",\"args\":[]}", "binary");
	decode_bad("{\"pid\":7,\"sched\":\"scx_c\",\"binary\":\"/b\",\"started\":\"x\","
		   "\"log\":\"l\",\"args\":[]}", "started");
	decode_bad("{\"pid\":7,\"sched\":\"scx_c\",\"binary\":\"/b\",\"started\":1,"
		   "\"args\":[]}", "log");
	decode_bad("{\"pid\":7," OK_REST "}", "args");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":\"x\"}", "args");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":[\"a\",2]}", "not a string");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":[\"a\\u0000b\"]}", "not a string");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":[],\"root\":\"img\"}", "root");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":[],\"root\":\"/img\"}", "root");
	decode_bad("{\"pid\":7," OK_REST ",\"args\":[],\"root\":1}", "root");
}

/* ---- the file ---- */

static char dir[] = "/tmp/cz-test-run.XXXXXX";
static char sub[160];

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
	/* Not there yet: cz_runstate_write creates it. */
	snprintf(sub, sizeof(sub), "%s/controlzone", dir);
}

static void remove_dir(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(runstate_file, .init = make_dir, .fini = remove_dir);

Test(runstate_file, write_read_remove)
{
	struct cz_runstate rs = sample(), back;
	char err[256] = "", path[256], cmd[320];
	struct stat st;
	mode_t old = umask(077);

	cr_assert_eq(cz_runstate_read(sub, &back, err, sizeof(err)), 1, "no file: 1");
	cr_assert_eq(cz_runstate_write(sub, &rs, err, sizeof(err)), 0, "%s", err);
	umask(old);
	snprintf(path, sizeof(path), "%s/" CZ_RUN_CURRENT, sub);
	cr_assert_eq(stat(path, &st), 0);
	/* Readable by anyone whatever the umask: status runs as anyone. */
	cr_assert_eq(st.st_mode & 0777, 0644, "mode %o", st.st_mode & 0777);
	/* Only the file: no temporary left behind. */
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = " CZ_RUN_CURRENT, sub);
	cr_assert_eq(system(cmd), 0);

	cr_assert_eq(cz_runstate_read(sub, &back, err, sizeof(err)), 0, "%s", err);
	same(&rs, &back);
	cz_runstate_free(&back);

	/* A rewrite replaces it whole. */
	rs.pid = 500;
	cz_runstate_free(&rs);
	cr_assert_eq(cz_runstate_write(sub, &rs, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cz_runstate_read(sub, &back, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(back.pid, 500);
	cr_assert_eq(back.argc, 0);

	cr_assert_eq(cz_runstate_remove(sub), 0);
	cr_assert_eq(cz_runstate_read(sub, &back, err, sizeof(err)), 1);
	cr_assert_eq(cz_runstate_remove(sub), 0, "removing nothing is fine");
}

Test(runstate_file, damaged_file_names_itself)
{
	struct cz_runstate rs;
	char err[256] = "", path[256];
	FILE *f;

	mkdir(sub, 0755);
	snprintf(path, sizeof(path), "%s/" CZ_RUN_CURRENT, sub);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"pid\":", f);
	fclose(f);
	cr_assert_eq(cz_runstate_read(sub, &rs, err, sizeof(err)), -1);
	cr_assert(strstr(err, path) && strstr(err, "not JSON"), "%s", err);
}

/* ---- live pids ---- */

Test(pid, runs_checks_the_binary_and_ignores_zombies)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (!pid) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	/* Until it has exec'd, its cmdline is ours. */
	for (int i = 0; i < 200 && !cz_pid_runs(pid, "/bin/sleep"); i++)
		usleep(10000);
	/* The basename counts: a wrapper may exec it by another path. */
	cr_assert(cz_pid_runs(pid, "/bin/sleep"));
	cr_assert(cz_pid_runs(pid, "/elsewhere/sleep"));
	cr_assert_not(cz_pid_runs(pid, "/cz/bin/scx_central"));
	/* Killed and not yet reaped: a zombie is gone. */
	kill(pid, SIGKILL);
	for (int i = 0; i < 200 && cz_pid_runs(pid, "/bin/sleep"); i++)
		usleep(10000);
	cr_assert_not(cz_pid_runs(pid, "/bin/sleep"));
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_not(cz_pid_runs(pid, "/bin/sleep"));
	cr_assert_not(cz_pid_runs(0, "/bin/sleep"));
	cr_assert_not(cz_pid_runs(1 << 30, "/bin/sleep"));
}
