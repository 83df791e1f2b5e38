/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-agent: the agent inside a Control Zone. The zone's /init starts it;
 * it starts the zone's scheduler and services, keeps them running, and
 * answers the zone supervisor on the host over one virtio-serial port.
 *
 *   cz-agent [--config FILE] [PORT]     (-h: usage, -v: version)
 *
 * PORT defaults to the virtio-serial port named cz.agent (udev's
 * /dev/virtio-ports/cz.agent; without udev, the /dev/vportNpM whose
 * sysfs name says so), FILE to /cz/zone.json (the zone file's scheduler
 * and services, written by `czctl zone up`).
 *
 * Protocol, one JSON object per line each way:
 *   request  {"id":N,"req":NAME,"args":{...}}
 *   reply    {"id":N,"errno":0,"resp":VALUE} or {"id":N,"errno":E,"error":"why"}
 *   event    {"event":NAME,...}: ready, service, scheduler, and every
 *            second sample (sample.h: the zone's signals)
 * Requests: hello; exec {argv, timeout_s}; sched {op: start|stop|switch,
 * name, args}; services; service {op: start|stop|restart, name}; stats
 * {line} (relayed to the zone's stats socket); metrics; logs {service,
 * bytes}; shutdown.
 *
 * Key choices:
 * - One thread and one poll loop: the port, a signalfd for SIGCHLD and
 *   SIGTERM, a 1 s timer, and the output pipes of running commands. An
 *   exec that takes minutes does not hold up anything else; replies carry
 *   the request's id, so they may come in any order.
 * - The scheduler is run through the zone's czctl (start, stop, switch),
 *   so a switch here is the same transactional switch, with its preload
 *   and rollback, as anywhere else. The kernel's sysfs says whether it
 *   still runs; a scheduler that is gone is started again, at most
 *   SCHED_RETRIES times in a row, each restart an event.
 * - Services are children with their output appended to
 *   /run/controlzone/services/NAME.log; restart on-failure or always, with
 *   a backoff that doubles from 1 s to 30 s and resets once a service has
 *   run for 30 s. Each exit and restart is an event.
 * - A scheduler or service from an OCI image has the image's files in a
 *   directory of its own (its "root" in the config) and runs chrooted
 *   there: the image's libraries, the zone's kernel interfaces (mounted
 *   in at the start). The image's scheduler is named, so that whoever
 *   starts or switches to that name (the file, a rule, a manual switch)
 *   gets it from the image (czctl --root).
 * - The agent is the zone's child subreaper, so loaders that czctl
 *   detached are reaped here and never linger as zombies.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "cz_lines.h"
#include "cz_stats_proto.h"
#include "cz_util.h"
#include "sample.h"

#define PORT_NAME	"cz.agent"
#define PORT_DEFAULT	"/dev/virtio-ports/" PORT_NAME
#define PORTS_SYSFS	"/sys/class/virtio-ports"
#define CONFIG_DEFAULT	"/cz/zone.json"
#define LOG_DIR		"/run/controlzone/services"

enum {
	LINE_MAX_BYTES	= 1024 * 1024,
	OUT_MAX		= 1024 * 1024,	/* stdout or stderr kept per exec */
	WRITE_MS	= 10000,
	MAX_JOBS	= 64,
	EXEC_TIMEOUT_S	= 600,
	SCHED_RETRIES	= 5,
	BACKOFF_MIN_S	= 1,
	BACKOFF_MAX_S	= 30,
	STABLE_S	= 30,		/* a run this long resets the backoff */
	STOP_GRACE_S	= 5,
	STATS_TIMEOUT_S	= 5,
	SAMPLE_STATS_MS	= 300,
	POLL_MS		= 200,		/* the runnable count's polls */
	LOG_TAIL_MAX	= 64 * 1024,
};

enum restart { RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_NO };

struct service {
	char		*name;
	char		*root;		/* its image's files; NULL: the zone's */
	char		**argv;
	char		**env;		/* added to the agent's environment */
	enum restart	restart;
	pid_t		pid;		/* 0: not running */
	bool		wanted;		/* should run (stop clears it) */
	int		restarts;
	int		last_status;	/* wait status of the last exit */
	double		started;
	double		next_start;	/* when a restart is due; 0: none */
	int		backoff_s;
};

struct job;
typedef void (*job_done_fn)(struct job *j);

/* A command whose output and status are collected. */
struct job {
	bool		used;
	pid_t		pid;
	int		fd[2];		/* stdout, stderr; -1 once closed */
	char		*out[2];
	size_t		len[2];
	bool		exited;
	int		status;
	double		deadline;
	long long	id;		/* request to answer; -1: internal */
	job_done_fn	done;		/* internal: called instead of a reply */
};

static struct {
	int			port;
	struct cz_lines		in;
	struct service		*svc;
	unsigned int		nr_svc;
	char			*sched;		/* wanted scheduler, or NULL */
	char			*image_sched;	/* the scheduler run from an image */
	char			*image_root;	/* and that image's files */
	char			**sched_args;
	char			*prev_sched;	/* during a change: what ran before */
	char			**prev_args;
	int			sched_fails;	/* restarts in a row */
	bool			sched_busy;	/* a czctl run is going on */
	bool			sched_failed;	/* gave up restarting it */
	bool			ready_sent;
	bool			shutting_down;
	bool			exit_now;	/* shutdown answered */
	struct job		jobs[MAX_JOBS];
} A = { .port = -1 };

/* ---- sending ---- */

static void send_obj(struct json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	char *line = malloc(n + 1);

	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		/* A host that does not read for WRITE_MS loses this line. */
		if (cz_write_all(A.port, line, n + 1, WRITE_MS))
			cz_say("writing to the supervisor failed: %s", strerror(errno));
		free(line);
	}
	json_object_put(o);
}

