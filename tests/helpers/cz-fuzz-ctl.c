/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-fuzz-ctl: a test helper that misbehaves against a stats socket, so the
 * VM tests can show the scheduler shrugs it off. Not installed.
 *
 *   cz-fuzz-ctl fuzz SOCKET [LINES [SEED]]  random and malformed requests
 *   cz-fuzz-ctl hold SOCKET SECS            send requests, never read
 *   cz-fuzz-ctl cut SOCKET COUNT            hang up in the middle of replies
 *   cz-fuzz-ctl listen SOCKET SECS          a live server that never answers
 *
 * fuzz checks every reply, not just that the server survives: each line
 * sent gets exactly one reply, in order, a JSON object whose errno is 0
 * exactly for the well-formed requests among the lines; an over-long line
 * gets EMSGSIZE and the connection closed (then it reconnects); at the
 * end a fresh connection's stats request must be answered.
 *
 * Key choices: full duplex with poll() (a client that writes a batch
 * before reading could deadlock against the server's back-pressure, which
 * is exactly what must not be mistaken for a server bug); a seeded PRNG so
 * a failure can be replayed; exit 0 only when every check held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "cz_stats_client.h"
#include "cz_util.h"

enum {
	REPLY_TIMEOUT_MS	= 10000,
	MAX_OUTSTANDING		= 256,
	OVERSIZE		= CZ_STATS_LINE_MAX + 4096,
	EXPECT_OK		= 0,
	EXPECT_ERR		= 1,
	EXPECT_TOO_LONG		= 2,
};

static unsigned long long rng;

