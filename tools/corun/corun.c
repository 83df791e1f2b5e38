/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-corun: how long tasks of set A ran on one SMT sibling while tasks of
 * set B ran on the other, under whatever scheduler is running. It prints
 * the CPU time of A and of B, the co-run time, and co-run as a share of
 * A's CPU time, over --duration SECS or until SIGINT/SIGTERM.
 *
 * Key choices:
 * - Sets come from task-set rules (lib/cz_taskset.h), all checked while
 *   the command line is parsed: bad input exits 2 with one error line
 *   before anything is loaded. Without B rules, B is every task that is
 *   not in A, not idle and not a kernel thread.
 * - Cores come from sysfs (thread_siblings_list), never from a CPU-number
 *   stride, which differs between machines. Cores of more than two
 *   threads are refused rather than measured wrongly.
 * - The window is opened and closed by two BPF programs run from here
 *   (BPF_PROG_TEST_RUN), after a task iterator told the BPF side what
 *   runs where, so it starts and ends at one instant on every core and
 *   the result needs no correction in userspace.
 * - --wait opens the window on SIGUSR1 instead of at once. Programs on
 *   one tracepoint run in the order they were attached: a meter attached
 *   after a scheduler's own sched_switch program (scx_mutex --strict frees
 *   a lane there) takes a switch's time only once that program has let the
 *   sibling go on, and under emulation a vCPU can stall for milliseconds
 *   in between, which the meter then counts as co-run. Attached first and
 *   armed once the scheduler runs, it sees every switch first.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cz.h"
#include "cz_taskset.h"
#include "cz_topo.h"
#include "corun.h"
#include "corun.skel.h"

enum {
	OPT_A_PID = 0x100,	/* the six rule options, in cz_ts_kind order */
	OPT_A_COMM,
	OPT_A_CGROUP,
	OPT_B_PID,
	OPT_B_COMM,
	OPT_B_CGROUP,
	OPT_DURATION,
	OPT_WAIT,
	OPT_JSON,
	POLL_MS = 100,
};

static struct {
	struct cz_taskset	ts;
	double			duration_s;
	bool			wait;
	bool			json;
	bool			verbose;
} opts;

static volatile sig_atomic_t stop_signal, go_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_go(int sig)
{
	go_signal = sig;
}

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Set A, whose co-running is measured (at least one rule):", 1 },
	{ "a-pid", OPT_A_PID, "PID", 0,
	  "Process PID, all its threads (a thread id means its process)", 1 },
	{ "a-comm", OPT_A_COMM, "NAME", 0,
	  "Tasks whose comm is exactly NAME (at most 15 characters)", 1 },
	{ "a-cgroup", OPT_A_CGROUP, "PATH", 0,
	  "Tasks in the cgroup2 directory PATH or below it", 1 },
	{ NULL, 0, NULL, 0,
	  "Set B (default: every task not in A, not idle, not a kernel thread):", 2 },
	{ "b-pid", OPT_B_PID, "PID", 0, "As --a-pid, for B", 2 },
	{ "b-comm", OPT_B_COMM, "NAME", 0, "As --a-comm, for B", 2 },
	{ "b-cgroup", OPT_B_CGROUP, "PATH", 0, "As --a-cgroup, for B", 2 },
	{ NULL, 0, NULL, 0, "Other options:", 3 },
	{ "duration", OPT_DURATION, "SECS", 0,
	  "Measure for SECS seconds (default: until SIGINT or SIGTERM)", 3 },
	{ "wait", OPT_WAIT, NULL, 0,
	  "Attach now, open the window on SIGUSR1 (attach before a scheduler "
	  "with its own sched_switch program starts, measure once it runs)", 3 },
	{ "json", OPT_JSON, NULL, 0, "Print the result as one JSON object", 3 },
	{ "verbose", 'v', NULL, 0,
	  "Print libbpf debug output (e.g. the verifier log)", 3 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Same as --help", 3 },
	{ 0 }
};

