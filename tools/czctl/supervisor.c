/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zone supervisor: one process per running zone, started detached by
 * `czctl zone up` as `czctl zone-supervise NAME` (the process outlives the
 * czctl that started it, as a Kata shim or a Firecracker process does).
 * It owns the zone's qemu and speaks for the zone on the host.
 *
 * `zone up` prepares everything in the state directory (zonestate.h):
 * launch.json holds qemu's argv, the host CPUs, and what must be up before
 * the zone counts as ready. The supervisor then:
 *   1. starts qemu on the zone's host CPUs, dying with the supervisor,
 *      and 2. pins each vCPU thread to one of them (zoneqemu.c);
 *   3. waits for the agent's "ready" event, then checks that the
 *      scheduler is enabled with its ops name, every service runs and
 *      every forwarded port accepts a connection from the host;
 *   4. tells `zone up` (the pipe in CZ_READY_FD: "ok", or "error" and the
 *      reason with the console's last lines, after which it removes
 *      everything and exits) and serves: control.sock (requests relayed to
 *      the agent), stats (the zone's stats socket, relayed line by line),
 *      the agent's events (to events.log).
 * When qemu exits, for whatever reason, the zone is dead: state.json says
 * why, with the console's last lines, the sockets go, and the supervisor
 * exits, leaving no process behind; the directory stays for `zone status`
 * until the next `zone up` or `zone down` of that name.
 *
 * Key choices:
 * - One thread, one poll loop; requests to the agent carry ids of the
 *   supervisor's own, mapped back to the asking client and its id, with a
 *   deadline each, so an agent that does not answer gives a timeout error
 *   naming the zone, never a hang.
 * - The host-side stats socket speaks scx_stats unchanged: each request
 *   line goes to the agent, which asks the zone's scheduler and returns
 *   the reply line as it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "autoswitch.h"
#include "cli.h"
#include "cz_lines.h"
#include "cz_util.h"
#include "czctl.h"
#include "zoneqemu.h"
#include "zonestate.h"

enum {
	LINE_MAX_BYTES	= 1024 * 1024,
	MAX_CLIENTS	= 32,
	MAX_PENDING	= 256,
	CONNECT_S	= 15,		/* qemu's sockets appear */
	REQ_TIMEOUT_S	= 30,		/* an agent request, but exec */
	EXEC_SLACK_S	= 10,		/* on top of an exec's own timeout */
	DOWN_S		= 60,		/* shutdown to qemu's exit */
	CONSOLE_TAIL	= 12,
	READY_GRACE_S	= 2,		/* services must stay up this long */
	WRITE_MS	= 5000,
};

enum client_kind { CL_NONE, CL_CONTROL, CL_STATS };

struct client {
	enum client_kind	kind;
	int			fd;
	unsigned int		gen;	/* tells a reused slot from its old self */
	struct cz_lines		in;
	bool			eof;	/* it shut down its side: answer, then drop */
};

struct pending {
	bool		used;
	long long	id;		/* ours, to the agent */
	int		client;
	unsigned int	gen;
	long long	client_id;	/* theirs; stats: unused */
	double		deadline;
	bool		down;		/* the shutdown of `zone down` */
	sup_done_fn	done;		/* the supervisor's own (client -1) */
	struct json_object *sched;	/* a client's "sched" args, for autoswitch */
};

static struct {
	const char		*name;
	char			dir[256];
	struct json_object	*launch;
	struct json_object	*state;
	pid_t			qemu;
	int			agent;
	struct cz_lines		agent_in;
	int			ctl_lfd;
	int			stats_lfd;
	int			sfd;
	int			ready_fd;
	struct client		clients[MAX_CLIENTS];
	struct pending		pending[MAX_PENDING];
	long long		next_id;
	struct json_object	*hello;		/* the agent's ready event */
	char			trouble[512];	/* before running: a service or the
						 * scheduler that went down */
	bool			running;	/* ready: what happens is events */
	bool			stopping;
	double			down_deadline;
} S = { .agent = -1, .ctl_lfd = -1, .stats_lfd = -1, .ready_fd = -1 };

/* S.dir/@file into @buf; -1 (and "") if it does not fit. */
static int path_of(const char *file, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", S.dir, file);

	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

static void set_state(const char *state, const char *why)
{
	json_object_object_add(S.state, "state", json_object_new_string(state));
	if (why)
		json_object_object_add(S.state, "why", json_object_new_string(why));
	if (zone_state_write(S.name, S.state))
		cz_say("zone %s: writing state.json failed: %s", S.name, strerror(errno));
}

/* The console's last @n lines, each indented, into a new string. */
static char *console_tail(int n)
{
	char path[512], *buf, *out, *p;
	size_t len = 64 * 1024;
	off_t size;
	ssize_t got;
	int fd, lines = 0;

	path_of("console.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	buf = calloc(1, len + 1);
	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return strdup("  (no console output)");
	}
	size = lseek(fd, 0, SEEK_END);
	got = pread(fd, buf, len, size > (off_t)len ? size - (off_t)len : 0);
	close(fd);
	buf[got > 0 ? got : 0] = '\0';
	/* Back from the end over @n non-empty lines. */
	p = buf + strlen(buf);
	while (p > buf && (p[-1] == '\n' || p[-1] == '\r'))
		*--p = '\0';
	while (p > buf && lines < n) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	out = malloc(2 * strlen(p) + 8);
	if (out) {
		char *o = out;

		*o++ = ' ';
		*o++ = ' ';
		for (; *p; p++) {
			if (*p == '\r')
				continue;
			*o++ = *p;
			if (*p == '\n') {
				*o++ = ' ';
				*o++ = ' ';
			}
		}
		*o = '\0';
	}
	free(buf);
	return out ?: strdup("");
}

/* ---- sending to the agent and to clients ---- */

static int send_line(int fd, struct json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	int ret = cz_write_all(fd, s, n, WRITE_MS);

	return ret ?: cz_write_all(fd, "\n", 1, WRITE_MS);
}

static void drop_client(int i)
{
	struct client *c = &S.clients[i];

	close(c->fd);
	cz_lines_free(&c->in);
	c->kind = CL_NONE;
	c->eof = false;
	c->gen++;
}

/* Requests of client @ci still waiting for the agent. */
static int pending_of(int ci)
{
	int n = 0;

	for (int i = 0; i < MAX_PENDING; i++)
		n += S.pending[i].used && S.pending[i].client == ci &&
		     S.pending[i].gen == S.clients[ci].gen;
	return n;
}

/*
 * After an answer: a client that has shut down its side (as scx_stats
 * clients may, after their last request) goes once nothing is owed.
 */
static void maybe_drop(int ci, unsigned int gen)
{
	if (S.clients[ci].kind != CL_NONE && S.clients[ci].gen == gen &&
	    S.clients[ci].eof && !pending_of(ci))
		drop_client(ci);
}

/* An answer to a control client: {"id":ID,"errno":E,...}. */
static void answer(int ci, unsigned int gen, long long id, int err,
		   const char *error, struct json_object *resp)
{
	struct client *c = &S.clients[ci];
	struct json_object *o;

	if (c->kind != CL_CONTROL || c->gen != gen) {
		json_object_put(resp);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "errno", json_object_new_int(err));
	if (err)
		json_object_object_add(o, "error", json_object_new_string(error ?: strerror(err)));
	else
		json_object_object_add(o, "resp", resp ?: json_object_new_object());
	if (err)
		json_object_put(resp);
	if (send_line(c->fd, o))
		drop_client(ci);
	json_object_put(o);
}

/* A stats client's reply line, or an scx_stats error reply. */
static void answer_stats(int ci, unsigned int gen, const char *line, int err,
			 const char *error)
{
	struct client *c = &S.clients[ci];
	struct json_object *o = NULL;
	int ret;

	if (c->kind != CL_STATS || c->gen != gen)
		return;
	if (!line) {
		struct json_object *args = json_object_new_object();

		o = json_object_new_object();
		json_object_object_add(o, "errno", json_object_new_int(err));
		json_object_object_add(args, "resp", json_object_new_string(error));
		json_object_object_add(o, "args", args);
		ret = send_line(c->fd, o);
		json_object_put(o);
	} else {
		ret = cz_write_all(c->fd, line, strlen(line), WRITE_MS) ?:
		      cz_write_all(c->fd, "\n", 1, WRITE_MS);
	}
	if (ret)
		drop_client(ci);
}

/*
 * Send request @req (@args taken over) to the agent on behalf of client
 * @ci. 0, or an errno.
 */
static int to_agent(const char *req, struct json_object *args, int ci,
		    long long client_id, double timeout_s, bool down)
{
	struct json_object *o;
	struct pending *p = NULL;
	int ret;

	for (int i = 0; i < MAX_PENDING && !p; i++)
		if (!S.pending[i].used)
			p = &S.pending[i];
	if (!p || S.agent < 0) {
		json_object_put(args);
		return p ? ENOTCONN : EBUSY;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(++S.next_id));
	json_object_object_add(o, "req", json_object_new_string(req));
	if (args)
		json_object_object_add(o, "args", args);
	ret = send_line(S.agent, o);
	json_object_put(o);
	if (ret)
		return errno ?: EIO;
	*p = (struct pending){
		.used = true, .id = S.next_id, .client = ci,
		.gen = ci >= 0 ? S.clients[ci].gen : 0,
		.client_id = client_id, .deadline = cz_now() + timeout_s,
		.down = down,
	};
	return 0;
}

/* The pending request just sent. */
static struct pending *last_sent(void)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (S.pending[i].used && S.pending[i].id == S.next_id)
			return &S.pending[i];
	return NULL;
}

int sup_request(const char *req, struct json_object *args, double timeout_s,
		sup_done_fn done)
{
	int err = to_agent(req, args, -1, 0, timeout_s, false);

	if (!err)
		last_sent()->done = done;
	return err;
}

/* A pending request is over: its waiter (the supervisor's, or autoswitch
 * for a client's switch) hears how it went. */
static void settle(struct pending *p, int err, const char *error,
		   struct json_object *resp)
{
	if (p->done)
		p->done(err, error, resp);
	if (p->sched)
		auto_manual_done(p->sched, !err && !zs_int(resp, "status"));
	json_object_put(p->sched);
	p->sched = NULL;
	p->done = NULL;
	p->used = false;
}

/* ---- qemu (zoneqemu.c) ---- */

static int start_qemu(char *err, size_t errlen)
{
	struct json_object *argv = NULL;
	char log[512];

	json_object_object_get_ex(S.launch, "qemu", &argv);
	path_of("qemu.log", log, sizeof(log));
	S.qemu = zq_start(argv, zs_str(S.launch, "host_cpus"), log, err, errlen);
	if (S.qemu < 0)
		return -1;
	json_object_object_add(S.state, "qemu", json_object_new_int(S.qemu));
	return 0;
}

static int pin_vcpus(char *err, size_t errlen)
{
	struct json_object *pins = NULL;
	char path[512];

	path_of("qmp.sock", path, sizeof(path));
	if (zq_pin_vcpus(path, S.qemu, zs_str(S.launch, "host_cpus"), &pins,
			 err, errlen))
		return -1;
	if (pins)
		json_object_object_add(S.state, "pinning", pins);
	return 0;
}

/* ---- readiness ---- */

static bool port_accepts(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	inet_pton(AF_INET, strcmp(addr, "0.0.0.0") ? addr : "127.0.0.1", &sa.sin_addr);
	ok = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ok;
}

/*
 * What the ready event says against what launch.json wants: NULL if the
 * zone is up, else why not (static).
 */
static const char *not_ready(struct json_object *hello, char *why, size_t len)
{
	struct json_object *sched = NULL, *svcs = NULL;
	const char *want = zs_str(S.launch, "sched");

	json_object_object_get_ex(hello, "scheduler", &sched);
	if (*want && (strcmp(zs_str(sched, "state"), "enabled") ||
		      strcmp(zs_str(sched, "ops"), want + 4))) {
		snprintf(why, len, "the scheduler %s is not running in the zone (sched_ext %s, ops %s)",
			 want, zs_str(sched, "state"), zs_str(sched, "ops"));
		return why;
	}
	json_object_object_get_ex(hello, "services", &svcs);
	for (size_t i = 0; svcs && i < json_object_array_length(svcs); i++) {
		struct json_object *s = json_object_array_get_idx(svcs, i);

		if (strcmp(zs_str(s, "state"), "running")) {
			snprintf(why, len, "service %s is not running (%s)",
				 zs_str(s, "name"), *zs_str(s, "last_exit") ?
				 zs_str(s, "last_exit") : zs_str(s, "state"));
			return why;
		}
	}
	return NULL;
}

/* Every forwarded port accepts a connection, by @deadline. */
static const char *ports_closed(double deadline, char *why, size_t len)
{
	struct json_object *ports = NULL;

	json_object_object_get_ex(S.launch, "ports", &ports);
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);

		while (!port_accepts(zs_str(p, "addr"), zs_int(p, "host"))) {
			if (cz_now() > deadline || waitpid(S.qemu, NULL, WNOHANG) == S.qemu) {
				snprintf(why, len, "port %s:%lld (service %s, zone port %lld) does not accept connections",
					 zs_str(p, "addr"), zs_int(p, "host"),
					 zs_str(p, "service"), zs_int(p, "guest"));
				return why;
			}
			cz_sleep(0.2);
		}
	}
	return NULL;
}

