/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket's protocol: what a running scheduler serves, czctl
 * asks and the server (cz_stats_server.h) answers with.
 *
 * It is the protocol of scx_stats (sched-ext/scx, rust/scx_stats), so that
 * existing scx clients can read controlzone schedulers: one JSON object
 * per line in each direction.
 *
 *   {"req":"stats","args":{"target":"top"}} -> {"errno":0,"args":{"resp":{...}}}
 *   {"req":"stats_meta"}                    -> {"errno":0,"args":{"resp":{...}}}
 *   {"req":"set","args":{"name":N,"value":V}} -> {"errno":0,"args":{"resp":
 *                                   {"name":N,"value":V,"old":OLD}}}
 *   {"req":"rule","args":{"op":"add"|"del","rule":R,"value":S}}
 *                                -> {"errno":0,"args":{"resp":
 *                                   {"op":..,"rule":R,"value":S,"rules":N}}}
 *   anything else                           -> {"errno":22,"args":{"resp":"why"}}
 *
 * "set" (a live tunable change) and "rule" (add or remove a task-set rule,
 * R like "lc-pid", S its argument as on the command line) are
 * controlzone's extensions; scx clients never send them. Tunables also
 * appear in stats replies (current values) and in stats_meta (with
 * "_kind":"tunable" and their range and default).
 *
 * Pure functions (no sockets, no libbpf), so the server, czctl and the
 * unit tests share one implementation.
 */
#ifndef __CZ_STATS_PROTO_H
#define __CZ_STATS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include "cz_stats.h"

struct json_object;

/* Where scx_stats clients look by default. */
#define CZ_STATS_SOCKET_DIR	"/var/run/scx"
#define CZ_STATS_SOCKET_DEFAULT	CZ_STATS_SOCKET_DIR "/root/stats"

enum {
	/* Longest request line accepted; a longer one ends the connection. */
	CZ_STATS_LINE_MAX	= 64 * 1024,
	/* Longest reply line a client accepts. */
	CZ_STATS_REPLY_MAX	= 16 * 1024 * 1024,
	/* A rule's argument (a path), with its NUL. */
	CZ_RULE_ARG_MAX		= 4096,
};

/* ---- requests ---- */

enum cz_stats_req_kind {
	CZ_STATS_REQ_STATS,
	CZ_STATS_REQ_STATS_META,
	CZ_STATS_REQ_SET,
	CZ_STATS_REQ_RULE,
};

struct cz_stats_req {
	enum cz_stats_req_kind	kind;
	/* CZ_STATS_REQ_SET, CZ_STATS_REQ_RULE */
	char			name[CZ_TUNABLE_NAME_MAX];
	u64			value;
	/* CZ_STATS_REQ_RULE */
	bool			add;
	char			arg[CZ_RULE_ARG_MAX];
};

/*
 * Decode one request line (without its '\n'). Returns 0, or the errno of
 * the error reply (EINVAL: malformed or unknown, EMSGSIZE: too long) with
 * @err saying why.
 */
int cz_stats_decode_request(const char *line, size_t len,
			    struct cz_stats_req *req, char *err, size_t errlen);

/* A request line ending in '\n' (malloc'd); @target NULL: no args. */
char *cz_stats_request(const char *req, const char *target);
/* A "set" request line ending in '\n' (malloc'd). */
char *cz_stats_set_request(const char *name, u64 value);
/* A "rule" request line ending in '\n' (malloc'd). */
char *cz_stats_rule_request(bool add, const char *rule, const char *value);

/* ---- replies ---- */

/*
 * A reply line ending in '\n' (malloc'd, length in *@len); takes over
 * @resp. NULL only when out of memory.
 */
char *cz_stats_reply(int err, struct json_object *resp, size_t *len);
char *cz_stats_error_reply(int err, const char *msg, size_t *len);

/*
 * Decode a reply line. Returns 0 with *@resp (the caller's reference), the
 * server's errno (> 0) with its message in @err, or -1 if the line is not
 * a reply.
 */
int cz_stats_decode_reply(const char *line, size_t len,
			  struct json_object **resp, char *err, size_t errlen);

/* stats' resp: counters as totals, gauges as values, per-CPU lists. */
struct json_object *cz_stats_resp(const struct cz_stats_view *v,
				  const u64 *vals);
/* stats_meta's resp, from the same descriptor tables (stats, tunables). */
struct json_object *cz_stats_meta_resp(const struct cz_stats_view *v);

/* ---- answering ---- */

/*
 * Where a server's answers come from. @stats, @set and @rule run on the
 * server thread and return 0 with a new resp object, or an errno with
 * @err filled. @set NULL: the scheduler has no tunables; @rule NULL: no
 * task sets.
 */
struct cz_stats_source {
	struct json_object	*meta;		/* stats_meta's resp, borrowed */
	int			(*stats)(void *ctx, struct json_object **resp,
					 char *err, size_t errlen);
	int			(*set)(void *ctx, const char *name, u64 value,
				       struct json_object **resp, char *err,
				       size_t errlen);
	int			(*rule)(void *ctx, bool add, const char *rule,
					const char *arg, struct json_object **resp,
					char *err, size_t errlen);
	void			*ctx;
};

/* One request line in, one reply line out (malloc'd; NULL: no memory). */
char *cz_stats_handle(const struct cz_stats_source *src, const char *line,
		      size_t len, size_t *out_len);

#endif /* __CZ_STATS_PROTO_H */
