/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A loader's command line, the same for every scheduler: the common
 * options, one option per live tunable (--slice-us for "slice_us", its
 * range and default in --help), three rule options per task set
 * (--lc-pid, --lc-comm, --lc-cgroup for set "lc"), then the scheduler's
 * own options, all in one argp parse.
 *
 * Key choices:
 * - Every value is checked here, before anything is loaded: a usage error
 *   is one line naming the problem, the short usage, exit code 2, and
 *   leaves the system as it was.
 * - Two hidden options are for czctl, not for people: --describe prints
 *   the scheduler's one-line description, one tab-separated "tunable" line
 *   per tunable and one "set" line per task set (czctl list);
 *   --check-args parses the command line and exits 0 or 2 without loading
 *   anything, so that `czctl switch` rejects bad arguments before it stops
 *   the running scheduler.
 * - argp's parsers get no context pointer beyond their input, so the
 *   tables being parsed into are file-scope, set once per process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "cz_priv.h"

#ifndef CZ_VERSION
#define CZ_VERSION "unknown"
#endif

enum {
	OPT_JSON = 0x100,
	OPT_DURATION,
	OPT_STATS_SOCKET,
	OPT_DESCRIBE,
	OPT_CHECK_ARGS,
	OPT_CGROUP,
	OPT_TUNABLE_BASE = 0x1000,	/* + tunable index */
	OPT_SET_BASE = 0x2000,	/* + set index * NR_CZ_TS_KINDS + kind */
};

static const struct cz_sched *the_sched;
static bool check_args_only;
static u64 *tunable_vals;		/* for the tunable options' parser */
static struct cz_taskset *rules;	/* for the rule options' parser */

/*
 * --version: "scx_NAME (controlzone) VERSION", the GNU form that help2man
 * reads the program, package and version from for the man page.
 */
static void print_version(FILE *f, struct argp_state *state)
{
	(void)state;
	fprintf(f, "scx_%s (controlzone) %s\n", the_sched->name, CZ_VERSION);
}

void cz_usage_error(struct argp_state *state, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", state->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	argp_state_help(state, stderr, ARGP_HELP_SHORT_USAGE | ARGP_HELP_SEE);
	exit(CZ_EXIT_USAGE);
}

static double opt_num(struct argp_state *state, const char *opt,
		      const char *arg, double min, double max, bool integer)
{
	char err[128];
	double v;

	if (cz_parse_num(arg, min, max, integer, &v, err, sizeof(err)))
		cz_usage_error(state, "%s: %s", opt, err);
	return v;
}

unsigned long long cz_opt_uint(struct argp_state *state, const char *opt,
			       const char *arg, unsigned long long min,
			       unsigned long long max)
{
	return (unsigned long long)opt_num(state, opt, arg, (double)min,
					   (double)max, true);
}

double cz_opt_double(struct argp_state *state, const char *opt,
		     const char *arg, double min, double max)
{
	return opt_num(state, opt, arg, min, max, false);
}

/* ---- common options ---- */

static const struct argp_option common_options[] = {
	{ NULL, 0, NULL, 0, "Common options:", 3 },
	{ "verbose", 'v', NULL, 0,
	  "Print libbpf debug output (e.g. the verifier log)", 0 },
	{ "interval", 'i', "SECS", 0,
	  "Print stats every SECS seconds (default 1)", 0 },
	{ "json", OPT_JSON, NULL, 0,
	  "Print stats as one JSON object per line", 0 },
	{ "partial", 'p', NULL, 0,
	  "Switch only tasks whose policy is SCHED_EXT", 0 },
	{ "duration", OPT_DURATION, "SECS", 0,
	  "Detach and exit after SECS seconds (default: run until signalled)", 0 },
	{ "stats-socket", OPT_STATS_SOCKET, "PATH", 0,
	  "Serve stats (scx_stats protocol) on this UNIX socket, or 'none' "
	  "(default " CZ_STATS_SOCKET_DEFAULT ")", 0 },
	{ "describe", OPT_DESCRIBE, NULL, OPTION_HIDDEN,
	  "Print the one-line description and exit", 0 },
	{ "check-args", OPT_CHECK_ARGS, NULL, OPTION_HIDDEN,
	  "Only check the command line: exit 0, or 2 with the error", 0 },
	/* argp's short help is -?; sched_ext users type -h. */
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Same as --help", 0 },
	{ 0 }
};

