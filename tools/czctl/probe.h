/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Service probes (the zone file's services[].probe): from the host,
 * through a forwarded port, every interval, in one thread of the zone
 * supervisor; latency p50/p99 and failures over a sliding window.
 */
#ifndef __CZCTL_PROBE_H
#define __CZCTL_PROBE_H

#include <stdbool.h>

struct cz_zone;

struct probe_stats {
	bool		have;		/* a reply in the window */
	double		p50_ms;
	double		p99_ms;
	unsigned int	n;		/* probes in the window */
	unsigned int	errors;		/* of them failed or timed out */
	double		last_ms;	/* the latest probe; < 0: it failed */
	unsigned long	total;		/* probes since the start */
	unsigned long	total_errors;
};

/* Start probing @z's services that have a probe; 0, or -1 with errno. */
int probes_start(const struct cz_zone *z);
/* Service @name's window now; false if it has no probe. */
bool probe_stats(const char *name, struct probe_stats *out);

#endif /* __CZCTL_PROBE_H */
