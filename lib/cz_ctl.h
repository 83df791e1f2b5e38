/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket: what a running scheduler serves and czctl reads.
 *
 * The protocol is the one of scx_stats (sched-ext/scx, rust/scx_stats), so
 * that existing scx clients can read controlzone schedulers: one JSON
 * object per line in each direction.
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
 * controlzone's extensions; scx clients never send them. Tunables also appear in stats replies (current values)
 * and in stats_meta (with "_kind":"tunable" and their range and default).
 *
 * This header is free of libbpf: czctl and the unit tests use it without
 * BPF. lib/cz_ctl_proto.c holds the pure functions (decode, encode,
 * metadata, output formats), lib/cz_ctl.c the server thread.
 */
#ifndef __CZ_CTL_H
#define __CZ_CTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "cz_shared.h"

struct json_object;

/* Where scx_stats clients look by default. */
#define CZ_CTL_DEFAULT_PATH	"/var/run/scx/root/stats"

enum {
	/* Longest request line accepted; a longer one ends the connection. */
	CZ_CTL_LINE_MAX		= 64 * 1024,
	/* Longest reply line a client accepts. */
	CZ_CTL_REPLY_MAX	= 16 * 1024 * 1024,
};

/*
 * One statistic of a scheduler, from its X-macro list. The same table
 * drives the terminal line, --json, the socket's replies and stats_meta.
 */
struct cz_stat_desc {
	const char		*key;
	enum cz_stat_kind	kind;
	const char		*desc;
};

/* Turns a scheduler's X-macro stats list into a descriptor table. */
#define CZ_STAT_DESC(id, key, kind, desc) [id] = { key, kind, desc },

/* One live tunable, from its X-macro list (cz_shared.h). */
struct cz_knob_desc {
	const char	*name;
	u64		min;
	u64		max;
	u64		dfl;
	const char	*desc;
};

#define CZ_KNOB_DESC(id, name, min, max, dfl, desc) \
	[id] = { name, min, max, dfl, desc },

/*
 * The knob called @name if @value is in its range: its index, else
 * -ENOENT (unknown name) or -ERANGE, with @err saying why in one line.
 */
int cz_knob_check(const struct cz_knob_desc *knobs, unsigned int nr,
		  const char *name, u64 value, char *err, size_t errlen);

/*
 * A snapshot of the statistics: @vals (passed alongside) holds
 * nr_stats * nr_cpus u64s, stat-major, as read from the per-CPU map.
 */
struct cz_stats_view {
	const char			*sched;
	const struct cz_stat_desc	*desc;
	unsigned int			nr_stats;
	unsigned int			nr_cpus;
	const struct cz_knob_desc	*knobs;
	unsigned int			nr_knobs;
	const u64			*knob_vals;	/* current values */
	double				uptime_s;
	double				interval_s;
	bool				total;
};

/* ---- requests ---- */

enum cz_ctl_req_kind {
	CZ_CTL_REQ_STATS,
	CZ_CTL_REQ_STATS_META,
	CZ_CTL_REQ_SET,
	CZ_CTL_REQ_RULE,
};

enum {
	CZ_KNOB_NAME_MAX	= 64,	/* with its NUL; also a rule's name */
	CZ_RULE_ARG_MAX		= 4096,	/* a rule's argument (a path) */
};

struct cz_ctl_req {
	enum cz_ctl_req_kind	kind;
	/* CZ_CTL_REQ_SET, CZ_CTL_REQ_RULE */
	char			name[CZ_KNOB_NAME_MAX];
	u64			value;
	/* CZ_CTL_REQ_RULE */
	bool			add;
	char			arg[CZ_RULE_ARG_MAX];
};

/*
 * Decode one request line (without its '\n'). Returns 0, or the errno of
 * the error reply (EINVAL: malformed or unknown, EMSGSIZE: too long) with
 * @err saying why.
 */
int cz_ctl_decode(const char *line, size_t len, struct cz_ctl_req *req,
		  char *err, size_t errlen);

