/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics and tunables from their descriptor tables (cz_stats.h):
 * totals over CPUs, the range check of a tunable, and the line a loader
 * prints every interval, for a terminal or as one JSON object.
 *
 * Counters are reported as the change over the interval (or as totals on
 * the final line); gauges as their current value; per-CPU counters also
 * list each CPU. Only numbers and fixed keys are printed, so JSON is
 * written directly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cz_stats.h"

enum {
	ECHO_MAX = 64,		/* bytes of a client's name quoted back */
};

u64 cz_stats_total(const u64 *vals, unsigned int idx, unsigned int nr_cpus)
{
	u64 sum = 0;

	for (unsigned int c = 0; c < nr_cpus; c++)
		sum += vals[idx * nr_cpus + c];
	return sum;
}

int cz_tunable_check(const struct cz_tunable_desc *tunables, unsigned int nr,
		     const char *name, u64 value, char *err, size_t errlen)
{
	size_t off = 0;

	for (unsigned int i = 0; i < nr; i++) {
		const struct cz_tunable_desc *t = &tunables[i];

		if (strcmp(t->name, name))
			continue;
		if (value < t->min || value > t->max) {
			snprintf(err, errlen, "%s: %llu is out of range [%llu, %llu]",
				 t->name, (unsigned long long)value,
				 (unsigned long long)t->min,
				 (unsigned long long)t->max);
			return -ERANGE;
		}
		return i;
	}
	off = snprintf(err, errlen, "unknown tunable \"%.*s\" (%s", ECHO_MAX,
		       name, nr ? "known:" : "this scheduler has none");
	for (unsigned int i = 0; i < nr && off < errlen; i++)
		off += snprintf(err + off, errlen - off, "%s%s", i ? ", " : " ",
				tunables[i].name);
	if (off < errlen)
		snprintf(err + off, errlen - off, ")");
	return -ENOENT;
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
