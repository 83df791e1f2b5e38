/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl: observe and control schedulers from the command line.
 *
 *   czctl stats [--json|--openmetrics] [--follow SECS] [--socket PATH]
 *   czctl status [--socket PATH]
 *   czctl set NAME=VALUE [--socket PATH]
 *   czctl add|del SET-KIND=VALUE [--socket PATH]
 *   czctl list | start NAME [-- ARGS] | stop | switch NAME [-- ARGS]
 *
 * This file is the command line, stats, status, set, add and del: a client of the stats
 * socket every controlzone scheduler serves (lib/cz_ctl.h, the scx_stats
 * protocol), so it also reads scx's own Rust schedulers, of
 * /sys/kernel/sched_ext and of czctl's run-state. czctl_run.c lists,
 * starts, stops and switches schedulers.
 *
 * Key choices:
 * - The protocol and the output formats come from libczctl, the code the
 *   server uses, so the two cannot drift apart; czctl does not link libbpf.
 * - Every error is one line on stderr and a documented exit code (below);
 *   a socket that is missing, stale (nothing listening) or not ours to
 *   open is told apart, because each needs a different fix.
 * - Requests and replies time out after TIMEOUT_S (lib/cz_ctl_client.c):
 *   a wedged server must not hang a monitoring script.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cz_ctl.h"
#include "cz_runstate.h"
#include "czctl.h"

#ifndef CZ_VERSION
#define CZ_VERSION "unknown"
#endif

enum {
	TIMEOUT_S	= 5,
	OPT_SOCKET	= 0x100,
	OPT_JSON,
	OPT_OPENMETRICS,
	OPT_FOLLOW,
};

const char usage_text[] =
"usage: czctl [--help] [--version] COMMAND [OPTIONS]\n"
"\n"
"Observe, start, stop and switch sched_ext schedulers.\n"
"\n"
"Commands:\n"
"  stats [--json|--openmetrics] [--follow SECS] [--socket PATH]\n"
"      The scheduler's statistics: counters are totals since it attached,\n"
"      gauges current values. Default: one \"key value\" line each;\n"
"      --json: the reply's JSON object on one line; --openmetrics:\n"
"      OpenMetrics text (for node_exporter's textfile collector);\n"
"      --follow: again every SECS seconds until interrupted.\n"
"  status [--socket PATH]\n"
"      sched_ext's state, the running scheduler, the pid, args, uptime and\n"
"      log of the one czctl started, and its uptime if its stats socket\n"
"      answers.\n"
"  set NAME=VALUE [--socket PATH]\n"
"      Change the running scheduler's tunable NAME (see list) to the\n"
"      integer VALUE, without reloading it; prints \"NAME: OLD -> NEW\".\n"
"      An unknown NAME or a VALUE out of its range is refused (exit 2).\n"
"  add SET-KIND=VALUE [--socket PATH]\n"
"  del SET-KIND=VALUE [--socket PATH]\n"
"      Add or remove a task-set rule of the running scheduler, as its\n"
"      option --SET-KIND VALUE would (e.g. add lc-pid=1234, del\n"
"      lc-cgroup=/sys/fs/cgroup/web); KIND is pid, comm or cgroup. The\n"
"      scheduler checks it; a refused rule exits 2.\n"
"  list\n"
"      The installed schedulers (scx_* in czctl's directory, then\n"
"      $CZ_SCHED_PATH, then $PATH) with their descriptions and tunables\n"
"      (name, range, default).\n"
"  start [-v] NAME [-- ARGS]\n"
"      Start scheduler NAME (scx_central or central) detached, output\n"
"      appended to " CZ_RUN_DIR "/NAME.log; return once sched_ext is\n"
"      enabled with its ops. Refused while a scheduler runs.\n"
"  stop [-v]\n"
"      SIGINT the scheduler czctl started (SIGKILL after 10 s), return once\n"
"      sched_ext is disabled.\n"
"  switch [-v] NAME [-- ARGS]\n"
"      Load NAME while the running scheduler runs, then stop that one and\n"
"      attach NAME. If NAME fails to load, the running one is left alone;\n"
"      if it fails to attach or exits within 2 s, the previous one is\n"
"      restarted with its args. Either way the switch fails. Arguments\n"
"      NAME rejects fail it before anything is started.\n"
"\n"
"Options:\n"
"  --socket PATH   the stats socket (default " CZ_CTL_DEFAULT_PATH ")\n"
"  -v, --verbose   each step, with the seconds since the command began\n"
"\n"
"start, stop and switch need root, and wait for each other (a lock).\n"
"\n"
"Exit codes: 0 success; 1 failure (nothing running, unknown scheduler,\n"
"not root, the scheduler failed to start, no socket or a stale one, no\n"
"reply); 2 bad usage, including arguments or a tunable value the\n"
"scheduler rejects; 3 the kernel has no sched_ext.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void say(const char *fmt, ...)
{
	va_list ap;

	fputs("czctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("czctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see czctl --help)\n", stderr);
	return EXIT_USAGE;
}

