/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zone file's switching rules (`auto`) and service probes
 * (`services[].probe`): read with the same walk as the rest of the file
 * (cz_zone_priv.h), then checked against the whole zone once it is read,
 * because YAML does not order keys: a rule may name a mode or a service's
 * probe that comes later in the file.
 *
 * Key choices:
 * - Conditions are parsed here, at load, so a bad rule is refused by
 *   `zone check` and `zone up` with its line, never found by the running
 *   supervisor. An unknown signal is an error, not a comparison that is
 *   always false: a misspelt signal would silently never switch.
 * - Durations are seconds, or a number with ms, s, m or h.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cz_auto.h"
#include "cz_util.h"
#include "cz_zone.h"
#include "cz_zone_priv.h"

enum {
	DURATION_MAX_S	= 24 * 3600,
	MAX_PORT	= 65535,
};

#define DEFAULT_FOR_S		5.0
#define DEFAULT_MIN_INTERVAL_S	30.0
#define PROBE_INTERVAL_S	1.0
#define PROBE_TIMEOUT_S		1.0
#define PROBE_WINDOW_S		30.0

const char *const cz_zone_signals[] = {
	"cpu.util",		/* % of the zone's CPU time busy, last second */
	"cpu.runnable",		/* runnable tasks per vCPU, averaged over it */
	"cpu.pressure.some",	/* /proc/pressure/cpu some avg10, % */
	"cpu.pressure.full",	/* full avg10, % */
	"net.rx_pps",		/* packets received per second, all but lo */
	NULL
};

/* "5s", "500ms", "2m", "1h" or plain seconds, from 0 to a day. */
static int read_duration(struct walk *w, struct fy_node *v, int line,
			 const char *key, double *out)
{
	char *s = zy_text(w, v, line, key), *end;
	double x, scale = 1;
	int ret = 0;

	if (!s)
		return -1;
	x = strtod(s, &end);
	if (!strcmp(end, "ms"))
		scale = 0.001;
	else if (!strcmp(end, "m"))
		scale = 60;
	else if (!strcmp(end, "h"))
		scale = 3600;
	else if (*end && strcmp(end, "s"))
		end = s;
	if (end == s || !isfinite(x) || x < 0 || x * scale > DURATION_MAX_S)
		ret = zy_fail(w, line, key, "'%s' is not a duration (seconds, or a number with ms, s, m or h; at most a day)",
			      s);
	else
		*out = x * scale;
	free(s);
	return ret;
}

/* ---- services[].probe ---- */

static int probe_port(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	struct cz_zone_service *s = obj;
	unsigned long port;

	if (zy_number(w, v, line, key, 1, MAX_PORT, &port))
		return -1;
	s->probe.port = port;
	return 0;
}

static int probe_send(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	struct cz_zone_service *s = obj;

	s->probe.send = zy_text(w, v, line, key);
	return s->probe.send ? 0 : -1;
}

static int probe_expect(struct walk *w, struct fy_node *v, int line,
			const char *key, void *obj)
{
	struct cz_zone_service *s = obj;

	s->probe.expect = zy_text(w, v, line, key);
	return s->probe.expect ? 0 : -1;
}

static int probe_interval(struct walk *w, struct fy_node *v, int line,
			  const char *key, void *obj)
{
	return read_duration(w, v, line, key,
			     &((struct cz_zone_service *)obj)->probe.interval_s);
}

static int probe_timeout(struct walk *w, struct fy_node *v, int line,
			 const char *key, void *obj)
{
	return read_duration(w, v, line, key,
			     &((struct cz_zone_service *)obj)->probe.timeout_s);
}

static int probe_window(struct walk *w, struct fy_node *v, int line,
			const char *key, void *obj)
{
	return read_duration(w, v, line, key,
			     &((struct cz_zone_service *)obj)->probe.window_s);
}

static const struct field probe_fields[] = {
	{ "port", false, probe_port },
	{ "send", false, probe_send },
	{ "expect", false, probe_expect },
	{ "interval", false, probe_interval },
	{ "timeout", false, probe_timeout },
	{ "window", false, probe_window },
};

int zy_read_probe(struct walk *w, struct fy_node *v, int line,
		  const char *key, void *obj)
{
	struct cz_zone_probe *p = &((struct cz_zone_service *)obj)->probe;

	p->line = line;
	p->interval_s = PROBE_INTERVAL_S;
	p->timeout_s = PROBE_TIMEOUT_S;
	p->window_s = PROBE_WINDOW_S;
	if (zy_walk_mapping(w, v, line, key, probe_fields,
			    ARRAY_LEN(probe_fields), obj))
		return -1;
	if (p->expect && !p->send)
		return zy_fail(w, line, key, "expect needs send (a connect probe reads nothing)");
	if (p->interval_s < 0.1)
		return zy_fail(w, line, key, "interval: at least 100ms");
	if (p->timeout_s < 0.01 || p->timeout_s > p->interval_s * 10)
		return zy_fail(w, line, key, "timeout: from 10ms to ten intervals");
	if (p->window_s < p->interval_s)
		return zy_fail(w, line, key, "window: at least one interval");
	return 0;
}