/* A request line ending in '\n' (malloc'd); @target NULL: no args. */
char *cz_ctl_request(const char *req, const char *target);
/* A "set" request line ending in '\n' (malloc'd). */
char *cz_ctl_set_request(const char *name, u64 value);
/* A "rule" request line ending in '\n' (malloc'd). */
char *cz_ctl_rule_request(bool add, const char *rule, const char *value);

/* ---- replies ---- */

/*
 * A reply line ending in '\n' (malloc'd, length in *@len); takes over
 * @resp. NULL only when out of memory.
 */
char *cz_ctl_reply(int err, struct json_object *resp, size_t *len);
char *cz_ctl_error_reply(int err, const char *msg, size_t *len);

/*
 * Decode a reply line. Returns 0 with *@resp (the caller's reference), the
 * server's errno (> 0) with its message in @err, or -1 if the line is not
 * a reply.
 */
int cz_ctl_decode_reply(const char *line, size_t len, struct json_object **resp,
			char *err, size_t errlen);

/* stats' resp: counters as totals, gauges as values, per-CPU lists. */
struct json_object *cz_ctl_stats_resp(const struct cz_stats_view *v,
				      const u64 *vals);
/* stats_meta's resp, from the same descriptor tables (stats, knobs). */
struct json_object *cz_ctl_meta_resp(const struct cz_stats_view *v);

/*
 * Where a server's answers come from. @stats and @set run on the server
 * thread and return 0 with a new resp object, or an errno with @err
 * filled. @set NULL: the scheduler has no tunables; @rule NULL: no task
 * sets.
 */
struct cz_ctl_source {
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
char *cz_ctl_handle(const struct cz_ctl_source *src, const char *line,
		    size_t len, size_t *out_len);

/* ---- what czctl prints ---- */

/* One "key value" line per field of a stats resp. */
int cz_ctl_print_text(FILE *f, struct json_object *resp);
/* OpenMetrics text from a stats_meta resp and a stats resp. */
int cz_ctl_print_openmetrics(FILE *f, struct json_object *meta,
			     struct json_object *resp);

/* ---- a client (lib/cz_ctl_client.c) ---- */

struct cz_ctl_conn {
	int	fd;
	char	*buf;		/* received, not yet returned */
	size_t	len;
	size_t	cap;
};

/* 0, or the errno of socket()/connect() (ENAMETOOLONG: @path too long). */
int cz_ctl_connect(struct cz_ctl_conn *c, const char *path, int timeout_s);
void cz_ctl_disconnect(struct cz_ctl_conn *c);
/*
 * Send request @line (taken over; NULL counts as out of memory), read one
 * reply line. Returns 0 with *@resp, the server's errno (> 0) with its
 * message in @msg, or -1 with @msg saying what broke. EINTR is retried
 * unless *@stop (may be NULL) is set.
 */
int cz_ctl_call(struct cz_ctl_conn *c, char *line, struct json_object **resp,
		char *msg, size_t len, const volatile sig_atomic_t *stop);

/* ---- the server ---- */

struct cz_ctl_server;

/*
 * Create the socket at @path (and its directory), replacing a stale one.
 * Fails if a live server answers there, or @path is something else. Call
 * before anything is attached: nothing is served until cz_ctl_server_start.
 */
int cz_ctl_server_open(struct cz_ctl_server **srv, const char *path,
		       char *err, size_t errlen);
/* Serve @src (copied; its meta must outlive the server) from a thread. */
int cz_ctl_server_start(struct cz_ctl_server *srv,
			const struct cz_ctl_source *src);
/* Stop serving, close every connection, remove the socket file. */
void cz_ctl_server_close(struct cz_ctl_server *srv);

/* A statistic summed over CPUs (for a gauge: its value, kept in CPU 0's slot). */
u64 cz_stats_total(const u64 *vals, unsigned int idx, unsigned int nr_cpus);

/* First line of a (sysfs) file, without its newline; -1 if unreadable. */
int cz_read_line(const char *path, char *buf, size_t len);

#endif /* __CZ_CTL_H */