static void reply(long long id, struct json_object *resp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "errno", json_object_new_int(0));
	json_object_object_add(o, "resp", resp ?: json_object_new_object());
	send_obj(o);
}

static void reply_err(long long id, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(long long id, int err, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "error", json_object_new_string(msg));
	send_obj(o);
}

/* An event: {"event":NAME, ...@fields}. Takes over @fields. */
static void event(const char *name, struct json_object *fields)
{
	struct json_object *o = fields ?: json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(name));
	send_obj(o);
}

/* A shell-like exit code: the status, or 128 + the signal. */
static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* ---- jobs: commands with collected output ---- */

static struct job *job_start(char *const argv[], long long id, double timeout_s,
			     job_done_fn done)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, devnull;
	struct job *j = NULL;
	pid_t pid;

	for (int i = 0; i < MAX_JOBS && !j; i++)
		if (!A.jobs[i].used)
			j = &A.jobs[i];
	if (!j) {
		errno = EBUSY;
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (!pid) {
		cz_child_signals();
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		setsid();
		execvp(argv[0], argv);
		dprintf(2, "cz-agent: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	memset(j, 0, sizeof(*j));
	j->used = true;
	j->pid = pid;
	j->fd[0] = out[0];
	j->fd[1] = err[0];
	j->id = id;
	j->done = done;
	j->deadline = cz_now() + timeout_s;
	return j;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return NULL;
}

static void job_read(struct job *j, int k)
{
	char buf[16384];
	ssize_t n = read(j->fd[k], buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(j->fd[k]);
		j->fd[k] = -1;
		return;
	}
	if (j->len[k] + n > OUT_MAX)
		n = OUT_MAX - j->len[k];	/* keep the beginning */
	if (n > 0) {
		char *p = realloc(j->out[k], j->len[k] + n + 1);

		if (!p)
			return;
		memcpy(p + j->len[k], buf, n);
		j->len[k] += n;
		p[j->len[k]] = '\0';
		j->out[k] = p;
	}
}

static const char *job_text(const struct job *j, int k)
{
	return j->out[k] ?: "";
}

static void job_free(struct job *j)
{
	for (int k = 0; k < 2; k++) {
		if (j->fd[k] >= 0)
			close(j->fd[k]);
		free(j->out[k]);
	}
	memset(j, 0, sizeof(*j));
}

/* Done when the child is reaped and both pipes are at end of file. */
static void job_check(struct job *j)
{
	struct json_object *resp;

	if (!j->used || !j->exited || j->fd[0] >= 0 || j->fd[1] >= 0)
		return;
	if (j->done) {
		j->done(j);
	} else if (j->id >= 0) {
		resp = json_object_new_object();
		json_object_object_add(resp, "status", json_object_new_int(exit_code(j->status)));
		json_object_object_add(resp, "stdout", json_object_new_string(job_text(j, 0)));
		json_object_object_add(resp, "stderr", json_object_new_string(job_text(j, 1)));
		reply(j->id, resp);
	}
	job_free(j);
}

/* ---- services ---- */

static struct service *service_by_name(const char *name)
{
	for (unsigned int i = 0; i < A.nr_svc; i++)
		if (!strcmp(A.svc[i].name, name))
			return &A.svc[i];
	return NULL;
}

static int service_start(struct service *s)
{
	char log[256];
	int fd;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/%s.log", LOG_DIR, s->name);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -1;
	}
	if (!pid) {
		int devnull = open("/dev/null", O_RDONLY);

		cz_child_signals();
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setsid();
		for (char **e = s->env; e && *e; e++)
			putenv(*e);
		if (s->root && (chroot(s->root) || chdir("/"))) {
			dprintf(2, "cz-agent: cannot enter %s: %s\n", s->root, strerror(errno));
			_exit(127);
		}
		execvp(s->argv[0], s->argv);
		dprintf(2, "cz-agent: cannot execute %s: %s\n", s->argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	s->pid = pid;
	s->started = cz_now();
	s->next_start = 0;
	s->wanted = true;
	return 0;
}

static void service_event(const struct service *s, const char *state,
			  const char *why)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "restarts", json_object_new_int(s->restarts));
	if (why)
		json_object_object_add(o, "why", json_object_new_string(why));
	event("service", o);
}

static void service_exited(struct service *s, int status)
{
	char why[64];
	bool again;

	s->pid = 0;
	s->last_status = status;
	cz_wait_text(status, why, sizeof(why));
	again = s->wanted && !A.shutting_down &&
		(s->restart == RESTART_ALWAYS ||
		 (s->restart == RESTART_ON_FAILURE &&
		  !(WIFEXITED(status) && !WEXITSTATUS(status))));
	if (!again) {
		s->wanted = false;
		service_event(s, "exited", why);
		return;
	}
	if (cz_now() - s->started >= STABLE_S)
		s->backoff_s = 0;
	s->backoff_s = s->backoff_s ? s->backoff_s * 2 : BACKOFF_MIN_S;
	if (s->backoff_s > BACKOFF_MAX_S)
		s->backoff_s = BACKOFF_MAX_S;
	s->next_start = cz_now() + s->backoff_s;
	service_event(s, "exited, restarting", why);
}

static void services_tick(void)
{
	for (unsigned int i = 0; i < A.nr_svc; i++) {
		struct service *s = &A.svc[i];

		if (s->pid || !s->next_start || cz_now() < s->next_start)
			continue;
		s->restarts++;
		if (service_start(s)) {
			s->next_start = cz_now() + BACKOFF_MAX_S;
			service_event(s, "restart failed", strerror(errno));
		} else {
			service_event(s, "restarted", NULL);
		}
	}
}

static void service_stop(struct service *s)
{
	double deadline = cz_now() + STOP_GRACE_S;

	s->wanted = false;
	s->next_start = 0;
	if (!s->pid)
		return;
	kill(-s->pid, SIGTERM);
	kill(s->pid, SIGTERM);
	while (cz_now() < deadline) {
		int status;
		pid_t r = waitpid(s->pid, &status, WNOHANG);

		if (r == s->pid) {
			s->pid = 0;
			s->last_status = status;
			return;
		}
		cz_sleep(0.05);
	}
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &s->last_status, 0);
	s->pid = 0;
}