static bool have_sched_ext(void)
{
	return !access(SCX_SYSFS "/state", F_OK);
}

/* ---- the connection ---- */

/* Why connecting failed, as one line, and the exit code that goes with it. */
static int connect_error(const char *path, int err, char *msg, size_t len)
{
	switch (err) {
	case ENOENT:
		if (!have_sched_ext()) {
			snprintf(msg, len, "this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT)");
			return EXIT_NO_SCX;
		}
		snprintf(msg, len, "no stats socket at %s: no scheduler is running, or it uses --stats-socket", path);
		return EXIT_FAIL;
	case ECONNREFUSED:
		snprintf(msg, len, "stale stats socket %s: nothing listens (the scheduler that made it is gone)", path);
		return EXIT_FAIL;
	case EACCES:
	case EPERM:
		snprintf(msg, len, "%s: permission denied (the socket is root's: run as root)", path);
		return EXIT_FAIL;
	case ENAMETOOLONG:
		snprintf(msg, len, "%s: socket path too long", path);
		return EXIT_FAIL;
	default:
		snprintf(msg, len, "%s: %s", path, strerror(err));
		return EXIT_FAIL;
	}
}

/* 0, or an exit code with @msg filled. */
static int conn_open(struct cz_ctl_conn *c, const char *path, char *msg, size_t len)
{
	int err = cz_ctl_connect(c, path, TIMEOUT_S);

	return err ? connect_error(path, err, msg, len) : 0;
}

static int conn_request(struct cz_ctl_conn *c, const char *req, const char *target,
			struct json_object **resp, char *msg, size_t len)
{
	return cz_ctl_call(c, cz_ctl_request(req, target), resp, msg, len, &interrupted);
}

/* ---- commands ---- */

enum format { FMT_TEXT, FMT_JSON, FMT_OPENMETRICS };

static const struct option socket_only[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static const struct option stats_options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "openmetrics", no_argument, NULL, OPT_OPENMETRICS },
	{ "follow", required_argument, NULL, OPT_FOLLOW },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/* getopt's '?' and ':' as one usage line. */
int bad_option(char **argv, int opt)
{
	const char *what = argv[optind - 1];

	if (opt == ':')
		return usage_error("option %s needs a value", what);
	if (optopt && optopt < 0x100)
		return usage_error("unknown option -%c", optopt);
	return usage_error("unknown option %s", what);
}

static int parse_secs(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0.01 || v > 86400)
		return usage_error("--follow: '%s' is not a number of seconds in [0.01, 86400]", arg);
	*out = v;
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	/* SIGINT cuts this short: that ends --follow. */
	nanosleep(&ts, NULL);
}

