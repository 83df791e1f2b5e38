/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stats formatting: interval deltas for counters, current values for
 * gauges, per-CPU lists, totals, and JSON that a real parser (json-c)
 * accepts with the documented keys.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>
#include "cz.h"

enum { S_DISPATCH, S_QUEUED, S_RUNS, NR_S };

static const struct cz_stat_desc desc[] = {
	[S_DISPATCH]	= { "dispatch", CZ_STAT_COUNTER, "d" },
	[S_QUEUED]	= { "queued", CZ_STAT_GAUGE, "q" },
	[S_RUNS]	= { "runs", CZ_STAT_PERCPU, "r" },
};

/* 2 CPUs, stat-major: {cpu0, cpu1} per stat. */
static const u64 prev[NR_S * 2] = { 10, 0,  5, 0,  1, 2 };
static const u64 cur[NR_S * 2]  = { 25, 5,  3, 0,  4, 12 };

static struct cz_stats_view view(bool total)
{
	return (struct cz_stats_view){
		.sched = "t", .desc = desc, .nr_stats = NR_S, .nr_cpus = 2,
		.uptime_s = 3.5, .interval_s = 1.0, .total = total,
	};
}

Test(stats, terminal_interval_line)
{
	struct cz_stats_view v = view(false);
	char buf[256];

	cr_assert_eq(cz_stats_format(buf, sizeof(buf), &v, cur, prev, false), 0);
	/* dispatch: 30-10; queued: gauge 3; runs: 16-3 = (3/10). */
	cr_assert_str_eq(buf, "[t] dispatch 20 queued 3 runs 13 (3/10)");
}

Test(stats, terminal_total_line)
{
	struct cz_stats_view v = view(true);
	char buf[256];

	cr_assert_eq(cz_stats_format(buf, sizeof(buf), &v, cur, NULL, false), 0);
	cr_assert_str_eq(buf, "[t] total: dispatch 30 queued 3 runs 16 (4/12)");
}

Test(stats, json_parses_with_documented_keys)
{
	struct cz_stats_view v = view(false);
	struct json_object *o, *x;
	char buf[512];

	cr_assert_eq(cz_stats_format(buf, sizeof(buf), &v, cur, prev, true), 0);
	o = json_tokener_parse(buf);
	cr_assert_not_null(o, "not JSON: %s", buf);
	cr_assert(json_object_object_get_ex(o, "sched", &x));
	cr_assert_str_eq(json_object_get_string(x), "t");
	cr_assert(json_object_object_get_ex(o, "interval_s", &x));
	cr_assert_float_eq(json_object_get_double(x), 1.0, 1e-9);
	cr_assert(json_object_object_get_ex(o, "dispatch", &x));
	cr_assert_eq(json_object_get_int64(x), 20);
	cr_assert(json_object_object_get_ex(o, "queued", &x));
	cr_assert_eq(json_object_get_int64(x), 3);
	cr_assert(json_object_object_get_ex(o, "runs_percpu", &x));
	cr_assert_eq(json_object_array_length(x), 2);
	cr_assert_eq(json_object_get_int64(json_object_array_get_idx(x, 1)), 10);
	cr_assert_not(json_object_object_get_ex(o, "total", &x));
	json_object_put(o);
}

Test(stats, json_total_is_marked)
{
	struct cz_stats_view v = view(true);
	struct json_object *o, *x;
	char buf[512];

	cr_assert_eq(cz_stats_format(buf, sizeof(buf), &v, cur, NULL, true), 0);
	o = json_tokener_parse(buf);
	cr_assert_not_null(o, "not JSON: %s", buf);
	cr_assert(json_object_object_get_ex(o, "total", &x));
	cr_assert(json_object_get_boolean(x));
	cr_assert(json_object_object_get_ex(o, "dispatch", &x));
	cr_assert_eq(json_object_get_int64(x), 30);
	json_object_put(o);
}

Test(stats, short_buffer_is_an_error_not_an_overflow)
{
	struct cz_stats_view v = view(false);
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(cz_stats_format(buf, sizeof(buf), &v, cur, prev, false), -1);
	cr_assert_eq(buf[sizeof(buf) - 1], '\0');
}

Test(stats, totals_sum_cpus)
{
	cr_assert_eq(cz_stats_total(cur, S_RUNS, 2), 16);
	cr_assert_eq(cz_stats_total(cur, S_DISPATCH, 2), 30);
}
