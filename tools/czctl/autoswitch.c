/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Automatic switching in the zone supervisor (autoswitch.h).
 *
 * Decisions run here, on the host, rather than in the zone's agent:
 * - the signals come from both sides: the agent's samples (the zone's
 *   CPU, network and scheduler) and the host's probes through forwarded
 *   ports, which only the host can take as a client sees them;
 * - a manual `czctl zone switch` passes through the supervisor, which is
 *   what lets it hold automation until `czctl zone auto NAME on`;
 * - the events log and the host's metrics live here; an agent that
 *   restarts or a zone under so much load that its agent runs late does
 *   not lose the decision's state.
 * The switch itself is the agent's "sched" request: czctl's transactional
 * switch in the zone, with its preload and rollback.
 *
 * Each decision is an "auto" event with the rule, the condition with the
 * values that made it true, what runs and what comes; its result is a
 * "switch" event. A rule that holds while its target already runs takes
 * force without a switch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "autoswitch.h"
#include "cz_auto.h"
#include "cz_util.h"
#include "cz_zone.h"
#include "probe.h"
#include "zonestate.h"

enum {
	SWITCH_TIMEOUT_S	= 600,
	ACTIVE_UNKNOWN		= -2,	/* after a manual switch */
};

static struct {
	struct cz_zone		z;
	bool			loaded;
	struct cz_auto_rule	*rules;
	struct cz_auto_state	st;
	bool			on;		/* automation wanted */
	bool			held;		/* by a manual switch */
	bool			busy;		/* a switch is going on */
	int			want;		/* the rule it switches to */
	double			t_decided;
	struct json_object	*sample;	/* the latest */
	char			*cur;		/* what runs: scx_NAME; NULL: fair */
	struct json_object	*cur_args;
	unsigned long		switches, failures;
	unsigned long		manual_switches;
} A;

/* ---- signals ---- */

static bool signal_of(const char *name, void *ctx, double *out)
{
	struct json_object *v, *sched;
	struct probe_stats ps;
	char svc[128];
	const char *dot;

	(void)ctx;
	if (!strncmp(name, "probe.", 6)) {
		dot = strrchr(name, '.');
		snprintf(svc, sizeof(svc), "%.*s", (int)(dot - name - 6), name + 6);
		if (!probe_stats(svc, &ps))
			return false;
		if (!strcmp(dot, ".errors")) {
			*out = ps.errors;
			return ps.n > 0;
		}
		*out = strcmp(dot, ".p50") ? ps.p99_ms : ps.p50_ms;
		return ps.have;
	}
	if (!A.sample)
		return false;
	if (!strncmp(name, "sched.", 6)) {
		if (!json_object_object_get_ex(A.sample, "sched", &sched) ||
		    !json_object_object_get_ex(sched, name + 6, &v))
			return false;
	} else if (!json_object_object_get_ex(A.sample, name, &v)) {
		return false;
	}
	*out = json_object_get_double(v);
	return true;
}

static int add_value(const char *name, void *arg)
{
	double v;

	json_object_object_add(arg, name, signal_of(name, NULL, &v) ?
			       json_object_new_double(v) : NULL);
	return 0;
}

/* ---- targets ---- */

/* What rule @i (-1: the default) runs: *@sched (NULL: fair), args (new). */
static struct json_object *target_of(int i, const char **sched)
{
	const struct cz_zone_target *t;

	if (i < 0) {
		*sched = A.z.sched;
		return zs_strv_json(&A.z.sched_args);
	}
	t = &A.z.rules[i].target;
	if (!t->mode) {
		*sched = t->sched;
		return zs_strv_json(&t->args);
	}
	*sched = A.z.sched;
	for (unsigned int m = 0; m < A.z.nr_modes; m++)
		if (!strcmp(A.z.modes[m].name, t->mode))
			return zs_strv_json(&A.z.modes[m].args);
	return json_object_new_array();
}

