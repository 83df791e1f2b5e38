/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Option parsing shared by every loader: numeric values with ranges, and
 * the usage-error path (one line naming the problem, the short usage, exit
 * code 2). Nothing is attached before options are parsed, so a usage error
 * always leaves the system as it was.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cz.h"

int cz_parse_num(const char *arg, double min, double max, bool integer,
		 double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	if (!arg || !*arg) {
		snprintf(err, errlen, "a value is required");
		return -1;
	}
	errno = 0;
	if (integer) {
		/* strtoull accepts "-1"; reject signs so it cannot wrap. */
		if (strchr(arg, '-')) {
			snprintf(err, errlen, "'%s' is not a non-negative integer", arg);
			return -1;
		}
		v = (double)strtoull(arg, &end, 0);
	} else {
		v = strtod(arg, &end);
	}
	if (errno || end == arg || *end || isnan(v)) {
		snprintf(err, errlen, "'%s' is not a%s number", arg,
			 integer ? "n integer" : "");
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%s is out of range [%.15g, %.15g]", arg, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

void cz_usage_error(struct argp_state *state, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", state->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	argp_state_help(state, stderr, ARGP_HELP_SHORT_USAGE | ARGP_HELP_SEE);
	exit(CZ_EXIT_USAGE);
}

static double opt_num(struct argp_state *state, const char *opt,
		      const char *arg, double min, double max, bool integer)
{
	char err[128];
	double v;

	if (cz_parse_num(arg, min, max, integer, &v, err, sizeof(err)))
		cz_usage_error(state, "%s: %s", opt, err);
	return v;
}

unsigned long long cz_opt_uint(struct argp_state *state, const char *opt,
			       const char *arg, unsigned long long min,
			       unsigned long long max)
{
	return (unsigned long long)opt_num(state, opt, arg, (double)min,
					   (double)max, true);
}

double cz_opt_double(struct argp_state *state, const char *opt,
		     const char *arg, double min, double max)
{
	return opt_num(state, opt, arg, min, max, false);
}
