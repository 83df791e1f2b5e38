/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Automatic switching's conditions and decision (lib/cz_auto.c), driven
 * with made-up samples: the grammar's precedence and errors, missing
 * signals, explanations; a rule fires only after its condition held for
 * `for`, a load toggling faster never switches, a rule lets go after
 * `hold`, `until` gives hysteresis in value, an earlier rule takes over a
 * later one, and attempts are `min_interval` apart, failed or not.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>
#include "cz_auto.h"

/* Signals a, b, c; NaN: no value. */
static double sig[3];

static bool get(const char *name, void *ctx, double *out)
{
	(void)ctx;
	if (strlen(name) != 1 || name[0] < 'a' || name[0] > 'c' || sig[name[0] - 'a'] != sig[name[0] - 'a'])
		return false;
	*out = sig[name[0] - 'a'];
	return true;
}

static bool eval(const char *text)
{
	char err[256] = "";
	struct cz_cond *c = cz_cond_parse(text, err, sizeof(err));
	bool r;

	cr_assert(c, "%s: %s", text, err);
	r = cz_cond_eval(c, get, NULL);
	cz_cond_free(c);
	return r;
}

static void bad(const char *text, const char *want)
{
	char err[256] = "";
	struct cz_cond *c = cz_cond_parse(text, err, sizeof(err));

	cr_expect_null(c, "accepted: %s", text);
	cr_expect_str_eq(err, want, "%s", text);
	cz_cond_free(c);
}

Test(cond, grammar)
{
	sig[0] = 1, sig[1] = 2, sig[2] = 3;
	cr_expect(eval("a == 1"));
	cr_expect(eval("a < 1.5 and b >= 2"));
	cr_expect(!eval("a > 1"));
	cr_expect(eval("a != 2"));
	cr_expect(eval("a <= 1e0"));
	/* and binds tighter than or: true or (false and false) */
	cr_expect(eval("a == 1 or b == 0 and c == 0"));
	cr_expect(!eval("(a == 1 or b == 0) and c == 0"));
	cr_expect(eval("((a==1))"));
	cr_expect(eval("  c>2.5  "));
	/* A signal without a value: its comparison is false, != included. */
	sig[1] = __builtin_nan("");
	cr_expect(!eval("b != 5"));
	cr_expect(eval("b > 1 or a == 1"));
	bad("", "at column 1: expected a comparison, found the end");
	bad("a >", "at column 4: expected a number after 'a >'");
	bad("a > 1x", "at column 5: expected a number after 'a >'");
	bad("A > 1", "at column 1: expected a signal name (such as cpu.util) or '('");
	bad("a. > 1", "at column 1: 'a.' is not a signal name");
	bad("a => 1", "at column 3: expected a comparison (< <= > >= == !=) after 'a'");
	bad("a > 1 andb > 2", "at column 7: expected 'and', 'or' or the end, found 'andb > 2'");
	bad("(a > 1", "at column 7: expected ')'");
}

Test(cond, explain)
{
	char err[256], buf[256];
	struct cz_cond *c = cz_cond_parse("a > 0.5 and (b < 3 or c >= 4)", err, sizeof(err));

	sig[0] = 1, sig[1] = __builtin_nan(""), sig[2] = 4;
	cr_assert(c);
	cz_cond_explain(c, get, NULL, buf, sizeof(buf));
	cr_expect_str_eq(buf, "a=1 > 0.5 and (b=none < 3 or c=4 >= 4)");
	cz_cond_free(c);
}

/* Two rules over signal a: r0 when a > 10 (for 3, hold 3), r1 when a > 5. */
static struct cz_cond *when0, *when1, *until0;
static struct cz_auto_rule rules[2];
static struct cz_auto_state st;

static void setup(void)
{
	char err[256];

	when0 = cz_cond_parse("a > 10", err, sizeof(err));
	when1 = cz_cond_parse("a > 5", err, sizeof(err));
	until0 = cz_cond_parse("a < 2", err, sizeof(err));
	rules[0] = (struct cz_auto_rule){ .when = when0, .for_s = 3, .hold_s = 3 };
	rules[1] = (struct cz_auto_rule){ .when = when1, .for_s = 3, .hold_s = 3 };
	cr_assert_eq(cz_auto_init(&st, 2), 0);
	sig[0] = 0;
}