static bool runs_now(const char *sched, struct json_object *args)
{
	if (!sched || !A.cur)
		return !sched && !A.cur;
	return !strcmp(sched, A.cur) && json_object_equal(args, A.cur_args);
}

static void set_cur(const char *sched, struct json_object *args)
{
	free(A.cur);
	json_object_put(A.cur_args);
	A.cur = sched ? strdup(sched) : NULL;
	A.cur_args = sched ? json_object_get(args) : json_object_new_array();
}

static const char *rule_name(int i)
{
	return i >= 0 ? A.z.rules[i].name : i == -1 ? "default" : "unknown";
}

static struct json_object *running_json(const char *sched, struct json_object *args)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "scheduler", json_object_new_string(sched ?: "fair"));
	json_object_object_add(o, "args", json_object_get(args));
	return o;
}

/* ---- deciding ---- */

static void switch_done(int err, const char *error, struct json_object *resp)
{
	struct json_object *ev = json_object_new_object(), *args;
	const char *sched;
	int status = err ? -1 : (int)zs_int(resp, "status");
	bool ok = !err && !status;

	args = target_of(A.want, &sched);
	A.busy = false;
	cz_auto_switched(&A.st, A.want, ok, A.t_decided);
	if (ok) {
		set_cur(sched, args);
		A.switches++;
	} else {
		A.failures++;
	}
	json_object_object_add(ev, "by", json_object_new_string("auto"));
	json_object_object_add(ev, "rule", json_object_new_string(rule_name(A.want)));
	json_object_object_add(ev, "to", running_json(sched, args));
	json_object_object_add(ev, "ok", json_object_new_boolean(ok));
	json_object_object_add(ev, "took_s", json_object_new_double(cz_now() - A.t_decided));
	if (!ok)
		json_object_object_add(ev, "error", json_object_new_string(
			err ? (error ?: strerror(err)) : zs_str(resp, "output")));
	sup_event("switch", ev);
	json_object_put(args);
}

/* Why @want is due, with the values that say so. */
static void explain(int want, int from, char *why, size_t len,
		    struct json_object *values)
{
	char cond[768];

	if (want >= 0) {
		const struct cz_zone_rule *r = &A.z.rules[want];

		cz_cond_explain(r->when, signal_of, NULL, cond, sizeof(cond));
		snprintf(why, len, "%s for %gs", cond, r->for_s);
		cz_cond_signals(r->when, add_value, values);
	} else if (from >= 0) {
		const struct cz_zone_rule *r = &A.z.rules[from];

		if (r->until) {
			cz_cond_explain(r->until, signal_of, NULL, cond, sizeof(cond));
			snprintf(why, len, "rule %s let go: %s for %gs", r->name, cond, r->hold_s);
			cz_cond_signals(r->until, add_value, values);
		} else {
			cz_cond_explain(r->when, signal_of, NULL, cond, sizeof(cond));
			snprintf(why, len, "rule %s let go: not (%s) for %gs", r->name, cond,
				 r->hold_s);
			cz_cond_signals(r->when, add_value, values);
		}
	} else {
		snprintf(why, len, "no rule holds");
	}
}

