/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_user's policy thread: reads what the BPF side hands over, calls the
 * policy, sends its decisions back.
 *
 * Loop: wait on the ring buffer (epoll, at most a tick) -> for each
 * message call stopped/enqueue or exited -> stamp user_seen_ns (the BPF
 * side's sign of life) -> every tick: refresh the tunables, call tick,
 * and once a second turn the BPF side's latency histogram into the
 * rtt_p50_us/rtt_p99_us stats -> ask dispatch for decisions until it
 * has none, each written straight into the user ring buffer (no system
 * call per decision; the BPF side drains it in ops.dispatch).
 *
 * Key choices:
 * - One thread, so policies need no locks; it blocks every signal (the
 *   main thread handles them) and runs until user_core_stop().
 * - user_seen_ns is also stamped every STAMP_EVERY messages within a
 *   batch, so a long batch is not taken for a stall.
 * - A decision that finds the user ring buffer full is not asked for: the
 *   reservation comes first, and a policy is asked only when there is
 *   room. The next round (at the latest a tick later) tries again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cz.h"
#include "core.h"
#include "user.skel.h"

enum {
	STAMP_EVERY	= 64,	/* messages between user_seen_ns stamps */
	RTT_PERIOD_MS	= 1000,
};

static struct {
	struct user			*skel;
	const struct cz_user_policy	*pol;
	struct ring_buffer		*rb;
	struct user_ring_buffer		*urb;
	pthread_t			thread;
	volatile bool			stop;
	bool				running;
	u64				tun[NR_USER_TUNABLES];
	u64				rtt_prev[USER_RTT_BUCKETS];
	u64				rtt_at;
	unsigned int			since_stamp;
} core;

extern const struct cz_user_policy *const __start_cz_user_policies[];
extern const struct cz_user_policy *const __stop_cz_user_policies[];

const struct cz_user_policy *const *cz_user_policies(size_t *nr)
{
	*nr = __stop_cz_user_policies - __start_cz_user_policies;
	return __start_cz_user_policies;
}

const struct cz_user_policy *cz_user_policy_find(const char *name)
{
	size_t nr, i;
	const struct cz_user_policy *const *p = cz_user_policies(&nr);

	for (i = 0; i < nr; i++)
		if (!strcmp(p[i]->name, name))
			return p[i];
	return NULL;
}

u64 cz_user_tunable(enum user_tunable t)
{
	return core.tun[t];
}

u64 cz_user_slice_ns(void)
{
	return core.tun[TUN_SLICE_US] * 1000;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void read_tunables(void)
{
	int fd = bpf_map__fd(core.skel->maps.cz_tunables);
	u32 i;

	for (i = 0; i < NR_USER_TUNABLES; i++) {
		u64 v;

		if (!bpf_map_lookup_elem(fd, &i, &v))
			core.tun[i] = v;
	}
}

static int on_msg(void *ctx, void *data, size_t size)
{
	const struct user_msg *m = data;
	struct cz_user_task t;

	(void)ctx;
	if (size < sizeof(*m))
		return 0;
	if (++core.since_stamp >= STAMP_EVERY) {
		core.skel->bss->user_seen_ns = now_ns();
		core.since_stamp = 0;
	}
	if (m->kind == USER_MSG_EXIT) {
		if (core.pol->exited)
			core.pol->exited(m->pid);
		return 0;
	}
	t = (struct cz_user_task){
		.pid = m->pid, .tgid = m->tgid, .weight = m->weight,
		.sets = m->sets, .cgid = m->cgid, .ran_ns = m->ran_ns,
		.enq_ns = m->enq_ns, .seq = m->seq, .cpu = m->cpu,
		.wakeup = m->flags & USER_WAKEUP,
	};
	if (t.ran_ns && core.pol->stopped)
		core.pol->stopped(&t);
	core.pol->enqueue(&t);
	return 0;
}

static void send_decisions(void)
{
	for (;;) {
		struct user_run *r = user_ring_buffer__reserve(core.urb, sizeof(*r));
		struct cz_user_run run = { 0 };

		if (!r)
			return;
		if (!core.pol->dispatch(&run)) {
			user_ring_buffer__discard(core.urb, r);
			return;
		}
		*r = (struct user_run){ .pid = run.pid, .seq = run.seq,
					.key = run.key, .slice_ns = run.slice_ns };
		user_ring_buffer__submit(core.urb, r);
	}
}

/* Bucket @b's middle value in ns (user.bpf.c's rtt_record() layout). */
static double bucket_ns(unsigned int b)
{
	unsigned int msb = b / 4, sub = b % 4;

	if (b < 4)
		return b;
	return (double)((4ULL + sub) << (msb - 2)) + (double)(1ULL << (msb - 2)) / 2;
}

/* p50 and p99 of the histogram's growth since the last call, in us. */
static void update_rtt(void)
{
	u64 delta[USER_RTT_BUCKETS], total = 0, acc = 0;
	double pct[2] = { 0, 0 };
	int k = 0;
	u32 b;

	for (b = 0; b < USER_RTT_BUCKETS; b++) {
		u64 now = core.skel->bss->rtt_hist[b];

		delta[b] = now - core.rtt_prev[b];
		core.rtt_prev[b] = now;
		total += delta[b];
	}
	for (b = 0; b < USER_RTT_BUCKETS && total && k < 2; b++) {
		acc += delta[b];
		while (k < 2 && acc * 100 >= total * (k ? 99 : 50))
			pct[k++] = bucket_ns(b) / 1000;
	}
	for (k = 0; k < 2; k++)
		cz_stat_put(core.skel->obj, k ? ST_RTT_P99_US : ST_RTT_P50_US,
			    (u64)(pct[k] + 0.5));
}

static void *policy_thread(void *arg)
{
	u64 last_tick = 0;

	(void)arg;
	while (!core.stop) {
		int n = ring_buffer__poll(core.rb, CZ_USER_TICK_MS);
		u64 now = now_ns();

		if (n < 0 && n != -EINTR) {
			cz_say("reading the ring buffer failed: %s; the fallback "
			       "queue runs every task from now on", strerror(-n));
			break;
		}
		core.skel->bss->user_seen_ns = now;
		core.since_stamp = 0;
		if (now - last_tick >= CZ_USER_TICK_MS * 1000000ULL) {
			last_tick = now;
			read_tunables();
			if (core.pol->tick)
				core.pol->tick(now);
			if (now - core.rtt_at >= RTT_PERIOD_MS * 1000000ULL) {
				core.rtt_at = now;
				update_rtt();
			}
		}
		send_decisions();
		core.skel->bss->user_queued = core.pol->queued ? core.pol->queued() : 0;
	}
	return NULL;
}

static void release(void)
{
	ring_buffer__free(core.rb);
	user_ring_buffer__free(core.urb);
	core.rb = NULL;
	core.urb = NULL;
}

int user_core_start(struct user *skel, const struct cz_user_policy *pol)
{
	sigset_t all, old;
	int err;

	memset(&core, 0, sizeof(core));
	core.skel = skel;
	core.pol = pol;
	read_tunables();
	memcpy(core.rtt_prev, (const void *)skel->bss->rtt_hist, sizeof(core.rtt_prev));
	core.rb = ring_buffer__new(bpf_map__fd(skel->maps.to_user), on_msg, NULL, NULL);
	core.urb = user_ring_buffer__new(bpf_map__fd(skel->maps.from_user), NULL);
	if (!core.rb || !core.urb) {
		cz_say("setting up the ring buffers failed: %s", strerror(errno));
		goto fail;
	}
	if (pol->init && pol->init())
		goto fail;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&core.thread, NULL, policy_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		cz_say("starting the policy thread failed: %s", strerror(err));
		goto fail;
	}
	core.running = true;
	return 0;
fail:
	release();
	return -1;
}

void user_core_stop(void)
{
	if (!core.running)
		return;
	core.stop = true;
	pthread_join(core.thread, NULL);
	core.running = false;
	release();
}
