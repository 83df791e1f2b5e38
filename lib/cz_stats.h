/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A scheduler's statistics and tunables as userspace describes them: the
 * descriptor tables made from the X-macro lists in each scheduler's header
 * (cz_shared.h), a snapshot of the per-CPU values, their totals, and the
 * line a loader prints every interval.
 *
 * The same tables drive the stats line, --json, the stats socket's replies
 * and its metadata (cz_stats_proto.h), so a statistic or tunable is
 * declared once. Free of libbpf: reading the map is the loader's job.
 */
#ifndef __CZ_STATS_H
#define __CZ_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include "cz_shared.h"

/* One statistic of a scheduler, from its X-macro list. */
struct cz_stat_desc {
	const char		*key;
	enum cz_stat_kind	kind;
	const char		*desc;
};

/* Turns a scheduler's X-macro stats list into a descriptor table. */
#define CZ_STAT_DESC(id, key, kind, desc) [id] = { key, kind, desc },

/* One live tunable, from its X-macro list. */
struct cz_tunable_desc {
	const char	*name;
	u64		min;
	u64		max;
	u64		dfl;
	const char	*desc;
};

#define CZ_TUNABLE_DESC(id, name, min, max, dfl, desc) \
	[id] = { name, min, max, dfl, desc },

enum {
	CZ_TUNABLE_NAME_MAX	= 64,	/* with its NUL; also a rule's name */
};

/*
 * The tunable called @name if @value is in its range: its index, else
 * -ENOENT (unknown name) or -ERANGE, with @err saying why in one line.
 */
int cz_tunable_check(const struct cz_tunable_desc *tunables, unsigned int nr,
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
	const struct cz_tunable_desc	*tunables;
	unsigned int			nr_tunables;
	const u64			*tunable_vals;	/* current values */
	double				uptime_s;
	double				interval_s;
	bool				total;
};

/* A statistic summed over CPUs (for a gauge: its value, kept in CPU 0's slot). */
u64 cz_stats_total(const u64 *vals, unsigned int idx, unsigned int nr_cpus);

/*
 * The stats line: one line (terminal or JSON) comparing @vals against
 * @prev (NULL: report totals). 0, or -1 if @len was too short.
 */
int cz_stats_format(char *buf, size_t len, const struct cz_stats_view *v,
		    const u64 *vals, const u64 *prev, bool json);

#endif /* __CZ_STATS_H */
