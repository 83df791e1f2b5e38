/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live state of a running scheduler, as the stats socket serves it
 * (cz_priv.h: struct cz_live): its statistics, its tunables and its
 * task-set rules.
 *
 * Key choices:
 * - The socket's thread reads the stats map itself, under a mutex that the
 *   loader's thread takes only to hand it the maps after attach and to
 *   take them back before the skeleton is destroyed (waiting at most for
 *   one read in flight). So clients never delay the stats loop, and never
 *   read a closed map across a kernel-requested restart: in between, they
 *   get EAGAIN.
 * - Tunables: one value array, guarded by the same mutex, is the truth.
 *   Options fill it, cz_live_write() puts it into "cz_tunables" before
 *   each attach, and the socket's "set" writes one value into both, so a
 *   change made while running also survives a kernel-requested restart.
 * - Task-set rules are kept the same way: one list (under the mutex) of
 *   what the options gave plus what the socket's "rule" requests added or
 *   removed since, written into the maps after each load.
 * - Each change is logged on stderr (the loader's log under czctl).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "cz_priv.h"

int cz_stat_put(struct bpf_object *obj, u32 idx, u64 val)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "cz_stats");
	int nr_cpus = libbpf_num_possible_cpus(), err;
	u64 *vals;

	if (!map || nr_cpus <= 0)
		return -1;
	vals = calloc(nr_cpus, sizeof(*vals));
	if (!vals)
		return -1;
	vals[0] = val;
	err = bpf_map_update_elem(bpf_map__fd(map), &idx, vals, BPF_ANY);
	free(vals);
	return err ? -1 : 0;
}

int cz_stats_read(struct bpf_map *map, unsigned int nr_stats,
		  unsigned int nr_cpus, u64 *vals)
{
	int fd = bpf_map__fd(map);

	for (u32 i = 0; i < nr_stats; i++)
		if (bpf_map_lookup_elem(fd, &i, &vals[i * nr_cpus]))
			return -1;
	return 0;
}

int cz_live_init(struct cz_live *l, const struct cz_sched *s)
{
	pthread_mutex_init(&l->lock, NULL);
	l->sched = s;
	l->set_names = calloc(s->nr_sets + 1, sizeof(*l->set_names));
	if (!l->set_names)
		return -1;
	for (unsigned int i = 0; i < s->nr_sets; i++)
		l->set_names[i] = s->sets[i].name;
	return 0;
}

int cz_live_alloc(struct cz_live *l, unsigned int nr_cpus)
{
	l->nr_cpus = nr_cpus;
	l->vals = calloc((size_t)l->sched->nr_stats * nr_cpus + 1, sizeof(u64));
	return l->vals ? 0 : -1;
}

void cz_live_free(struct cz_live *l)
{
	free(l->vals);
	free(l->set_names);
	cz_ts_free(&l->rules);
	l->vals = NULL;
	l->set_names = NULL;
}

/*
 * cz_stats_source.stats: runs on the server thread. Only the map reads hold
 * the lock; the reply is built from the thread's own copy after it.
 */
