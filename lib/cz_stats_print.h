/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stats reply as people and monitoring read it: what `czctl stats`
 * prints, and what a metrics endpoint serves.
 */
#ifndef __CZ_STATS_PRINT_H
#define __CZ_STATS_PRINT_H

#include <stdio.h>

struct json_object;
struct cz_om;

/* One "key value" line per field of a stats resp. 0, or -1. */
int cz_stats_print_text(FILE *f, struct json_object *resp);
/* OpenMetrics text from a stats_meta resp and a stats resp. 0, or -1. */
int cz_stats_print_openmetrics(FILE *f, struct json_object *meta,
			       struct json_object *resp);
/*
 * The same families and samples into @om (cz_om.h), each sample with
 * @labels ("" or cz_om_label()'s list) added: an endpoint serving several
 * schedulers collects them all, then writes once. 0, or -1.
 */
int cz_stats_om_collect(struct cz_om *om, struct json_object *meta,
			struct json_object *resp, const char *labels);

#endif /* __CZ_STATS_PRINT_H */
