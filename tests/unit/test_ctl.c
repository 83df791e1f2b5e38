/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket: request decoding and its error replies, reply and
 * request encoding, stats and stats_meta built from a descriptor table,
 * czctl's text and OpenMetrics output (exact text), the server over a real
 * socket in a temporary directory (mode, live and stale sockets, over-long
 * lines, clients that never read or hang up mid-reply), and czctl's usage
 * errors, start/stop/switch/list included (the built binary, next to this
 * one in the build tree).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "cz_stats_client.h"
#include "cz_stats_print.h"
#include "cz_stats_server.h"

enum { S_DISPATCH, S_QUEUED, S_KICK, NR_S };

static const struct cz_stat_desc desc[] = {
	[S_DISPATCH]	= { "dispatch", CZ_STAT_PERCPU, "tasks dispatched, by CPU" },
	[S_QUEUED]	= { "queued", CZ_STAT_GAUGE, "tasks \"waiting\"\nnow" },
	[S_KICK]	= { "kick", CZ_STAT_COUNTER, "CPUs kicked" },
};

/* 2 CPUs, stat-major; the gauge lives in CPU 0's slot. */
static const u64 vals[NR_S * 2] = { 7, 5,  3, 0,  10, 2 };

static const struct cz_stats_view view = {
	.sched = "t", .desc = desc, .nr_stats = NR_S, .nr_cpus = 2,
	.uptime_s = 2.5,
};

/* ---- requests ---- */

static int decode(const char *line, char *err, size_t errlen,
		  enum cz_stats_req_kind *kind)
{
	struct cz_stats_req req = { .kind = -1 };
	int ret = cz_stats_decode_request(line, strlen(line), &req, err, errlen);

	if (kind)
		*kind = req.kind;
	return ret;
}

static void decode_ok(const char *line, enum cz_stats_req_kind want)
{
	enum cz_stats_req_kind kind;
	char err[256] = "";

	cr_assert_eq(decode(line, err, sizeof(err), &kind), 0,
		     "'%s' refused: %s", line, err);
	cr_assert_eq(kind, want, "'%s' decoded as %d", line, kind);
}

static void decode_bad(const char *line, const char *want)
{
	char err[256] = "";

	cr_assert_eq(decode(line, err, sizeof(err), NULL), EINVAL, "'%s' accepted", line);
	cr_assert(strstr(err, want), "error for '%s' is '%s', want '%s'", line, err, want);
}

Test(decode, well_formed_requests)
{
	decode_ok("{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}", CZ_STATS_REQ_STATS);
	decode_ok("{\"req\":\"stats\"}", CZ_STATS_REQ_STATS);
	decode_ok("{\"req\":\"stats\",\"args\":{}}", CZ_STATS_REQ_STATS);
	decode_ok("  { \"args\" : {\"x\":1}, \"req\" : \"stats\" }\r", CZ_STATS_REQ_STATS);
	decode_ok("{\"req\":\"stats_meta\"}", CZ_STATS_REQ_STATS_META);
}

Test(decode, malformed_json)
{
	decode_bad("", "empty line");
	decode_bad("{\"req\":\"stats\"", "malformed JSON: incomplete");
	decode_bad("{\"req\":\"stats\",}", "malformed JSON");
	decode_bad("garbage", "malformed JSON");
	decode_bad("{\"req\":\"stats\"} x", "malformed JSON");
	decode_bad("{\"req\":\"stats\"}{\"req\":\"stats\"}", "malformed JSON");
	decode_bad("{\"req\":\"st\xff\"}", "malformed JSON");
}

Test(decode, nul_after_the_object_is_refused)
{
	static const char line[] = "{\"req\":\"stats\"}\0{}";
	struct cz_stats_req req;
	char err[256] = "";

	cr_assert_eq(cz_stats_decode_request(line, sizeof(line) - 1, &req, err, sizeof(err)), EINVAL);
	cr_assert(strstr(err, "bytes after the value"), "%s", err);
}

Test(decode, nesting_too_deep)
{
	char line[201];

	memset(line, '[', 100);
	memset(line + 100, ']', 100);
	line[200] = '\0';
	decode_bad(line, "malformed JSON");
}