static void decide(void)
{
	struct json_object *ev, *args, *values, *sargs;
	const char *sched, *op;
	char why[1024];
	int want, err;

	want = cz_auto_step(&A.st, A.rules, cz_now(), A.z.min_interval_s,
			    signal_of, NULL);
	if (!A.on || A.held || A.busy || want == A.st.active)
		return;
	args = target_of(want, &sched);
	values = json_object_new_object();
	explain(want, A.st.active, why, sizeof(why), values);
	ev = json_object_new_object();
	json_object_object_add(ev, "rule", json_object_new_string(rule_name(want)));
	json_object_object_add(ev, "why", json_object_new_string(why));
	json_object_object_add(ev, "values", values);
	json_object_object_add(ev, "from", running_json(A.cur, A.cur_args));
	json_object_object_add(ev, "to", running_json(sched, args));
	if (runs_now(sched, args)) {
		/* Nothing to change: the rule takes force as it is. */
		A.st.active = want;
		json_object_object_add(ev, "action", json_object_new_string("none, already running"));
		sup_event("auto", ev);
		json_object_put(args);
		return;
	}
	json_object_object_add(ev, "action", json_object_new_string("switch"));
	sup_event("auto", ev);
	op = !sched ? "stop" : A.cur ? "switch" : "start";
	sargs = json_object_new_object();
	json_object_object_add(sargs, "op", json_object_new_string(op));
	if (sched)
		json_object_object_add(sargs, "name", json_object_new_string(sched));
	json_object_object_add(sargs, "args", args);
	A.want = want;
	A.t_decided = cz_now();
	A.busy = true;
	err = sup_request("sched", sargs, SWITCH_TIMEOUT_S, switch_done);
	if (err)
		switch_done(err, "the zone's agent is not connected", NULL);
}

void auto_sample(struct json_object *sample)
{
	json_object_put(A.sample);
	A.sample = json_object_get(sample);
	if (A.loaded && A.z.nr_rules)
		decide();
}

/* ---- the zone's own requests ---- */

/* What a "sched" request runs: scx_NAME, or NULL (stop: the fair class). */
static const char *sched_of(struct json_object *args)
{
	return strcmp(zs_str(args, "op"), "stop") ? zs_str(args, "name") : NULL;
}

void auto_manual(void)
{
	struct json_object *ev;

	if (!A.loaded || !A.z.nr_rules || !A.on || A.held)
		return;
	A.held = true;
	ev = json_object_new_object();
	json_object_object_add(ev, "state", json_object_new_string("held"));
	json_object_object_add(ev, "why", json_object_new_string(
		"a manual switch; `czctl zone auto NAME on` resumes"));
	sup_event("auto", ev);
}

void auto_manual_done(struct json_object *args, bool ok)
{
	struct json_object *ev = json_object_new_object(), *a = NULL;
	const char *sched = sched_of(args);

	json_object_object_get_ex(args, "args", &a);
	if (ok)
		A.manual_switches++;
	if (ok && A.loaded) {
		struct json_object *none = json_object_new_array();

		set_cur(sched, a ?: none);
		json_object_put(none);
		A.st.active = ACTIVE_UNKNOWN;
	}
	json_object_object_add(ev, "by", json_object_new_string("manual"));
	json_object_object_add(ev, "to", running_json(sched, a));
	json_object_object_add(ev, "ok", json_object_new_boolean(ok));
	sup_event("switch", ev);
}

static struct json_object *status_json(void)
{
	struct json_object *o = json_object_new_object(), *rules, *probes;