static struct json_object *service_json(const struct service *s)
{
	struct json_object *o = json_object_new_object();
	char why[64] = "";

	if (s->last_status)
		cz_wait_text(s->last_status, why, sizeof(why));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "state", json_object_new_string(
		s->pid ? "running" : s->next_start ? "restarting" : "stopped"));
	json_object_object_add(o, "pid", json_object_new_int(s->pid));
	json_object_object_add(o, "restarts", json_object_new_int(s->restarts));
	json_object_object_add(o, "uptime_s", json_object_new_double(
		s->pid ? cz_now() - s->started : 0));
	if (*why)
		json_object_object_add(o, "last_exit", json_object_new_string(why));
	return o;
}

/* ---- the scheduler ---- */

static void sched_state(char *state, size_t slen, char *ops, size_t olen)
{
	if (cz_scx_now(state, slen, ops, olen))
		snprintf(state, slen, "absent");
}

/* Whether the wanted scheduler runs: enabled, with its ops name. */
static bool sched_runs(void)
{
	char state[64], ops[128];

	sched_state(state, sizeof(state), ops, sizeof(ops));
	return A.sched && !strcmp(state, "enabled") && !strcmp(ops, A.sched + 4);
}

static struct json_object *sched_json(void)
{
	struct json_object *o = json_object_new_object();
	char state[64], ops[128];

	sched_state(state, sizeof(state), ops, sizeof(ops));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "ops", json_object_new_string(ops));
	json_object_object_add(o, "wanted", A.sched ?
			       json_object_new_string(A.sched) : NULL);
	json_object_object_add(o, "restarts", json_object_new_int(A.sched_fails));
	json_object_object_add(o, "failed", json_object_new_boolean(A.sched_failed));
	return o;
}

static struct json_object *hello_json(void)
{
	struct json_object *o = json_object_new_object(), *svcs;
	struct utsname u;

	uname(&u);
	json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(o, "scheduler", sched_json());
	svcs = json_object_new_array();
	for (unsigned int i = 0; i < A.nr_svc; i++)
		json_object_array_add(svcs, service_json(&A.svc[i]));
	json_object_object_add(o, "services", svcs);
	return o;
}