Test(decode, wrong_shapes)
{
	decode_bad("[]", "must be a JSON object");
	decode_bad("5 ", "must be a JSON object");
	decode_bad("{}", "needs \"req\", a string");
	decode_bad("{\"req\":5}", "needs \"req\", a string");
	decode_bad("{\"req\":\"stats\",\"args\":null}", "\"args\" must be an object");
	decode_bad("{\"req\":\"stats\",\"args\":[]}", "\"args\" must be an object");
	decode_bad("{\"req\":\"stats\",\"args\":{\"target\":1}}", "\"target\" must be a string");
}

Test(decode, unknown_requests_and_targets)
{
	decode_bad("{\"req\":\"reboot\"}", "unknown request \"reboot\"");
	decode_bad("{\"req\":\"STATS\"}", "unknown request");
	/* An embedded NUL must not make it pass for "stats". */
	decode_bad("{\"req\":\"stats\\u0000x\"}", "unknown request");
	decode_bad("{\"req\":\"stats\",\"args\":{\"target\":\"cpu\"}}",
		   "unknown stats target \"cpu\"");
}

Test(decode, oversized_line_is_emsgsize)
{
	size_t len = CZ_STATS_LINE_MAX + 1;
	char *line = malloc(len);
	struct cz_stats_req req;
	char err[256] = "";

	memset(line, ' ', len);
	cr_assert_eq(cz_stats_decode_request(line, len, &req, err, sizeof(err)), EMSGSIZE);
	cr_assert(strstr(err, "longer than 65536 bytes"), "%s", err);
	free(line);
}

Test(encode, requests)
{
	char *a = cz_stats_request("stats", "top"), *b = cz_stats_request("stats_meta", NULL);

	cr_assert_str_eq(a, "{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}\n");
	cr_assert_str_eq(b, "{\"req\":\"stats_meta\"}\n");
	free(a);
	free(b);
}

/* ---- replies ---- */

Test(reply, success_and_error_lines)
{
	size_t len;
	char *ok = cz_stats_reply(0, json_object_new_int(3), &len);
	char *bad = cz_stats_error_reply(EINVAL, "no \"such\" thing/here", NULL);

	cr_assert_str_eq(ok, "{\"errno\":0,\"args\":{\"resp\":3}}\n");
	cr_assert_eq(len, strlen(ok));
	cr_assert_str_eq(bad, "{\"errno\":22,\"args\":{\"resp\":\"no \\\"such\\\" thing/here\"}}\n");
	free(ok);
	free(bad);
}

Test(reply, decode)
{
	const char *ok = "{\"errno\":0,\"args\":{\"resp\":{\"a\":1}}}";
	const char *bad = "{\"errno\":22,\"args\":{\"resp\":\"nope\"}}";
	struct json_object *resp;
	char err[64] = "";

	cr_assert_eq(cz_stats_decode_reply(ok, strlen(ok), &resp, err, sizeof(err)), 0);
	cr_assert(json_object_object_get_ex(resp, "a", NULL));
	json_object_put(resp);
	cr_assert_eq(cz_stats_decode_reply(bad, strlen(bad), &resp, err, sizeof(err)), 22);
	cr_assert_str_eq(err, "nope");
	cr_assert_null(resp);
	cr_assert_eq(cz_stats_decode_reply("{\"x\":1}", 7, &resp, err, sizeof(err)), -1);
	cr_assert_eq(cz_stats_decode_reply("oops", 4, &resp, err, sizeof(err)), -1);
}

Test(reply, stats_resp_from_a_table)
{
	struct json_object *o = cz_stats_resp(&view, vals);

	/* Counters are totals, the gauge its value, per-CPU stats a list. */
	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"sched\":\"t\",\"uptime_s\":2.500,\"dispatch\":12,"
		"\"dispatch_percpu\":[7,5],\"queued\":3,\"kick\":12}");
	json_object_put(o);
}

static struct json_object *field(struct json_object *meta, const char *name)
{
	struct json_object *st, *fields, *f;

	cr_assert(json_object_object_get_ex(meta, "t", &st));
	cr_assert(json_object_object_get_ex(st, "fields", &fields));
	cr_assert(json_object_object_get_ex(fields, name, &f), "no field %s", name);
	return f;
}

