/* SPDX-License-Identifier: GPL-2.0 */
/* A zone's qemu, for its supervisor: see zoneqemu.c. */
#ifndef __CZCTL_ZONEQEMU_H
#define __CZCTL_ZONEQEMU_H

#include <stddef.h>
#include <sys/types.h>

struct json_object;

/*
 * Start qemu: @argv (a JSON array of strings), every thread of it on the
 * host CPUs of CPU list @host_cpus ("": anywhere), its output appended to
 * @log. Its pid, or -1 with @err.
 */
pid_t zq_start(struct json_object *argv, const char *host_cpus, const char *log,
	       char *err, size_t errlen);
/* Connect to the UNIX socket @path qemu makes, for @secs while it lives; -1. */
int zq_connect(const char *path, pid_t qemu, double secs);
/*
 * Pin each vCPU thread (asked of QMP at @qmp_path) to one CPU of
 * @host_cpus; *@pins: [{"vcpu","thread","host_cpu"}] (NULL: not pinned).
 * 0, or -1 with @err.
 */
int zq_pin_vcpus(const char *qmp_path, pid_t qemu, const char *host_cpus,
		 struct json_object **pins, char *err, size_t errlen);

#endif /* __CZCTL_ZONEQEMU_H */
