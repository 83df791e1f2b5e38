/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live tunables on the wire: the range check and its messages, the "set"
 * request (decoding, encoding, error replies), and the tunables' place in
 * stats replies and in stats_meta; and the "rule" request (task-set rules)
 * the same way. The BPF map side runs in the VM tests.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cz_stats_print.h"
#include "cz_stats_proto.h"

#define TUNABLES(X)							\
	X(K_SLICE, "slice_us", 1, 1000, 20, "slice length")		\
	X(K_BIG, "big", 0, UINT64_MAX, 0, "any u64")

enum { TUNABLES(CZ_TUNABLE_ENUM) NR_K };

static const struct cz_tunable_desc tunables[] = { TUNABLES(CZ_TUNABLE_DESC) };

static const struct cz_stat_desc desc[] = {
	{ "kick", CZ_STAT_COUNTER, "CPUs kicked" },
};
static const u64 vals[] = { 4 };
static const u64 tunable_vals[NR_K] = { 25, 7 };

static const struct cz_stats_view view = {
	.sched = "t", .desc = desc, .nr_stats = 1, .nr_cpus = 1,
	.tunables = tunables, .nr_tunables = NR_K, .tunable_vals = tunable_vals,
};

Test(tunable_check, in_range_gives_the_index)
{
	char err[128] = "";

	cr_assert_eq(cz_tunable_check(tunables, NR_K, "slice_us", 1, err, sizeof(err)), K_SLICE);
	cr_assert_eq(cz_tunable_check(tunables, NR_K, "slice_us", 1000, err, sizeof(err)), K_SLICE);
	cr_assert_eq(cz_tunable_check(tunables, NR_K, "big", UINT64_MAX, err, sizeof(err)), K_BIG);
}

Test(tunable_check, out_of_range_names_the_range)
{
	char err[128] = "";

	cr_assert_eq(cz_tunable_check(tunables, NR_K, "slice_us", 0, err, sizeof(err)), -ERANGE);
	cr_assert_str_eq(err, "slice_us: 0 is out of range [1, 1000]");
	cr_assert_eq(cz_tunable_check(tunables, NR_K, "slice_us", 1001, err, sizeof(err)), -ERANGE);
	cr_assert_str_eq(err, "slice_us: 1001 is out of range [1, 1000]");
}