static void teardown(void)
{
	cz_auto_free(&st);
	cz_cond_free(when0);
	cz_cond_free(when1);
	cz_cond_free(until0);
}

TestSuite(decide, .init = setup, .fini = teardown);

/* One sample of a at @t; the decision, carried out (successfully). */
static int step(double t, double a, double min_interval)
{
	int want;

	sig[0] = a;
	want = cz_auto_step(&st, rules, t, min_interval, get, NULL);
	if (want != st.active)
		cz_auto_switched(&st, want, true, t);
	return want;
}

Test(decide, holds_then_fires_and_lets_go)
{
	cr_expect_eq(step(0, 20, 0), -1);
	cr_expect_eq(step(1, 20, 0), -1);
	cr_expect_eq(step(2, 20, 0), -1);
	cr_expect_eq(step(3, 20, 0), 0, "held for 3 s: r0 fires");
	cr_expect_eq(step(4, 0, 0), 0);
	cr_expect_eq(step(6, 0, 0), 0, "false for 2 s of hold 3");
	cr_expect_eq(step(7, 0, 0), -1, "false for 3 s: back to the default");
}

Test(decide, toggling_faster_than_for_never_switches)
{
	for (int t = 0; t < 60; t++)
		cr_expect_eq(step(t, (t / 2) % 2 ? 20 : 0, 0), -1, "t=%d", t);
}

Test(decide, earlier_rule_takes_over)
{
	for (int t = 0; t <= 3; t++)
		step(t, 7, 0);
	cr_expect_eq(st.active, 1, "a = 7: only r1");
	for (int t = 4; t <= 6; t++)
		step(t, 20, 0);
	cr_expect_eq(st.active, 1, "r0 true for 2 s only");
	cr_expect_eq(step(7, 20, 0), 0, "r0 held 3 s: it takes over");
	/* r1 still true but r0 in force: a later rule does not take over. */
	cr_expect_eq(step(8, 7, 0), 0);
	cr_expect_eq(step(11, 7, 0), 1, "r0 let go; r1 has held all along");
}

Test(decide, until_is_hysteresis)
{
	rules[0].until = until0;
	for (int t = 0; t <= 3; t++)
		step(t, 20, 0);
	cr_expect_eq(st.active, 0);
	for (int t = 4; t < 20; t++)
		cr_expect_eq(step(t, 4, 0), 0, "a = 4: neither > 10 nor < 2, t=%d", t);
	step(20, 1, 0);
	step(22, 1, 0);
	cr_expect_eq(step(23, 1, 0), -1, "a < 2 for 3 s");
}

Test(decide, min_interval_between_attempts)
{
	int want;

	for (int t = 0; t <= 3; t++)
		step(t, 20, 10);
	cr_expect_eq(st.active, 0, "the first switch needs no wait");
	for (int t = 4; t <= 12; t++)
		cr_expect_eq(step(t, 0, 10), 0, "t=%d: within 10 s of the last", t);
	cr_expect_eq(step(13, 0, 10), -1);
	/* Held long enough at 17, but the last switch was at 13. */
	for (int t = 14; t <= 22; t++)
		cr_expect_eq(step(t, 20, 10), -1, "t=%d", t);
	sig[0] = 20;
	want = cz_auto_step(&st, rules, 23, 10, get, NULL);
	cr_expect_eq(want, 0);
	/* A failed attempt counts as well. */
	cz_auto_switched(&st, want, false, 23);
	cr_expect_eq(st.active, -1, "it failed: still the default");
	cr_expect_eq(cz_auto_step(&st, rules, 32, 10, get, NULL), -1, "9 s after the failure");
	cr_expect_eq(cz_auto_step(&st, rules, 33, 10, get, NULL), 0, "10 s after it");
}