static const char *get_str(struct json_object *o, const char *path1, const char *path2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, path1, &v))
		return NULL;
	if (path2 && !json_object_object_get_ex(v, path2, &v))
		return NULL;
	return json_object_get_string(v);
}

Test(meta, generated_from_the_descriptor_table)
{
	struct json_object *meta = cz_stats_meta_resp(&view), *st, *fields;

	cr_assert(json_object_object_get_ex(meta, "t", &st));
	cr_assert_str_eq(get_str(st, "name", NULL), "t");
	cr_assert_str_eq(get_str(st, "top", NULL), "true");
	cr_assert_str_eq(get_str(st, "user", "_om_prefix"), "scx_t_");
	cr_assert(json_object_object_get_ex(st, "fields", &fields));
	/* sched, uptime_s, 3 stats and one per-CPU list: nothing else. */
	cr_assert_eq(json_object_object_length(fields), 6);

	cr_assert_str_eq(get_str(field(meta, "sched"), "datum", NULL), "string");
	cr_assert_str_eq(get_str(field(meta, "uptime_s"), "datum", NULL), "float");
	cr_assert_str_eq(get_str(field(meta, "dispatch"), "datum", NULL), "u64");
	cr_assert_str_eq(get_str(field(meta, "dispatch"), "desc", NULL), "tasks dispatched, by CPU");
	cr_assert_str_eq(get_str(field(meta, "dispatch"), "user", "_kind"), "counter");
	cr_assert_str_eq(get_str(field(meta, "dispatch_percpu"), "array", NULL), "u64");
	cr_assert_str_eq(get_str(field(meta, "dispatch_percpu"), "user", "_percpu_of"), "dispatch");
	cr_assert_str_eq(get_str(field(meta, "queued"), "user", "_kind"), "gauge");
	cr_assert_str_eq(get_str(field(meta, "kick"), "user", "_kind"), "counter");
	cr_assert_str_eq(get_str(field(meta, "kick"), "desc", NULL), "CPUs kicked");
	json_object_put(meta);
}

/* ---- request handling, with a fake source ---- */

static int fake_calls;

static int fake_stats(void *ctx, struct json_object **resp, char *err, size_t len)
{
	fake_calls++;
	if (ctx) {
		snprintf(err, len, "restarting");
		return EAGAIN;
	}
	*resp = cz_stats_resp(&view, vals);
	return 0;
}

static char *handle(const struct cz_stats_source *src, const char *line)
{
	size_t len;
	char *reply = cz_stats_handle(src, line, strlen(line), &len);

	cr_assert_not_null(reply);
	cr_assert_eq(len, strlen(reply));
	cr_assert_eq(reply[len - 1], '\n');
	return reply;
}

Test(handle, stats_meta_and_errors)
{
	struct cz_stats_source src = { .meta = cz_stats_meta_resp(&view),
				     .stats = fake_stats };
	struct cz_stats_source down = src;
	char *r;

	r = handle(&src, "{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}");
	cr_assert(!strncmp(r, "{\"errno\":0,\"args\":{\"resp\":{\"sched\":\"t\",", 38), "%s", r);
	free(r);
	r = handle(&src, "{\"req\":\"stats_meta\"}");
	cr_assert(!strncmp(r, "{\"errno\":0,\"args\":{\"resp\":{\"t\":{\"name\":\"t\"", 42), "%s", r);
	free(r);
	/* The meta object is shared: serving it twice must not free it. */
	free(handle(&src, "{\"req\":\"stats_meta\"}"));

	r = handle(&src, "{\"req\":\"nope\"}");
	cr_assert_str_eq(r, "{\"errno\":22,\"args\":{\"resp\":\"unknown request \\\"nope\\\" (known: stats, stats_meta, set, rule)\"}}\n");
	free(r);
	r = handle(&src, "not json");
	cr_assert(!strncmp(r, "{\"errno\":22,\"args\":{\"resp\":\"malformed JSON", 42), "%s", r);
	free(r);

	down.ctx = &down;
	r = handle(&down, "{\"req\":\"stats\"}");
	cr_assert_str_eq(r, "{\"errno\":11,\"args\":{\"resp\":\"restarting\"}}\n");
	free(r);
	json_object_put(src.meta);
}