static int live_stats(void *ctx, struct json_object **resp, char *err,
		      size_t errlen)
{
	struct cz_live *l = ctx;
	struct cz_stats_view v = {
		.sched = l->sched->name, .desc = l->sched->stats,
		.nr_stats = l->sched->nr_stats, .nr_cpus = l->nr_cpus,
		.tunables = l->sched->tunables, .nr_tunables = l->sched->nr_tunables,
		.tunable_vals = l->tunables_copy,
	};
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	if (!l->map) {
		snprintf(err, errlen, "the scheduler is not attached (starting or restarting)");
		ret = EAGAIN;
	} else if (cz_stats_read(l->map, v.nr_stats, v.nr_cpus, l->vals)) {
		snprintf(err, errlen, "reading the stats map failed: %s", strerror(errno));
		ret = EIO;
	} else {
		v.uptime_s = cz_now() - l->started;
		memcpy(l->tunables_copy, l->tunables, sizeof(l->tunables));
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return ret;
	*resp = cz_stats_resp(&v, l->vals);
	if (!*resp) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	return 0;
}

/*
 * cz_stats_source.set: runs on the server thread. While detached the value
 * is only kept: the next attach writes it.
 */
static int live_tunable_set(void *ctx, const char *name, u64 value,
			    struct json_object **resp, char *err, size_t errlen)
{
	struct cz_live *l = ctx;
	int idx, ret = 0;
	u32 key;
	u64 old;

	pthread_mutex_lock(&l->lock);
	idx = cz_tunable_check(l->sched->tunables, l->sched->nr_tunables, name,
			       value, err, errlen);
	if (idx < 0) {
		pthread_mutex_unlock(&l->lock);
		return -idx;
	}
	key = idx;
	old = l->tunables[idx];
	if (l->tunables_map &&
	    bpf_map__update_elem(l->tunables_map, &key, sizeof(key), &value,
				 sizeof(value), BPF_ANY)) {
		snprintf(err, errlen, "writing the tunables map failed: %s",
			 strerror(errno));
		ret = EIO;
	} else {
		l->tunables[idx] = value;
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return ret;

	cz_say("tunable %s: %llu -> %llu", l->sched->tunables[idx].name,
	    (unsigned long long)old, (unsigned long long)value);
	*resp = json_object_new_object();
	if (!*resp) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	json_object_object_add(*resp, "name", json_object_new_string(l->sched->tunables[idx].name));
	json_object_object_add(*resp, "value", json_object_new_uint64(value));
	json_object_object_add(*resp, "old", json_object_new_uint64(old));
	return 0;
}

/*
 * A pid rule of a process that has exited can still be removed: its
 * number is taken as it is.
 */
static int rule_for_del(enum cz_ts_kind kind, const char *arg,
			struct cz_ts_rule *r, char *err, size_t errlen)
{
	char *end;

	if (!cz_ts_rule_parse(kind, arg, r, err, errlen))
		return 0;
	if (kind != CZ_TS_PID)
		return -1;
	errno = 0;
	r->tgid = strtoul(arg, &end, 10);
	return errno || *end || !r->tgid ? -1 : 0;
}

/*
 * cz_stats_source.rule: runs on the server thread. Checked like the option
 * of the same name; while detached the change is only kept.
 */
static int live_rule(void *ctx, bool add, const char *name, const char *arg,
		     struct json_object **resp, char *err, size_t errlen)
{
	struct cz_live *l = ctx;
	struct cz_ts_rule r;
	enum cz_ts_kind kind;
	unsigned int set;
	int ret = 0;

	if (cz_ts_rule_name(l->set_names, l->sched->nr_sets, name, &set, &kind)) {
		snprintf(err, errlen, "no rule '%s' (rules are SET-pid, SET-comm, "
			 "SET-cgroup; sets: %s%s)", name, l->set_names[0],
			 l->sched->nr_sets > 1 ? ", ..." : "");
		return ENOENT;
	}
	if ((add ? cz_ts_rule_parse(kind, arg, &r, err, errlen) :
		   rule_for_del(kind, arg, &r, err, errlen)))
		return EINVAL;
	r.sets = 1u << set;

	pthread_mutex_lock(&l->lock);
	if (add && cz_ts_insert(&l->rules, &r, err, errlen))
		ret = ENOSPC;
	else if (!add && cz_ts_remove(&l->rules, &r)) {
		snprintf(err, errlen, "no rule %s=%s to remove", name, arg);
		ret = ENOENT;
	} else if (l->obj && cz_ts_update(l->obj, &r, add)) {
		snprintf(err, errlen, "updating the rule's map failed: %s",
			 strerror(errno));
		ret = EIO;
	}
	pthread_mutex_unlock(&l->lock);
	if (ret)
		return ret;

	cz_say("rule %s %s=%s", add ? "added" : "removed", name, arg);
	*resp = json_object_new_object();
	if (!*resp) {
		snprintf(err, errlen, "out of memory");
		return ENOMEM;
	}
	json_object_object_add(*resp, "op", json_object_new_string(add ? "add" : "del"));
	json_object_object_add(*resp, "rule", json_object_new_string(name));
	json_object_object_add(*resp, "value", json_object_new_string(arg));
	json_object_object_add(*resp, "rules", json_object_new_int(l->rules.nr));
	return 0;
}

int cz_live_write(struct cz_live *l, struct bpf_object *obj,
		  struct bpf_map *tunables_map, char *err, size_t errlen)
{
	int ret = 0;

	pthread_mutex_lock(&l->lock);
	for (u32 i = 0; i < l->sched->nr_tunables && !ret; i++)
		ret = bpf_map__update_elem(tunables_map, &i, sizeof(i),
					   &l->tunables[i], sizeof(u64), BPF_ANY);
	if (ret)
		snprintf(err, errlen, "writing the tunables failed: %s",
			 strerror(errno));
	else if (l->sched->nr_sets)
		ret = cz_ts_write(&l->rules, obj, err, errlen);
	pthread_mutex_unlock(&l->lock);
	return ret ? -1 : 0;
}

void cz_live_attach(struct cz_live *l, struct bpf_object *obj,
		    struct bpf_map *map, struct bpf_map *tunables_map,
		    double started)
{
	pthread_mutex_lock(&l->lock);
	l->obj = obj;
	l->map = map;
	l->tunables_map = tunables_map;
	l->started = started;
	pthread_mutex_unlock(&l->lock);
}

struct cz_stats_source cz_live_source(struct cz_live *l)
{
	return (struct cz_stats_source){
		.stats = live_stats,
		.set = l->sched->nr_tunables ? live_tunable_set : NULL,
		.rule = l->sched->nr_sets ? live_rule : NULL,
		.ctx = l,
	};
}
