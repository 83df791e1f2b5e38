/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket's client (cz_stats_client.h).
 *
 * Key choices: send and receive time out (a wedged server must not hang a
 * monitoring script); EINTR is retried unless the caller's stop flag is
 * set, so SIGINT can end a --follow loop without being an error; replies
 * are capped at CZ_STATS_REPLY_MAX.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include "cz_stats_client.h"

enum {
	BUF_MIN	= 16384,
};

int cz_stats_connect(struct cz_stats_conn *c, const char *path, int timeout_s)
{
	struct timeval tv = { .tv_sec = timeout_s };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return errno;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

void cz_stats_disconnect(struct cz_stats_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

static bool stopped(const volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

int cz_stats_call(struct cz_stats_conn *c, char *line, struct json_object **resp,
		char *msg, size_t len, const volatile sig_atomic_t *stop)
{
	size_t n = line ? strlen(line) : 0, off = 0;
	char *nl;
	int ret;

	*resp = NULL;
	if (!line) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	while (off < n) {
		ssize_t w = send(c->fd, line + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR && !stopped(stop))
			continue;
		if (w <= 0) {
			snprintf(msg, len, "sending the request failed: %s",
				 errno == EAGAIN ? "timed out" : strerror(errno));
			free(line);
			return -1;
		}
		off += w;
	}
	free(line);

	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL)) {
		ssize_t r;

		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : BUF_MIN;
			char *p;

			if (c->cap >= CZ_STATS_REPLY_MAX) {
				snprintf(msg, len, "reply longer than %d bytes", CZ_STATS_REPLY_MAX);
				return -1;
			}
			p = realloc(c->buf, cap);
			if (!p) {
				snprintf(msg, len, "out of memory");
				return -1;
			}
			c->buf = p;
			c->cap = cap;
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r < 0 && errno == EINTR && !stopped(stop))
			continue;
		if (r == 0) {
			snprintf(msg, len, "the server closed the connection (the scheduler exited?)");
			return -1;
		}
		if (r < 0) {
			snprintf(msg, len, "no reply: %s",
				 errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
		c->len += r;
	}
	ret = cz_stats_decode_reply(c->buf, nl - c->buf, resp, msg, len);
	c->len -= nl + 1 - c->buf;
	memmove(c->buf, nl + 1, c->len);
	return ret;
}