/* ---- czctl's output formats ---- */

static char *capture(int (*print)(FILE *, struct json_object *, struct json_object *),
		     struct json_object *meta, struct json_object *resp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(print(f, meta, resp), 0);
	fclose(f);
	return buf;
}

static int print_text(FILE *f, struct json_object *meta, struct json_object *resp)
{
	(void)meta;
	return cz_stats_print_text(f, resp);
}

/* What a client holds: the server's objects after a trip through text. */
static struct json_object *roundtrip(struct json_object *o)
{
	struct json_object *copy = json_tokener_parse(json_object_to_json_string(o));

	json_object_put(o);
	return copy;
}

Test(format, openmetrics_exact_text)
{
	struct json_object *meta = roundtrip(cz_stats_meta_resp(&view));
	struct json_object *resp = roundtrip(cz_stats_resp(&view, vals));
	char *text = capture(cz_stats_print_openmetrics, meta, resp);

	cr_assert_str_eq(text,
		"# HELP scx_t_uptime_seconds seconds since the scheduler attached\n"
		"# TYPE scx_t_uptime_seconds gauge\n"
		"# UNIT scx_t_uptime_seconds seconds\n"
		"scx_t_uptime_seconds 2.5\n"
		"# HELP scx_t_dispatch tasks dispatched, by CPU\n"
		"# TYPE scx_t_dispatch counter\n"
		"scx_t_dispatch_total{cpu=\"0\"} 7\n"
		"scx_t_dispatch_total{cpu=\"1\"} 5\n"
		"# HELP scx_t_queued tasks \\\"waiting\\\"\\nnow\n"
		"# TYPE scx_t_queued gauge\n"
		"scx_t_queued 3\n"
		"# HELP scx_t_kick CPUs kicked\n"
		"# TYPE scx_t_kick counter\n"
		"scx_t_kick_total 12\n"
		"# EOF\n");
	free(text);
	json_object_put(meta);
	json_object_put(resp);
}

Test(format, openmetrics_of_a_foreign_server)
{
	/* An scx Rust scheduler: no _kind (all gauges), no prefix, strings. */
	struct json_object *meta = json_tokener_parse(
		"{\"Metrics\":{\"name\":\"Metrics\",\"top\":\"true\",\"fields\":{"
		"\"busy\":{\"datum\":\"float\",\"desc\":\"CPU busy %\"},"
		"\"mode\":{\"datum\":\"string\"},"
		"\"nr-x\":{\"datum\":\"u64\"}}}}");
	struct json_object *resp = json_tokener_parse(
		"{\"busy\":12.25,\"mode\":\"auto\",\"nr-x\":18446744073709551615}");
	char *text = capture(cz_stats_print_openmetrics, meta, resp);

	cr_assert_str_eq(text,
		"# HELP scx_busy CPU busy %\n"
		"# TYPE scx_busy gauge\n"
		"scx_busy 12.25\n"
		"# HELP scx_nr_x \n"
		"# TYPE scx_nr_x gauge\n"
		"scx_nr_x 18446744073709551615\n"
		"# EOF\n");
	free(text);
	json_object_put(meta);
	json_object_put(resp);
}

Test(format, openmetrics_needs_metadata)
{
	struct json_object *resp = cz_stats_resp(&view, vals);
	struct json_object *none = json_object_new_object();

	cr_assert_eq(cz_stats_print_openmetrics(stderr, none, resp), -1);
	json_object_put(none);
	json_object_put(resp);
}

Test(format, text_one_line_per_key)
{
	struct json_object *resp = roundtrip(cz_stats_resp(&view, vals));
	char *text = capture(print_text, NULL, resp);

	cr_assert_str_eq(text,
		"sched           t\n"
		"uptime_s        2.5\n"
		"dispatch        12\n"
		"dispatch_percpu 7 5\n"
		"queued          3\n"
		"kick            12\n");
	free(text);
	json_object_put(resp);
}

/* ---- the server, over a real socket ---- */

