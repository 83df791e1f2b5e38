/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Automatic switching (cz_auto.h): a recursive-descent parser for the
 * rules' conditions, their evaluation, and the decision per sample.
 *
 * Key choices:
 * - The grammar is four lines (cz_auto.h), so a parser of our own is
 *   shorter and gives better messages than a generator would; it works on
 *   the text with a cursor and reports the column of the first problem.
 * - Comparisons hold their signal's name; the caller's lookup turns it
 *   into a value per sample, so one parsed rule serves every sample.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cz_auto.h"

enum node_kind { N_OR, N_AND, N_CMP };
enum cmp_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

static const char *const op_text[] = { "<", "<=", ">", ">=", "==", "!=" };

struct cz_cond {
	enum node_kind	kind;
	struct cz_cond	*l, *r;		/* N_OR, N_AND */
	char		*signal;	/* N_CMP */
	enum cmp_op	op;
	double		value;
};

enum { SIGNAL_MAX = 96, DEPTH_MAX = 32 };

struct parser {
	const char	*s;
	size_t		pos;
	int		depth;
	char		*err;
	size_t		errlen;
	bool		failed;
};

static void perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void perr(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "at column %zu: %s", p->pos + 1, msg);
	p->failed = true;
}

static void skip_space(struct parser *p)
{
	while (isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

/* The word @w at the cursor, as a whole word: consumed. */
static bool take_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);
	char next;

	skip_space(p);
	if (strncmp(p->s + p->pos, w, n))
		return false;
	next = p->s[p->pos + n];
	if (isalnum((unsigned char)next) || next == '_' || next == '.')
		return false;
	p->pos += n;
	return true;
}