/* Tell `zone up`; then it stops waiting. */
static void tell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tell(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	if (S.ready_fd < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cz_write_all(S.ready_fd, buf, strlen(buf), WRITE_MS);
	close(S.ready_fd);
	S.ready_fd = -1;
}

/* ---- the serving loop ---- */

static int listen_unix(const char *file, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	char path[sizeof(sa.sun_path)];

	if (path_of(file, path, sizeof(path))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, sizeof(path));
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, mode) || listen(fd, 16)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void accept_client(int lfd, enum client_kind kind)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &S.clients[i];

		if (c->kind != CL_NONE)
			continue;
		c->kind = kind;
		c->fd = fd;
		cz_lines_init(&c->in, LINE_MAX_BYTES);
		return;
	}
	close(fd);
}

/* One line of events.log: @o with the time, the zone and the source. */
static void write_event(struct json_object *o, const char *source)
{
	struct json_object *line = json_object_new_object();
	char path[512];
	FILE *f;

	json_object_object_add(line, "time", json_object_new_double(cz_wall()));
	json_object_object_add(line, "zone", json_object_new_string(S.name));
	json_object_object_add(line, "source", json_object_new_string(source));
	json_object_object_foreach(o, k, v)
		if (strcmp(k, "time") && strcmp(k, "zone") && strcmp(k, "source"))
			json_object_object_add(line, k, json_object_get(v));
	path_of("events.log", path, sizeof(path));
	f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s\n", json_object_to_json_string_ext(line,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		fclose(f);
	}
	json_object_put(line);
}