static unsigned int rnd(unsigned int n)
{
	/* xorshift64*: reproducible from the seed, good enough for fuzzing */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (unsigned int)((rng * 2685821657736338717ULL) >> 33) % n;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cz-fuzz-ctl: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int connect_to(const char *path, bool nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect %s: %s", path, strerror(errno));
	return fd;
}

/* ---- fuzz: line generators ---- */

struct line {
	char	*buf;
	size_t	len;		/* without the '\n' */
	int	expect;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&l->buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	l->len = n;
}

static const char *const valid[] = {
	"{\"req\":\"stats\",\"args\":{\"target\":\"top\"}}",
	"{\"req\":\"stats\"}",
	"{\"args\":{},\"req\":\"stats\"}",
	"  {\"req\" : \"stats_meta\"}  ",
	"{\"req\":\"stats_meta\",\"args\":{\"target\":\"ignored\"}}",
	"{\"req\":\"stats\",\"args\":{\"target\":\"top\",\"extra\":1},\"more\":[1,2]}",
	"{\"req\":\"stats\"}\r",
};

static const char *const wrong[] = {
	"{}", "[]", "null", "true", "5", "\"stats\"", "{\"req\":5}",
	"{\"req\":null}", "{\"req\":[\"stats\"]}", "{\"req\":{}}",
	"{\"req\":\"stats\",\"args\":[]}", "{\"req\":\"stats\",\"args\":null}",
	"{\"req\":\"stats\",\"args\":\"top\"}",
	"{\"req\":\"stats\",\"args\":{\"target\":7}}",
	"{\"req\":\"stats\",\"args\":{\"target\":\"nope\"}}",
	"{\"req\":\"STATS\"}", "{\"req\":\"stats \"}", "{\"req\":\"\"}",
	"{\"req\":\"stats\\u0000\"}", "{\"req\":\"\\ud800\"}",
	"{\"req\":\"stats\"}{\"req\":\"stats\"}", "{\"req\":\"stats\"} x",
	"{\"req\":\"stats\",}", "{req:\"stats\"}", "{\"req\":\"stats\"",
	"{\"req\":\"stats\"}}", "{\"req\":\"set\",\"args\":{\"name\":\"x\"}}",
	"{\"a\":1e999999}", "{\"req\":\"stats\",\"n\":-}", " ", "\t",
	/* "set" with a value out of range, or a name no scheduler has */
	"{\"req\":\"set\",\"args\":{\"name\":\"slice_us\",\"value\":0}}",
	"{\"req\":\"set\",\"args\":{\"name\":\"nope\",\"value\":1}}",
	"{\"req\":\"set\",\"args\":{\"name\":\"slice_us\",\"value\":-5}}",
};

static void gen(struct line *l)
{
	unsigned int kind = rnd(100), n, i;
	const char *v;

	l->expect = EXPECT_ERR;
	if (kind < 20) {		/* well-formed */
		put(l, "%s", valid[rnd(sizeof(valid) / sizeof(valid[0]))]);
		l->expect = EXPECT_OK;
	} else if (kind < 38) {		/* random bytes, NULs and bad UTF-8 too */
		n = rnd(300);
		l->buf = malloc(n + 1);
		for (i = 0; i < n; i++) {
			l->buf[i] = (char)rnd(256);
			if (l->buf[i] == '\n')
				l->buf[i] = ' ';
		}
		l->len = n;
	} else if (kind < 55) {		/* a well-formed request, cut short */
		v = valid[rnd(2)];
		n = strlen(v);
		put(l, "%.*s", (int)(1 + rnd(n - 1)), v);
	} else if (kind < 70) {		/* valid JSON, not a valid request */
		put(l, "%s", wrong[rnd(sizeof(wrong) / sizeof(wrong[0]))]);
	} else if (kind < 78) {		/* unknown request names */
		char name[40];

		n = 1 + rnd(sizeof(name) - 1);
		for (i = 0; i < n; i++)
			name[i] = 'a' + rnd(26);
		name[n] = '\0';
		put(l, "{\"req\":\"%s\"}", name);
	} else if (kind < 84) {		/* nesting, too deep for the parser */
		n = 33 + rnd(3000);
		l->buf = malloc(2 * n + 1);
		memset(l->buf, '[', n);
		memset(l->buf + n, ']', n);
		l->len = 2 * n;
	} else if (kind < 90) {		/* bad UTF-8, or a NUL after the object */
		static const char bad_utf8[] = "{\"req\":\"st\xff\xfe" "ats\"}";
		static const char nul[] = "{\"req\":\"stats\"}\0{}";
		bool utf = rnd(2);

		l->len = utf ? sizeof(bad_utf8) - 1 : sizeof(nul) - 1;
		l->buf = malloc(l->len);
		memcpy(l->buf, utf ? bad_utf8 : nul, l->len);
	} else if (kind < 96 || rnd(4)) {	/* long, but within the limit */
		n = rnd(CZ_STATS_LINE_MAX - 100);
		l->buf = malloc(n + 64);
		l->len = sprintf(l->buf, "{\"req\":\"stats\",\"pad\":\"");
		memset(l->buf + l->len, 'x', n);
		l->len += n;
		l->len += sprintf(l->buf + l->len, "\"}");
		l->expect = EXPECT_OK;
	} else {			/* over the limit: error, then closed */
		l->buf = malloc(OVERSIZE);
		memset(l->buf, ' ', OVERSIZE);
		l->len = OVERSIZE;
		l->expect = EXPECT_TOO_LONG;
	}
}

struct fuzz {
	const char	*path;
	int		fd;
	char		*out;		/* bytes to send */
	size_t		out_len;
	size_t		out_off;
	char		*in;		/* a reply line being received */
	size_t		in_len;
	size_t		in_cap;
	int		expect[MAX_OUTSTANDING];	/* ring of outcomes awaited */
	unsigned int	head, nr;
	bool		dying;		/* an over-long line went out */
	unsigned long	sent, replies, ok, errors, too_long, reconnects;
};

static void check_reply(struct fuzz *z, const char *line, size_t len)
{
	struct json_object *resp;
	char err[256];
	int want, ret;

	if (!z->nr)
		die("a reply nobody asked for: %.*s", (int)(len > 200 ? 200 : len), line);
	want = z->expect[z->head];
	z->head = (z->head + 1) % MAX_OUTSTANDING;
	z->nr--;
	ret = cz_stats_decode_reply(line, len, &resp, err, sizeof(err));
	if (ret < 0)
		die("reply %lu is not a reply (%s): %.*s", z->replies, err,
		    (int)(len > 200 ? 200 : len), line);
	if (want == EXPECT_OK && ret)
		die("reply %lu: a well-formed request got errno %d: %s", z->replies, ret, err);
	if (want == EXPECT_ERR && !ret)
		die("reply %lu: a malformed request got errno 0", z->replies);
	if (want == EXPECT_TOO_LONG && ret != EMSGSIZE)
		die("reply %lu: an over-long line got errno %d, not EMSGSIZE", z->replies, ret);
	json_object_put(resp);
	z->replies++;
	if (want == EXPECT_OK)
		z->ok++;
	else if (want == EXPECT_ERR)
		z->errors++;
	else
		z->too_long++;
}

/* Receive what is there; false on EOF. */
static bool fuzz_read(struct fuzz *z)
{
	char buf[65536];
	ssize_t n = recv(z->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;	/* EOF, or ECONNRESET after an over-long line */
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			check_reply(z, z->in, z->in_len);
			z->in_len = 0;
			continue;
		}
		if (z->in_len == z->in_cap) {
			z->in_cap = z->in_cap ? 2 * z->in_cap : 65536;
			z->in = realloc(z->in, z->in_cap);
			if (!z->in)
				die("out of memory");
		}
		z->in[z->in_len++] = buf[i];
	}
	return true;
}

