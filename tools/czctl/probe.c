/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Service probes (probe.h).
 *
 * Key choices:
 * - One thread for all of a zone's probes, apart from the supervisor's
 *   poll loop: a probe blocks for up to its timeout, and a latency taken
 *   in a loop that also relays stats and events would measure the loop.
 * - A connect probe opens a new connection each time (what it measures is
 *   the accept path); a request probe keeps one connection and opens it
 *   again after a failure, so it measures the service's wake-up and reply,
 *   as a client with a connection pool sees it.
 * - Results go to a ring per probe sized to the window (interval and
 *   window from the file); the percentiles are computed when asked, over
 *   the results younger than the window, under one mutex.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "cz_lines.h"
#include "cz_util.h"
#include "cz_zone.h"
#include "probe.h"

enum { REPLY_MAX = 4096 };

struct result {
	double	t;
	double	ms;		/* < 0: failed */
};

struct probe {
	const struct cz_zone_service	*svc;
	const struct cz_zone_probe	*cfg;
	int				fd;	/* a request probe's connection */
	double				next;
	struct result			*ring;
	unsigned int			size, head, count;
	unsigned long			total, total_errors;
};

static struct {
	struct probe	*p;
	unsigned int	n;
	pthread_mutex_t	lock;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A non-blocking connect to the probe's port, done by @deadline. */
static int dial(const struct cz_zone_probe *c, double deadline)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1, err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, c->addr, &sa.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
		goto fail;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int left = (int)((deadline - cz_now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) <= 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
			goto fail;
		return fd;
	}
fail:
	close(fd);
	return -1;
}

/* Send the request and read until the reply matches; 0 or -1. */
static int ask(int fd, const struct cz_zone_probe *c, double deadline)
{
	char buf[REPLY_MAX];
	size_t want = c->expect ? strlen(c->expect) : 1, got = 0;

	if (cz_write_all(fd, c->send, strlen(c->send),
			 (int)((deadline - cz_now()) * 1000)))
		return -1;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - cz_now()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	if (c->expect && memcmp(buf, c->expect, want))
		return -1;
	/* The rest of this reply, if it came apart, is read next time. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return 0;
}

/* One probe; its latency in ms, or -1. */
static double probe_once(struct probe *p)
{
	const struct cz_zone_probe *c = p->cfg;
	double t0 = cz_now(), deadline = t0 + c->timeout_s;

	if (!c->send) {
		int fd = dial(c, deadline);

		if (fd < 0)
			return -1;
		close(fd);
		return (cz_now() - t0) * 1000;
	}
	if (p->fd < 0)
		p->fd = dial(c, deadline);
	/* A new connection's set-up is not the service's reply time. */
	t0 = cz_now();
	if (p->fd < 0 || ask(p->fd, c, deadline)) {
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		return -1;
	}
	return (cz_now() - t0) * 1000;
}

static void record(struct probe *p, double t, double ms)
{
	pthread_mutex_lock(&P.lock);
	p->ring[p->head] = (struct result){ .t = t, .ms = ms };
	p->head = (p->head + 1) % p->size;
	if (p->count < p->size)
		p->count++;
	p->total++;
	p->total_errors += ms < 0;
	pthread_mutex_unlock(&P.lock);
}

static void *run(void *arg)
{
	(void)arg;
	for (;;) {
		double now = cz_now(), next = now + 1;

		for (unsigned int i = 0; i < P.n; i++) {
			struct probe *p = &P.p[i];

			if (now >= p->next) {
				record(p, now, probe_once(p));
				now = cz_now();
				/* A late probe is not followed by a burst. */
				p->next += p->cfg->interval_s;
				if (p->next < now)
					p->next = now + p->cfg->interval_s;
			}
			if (p->next < next)
				next = p->next;
		}
		if (next > now)
			cz_sleep(next - now);
	}
	return NULL;
}

int probes_start(const struct cz_zone *z)
{
	pthread_t t;

	for (unsigned int i = 0; i < z->nr_services; i++)
		P.n += z->services[i].probe.port != 0;
	if (!P.n)
		return 0;
	P.p = calloc(P.n, sizeof(*P.p));
	if (!P.p)
		return -1;
	for (unsigned int i = 0, k = 0; i < z->nr_services; i++) {
		const struct cz_zone_probe *c = &z->services[i].probe;
		struct probe *p = &P.p[k];

		if (!c->port)
			continue;
		p->svc = &z->services[i];
		p->cfg = c;
		p->fd = -1;
		p->next = cz_now();
		p->size = (unsigned int)ceil(c->window_s / c->interval_s) + 1;
		p->ring = calloc(p->size, sizeof(*p->ring));
		if (!p->ring)
			return -1;
		k++;
	}
	errno = pthread_create(&t, NULL, run, NULL);
	if (errno)
		return -1;
	pthread_detach(t);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @q quantile of @n sorted values, nearest rank. */
static double quantile(const double *v, unsigned int n, double q)
{
	unsigned int k = (unsigned int)ceil(q * n);

	return v[k ? k - 1 : 0];
}

bool probe_stats(const char *name, struct probe_stats *out)
{
	struct probe *p = NULL;
	double *v, now = cz_now();
	unsigned int n = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < P.n && !p; i++)
		if (!strcmp(P.p[i].svc->name, name))
			p = &P.p[i];
	if (!p)
		return false;
	v = calloc(p->size, sizeof(*v));
	pthread_mutex_lock(&P.lock);
	for (unsigned int i = 0; i < p->count; i++) {
		const struct result *r = &p->ring[(p->head + p->size - 1 - i) % p->size];

		if (now - r->t > p->cfg->window_s)
			break;
		out->n++;
		if (r->ms < 0)
			out->errors++;
		else if (v)
			v[n++] = r->ms;
	}
	out->last_ms = p->count ? p->ring[(p->head + p->size - 1) % p->size].ms : -1;
	out->total = p->total;
	out->total_errors = p->total_errors;
	pthread_mutex_unlock(&P.lock);
	if (n) {
		qsort(v, n, sizeof(*v), cmp_double);
		out->have = true;
		out->p50_ms = quantile(v, n, 0.50);
		out->p99_ms = quantile(v, n, 0.99);
	}
	free(v);
	return true;
}
