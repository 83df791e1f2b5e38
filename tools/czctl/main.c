/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl: observe and control sched_ext schedulers from the command line.
 *
 *   czctl stats [--json|--openmetrics] [--follow SECS] [--socket PATH]
 *   czctl status [--socket PATH]
 *   czctl set NAME=VALUE [--socket PATH]
 *   czctl add|del SET-KIND=VALUE [--socket PATH]
 *   czctl list | start NAME [-- ARGS] | stop | switch NAME [-- ARGS]
 *   czctl zone check|show ...
 *
 * This file only dispatches: each family of commands has its own file
 * (czctl.h), the messages and usage text are in cli.c. Every error is one
 * line on stderr and a documented exit code (cli.c's usage text).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "czctl.h"
#include "zonestate.h"

#ifndef CZ_VERSION
#define CZ_VERSION "unknown"
#endif

int main(int argc, char **argv)
{
	const char *cmd;

	cz_prog = "czctl";
	opterr = 0;
	if (argc < 2)
		return usage_error("no command given");
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
		return print_usage();
	if (!strcmp(cmd, "--version")) {
		puts("czctl (controlzone) " CZ_VERSION);
		return CZ_EXIT_OK;
	}
	argc--;
	argv++;
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "start"))
		return cmd_start(argc, argv);
	if (!strcmp(cmd, "stop"))
		return cmd_stop(argc, argv);
	if (!strcmp(cmd, "switch"))
		return cmd_switch(argc, argv);
	if (!strcmp(cmd, "set"))
		return cmd_set(argc, argv);
	if (!strcmp(cmd, "zone"))
		return cmd_zone(argc, argv);
	if (!strcmp(cmd, CZ_SUPERVISE))
		return cmd_supervise(argc, argv);
	if (!strcmp(cmd, "add") || !strcmp(cmd, "del"))
		return cmd_rule(argc, argv, !strcmp(cmd, "add"));
	if (cmd[0] == '-')
		return usage_error("unknown option %s", cmd);
	return usage_error("unknown command '%s'", cmd);
}
