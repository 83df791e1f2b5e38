/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stats socket's protocol as pure functions (cz_stats_proto.h):
 * decoding requests, building replies and the metadata from a scheduler's
 * descriptor tables, and answering one request from a cz_stats_source.
 *
 * Message shapes follow scx_stats (sched-ext/scx, rust/scx_stats):
 * - request  {"req":NAME,"args":{...}}; "args" may be absent; for "stats",
 *   args.target defaults to "top", the only target there is. "set"
 *   ({"name":TUNABLE,"value":N}) and "rule" ({"op","rule","value"}) are
 *   ours: scx_stats has no such requests.
 * - reply    {"errno":0,"args":{"resp":VALUE}}; on error errno is non-zero
 *   and resp is a string saying why.
 * - stats_meta's resp maps a struct name to {"name","desc","top":"true",
 *   "user":{...},"fields":{NAME:{"datum"|"array":TYPE,"desc","user"}}},
 *   TYPE one of u64, i64, float, string. Free-form attributes live in
 *   "user" under keys starting with '_'. Ours: "_kind" (counter or gauge),
 *   "_percpu_of" (the per-CPU list of another field), "_unit", "_om_name",
 *   and "_om_prefix" on the struct, which scx's scxstats_to_openmetrics.py
 *   also reads. Tunables are fields of kind "tunable" with "_min", "_max"
 *   and "_default".
 *
 * Key choices:
 * - json-c parses (strict, UTF-8 validated) and prints. A request must be
 *   exactly one object on its line: trailing bytes, NULs, bad UTF-8 or
 *   nesting deeper than json-c's default (32) are EINVAL replies.
 * - Counters are totals since attach, gauges current values: rates are the
 *   client's business, as with Prometheus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cz_stats_proto.h"

enum {
	TO_STRING = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	ECHO_MAX = 64,		/* bytes of a client's string quoted back */
};

static bool str_is(struct json_object *o, const char *s)
{
	size_t n = strlen(s);

	/* Compare lengths too: "stats\u0000x" must not pass for "stats". */
	return json_object_is_type(o, json_type_string) &&
	       (size_t)json_object_get_string_len(o) == n &&
	       !memcmp(json_object_get_string(o), s, n);
}