void sup_event(const char *event, struct json_object *fields)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_foreach(fields, k, v)
		json_object_object_add(o, k, json_object_get(v));
	write_event(o, "supervisor");
	json_object_put(o);
	json_object_put(fields);
}

/* Requests a control client may make: relayed, or answered here. */
static void control_request(int ci, const char *line)
{
	struct json_object *o = json_tokener_parse(line), *args = NULL, *v;
	const char *req;
	long long id;
	double timeout = REQ_TIMEOUT_S;
	int err;

	if (!o || !json_object_object_get_ex(o, "id", &v)) {
		answer(ci, S.clients[ci].gen, -1, EINVAL,
		       "a request is {\"id\": N, \"req\": NAME, \"args\": {...}}", NULL);
		json_object_put(o);
		return;
	}
	id = json_object_get_int64(v);
	req = zs_str(o, "req");
	json_object_object_get_ex(o, "args", &args);
	if (!strcmp(req, "state")) {
		answer(ci, S.clients[ci].gen, id, 0, NULL, json_object_get(S.state));
	} else if (!strcmp(req, "down")) {
		S.stopping = true;
		S.down_deadline = cz_now() + DOWN_S;
		set_state("stopping", NULL);
		err = to_agent("shutdown", NULL, ci, id, DOWN_S, true);
		/* No agent to ask: stop qemu at once (and answer when it is gone). */
		if (err) {
			for (int i = 0; i < MAX_PENDING; i++) {
				if (S.pending[i].used)
					continue;
				S.pending[i] = (struct pending){
					.used = true, .client = ci, .gen = S.clients[ci].gen,
					.client_id = id, .down = true,
				};
				break;
			}
			kill(S.qemu, SIGTERM);
		}
	} else if (!strcmp(req, "auto")) {
		const char *msg = NULL;
		struct json_object *resp;

		err = 0;
		resp = auto_request(args, &err, &msg);
		answer(ci, S.clients[ci].gen, id, err, msg, resp);
	} else if (!strcmp(req, "exec") || !strcmp(req, "sched") ||
		   !strcmp(req, "services") || !strcmp(req, "service") ||
		   !strcmp(req, "hello") || !strcmp(req, "logs") ||
		   !strcmp(req, "metrics")) {
		if (!strcmp(req, "exec") || !strcmp(req, "sched"))
			timeout = (zs_int(args, "timeout_s") ?: 600) + EXEC_SLACK_S;
		err = to_agent(req, json_object_get(args), ci, id, timeout, false);
		if (err) {
			answer(ci, S.clients[ci].gen, id, err,
			       err == ENOTCONN ? "the zone's agent is not connected" : NULL,
			       NULL);
		} else if (!strcmp(req, "sched")) {
			/* A switch by hand holds automation (autoswitch.c). */
			auto_manual();
			last_sent()->sched = json_object_get(args);
		}
	} else {
		answer(ci, S.clients[ci].gen, id, EINVAL, "unknown request", NULL);
	}
	json_object_put(o);
}

