/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket's server: a UNIX stream socket served by one thread of
 * the scheduler's process, answering from a cz_stats_source
 * (cz_stats_proto.h). lib/cz_stats_server.c says how it stays out of the
 * scheduler's way.
 */
#ifndef __CZ_STATS_SERVER_H
#define __CZ_STATS_SERVER_H

#include <stddef.h>
#include "cz_stats_proto.h"

struct cz_stats_server;

/*
 * Create the socket at @path (and its directory), replacing a stale one.
 * Fails if a live server answers there, or @path is something else. Call
 * before anything is attached: nothing is served until
 * cz_stats_server_start().
 */
int cz_stats_server_open(struct cz_stats_server **srv, const char *path,
			 char *err, size_t errlen);
/* Serve @src (copied; its meta must outlive the server) from a thread. */
int cz_stats_server_start(struct cz_stats_server *srv,
			  const struct cz_stats_source *src);
/* Stop serving, close every connection, remove the socket file. */
void cz_stats_server_close(struct cz_stats_server *srv);

#endif /* __CZ_STATS_SERVER_H */
