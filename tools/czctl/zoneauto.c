/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl zone auto, zone events: a zone's automatic switching and what
 * happened in it.
 *
 *   zone auto NAME [on|off] [--json]
 *       The switching rules' state (on, held by a manual switch, off), the
 *       rule in force, what runs, the latest signals and probe latencies;
 *       on resumes automation (after a manual switch), off stops it.
 *   zone events NAME [--follow] [--json]
 *       The zone's events.log (the agent's events: ready, service,
 *       scheduler; the supervisor's: auto, switch) as one line each;
 *       --json prints the JSON lines as stored; --follow waits for more
 *       until the zone goes down.
 *
 * Both read what the supervisor keeps (its control socket, the events
 * file); nothing here decides.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "cli.h"
#include "cz_lines.h"
#include "cz_util.h"
#include "czctl.h"
#include "zonestate.h"

enum { EVENT_LINE_MAX = 1024 * 1024 };

static void print_running(struct json_object *r)
{
	struct json_object *args = NULL;

	printf("%s", zs_str(r, "scheduler"));
	json_object_object_get_ex(r, "args", &args);
	for (size_t i = 0; args && i < json_object_array_length(args); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(args, i)));
}

static void print_status(const char *name, struct json_object *st)
{
	struct json_object *o, *rules = NULL, *probes = NULL, *sample = NULL;
	const char *state = !zs_int(st, "rules_count") ? "no rules" :
		json_object_get_boolean(json_object_object_get(st, "held")) ? "held (a manual switch; `zone auto NAME on` resumes)" :
		json_object_get_boolean(json_object_object_get(st, "on")) ? "on" : "off";

	printf("zone %s: automation %s\n", name, state);
	printf("running    ");
	print_running(json_object_object_get(st, "running"));
	if (json_object_get_boolean(json_object_object_get(st, "busy")))
		printf(" (switching)");
	printf("\n");
	if (zs_int(st, "rules_count")) {
		printf("in force   %s\n", zs_str(st, "active"));
		printf("switches   %lld, %lld failed; at least %gs apart\n",
		       zs_int(st, "switches"), zs_int(st, "failures"),
		       json_object_get_double(json_object_object_get(st, "min_interval_s")));
	}
	json_object_object_get_ex(st, "sample", &sample);
	if (sample && json_object_is_type(sample, json_type_object)) {
		printf("signals   ");
		json_object_object_foreach(sample, k, v) {
			if (!strcmp(k, "event") || !strcmp(k, "sched") ||
			    !strcmp(k, "scheduler"))
				continue;
			printf(" %s=%.4g", k, json_object_get_double(v));
		}
		printf("\n");
	}
	json_object_object_get_ex(st, "probes", &probes);
	if (probes) {
		json_object_object_foreach(probes, k, v) {
			o = json_object_object_get(v, "p50_ms");
			if (o)
				printf("probe      %s: p50 %.3f ms, p99 %.3f ms", k,
				       json_object_get_double(o),
				       json_object_get_double(json_object_object_get(v, "p99_ms")));
			else
				printf("probe      %s: no reply", k);
			printf(" (%lld probes in the window, %lld failed)\n",
			       zs_int(v, "n"), zs_int(v, "errors"));
		}
	}
	json_object_object_get_ex(st, "rules", &rules);
	for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		double holding = json_object_get_double(json_object_object_get(r, "holding_s"));

		printf("rule       %s: when %s for %gs", zs_str(r, "name"), zs_str(r, "when"),
		       json_object_get_double(json_object_object_get(r, "for_s")));
		if (*zs_str(r, "until"))
			printf(", until %s", zs_str(r, "until"));
		printf(" for %gs -> ", json_object_get_double(json_object_object_get(r, "hold_s")));
		print_running(json_object_object_get(r, "to"));
		if (holding > 0)
			printf(" (true for %.0fs)", holding);
		printf("\n");
	}
}