static void stats_request(int ci, const char *line)
{
	struct json_object *args = json_object_new_object();
	int err;

	json_object_object_add(args, "line", json_object_new_string(line));
	err = to_agent("stats", args, ci, 0, REQ_TIMEOUT_S, false);
	if (err)
		answer_stats(ci, S.clients[ci].gen, NULL, err,
			     "the zone's agent is not connected");
}

/*
 * Before the zone runs, an event that a service exited or the scheduler
 * did not come (back) up is why it is not ready.
 */
static void note_trouble(const char *event, struct json_object *o)
{
	const char *state = zs_str(o, "state");

	if (!strcmp(event, "service") && strcmp(state, "restarted"))
		snprintf(S.trouble, sizeof(S.trouble), "service %s is not running (%s)",
			 zs_str(o, "name"), *zs_str(o, "why") ? zs_str(o, "why") : state);
	else if (!strcmp(event, "scheduler") && strcmp(state, "restarted"))
		snprintf(S.trouble, sizeof(S.trouble),
			 "the scheduler %s is not running in the zone (%s%s%s)",
			 zs_str(o, "name"), state, *zs_str(o, "why") ? ": " : "",
			 zs_str(o, "why"));
}

/* A line from the agent: an event, or the reply to a pending request. */
static void agent_line(const char *line)
{
	struct json_object *o = json_tokener_parse(line), *v, *resp = NULL;
	struct pending *p = NULL;
	long long id;
	int err;

	if (!o)
		return;
	if (json_object_object_get_ex(o, "event", &v)) {
		/* Samples feed automation; once a second, they are not news. */
		if (!strcmp(json_object_get_string(v), "sample")) {
			auto_sample(o);
			json_object_put(o);
			return;
		}
		write_event(o, "agent");
		if (!strcmp(json_object_get_string(v), "ready") && !S.hello)
			S.hello = json_object_get(o);
		else if (!S.running && !S.trouble[0])
			note_trouble(json_object_get_string(v), o);
		json_object_put(o);
		return;
	}
	id = zs_int(o, "id");
	for (int i = 0; i < MAX_PENDING && !p; i++)
		if (S.pending[i].used && S.pending[i].id == id)
			p = &S.pending[i];
	if (!p) {
		json_object_put(o);
		return;
	}
	/* `zone down` is answered once qemu is gone (qemu_gone). */
	if (p->down) {
		json_object_put(o);
		return;
	}
	err = zs_int(o, "errno");
	json_object_object_get_ex(o, "resp", &resp);
	if (p->client < 0) {
		settle(p, err, zs_str(o, "error"), resp);
		json_object_put(o);
		return;
	}
	if (S.clients[p->client].kind == CL_STATS)
		answer_stats(p->client, p->gen, err ? NULL : zs_str(resp, "line"),
			     err, zs_str(o, "error"));
	else
		answer(p->client, p->gen, p->client_id, err, zs_str(o, "error"),
		       json_object_get(resp));
	settle(p, err, zs_str(o, "error"), resp);
	maybe_drop(p->client, p->gen);
	json_object_put(o);
}