static char dir[] = "/tmp/cz-test-ctl.XXXXXX";
static char path[128];

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
	/* A directory that does not exist yet: the server creates it. */
	snprintf(path, sizeof(path), "%s/run/scx/stats", dir);
}

static void remove_dir(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct cz_stats_server *serve(struct json_object **meta)
{
	struct cz_stats_server *srv;
	struct cz_stats_source src = { .stats = fake_stats };
	char err[256] = "";

	*meta = src.meta = cz_stats_meta_resp(&view);
	cr_assert_eq(cz_stats_server_open(&srv, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cz_stats_server_start(srv, &src), 0);
	return srv;
}

static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Send @req, return the errno of the one reply line. */
static int ask(int fd, const char *req)
{
	struct json_object *resp;
	char buf[8192], err[256];
	size_t got = 0;
	char *nl;
	int ret;

	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	while (!(nl = memchr(buf, '\n', got))) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);

		cr_assert_gt(n, 0, "no reply to %s", req);
		got += n;
	}
	ret = cz_stats_decode_reply(buf, nl - buf, &resp, err, sizeof(err));
	json_object_put(resp);
	return ret;
}

TestSuite(server, .init = make_dir, .fini = remove_dir);

Test(server, answers_with_mode_0600_and_cleans_up)
{
	struct json_object *meta;
	struct cz_stats_server *srv = serve(&meta);
	struct stat st;
	int fd;

	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	fd = dial();
	cr_assert_eq(ask(fd, "{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}\n"), 0);
	cr_assert_eq(ask(fd, "{\"req\":\"stats_meta\"}\n"), 0);
	cr_assert_eq(ask(fd, "nonsense\n"), EINVAL);
	/* Still usable after an error. */
	cr_assert_eq(ask(fd, "{\"req\":\"stats\"}\n"), 0);
	close(fd);
	cz_stats_server_close(srv);
	json_object_put(meta);
	cr_assert_eq(access(path, F_OK), -1, "socket file left behind");
}

Test(server, live_socket_refused_stale_one_replaced)
{
	struct json_object *meta, *meta2;
	struct cz_stats_server *srv = serve(&meta), *other;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[256] = "";
	int fd;

	cr_assert_eq(cz_stats_server_open(&other, path, err, sizeof(err)), -1);
	cr_assert(strstr(err, "already serves stats"), "%s", err);
	cz_stats_server_close(srv);
	json_object_put(meta);

	/* A socket file nobody listens on: what a killed scheduler leaves. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	srv = serve(&meta2);
	fd = dial();
	cr_assert_eq(ask(fd, "{\"req\":\"stats\"}\n"), 0);
	close(fd);
	cz_stats_server_close(srv);
	json_object_put(meta2);
}

Test(server, refuses_a_path_that_is_not_a_socket)
{
	struct cz_stats_server *srv;
	char err[256] = "";
	int fd;

	cr_assert_eq(cz_stats_server_open(&srv, path, err, sizeof(err)), 0);
	cz_stats_server_close(srv);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	cr_assert_eq(cz_stats_server_open(&srv, path, err, sizeof(err)), -1);
	cr_assert(strstr(err, "is not a socket"), "%s", err);
	cr_assert_eq(access(path, F_OK), 0, "the file was removed");
}

Test(server, over_long_line_gets_an_error_then_eof)
{
	struct json_object *meta;
	struct cz_stats_server *srv = serve(&meta);
	size_t len = CZ_STATS_LINE_MAX + 10;
	char *big = malloc(len + 1), buf[256];
	size_t got = 0;
	ssize_t n;
	int fd = dial();

	memset(big, 'x', len);
	big[len] = '\n';
	/* The server may close before taking all of it: ignore EPIPE. */
	send(fd, big, len + 1, MSG_NOSIGNAL);
	while ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += n;
	/* Closed by the server (EOF, or a reset if input was left unread). */
	cr_assert(n == 0 || errno == ECONNRESET, "not closed: %s", strerror(errno));
	buf[got] = '\0';
	cr_assert_str_eq(buf, "{\"errno\":90,\"args\":{\"resp\":\"request longer than 65536 bytes\"}}\n");
	close(fd);
	/* Others are still served. */
	fd = dial();
	cr_assert_eq(ask(fd, "{\"req\":\"stats\"}\n"), 0);
	close(fd);
	free(big);
	cz_stats_server_close(srv);
	json_object_put(meta);
}

