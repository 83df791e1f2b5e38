/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Metrics exposition: OpenMetrics 1.0 text, or Prometheus' text format
 * 0.0.4 for clients that do not ask for OpenMetrics. Families and samples
 * are collected first and written at the end, so a family's samples stay
 * together (as both formats require) whatever order sources add them in:
 * one endpoint serves the same scheduler family for several zones.
 */
#ifndef __CZ_OM_H
#define __CZ_OM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cz_om_type { CZ_OM_GAUGE, CZ_OM_COUNTER };

struct cz_om;

struct cz_om *cz_om_new(void);
void cz_om_free(struct cz_om *om);
/*
 * Family @name (a counter's without _total); @unit may be NULL. A second
 * declaration of a name keeps the first. 0, or -1 (ENOMEM).
 */
int cz_om_family(struct cz_om *om, const char *name, enum cz_om_type type,
		 const char *unit, const char *help);
/*
 * A sample of family @name (declared) with @labels, "" or a list made by
 * cz_om_label(), and @value as text ("12", "0.5"). 0, or -1.
 */
int cz_om_sample(struct cz_om *om, const char *name, const char *labels,
		 const char *value);
int cz_om_samplef(struct cz_om *om, const char *name, const char *labels,
		  double value);
/* Append key="value" (escaped, comma-separated) to the list in @buf. */
void cz_om_label(char *buf, size_t len, const char *key, const char *value);
/* A metric name from @prefix and @name: anything not [a-zA-Z0-9_:] is _. */
void cz_om_name(char *out, size_t len, const char *prefix, const char *name);
/*
 * Write everything: OpenMetrics (counters' samples FAMILY_total, UNIT
 * lines, "# EOF") or, with @openmetrics false, the 0.0.4 text format.
 */
int cz_om_write(struct cz_om *om, FILE *f, bool openmetrics);

#define CZ_OM_CONTENT_TYPE	"application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CZ_PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

#endif /* __CZ_OM_H */
