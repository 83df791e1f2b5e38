/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl zone: Control Zones, described by zone files (lib/cz_zone.h,
 * vmconfigs/README.md).
 *
 *   czctl zone check FILE|NAME...   load and check; one line per problem
 *   czctl zone show [--shell] FILE|NAME
 *
 * A NAME (no '/', no ".yaml") is found as NAME.yaml in $CZ_ZONE_PATH (a
 * colon list), then in /etc/controlzone/zones.
 *
 * check runs the host checks too (CPUs online, ports free, files and the
 * scheduler present), as `zone up` will; show prints what a file gives,
 * every default filled in, and with --shell as CZ_ZONE_* assignments for
 * scripts (scripts/vm-run reads zones this way).
 *
 * Not here yet: up, down, list, status, exec, switch, stats, set, logs
 * (the zone supervisor and agent).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cz_zone.h"
#include "czctl.h"
#include "scheds.h"

#define ZONE_DIR	"/etc/controlzone/zones"
#define CPUS_ONLINE	"/sys/devices/system/cpu/online"

enum {
	OPT_SHELL	= 0x100,
};

/* FILE, or NAME looked up on the zone path; 0 with @out, or -1 (said). */
static int zone_path(const char *arg, char *out, size_t len)
{
	const char *env = getenv("CZ_ZONE_PATH");
	char *list, *save = NULL;

	if (strchr(arg, '/') || strstr(arg, ".yaml")) {
		snprintf(out, len, "%s", arg);
		return 0;
	}
	if (asprintf(&list, "%s:%s", env ?: "", ZONE_DIR) < 0) {
		cz_say("out of memory");
		return -1;
	}
	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s.yaml", d, arg);
		if (!access(out, F_OK)) {
			free(list);
			return 0;
		}
	}
	free(list);
	cz_say("no zone '%s' ($CZ_ZONE_PATH, %s have no %s.yaml)", arg, ZONE_DIR, arg);
	return -1;
}

/* The host checks `zone up` makes, as far as they do not need other zones. */
static int check_host(const struct cz_zone *z, char *err, size_t errlen)
{
	char bin[PATH_MAX], list[4096];
	int cpus[CPU_SETSIZE], n;
	cpu_set_t online;

	if (cz_read_line(CPUS_ONLINE, list, sizeof(list)) ||
	    (n = cz_parse_cpulist(list, cpus, CPU_SETSIZE)) < 1) {
		snprintf(err, errlen, "%s: cannot read the host's CPUs from %s",
			 z->path, CPUS_ONLINE);
		return -1;
	}
	CPU_ZERO(&online);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], &online);
	if (cz_zone_check_cpus(z, &online, NULL, NULL, err, errlen) ||
	    cz_zone_check_ports(z, err, errlen) ||
	    cz_zone_check_files(z, err, errlen))
		return -1;
	if (z->sched && find_sched(z->sched, bin, sizeof(bin))) {
		snprintf(err, errlen, "%s:%d: scheduler.name: no scheduler '%s' here (see czctl list)",
			 z->path, z->line_sched, z->sched);
		return -1;
	}
	return 0;
}

static int zone_check(int argc, char **argv)
{
	int ret = CZ_EXIT_OK;

	if (argc < 2)
		return usage_error("zone check: no zone file given");
	for (int i = 1; i < argc; i++) {
		char path[PATH_MAX], err[1024];
		struct cz_zone z;

		if (zone_path(argv[i], path, sizeof(path))) {
			ret = CZ_EXIT_USAGE;
			continue;
		}
		if (cz_zone_load(path, &z, err, sizeof(err)) ||
		    check_host(&z, err, sizeof(err))) {
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
		printf("scheduler  %s\n", z->sched);
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
		for (unsigned int j = 0; j < s->nr_ports; j++)
			printf("  port %s:%u -> %u\n", s->ports[j].addr,
			       s->ports[j].host, s->ports[j].guest);
		for (unsigned int j = 0; j < s->env.n; j++)
			printf("  env %s\n", s->env.v[j]);
	}
	for (unsigned int i = 0; i < z->nr_files; i++)
		printf("file       %s -> %s\n", z->files[i].src, z->files[i].dst);
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
	if (zone_path(argv[optind], path, sizeof(path)))
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

int cmd_zone(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("zone: no subcommand given (check, show)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return print_usage();
	if (!strcmp(argv[1], "check"))
		return zone_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return zone_show(argc - 1, argv + 1);
	return usage_error("zone: unknown subcommand '%s' (check, show)", argv[1]);
}