static void ready_check(void);

/* czctl's argv for @op of @name with @args (NULL-terminated; malloc'd). */
static char **czctl_argv(const char *op, const char *name, char **args)
{
	int n = 0, k = 0;
	char **v;

	while (args && args[n])
		n++;
	v = calloc(n + 8, sizeof(*v));
	if (!v)
		return NULL;
	v[k++] = "czctl";
	v[k++] = (char *)op;
	/* In this zone, that name is the image's scheduler, whoever asks. */
	if (name && A.image_sched && !strcmp(name, A.image_sched)) {
		v[k++] = "--root";
		v[k++] = A.image_root;
	}
	if (name) {
		v[k++] = (char *)name;
		if (n)
			v[k++] = "--";
		for (int i = 0; i < n; i++)
			v[k++] = args[i];
	}
	return v;
}

/* A watchdog restart finished. */
static void sched_restarted(struct job *j)
{
	struct json_object *o = json_object_new_object();
	char why[64];

	A.sched_busy = false;
	cz_wait_text(j->status, why, sizeof(why));
	json_object_object_add(o, "name", json_object_new_string(A.sched));
	json_object_object_add(o, "restarts", json_object_new_int(A.sched_fails));
	if (WIFEXITED(j->status) && !WEXITSTATUS(j->status)) {
		json_object_object_add(o, "state", json_object_new_string("restarted"));
	} else {
		json_object_object_add(o, "state", json_object_new_string("restart failed"));
		json_object_object_add(o, "why", json_object_new_string(
			*job_text(j, 1) ? job_text(j, 1) : why));
	}
	event("scheduler", o);
	ready_check();
}

static void sched_tick(void)
{
	char **argv;
	struct job *j;

	if (!A.sched || A.sched_busy || A.sched_failed || A.shutting_down ||
	    sched_runs())
		return;
	if (A.sched_fails >= SCHED_RETRIES) {
		struct json_object *o = json_object_new_object();

		A.sched_failed = true;
		json_object_object_add(o, "name", json_object_new_string(A.sched));
		json_object_object_add(o, "state", json_object_new_string("failed"));
		json_object_object_add(o, "restarts", json_object_new_int(A.sched_fails));
		event("scheduler", o);
		return;
	}
	A.sched_fails++;
	argv = czctl_argv("start", A.sched, A.sched_args);
	j = argv ? job_start(argv, -1, EXEC_TIMEOUT_S, sched_restarted) : NULL;
	free(argv);
	if (j)
		A.sched_busy = true;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* A "sched" request's czctl finished: answer it. */
static void sched_op_done(struct job *j)
{
	struct json_object *resp = json_object_new_object();

	A.sched_busy = false;
	/* A change made on purpose starts the restart count afresh. */
	if (WIFEXITED(j->status) && !WEXITSTATUS(j->status)) {
		A.sched_fails = 0;
		A.sched_failed = false;
		free(A.prev_sched);
		strv_free(A.prev_args);
	} else {
		/*
		 * czctl rolled back to what ran before: that is what the
		 * watchdog keeps, not the scheduler that failed.
		 */
		free(A.sched);
		strv_free(A.sched_args);
		A.sched = A.prev_sched;
		A.sched_args = A.prev_args;
	}
	A.prev_sched = NULL;
	A.prev_args = NULL;
	json_object_object_add(resp, "status", json_object_new_int(exit_code(j->status)));
	json_object_object_add(resp, "output", json_object_new_string(job_text(j, 1)));
	json_object_object_add(resp, "scheduler", sched_json());
	reply(j->id, resp);
}

static char **json_strv(struct json_object *arr)
{
	size_t n = arr && json_object_is_type(arr, json_type_array) ?
		   json_object_array_length(arr) : 0;
	char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		v[i] = strdup(json_object_is_type(e, json_type_string) ?
			      json_object_get_string(e) : "");
	}
	return v;
}

