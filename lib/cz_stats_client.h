/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket's client: connect, send one request line, read one
 * reply line. czctl and the control benchmark's timing helper use it, so
 * what is measured is what czctl does.
 */
#ifndef __CZ_STATS_CLIENT_H
#define __CZ_STATS_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include "cz_stats_proto.h"

struct cz_stats_conn {
	int	fd;
	char	*buf;		/* received, not yet returned */
	size_t	len;
	size_t	cap;
};

/* 0, or the errno of socket()/connect() (ENAMETOOLONG: @path too long). */
int cz_stats_connect(struct cz_stats_conn *c, const char *path, int timeout_s);
void cz_stats_disconnect(struct cz_stats_conn *c);
/*
 * Send request @line (taken over; NULL counts as out of memory), read one
 * reply line. Returns 0 with *@resp, the server's errno (> 0) with its
 * message in @msg, or -1 with @msg saying what broke. EINTR is retried
 * unless *@stop (may be NULL) is set.
 */
int cz_stats_call(struct cz_stats_conn *c, char *line, struct json_object **resp,
		  char *msg, size_t len, const volatile sig_atomic_t *stop);

#endif /* __CZ_STATS_CLIENT_H */
