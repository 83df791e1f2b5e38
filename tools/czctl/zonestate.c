/* SPDX-License-Identifier: GPL-2.0 */
/* A running zone's state directory; see zonestate.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include "cz_lines.h"
#include "cz_util.h"
#include "cz_zone.h"
#include "scheds.h"
#include "zoneimage.h"
#include "zonestate.h"

#define ZONE_DIR	"/etc/controlzone/zones"
#define CPUS_ONLINE	"/sys/devices/system/cpu/online"

int zone_file(const char *name, const char *file, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s%s", CZ_ZONES_DIR, name,
			 file ? "/" : "", file ?: "");

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int zone_state_write(const char *name, struct json_object *st)
{
	char path[256], tmp[280];
	const char *s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
	int fd, ret = 0;
	size_t len = strlen(s);

	if (zone_file(name, "state.json", path, sizeof(path)))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		ret = -1;
	if (close(fd) || ret || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct json_object *zone_state_read(const char *name)
{
	char path[256];
	struct json_object *o;

	if (zone_file(name, "state.json", path, sizeof(path)))
		return NULL;
	o = json_object_from_file(path);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

bool zone_supervisor_alive(pid_t pid, const char *name)
{
	char buf[512];
	const char *arg1, *arg2;
	int n = cz_read_cmdline(pid, buf, sizeof(buf));

	if (n < 0)
		return false;
	/* argv: czctl zone-supervise NAME */
	arg1 = buf + strlen(buf) + 1;
	if (arg1 >= buf + n)
		return false;
	arg2 = arg1 + strlen(arg1) + 1;
	return arg2 < buf + n && !strcmp(arg1, CZ_SUPERVISE) && !strcmp(arg2, name);
}

pid_t zone_live_supervisor(struct json_object *st, const char *name)
{
	pid_t pid = st ? (pid_t)zs_int(st, "supervisor") : 0;

	return zone_supervisor_alive(pid, name) ? pid : 0;
}

pid_t zone_supervisor_of(const char *name)
{
	struct json_object *st = zone_state_read(name);
	pid_t pid = zone_live_supervisor(st, name);

	json_object_put(st);
	return pid;
}

/*
 * rm -r of @dir, @depth levels of directories deep at most (a state
 * directory holds files and kernel/ of a zone's own kernel). 0, or -1;
 * a missing @dir is no error.
 */
static int remove_tree(const char *dir, int depth)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) && errno == EISDIR && depth > 0)
			remove_tree(path, depth - 1);
	}
	closedir(d);
	return rmdir(dir);
}

int zone_remove(const char *name)
{
	char dir[256];

	if (zone_file(name, NULL, dir, sizeof(dir)))
		return -1;
	return remove_tree(dir, 1);
}

const char *zs_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

long long zs_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

int zone_find_file(const char *arg, char *out, size_t len)
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

/* The host CPUs of running zones other than @self, and one's name. */
static void taken_cpus(const char *self, cpu_set_t *taken, char *by, size_t len)
{
	DIR *d = opendir(CZ_ZONES_DIR);
	struct dirent *e;

	CPU_ZERO(taken);
	by[0] = '\0';
	while (d && (e = readdir(d))) {
		struct json_object *st;
		int cpus[CPU_SETSIZE], n;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, self))
			continue;
		st = zone_state_read(e->d_name);
		if (zone_live_supervisor(st, e->d_name) &&
		    (n = cz_parse_cpulist(zs_str(st, "host_cpus"), cpus, CPU_SETSIZE)) > 0) {
			for (int i = 0; i < n; i++)
				CPU_SET(cpus[i], taken);
			if (!by[0])
				snprintf(by, len, "zone %s", e->d_name);
		}
		json_object_put(st);
	}
	if (d)
		closedir(d);
}

int zone_check_host(const struct cz_zone *z, char *err, size_t errlen)
{
	char bin[PATH_MAX], list[4096], by[300];
	struct zone_images images;
	int cpus[CPU_SETSIZE], n;
	cpu_set_t online, taken;

	if (cz_read_line(CPUS_ONLINE, list, sizeof(list)) ||
	    (n = cz_parse_cpulist(list, cpus, CPU_SETSIZE)) < 1) {
		snprintf(err, errlen, "%s: cannot read the host's CPUs from %s",
			 z->path, CPUS_ONLINE);
		return -1;
	}
	CPU_ZERO(&online);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], &online);
	taken_cpus(z->name, &taken, by, sizeof(by));
	if (cz_zone_check_cpus(z, &online, &taken, by, err, errlen) ||
	    cz_zone_check_ports(z, err, errlen) ||
	    cz_zone_check_files(z, err, errlen))
		return -1;
	if (zone_images_mount(z, &images, err, errlen))
		return -1;
	zone_images_unmount(&images);
	if (z->sched && !z->sched_image && find_sched(z->sched, bin, sizeof(bin))) {
		snprintf(err, errlen, "%s:%d: scheduler.name: no scheduler '%s' here (see czctl list)",
			 z->path, z->line_sched, z->sched);
		return -1;
	}
	return 0;
}

int zone_call(const char *name, const char *req, struct json_object *args,
	      double timeout_s, struct json_object **resp, char *msg, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object *o = json_object_new_object(), *r, *v;
	double deadline = cz_now() + timeout_s;
	const char *s;
	struct cz_lines lb;
	char *line = NULL;
	int fd, ret = -1;

	*resp = NULL;
	json_object_object_add(o, "id", json_object_new_int(1));
	json_object_object_add(o, "req", json_object_new_string(req));
	if (args)
		json_object_object_add(o, "args", args);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (zone_file(name, "control.sock", sa.sun_path, sizeof(sa.sun_path))) {
		snprintf(msg, len, "zone name too long");
		json_object_put(o);
		return -1;
	}
	cz_lines_init(&lb, 64 * 1024 * 1024);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(msg, len, "zone %s is not running (%s: %s)", name, sa.sun_path,
			 strerror(errno));
		goto out;
	}
	if (cz_write_all(fd, s, strlen(s), 5000) || cz_write_all(fd, "\n", 1, 5000)) {
		snprintf(msg, len, "zone %s: sending the request failed: %s", name,
			 strerror(errno));
		goto out;
	}
	while (!(line = cz_lines_next(&lb))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - cz_now()) * 1000);

		if (left <= 0 || poll(&p, 1, left) <= 0) {
			snprintf(msg, len, "zone %s: no answer within %.0f s", name, timeout_s);
			goto out;
		}
		if (cz_lines_fill(&lb, fd) <= 0) {
			snprintf(msg, len, "zone %s: the supervisor hung up", name);
			goto out;
		}
	}
	r = json_tokener_parse(line);
	if (!r || !json_object_object_get_ex(r, "errno", &v)) {
		snprintf(msg, len, "zone %s: not an answer: %.100s", name, line);
	} else if ((ret = json_object_get_int(v))) {
		snprintf(msg, len, "%s", zs_str(r, "error"));
	} else if (json_object_object_get_ex(r, "resp", &v)) {
		*resp = json_object_get(v);
	}
	json_object_put(r);
out:
	if (fd >= 0)
		close(fd);
	cz_lines_free(&lb);
	json_object_put(o);
	return ret;
}

struct json_object *zs_strv_json(const struct cz_strv *sv)
{
	struct json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < sv->n; i++)
		json_object_array_add(a, json_object_new_string(sv->v[i]));
	return a;
}