static void expire_pending(void)
{
	char why[256];

	snprintf(why, sizeof(why), "zone %s: the agent did not answer in time", S.name);
	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &S.pending[i];

		if (!p->used || cz_now() < p->deadline || p->down)
			continue;
		if (p->client < 0) {
			settle(p, ETIMEDOUT, why, NULL);
			continue;
		}
		if (S.clients[p->client].kind == CL_STATS)
			answer_stats(p->client, p->gen, NULL, ETIMEDOUT, why);
		else
			answer(p->client, p->gen, p->client_id, ETIMEDOUT, why, NULL);
		settle(p, ETIMEDOUT, why, NULL);
		maybe_drop(p->client, p->gen);
	}
}

/* qemu is gone: the zone is dead (or down). Never returns. */
static void qemu_gone(int status)
{
	char why[256], *tail;
	const char *sock[] = { "control.sock", "stats", "qmp.sock", "agent.sock" };

	strcpy(why, "qemu ");
	cz_wait_text(status, why + 5, sizeof(why) - 5);
	if (S.stopping) {
		/* zone down: remove everything, then answer the one who asked. */
		zone_remove(S.name);
		for (int i = 0; i < MAX_PENDING; i++)
			if (S.pending[i].used && S.pending[i].down)
				answer(S.pending[i].client, S.pending[i].gen,
				       S.pending[i].client_id, 0, NULL, NULL);
		exit(CZ_EXIT_OK);
	}
	tail = console_tail(CONSOLE_TAIL);
	json_object_object_add(S.state, "console_tail", json_object_new_string(tail));
	json_object_object_add(S.state, "died", json_object_new_double(cz_wall()));
	set_state("dead", why);
	tell("error zone %s: %s; the console's last lines:\n%s\n", S.name, why, tail);
	free(tail);
	for (size_t i = 0; i < sizeof(sock) / sizeof(sock[0]); i++) {
		char path[512];

		path_of(sock[i], path, sizeof(path));
		unlink(path);
	}
	exit(CZ_EXIT_FAIL);
}

