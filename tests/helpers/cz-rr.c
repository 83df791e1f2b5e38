/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-rr: a TCP request/response pair that measures per-request latency,
 * for network-aware scheduling tests (tests/vm/t-netaware.sh).
 *
 *   cz-rr server PORT [--spin-us N]
 *   cz-rr client ADDR PORT [--count N] [--gap-us N] [--size BYTES]
 *                          [--duration S] [--raw FILE]
 *
 * The server answers each request of SIZE bytes with SIZE bytes, one
 * connection at a time; with --spin-us it burns N us of CPU between
 * receiving a request and answering (a task that receives packets, then
 * computes). The client sends COUNT requests one after another, sleeping
 * GAP us between them so that both sides sleep and are woken by the
 * network, and prints one line:
 *   requests N p50_us X p90_us X p99_us X p99.9_us X max_us X
 * With --duration it stops after S seconds (or COUNT requests, if given,
 * whichever comes first); --raw writes each request's start (s since the
 * first) and latency (us), one "T US" line each, for percentiles over
 * several runs and for plots.
 *
 * Key choices: TCP_NODELAY, one outstanding request (latency, not
 * throughput), blocking sockets (a wakeup per message, which is what a
 * scheduler sees of an epoll server too). Bad usage: one line, exit 2;
 * network errors: one line, exit 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "cz_util.h"

enum {
	MAX_SIZE		= 65536,
	MAX_COUNT		= 10 * 1000 * 1000,
	CONNECT_TRIES		= 100,	/* 10 s for the server to come up */
	CONNECT_WAIT_US		= 100 * 1000,
};

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("cz-rr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static long num(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die(CZ_EXIT_USAGE, "%s: '%s' is not a number in [%ld, %ld]", what, s,
		    min, max);
	return v;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Read or write exactly @len bytes; 0, or -1 on EOF or error. */
static int xfer(int fd, char *buf, size_t len, int writing)
{
	while (len) {
		ssize_t n = writing ? write(fd, buf, len) : read(fd, buf, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void __attribute__((noreturn)) serve(int port, long spin_us)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char buf[MAX_SIZE];
	int one = 1, lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die(1, "socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
		die(1, "port %d: %s", port, strerror(errno));
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			continue;
		nodelay(fd);
		/* A request is whatever one read returns; answered in kind. */
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			double until = cz_now() * 1e6 + spin_us;

			while (spin_us && cz_now() * 1e6 < until)
				;
			if (xfer(fd, buf, n, 1))
				break;
		}
		close(fd);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
	long i = (long)(p / 100 * n + 0.999999) - 1;

	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

struct client_opts {
	long		count;
	long		gap_us;
	long		size;
	double		duration;	/* 0: by count only */
	const char	*raw;
};

static int client(const char *addr, int port, const struct client_opts *o)
{
	long count = o->count, gap_us = o->gap_us, size = o->size, n = 0, cap;
	double start, *at;
	FILE *raw = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char buf[MAX_SIZE];
	double *lat;
	int fd = -1, i;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		die(CZ_EXIT_USAGE, "'%s' is not an IPv4 address", addr);
	for (i = 0; i < CONNECT_TRIES; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die(1, "socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		fd = -1;
		sleep_us(CONNECT_WAIT_US);
	}
	if (fd < 0)
		die(1, "cannot connect to %s:%d: %s", addr, port, strerror(errno));
	nodelay(fd);
	if (o->raw && !(raw = fopen(o->raw, "w")))
		die(1, "%s: %s", o->raw, strerror(errno));
	cap = count < 65536 ? count : 65536;
	lat = calloc(cap, sizeof(*lat));
	at = calloc(cap, sizeof(*at));
	if (!lat || !at)
		die(1, "out of memory");
	memset(buf, 'r', size);
	start = cz_now();
	for (long k = 0; k < count; k++) {
		double t0 = cz_now() * 1e6;

		if (o->duration && cz_now() - start >= o->duration)
			break;
		if (k == cap) {
			cap *= 2;
			lat = realloc(lat, cap * sizeof(*lat));
			at = realloc(at, cap * sizeof(*at));
			if (!lat || !at)
				die(1, "out of memory");
		}
		if (xfer(fd, buf, size, 1) || xfer(fd, buf, size, 0))
			die(1, "request %ld: the server hung up", k);
		lat[k] = cz_now() * 1e6 - t0;
		at[k] = t0 / 1e6 - start;
		n++;
		if (gap_us)
			sleep_us(gap_us);
	}
	if (!n)
		die(1, "no request within the duration");
	count = n;
	for (long k = 0; raw && k < count; k++)
		fprintf(raw, "%.6f %.1f\n", at[k], lat[k]);
	if (raw && fclose(raw))
		die(1, "%s: %s", o->raw, strerror(errno));
	free(at);
	qsort(lat, count, sizeof(*lat), cmp_double);
	printf("requests %ld p50_us %.0f p90_us %.0f p99_us %.0f p99.9_us %.0f max_us %.0f\n",
	       count, pct(lat, count, 50), pct(lat, count, 90), pct(lat, count, 99),
	       pct(lat, count, 99.9), lat[count - 1]);
	return 0;
}

static void usage(void)
{
	fputs("usage: cz-rr server PORT [--spin-us N]\n"
	      "       cz-rr client ADDR PORT [--count N] [--gap-us N] [--size BYTES]\n"
	      "                              [--duration S] [--raw FILE]\n",
	      stderr);
	exit(CZ_EXIT_USAGE);
}

int main(int argc, char **argv)
{
	struct client_opts o = { .count = -1, .gap_us = 1000, .size = 64 };
	long spin_us = 0;
	int server, nargs, i;

	if (argc < 2)
		usage();
	server = !strcmp(argv[1], "server");
	if (!server && strcmp(argv[1], "client"))
		die(CZ_EXIT_USAGE, "unknown mode '%s' (server or client)", argv[1]);
	nargs = server ? 1 : 2;
	if (argc < 2 + nargs)
		die(CZ_EXIT_USAGE, "%s needs %s", argv[1], server ? "PORT" : "ADDR PORT");
	for (i = 2 + nargs; i < argc; i += 2) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			die(CZ_EXIT_USAGE, "%s needs a value", opt);
		if (server && !strcmp(opt, "--spin-us"))
			spin_us = num(opt, argv[i + 1], 0, 10 * 1000 * 1000);
		else if (!server && !strcmp(opt, "--count"))
			o.count = num(opt, argv[i + 1], 1, MAX_COUNT);
		else if (!server && !strcmp(opt, "--gap-us"))
			o.gap_us = num(opt, argv[i + 1], 0, 10 * 1000 * 1000);
		else if (!server && !strcmp(opt, "--size"))
			o.size = num(opt, argv[i + 1], 1, MAX_SIZE);
		else if (!server && !strcmp(opt, "--duration"))
			o.duration = num(opt, argv[i + 1], 1, 24 * 3600);
		else if (!server && !strcmp(opt, "--raw"))
			o.raw = argv[i + 1];
		else
			die(CZ_EXIT_USAGE, "unknown option '%s' for %s", opt, argv[1]);
	}
	if (server)
		serve(num("PORT", argv[2], 1, 65535), spin_us);
	if (o.count < 0)
		o.count = o.duration ? MAX_COUNT : 1000;
	return client(argv[2], num("PORT", argv[3], 1, 65535), &o);
}
