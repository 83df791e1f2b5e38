/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Automatic switching in the zone supervisor: the zone file's rules
 * (lib/cz_auto.h decides), carried out with the agent's transactional
 * switch, each decision an event. And what the supervisor offers it.
 */
#ifndef __CZCTL_AUTOSWITCH_H
#define __CZCTL_AUTOSWITCH_H

#include <stdbool.h>

struct json_object;

/* ---- autoswitch.c, called by the supervisor ---- */

/*
 * Once the zone runs: load its rules and probes from @zone_file (the
 * state directory's copy). 0, or -1 with @err.
 */
int auto_start(const char *zone_file, char *err, size_t errlen);
/* The agent's sample event: keep it, decide, maybe switch. */
void auto_sample(struct json_object *sample);
/*
 * A client's "sched" request is being relayed: automation holds;
 * auto_manual_done() with its args (op, name, args) when it is answered.
 */
void auto_manual(void);
void auto_manual_done(struct json_object *args, bool ok);
/*
 * The "auto" control request: args {"op": "on"|"off"|"status"}; the
 * answer (a new object), or NULL with @err an errno and @msg why.
 */
struct json_object *auto_request(struct json_object *args, int *err,
				 const char **msg);

/* ---- supervisor.c, for autoswitch.c ---- */

/* Append {"time","zone","source":"supervisor","event":@event,...@fields}. */
void sup_event(const char *event, struct json_object *fields);
typedef void (*sup_done_fn)(int err, const char *error, struct json_object *resp);
/*
 * Send @req with @args (taken over) to the agent; @done gets the answer
 * (or ETIMEDOUT after @timeout_s). 0, or an errno.
 */
int sup_request(const char *req, struct json_object *args, double timeout_s,
		sup_done_fn done);

#endif /* __CZCTL_AUTOSWITCH_H */