static void serve(void)
{
	struct pollfd pfd[4 + MAX_CLIENTS];
	int who[4 + MAX_CLIENTS];

	for (;;) {
		int n = 0, status;

		pfd[n] = (struct pollfd){ .fd = S.sfd, .events = POLLIN };
		who[n++] = -1;
		if (S.agent >= 0) {
			pfd[n] = (struct pollfd){ .fd = S.agent, .events = POLLIN };
			who[n++] = -2;
		}
		pfd[n] = (struct pollfd){ .fd = S.ctl_lfd, .events = POLLIN };
		who[n++] = -3;
		pfd[n] = (struct pollfd){ .fd = S.stats_lfd, .events = POLLIN };
		who[n++] = -4;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			if (S.clients[i].kind == CL_NONE || S.clients[i].eof)
				continue;
			pfd[n] = (struct pollfd){ .fd = S.clients[i].fd, .events = POLLIN };
			who[n++] = i;
		}
		if (poll(pfd, n, 500) < 0 && errno != EINTR)
			cz_sleep(0.1);
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (who[i] == -1) {
				struct signalfd_siginfo si;

				while (read(S.sfd, &si, sizeof(si)) == sizeof(si))
					if (si.ssi_signo == SIGTERM) {
						kill(S.qemu, SIGKILL);
					}
			} else if (who[i] == -2) {
				char *line;
				int r = cz_lines_fill(&S.agent_in, S.agent);

				while ((line = cz_lines_next(&S.agent_in)))
					agent_line(line);
				if (r <= 0) {
					close(S.agent);
					S.agent = -1;
				}
			} else if (who[i] == -3) {
				accept_client(S.ctl_lfd, CL_CONTROL);
			} else if (who[i] == -4) {
				accept_client(S.stats_lfd, CL_STATS);
			} else {
				int ci = who[i];
				struct client *c = &S.clients[ci];
				unsigned int gen = c->gen;
				int r = cz_lines_fill(&c->in, c->fd);
				char *line;

				while (c->kind != CL_NONE && c->gen == gen &&
				       (line = cz_lines_next(&c->in))) {
					if (c->kind == CL_CONTROL)
						control_request(ci, line);
					else
						stats_request(ci, line);
				}
				if (r <= 0 && c->kind != CL_NONE && c->gen == gen) {
					c->eof = true;
					maybe_drop(ci, gen);
				}
			}
		}
		if (waitpid(S.qemu, &status, WNOHANG) == S.qemu)
			qemu_gone(status);
		if (S.stopping && cz_now() > S.down_deadline) {
			/* The guest did not power off: make it. */
			kill(S.qemu, SIGKILL);
			S.down_deadline = cz_now() + DOWN_S;
		}
		expire_pending();
	}
}

