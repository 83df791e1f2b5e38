/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A zone's qemu, for its supervisor (zoneqemu.h): starting it on the
 * zone's host CPUs, reaching its sockets, and pinning its vCPU threads.
 *
 * Key choices:
 * - qemu starts with the zone's host CPUs as its affinity, so every
 *   thread it makes (vCPUs, I/O, RCU) stays on them, the way libvirt's
 *   emulatorpin keeps them; then each vCPU thread, found with QMP
 *   query-cpus-fast as virtme-ng's --pin does, goes to one CPU of the
 *   set: vCPU i to the i-th CPU of the list, round robin.
 * - qemu gets PR_SET_PDEATHSIG: should its supervisor die, even by
 *   SIGKILL, qemu goes too, and nothing of the zone outlives it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "cz_lines.h"
#include "cz_util.h"
#include "zoneqemu.h"
#include "zonestate.h"

enum {
	LINE_MAX_BYTES	= 1024 * 1024,
	CONNECT_S	= 15,		/* qemu's QMP socket appears */
	WRITE_MS	= 5000,
};

int zq_connect(const char *path, pid_t qemu, double secs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double deadline = cz_now() + secs;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (cz_now() > deadline || waitpid(qemu, NULL, WNOHANG) == qemu)
			return -1;
		cz_sleep(0.05);
	}
}

/* The next QMP message that is not an event; NULL on error. */
static struct json_object *qmp_read(int fd, struct cz_lines *lb)
{
	for (;;) {
		char *line;

		while ((line = cz_lines_next(lb))) {
			struct json_object *o = json_tokener_parse(line), *e;

			if (o && json_object_object_get_ex(o, "event", &e)) {
				json_object_put(o);
				continue;
			}
			return o;
		}
		if (cz_lines_fill(lb, fd) <= 0)
			return NULL;
	}
}

static struct json_object *qmp_exec(int fd, struct cz_lines *lb, const char *cmd)
{
	char line[128];
	struct json_object *o, *ret;

	snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\n", cmd);
	if (cz_write_all(fd, line, strlen(line), WRITE_MS))
		return NULL;
	o = qmp_read(fd, lb);
	if (!o || !json_object_object_get_ex(o, "return", &ret)) {
		json_object_put(o);
		return NULL;
	}
	json_object_get(ret);
	json_object_put(o);
	return ret;
}

int zq_pin_vcpus(const char *path, pid_t qemu, const char *list,
		 struct json_object **out, char *err, size_t errlen)
{
	int cpus[CPU_SETSIZE], n, fd;
	struct json_object *greet, *caps, *vcpus, *pins;
	struct cz_lines lb;

	*out = NULL;
	n = *list ? cz_parse_cpulist(list, cpus, CPU_SETSIZE) : 0;
	if (n <= 0)
		return 0;
	fd = zq_connect(path, qemu, CONNECT_S);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to qemu's QMP socket %s", path);
		return -1;
	}
	cz_lines_init(&lb, LINE_MAX_BYTES);
	greet = qmp_read(fd, &lb);
	caps = greet ? qmp_exec(fd, &lb, "qmp_capabilities") : NULL;
	vcpus = caps ? qmp_exec(fd, &lb, "query-cpus-fast") : NULL;
	json_object_put(greet);
	json_object_put(caps);
	close(fd);
	cz_lines_free(&lb);
	if (!vcpus || !json_object_is_type(vcpus, json_type_array)) {
		json_object_put(vcpus);
		snprintf(err, errlen, "QMP query-cpus-fast gave no vCPU threads");
		return -1;
	}
	pins = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(vcpus); i++) {
		struct json_object *v = json_object_array_get_idx(vcpus, i), *pin;
		long long idx = zs_int(v, "cpu-index");
		pid_t tid = zs_int(v, "thread-id");
		int host = cpus[idx % n];
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(host, &set);
		if (sched_setaffinity(tid, sizeof(set), &set)) {
			snprintf(err, errlen, "pinning vCPU %lld (thread %d) to CPU %d: %s",
				 idx, (int)tid, host, strerror(errno));
			json_object_put(vcpus);
			json_object_put(pins);
			return -1;
		}
		pin = json_object_new_object();
		json_object_object_add(pin, "vcpu", json_object_new_int64(idx));
		json_object_object_add(pin, "thread", json_object_new_int(tid));
		json_object_object_add(pin, "host_cpu", json_object_new_int(host));
		json_object_array_add(pins, pin);
	}
	json_object_put(vcpus);
	*out = pins;
	return 0;
}

pid_t zq_start(struct json_object *argv, const char *list, const char *log,
	       char *err, size_t errlen)
{
	size_t nargs = argv ? json_object_array_length(argv) : 0;
	int cpus[CPU_SETSIZE], n;
	cpu_set_t set;
	pid_t pid;
	char **av;

	if (!nargs) {
		snprintf(err, errlen, "launch.json has no qemu command");
		return -1;
	}
	av = calloc(nargs + 1, sizeof(*av));
	for (size_t i = 0; av && i < nargs; i++)
		av[i] = (char *)json_object_get_string(json_object_array_get_idx(argv, i));
	n = *list ? cz_parse_cpulist(list, cpus, CPU_SETSIZE) : 0;
	CPU_ZERO(&set);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], &set);
	pid = av ? fork() : -1;
	if (pid < 0) {
		free(av);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		cz_child_signals();
		/* qemu dies with its supervisor: nothing outlives the zone. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (n && sched_setaffinity(0, sizeof(set), &set))
			dprintf(2, "cz-zone: setting the host CPUs failed: %s\n", strerror(errno));
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(av[0], av);
		dprintf(2, "cz-zone: cannot execute %s: %s\n", av[0], strerror(errno));
		_exit(127);
	}
	free(av);
	return pid;
}
