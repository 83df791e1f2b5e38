/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for scx_user's policies (policy.h): a min-heap of tasks by key,
 * and per-pid state kept in libc's binary tree (tsearch), which is
 * balanced in glibc, so both are O(log n) per task.
 */
#define _GNU_SOURCE
#include <search.h>
#include <stdlib.h>
#include "policy.h"

static bool heap_less(const struct cz_user_heap_item *a,
		      const struct cz_user_heap_item *b)
{
	return a->key != b->key ? a->key < b->key : a->order < b->order;
}

static void heap_swap(struct cz_user_heap_item *a, struct cz_user_heap_item *b)
{
	struct cz_user_heap_item t = *a;

	*a = *b;
	*b = t;
}

int cz_user_heap_push(struct cz_user_heap *h, u64 key, const struct cz_user_task *t)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		void *v = reallocarray(h->v, cap, sizeof(*h->v));

		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	i = h->n++;
	h->v[i] = (struct cz_user_heap_item){ key, h->pushed++, *t };
	while (i && heap_less(&h->v[i], &h->v[(i - 1) / 2])) {
		heap_swap(&h->v[i], &h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

bool cz_user_heap_pop(struct cz_user_heap *h, struct cz_user_heap_item *out)
{
	size_t i = 0;

	if (!h->n)
		return false;
	*out = h->v[0];
	h->v[0] = h->v[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && heap_less(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && heap_less(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(&h->v[i], &h->v[m]);
		i = m;
	}
	return true;
}

static int pid_cmp(const void *a, const void *b)
{
	s32 x = ((const struct cz_user_pid *)a)->pid;
	s32 y = ((const struct cz_user_pid *)b)->pid;

	return (x > y) - (x < y);
}

struct cz_user_pid *cz_user_pid_get(void **table, s32 pid)
{
	struct cz_user_pid key = { .pid = pid }, *e, **slot;

	slot = tfind(&key, table, pid_cmp);
	if (slot)
		return *slot;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	slot = tsearch(e, table, pid_cmp);
	if (!slot) {
		free(e);
		return NULL;
	}
	return *slot;
}

void cz_user_pid_del(void **table, s32 pid)
{
	struct cz_user_pid key = { .pid = pid }, **slot;
	struct cz_user_pid *e;

	slot = tfind(&key, table, pid_cmp);
	if (!slot)
		return;
	e = *slot;
	tdelete(&key, table, pid_cmp);
	free(e);
}

/*
 * The floor: the smallest key among decided tasks that have not come back
 * (they run, or wait for a CPU). A heap entry is live while its task's
 * aux still holds the entry's seq; stale ones are dropped on the way. With
 * nothing decided, the largest key ever decided.
 */
static u64 vclock_floor(struct cz_user_vclock *c)
{
	struct cz_user_heap *h = &c->decided;

	while (h->n) {
		struct cz_user_heap_item *top = &h->v[0];
		struct cz_user_pid key = { .pid = top->task.pid }, **e;
		struct cz_user_heap_item gone;

		e = tfind(&key, &c->tasks, pid_cmp);
		if (e && (*e)->aux == top->task.seq)
			return top->key;
		cz_user_heap_pop(h, &gone);
	}
	return c->vmax;
}

u64 cz_user_vclock_enqueue(struct cz_user_vclock *c, const struct cz_user_task *t)
{
	struct cz_user_pid *e = cz_user_pid_get(&c->tasks, t->pid);
	u64 floor, credit = cz_user_slice_ns();

	if (!e)
		return c->vmax;
	e->vtime += t->ran_ns * 100 / (t->weight ? t->weight : 100);
	e->aux = 0;	/* back: no longer decided */
	floor = vclock_floor(c);
	if (e->vtime + credit < floor)
		e->vtime = floor - credit;
	return e->vtime;
}

void cz_user_vclock_decided(struct cz_user_vclock *c, const struct cz_user_task *t,
			    u64 key)
{
	struct cz_user_pid *e = cz_user_pid_get(&c->tasks, t->pid);

	if (key > c->vmax)
		c->vmax = key;
	if (!e || cz_user_heap_push(&c->decided, key, t))
		return;
	e->aux = t->seq;
}

void cz_user_vclock_exited(struct cz_user_vclock *c, s32 pid)
{
	cz_user_pid_del(&c->tasks, pid);
}