/* ---- auto ---- */

/* scx_NAME, NAME, or fair (NULL). */
static int rule_sched(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	struct cz_zone_rule *r = obj;
	char *s = zy_text(w, v, line, key);
	const char *ops;

	if (!s)
		return -1;
	if (!strcmp(s, "fair")) {
		free(s);
		r->target.sched = NULL;
		return 0;
	}
	ops = strncmp(s, "scx_", 4) ? s : s + 4;
	if (!zy_name_ok(ops, 128) || asprintf(&r->target.sched, "scx_%s", ops) < 0) {
		r->target.sched = NULL;
		zy_fail(w, line, key, "'%s' is not a scheduler (scx_NAME, NAME or fair)", s);
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

static int rule_args(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	return zy_strings(w, v, line, key, &((struct cz_zone_rule *)obj)->target.args);
}

static int rule_mode(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	struct cz_zone_rule *r = obj;

	r->target.mode = zy_text(w, v, line, key);
	return r->target.mode ? 0 : -1;
}

static int rule_name(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	struct cz_zone_rule *r = obj;

	r->name = zy_text(w, v, line, key);
	if (!r->name)
		return -1;
	if (!zy_name_ok(r->name, 64))
		return zy_fail(w, line, key, "'%s' is not a rule name (a-z, 0-9, '-', '_')",
			       r->name);
	return 0;
}

/* A condition's text and its parse; @line kept for the signal check. */
static int read_cond(struct walk *w, struct fy_node *v, int line,
		     const char *key, char **text, struct cz_cond **c)
{
	char err[256];

	*text = zy_text(w, v, line, key);
	if (!*text)
		return -1;
	*c = cz_cond_parse(*text, err, sizeof(err));
	if (!*c)
		return zy_fail(w, line, key, "%s", err);
	return 0;
}

static int rule_when(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	struct cz_zone_rule *r = obj;

	r->line_when = line;
	return read_cond(w, v, line, key, &r->when_text, &r->when);
}

static int rule_until(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	struct cz_zone_rule *r = obj;

	r->line_until = line;
	return read_cond(w, v, line, key, &r->until_text, &r->until);
}

static int rule_for(struct walk *w, struct fy_node *v, int line,
		    const char *key, void *obj)
{
	return read_duration(w, v, line, key, &((struct cz_zone_rule *)obj)->for_s);
}

static int rule_hold(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	return read_duration(w, v, line, key, &((struct cz_zone_rule *)obj)->hold_s);
}

static const struct field rule_fields[] = {
	{ "name", true, rule_name },
	{ "when", true, rule_when },
	{ "until", false, rule_until },
	{ "for", false, rule_for },
	{ "hold", false, rule_hold },
	{ "scheduler", false, rule_sched },
	{ "args", false, rule_args },
	{ "mode", false, rule_mode },
};

static int rule_item(struct walk *w, struct fy_node *item, int line,
		     const char *key, void *obj)
{
	struct cz_zone *z = obj;
	struct cz_zone_rule *r;
	bool has_sched = false;
	struct fy_node *n;

	r = realloc(z->rules, (z->nr_rules + 1) * sizeof(*r));
	if (!r)
		return zy_fail(w, line, key, "out of memory");
	z->rules = r;
	r = &z->rules[z->nr_rules++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->for_s = DEFAULT_FOR_S;
	r->hold_s = -1;
	if (zy_walk_mapping(w, item, line, key, rule_fields,
			    ARRAY_LEN(rule_fields), r))
		return -1;
	/* scheduler: fair leaves sched NULL; whether the key was there: */
	n = fy_node_is_mapping(item) ? fy_node_mapping_lookup_by_string(item, "scheduler", -1) : NULL;
	has_sched = n != NULL;
	if (has_sched == !!r->target.mode)
		return zy_fail(w, line, key, "a rule switches to a scheduler or to a mode of the zone's scheduler: give one of the two");
	if (r->target.args.n && !has_sched)
		return zy_fail(w, line, key, "args go with scheduler (a mode has its own)");
	if (r->hold_s < 0)
		r->hold_s = r->for_s;
	for (unsigned int i = 0; i + 1 < z->nr_rules; i++)
		if (!strcmp(z->rules[i].name, r->name))
			return zy_fail(w, line, key, "a second rule named '%s'", r->name);
	return 0;
}

static int auto_rules(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	if (zy_each_item(w, v, line, key, "rules", rule_item, obj))
		return -1;
	if (!((struct cz_zone *)obj)->nr_rules)
		return zy_fail(w, line, key, "no rules (leave auto out instead)");
	return 0;
}

static int auto_min_interval(struct walk *w, struct fy_node *v, int line,
			     const char *key, void *obj)
{
	return read_duration(w, v, line, key, &((struct cz_zone *)obj)->min_interval_s);
}

static const struct field auto_fields[] = {
	{ "rules", true, auto_rules },
	{ "min_interval", false, auto_min_interval },
};

int zy_read_auto(struct walk *w, struct fy_node *v, int line,
		 const char *key, void *obj)
{
	struct cz_zone *z = obj;

	z->min_interval_s = DEFAULT_MIN_INTERVAL_S;
	return zy_walk_mapping(w, v, line, key, auto_fields,
			       ARRAY_LEN(auto_fields), obj);
}

/* ---- checks on the whole file ---- */

int cz_zone_signal_ok(const struct cz_zone *z, const char *name, char *why,
		      size_t len)
{
	const char *dot, *svc;
	size_t n;

	for (int i = 0; cz_zone_signals[i]; i++)
		if (!strcmp(name, cz_zone_signals[i]))
			return 0;
	if (!strncmp(name, "sched.", 6) && name[6] && !strchr(name + 6, '.'))
		return 0;
	if (strncmp(name, "probe.", 6)) {
		snprintf(why, len, "unknown signal '%s' (known: cpu.util, cpu.runnable, cpu.pressure.some, cpu.pressure.full, net.rx_pps, sched.KEY, probe.SERVICE.p50|p99|errors)",
			 name);
		return -1;
	}
	svc = name + 6;
	dot = strchr(svc, '.');
	if (!dot || (strcmp(dot, ".p50") && strcmp(dot, ".p99") &&
		     strcmp(dot, ".errors"))) {
		snprintf(why, len, "'%s': a probe's signals are probe.SERVICE.p50, .p99 and .errors",
			 name);
		return -1;
	}
	n = dot - svc;
	for (unsigned int i = 0; i < z->nr_services; i++)
		if (strlen(z->services[i].name) == n &&
		    !strncmp(z->services[i].name, svc, n)) {
			if (z->services[i].probe.line)
				return 0;
			snprintf(why, len, "'%s': service %.*s has no probe", name,
				 (int)n, svc);
			return -1;
		}
	snprintf(why, len, "'%s': no service %.*s in this zone", name, (int)n, svc);
	return -1;
}

struct sig_check {
	const struct cz_zone	*z;
	char			why[512];
};

static int sig_check(const char *name, void *arg)
{
	struct sig_check *c = arg;

	return cz_zone_signal_ok(c->z, name, c->why, sizeof(c->why));
}

static int check_probe(struct walk *w, unsigned int i)
{
	struct cz_zone_service *s = &w->z->services[i];
	struct cz_zone_probe *p = &s->probe;
	char key[KEY_MAX];

	if (!p->line)
		return 0;
	snprintf(key, sizeof(key), "services[%u].probe", i);
	if (!s->nr_ports)
		return zy_fail(w, p->line, key, "a probe goes through a forwarded port: service %s has none",
			       s->name);
	if (!p->port) {
		p->port = s->ports[0].host;
	} else {
		unsigned int j;

		for (j = 0; j < s->nr_ports && s->ports[j].host != p->port; j++)
			;
		if (j == s->nr_ports)
			return zy_fail(w, p->line, key, "port %u is not one of service %s's host ports",
				       p->port, s->name);
	}
	for (unsigned int j = 0; j < s->nr_ports; j++)
		if (s->ports[j].host == p->port)
			snprintf(p->addr, sizeof(p->addr), "%s",
				 strcmp(s->ports[j].addr, "0.0.0.0") ?
				 s->ports[j].addr : "127.0.0.1");
	return 0;
}

int zy_check_auto(struct walk *w)
{
	struct cz_zone *z = w->z;

	for (unsigned int i = 0; i < z->nr_services; i++)
		if (check_probe(w, i))
			return -1;
	for (unsigned int i = 0; i < z->nr_rules; i++) {
		struct cz_zone_rule *r = &z->rules[i];
		struct sig_check c = { .z = z };
		char key[KEY_MAX];

		snprintf(key, sizeof(key), "auto.rules[%u].when", i);
		if (cz_cond_signals(r->when, sig_check, &c))
			return zy_fail(w, r->line_when, key, "%s", c.why);
		snprintf(key, sizeof(key), "auto.rules[%u].until", i);
		if (r->until && cz_cond_signals(r->until, sig_check, &c))
			return zy_fail(w, r->line_until, key, "%s", c.why);
		snprintf(key, sizeof(key), "auto.rules[%u]", i);
		if (r->target.mode) {
			unsigned int m;

			if (!z->sched)
				return zy_fail(w, r->line, key, "mode %s: the zone has no scheduler with modes",
					       r->target.mode);
			for (m = 0; m < z->nr_modes && strcmp(z->modes[m].name, r->target.mode); m++)
				;
			if (m == z->nr_modes)
				return zy_fail(w, r->line, key, "no mode '%s' in scheduler.modes",
					       r->target.mode);
		}
	}
	return 0;
}

void zy_free_auto(struct cz_zone *z)
{
	for (unsigned int i = 0; i < z->nr_rules; i++) {
		struct cz_zone_rule *r = &z->rules[i];

		free(r->name);
		free(r->when_text);
		free(r->until_text);
		cz_cond_free(r->when);
		cz_cond_free(r->until);
		free(r->target.sched);
		zy_strv_free(&r->target.args);
		free(r->target.mode);
	}
	free(z->rules);
	for (unsigned int i = 0; i < z->nr_services; i++) {
		free(z->services[i].probe.send);
		free(z->services[i].probe.expect);
	}
}
