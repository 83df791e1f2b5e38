/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Option parsing: numeric ranges, and the usage-error exit path (exit code
 * 2 before anything is loaded) for bad values and unknown options.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cz.h"

static double parse_ok(const char *arg, double min, double max, bool integer)
{
	char err[128] = "";
	double v = -1;

	cr_assert_eq(cz_parse_num(arg, min, max, integer, &v, err, sizeof(err)),
		     0, "'%s' rejected: %s", arg, err);
	return v;
}

static void parse_bad(const char *arg, double min, double max, bool integer,
		      const char *want)
{
	char err[128] = "";
	double v;

	cr_assert_eq(cz_parse_num(arg, min, max, integer, &v, err, sizeof(err)),
		     -1, "'%s' accepted", arg);
	cr_assert(strstr(err, want), "error for '%s' is '%s', want '%s'", arg,
		  err, want);
}

Test(parse_num, integers_in_range)
{
	cr_assert_eq(parse_ok("0", 0, 3, true), 0);
	cr_assert_eq(parse_ok("3", 0, 3, true), 3);
	cr_assert_eq(parse_ok("0x10", 0, 100, true), 16);
	cr_assert_eq(parse_ok("20000", 1, 1e7, true), 20000);
}

Test(parse_num, integers_rejected)
{
	parse_bad("999", 0, 3, true, "out of range [0, 3]");
	parse_bad("0", 1, 10000000, true, "out of range [1, 10000000]");
	parse_bad("-1", 0, 3, true, "not a non-negative integer");
	parse_bad("1.5", 0, 3, true, "not an integer");
	parse_bad("12abc", 0, 100, true, "not an integer");
	parse_bad("", 0, 3, true, "a value is required");
	parse_bad("99999999999999999999999", 0, 3, true, "not an integer");
}

Test(parse_num, decimals)
{
	cr_assert_float_eq(parse_ok("0.5", 0.01, 3600, false), 0.5, 1e-9);
	cr_assert_float_eq(parse_ok("2", 0.01, 3600, false), 2.0, 1e-9);
	parse_bad("0", 0.01, 3600, false, "out of range");
	parse_bad("nan", 0, 1, false, "not a number");
	parse_bad("1s", 0, 10, false, "not a number");
}

/* A scheduler description with one ranged option, for the argp paths. */
static unsigned long long level;

static const struct argp_option test_options[] = {
	{ "level", 'l', "N", 0, "a level from 1 to 5", 0 },
	{ 0 }
};

static error_t test_parse(int key, char *arg, struct argp_state *state)
{
	if (key != 'l')
		return ARGP_ERR_UNKNOWN;
	level = cz_opt_uint(state, "--level", arg, 1, 5);
	return 0;
}

static struct bpf_object_skeleton *test_open(const struct cz_opts *o)
{
	(void)o;
	return NULL;
}

static void test_destroy(void)
{
}

static const struct cz_sched test_sched = {
	.name = "test", .doc = "test scheduler", .options = test_options,
	.parse = test_parse, .open = test_open, .destroy = test_destroy,
};

static void run_main(int argc, char **argv)
{
	exit(cz_main(&test_sched, argc, argv));
}

Test(argp, value_out_of_range_exits_2, .exit_code = 2, .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "--level", "9", NULL };

	run_main(3, argv);
}

Test(argp, value_not_a_number_exits_2, .exit_code = 2, .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "--level=x", NULL };

	run_main(2, argv);
}

Test(argp, unknown_option_exits_2, .exit_code = 2, .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "--no-such-option", NULL };

	run_main(2, argv);
}

Test(argp, common_interval_out_of_range_exits_2, .exit_code = 2,
     .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "-i", "0", NULL };

	run_main(3, argv);
}

Test(argp, stray_argument_exits_2, .exit_code = 2, .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "extra", NULL };

	run_main(2, argv);
}

Test(argp, stats_socket_empty_exits_2, .exit_code = 2, .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "--stats-socket", "", NULL };

	run_main(3, argv);
}

Test(argp, stats_socket_too_long_exits_2, .exit_code = 2, .init = cr_redirect_stderr)
{
	char path[200];
	char *argv[] = { "scx_test", "--stats-socket", path, NULL };

	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	run_main(3, argv);
}

Test(argp, error_is_one_line_naming_the_option, .init = cr_redirect_stderr)
{
	char *argv[] = { "scx_test", "--level", "9", NULL };

	/* Run the exiting path in a child so this test can read stderr. */
	fflush(stderr);
	if (fork() == 0)
		run_main(3, argv);
	wait(NULL);
	fflush(stderr);
	cr_assert_stderr_eq_str(
		"scx_test: --level: 9 is out of range [1, 5]\n"
		"Usage: scx_test [OPTION...]\n"
		"Try `scx_test --help' or `scx_test --usage' for more information.\n");
}

/* -h is --help (argp's own short form is -?): the help on stdout, exit 0. */
Test(argp, h_prints_help_and_exits_0, .exit_code = 0, .init = cr_redirect_stdout)
{
	char *argv[] = { "scx_test", "-h", NULL };

	run_main(2, argv);
}

Test(argp, h_output_is_the_help, .init = cr_redirect_stdout)
{
	char *argv[] = { "scx_test", "-h", NULL };
	char buf[64] = "";
	FILE *f = cr_get_redirected_stdout();

	fflush(stdout);
	if (fork() == 0)
		run_main(2, argv);
	wait(NULL);
	fflush(stdout);
	cr_assert(fgets(buf, sizeof(buf), f) != NULL, "-h printed nothing");
	cr_assert_str_eq(buf, "Usage: scx_test [OPTION...]\n");
}