static error_t parse(int key, char *arg, struct argp_state *state)
{
	static const char *const kinds[NR_CZ_TS_KINDS] = { "pid", "comm", "cgroup" };
	char err[256];
	int i;

	switch (key) {
	case OPT_A_PID ... OPT_B_CGROUP:
		i = key - OPT_A_PID;
		if (cz_ts_add(&opts.ts, i % 3, arg, i < 3 ? CORUN_SET_A : CORUN_SET_B,
			      err, sizeof(err)))
			cz_usage_error(state, "--%c-%s: %s", i < 3 ? 'a' : 'b',
				       kinds[i % 3], err);
		break;
	case OPT_DURATION:
		opts.duration_s = cz_opt_double(state, "--duration", arg, 0.01, 1e9);
		break;
	case OPT_WAIT:
		opts.wait = true;
		break;
	case OPT_JSON:
		opts.json = true;
		break;
	case 'v':
		opts.verbose = true;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		cz_usage_error(state, "unexpected argument '%s'", arg);
	case ARGP_KEY_END:
		if (!(cz_ts_sets(&opts.ts) & CORUN_SET_A))
			cz_usage_error(state, "no rule for set A (--a-pid, --a-comm or --a-cgroup)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN && !opts.verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * Fill the BPF side's cpu_core[]/cpu_lane[] from sysfs (lib/cz_topo.h).
 * Returns 0 and counts cores and those with two lanes, or -1 after saying
 * why.
 */
static int read_topology(struct corun *skel, int nr_cpus, int *nr_cores,
			 int *nr_smt)
{
	struct cz_topo t;
	char err[512];

	if (cz_topo_read("/sys", nr_cpus, 2, (u32 *)skel->rodata->cpu_core,
			 (u32 *)skel->rodata->cpu_lane, &t, err, sizeof(err))) {
		cz_say("%s", err);
		return -1;
	}
	*nr_cores = t.nr_cores;
	*nr_smt = t.nr_smt;
	return 0;
}

static int run_prog(struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, ro);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &ro);

	return err ? err : (int)ro.retval;
}

/* Run the task iterator over every task once; its output is empty. */
static int seed(struct corun *skel)
{
	char buf[64];
	int fd = bpf_iter_create(bpf_link__fd(skel->links.corun_seed));
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -1 : 0;
}

struct result {
	u64	duration_ns, a_ns, b_ns, corun_ns, corun_spans, corun_max_ns;
};

static int read_result(struct corun *skel, int nr_cores, struct result *res)
{
	int fd = bpf_map__fd(skel->maps.cores);

	memset(res, 0, sizeof(*res));
	for (u32 k = 0; k < (u32)nr_cores; k++) {
		struct corun_core c;

		if (bpf_map_lookup_elem_flags(fd, &k, &c, BPF_F_LOCK))
			return -1;
		res->a_ns += c.ns[CORUN_A];
		res->b_ns += c.ns[CORUN_B];
		res->corun_ns += c.corun_ns;
		res->corun_spans += c.corun_spans;
		if (c.corun_max_ns > res->corun_max_ns)
			res->corun_max_ns = c.corun_max_ns;
	}
	res->duration_ns = skel->bss->stop_ns - skel->bss->start_ns;
	return 0;
}

static void print_result(const struct result *r, int nr_cpus, int nr_cores,
			 int nr_smt, bool b_is_rest)
{
	double pct = r->a_ns ? 100.0 * r->corun_ns / r->a_ns : 0;

	if (opts.json) {
		struct json_object *o = json_object_new_object();
		char pct_s[32];

		/* Two decimals are all a percentage of CPU time can claim. */
		snprintf(pct_s, sizeof(pct_s), "%.2f", pct);
		json_object_object_add(o, "duration_ns", json_object_new_int64(r->duration_ns));
		json_object_object_add(o, "cpus", json_object_new_int(nr_cpus));
		json_object_object_add(o, "cores", json_object_new_int(nr_cores));
		json_object_object_add(o, "smt_cores", json_object_new_int(nr_smt));
		json_object_object_add(o, "b_is_rest", json_object_new_boolean(b_is_rest));
		json_object_object_add(o, "a_cpu_ns", json_object_new_int64(r->a_ns));
		json_object_object_add(o, "b_cpu_ns", json_object_new_int64(r->b_ns));
		json_object_object_add(o, "corun_ns", json_object_new_int64(r->corun_ns));
		json_object_object_add(o, "corun_spans", json_object_new_int64(r->corun_spans));
		json_object_object_add(o, "corun_max_ns", json_object_new_int64(r->corun_max_ns));
		/* No share of nothing: null when A did not run. */
		json_object_object_add(o, "corun_pct",
				       r->a_ns ? json_object_new_double_s(pct, pct_s) : NULL);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	printf("window      %.3f s on %d CPUs, %d cores, %d with SMT siblings\n",
	       r->duration_ns / 1e9, nr_cpus, nr_cores, nr_smt);
	printf("A cpu time  %llu ns (%.3f s)\n", (unsigned long long)r->a_ns,
	       r->a_ns / 1e9);
	printf("B cpu time  %llu ns (%.3f s)%s\n", (unsigned long long)r->b_ns,
	       r->b_ns / 1e9, b_is_rest ? ", B = every user task not in A" : "");
	if (r->a_ns)
		printf("co-run      %llu ns (%.3f s), %.1f%% of A's CPU time\n",
		       (unsigned long long)r->corun_ns, r->corun_ns / 1e9, pct);
	else
		printf("co-run      %llu ns (A did not run)\n",
		       (unsigned long long)r->corun_ns);
	printf("co-run runs %llu intervals, the longest %llu ns\n",
	       (unsigned long long)r->corun_spans,
	       (unsigned long long)r->corun_max_ns);
}

/*
 * Sleep until @deadline (0: none), SIGINT/SIGTERM or, if @flag is given,
 * the signal that sets it. Never past the deadline, so a window is exactly
 * as long as asked.
 */
static void sleep_until(double deadline, volatile sig_atomic_t *flag)
{
	while (!stop_signal && !(flag && *flag)) {
		double left = deadline ? deadline - cz_now() : POLL_MS / 1e3;
		struct timespec ts;

		if (left <= 0)
			return;
		left = left < POLL_MS / 1e3 ? left : POLL_MS / 1e3;
		ts.tv_sec = 0;
		ts.tv_nsec = left * 1e9;
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	const struct argp argp = {
		.options = options, .parser = parse,
		.doc = "cz-corun: how long tasks of set A and set B ran at the same "
		       "time on the two SMT siblings of one core, under whatever "
		       "scheduler runs. A task in both sets counts as A.",
	};
	struct sigaction sa = { .sa_handler = on_signal }, go = { .sa_handler = on_go };
	int nr_cpus, nr_cores, nr_smt, ret = CZ_EXIT_FAIL;
	struct corun *skel = NULL;
	struct result res;
	bool b_is_rest;
	char err[256];

	cz_prog = "cz-corun";
	argp_program_version = "cz-corun (controlzone) " CZ_VERSION;
	argp_err_exit_status = CZ_EXIT_USAGE;
	argp_parse(&argp, argc, argv, 0, NULL, NULL);
	b_is_rest = !(cz_ts_sets(&opts.ts) & CORUN_SET_B);

	if (geteuid() != 0) {
		cz_say("must be run as root (BPF tracing needs CAP_BPF and CAP_PERFMON)");
		return CZ_EXIT_USAGE;
	}
	libbpf_set_print(libbpf_print);
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0 || nr_cpus > CORUN_MAX_CPUS) {
		cz_say("cannot measure %d possible CPUs (at most %d)", nr_cpus, CORUN_MAX_CPUS);
		goto out;
	}
	skel = corun__open();
	if (!skel) {
		cz_say("opening the BPF object failed: %s", strerror(errno));
		goto out;
	}
	if (read_topology(skel, nr_cpus, &nr_cores, &nr_smt))
		goto out;
	if (!nr_smt)
		cz_say("no core has two SMT siblings online: co-run is 0 by definition");
	skel->rodata->nr_cpus = nr_cpus;
	skel->rodata->b_is_rest = b_is_rest;

	if (corun__load(skel)) {
		cz_say("loading the BPF program failed: %s%s", strerror(errno),
		    opts.verbose ? "" : " (run with -v for the verifier log)");
		goto out;
	}
	if (cz_ts_write(&opts.ts, skel->obj, err, sizeof(err))) {
		cz_say("%s", err);
		goto out;
	}
	if (corun__attach(skel)) {
		cz_say("attaching to sched_switch failed: %s", strerror(errno));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (opts.wait) {
		sigaction(SIGUSR1, &go, NULL);
		/* Scripts wait for this line to know the meter is attached. */
		cz_say("attached; the window opens on SIGUSR1");
		sleep_until(0, &go_signal);
		if (stop_signal) {
			cz_say("stopped before the window opened");
			goto out;
		}
	}
	if (seed(skel) || run_prog(skel->progs.corun_start)) {
		cz_say("starting the measurement failed: %s", strerror(errno));
		goto out;
	}

	/* Scripts wait for this line to know when the window opened. */
	if (opts.duration_s)
		cz_say("measuring for %g s", opts.duration_s);
	else
		cz_say("measuring until SIGINT or SIGTERM");
	sleep_until(opts.duration_s ? cz_now() + opts.duration_s : 0, NULL);

	if (run_prog(skel->progs.corun_stop) ||
	    read_result(skel, nr_cores, &res)) {
		cz_say("reading the result failed: %s", strerror(errno));
		goto out;
	}
	print_result(&res, nr_cpus, nr_cores, nr_smt, b_is_rest);
	ret = CZ_EXIT_OK;
out:
	/* Detaches the tracing program and frees the maps. */
	corun__destroy(skel);
	cz_ts_free(&opts.ts);
	return ret;
}