/* ---- start-up ---- */

static void fail_start(const char *why);

/*
 * Read the agent's lines (its events) until @until, or until its ready
 * event when @want_ready; fail the start if qemu ends, the port breaks,
 * or (@want_ready) the time runs out.
 */
static void pump_agent(double until, bool want_ready)
{
	char why[256];

	while (!(want_ready && S.hello)) {
		struct pollfd p = { .fd = S.agent, .events = POLLIN };
		char *line;
		int status;

		if (waitpid(S.qemu, &status, WNOHANG) == S.qemu) {
			S.qemu = 0;
			strcpy(why, "qemu ");
			cz_wait_text(status, why + 5, sizeof(why) - 5);
			strcat(why, " before the zone was ready");
			fail_start(why);
		}
		if (cz_now() > until) {
			if (want_ready)
				fail_start("the zone's agent did not report ready in time");
			return;
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		if (cz_lines_fill(&S.agent_in, S.agent) < 0)
			fail_start("reading the agent's port failed");
		while ((line = cz_lines_next(&S.agent_in)))
			agent_line(line);
	}
}

static void fail_start(const char *why)
{
	char *tail = console_tail(CONSOLE_TAIL);

	tell("error zone %s: %s; the console's last lines:\n%s\n", S.name, why, tail);
	free(tail);
	if (S.qemu > 0) {
		kill(S.qemu, SIGKILL);
		waitpid(S.qemu, NULL, 0);
	}
	zone_remove(S.name);
	exit(CZ_EXIT_FAIL);
}

int cmd_supervise(int argc, char **argv)
{
	char path[512], err[1024], why[1024];
	const char *env = getenv("CZ_READY_FD");
	double deadline;
	sigset_t mask;
	int fd;

	if (argc != 2)
		return usage_error("%s takes a zone name (it is czctl zone up's)", CZ_SUPERVISE);
	S.name = argv[1];
	if (zone_file(S.name, NULL, S.dir, sizeof(S.dir)))
		return CZ_EXIT_USAGE;
	cz_prog = "cz-zone";
	prctl(PR_SET_NAME, "cz-zone");
	S.ready_fd = env ? atoi(env) : -1;
	unsetenv("CZ_READY_FD");
	/* qemu must not hold it: `zone up` waits for its end. */
	if (S.ready_fd >= 0)
		fcntl(S.ready_fd, F_SETFD, FD_CLOEXEC);

	path_of("supervisor.log", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	path_of("launch.json", path, sizeof(path));
	S.launch = json_object_from_file(path);
	S.state = json_object_new_object();
	if (!S.launch || !S.state)
		fail_start("launch.json is missing or damaged");
	json_object_object_add(S.state, "name", json_object_new_string(S.name));
	json_object_object_add(S.state, "supervisor", json_object_new_int(getpid()));
	json_object_object_add(S.state, "started", json_object_new_double(cz_wall()));
	json_object_object_add(S.state, "host_cpus",
			       json_object_new_string(zs_str(S.launch, "host_cpus")));
	json_object_object_add(S.state, "vcpus",
			       json_object_new_int(zs_int(S.launch, "vcpus")));
	json_object_object_add(S.state, "sched",
			       json_object_new_string(zs_str(S.launch, "sched")));
	set_state("starting", NULL);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	S.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	S.ctl_lfd = listen_unix("control.sock", 0600);
	S.stats_lfd = listen_unix("stats", 0600);
	if (S.sfd < 0 || S.ctl_lfd < 0 || S.stats_lfd < 0)
		fail_start("cannot create the zone's sockets");

	if (start_qemu(err, sizeof(err)))
		fail_start(err);
	set_state("starting", NULL);
	if (pin_vcpus(err, sizeof(err)))
		fail_start(err);
	path_of("agent.sock", path, sizeof(path));
	S.agent = zq_connect(path, S.qemu, CONNECT_S);
	if (S.agent < 0)
		fail_start("cannot connect to the agent's port (qemu did not start?)");
	fcntl(S.agent, F_SETFL, O_NONBLOCK);
	cz_lines_init(&S.agent_in, LINE_MAX_BYTES);

	deadline = cz_now() + (zs_int(S.launch, "ready_timeout_s") ?: 600);
	pump_agent(deadline, true);
	if (not_ready(S.hello, why, sizeof(why)) ||
	    ports_closed(deadline, why, sizeof(why)))
		fail_start(why);
	/*
	 * Still up READY_GRACE_S later: a service that starts and dies at
	 * once (a bad argument, a missing file) must not pass for a running
	 * one. The agent says so in an event.
	 */
	pump_agent(cz_now() + READY_GRACE_S, false);
	if (S.trouble[0])
		fail_start(S.trouble);
	path_of("zone.yaml", path, sizeof(path));
	if (auto_start(path, err, sizeof(err)))
		fail_start(err);
	S.running = true;
	set_state("running", NULL);
	tell("ok\n");
	serve();
	return CZ_EXIT_OK;
}
