/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz_main(): the life of a scheduler process, the same for every loader.
 *
 * parse options (cz_opts.c) -> check root and sched_ext -> open (the
 * loader fills its rodata) -> set the ops flags that come from common
 * options (cz_ops.c) -> load -> write tunables and rules (cz_live.c) ->
 * attach the struct_ops link -> print stats every interval until a signal,
 * --duration, or the kernel disabling the scheduler -> detach -> report
 * what the kernel said -> re-open if the kernel asked for a restart.
 *
 * Key choices:
 * - The struct_ops map is attached by hand (not by the skeleton) so that we
 *   hold its link: destroying the link unregisters the scheduler and runs
 *   ops.exit synchronously, after which the exit record is complete.
 * - Every check that can fail on bad input runs before anything is loaded,
 *   including the stats socket's: a live server at its path is an error.
 * - The stats socket is served by its own thread (cz_stats_server.c) from
 *   the live state (cz_live.c), which this thread hands the maps to after
 *   attach and takes them back from before the skeleton is destroyed.
 * - Preloading, for `czctl switch`: given CZ_READY_FD and CZ_GO_FD (two
 *   pipe ends) in the environment, the loader may start while another
 *   scheduler runs. It loads (the slow part: verifying the BPF program),
 *   writes one byte to the first pipe, waits for one on the second (czctl
 *   sends it once the old loader is gone, socket and all; end of file:
 *   czctl gave up, so it exits), and only then takes the stats socket and
 *   attaches. czctl stops the old scheduler only once the byte came, so
 *   the system spends a fraction of a second, not the load time, on the
 *   fair class, and a scheduler that fails to load leaves the running one
 *   untouched.
 * - Privilege: root is required, but what the kernel checks is
 *   capabilities (kernel/bpf/syscall.c): CAP_BPF for the maps, the BTF
 *   and the programs, CAP_PERFMON too for struct_ops programs, or
 *   CAP_SYS_ADMIN, which stands in for both. A container that grants
 *   fewer gets EPERM from load or attach; perm_hint() then names the
 *   missing ones on the same line, as read from our effective set, so
 *   the one line says what to grant. An EPERM with those held (the
 *   verifier's, an LSM's) gets no such hint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cz_priv.h"
#include "cz_stats_server.h"

#define SCX_OPS_SWITCH_PARTIAL	(1ULL << 3)

