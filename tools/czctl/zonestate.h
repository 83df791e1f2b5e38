/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A running zone's state directory, /run/controlzone/zones/NAME/, as the
 * zone commands (zone.c) and the zone supervisor (supervisor.c) share it:
 *
 *   zone.yaml      the zone file, as it was at `zone up`
 *   agent.json     what the zone's agent starts (scheduler, services)
 *   initrd.cpio.gz the zone's initramfs
 *   state.json     written by the supervisor, atomically: state
 *                  (starting, running, stopping, dead), pids, pinning,
 *                  the reason a zone died
 *   control.sock   the supervisor's requests (JSON lines, as the agent's)
 *   stats          the zone scheduler's stats socket, relayed (scx_stats)
 *   qmp.sock, agent.sock, console.log, events.log, supervisor.log
 *
 * The directory's creation is the lock: mkdir succeeds for one `zone up`
 * of a name; a directory whose supervisor is gone is stale.
 */
#ifndef __CZCTL_ZONESTATE_H
#define __CZCTL_ZONESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CZ_ZONES_DIR	"/run/controlzone/zones"
#define CZ_SUPERVISE	"zone-supervise"	/* czctl's hidden command */

struct json_object;

/* CZ_ZONES_DIR/@name/@file into @buf; -1 if too long. */
int zone_file(const char *name, const char *file, char *buf, size_t len);
/* state.json written atomically; takes no reference. 0 or -1. */
int zone_state_write(const char *name, struct json_object *st);
/* state.json, or NULL (no zone of that name, or unreadable). */
struct json_object *zone_state_read(const char *name);
/* Whether @pid is @name's supervisor (its command line says so). */
bool zone_supervisor_alive(pid_t pid, const char *name);
/* The supervisor pid state.json names, if alive; else 0. */
pid_t zone_live_supervisor(struct json_object *st, const char *name);
/* Zone @name's live supervisor (its state.json read), or 0. */
pid_t zone_supervisor_of(const char *name);
/* rm -r of the state directory. */
int zone_remove(const char *name);

/*
 * A zone argument: FILE (with a '/' or ending in .yaml), or NAME found as
 * NAME.yaml in $CZ_ZONE_PATH, then in /etc/controlzone/zones. 0 with
 * @out, or -1 (said).
 */
int zone_find_file(const char *arg, char *out, size_t len);

struct cz_zone;
/*
 * The host checks `zone up` makes (CPUs online and not a running zone's,
 * ports free, files and the scheduler present). 0, or -1 with @err.
 */
int zone_check_host(const struct cz_zone *z, char *err, size_t errlen);

/*
 * One request to zone @name's supervisor (control.sock): @args taken
 * over, the reply's resp into *@resp (the caller's) within @timeout_s.
 * 0; the reply's errno (> 0) with its error in @msg; or -1 with @msg
 * saying what broke (no such zone, not running, timeout).
 */
int zone_call(const char *name, const char *req, struct json_object *args,
	      double timeout_s, struct json_object **resp, char *msg, size_t len);

/* Field helpers: a string ("" if absent) and an integer (0). */
const char *zs_str(struct json_object *o, const char *key);
long long zs_int(struct json_object *o, const char *key);
/* A zone file's list of strings as a JSON array (new). */
struct cz_strv;
struct json_object *zs_strv_json(const struct cz_strv *sv);

#endif /* __CZCTL_ZONESTATE_H */