static void fuzz_reconnect(struct fuzz *z)
{
	if (z->fd >= 0)
		close(z->fd);
	z->fd = connect_to(z->path, true);
	z->out_len = z->out_off = z->in_len = 0;
	z->head = z->nr = 0;
	z->dying = false;
}

static int cmd_fuzz(const char *path, unsigned long lines, unsigned long long seed)
{
	struct fuzz z = { .path = path, .fd = -1 };
	unsigned long made = 0;
	struct json_object *resp;
	char err[256];
	int fd, ret;

	rng = seed ? seed : 1;
	fuzz_reconnect(&z);
	z.reconnects = 0;
	while (made < lines || z.nr) {
		struct pollfd p = { .fd = z.fd, .events = POLLIN };

		/* Queue the next line while the window has room. */
		if (z.out_off == z.out_len && made < lines && !z.dying &&
		    z.nr < MAX_OUTSTANDING) {
			struct line l;

			gen(&l);
			free(z.out);
			z.out = malloc(l.len + 1);
			memcpy(z.out, l.buf, l.len);
			z.out[l.len] = '\n';
			z.out_len = l.len + 1;
			z.out_off = 0;
			free(l.buf);
			z.expect[(z.head + z.nr) % MAX_OUTSTANDING] = l.expect;
			z.nr++;
			z.sent++;
			made++;
			z.dying = l.expect == EXPECT_TOO_LONG;
		}
		if (z.out_off < z.out_len)
			p.events |= POLLOUT;
		ret = poll(&p, 1, REPLY_TIMEOUT_MS);
		if (ret == 0)
			die("no progress for %d ms with %u replies outstanding (after %lu lines)",
			    REPLY_TIMEOUT_MS, z.nr, z.sent);
		if (p.revents & POLLIN || p.revents & POLLHUP) {
			if (!fuzz_read(&z)) {
				if (!z.dying)
					die("the server closed the connection after %lu lines without cause",
					    z.sent);
				if (z.nr)
					die("closed with %u replies missing after an over-long line",
					    z.nr);
				fuzz_reconnect(&z);
				z.reconnects++;
				continue;
			}
		}
		if (p.revents & POLLOUT && z.out_off < z.out_len) {
			ssize_t n = send(z.fd, z.out + z.out_off, z.out_len - z.out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n > 0)
				z.out_off += n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				if (!z.dying)
					die("send: %s after %lu lines", strerror(errno), z.sent);
				z.out_off = z.out_len;	/* the server gave up on it */
			}
		}
	}
	close(z.fd);

	/* After all that, a fresh client still gets a correct answer. */
	fd = connect_to(path, false);
	{
		struct timeval tv = { .tv_sec = 10 };
		char *req = cz_stats_request("stats", "top"), buf[65536];
		size_t got = 0;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
			die("final request: send: %s", strerror(errno));
		free(req);
		while (!memchr(buf, '\n', got)) {
			ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);

			if (n <= 0 || got + n == sizeof(buf))
				die("final request: no reply");
			got += n;
		}
		ret = cz_stats_decode_reply(buf, (char *)memchr(buf, '\n', got) - buf,
					  &resp, err, sizeof(err));
		if (ret || !json_object_object_get_ex(resp, "sched", NULL))
			die("final request: errno %d (%s)", ret, err);
		json_object_put(resp);
		close(fd);
	}
	printf("fuzz: %lu lines (seed %llu): %lu well-formed answered, %lu malformed refused, "
	       "%lu over-long cut off (%lu reconnects); a fresh stats request is answered\n",
	       z.sent, seed, z.ok, z.errors, z.too_long, z.reconnects);
	free(z.out);
	free(z.in);
	return 0;
}

