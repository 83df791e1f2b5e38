/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frequency model file of scx_avxfreq (format: model.h). A line-by-line
 * parser that stops at the first problem and names its line, so a bad file
 * costs the operator one look; checks that need the whole file (a missing
 * key, frequencies that rise with the width) name the line of the entry
 * that breaks them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

enum {
	LINE_MAX_LEN	= 256,
	K_HOLD		= NR_WIDTHS,	/* key index of hold_us */
	NR_KEYS,
};

static const char *const keys[NR_KEYS] = {
	[W_BASE] = "base", [W_128] = "128", [W_256] = "256", [W_512] = "512",
	[K_HOLD] = "hold_us",
};

const char avxf_model_default[] =
	"# One Intel server CPU: base 3200 MHz, and the frequency while\n"
	"# 128-, 256- and 512-bit vector code runs.\n"
	"base 3200\n"
	"128 3184-3191\n"
	"256 3147\n"
	"512 2949-2967\n"
	"hold_us 2000\n";

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A decimal in [lo, hi] spanning exactly [s, e); -1 if it is not one. */
static int parse_uint(const char *s, const char *e, u32 lo, u32 hi, u32 *out)
{
	unsigned long long v = 0;

	if (s == e)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = (u32)v;
	return 0;
}

/* "F" or "LO-HI" (its midpoint, rounded down), in MHz. */
static int parse_mhz(const char *v, u32 *mhz, char *why, size_t whylen)
{
	const char *dash = strchr(v, '-'), *end = v + strlen(v);
	u32 lo, hi;

	if (!dash) {
		if (!parse_uint(v, end, 1, AVXF_MHZ_MAX, mhz))
			return 0;
	} else if (!parse_uint(v, dash, 1, AVXF_MHZ_MAX, &lo) &&
		   !parse_uint(dash + 1, end, 1, AVXF_MHZ_MAX, &hi)) {
		if (lo > hi) {
			snprintf(why, whylen, "range '%s' runs backwards", v);
			return -1;
		}
		*mhz = (lo + hi) / 2;
		return 0;
	}
	snprintf(why, whylen, "'%s' is not a frequency in MHz (1 to %d, or LO-HI)",
		 v, AVXF_MHZ_MAX);
	return -1;
}

/* Split @line (NUL-terminated, modified) into up to 3 fields; how many. */
static int split(char *line, char **f)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r", &save); t && n < 3;
	     t = strtok_r(NULL, " \t\r", &save))
		f[n++] = t;
	return n;
}

int avxf_model_parse(const char *text, const char *name, struct avxf_model *m,
		     char *err, size_t errlen)
{
	unsigned int line_of[NR_KEYS] = { 0 };
	const char *p = text;
	unsigned int ln = 0;

	memset(m, 0, sizeof(*m));
	m->hold_us = AVXF_HOLD_US_DFL;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[LINE_MAX_LEN + 1], why[128], *f[3], *hash;
		int n, k;

		ln++;
		if (len > LINE_MAX_LEN)
			return fail(err, errlen, "%s:%u: line longer than %d characters",
				    name, ln, LINE_MAX_LEN);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		n = split(line, f);
		if (!n)
			continue;
		for (k = 0; k < NR_KEYS && strcmp(f[0], keys[k]); k++)
			;
		if (k == NR_KEYS)
			return fail(err, errlen, "%s:%u: unknown key '%s' (known: base, 128, 256, 512, hold_us)",
				    name, ln, f[0]);
		if (line_of[k])
			return fail(err, errlen, "%s:%u: '%s' given twice (first on line %u)",
				    name, ln, keys[k], line_of[k]);
		if (n < 2)
			return fail(err, errlen, "%s:%u: '%s' needs a value", name, ln, keys[k]);
		if (n > 2)
			return fail(err, errlen, "%s:%u: unexpected '%s' after the value of '%s'",
				    name, ln, f[2], keys[k]);
		if (k == K_HOLD) {
			if (parse_uint(f[1], f[1] + strlen(f[1]), 0, AVXF_HOLD_US_MAX,
				       &m->hold_us))
				return fail(err, errlen, "%s:%u: hold_us '%s' is not a whole number of microseconds in [0, %d]",
					    name, ln, f[1], AVXF_HOLD_US_MAX);
		} else if (parse_mhz(f[1], &m->mhz[k], why, sizeof(why))) {
			return fail(err, errlen, "%s:%u: %s", name, ln, why);
		}
		line_of[k] = ln;
	}

	for (int w = 0; w < NR_WIDTHS; w++)
		if (!line_of[w])
			return fail(err, errlen, "%s: no '%s' line (needed: base, 128, 256, 512)",
				    name, keys[w]);
	for (int w = W_128; w < NR_WIDTHS; w++) {
		if (m->mhz[w] > m->mhz[W_BASE])
			return fail(err, errlen, "%s:%u: %s-bit frequency %u MHz is above base %u MHz",
				    name, line_of[w], keys[w], m->mhz[w], m->mhz[W_BASE]);
		if (w > W_128 && m->mhz[w] > m->mhz[w - 1])
			return fail(err, errlen, "%s:%u: %s-bit frequency %u MHz is above the %s-bit one (%u MHz)",
				    name, line_of[w], keys[w], m->mhz[w], keys[w - 1],
				    m->mhz[w - 1]);
	}
	return 0;
}

int avxf_model_load(const char *path, struct avxf_model *m, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int ret;

	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	buf = malloc(AVXF_MODEL_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return fail(err, errlen, "%s: out of memory", path);
	}
	n = fread(buf, 1, AVXF_MODEL_MAX_BYTES + 1, f);
	if (ferror(f)) {
		ret = fail(err, errlen, "%s: %s", path, strerror(errno));
	} else if (n > AVXF_MODEL_MAX_BYTES) {
		ret = fail(err, errlen, "%s: larger than %d bytes", path,
			   AVXF_MODEL_MAX_BYTES);
	} else {
		buf[n] = '\0';
		ret = memchr(buf, '\0', n) ?
		      fail(err, errlen, "%s: not a text file (a NUL byte)", path) :
		      avxf_model_parse(buf, path, m, err, errlen);
	}
	free(buf);
	fclose(f);
	return ret;
}

u32 avxf_model_ratio(const struct avxf_model *m, enum avxfreq_level level)
{
	switch (level) {
	case LIC_AVX2:
		return avxf_ratio_q16(m->mhz[W_256], m->mhz[W_BASE]);
	case LIC_AVX512:
		return avxf_ratio_q16(m->mhz[W_512], m->mhz[W_BASE]);
	default:
		return AVXF_ONE;
	}
}