Test(server, a_client_that_never_reads_blocks_nobody)
{
	struct json_object *meta;
	struct cz_stats_server *srv = serve(&meta);
	const char *req = "{\"req\":\"stats_meta\"}\n";
	int hog = dial(), fd;

	/* Push requests until the server stops taking them. */
	fcntl(hog, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 100000; i++)
		if (send(hog, req, strlen(req), MSG_NOSIGNAL) < 0)
			break;
	fd = dial();
	cr_assert_eq(ask(fd, "{\"req\":\"stats\"}\n"), 0);
	close(fd);
	close(hog);
	cz_stats_server_close(srv);
	json_object_put(meta);
}

Test(server, hang_up_mid_reply)
{
	struct json_object *meta;
	struct cz_stats_server *srv = serve(&meta);
	const char *req = "{\"req\":\"stats_meta\"}\n";
	char buf[64];
	int fd;

	/* SIGPIPE would kill this test process: the server must not raise it. */
	for (int round = 0; round < 20; round++) {
		fd = dial();
		for (int i = 0; i < 200; i++)
			send(fd, req, strlen(req), MSG_NOSIGNAL);
		cr_assert_gt(recv(fd, buf, sizeof(buf), 0), 0);
		close(fd);
	}
	fd = dial();
	cr_assert_eq(ask(fd, "{\"req\":\"stats\"}\n"), 0);
	close(fd);
	cz_stats_server_close(srv);
	json_object_put(meta);
}

/* ---- czctl's usage errors: the built binary ---- */

static const char *czctl_path(void)
{
	static char buf[PATH_MAX];
	ssize_t n;
	char *slash;

	if (getenv("CZCTL"))
		return getenv("CZCTL");
	/* build/tests/unit/test_lib -> build/tools/czctl/czctl */
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 32);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	strcpy(slash, "/../../tools/czctl/czctl");
	return buf;
}