static const char *str_arg(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void req_sched(long long id, struct json_object *args)
{
	const char *op = str_arg(args, "op"), *name = str_arg(args, "name");
	struct json_object *a = NULL;
	char **sargs, **argv;
	struct job *j;

	if (!op || (strcmp(op, "start") && strcmp(op, "stop") && strcmp(op, "switch")))
		return reply_err(id, EINVAL, "sched needs op start, stop or switch");
	if (strcmp(op, "stop") && (!name || strncmp(name, "scx_", 4)))
		return reply_err(id, EINVAL, "sched %s needs a name scx_NAME", op);
	if (A.sched_busy)
		return reply_err(id, EBUSY, "a scheduler change is already going on");
	if (args)
		json_object_object_get_ex(args, "args", &a);
	sargs = json_strv(a);
	argv = czctl_argv(op, strcmp(op, "stop") ? name : NULL, sargs);
	j = argv ? job_start(argv, id, EXEC_TIMEOUT_S, sched_op_done) : NULL;
	free(argv);
	if (!j) {
		strv_free(sargs);
		return reply_err(id, errno ?: ENOMEM, "cannot run czctl: %s", strerror(errno));
	}
	A.sched_busy = true;
	/* What the watchdog keeps running from now on, if it works. */
	A.prev_sched = A.sched;
	A.prev_args = A.sched_args;
	A.sched = strcmp(op, "stop") ? strdup(name) : NULL;
	A.sched_args = strcmp(op, "stop") ? sargs : NULL;
	if (!strcmp(op, "stop"))
		strv_free(sargs);
}

/* ---- requests ---- */

static void req_exec(long long id, struct json_object *args)
{
	struct json_object *a = NULL, *t;
	double timeout = EXEC_TIMEOUT_S;
	char **argv;

	if (args)
		json_object_object_get_ex(args, "argv", &a);
	if (!a || !json_object_is_type(a, json_type_array) ||
	    !json_object_array_length(a))
		return reply_err(id, EINVAL, "exec needs args {\"argv\": [PROGRAM, ARGS...]}");
	if (json_object_object_get_ex(args, "timeout_s", &t) &&
	    json_object_get_double(t) > 0)
		timeout = json_object_get_double(t);
	argv = json_strv(a);
	if (!argv || !job_start(argv, id, timeout, NULL))
		reply_err(id, errno ?: ENOMEM, "cannot run %s: %s", argv ? argv[0] : "it",
			  strerror(errno));
	strv_free(argv);
}

static void req_services(long long id)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int i = 0; i < A.nr_svc; i++)
		json_object_array_add(arr, service_json(&A.svc[i]));
	reply(id, arr);
}

static void req_service(long long id, struct json_object *args)
{
	const char *op = str_arg(args, "op"), *name = str_arg(args, "name");
	struct service *s = name ? service_by_name(name) : NULL;

	if (!s)
		return reply_err(id, ENOENT, "no service '%s'", name ?: "");
	if (!op || (strcmp(op, "start") && strcmp(op, "stop") && strcmp(op, "restart")))
		return reply_err(id, EINVAL, "service needs op start, stop or restart");
	if (strcmp(op, "start"))
		service_stop(s);
	if (strcmp(op, "stop") && !s->pid && service_start(s))
		return reply_err(id, errno, "starting %s failed: %s", s->name, strerror(errno));
	reply(id, service_json(s));
}

/*
 * One request line to the zone's stats socket, its one reply line back
 * (malloc'd) within @timeout_ms; NULL with errno.
 */
static char *stats_roundtrip(const char *line, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = timeout_ms % 1000 * 1000 };
	struct cz_lines lb;
	char *r = NULL;
	int fd, ret = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", CZ_STATS_SOCKET_DEFAULT);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	cz_lines_init(&lb, CZ_STATS_REPLY_MAX);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    cz_write_all(fd, line, strlen(line), timeout_ms) ||
	    cz_write_all(fd, "\n", 1, timeout_ms)) {
		ret = errno;
	} else {
		while (!(r = cz_lines_next(&lb)))
			if (cz_lines_fill(&lb, fd) <= 0) {
				ret = errno ?: EPIPE;
				break;
			}
	}
	close(fd);
	if (r)
		r = strdup(r);
	cz_lines_free(&lb);
	errno = ret;
	return r;
}

static void req_stats(long long id, struct json_object *args)
{
	const char *line = str_arg(args, "line");
	struct json_object *o;
	char *r;

	if (!line || strchr(line, '\n'))
		return reply_err(id, EINVAL, "stats needs args {\"line\": one request line}");
	r = stats_roundtrip(line, STATS_TIMEOUT_S * 1000);
	if (!r)
		return reply_err(id, errno, "the zone's stats socket %s: %s",
				 CZ_STATS_SOCKET_DEFAULT, strerror(errno));
	o = json_object_new_object();
	json_object_object_add(o, "line", json_object_new_string(r));
	reply(id, o);
	free(r);
}

/*
 * The sample event (sample.h), with the running scheduler's name and its
 * numbers from its stats socket (asked with a short deadline: a scheduler
 * too busy to answer leaves them out of this sample).
 */
