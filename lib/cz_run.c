/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz_main(): the life of a scheduler process, the same for every loader.
 *
 * parse options -> check root and sched_ext -> open (the loader fills its
 * rodata) -> set the ops flags that come from common options -> load ->
 * attach the struct_ops link -> print stats every interval until a signal,
 * --duration, or the kernel disabling the scheduler -> detach -> report
 * what the kernel said -> re-open if the kernel asked for a restart.
 *
 * Key choices:
 * - The struct_ops map is attached by hand (not by the skeleton) so that we
 *   hold its link: destroying the link unregisters the scheduler and runs
 *   ops.exit synchronously, after which the exit record is complete.
 * - Common ops fields (flags, hotplug_seq) are written through the object's
 *   BTF by member name, so loaders need not touch sched_ext_ops.
 * - Every check that can fail on bad input runs before anything is loaded,
 *   including the stats socket's: a live server at its path is an error.
 * - The stats socket is served by its own thread (lib/cz_ctl.c). It reads
 *   the stats map itself, under a mutex that this thread takes only to hand
 *   it the map after attach and to take it back before the skeleton is
 *   destroyed (waiting at most for one read in flight). So clients never
 *   delay the stats loop, and never read a closed map across a
 *   kernel-requested restart: in between, they get EAGAIN.
 * - Live tunables: one value array, guarded by the same mutex, is the truth.
 *   Options fill it, run_once() writes it into "cz_knobs" before each
 *   attach, and the socket's "set" writes one value into both, so a change
 *   made while running also survives a kernel-requested restart.
 * - Task-set rules are kept the same way: one list (under the mutex) of
 *   what the options gave plus what the socket's "rule" requests added or
 *   removed since, written into the maps after each load.
 * - Preloading, for `czctl switch`: given CZ_READY_FD and CZ_GO_FD (two
 *   pipe ends) in the environment, the loader may start while another
 *   scheduler runs. It loads (the slow part: seconds under emulation),
 *   writes one byte to the first pipe, waits for one on the second (czctl
 *   sends it once the old loader is gone, socket and all; end of file:
 *   czctl gave up, so it exits), and only then takes the stats socket and
 *   attaches. czctl stops the old scheduler only once the
 *   byte came, so the zone spends a fraction of a second, not the load
 *   time, on the fair class, and a scheduler that fails to load leaves the
 *   running one untouched.
 * - Two hidden options are for czctl, not for people: --describe prints the
 *   scheduler's one-line description and its tunables (czctl list, one
 *   tab-separated "tunable" line each), --check-args parses the
 *   command line and exits 0 or 2 without loading anything, so that
 *   `czctl switch` rejects bad arguments before it stops the running
 *   scheduler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <json-c/json.h>
#include <sys/un.h>
#include "cz.h"
#include "cz_taskset.h"

#ifndef CZ_VERSION
#define CZ_VERSION "unknown"
#endif

#define SCX_SYSFS		"/sys/kernel/sched_ext"
#define SCX_OPS_SWITCH_PARTIAL	(1ULL << 3)

enum {
	OPT_JSON = 0x100,
	OPT_DURATION,
	OPT_STATS_SOCKET,
	OPT_DESCRIBE,
	OPT_CHECK_ARGS,
	OPT_KNOB_BASE = 0x1000,	/* + knob index */
	OPT_SET_BASE = 0x2000,	/* + set index * NR_CZ_TS_KINDS + kind */
	POLL_MS = 100,		/* how often the exit record is checked */
	TURN_POLL_MS = 100,	/* preloaded: how often a signal is looked for */
	TURN_TIMEOUT_S = 60,	/* preloaded: czctl must say go by then */
	LINE_MAX_LEN = 8192,
};

