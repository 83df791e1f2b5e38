/* SPDX-License-Identifier: GPL-2.0 */
/* Lines over a stream; see cz_lines.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cz_lines.h"
#include "cz_util.h"

enum {
	READ_CHUNK	= 16 * 1024,
};

void cz_lines_init(struct cz_lines *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void cz_lines_free(struct cz_lines *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

int cz_lines_fill(struct cz_lines *lb, int fd)
{
	ssize_t n;

	/* Drop what was returned; keep the partial line. */
	if (lb->off) {
		memmove(lb->buf, lb->buf + lb->off, lb->len - lb->off);
		lb->len -= lb->off;
		lb->off = 0;
	}
	if (lb->len >= lb->max + 1) {
		errno = EMSGSIZE;
		return -1;
	}
	if (lb->cap - lb->len < READ_CHUNK) {
		size_t cap = lb->len + READ_CHUNK + 1;
		char *p = realloc(lb->buf, cap);

		if (!p)
			return -1;
		lb->buf = p;
		lb->cap = cap;
	}
	do {
		n = read(fd, lb->buf + lb->len, lb->cap - lb->len - 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
	if (!n)
		return 0;
	lb->len += n;
	return 1;
}

char *cz_lines_next(struct cz_lines *lb)
{
	char *start, *nl;

	if (lb->off >= lb->len)
		return NULL;
	start = lb->buf + lb->off;
	nl = memchr(start, '\n', lb->len - lb->off);
	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > start && nl[-1] == '\r')
		nl[-1] = '\0';
	lb->off = nl + 1 - lb->buf;
	return start;
}

int cz_write_all(int fd, const char *buf, size_t len, int timeout_ms)
{
	double deadline = cz_now() + timeout_ms / 1e3;

	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (n < 0 && errno != EINTR) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int left = (int)((deadline - cz_now()) * 1e3);

			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			poll(&p, 1, left);
		}
	}
	return 0;
}
