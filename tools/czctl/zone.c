/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl zone: Control Zones, described by zone files (lib/cz_zone.h,
 * vmconfigs/README.md).
 *
 *   czctl zone check FILE|NAME...   load and check; one line per problem
 *   czctl zone show [--shell] FILE|NAME
 *   czctl zone list | status NAME | logs NAME [--service S] [--console]
 *   czctl zone up|down|exec|switch|stats|set ...   (zoneup.c)
 *
 * A NAME (no '/', no ".yaml") is found as NAME.yaml in $CZ_ZONE_PATH (a
 * colon list), then in /etc/controlzone/zones.
 *
 * check runs the host checks too (CPUs online, ports free, files and the
 * scheduler present), as `zone up` will; show prints what a file gives,
 * every default filled in, and with --shell as CZ_ZONE_* assignments for
 * scripts (scripts/vm-run reads zones this way).
 *
 * list and status read each zone's state.json and ask its supervisor;
 * a zone whose supervisor is gone shows as dead (or stale: the file still
 * says it runs), never as running.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cli.h"
#include "cz_zone.h"
#include "czctl.h"
#include "zonestate.h"

enum {
	OPT_SHELL	= 0x100,
};

static int zone_check(int argc, char **argv)
{
	int ret = CZ_EXIT_OK;

	if (argc < 2)
		return usage_error("zone check: no zone file given");
	for (int i = 1; i < argc; i++) {
		char path[PATH_MAX], err[1024];
		struct cz_zone z;

		if (zone_find_file(argv[i], path, sizeof(path))) {
			ret = CZ_EXIT_USAGE;
			continue;
		}
		if (cz_zone_load(path, &z, err, sizeof(err)) ||
		    zone_check_host(&z, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			ret = CZ_EXIT_USAGE;
		} else {
			printf("%s: zone %s: ok\n", path, z.name);
		}
		cz_zone_free(&z);
	}
	return ret;
}

/* @s as one shell word, single-quoted. */
static void sh_word(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void sh_var(FILE *f, const char *name, const char *val)
{
	fprintf(f, "CZ_ZONE_%s=", name);
	sh_word(f, val ?: "");
	fputc('\n', f);
}

static void show_shell(const struct cz_zone *z)
{
	char buf[512];

	sh_var(stdout, "NAME", z->name);
	sh_var(stdout, "FILE", z->path);
	sh_var(stdout, "KERNEL", z->kernel);
	sh_var(stdout, "KERNEL_IMAGE", z->kernel_image);
	sh_var(stdout, "KERNEL_CONFIG", z->kernel_config);
	sh_var(stdout, "CMDLINE", z->cmdline);
	snprintf(buf, sizeof(buf), "%u,sockets=1,cores=%u,threads=%u",
		 cz_zone_vcpus(z), z->cores, z->threads);
	sh_var(stdout, "SMP", buf);
	snprintf(buf, sizeof(buf), "%u", z->memory_mib);
	sh_var(stdout, "MEM_MIB", buf);
	cz_cpulist_format(&z->host_cpus, buf, sizeof(buf));
	sh_var(stdout, "HOST_CPUS", buf);
	sh_var(stdout, "ACCEL", cz_accel_names[z->accel]);
	sh_var(stdout, "SCHED", z->sched);
}

/* A word as a shell would need it: quoted when empty or special. */
static void print_word(const char *w)
{
	if (*w && !strpbrk(w, " \t\n'\"\\$`;&|<>*?()[]{}#~"))
		fputs(w, stdout);
	else
		sh_word(stdout, w);
}

static void print_argv(const char *label, const struct cz_strv *sv)
{
	printf("%s", label);
	for (unsigned int i = 0; i < sv->n; i++) {
		putchar(' ');
		print_word(sv->v[i]);
	}
	printf("%s\n", sv->n ? "" : " (none)");
}

static void show_text(const struct cz_zone *z)
{
	char buf[512];

	printf("zone       %s (%s)\n", z->name, z->path);
	if (z->kernel)
		printf("kernel     %s (vmconfigs/kernels)\n", z->kernel);
	else
		printf("kernel     %s (config %s)\n", z->kernel_image, z->kernel_config);
	printf("cmdline    %s\n", *z->cmdline ? z->cmdline : "(none)");
	printf("vcpus      %u (%u cores x %u threads)\n", cz_zone_vcpus(z),
	       z->cores, z->threads);
	printf("memory     %u MiB\n", z->memory_mib);
	cz_cpulist_format(&z->host_cpus, buf, sizeof(buf));
	printf("host_cpus  %s\n", *buf ? buf : "(not pinned)");
	printf("accel      %s\n", cz_accel_names[z->accel]);
	if (z->sched) {
		printf("scheduler  %s%s%s%s\n", z->sched, z->sched_image ? " (from image " : "",
		       z->sched_image ?: "", z->sched_image ? ")" : "");
		print_argv("  args:", &z->sched_args);
		for (unsigned int i = 0; i < z->nr_modes; i++) {
			snprintf(buf, sizeof(buf), "  mode %s:", z->modes[i].name);
			print_argv(buf, &z->modes[i].args);
		}
	} else {
		printf("scheduler  (none: the fair class)\n");
	}
	for (unsigned int i = 0; i < z->nr_services; i++) {
		const struct cz_zone_service *s = &z->services[i];

		snprintf(buf, sizeof(buf), "service    %s (restart %s):", s->name,
			 cz_restart_names[s->restart]);
		print_argv(buf, &s->argv);
		if (s->image)
			printf("  image %s\n", s->image);
		for (unsigned int j = 0; j < s->nr_ports; j++)
			printf("  port %s:%u -> %u\n", s->ports[j].addr,
			       s->ports[j].host, s->ports[j].guest);
		for (unsigned int j = 0; j < s->env.n; j++)
			printf("  env %s\n", s->env.v[j]);
		if (s->probe.port)
			printf("  probe %s:%u every %gs (timeout %gs, p50/p99 over %gs): %s\n",
			       s->probe.addr, s->probe.port, s->probe.interval_s,
			       s->probe.timeout_s, s->probe.window_s,
			       s->probe.send ? "request" : "connect");
	}
	for (unsigned int i = 0; i < z->nr_files; i++)
		printf("file       %s -> %s\n", z->files[i].src, z->files[i].dst);
	if (z->nr_rules)
		printf("auto       %u rules, switches at least %gs apart\n", z->nr_rules,
		       z->min_interval_s);
	for (unsigned int i = 0; i < z->nr_rules; i++) {
		const struct cz_zone_rule *r = &z->rules[i];

		printf("  rule %s: when %s for %gs, until %s for %gs -> ", r->name,
		       r->when_text, r->for_s, r->until_text ?: "not when", r->hold_s);
		if (r->target.mode)
			printf("mode %s\n", r->target.mode);
		else if (r->target.args.n)
			print_argv(r->target.sched ?: "fair", &r->target.args);
		else
			printf("%s\n", r->target.sched ?: "fair");
	}
}

static int zone_show(int argc, char **argv)
{
	static const struct option options[] = {
		{ "shell", no_argument, NULL, OPT_SHELL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char path[PATH_MAX], err[1024];
	bool shell = false;
	struct cz_zone z;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_SHELL:
			shell = true;
			break;
		case 'h':
			return print_usage();
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind != argc - 1)
		return usage_error("zone show takes one zone file or name");
	if (zone_find_file(argv[optind], path, sizeof(path)))
		return CZ_EXIT_USAGE;
	ret = cz_zone_load(path, &z, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s\n", err);
	else if (shell)
		show_shell(&z);
	else
		show_text(&z);
	cz_zone_free(&z);
	return ret ? CZ_EXIT_USAGE : CZ_EXIT_OK;
}

/* ---- list, status, logs ---- */

/* Uptime as "12.3 s", "4.0 min", "2.5 h". */
static void age(double s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%.1f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.1f min", s / 60);
	else
		snprintf(buf, len, "%.1f h", s / 3600);
}

/*
 * @st's state as it is: a zone whose supervisor is gone is "dead" (or
 * "stale" when the file still says it runs: a reboot, a kill -9).
 */
static const char *live_state(struct json_object *st, const char *name)
{
	const char *s = zs_str(st, "state");

	if (zone_live_supervisor(st, name))
		return s;
	return strcmp(s, "dead") ? "stale" : "dead";
}

/* The ports launch.json forwards, as "127.0.0.1:6379->6379 ...". */
static void ports_text(const char *name, char *buf, size_t len)
{
	char path[512];
	struct json_object *l, *ports = NULL;
	size_t off = 0;

	buf[0] = '\0';
	zone_file(name, "launch.json", path, sizeof(path));
	l = json_object_from_file(path);
	if (l)
		json_object_object_get_ex(l, "ports", &ports);
	for (size_t i = 0; ports && i < json_object_array_length(ports) && off < len; i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);

		off += snprintf(buf + off, len - off, "%s%s:%lld->%lld", i ? "," : "",
				zs_str(p, "addr"), zs_int(p, "host"), zs_int(p, "guest"));
	}
	json_object_put(l);
}

static int zone_list(void)
{
	DIR *d = opendir(CZ_ZONES_DIR);
	struct dirent *e;

	printf("%-12s %-8s %5s %-9s %-14s %-22s %-24s %s\n", "ZONE", "STATE", "VCPUS",
	       "HOST_CPUS", "SCHEDULER", "SERVICES", "PORTS", "UPTIME");
	while (d && (e = readdir(d))) {
		struct json_object *st, *resp = NULL, *svcs = NULL;
		char svc[256] = "", ports[256], up[32] = "-", msg[256];
		const char *state, *sched = "-";
		size_t off = 0;

		if (e->d_name[0] == '.')
			continue;
		st = zone_state_read(e->d_name);
		if (!st)
			continue;
		state = live_state(st, e->d_name);
		if (!strcmp(state, "running") &&
		    !zone_call(e->d_name, "hello", NULL, 10, &resp, msg, sizeof(msg))) {
			struct json_object *sc = NULL;

			json_object_object_get_ex(resp, "scheduler", &sc);
			sched = zs_str(sc, "state")[0] == 'e' ? zs_str(sc, "ops") : "fair";
			json_object_object_get_ex(resp, "services", &svcs);
			for (size_t i = 0; svcs && i < json_object_array_length(svcs) &&
			     off < sizeof(svc); i++) {
				struct json_object *s = json_object_array_get_idx(svcs, i);

				off += snprintf(svc + off, sizeof(svc) - off, "%s%s(%s)",
						i ? "," : "", zs_str(s, "name"),
						zs_str(s, "state"));
			}
		}
		if (!strcmp(state, "running") || !strcmp(state, "starting"))
			age(cz_wall() - json_object_get_double(
				json_object_object_get(st, "started")), up, sizeof(up));
		ports_text(e->d_name, ports, sizeof(ports));
		printf("%-12s %-8s %5lld %-9s %-14s %-22s %-24s %s\n", e->d_name, state,
		       zs_int(st, "vcpus"), *zs_str(st, "host_cpus") ? zs_str(st, "host_cpus") : "-",
		       sched, *svc ? svc : "-", *ports ? ports : "-", up);
		json_object_put(resp);
		json_object_put(st);
	}
	if (d)
		closedir(d);
	return CZ_EXIT_OK;
}

/* A thread's allowed CPUs, read back from /proc. */
static void thread_cpus(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[96], line[512];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cpus_allowed_list:", 18)) {
			snprintf(buf, len, "%s", line + 18 + strspn(line + 18, " \t"));
			buf[strcspn(buf, "\n")] = '\0';
		}
	fclose(f);
}

static int zone_status(int argc, char **argv)
{
	struct json_object *st, *resp = NULL, *v, *pins = NULL;
	const char *name, *state;
	char msg[512], buf[256];
	pid_t qemu;

	if (argc != 2)
		return usage_error("zone status takes a zone name");
	name = argv[1];
	st = zone_state_read(name);
	if (!st) {
		cz_say("no zone %s", name);
		return CZ_EXIT_FAIL;
	}
	state = live_state(st, name);
	printf("zone       %s\n", name);
	printf("state      %s%s%s\n", state, *zs_str(st, "why") ? ": " : "",
	       zs_str(st, "why"));
	printf("supervisor %lld\n", zs_int(st, "supervisor"));
	qemu = zs_int(st, "qemu");
	printf("qemu       %d\n", (int)qemu);
	printf("vcpus      %lld\n", zs_int(st, "vcpus"));
	printf("host_cpus  %s\n", *zs_str(st, "host_cpus") ? zs_str(st, "host_cpus") : "(not pinned)");
	if (!strcmp(state, "running")) {
		age(cz_wall() - json_object_get_double(json_object_object_get(st, "started")),
		    buf, sizeof(buf));
		printf("uptime     %s\n", buf);
		/* The pinning as it is now, not as it was asked for. */
		json_object_object_get_ex(st, "pinning", &pins);
		for (size_t i = 0; pins && i < json_object_array_length(pins); i++) {
			struct json_object *p = json_object_array_get_idx(pins, i);

			thread_cpus(qemu, zs_int(p, "thread"), buf, sizeof(buf));
			printf("vcpu %-5lld thread %lld on host CPUs %s\n", zs_int(p, "vcpu"),
			       zs_int(p, "thread"), buf);
		}
		thread_cpus(qemu, qemu, buf, sizeof(buf));
		printf("qemu main  thread %d on host CPUs %s\n", (int)qemu, buf);
		if (zone_call(name, "hello", NULL, 10, &resp, msg, sizeof(msg))) {
			printf("agent      %s\n", msg);
		} else {
			struct json_object *sc = NULL, *svcs = NULL;

			printf("kernel     %s\n", zs_str(resp, "kernel"));
			json_object_object_get_ex(resp, "scheduler", &sc);
			printf("scheduler  sched_ext %s, ops %s (wanted %s, restarts %lld)\n",
			       zs_str(sc, "state"), zs_str(sc, "ops"),
			       *zs_str(sc, "wanted") ? zs_str(sc, "wanted") : "none",
			       zs_int(sc, "restarts"));
			json_object_object_get_ex(resp, "services", &svcs);
			for (size_t i = 0; svcs && i < json_object_array_length(svcs); i++) {
				struct json_object *s = json_object_array_get_idx(svcs, i);

				printf("service    %s: %s (pid %lld, restarts %lld%s%s)\n",
				       zs_str(s, "name"), zs_str(s, "state"), zs_int(s, "pid"),
				       zs_int(s, "restarts"), *zs_str(s, "last_exit") ?
				       ", last " : "", zs_str(s, "last_exit"));
			}
			json_object_put(resp);
		}
		ports_text(name, buf, sizeof(buf));
		printf("ports      %s\n", *buf ? buf : "(none)");
		zone_file(name, "stats", buf, sizeof(buf));
		printf("stats      %s\n", buf);
	} else if (json_object_object_get_ex(st, "console_tail", &v)) {
		printf("console (last lines):\n%s\n", json_object_get_string(v));
	}
	json_object_put(st);
	return CZ_EXIT_OK;
}

static int zone_logs(int argc, char **argv)
{
	const char *name = NULL, *service = NULL;
	bool console = false;
	char path[512], buf[65536];
	int fd;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--console"))
			console = true;
		else if (!strcmp(argv[i], "--service") && i + 1 < argc)
			service = argv[++i];
		else if (argv[i][0] == '-')
			return usage_error("zone logs: unknown option %s", argv[i]);
		else if (!name)
			name = argv[i];
		else
			return usage_error("zone logs takes one zone name");
	}
	if (!name)
		return usage_error("zone logs takes a zone name");
	if (service) {
		struct json_object *args = json_object_new_object(), *resp;
		char msg[512];

		json_object_object_add(args, "service", json_object_new_string(service));
		if (zone_call(name, "logs", args, 30, &resp, msg, sizeof(msg))) {
			cz_say("zone logs: %s", msg);
			return CZ_EXIT_FAIL;
		}
		fputs(json_object_get_string(resp), stdout);
		json_object_put(resp);
		return CZ_EXIT_OK;
	}
	/* The console, or the zone's events (JSON lines). */
	zone_file(name, console ? "console.log" : "events.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cz_say("zone %s: %s: %s", name, path, strerror(errno));
		return CZ_EXIT_FAIL;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	return CZ_EXIT_OK;
}

int cmd_zone(int argc, char **argv)
{
	static const char *const run[] = {
		"up", "down", "exec", "switch", "stats", "set", NULL
	};
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return usage_error("zone: no subcommand given");
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help"))
		return print_usage();
	if (!strcmp(sub, "check"))
		return zone_check(argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return zone_show(argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return argc == 2 ? zone_list() : usage_error("zone list takes no arguments");
	if (!strcmp(sub, "status"))
		return zone_status(argc - 1, argv + 1);
	if (!strcmp(sub, "logs"))
		return zone_logs(argc - 1, argv + 1);
	if (!strcmp(sub, "auto") || !strcmp(sub, "events"))
		return cmd_zone_auto(argc - 1, argv + 1);
	if (!strcmp(sub, "profile"))
		return cmd_zone_profile(argc - 1, argv + 1);
	for (int i = 0; run[i]; i++)
		if (!strcmp(sub, run[i]))
			return cmd_zone_run(argc - 1, argv + 1);
	return usage_error("zone: unknown subcommand '%s'", sub);
}