	json_object_object_add(o, "rules_count", json_object_new_int(A.z.nr_rules));
	json_object_object_add(o, "on", json_object_new_boolean(A.on));
	json_object_object_add(o, "held", json_object_new_boolean(A.held));
	json_object_object_add(o, "busy", json_object_new_boolean(A.busy));
	json_object_object_add(o, "active", json_object_new_string(rule_name(A.st.active)));
	json_object_object_add(o, "running", running_json(A.cur, A.cur_args));
	json_object_object_add(o, "min_interval_s", json_object_new_double(A.z.min_interval_s));
	json_object_object_add(o, "switches", json_object_new_int64(A.switches));
	json_object_object_add(o, "failures", json_object_new_int64(A.failures));
	json_object_object_add(o, "manual_switches", json_object_new_int64(A.manual_switches));
	json_object_object_add(o, "sample", json_object_get(A.sample));
	rules = json_object_new_array();
	for (unsigned int i = 0; i < A.z.nr_rules; i++) {
		const struct cz_zone_rule *r = &A.z.rules[i];
		struct json_object *ro = json_object_new_object(), *args;
		const char *sched;

		args = target_of(i, &sched);
		json_object_object_add(ro, "name", json_object_new_string(r->name));
		json_object_object_add(ro, "when", json_object_new_string(r->when_text));
		if (r->until_text)
			json_object_object_add(ro, "until", json_object_new_string(r->until_text));
		json_object_object_add(ro, "for_s", json_object_new_double(r->for_s));
		json_object_object_add(ro, "hold_s", json_object_new_double(r->hold_s));
		json_object_object_add(ro, "to", running_json(sched, args));
		json_object_object_add(ro, "holding_s", json_object_new_double(
			A.st.when_since[i] < 0 ? 0 : cz_now() - A.st.when_since[i]));
		json_object_array_add(rules, ro);
		json_object_put(args);
	}
	json_object_object_add(o, "rules", rules);
	probes = json_object_new_object();
	for (unsigned int i = 0; i < A.z.nr_services; i++) {
		struct probe_stats ps;
		struct json_object *po;

		if (!probe_stats(A.z.services[i].name, &ps))
			continue;
		po = json_object_new_object();
		json_object_object_add(po, "p50_ms", ps.have ? json_object_new_double(ps.p50_ms) : NULL);
		json_object_object_add(po, "p99_ms", ps.have ? json_object_new_double(ps.p99_ms) : NULL);
		json_object_object_add(po, "last_ms", ps.last_ms >= 0 ? json_object_new_double(ps.last_ms) : NULL);
		json_object_object_add(po, "n", json_object_new_int(ps.n));
		json_object_object_add(po, "errors", json_object_new_int(ps.errors));
		json_object_object_add(po, "total", json_object_new_int64(ps.total));
		json_object_object_add(po, "total_errors", json_object_new_int64(ps.total_errors));
		json_object_object_add(probes, A.z.services[i].name, po);
	}
	json_object_object_add(o, "probes", probes);
	return o;
}

struct json_object *auto_request(struct json_object *args, int *err,
				 const char **msg)
{
	const char *op = zs_str(args, "op");
	struct json_object *ev;

	if (!*op || !strcmp(op, "status"))
		return status_json();
	if (strcmp(op, "on") && strcmp(op, "off")) {
		*err = EINVAL;
		*msg = "auto takes op on, off or status";
		return NULL;
	}
	if (!A.z.nr_rules) {
		*err = ENOENT;
		*msg = "the zone has no switching rules (auto: in its file)";
		return NULL;
	}
	if (!strcmp(op, "on")) {
		/* Conditions are timed afresh; what runs is compared anew. */
		cz_auto_reset(&A.st);
		if (A.held || !A.on)
			A.st.active = ACTIVE_UNKNOWN;
		A.on = true;
		A.held = false;
	} else {
		A.on = false;
	}
	ev = json_object_new_object();
	json_object_object_add(ev, "state", json_object_new_string(op));
	sup_event("auto", ev);
	return status_json();
}

int auto_start(const char *zone_file, char *err, size_t errlen)
{
	struct json_object *args;

	if (cz_zone_load(zone_file, &A.z, err, errlen))
		return -1;
	A.loaded = true;
	args = zs_strv_json(&A.z.sched_args);
	set_cur(A.z.sched, args);
	json_object_put(args);
	if (cz_auto_init(&A.st, A.z.nr_rules) || probes_start(&A.z)) {
		snprintf(err, errlen, "starting automation: %s", strerror(errno));
		return -1;
	}
	A.rules = calloc(A.z.nr_rules ?: 1, sizeof(*A.rules));
	if (!A.rules) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned int i = 0; i < A.z.nr_rules; i++)
		A.rules[i] = (struct cz_auto_rule){
			.when = A.z.rules[i].when, .until = A.z.rules[i].until,
			.for_s = A.z.rules[i].for_s, .hold_s = A.z.rules[i].hold_s,
		};
	A.on = A.z.nr_rules > 0;
	return 0;
}
