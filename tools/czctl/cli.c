/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl's messages (cli.h): every error is one line on stderr, "czctl: "
 * first (cz_say), and a usage error also points at --help. The usage text
 * lives here, next to the messages that refer to it.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include "cli.h"
#include "cz_stats_proto.h"
#include "runstate.h"

static const char usage_text[] =
"usage: czctl [--help] [--version] COMMAND [OPTIONS]\n"
"\n"
"Observe, start, stop and switch sched_ext schedulers.\n"
"\n"
"Commands:\n"
"  stats [--json|--openmetrics] [--follow SECS] [--socket PATH]\n"
"      The scheduler's statistics: counters are totals since it attached,\n"
"      gauges current values. Default: one \"key value\" line each;\n"
"      --json: the reply's JSON object on one line; --openmetrics:\n"
"      OpenMetrics text (for node_exporter's textfile collector);\n"
"      --follow: again every SECS seconds until interrupted.\n"
"  status [--socket PATH]\n"
"      sched_ext's state, the running scheduler, the pid, args, uptime and\n"
"      log of the one czctl started, and its uptime if its stats socket\n"
"      answers.\n"
"  set NAME=VALUE [--socket PATH]\n"
"      Change the running scheduler's tunable NAME (see list) to the\n"
"      integer VALUE, without reloading it; prints \"NAME: OLD -> NEW\".\n"
"      An unknown NAME or a VALUE out of its range is refused (exit 2).\n"
"  add SET-KIND=VALUE [--socket PATH]\n"
"  del SET-KIND=VALUE [--socket PATH]\n"
"      Add or remove a task-set rule of the running scheduler, as its\n"
"      option --SET-KIND VALUE would (e.g. add lc-pid=1234, del\n"
"      lc-cgroup=/sys/fs/cgroup/web); KIND is pid, comm or cgroup. The\n"
"      scheduler checks it; a refused rule exits 2.\n"
"  list\n"
"      The installed schedulers (scx_* in czctl's directory, then\n"
"      $CZ_SCHED_PATH, then $PATH) with their descriptions and tunables\n"
"      (name, range, default).\n"
"  start [-v] [--root DIR] NAME [-- ARGS]\n"
"      Start scheduler NAME (scx_central or central) detached, output\n"
"      appended to " CZ_RUN_DIR "/NAME.log; return once sched_ext is\n"
"      enabled with its ops. Refused while a scheduler runs. --root DIR:\n"
"      an image's files (with /sys, /proc, /dev, /run mounted in them);\n"
"      NAME is DIR's own, run chrooted into DIR.\n"
"  stop [-v] [--container]\n"
"      SIGINT the scheduler czctl started (SIGKILL after 10 s), return once\n"
"      sched_ext is disabled. --container: or else the attached\n"
"      scheduler's loader (scx_OPS) in czctl's own mount namespace, whoever\n"
"      started it (a container's entrypoint; a preStop hook).\n"
"  switch [-v] [--root DIR] NAME [-- ARGS]\n"
"      Load NAME while the running scheduler runs, then stop that one and\n"
"      attach NAME. If NAME fails to load, the running one is left alone;\n"
"      if it fails to attach or exits within 2 s, the previous one is\n"
"      restarted with its args. Either way the switch fails. Arguments\n"
"      NAME rejects fail it before anything is started.\n"
"  zone check FILE|NAME...\n"
"      Check Control Zone files (vmconfigs/README.md) as `zone up` will:\n"
"      the schema, then this host (CPUs online, ports free, files and the\n"
"      scheduler present). One line per bad file, FILE:LINE: KEY: problem,\n"
"      and exit 2. A NAME is NAME.yaml in $CZ_ZONE_PATH, then in\n"
"      /etc/controlzone/zones.\n"
"  zone show [--shell] FILE|NAME\n"
"      What a zone file gives, defaults filled in; --shell: as CZ_ZONE_*\n"
"      shell assignments.\n"
"  zone up FILE|NAME\n"
"      Start a Control Zone: return once its scheduler, services and ports\n"
"      are up; else say why and leave nothing behind.\n"
"  zone down [--force] NAME\n"
"  zone list | status NAME | logs NAME [--service S|--console]\n"
"  zone exec NAME -- CMD...           (exits with CMD's status)\n"
"  zone switch NAME SCHED [-- ARGS] | zone switch NAME --mode MODE\n"
"      (a manual switch holds the zone's switching rules)\n"
"  zone auto NAME [on|off] [--json]\n"
"      The switching rules' state, the latest signals and probes; on\n"
"      resumes them after a manual switch, off stops them.\n"
"  zone events NAME [--follow] [--json]\n"
"      What happened in the zone: services, scheduler, switches and why.\n"
"  zone profile NAME --duration S [--interval S] [--out DIR] [--size WxH]\n"
"      Record the zone's signals, probes and switches to CSV and JSON and\n"
"      draw their timeline (PNG, SVG; gnuplot).\n"
"  zone stats NAME [stats options] | zone set NAME TUNABLE=VALUE\n"
"\n"
"Options:\n"
"  --socket PATH   the stats socket (default " CZ_STATS_SOCKET_DEFAULT ")\n"
"  -v, --verbose   each step, with the seconds since the command began\n"
"\n"
"start, stop and switch need root, and wait for each other (a lock);\n"
"zone up, down, exec, switch and set need root.\n"
"\n"
"Exit codes: 0 success; 1 failure (nothing running, unknown scheduler,\n"
"not root, the scheduler failed to start, no socket or a stale one, no\n"
"reply, a zone that did not come up, is up already or is not there); 2\n"
"bad usage, including arguments or a tunable value the scheduler\n"
"rejects, and a bad zone file; 3 the kernel has no sched_ext.\n";

int print_usage(void)
{
	fputs(usage_text, stdout);
	return CZ_EXIT_OK;
}

int no_sched_ext(void)
{
	cz_say("this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT)");
	return CZ_EXIT_NO_SCX;
}

int usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cz_say("%s (see czctl --help)", msg);
	return CZ_EXIT_USAGE;
}

int bad_option(char **argv, int opt)
{
	const char *what = argv[optind - 1];

	if (opt == ':')
		return usage_error("option %s needs a value", what);
	if (optopt && optopt < 0x100)
		return usage_error("unknown option -%c", optopt);
	return usage_error("unknown option %s", what);
}
