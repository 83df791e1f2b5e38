/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl stats, status, list, set, add, del: observing and tuning a running
 * scheduler, as a client of the stats socket every controlzone scheduler
 * serves (lib/cz_stats_proto.h, the scx_stats protocol, so it also reads
 * scx's own Rust schedulers), of /sys/kernel/sched_ext and of czctl's
 * run-state; and listing the schedulers czctl can start.
 *
 * Key choices:
 * - The protocol and the output formats come from libczstats, the code the
 *   server uses, so the two cannot drift apart; czctl does not link libbpf.
 * - A socket that is missing, stale (nothing listening) or not ours to
 *   open is told apart, because each needs a different fix.
 * - Requests and replies time out after TIMEOUT_S: a wedged server must
 *   not hang a monitoring script.
 * - A change (set, add, del) is checked by the scheduler, which owns the
 *   tables; what it refuses is a usage error (exit 2), like a bad option.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cli.h"
#include "czctl.h"
#include "cz_stats_client.h"
#include "cz_stats_print.h"
#include "runstate.h"
#include "scheds.h"

enum {
	TIMEOUT_S	= 5,
	OUT_MAX		= 4096,	/* --describe output kept */
	OPT_SOCKET	= 0x100,
	OPT_JSON,
	OPT_OPENMETRICS,
	OPT_FOLLOW,
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- the connection ---- */

/* Why connecting failed, as one line, and the exit code that goes with it. */
static int connect_error(const char *path, int err, char *msg, size_t len)
{
	switch (err) {
	case ENOENT:
		if (access(CZ_SCX_STATE, F_OK)) {
			snprintf(msg, len, "this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT)");
			return CZ_EXIT_NO_SCX;
		}
		snprintf(msg, len, "no stats socket at %s: no scheduler is running, or it uses --stats-socket", path);
		return CZ_EXIT_FAIL;
	case ECONNREFUSED:
		snprintf(msg, len, "stale stats socket %s: nothing listens (the scheduler that made it is gone)", path);
		return CZ_EXIT_FAIL;
	case EACCES:
	case EPERM:
		snprintf(msg, len, "%s: permission denied (the socket is root's: run as root)", path);
		return CZ_EXIT_FAIL;
	case ENAMETOOLONG:
		snprintf(msg, len, "%s: socket path too long", path);
		return CZ_EXIT_FAIL;
	default:
		snprintf(msg, len, "%s: %s", path, strerror(err));
		return CZ_EXIT_FAIL;
	}
}

/* 0, or an exit code with @msg filled. */
static int conn_open(struct cz_stats_conn *c, const char *path, char *msg, size_t len)
{
	int err = cz_stats_connect(c, path, TIMEOUT_S);

	return err ? connect_error(path, err, msg, len) : 0;
}

static int conn_request(struct cz_stats_conn *c, const char *req, const char *target,
			struct json_object **resp, char *msg, size_t len)
{
	return cz_stats_call(c, cz_stats_request(req, target), resp, msg, len, &interrupted);
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

static int parse_secs(const char *arg, double *out)
{
	char err[128];

	if (cz_parse_num(arg, 0.01, 86400, false, out, err, sizeof(err)))
		return usage_error("--follow: '%s' is not a number of seconds in [0.01, 86400]", arg);
	return 0;
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
		return cz_stats_print_openmetrics(stdout, meta, resp);
	default:
		return cz_stats_print_text(stdout, resp);
	}
}

int cmd_stats(int argc, char **argv)
{
	const char *path = CZ_STATS_SOCKET_DEFAULT;
	enum format fmt = FMT_TEXT;
	struct json_object *meta = NULL, *resp;
	double follow = 0;
	bool format_set = false;
	struct cz_stats_conn c;
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
				return CZ_EXIT_USAGE;
			break;
		case 'h':
			return print_usage();
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
		cz_say("%s", msg);
		return ret;
	}
	/* The metadata says which fields are counters, and describes them. */
	if (fmt == FMT_OPENMETRICS &&
	    conn_request(&c, "stats_meta", NULL, &meta, msg, sizeof(msg))) {
		cz_say("stats_meta: %s", msg);
		cz_stats_disconnect(&c);
		return CZ_EXIT_FAIL;
	}
	for (;;) {
		ret = conn_request(&c, "stats", "top", &resp, msg, sizeof(msg));
		if (interrupted)
			break;
		if (ret == EAGAIN && follow) {
			/* Restarting (e.g. after CPU hotplug): try next time. */
			cz_say("stats: %s", msg);
		} else if (ret) {
			cz_say("stats: %s", msg);
			ret = CZ_EXIT_FAIL;
			break;
		} else {
			ret = print_stats(fmt, meta, resp);
			json_object_put(resp);
			if (ret) {
				cz_say("the reply does not have the expected shape");
				ret = CZ_EXIT_FAIL;
				break;
			}
			if (fmt == FMT_TEXT && follow)
				putchar('\n');
		}
		if (fflush(stdout) || !follow)
			break;
		/* SIGINT cuts this short: that ends --follow. */
		cz_sleep(follow);
		if (interrupted)
			break;
	}
	/* Interrupting --follow is how it ends: not an error. */
	if (interrupted)
		ret = CZ_EXIT_OK;
	json_object_put(meta);
	cz_stats_disconnect(&c);
	if (ferror(stdout)) {
		cz_say("writing the output failed");
		return CZ_EXIT_FAIL;
	}
	return ret;
}

/* status's lines about the scheduler czctl started, if any. */
static void print_runstate(FILE *f)
{
	struct cz_runstate rs;
	char err[PATH_MAX + 128], args[1024];
	int ret = cz_runstate_read(CZ_RUN_DIR, &rs, err, sizeof(err));

	if (ret == 1)
		return;
	if (ret < 0) {
		fprintf(f, "run-state  damaged, ignored: %s\n", err);
		return;
	}
	if (!cz_pid_runs(rs.pid, rs.binary)) {
		fprintf(f, "run-state  stale, ignored: pid %d (%s) is gone\n", rs.pid, rs.sched);
		cz_runstate_free(&rs);
		return;
	}
	cz_runstate_args(&rs, args, sizeof(args));
	fprintf(f, "loader     %s\n", rs.binary);
	fprintf(f, "pid        %d\n", rs.pid);
	fprintf(f, "args       %s\n", rs.argc ? args : "(none)");
	fprintf(f, "uptime     %.1f s\n", cz_wall() - rs.started);
	fprintf(f, "log        %s\n", rs.log);
	cz_runstate_free(&rs);
}

int cmd_status(int argc, char **argv)
{
	const char *path = CZ_STATS_SOCKET_DEFAULT;
	struct json_object *resp, *up;
	char state[64], ops[128], msg[512];
	struct cz_stats_conn c;
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", socket_only, NULL)) != -1) {
		switch (opt) {
		case OPT_SOCKET:
			path = optarg;
			break;
		case 'h':
			return print_usage();
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	if (cz_read_line(CZ_SCX_STATE, state, sizeof(state)))
		return no_sched_ext();
	printf("sched_ext  %s\n", state);
	if (!cz_read_line(CZ_SCX_OPS, ops, sizeof(ops)) && ops[0])
		printf("ops        %s\n", ops);
	print_runstate(stdout);

	if (conn_open(&c, path, msg, sizeof(msg))) {
		printf("stats      %s\n", msg);
		return CZ_EXIT_OK;
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
	cz_stats_disconnect(&c);
	return CZ_EXIT_OK;
}

/*
 * The command line of set, add and del: [--socket PATH] NAME=VALUE. Returns
 * CZ_EXIT_OK with @name and *@value (into argv) filled, or an exit code.
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
			print_usage();
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
	return CZ_EXIT_OK;
}

/*
 * Send a change request: the scheduler checks it (it owns the tables), and
 * what it refuses is a usage error, like a bad option.
 */
static int call_change(const char *path, const char *cmd, char *line,
		       struct json_object **resp)
{
	struct cz_stats_conn c;
	char msg[512];
	int ret;

	ret = conn_open(&c, path, msg, sizeof(msg));
	if (ret) {
		free(line);
		cz_say("%s", msg);
		return ret;
	}
	ret = cz_stats_call(&c, line, resp, msg, sizeof(msg), &interrupted);
	cz_stats_disconnect(&c);
	if (ret == ENOENT || ret == ERANGE || ret == EINVAL || ret == ENOSPC) {
		cz_say("%s: %s", cmd, msg);
		return CZ_EXIT_USAGE;
	}
	if (ret) {
		cz_say("%s: %s", cmd, msg);
		return CZ_EXIT_FAIL;
	}
	return CZ_EXIT_OK;
}

/* set NAME=VALUE: change a live tunable. */
int cmd_set(int argc, char **argv)
{
	const char *path = CZ_STATS_SOCKET_DEFAULT, *arg;
	struct json_object *resp, *old;
	char name[CZ_TUNABLE_NAME_MAX], *end;
	unsigned long long value;
	int ret;

	ret = parse_assignment(argc, argv, "set", &path, name, sizeof(name), &arg);
	if (ret)
		return ret < 0 ? CZ_EXIT_OK : ret;
	errno = 0;
	value = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || strchr(arg, '-'))
		return usage_error("set: %s: '%s' is not a non-negative integer", name, arg);

	ret = call_change(path, "set", cz_stats_set_request(name, value), &resp);
	if (ret)
		return ret;
	if (json_object_object_get_ex(resp, "old", &old))
		printf("%s: %llu -> %llu\n", name,
		       (unsigned long long)json_object_get_uint64(old), value);
	json_object_put(resp);
	return CZ_EXIT_OK;
}

/* add|del SET-KIND=VALUE: change the running scheduler's task-set rules. */
int cmd_rule(int argc, char **argv, bool add)
{
	const char *path = CZ_STATS_SOCKET_DEFAULT, *cmd = add ? "add" : "del", *arg;
	struct json_object *resp, *nr;
	char name[CZ_TUNABLE_NAME_MAX];
	int ret;

	ret = parse_assignment(argc, argv, cmd, &path, name, sizeof(name), &arg);
	if (ret)
		return ret < 0 ? CZ_EXIT_OK : ret;
	if (!*arg)
		return usage_error("%s: %s: an empty value", cmd, name);
	ret = call_change(path, cmd, cz_stats_rule_request(add, name, arg), &resp);
	if (ret)
		return ret;
	if (json_object_object_get_ex(resp, "rules", &nr))
		printf("%s %s=%s (%d rules)\n", add ? "added" : "removed", name,
		       arg, json_object_get_int(nr));
	json_object_put(resp);
	return CZ_EXIT_OK;
}

/* ---- list ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/*
 * --describe's "tunable\tNAME\tMIN\tMAX\tDEFAULT\tDESC" and
 * "set\tNAME\tDESC" lines, indented under the scheduler:
 * "NAME=DEFAULT [MIN, MAX]  DESC" and "task set NAME: DESC".
 */
static void print_tunables(char *lines, size_t width)
{
	char *line, *save = NULL;

	for (line = strtok_r(lines, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[6], *fsave = NULL;
		int n = 0;

		for (char *t = strtok_r(line, "\t", &fsave); t && n < 6;
		     t = strtok_r(NULL, "\t", &fsave))
			f[n++] = t;
		if (n == 6 && !strcmp(f[0], "tunable"))
			printf("%-*s    %s=%s [%s, %s]  %s\n", (int)width, "",
			       f[1], f[4], f[2], f[3], f[5]);
		else if (n == 3 && !strcmp(f[0], "set"))
			printf("%-*s    task set %s: %s (rules %s-pid, %s-comm, %s-cgroup)\n",
			       (int)width, "", f[1], f[2], f[1], f[1], f[1]);
	}
}

int cmd_list(int argc, char **argv)
{
	char *list, *save = NULL, **names = NULL, out[OUT_MAX];
	size_t nr = 0, width = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, ":h", help_only, NULL)) != -1) {
		if (opt != 'h')
			return bad_option(argv, opt);
		return print_usage();
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	list = sched_search_path();
	if (!list) {
		cz_say("out of memory");
		return CZ_EXIT_FAIL;
	}
	/* Each entry: "scx_name\0/dir/scx_name" so sorting keeps the pair. */
	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		DIR *dir = d[0] == '/' ? opendir(d) : NULL;
		struct dirent *e;

		while (dir && (e = readdir(dir))) {
			char name[CZ_SCHED_NAME_MAX], path[PATH_MAX], **p, *entry;
			bool seen = false;

			if (strncmp(e->d_name, "scx_", 4) ||
			    cz_sched_name(e->d_name, name, sizeof(name)) ||
			    strcmp(name, e->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", d, name);
			for (size_t i = 0; i < nr && !seen; i++)
				seen = !strcmp(names[i], name);
			if (seen || !is_executable(path))
				continue;
			p = realloc(names, (nr + 1) * sizeof(*names));
			if (!p || asprintf(&entry, "%s%c%s", name, '\0', path) < 0) {
				cz_say("out of memory");
				exit(CZ_EXIT_FAIL);
			}
			names = p;
			names[nr++] = entry;
			if (strlen(name) > width)
				width = strlen(name);
		}
		if (dir)
			closedir(dir);
	}
	free(list);
	if (!nr) {
		cz_say("no scx_* schedulers in czctl's directory, $CZ_SCHED_PATH or $PATH");
		return CZ_EXIT_FAIL;
	}
	qsort(names, nr, sizeof(*names), by_name);
	for (size_t i = 0; i < nr; i++) {
		char *path = names[i] + strlen(names[i]) + 1;
		char *const args[] = { path, "--describe", NULL };
		const char *desc = out;
		size_t plen = strlen(names[i]);

		char *rest = "";

		if (run_capture(args, out, sizeof(out)) != 0 || !out[0]) {
			desc = "(no description: not a controlzone scheduler?)";
		} else {
			rest = out + strcspn(out, "\n");
			if (*rest)
				*rest++ = '\0';
			/* The doc begins "scx_name: "; the column says that. */
			if (!strncmp(out, names[i], plen) && !strncmp(out + plen, ": ", 2))
				desc = out + plen + 2;
		}
		printf("%-*s  %s\n", (int)width, names[i], desc);
		print_tunables(rest, width);
		free(names[i]);
	}
	free(names);
	return CZ_EXIT_OK;
}