enum {
	POLL_MS = 100,		/* how often the exit record is checked */
	TURN_POLL_MS = 100,	/* preloaded: how often a signal is looked for */
	TURN_TIMEOUT_S = 60,	/* preloaded: czctl must say go by then */
	LINE_MAX_LEN = 8192,
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
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

struct run {
	const struct cz_sched	*sched;
	const struct cz_opts	*opts;
	unsigned int		nr_cpus;
	u64			*vals;
	u64			*prev;
	struct cz_exit_info	exit;
	bool			stopped_by_us;
	struct cz_live		live;
	int			ready_fd;	/* preloaded: czctl's pipes; else -1 */
	int			go_fd;
	struct cz_stats_server	*srv;
	struct json_object	*meta;
};

static void print_stats(struct run *r, struct bpf_map *stats, double started,
			double interval, bool total)
{
	struct cz_stats_view v = {
		.sched = r->sched->name, .desc = r->sched->stats,
		.nr_stats = r->sched->nr_stats, .nr_cpus = r->nr_cpus,
		.uptime_s = cz_now() - started, .interval_s = interval,
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
	struct cz_stats_source src = cz_live_source(&r->live);
	const struct cz_stats_view v = {
		.sched = s->name, .desc = s->stats, .nr_stats = s->nr_stats,
		.tunables = s->tunables, .nr_tunables = s->nr_tunables,
	};
	char err[256];

	if (!path)
		return 0;
	if (!r->srv && cz_stats_server_open(&r->srv, path, err, sizeof(err))) {
		cz_say("stats socket: %s", err);
		return CZ_EXIT_FAIL;
	}
	/* The same descriptor tables as the stats line: one list. */
	r->meta = cz_stats_meta_resp(&v);
	src.meta = r->meta;
	if (!r->meta || cz_stats_server_start(r->srv, &src)) {
		cz_say("stats socket: cannot start its thread");
		return CZ_EXIT_FAIL;
	}
	cz_say("serving stats on %s", path);
	return 0;
}

/*
 * Preloaded: tell czctl the load went through, wait for its go (it stops
 * the old scheduler in between), take over the stats socket. -1: attach
 * now; else a loader exit code (0 when stopped by a signal meanwhile).
 */
static int await_turn(struct run *r)
{
	double deadline = cz_now() + TURN_TIMEOUT_S;
	ssize_t n = write(r->ready_fd, "1", 1);
	char b;

	close(r->ready_fd);
	r->ready_fd = -1;
	if (n != 1) {
		cz_say("telling czctl that the load went through failed: %s", strerror(errno));
		return CZ_EXIT_FAIL;
	}
	cz_say("loaded; waiting for czctl to stop the running scheduler");
	for (;;) {
		struct pollfd pfd = { .fd = r->go_fd, .events = POLLIN };
		int ret = poll(&pfd, 1, TURN_POLL_MS);

		if (stop_signal)
			return CZ_EXIT_OK;
		if (ret > 0)
			break;
		if ((ret < 0 && errno != EINTR) || cz_now() > deadline) {
			cz_say("no go from czctl within %d s; not attaching", TURN_TIMEOUT_S);
			return CZ_EXIT_FAIL;
		}
	}
	n = read(r->go_fd, &b, 1);
	close(r->go_fd);
	r->go_fd = -1;
	if (n != 1) {
		cz_say("czctl gave up the switch; not attaching");
		return CZ_EXIT_FAIL;
	}
	return serve_stats(r) ?: -1;
}

/* Our pid, whose threads the scheduler serves first (cz_loader_wakeup()). */
static int write_self(struct bpf_map *self)
{
	u32 zero = 0, pid = getpid();

	if (!bpf_map_update_elem(bpf_map__fd(self), &zero, &pid, BPF_ANY))
		return 0;
	cz_say("writing the loader's pid into cz_self failed: %s", strerror(errno));
	return -1;
}

/* Whether capability @cap is in the effective set @eff (capget's). */
static bool cap_in(const struct __user_cap_data_struct *eff, int cap)
{
	return eff[cap / 32].effective & (1U << (cap % 32));
}

/*
 * After @err from load or attach: " (this process lacks CAP_X; a
 * scheduler needs ...)" when it is EPERM and we lack what the kernel
 * checks, else @fallback. Read at the failure, not before, so that a
 * grant by other means (a BPF token) is not refused up front.
 */
static const char *perm_hint(int err, const char *fallback)
{
	static char hint[160];
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct eff[_LINUX_CAPABILITY_U32S_3] = {};
	bool bpf, perfmon;

	if (err != EPERM || syscall(SYS_capget, &hdr, eff) ||
	    cap_in(eff, CAP_SYS_ADMIN))
		return fallback;
	bpf = cap_in(eff, CAP_BPF);
	perfmon = cap_in(eff, CAP_PERFMON);
	if (bpf && perfmon)
		return fallback;
	snprintf(hint, sizeof(hint), " (this process lacks %s%s%s; %s)",
		 bpf ? "" : "CAP_BPF", bpf || perfmon ? "" : " and ",
		 perfmon ? "" : "CAP_PERFMON", CZ_CAPS_NEEDED);
	return hint;
}

/* Why attaching under a root can fail, as the kernel's errno says it. */
static const char *attach_hint_sub(int err)
{
	switch (err) {
	case ENODEV:
		return " (no root scheduler runs, or the cgroup went away)";
	case ENOENT:
		return " (the root refused the cgroup: for scx_zones, not one of its --zone cgroups)";
	case EBUSY:
	case EEXIST:
		return " (a scheduler already runs on this cgroup)";
	case EINVAL:
		return " (see dmesg: e.g. a cgroup the root's scheduler does not allow)";
	}
	return "";
}

/* One attach: returns a loader exit code, or -1 to re-open and re-attach. */
static int run_once(struct run *r)
{
	const struct cz_sched *s = r->sched;
	const struct cz_opts *o = r->opts;
	struct bpf_object_skeleton *skel;
	struct bpf_map *ops, *stats, *exit_map, *tunables, *self;
	struct bpf_link *link;
	double started, last, deadline;
	char seq[32], err[256];
	int ret = CZ_EXIT_FAIL;

	skel = s->open(o);
	if (!skel) {
		cz_say("opening the BPF object failed");
		return CZ_EXIT_FAIL;
	}
	ops = cz_ops_map(*skel->obj);
	stats = bpf_object__find_map_by_name(*skel->obj, "cz_stats");
	exit_map = bpf_object__find_map_by_name(*skel->obj, "cz_exit");
	tunables = bpf_object__find_map_by_name(*skel->obj, "cz_tunables");
	self = bpf_object__find_map_by_name(*skel->obj, "cz_self");
	if (!ops || !stats || !exit_map || !tunables || !self) {
		cz_say("the BPF object lacks its struct_ops, cz_stats, cz_exit, cz_tunables or cz_self map");
		goto out;
	}
	if (o->partial &&
	    cz_ops_set_u64(*skel->obj, ops, "flags", SCX_OPS_SWITCH_PARTIAL, true))
		cz_say("warning: cannot set SCX_OPS_SWITCH_PARTIAL");
	/* Lets the kernel notice CPU hotplug between here and attach. */
	if (!cz_read_line(CZ_SCX_HOTPLUG_SEQ, seq, sizeof(seq)))
		cz_ops_set_u64(*skel->obj, ops, "hotplug_seq",
			       strtoull(seq, NULL, 10), false);
	if (o->cgroup &&
	    cz_ops_set_u64(*skel->obj, ops, "sub_cgroup_id", o->cgroup_id, false)) {
		cz_say("--cgroup: the BPF object's ops have no sub_cgroup_id (not a cid-form object)");
		goto out;
	}
	bpf_map__set_autoattach(ops, false);

	if (bpf_object__load_skeleton(skel)) {
		int err = errno;

		cz_say("loading the BPF program failed: %s%s", strerror(err),
		    perm_hint(err, o->verbose ? "" : " (run with -v for the verifier log)"));
		goto out;
	}
	if (s->loaded && s->loaded())
		goto out;
	if (cz_live_write(&r->live, *skel->obj, tunables, err, sizeof(err))) {
		cz_say("%s", err);
		goto out;
	}
	if (write_self(self))
		goto out;
	if (r->ready_fd >= 0) {
		ret = await_turn(r);
		if (ret >= 0)
			goto out;
		ret = CZ_EXIT_FAIL;
	}
	link = bpf_map__attach_struct_ops(ops);
	if (!link) {
		int err = errno;

		cz_say("attaching the scheduler failed: %s%s", strerror(err),
		    perm_hint(err, o->cgroup ? attach_hint_sub(err) :
		    err == EBUSY || err == EEXIST ?
		    " (another sched_ext scheduler is running)" : ""));
		goto out;
	}
	if (bpf_object__attach_skeleton(skel)) {
		cz_say("attaching the scheduler's tracing programs failed: %s",
		    strerror(errno));
		bpf_link__destroy(link);
		goto out;
	}
	if (s->attached && s->attached()) {
		bpf_link__destroy(link);
		goto out;
	}
	cz_say("attached: ops \"%s\", stats every %gs", s->name, o->interval_s);

	started = last = cz_now();
	cz_live_attach(&r->live, *skel->obj, stats, tunables, started);
	deadline = o->duration_s ? started + o->duration_s : 0;
	memset(r->prev, 0, sizeof(u64) * s->nr_stats * r->nr_cpus);
	while (!stop_signal && !exited(bpf_map__fd(exit_map), &r->exit)) {
		struct timespec ts = { 0, POLL_MS * 1000000L };
		double t;

		nanosleep(&ts, NULL);
		t = cz_now();
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
	if (s->detached)
		s->detached();
	exited(bpf_map__fd(exit_map), &r->exit);
	cz_exit_report(stderr, cz_prog, &r->exit);

	if (!r->stopped_by_us && cz_exit_wants_restart(&r->exit)) {
		cz_say("the kernel asked for a restart; re-attaching");
		ret = -1;
	} else {
		ret = cz_exit_status(&r->exit, r->stopped_by_us);
	}
out:
	/* The server thread must be done with the map before it closes. */
	cz_live_attach(&r->live, NULL, NULL, NULL, 0);
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
		.interval_s = 1.0, .stats_socket = CZ_STATS_SOCKET_DEFAULT,
	};
	char state[64], ops[128];
	struct sigaction sa = { .sa_handler = on_signal };
	struct run r = {
		.sched = s, .opts = &opts,
		.ready_fd = -1, .go_fd = -1,
	};
	char err[256];
	int ncpus, ret;

	cz_prog = "scx";
	cz_set_prog(argv[0]);
	if (cz_live_init(&r.live, s)) {
		cz_say("out of memory");
		return CZ_EXIT_FAIL;
	}
	ret = cz_opts_parse(s, argc, argv, &opts, r.live.tunables, &r.live.rules);
	if (ret) {
		cz_live_free(&r.live);
		return ret > 0 ? CZ_EXIT_OK : CZ_EXIT_FAIL;
	}

	if (geteuid() != 0) {
		cz_say("must be run as root (" CZ_CAPS_NEEDED ")");
		return CZ_EXIT_USAGE;
	}
	if (cz_scx_now(state, sizeof(state), ops, sizeof(ops))) {
		cz_say("this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT); run the scheduler in a Control Zone (scripts/run)");
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
	if (opts.cgroup) {
		/* A sub-scheduler attaches under the running root. */
		if (!cz_kernel_has_btf_type("sched_ext_ops_cid")) {
			cz_say("--cgroup: this kernel has no sched_ext sub-schedulers (7.3 or later)");
			return CZ_EXIT_FAIL;
		}
		if (strcmp(state, "enabled")) {
			cz_say("--cgroup: no root scheduler runs (sched_ext is %s); start scx_zones first",
			       state);
			return CZ_EXIT_FAIL;
		}
	} else if (strcmp(state, "disabled") && r.ready_fd < 0) {
		cz_say("sched_ext is %s with scheduler \"%s\"; stop it first", state, ops);
		return CZ_EXIT_FAIL;
	}
	/* Before anything is loaded: another live server there is an error.
	 * Preloaded, the old scheduler's server is there until it stops. */
	if (opts.stats_socket && r.ready_fd < 0 &&
	    cz_stats_server_open(&r.srv, opts.stats_socket, err, sizeof(err))) {
		cz_say("stats socket: %s", err);
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
		cz_say("cannot read the number of possible CPUs");
		goto out;
	}
	r.nr_cpus = ncpus;
	r.vals = calloc((size_t)s->nr_stats * ncpus + 1, sizeof(u64));
	r.prev = calloc((size_t)s->nr_stats * ncpus + 1, sizeof(u64));
	if (!r.vals || !r.prev || cz_live_alloc(&r.live, ncpus)) {
		cz_say("out of memory");
		goto out;
	}
	if (r.srv && serve_stats(&r))
		goto out;
	while ((ret = run_once(&r)) < 0)
		memset(&r.exit, 0, sizeof(r.exit));
out:
	/* Stops the thread and removes the socket file. */
	cz_stats_server_close(r.srv);
	json_object_put(r.meta);
	if (r.ready_fd >= 0)
		close(r.ready_fd);
	if (r.go_fd >= 0)
		close(r.go_fd);
	free(r.vals);
	free(r.prev);
	cz_live_free(&r.live);
	return ret;
}