static volatile sig_atomic_t stop_signal;
static const char *prog = "scx";
static const struct cz_sched *the_sched;	/* for --describe */
static bool check_args_only;
static u64 *knob_vals;		/* for the knob options' parser */
static struct cz_taskset *rules;	/* for the rule options' parser */
static const char **set_names;	/* the_sched's set names, for lookups */

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
	  "(default " CZ_CTL_DEFAULT_PATH ")", 0 },
	{ "describe", OPT_DESCRIBE, NULL, OPTION_HIDDEN,
	  "Print the one-line description and exit", 0 },
	{ "check-args", OPT_CHECK_ARGS, NULL, OPTION_HIDDEN,
	  "Only check the command line: exit 0, or 2 with the error", 0 },
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
		for (unsigned int i = 0; i < the_sched->nr_knobs; i++) {
			const struct cz_knob_desc *k = &the_sched->knobs[i];

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
	case ARGP_KEY_ARG:
		cz_usage_error(state, "unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- live tunables as options ---- */

/* Tunable "slice_us" is option --slice-us. */
static void dashed(char *s)
{
	for (; *s; s++)
		if (*s == '_')
			*s = '-';
}

static error_t parse_knob(int key, char *arg, struct argp_state *state)
{
	const struct cz_knob_desc *k;
	char opt[CZ_KNOB_NAME_MAX + 2];

	if (key < OPT_KNOB_BASE || key >= OPT_KNOB_BASE + (int)the_sched->nr_knobs)
		return ARGP_ERR_UNKNOWN;
	k = &the_sched->knobs[key - OPT_KNOB_BASE];
	snprintf(opt, sizeof(opt), "--%s", k->name);
	dashed(opt);
	knob_vals[key - OPT_KNOB_BASE] = cz_opt_uint(state, opt, arg, k->min, k->max);
	return 0;
}

/*
 * One option per tunable: --slice-us for "slice_us", its range and default
 * in the help. Built once per process; never freed (argp keeps pointers).
 */
static struct argp_option *knob_options(const struct cz_sched *s)
{
	struct argp_option *o = calloc(s->nr_knobs + 1, sizeof(*o));

	if (!o)
		return NULL;
	for (unsigned int i = 0; i < s->nr_knobs; i++) {
		const struct cz_knob_desc *k = &s->knobs[i];
		char *name = strdup(k->name), *doc;

		if (!name || asprintf(&doc, "%s (%llu-%llu, default %llu)", k->desc,
				      (unsigned long long)k->min,
				      (unsigned long long)k->max,
				      (unsigned long long)k->dfl) < 0)
			return NULL;
		dashed(name);
		o[i] = (struct argp_option){ name, OPT_KNOB_BASE + i, "N", 0, doc, 0 };
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
static int knobs_valid(const struct cz_sched *s)
{
	if (s->nr_knobs > CZ_MAX_KNOBS || s->nr_sets > CZ_TS_MAX_SETS)
		return -1;
	for (unsigned int i = 0; i < s->nr_sets; i++)
		if (!s->sets[i].name || !*s->sets[i].name ||
		    strlen(s->sets[i].name) + sizeof("-cgroup") > CZ_KNOB_NAME_MAX)
			return -1;
	for (unsigned int i = 0; i < s->nr_knobs; i++) {
		const struct cz_knob_desc *k = &s->knobs[i];

		if (!k->name || strlen(k->name) >= CZ_KNOB_NAME_MAX ||
		    k->min > k->max || k->dfl < k->min || k->dfl > k->max)
			return -1;
	}
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	static bool verbose;

	if (!fmt) {	/* configuration call from cz_main */
		verbose = level == LIBBPF_DEBUG;
		return 0;
	}
	/* Without -v only warnings: e.g. "member ... not found in kernel,
	 * skipping it" on older kernels is expected, not news. */
	if (level != LIBBPF_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Locate @member of the struct_ops map's value through the object's BTF. */
static void *ops_member(struct bpf_object *obj, struct bpf_map *ops,
			const char *member, size_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *t;
	const struct btf_member *m;
	size_t data_sz;
	char *data;

	if (!btf)
		return NULL;
	t = btf__type_by_id(btf, bpf_map__btf_value_type_id(ops));
	data = bpf_map__initial_value(ops, &data_sz);
	if (!t || !btf_is_struct(t) || !data)
		return NULL;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), member))
			continue;
		*size = btf__resolve_size(btf, m->type);
		if (btf_member_bit_offset(t, i) % 8 ||
		    btf_member_bit_offset(t, i) / 8 + *size > data_sz)
			return NULL;
		return data + btf_member_bit_offset(t, i) / 8;
	}
	return NULL;
}

static int set_ops_u64(struct bpf_object *obj, struct bpf_map *ops,
		       const char *member, u64 val, bool or_in)
{
	size_t size;
	void *p = ops_member(obj, ops, member, &size);
	u64 cur = 0;

	if (!p || size > sizeof(cur))
		return -1;
	memcpy(&cur, p, size);
	val = or_in ? cur | val : val;
	memcpy(p, &val, size);
	return 0;
}

static struct bpf_map *find_ops_map(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			return map;
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * What the stats socket's thread reads. @map is NULL while no scheduler is
 * attached (before the first attach, and during a restart).
 */
struct live {
	pthread_mutex_t			lock;
	const struct cz_sched		*sched;
	unsigned int			nr_cpus;
	struct bpf_map			*map;
	struct bpf_map			*knobs_map;
	struct bpf_object		*obj;	/* for rule updates */
	double				started;
	u64				*vals;	/* the server thread's own */
	u64				knobs[CZ_MAX_KNOBS];	/* the truth */
	u64				knobs_copy[CZ_MAX_KNOBS];	/* server's */
	struct cz_taskset		rules;	/* the truth */
};

/*
 * cz_ctl_source.stats: runs on the server thread. Only the map reads hold
 * the lock; the reply is built from the thread's own copy after it.
 */
static int live_stats(void *ctx, struct json_object **resp, char *err,
		      size_t errlen)
{
	struct live *l = ctx;
	struct cz_stats_view v = {
		.sched = l->sched->name, .desc = l->sched->stats,
		.nr_stats = l->sched->nr_stats, .nr_cpus = l->nr_cpus,
		.knobs = l->sched->knobs, .nr_knobs = l->sched->nr_knobs,
		.knob_vals = l->knobs_copy,
	};
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	if (!l->map) {
		snprintf(err, errlen, "the scheduler is not attached (starting or restarting)");
		ret = EAGAIN;
	} else if (cz_stats_read(l->map, v.nr_stats, v.nr_cpus, l->vals)) {
		snprintf(err, errlen, "reading the stats map failed: %s", strerror(errno));
		ret = EIO;
	} else {
		v.uptime_s = now_s() - l->started;
		memcpy(l->knobs_copy, l->knobs, sizeof(l->knobs));
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return ret;
	*resp = cz_ctl_stats_resp(&v, l->vals);
	if (!*resp) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	return 0;
}

/*
 * cz_ctl_source.set: runs on the server thread. While detached the value
 * is only kept: the next attach writes it.
 */
static int live_knob_set(void *ctx, const char *name, u64 value,
			 struct json_object **resp, char *err, size_t errlen)
{
	struct live *l = ctx;
	int idx, ret = 0;
	u32 key;
	u64 old;

	pthread_mutex_lock(&l->lock);
	idx = cz_knob_check(l->sched->knobs, l->sched->nr_knobs, name, value,
			    err, errlen);
	if (idx < 0) {
		pthread_mutex_unlock(&l->lock);
		return -idx;
	}
	key = idx;
	old = l->knobs[idx];
	if (l->knobs_map &&
	    bpf_map__update_elem(l->knobs_map, &key, sizeof(key), &value,
				 sizeof(value), BPF_ANY)) {
		snprintf(err, errlen, "writing the tunables map failed: %s",
			 strerror(errno));
		ret = EIO;
	} else {
		l->knobs[idx] = value;
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return ret;

	say("tunable %s: %llu -> %llu", l->sched->knobs[idx].name,
	    (unsigned long long)old, (unsigned long long)value);
	*resp = json_object_new_object();
	if (!*resp) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	json_object_object_add(*resp, "name", json_object_new_string(l->sched->knobs[idx].name));
	json_object_object_add(*resp, "value", json_object_new_uint64(value));
	json_object_object_add(*resp, "old", json_object_new_uint64(old));
	return 0;
}

/*
 * A pid rule of a process that has exited can still be removed: its
 * number is taken as it is.
 */
static int rule_for_del(enum cz_ts_kind kind, const char *arg,
			struct cz_ts_rule *r, char *err, size_t errlen)
{
	char *end;

	if (!cz_ts_rule_parse(kind, arg, r, err, errlen))
		return 0;
	if (kind != CZ_TS_PID)
		return -1;
	errno = 0;
	r->tgid = strtoul(arg, &end, 10);
	return errno || *end || !r->tgid ? -1 : 0;
}

/*
 * cz_ctl_source.rule: runs on the server thread. Checked like the option
 * of the same name; while detached the change is only kept.
 */
static int live_rule(void *ctx, bool add, const char *name, const char *arg,
		     struct json_object **resp, char *err, size_t errlen)
{
	struct live *l = ctx;
	struct cz_ts_rule r;
	enum cz_ts_kind kind;
	unsigned int set;
	int ret = 0;

	if (cz_ts_rule_name(set_names, l->sched->nr_sets, name, &set, &kind)) {
		snprintf(err, errlen, "no rule '%s' (rules are SET-pid, SET-comm, "
			 "SET-cgroup; sets: %s%s)", name, set_names[0],
			 l->sched->nr_sets > 1 ? ", ..." : "");
		return ENOENT;
	}
	if ((add ? cz_ts_rule_parse(kind, arg, &r, err, errlen) :
		   rule_for_del(kind, arg, &r, err, errlen)))
		return EINVAL;
	r.sets = 1u << set;

	pthread_mutex_lock(&l->lock);
	if (add && cz_ts_insert(&l->rules, &r, err, errlen))
		ret = ENOSPC;
	else if (!add && cz_ts_remove(&l->rules, &r)) {
		snprintf(err, errlen, "no rule %s=%s to remove", name, arg);
		ret = ENOENT;
	} else if (l->obj && cz_ts_update(l->obj, &r, add)) {
		snprintf(err, errlen, "updating the rule's map failed: %s",
			 strerror(errno));
		ret = EIO;
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return ret;

	say("rule %s %s=%s", add ? "added" : "removed", name, arg);
	*resp = json_object_new_object();
	if (!*resp) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	json_object_object_add(*resp, "op", json_object_new_string(add ? "add" : "del"));
	json_object_object_add(*resp, "rule", json_object_new_string(name));
	json_object_object_add(*resp, "value", json_object_new_string(arg));
	json_object_object_add(*resp, "rules", json_object_new_int(l->rules.nr));
	return 0;
}

/* Every rule into the maps, after load: the policy sees them from the start. */
static int live_rules_write(struct live *l, struct bpf_object *obj,
			    char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&l->lock);
	ret = cz_ts_write(&l->rules, obj, err, errlen);
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* Every tunable into the map: before attach, so the policy never sees 0. */
static int live_knobs_write(struct live *l, struct bpf_map *map)
{
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	for (u32 i = 0; i < l->sched->nr_knobs && !ret; i++)
		ret = bpf_map__update_elem(map, &i, sizeof(i), &l->knobs[i],
					   sizeof(u64), BPF_ANY);
	pthread_mutex_unlock(&l->lock);
	return ret;
}

static void live_set(struct live *l, struct bpf_object *obj, struct bpf_map *map,
		     struct bpf_map *knobs_map, double started)
{
	pthread_mutex_lock(&l->lock);
	l->obj = obj;
	l->map = map;
	l->knobs_map = knobs_map;
	l->started = started;
	pthread_mutex_unlock(&l->lock);
}

struct run {
	const struct cz_sched	*sched;
	const struct cz_opts	*opts;
	unsigned int		nr_cpus;
	u64			*vals;
	u64			*prev;
	struct cz_exit_info	exit;
	bool			stopped_by_us;
	struct live		live;
	int			ready_fd;	/* preloaded: czctl's pipes; else -1 */
	int			go_fd;
	struct cz_ctl_server	*srv;
	struct json_object	*meta;
};

static void print_stats(struct run *r, struct bpf_map *stats, double started,
			double interval, bool total)
{
	struct cz_stats_view v = {
		.sched = r->sched->name, .desc = r->sched->stats,
		.nr_stats = r->sched->nr_stats, .nr_cpus = r->nr_cpus,
		.uptime_s = now_s() - started, .interval_s = interval,
		.total = total,
	};
	char line[LINE_MAX_LEN];

	if (!r->sched->nr_stats ||
	    cz_stats_read(stats, r->sched->nr_stats, r->nr_cpus, r->vals))
		return;
	cz_stats_format(line, sizeof(line), &v, r->vals, total ? NULL : r->prev,
			r->opts->json);
	puts(line);
	memcpy(r->prev, r->vals, sizeof(u64) * r->sched->nr_stats * r->nr_cpus);
}

static bool exited(int exit_fd, struct cz_exit_info *ei)
{
	u32 zero = 0;

	return !bpf_map_lookup_elem(exit_fd, &zero, ei) && ei->kind;
}

/*
 * Open (unless open) and start the stats socket's server. 0, or a loader
 * exit code with the reason said.
 */
static int serve_stats(struct run *r)
{
	const struct cz_sched *s = r->sched;
	const char *path = r->opts->stats_socket;
	struct cz_ctl_source src = {
		.stats = live_stats, .ctx = &r->live,
		.set = s->nr_knobs ? live_knob_set : NULL,
		.rule = s->nr_sets ? live_rule : NULL,
	};
	const struct cz_stats_view v = {
		.sched = s->name, .desc = s->stats, .nr_stats = s->nr_stats,
		.knobs = s->knobs, .nr_knobs = s->nr_knobs,
	};
	char err[256];

	if (!path)
		return 0;
	if (!r->srv && cz_ctl_server_open(&r->srv, path, err, sizeof(err))) {
		say("stats socket: %s", err);
		return CZ_EXIT_FAIL;
	}
	/* The same descriptor tables as the stats line: one list. */
	r->meta = cz_ctl_meta_resp(&v);
	src.meta = r->meta;
	if (!r->meta || cz_ctl_server_start(r->srv, &src)) {
		say("stats socket: cannot start its thread");
		return CZ_EXIT_FAIL;
	}
	say("serving stats on %s", path);
	return 0;
}

/*
 * Preloaded: tell czctl the load went through, wait for its go (it stops
 * the old scheduler in between), take over the stats socket. -1: attach
 * now; else a loader exit code (0 when stopped by a signal meanwhile).
 */
static int await_turn(struct run *r)
{
	double deadline = now_s() + TURN_TIMEOUT_S;
	ssize_t n = write(r->ready_fd, "1", 1);
	char b;

	close(r->ready_fd);
	r->ready_fd = -1;
	if (n != 1) {
		say("telling czctl that the load went through failed: %s", strerror(errno));
		return CZ_EXIT_FAIL;
	}
	say("loaded; waiting for czctl to stop the running scheduler");
	for (;;) {
		struct pollfd pfd = { .fd = r->go_fd, .events = POLLIN };
		int ret = poll(&pfd, 1, TURN_POLL_MS);

		if (stop_signal)
			return CZ_EXIT_OK;
		if (ret > 0)
			break;
		if ((ret < 0 && errno != EINTR) || now_s() > deadline) {
			say("no go from czctl within %d s; not attaching", TURN_TIMEOUT_S);
			return CZ_EXIT_FAIL;
		}
	}
	n = read(r->go_fd, &b, 1);
	close(r->go_fd);
	r->go_fd = -1;
	if (n != 1) {
		say("czctl gave up the switch; not attaching");
		return CZ_EXIT_FAIL;
	}
	return serve_stats(r) ?: -1;
}

/* One attach: returns a loader exit code, or -1 to re-open and re-attach. */
static int run_once(struct run *r)
{
	const struct cz_sched *s = r->sched;
	const struct cz_opts *o = r->opts;
	struct bpf_object_skeleton *skel;
	struct bpf_map *ops, *stats, *exit_map, *knobs;
	struct bpf_link *link;
	double started, last, deadline;
	char seq[32], err[256];
	int ret = CZ_EXIT_FAIL;

	skel = s->open(o);
	if (!skel) {
		say("opening the BPF object failed");
		return CZ_EXIT_FAIL;
	}
	ops = find_ops_map(*skel->obj);
	stats = bpf_object__find_map_by_name(*skel->obj, "cz_stats");
	exit_map = bpf_object__find_map_by_name(*skel->obj, "cz_exit");
	knobs = bpf_object__find_map_by_name(*skel->obj, "cz_knobs");
	if (!ops || !stats || !exit_map || !knobs) {
		say("the BPF object lacks its struct_ops, cz_stats, cz_exit or cz_knobs map");
		goto out;
	}
	if (o->partial && set_ops_u64(*skel->obj, ops, "flags", SCX_OPS_SWITCH_PARTIAL, true))
		say("warning: cannot set SCX_OPS_SWITCH_PARTIAL");
	/* Lets the kernel notice CPU hotplug between here and attach. */
	if (!cz_read_line(SCX_SYSFS "/hotplug_seq", seq, sizeof(seq)))
		set_ops_u64(*skel->obj, ops, "hotplug_seq", strtoull(seq, NULL, 10), false);
	bpf_map__set_autoattach(ops, false);

	if (bpf_object__load_skeleton(skel)) {
		say("loading the BPF program failed: %s%s", strerror(errno),
		    o->verbose ? "" : " (run with -v for the verifier log)");
		goto out;
	}
	if (s->loaded && s->loaded())
		goto out;
	if (live_knobs_write(&r->live, knobs)) {
		say("writing the tunables failed: %s", strerror(errno));
		goto out;
	}
	if (s->nr_sets && live_rules_write(&r->live, *skel->obj, err, sizeof(err))) {
		say("%s", err);
		goto out;
	}
	if (r->ready_fd >= 0) {
		ret = await_turn(r);
		if (ret >= 0)
			goto out;
		ret = CZ_EXIT_FAIL;
	}
	link = bpf_map__attach_struct_ops(ops);
	if (!link) {
		say("attaching the scheduler failed: %s%s", strerror(errno),
		    errno == EBUSY || errno == EEXIST ?
		    " (another sched_ext scheduler is running)" : "");
		goto out;
	}
	if (bpf_object__attach_skeleton(skel)) {
		say("attaching the scheduler's tracing programs failed: %s",
		    strerror(errno));
		bpf_link__destroy(link);
		goto out;
	}
	say("attached: ops \"%s\", stats every %gs", s->name, o->interval_s);

	started = last = now_s();
	live_set(&r->live, *skel->obj, stats, knobs, started);
	deadline = o->duration_s ? started + o->duration_s : 0;
	memset(r->prev, 0, sizeof(u64) * s->nr_stats * r->nr_cpus);
	while (!stop_signal && !exited(bpf_map__fd(exit_map), &r->exit)) {
		struct timespec ts = { 0, POLL_MS * 1000000L };
		double t;

		nanosleep(&ts, NULL);
		t = now_s();
		if (deadline && t >= deadline)
			break;
		if (t - last >= o->interval_s) {
			print_stats(r, stats, started, t - last, false);
			last = t;
		}
	}
	r->stopped_by_us = !r->exit.kind;
	print_stats(r, stats, started, 0, true);

	/* Unregisters the scheduler; ops.exit has run when this returns. */
	bpf_link__destroy(link);
	exited(bpf_map__fd(exit_map), &r->exit);
	cz_exit_report(stderr, prog, &r->exit);

	if (!r->stopped_by_us && cz_exit_wants_restart(&r->exit)) {
		say("the kernel asked for a restart; re-attaching");
		ret = -1;
	} else {
		ret = cz_exit_status(&r->exit, r->stopped_by_us);
	}
out:
	/* The server thread must be done with the map before it closes. */
	live_set(&r->live, NULL, NULL, NULL, 0);
	s->destroy();
	return ret;
}

/* A pipe end czctl passed in the environment variable @name; -1. */
static int env_fd(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long fd;

	if (!v)
		return -1;
	fd = strtol(v, &end, 10);
	unsetenv(name);
	if (*end || end == v || fd < 3 || fd > INT_MAX ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC))
		return -1;
	return (int)fd;
}

int cz_main(const struct cz_sched *s, int argc, char **argv)
{
	struct cz_opts opts = {
		.interval_s = 1.0, .stats_socket = CZ_CTL_DEFAULT_PATH,
	};
	const struct argp sched_argp = { .options = s->options, .parser = s->parse };
	struct argp knob_argp = { .parser = parse_knob };
	struct argp rule_argp = { .parser = parse_rule };
	struct argp_child children[] = {
		{ &sched_argp, 0, "Scheduler options:", 1 },
		{ &knob_argp, 0, "Tunables (also live: czctl set NAME=N, the "
		  "option's name with '_' for '-'):", 2 },
		{ &rule_argp, 0, "Task sets (also live: czctl add|del "
		  "SET-KIND=VALUE, e.g. lc-pid=1234):", 2 },
		{ 0 },
	};
	/* Common options at the top, so their parser gets &opts as input. */
	const struct argp argp = {
		.options = common_options, .parser = parse_common,
		.doc = s->doc, .children = children,
	};
	char state[64];
	struct sigaction sa = { .sa_handler = on_signal };
	struct run r = {
		.sched = s, .opts = &opts,
		.live = { .lock = PTHREAD_MUTEX_INITIALIZER, .sched = s },
		.ready_fd = -1, .go_fd = -1,
	};
	char err[256];
	int ncpus, ret;

	prog = argv[0] && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
	       argv[0] ? argv[0] : "scx";
	argp_program_version = "controlzone " CZ_VERSION;
	argp_err_exit_status = CZ_EXIT_USAGE;
	the_sched = s;
	if (knobs_valid(s)) {
		say("the scheduler's tunables table is invalid (a bug)");
		return CZ_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < s->nr_knobs; i++)
		r.live.knobs[i] = s->knobs[i].dfl;
	knob_vals = r.live.knobs;
	rules = &r.live.rules;
	set_names = calloc(s->nr_sets + 1, sizeof(*set_names));
	if (!set_names || (s->nr_knobs && !(knob_argp.options = knob_options(s))) ||
	    (s->nr_sets && !(rule_argp.options = rule_options(s)))) {
		say("out of memory");
		return CZ_EXIT_FAIL;
	}
	for (unsigned int i = 0; i < s->nr_sets; i++)
		set_names[i] = s->sets[i].name;
	/* argp's child list ends at the first empty entry: close the gaps. */
	if (!s->nr_sets)
		memset(&children[2], 0, sizeof(children[2]));
	if (!s->nr_knobs) {
		children[1] = children[2];
		memset(&children[2], 0, sizeof(children[2]));
	}
	argp_parse(&argp, argc, argv, 0, NULL, &opts);
	if (check_args_only)
		return CZ_EXIT_OK;

	if (geteuid() != 0) {
		say("must be run as root (loading a BPF scheduler needs CAP_SYS_ADMIN and CAP_BPF)");
		return CZ_EXIT_USAGE;
	}
	if (cz_read_line(SCX_SYSFS "/state", state, sizeof(state))) {
		say("this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT); run the scheduler in a Control Zone (scripts/run)");
		return CZ_EXIT_FAIL;
	}
	r.ready_fd = env_fd("CZ_READY_FD");
	r.go_fd = env_fd("CZ_GO_FD");
	/* Preloading needs both; a half is closed (czctl sees the end). */
	if ((r.ready_fd < 0) != (r.go_fd < 0)) {
		if (r.ready_fd >= 0)
			close(r.ready_fd);
		if (r.go_fd >= 0)
			close(r.go_fd);
		r.ready_fd = r.go_fd = -1;
	}
	if (strcmp(state, "disabled") && r.ready_fd < 0) {
		char ops[128] = "?";

		cz_read_line(SCX_SYSFS "/root/ops", ops, sizeof(ops));
		say("sched_ext is %s with scheduler \"%s\"; stop it first", state, ops);
		return CZ_EXIT_FAIL;
	}
	/* Before anything is loaded: another live server there is an error.
	 * Preloaded, the old scheduler's server is there until it stops. */
	if (opts.stats_socket && r.ready_fd < 0 &&
	    cz_ctl_server_open(&r.srv, opts.stats_socket, err, sizeof(err))) {
		say("stats socket: %s", err);
		return CZ_EXIT_FAIL;
	}

	libbpf_print(opts.verbose ? LIBBPF_DEBUG : LIBBPF_WARN, NULL, NULL);
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ret = CZ_EXIT_FAIL;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		say("cannot read the number of possible CPUs");
		goto out;
	}
	r.nr_cpus = r.live.nr_cpus = ncpus;
	r.vals = calloc((size_t)s->nr_stats * ncpus + 1, sizeof(u64));
	r.prev = calloc((size_t)s->nr_stats * ncpus + 1, sizeof(u64));
	r.live.vals = calloc((size_t)s->nr_stats * ncpus + 1, sizeof(u64));
	if (!r.vals || !r.prev || !r.live.vals) {
		say("out of memory");
		goto out;
	}
	if (r.srv && serve_stats(&r))
		goto out;
	while ((ret = run_once(&r)) < 0)
		memset(&r.exit, 0, sizeof(r.exit));
out:
	/* Stops the thread and removes the socket file. */
	cz_ctl_server_close(r.srv);
	json_object_put(r.meta);
	if (r.ready_fd >= 0)
		close(r.ready_fd);
	if (r.go_fd >= 0)
		close(r.go_fd);
	free(r.vals);
	free(r.prev);
	free(r.live.vals);
	cz_ts_free(&r.live.rules);
	return ret;
}