static int print_stats(enum format fmt, struct json_object *meta,
		       struct json_object *resp)
{
	switch (fmt) {
	case FMT_JSON:
		puts(json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	case FMT_OPENMETRICS:
		return cz_ctl_print_openmetrics(stdout, meta, resp);
	default:
		return cz_ctl_print_text(stdout, resp);
	}
}

static int cmd_stats(int argc, char **argv)
{
	const char *path = CZ_CTL_DEFAULT_PATH;
	enum format fmt = FMT_TEXT;
	struct json_object *meta = NULL, *resp;
	double follow = 0;
	bool format_set = false;
	struct cz_ctl_conn c;
	char msg[512];
	int opt, ret;

	while ((opt = getopt_long(argc, argv, ":h", stats_options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			path = optarg;
			break;
		case OPT_JSON:
		case OPT_OPENMETRICS:
			if (format_set)
				return usage_error("--json and --openmetrics exclude each other");
			format_set = true;
			fmt = opt == OPT_JSON ? FMT_JSON : FMT_OPENMETRICS;
			break;
		case OPT_FOLLOW:
			if (parse_secs(optarg, &follow))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	if (follow) {
		struct sigaction sa = { .sa_handler = on_signal };

		/* SIGINT/SIGTERM end --follow, with status 0. */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	ret = conn_open(&c, path, msg, sizeof(msg));
	if (ret) {
		say("%s", msg);
		return ret;
	}
	/* The metadata says which fields are counters, and describes them. */
	if (fmt == FMT_OPENMETRICS &&
	    conn_request(&c, "stats_meta", NULL, &meta, msg, sizeof(msg))) {
		say("stats_meta: %s", msg);
		cz_ctl_disconnect(&c);
		return EXIT_FAIL;
	}
	for (;;) {
		ret = conn_request(&c, "stats", "top", &resp, msg, sizeof(msg));
		if (interrupted)
			break;
		if (ret == EAGAIN && follow) {
			/* Restarting (e.g. after CPU hotplug): try next time. */
			say("stats: %s", msg);
		} else if (ret) {
			say("stats: %s", msg);
			ret = EXIT_FAIL;
			break;
		} else {
			ret = print_stats(fmt, meta, resp);
			json_object_put(resp);
			if (ret) {
				say("the reply does not have the expected shape");
				ret = EXIT_FAIL;
				break;
			}
			if (fmt == FMT_TEXT && follow)
				putchar('\n');
		}
		if (fflush(stdout) || !follow)
			break;
		sleep_s(follow);
		if (interrupted)
			break;
	}
	/* Interrupting --follow is how it ends: not an error. */
	if (interrupted)
		ret = EXIT_OK;
	json_object_put(meta);
	cz_ctl_disconnect(&c);
	if (ferror(stdout)) {
		say("writing the output failed");
		return EXIT_FAIL;
	}
	return ret;
}

static int cmd_status(int argc, char **argv)
{
	const char *path = CZ_CTL_DEFAULT_PATH;
	struct json_object *resp, *up;
	char state[64], ops[128], msg[512];
	struct cz_ctl_conn c;
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", socket_only, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	if (cz_read_line(SCX_SYSFS "/state", state, sizeof(state))) {
		say("this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT)");
		return EXIT_NO_SCX;
	}
	printf("sched_ext  %s\n", state);
	if (!cz_read_line(SCX_SYSFS "/root/ops", ops, sizeof(ops)) && ops[0])
		printf("ops        %s\n", ops);
	print_runstate(stdout);

	if (conn_open(&c, path, msg, sizeof(msg))) {
		printf("stats      %s\n", msg);
		return EXIT_OK;
	}
	if (conn_request(&c, "stats", "top", &resp, msg, sizeof(msg))) {
		printf("stats      %s: %s\n", path, msg);
	} else {
		printf("stats      %s\n", path);
		/* scx's own schedulers have no uptime_s: say nothing then. */
		if (json_object_object_get_ex(resp, "uptime_s", &up) &&
		    (json_object_is_type(up, json_type_double) ||
		     json_object_is_type(up, json_type_int)))
			printf("uptime_s   %.1f\n", json_object_get_double(up));
		json_object_put(resp);
	}
	cz_ctl_disconnect(&c);
	return EXIT_OK;
}

/*
 * The command line of set, add and del: [--socket PATH] NAME=VALUE. Returns
 * EXIT_OK with @name and *@value (into argv) filled, or an exit code.
 */
static int parse_assignment(int argc, char **argv, const char *cmd,
			    const char **path, char *name, size_t namelen,
			    const char **value)
{
	const char *eq;
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", socket_only, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			*path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind != argc - 1)
		return usage_error("%s takes one NAME=VALUE", cmd);
	eq = strchr(argv[optind], '=');
	if (!eq || eq == argv[optind] || (size_t)(eq - argv[optind]) >= namelen)
		return usage_error("%s: '%s' is not NAME=VALUE", cmd, argv[optind]);
	snprintf(name, namelen, "%.*s", (int)(eq - argv[optind]), argv[optind]);
	*value = eq + 1;
	return EXIT_OK;
}

/*
 * Send a change request: the scheduler checks it (it owns the tables), and
 * what it refuses is a usage error, like a bad option.
 */
static int call_change(const char *path, const char *cmd, char *line,
		       struct json_object **resp)
{
	struct cz_ctl_conn c;
	char msg[512];
	int ret;

	ret = conn_open(&c, path, msg, sizeof(msg));
	if (ret) {
		free(line);
		say("%s", msg);
		return ret;
	}
	ret = cz_ctl_call(&c, line, resp, msg, sizeof(msg), &interrupted);
	cz_ctl_disconnect(&c);
	if (ret == ENOENT || ret == ERANGE || ret == EINVAL || ret == ENOSPC) {
		say("%s: %s", cmd, msg);
		return EXIT_USAGE;
	}
	if (ret) {
		say("%s: %s", cmd, msg);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* set NAME=VALUE: change a live tunable. */
static int cmd_set(int argc, char **argv)
{
	const char *path = CZ_CTL_DEFAULT_PATH, *arg;
	struct json_object *resp, *old;
	char name[CZ_KNOB_NAME_MAX], *end;
	unsigned long long value;
	int ret;

	ret = parse_assignment(argc, argv, "set", &path, name, sizeof(name), &arg);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	errno = 0;
	value = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || strchr(arg, '-'))
		return usage_error("set: %s: '%s' is not a non-negative integer", name, arg);

	ret = call_change(path, "set", cz_ctl_set_request(name, value), &resp);
	if (ret)
		return ret;
	if (json_object_object_get_ex(resp, "old", &old))
		printf("%s: %llu -> %llu\n", name,
		       (unsigned long long)json_object_get_uint64(old), value);
	json_object_put(resp);
	return EXIT_OK;
}

/* add|del SET-KIND=VALUE: change the running scheduler's task-set rules. */
static int cmd_rule(int argc, char **argv, bool add)
{
	const char *path = CZ_CTL_DEFAULT_PATH, *cmd = add ? "add" : "del", *arg;
	struct json_object *resp, *nr;
	char name[CZ_KNOB_NAME_MAX];
	int ret;

	ret = parse_assignment(argc, argv, cmd, &path, name, sizeof(name), &arg);
	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	if (!*arg)
		return usage_error("%s: %s: an empty value", cmd, name);
	ret = call_change(path, cmd, cz_ctl_rule_request(add, name, arg), &resp);
	if (ret)
		return ret;
	if (json_object_object_get_ex(resp, "rules", &nr))
		printf("%s %s=%s (%d rules)\n", add ? "added" : "removed", name,
		       arg, json_object_get_int(nr));
	json_object_put(resp);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *cmd;

	opterr = 0;
	if (argc < 2)
		return usage_error("no command given");
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		puts("czctl (controlzone " CZ_VERSION ")");
		return EXIT_OK;
	}
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(cmd, "start"))
		return cmd_start(argc - 1, argv + 1);
	if (!strcmp(cmd, "stop"))
		return cmd_stop(argc - 1, argv + 1);
	if (!strcmp(cmd, "switch"))
		return cmd_switch(argc - 1, argv + 1);
	if (!strcmp(cmd, "set"))
		return cmd_set(argc - 1, argv + 1);
	if (!strcmp(cmd, "add") || !strcmp(cmd, "del"))
		return cmd_rule(argc - 1, argv + 1, !strcmp(cmd, "add"));
	if (cmd[0] == '-')
		return usage_error("unknown option %s", cmd);
	return usage_error("unknown command '%s'", cmd);
}