/* ---- hold: requests sent, replies never read ---- */

static int cmd_hold(const char *path, double secs)
{
	int fd = connect_to(path, true);
	char *req = cz_stats_request("stats_meta", NULL);
	size_t len = strlen(req);
	double start = cz_now();
	unsigned long sent = 0;

	while (cz_now() - start < secs) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		/* A full send buffer is fine: keep pushing, never read. */
		n = send(fd, req, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			sent++;
		else if (n < 0 && errno != EAGAIN) {
			printf("hold: dropped by the server after %.1f s (%s; %lu requests sent, none read)\n",
			       cz_now() - start, strerror(errno), sent);
			return 0;
		}
		poll(&p, 1, 100);
		if (p.revents & (POLLHUP | POLLERR)) {
			printf("hold: dropped by the server after %.1f s (%lu requests sent, none read)\n",
			       cz_now() - start, sent);
			return 0;
		}
		if (n < 0)
			usleep(100000);
	}
	printf("hold: still connected after %.0f s\n", secs);
	return 1;
}

/* ---- cut: hang up mid-reply ---- */

static int cmd_cut(const char *path, unsigned long count)
{
	char *req = cz_stats_request("stats_meta", NULL), buf[100];
	size_t len = strlen(req);

	for (unsigned long i = 0; i < count; i++) {
		int fd = connect_to(path, true);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		/* Enough requests that the replies cannot all be written yet. */
		for (int k = 0; k < (i % 2 ? 300 : 1); k++)
			if (send(fd, req, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				break;
		if (i % 2) {
			poll(&p, 1, 5000);
			if (recv(fd, buf, sizeof(buf), 0) <= 0)
				die("cut: no reply started");
		}
		close(fd);
	}
	printf("cut: hung up %lu times before the replies were read\n", count);
	free(req);
	return 0;
}

/* ---- listen: a live server that never answers ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_listen(const char *path, double secs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_signal };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	double start = cz_now();

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4))
		die("listen %s: %s", path, strerror(errno));
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	printf("listen: %s\n", path);
	fflush(stdout);
	while (!stop && cz_now() - start < secs)
		usleep(50000);
	unlink(path);
	return 0;
}

static void usage(void)
{
	fputs("usage: cz-fuzz-ctl fuzz SOCKET [LINES [SEED]]\n"
	      "       cz-fuzz-ctl hold SOCKET SECS\n"
	      "       cz-fuzz-ctl cut SOCKET COUNT\n"
	      "       cz-fuzz-ctl listen SOCKET SECS\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "fuzz") && argc <= 5)
		return cmd_fuzz(argv[2], argc > 3 ? strtoul(argv[3], NULL, 0) : 10000,
				argc > 4 ? strtoull(argv[4], NULL, 0) :
				(unsigned long long)time(NULL));
	if (!strcmp(argv[1], "hold") && argc == 4)
		return cmd_hold(argv[2], strtod(argv[3], NULL));
	if (!strcmp(argv[1], "cut") && argc == 4)
		return cmd_cut(argv[2], strtoul(argv[3], NULL, 0));
	if (!strcmp(argv[1], "listen") && argc == 4)
		return cmd_listen(argv[2], strtod(argv[3], NULL));
	usage();
}
