/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Automatic scheduler switching: the conditions of a zone file's
 * `auto.rules` and the decision taken on each sample of the zone's
 * signals (vmconfigs/README.md, "Switching rules", is the user's side).
 *
 * A condition is comparisons of signals with numbers, joined by `and` and
 * `or` (`and` binds tighter), with parentheses:
 *
 *   cond := conj { "or" conj }
 *   conj := cmp { "and" cmp }
 *   cmp  := "(" cond ")" | SIGNAL OP NUMBER
 *   OP   := "<" | "<=" | ">" | ">=" | "==" | "!="
 *
 * SIGNAL is a dotted name (cpu.util, sched.nr_dispatched, probe.redis.p99);
 * which names exist is the zone file's business (cz_zone.c). A signal
 * without a value in a sample (a scheduler that does not answer, a probe
 * with no reply yet) makes its comparison false.
 *
 * Key choices:
 * - The decision is a pure function of the rules, the samples seen and
 *   the clock, kept here so that unit tests can drive it with made-up
 *   samples; the supervisor only carries it out (switch, log, wait).
 * - Hysteresis in time and, optionally, in value: a rule comes into force
 *   when `when` has held for `for` seconds without a break, and leaves it
 *   when `until` (by default: not `when`) has held for `hold` seconds. A
 *   load that toggles faster than `for` never switches.
 * - Rules are ordered: the first rule whose `when` has held long enough
 *   wins, and an earlier rule may take over from a later one in force.
 *   With no rule in force the zone runs its default, the zone's scheduler.
 * - Between two switch attempts at least `min_interval` passes, whether
 *   the first worked or not.
 */
#ifndef __CZ_AUTO_H
#define __CZ_AUTO_H

#include <stdbool.h>
#include <stddef.h>

struct cz_cond;

/*
 * A signal's value by name: true with *@out, or false when the sample has
 * none.
 */
typedef bool (*cz_signal_fn)(const char *name, void *ctx, double *out);

/*
 * Parse @text. NULL on error, with @err saying what and where ("at column
 * 12: expected a comparison operator after 'cpu.util'").
 */
struct cz_cond *cz_cond_parse(const char *text, char *err, size_t errlen);
void cz_cond_free(struct cz_cond *c);
bool cz_cond_eval(const struct cz_cond *c, cz_signal_fn get, void *ctx);
/*
 * Call @fn for each signal @c names (with repeats), stopping at the
 * first non-zero return, which it returns.
 */
int cz_cond_signals(const struct cz_cond *c,
		    int (*fn)(const char *name, void *arg), void *arg);
/*
 * @c with each signal's value: "cpu.util=97.3 > 90 and cpu.runnable=2.1
 * >= 1.5" ("=none" for a signal without one).
 */
void cz_cond_explain(const struct cz_cond *c, cz_signal_fn get, void *ctx,
		     char *buf, size_t len);

/* One rule, as the zone file gives it (the target is the caller's). */
struct cz_auto_rule {
	const struct cz_cond	*when;
	const struct cz_cond	*until;		/* NULL: not when */
	double			for_s;
	double			hold_s;
};

/* What the decision remembers between samples. */
struct cz_auto_state {
	unsigned int	nr;
	double		*when_since;	/* per rule: `when` true since; <0: not */
	double		*until_since;	/* per rule: `until` true since; <0: not */
	int		active;		/* the rule in force; -1: the default */
	double		last_try;	/* the last switch attempt; <0: none */
};

int cz_auto_init(struct cz_auto_state *st, unsigned int nr_rules);
void cz_auto_free(struct cz_auto_state *st);
/* Forget how long conditions have held (automation turned back on). */
void cz_auto_reset(struct cz_auto_state *st);

/*
 * Feed the sample at time @now (seconds, any monotonic origin) and say
 * which rule should be in force: a rule's index, or -1 for the default.
 * It differs from st->active when a switch is due; the caller then tries
 * it and reports with cz_auto_switched(). Before @min_interval has
 * passed since the last attempt the answer is st->active.
 */
int cz_auto_step(struct cz_auto_state *st, const struct cz_auto_rule *rules,
		 double now, double min_interval, cz_signal_fn get, void *ctx);
/* A switch to @want (cz_auto_step's answer) was tried at @now. */
void cz_auto_switched(struct cz_auto_state *st, int want, bool ok, double now);

#endif /* __CZ_AUTO_H */