static void send_sample(void)
{
	struct json_object *o = sample_take(), *reply, *args, *resp, *sched;
	char state[64], ops[128], *r;

	if (!o)
		return;
	sched_state(state, sizeof(state), ops, sizeof(ops));
	json_object_object_add(o, "scheduler", json_object_new_string(
		!strcmp(state, "enabled") ? ops : ""));
	r = !strcmp(state, "enabled") ?
	    stats_roundtrip("{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}",
			    SAMPLE_STATS_MS) : NULL;
	reply = r ? json_tokener_parse(r) : NULL;
	if (reply && json_object_object_get_ex(reply, "args", &args) &&
	    json_object_object_get_ex(args, "resp", &resp) &&
	    json_object_is_type(resp, json_type_object)) {
		sched = json_object_new_object();
		json_object_object_foreach(resp, k, v)
			if (json_object_is_type(v, json_type_int) ||
			    json_object_is_type(v, json_type_double))
				json_object_object_add(sched, k, json_object_get(v));
		json_object_object_add(o, "sched", sched);
	}
	json_object_put(reply);
	free(r);
	event("sample", o);
}

static void req_metrics(long long id)
{
	struct json_object *o = json_object_new_object();
	char buf[8192];

	cz_read_text("/proc/pressure/cpu", buf, sizeof(buf));
	json_object_object_add(o, "pressure_cpu", json_object_new_string(buf));
	cz_read_text("/proc/loadavg", buf, sizeof(buf));
	json_object_object_add(o, "loadavg", json_object_new_string(buf));
	cz_read_text("/proc/stat", buf, sizeof(buf));
	json_object_object_add(o, "stat", json_object_new_string(buf));
	cz_read_text("/proc/net/dev", buf, sizeof(buf));
	json_object_object_add(o, "net_dev", json_object_new_string(buf));
	json_object_object_add(o, "uptime_s", json_object_new_double(cz_now()));
	json_object_object_add(o, "scheduler", sched_json());
	reply(id, o);
}