static int zone_auto(int argc, char **argv)
{
	struct json_object *args = json_object_new_object(), *resp;
	const char *name = NULL, *op = "status";
	bool json = false;
	char msg[1024];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-')
			return usage_error("zone auto: unknown option %s", argv[i]);
		else if (!name)
			name = argv[i];
		else if (!strcmp(op, "status") && (!strcmp(argv[i], "on") || !strcmp(argv[i], "off")))
			op = argv[i];
		else
			return usage_error("zone auto takes NAME [on|off]");
	}
	if (!name) {
		json_object_put(args);
		return usage_error("zone auto takes a zone name");
	}
	json_object_object_add(args, "op", json_object_new_string(op));
	if (zone_call(name, "auto", args, 30, &resp, msg, sizeof(msg))) {
		cz_say("zone auto: %s", msg);
		return CZ_EXIT_FAIL;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN));
	else
		print_status(name, resp);
	json_object_put(resp);
	return CZ_EXIT_OK;
}

/* ---- events ---- */

static void print_event(const char *line)
{
	struct json_object *o = json_tokener_parse(line), *v;
	const char *ev = zs_str(o, "event");
	char when[32];
	time_t t;
	struct tm tm;

	if (!o) {
		printf("%s\n", line);
		return;
	}
	t = (time_t)json_object_get_double(json_object_object_get(o, "time"));
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%F %T", &tm);
	printf("%s  %-9s ", when, ev);
	if (!strcmp(ev, "auto") && *zs_str(o, "action")) {
		printf("rule %s: %s: ", zs_str(o, "rule"), zs_str(o, "why"));
		print_running(json_object_object_get(o, "from"));
		printf(" -> ");
		print_running(json_object_object_get(o, "to"));
		printf(" (%s)", zs_str(o, "action"));
	} else if (!strcmp(ev, "auto")) {
		printf("automation %s%s%s", zs_str(o, "state"), *zs_str(o, "why") ? ": " : "",
		       zs_str(o, "why"));
	} else if (!strcmp(ev, "switch")) {
		bool ok = json_object_get_boolean(json_object_object_get(o, "ok"));

		printf("%s switch to ", zs_str(o, "by"));
		print_running(json_object_object_get(o, "to"));
		if (json_object_object_get_ex(o, "took_s", &v))
			printf(": %s in %.1fs", ok ? "done" : "failed", json_object_get_double(v));
		else
			printf(": %s", ok ? "done" : "failed");
		if (!ok && *zs_str(o, "error"))
			printf(" (%s)", zs_str(o, "error"));
	} else {
		/* The agent's events: their fields as they are. */
		json_object_object_foreach(o, k, val) {
			if (!strcmp(k, "time") || !strcmp(k, "zone") ||
			    !strcmp(k, "source") || !strcmp(k, "event"))
				continue;
			printf(" %s=%s", k, json_object_is_type(val, json_type_string) ?
			       json_object_get_string(val) :
			       json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		}
	}
	printf("\n");
	json_object_put(o);
}

static int zone_events(int argc, char **argv)
{
	const char *name = NULL;
	bool json = false, follow = false;
	struct cz_lines lb;
	char path[512], *line;
	int fd, r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f"))
			follow = true;
		else if (argv[i][0] == '-')
			return usage_error("zone events: unknown option %s", argv[i]);
		else if (!name)
			name = argv[i];
		else
			return usage_error("zone events takes one zone name");
	}
	if (!name)
		return usage_error("zone events takes a zone name");
	zone_file(name, "events.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cz_say("zone %s: no events (%s: %s)", name, path, strerror(errno));
		return CZ_EXIT_FAIL;
	}
	cz_lines_init(&lb, EVENT_LINE_MAX);
	for (;;) {
		r = cz_lines_fill(&lb, fd);
		while ((line = cz_lines_next(&lb))) {
			if (json)
				printf("%s\n", line);
			else
				print_event(line);
		}
		fflush(stdout);
		if (r < 0 || (r == 0 && !follow))
			break;
		/* At the end: wait for more while the zone is there. */
		if (r == 0) {
			struct stat st;

			if (stat(path, &st) || !zone_supervisor_of(name))
				break;
			cz_sleep(0.25);
		}
	}
	cz_lines_free(&lb);
	close(fd);
	return CZ_EXIT_OK;
}

int cmd_zone_auto(int argc, char **argv)
{
	if (!strcmp(argv[0], "auto"))
		return zone_auto(argc, argv);
	return zone_events(argc, argv);
}
