/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lines over a stream: what the zone agent and the zone supervisor speak
 * to each other (one JSON object a line) over a virtio-serial port and
 * UNIX sockets. Input is buffered until a line is complete; output is
 * written whole, waiting a bounded time for a slow peer.
 */
#ifndef __CZ_LINES_H
#define __CZ_LINES_H

#include <stddef.h>

struct cz_lines {
	char	*buf;
	size_t	len;	/* bytes held */
	size_t	off;	/* bytes already returned as lines */
	size_t	cap;
	size_t	max;	/* longest line accepted */
};

/* An empty buffer taking lines of at most @max bytes. */
void cz_lines_init(struct cz_lines *lb, size_t max);
void cz_lines_free(struct cz_lines *lb);
/*
 * Read what @fd has (non-blocking or after poll). 1: read something; 0:
 * end of file; -1: error (errno; EMSGSIZE: a line longer than max).
 */
int cz_lines_fill(struct cz_lines *lb, int fd);
/*
 * The next complete line, NUL-terminated in place without its '\n' (and
 * '\r'), or NULL. Valid until the next cz_lines_fill().
 */
char *cz_lines_next(struct cz_lines *lb);
/*
 * Write all of @buf to @fd, polling while it would block, for at most
 * @timeout_ms in all. 0, or -1 (errno; ETIMEDOUT).
 */
int cz_write_all(int fd, const char *buf, size_t len, int timeout_ms);

#endif /* __CZ_LINES_H */