static void req_logs(long long id, struct json_object *args)
{
	const char *name = str_arg(args, "service");
	struct json_object *b;
	long want = LOG_TAIL_MAX;
	char path[256], *buf;
	off_t size;
	ssize_t n;
	int fd;

	if (!name || !service_by_name(name))
		return reply_err(id, ENOENT, "no service '%s'", name ?: "");
	if (json_object_object_get_ex(args, "bytes", &b) &&
	    json_object_get_int64(b) > 0 && json_object_get_int64(b) < LOG_TAIL_MAX)
		want = json_object_get_int64(b);
	snprintf(path, sizeof(path), "%s/%s.log", LOG_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return reply(id, json_object_new_string(""));
	size = lseek(fd, 0, SEEK_END);
	buf = calloc(1, want + 1);
	n = buf ? pread(fd, buf, want, size > want ? size - want : 0) : -1;
	close(fd);
	reply(id, json_object_new_string(n > 0 ? buf : ""));
	free(buf);
}

static void shutdown_now(void)
{
	char *const stop[] = { "czctl", "stop", NULL };

	A.shutting_down = true;
	for (unsigned int i = 0; i < A.nr_svc; i++)
		service_stop(&A.svc[i]);
	if (A.sched) {
		pid_t pid = fork();

		if (!pid) {
			cz_child_signals();
			execvp(stop[0], stop);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

static void handle(const char *line)
{
	struct json_object *o = json_tokener_parse(line), *v, *args = NULL;
	long long id = -1;
	const char *req;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "id", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		reply_err(-1, EINVAL, "a request is {\"id\": N, \"req\": NAME, \"args\": {...}}");
		json_object_put(o);
		return;
	}
	id = json_object_get_int64(v);
	json_object_object_get_ex(o, "args", &args);
	req = json_object_object_get_ex(o, "req", &v) &&
	      json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
	if (!strcmp(req, "hello"))
		reply(id, hello_json());
	else if (!strcmp(req, "exec"))
		req_exec(id, args);
	else if (!strcmp(req, "sched"))
		req_sched(id, args);
	else if (!strcmp(req, "services"))
		req_services(id);
	else if (!strcmp(req, "service"))
		req_service(id, args);
	else if (!strcmp(req, "stats"))
		req_stats(id, args);
	else if (!strcmp(req, "metrics"))
		req_metrics(id);
	else if (!strcmp(req, "logs"))
		req_logs(id, args);
	else if (!strcmp(req, "shutdown")) {
		shutdown_now();
		A.exit_now = true;
		reply(id, NULL);
	} else
		reply_err(id, EINVAL, "unknown request '%s'", req);
	json_object_put(o);
}

/* ---- start-up ---- */

/* The port named PORT_NAME: udev's link, or the device sysfs names so. */
static int open_port(const char *path)
{
	char name[64], file[512], dev[300];
	struct dirent *e;
	DIR *d;
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 || strcmp(path, PORT_DEFAULT))
		return fd;
	d = opendir(PORTS_SYSFS);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s/name", PORTS_SYSFS, e->d_name);
		if (cz_read_line(file, name, sizeof(name)) || strcmp(name, PORT_NAME))
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		break;
	}
	if (d)
		closedir(d);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}

static int load_config(const char *path)
{
	struct json_object *o = json_object_from_file(path), *sched, *svcs, *v;

	if (!o) {
		cz_say("%s: %s", path, json_util_get_last_err() ?: "cannot read");
		return -1;
	}
	if (json_object_object_get_ex(o, "scheduler", &sched) &&
	    json_object_is_type(sched, json_type_object) &&
	    json_object_object_get_ex(sched, "name", &v)) {
		A.sched = strdup(json_object_get_string(v));
		json_object_object_get_ex(sched, "args", &v);
		A.sched_args = json_strv(v);
		if (str_arg(sched, "root")) {
			A.image_sched = strdup(A.sched);
			A.image_root = strdup(str_arg(sched, "root"));
		}
	}
	if (json_object_object_get_ex(o, "services", &svcs) &&
	    json_object_is_type(svcs, json_type_array)) {
		A.nr_svc = json_object_array_length(svcs);
		A.svc = calloc(A.nr_svc ?: 1, sizeof(*A.svc));
		for (unsigned int i = 0; A.svc && i < A.nr_svc; i++) {
			struct json_object *s = json_object_array_get_idx(svcs, i);
			struct service *sv = &A.svc[i];
			const char *r = str_arg(s, "restart");

			sv->name = strdup(str_arg(s, "name") ?: "service");
			if (str_arg(s, "root"))
				sv->root = strdup(str_arg(s, "root"));
			json_object_object_get_ex(s, "argv", &v);
			sv->argv = json_strv(v);
			json_object_object_get_ex(s, "env", &v);
			sv->env = json_strv(v);
			sv->restart = !r || !strcmp(r, "on-failure") ? RESTART_ON_FAILURE :
				      !strcmp(r, "always") ? RESTART_ALWAYS : RESTART_NO;
			sv->wanted = true;
		}
	}
	json_object_put(o);
	return 0;
}

/*
 * Make an image's files, @root, a place its programs can run in (chrooted,
 * as cz-agent and czctl --root run them): the zone's own /proc, /sys,
 * /dev, /run, /tmp and /boot (libbpf reads the kernel's config there) are
 * mounted in it, and /var/run/scx, so that a scheduler's stats socket is
 * where the zone's czctl looks. The image's own files stay as they are;
 * only these mount points are added.
 */
static int root_prepare(const char *root)
{
	static const char *const dirs[] = {
		"/proc", "/sys", "/dev", "/run", "/tmp", "/boot", CZ_STATS_SOCKET_DIR,
	};
	char path[PATH_MAX];

	if (cz_mkdirs(CZ_STATS_SOCKET_DIR, 0755))
		return -1;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;

		if (stat(dirs[i], &st))
			continue;
		snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
		if (cz_mkdirs(path, 0755) ||
		    mount(dirs[i], path, NULL, MS_BIND | MS_REC, NULL)) {
			cz_say("%s: cannot mount %s there: %s", root, dirs[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Every image's files, once, at the start. */
static int roots_prepare(void)
{
	if (A.image_root && root_prepare(A.image_root))
		return -1;
	for (unsigned int i = 0; i < A.nr_svc; i++) {
		bool done = A.image_root && !strcmp(A.svc[i].root ?: "", A.image_root);

		for (unsigned int j = 0; j < i && !done; j++)
			done = A.svc[j].root && A.svc[i].root &&
			       !strcmp(A.svc[j].root, A.svc[i].root);
		if (A.svc[i].root && !done && root_prepare(A.svc[i].root))
			return -1;
	}
	return 0;
}

/*
 * The ready event, once: after the scheduler's first start (whether it
 * worked: the supervisor judges) and with every service started.
 */
static void ready_check(void)
{
	if (A.ready_sent || A.sched_busy)
		return;
	A.ready_sent = true;
	event("ready", hello_json());
}

/* The scheduler's first start failed: an event; the watchdog retries. */
static void first_sched_failed(const char *why)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(A.sched));
	json_object_object_add(o, "state", json_object_new_string("start failed"));
	json_object_object_add(o, "why", json_object_new_string(why));
	event("scheduler", o);
	A.sched_fails = 1;
}

/* The services, on the scheduler (or the fair class); then ready. */
static void start_services(void)
{
	for (unsigned int i = 0; i < A.nr_svc; i++)
		if (service_start(&A.svc[i]))
			service_event(&A.svc[i], "start failed", strerror(errno));
	ready_check();
}

static void first_sched_done(struct job *j)
{
	A.sched_busy = false;
	if (!(WIFEXITED(j->status) && !WEXITSTATUS(j->status)))
		first_sched_failed(job_text(j, 1));
	start_services();
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_JOBS; i++) {
			if (A.jobs[i].used && A.jobs[i].pid == pid) {
				A.jobs[i].exited = true;
				A.jobs[i].status = status;
			}
		}
		for (unsigned int i = 0; i < A.nr_svc; i++)
			if (A.svc[i].pid == pid)
				service_exited(&A.svc[i], status);
	}
}

static const char usage[] =
"usage: cz-agent [--config FILE] [PORT] [-v] [-h]\n"
"\n"
"The agent inside a Control Zone, started by the zone's /init: it starts\n"
"the zone's scheduler and services and answers the zone's supervisor on\n"
"the host, one JSON object per line, over the virtio-serial port PORT\n"
"(default " PORT_DEFAULT ").\n"
"  --config FILE       the zone's scheduler and services (default\n"
"                      " CONFIG_DEFAULT ", written by czctl zone up)\n"
"  -v, --version       print the version\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 shut down by request or SIGTERM, 1 the port or FILE\n"
"cannot be opened or read, 2 bad arguments.\n";

int main(int argc, char **argv)
{
	const char *port = PORT_DEFAULT, *config = CONFIG_DEFAULT;
	struct pollfd pfd[2 + 2 * MAX_JOBS];
	struct job *map[2 + 2 * MAX_JOBS];
	int kind[2 + 2 * MAX_JOBS];
	double next_tick = 0, next_poll = 0;
	sigset_t mask;
	int sfd;

	cz_prog = "cz-agent";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return CZ_EXIT_OK;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v")) {
			puts("cz-agent (controlzone) " CZ_VERSION);
			return CZ_EXIT_OK;
		} else if (argv[i][0] == '-') {
			cz_say("%s option %s (see --help)", strcmp(argv[i], "--config") ?
			       "unknown" : "a FILE is needed after the", argv[i]);
			return CZ_EXIT_USAGE;
		} else {
			port = argv[i];
		}
	}
	A.port = open_port(port);
	if (A.port < 0) {
		cz_say("%s: %s", port, strerror(errno));
		return CZ_EXIT_FAIL;
	}
	if (load_config(config) || roots_prepare())
		return CZ_EXIT_FAIL;
	mkdir("/run/controlzone", 0755);
	mkdir(LOG_DIR, 0755);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	cz_lines_init(&A.in, LINE_MAX_BYTES);

	/* The scheduler first, then the services on it. */
	if (A.sched) {
		char **av = czctl_argv("start", A.sched, A.sched_args);

		if (av && job_start(av, -1, EXEC_TIMEOUT_S, first_sched_done))
			A.sched_busy = true;
		else
			first_sched_failed(strerror(errno));
		free(av);
	}
	if (!A.sched_busy)
		start_services();

	for (;;) {
		int n = 0, timeout;

		pfd[n] = (struct pollfd){ .fd = A.port, .events = POLLIN };
		kind[n++] = 0;
		pfd[n] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		kind[n++] = 1;
		for (int i = 0; i < MAX_JOBS; i++) {
			for (int k = 0; k < 2; k++) {
				if (!A.jobs[i].used || A.jobs[i].fd[k] < 0)
					continue;
				pfd[n] = (struct pollfd){ .fd = A.jobs[i].fd[k], .events = POLLIN };
				map[n] = &A.jobs[i];
				kind[n++] = 2 + k;
			}
		}
		timeout = (int)(((next_poll < next_tick ? next_poll : next_tick) -
				 cz_now()) * 1000);
		if (poll(pfd, n, timeout < 0 ? 0 : timeout) < 0 && errno != EINTR)
			cz_sleep(0.1);
		for (int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (kind[i] >= 2) {
				job_read(map[i], kind[i] - 2);
			} else if (kind[i] == 1) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					if (si.ssi_signo == SIGTERM) {
						shutdown_now();
						return CZ_EXIT_OK;
					}
				reap();
			} else {
				char *line;
				int r = cz_lines_fill(&A.in, A.port);

				while ((line = cz_lines_next(&A.in)))
					handle(line);
				if (A.exit_now) {
					sync();
					return CZ_EXIT_OK;
				}
				/* The host end closed: wait for it to come back. */
				if (r <= 0)
					cz_sleep(0.2);
			}
		}
		reap();
		for (int i = 0; i < MAX_JOBS; i++) {
			struct job *j = &A.jobs[i];

			if (j->used && !j->exited && cz_now() > j->deadline)
				kill(-j->pid, SIGKILL);
			job_check(j);
		}
		if (cz_now() >= next_poll) {
			sample_poll();
			next_poll = cz_now() + POLL_MS / 1000.0;
		}
		if (cz_now() >= next_tick) {
			services_tick();
			sched_tick();
			send_sample();
			next_tick = cz_now() + 1;
		}
	}
}
