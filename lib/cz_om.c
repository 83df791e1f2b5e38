/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Metrics exposition (cz_om.h).
 *
 * Key choices:
 * - Families in the order first declared, samples in the order added:
 *   what a scrape shows is stable from one scrape to the next.
 * - A UNIT line only where OpenMetrics allows one, when the name ends in
 *   _UNIT: Prometheus refuses a whole scrape otherwise.
 * - Values are kept as text, so u64 counters are exact.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cz_om.h"

struct sample {
	char	*labels;
	char	*value;
};

struct family {
	char		*name;
	enum cz_om_type	type;
	char		*unit;
	char		*help;
	struct sample	*s;
	size_t		n, cap;
};

struct cz_om {
	struct family	*f;
	size_t		n, cap;
};

struct cz_om *cz_om_new(void)
{
	return calloc(1, sizeof(struct cz_om));
}

void cz_om_free(struct cz_om *om)
{
	if (!om)
		return;
	for (size_t i = 0; i < om->n; i++) {
		struct family *f = &om->f[i];

		for (size_t j = 0; j < f->n; j++) {
			free(f->s[j].labels);
			free(f->s[j].value);
		}
		free(f->s);
		free(f->name);
		free(f->unit);
		free(f->help);
	}
	free(om->f);
	free(om);
}

static struct family *find(struct cz_om *om, const char *name)
{
	for (size_t i = 0; i < om->n; i++)
		if (!strcmp(om->f[i].name, name))
			return &om->f[i];
	return NULL;
}

/* Room for one more of @n items of @size in *@v of capacity *@cap. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, (*cap ? *cap * 2 : 16) * size);
	if (!p)
		return -1;
	*v = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

int cz_om_family(struct cz_om *om, const char *name, enum cz_om_type type,
		 const char *unit, const char *help)
{
	struct family *f;

	if (find(om, name))
		return 0;
	if (grow((void **)&om->f, &om->cap, om->n, sizeof(*om->f)))
		return -1;
	f = &om->f[om->n];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	f->type = type;
	f->unit = unit ? strdup(unit) : NULL;
	f->help = strdup(help ?: "");
	if (!f->name || !f->help || (unit && !f->unit)) {
		free(f->name);
		free(f->unit);
		free(f->help);
		errno = ENOMEM;
		return -1;
	}
	om->n++;
	return 0;
}

int cz_om_sample(struct cz_om *om, const char *name, const char *labels,
		 const char *value)
{
	struct family *f = find(om, name);
	struct sample *s;

	if (!f) {
		errno = ENOENT;
		return -1;
	}
	if (grow((void **)&f->s, &f->cap, f->n, sizeof(*f->s)))
		return -1;
	s = &f->s[f->n];
	s->labels = strdup(labels ?: "");
	s->value = strdup(value);
	if (!s->labels || !s->value) {
		free(s->labels);
		free(s->value);
		errno = ENOMEM;
		return -1;
	}
	f->n++;
	return 0;
}

int cz_om_samplef(struct cz_om *om, const char *name, const char *labels,
		  double value)
{
	char buf[64];

	if (isnan(value))
		snprintf(buf, sizeof(buf), "NaN");
	else if (value == floor(value) && fabs(value) < 9007199254740992.0)
		snprintf(buf, sizeof(buf), "%.0f", value);
	else
		snprintf(buf, sizeof(buf), "%.15g", value);
	return cz_om_sample(om, name, labels, buf);
}

void cz_om_label(char *buf, size_t len, const char *key, const char *value)
{
	size_t off = strlen(buf);

	if (off && off < len)
		off += snprintf(buf + off, len - off, ",");
	if (off < len)
		off += snprintf(buf + off, len - off, "%s=\"", key);
	for (; *value && off + 3 < len; value++) {
		if (*value == '\\' || *value == '"')
			buf[off++] = '\\', buf[off++] = *value;
		else if (*value == '\n')
			buf[off++] = '\\', buf[off++] = 'n';
		else
			buf[off++] = *value;
	}
	if (off + 1 < len) {
		buf[off++] = '"';
		buf[off] = '\0';
	}
}

void cz_om_name(char *out, size_t len, const char *prefix, const char *name)
{
	snprintf(out, len, "%s%s", prefix, name);
	for (size_t i = 0; out[i]; i++) {
		char c = out[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || c == ':' || (i && c >= '0' && c <= '9')))
			out[i] = '_';
	}
}

/* HELP text: backslash and newline escaped; OpenMetrics also escapes '"'. */
static void help(FILE *f, const char *s, bool openmetrics)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && openmetrics)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

static bool unit_ok(const struct family *f)
{
	size_t n = strlen(f->name), u = f->unit ? strlen(f->unit) : 0;

	return u && n > u + 1 && f->name[n - u - 1] == '_' &&
	       !strcmp(f->name + n - u, f->unit);
}

int cz_om_write(struct cz_om *om, FILE *f, bool openmetrics)
{
	for (size_t i = 0; i < om->n; i++) {
		const struct family *fa = &om->f[i];
		bool counter = fa->type == CZ_OM_COUNTER;
		const char *suffix = counter ? "_total" : "";

		if (!fa->n)
			continue;
		/* 0.0.4 names a counter by its samples' name. */
		fprintf(f, "# HELP %s%s ", fa->name, openmetrics ? "" : suffix);
		help(f, fa->help, openmetrics);
		fprintf(f, "\n# TYPE %s%s %s\n", fa->name, openmetrics ? "" : suffix,
			counter ? "counter" : "gauge");
		if (openmetrics && unit_ok(fa))
			fprintf(f, "# UNIT %s %s\n", fa->name, fa->unit);
		for (size_t j = 0; j < fa->n; j++)
			fprintf(f, "%s%s%s%s%s %s\n", fa->name, suffix,
				*fa->s[j].labels ? "{" : "", fa->s[j].labels,
				*fa->s[j].labels ? "}" : "", fa->s[j].value);
	}
	if (openmetrics)
		fputs("# EOF\n", f);
	return ferror(f) ? -1 : 0;
}