static error_t parse_common(int key, char *arg, struct argp_state *state)
{
	struct cz_opts *o = state->input;

	switch (key) {
	case 'v':
		o->verbose = true;
		break;
	case 'i':
		o->interval_s = cz_opt_double(state, "--interval", arg, 0.01, 3600);
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case 'p':
		o->partial = true;
		break;
	case OPT_DURATION:
		o->duration_s = cz_opt_double(state, "--duration", arg, 0.01, 1e9);
		break;
	case OPT_STATS_SOCKET:
		if (!strcmp(arg, "none")) {
			o->stats_socket = NULL;
			break;
		}
		if (!*arg)
			cz_usage_error(state, "--stats-socket: a path or 'none' is required");
		if (strlen(arg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			cz_usage_error(state, "--stats-socket: path longer than %zu bytes",
				       sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		o->stats_socket = arg;
		break;
	case OPT_DESCRIBE:
		/* The doc up to argp's '\v' (text after the options), one line. */
		printf("%.*s\n", (int)strcspn(the_sched->doc ?: "", "\v\n"),
		       the_sched->doc ?: "");
		for (unsigned int i = 0; i < the_sched->nr_tunables; i++) {
			const struct cz_tunable_desc *k = &the_sched->tunables[i];

			printf("tunable\t%s\t%llu\t%llu\t%llu\t%s\n", k->name,
			       (unsigned long long)k->min, (unsigned long long)k->max,
			       (unsigned long long)k->dfl, k->desc);
		}
		for (unsigned int i = 0; i < the_sched->nr_sets; i++)
			printf("set\t%s\t%s\n", the_sched->sets[i].name,
			       the_sched->sets[i].desc);
		exit(CZ_EXIT_OK);
	case OPT_CHECK_ARGS:
		check_args_only = true;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		cz_usage_error(state, "unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- running as a sub-scheduler ---- */

static const struct argp_option sub_options[] = {
	{ "cgroup", OPT_CGROUP, "PATH", 0,
	  "Schedule only the tasks of cgroup2 directory PATH and below, as a "
	  "sub-scheduler under the running root (kernel 7.3+, e.g. scx_zones); "
	  "stats socket default " CZ_STATS_SOCKET_DIR "/cgroup/<PATH below "
	  CZ_CGROUP_MOUNT ">/stats", 0 },
	{ 0 }
};

static struct cz_opts *the_opts;	/* for the sub option's parser */

static error_t parse_sub(int key, char *arg, struct argp_state *state)
{
	struct cz_opts *o = the_opts;
	const char *rel;
	char err[256];

	if (key != OPT_CGROUP)
		return ARGP_ERR_UNKNOWN;
	if (!the_sched->sub)
		cz_usage_error(state, "--cgroup: scx_%s cannot run as a sub-scheduler: %s",
			       the_sched->name, the_sched->no_sub ?:
			       "its policy has no cid form yet (include/cz_cpu.bpf.h)");
	if (cz_ts_parse_cgroup(arg, &o->cgroup_id, err, sizeof(err)))
		cz_usage_error(state, "--cgroup: %s", err);
	o->cgroup = arg;
	rel = arg;
	if (!strncmp(rel, CZ_CGROUP_MOUNT "/", sizeof(CZ_CGROUP_MOUNT)))
		rel += sizeof(CZ_CGROUP_MOUNT);
	while (*rel == '/')
		rel++;
	if ((size_t)snprintf(o->cgroup_socket, sizeof(o->cgroup_socket),
			     CZ_STATS_SOCKET_DIR "/cgroup/%s/stats", rel) >=
	    sizeof(o->cgroup_socket))
		cz_usage_error(state, "--cgroup: path too long for a stats socket "
			       "(give --stats-socket)");
	return 0;
}

/* ---- tunables as options ---- */

/* Tunable "slice_us" is option --slice-us. */
static void dashed(char *s)
{
	for (; *s; s++)
		if (*s == '_')
			*s = '-';
}

static error_t parse_tunable(int key, char *arg, struct argp_state *state)
{
	const struct cz_tunable_desc *k;
	char opt[CZ_TUNABLE_NAME_MAX + 2];

	if (key < OPT_TUNABLE_BASE || key >= OPT_TUNABLE_BASE + (int)the_sched->nr_tunables)
		return ARGP_ERR_UNKNOWN;
	k = &the_sched->tunables[key - OPT_TUNABLE_BASE];
	snprintf(opt, sizeof(opt), "--%s", k->name);
	dashed(opt);
	tunable_vals[key - OPT_TUNABLE_BASE] = cz_opt_uint(state, opt, arg, k->min, k->max);
	return 0;
}

/*
 * One option per tunable: --slice-us for "slice_us", its range and default
 * in the help. Built once per process; never freed (argp keeps pointers).
 */
static struct argp_option *tunable_options(const struct cz_sched *s)
{
	struct argp_option *o = calloc(s->nr_tunables + 1, sizeof(*o));

	if (!o)
		return NULL;
	for (unsigned int i = 0; i < s->nr_tunables; i++) {
		const struct cz_tunable_desc *k = &s->tunables[i];
		char *name = strdup(k->name), *doc;

		if (!name || asprintf(&doc, "%s (%llu-%llu, default %llu)", k->desc,
				      (unsigned long long)k->min,
				      (unsigned long long)k->max,
				      (unsigned long long)k->dfl) < 0)
			return NULL;
		dashed(name);
		o[i] = (struct argp_option){ name, OPT_TUNABLE_BASE + i, "N", 0, doc, 0 };
	}
	return o;
}

/* ---- task-set rules as options ---- */

static error_t parse_rule(int key, char *arg, struct argp_state *state)
{
	unsigned int set = (key - OPT_SET_BASE) / NR_CZ_TS_KINDS;
	enum cz_ts_kind kind = (key - OPT_SET_BASE) % NR_CZ_TS_KINDS;
	char err[256];

	if (key < OPT_SET_BASE ||
	    key >= OPT_SET_BASE + (int)(the_sched->nr_sets * NR_CZ_TS_KINDS))
		return ARGP_ERR_UNKNOWN;
	if (cz_ts_add(rules, kind, arg, 1u << set, err, sizeof(err)))
		cz_usage_error(state, "--%s-%s: %s", the_sched->sets[set].name,
			       cz_ts_kind_names[kind], err);
	return 0;
}

/* --lc-pid PID, --lc-comm NAME, --lc-cgroup PATH for set "lc". */
static struct argp_option *rule_options(const struct cz_sched *s)
{
	static const char *const what[NR_CZ_TS_KINDS] = {
		[CZ_TS_PID] = "process PID (all its threads)",
		[CZ_TS_COMM] = "tasks whose comm is NAME",
		[CZ_TS_CGROUP] = "tasks in cgroup2 directory PATH or below",
	};
	static const char *const arg[NR_CZ_TS_KINDS] = {
		[CZ_TS_PID] = "PID", [CZ_TS_COMM] = "NAME", [CZ_TS_CGROUP] = "PATH",
	};
	struct argp_option *o = calloc(s->nr_sets * NR_CZ_TS_KINDS + 1, sizeof(*o));

	if (!o)
		return NULL;
	for (unsigned int i = 0; i < s->nr_sets; i++) {
		for (int k = 0; k < NR_CZ_TS_KINDS; k++) {
			char *name, *doc;

			if (asprintf(&name, "%s-%s", s->sets[i].name,
				     cz_ts_kind_names[k]) < 0 ||
			    asprintf(&doc, "Put %s in set %s: %s (repeatable)",
				     what[k], s->sets[i].name, s->sets[i].desc) < 0)
				return NULL;
			o[i * NR_CZ_TS_KINDS + k] = (struct argp_option){
				name, OPT_SET_BASE + i * NR_CZ_TS_KINDS + k, arg[k],
				0, doc, 0 };
		}
	}
	return o;
}

/* A table the rest of libcz can trust: checked once, before parsing. */
static int tables_valid(const struct cz_sched *s)
{
	if (s->nr_tunables > CZ_MAX_TUNABLES || s->nr_sets > CZ_TS_MAX_SETS)
		return -1;
	for (unsigned int i = 0; i < s->nr_sets; i++)
		if (!s->sets[i].name || !*s->sets[i].name ||
		    strlen(s->sets[i].name) + sizeof("-cgroup") > CZ_TUNABLE_NAME_MAX)
			return -1;
	for (unsigned int i = 0; i < s->nr_tunables; i++) {
		const struct cz_tunable_desc *k = &s->tunables[i];

		if (!k->name || strlen(k->name) >= CZ_TUNABLE_NAME_MAX ||
		    k->min > k->max || k->dfl < k->min || k->dfl > k->max)
			return -1;
	}
	return 0;
}


int cz_opts_parse(const struct cz_sched *s, int argc, char **argv,
		  struct cz_opts *opts, u64 *tunables, struct cz_taskset *ts)
{
	const struct argp sched_argp = { .options = s->options, .parser = s->parse };
	struct argp tunable_argp = { .parser = parse_tunable };
	struct argp rule_argp = { .parser = parse_rule };
	const struct argp sub_argp = { .options = sub_options, .parser = parse_sub };
	struct argp_child children[] = {
		{ &sched_argp, 0, "Scheduler options:", 1 },
		{ &sub_argp, 0, "Sub-scheduler:", 2 },
		{ &tunable_argp, 0, "Tunables (also live: czctl set NAME=N, the "
		  "option's name with '_' for '-'):", 2 },
		{ &rule_argp, 0, "Task sets (also live: czctl add|del "
		  "SET-KIND=VALUE, e.g. lc-pid=1234):", 2 },
		{ 0 },
	};
	/* Common options at the top, so their parser gets @opts as input. */
	const struct argp argp = {
		.options = common_options, .parser = parse_common,
		.doc = s->doc, .children = children,
	};

	argp_program_version_hook = print_version;
	argp_err_exit_status = CZ_EXIT_USAGE;
	the_sched = s;
	if (tables_valid(s)) {
		cz_say("the scheduler's tunables table is invalid (a bug)");
		return -1;
	}
	for (unsigned int i = 0; i < s->nr_tunables; i++)
		tunables[i] = s->tunables[i].dfl;
	tunable_vals = tunables;
	rules = ts;
	if ((s->nr_tunables && !(tunable_argp.options = tunable_options(s))) ||
	    (s->nr_sets && !(rule_argp.options = rule_options(s)))) {
		cz_say("out of memory");
		return -1;
	}
	/* argp's child list ends at the first empty entry: close the gaps. */
	if (!s->nr_sets)
		memset(&children[3], 0, sizeof(children[3]));
	if (!s->nr_tunables) {
		children[2] = children[3];
		memset(&children[3], 0, sizeof(children[3]));
	}
	the_opts = opts;
	argp_parse(&argp, argc, argv, 0, NULL, opts);
	/* The root's default socket is not a sub-scheduler's. */
	if (opts->cgroup && opts->stats_socket &&
	    !strcmp(opts->stats_socket, CZ_STATS_SOCKET_DEFAULT))
		opts->stats_socket = opts->cgroup_socket;
	return check_args_only ? 1 : 0;
}
