/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stats reply as people and monitoring read it: what `czctl stats`
 * prints, and what a metrics endpoint serves.
 */
#ifndef __CZ_STATS_PRINT_H
#define __CZ_STATS_PRINT_H

#include <stdio.h>

struct json_object;

/* One "key value" line per field of a stats resp. 0, or -1. */
int cz_stats_print_text(FILE *f, struct json_object *resp);
/* OpenMetrics text from a stats_meta resp and a stats resp. 0, or -1. */
int cz_stats_print_openmetrics(FILE *f, struct json_object *meta,
			       struct json_object *resp);

#endif /* __CZ_STATS_PRINT_H */
