/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics: read the scheduler's per-CPU "cz_stats" map and format one
 * line per interval, for a terminal or as one JSON object.
 *
 * Counters are reported as the change over the interval (or as totals on
 * the final line); gauges as their current value; per-CPU counters also
 * list each CPU. Only numbers and fixed keys are printed, so JSON is
 * written directly.
 */
#include <stdarg.h>
#include <string.h>
#include <bpf/bpf.h>
#include "cz.h"

int cz_stats_read(struct bpf_map *map, unsigned int nr_stats,
		  unsigned int nr_cpus, u64 *vals)
{
	int fd = bpf_map__fd(map);

	for (u32 i = 0; i < nr_stats; i++)
		if (bpf_map_lookup_elem(fd, &i, &vals[i * nr_cpus]))
			return -1;
	return 0;
}

struct out {
	char	*buf;
	size_t	len;
	size_t	pos;
};

static void emit(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += n;
}

static u64 value(const struct cz_stats_view *v, const u64 *vals,
		 const u64 *prev, unsigned int i, int cpu)
{
	u64 cur, old = 0;

	if (cpu < 0) {
		cur = cz_stats_total(vals, i, v->nr_cpus);
		if (prev)
			old = cz_stats_total(prev, i, v->nr_cpus);
	} else {
		cur = vals[i * v->nr_cpus + cpu];
		if (prev)
			old = prev[i * v->nr_cpus + cpu];
	}
	if (v->desc[i].kind == CZ_STAT_GAUGE)
		return cur;
	return cur - old;
}

int cz_stats_format(char *buf, size_t len, const struct cz_stats_view *v,
		    const u64 *vals, const u64 *prev, bool json)
{
	struct out o = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	if (json && v->total)
		emit(&o, "{\"sched\":\"%s\",\"uptime_s\":%.3f,\"total\":true",
		     v->sched, v->uptime_s);
	else if (json)
		emit(&o, "{\"sched\":\"%s\",\"uptime_s\":%.3f,\"interval_s\":%.3f",
		     v->sched, v->uptime_s, v->interval_s);
	else
		emit(&o, "[%s]%s", v->sched, v->total ? " total:" : "");

	for (unsigned int i = 0; i < v->nr_stats; i++) {
		const struct cz_stat_desc *d = &v->desc[i];

		if (json)
			emit(&o, ",\"%s\":%llu", d->key,
			     (unsigned long long)value(v, vals, prev, i, -1));
		else
			emit(&o, " %s %llu", d->key,
			     (unsigned long long)value(v, vals, prev, i, -1));
		if (d->kind != CZ_STAT_PERCPU)
			continue;

		emit(&o, json ? ",\"%s_percpu\":[" : " (", d->key);
		for (unsigned int c = 0; c < v->nr_cpus; c++)
			emit(&o, "%s%llu", c ? (json ? "," : "/") : "",
			     (unsigned long long)value(v, vals, prev, i, c));
		emit(&o, json ? "]" : ")");
	}
	if (json)
		emit(&o, "}");
	return o.pos < len ? 0 : -1;
}