/* Run czctl with @args; returns its exit status, stderr in @err. */
static int czctl(char *const args[], char *out, size_t outlen, char *err, size_t errlen)
{
	int po[2], pe[2], status;
	char *argv[16] = { "czctl" };
	pid_t pid;
	ssize_t n;

	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	cr_assert_eq(pipe(po), 0);
	cr_assert_eq(pipe(pe), 0);
	pid = fork();
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(czctl_path(), argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	waitpid(pid, &status, 0);
	n = read(po[0], out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	n = read(pe[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(po[0]);
	close(pe[0]);
	cr_assert(WIFEXITED(status));
	cr_assert_neq(WEXITSTATUS(status), 127, "cannot run %s", czctl_path());
	return WEXITSTATUS(status);
}

static void usage_error(char *const args[], const char *want)
{
	char out[4096], err[4096];

	cr_assert_eq(czctl(args, out, sizeof(out), err, sizeof(err)), 2,
		     "czctl %s: not exit 2 (stderr: %s)", args[0] ? args[0] : "", err);
	cr_assert_str_empty(out);
	cr_assert(strstr(err, want), "stderr '%s' lacks '%s'", err, want);
	/* One line. */
	cr_assert(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
}

Test(czctl, usage_errors_exit_2_with_one_line)
{
	usage_error((char *[]){ NULL }, "no command given");
	usage_error((char *[]){ "frobnicate", NULL }, "unknown command 'frobnicate'");
	usage_error((char *[]){ "--bogus", NULL }, "unknown option --bogus");
	usage_error((char *[]){ "stats", "--json", "--openmetrics", NULL }, "exclude each other");
	usage_error((char *[]){ "stats", "--follow", NULL }, "--follow needs a value");
	usage_error((char *[]){ "stats", "--follow", "0", NULL }, "not a number of seconds");
	usage_error((char *[]){ "stats", "--follow", "1x", NULL }, "not a number of seconds");
	usage_error((char *[]){ "stats", "--nope", NULL }, "unknown option --nope");
	usage_error((char *[]){ "stats", "extra", NULL }, "unexpected argument 'extra'");
	usage_error((char *[]){ "status", "--json", NULL }, "unknown option --json");
	usage_error((char *[]){ "list", "x", NULL }, "unexpected argument 'x'");
	usage_error((char *[]){ "list", "--json", NULL }, "unknown option --json");
	usage_error((char *[]){ "start", NULL }, "start: no scheduler given");
	usage_error((char *[]){ "start", "-v", NULL }, "start: no scheduler given");
	usage_error((char *[]){ "switch", NULL }, "switch: no scheduler given");
	usage_error((char *[]){ "start", "--bogus", "scx_central", NULL }, "unknown option --bogus");
	usage_error((char *[]){ "start", "scx_central", "--slice-us", "5", NULL },
		    "unexpected argument '--slice-us' (the scheduler's arguments go after --)");
	usage_error((char *[]){ "switch", "../scx_central", NULL }, "not a scheduler name");
	usage_error((char *[]){ "start", "scx_Central", NULL }, "not a scheduler name");
	usage_error((char *[]){ "stop", "scx_central", NULL }, "unexpected argument 'scx_central'");
	usage_error((char *[]){ "stop", "--now", NULL }, "unknown option --now");
	/* Each command's own options: --root is start's, --container stop's. */
	usage_error((char *[]){ "stop", "--root", "/", NULL }, "unknown option --root");
	usage_error((char *[]){ "start", "--container", "scx_central", NULL },
		    "unknown option --container");
}

Test(czctl, help_lists_commands_and_exit_codes)
{
	char out[16384], err[4096];

	cr_assert_eq(czctl((char *[]){ "--help", NULL }, out, sizeof(out), err, sizeof(err)), 0);
	cr_assert(strstr(out, "\n  stats "), "%s", out);
	cr_assert(strstr(out, "\n  status "), "%s", out);
	cr_assert(strstr(out, "\n  list"), "%s", out);
	cr_assert(strstr(out, "\n  start "), "%s", out);
	cr_assert(strstr(out, "\n  stop"), "%s", out);
	cr_assert(strstr(out, "\n  switch "), "%s", out);
	cr_assert(strstr(out, "Exit codes"), "%s", out);
}

TestSuite(czctl_socket, .init = make_dir, .fini = remove_dir);

Test(czctl_socket, missing_and_stale_sockets)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char out[4096], err[4096];
	int fd, rc;

	/* No socket: 1, or 3 where the kernel has no sched_ext at all. */
	rc = czctl((char *[]){ "stats", "--socket", path, NULL }, out, sizeof(out),
		   err, sizeof(err));
	if (access("/sys/kernel/sched_ext/state", F_OK)) {
		cr_assert_eq(rc, 3, "%s", err);
		cr_assert(strstr(err, "no sched_ext"), "%s", err);
	} else {
		cr_assert_eq(rc, 1, "%s", err);
		cr_assert(strstr(err, "no stats socket"), "%s", err);
	}

	mkdir(strcat(strcpy(out, dir), "/run"), 0755);
	mkdir(strcat(out, "/scx"), 0755);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	close(fd);
	rc = czctl((char *[]){ "stats", "--socket", path, NULL }, out, sizeof(out),
		   err, sizeof(err));
	cr_assert_eq(rc, 1);
	cr_assert(strstr(err, "stale stats socket"), "%s", err);
}

Test(czctl_socket, reads_a_live_server)
{
	struct json_object *meta;
	struct cz_stats_server *srv = serve(&meta);
	char out[4096], err[4096];

	cr_assert_eq(czctl((char *[]){ "stats", "--socket", path, NULL }, out,
			   sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(out, "dispatch_percpu 7 5\n"), "%s", out);
	cr_assert_eq(czctl((char *[]){ "stats", "--json", "--socket", path, NULL }, out,
			   sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(out, "\"kick\":12"), "%s", out);
	cr_assert_eq(czctl((char *[]){ "stats", "--openmetrics", "--socket", path, NULL },
			   out, sizeof(out), err, sizeof(err)), 0, "%s", err);
	cr_assert(strstr(out, "scx_t_kick_total 12\n# EOF\n"), "%s", out);
	cz_stats_server_close(srv);
	json_object_put(meta);
}