Test(tunable_check, unknown_names_list_the_known_ones)
{
	char err[128] = "";

	cr_assert_eq(cz_tunable_check(tunables, NR_K, "slice-us", 5, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "unknown tunable \"slice-us\" (known: slice_us, big)");
	cr_assert_eq(cz_tunable_check(tunables, 0, "x", 5, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "unknown tunable \"x\" (this scheduler has none)");
	/* A short buffer truncates, it does not overflow. */
	cr_assert_eq(cz_tunable_check(tunables, NR_K, "x", 5, err, 10), -ENOENT);
	cr_assert_eq(strlen(err), 9);
}

static int decode_set(const char *line, struct cz_stats_req *req, char *err,
		      size_t errlen)
{
	memset(req, 0, sizeof(*req));
	return cz_stats_decode_request(line, strlen(line), req, err, errlen);
}

Test(decode_set, well_formed)
{
	struct cz_stats_req req;
	char err[256] = "";

	cr_assert_eq(decode_set("{\"req\":\"set\",\"args\":{\"name\":\"slice_us\",\"value\":5000}}",
				&req, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(req.kind, CZ_STATS_REQ_SET);
	cr_assert_str_eq(req.name, "slice_us");
	cr_assert_eq(req.value, 5000);
	cr_assert_eq(decode_set("{\"req\":\"set\",\"args\":{\"value\":18446744073709551615,\"name\":\"big\"}}",
				&req, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(req.value, UINT64_MAX);
}

static void set_bad(const char *line, int want_errno, const char *want)
{
	struct cz_stats_req req;
	char err[256] = "";

	cr_assert_eq(decode_set(line, &req, err, sizeof(err)), want_errno,
		     "'%s' gave %s", line, err);
	cr_assert(strstr(err, want), "error for '%s' is '%s', want '%s'", line, err, want);
}

Test(decode_set, bad_args)
{
	set_bad("{\"req\":\"set\"}", EINVAL, "set needs args");
	set_bad("{\"req\":\"set\",\"args\":{\"name\":\"x\"}}", EINVAL, "set needs args");
	set_bad("{\"req\":\"set\",\"args\":{\"value\":1}}", EINVAL, "set needs args");
	set_bad("{\"req\":\"set\",\"args\":{\"name\":1,\"value\":1}}", EINVAL, "set needs args");
	set_bad("{\"req\":\"set\",\"args\":{\"name\":\"x\",\"value\":-1}}", EINVAL,
		"non-negative integer");
	set_bad("{\"req\":\"set\",\"args\":{\"name\":\"x\",\"value\":\"5\"}}", EINVAL,
		"non-negative integer");
	set_bad("{\"req\":\"set\",\"args\":{\"name\":\"x\",\"value\":1.5}}", EINVAL,
		"non-negative integer");
	set_bad("{\"req\":\"set\",\"args\":{\"name\":\"a\\u0000b\",\"value\":1}}", ENOENT,
		"no tunable");
}

Test(decode_set, overlong_name)
{
	char line[256];
	char name[CZ_TUNABLE_NAME_MAX + 1];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line), "{\"req\":\"set\",\"args\":{\"name\":\"%s\",\"value\":1}}", name);
	set_bad(line, ENOENT, "no tunable");
}

Test(encode, set_request_round_trips)
{
	char *line = cz_stats_set_request("big", UINT64_MAX);
	struct cz_stats_req req;
	char err[256] = "";

	cr_assert_str_eq(line, "{\"req\":\"set\",\"args\":{\"name\":\"big\",\"value\":18446744073709551615}}\n");
	cr_assert_eq(cz_stats_decode_request(line, strlen(line) - 1, &req, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(req.value, UINT64_MAX);
	free(line);
}

Test(decode_rule, well_formed_and_round_trip)
{
	char *line = cz_stats_rule_request(false, "lc-cgroup", "/sys/fs/cgroup/a b");
	struct cz_stats_req req;
	char err[256] = "";

	cr_assert_str_eq(line, "{\"req\":\"rule\",\"args\":{\"op\":\"del\",\"rule\":\"lc-cgroup\",\"value\":\"/sys/fs/cgroup/a b\"}}\n");
	cr_assert_eq(decode_set(line, &req, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(req.kind, CZ_STATS_REQ_RULE);
	cr_assert(!req.add);
	cr_assert_str_eq(req.name, "lc-cgroup");
	cr_assert_str_eq(req.arg, "/sys/fs/cgroup/a b");
	free(line);
	cr_assert_eq(decode_set("{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc-pid\",\"value\":\"12\"}}",
				&req, err, sizeof(err)), 0, "%s", err);
	cr_assert(req.add);
}

Test(decode_rule, bad_args)
{
	static const char *const bad[] = {
		"{\"req\":\"rule\"}",
		"{\"req\":\"rule\",\"args\":{\"op\":\"put\",\"rule\":\"lc-pid\",\"value\":\"1\"}}",
		"{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc-pid\",\"value\":1}}",
		"{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc-pid\",\"value\":\"\"}}",
		"{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc-pid\"}}",
		"{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc\\u0000-pid\",\"value\":\"1\"}}",
		"{\"req\":\"rule\",\"args\":{\"op\":\"add\\u0000\",\"rule\":\"lc-pid\",\"value\":\"1\"}}",
	};
	struct cz_stats_req req;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(decode_set(bad[i], &req, err, sizeof(err)), EINVAL,
			     "accepted: %s", bad[i]);
		cr_assert(strstr(err, "rule needs args"), "%s: %s", bad[i], err);
	}
}

/* ---- handling, with a fake source ---- */

static u64 stored[NR_K];

static int fake_stats(void *ctx, struct json_object **resp, char *err, size_t len)
{
	(void)ctx, (void)err, (void)len;
	*resp = cz_stats_resp(&view, vals);
	return 0;
}

static int fake_set(void *ctx, const char *name, u64 value,
		    struct json_object **resp, char *err, size_t len)
{
	int idx = cz_tunable_check(tunables, NR_K, name, value, err, len);

	(void)ctx;
	if (idx < 0)
		return -idx;
	stored[idx] = value;
	*resp = json_object_new_object();
	json_object_object_add(*resp, "value", json_object_new_uint64(value));
	return 0;
}

static char *handle(const struct cz_stats_source *src, const char *line)
{
	size_t len;
	char *reply = cz_stats_handle(src, line, strlen(line), &len);

	cr_assert_not_null(reply);
	return reply;
}

Test(handle, set_reaches_the_source_with_range_errors)
{
	struct cz_stats_source src = { .meta = NULL, .stats = fake_stats, .set = fake_set };
	struct cz_stats_source none = { .stats = fake_stats };
	char *r;

	r = handle(&src, "{\"req\":\"set\",\"args\":{\"name\":\"slice_us\",\"value\":300}}");
	cr_assert_str_eq(r, "{\"errno\":0,\"args\":{\"resp\":{\"value\":300}}}\n");
	cr_assert_eq(stored[K_SLICE], 300);
	free(r);

	r = handle(&src, "{\"req\":\"set\",\"args\":{\"name\":\"slice_us\",\"value\":0}}");
	cr_assert_str_eq(r, "{\"errno\":34,\"args\":{\"resp\":\"slice_us: 0 is out of range [1, 1000]\"}}\n");
	cr_assert_eq(stored[K_SLICE], 300);
	free(r);

	r = handle(&src, "{\"req\":\"set\",\"args\":{\"name\":\"nope\",\"value\":1}}");
	cr_assert(!strncmp(r, "{\"errno\":2,\"args\":{\"resp\":\"unknown tunable \\\"nope\\\"", 49), "%s", r);
	free(r);

	r = handle(&none, "{\"req\":\"set\",\"args\":{\"name\":\"slice_us\",\"value\":3}}");
	cr_assert_str_eq(r, "{\"errno\":2,\"args\":{\"resp\":\"this scheduler has no tunables\"}}\n");
	free(r);
}

static int fake_rule(void *ctx, bool add, const char *rule, const char *arg,
		     struct json_object **resp, char *err, size_t len)
{
	(void)ctx, (void)add;
	if (strcmp(rule, "lc-pid")) {
		snprintf(err, len, "no rule '%s'", rule);
		return ENOENT;
	}
	*resp = json_object_new_object();
	json_object_object_add(*resp, "value", json_object_new_string(arg));
	return 0;
}

Test(handle, rule_reaches_the_source)
{
	struct cz_stats_source src = { .stats = fake_stats, .rule = fake_rule };
	struct cz_stats_source none = { .stats = fake_stats };
	char *r;

	r = handle(&src, "{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc-pid\",\"value\":\"7\"}}");
	cr_assert_str_eq(r, "{\"errno\":0,\"args\":{\"resp\":{\"value\":\"7\"}}}\n");
	free(r);
	r = handle(&src, "{\"req\":\"rule\",\"args\":{\"op\":\"del\",\"rule\":\"x-pid\",\"value\":\"7\"}}");
	cr_assert_str_eq(r, "{\"errno\":2,\"args\":{\"resp\":\"no rule 'x-pid'\"}}\n");
	free(r);
	r = handle(&none, "{\"req\":\"rule\",\"args\":{\"op\":\"add\",\"rule\":\"lc-pid\",\"value\":\"7\"}}");
	cr_assert_str_eq(r, "{\"errno\":2,\"args\":{\"resp\":\"this scheduler has no task sets\"}}\n");
	free(r);
}

Test(resp, stats_carry_the_current_values)
{
	struct json_object *o = cz_stats_resp(&view, vals), *v;

	cr_assert(json_object_object_get_ex(o, "slice_us", &v));
	cr_assert_eq(json_object_get_uint64(v), 25);
	cr_assert(json_object_object_get_ex(o, "big", &v));
	cr_assert_eq(json_object_get_uint64(v), 7);
	json_object_put(o);
}

static const char *user(struct json_object *meta, const char *fname, const char *key)
{
	struct json_object *st, *fields, *f, *u, *v;

	if (!json_object_object_get_ex(meta, "t", &st) ||
	    !json_object_object_get_ex(st, "fields", &fields) ||
	    !json_object_object_get_ex(fields, fname, &f) ||
	    !json_object_object_get_ex(f, "user", &u) ||
	    !json_object_object_get_ex(u, key, &v))
		return NULL;
	return json_object_get_string(v);
}

Test(meta, tunables_with_range_and_default)
{
	struct json_object *meta = cz_stats_meta_resp(&view);

	cr_assert_str_eq(user(meta, "slice_us", "_kind"), "tunable");
	cr_assert_str_eq(user(meta, "slice_us", "_min"), "1");
	cr_assert_str_eq(user(meta, "slice_us", "_max"), "1000");
	cr_assert_str_eq(user(meta, "slice_us", "_default"), "20");
	cr_assert_str_eq(user(meta, "big", "_max"), "18446744073709551615");
	cr_assert_str_eq(user(meta, "kick", "_kind"), "counter");
	json_object_put(meta);
}

Test(openmetrics, tunables_are_gauges)
{
	struct json_object *meta = cz_stats_meta_resp(&view);
	struct json_object *resp = cz_stats_resp(&view, vals);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_eq(cz_stats_print_openmetrics(f, meta, resp), 0);
	fclose(f);
	cr_assert(strstr(out, "# TYPE scx_t_slice_us gauge\nscx_t_slice_us 25\n"), "%s", out);
	cr_assert(strstr(out, "# TYPE scx_t_kick counter\nscx_t_kick_total 4\n"), "%s", out);
	free(out);
	json_object_put(meta);
	json_object_put(resp);
}
