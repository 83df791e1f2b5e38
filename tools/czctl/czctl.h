/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl's commands, one family per file; main.c dispatches to them.
 *
 *   observe.c    stats, status, list, set, add, del
 *   lifecycle.c  start, stop, switch
 *   zone.c       zone: check, show, list, status, logs
 *   zoneup.c     zone: up, down, exec, switch, stats, set
 *   zoneauto.c   zone: auto, events
 *   zoneprofile.c zone: profile
 *   supervisor.c the zone supervisor (czctl zone-supervise NAME, hidden),
 *                with zoneqemu.c (its qemu), autoswitch.c and probe.c
 *                (switching rules, service probes) and zonestate.c (shared)
 *
 * Each takes the command's own argv (argv[0] is the command's name) and
 * returns czctl's exit code (cli.h).
 */
#ifndef __CZCTL_H
#define __CZCTL_H

#include <stdbool.h>

int cmd_stats(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_rule(int argc, char **argv, bool add);

int cmd_start(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_switch(int argc, char **argv);

int cmd_zone(int argc, char **argv);
/* argv[0] is the subcommand. */
int cmd_zone_run(int argc, char **argv);
int cmd_zone_auto(int argc, char **argv);
int cmd_zone_profile(int argc, char **argv);
int cmd_supervise(int argc, char **argv);

#endif /* __CZCTL_H */