/* Exactly one JSON value spanning the whole line, or NULL and why. */
static struct json_object *parse_line(const char *line, size_t len,
				      char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;

	if (!len) {
		snprintf(err, errlen, "empty line");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, len);
	e = json_tokener_get_error(tok);
	if (!o) {
		snprintf(err, errlen, "malformed JSON: %s",
			 e == json_tokener_continue ? "incomplete" :
			 json_tokener_error_desc(e));
	} else if (json_tokener_get_parse_end(tok) != len) {
		/* e.g. a NUL, or a second value after the first */
		snprintf(err, errlen, "malformed JSON: bytes after the value");
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* "set"'s args: a tunable name and a non-negative integer value. */
static int decode_set(struct json_object *args, struct cz_stats_req *req,
		      char *err, size_t errlen)
{
	struct json_object *name, *value;

	if (!args || !json_object_object_get_ex(args, "name", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_object_get_ex(args, "value", &value)) {
		snprintf(err, errlen, "set needs args {\"name\": string, \"value\": integer}");
		return EINVAL;
	}
	if ((size_t)json_object_get_string_len(name) >= sizeof(req->name) ||
	    strlen(json_object_get_string(name)) !=
	    (size_t)json_object_get_string_len(name)) {
		snprintf(err, errlen, "set: no tunable has such a name");
		return ENOENT;
	}
	/* json-c holds integers as int64, or as uint64 above INT64_MAX. */
	if (!json_object_is_type(value, json_type_int) ||
	    json_object_get_int64(value) < 0) {
		snprintf(err, errlen, "set: \"value\" must be a non-negative integer");
		return EINVAL;
	}
	strcpy(req->name, json_object_get_string(name));
	req->value = json_object_get_uint64(value);
	return 0;
}

/* A string member of @args that fits @len with its NUL and holds no NUL. */
static bool get_str(struct json_object *args, const char *key, char *buf,
		    size_t len)
{
	struct json_object *v;
	size_t n;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	n = json_object_get_string_len(v);
	if (n >= len || strlen(json_object_get_string(v)) != n)
		return false;
	memcpy(buf, json_object_get_string(v), n + 1);
	return true;
}

/* "rule"'s args: op "add" or "del", the rule's name and its argument. */
static int decode_rule(struct json_object *args, struct cz_stats_req *req,
		       char *err, size_t errlen)
{
	char op[4];

	if (!get_str(args, "op", op, sizeof(op)) ||
	    (strcmp(op, "add") && strcmp(op, "del")) ||
	    !get_str(args, "rule", req->name, sizeof(req->name)) ||
	    !get_str(args, "value", req->arg, sizeof(req->arg)) || !req->arg[0]) {
		snprintf(err, errlen, "rule needs args {\"op\": \"add\" or \"del\", "
			 "\"rule\": string, \"value\": non-empty string}");
		return EINVAL;
	}
	req->add = !strcmp(op, "add");
	return 0;
}

int cz_stats_decode_request(const char *line, size_t len, struct cz_stats_req *req,
		  char *err, size_t errlen)
{
	struct json_object *o, *name, *args = NULL, *target;
	int ret = EINVAL;

	if (len > CZ_STATS_LINE_MAX) {
		snprintf(err, errlen, "request longer than %d bytes", CZ_STATS_LINE_MAX);
		return EMSGSIZE;
	}
	o = parse_line(line, len, err, errlen);
	if (!o)
		return EINVAL;
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "a request must be a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(o, "req", &name) ||
	    !json_object_is_type(name, json_type_string)) {
		snprintf(err, errlen, "a request needs \"req\", a string");
		goto out;
	}
	/* Absent args are fine (scx_stats defaults them); null is not. */
	if (json_object_object_get_ex(o, "args", &args) &&
	    !json_object_is_type(args, json_type_object)) {
		snprintf(err, errlen, "\"args\" must be an object");
		goto out;
	}

	if (str_is(name, "stats")) {
		req->kind = CZ_STATS_REQ_STATS;
		if (args && json_object_object_get_ex(args, "target", &target) &&
		    !str_is(target, "top")) {
			if (json_object_is_type(target, json_type_string))
				snprintf(err, errlen, "unknown stats target \"%.*s\" (there is only \"top\")",
					 ECHO_MAX, json_object_get_string(target));
			else
				snprintf(err, errlen, "\"target\" must be a string");
			goto out;
		}
	} else if (str_is(name, "stats_meta")) {
		req->kind = CZ_STATS_REQ_STATS_META;
	} else if (str_is(name, "set")) {
		req->kind = CZ_STATS_REQ_SET;
		ret = decode_set(args, req, err, errlen);
		goto out;
	} else if (str_is(name, "rule")) {
		req->kind = CZ_STATS_REQ_RULE;
		ret = decode_rule(args, req, err, errlen);
		goto out;
	} else {
		snprintf(err, errlen, "unknown request \"%.*s\" (known: stats, stats_meta, set, rule)",
			 ECHO_MAX, json_object_get_string(name));
		goto out;
	}
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

/* @o as one line ending in '\n', malloc'd. */
static char *to_line(struct json_object *o, size_t *len)
{
	const char *s;
	size_t n;
	char *line;

	s = json_object_to_json_string_length(o, TO_STRING, &n);
	if (!s)
		return NULL;
	line = malloc(n + 2);
	if (!line)
		return NULL;
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return line;
}

char *cz_stats_request(const char *req, const char *target)
{
	struct json_object *o = json_object_new_object(), *args;
	char *line = NULL;

	if (!o)
		return NULL;
	json_object_object_add(o, "req", json_object_new_string(req));
	if (target) {
		args = json_object_new_object();
		json_object_object_add(args, "target", json_object_new_string(target));
		json_object_object_add(o, "args", args);
	}
	line = to_line(o, NULL);
	json_object_put(o);
	return line;
}

/* {"req":@req,"args":@args} as a line; takes over @args. */
static char *request_with_args(const char *req, struct json_object *args)
{
	struct json_object *o = args ? json_object_new_object() : NULL;
	char *line = NULL;

	if (o) {
		json_object_object_add(o, "req", json_object_new_string(req));
		json_object_object_add(o, "args", args);
		args = NULL;
		line = to_line(o, NULL);
	}
	json_object_put(args);
	json_object_put(o);
	return line;
}

char *cz_stats_set_request(const char *name, u64 value)
{
	struct json_object *args = json_object_new_object();

	if (args) {
		json_object_object_add(args, "name", json_object_new_string(name));
		json_object_object_add(args, "value", json_object_new_uint64(value));
	}
	return request_with_args("set", args);
}

char *cz_stats_rule_request(bool add, const char *rule, const char *value)
{
	struct json_object *args = json_object_new_object();

	if (args) {
		json_object_object_add(args, "op", json_object_new_string(add ? "add" : "del"));
		json_object_object_add(args, "rule", json_object_new_string(rule));
		json_object_object_add(args, "value", json_object_new_string(value));
	}
	return request_with_args("rule", args);
}

char *cz_stats_reply(int err, struct json_object *resp, size_t *len)
{
	struct json_object *o = json_object_new_object();
	struct json_object *args = json_object_new_object();
	char *line = NULL;

	if (!o || !args) {
		json_object_put(o);
		json_object_put(args);
		json_object_put(resp);
		return NULL;
	}
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(args, "resp", resp);
	json_object_object_add(o, "args", args);
	line = to_line(o, len);
	json_object_put(o);
	return line;
}

char *cz_stats_error_reply(int err, const char *msg, size_t *len)
{
	return cz_stats_reply(err, json_object_new_string(msg), len);
}

int cz_stats_decode_reply(const char *line, size_t len, struct json_object **resp,
			char *err, size_t errlen)
{
	struct json_object *o, *e, *args, *r = NULL;
	int ret = -1;

	*resp = NULL;
	o = parse_line(line, len, err, errlen);
	if (!o)
		return -1;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "errno", &e) ||
	    !json_object_is_type(e, json_type_int) ||
	    !json_object_object_get_ex(o, "args", &args) ||
	    !json_object_is_type(args, json_type_object)) {
		snprintf(err, errlen, "not a stats reply (no errno and args)");
		goto out;
	}
	json_object_object_get_ex(args, "resp", &r);
	ret = json_object_get_int(e);
	if (ret) {
		snprintf(err, errlen, "%s", json_object_is_type(r, json_type_string) ?
			 json_object_get_string(r) : strerror(ret));
		if (ret < 0)	/* keep -1 for "not a reply" */
			ret = EIO;
		goto out;
	}
	*resp = json_object_get(r);
out:
	json_object_put(o);
	return ret;
}

struct json_object *cz_stats_resp(const struct cz_stats_view *v,
				      const u64 *vals)
{
	struct json_object *o = json_object_new_object(), *list;
	char num[32], key[128];

	if (!o)
		return NULL;
	json_object_object_add(o, "sched", json_object_new_string(v->sched));
	/* Milliseconds are plenty, and keep the number short on the wire. */
	snprintf(num, sizeof(num), "%.3f", v->uptime_s);
	json_object_object_add(o, "uptime_s", json_object_new_double_s(v->uptime_s, num));

	for (unsigned int i = 0; i < v->nr_stats; i++) {
		const struct cz_stat_desc *d = &v->desc[i];
		const u64 *row = &vals[(size_t)i * v->nr_cpus];

		json_object_object_add(o, d->key, json_object_new_uint64(
			cz_stats_total(vals, i, v->nr_cpus)));
		if (d->kind != CZ_STAT_PERCPU)
			continue;
		list = json_object_new_array_ext(v->nr_cpus);
		for (unsigned int c = 0; c < v->nr_cpus; c++)
			json_object_array_add(list, json_object_new_uint64(row[c]));
		snprintf(key, sizeof(key), "%s_percpu", d->key);
		json_object_object_add(o, key, list);
	}
	for (unsigned int i = 0; i < v->nr_tunables && v->tunable_vals; i++)
		json_object_object_add(o, v->tunables[i].name,
				       json_object_new_uint64(v->tunable_vals[i]));
	return o;
}

/* One field of stats_meta; @user_kv: NULL-terminated key, value pairs. */
static void meta_field(struct json_object *fields, const char *name,
		       const char *shape, const char *type, const char *desc,
		       const char *const *user_kv)
{
	struct json_object *f = json_object_new_object(), *user;

	json_object_object_add(f, shape, json_object_new_string(type));
	json_object_object_add(f, "desc", json_object_new_string(desc));
	if (user_kv && user_kv[0]) {
		user = json_object_new_object();
		for (; user_kv[0]; user_kv += 2)
			json_object_object_add(user, user_kv[0],
					       json_object_new_string(user_kv[1]));
		json_object_object_add(f, "user", user);
	}
	json_object_object_add(fields, name, f);
}

struct json_object *cz_stats_meta_resp(const struct cz_stats_view *v)
{
	const char *sched = v->sched;
	char lo[24], hi[24], dfl[24];
	struct json_object *top = json_object_new_object();
	struct json_object *st = json_object_new_object();
	struct json_object *fields = json_object_new_object();
	struct json_object *user = json_object_new_object();
	char buf[256], key[128];

	if (!top || !st || !fields || !user) {
		json_object_put(top);
		json_object_put(st);
		json_object_put(fields);
		json_object_put(user);
		return NULL;
	}
	json_object_object_add(st, "name", json_object_new_string(sched));
	snprintf(buf, sizeof(buf), "scx_%s statistics", sched);
	json_object_object_add(st, "desc", json_object_new_string(buf));
	/* scx_stats marks the top-level struct with the string "true". */
	json_object_object_add(st, "top", json_object_new_string("true"));
	snprintf(buf, sizeof(buf), "scx_%s_", sched);
	json_object_object_add(user, "_om_prefix", json_object_new_string(buf));
	json_object_object_add(st, "user", user);

	meta_field(fields, "sched", "datum", "string",
		   "scheduler (sched_ext ops) name", NULL);
	meta_field(fields, "uptime_s", "datum", "float",
		   "seconds since the scheduler attached",
		   (const char *const[]){ "_kind", "gauge", "_unit", "seconds",
					  "_om_name", "uptime_seconds", NULL });
	for (unsigned int i = 0; i < v->nr_stats; i++) {
		const struct cz_stat_desc *d = &v->desc[i];
		const char *kind = d->kind == CZ_STAT_GAUGE ? "gauge" : "counter";

		meta_field(fields, d->key, "datum", "u64", d->desc,
			   (const char *const[]){ "_kind", kind, NULL });
		if (d->kind != CZ_STAT_PERCPU)
			continue;
		snprintf(key, sizeof(key), "%s_percpu", d->key);
		snprintf(buf, sizeof(buf), "%s (per CPU)", d->desc);
		meta_field(fields, key, "array", "u64", buf,
			   (const char *const[]){ "_kind", kind,
						  "_percpu_of", d->key, NULL });
	}
	for (unsigned int i = 0; i < v->nr_tunables; i++) {
		const struct cz_tunable_desc *k = &v->tunables[i];

		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)k->min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)k->max);
		snprintf(dfl, sizeof(dfl), "%llu", (unsigned long long)k->dfl);
		meta_field(fields, k->name, "datum", "u64", k->desc,
			   (const char *const[]){ "_kind", "tunable", "_min", lo,
						  "_max", hi, "_default", dfl,
						  NULL });
	}
	json_object_object_add(st, "fields", fields);
	json_object_object_add(top, sched, st);
	return top;
}