static bool signal_char(char c, bool first)
{
	if (first)
		return islower((unsigned char)c);
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

static struct cz_cond *node(enum node_kind kind, struct cz_cond *l,
			    struct cz_cond *r)
{
	struct cz_cond *c = calloc(1, sizeof(*c));

	if (!c) {
		cz_cond_free(l);
		cz_cond_free(r);
		return NULL;
	}
	c->kind = kind;
	c->l = l;
	c->r = r;
	return c;
}

static struct cz_cond *parse_or(struct parser *p);

static struct cz_cond *parse_cmp(struct parser *p)
{
	struct cz_cond *c;
	size_t start, len;
	char *end;
	int op = -1;

	skip_space(p);
	if (p->s[p->pos] == '(') {
		p->pos++;
		if (++p->depth > DEPTH_MAX) {
			perr(p, "parentheses nested deeper than %d", DEPTH_MAX);
			return NULL;
		}
		c = parse_or(p);
		p->depth--;
		if (!c)
			return NULL;
		skip_space(p);
		if (p->s[p->pos] != ')') {
			perr(p, "expected ')'");
			cz_cond_free(c);
			return NULL;
		}
		p->pos++;
		return c;
	}
	start = p->pos;
	if (!signal_char(p->s[p->pos], true)) {
		perr(p, p->s[p->pos] ? "expected a signal name (such as cpu.util) or '('"
				     : "expected a comparison, found the end");
		return NULL;
	}
	while (signal_char(p->s[p->pos], false))
		p->pos++;
	len = p->pos - start;
	if (len >= SIGNAL_MAX || p->s[p->pos - 1] == '.') {
		p->pos = start;
		perr(p, "'%.*s' is not a signal name", (int)(len > 40 ? 40 : len),
		     p->s + start);
		return NULL;
	}
	c = node(N_CMP, NULL, NULL);
	if (!c || !(c->signal = strndup(p->s + start, len))) {
		free(c);
		perr(p, "out of memory");
		return NULL;
	}
	skip_space(p);
	/* Two-character operators first. */
	for (int i = OP_NE; i >= 0 && op < 0; i--) {
		size_t n = strlen(op_text[i]);

		if (!strncmp(p->s + p->pos, op_text[i], n) &&
		    (n == 2 || p->s[p->pos + 1] != '='))
			op = i;
	}
	if (op < 0) {
		perr(p, "expected a comparison (< <= > >= == !=) after '%s'", c->signal);
		cz_cond_free(c);
		return NULL;
	}
	c->op = op;
	p->pos += strlen(op_text[op]);
	skip_space(p);
	c->value = strtod(p->s + p->pos, &end);
	if (end == p->s + p->pos || !isfinite(c->value) ||
	    isalpha((unsigned char)*end) || *end == '_') {
		perr(p, "expected a number after '%s %s'", c->signal, op_text[op]);
		cz_cond_free(c);
		return NULL;
	}
	p->pos = end - p->s;
	return c;
}

static struct cz_cond *parse_and(struct parser *p)
{
	struct cz_cond *c = parse_cmp(p);

	while (c && take_word(p, "and")) {
		struct cz_cond *r = parse_cmp(p);

		c = r ? node(N_AND, c, r) : (cz_cond_free(c), NULL);
	}
	return c;
}

static struct cz_cond *parse_or(struct parser *p)
{
	struct cz_cond *c = parse_and(p);

	while (c && take_word(p, "or")) {
		struct cz_cond *r = parse_and(p);

		c = r ? node(N_OR, c, r) : (cz_cond_free(c), NULL);
	}
	return c;
}

struct cz_cond *cz_cond_parse(const char *text, char *err, size_t errlen)
{
	struct parser p = { .s = text, .err = err, .errlen = errlen };
	struct cz_cond *c = parse_or(&p);

	skip_space(&p);
	if (c && p.s[p.pos]) {
		perr(&p, "expected 'and', 'or' or the end, found '%.20s'", p.s + p.pos);
		cz_cond_free(c);
		return NULL;
	}
	if (!c && !p.failed)
		perr(&p, "out of memory");
	return c;
}

void cz_cond_free(struct cz_cond *c)
{
	if (!c)
		return;
	cz_cond_free(c->l);
	cz_cond_free(c->r);
	free(c->signal);
	free(c);
}

static bool compare(double v, enum cmp_op op, double x)
{
	switch (op) {
	case OP_LT: return v < x;
	case OP_LE: return v <= x;
	case OP_GT: return v > x;
	case OP_GE: return v >= x;
	case OP_EQ: return v == x;
	case OP_NE: return v != x;
	}
	return false;
}

bool cz_cond_eval(const struct cz_cond *c, cz_signal_fn get, void *ctx)
{
	double v;

	switch (c->kind) {
	case N_OR:
		return cz_cond_eval(c->l, get, ctx) || cz_cond_eval(c->r, get, ctx);
	case N_AND:
		return cz_cond_eval(c->l, get, ctx) && cz_cond_eval(c->r, get, ctx);
	case N_CMP:
		return get(c->signal, ctx, &v) && compare(v, c->op, c->value);
	}
	return false;
}

int cz_cond_signals(const struct cz_cond *c,
		    int (*fn)(const char *name, void *arg), void *arg)
{
	int ret;

	if (c->kind == N_CMP)
		return fn(c->signal, arg);
	ret = cz_cond_signals(c->l, fn, arg);
	return ret ?: cz_cond_signals(c->r, fn, arg);
}

struct out {
	char	*buf;
	size_t	len, off;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->off >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->off += n;
}

static void explain(const struct cz_cond *c, enum node_kind parent,
		    cz_signal_fn get, void *ctx, struct out *o)
{
	/* An `or` inside an `and` needs its parentheses back. */
	bool paren = c->kind == N_OR && parent == N_AND;
	double v;

	if (c->kind == N_CMP) {
		if (get(c->signal, ctx, &v))
			put(o, "%s=%.4g %s %g", c->signal, v, op_text[c->op], c->value);
		else
			put(o, "%s=none %s %g", c->signal, op_text[c->op], c->value);
		return;
	}
	put(o, "%s", paren ? "(" : "");
	explain(c->l, c->kind, get, ctx, o);
	put(o, " %s ", c->kind == N_AND ? "and" : "or");
	explain(c->r, c->kind, get, ctx, o);
	put(o, "%s", paren ? ")" : "");
}

void cz_cond_explain(const struct cz_cond *c, cz_signal_fn get, void *ctx,
		     char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	explain(c, N_OR, get, ctx, &o);
}

/* ---- the decision ---- */

int cz_auto_init(struct cz_auto_state *st, unsigned int nr_rules)
{
	memset(st, 0, sizeof(*st));
	st->nr = nr_rules;
	st->when_since = calloc(nr_rules ?: 1, sizeof(double));
	st->until_since = calloc(nr_rules ?: 1, sizeof(double));
	if (!st->when_since || !st->until_since) {
		cz_auto_free(st);
		return -1;
	}
	st->active = -1;
	st->last_try = -1;
	cz_auto_reset(st);
	return 0;
}

void cz_auto_free(struct cz_auto_state *st)
{
	free(st->when_since);
	free(st->until_since);
	st->when_since = st->until_since = NULL;
}

void cz_auto_reset(struct cz_auto_state *st)
{
	for (unsigned int i = 0; i < st->nr; i++)
		st->when_since[i] = st->until_since[i] = -1;
}

/* Track how long @now's truth of a condition has lasted. */
static double held(double *since, bool now_true, double now)
{
	if (!now_true) {
		*since = -1;
		return -1;
	}
	if (*since < 0)
		*since = now;
	return now - *since;
}

int cz_auto_step(struct cz_auto_state *st, const struct cz_auto_rule *rules,
		 double now, double min_interval, cz_signal_fn get, void *ctx)
{
	int fire = -1, want;
	bool released = false;

	for (unsigned int i = 0; i < st->nr; i++) {
		const struct cz_auto_rule *r = &rules[i];
		bool w = cz_cond_eval(r->when, get, ctx);
		bool u = r->until ? cz_cond_eval(r->until, get, ctx) : !w;
		double hw = held(&st->when_since[i], w, now);
		double hu = held(&st->until_since[i], u, now);

		if (fire < 0 && hw >= 0 && hw >= r->for_s)
			fire = i;
		if ((int)i == st->active && hu >= 0 && hu >= r->hold_s)
			released = true;
	}
	if (st->active < 0 || released)
		want = fire;		/* -1: back to the default */
	else if (fire >= 0 && fire < st->active)
		want = fire;		/* an earlier rule takes over */
	else
		want = st->active;
	if (want != st->active && st->last_try >= 0 &&
	    now - st->last_try < min_interval)
		return st->active;
	return want;
}

void cz_auto_switched(struct cz_auto_state *st, int want, bool ok, double now)
{
	st->last_try = now;
	if (ok)
		st->active = want;
}