char *cz_stats_handle(const struct cz_stats_source *src, const char *line,
		    size_t len, size_t *out_len)
{
	struct cz_stats_req req;
	struct json_object *resp = NULL;
	char err[256];
	int ret;

	ret = cz_stats_decode_request(line, len, &req, err, sizeof(err));
	if (ret)
		return cz_stats_error_reply(ret, err, out_len);

	if (req.kind == CZ_STATS_REQ_STATS_META)
		return cz_stats_reply(0, json_object_get(src->meta), out_len);

	err[0] = '\0';
	if (req.kind == CZ_STATS_REQ_SET && !src->set)
		return cz_stats_error_reply(ENOENT, "this scheduler has no tunables", out_len);
	if (req.kind == CZ_STATS_REQ_RULE && !src->rule)
		return cz_stats_error_reply(ENOENT, "this scheduler has no task sets", out_len);
	if (req.kind == CZ_STATS_REQ_SET)
		ret = src->set(src->ctx, req.name, req.value, &resp, err, sizeof(err));
	else if (req.kind == CZ_STATS_REQ_RULE)
		ret = src->rule(src->ctx, req.add, req.name, req.arg, &resp, err,
				sizeof(err));
	else
		ret = src->stats(src->ctx, &resp, err, sizeof(err));
	if (ret)
		return cz_stats_error_reply(ret, err[0] ? err : strerror(ret), out_len);
	return cz_stats_reply(0, resp, out_len);
}
